/*
 * fill.c — ops that fill a tensor from a rule rather than moving data:
 * ConstantOfShape, EyeLike, Range, OneHot, Trilu.
 *
 * Canonical forms (every value explicit; inputs that decide the output
 * SHAPE must be constants and become attributes):
 *   constant_of_shape() {dtype, shape, value}
 *   eye_like(x) {dtype, k}
 *   range() {delta, dtype, limit, start}
 *   one_hot(indices, values) {axis, depth}
 *   trilu(x) {k, upper}
 * `value`, `start`, `limit` and `delta` are FLOAT attributes for float
 * element types and INT otherwise, so integer values stay exact.
 *
 * Run-time dims (OPF_DYN): a shape or limit computed from them by the
 * frontend (`torch.ones(1, seq)`, `torch.arange(seq)`) arrives with the
 * STRINGS attribute shape_sym / limit_sym (dyndims.h).  ConstantOfShape
 * takes a whole sym as any dim; Range a limit `seq` from start 0 with delta
 * 1, giving [seq].
 */
#include <math.h>

#include "dyndims.h"

/* Reads element 0 of weight w into op's attribute `name` (INT or FLOAT by
 * element type). */
static void scalar_attr(IrModule *m, IrOp *op, const char *name,
                        const IrWeight *w) {
  IrElem e = w->value->type.elem;
  if (ir_elem_is_float(e))
    ir_attr_set_float(m, op, name, ir_elem_load_f64(e, w->data, 0));
  else
    ir_attr_set_int(m, op, name, ir_elem_load_i64(e, w->data, 0));
}

/* A scalar constant of element type e from attribute `name`. */
static IrValue *attr_const(LwCtx *c, const IrOp *op, const char *name, IrElem e) {
  return ir_elem_is_float(e) ? lw_const_f(c, e, ir_attr_float(op, name, 0))
                             : lw_const_i(c, e, ir_attr_int(op, name, 0));
}

static IrElem attr_dtype(const IrOp *op) {
  const IrAttr *a = ir_attr_get(op, "dtype");
  return a && a->kind == IR_ATTR_TYPE ? a->elem : IR_ELEM_NONE;
}

/* A constant weight with exactly one element, for `input`. */
static const IrWeight *one_element(const IrOp *op, int i, const char *input) {
  uint64_t n = 0;
  if (!dm_const_operand(op, i, input)) return NULL;
  const IrWeight *w = op->operands[i]->weight;
  if (!ir_type_numel(&w->value->type, &n) || n != 1 ||
      w->nbytes < ir_elem_size(w->value->type.elem)) {
    diag_at(DIAG_ERROR, &op->loc, "%s: input '%s' must have exactly one element",
            dm_name(op), input);
    return NULL;
  }
  return w;
}

/* ------------------------------------------------------- ConstantOfShape */
static bool cos_import(IrModule *m, IrOp *op) {
  const char *ref;
  if (!dm_input_to_ints(m, op, 0, "input", "shape") ||
      !dm_attr_string(op, "value", NULL, &ref))
    return false;
  op->num_operands = 0;
  if (!ref) {
    ir_attr_set_type(m, op, "dtype", IR_F32);
    ir_attr_set_float(m, op, "value", 0.0);
    return true;
  }
  const IrWeight *w = ref[0] == '$' ? ir_weight_find(m, ref + 1) : NULL;
  uint64_t n = 0;
  if (!w || !w->data || !ir_type_numel(&w->value->type, &n) || n != 1) {
    diag_at(DIAG_ERROR, &op->loc,
            "ConstantOfShape: attribute 'value' must be a one-element tensor");
    return false;
  }
  ir_attr_set_type(m, op, "dtype", w->value->type.elem);
  scalar_attr(m, op, "value", w);
  return true;
}

static bool cos_infer(const IrModule *m, IrOp *op) {
  const int64_t *shape;
  int64_t dims[IR_MAX_RANK];
  int n, syms[IR_MAX_RANK];
  bool ok = dm_attr_ints(op, "shape", &n, &shape) && n >= 0 && n <= IR_MAX_RANK &&
            attr_dtype(op) != IR_ELEM_NONE;
  for (int i = 0; ok && i < n; i++) ok = (dims[i] = shape[i]) >= 0;
  if (!ok) {
    diag_at(DIAG_ERROR, &op->loc, "ConstantOfShape: needs attributes 'dtype' "
            "and 'shape' (at most 16 non-negative dims)");
    return false;
  }
  if (!dd_attr_syms(m, op, "shape_sym", n, dims, syms)) return false;
  for (int i = 0; i < n; i++) {
    if (syms[i] < 0) continue;
    if (shape[i] != 1) {
      diag_at(DIAG_ERROR, &op->loc, "ConstantOfShape: dim %d of the shape is "
              "%s*%lld, computed from the run-time dimension '%s'; a run-time dim "
              "must be a whole sym", i, m->syms[syms[i]].name, (long long)shape[i],
              m->syms[syms[i]].name);
      return false;
    }
    dims[i] = LW_DYN_DIM(syms[i]);
  }
  dd_set_result(op, 0, attr_dtype(op), n, dims);
  return true;
}

/* Fills all of buffer `out` with v. */
static void fill_buffer(LwCtx *c, IrValue *out, IrValue *v) {
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK];
  LwNest nest;
  int rank = lw_rank(out);
  for (int i = 0; i < rank; i++) dims[i] = lw_dim(out, i);
  if (dd_has_zero(rank, dims)) return;
  lw_nest_begin(c, &nest, rank, dims, iv);
  lw_store(c, v, out, iv);
  lw_nest_end(c, &nest);
}

/* --------------------------------------------------------------- EyeLike */
static bool eye_import(IrModule *m, IrOp *op) {
  int64_t dtype, k;
  if (!dm_attr_int(op, "dtype", 0, &dtype) || !dm_attr_int(op, "k", 0, &k))
    return false;
  IrElem e = dtype ? ir_elem_from_onnx((int)dtype)
                   : dm_operand(op, 0) ? op->operands[0]->type.elem : IR_ELEM_NONE;
  if (e == IR_ELEM_NONE) {
    diag_at(DIAG_ERROR, &op->loc, "EyeLike: unsupported dtype %lld", (long long)dtype);
    return false;
  }
  ir_attr_remove(op, "dtype");
  ir_attr_set_type(m, op, "dtype", e);
  ir_attr_set_int(m, op, "k", k);
  return true;
}

static bool eye_infer(IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  if (!dm_static_input(op, 0, dims)) return false;
  IrElem e = attr_dtype(op);
  if (op->operands[0]->type.rank != 2) {
    diag_at(DIAG_ERROR, &op->loc, "EyeLike: input must have rank 2, not %d",
            op->operands[0]->type.rank);
    return false;
  }
  dm_set_result(op, 0, e ? e : op->operands[0]->type.elem, 2, dims);
  return true;
}

/* Zeros, then ones on the diagonal (i, i+k) where it is inside. */
static void eye_lower(LwCtx *c, const IrOp *op) {
  IrElem e = lw_elem(c->out[0]);
  int64_t rows = lw_dim(c->out[0], 0), cols = lw_dim(c->out[0], 1);
  int64_t k = ir_attr_int(op, "k", 0);
  fill_buffer(c, c->out[0], lw_const_i(c, e, 0));
  int64_t lo = k < 0 ? -k : 0, hi = cols - k < rows ? cols - k : rows;
  if (lo >= hi) return;
  IrValue *i, *idx[2];
  IrOp *loop = lw_for_begin(c, lw_index(c, lo), lw_index(c, hi), 1, &i);
  idx[0] = i;
  idx[1] = dm_affine(c, i, 1, k);
  lw_store(c, lw_const_i(c, e, 1), c->out[0], idx);
  lw_for_end(c, loop);
}

/* ----------------------------------------------------------------- Range */
static bool range_import(IrModule *m, IrOp *op) {
  static const char *const names[3] = {"start", "limit", "delta"};
  const IrWeight *w[3];
  for (int i = 0; i < 3; i++)
    if (!(w[i] = one_element(op, i, names[i]))) return false;
  IrElem e = w[0]->value->type.elem;
  if (w[1]->value->type.elem != e || w[2]->value->type.elem != e) {
    diag_at(DIAG_ERROR, &op->loc, "Range: start, limit and delta must have the same type");
    return false;
  }
  /* Range-27's stash_type: float16/bfloat16 ranges are computed in float32
   * (1, the default) or in their own type; earlier versions say nothing, and
   * float32 is the exact choice for them too. */
  int64_t stash;
  if (!dm_attr_int(op, "stash_type", 1, &stash)) return false;
  if (stash != 1 && stash != ir_elem_to_onnx(e)) {
    diag_at(DIAG_ERROR, &op->loc, "Range: stash_type %lld is neither 1 (float) nor the "
            "inputs' type", (long long)stash);
    return false;
  }
  if (e == IR_F16 || e == IR_BF16) ir_attr_set_type(m, op, "stash_type", stash == 1 ? IR_F32 : e);
  else ir_attr_remove(op, "stash_type");
  for (int i = 0; i < 3; i++) scalar_attr(m, op, names[i], w[i]);
  ir_attr_set_type(m, op, "dtype", e);
  op->num_operands = 0;
  return true;
}

/* Element count max(ceil((limit - start) / delta), 0); -1 if delta is 0. */
static int64_t range_count(const IrOp *op) {
  IrElem e = attr_dtype(op);
  if (ir_elem_is_float(e)) {
    double s = ir_attr_float(op, "start", 0), l = ir_attr_float(op, "limit", 0),
           d = ir_attr_float(op, "delta", 0);
    if (d == 0) return -1;
    double n = ceil((l - s) / d);
    if (!(n < 1e12)) return -1; /* NaN, inf, absurdly many */
    return n > 0 ? (int64_t)n : 0;
  }
  int64_t s = ir_attr_int(op, "start", 0), l = ir_attr_int(op, "limit", 0),
          d = ir_attr_int(op, "delta", 0);
  if (d == 0) return -1;
  int64_t span = l - s;
  if ((span > 0) != (d > 0) || span == 0) return 0;
  return span > 0 ? (span + d - 1) / d : (-span + -d - 1) / -d;
}

static bool range_infer(const IrModule *m, IrOp *op) {
  int64_t n, limit = 1;
  int sym;
  if (!dd_attr_syms(m, op, "limit_sym", 1, &limit, &sym)) return false;
  if (ir_attr_get(op, "limit_sym")) {
    IrElem e = attr_dtype(op);
    bool f = ir_elem_is_float(e);
    bool simple = f ? ir_attr_float(op, "start", 1) == 0 && ir_attr_float(op, "delta", 0) == 1 &&
                          ir_attr_float(op, "limit", 0) == 1
                    : ir_attr_int(op, "start", 1) == 0 && ir_attr_int(op, "delta", 0) == 1 &&
                          ir_attr_int(op, "limit", 0) == 1;
    if (!simple) {
      const IrAttr *a = ir_attr_get(op, "limit_sym");
      diag_at(DIAG_ERROR, &op->loc, "Range: the limit is computed from the run-time "
              "dimension '%s'; tcc supports only Range(0, %s, 1)", a->strings[0],
              a->strings[0]);
      return false;
    }
    n = sym >= 0 ? LW_DYN_DIM(sym) : limit; /* [seq], or a bound sym's value */
    dd_set_result(op, 0, e, 1, &n);
    return true;
  }
  n = range_count(op);
  if (attr_dtype(op) == IR_ELEM_NONE || n < 0) {
    diag_at(DIAG_ERROR, &op->loc, "Range: delta must be non-zero and the "
            "element count finite");
    return false;
  }
  dm_set_result(op, 0, attr_dtype(op), 1, &n);
  return true;
}

/* out[i] = start + i * delta, computed in the element type, or in the
 * stash type (float16/bfloat16). */
static void range_lower(LwCtx *c, const IrOp *op) {
  IrElem e = lw_elem(c->out[0]);
  const IrAttr *stash = ir_attr_get(op, "stash_type");
  IrElem ce = stash ? stash->elem : e;
  int64_t n = lw_dim(c->out[0], 0);
  if (n == 0) return;
  IrValue *start = attr_const(c, op, "start", ce), *delta = attr_const(c, op, "delta", ce);
  IrValue *i;
  IrOp *loop = lw_for_begin(c, lw_index(c, 0), lw_dim_index(c, n), 1, &i);
  IrValue *v = lw_bin(c, IR_OP_A_ADD, start,
                      lw_bin(c, IR_OP_A_MUL, lw_cast(c, i, ce), delta));
  lw_store(c, lw_cast(c, v, e), c->out[0], &i);
  lw_for_end(c, loop);
}

/* ---------------------------------------------------------------- OneHot */
static bool onehot_import(IrModule *m, IrOp *op) {
  int64_t axis;
  const IrWeight *w = one_element(op, 1, "depth");
  if (!w || !dm_attr_int(op, "axis", -1, &axis)) return false;
  double depth = ir_elem_load_f64(w->value->type.elem, w->data, 0);
  if (!(depth >= 1 && depth < 1e9)) {
    diag_at(DIAG_ERROR, &op->loc, "OneHot: depth must be positive");
    return false;
  }
  ir_attr_set_int(m, op, "depth", (int64_t)depth);
  ir_attr_set_int(m, op, "axis", axis);
  op->operands[1] = op->operands[2];
  op->num_operands = 2;
  return true;
}

static bool onehot_infer(IrOp *op) {
  int64_t ind[IR_MAX_RANK], val[IR_MAX_RANK], out[IR_MAX_RANK];
  int axis;
  if (!dm_static_input(op, 0, ind) || !dm_static_input(op, 1, val)) return false;
  int q = op->operands[0]->type.rank, k = 0;
  if (op->operands[1]->type.rank != 1 || val[0] != 2 || q + 1 > IR_MAX_RANK ||
      op->operands[0]->type.elem == IR_BOOL) {
    diag_at(DIAG_ERROR, &op->loc, "OneHot: needs numeric indices and values of shape [2]");
    return false;
  }
  if (!dm_axis(op, "axis", ir_attr_int(op, "axis", -1), q + 1, &axis)) return false;
  for (int i = 0; i <= q; i++) out[i] = i == axis ? ir_attr_int(op, "depth", 1) : ind[k++];
  dm_set_result(op, 0, op->operands[1]->type.elem, q + 1, out);
  return true;
}

/* out[..., d, ...] = (norm(indices[...]) == d) ? on : off. */
static void onehot_lower(LwCtx *c, const IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK];
  LwNest nest;
  int rank = lw_rank(c->out[0]), axis = 0, k = 0;
  int64_t depth = ir_attr_int(op, "depth", 1);
  dm_axis(op, "axis", ir_attr_int(op, "axis", -1), rank, &axis);
  for (int i = 0; i < rank; i++) dims[i] = lw_dim(c->out[0], i);
  if (dm_numel(rank, dims) == 0) return;
  IrValue *z = lw_index(c, 0), *one = lw_index(c, 1);
  IrValue *off = lw_load(c, c->in[1], &z), *on = lw_load(c, c->in[1], &one);
  lw_nest_begin(c, &nest, rank, dims, iv);
  for (int i = 0; i < rank; i++)
    if (i != axis) idx[k++] = iv[i];
  IrValue *v = lw_cast(c, lw_load(c, c->in[0], idx), IR_INDEX);
  IrValue *neg = lw_cmp(c, "lt", v, lw_index(c, 0));
  v = lw_select(c, neg, lw_bin(c, IR_OP_A_ADD, v, lw_index(c, depth)), v);
  lw_store(c, lw_select(c, lw_cmp(c, "eq", v, iv[axis]), on, off), c->out[0], iv);
  lw_nest_end(c, &nest);
}

/* ----------------------------------------------------------------- Trilu */
static bool trilu_import(IrModule *m, IrOp *op) {
  int64_t upper, k = 0;
  if (!dm_attr_int(op, "upper", 1, &upper)) return false;
  if (dm_operand(op, 1)) {
    const IrWeight *w = one_element(op, 1, "k");
    if (!w) return false;
    k = ir_elem_load_i64(w->value->type.elem, w->data, 0);
  }
  op->num_operands = 1;
  ir_attr_set_int(m, op, "k", k);
  ir_attr_set_int(m, op, "upper", upper != 0);
  return true;
}

static bool trilu_infer(IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  if (!dm_static_input(op, 0, dims)) return false;
  int rank = op->operands[0]->type.rank;
  if (rank < 2) {
    diag_at(DIAG_ERROR, &op->loc, "Trilu: input must have rank >= 2, not %d", rank);
    return false;
  }
  dm_set_result(op, 0, op->operands[0]->type.elem, rank, dims);
  return true;
}

/* Keeps x where j - i >= k (upper) or j - i <= k (lower), else 0. */
static void trilu_lower(LwCtx *c, const IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK];
  LwNest nest;
  int rank = lw_rank(c->out[0]);
  for (int i = 0; i < rank; i++) dims[i] = lw_dim(c->out[0], i);
  if (dm_numel(rank, dims) == 0) return;
  bool upper = ir_attr_int(op, "upper", 1) != 0;
  lw_nest_begin(c, &nest, rank, dims, iv);
  IrValue *d = lw_bin(c, IR_OP_A_SUB, iv[rank - 1], iv[rank - 2]);
  IrValue *keep = lw_cmp(c, upper ? "ge" : "le", d, lw_index(c, ir_attr_int(op, "k", 0)));
  IrValue *x = lw_load(c, c->in[0], iv);
  lw_store(c, lw_select(c, keep, x, lw_const_i(c, lw_elem(c->out[0]), 0)), c->out[0], iv);
  lw_nest_end(c, &nest);
}

bool op_fill_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  switch (op->kind) {
  case IR_OP_CONSTANT_OF_SHAPE: return cos_import(m, op);
  case IR_OP_EYE_LIKE: return eye_import(m, op);
  case IR_OP_RANGE: return range_import(m, op);
  case IR_OP_ONE_HOT: return onehot_import(m, op);
  default: return trilu_import(m, op);
  }
}

bool op_fill_infer(IrModule *m, IrOp *op) {
  switch (op->kind) {
  case IR_OP_CONSTANT_OF_SHAPE: return cos_infer(m, op);
  case IR_OP_EYE_LIKE: return eye_infer(op);
  case IR_OP_RANGE: return range_infer(m, op);
  case IR_OP_ONE_HOT: return onehot_infer(op);
  default: return trilu_infer(op);
  }
}

bool op_fill_lower(LwCtx *c, IrOp *op) {
  switch (op->kind) {
  case IR_OP_CONSTANT_OF_SHAPE:
    fill_buffer(c, c->out[0], attr_const(c, op, "value", lw_elem(c->out[0])));
    break;
  case IR_OP_EYE_LIKE: eye_lower(c, op); break;
  case IR_OP_RANGE: range_lower(c, op); break;
  case IR_OP_ONE_HOT: onehot_lower(c, op); break;
  default: trilu_lower(c, op); break;
  }
  return true;
}
