/* loop.c — STUB */
#include "ir.h"
bool op_for_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_yield_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_alloc_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_view_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_copy_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_load_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_store_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_const_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_arith2_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_arith1_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_fma_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_cmp_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_select_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_cast_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_math_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_broadcast_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
bool op_vreduce_verify(IrModule *m, IrOp *op) { (void)m; (void)op; return true; }
