/* pool.c — STUB: to be replaced by its owner. */
#include "ir.h"
#include "lower.h"
bool op_pool_import(IrModule *m, IrOp *op, int opset) { (void)m; (void)opset; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
bool op_pool_infer(IrModule *m, IrOp *op) { (void)m; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
bool op_pool_lower(LwCtx *c, IrOp *op) { (void)c; diag_at(DIAG_ERROR, &op->loc, "op not implemented yet"); return false; }
