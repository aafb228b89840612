/*
 * control.c — `loop`: ONNX Loop whose trip count or condition is known only
 * at run time (the frontend unrolls the others), and its terminator
 * `yield`.  The shape rule is here; the lower pass lowers the op itself
 * (its region needs the pass's buffer map) into a loop-level loop.while.
 *
 * Carried values keep their types across iterations.  Scan outputs are
 * stacked along a new axis 0 whose length is a run-time dim (a sym named in
 * the attribute `scan_len`, bounded by the trip count, which must then be
 * known at compile time), set when the loop ends.
 */
#include <stdio.h>

#include "ir.h"
#include "lower.h"

bool op_loop_import(IrModule *m, IrOp *op, int opset) {
  (void)m, (void)op, (void)opset;
  return true;
}

static bool loop_err(const IrOp *op, const char *msg) {
  diag_at(DIAG_ERROR, &op->loc, "Loop: %s", msg);
  return false;
}

/* A scalar (rank 0 or [1]) of element e, or absent. */
static bool scalar_of(const IrValue *v, IrElem e) {
  if (!v) return true;
  const IrType *t = &v->type;
  return t->elem == e && (t->rank == 0 || (t->rank == 1 && t->dims[0].sym < 0 &&
                                           t->dims[0].size == 1));
}

/* The sym counting the iterations, made once (infer may run again). */
static int scan_len_sym(IrModule *m, IrOp *op, int64_t hi) {
  const char *name = ir_attr_string(op, "scan_len", NULL);
  int s = name ? ir_sym_find(m, name) : -1;
  if (s >= 0) return s;
  char buf[64];
  snprintf(buf, sizeof buf, "loop_iters");
  for (int k = 2; ir_sym_find(m, buf) >= 0; k++) snprintf(buf, sizeof buf, "loop_iters_%d", k);
  s = ir_sym_add(m, buf, 0, hi);
  ir_attr_set_string(m, op, "scan_len", m->syms[s].name);
  return s;
}

bool op_loop_infer(IrModule *m, IrOp *op) {
  IrBlock *body = op->num_regions ? op->regions[0] : NULL;
  IrOp *y = body ? body->last : NULL;
  int nv = op->num_operands - 2, nk = op->num_results - nv;
  if (!y || y->kind != IR_OP_YIELD_T) return loop_err(op, "the body does not end in 'yield'");
  if (nk < 0 || body->num_args != nv + 2 || y->num_operands != 1 + nv + nk)
    return loop_err(op, "the body's inputs and outputs do not match the loop's");
  if (!scalar_of(op->operands[0], IR_I64) || !scalar_of(op->operands[1], IR_BOOL))
    return loop_err(op, "the trip count must be an int64 scalar and the condition a bool scalar");
  if (!scalar_of(y->operands[0], IR_BOOL) || !y->operands[0])
    return loop_err(op, "the body's first output (the condition) must be a bool scalar");
  for (int i = 2; i < op->num_operands; i++)
    if (!op->operands[i]) return loop_err(op, "a carried value is absent");
  for (int i = 1; i < y->num_operands; i++)
    if (!y->operands[i]) return loop_err(op, "the body returns an absent value");
  for (int i = 0; i < body->num_args; i++)
    if (body->args[i]->type.kind != IR_TYPE_TENSOR)
      return loop_err(op, "the body's arguments must be tensors");
  for (int i = 0; i < nv; i++) {
    /* The lower pass checks again after function inputs became buffers. */
    IrType in_t = ir_type_with_kind(op->operands[2 + i]->type, IR_TYPE_TENSOR);
    const IrType *in = &in_t, *out = &y->operands[1 + i]->type;
    if (!ir_type_equal(in, out)) {
      char a[256], b[256];
      diag_at(DIAG_ERROR, &op->loc, "Loop: carried value %d is %s on entry but the body "
              "returns %s; tcc needs it to keep its type", i, ir_type_str(m, in, a, sizeof a),
              ir_type_str(m, out, b, sizeof b));
      return false;
    }
    op->results[i]->type = *in;
  }
  if (nk == 0) return true;
  const IrValue *trip = op->operands[0];
  if (!trip || !trip->weight || !trip->weight->data)
    return loop_err(op, "scan outputs need a trip count known at compile time (it bounds "
                        "their length); freeze it with -freeze=NAME:FILE.pb");
  int64_t hi = ir_elem_load_i64(IR_I64, trip->weight->data, 0);
  int s = scan_len_sym(m, op, hi < 0 ? 0 : hi);
  for (int k = 0; k < nk; k++) {
    const IrType *e = &y->operands[1 + nv + k]->type;
    if (e->rank + 1 > IR_MAX_RANK) return loop_err(op, "a scan output's rank is too large");
    IrType t = *e;
    t.rank = e->rank + 1;
    t.dims[0] = (IrDim){0, s};
    for (int d = 0; d < e->rank; d++) t.dims[d + 1] = e->dims[d];
    op->results[nv + k]->type = t;
  }
  return true;
}

bool op_loop_lower(LwCtx *c, IrOp *op) {
  (void)c;
  diag_at(DIAG_ERROR, &op->loc, "internal: loop is lowered by the lower pass");
  return false;
}
