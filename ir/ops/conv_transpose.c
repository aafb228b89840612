/*
 * conv_transpose.c — ConvTranspose: N-D, grouped, strided, dilated.
 *
 * Each input pixel scatters a kernel-sized patch into the output:
 *   Y[n, g*M/G+m, i*s + k*d - pb] += X[n, c, i] * W[c, m, k]   (c in group g)
 * The full (unpadded) output has s*(in-1) + (k-1)*d + 1 positions per
 * spatial dim; the canonical form keeps only `pads` (begins then ends) with
 *   out = full - pb - pe
 * so output_padding, output_shape and auto_pad all become pads at infer
 * time (an end pad may be negative: extra zero positions at the end, which
 * is what output_padding and a larger output_shape mean).  With a given
 * output size, total = full - out splits as pb = total/2 (SAME_LOWER puts
 * the larger half first), matching the ONNX test data.
 *
 * Lowering: Y = bias, then for n, c, m, k: w = W[c, m, k] is invariant
 * while the innermost loops walk the input row over the range of i whose
 * output lies inside Y (computed once per k, so the body has no tests).
 * f16/bf16 accumulate in an f32 scratch buffer.
 */
#include <string.h>

#include "nn_util.h"

/* An INTS attribute of n values, filled with dflt when absent. */
static bool ct_ints(IrModule *m, IrOp *op, const char *name, int n, int64_t dflt) {
  if (!nn_attr_kind(op, name, IR_ATTR_INTS)) return false;
  const int64_t *v;
  int got = ir_attr_ints(op, name, &v);
  if (got < 0) {
    int64_t fill[2 * IR_MAX_RANK];
    for (int i = 0; i < n; i++) fill[i] = dflt;
    ir_attr_set_ints(m, op, name, n, fill);
    return true;
  }
  if (got == n) return true;
  diag_at(DIAG_ERROR, &op->loc, "ConvTranspose: attribute '%s' has %d values; "
          "expected %d", name, got, n);
  return false;
}

bool op_conv_transpose_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  return nn_attr_int_canon(m, op, "group", 1, NULL) &&
         nn_attr_kind(op, "kernel_shape", IR_ATTR_INTS) &&
         nn_attr_kind(op, "output_shape", IR_ATTR_INTS) &&
         nn_attr_kind(op, "output_padding", IR_ATTR_INTS) &&
         nn_attr_kind(op, "pads", IR_ATTR_INTS) &&
         nn_attr_kind(op, "auto_pad", IR_ATTR_STRING);
}

/* Turns output_shape / auto_pad / output_padding into pads. */
static bool ct_resolve(IrModule *m, IrOp *op, int n, const int64_t *in,
                       const int64_t *k) {
  const int64_t *s, *d, *os, *opad;
  ir_attr_ints(op, "strides", &s);
  ir_attr_ints(op, "dilations", &d);
  const char *ap = ir_attr_string(op, "auto_pad", "NOTSET");
  int nos = ir_attr_ints(op, "output_shape", &os);
  if (nos == n + 2) os += 2, nos = n;
  if (!ct_ints(m, op, "output_padding", n, 0)) return false;
  ir_attr_ints(op, "output_padding", &opad);
  if (nos >= 0 && nos != n) {
    diag_at(DIAG_ERROR, &op->loc, "ConvTranspose: attribute 'output_shape' has "
            "%d values; expected %d", nos, n);
    return false;
  }
  bool same = !strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER");
  if (!same && strcmp(ap, "NOTSET") && strcmp(ap, "VALID")) {
    diag_at(DIAG_ERROR, &op->loc, "attribute 'auto_pad' has unknown value '%s'", ap);
    return false;
  }
  if (!strcmp(ap, "VALID")) ir_attr_remove(op, "pads");
  if (!ct_ints(m, op, "pads", 2 * n, 0)) return false;
  int64_t pads[2 * IR_MAX_RANK];
  const int64_t *p;
  ir_attr_ints(op, "pads", &p);
  for (int i = 0; i < n; i++) {
    int64_t full = s[i] * (in[i] - 1) + (k[i] - 1) * d[i] + 1;
    pads[i] = p[i], pads[n + i] = p[n + i] - opad[i];
    if (nos < 0 && !same) continue;
    int64_t out = nos >= 0 ? os[i] : in[i] * s[i];
    int64_t total = full - out, t = total > 0 ? total : 0;
    pads[i] = !strcmp(ap, "SAME_LOWER") ? t - t / 2 : t / 2;
    pads[n + i] = total - pads[i];
  }
  ir_attr_set_ints(m, op, "pads", 2 * n, pads);
  ir_attr_remove(op, "output_shape");
  ir_attr_remove(op, "output_padding");
  ir_attr_remove(op, "auto_pad");
  return true;
}

/* Checks the window attributes; output spatial sizes into y. */
static bool ct_shape(IrModule *m, IrOp *op, const int64_t *x, const int64_t *w,
                     int n, int64_t *y) {
  const int64_t *ks;
  int nk = ir_attr_ints(op, "kernel_shape", &ks);
  for (int i = 0; nk >= 0 && i < n; i++)
    if (nk != n || ks[i] != w[i + 2]) {
      diag_at(DIAG_ERROR, &op->loc, "ConvTranspose: kernel_shape does not match "
              "the spatial dims of W");
      return false;
    }
  ir_attr_set_ints(m, op, "kernel_shape", n, w + 2);
  if (!ct_ints(m, op, "strides", n, 1) || !ct_ints(m, op, "dilations", n, 1) ||
      !ct_resolve(m, op, n, x + 2, w + 2))
    return false;
  const int64_t *s, *d, *p;
  ir_attr_ints(op, "strides", &s);
  ir_attr_ints(op, "dilations", &d);
  ir_attr_ints(op, "pads", &p);
  for (int i = 0; i < n; i++) {
    y[i] = s[i] * (x[i + 2] - 1) + (w[i + 2] - 1) * d[i] + 1 - p[i] - p[n + i];
    if (s[i] < 1 || d[i] < 1 || p[i] < 0 || y[i] < 1) {
      diag_at(DIAG_ERROR, &op->loc, "ConvTranspose: strides, dilations or pads "
              "give no output in spatial dim %d", i);
      return false;
    }
  }
  return true;
}

bool op_conv_transpose_infer(IrModule *m, IrOp *op) {
  if (!nn_check_operand(op, 0, "X", NN_FLOAT) ||
      !nn_check_operand(op, 1, "W", NN_FLOAT) || !nn_check_rank_min(op, 0, "X", 3))
    return false;
  int64_t x[IR_MAX_RANK], w[IR_MAX_RANK], y[IR_MAX_RANK];
  int r = nn_dims(op->operands[0], x), rw = nn_dims(op->operands[1], w);
  IrElem e = op->operands[0]->type.elem;
  int64_t g = ir_attr_int(op, "group", 1);
  if (rw != r || op->operands[1]->type.elem != e || g < 1 || w[0] != x[1] ||
      x[1] % g) {
    diag_at(DIAG_ERROR, &op->loc, "ConvTranspose: W must be %s of rank %d with "
            "%lld input channels (X's), divisible by group=%lld", ir_elem_name(e),
            r, (long long)x[1], (long long)g);
    return false;
  }
  if (!ct_shape(m, op, x, w, r - 2, y + 2)) return false;
  y[0] = x[0], y[1] = w[1] * g;
  const IrValue *B = op->num_operands > 2 ? op->operands[2] : NULL;
  if (B && (!nn_check_operand(op, 2, "B", NN_FLOAT) || B->type.elem != e ||
            B->type.rank != 1 || ir_type_dim(&B->type, 0) != y[1])) {
    diag_at(DIAG_ERROR, &op->loc, "ConvTranspose: bias B must be %s[%lld]",
            ir_elem_name(e), (long long)y[1]);
    return false;
  }
  op->results[0]->type = ir_type_tensor(e, r, y);
  return true;
}

typedef struct CtCtx {
  IrValue *X, *W, *B, *Y; /* Y: the accumulator */
  int n;                  /* spatial dims */
  int64_t x[IR_MAX_RANK], y[IR_MAX_RANK], k[IR_MAX_RANK];
  const int64_t *s, *d, *p;
  int64_t cg, mg;         /* input channels / outputs per group */
} CtCtx;

/* The input loops for one kernel position; xi/yi have n and channels. */
static void ct_inputs(LwCtx *c, const CtCtx *v, IrValue *const *ks,
                      IrValue **xi, IrValue **yi, IrValue *wv) {
  IrOp *loops[IR_MAX_RANK];
  IrValue *off[IR_MAX_RANK];
  for (int i = 0; i < v->n; i++) {
    off[i] = nn_lin(c, ks[i], v->d[i], -v->p[i]);
    IrValue *lo, *hi;
    nn_valid_range(c, off[i], v->s[i], v->x[i + 2], v->y[i + 2], &lo, &hi);
    loops[i] = lw_for_begin(c, lo, hi, 1, &xi[i + 2]);
  }
  for (int i = 0; i < v->n; i++)
    yi[i + 2] = nn_iadd(c, nn_imul(c, xi[i + 2], v->s[i]), off[i]);
  IrValue *x = nn_load(c, v->X, xi);
  lw_store(c, nn_madd(c, x, wv, lw_load(c, v->Y, yi)), v->Y, yi);
  for (int i = v->n - 1; i >= 0; i--) lw_for_end(c, loops[i]);
}

static void ct_accumulate(LwCtx *c, const CtCtx *v) {
  IrValue *xi[IR_MAX_RANK], *yi[IR_MAX_RANK], *wi[IR_MAX_RANK], *m;
  IrOp *ln = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->x[0]), 1, &xi[0]);
  IrOp *lc = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->x[1]), 1, &xi[1]);
  IrValue *mbase = NULL; /* first output channel of c's group */
  if (v->cg != v->x[1])
    mbase = nn_imul(c, lw_bin(c, IR_OP_A_DIV, xi[1], lw_index(c, v->cg)), v->mg);
  IrOp *lm = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->mg), 1, &m);
  yi[0] = xi[0], yi[1] = mbase ? nn_iadd(c, mbase, m) : m;
  wi[0] = xi[1], wi[1] = m;
  LwNest kn;
  lw_nest_begin(c, &kn, v->n, v->k, &wi[2]);
  IrValue *wv = nn_load(c, v->W, wi);
  ct_inputs(c, v, &wi[2], xi, yi, wv);
  lw_nest_end(c, &kn);
  lw_for_end(c, lm);
  lw_for_end(c, lc);
  lw_for_end(c, ln);
}

bool op_conv_transpose_lower(LwCtx *c, IrOp *op) {
  CtCtx v = {.X = c->in[0], .W = c->in[1],
             .B = op->num_operands > 2 ? c->in[2] : NULL, .Y = c->out[0]};
  int r = nn_dims(v.X, v.x);
  int64_t w[IR_MAX_RANK];
  nn_dims(v.W, w);
  nn_dims(v.Y, v.y);
  v.n = r - 2;
  for (int i = 0; i < v.n; i++) v.k[i] = w[i + 2];
  ir_attr_ints(op, "strides", &v.s);
  ir_attr_ints(op, "dilations", &v.d);
  ir_attr_ints(op, "pads", &v.p);
  int64_t g = ir_attr_int(op, "group", 1);
  v.cg = v.x[1] / g, v.mg = w[1];
  IrElem ce = nn_calc_elem(lw_elem(v.Y));
  if (ce != lw_elem(v.Y)) v.Y = lw_alloc(c, ce, r, v.y);
  nn_bias_init(c, v.Y, v.B, r, v.y);
  ct_accumulate(c, &v);
  if (v.Y != c->out[0]) nn_copy_round(c, v.Y, c->out[0], r, v.y);
  return true;
}
