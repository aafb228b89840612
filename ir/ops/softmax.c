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
 *
 * With run-time dims (Softmax and LogSoftmax are OPF_DYN) a product of dims
 * cannot be one dim of a view, so X is indexed with its own rank instead:
 * the loops run over the kept dims outside and the passes over the reduced
 * dims inside (one, or with coerce_2d every dim from axis on), bounds from
 * dim.get where a dim is a run-time one.  Static shapes lower as before.
 */
#include "nn_util.h"

bool op_softmax_import(IrModule *m, IrOp *op, int opset) {
  if (!nn_attr_int_canon(m, op, "axis", opset < 13 ? 1 : -1, NULL)) return false;
  ir_attr_set_int(m, op, "coerce_2d", opset < 13);
  return true;
}

bool op_softmax_infer(IrModule *m, IrOp *op) {
  (void)m;
  if (!nn_check_operand_dyn(op, 0, "input", NN_FLOAT)) return false;
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
  /* X index: the kept dims are set outside the passes, the reduced ones
   * by each pass (static: [outer, reduced, inner] of the 3-D view) */
  IrValue *idx[IR_MAX_RANK];
  int nr, red[IR_MAX_RANK];   /* the reduced dims' numbers */
  int64_t rd[IR_MAX_RANK];    /* and sizes (lw_dim codes) */
  IrElem ce;
} SmCtx;

/* X and Y at the current index (the pass set the reduced slots). */
static IrValue *sm_load(LwCtx *c, const SmCtx *s, IrValue *r) {
  (void)r;
  return nn_load(c, s->X, s->idx);
}

static void sm_store(LwCtx *c, const SmCtx *s, IrValue *r, IrValue *v) {
  (void)r;
  nn_store(c, v, s->Y, s->idx);
}

/* Pass over the reduced dim carrying n values; body returns the next ones. */
typedef void (*SmBody)(LwCtx *c, const SmCtx *s, IrValue *r, IrValue **vals,
                       IrValue *const *extra);

/* Pass over the reduced dims carrying n values; body gets the innermost
 * reduced index as r (Hardmax's position: it has one reduced dim). */
static void sm_pass(LwCtx *c, SmCtx *s, int n, IrValue **vals, SmBody body,
                    IrValue *const *extra) {
  IrValue *ivs[IR_MAX_RANK], *hi[IR_MAX_RANK];
  bool dyn = false;
  for (int k = 0; k < s->nr; k++) dyn |= LW_DIM_IS_DYN(s->rd[k]);
  for (int k = 0; dyn && k < s->nr; k++) hi[k] = lw_dim_index(c, s->rd[k]);
  NnIterNest nest;
  nn_iter_nest_begin(c, &nest, s->nr, NULL, dyn ? hi : NULL, s->rd, n, vals, ivs);
  for (int k = 0; k < s->nr; k++) s->idx[s->red[k]] = ivs[k];
  body(c, s, ivs[s->nr - 1], vals, extra);
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
    e = lw_load(c, s->Y, s->idx);
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

static void sm_row(LwCtx *c, IrOp *op, SmCtx *s) {
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

/* Run-time dims: X indexed at its own rank (see the top). */
static bool sm_lower_dyn(LwCtx *c, IrOp *op, int64_t axis, bool coerce) {
  int r = lw_rank(c->in[0]), nk = 0;
  int64_t kd[IR_MAX_RANK];
  int kept[IR_MAX_RANK];
  SmCtx s = {.X = c->in[0], .Y = c->out[0], .ce = nn_calc_elem(lw_elem(c->in[0]))};
  for (int i = 0; i < r; i++) {
    if (i == axis || (coerce && i > axis))
      s.rd[s.nr] = lw_dim(s.X, i), s.red[s.nr++] = i;
    else
      kd[nk] = lw_dim(s.X, i), kept[nk++] = i;
  }
  if (op->kind == IR_OP_HARDMAX && s.nr > 1) {
    diag_at(DIAG_ERROR, &op->loc, "Hardmax: run-time dimensions are not supported "
            "with coerce_2d over more than one dim");
    return false;
  }
  LwNest nest;
  IrValue *ivs[IR_MAX_RANK];
  lw_nest_begin(c, &nest, nk, kd, ivs);
  for (int i = 0; i < nk; i++) s.idx[kept[i]] = ivs[i];
  sm_row(c, op, &s);
  lw_nest_end(c, &nest);
  return true;
}

bool op_softmax_lower(LwCtx *c, IrOp *op) {
  int64_t x[IR_MAX_RANK], axis;
  int r = lw_rank(c->in[0]);
  if (!nn_norm_axis(op, ir_attr_int(op, "axis", -1), r, &axis)) return false;
  bool coerce = ir_attr_int(op, "coerce_2d", 0) != 0;
  if (!ir_type_is_static(&c->in[0]->type)) return sm_lower_dyn(c, op, axis, coerce);
  nn_dims(c->in[0], x);
  int64_t d3[3] = {nn_numel(x, (int)axis), coerce ? nn_numel(x + axis, r - (int)axis)
                                                 : x[axis], 1};
  if (!coerce) d3[2] = nn_numel(x + axis + 1, r - (int)axis - 1);
  SmCtx s = {.X = nn_view(c, c->in[0], 3, d3), .Y = nn_view(c, c->out[0], 3, d3),
             .nr = 1, .red = {1}, .rd = {d3[1]}, .ce = nn_calc_elem(lw_elem(c->in[0]))};
  LwNest nest;
  IrValue *ivs[2];
  lw_nest_begin(c, &nest, 2, (int64_t[]){d3[0], d3[2]}, ivs);
  s.idx[0] = ivs[0], s.idx[2] = ivs[1];
  sm_row(c, op, &s);
  lw_nest_end(c, &nest);
  return true;
}
