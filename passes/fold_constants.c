/*
 * fold_constants.c — evaluates at compile time every tensor op whose
 * operands are all weights (or that only reads its operands' types, like
 * Shape), and replaces its results with new weights.  The op is evaluated
 * through its own lowering run by the loop-level interpreter, so an op's
 * semantics live in one place.  Folding cascades (Shape -> Gather ->
 * Concat -> Reshape) because ops are visited in order.  Results larger than
 * FOLD_MAX_BYTES stay computed at run time: folding must not bloat the
 * object.  Needs: tensor level, static shapes.
 */
#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "passes.h"

#define FOLD_MAX_BYTES (16u << 20)

static bool foldable(const IrOp *op) {
  const IrOpInfo *info = ir_op_info(op->kind);
  if (info->level != IR_LEVEL_TENSOR || (info->flags & OPF_TERMINATOR))
    return false;
  uint64_t bytes = 0;
  for (int i = 0; i < op->num_results; i++) {
    uint64_t b;
    if (!ir_type_is_static(&op->results[i]->type) ||
        !ir_type_nbytes(&op->results[i]->type, &b))
      return false;
    bytes += b;
  }
  if (bytes > FOLD_MAX_BYTES) return false;
  for (int i = 0; i < op->num_operands; i++) {
    const IrValue *v = op->operands[i];
    if (!v) continue;
    if (info->flags & OPF_TYPE_ONLY) continue;
    if (!v->weight || !v->weight->data) return false;
  }
  return true;
}

/* Runs op's lowering in a scratch function; results land in out[].  An
 * operand of a type-only op is never read, but the interpreter wants memory
 * behind every buffer argument: it gets zeroed scratch (*scratch, freed by
 * the caller). */
static bool evaluate(IrModule *m, IrOp *op, void **out, void **scratch) {
  IrFunc *main = m->main;
  IrFunc *tf = ir_func_new(m, "fold");
  m->main = main;
  tf->lowered = true;
  LwCtx c = {m, ir_builder_at_end(m, tf->body), NULL, NULL};
  c.b.loc = op->loc;
  c.in = ir_arena_alloc(m->arena, sizeof *c.in * (size_t)(op->num_operands + 1));
  c.out = ir_arena_alloc(m->arena, sizeof *c.out * (size_t)(op->num_results + 1));
  void **bufs = ir_arena_alloc(m->arena, sizeof *bufs * (size_t)(op->num_operands + op->num_results + 1));
  int nargs = 0;
  for (int i = 0; i < op->num_operands; i++) {
    IrValue *v = op->operands[i];
    if (v && !v->weight) { /* type-only operand: never read */
      c.in[i] = ir_block_add_arg(m, tf->body, ir_type_with_kind(v->type, IR_TYPE_BUFFER));
      uint64_t bytes = 0;
      ir_type_nbytes(&v->type, &bytes);
      scratch[i] = calloc(1, bytes ? bytes : 1);
      if (!scratch[i]) return false;
      bufs[nargs++] = scratch[i];
    } else {
      c.in[i] = v;
    }
  }
  tf->num_inputs = nargs;
  for (int i = 0; i < op->num_results; i++) {
    IrType t = ir_type_with_kind(op->results[i]->type, IR_TYPE_BUFFER);
    c.out[i] = ir_block_add_arg(m, tf->body, t);
    uint64_t bytes;
    ir_type_nbytes(&t, &bytes);
    out[i] = ir_arena_alloc_aligned(m->arena, bytes ? bytes : 1, 64);
    bufs[nargs++] = out[i];
  }
  tf->num_outputs = op->num_results;
  if (!ir_op_info(op->kind)->lower(&c, op)) return false;
  return ir_interp_run(m, tf, bufs, NULL);
}

static const char *weight_name(IrModule *m, const IrValue *r) {
  static const char prefix[] = "folded";
  const char *base = r->name ? r->name : prefix;
  char *s = ir_arena_printf(m->arena, "%s", base);
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

bool pass_fold_constants(PassContext *pc) {
  IrModule *m = pc->m;
  IrFunc *f = m->main;
  if (!f || f->lowered) return true;
  int folded = 0;
  for (IrOp *op = f->body->first, *next; op; op = next) {
    next = op->next;
    if (!foldable(op)) continue;
    void *out[16], *scratch[64] = {0};
    bool ok = op->num_results <= 16 && op->num_operands <= 64 &&
              evaluate(m, op, out, scratch);
    for (int i = 0; i < 64; i++) free(scratch[i]);
    if (!ok) return false;
    for (int i = 0; i < op->num_results; i++) {
      IrValue *r = op->results[i];
      uint64_t bytes;
      ir_type_nbytes(&r->type, &bytes);
      IrWeight *w = ir_weight_add(m, weight_name(m, r), r->type, out[i], bytes, false);
      ir_replace_uses(f, r, w->value);
    }
    ir_op_remove(op);
    folded++;
  }
  pass_stat(pc, "ops folded", folded);
  return true;
}
