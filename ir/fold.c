/*
 * fold.c — evaluates one tensor op at compile time.
 *
 * An op whose operands are all weights (or whose results depend only on its
 * operands' types, like Shape) is run through its own lowering by the
 * loop-level interpreter, and its results become new weights.  The frontend
 * folds each node as it imports it, so a Shape -> Gather -> Concat ->
 * Reshape chain reaches Reshape as a constant; the fold-constants pass folds
 * what later rewrites make constant.  Results over IR_FOLD_MAX_BYTES stay
 * computed at run time: folding must not bloat the object.  So do results
 * that would take more than IR_FOLD_MAX_STEPS interpreted ops: ir_fold_op
 * then leaves the op in place (its results are the "folded" values).
 */
#include <stdlib.h>
#include <string.h>

#include "lower.h"

#define IR_FOLD_MAX_BYTES (16u << 20)
/* Interpreted ops one fold may take (about a second): beyond it the op is
 * left to run time, so no constant subgraph makes a compile unbounded. */
#define IR_FOLD_MAX_STEPS (1ull << 27)
#define MAX_FOLD_RESULTS 16
#define MAX_FOLD_OPERANDS 64

static bool result_bytes(const IrOp *op, uint64_t *total) {
  *total = 0;
  for (int i = 0; i < op->num_results; i++) {
    uint64_t b;
    if (!ir_type_is_static(&op->results[i]->type) ||
        !ir_type_nbytes(&op->results[i]->type, &b))
      return false;
    *total += b;
  }
  return true;
}

bool ir_foldable(const IrOp *op) {
  const IrOpInfo *info = ir_op_info(op->kind);
  if (info->level != IR_LEVEL_TENSOR || (info->flags & (OPF_TERMINATOR | OPF_REGION)) ||
      op->num_results > MAX_FOLD_RESULTS || op->num_operands > MAX_FOLD_OPERANDS)
    return false;
  uint64_t bytes;
  if (!result_bytes(op, &bytes) || bytes > IR_FOLD_MAX_BYTES) return false;
  for (int i = 0; i < op->num_operands; i++) {
    const IrValue *v = op->operands[i];
    if (!v) continue;
    if (info->flags & OPF_TYPE_ONLY) {
      uint64_t in_bytes;
      if (!ir_type_nbytes(&v->type, &in_bytes) || in_bytes > IR_FOLD_MAX_BYTES)
        return false;
      continue;
    }
    if (!v->weight || !v->weight->data) return false;
  }
  return true;
}

/* Runs op's lowering in a scratch function; results land in out[]
 * (malloc'd; the caller frees them).  An operand of a type-only op is never
 * read, but the interpreter wants memory behind every buffer argument: it
 * gets zeroed scratch, freed here.  *deferred: the evaluation would take
 * more than IR_FOLD_MAX_STEPS interpreted ops (false, no diagnostic). */
static bool evaluate(IrModule *m, IrOp *op, void **out, bool *deferred) {
  IrFunc *main = m->main;
  IrFunc *tf = ir_func_new(m, "fold");
  m->main = main;
  tf->lowered = true;
  LwCtx c = {.m = m, .b = ir_builder_at_end(m, tf->body)};
  c.b.loc = op->loc;
  c.in = ir_arena_alloc(m->arena, sizeof *c.in * (size_t)(op->num_operands + 1));
  c.out = ir_arena_alloc(m->arena, sizeof *c.out * (size_t)(op->num_results + 1));
  void *bufs[MAX_FOLD_OPERANDS + MAX_FOLD_RESULTS], *scratch[MAX_FOLD_OPERANDS] = {0};
  int nargs = 0;
  bool ok = true;
  for (int i = 0; ok && i < op->num_operands; i++) {
    IrValue *v = op->operands[i];
    c.in[i] = v;
    if (!v || v->weight) continue;
    c.in[i] = ir_block_add_arg(m, tf->body, ir_type_with_kind(v->type, IR_TYPE_BUFFER));
    uint64_t bytes = 0;
    ir_type_nbytes(&v->type, &bytes);
    ok = (scratch[i] = calloc(1, bytes ? bytes : 1)) != NULL;
    bufs[nargs++] = scratch[i];
  }
  tf->num_inputs = nargs;
  for (int i = 0; ok && i < op->num_results; i++) {
    IrType t = ir_type_with_kind(op->results[i]->type, IR_TYPE_BUFFER);
    c.out[i] = ir_block_add_arg(m, tf->body, t);
    uint64_t bytes;
    ir_type_nbytes(&t, &bytes);
    ok = (out[i] = calloc(1, bytes ? bytes : 1)) != NULL;
    bufs[nargs++] = out[i];
  }
  tf->num_outputs = op->num_results;
  /* Empty results need no run: the loops over a [16,110,...,0,...] Cast
   * would still walk the dims before the 0 (a fuzzed model: seconds). */
  bool empty = true;
  for (int i = 0; i < op->num_results; i++) {
    uint64_t bytes;
    empty = empty && ir_type_nbytes(&op->results[i]->type, &bytes) && bytes == 0;
  }
  /* Constant indices are checked whatever -index-checks says: a bad one is
   * then a compile-time error (the interpreter reports the rt.check). */
  bool no_checks = m->no_index_checks;
  m->no_index_checks = false;
  ok = ok && (empty || (ir_op_info(op->kind)->lower(&c, op) &&
                        ir_interp_run_limited(m, tf, bufs, NULL, IR_FOLD_MAX_STEPS, deferred)));
  m->no_index_checks = no_checks;
  for (int i = 0; i < MAX_FOLD_OPERANDS; i++) free(scratch[i]);
  return ok;
}

/* $name from the result's source name, made an identifier and unique. */
static const char *weight_name(IrModule *m, const IrValue *r) {
  char *s = ir_arena_strdup(m->arena, r->name && *r->name ? r->name : "folded");
  for (char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || *p == '_' || *p == '.'))
      *p = '_';
  if (!ir_weight_find(m, s)) return s;
  for (int k = 1;; k++) {
    char *t = ir_arena_printf(m->arena, "%s_%d", s, k);
    if (!ir_weight_find(m, t)) return t;
  }
}

bool ir_fold_op(IrModule *m, IrOp *op, IrValue **folded) {
  void *out[MAX_FOLD_RESULTS] = {0};
  bool structural = true;
  for (int i = 0; i < op->num_operands; i++)
    if (op->operands[i] && op->operands[i]->weight && !op->operands[i]->weight->structural)
      structural = false;
  bool deferred = false, ok = evaluate(m, op, out, &deferred);
  for (int i = 0; ok && i < op->num_results; i++) {
    IrValue *r = op->results[i];
    uint64_t bytes;
    ir_type_nbytes(&r->type, &bytes);
    IrWeight *w = ir_weight_add(m, weight_name(m, r), r->type, out[i], bytes, true);
    w->structural = structural;
    w->value->name = r->name;
    ir_replace_uses(m->main, r, w->value);
    folded[i] = w->value;
  }
  for (int i = 0; i < MAX_FOLD_RESULTS; i++) free(out[i]);
  if (ok) ir_op_remove(op);
  if (!deferred) return ok;
  /* Too much work for compile time (a large constant MatMul would take the
   * interpreter minutes): the op stays and runs in the compiled code. */
  for (int i = 0; i < op->num_results; i++) folded[i] = op->results[i];
  return true;
}
