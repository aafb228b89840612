/*
 * conv.c — Conv: N-D, grouped (depthwise included), strided, dilated,
 * explicitly padded; auto_pad is resolved into pads at import.
 *
 * Lowering is weight-stationary direct convolution, accumulating in the
 * output:  Y[n,m,o..] = B[m];  then for n, m, c, k1..kn:
 *   w = W[m,c,k..];  for o1..on in the valid range: Y[n,m,o..] += w * X[n,g*C/G+c, o*s+k*d-pb]
 * The innermost loop walks the output row (contiguous) and, for stride 1,
 * the input row too, with w loop-invariant: the shape LLVM vectorizes.
 * Padding never materializes: for each kernel offset k the range of output
 * positions whose input lies inside X is computed once, outside the output
 * loops, so the innermost loop has no conditions.  f16/bf16 accumulate in
 * an f32 scratch buffer that is rounded into Y at the end.
 */
#include "nn_util.h"

bool op_conv_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  return nn_conv_window_import(m, op, op->operands[0], op->operands[1]);
}

/* Checks shapes; fills w (window) and returns the output dims in y. */
static bool conv_shape(IrModule *m, IrOp *op, NnWindow *w, int64_t *y) {
  int64_t x[IR_MAX_RANK], k[IR_MAX_RANK];
  int r = nn_dims(op->operands[0], x), rw = nn_dims(op->operands[1], k);
  if (r != rw) {
    diag_at(DIAG_ERROR, &op->loc, "Conv: input X has rank %d but W has rank %d", r,
            rw);
    return false;
  }
  if (!nn_window_resolve(m, op, x + 2, r - 2) ||
      !nn_window_get(op, r - 2, x + 2, false, w))
    return false;
  for (int i = 0; i < r - 2; i++)
    if (w->k[i] != k[i + 2]) {
      diag_at(DIAG_ERROR, &op->loc, "Conv: kernel_shape[%d] is %lld but W has "
              "%lld", i, (long long)w->k[i], (long long)k[i + 2]);
      return false;
    }
  int64_t g = ir_attr_int(op, "group", 1);
  if (g < 1 || x[1] % g || k[0] % g || x[1] / g != k[1]) {
    diag_at(DIAG_ERROR, &op->loc, "Conv: input X has %lld channels and W has "
            "%lld filters of %lld channels, which group=%lld does not fit",
            (long long)x[1], (long long)k[0], (long long)k[1], (long long)g);
    return false;
  }
  y[0] = x[0], y[1] = k[0];
  for (int i = 0; i < r - 2; i++) y[i + 2] = w->out[i];
  return true;
}

bool op_conv_infer(IrModule *m, IrOp *op) {
  if (!nn_check_operand(op, 0, "X", NN_FLOAT) ||
      !nn_check_operand(op, 1, "W", NN_FLOAT) || !nn_check_rank_min(op, 0, "X", 3))
    return false;
  IrElem e = op->operands[0]->type.elem;
  if (op->operands[1]->type.elem != e) {
    diag_at(DIAG_ERROR, &op->loc, "Conv: X is %s but W is %s", ir_elem_name(e),
            ir_elem_name(op->operands[1]->type.elem));
    return false;
  }
  NnWindow w;
  int64_t y[IR_MAX_RANK];
  if (!conv_shape(m, op, &w, y)) return false;
  const IrValue *B = op->num_operands > 2 ? op->operands[2] : NULL;
  if (B && (!nn_check_operand(op, 2, "B", NN_FLOAT) || B->type.elem != e ||
            B->type.rank != 1 || ir_type_dim(&B->type, 0) != y[1])) {
    char buf[128];
    diag_at(DIAG_ERROR, &op->loc, "Conv: bias B has type %s; expected %s[%lld]",
            ir_type_str(m, &B->type, buf, sizeof buf), ir_elem_name(e),
            (long long)y[1]);
    return false;
  }
  op->results[0]->type = ir_type_tensor(e, w.n + 2, y);
  return true;
}

typedef struct ConvCtx {
  IrValue *X, *W, *B, *Y; /* Y: the accumulator (Y itself or f32 scratch) */
  NnWindow w;
  int64_t y[IR_MAX_RANK];
  int64_t cg, mg;        /* input channels per group, filters per group */
} ConvCtx;

/* The output loops for one kernel position: yi/xi get n, m / n, cin filled. */
static void conv_outputs(LwCtx *c, const ConvCtx *v, IrValue *const *ks,
                         IrValue **yi, IrValue **xi, IrValue *wv) {
  const NnWindow *w = &v->w;
  IrOp *loops[IR_MAX_RANK];
  IrValue *off[IR_MAX_RANK];
  for (int i = 0; i < w->n; i++) {
    off[i] = nn_lin(c, ks[i], w->d[i], -w->pb[i]);
    IrValue *lo, *hi;
    if (w->pb[i] == 0 && (w->out[i] - 1) * w->s[i] + (w->k[i] - 1) * w->d[i] < w->in[i])
      lo = lw_index(c, 0), hi = lw_index(c, w->out[i]); /* never clipped */
    else
      nn_valid_range(c, off[i], w->s[i], w->out[i], w->in[i], &lo, &hi);
    loops[i] = lw_for_begin(c, lo, hi, 1, &yi[i + 2]);
  }
  for (int i = 0; i < w->n; i++)
    xi[i + 2] = nn_iadd(c, nn_imul(c, yi[i + 2], w->s[i]), off[i]);
  IrValue *x = nn_load(c, v->X, xi);
  lw_store(c, nn_madd(c, x, wv, lw_load(c, v->Y, yi)), v->Y, yi);
  for (int i = w->n - 1; i >= 0; i--) lw_for_end(c, loops[i]);
}

static void conv_accumulate(LwCtx *c, const ConvCtx *v) {
  IrValue *yi[IR_MAX_RANK], *xi[IR_MAX_RANK], *wi[IR_MAX_RANK], *cl;
  IrOp *ln = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->y[0]), 1, &yi[0]);
  IrOp *lm = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->y[1]), 1, &yi[1]);
  IrValue *cbase = NULL; /* first input channel of m's group */
  if (v->mg != v->y[1])
    cbase = nn_imul(c, lw_bin(c, IR_OP_A_DIV, yi[1], lw_index(c, v->mg)), v->cg);
  IrOp *lc = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->cg), 1, &cl);
  xi[0] = yi[0], xi[1] = cbase ? nn_iadd(c, cbase, cl) : cl;
  wi[0] = yi[1], wi[1] = cl;
  LwNest kn;
  lw_nest_begin(c, &kn, v->w.n, v->w.k, &wi[2]);
  IrValue *wv = nn_load(c, v->W, wi);
  conv_outputs(c, v, &wi[2], yi, xi, wv);
  lw_nest_end(c, &kn);
  lw_for_end(c, lc);
  lw_for_end(c, lm);
  lw_for_end(c, ln);
}

bool op_conv_lower(LwCtx *c, IrOp *op) {
  ConvCtx v = {.X = c->in[0], .W = c->in[1],
               .B = op->num_operands > 2 ? c->in[2] : NULL, .Y = c->out[0]};
  int64_t x[IR_MAX_RANK];
  int r = nn_dims(v.X, x);
  if (!nn_window_get(op, r - 2, x + 2, false, &v.w)) return false;
  nn_dims(v.Y, v.y);
  IrElem ce = nn_calc_elem(lw_elem(v.Y));
  v.cg = lw_dim(v.W, 1);
  v.mg = v.y[1] / ir_attr_int(op, "group", 1);
  if (ce != lw_elem(v.Y)) v.Y = lw_alloc(c, ce, r, v.y);
  nn_bias_init(c, v.Y, v.B, r, v.y);
  conv_accumulate(c, &v);
  if (v.Y != c->out[0]) nn_copy_round(c, v.Y, c->out[0], r, v.y);
  return true;
}
