/*
 * fold_constants.c — evaluates at compile time every tensor op whose
 * operands are all weights (or that only reads its operands' types, like
 * Shape) and replaces its results with new weights (ir/fold.c does one op:
 * through the op's own lowering and the interpreter, so an op's semantics
 * live in one place).  Folding cascades because ops are visited in order.
 * The frontend already folds as it imports; this pass catches what later
 * rewrites make constant.  Needs: tensor level, static shapes.
 */
#include "passes.h"

bool pass_fold_constants(PassContext *pc) {
  IrModule *m = pc->m;
  IrFunc *f = m->main;
  if (!f || f->lowered) return true;
  int folded = 0;
  for (IrOp *op = f->body->first, *next; op; op = next) {
    next = op->next;
    IrValue *weights[16];
    if (!ir_foldable(op)) continue;
    if (!ir_fold_op(m, op, weights)) return false;
    folded++;
  }
  pass_stat(pc, "ops folded", folded);
  return true;
}
