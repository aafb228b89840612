/*
 * softmax.c — Softmax, LogSoftmax, Hardmax.
 *
 * Opset >= 13 normalizes along one axis (default -1); older opsets flatten
 * the input to 2-D at `axis` (default 1) and normalize each row.  Import
 * records which with coerce_2d=0/1 next to an explicit axis, so the
 * canonical op says exactly what it computes.  Either way the lowering views
 * X as [outer, reduced, inner] and, per (outer, inner), makes passes over
 * the reduced dim: the max (subtracted, for stability), the sum of
 * exponentials, then the output.  Hardmax keeps the first index of the max.
 */
#include "nn_util.h"

bool op_softmax_import(IrModule *m, IrOp *op, int opset) {
  if (!nn_attr_int_canon(m, op, "axis", opset < 13 ? 1 : -1, NULL)) return false;
  ir_attr_set_int(m, op, "coerce_2d", opset < 13);
  return true;
}

bool op_softmax_infer(IrModule *m, IrOp *op) {
  (void)m;
  if (!nn_check_operand(op, 0, "input", NN_FLOAT)) return false;
  const IrType *t = &op->operands[0]->type;
  int64_t axis;
  if (t->rank == 0) {
    diag_at(DIAG_ERROR, &op->loc, "%s: input must have rank >= 1", nn_name(op));
    return false;
  }
  if (!nn_norm_axis(op, ir_attr_int(op, "axis", -1), t->rank, &axis)) return false;
  op->results[0]->type = *t;
  return true;
}

typedef struct SmCtx {
  IrValue *X, *Y;
  IrValue *o, *i;     /* outer and inner indices */
  int64_t R;
  IrElem ce;
} SmCtx;

static IrValue *sm_load(LwCtx *c, const SmCtx *s, IrValue *r) {
  return nn_load(c, s->X, (IrValue *[]){s->o, r, s->i});
}

static void sm_store(LwCtx *c, const SmCtx *s, IrValue *r, IrValue *v) {
  nn_store(c, v, s->Y, (IrValue *[]){s->o, r, s->i});
}

/* Pass over the reduced dim carrying n values; body returns the next ones. */
typedef void (*SmBody)(LwCtx *c, const SmCtx *s, IrValue *r, IrValue **vals,
                       IrValue *const *extra);

static void sm_pass(LwCtx *c, const SmCtx *s, int n, IrValue **vals, SmBody body,
                    IrValue *const *extra) {
  IrValue *r;
  NnIterNest nest;
  nn_iter_nest_begin(c, &nest, 1, NULL, NULL, &s->R, n, vals, &r);
  body(c, s, r, vals, extra);
  nn_iter_nest_end(c, &nest, vals);
}

static void sm_max(LwCtx *c, const SmCtx *s, IrValue *r, IrValue **v,
                   IrValue *const *extra) {
  (void)extra;
  IrValue *x = sm_load(c, s, r), *gt = lw_cmp(c, "gt", x, v[0]);
  v[0] = lw_select(c, gt, x, v[0]);
  v[1] = lw_select(c, gt, r, v[1]);
}

/* extra[0] = max; extra[1] != NULL: store exp into Y as well */
static void sm_sumexp(LwCtx *c, const SmCtx *s, IrValue *r, IrValue **v,
                      IrValue *const *extra) {
  IrValue *e = lw_un(c, IR_OP_M_EXP, lw_bin(c, IR_OP_A_SUB, sm_load(c, s, r), extra[0]));
  if (extra[1]) sm_store(c, s, r, e);
  v[0] = lw_bin(c, IR_OP_A_ADD, v[0], e);
}

/* extra: max, 1/sum, stored flag (then rescale Y in place) */
static void sm_softmax_out(LwCtx *c, const SmCtx *s, IrValue *r, IrValue **v,
                           IrValue *const *extra) {
  (void)v;
  IrValue *e;
  if (extra[2])
    e = lw_load(c, s->Y, (IrValue *[]){s->o, r, s->i});
  else
    e = lw_un(c, IR_OP_M_EXP, lw_bin(c, IR_OP_A_SUB, sm_load(c, s, r), extra[0]));
  sm_store(c, s, r, lw_bin(c, IR_OP_A_MUL, e, extra[1]));
}

/* extra[0] = max + log(sum) */
static void sm_logsoftmax_out(LwCtx *c, const SmCtx *s, IrValue *r, IrValue **v,
                              IrValue *const *extra) {
  (void)v;
  sm_store(c, s, r, lw_bin(c, IR_OP_A_SUB, sm_load(c, s, r), extra[0]));
}

/* extra[0] = index of the first max */
static void sm_hardmax_out(LwCtx *c, const SmCtx *s, IrValue *r, IrValue **v,
                           IrValue *const *extra) {
  (void)v;
  IrValue *hit = lw_cmp(c, "eq", r, extra[0]);
  sm_store(c, s, r, lw_select(c, hit, lw_const_f(c, s->ce, 1), lw_const_f(c, s->ce, 0)));
}

static void sm_row(LwCtx *c, IrOp *op, const SmCtx *s) {
  IrValue *v[2] = {nn_lowest(c, s->ce), lw_index(c, 0)};
  sm_pass(c, s, 2, v, sm_max, NULL);
  IrValue *max = v[0];
  if (op->kind == IR_OP_HARDMAX) {
    sm_pass(c, s, 0, NULL, sm_hardmax_out, &v[1]);
    return;
  }
  bool keep = op->kind == IR_OP_SOFTMAX && lw_elem(s->Y) == s->ce;
  IrValue *sum = lw_const_f(c, s->ce, 0);
  sm_pass(c, s, 1, &sum, sm_sumexp, (IrValue *[]){max, keep ? max : NULL});
  if (op->kind == IR_OP_LOG_SOFTMAX) {
    IrValue *lse = lw_bin(c, IR_OP_A_ADD, max, lw_un(c, IR_OP_M_LOG, sum));
    sm_pass(c, s, 0, NULL, sm_logsoftmax_out, &lse);
    return;
  }
  IrValue *inv = lw_bin(c, IR_OP_A_DIV, lw_const_f(c, s->ce, 1), sum);
  sm_pass(c, s, 0, NULL, sm_softmax_out, (IrValue *[]){max, inv, keep ? inv : NULL});
}

bool op_softmax_lower(LwCtx *c, IrOp *op) {
  int64_t x[IR_MAX_RANK], axis;
  int r = nn_dims(c->in[0], x);
  if (!nn_norm_axis(op, ir_attr_int(op, "axis", -1), r, &axis)) return false;
  bool coerce = ir_attr_int(op, "coerce_2d", 0) != 0;
  int64_t d3[3] = {nn_numel(x, (int)axis), coerce ? nn_numel(x + axis, r - (int)axis)
                                                 : x[axis], 1};
  if (!coerce) d3[2] = nn_numel(x + axis + 1, r - (int)axis - 1);
  SmCtx s = {.X = nn_view(c, c->in[0], 3, d3), .Y = nn_view(c, c->out[0], 3, d3),
             .R = d3[1], .ce = nn_calc_elem(lw_elem(c->in[0]))};
  LwNest nest;
  IrValue *ivs[2];
  lw_nest_begin(c, &nest, 2, (int64_t[]){d3[0], d3[2]}, ivs);
  s.o = ivs[0], s.i = ivs[1];
  sm_row(c, op, &s);
  lw_nest_end(c, &nest);
  return true;
}
