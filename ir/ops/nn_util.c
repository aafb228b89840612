/* nn_util.c — checks, window attributes and lowering shorthands shared by
 * the NN op families (see nn_util.h). */
#include <math.h>
#include <string.h>

#include "nn_util.h"

const char *nn_name(const IrOp *op) {
  const IrOpInfo *info = ir_op_info(op->kind);
  return info->onnx_name ? info->onnx_name : info->name;
}

static bool elem_in(IrElem e, unsigned classes) {
  if (ir_elem_is_float(e)) return classes & NN_FLOAT;
  if (e == IR_BOOL) return classes & NN_BOOL;
  if (e == IR_INDEX || e == IR_ELEM_NONE) return false;
  if (ir_elem_is_narrow_float(e) || ir_elem_is_subbyte(e)) return classes & NN_STORAGE;
  return classes & (ir_elem_is_signed(e) ? NN_SINT : NN_UINT);
}

bool nn_check_operand(const IrOp *op, int i, const char *what, unsigned classes) {
  const IrValue *v = i < op->num_operands ? op->operands[i] : NULL;
  if (!v) {
    diag_at(DIAG_ERROR, &op->loc, "%s: input %s is missing", nn_name(op), what);
    return false;
  }
  if (v->type.kind != IR_TYPE_TENSOR || !ir_type_is_static(&v->type)) {
    diag_at(DIAG_ERROR, &op->loc, "%s: input %s must be a tensor of static shape",
            nn_name(op), what);
    return false;
  }
  if (!elem_in(v->type.elem, classes)) {
    diag_at(DIAG_ERROR, &op->loc, "%s: input %s has unsupported element type %s",
            nn_name(op), what, ir_elem_name(v->type.elem));
    return false;
  }
  return true;
}

bool nn_check_rank_min(const IrOp *op, int i, const char *what, int min_rank) {
  int r = op->operands[i]->type.rank;
  if (r >= min_rank) return true;
  diag_at(DIAG_ERROR, &op->loc, "%s: input %s has rank %d; expected at least %d",
          nn_name(op), what, r, min_rank);
  return false;
}

static const char *const kind_names[] = {
    [IR_ATTR_INT] = "an int",         [IR_ATTR_FLOAT] = "a float",
    [IR_ATTR_STRING] = "a string",    [IR_ATTR_INTS] = "a list of ints",
    [IR_ATTR_FLOATS] = "a list of floats", [IR_ATTR_STRINGS] = "a list of strings",
    [IR_ATTR_TYPE] = "a type",
};

bool nn_attr_kind(const IrOp *op, const char *name, IrAttrKind kind) {
  const IrAttr *a = ir_attr_get(op, name);
  if (!a || a->kind == kind) return true;
  /* an empty list parses as ints; accept it as any list kind */
  if (a->kind == IR_ATTR_INTS && a->n == 0 &&
      (kind == IR_ATTR_FLOATS || kind == IR_ATTR_STRINGS))
    return true;
  diag_at(DIAG_ERROR, &op->loc, "attribute '%s' must be %s", name,
          kind_names[kind]);
  return false;
}

bool nn_attr_int_canon(IrModule *m, IrOp *op, const char *name, int64_t dflt,
                       int64_t *out) {
  if (!nn_attr_kind(op, name, IR_ATTR_INT)) return false;
  int64_t v = ir_attr_int(op, name, dflt);
  ir_attr_set_int(m, op, name, v);
  if (out) *out = v;
  return true;
}

bool nn_attr_float_canon(IrModule *m, IrOp *op, const char *name, double dflt) {
  if (!nn_attr_kind(op, name, IR_ATTR_FLOAT)) return false;
  ir_attr_set_float(m, op, name, ir_attr_float(op, name, dflt));
  return true;
}

bool nn_norm_axis(const IrOp *op, int64_t axis, int rank, int64_t *out) {
  if (axis < -rank || axis >= rank) {
    diag_at(DIAG_ERROR, &op->loc, "%s: axis %lld is out of range for rank %d",
            nn_name(op), (long long)axis, rank);
    return false;
  }
  *out = axis < 0 ? axis + rank : axis;
  return true;
}

/* ------------------------------------------------------------- windows */

/* An INTS attribute of exactly n values, or absent (then dflt fills it). */
static bool window_ints(IrModule *m, IrOp *op, const char *name, int n,
                        int64_t dflt) {
  if (!nn_attr_kind(op, name, IR_ATTR_INTS)) return false;
  const int64_t *v;
  int got = ir_attr_ints(op, name, &v);
  if (got < 0) {
    int64_t fill[2 * IR_MAX_RANK];
    for (int i = 0; i < n; i++) fill[i] = dflt;
    ir_attr_set_ints(m, op, name, n, fill);
    return true;
  }
  if (got != n) {
    diag_at(DIAG_ERROR, &op->loc, "attribute '%s' has %d values; expected %d",
            name, got, n);
    return false;
  }
  return true;
}

bool nn_window_import(IrModule *m, IrOp *op, int nsp, const int64_t *kernel) {
  if (!nn_attr_kind(op, "kernel_shape", IR_ATTR_INTS)) return false;
  const int64_t *ks;
  int n = ir_attr_ints(op, "kernel_shape", &ks);
  if (n < 0 && !kernel) {
    diag_at(DIAG_ERROR, &op->loc, "attribute 'kernel_shape' is required");
    return false;
  }
  if (n < 0) ir_attr_set_ints(m, op, "kernel_shape", nsp, kernel);
  n = n < 0 ? nsp : n;
  if (n < 1 || n > IR_MAX_RANK - 2) {
    diag_at(DIAG_ERROR, &op->loc, "attribute 'kernel_shape' has %d values", n);
    return false;
  }
  if (!window_ints(m, op, "strides", n, 1) ||
      !window_ints(m, op, "dilations", n, 1))
    return false;
  if (!nn_attr_kind(op, "auto_pad", IR_ATTR_STRING)) return false;
  const char *ap = ir_attr_string(op, "auto_pad", "NOTSET");
  if (!strcmp(ap, "NOTSET") || !strcmp(ap, "VALID")) {
    if (!strcmp(ap, "VALID")) ir_attr_remove(op, "pads");
    ir_attr_remove(op, "auto_pad");
    return window_ints(m, op, "pads", 2 * n, 0);
  }
  if (strcmp(ap, "SAME_UPPER") && strcmp(ap, "SAME_LOWER")) {
    diag_at(DIAG_ERROR, &op->loc, "attribute 'auto_pad' has unknown value '%s'",
            ap);
    return false;
  }
  return true;
}

bool nn_window_resolve(IrModule *m, IrOp *op, const int64_t *in_sp, int nsp) {
  const char *ap = ir_attr_string(op, "auto_pad", NULL);
  if (!ap) return true;
  const int64_t *k, *s, *d;
  if (ir_attr_ints(op, "kernel_shape", &k) != nsp ||
      ir_attr_ints(op, "strides", &s) != nsp ||
      ir_attr_ints(op, "dilations", &d) != nsp) {
    diag_at(DIAG_ERROR, &op->loc, "%s: window attributes do not match the %d "
            "spatial dims of the input", nn_name(op), nsp);
    return false;
  }
  int64_t pads[2 * IR_MAX_RANK];
  bool upper = !strcmp(ap, "SAME_UPPER");
  for (int i = 0; i < nsp; i++) {
    if (s[i] < 1) break; /* nn_window_get reports it */
    int64_t out = (in_sp[i] + s[i] - 1) / s[i];
    int64_t total = (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in_sp[i];
    if (total < 0) total = 0;
    pads[i] = upper ? total / 2 : total - total / 2;
    pads[nsp + i] = total - pads[i];
  }
  ir_attr_set_ints(m, op, "pads", 2 * nsp, pads);
  ir_attr_remove(op, "auto_pad");
  return true;
}

bool nn_window_resolve_x(IrModule *m, IrOp *op, const IrValue *X) {
  if (!X || X->type.kind != IR_TYPE_TENSOR || X->type.rank < 3 ||
      !ir_type_is_static(&X->type))
    return true;
  int64_t in[IR_MAX_RANK];
  int r = nn_dims(X, in);
  return nn_window_resolve(m, op, in + 2, r - 2);
}

bool nn_conv_window_import(IrModule *m, IrOp *op, const IrValue *X,
                           const IrValue *W) {
  int64_t kernel[IR_MAX_RANK];
  int nk = 0;
  if (W && W->type.kind == IR_TYPE_TENSOR && W->type.rank >= 3 &&
      ir_type_is_static(&W->type))
    for (int i = 2; i < W->type.rank; i++) kernel[nk++] = ir_type_dim(&W->type, i);
  if (!nn_attr_int_canon(m, op, "group", 1, NULL) ||
      !nn_window_import(m, op, nk, nk ? kernel : NULL))
    return false;
  return nn_window_resolve_x(m, op, X);
}

static bool window_attr(const IrOp *op, const char *name, int n, int64_t min,
                        const int64_t **out) {
  int got = ir_attr_ints(op, name, out);
  if (got != n) {
    diag_at(DIAG_ERROR, &op->loc, "%s: attribute '%s' must have %d values",
            nn_name(op), name, n);
    return false;
  }
  for (int i = 0; i < n; i++)
    if ((*out)[i] < min) {
      diag_at(DIAG_ERROR, &op->loc, "%s: attribute '%s' has value %lld < %lld",
              nn_name(op), name, (long long)(*out)[i], (long long)min);
      return false;
    }
  return true;
}

bool nn_window_get(const IrOp *op, int nsp, const int64_t *in_sp, bool ceil_mode,
                   NnWindow *w) {
  const int64_t *k, *s, *d, *p;
  if (!window_attr(op, "kernel_shape", nsp, 1, &k) ||
      !window_attr(op, "strides", nsp, 1, &s) ||
      !window_attr(op, "dilations", nsp, 1, &d) ||
      !window_attr(op, "pads", 2 * nsp, 0, &p))
    return false;
  w->n = nsp;
  for (int i = 0; i < nsp; i++) {
    w->in[i] = in_sp[i], w->k[i] = k[i], w->s[i] = s[i], w->d[i] = d[i];
    w->pb[i] = p[i], w->pe[i] = p[nsp + i];
    int64_t ext = (k[i] - 1) * d[i] + 1, room = in_sp[i] + p[i] + p[nsp + i];
    if (ext > room) {
      diag_at(DIAG_ERROR, &op->loc, "%s: kernel extent %lld is larger than the "
              "padded input %lld in spatial dim %d", nn_name(op),
              (long long)ext, (long long)room, i);
      return false;
    }
    int64_t num = room - ext;
    w->out[i] = (ceil_mode ? (num + s[i] - 1) / s[i] : num / s[i]) + 1;
    /* ceil mode: a window may not start inside the end padding */
    if (ceil_mode && (w->out[i] - 1) * s[i] >= in_sp[i] + p[i]) w->out[i]--;
  }
  return true;
}

void nn_valid_range(LwCtx *c, IrValue *base, int64_t mul, int64_t count,
                    int64_t extent, IrValue **lo, IrValue **hi) {
  IrValue *zero = lw_index(c, 0);
  IrValue *a = lw_bin(c, IR_OP_A_SUB, zero, base);
  a = lw_bin(c, IR_OP_A_MAX, a, zero);
  if (mul > 1)
    a = lw_bin(c, IR_OP_A_DIV, nn_lin(c, a, 1, mul - 1), lw_index(c, mul));
  IrValue *b = lw_bin(c, IR_OP_A_SUB, lw_index(c, extent - 1 + mul), base);
  b = lw_bin(c, IR_OP_A_MAX, b, zero);
  if (mul > 1) b = lw_bin(c, IR_OP_A_DIV, b, lw_index(c, mul));
  b = lw_bin(c, IR_OP_A_MIN, b, lw_index(c, count));
  *lo = lw_bin(c, IR_OP_A_MIN, a, b); /* keeps lo <= hi */
  *hi = b;
}

/* ------------------------------------------------------------ lowering */

void nn_iter_nest_begin(LwCtx *c, NnIterNest *nest, int rank,
                        IrValue *const *lo, IrValue *const *hi,
                        const int64_t *hi_c, int n, IrValue **vals,
                        IrValue **ivs) {
  nest->rank = rank, nest->n = n;
  for (int i = 0; i < rank; i++) {
    IrValue *l = lo ? lo[i] : lw_index(c, 0);
    IrValue *h = hi ? hi[i] : lw_dim_index(c, hi_c[i]);
    IrValue *body[8];
    IR_ASSERT(n <= 8);
    nest->loops[i] = lw_for_begin_iter(c, l, h, 1, n, vals, &ivs[i], body);
    for (int j = 0; j < n; j++) vals[j] = body[j];
  }
}

void nn_iter_nest_end(LwCtx *c, NnIterNest *nest, IrValue **vals) {
  for (int i = nest->rank - 1; i >= 0; i--) {
    lw_for_end_iter(c, nest->loops[i], nest->n, vals);
    for (int j = 0; j < nest->n; j++) vals[j] = nest->loops[i]->results[j];
  }
}


IrElem nn_calc_elem(IrElem e) {
  return e == IR_F16 || e == IR_BF16 ? IR_F32 : e;
}

IrValue *nn_load(LwCtx *c, IrValue *buf, IrValue *const *idx) {
  IrValue *v = lw_load(c, buf, idx);
  return lw_cast(c, v, nn_calc_elem(v->type.elem));
}

void nn_store(LwCtx *c, IrValue *v, IrValue *buf, IrValue *const *idx) {
  lw_store(c, lw_cast(c, v, buf->type.elem), buf, idx);
}

void nn_bias_init(LwCtx *c, IrValue *Y, IrValue *B, int rank, const int64_t *dims) {
  IrValue *ivs[IR_MAX_RANK];
  LwNest nest;
  lw_nest_begin(c, &nest, rank, dims, ivs);
  IrValue *b = B ? nn_load(c, B, &ivs[1]) : lw_const_f(c, lw_elem(Y), 0);
  lw_store(c, b, Y, ivs);
  lw_nest_end(c, &nest);
}

void nn_copy_round(LwCtx *c, IrValue *src, IrValue *dst, int rank,
                   const int64_t *dims) {
  IrValue *ivs[IR_MAX_RANK];
  LwNest nest;
  lw_nest_begin(c, &nest, rank, dims, ivs);
  nn_store(c, lw_load(c, src, ivs), dst, ivs);
  lw_nest_end(c, &nest);
}

IrValue *nn_view(LwCtx *c, IrValue *buf, int rank, const int64_t *dims) {
  IrType t = ir_type_buffer(buf->type.elem, rank, dims);
  if (buf->type.kind == IR_TYPE_BUFFER && ir_type_equal(&t, &buf->type))
    return buf;
  return ir_build1(&c->b, IR_OP_VIEW, 1, &buf, t);
}

IrValue *nn_imul(LwCtx *c, IrValue *a, int64_t k) {
  if (k == 1) return a;
  return lw_bin(c, IR_OP_A_MUL, a, lw_index(c, k));
}

IrValue *nn_iadd(LwCtx *c, IrValue *a, IrValue *b) {
  return lw_bin(c, IR_OP_A_ADD, a, b);
}

IrValue *nn_lin(LwCtx *c, IrValue *iv, int64_t mul, int64_t add) {
  IrValue *v = nn_imul(c, iv, mul);
  return add ? lw_bin(c, IR_OP_A_ADD, v, lw_index(c, add)) : v;
}

static int64_t int_limit(IrElem e, bool high) {
  int bits = (int)ir_elem_size(e) * 8;
  if (!ir_elem_is_signed(e))
    return high ? (bits == 64 ? -1 : (int64_t)((1ull << bits) - 1)) : 0;
  if (bits == 64) return high ? INT64_MAX : INT64_MIN;
  return high ? (int64_t)((1ull << (bits - 1)) - 1) : -(int64_t)(1ull << (bits - 1));
}

IrValue *nn_lowest(LwCtx *c, IrElem e) {
  if (ir_elem_is_float(e)) return lw_const_f(c, e, -INFINITY);
  return lw_const_i(c, e, int_limit(e, false));
}

IrValue *nn_highest(LwCtx *c, IrElem e) {
  if (ir_elem_is_float(e)) return lw_const_f(c, e, INFINITY);
  return lw_const_i(c, e, int_limit(e, true));
}

IrValue *nn_madd(LwCtx *c, IrValue *a, IrValue *b, IrValue *acc) {
  if (ir_elem_is_float(acc->type.elem)) return lw_fma(c, a, b, acc);
  return lw_bin(c, IR_OP_A_ADD, lw_bin(c, IR_OP_A_MUL, a, b), acc);
}

IrValue *nn_lp_term(LwCtx *c, IrValue *x, int64_t p, IrElem e) {
  if (p == 2) return lw_bin(c, IR_OP_A_MUL, x, x);
  IrValue *a = lw_un(c, IR_OP_A_ABS, x);
  if (p == 1) return a;
  return lw_bin(c, IR_OP_M_POW, a, lw_const_f(c, e, (double)p));
}

IrValue *nn_lp_root(LwCtx *c, IrValue *sum, int64_t p, IrElem e) {
  if (p == 1) return sum;
  if (p == 2) return lw_un(c, IR_OP_M_SQRT, sum);
  return lw_bin(c, IR_OP_M_POW, sum, lw_const_f(c, e, 1.0 / (double)p));
}

bool nn_check_operand_dyn(const IrOp *op, int i, const char *what, unsigned classes) {
  IrValue *v = i < op->num_operands ? op->operands[i] : NULL;
  if (!v || v->type.kind != IR_TYPE_TENSOR || ir_type_is_static(&v->type))
    return nn_check_operand(op, i, what, classes);
  IrValue tmp = *v, *ops[IR_MAX_RANK + 4];
  IR_ASSERT(i < (int)(sizeof ops / sizeof *ops));
  for (int k = 0; k < tmp.type.rank; k++)
    if (tmp.type.dims[k].sym >= 0) tmp.type.dims[k] = (IrDim){1, -1};
  for (int k = 0; k < i; k++) ops[k] = op->operands[k];
  ops[i] = &tmp;
  IrOp o = *op;
  o.operands = ops, o.num_operands = i + 1;
  return nn_check_operand(&o, i, what, classes);
}

int nn_dims(const IrValue *v, int64_t *dims) {
  for (int i = 0; i < v->type.rank; i++) dims[i] = ir_type_dim(&v->type, i);
  return v->type.rank;
}

int64_t nn_numel(const int64_t *dims, int rank) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  return n;
}

/* [lo, hi) of output positions whose every tap is inside an extent. */
void nn_window_interior(const NnWindow *w, int i, int64_t *lo, int64_t *hi) {
  int64_t reach = (w->k[i] - 1) * w->d[i];
  *lo = 0, *hi = w->out[i];
  while (*lo < w->out[i] && *lo * w->s[i] - w->pb[i] < 0) ++*lo;
  while (*hi > *lo && (*hi - 1) * w->s[i] - w->pb[i] + reach >= w->in[i]) --*hi;
}
