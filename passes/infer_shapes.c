/* infer_shapes.c — recomputes every tensor op's result types with the op's
 * shape rule, in order.  The frontend infers on import; this pass serves IR
 * read from text and any rewrite that changed operands.  Needs: tensor
 * level.  Invalidates nothing. */
#include "passes.h"

bool pass_infer_shapes(PassContext *pc) {
  IrFunc *f = pc->m->main;
  if (!f || f->lowered) return true;
  int n = 0;
  for (IrOp *op = f->body->first; op; op = op->next) {
    const IrOpInfo *info = ir_op_info(op->kind);
    if (info->level != IR_LEVEL_TENSOR || !info->infer) continue;
    if (!ir_infer_op(pc->m, op)) return false;
    n++;
  }
  /* Outputs take the types of the returned values. */
  IrOp *ret = f->body->last;
  if (ret && ret->kind == IR_OP_RETURN)
    for (int i = 0; i < ret->num_operands && i < f->num_outputs; i++)
      f->output_types[i] = ret->operands[i]->type;
  pass_stat(pc, "ops", n);
  return true;
}
