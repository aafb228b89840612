/*
 * signal.c — the signal-processing ops of opset 17: the cosine-sum windows
 * (HannWindow, HammingWindow, BlackmanWindow), DFT, STFT and
 * MelWeightMatrix.
 *
 * Canonical forms (every size an attribute, so the shapes are static):
 *   hann_window / hamming_window / blackman_window {size, periodic,
 *     output_datatype}, no operands (the ONNX input `size` must be a
 *     constant).  w[k] = a0 - a1 cos(2 pi k / N) + a2 cos(4 pi k / N) with
 *     N = size (periodic) or size - 1 (symmetric).
 *   dft {axis, inverse, onesided, dft_length}, one operand: real [..., 1]
 *     or complex [..., 2] input; the result is complex [..., 2], except for
 *     onesided inverse (IRFFT: the one-sided spectrum of a real signal in,
 *     the real signal [..., 1] of dft_length, default 2 (n - 1), out).
 *     DFT-20's dft_length and axis inputs must be constants.
 *   stft {frame_step, frame_length, onesided}, operands (signal, window or
 *     absent).
 *   mel_weight_matrix {num_mel_bins, dft_length, sample_rate,
 *     lower_edge_hertz, upper_edge_hertz, output_datatype}, no operands.
 *
 * DFT and STFT are direct O(n^2) sums (an FFT is a later optimization):
 * a table of cos/sin(2 pi t / n) is filled once per op, and the inner loop
 * over the signal carries t = j*k mod n as an iteration value, so it needs
 * neither trig nor division.  Sums run in f64.
 */
#include "datamove.h"

#include <math.h>

#define SIGNAL_PI 3.14159265358979323846

/* Constant scalar operand i (absent: dflt) into int attribute name. */
static bool signal_const_int(IrModule *m, IrOp *op, int i, const char *input,
                             int64_t dflt, const char *name) {
  IrValue *v = dm_operand(op, i);
  if (!v) {
    if (dflt >= 0) ir_attr_set_int(m, op, name, dflt);
    return true;
  }
  if (!dm_const_operand(op, i, input)) return false;
  uint64_t n = 0;
  const IrWeight *w = v->weight;
  if (!ir_type_numel(&v->type, &n) || n != 1 || ir_elem_size(v->type.elem) > w->nbytes) {
    diag_at(DIAG_ERROR, &op->loc, "%s: input '%s' must be a scalar", dm_name(op), input);
    return false;
  }
  if (ir_elem_is_float(v->type.elem))
    ir_attr_set_float(m, op, name, ir_elem_load_f64(v->type.elem, w->data, 0));
  else
    ir_attr_set_int(m, op, name, ir_elem_load_i64(v->type.elem, w->data, 0));
  return true;
}

/* An int attribute that must lie in [lo, hi], set explicitly. */
static bool signal_attr_range(IrModule *m, IrOp *op, const char *name, int64_t dflt,
                              int64_t lo, int64_t hi) {
  int64_t v;
  if (!dm_attr_int(op, name, dflt, &v)) return false;
  if (v < lo || v > hi) {
    diag_at(DIAG_ERROR, &op->loc, "%s: attribute '%s' must be in [%lld, %lld], not %lld",
            dm_name(op), name, (long long)lo, (long long)hi, (long long)v);
    return false;
  }
  ir_attr_set_int(m, op, name, v);
  return true;
}

/* output_datatype: an ONNX float type (default float32). */
static bool signal_import_dtype(IrModule *m, IrOp *op) {
  int64_t t;
  if (!dm_attr_int(op, "output_datatype", 1, &t)) return false;
  IrElem e = ir_elem_from_onnx((int)t);
  if (e == IR_ELEM_NONE || e == IR_BOOL) {
    diag_at(DIAG_ERROR, &op->loc, "%s: unsupported output_datatype %lld", dm_name(op),
            (long long)t);
    return false;
  }
  ir_attr_set_int(m, op, "output_datatype", t);
  return true;
}

static IrElem signal_dtype(const IrOp *op) {
  return ir_elem_from_onnx((int)ir_attr_int(op, "output_datatype", 1));
}

/* ------------------------------------------------------------- windows */

bool op_window_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  if (!signal_const_int(m, op, 0, "size", -1, "size") ||
      !signal_attr_range(m, op, "periodic", 1, 0, 1) || !signal_import_dtype(m, op))
    return false;
  op->num_operands = 0;
  return true;
}

bool op_window_infer(IrModule *m, IrOp *op) {
  (void)m;
  int64_t n = ir_attr_int(op, "size", -1);
  if (n < 0 || n > (int64_t)1 << 32) {
    diag_at(DIAG_ERROR, &op->loc, "%s: size must be a constant in [0, 2^32]", dm_name(op));
    return false;
  }
  dm_set_result(op, 0, signal_dtype(op), 1, &n);
  return true;
}

bool op_window_lower(LwCtx *c, IrOp *op) {
  double a[3] = {0.5, 0.5, 0.0};
  if (op->kind == IR_OP_HAMMING_WINDOW) a[0] = 25.0 / 46.0, a[1] = 21.0 / 46.0;
  if (op->kind == IR_OP_BLACKMAN_WINDOW) a[0] = 0.42, a[1] = 0.5, a[2] = 0.08;
  int64_t n = ir_attr_int(op, "size", 0);
  int64_t den = ir_attr_int(op, "periodic", 1) ? n : n - 1;
  if (n == 0) return true;
  IrValue *k;
  IrOp *loop = lw_for_begin(c, lw_index(c, 0), lw_index(c, n), 1, &k);
  double step = den > 0 ? 2 * SIGNAL_PI / (double)den : 0.0;
  IrValue *th = lw_bin(c, IR_OP_A_MUL, lw_cast(c, k, IR_F64), lw_const_f(c, IR_F64, step));
  IrValue *c1 = lw_un(c, IR_OP_M_COS, th);
  IrValue *c2 = lw_un(c, IR_OP_M_COS, lw_bin(c, IR_OP_A_ADD, th, th));
  IrValue *w = lw_fma(c, lw_const_f(c, IR_F64, -a[1]), c1, lw_const_f(c, IR_F64, a[0]));
  w = lw_fma(c, lw_const_f(c, IR_F64, a[2]), c2, w);
  lw_store(c, lw_cast(c, w, lw_elem(c->out[0])), c->out[0], &k);
  lw_for_end(c, loop);
  return true;
}

/* ------------------------------------------------------------ DFT/STFT */

bool op_dft_import(IrModule *m, IrOp *op, int opset) {
  if (!signal_attr_range(m, op, "onesided", op->kind == IR_OP_STFT, 0, 1)) return false;
  if (op->kind == IR_OP_DFT) {
    int64_t axis;
    if (!signal_attr_range(m, op, "inverse", 0, 0, 1) ||
        !signal_const_int(m, op, 1, "dft_length", -1, "dft_length"))
      return false;
    if (opset >= 20) { /* axis became an input, its default -2 */
      if (!dm_operand(op, 2)) ir_attr_set_int(m, op, "axis", -2);
      else if (!signal_const_int(m, op, 2, "axis", -1, "axis")) return false;
      if (ir_attr_get(op, "axis")->kind != IR_ATTR_INT) {
        diag_at(DIAG_ERROR, &op->loc, "DFT: input 'axis' must be an integer");
        return false;
      }
      return op->num_operands = 1, true;
    }
    if (!dm_attr_int(op, "axis", 1, &axis)) return false;
    ir_attr_set_int(m, op, "axis", axis);
    op->num_operands = 1;
    return true;
  }
  if (!signal_const_int(m, op, 1, "frame_step", -1, "frame_step") ||
      !signal_const_int(m, op, 3, "frame_length", -1, "frame_length"))
    return false;
  IrValue *window = dm_operand(op, 2);
  op->num_operands = 2;
  ir_op_set_operand(m, op, 1, window);
  return true;
}

/* Input [..., 1|2] of float type, rank >= 2. */
static bool dft_check_signal(const IrOp *op, int64_t *in) {
  if (!dm_static_input(op, 0, in)) return false;
  int r = op->operands[0]->type.rank;
  if (r < 2 || (in[r - 1] != 1 && in[r - 1] != 2) ||
      !ir_elem_is_float(op->operands[0]->type.elem)) {
    char a[256];
    diag_at(DIAG_ERROR, &op->loc,
            "%s: input %s must be float with a last dim of 1 (real) or 2 (complex)",
            dm_name(op), dm_type_str(op, 0, a, sizeof a));
    return false;
  }
  return true;
}

static bool dft_irfft(const IrOp *op) {
  return ir_attr_int(op, "onesided", 0) && ir_attr_int(op, "inverse", 0);
}

/* dft_length, by default the axis' length (for IRFFT 2 (length - 1)). */
static int64_t dft_length(const IrOp *op, int64_t len) {
  return ir_attr_int(op, "dft_length", dft_irfft(op) ? 2 * (len - 1) : len);
}

static bool dft_infer(IrOp *op) {
  int64_t in[IR_MAX_RANK];
  int axis;
  if (!dft_check_signal(op, in)) return false;
  int r = op->operands[0]->type.rank;
  if (!dm_axis(op, "axis", ir_attr_int(op, "axis", 1), r, &axis)) return false;
  int64_t n = dft_length(op, in[axis]);
  if (axis == r - 1 || n < 1) {
    diag_at(DIAG_ERROR, &op->loc,
            "DFT: axis must not be the last (complex) dim and dft_length must be >= 1");
    return false;
  }
  in[axis] = ir_attr_int(op, "onesided", 0) && !dft_irfft(op) ? n / 2 + 1 : n;
  in[r - 1] = dft_irfft(op) ? 1 : 2;
  dm_set_result(op, 0, op->operands[0]->type.elem, r, in);
  return true;
}

static bool stft_infer(IrOp *op) {
  int64_t in[IR_MAX_RANK], win[IR_MAX_RANK];
  if (!dft_check_signal(op, in)) return false;
  IrValue *w = dm_operand(op, 1);
  if (w && (!dm_static_input(op, 1, win) || w->type.rank != 1)) {
    diag_at(DIAG_ERROR, &op->loc, "STFT: window must be 1-D");
    return false;
  }
  int64_t step = ir_attr_int(op, "frame_step", 0);
  int64_t n = ir_attr_int(op, "frame_length", w ? win[0] : -1);
  if (op->operands[0]->type.rank != 3 || step < 1 || n < 1 || n > in[1] ||
      (w && win[0] != n)) {
    diag_at(DIAG_ERROR, &op->loc,
            "STFT: needs a [batch, length, 1|2] signal, frame_step >= 1 and a frame "
            "length (window size or frame_length) in [1, length]");
    return false;
  }
  int64_t out[4] = {in[0], (in[1] - n) / step + 1, ir_attr_int(op, "onesided", 1) ? n / 2 + 1 : n, 2};
  dm_set_result(op, 0, op->operands[0]->type.elem, 4, out);
  return true;
}

bool op_dft_infer(IrModule *m, IrOp *op) {
  (void)m;
  return op->kind == IR_OP_DFT ? dft_infer(op) : stft_infer(op);
}

/* table[t] = (cos, sin)(2 pi t / n), t < n. */
static IrValue *dft_table(LwCtx *c, int64_t n) {
  IrValue *tab = lw_alloc(c, IR_F64, 2, (int64_t[]){n, 2}), *t;
  IrOp *loop = lw_for_begin(c, lw_index(c, 0), lw_index(c, n), 1, &t);
  IrValue *th = lw_bin(c, IR_OP_A_MUL, lw_cast(c, t, IR_F64),
                       lw_const_f(c, IR_F64, 2 * SIGNAL_PI / (double)n));
  lw_store(c, lw_un(c, IR_OP_M_COS, th), tab, (IrValue *[]){t, lw_index(c, 0)});
  lw_store(c, lw_un(c, IR_OP_M_SIN, th), tab, (IrValue *[]){t, lw_index(c, 1)});
  lw_for_end(c, loop);
  return tab;
}

/* One output bin: sum_j x[idx with idx[axis] = start + j] * w[j] *
 * e^(-+2 pi i j k / n) for j < len. */
typedef struct DftSum {
  IrValue *x, *window, *table;
  IrValue *idx[IR_MAX_RANK]; /* x's index; [axis] and [last] are set here */
  int axis, last;
  IrValue *start, *k;
  int64_t n, len;
  bool inverse;
  bool hermitian; /* IRFFT: bins 0 < j < n/2 stand for j and n - j too */
} DftSum;

static void dft_load_x(LwCtx *c, DftSum *s, IrValue *j, IrValue **re, IrValue **im) {
  s->idx[s->axis] = s->start ? lw_bin(c, IR_OP_A_ADD, s->start, j) : j;
  s->idx[s->last] = lw_index(c, 0);
  *re = lw_cast(c, lw_load(c, s->x, s->idx), IR_F64);
  *im = lw_const_f(c, IR_F64, 0.0);
  if (lw_dim(s->x, s->last) == 2) {
    s->idx[s->last] = lw_index(c, 1);
    *im = lw_cast(c, lw_load(c, s->x, s->idx), IR_F64);
  }
  if (s->window) {
    IrValue *w = lw_cast(c, lw_load(c, s->window, &j), IR_F64);
    *re = lw_bin(c, IR_OP_A_MUL, *re, w);
    *im = lw_bin(c, IR_OP_A_MUL, *im, w);
  }
}

static void dft_sum(LwCtx *c, DftSum *s, IrValue **re, IrValue **im) {
  IrValue *zero = lw_const_f(c, IR_F64, 0.0), *j, *it[3];
  IrValue *init[3] = {zero, zero, lw_index(c, 0)};
  IrOp *loop = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, s->len), 1, 3, init, &j, it);
  IrValue *xr, *xi;
  dft_load_x(c, s, j, &xr, &xi);
  IrValue *cs = lw_load(c, s->table, (IrValue *[]){it[2], lw_index(c, 0)});
  IrValue *sn = lw_load(c, s->table, (IrValue *[]){it[2], lw_index(c, 1)});
  if (!s->inverse) sn = lw_un(c, IR_OP_A_NEG, sn);
  /* (xr + i xi)(cs + i sn) */
  if (s->hermitian) { /* Re(X_j e^(i th)) + Re(conj(X_j) e^(-i th)) */
    IrValue *edge = lw_bin(c, IR_OP_A_OR, lw_cmp(c, "eq", j, lw_index(c, 0)),
                           lw_cmp(c, "eq", lw_bin(c, IR_OP_A_ADD, j, j), lw_index(c, s->n)));
    IrValue *twice = lw_select(c, edge, lw_const_f(c, IR_F64, 1.0), lw_const_f(c, IR_F64, 2.0));
    xr = lw_bin(c, IR_OP_A_MUL, xr, twice);
    xi = lw_bin(c, IR_OP_A_MUL, xi, twice);
  }
  IrValue *r = lw_fma(c, xr, cs, lw_fma(c, lw_un(c, IR_OP_A_NEG, xi), sn, it[0]));
  IrValue *i = lw_fma(c, xr, sn, lw_fma(c, xi, cs, it[1]));
  IrValue *t = lw_bin(c, IR_OP_A_ADD, it[2], s->k);
  IrValue *wrap = lw_cmp(c, "ge", t, lw_index(c, s->n));
  t = lw_select(c, wrap, lw_bin(c, IR_OP_A_SUB, t, lw_index(c, s->n)), t);
  lw_for_end_iter(c, loop, 3, (IrValue *[]){r, i, t});
  *re = loop->results[0];
  *im = loop->results[1];
  if (s->inverse) {
    IrValue *inv = lw_const_f(c, IR_F64, 1.0 / (double)s->n);
    *re = lw_bin(c, IR_OP_A_MUL, *re, inv);
    *im = lw_bin(c, IR_OP_A_MUL, *im, inv);
  }
}

static void dft_store(LwCtx *c, IrValue *re, IrValue *im, IrValue **iv, int last) {
  IrElem e = lw_elem(c->out[0]);
  iv[last] = lw_index(c, 0);
  lw_store(c, lw_cast(c, re, e), c->out[0], iv);
  if (lw_dim(c->out[0], last) == 1) return;
  iv[last] = lw_index(c, 1);
  lw_store(c, lw_cast(c, im, e), c->out[0], iv);
}

/* Bin k = iv[axis] of each output row; k < n, so k*j mod n steps by k. */
static void dft_lower(LwCtx *c, IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK];
  LwNest nest;
  int r = lw_rank(c->out[0]), axis = 0;
  dm_axis(op, "axis", ir_attr_int(op, "axis", 1), r, &axis);
  int64_t in_len = lw_dim(c->in[0], axis);
  DftSum s = {.x = c->in[0], .axis = axis, .last = r - 1,
              .n = dft_length(op, in_len),
              .inverse = ir_attr_int(op, "inverse", 0) != 0, .hermitian = dft_irfft(op)};
  /* IRFFT reads bins 0 .. n/2 of the one-sided spectrum. */
  int64_t used = s.hermitian ? s.n / 2 + 1 : s.n;
  s.len = used < in_len ? used : in_len;
  s.table = dft_table(c, s.n);
  for (int i = 0; i < r - 1; i++) dims[i] = lw_dim(c->out[0], i);
  if (dm_numel(r - 1, dims) == 0) return;
  lw_nest_begin(c, &nest, r - 1, dims, iv);
  for (int i = 0; i < r - 1; i++) s.idx[i] = iv[i];
  s.k = iv[axis];
  IrValue *re, *im;
  dft_sum(c, &s, &re, &im);
  dft_store(c, re, im, iv, r - 1);
  lw_nest_end(c, &nest);
}

/* out[b, f, k] = DFT of frame f (signal[b, f*step .. +n]) times window. */
static void stft_lower(LwCtx *c, IrOp *op) {
  IrValue *iv[4];
  LwNest nest;
  DftSum s = {.x = c->in[0], .window = c->in[1], .axis = 1, .last = 2,
              .n = ir_attr_int(op, "frame_length", c->in[1] ? lw_dim(c->in[1], 0) : 1)};
  s.len = s.n;
  s.table = dft_table(c, s.n);
  int64_t dims[3] = {lw_dim(c->out[0], 0), lw_dim(c->out[0], 1), lw_dim(c->out[0], 2)};
  if (dm_numel(3, dims) == 0) return;
  lw_nest_begin(c, &nest, 3, dims, iv);
  s.idx[0] = iv[0];
  s.start = dm_affine(c, iv[1], ir_attr_int(op, "frame_step", 1), 0);
  s.k = iv[2];
  IrValue *re, *im;
  dft_sum(c, &s, &re, &im);
  dft_store(c, re, im, iv, 3);
  lw_nest_end(c, &nest);
}

bool op_dft_lower(LwCtx *c, IrOp *op) {
  if (op->kind == IR_OP_DFT)
    dft_lower(c, op);
  else
    stft_lower(c, op);
  return true;
}

/* ------------------------------------------------------ MelWeightMatrix */

static const char *const mel_inputs[] = {"num_mel_bins", "dft_length", "sample_rate",
                                         "lower_edge_hertz", "upper_edge_hertz"};

bool op_mel_weight_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  for (int i = 0; i < 5; i++)
    if (!signal_const_int(m, op, i, mel_inputs[i], -1, mel_inputs[i])) return false;
  if (!signal_import_dtype(m, op)) return false;
  op->num_operands = 0;
  return true;
}

static double mel_attr(const IrOp *op, int i) {
  const IrAttr *a = ir_attr_get(op, mel_inputs[i]);
  if (!a) return -1;
  return a->kind == IR_ATTR_FLOAT ? a->f : (double)a->i;
}

bool op_mel_weight_infer(IrModule *m, IrOp *op) {
  (void)m;
  double bins = mel_attr(op, 0), len = mel_attr(op, 1), rate = mel_attr(op, 2);
  double lo = mel_attr(op, 3), hi = mel_attr(op, 4);
  if (bins < 1 || len < 1 || rate <= 0 || lo < 0 || hi < lo || bins > 1e6 || len > 1e8) {
    diag_at(DIAG_ERROR, &op->loc,
            "MelWeightMatrix: needs num_mel_bins >= 1, dft_length >= 1, sample_rate > 0 "
            "and 0 <= lower_edge_hertz <= upper_edge_hertz");
    return false;
  }
  int64_t out[2] = {(int64_t)len / 2 + 1, (int64_t)bins};
  dm_set_result(op, 0, signal_dtype(op), 2, out);
  return true;
}

static double mel_of(double hz) { return 2595.0 * log10(1.0 + hz / 700.0); }

/* The triangle corners of the ONNX reference, as spectrogram bins: note
 * its mel step divides by num_mel_bins + 2 points. */
static void mel_corners(const IrOp *op, int64_t nb, int64_t *f) {
  double lo = mel_of(mel_attr(op, 3)), hi = mel_of(mel_attr(op, 4));
  double step = (hi - lo) / (double)(nb + 2), len = mel_attr(op, 1);
  for (int64_t i = 0; i < nb + 2; i++) {
    double hz = 700.0 * (pow(10.0, ((double)i * step + lo) / 2595.0) - 1.0);
    f[i] = (int64_t)floor((len + 1) * hz / mel_attr(op, 2));
  }
}

static void mel_store(LwCtx *c, int64_t j, int64_t i, double v) {
  IrValue *w = lw_cast(c, lw_const_f(c, IR_F64, v), lw_elem(c->out[0]));
  lw_store(c, w, c->out[0],
           (IrValue *[]){lw_index(c, j), lw_index(c, i)});
}

/* Zeros, then one store per nonzero weight (the matrix depends on
 * attributes only, so the triangles are laid out here). */
bool op_mel_weight_lower(LwCtx *c, IrOp *op) {
  int64_t rows = lw_dim(c->out[0], 0), nb = lw_dim(c->out[0], 1), dims[2] = {rows, nb};
  IrValue *iv[2];
  LwNest nest;
  lw_nest_begin(c, &nest, 2, dims, iv);
  lw_store(c, lw_const_i(c, lw_elem(c->out[0]), 0), c->out[0], iv);
  lw_nest_end(c, &nest);
  int64_t *f = ir_arena_alloc(c->m->arena, sizeof *f * (size_t)(nb + 2));
  mel_corners(op, nb, f);
  for (int64_t i = 0; i < nb; i++) {
    int64_t l = f[i], ctr = f[i + 1], h = f[i + 2];
    if (ctr == l && ctr >= 0 && ctr < rows) mel_store(c, ctr, i, 1.0);
    for (int64_t j = l > 0 ? l : 0; ctr != l && j <= ctr && j < rows; j++)
      mel_store(c, j, i, (double)(j - l) / (double)(ctr - l));
    for (int64_t j = ctr > 0 ? ctr : 0; h > ctr && j < h && j < rows; j++)
      mel_store(c, j, i, (double)(h - j) / (double)(h - ctr));
  }
  return true;
}
