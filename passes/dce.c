/* dce.c — dead-code elimination.  At tensor level every op is pure, so an
 * op none of whose results is used goes; at loop level only ops flagged
 * OPF_PURE (and mem.alloc/mem.view) can go.  Runs backwards to a fixpoint in
 * one sweep per block, then drops weights no op reads.  Needs: nothing.
 * Invalidates: the memory plan (run plan-memory after it). */
#include <stdlib.h>

#include "passes.h"

typedef struct {
  int *uses; /* by value id */
} UseCount;

static void count_op(IrOp *op, void *user) {
  UseCount *u = user;
  for (int i = 0; i < op->num_operands; i++)
    if (op->operands[i]) u->uses[op->operands[i]->id]++;
}

static bool removable(const IrOp *op) {
  const IrOpInfo *info = ir_op_info(op->kind);
  if ((info->flags & OPF_TERMINATOR) || op->kind == IR_OP_PREFETCH) return false;
  if (info->level == IR_LEVEL_TENSOR) return true;
  return (info->flags & OPF_PURE) || op->kind == IR_OP_ALLOC ||
         op->kind == IR_OP_VIEW || op->kind == IR_OP_LOAD ||
         op->kind == IR_OP_VLOAD;
}

static bool results_unused(const IrOp *op, const UseCount *u) {
  for (int i = 0; i < op->num_results; i++)
    if (u->uses[op->results[i]->id]) return false;
  return true;
}

static void uncount(IrOp *op, UseCount *u) {
  for (int i = 0; i < op->num_operands; i++)
    if (op->operands[i]) u->uses[op->operands[i]->id]--;
  for (int r = 0; r < op->num_regions; r++)
    for (IrOp *in = op->regions[r]->first; in; in = in->next) uncount(in, u);
}

/* Stores, copies, dim.set and rt.check (it may end the run) are the
 * loop-level side effects; a loop.while
 * counts as one too, since it may not terminate (removing it would change
 * a program that hangs into one that returns).  removable() keeps every
 * loop.while for the same reason (it is not OPF_PURE). */
static bool has_side_effects(const IrBlock *b) {
  for (const IrOp *op = b->first; op; op = op->next) {
    if (op->kind == IR_OP_STORE || op->kind == IR_OP_VSTORE ||
        op->kind == IR_OP_COPY || op->kind == IR_OP_DIM_SET ||
        op->kind == IR_OP_CHECK || op->kind == IR_OP_WHILE)
      return true;
    for (int r = 0; r < op->num_regions; r++)
      if (has_side_effects(op->regions[r])) return true;
  }
  return false;
}

static int sweep(IrBlock *b, UseCount *u) {
  int removed = 0;
  for (IrOp *op = b->last, *prev; op; op = prev) {
    prev = op->prev;
    for (int r = 0; r < op->num_regions; r++) removed += sweep(op->regions[r], u);
    bool loop_dead = op->kind == IR_OP_FOR && results_unused(op, u) &&
                     !has_side_effects(op->regions[0]);
    if ((removable(op) && results_unused(op, u)) || loop_dead) {
      uncount(op, u);
      ir_op_remove(op);
      removed++;
    }
  }
  return removed;
}

static int drop_unused_weights(IrModule *m, const UseCount *u) {
  int kept = 0, dropped = 0;
  for (int i = 0; i < m->num_weights; i++) {
    if (u->uses[m->weights[i]->value->id])
      m->weights[kept++] = m->weights[i];
    else
      dropped++;
  }
  m->num_weights = kept;
  return dropped;
}

bool pass_dce(PassContext *pc) {
  IrModule *m = pc->m;
  if (!m->main) return true;
  UseCount u = {calloc((size_t)m->next_value_id + 1, sizeof(int))};
  if (!u.uses) return false;
  ir_walk(m->main->body, count_op, &u);
  int removed = sweep(m->main->body, &u);
  pass_stat(pc, "ops removed", removed);
  pass_stat(pc, "weights removed", drop_unused_weights(m, &u));
  free(u.uses);
  return true;
}
