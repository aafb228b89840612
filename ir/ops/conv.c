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
#include <string.h>

#include "conv_winograd.h"
#include "gemm_kernel.h"
#include "nn_util.h"
#include "preprocess.h"

bool op_conv_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  return nn_conv_window_import(m, op, op->operands[0], op->operands[1]);
}

/* A fused_conv that absorbed a preprocess: X is its u8 image, operands 4
 * and 5 the per-channel conversion (ir/ops/preprocess.h). */
static bool conv_pre(const IrOp *op) {
  return op->kind == IR_OP_FUSED_CONV && op->num_operands > 5 && op->operands[4];
}

/* X's dims (X: operand 0 or its buffer), as NCHW when X is such an image. */
static int conv_x_dims(const IrOp *op, const IrValue *X, int64_t *x) {
  IrType t = X->type;
  if (conv_pre(op)) pre_nchw_dims(ir_attr_string(op, "pre_layout", NULL), t.dims);
  for (int i = 0; i < t.rank; i++) x[i] = ir_type_dim(&t, i);
  return t.rank;
}

/* Whether the packed kernel packs X (im2col panels) rather than reading it
 * in place: anything but a 1x1, stride-1, unpadded window. */
static bool conv_window_packs(const NnWindow *w) {
  return !(w->k[0] == 1 && w->k[1] == 1 && w->s[0] == 1 && w->s[1] == 1 && w->pb[0] == 0 &&
           w->pb[1] == 0 && w->pe[0] == 0 && w->pe[1] == 0);
}

/* Checks shapes; fills w (window) and returns the output dims in y. */
static bool conv_shape(IrModule *m, IrOp *op, NnWindow *w, int64_t *y) {
  int64_t x[IR_MAX_RANK], k[IR_MAX_RANK];
  int r = conv_x_dims(op, op->operands[0], x), rw = nn_dims(op->operands[1], k);
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

/* fused_conv's int8 form (gemm_kernel.h): an i8 W, scales at operand 6. */
static bool conv_int8(const IrOp *op) {
  return op->kind == IR_OP_FUSED_CONV && gk_is_quantized(op, 1);
}

bool op_conv_infer(IrModule *m, IrOp *op) {
  IrType image;
  if (conv_pre(op) ? !pre_check(m, op, "pre_layout", 4, &image)
                   : !nn_check_operand(op, 0, "X", NN_FLOAT))
    return false;
  bool int8 = conv_int8(op);
  if (!nn_check_operand(op, 1, "W", int8 ? NN_SINT : NN_FLOAT) ||
      !nn_check_rank_min(op, 0, "X", 3))
    return false;
  IrElem e = conv_pre(op) ? IR_F32 : op->operands[0]->type.elem;
  if (int8 && (e != IR_F32 || conv_pre(op) || op->operands[0]->type.rank != 4 ||
               ir_attr_int(op, "group", 1) != 1)) {
    diag_at(DIAG_ERROR, &op->loc, "fused_conv: an i8 W takes a 2-D f32 X, one group and no "
            "preprocess");
    return false;
  }
  if (!int8 && op->operands[1]->type.elem != e) {
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
  if (op->kind != IR_OP_FUSED_CONV) return true;
  return gk_fused_check(m, op) && (!int8 || gk_quant_check(op, 1, 6, y[1]));
}

typedef struct ConvCtx {
  IrValue *X, *W, *B, *Y; /* Y: the accumulator (Y itself or f32 scratch) */
  NnWindow w;
  int64_t C;             /* input channels */
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

/* ------------------------------------------- the packed-kernel lowering
 * Per image and group, a matrix product (ir/ops/gemm_kernel.h):
 *   Y[m, p] = sum_k W[m, k] * X_col[k, p]     m < filters per group,
 *   k = (c, ki, kj) < cg*kh*kw,  p = (oh, ow) < OH*OW
 * W is packed at compile time in row tiles; X_col is X itself for a 1x1,
 * stride-1, unpadded convolution, else packed while running, one block of
 * whole output rows and whole input channels at a time (im2col never
 * exists in full).  The packing loops are emitted per kernel offset
 * (ki, kj), so each output row's valid input range is a compile-time fact
 * and the inner copy is a plain, vectorizable row copy. */
typedef struct ConvGemm {
  IrValue *X, *Wp, *B, *Y, *panel; /* X, Y flat; panel: the packed block */
  IrValue *T;                       /* the transposed product's C, or NULL */
  IrValue *R;                       /* fused_conv's residual, flat, or NULL */
  IrValue *pre_a, *pre_b;           /* an absorbed preprocess's A, B, or NULL */
  int64_t ps;                       /* X's pixel stride: 1, or C (NHWC bytes) */
  const IrOp *op;                   /* for the fused activation */
  IrValue *n, *g;                   /* image and group (index values) */
  int64_t C, H, Wd, OH, OW, kh, kw, sh, sw, dh, dw, pt, pl, cg, mg, K, P;
  int64_t ncp;                      /* the panel's row length */
  int64_t kcp;                      /* its rows (the K block); one panel per task */
  int64_t tasks;                    /* the kernel's parallel tasks (GkGemm.tasks) */
  enum { PACK_IN_TASK, PACK_BY_ROWS, PACK_BY_CHANNELS } pack_split; /* conv_pack */
  bool panel_all_k;                 /* the panel holds every K block at once */
  int64_t Mt;                       /* filters in all groups */
  GemmSched s;
  /* the int8 form: the panel's rows in fours as words (kcw rows per task) */
  bool int8;
  IrValue *qpanel;
  int64_t kcw;
  GkQuant q;
} ConvGemm;

typedef struct ConvPackW {
  const float *w;
  const int8_t *q;  /* the int8 form's W */
  int64_t mg, K;
} ConvPackW;

static double conv_w_get(const void *user, int64_t g, int64_t m, int64_t k) {
  const ConvPackW *p = user;
  return p->w[(g * p->mg + m) * p->K + k];
}

static int conv_qw_get(const void *user, int64_t g, int64_t m, int64_t k) {
  const ConvPackW *p = user;
  return p->q[(g * p->mg + m) * p->K + k];
}

static int conv_qw_filter(const void *user, int64_t m, int64_t k) {
  return conv_qw_get(user, 0, m, k);
}

static void conv_a_tile(LwCtx *c, void *user, IrValue *i0, int rows, IrValue *k0,
                        GkOperand *a) {
  ConvGemm *v = user;
  int64_t K = v->int8 ? (v->K + 3) / 4 : v->K; /* the int8 form's words */
  gk_packed_operand(c, v->Wp, v->mg, K, v->g, i0, rows, k0, a);
}

/* Element (k, p) of the direct operand: X[n, g*cg + k, p]. */
static void conv_b_direct(LwCtx *c, void *user, IrValue *jb, IrValue *j0,
                          int64_t w, IrValue *k0, IrValue *task, GkOperand *b) {
  (void)jb, (void)w, (void)task;
  ConvGemm *v = user;
  IrValue *ch = gk_axpy(c, gk_axpy(c, NULL, v->n, v->C), v->g, v->cg);
  ch = lw_bin(c, IR_OP_A_ADD, ch, k0);
  b->buf = v->X;
  b->base = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, NULL, ch, v->P), j0);
  b->rs = 1;
  b->ks = v->P;
}

static void conv_b_panel(LwCtx *c, void *user, IrValue *jb, IrValue *j0,
                         int64_t w, IrValue *k0, IrValue *task, GkOperand *b) {
  (void)w, (void)k0;
  ConvGemm *v = user;
  b->buf = v->panel;
  b->base = gk_axpy(c, lw_bin(c, IR_OP_A_SUB, j0, jb), task, v->kcp * v->ncp);
  b->rs = 1;
  b->ks = v->ncp;
}

/* One panel row (channel ch, taps ki and kj) over the block's output
 * rows from oh0: zeros where the input column falls in the padding, a
 * plain (strided) copy in between, zeros where the input row does.  With
 * kj_c >= 0 (kj known at compile time) the padding spans are constants and
 * the copy runs as whole vectors, the last one masked (a stride of 2 to 4:
 * one wide load and a shuffle per vector): a 56-column row is 4 vector
 * copies, not a vector loop with a scalar tail. */
typedef struct ConvPackRow {
  const ConvGemm *v;
  IrValue *xrow, *dst, *inside;
  IrValue *a, *b; /* the channel's conversion of raw bytes, or NULL */
} ConvPackRow;

/* lanes elements of X (a preprocess's bytes: converted) from xi on. */
static IrValue *conv_pack_load(LwCtx *c, const ConvGemm *v, IrValue *xi, int lanes,
                               IrValue *a, IrValue *b) {
  int64_t stride = v->sw * v->ps;
  IrValue *x = lanes > 1 ? lw_vload_strided(c, v->X, &xi, lanes, stride) : lw_load(c, v->X, &xi);
  return a ? pre_convert(c, x, a, b, lanes) : x;
}

static void conv_pack_vector(LwCtx *c, void *user, IrValue *ow) {
  const ConvPackRow *p = user;
  int lanes = p->v->s.lanes;
  IrValue *xi = gk_axpy(c, p->xrow, ow, p->v->sw * p->v->ps);
  IrValue *val = lw_select(c, p->inside, conv_pack_load(c, p->v, xi, lanes, p->a, p->b),
                           lw_splat(c, lw_const_f(c, IR_F32, 0), lanes));
  IrValue *di = lw_bin(c, IR_OP_A_ADD, p->dst, ow);
  lw_vstore(c, val, p->v->panel, &di);
}

/* X's flat index of channel ch (of all images), row ih, column col: NCHW,
 * or a preprocess's NHWC bytes, n*H*W*C + (ih*W + col)*C + (ch - n*C). */
static IrValue *conv_x_row(LwCtx *c, const ConvGemm *v, IrValue *ch, IrValue *ih,
                           IrValue *col) {
  if (v->ps == 1)
    return lw_bin(c, IR_OP_A_ADD, gk_axpy(c, gk_axpy(c, NULL, ch, v->H * v->Wd), ih, v->Wd), col);
  IrValue *cl = lw_bin(c, IR_OP_A_SUB, ch, gk_axpy(c, NULL, v->n, v->C));
  IrValue *pixel = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, NULL, ih, v->Wd), col);
  return gk_axpy(c, gk_axpy(c, cl, v->n, v->H * v->Wd * v->C), pixel, v->C);
}

static void conv_pack_row(LwCtx *c, const ConvGemm *v, IrValue *ch, IrValue *oh0,
                          int64_t rows, IrValue *r, IrValue *ki, IrValue *kj,
                          int64_t kj_c, IrValue *prow) {
  IrValue *off = gk_axpy(c, lw_index(c, -v->pl), kj, v->dw), *lo, *hi, *ow;
  IrValue *a = NULL, *b = NULL; /* the channel's conversion */
  if (v->pre_a) {
    IrValue *cl = lw_bin(c, IR_OP_A_SUB, ch, gk_axpy(c, NULL, v->n, v->C));
    a = lw_load(c, v->pre_a, &cl);
    b = lw_load(c, v->pre_b, &cl);
  }
  int64_t l = 0, h = 0; /* [lo, hi) when kj is known */
  if (kj_c >= 0) { /* 0 <= ow * sw + o < Wd */
    int64_t o = kj_c * v->dw - v->pl;
    l = o < 0 ? (-o + v->sw - 1) / v->sw : 0;
    h = v->Wd - o > 0 ? (v->Wd - o - 1) / v->sw + 1 : 0;
    if (l > v->OW) l = v->OW;
    if (h > v->OW) h = v->OW;
    if (h < l) h = l;
    lo = lw_index(c, l), hi = lw_index(c, h);
  } else {
    nn_valid_range(c, off, v->sw, v->OW, v->Wd, &lo, &hi);
  }
  /* r: one output row (the caller's loop), or NULL: all of them here */
  IrOp *lr = r ? NULL : lw_for_begin(c, lw_index(c, 0), lw_index(c, rows), 1, &r);
  IrValue *ih = gk_axpy(c, gk_axpy(c, lw_index(c, -v->pt), ki, v->dh),
                        lw_bin(c, IR_OP_A_ADD, oh0, r), v->sh);
  IrValue *inside = lw_bin(c, IR_OP_A_AND, lw_cmp(c, "ge", ih, lw_index(c, 0)),
                           lw_cmp(c, "lt", ih, lw_index(c, v->H)));
  IrValue *ihc = lw_bin(c, IR_OP_A_MIN, lw_bin(c, IR_OP_A_MAX, ih, lw_index(c, 0)),
                        lw_index(c, v->H - 1));
  IrValue *xrow = conv_x_row(c, v, ch, ihc, off);
  IrValue *dst = gk_axpy(c, gk_axpy(c, NULL, prow, v->ncp), r, v->OW);
  IrValue *zero = lw_const_f(c, IR_F32, 0);
  IrValue *bounds[4] = {lw_index(c, 0), lo, hi, lw_index(c, v->OW)};
  for (int part = 0; part < 3; part++) {
    if (part == 1 && kj_c >= 0) {
      ConvPackRow p = {v, xrow, dst, inside, a, b};
      lw_vector_span(c, l, h, v->s.lanes, conv_pack_vector, &p);
      continue;
    }
    IrOp *lo_ = lw_for_begin(c, bounds[part], bounds[part + 1], 1, &ow);
    IrValue *val = zero;
    if (part == 1) {
      IrValue *xi = gk_axpy(c, xrow, ow, v->sw * v->ps);
      val = lw_select(c, inside, conv_pack_load(c, v, xi, 1, a, b), zero);
    }
    IrValue *di = lw_bin(c, IR_OP_A_ADD, dst, ow);
    lw_store(c, val, v->panel, &di);
    lw_for_end(c, lo_);
  }
  if (lr) lw_for_end(c, lr);
}

/* Packs X_col[k0 .. k0+kc, jb .. jb+ncols) into task's panel: kc covers
 * whole channels, ncols whole output rows, one panel row per (channel, ki,
 * kj) (conv_pack_row).  On a vector target at strides up to 4 the kj loop
 * is unrolled so that each row's spans are constants.  pack_split: in a
 * task the packing is serial (the task is the parallel unit); by output
 * rows where threads may run it and the strips that read the panel split
 * its columns, so each core mostly reads what it packed (split by
 * channels, half of every strip came from the other core's cache:
 * ResNet-18's stem ran slower on 2 threads than on 1); else by channels
 * (the transposed product, whose every strip reads every pixel, and an
 * MCU, whose code this order keeps small). */
static void conv_pack(LwCtx *c, void *user, IrValue *jb, int64_t ncols,
                      IrValue *k0, IrValue *kc, IrValue *task) {
  ConvGemm *v = user;
  int64_t kk = v->kh * v->kw, rows = ncols / v->OW;
  IrValue *chans = lw_bin(c, IR_OP_A_DIV, kc, lw_index(c, kk));
  IrValue *oh0 = lw_bin(c, IR_OP_A_DIV, jb, lw_index(c, v->OW));
  IrValue *c0 = lw_bin(c, IR_OP_A_DIV, k0, lw_index(c, kk));
  IrValue *cc, *ki, *kj, *r = NULL;
  IrOp *lr = NULL;
  if (v->pack_split == PACK_BY_ROWS) {
    lr = lw_for_begin(c, lw_index(c, 0), lw_index(c, rows), 1, &r);
    ir_attr_set_int(c->m, lr, "parallel", 1);
  }
  IrOp *lc = lw_for_begin(c, lw_index(c, 0), chans, 1, &cc);
  if (v->pack_split == PACK_BY_CHANNELS) ir_attr_set_int(c->m, lc, "parallel", 1);
  IrValue *ch = lw_bin(c, IR_OP_A_ADD,
                       gk_axpy(c, gk_axpy(c, NULL, v->n, v->C), v->g, v->cg),
                       lw_bin(c, IR_OP_A_ADD, c0, cc));
  IrOp *li = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->kh), 1, &ki);
  /* task's panel starts kcp rows per task in */
  IrValue *prow0 = gk_axpy(c, gk_axpy(c, gk_axpy(c, NULL, ki, v->kw), cc, kk), task, v->kcp);
  if (v->s.lanes > 1 && v->sw <= 4 && v->sw * v->ps <= 64) { /* mem.vload's stride limit */
    for (int64_t j = 0; j < v->kw; j++)
      conv_pack_row(c, v, ch, oh0, rows, r, ki, lw_index(c, j), j,
                    lw_bin(c, IR_OP_A_ADD, prow0, lw_index(c, j)));
  } else {
    IrOp *lj = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->kw), 1, &kj);
    conv_pack_row(c, v, ch, oh0, rows, r, ki, kj, -1, lw_bin(c, IR_OP_A_ADD, prow0, kj));
    lw_for_end(c, lj);
  }
  lw_for_end(c, li);
  lw_for_end(c, lc);
  if (lr) lw_for_end(c, lr);
}

static IrValue *conv_epilogue(LwCtx *c, void *user, IrValue *i, IrValue *j,
                              int lanes, IrValue *y) {
  ConvGemm *v = user;
  IrValue *m = gk_axpy(c, i, v->g, v->mg), *ridx = NULL;
  if (v->B) y = lw_bin(c, IR_OP_A_ADD, y, lw_splat(c, lw_load(c, v->B, &m), lanes));
  if (v->R) /* Y's (and R's) flat index: (n * filters + m) * P + j */
    ridx = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, NULL, gk_axpy(c, m, v->n, v->Mt), v->P), j);
  return gk_fused_tail(c, v->op, v->R, ridx, lanes, y);
}

/* ---- the int8 form: the float panel is packed as above, then its rows in
 * fours are quantized into words (a second panel, i32), which the kernel
 * reads as unsigned bytes against the i8 filters' words.  Padding packs
 * as 0.0, which quantizes to the zero point: it adds nothing once the
 * epilogue subtracts x_zero_point * sum W. */
typedef struct ConvQuantRows {
  const ConvGemm *v;
  IrValue *src;          /* the float panel, or X itself (a 1x1 window) */
  IrValue *base;         /* element (row 0 of the block, column 0) of src */
  int64_t stride;        /* between rows */
  IrValue *dst, *row0, *taps;
} ConvQuantRows;

static void conv_quant_vector(LwCtx *c, void *user, IrValue *p) {
  const ConvQuantRows *r = user;
  const ConvGemm *v = r->v;
  int lanes = v->s.lanes;
  IrValue *q[4], *zp = lw_splat(c, lw_const_i(c, IR_I32, v->q.zero_point), lanes);
  IrValue *last = lw_bin(c, IR_OP_A_SUB, r->taps, lw_index(c, 1));
  for (int b = 0; b < 4; b++) {
    /* rows past the block's taps (stale, or past X) read its last row and
     * give the zero point; their filter bytes are 0 */
    IrValue *row = lw_bin(c, IR_OP_A_ADD, r->row0, lw_index(c, b));
    IrValue *si = lw_bin(c, IR_OP_A_ADD,
                         gk_axpy(c, r->base, lw_bin(c, IR_OP_A_MIN, row, last), r->stride), p);
    IrValue *x = gk_quantize(c, &v->q, lw_vload(c, r->src, &si, lanes));
    q[b] = lw_select(c, lw_cmp(c, "lt", row, r->taps), x, zp);
  }
  IrValue *di = lw_bin(c, IR_OP_A_ADD, r->dst, p);
  lw_vstore(c, gk_word(c, q), v->qpanel, &di);
}

/* prepare of the int8 form: K block [k0, k0 + kc) in words. */
static void conv_int8_pack(LwCtx *c, void *user, IrValue *jb, int64_t ncols, IrValue *k0,
                           IrValue *kc, IrValue *task) {
  ConvGemm *v = user;
  IrValue *t0 = gk_axpy(c, NULL, k0, 4);
  IrValue *taps = lw_bin(c, IR_OP_A_MIN, gk_axpy(c, NULL, kc, 4),
                         lw_bin(c, IR_OP_A_SUB, lw_index(c, v->K), t0));
  /* a 1x1 window quantizes X's rows as they are; else the im2col panel */
  IrValue *src = v->panel, *base = gk_axpy(c, NULL, task, v->kcp * v->ncp);
  int64_t stride = v->ncp;
  if (src) {
    conv_pack(c, user, jb, ncols, t0, taps, task);
  } else {
    IrValue *ch = gk_axpy(c, gk_axpy(c, t0, v->n, v->C), v->g, v->cg);
    src = v->X, base = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, NULL, ch, v->P), jb), stride = v->P;
  }
  IrValue *kq;
  IrOp *lq = lw_for_begin(c, lw_index(c, 0), kc, 1, &kq);
  if (v->pack_split != PACK_IN_TASK && c->target->threads)
    ir_attr_set_int(c->m, lq, "parallel", 1);
  IrValue *row0 = gk_axpy(c, NULL, kq, 4);
  ConvQuantRows r = {v, src, base, stride,
                     gk_axpy(c, gk_axpy(c, NULL, task, v->kcw * v->ncp), kq, v->ncp), row0, taps};
  /* the panel's rows are whole vectors; X's last row ends where X does */
  int64_t span = v->panel ? (ncols + v->s.lanes - 1) / v->s.lanes * v->s.lanes : ncols;
  lw_vector_span(c, 0, span, v->s.lanes, conv_quant_vector, &r);
  lw_for_end(c, lq);
}

static void conv_int8_b_panel(LwCtx *c, void *user, IrValue *jb, IrValue *j0, int64_t w,
                              IrValue *k0, IrValue *task, GkOperand *b) {
  (void)w, (void)k0;
  ConvGemm *v = user;
  b->buf = v->qpanel;
  b->base = gk_axpy(c, lw_bin(c, IR_OP_A_SUB, j0, jb), task, v->kcw * v->ncp);
  b->rs = 1;
  b->ks = v->ncp;
}

static IrValue *conv_int8_epilogue(LwCtx *c, void *user, IrValue *i, IrValue *j, int lanes,
                                   IrValue *acc) {
  ConvGemm *v = user;
  IrValue *m = gk_axpy(c, i, v->g, v->mg);
  IrValue *y = gk_dequantize(c, acc, lw_splat(c, lw_load(c, v->q.corr, &m), lanes),
                             lw_splat(c, lw_load(c, v->q.scale, &m), lanes));
  return conv_epilogue(c, user, i, j, lanes, y);
}

/* ---- the transposed product, for a narrow output (few pixels, many
 * filters; sched_gemm_transposed):  T[p, m] = sum_k X_col[k, p] * W[m, k]
 * with vectors along the filters (W packed at compile time as B strips),
 * X_col's pixels as the broadcast rows (the panel holds every pixel of a K
 * block, or X itself for a direct 1x1), T in the workspace; then one pass
 * writes Y[m, p] = epilogue(T[p, m]). */
static void conv_a_pixels(LwCtx *c, void *user, IrValue *i0, int rows, IrValue *k0,
                          GkOperand *a) {
  (void)rows;
  ConvGemm *v = user;
  if (v->panel) {
    a->buf = v->panel, a->rs = 1, a->ks = v->ncp;
    a->base = v->panel_all_k ? lw_bin(c, IR_OP_A_ADD, gk_axpy(c, NULL, k0, v->ncp), i0) : i0;
    return;
  }
  IrValue *ch = gk_axpy(c, gk_axpy(c, NULL, v->n, v->C), v->g, v->cg);
  ch = lw_bin(c, IR_OP_A_ADD, ch, k0);
  a->buf = v->X;
  a->base = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, NULL, ch, v->P), i0);
  a->rs = 1, a->ks = v->P;
}

static void conv_b_filters(LwCtx *c, void *user, IrValue *jb, IrValue *j0, int64_t w,
                           IrValue *k0, IrValue *task, GkOperand *b) {
  (void)jb, (void)task;
  ConvGemm *v = user;
  gk_packed_operand(c, v->Wp, v->mg, v->K, v->g, j0, w, k0, b);
}

/* The panel of every pixel for K block k0 (the filters are one block). */
static void conv_pack_pixels(LwCtx *c, void *user, IrValue *jb, int64_t ncols,
                             IrValue *k0, IrValue *kc, IrValue *task) {
  (void)jb, (void)ncols;
  ConvGemm *v = user;
  conv_pack(c, user, lw_index(c, 0), v->P, k0, kc, task);
}

/* Y[m, p] = epilogue(T[p, m]) for the column block's filters: per filter,
 * a row of Y written in order (T, 100 KiB for ResNet's 7x7 layers, stays
 * in L2; in a task, the task's own columns of it, in its core's). */
static void conv_untranspose(LwCtx *c, void *user, IrValue *jb, int64_t ncols,
                             IrValue *task) {
  (void)task;
  ConvGemm *v = user;
  IrValue *T = v->T, *m, *p;
  IrOp *lm = lw_for_begin(c, jb, lw_bin(c, IR_OP_A_ADD, jb, lw_index(c, ncols)), 1, &m);
  if (v->tasks <= 1) ir_attr_set_int(c->m, lm, "parallel", 1);
  IrValue *yrow = gk_axpy(c, NULL, gk_axpy(c, gk_axpy(c, m, v->g, v->mg), v->n, v->Mt), v->P);
  IrOp *lp = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->P), 1, &p);
  IrValue *ti = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, NULL, p, v->mg), m);
  IrValue *y = conv_epilogue(c, v, m, p, 1, lw_load(c, T, &ti));
  IrValue *yi = lw_bin(c, IR_OP_A_ADD, yrow, p);
  lw_store(c, y, v->Y, &yi);
  lw_for_end(c, lp);
  lw_for_end(c, lm);
}

/* The packed weights' bytes, which a tile prefetches as it streams them. */
static int64_t conv_weight_bytes(const ConvCtx *cv) {
  return cv->y[1] * cv->cg * cv->w.k[0] * cv->w.k[1] * (int64_t)sizeof(float);
}

static void conv_gemm_transposed(LwCtx *c, const ConvCtx *cv, ConvGemm *v,
                                 int64_t groups) {
  sched_gemm(c->target, c->sched, v->P, v->mg, v->K, SCHED_A_PACKED, conv_weight_bytes(cv),
             &v->s);
  ConvPackW pw = {.w = gk_weight_f32(cv->W), .mg = v->mg, .K = v->K};
  v->Wp = gk_pack(c, cv->W, groups, v->mg, v->K, (int64_t)v->s.nv * v->s.lanes, conv_w_get,
                  &pw);
  int64_t tdims[1] = {v->P * v->mg};
  v->T = lw_alloc(c, IR_F32, 1, tdims);
  bool direct = !conv_window_packs(&cv->w);
  /* Where threads run and X needs packing, it is packed whole first (every
   * K block: one parallel loop, not two per K block) into a panel all
   * tasks read, and the filters split into tasks, each of which streams
   * its own filters' weights and moves its own columns of T into Y: at 2
   * threads ResNet-18's 3x3 512x7x7 layer 1.02 -> 0.83 ms.  Packing it in
   * each task instead cost that layer 10%; read in place (a 1x1), tasks
   * made MobileNetV2's 14x14 and 7x7 layers 8% slower at 1 thread and no
   * faster at 2, so those keep the strips as the parallel loop. */
  v->panel_all_k = !direct && c->target->threads &&
                   v->K * v->P * (int64_t)sizeof(float) <= c->target->l2_bytes;
  int64_t nr = (int64_t)v->s.nv * v->s.lanes, strips = (v->mg + nr - 1) / nr, per = strips;
  if (v->panel_all_k)
    sched_column_split(c->target, c->sched, strips, nr, v->mg, strips, &per, &v->tasks);
  v->pack_split = PACK_BY_CHANNELS;
  GkGemm g = {.M = v->P, .N = v->mg, .K = v->K, .s = v->s, .nc = per * nr,
              .tasks = v->tasks, .user = v, .a_tile = conv_a_pixels,
              .b_strip = conv_b_filters, .finish = conv_untranspose, .c_buf = v->T,
              .c_base = lw_index(c, 0), .c_rs = v->mg};
  if (v->panel_all_k) {
    v->kcp = v->K;
    v->ncp = v->P;
    int64_t dims[1] = {v->K * v->P};
    v->panel = lw_alloc(c, IR_F32, 1, dims);
  } else if (!direct) {
    int64_t kk = v->kh * v->kw, chans = v->s.kc / kk;
    if (chans < 1) chans = 1;
    if (chans > v->cg) chans = v->cg;
    g.s.kc = chans * kk;
    v->kcp = g.s.kc;
    v->ncp = v->P;
    int64_t dims[1] = {g.s.kc * v->ncp};
    v->panel = lw_alloc(c, IR_F32, 1, dims);
    g.prepare = conv_pack_pixels;
  }
  IrOp *ln = lw_for_begin(c, lw_index(c, 0), lw_index(c, cv->y[0]), 1, &v->n);
  IrOp *lg = lw_for_begin(c, lw_index(c, 0), lw_index(c, groups), 1, &v->g);
  if (v->panel_all_k)
    conv_pack(c, v, lw_index(c, 0), v->P, lw_index(c, 0), lw_index(c, v->K), lw_index(c, 0));
  gk_emit(c, &g);
  lw_for_end(c, lg);
  lw_for_end(c, ln);
}

/* Whether the packed kernel takes this convolution: f32, 2-D, weights
 * known at compile time, and enough filters per group to fill a tile. */
static bool conv_gemm_fits(const LwCtx *c, const ConvCtx *v, int r) {
  return c->target && r == 4 && lw_elem(v->Y) == IR_F32 && v->mg >= 4 &&
         gk_weight_f32(v->W);
}

bool conv_packs_input(const IrOp *op) {
  int64_t x[IR_MAX_RANK];
  NnWindow w;
  const IrValue *W = op->operands[1];
  int r = conv_x_dims(op, op->operands[0], x);
  int64_t group = ir_attr_int(op, "group", 1);
  return r == 4 && op->results[0]->type.elem == IR_F32 && gk_weight_f32(W) && group >= 1 &&
         ir_type_dim(&W->type, 0) / group >= 4 && nn_window_get(op, 2, x + 2, false, &w) &&
         conv_window_packs(&w);
}

static void conv_gemm_lower(LwCtx *c, const IrOp *op, const ConvCtx *cv) {
  const NnWindow *w = &cv->w;
  ConvGemm v = {.B = cv->B, .op = op, .Mt = cv->y[1], .C = cv->C, .H = w->in[0], .Wd = w->in[1],
                .OH = w->out[0], .OW = w->out[1], .kh = w->k[0], .kw = w->k[1],
                .sh = w->s[0], .sw = w->s[1], .dh = w->d[0], .dw = w->d[1],
                .pt = w->pb[0], .pl = w->pb[1], .cg = cv->cg, .mg = cv->mg};
  int64_t groups = cv->y[1] / v.mg;
  v.K = v.cg * v.kh * v.kw;
  v.P = v.OH * v.OW;
  v.X = gk_flat(c, cv->X);
  v.Y = gk_flat(c, c->out[0]);
  if (op->num_operands > 3 && c->in[3]) v.R = gk_flat(c, c->in[3]);
  v.ps = 1;
  if (conv_pre(op) && cv->X == c->in[0]) { /* the raw image (else converted already) */
    v.pre_a = c->in[4], v.pre_b = c->in[5];
    if (pre_is_nhwc(ir_attr_string(op, "pre_layout", NULL))) v.ps = v.C;
  }
  v.int8 = conv_int8(op);
  if (!v.int8 && sched_gemm_transposed(c->target, c->sched, v.mg, v.P, v.K, SCHED_A_PACKED,
                                       conv_weight_bytes(cv))) {
    conv_gemm_transposed(c, cv, &v, groups);
    return;
  }
  /* the int8 form counts K in words of four */
  int64_t K4 = (v.K + 3) / 4, Kg = v.int8 ? K4 : v.K;
  sched_gemm(c->target, c->sched, v.mg, v.P, Kg, SCHED_A_PACKED,
             v.int8 ? cv->y[1] * K4 * 4 : conv_weight_bytes(cv), &v.s);
  ConvPackW pw = {gk_weight_f32(cv->W), NULL, v.mg, v.K};
  if (v.int8) {
    pw.q = cv->W->weight->data;
    gk_quant_channels(c, op, op->operands[6], cv->y[1], v.K, conv_qw_filter, &pw, &v.q);
    v.Wp = gk_pack_words(c, cv->W, groups, v.mg, v.K, v.s.mr, conv_qw_get, &pw);
  } else {
    v.Wp = gk_pack(c, cv->W, groups, v.mg, v.K, v.s.mr, conv_w_get, &pw);
  }
  /* X is the operand itself when it is X_col and its rows are aligned */
  bool direct = !v.int8 && v.P % v.s.lanes == 0 && !conv_window_packs(w);
  GkGemm g = {.M = v.mg, .N = v.P, .K = Kg, .s = v.s, .user = &v,
              .a_tile = conv_a_tile, .b_strip = conv_b_direct, .c_buf = v.Y,
              .c_rs = v.P, .epilogue = v.int8 ? conv_int8_epilogue : conv_epilogue,
              .int8 = v.int8, .b_unsigned = true};
  int64_t nr = (int64_t)v.s.nv * v.s.lanes, per;
  if (direct) { /* column blocks of whole strips */
    sched_column_split(c->target, c->sched, (v.P + nr - 1) / nr, nr, v.P, v.s.nc / nr, &per,
                       &v.tasks);
    g.nc = per * nr;
  } else {
    /* K blocks of whole channels, column blocks of whole output rows; in
     * the int8 form a block but the last holds whole words too */
    int64_t kk = v.kh * v.kw, chans = v.s.kc * (v.int8 ? 4 : 1) / kk;
    int64_t unit = v.int8 ? 4 / (kk % 4 == 0 ? 4 : kk % 2 == 0 ? 2 : 1) : 1;
    chans = chans / unit * unit;
    if (chans < unit) chans = unit;
    if (chans > v.cg) chans = v.cg;
    int64_t taps = chans * kk;
    g.s.kc = v.int8 ? (taps + 3) / 4 : taps;
    sched_column_split(c->target, c->sched, v.OH, v.OW, v.P, v.s.nc / v.OW, &per, &v.tasks);
    g.nc = per * v.OW;
    /* panel rows start on a vector boundary: aligned loads */
    v.ncp = (g.nc + v.s.lanes - 1) / v.s.lanes * v.s.lanes;
    v.kcp = v.int8 ? g.s.kc * 4 : taps; /* whole words of rows */
    int64_t dims[1] = {v.tasks * v.kcp * v.ncp};
    /* the int8 form quantizes a 1x1 window's X as it is: no float panel */
    if (!v.int8 || conv_window_packs(w)) v.panel = lw_alloc(c, IR_F32, 1, dims);
    v.pack_split = v.tasks > 1            ? PACK_IN_TASK
                   : c->target->threads ? PACK_BY_ROWS
                                        : PACK_BY_CHANNELS;
    g.b_strip = conv_b_panel;
    g.prepare = conv_pack;
    if (v.int8) {
      v.kcw = g.s.kc;
      int64_t qdims[1] = {v.tasks * v.kcw * v.ncp};
      v.qpanel = lw_alloc(c, IR_I32, 1, qdims);
      g.b_strip = conv_int8_b_panel;
      g.prepare = conv_int8_pack;
    }
  }
  g.tasks = v.tasks;
  IrOp *ln = lw_for_begin(c, lw_index(c, 0), lw_index(c, cv->y[0]), 1, &v.n);
  IrOp *lg = lw_for_begin(c, lw_index(c, 0), lw_index(c, groups), 1, &v.g);
  g.c_base = gk_axpy(c, gk_axpy(c, NULL, v.n, cv->y[1] * v.P), v.g, v.mg * v.P);
  gk_emit(c, &g);
  lw_for_end(c, lg);
  lw_for_end(c, ln);
}

/* ------------------------------------------- depthwise (one input channel
 * per filter): per filter and output row, one pass over the row with the
 * kernel's kh*kw taps unrolled, weights and bias loop-invariant.  Padding
 * never materializes: the rows and columns whose every tap lies inside X (a
 * compile-time range) run as vectors of output columns (each tap one load,
 * strided by the convolution's stride: LLVM did not vectorize stride 2),
 * the last one masked; the borders, one point at a time, clamp and select. */
typedef struct ConvDw {
  const ConvCtx *cv;
  const IrOp *op;
  IrValue *X, *Y, *R, *m, *ci;  /* X, Y, R flat; filter; its input channel */
  IrValue *w[64], *bias;        /* the filter's taps, loaded once */
  int row_lanes;                /* > 0: the epilogue runs per row, in vectors */
  int lanes;                    /* the target's f32 lanes (1: points only) */
  /* interior output rows computed together: an input row loaded once
   * serves every output row of the block whose window holds it */
  int rows;
} ConvDw;

/* One output element at (oh, ow); `checked`: taps may fall in the padding. */
static void conv_dw_point(LwCtx *c, const ConvDw *d, IrValue *oh, IrValue *ow,
                          bool checked) {
  const NnWindow *w = &d->cv->w;
  int64_t H = w->in[0], W = w->in[1];
  IrValue *acc = d->bias, *zero = lw_const_f(c, IR_F32, 0);
  IrValue *plane = gk_axpy(c, NULL, d->ci, H * W);
  for (int64_t i = 0; i < w->k[0]; i++) {
    IrValue *ih = gk_axpy(c, lw_index(c, i * w->d[0] - w->pb[0]), oh, w->s[0]);
    IrValue *row_ok = NULL;
    if (checked) {
      row_ok = lw_bin(c, IR_OP_A_AND, lw_cmp(c, "ge", ih, lw_index(c, 0)),
                      lw_cmp(c, "lt", ih, lw_index(c, H)));
      ih = lw_bin(c, IR_OP_A_MIN, lw_bin(c, IR_OP_A_MAX, ih, lw_index(c, 0)),
                  lw_index(c, H - 1));
    }
    IrValue *row = gk_axpy(c, plane, ih, W);
    for (int64_t j = 0; j < w->k[1]; j++) {
      IrValue *iw = gk_axpy(c, lw_index(c, j * w->d[1] - w->pb[1]), ow, w->s[1]);
      IrValue *ok = row_ok;
      if (checked) {
        IrValue *col_ok = lw_bin(c, IR_OP_A_AND, lw_cmp(c, "ge", iw, lw_index(c, 0)),
                                 lw_cmp(c, "lt", iw, lw_index(c, W)));
        ok = lw_bin(c, IR_OP_A_AND, ok, col_ok);
        iw = lw_bin(c, IR_OP_A_MIN, lw_bin(c, IR_OP_A_MAX, iw, lw_index(c, 0)),
                    lw_index(c, W - 1));
      }
      IrValue *xi = lw_bin(c, IR_OP_A_ADD, row, iw);
      IrValue *x = lw_load(c, d->X, &xi);
      if (checked) x = lw_select(c, ok, x, zero);
      acc = lw_fma(c, d->w[i * w->k[1] + j], x, acc);
    }
  }
  IrValue *plane_y = gk_axpy(c, NULL, d->m, w->out[0] * w->out[1]);
  IrValue *yi = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, plane_y, oh, w->out[1]), ow);
  lw_store(c, d->row_lanes ? acc : gk_fused_tail(c, d->op, d->R, yi, 1, acc), d->Y, &yi);
}

/* Output row oh + b. */
static IrValue *conv_dw_row_at(LwCtx *c, IrValue *oh, int b) {
  return b ? lw_bin(c, IR_OP_A_ADD, oh, lw_index(c, b)) : oh;
}

/* A depthwise row's vector body: the layer and the output row. */
typedef struct ConvDwRow {
  const ConvDw *d;
  IrValue *oh, *row; /* row: Y's flat index of (m, oh, 0) */
  int rows;          /* conv_dw_vector: output rows from oh */
} ConvDwRow;

static void conv_dw_epilogue_vector(LwCtx *c, void *user, IrValue *j) {
  const ConvDwRow *r = user;
  int lanes = r->d->row_lanes;
  IrValue *yi = lw_bin(c, IR_OP_A_ADD, r->row, j);
  IrValue *y = gk_fused_tail(c, r->d->op, r->d->R, yi, lanes,
                             lw_vload(c, r->d->Y, &yi, lanes));
  lw_vstore(c, y, r->d->Y, &yi);
}

/* The epilogue over output row oh, just written and still in L1, in
 * vectors (the last one masked): inline in the point loop, an activation
 * with exp (sigmoid, swish) keeps LLVM from vectorizing that loop. */
static void conv_dw_row_epilogue(LwCtx *c, const ConvDw *d, IrValue *oh) {
  const NnWindow *w = &d->cv->w;
  int64_t OW = w->out[1];
  IrValue *plane_y = gk_axpy(c, NULL, d->m, w->out[0] * OW);
  ConvDwRow r = {d, oh, gk_axpy(c, plane_y, oh, OW), 1};
  lw_vector_span(c, 0, OW, d->row_lanes, conv_dw_epilogue_vector, &r);
}

/* The tap row of output row b (of a block) that input row `at` (from the
 * block's first window's top) meets, or -1. */
static int64_t conv_dw_tap_row(const NnWindow *w, int64_t at, int b) {
  int64_t off = at - b * w->s[0];
  return off >= 0 && off % w->d[0] == 0 && off / w->d[0] < w->k[0] ? off / w->d[0] : -1;
}

/* `lanes` output elements of each of the rows oh .. oh + rows - 1 from
 * column ow0 (c->valid_lanes of them at the row's end), every tap inside
 * X: per input row and tap column one vector load, strided by the
 * convolution's stride, and an FMA for each output row whose window holds
 * that input row.  Each output sums its taps in the order of one row's
 * window, whatever the block: the same bits for every block size. */
static void conv_dw_vector(LwCtx *c, void *user, IrValue *ow0) {
  const ConvDwRow *r = user;
  const ConvDw *d = r->d;
  const NnWindow *w = &d->cv->w;
  int64_t H = w->in[0], W = w->in[1];
  int lanes = d->lanes, rows = r->rows;
  IrValue *acc[SCHED_DW_MAX_ROWS];
  for (int b = 0; b < rows; b++) acc[b] = lw_splat(c, d->bias, lanes);
  IrValue *plane = gk_axpy(c, NULL, d->ci, H * W);
  /* input rows from the first window's top, relative to it */
  int64_t span = (rows - 1) * w->s[0] + (w->k[0] - 1) * w->d[0];
  for (int64_t at = 0; at <= span; at++) {
    bool used = false;
    for (int b = 0; b < rows; b++) used |= conv_dw_tap_row(w, at, b) >= 0;
    if (!used) continue; /* a row between dilated taps */
    IrValue *ih = gk_axpy(c, lw_index(c, at - w->pb[0]), r->oh, w->s[0]);
    IrValue *row = gk_axpy(c, plane, ih, W);
    for (int64_t j = 0; j < w->k[1]; j++) {
      IrValue *x = NULL;
      for (int b = 0; b < rows; b++) {
        int64_t i = conv_dw_tap_row(w, at, b);
        if (i < 0) continue;
        if (!x) {
          IrValue *iw = gk_axpy(c, lw_index(c, j * w->d[1] - w->pb[1]), ow0, w->s[1]);
          IrValue *xi = lw_bin(c, IR_OP_A_ADD, row, iw);
          x = lw_vload_strided(c, d->X, &xi, lanes, w->s[1]);
        }
        IrValue *tap = d->w[i * w->k[1] + j];
        acc[b] = lw_fma(c, lw_splat(c, tap, lanes), x, acc[b]);
      }
    }
  }
  IrValue *plane_y = gk_axpy(c, NULL, d->m, w->out[0] * w->out[1]);
  for (int b = 0; b < rows; b++) {
    IrValue *oh = conv_dw_row_at(c, r->oh, b);
    IrValue *yi = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, plane_y, oh, w->out[1]), ow0);
    IrValue *y = d->row_lanes ? acc[b] : gk_fused_tail(c, d->op, d->R, yi, lanes, acc[b]);
    lw_vstore(c, y, d->Y, &yi);
  }
}

/* The output rows (dim 0), or the columns of the `rows` rows from oh (dim
 * 1), in three spans: before, inside and after the positions whose taps
 * all lie inside X; a point is checked unless it is inside in both dims.
 * The inside rows go d->rows at a time where the columns run as vectors. */
static void conv_dw_span(LwCtx *c, const ConvDw *d, int dim, IrValue *oh, int rows,
                         bool inside) {
  const NnWindow *w = &d->cv->w;
  int64_t lo, hi;
  nn_window_interior(w, dim, &lo, &hi);
  if (!inside) lo = hi = w->out[dim];
  int64_t bounds[4] = {0, lo, hi, w->out[dim]};
  for (int part = 0; part < 3; part++) {
    if (bounds[part] >= bounds[part + 1]) continue;
    if (dim == 1 && part == 1 && d->lanes > 1) {
      ConvDwRow row = {d, oh, NULL, rows};
      lw_vector_span(c, lo, hi, d->lanes, conv_dw_vector, &row);
      continue;
    }
    /* whole blocks of rows, then the rest one at a time */
    int block = dim == 0 && part == 1 && d->lanes > 1 ? d->rows : 1;
    int64_t from = bounds[part];
    int64_t ends[2] = {from + (bounds[part + 1] - from) / block * block, bounds[part + 1]};
    for (int k = 0; k < 2; from = ends[k], k++) {
      int step = k == 0 ? block : 1;
      if (ends[k] <= from) continue;
      IrValue *iv;
      IrOp *l = lw_for_begin(c, lw_index(c, from), lw_index(c, ends[k]), step, &iv);
      if (dim == 0) {
        conv_dw_span(c, d, 1, iv, step, part == 1);
        for (int b = 0; b < step && d->row_lanes; b++)
          conv_dw_row_epilogue(c, d, conv_dw_row_at(c, iv, b));
      } else {
        for (int b = 0; b < rows; b++)
          conv_dw_point(c, d, conv_dw_row_at(c, oh, b), iv, part != 1);
      }
      lw_for_end(c, l);
    }
  }
}

/* (conv_winograd.h) Rows and columns in three spans each, zeros around
 * the copy, no per-element test. */
void conv_pad_planes(LwCtx *c, IrValue *X4, const NnWindow *w, IrValue *P, IrValue *n,
                     int64_t Hp, int64_t Wp, int64_t cs, int64_t ps) {
  int64_t H = w->in[0], W = w->in[1], C = lw_dim(X4, 1);
  IrValue *X = gk_flat(c, X4), *ch, *r, *q, *zero = lw_const_f(c, IR_F32, 0);
  IrOp *lc = lw_for_begin(c, lw_index(c, 0), lw_index(c, C), 1, &ch);
  ir_attr_set_int(c->m, lc, "parallel", 1);
  IrValue *prow0 = gk_axpy(c, NULL, ch, cs);
  IrValue *xplane = gk_axpy(c, gk_axpy(c, NULL, n, C * H * W), ch, H * W);
  int64_t rows[4] = {0, w->pb[0], w->pb[0] + H, Hp}, cols[4] = {0, w->pb[1], w->pb[1] + W, Wp};
  for (int rp = 0; rp < 3; rp++) {
    if (rows[rp] >= rows[rp + 1]) continue;
    IrOp *lr = lw_for_begin(c, lw_index(c, rows[rp]), lw_index(c, rows[rp + 1]), 1, &r);
    IrValue *prow = gk_axpy(c, prow0, r, Wp * ps);
    for (int cp = 0; cp < 3; cp++) {
      if (cols[cp] >= cols[cp + 1]) continue;
      IrOp *lq = lw_for_begin(c, lw_index(c, cols[cp]), lw_index(c, cols[cp + 1]), 1, &q);
      IrValue *v = zero;
      if (rp == 1 && cp == 1) {
        IrValue *xi = lw_bin(c, IR_OP_A_ADD,
                             gk_axpy(c, gk_axpy(c, xplane, r, W), lw_index(c, 1), -w->pb[0] * W),
                             lw_bin(c, IR_OP_A_SUB, q, lw_index(c, w->pb[1])));
        v = lw_load(c, X, &xi);
      }
      IrValue *pi = gk_axpy(c, prow, q, ps);
      lw_store(c, v, P, &pi);
      lw_for_end(c, lq);
    }
    lw_for_end(c, lr);
  }
  lw_for_end(c, lc);
}

/* ---- depthwise with vectors along the channels, for small maps: a row of
 * 7 or 14 outputs fills a 16-lane vector badly, and each output is a chain
 * of kh*kw dependent FMAs; across channels every vector is full and
 * neighbouring outputs are independent.  Per image: X with its padding is
 * copied channels last into P[Hp][Wp][Cp] (Cp: C rounded up to the
 * lanes), each block of `lanes` channels (the last masked) accumulates
 * T[p][Cp] = bias + the taps, packed at compile time as [channel
 * block][tap][lane], and one pass writes Y[ch][p] from T.  The epilogue
 * runs in the vectors (no residual: it would run point by point). */
typedef struct ConvDwLast {
  const ConvCtx *cv;
  const IrOp *op;
  IrValue *P, *T, *Wk, *Y;
  int64_t C, Cp, Wpad;
  int lanes;
  int cols; /* output columns handled together: independent FMA chains */
} ConvDwLast;

/* The outputs [ow0, ow0 + cols) of row oh for the channel block at c0 whose
 * taps are wv. */
static void conv_dw_last_outputs(LwCtx *c, const ConvDwLast *d, IrValue *const *wv,
                                 IrValue *bias, IrValue *c0, IrValue *oh, IrValue *ow0,
                                 int cols) {
  const NnWindow *w = &d->cv->w;
  IrValue *acc[SCHED_DW_MAX_COLS];
  for (int q = 0; q < cols; q++) acc[q] = bias;
  /* P's position (oh*s0, ow0*s1), the window's corner */
  IrValue *corner = gk_axpy(c, gk_axpy(c, NULL, oh, w->s[0] * d->Wpad), ow0, w->s[1]);
  IrValue *base = gk_axpy(c, c0, corner, d->Cp);
  for (int64_t i = 0; i < w->k[0]; i++)
    for (int64_t j = 0; j < w->k[1]; j++)
      for (int q = 0; q < cols; q++) {
        int64_t at = ((i * w->d[0]) * d->Wpad + j * w->d[1] + q * w->s[1]) * d->Cp;
        IrValue *xi = lw_bin(c, IR_OP_A_ADD, base, lw_index(c, at));
        acc[q] = lw_fma(c, wv[i * w->k[1] + j], lw_vload(c, d->P, &xi, d->lanes), acc[q]);
      }
  IrValue *trow = gk_axpy(c, ow0, oh, w->out[1]);
  for (int q = 0; q < cols; q++) {
    IrValue *ti = gk_axpy(c, c0, lw_bin(c, IR_OP_A_ADD, trow, lw_index(c, q)), d->Cp);
    lw_vstore(c, gk_fused_tail(c, d->op, NULL, NULL, d->lanes, acc[q]), d->T, &ti);
  }
}

/* The channel block cb: `width` channels from cb * lanes. */
static void conv_dw_last_block(LwCtx *c, const ConvDwLast *d, IrValue *cb, int width) {
  const NnWindow *w = &d->cv->w;
  int64_t taps = w->k[0] * w->k[1], OW = w->out[1];
  c->valid_lanes = width < d->lanes ? width : 0;
  IrValue *c0 = gk_axpy(c, NULL, cb, d->lanes), *wv[64];
  /* the block's packed taps: tap t at c0 * taps + t * width */
  IrValue *wbase = gk_axpy(c, NULL, c0, taps);
  for (int64_t t = 0; t < taps; t++) {
    wv[t] = gk_load(c, d->Wk, lw_bin(c, IR_OP_A_ADD, wbase, lw_index(c, t * width)), d->lanes);
  }
  IrValue *bias = d->cv->B ? lw_vload(c, gk_flat(c, d->cv->B), &c0, d->lanes)
                           : lw_splat(c, lw_const_f(c, IR_F32, 0), d->lanes);
  IrValue *oh, *ow;
  IrOp *lh = lw_for_begin(c, lw_index(c, 0), lw_index(c, w->out[0]), 1, &oh);
  int64_t full = OW / d->cols * d->cols;
  if (full > 0) {
    IrOp *lo = lw_for_begin(c, lw_index(c, 0), lw_index(c, full), d->cols, &ow);
    conv_dw_last_outputs(c, d, wv, bias, c0, oh, ow, d->cols);
    lw_for_end(c, lo);
  }
  if (OW > full)
    conv_dw_last_outputs(c, d, wv, bias, c0, oh, lw_index(c, full), (int)(OW - full));
  lw_for_end(c, lh);
  c->valid_lanes = 0;
}

/* Y[n, ch, p] = T[p, ch]. */
static void conv_dw_last_unpack(LwCtx *c, const ConvDwLast *d, IrValue *n) {
  int64_t P = d->cv->w.out[0] * d->cv->w.out[1];
  IrValue *ch, *p;
  IrOp *lc = lw_for_begin(c, lw_index(c, 0), lw_index(c, d->C), 1, &ch);
  ir_attr_set_int(c->m, lc, "parallel", 1);
  IrValue *yrow = gk_axpy(c, NULL, gk_axpy(c, ch, n, d->C), P);
  IrOp *lp = lw_for_begin(c, lw_index(c, 0), lw_index(c, P), 1, &p);
  IrValue *ti = gk_axpy(c, ch, p, d->Cp), *yi = lw_bin(c, IR_OP_A_ADD, yrow, p);
  lw_store(c, lw_load(c, d->T, &ti), d->Y, &yi);
  lw_for_end(c, lp);
  lw_for_end(c, lc);
}

static void conv_depthwise_last_lower(LwCtx *c, const IrOp *op, const ConvCtx *cv,
                                      int lanes, int cols) {
  const NnWindow *w = &cv->w;
  int64_t C = lw_dim(cv->X, 1), taps = w->k[0] * w->k[1];
  int64_t Hp = w->in[0] + w->pb[0] + w->pe[0];
  ConvDwLast d = {.cv = cv, .op = op, .Y = gk_flat(c, c->out[0]), .C = C,
                  .Cp = (C + lanes - 1) / lanes * lanes,
                  .Wpad = w->in[1] + w->pb[1] + w->pe[1], .lanes = lanes, .cols = cols};
  lw_note_kernel(c, "depthwise %lldx%lld, channels last, %d lanes", (long long)w->k[0],
                 (long long)w->k[1], lanes);
  ConvPackW pw = {.w = gk_weight_f32(cv->W), .mg = C, .K = taps};
  d.Wk = gk_pack(c, cv->W, 1, C, taps, lanes, conv_w_get, &pw);
  int64_t pd[1] = {Hp * d.Wpad * d.Cp}, td[1] = {w->out[0] * w->out[1] * d.Cp};
  d.P = lw_alloc(c, IR_F32, 1, pd);
  d.T = lw_alloc(c, IR_F32, 1, td);
  IrValue *n, *cb;
  IrOp *ln = lw_for_begin(c, lw_index(c, 0), lw_index(c, cv->y[0]), 1, &n);
  conv_pad_planes(c, cv->X, &cv->w, d.P, n, Hp, d.Wpad, 1, d.Cp);
  int64_t blocks = C / lanes;
  if (blocks > 0) {
    IrOp *lb = lw_for_begin(c, lw_index(c, 0), lw_index(c, blocks), 1, &cb);
    ir_attr_set_int(c->m, lb, "parallel", 1);
    conv_dw_last_block(c, &d, cb, lanes);
    lw_for_end(c, lb);
  }
  if (C > blocks * lanes) conv_dw_last_block(c, &d, lw_index(c, blocks), (int)(C - blocks * lanes));
  conv_dw_last_unpack(c, &d, n);
  lw_for_end(c, ln);
}

/* Whether vectors along the channels (conv_depthwise_last_lower) cost less
 * than vectors along the rows, per channel, in cycles fitted to this
 * machine class's measurements (docs/performance.md): the channels-last
 * copies cost about 1.5 an element in and out, its taps one FMA per `lanes`
 * outputs, an exp-based activation 3 an element in full vectors; the rows
 * run one (masked) vector per `lanes` columns at taps + 8 each, the padded
 * copy 1 an element, and an exp-based activation about 45 a row vector,
 * latency the short rows cannot hide.  So it pays for maps of a few
 * columns: 7x7 with 5x5 taps, or with SiLU. */
static bool conv_depthwise_last_pays(const ConvCtx *cv, const IrOp *op, int lanes) {
  const NnWindow *w = &cv->w;
  const char *act = ir_attr_string(op, "act", NULL);
  int kind = act ? ir_op_by_name(act, strlen(act)) : IR_OP_COUNT;
  bool exp_act = act && kind != IR_OP_RELU && kind != IR_OP_CLIP && kind != IR_OP_LEAKY_RELU &&
                 kind != IR_OP_HARD_SIGMOID && kind != IR_OP_HARD_SWISH;
  double taps = (double)(w->k[0] * w->k[1]), P = (double)(w->out[0] * w->out[1]);
  double padded = (double)((w->in[0] + w->pb[0] + w->pe[0]) * (w->in[1] + w->pb[1] + w->pe[1]));
  double rows = (double)(w->out[0] * ((w->out[1] + lanes - 1) / lanes));
  double last = 1.5 * (padded + P) + P * taps / lanes + (exp_act ? 48.0 * P / lanes : 0.0);
  double by_rows = padded + rows * (taps + 8.0) + (exp_act ? 45.0 * rows : 0.0);
  return last < by_rows;
}

static void conv_depthwise_lower(LwCtx *c, const IrOp *op, const ConvCtx *cv) {
  const NnWindow *w = &cv->w;
  int lanes = c->target->vec_bits / 32;
  bool residual = op->num_operands > 3 && c->in[3];
  int dlanes = lanes > 1 && w->s[1] <= 4 ? lanes : 1; /* a strided load spans s*lanes */
  /* Windows that reach into the padding run one point at a time, each tap
   * clamped and selected: about 2 operations a tap against 1/lanes in a
   * vector.  A padded copy of the input (a load and a store per element,
   * per input channel, from memory: counted as 4) makes every window
   * inside, all in vectors; take it
   * when that costs less (a 7x7 map with a 5x5 kernel has 9 of 49 windows
   * inside; even 112x112 with 3x3 spends as much on its 444 border points
   * as on the rest). */
  int64_t rlo, rhi, clo, chi;
  nn_window_interior(w, 0, &rlo, &rhi);
  nn_window_interior(w, 1, &clo, &chi);
  int64_t taps = w->k[0] * w->k[1], M = cv->y[1], C = lw_dim(cv->X, 1);
  double points = (double)(w->out[0] * w->out[1]), inside = (double)((rhi - rlo) * (chi - clo));
  double per_tap = (double)taps / dlanes;
  double as_is = inside * per_tap + (points - inside) * (double)taps * 2.0;
  double pad_copy = (double)((w->in[0] + w->pb[0] + w->pe[0]) * (w->in[1] + w->pb[1] + w->pe[1])) *
                    4.0 / dlanes / (double)cv->mg;
  bool can_pad = dlanes > 1 && inside < points;
  bool can_last = lanes > 1 && cv->mg == 1 && gk_weight_f32(cv->W) && !residual;
  int model = can_last && conv_depthwise_last_pays(cv, op, lanes) ? SCHED_DW_CHANNELS_LAST
              : can_pad && pad_copy + points * per_tap < as_is ? SCHED_DW_ROWS_PADDED
                                                              : SCHED_DW_ROWS;
  unsigned variants = 1u << SCHED_DW_ROWS | (can_pad ? 1u << SCHED_DW_ROWS_PADDED : 0) |
                      (can_last ? 1u << SCHED_DW_CHANNELS_LAST : 0);
  SchedDepthwise dw = sched_depthwise(c->target, c->sched, variants, model);
  if (dw.variant == SCHED_DW_CHANNELS_LAST) {
    conv_depthwise_last_lower(c, op, cv, lanes, dw.block);
    return;
  }
  bool padded = dw.variant == SCHED_DW_ROWS_PADDED;
  ConvDw d = {.cv = cv, .op = op, .X = gk_flat(c, cv->X), .Y = gk_flat(c, c->out[0]),
              .lanes = dlanes, .rows = dw.block};
  if (residual) d.R = gk_flat(c, c->in[3]);
  if (lanes > 1 && (d.R || ir_attr_string(op, "act", NULL))) d.row_lanes = lanes;
  lw_note_kernel(c, "depthwise %lldx%lld, %d lanes", (long long)w->k[0], (long long)w->k[1],
                 d.lanes);
  IrValue *W = gk_flat(c, cv->W), *n;
  ConvCtx pcv = *cv;
  IrValue *P = NULL;
  if (padded) {
    /* every window inside: the epilogue runs on each vector before its store
     * (a masked store read back at once does not forward, which stalled each row) */
    if (w->out[1] <= d.lanes) d.row_lanes = 0;
    pcv.w.in[0] = w->in[0] + w->pb[0] + w->pe[0];
    pcv.w.in[1] = w->in[1] + w->pb[1] + w->pe[1];
    pcv.w.pb[0] = pcv.w.pb[1] = pcv.w.pe[0] = pcv.w.pe[1] = 0;
    int64_t pd[1] = {C * pcv.w.in[0] * pcv.w.in[1]};
    P = lw_alloc(c, IR_F32, 1, pd);
    d.cv = &pcv;
    d.X = P;
  }
  IrOp *ln = lw_for_begin(c, lw_index(c, 0), lw_index(c, cv->y[0]), 1, &n);
  if (padded)
    conv_pad_planes(c, cv->X, &cv->w, P, n, pcv.w.in[0], pcv.w.in[1],
                    pcv.w.in[0] * pcv.w.in[1], 1);
  IrValue *f;
  IrOp *lf = lw_for_begin(c, lw_index(c, 0), lw_index(c, M), 1, &f);
  ir_attr_set_int(c->m, lf, "parallel", 1);
  /* filter f of image n: output plane n*M + f, input plane n*C + f / mg
   * (f / mg of the padded copy, which holds image n only) */
  d.m = gk_axpy(c, f, n, M);
  d.ci = gk_axpy(c, lw_bin(c, IR_OP_A_DIV, f, lw_index(c, cv->mg)), padded ? NULL : n, C);
  for (int64_t t = 0; t < taps && t < 64; t++) {
    IrValue *wi = gk_axpy(c, lw_index(c, t), f, taps);
    d.w[t] = lw_load(c, W, &wi);
  }
  d.bias = cv->B ? lw_load(c, cv->B, &f) : lw_const_f(c, IR_F32, 0);
  conv_dw_span(c, &d, 0, NULL, 1, true);
  lw_for_end(c, lf);
  lw_for_end(c, ln);
}

/* fused_conv without the kernel: its epilogue as a loop over Y (f32). */
static void conv_plain_epilogue(LwCtx *c, const IrOp *op, int r, const int64_t *dims) {
  IrValue *Y = gk_flat(c, c->out[0]);
  IrValue *R = op->num_operands > 3 && c->in[3] ? gk_flat(c, c->in[3]) : NULL;
  IrValue *i;
  IrOp *l = lw_for_begin(c, lw_index(c, 0), lw_index(c, nn_numel(dims, r)), 1, &i);
  IrValue *y = gk_fused_tail(c, op, R, i, 1, lw_load(c, Y, &i));
  lw_store(c, y, Y, &i);
  lw_for_end(c, l);
}

/* -O0, the int8 form: each output from its i32 sum over the taps, one at
 * a time, padding quantized like the packed panel's zeros; the same
 * epilogue as the kernel's. */
static void conv_int8_plain(LwCtx *c, const IrOp *op, const ConvCtx *cv) {
  const NnWindow *w = &cv->w;
  int64_t kk = w->k[0] * w->k[1], K = cv->cg * kk, H = w->in[0], Wd = w->in[1];
  ConvPackW pw = {.q = cv->W->weight->data, .mg = cv->y[1], .K = K};
  ConvGemm v = {.op = op, .B = cv->B, .Mt = cv->y[1], .P = w->out[0] * w->out[1],
                .mg = cv->y[1], .Y = gk_flat(c, c->out[0])};
  if (op->num_operands > 3 && c->in[3]) v.R = gk_flat(c, c->in[3]);
  gk_quant_channels(c, op, op->operands[6], cv->y[1], K, conv_qw_filter, &pw, &v.q);
  IrValue *X = gk_flat(c, cv->X), *Wq = gk_flat(c, cv->W), *m, *oh, *ow, *k, *acc;
  IrValue *zero = lw_const_i(c, IR_I32, 0), *fzero = lw_const_f(c, IR_F32, 0);
  v.g = lw_index(c, 0);
  IrOp *ln = lw_for_begin(c, lw_index(c, 0), lw_index(c, cv->y[0]), 1, &v.n);
  IrOp *lm = lw_for_begin(c, lw_index(c, 0), lw_index(c, cv->y[1]), 1, &m);
  IrOp *lh = lw_for_begin(c, lw_index(c, 0), lw_index(c, w->out[0]), 1, &oh);
  IrOp *lw = lw_for_begin(c, lw_index(c, 0), lw_index(c, w->out[1]), 1, &ow);
  IrOp *lk = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, K), 1, 1, &zero, &k, &acc);
  IrValue *ch = lw_bin(c, IR_OP_A_DIV, k, lw_index(c, kk));
  IrValue *ki = lw_bin(c, IR_OP_A_REM, lw_bin(c, IR_OP_A_DIV, k, lw_index(c, w->k[1])),
                       lw_index(c, w->k[0]));
  IrValue *kj = lw_bin(c, IR_OP_A_REM, k, lw_index(c, w->k[1]));
  IrValue *ih = gk_axpy(c, gk_axpy(c, lw_index(c, -w->pb[0]), ki, w->d[0]), oh, w->s[0]);
  IrValue *iw = gk_axpy(c, gk_axpy(c, lw_index(c, -w->pb[1]), kj, w->d[1]), ow, w->s[1]);
  IrValue *inside = lw_bin(
      c, IR_OP_A_AND,
      lw_bin(c, IR_OP_A_AND, lw_cmp(c, "ge", ih, lw_index(c, 0)), lw_cmp(c, "lt", ih, lw_index(c, H))),
      lw_bin(c, IR_OP_A_AND, lw_cmp(c, "ge", iw, lw_index(c, 0)),
             lw_cmp(c, "lt", iw, lw_index(c, Wd))));
  ih = lw_bin(c, IR_OP_A_MIN, lw_bin(c, IR_OP_A_MAX, ih, lw_index(c, 0)), lw_index(c, H - 1));
  iw = lw_bin(c, IR_OP_A_MIN, lw_bin(c, IR_OP_A_MAX, iw, lw_index(c, 0)), lw_index(c, Wd - 1));
  IrValue *plane = gk_axpy(c, ch, v.n, cv->C);
  IrValue *xi = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, gk_axpy(c, NULL, plane, H * Wd), ih, Wd), iw);
  IrValue *x = lw_select(c, inside, lw_load(c, X, &xi), fzero);
  IrValue *wi = gk_axpy(c, k, m, K);
  IrValue *sum = lw_bin(c, IR_OP_A_ADD, acc,
                        lw_bin(c, IR_OP_A_MUL, gk_quantize(c, &v.q, x),
                               lw_cast(c, lw_load(c, Wq, &wi), IR_I32)));
  lw_for_end_iter(c, lk, 1, &sum);
  IrValue *p = gk_axpy(c, ow, oh, w->out[1]);
  IrValue *yi = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, NULL, gk_axpy(c, m, v.n, v.Mt), v.P), p);
  lw_store(c, conv_int8_epilogue(c, &v, m, p, 1, lk->results[0]), v.Y, &yi);
  lw_for_end(c, lw);
  lw_for_end(c, lh);
  lw_for_end(c, lm);
  lw_for_end(c, ln);
}

/* A 3x3 stride-1 single-group convolution by Winograd's F(m x m, 3 x 3)
 * where the schedule says it pays (conv_winograd.c); false: not lowered. */
static bool conv_winograd(LwCtx *c, const IrOp *op, const ConvCtx *v) {
  const NnWindow *w = &v->w;
  SchedWinograd sw;
  if (conv_pre(op) || v->mg != v->y[1] || v->cg != v->C || w->k[0] != 3 || w->k[1] != 3 ||
      w->s[0] != 1 || w->s[1] != 1 || w->d[0] != 1 || w->d[1] != 1 ||
      !sched_winograd(c->target, c->sched, v->C, v->mg, w->out[0], w->out[1], &sw))
    return false;
  WinogradConv wc = {.op = op, .X = v->X, .W = v->W, .B = v->B, .Y = c->out[0],
                     .R = op->num_operands > 3 ? c->in[3] : NULL, .N = v->y[0], .C = v->C,
                     .M = v->mg, .w = w};
  conv_winograd_lower(c, &wc, &sw);
  return true;
}

bool op_conv_lower(LwCtx *c, IrOp *op) {
  ConvCtx v = {.X = c->in[0], .W = c->in[1],
               .B = op->num_operands > 2 ? c->in[2] : NULL, .Y = c->out[0]};
  int64_t x[IR_MAX_RANK];
  int r = conv_x_dims(op, v.X, x);
  if (!nn_window_get(op, r - 2, x + 2, false, &v.w)) return false;
  nn_dims(v.Y, v.y);
  IrElem ce = nn_calc_elem(lw_elem(v.Y));
  v.C = x[1];
  v.cg = lw_dim(v.W, 1);
  v.mg = v.y[1] / ir_attr_int(op, "group", 1);
  if (conv_int8(op)) { /* one group (passes/quantize.c) */
    if (c->target)
      conv_gemm_lower(c, op, &v);
    else
      conv_int8_plain(c, op, &v);
    return true;
  }
  bool gemm = conv_gemm_fits(c, &v, r);
  if (conv_pre(op) && !(gemm && conv_window_packs(&v.w))) {
    /* no packing to convert in (a 1x1 stride-1 window may still be packed
     * when its rows are not whole vectors; the fuse pass never asks for
     * that): the absorbed preprocess runs on its own */
    v.X = lw_alloc(c, IR_F32, r, x);
    pre_lower_image(c, c->in[0], c->in[4], c->in[5], ir_attr_string(op, "pre_layout", NULL),
                    v.X);
  }
  if (gemm && conv_winograd(c, op, &v)) return true;
  if (gemm) {
    conv_gemm_lower(c, op, &v);
    return true;
  }
  if (c->target && r == 4 && lw_elem(v.Y) == IR_F32 && v.cg == 1 &&
      v.w.k[0] * v.w.k[1] <= 64) {
    conv_depthwise_lower(c, op, &v);
    return true;
  }
  if (ce != lw_elem(v.Y)) v.Y = lw_alloc(c, ce, r, v.y);
  nn_bias_init(c, v.Y, v.B, r, v.y);
  conv_accumulate(c, &v);
  if (v.Y != c->out[0]) nn_copy_round(c, v.Y, c->out[0], r, v.y);
  if (op->kind == IR_OP_FUSED_CONV) conv_plain_epilogue(c, op, r, v.y);
  return true;
}
