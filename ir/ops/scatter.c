/*
 * scatter.c — ScatterElements, Scatter (its opset <= 10 name), ScatterND,
 * MaxUnpool and TensorScatter: outputs that are a copy of (or zeros shaped
 * like) a data tensor with elements overwritten at run-time index positions.
 *
 * Canonical forms: scatter_elements / scatter {axis, reduction},
 * scatter_nd {reduction} with reduction one of none add mul max min, and
 * max_unpool {kernel_shape, strides, pads, output_shape} with two operands
 * (the optional ONNX input `output_shape` must be a constant and becomes
 * the attribute; absent, the attribute holds the default size).
 *
 * The lowerings first copy the data (or store zeros), then walk the index
 * tensor in row-major order, each step a load-combine-store.  The walk is
 * sequential, so duplicate indices resolve like the ONNX reference: the
 * last write wins for `none`, reductions accumulate.  Like Gather, an
 * index is wrapped when negative, and one outside [-n, n-1] (MaxUnpool:
 * outside [0, n-1]) fails the run with TCC_ERR_INDEX_OUT_OF_RANGE from a
 * check loop that runs before the copy, so nothing is written; under
 * -index-checks=0 it is clamped into its dimension instead, so a bad one
 * can still never write outside the buffer.
 *
 * TensorScatter {axis, mode} (a KV-cache update) writes update[p, s, t] to
 * out[p, w[p0] + s, t] along `axis` (never 0, the batch), w the optional
 * write_indices (zeros when absent).  Mode linear checks w in
 * [0, max_len - seq_len] the same way (clamped under -index-checks=0);
 * circular wraps w + s modulo max_len as numpy's mod does.
 */
#include "datamove.h"

#include <string.h>

static const char *const scatter_reductions[] = {"none", "add", "mul", "max", "min"};

static bool scatter_import_reduction(IrModule *m, IrOp *op) {
  const char *r;
  if (!dm_attr_string(op, "reduction", "none", &r)) return false;
  for (size_t i = 0; i < sizeof scatter_reductions / sizeof *scatter_reductions; i++)
    if (!strcmp(r, scatter_reductions[i])) {
      ir_attr_set_string(m, op, "reduction", r);
      return true;
    }
  diag_at(DIAG_ERROR, &op->loc,
          "%s: attribute 'reduction' must be none, add, mul, max or min, not '%s'",
          dm_name(op), r);
  return false;
}

/* kernel_shape is required; strides default to 1, pads to 0. */
static bool unpool_import(IrModule *m, IrOp *op) {
  const int64_t *k, *s, *p;
  int nk, ns, np;
  if (!dm_attr_ints(op, "kernel_shape", &nk, &k) || !dm_attr_ints(op, "strides", &ns, &s) ||
      !dm_attr_ints(op, "pads", &np, &p))
    return false;
  if (nk <= 0 || (ns >= 0 && ns != nk) || (np >= 0 && np != 2 * nk)) {
    diag_at(DIAG_ERROR, &op->loc,
            "MaxUnpool: needs 'kernel_shape', with one stride and two pads per "
            "spatial dim");
    return false;
  }
  int64_t ones[IR_MAX_RANK], zeros[2 * IR_MAX_RANK] = {0};
  for (int i = 0; i < nk && i < IR_MAX_RANK; i++) ones[i] = 1;
  if (nk > IR_MAX_RANK - 2) nk = IR_MAX_RANK - 2;
  if (ns < 0) ir_attr_set_ints(m, op, "strides", nk, ones);
  if (np < 0) ir_attr_set_ints(m, op, "pads", 2 * nk, zeros);
  if (dm_operand(op, 2) && !dm_input_to_ints(m, op, 2, "output_shape", "output_shape"))
    return false;
  op->num_operands = 2;
  return true;
}

static bool tensor_scatter_import(IrModule *m, IrOp *op) {
  int64_t axis;
  const char *mode;
  if (!dm_attr_int(op, "axis", -2, &axis) || !dm_attr_string(op, "mode", "linear", &mode))
    return false;
  if (strcmp(mode, "linear") && strcmp(mode, "circular")) {
    diag_at(DIAG_ERROR, &op->loc,
            "TensorScatter: attribute 'mode' must be linear or circular, not '%s'", mode);
    return false;
  }
  ir_attr_set_int(m, op, "axis", axis);
  ir_attr_set_string(m, op, "mode", mode);
  return true;
}

bool op_scatter_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  int64_t axis;
  switch (op->kind) {
  case IR_OP_MAX_UNPOOL: return unpool_import(m, op);
  case IR_OP_TENSOR_SCATTER: return tensor_scatter_import(m, op);
  case IR_OP_SCATTER_ND: return scatter_import_reduction(m, op);
  default:
    if (!dm_attr_int(op, "axis", 0, &axis)) return false;
    ir_attr_set_int(m, op, "axis", axis);
    return scatter_import_reduction(m, op);
  }
}

/* ----------------------------------------------------------------- infer */

static bool scatter_check_types(const IrOp *op, int64_t *data, int64_t *ind,
                                int64_t *upd) {
  if (!dm_static_input(op, 0, data) || !dm_static_input(op, 1, ind) ||
      !dm_static_input(op, 2, upd))
    return false;
  IrElem e = op->operands[1]->type.elem;
  if (e != IR_I32 && e != IR_I64) {
    diag_at(DIAG_ERROR, &op->loc, "%s: indices must be i32 or i64, not %s",
            dm_name(op), ir_elem_name(e));
    return false;
  }
  if (op->operands[2]->type.elem != op->operands[0]->type.elem) {
    diag_at(DIAG_ERROR, &op->loc, "%s: updates must have the element type of data",
            dm_name(op));
    return false;
  }
  bool reduces = strcmp(ir_attr_string(op, "reduction", "none"), "none") != 0;
  if (reduces && op->operands[0]->type.elem == IR_BOOL) {
    diag_at(DIAG_ERROR, &op->loc, "%s: reduction '%s' needs numeric data, not bool",
            dm_name(op), ir_attr_string(op, "reduction", "none"));
    return false;
  }
  return true;
}

static bool scatter_elements_infer(IrOp *op) {
  int64_t data[IR_MAX_RANK], ind[IR_MAX_RANK], upd[IR_MAX_RANK];
  int axis;
  if (!scatter_check_types(op, data, ind, upd)) return false;
  int r = op->operands[0]->type.rank;
  if (r == 0) {
    diag_at(DIAG_ERROR, &op->loc, "%s: data must have rank >= 1", dm_name(op));
    return false;
  }
  if (!dm_axis(op, "axis", ir_attr_int(op, "axis", 0), r, &axis)) return false;
  bool ok = op->operands[1]->type.rank == r && op->operands[2]->type.rank == r;
  for (int i = 0; ok && i < r; i++) ok = ind[i] == upd[i] && (i == axis || ind[i] <= data[i]);
  if (!ok) {
    char a[256], b[256];
    diag_at(DIAG_ERROR, &op->loc,
            "%s: indices %s must match updates and fit data %s (same rank, no "
            "larger dim off the axis)", dm_name(op), dm_type_str(op, 1, a, sizeof a),
            dm_type_str(op, 0, b, sizeof b));
    return false;
  }
  dm_set_result(op, 0, op->operands[0]->type.elem, r, data);
  return true;
}

/* updates.shape == indices.shape[:-1] + data.shape[k:]. */
static bool scatter_nd_infer(IrOp *op) {
  int64_t data[IR_MAX_RANK], ind[IR_MAX_RANK], upd[IR_MAX_RANK];
  if (!scatter_check_types(op, data, ind, upd)) return false;
  int r = op->operands[0]->type.rank, q = op->operands[1]->type.rank;
  int u = op->operands[2]->type.rank;
  int64_t k = q > 0 ? ind[q - 1] : -1;
  bool ok = r >= 1 && k >= 1 && k <= r && u == q - 1 + r - k;
  for (int i = 0; ok && i < q - 1; i++) ok = upd[i] == ind[i];
  for (int i = 0; ok && i < r - k; i++) ok = upd[q - 1 + i] == data[k + i];
  if (!ok) {
    char a[256], b[256], c[256];
    diag_at(DIAG_ERROR, &op->loc,
            "ScatterND: indices %s and updates %s do not fit data %s",
            dm_type_str(op, 1, a, sizeof a), dm_type_str(op, 2, b, sizeof b),
            dm_type_str(op, 0, c, sizeof c));
    return false;
  }
  dm_set_result(op, 0, op->operands[0]->type.elem, r, data);
  return true;
}

/* The size MaxPool's input had: (in - 1) * stride - pads + kernel. */
static void unpool_default_shape(const IrOp *op, const int64_t *in, int rank,
                                 int64_t *out) {
  const int64_t *k, *s, *p;
  int nk = ir_attr_ints(op, "kernel_shape", &k);
  ir_attr_ints(op, "strides", &s);
  ir_attr_ints(op, "pads", &p);
  out[0] = in[0], out[1] = in[1];
  for (int i = 0; i < nk && i + 2 < rank; i++)
    out[i + 2] = (in[i + 2] - 1) * s[i] - p[i] - p[i + nk] + k[i];
}

static bool unpool_infer(IrOp *op) {
  int64_t x[IR_MAX_RANK], ind[IR_MAX_RANK], dflt[IR_MAX_RANK];
  const int64_t *k, *want;
  if (!dm_static_input(op, 0, x) || !dm_static_input(op, 1, ind)) return false;
  int r = op->operands[0]->type.rank, nk = ir_attr_ints(op, "kernel_shape", &k);
  bool ok = r == nk + 2 && op->operands[1]->type.rank == r &&
            ir_elem_is_int(op->operands[1]->type.elem);
  for (int i = 0; ok && i < r; i++) ok = ind[i] == x[i];
  if (!ok) {
    diag_at(DIAG_ERROR, &op->loc,
            "MaxUnpool: X and I need the same shape, of rank %d (2 + kernel dims), "
            "and I integer", nk + 2);
    return false;
  }
  unpool_default_shape(op, x, r, dflt);
  int n = ir_attr_ints(op, "output_shape", &want);
  if (n < 0) {
    dm_set_result(op, 0, op->operands[0]->type.elem, r, dflt);
    return true;
  }
  ok = n == r;
  for (int i = 0; ok && i < r; i++) ok = want[i] >= dflt[i] && (i >= 2 || want[i] == dflt[i]);
  if (!ok) {
    char a[256], b[256];
    diag_at(DIAG_ERROR, &op->loc,
            "MaxUnpool: output_shape %s must have rank %d and be no smaller than "
            "the unpooled size %s", dm_ints_str(a, sizeof a, n, want), r,
            dm_ints_str(b, sizeof b, r, dflt));
    return false;
  }
  dm_set_result(op, 0, op->operands[0]->type.elem, r, want);
  return true;
}

/* update matches past_cache but along the axis, where it is no longer;
 * write_indices is i64[batch]. */
static bool tensor_scatter_infer(IrOp *op) {
  int64_t past[IR_MAX_RANK], upd[IR_MAX_RANK], wi[IR_MAX_RANK];
  char a[256], b[256];
  int axis;
  if (!dm_static_input(op, 0, past) || !dm_static_input(op, 1, upd)) return false;
  int r = op->operands[0]->type.rank;
  if (!dm_axis(op, "axis", ir_attr_int(op, "axis", -2), r, &axis)) return false;
  if (axis == 0) {
    diag_at(DIAG_ERROR, &op->loc, "TensorScatter: axis must not be 0 (the batch dim)");
    return false;
  }
  bool ok = op->operands[1]->type.rank == r &&
            op->operands[1]->type.elem == op->operands[0]->type.elem;
  for (int i = 0; ok && i < r; i++) ok = i == axis ? upd[i] <= past[i] : upd[i] == past[i];
  if (!ok) {
    diag_at(DIAG_ERROR, &op->loc, "TensorScatter: update %s does not fit past_cache %s "
            "(same dims but along axis %d, and no longer there)",
            dm_type_str(op, 1, a, sizeof a), dm_type_str(op, 0, b, sizeof b), axis);
    return false;
  }
  if (dm_operand(op, 2)) {
    if (!dm_static_input(op, 2, wi)) return false;
    const IrType *t = &op->operands[2]->type;
    if (t->elem != IR_I64 || t->rank != 1 || wi[0] != past[0]) {
      diag_at(DIAG_ERROR, &op->loc, "TensorScatter: write_indices is %s; expected i64[%lld]",
              dm_type_str(op, 2, a, sizeof a), (long long)past[0]);
      return false;
    }
  }
  dm_set_result(op, 0, op->operands[0]->type.elem, r, past);
  return true;
}

bool op_scatter_infer(IrModule *m, IrOp *op) {
  (void)m;
  switch (op->kind) {
  case IR_OP_TENSOR_SCATTER: return tensor_scatter_infer(op);
  case IR_OP_MAX_UNPOOL: return unpool_infer(op);
  case IR_OP_SCATTER_ND: return scatter_nd_infer(op);
  default: return scatter_elements_infer(op);
  }
}

/* ----------------------------------------------------------------- lower */

/* Loads an index and wraps a negative one by dim; without the check loop,
 * also clamps into [0, dim). */
static IrValue *scatter_load_index(LwCtx *c, IrValue *ind, IrValue *const *idx,
                                   int64_t dim) {
  IrValue *v = lw_cast(c, lw_load(c, ind, idx), IR_INDEX);
  IrValue *zero = lw_index(c, 0);
  IrValue *neg = lw_cmp(c, "lt", v, zero);
  v = lw_select(c, neg, lw_bin(c, IR_OP_A_ADD, v, lw_index(c, dim)), v);
  if (!c->m->no_index_checks) return v;
  v = lw_bin(c, IR_OP_A_MAX, v, zero);
  return lw_bin(c, IR_OP_A_MIN, v, lw_index(c, dim - 1));
}

/* Stores u at out[idx], combined with the old value by the reduction. */
static void scatter_update(LwCtx *c, const IrOp *op, IrValue *u, IrValue *const *idx) {
  static const IrOpKind kinds[] = {IR_OP_COUNT, IR_OP_A_ADD, IR_OP_A_MUL,
                                   IR_OP_A_MAX, IR_OP_A_MIN};
  const char *r = ir_attr_string(op, "reduction", "none");
  for (int i = 1; i < 5; i++)
    if (!strcmp(r, scatter_reductions[i]))
      u = lw_bin(c, kinds[i], lw_load(c, c->out[0], idx), u);
  lw_store(c, u, c->out[0], idx);
}

/* Opens a nest over dims; false (nothing emitted) when it is empty. */
static bool scatter_nest(LwCtx *c, LwNest *nest, int rank, const int64_t *dims,
                         IrValue **iv) {
  if (dm_numel(rank, dims) == 0) return false;
  lw_nest_begin(c, nest, rank, dims, iv);
  return true;
}

static void buffer_dims(const IrValue *buf, int64_t *dims) {
  for (int i = 0; i < lw_rank(buf); i++) dims[i] = lw_dim(buf, i);
}

static void scatter_elements_lower(LwCtx *c, const IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK];
  LwNest nest;
  int r = lw_rank(c->in[0]), axis = 0;
  dm_axis(op, "axis", ir_attr_int(op, "axis", 0), r, &axis);
  int64_t n = lw_dim(c->in[0], axis);
  lw_check_indices(c, c->in[1], 1, &n, true, NULL);
  lw_copy(c, c->in[0], c->out[0]);
  buffer_dims(c->in[1], dims);
  if (!scatter_nest(c, &nest, r, dims, iv)) return;
  for (int i = 0; i < r; i++) idx[i] = iv[i];
  idx[axis] = scatter_load_index(c, c->in[1], iv, lw_dim(c->in[0], axis));
  scatter_update(c, op, lw_load(c, c->in[2], iv), idx);
  lw_nest_end(c, &nest);
}

/* out[ind[p, 0..k), t...] (op)= updates[p..., t...]. */
static void scatter_nd_lower(LwCtx *c, const IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK], *iidx[IR_MAX_RANK];
  LwNest nest;
  int r = lw_rank(c->in[0]), q = lw_rank(c->in[1]), u = lw_rank(c->in[2]);
  int k = (int)lw_dim(c->in[1], q - 1);
  int64_t bounds[IR_MAX_RANK];
  for (int j = 0; j < k; j++) bounds[j] = lw_dim(c->in[0], j);
  lw_check_indices(c, c->in[1], k, bounds, true, NULL);
  lw_copy(c, c->in[0], c->out[0]);
  buffer_dims(c->in[2], dims);
  if (!scatter_nest(c, &nest, u, dims, iv)) return;
  for (int i = 0; i < q - 1; i++) iidx[i] = iv[i];
  for (int j = 0; j < k; j++) {
    iidx[q - 1] = lw_index(c, j);
    idx[j] = scatter_load_index(c, c->in[1], iidx, lw_dim(c->in[0], j));
  }
  for (int i = k; i < r; i++) idx[i] = iv[q - 1 + i - k];
  scatter_update(c, op, lw_load(c, c->in[2], iv), idx);
  lw_nest_end(c, &nest);
}

/* Zeros, then out[unravel(I[i]) in the default shape] = X[i]: an index
 * counts in the unpooled (MaxPool input) shape even when output_shape is
 * larger, which then only adds zeros at the ends (the ONNX reference). */
static void unpool_lower(LwCtx *c, const IrOp *op) {
  int64_t dims[IR_MAX_RANK], dflt[IR_MAX_RANK], total = 1;
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK];
  LwNest nest;
  int r = lw_rank(c->out[0]);
  buffer_dims(c->in[0], dims);
  unpool_default_shape(op, dims, r, dflt);
  total = dm_numel(r, dflt);
  lw_check_indices(c, c->in[1], 1, &total, false, NULL); /* flat: no wrapping */
  buffer_dims(c->out[0], dims);
  if (scatter_nest(c, &nest, r, dims, iv)) {
    lw_store(c, lw_const_i(c, lw_elem(c->out[0]), 0), c->out[0], iv);
    lw_nest_end(c, &nest);
  }
  buffer_dims(c->in[0], dims);
  if (total == 0 || !scatter_nest(c, &nest, r, dims, iv)) return;
  IrValue *flat = lw_cast(c, lw_load(c, c->in[1], iv), IR_INDEX);
  if (c->m->no_index_checks) {
    flat = lw_bin(c, IR_OP_A_MAX, flat, lw_index(c, 0));
    flat = lw_bin(c, IR_OP_A_MIN, flat, lw_index(c, total - 1));
  }
  for (int i = r - 1; i >= 0; i--) {
    IrValue *d = lw_index(c, dflt[i]);
    idx[i] = i ? lw_bin(c, IR_OP_A_REM, flat, d) : flat;
    if (i) flat = lw_bin(c, IR_OP_A_DIV, flat, d);
  }
  lw_store(c, lw_load(c, c->in[0], iv), c->out[0], idx);
  lw_nest_end(c, &nest);
}

static void tensor_scatter_lower(LwCtx *c, const IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK];
  LwNest nest;
  int r = lw_rank(c->in[0]), axis = 1;
  dm_axis(op, "axis", ir_attr_int(op, "axis", -2), r, &axis);
  int64_t max_len = lw_dim(c->in[0], axis), seq = lw_dim(c->in[1], axis);
  bool circular = !strcmp(ir_attr_string(op, "mode", "linear"), "circular");
  IrValue *w_in = op->num_operands > 2 ? c->in[2] : NULL;
  int64_t last_start = max_len - seq + 1; /* linear: w in [0, max_len - seq] */
  if (w_in && !circular) lw_check_indices(c, w_in, 1, &last_start, false, NULL);
  lw_copy(c, c->in[0], c->out[0]);
  buffer_dims(c->in[1], dims);
  if (!scatter_nest(c, &nest, r, dims, iv)) return;
  IrValue *w = lw_index(c, 0);
  if (w_in) {
    w = lw_cast(c, lw_load(c, w_in, &iv[0]), IR_INDEX);
    if (!circular && c->m->no_index_checks)
      w = lw_bin(c, IR_OP_A_MIN, lw_bin(c, IR_OP_A_MAX, w, lw_index(c, 0)),
                 lw_index(c, last_start - 1));
  }
  IrValue *pos = lw_bin(c, IR_OP_A_ADD, w, iv[axis]);
  if (circular) { /* numpy's mod: the sign of max_len */
    IrValue *m = lw_index(c, max_len), *rem = lw_bin(c, IR_OP_A_REM, pos, m);
    pos = lw_select(c, lw_cmp(c, "lt", rem, lw_index(c, 0)),
                    lw_bin(c, IR_OP_A_ADD, rem, m), rem);
  }
  for (int i = 0; i < r; i++) idx[i] = i == axis ? pos : iv[i];
  lw_store(c, lw_load(c, c->in[1], iv), c->out[0], idx);
  lw_nest_end(c, &nest);
}

bool op_scatter_lower(LwCtx *c, IrOp *op) {
  switch (op->kind) {
  case IR_OP_TENSOR_SCATTER: tensor_scatter_lower(c, op); break;
  case IR_OP_MAX_UNPOOL: unpool_lower(c, op); break;
  case IR_OP_SCATTER_ND: scatter_nd_lower(c, op); break;
  default: scatter_elements_lower(c, op); break;
  }
  return true;
}
