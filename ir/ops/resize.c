/*
 * resize.c — Resize (opsets 10, 11, 13, 18, 19) and Upsample (opsets 7, 9).
 *
 * Canonical form: one operand X; `scales` (floats) or `sizes` (ints) per
 * dim, `roi` (floats, tf_crop_and_resize only), and every mode attribute
 * explicit.  Constant scales/sizes/roi inputs move into those attributes at
 * import; Resize-10 and Upsample become mode + asymmetric coordinates with
 * nearest_mode=floor (what their nearest sampling does).  Resize-18's
 * `axes` (scales/sizes/roi for some dims only) and keep_aspect_ratio_policy
 * are folded at the first infer, when X's rank is known: scales/sizes/roi
 * become full-rank, and a policy other than stretch leaves both `sizes`
 * (the output dims) and `scales` (the scale the coordinates use).
 *
 * Resizing is separable: along each dim, output position o reads T input
 * positions (nearest 1, linear 2, cubic 4) with weights, exactly as the
 * ONNX reference's interpolate_1d_with_x picks them (coordinate transform,
 * ratio in (0,1], the n nearest neighbours of the edge-padded row,
 * exclude_outside renormalization); antialias stretches the linear or
 * cubic kernel by 1/scale when downsampling, so more taps contribute.  Since shapes and scales are static,
 * the taps are computed here at compile time into small weight tables
 * idx[o, t] / w[o, t] per dim; dims that map identically are skipped.  The
 * lowering loops over the output and sums prod_d w_d * X[idx_d] over the
 * taps; tf_crop_and_resize outputs extrapolation_value when any dim's
 * source coordinate falls outside the input.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_util.h"

/* ------------------------------------------------------------- import */

/* Constant float operand i (any float type) into FLOATS attribute attr;
 * an empty tensor counts as absent. */
static bool rs_input_floats(IrModule *m, IrOp *op, int i, const char *attr) {
  IrValue *v = i < op->num_operands ? op->operands[i] : NULL;
  if (!v) return true;
  uint64_t n = 0;
  if (v->type.kind == IR_TYPE_TENSOR && ir_type_is_static(&v->type))
    ir_type_numel(&v->type, &n);
  if (n == 0 && v->type.kind == IR_TYPE_TENSOR && ir_type_is_static(&v->type))
    return true;
  if (!v->weight || !v->weight->data || n > 2 * IR_MAX_RANK) {
    diag_at(DIAG_ERROR, &op->loc, "input '%s' must be a constant (initializer or "
            "Constant) in tcc", attr);
    return false;
  }
  double f[2 * IR_MAX_RANK];
  for (uint64_t k = 0; k < n; k++)
    f[k] = ir_elem_is_float(v->type.elem)
               ? ir_elem_load_f64(v->type.elem, v->weight->data, k)
               : (double)ir_elem_load_i64(v->type.elem, v->weight->data, k);
  if (!strcmp(attr, "sizes")) {
    int64_t s[IR_MAX_RANK];
    for (uint64_t k = 0; k < n && k < IR_MAX_RANK; k++) s[k] = (int64_t)f[k];
    ir_attr_set_ints(m, op, attr, (int)(n < IR_MAX_RANK ? n : IR_MAX_RANK), s);
  } else {
    ir_attr_set_floats(m, op, attr, (int)n, f);
  }
  return true;
}

static bool rs_string_canon(IrModule *m, IrOp *op, const char *name,
                            const char *dflt) {
  if (!nn_attr_kind(op, name, IR_ATTR_STRING)) return false;
  ir_attr_set_string(m, op, name, ir_attr_string(op, name, dflt));
  return true;
}

/* The legacy forms: asymmetric coordinates, floor for nearest. */
static bool rs_import_legacy(IrModule *m, IrOp *op) {
  if (!nn_attr_kind(op, "mode", IR_ATTR_STRING)) return false;
  const char *mode = ir_attr_string(op, "mode", "nearest");
  if (!strcmp(mode, "bilinear")) mode = "linear";
  ir_attr_set_string(m, op, "mode", mode);
  ir_attr_set_string(m, op, "coordinate_transformation_mode", "asymmetric");
  ir_attr_set_string(m, op, "nearest_mode", "floor");
  ir_attr_set_float(m, op, "cubic_coeff_a", -0.75);
  ir_attr_set_int(m, op, "exclude_outside", 0);
  ir_attr_set_float(m, op, "extrapolation_value", 0.0);
  ir_attr_set_int(m, op, "antialias", 0);
  if (op->num_operands > 1 && !rs_input_floats(m, op, 1, "scales")) return false;
  if (!ir_attr_get(op, "scales")) {
    diag_at(DIAG_ERROR, &op->loc, "%s: 'scales' is required", nn_name(op));
    return false;
  }
  return nn_attr_kind(op, "scales", IR_ATTR_FLOATS);
}

bool op_resize_import(IrModule *m, IrOp *op, int opset) {
  bool ok;
  if (op->kind == IR_OP_UPSAMPLE || opset < 11) {
    ok = rs_import_legacy(m, op);
  } else {
    ok = rs_string_canon(m, op, "mode", "nearest") &&
         rs_string_canon(m, op, "coordinate_transformation_mode", "half_pixel") &&
         rs_string_canon(m, op, "nearest_mode", "round_prefer_floor") &&
         nn_attr_float_canon(m, op, "cubic_coeff_a", -0.75) &&
         nn_attr_int_canon(m, op, "exclude_outside", 0, NULL) &&
         nn_attr_float_canon(m, op, "extrapolation_value", 0.0) &&
         nn_attr_int_canon(m, op, "antialias", 0, NULL) &&
         rs_string_canon(m, op, "keep_aspect_ratio_policy", "stretch") &&
         nn_attr_kind(op, "axes", IR_ATTR_INTS);
    const char *ctm = ir_attr_string(op, "coordinate_transformation_mode", "");
    if (ok && !strcmp(ctm, "tf_crop_and_resize"))
      ok = rs_input_floats(m, op, 1, "roi");
    ok = ok && rs_input_floats(m, op, 2, "scales") && rs_input_floats(m, op, 3, "sizes");
    if (ok && ir_attr_get(op, "sizes")) ir_attr_remove(op, "scales");
    if (ok && !ir_attr_get(op, "sizes") && !ir_attr_get(op, "scales")) {
      diag_at(DIAG_ERROR, &op->loc, "Resize: one of 'scales' and 'sizes' is "
              "required");
      ok = false;
    }
  }
  op->num_operands = 1;
  return ok;
}

/* -------------------------------------------------------------- infer */

static const char *const rs_modes[] = {"nearest", "linear", "cubic", NULL};
static const char *const rs_ctms[] = {
    "half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel",
    "tf_crop_and_resize", "tf_half_pixel_for_nn", "half_pixel_symmetric", NULL};
static const char *const rs_policies[] = {"stretch", "not_larger", "not_smaller", NULL};
static const char *const rs_nearest[] = {"round_prefer_floor", "round_prefer_ceil",
                                         "floor", "ceil", NULL};

/* Index of the attribute's value in names, or -1 after a diagnostic. */
static int rs_pick(const IrOp *op, const char *attr, const char *const *names) {
  const char *v = ir_attr_string(op, attr, "");
  for (int i = 0; names[i]; i++)
    if (!strcmp(v, names[i])) return i;
  diag_at(DIAG_ERROR, &op->loc, "%s: attribute '%s' has unsupported value '%s'",
          nn_name(op), attr, v);
  return -1;
}

/* Folds `axes` and keep_aspect_ratio_policy (see the header): scales,
 * sizes and roi given for axes[i] become full-rank attributes. */
static bool rs_fold_axes(IrModule *m, IrOp *op, int r, const int64_t *x) {
  const IrAttr *ax = ir_attr_get(op, "axes");
  int policy = rs_pick(op, "keep_aspect_ratio_policy", rs_policies);
  if (policy < 0) return false;
  if (!ax && policy == 0) {
    ir_attr_remove(op, "keep_aspect_ratio_policy");
    return true;
  }
  int na = ax ? ax->n : r, axes[IR_MAX_RANK];
  bool seen[IR_MAX_RANK] = {false};
  for (int i = 0; i < na; i++) {
    int64_t a = ax ? ax->ints[i] : i;
    if (na > r || a < -r || a >= r || seen[a < 0 ? a + r : a]) {
      diag_at(DIAG_ERROR, &op->loc, "%s: axes must be distinct dims in [-%d, %d]",
              nn_name(op), r, r - 1);
      return false;
    }
    axes[i] = (int)(a < 0 ? a + r : a);
    seen[axes[i]] = true;
  }
  const IrAttr *sc = ir_attr_get(op, "scales"), *roi = ir_attr_get(op, "roi");
  const int64_t *sz;
  int nsz = ir_attr_ints(op, "sizes", &sz);
  if ((sc && sc->n != na) || (!sc && nsz != na) || (roi && roi->n != 2 * na)) {
    diag_at(DIAG_ERROR, &op->loc, "%s: scales/sizes need %d values and roi %d (one "
            "per axis)", nn_name(op), na, 2 * na);
    return false;
  }
  double fs[IR_MAX_RANK], fr[2 * IR_MAX_RANK];
  int64_t fz[IR_MAX_RANK];
  for (int i = 0; i < r; i++) fs[i] = 1, fz[i] = x[i], fr[i] = 0, fr[r + i] = 1;
  for (int i = 0; i < na; i++) {
    if (sc) fs[axes[i]] = sc->floats[i];
    else fz[axes[i]] = sz[i];
    if (roi) fr[axes[i]] = roi->floats[i], fr[r + axes[i]] = roi->floats[na + i];
  }
  if (roi) ir_attr_set_floats(m, op, "roi", 2 * r, fr);
  if (sc) {
    ir_attr_set_floats(m, op, "scales", r, fs);
  } else if (policy != 0) {
    /* One scale for the given axes, the sizes it gives rounded half up. */
    double s = 0;
    for (int i = 0; i < na; i++) {
      double si = (double)fz[axes[i]] / (double)x[axes[i]];
      if (i == 0 || (policy == 1 ? si < s : si > s)) s = si;
    }
    for (int i = 0; i < na; i++) {
      fs[axes[i]] = s;
      fz[axes[i]] = (int64_t)(s * (double)x[axes[i]] + 0.5);
    }
    ir_attr_set_floats(m, op, "scales", r, fs);
  }
  if (!sc) ir_attr_set_ints(m, op, "sizes", r, fz);
  ir_attr_remove(op, "axes");
  ir_attr_remove(op, "keep_aspect_ratio_policy");
  return true;
}

/* Output dims from sizes, else scales. */
static bool rs_out_dims(const IrOp *op, int r, const int64_t *x, int64_t *y) {
  const int64_t *sz;
  const IrAttr *sc = ir_attr_get(op, "scales");
  int n = ir_attr_ints(op, "sizes", &sz);
  bool by_sizes = n >= 0;
  if (!by_sizes && sc) n = sc->n;
  if (n != r || (sc && sc->n != r)) {
    diag_at(DIAG_ERROR, &op->loc, "%s: %s has %d values but X has rank %d",
            nn_name(op), by_sizes ? "sizes" : "scales", n, r);
    return false;
  }
  for (int i = 0; i < r; i++) {
    y[i] = by_sizes ? sz[i] : (int64_t)(sc->floats[i] * (double)x[i]);
    if (y[i] < 1 || (sc && !(sc->floats[i] > 0))) {
      diag_at(DIAG_ERROR, &op->loc, "%s: output dim %d would be empty",
              nn_name(op), i);
      return false;
    }
  }
  return true;
}

bool op_resize_infer(IrModule *m, IrOp *op) {
  if (!nn_check_operand(op, 0, "X", NN_FLOAT | NN_INT)) return false;
  int64_t x[IR_MAX_RANK], y[IR_MAX_RANK];
  int r = nn_dims(op->operands[0], x);
  int mode = rs_pick(op, "mode", rs_modes);
  if (ir_attr_get(op, "keep_aspect_ratio_policy") && !rs_fold_axes(m, op, r, x))
    return false;
  if (mode < 0 || rs_pick(op, "coordinate_transformation_mode", rs_ctms) < 0 ||
      rs_pick(op, "nearest_mode", rs_nearest) < 0 || !rs_out_dims(op, r, x, y))
    return false;
  IrElem e = op->operands[0]->type.elem;
  if (mode > 0 && !ir_elem_is_float(e)) {
    diag_at(DIAG_ERROR, &op->loc, "%s: mode '%s' needs a float input, not %s",
            nn_name(op), rs_modes[mode], ir_elem_name(e));
    return false;
  }
  const IrAttr *roi = ir_attr_get(op, "roi");
  if (rs_pick(op, "coordinate_transformation_mode", rs_ctms) == 4 &&
      (!roi || roi->n != 2 * r)) {
    diag_at(DIAG_ERROR, &op->loc, "Resize: tf_crop_and_resize needs a constant "
            "roi of %d values", 2 * r);
    return false;
  }
  op->results[0]->type = ir_type_tensor(e, r, y);
  return true;
}

/* ---------------------------------------------------- taps (compile time) */

typedef struct RsDim {
  int in, out, taps;
  double scale;            /* out / in as the reference uses it */
  double roi0, roi1;
  int64_t *idx;            /* [out * taps], clamped to [0, in) */
  double *w;               /* [out * taps] */
  bool *outside;           /* [out]: tf_crop_and_resize extrapolates */
} RsDim;

typedef struct RsParams {
  int mode, ctm, nearest;
  double a;
  bool exclude, antialias;
} RsParams;

/* Source coordinate of output position o; *outside for tf_crop. */
static double rs_coord(const RsParams *p, const RsDim *d, int o, bool *outside) {
  double ow = d->scale * d->in, x = o;
  *outside = false;
  switch (p->ctm) {
  case 1: return x / d->scale;
  case 2: return ow == 1 ? 0 : x * (d->in - 1) / (ow - 1);
  case 3: return ow == 1 ? -0.5 : (x + 0.5) / d->scale - 0.5;
  case 4: {
    double v = ow == 1 ? (d->roi1 - d->roi0) * (d->in - 1) / 2
                       : x * (d->roi1 - d->roi0) * (d->in - 1) / (ow - 1);
    v += d->roi0 * (d->in - 1);
    *outside = v < 0 || v > d->in - 1;
    return v;
  }
  case 5: return (x + 0.5) / d->scale;
  case 6: { /* half_pixel centred on the input when out != scale * in */
    double offset = d->in / 2.0 * (1 - d->out / ow);
    return offset + (x + 0.5) / d->scale - 0.5;
  }
  default: return (x + 0.5) / d->scale - 0.5;
  }
}

/* The kernel's length: 2 (nearest and linear), 4 (cubic), or with
 * antialias the cubic or linear kernel stretched by 1/min(scale, 1). */
static int rs_kernel_len(const RsParams *p, double scale) {
  if (p->mode == 0 || !p->antialias) return p->mode == 2 ? 4 : 2;
  double s = scale < 1 ? scale : 1;
  int start = (int)floor((p->mode == 2 ? -2 : -1) / s) + 1;
  return 2 - 2 * start;
}

static double rs_cubic(double A, double x) {
  x = fabs(x);
  if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0;
}

/* The reference's _linear/_cubic_coeffs_antialias: n taps at offsets
 * start + j - t, scaled by min(scale, 1), normalized to sum 1. */
static void rs_coeffs_antialias(const RsParams *p, double t, double scale, int n,
                                double *c) {
  double s = scale < 1 ? scale : 1, sum = 0;
  int start = 1 - n / 2;
  for (int j = 0; j < n; j++) {
    double x = (start + j - t) * s;
    c[j] = p->mode == 2 ? rs_cubic(p->a, x) : fmin(fmax(1 - fabs(x), 0), 1);
    sum += c[j];
  }
  for (int j = 0; j < n; j++) c[j] /= sum;
}

static void rs_coeffs(const RsParams *p, double t, double *c) {
  double A = p->a, u = 1 - t;
  if (p->mode == 1) {
    c[0] = 1 - t, c[1] = t;
  } else if (p->mode == 2) {
    c[0] = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
    c[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
    c[2] = ((A + 2) * u - (A + 3)) * u * u + 1;
    c[3] = ((A * (u + 1) - 5 * A) * (u + 1) + 8 * A) * (u + 1) - 4 * A;
  } else {
    bool hi = t == 1 ? true
              : p->nearest == 0 ? t > 0.5
              : p->nearest == 1 ? t >= 0.5
              : p->nearest == 3;
    c[0] = !hi, c[1] = hi;
  }
}

/* The taps of one output position, as interpolate_1d_with_x picks them. */
static void rs_taps_at(const RsParams *p, RsDim *d, int o, double *c) {
  int n = rs_kernel_len(p, d->scale), pad = (n + 1) / 2, limit = d->in + 2 * pad;
  double x = rs_coord(p, d, o, &d->outside[o]);
  double fl = floor(x), t = x == fl ? 1 : x - fl;
  if (p->antialias && p->mode != 0) rs_coeffs_antialias(p, t, d->scale, n, c);
  else rs_coeffs(p, t, c);
  int start = (int)fl - (x == fl ? 1 : 0) - (n / 2 - 1) + pad;
  if (start > limit - n) start = limit - n;
  if (start < 0) start = 0;
  double sum = 0;
  for (int j = 0; j < n; j++) {
    int src = start + j - pad;
    if (p->exclude && (src < 0 || src >= d->in)) c[j] = 0;
    sum += c[j];
  }
  int k = 0;
  for (int j = 0; j < n; j++) {
    int src = start + j - pad;
    double wj = p->exclude ? c[j] / sum : c[j];
    if (p->mode == 0 && wj == 0) continue; /* nearest keeps its one tap */
    d->idx[o * d->taps + k] = src < 0 ? 0 : src >= d->in ? d->in - 1 : src;
    d->w[o * d->taps + k++] = wj;
  }
}

/* Fills d's tables; true when the dim maps each o to X[o] alone. */
static bool rs_taps(const RsParams *p, RsDim *d) {
  d->taps = p->mode == 0 ? 1 : rs_kernel_len(p, d->scale);
  double *c = malloc(sizeof *c * (size_t)rs_kernel_len(p, d->scale));
  d->idx = calloc((size_t)d->out * (size_t)d->taps, sizeof *d->idx);
  d->w = calloc((size_t)d->out * (size_t)d->taps, sizeof *d->w);
  d->outside = calloc((size_t)d->out, sizeof *d->outside);
  bool ident = d->in == d->out;
  for (int o = 0; o < d->out; o++) {
    rs_taps_at(p, d, o, c);
    for (int t = 0; t < d->taps; t++) {
      double w = d->w[o * d->taps + t];
      int64_t i = d->idx[o * d->taps + t];
      if (d->outside[o] || (w != 0 && (w != 1 || i != o))) ident = false;
    }
  }
  free(c);
  return ident;
}

static void rs_free(RsDim *d) {
  free(d->idx), free(d->w), free(d->outside);
}

/* ------------------------------------------------------------ lowering */

/* A module weight holding a copy of data (for the tap tables). */
static IrValue *rs_table(LwCtx *c, IrElem e, int rank, const int64_t *dims,
                         const void *data) {
  char name[32];
  for (int k = 0;; k++) {
    snprintf(name, sizeof name, "resize_tab%d", k);
    if (!ir_weight_find(c->m, name)) break;
  }
  IrType t = ir_type_tensor(e, rank, dims);
  uint64_t nbytes;
  ir_type_nbytes(&t, &nbytes);
  return ir_weight_add(c->m, name, t, data, nbytes, true)->value;
}

typedef struct RsLow {
  int r, nd;                      /* rank, resampled dims */
  int dim[IR_MAX_RANK];           /* resampled dim numbers */
  IrValue *idx[IR_MAX_RANK], *w[IR_MAX_RANK], *flag[IR_MAX_RANK];
  int64_t taps[IR_MAX_RANK];
  IrElem ce;
} RsLow;

static void rs_make_tables(LwCtx *c, RsLow *L, RsDim *d, int i, bool crop) {
  int64_t dims[2] = {d->out, d->taps};
  int k = L->nd++;
  L->dim[k] = i, L->taps[k] = d->taps;
  L->idx[k] = rs_table(c, IR_I64, 2, dims, d->idx);
  float *wf = malloc(sizeof *wf * (size_t)(d->out * d->taps));
  for (int j = 0; j < d->out * d->taps; j++) wf[j] = (float)d->w[j];
  double *wd = d->w;
  L->w[k] = L->ce == IR_F64 ? rs_table(c, IR_F64, 2, dims, wd)
                            : rs_table(c, IR_F32, 2, dims, wf);
  free(wf);
  L->flag[k] = NULL;
  if (crop) {
    uint8_t *f = malloc((size_t)d->out);
    for (int j = 0; j < d->out; j++) f[j] = d->outside[j];
    L->flag[k] = rs_table(c, IR_BOOL, 1, dims, f);
    free(f);
  }
}

/* Sum over the taps of prod w * X[idx] at output index ov. */
static IrValue *rs_sample(LwCtx *c, const RsLow *L, IrValue *X, IrValue *const *ov,
                          bool nearest) {
  IrValue *xi[IR_MAX_RANK], *ti[IR_MAX_RANK];
  for (int i = 0; i < L->r; i++) xi[i] = ov[i];
  IrValue *acc = lw_const_f(c, L->ce, 0);
  NnIterNest nest;
  nn_iter_nest_begin(c, &nest, nearest ? 0 : L->nd, NULL, NULL, L->taps, 1, &acc, ti);
  IrValue *w = NULL;
  for (int k = 0; k < L->nd; k++) {
    IrValue *at[2] = {ov[L->dim[k]], nearest ? lw_index(c, 0) : ti[k]};
    xi[L->dim[k]] = lw_cast(c, lw_load(c, L->idx[k], at), IR_INDEX);
    if (nearest) continue;
    IrValue *wk = lw_cast(c, lw_load(c, L->w[k], at), L->ce);
    w = w ? lw_bin(c, IR_OP_A_MUL, w, wk) : wk;
  }
  if (nearest) return lw_load(c, X, xi);
  IrValue *x = nn_load(c, X, xi);
  acc = w ? lw_fma(c, x, w, acc) : lw_bin(c, IR_OP_A_ADD, acc, x);
  nn_iter_nest_end(c, &nest, &acc);
  return acc;
}

static void rs_emit(LwCtx *c, IrOp *op, const RsLow *L, bool nearest) {
  int64_t y[IR_MAX_RANK];
  IrValue *ov[IR_MAX_RANK];
  nn_dims(c->out[0], y);
  LwNest nest;
  lw_nest_begin(c, &nest, L->r, y, ov);
  IrValue *v = rs_sample(c, L, c->in[0], ov, nearest);
  IrValue *out = NULL;
  for (int k = 0; k < L->nd; k++) {
    if (!L->flag[k]) continue;
    IrValue *f = lw_load(c, L->flag[k], &ov[L->dim[k]]);
    out = out ? lw_bin(c, IR_OP_A_OR, out, f) : f;
  }
  if (out) {
    double ev = ir_attr_float(op, "extrapolation_value", 0);
    v = lw_select(c, out, lw_const_f(c, v->type.elem, ev), v);
  }
  if (nearest) lw_store(c, v, c->out[0], ov);
  else nn_store(c, v, c->out[0], ov);
  lw_nest_end(c, &nest);
}

bool op_resize_lower(LwCtx *c, IrOp *op) {
  RsParams p = {.mode = rs_pick(op, "mode", rs_modes),
                .ctm = rs_pick(op, "coordinate_transformation_mode", rs_ctms),
                .nearest = rs_pick(op, "nearest_mode", rs_nearest),
                .a = ir_attr_float(op, "cubic_coeff_a", -0.75),
                .exclude = ir_attr_int(op, "exclude_outside", 0) != 0,
                .antialias = ir_attr_int(op, "antialias", 0) != 0};
  if (p.mode < 0 || p.ctm < 0 || p.nearest < 0) return false;
  int64_t x[IR_MAX_RANK], y[IR_MAX_RANK];
  RsLow L = {.r = nn_dims(c->in[0], x), .ce = nn_calc_elem(lw_elem(c->in[0]))};
  nn_dims(c->out[0], y);
  const IrAttr *sc = ir_attr_get(op, "scales"), *roi = ir_attr_get(op, "roi");
  for (int i = 0; i < L.r; i++) {
    RsDim d = {.in = (int)x[i], .out = (int)y[i]};
    d.scale = sc ? sc->floats[i] : (double)y[i] / (double)x[i];
    if (roi && roi->n == 2 * L.r) d.roi0 = roi->floats[i], d.roi1 = roi->floats[L.r + i];
    if (!rs_taps(&p, &d)) rs_make_tables(c, &L, &d, i, p.ctm == 4);
    rs_free(&d);
  }
  rs_emit(c, op, &L, p.mode == 0);
  return true;
}
