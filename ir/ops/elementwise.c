/* elementwise.c — STUB: to be replaced by its owner. */
#include "ir.h"
#include "lower.h"
bool op_binary_import(IrModule *m, IrOp *op, int opset) { (void)m; (void)opset; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
bool op_binary_infer(IrModule *m, IrOp *op) { (void)m; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
bool op_binary_lower(LwCtx *c, IrOp *op) { (void)c; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
bool op_variadic_import(IrModule *m, IrOp *op, int opset) { (void)m; (void)opset; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
bool op_variadic_infer(IrModule *m, IrOp *op) { (void)m; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
bool op_variadic_lower(LwCtx *c, IrOp *op) { (void)c; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
bool op_where_import(IrModule *m, IrOp *op, int opset) { (void)m; (void)opset; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
bool op_where_infer(IrModule *m, IrOp *op) { (void)m; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
bool op_where_lower(LwCtx *c, IrOp *op) { (void)c; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
bool op_unary_import(IrModule *m, IrOp *op, int opset) { (void)m; (void)opset; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
bool op_unary_infer(IrModule *m, IrOp *op) { (void)m; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
bool op_unary_lower(LwCtx *c, IrOp *op) { (void)c; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
