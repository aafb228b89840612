/* return.c — the tensor-level terminator: returns the function's outputs.
 * The lower pass handles it itself (outputs become buffer arguments). */
#include "ir.h"
#include "lower.h"

bool op_return_import(IrModule *m, IrOp *op, int opset) {
  (void)m, (void)op, (void)opset;
  return true;
}

bool op_return_infer(IrModule *m, IrOp *op) {
  (void)m, (void)op;
  return true;
}

bool op_return_lower(LwCtx *c, IrOp *op) {
  (void)c;
  diag_at(DIAG_ERROR, &op->loc, "internal: return is lowered by the lower pass");
  return false;
}
