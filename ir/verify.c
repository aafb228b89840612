/*
 * verify.c — structural checks run after every pass.
 *
 * One walk over the function.  `seen[id]` holds the value with that id while
 * it is in scope: function arguments and the module's weights from the
 * start, block arguments while their region is walked, op results from
 * their op to the end of their block.  Leaving a region clears what it
 * defined, so a use is valid exactly when seen[id] is the very value (which
 * also rejects values of another module that happen to share an id).
 * Then each loop-level op's own typing rule runs (ir/ops/loop.c).
 */
#include <stdarg.h>
#include <stdlib.h>

#include "ir.h"

typedef struct Ver {
  IrModule *m;
  IrFunc *f;
  IrValue **seen; /* by value id: the value when in scope, else NULL */
  int n;
} Ver;

static bool fail(const IrOp *op, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool fail(const IrOp *op, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  diag_at(DIAG_ERROR, &op->loc, "verifier: '%s' %s", ir_op_info(op->kind)->name, msg);
  return false;
}

static bool in_range(const Ver *v, const IrValue *x) {
  return x && x->id >= 0 && x->id < v->n;
}

/* Brings x into scope; false if it already is (defined twice). */
static bool define(Ver *v, IrValue *x) {
  if (!in_range(v, x) || v->seen[x->id]) return false;
  v->seen[x->id] = x;
  return true;
}

static void undefine(Ver *v, IrValue *x) {
  if (in_range(v, x) && v->seen[x->id] == x) v->seen[x->id] = NULL;
}

static bool check_count(const IrOp *op, const char *what, int n, int lo, int hi) {
  if (n >= lo && (hi < 0 || n <= hi)) return true;
  if (hi < 0) return fail(op, "expects at least %d %s, got %d", lo, what, n);
  if (lo == hi) return fail(op, "expects %d %s, got %d", lo, what, n);
  return fail(op, "expects %d to %d %s, got %d", lo, hi, what, n);
}

/* Counts, level, placement: what every op must satisfy. */
static bool check_shape(Ver *v, IrOp *op, IrBlock *b) {
  const IrOpInfo *info = ir_op_info(op->kind);
  if (op->parent != b) return fail(op, "is linked into the wrong block");
  if (!check_count(op, "operands", op->num_operands, info->min_operands, info->max_operands) ||
      !check_count(op, "results", op->num_results, info->min_results, info->max_results) ||
      !check_count(op, "regions", op->num_regions, (info->flags & OPF_REGION) ? 1 : 0,
                   (info->flags & OPF_REGION) ? 1 : 0))
    return false;
  if (info->level == IR_LEVEL_TENSOR && v->f->lowered)
    return fail(op, "is a tensor-level op in a lowered function");
  if (info->level == IR_LEVEL_LOOP && !v->f->lowered)
    return fail(op, "is a loop-level op in a tensor-level function");
  if ((info->flags & OPF_TERMINATOR) && op->next)
    return fail(op, "is a terminator but not the last op of its block");
  if (op->kind == IR_OP_RETURN && b != v->f->body)
    return fail(op, "must be in the function body");
  if (op->kind == IR_OP_YIELD_T && (!b->parent_op || b->parent_op->kind != IR_OP_LOOP))
    return fail(op, "must end the body of a 'loop'");
  if (op->kind == IR_OP_RETURN && op->num_operands != v->f->num_outputs)
    return fail(op, "returns %d values, the function has %d outputs",
                op->num_operands, v->f->num_outputs);
  return true;
}

static bool check_operands(Ver *v, IrOp *op) {
  bool loop = ir_op_info(op->kind)->level == IR_LEVEL_LOOP;
  for (int i = 0; i < op->num_operands; i++) {
    IrValue *x = op->operands[i];
    if (!x) {
      if (loop) return fail(op, "operand %d is absent", i);
      continue;
    }
    if (!in_range(v, x) || v->seen[x->id] != x)
      return fail(op, "operand %d is not defined before this use or not in scope", i);
  }
  for (int i = 0; i < op->num_results; i++)
    if (!op->results[i] || op->results[i]->def != op)
      return fail(op, "result %d is malformed", i);
  return true;
}

static bool check_block(Ver *v, IrBlock *b);

static bool check_op(Ver *v, IrOp *op, IrBlock *b) {
  if (!check_shape(v, op, b) || !check_operands(v, op)) return false;
  for (int r = 0; r < op->num_regions; r++) {
    if (!op->regions[r] || op->regions[r]->parent_op != op)
      return fail(op, "region %d is malformed", r);
    if (!check_block(v, op->regions[r])) return false;
  }
  for (int i = 0; i < op->num_results; i++)
    if (!define(v, op->results[i])) return fail(op, "result %d is defined twice", i);
  const IrOpInfo *info = ir_op_info(op->kind);
  return !info->verify || info->verify(v->m, op);
}

/* Walks a region's block and then takes its definitions out of scope. */
static bool check_block(Ver *v, IrBlock *b) {
  bool ok = true;
  int nargs = 0;
  for (; nargs < b->num_args && ok; nargs++)
    if (!define(v, b->args[nargs])) {
      diag_error("verifier: block argument %d is defined twice", nargs);
      ok = false;
    }
  IrOp *op = b->first;
  for (; op && ok; op = op->next) ok = check_op(v, op, b);
  for (IrOp *o = b->first; o != op; o = o->next)
    for (int i = 0; i < o->num_results; i++) undefine(v, o->results[i]);
  for (int i = 0; i < nargs; i++) undefine(v, b->args[i]);
  return ok;
}

static bool check_signature(const IrFunc *f) {
  int want = f->num_inputs + (f->lowered ? f->num_outputs : 0);
  if (f->body->num_args == want) return true;
  diag_error("verifier: function @%s has %d arguments but declares %d inputs%s",
             f->name, f->body->num_args, f->num_inputs,
             f->lowered ? " and outputs" : "");
  return false;
}

bool ir_verify(IrModule *m) {
  if (!m->main) return true;
  Ver v = {m, m->main, NULL, m->next_value_id};
  v.seen = calloc((size_t)(v.n > 0 ? v.n : 1), sizeof *v.seen);
  if (!v.seen) abort();
  bool ok = check_signature(v.f);
  for (int i = 0; ok && i < m->num_weights; i++)
    if (!define(&v, m->weights[i]->value)) {
      diag_error("verifier: weight $%s is malformed", m->weights[i]->name);
      ok = false;
    }
  ok = ok && check_block(&v, v.f->body);
  free(v.seen);
  return ok;
}
