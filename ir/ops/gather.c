/*
 * gather.c — Gather, GatherElements, GatherND: outputs read the data tensor
 * at positions taken from an index tensor.
 *
 * Canonical form: gather {axis}, gather_elements {axis}, gather_nd
 * {batch_dims}, all explicit.  Indices are i32 or i64 values computed at
 * run time; negative ones count from the end.  An index outside [-n, n-1]
 * is an error in ONNX: a check loop over the indices runs first and fails
 * the run with TCC_ERR_INDEX_OUT_OF_RANGE (lw_check_indices).  Under
 * -index-checks=0 the lowering clamps each index into the dimension
 * instead, so a bad index can still never read outside the buffer.
 *
 * The lowerings loop over the output in row-major order (contiguous stores)
 * and gather loads.  All three take run-time dims (OPF_DYN) in data and
 * indices alike (an embedding lookup over seq tokens, a row of a seq axis):
 * they only pass through to the result, and the check (or clamp) reads
 * the axis size at run time.  GatherElements' indices may be smaller than the data off
 * the axis: a run-time dim there must be the data's, or a static data dim
 * must hold its upper bound; GatherND's index depth (the last indices dim)
 * must be static.
 */
#include "dyndims.h"

static bool gather_import(IrModule *m, IrOp *op) {
  const char *name = op->kind == IR_OP_GATHER_ND ? "batch_dims" : "axis";
  int64_t v;
  if (!dm_attr_int(op, name, 0, &v)) return false;
  ir_attr_set_int(m, op, name, v);
  return true;
}

static bool check_indices(const IrOp *op, int64_t *data, int64_t *ind) {
  if (!dd_input(op, 0, data) || !dd_input(op, 1, ind)) return false;
  IrElem e = op->operands[1]->type.elem;
  if (e != IR_I32 && e != IR_I64) {
    diag_at(DIAG_ERROR, &op->loc, "%s: indices must be i32 or i64, not %s",
            dm_name(op), ir_elem_name(e));
    return false;
  }
  if (op->operands[0]->type.rank == 0) {
    diag_at(DIAG_ERROR, &op->loc, "%s: data must have rank >= 1", dm_name(op));
    return false;
  }
  return true;
}

static bool gather_infer(IrOp *op) {
  int64_t data[IR_MAX_RANK], ind[IR_MAX_RANK], out[IR_MAX_RANK];
  int axis;
  if (!check_indices(op, data, ind)) return false;
  int r = op->operands[0]->type.rank, q = op->operands[1]->type.rank, k = 0;
  if (!dm_axis(op, "axis", ir_attr_int(op, "axis", 0), r, &axis)) return false;
  if (r + q - 1 > IR_MAX_RANK) {
    diag_at(DIAG_ERROR, &op->loc, "Gather: result has more than 16 dims");
    return false;
  }
  for (int i = 0; i < axis; i++) out[k++] = data[i];
  for (int i = 0; i < q; i++) out[k++] = ind[i];
  for (int i = axis + 1; i < r; i++) out[k++] = data[i];
  dd_set_result(op, 0, op->operands[0]->type.elem, k, out);
  return true;
}

/* Can an indices dim i be at most the data dim d at every size? */
static bool fits(const IrModule *m, int64_t i, int64_t d) {
  if (i == d) return true;
  if (DD_IS_SYM(i)) return !DD_IS_SYM(d) && dd_hi(m, i) >= 0 && dd_hi(m, i) <= d;
  return DD_IS_SYM(d) ? i <= dd_lo(m, d) : i <= d;
}

static bool gather_elements_infer(const IrModule *m, IrOp *op) {
  int64_t data[IR_MAX_RANK], ind[IR_MAX_RANK];
  int axis, r = 0;
  if (!check_indices(op, data, ind)) return false;
  r = op->operands[0]->type.rank;
  if (!dm_axis(op, "axis", ir_attr_int(op, "axis", 0), r, &axis)) return false;
  bool ok = op->operands[1]->type.rank == r;
  for (int i = 0; ok && i < r; i++) ok = i == axis || fits(m, ind[i], data[i]);
  if (!ok) {
    char a[256], b[256];
    diag_at(DIAG_ERROR, &op->loc,
            "GatherElements: indices %s do not fit data %s (same rank, no "
            "larger dim off the axis)",
            dd_type_str(m, op, 1, a, sizeof a), dd_type_str(m, op, 0, b, sizeof b));
    return false;
  }
  dd_set_result(op, 0, op->operands[0]->type.elem, r, ind);
  return true;
}

static bool gather_nd_infer(const IrModule *m, IrOp *op) {
  int64_t data[IR_MAX_RANK], ind[IR_MAX_RANK], out[IR_MAX_RANK];
  if (!check_indices(op, data, ind)) return false;
  int r = op->operands[0]->type.rank, q = op->operands[1]->type.rank, n = 0;
  int64_t b = ir_attr_int(op, "batch_dims", 0);
  int64_t k = q > 0 ? ind[q - 1] : -1;
  bool ok = q >= 1 && b >= 0 && b < q && b < r && k >= 1 && k <= r - b; /* k static */
  for (int i = 0; ok && i < b; i++) ok = ind[i] == data[i];
  if (!ok || q - 1 + r - b - k > IR_MAX_RANK) {
    char t[256], d[64];
    size_t len = (size_t)snprintf(t, sizeof t, "[");
    for (int i = 0; i < q && len < sizeof t; i++)
      len += (size_t)snprintf(t + len, sizeof t - len, "%s%s", i ? "," : "",
                              dd_dim_str(m, ind[i], d, sizeof d));
    diag_at(DIAG_ERROR, &op->loc,
            "GatherND: indices of shape %s] do not fit data of rank %d with batch_dims "
            "%lld%s", t, r, (long long)b,
            q > 0 && DD_IS_SYM(ind[q - 1]) ? " (the last indices dim must be static)" : "");
    return false;
  }
  for (int i = 0; i < q - 1; i++) out[n++] = ind[i];
  for (int i = (int)(b + k); i < r; i++) out[n++] = data[i];
  dd_set_result(op, 0, op->operands[0]->type.elem, n, out);
  return true;
}

/* Loads an index and wraps a negative one by dim (dim static or a
 * run-time code); without the check loop, also clamps into [0, dim). */
static IrValue *load_index(LwCtx *c, IrValue *ind, IrValue *const *idx,
                           int64_t dim) {
  IrValue *v = lw_cast(c, lw_load(c, ind, idx), IR_INDEX);
  IrValue *zero = lw_index(c, 0);
  IrValue *neg = lw_cmp(c, "lt", v, zero);
  IrValue *n = lw_dim_index(c, dim);
  v = lw_select(c, neg, lw_bin(c, IR_OP_A_ADD, v, n), v);
  if (!c->m->no_index_checks) return v;
  v = lw_bin(c, IR_OP_A_MAX, v, zero);
  IrValue *last = DD_IS_SYM(dim) ? lw_bin(c, IR_OP_A_SUB, n, lw_index(c, 1))
                                 : lw_index(c, dim - 1);
  return lw_bin(c, IR_OP_A_MIN, v, last);
}

/* Opens a nest over all of out's dims; false (nothing emitted) if empty. */
static bool out_nest(LwCtx *c, LwNest *nest, IrValue **iv) {
  int64_t dims[IR_MAX_RANK];
  int rank = lw_rank(c->out[0]);
  for (int i = 0; i < rank; i++) dims[i] = lw_dim(c->out[0], i);
  if (dd_has_zero(rank, dims)) return false;
  lw_nest_begin(c, nest, rank, dims, iv);
  return true;
}

static void gather_lower(LwCtx *c, IrOp *op) {
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK];
  LwNest nest;
  int r = lw_rank(c->in[0]), q = lw_rank(c->in[1]), axis = 0;
  dm_axis(op, "axis", ir_attr_int(op, "axis", 0), r, &axis);
  int64_t n = lw_dim(c->in[0], axis);
  lw_check_indices(c, c->in[1], 1, &n, true, NULL);
  if (!out_nest(c, &nest, iv)) return;
  for (int i = 0; i < axis; i++) idx[i] = iv[i];
  idx[axis] = load_index(c, c->in[1], iv + axis, lw_dim(c->in[0], axis));
  for (int i = axis + 1; i < r; i++) idx[i] = iv[i + q - 1];
  lw_store(c, lw_load(c, c->in[0], idx), c->out[0], iv);
  lw_nest_end(c, &nest);
}

static void gather_elements_lower(LwCtx *c, IrOp *op) {
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK];
  LwNest nest;
  int r = lw_rank(c->in[0]), axis = 0;
  dm_axis(op, "axis", ir_attr_int(op, "axis", 0), r, &axis);
  int64_t n = lw_dim(c->in[0], axis);
  lw_check_indices(c, c->in[1], 1, &n, true, NULL);
  if (!out_nest(c, &nest, iv)) return;
  for (int i = 0; i < r; i++) idx[i] = iv[i];
  idx[axis] = load_index(c, c->in[1], iv, lw_dim(c->in[0], axis));
  lw_store(c, lw_load(c, c->in[0], idx), c->out[0], iv);
  lw_nest_end(c, &nest);
}

/* out[p..., t...] = data[p[:b]..., ind[p..., 0..k), t...]. */
static void gather_nd_lower(LwCtx *c, IrOp *op) {
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK], *iidx[IR_MAX_RANK];
  LwNest nest;
  int r = lw_rank(c->in[0]), q = lw_rank(c->in[1]);
  int b = (int)ir_attr_int(op, "batch_dims", 0), k = (int)lw_dim(c->in[1], q - 1);
  int64_t bounds[IR_MAX_RANK];
  for (int j = 0; j < k; j++) bounds[j] = lw_dim(c->in[0], b + j);
  lw_check_indices(c, c->in[1], k, bounds, true, NULL);
  if (!out_nest(c, &nest, iv)) return;
  for (int i = 0; i < q - 1; i++) iidx[i] = iv[i];
  for (int i = 0; i < b; i++) idx[i] = iv[i];
  for (int j = 0; j < k; j++) {
    iidx[q - 1] = lw_index(c, j);
    idx[b + j] = load_index(c, c->in[1], iidx, lw_dim(c->in[0], b + j));
  }
  for (int i = b + k; i < r; i++) idx[i] = iv[q - 1 + i - b - k];
  lw_store(c, lw_load(c, c->in[0], idx), c->out[0], iv);
  lw_nest_end(c, &nest);
}

bool op_gather_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  return gather_import(m, op);
}

bool op_gather_infer(IrModule *m, IrOp *op) {
  switch (op->kind) {
  case IR_OP_GATHER: return gather_infer(op);
  case IR_OP_GATHER_ELEMENTS: return gather_elements_infer(m, op);
  default: return gather_nd_infer(m, op);
  }
}

bool op_gather_lower(LwCtx *c, IrOp *op) {
  switch (op->kind) {
  case IR_OP_GATHER: gather_lower(c, op); break;
  case IR_OP_GATHER_ELEMENTS: gather_elements_lower(c, op); break;
  default: gather_nd_lower(c, op); break;
  }
  return true;
}
