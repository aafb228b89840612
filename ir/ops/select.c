/*
 * select.c — Compress (keep the slices a constant condition selects) and
 * ReverseSequence (reverse the first seq_len steps of each batch entry).
 *
 * Canonical forms: compress {condition, axis} with one operand: the ONNX
 * input `condition` must be a constant (its size is the output's) and
 * becomes an INTS attribute of 0/1; without `axis` the input is flattened.
 * reverse_sequence {batch_axis, time_axis}, both explicit.
 *
 * Compress lowers to one copy nest per run of consecutive kept slices, so
 * no index table is needed and each nest stores contiguously.
 */
#include "datamove.h"

bool op_compress_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  int64_t axis;
  if (!dm_attr_int(op, "axis", 0, &axis) || !dm_const_operand(op, 1, "condition"))
    return false;
  if (ir_attr_get(op, "axis")) ir_attr_set_int(m, op, "axis", axis);
  const IrWeight *w = op->operands[1]->weight;
  const IrType *t = &w->value->type;
  uint64_t n = 0;
  if (t->rank != 1 || !ir_type_numel(t, &n) || ir_elem_size(t->elem) * n > w->nbytes) {
    diag_at(DIAG_ERROR, &op->loc, "Compress: condition must be a 1-D tensor");
    return false;
  }
  int64_t *v = ir_arena_alloc(m->arena, sizeof *v * (n ? n : 1));
  for (uint64_t k = 0; k < n; k++) v[k] = ir_elem_load_i64(t->elem, w->data, k) != 0;
  ir_attr_set_ints(m, op, "condition", (int)n, v);
  op->num_operands = 1;
  return true;
}

/* The selected axis (or -1 when flattened) and its length in *dim. */
static bool compress_axis(const IrOp *op, const int64_t *in, int *axis, int64_t *dim) {
  int r = op->operands[0]->type.rank;
  *axis = -1;
  *dim = dm_numel(r, in);
  if (!ir_attr_get(op, "axis")) return true;
  if (!dm_axis(op, "axis", ir_attr_int(op, "axis", 0), r, axis)) return false;
  *dim = in[*axis];
  return true;
}

bool op_compress_infer(IrModule *m, IrOp *op) {
  (void)m;
  int64_t in[IR_MAX_RANK], dim, kept = 0;
  const int64_t *cond;
  int axis;
  if (!dm_static_input(op, 0, in) || !compress_axis(op, in, &axis, &dim)) return false;
  int n = ir_attr_ints(op, "condition", &cond);
  if (n < 0 || n > dim) {
    diag_at(DIAG_ERROR, &op->loc,
            "Compress: condition has %d entries but the selected dim has %lld", n,
            (long long)dim);
    return false;
  }
  for (int i = 0; i < n; i++) kept += cond[i] != 0;
  if (axis < 0) {
    dm_set_result(op, 0, op->operands[0]->type.elem, 1, &kept);
    return true;
  }
  in[axis] = kept;
  dm_set_result(op, 0, op->operands[0]->type.elem, op->operands[0]->type.rank, in);
  return true;
}

/* out[..., o + j, ...] = in[..., s + j, ...] for j < len along axis. */
static void compress_run(LwCtx *c, IrValue *in, IrValue *out, int axis, int64_t s,
                         int64_t o, int64_t len) {
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK], *src[IR_MAX_RANK], *dst[IR_MAX_RANK];
  LwNest nest;
  int r = lw_rank(in);
  for (int i = 0; i < r; i++) dims[i] = lw_dim(in, i);
  dims[axis] = len;
  if (dm_numel(r, dims) == 0) return;
  lw_nest_begin(c, &nest, r, dims, iv);
  for (int i = 0; i < r; i++) src[i] = dst[i] = iv[i];
  src[axis] = dm_affine(c, iv[axis], 1, s);
  dst[axis] = dm_affine(c, iv[axis], 1, o);
  lw_store(c, lw_load(c, in, src), out, dst);
  lw_nest_end(c, &nest);
}

bool op_compress_lower(LwCtx *c, IrOp *op) {
  IrValue *in = c->in[0];
  const int64_t *cond;
  int n = ir_attr_ints(op, "condition", &cond), axis = 0;
  if (ir_attr_get(op, "axis")) {
    dm_axis(op, "axis", ir_attr_int(op, "axis", 0), lw_rank(in), &axis);
  } else {
    int64_t numel = 1;
    for (int i = 0; i < lw_rank(in); i++) numel *= lw_dim(in, i);
    IrType t = ir_type_buffer(lw_elem(in), 1, &numel);
    in = ir_build1(&c->b, IR_OP_VIEW, 1, &in, t);
  }
  int64_t o = 0;
  for (int i = 0; i < n;) {
    if (!cond[i]) {
      i++;
      continue;
    }
    int j = i;
    while (j < n && cond[j]) j++;
    compress_run(c, in, c->out[0], axis, i, o, j - i);
    o += j - i;
    i = j;
  }
  return true;
}

/* ---------------------------------------------------- ReverseSequence */

bool op_reverse_sequence_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  int64_t b, t;
  if (!dm_attr_int(op, "batch_axis", 1, &b) || !dm_attr_int(op, "time_axis", 0, &t))
    return false;
  if ((b != 0 && b != 1) || (t != 0 && t != 1) || b == t) {
    diag_at(DIAG_ERROR, &op->loc,
            "ReverseSequence: batch_axis and time_axis must be 0 and 1 in some order");
    return false;
  }
  ir_attr_set_int(m, op, "batch_axis", b);
  ir_attr_set_int(m, op, "time_axis", t);
  return true;
}

bool op_reverse_sequence_infer(IrModule *m, IrOp *op) {
  (void)m;
  int64_t in[IR_MAX_RANK], lens[IR_MAX_RANK];
  if (!dm_static_input(op, 0, in) || !dm_static_input(op, 1, lens)) return false;
  int r = op->operands[0]->type.rank, b = (int)ir_attr_int(op, "batch_axis", 1);
  IrElem e = op->operands[1]->type.elem;
  if (r < 2 || op->operands[1]->type.rank != 1 || lens[0] != in[b] ||
      (e != IR_I32 && e != IR_I64)) {
    char a[256], l[256];
    diag_at(DIAG_ERROR, &op->loc,
            "ReverseSequence: input %s needs rank >= 2 and sequence_lens %s one "
            "i32/i64 length per batch entry", dm_type_str(op, 0, a, sizeof a),
            dm_type_str(op, 1, l, sizeof l));
    return false;
  }
  dm_set_result(op, 0, op->operands[0]->type.elem, r, in);
  return true;
}

/* out[.., t, ..] = in[.., t < len ? len - 1 - t : t, ..]; a len outside
 * [0, time steps] fails the run (clamped under -index-checks=0). */
bool op_reverse_sequence_lower(LwCtx *c, IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK];
  LwNest nest;
  int r = lw_rank(c->in[0]), b = (int)ir_attr_int(op, "batch_axis", 1);
  int t = (int)ir_attr_int(op, "time_axis", 0);
  for (int i = 0; i < r; i++) dims[i] = lw_dim(c->in[0], i);
  int64_t lens = dims[t] + 1; /* a length lies in [0, time steps] */
  lw_check_indices(c, c->in[1], 1, &lens, false, NULL);
  if (dm_numel(r, dims) == 0) return true;
  lw_nest_begin(c, &nest, r, dims, iv);
  IrValue *len = lw_cast(c, lw_load(c, c->in[1], &iv[b]), IR_INDEX);
  if (c->m->no_index_checks) {
    len = lw_bin(c, IR_OP_A_MAX, len, lw_index(c, 0));
    len = lw_bin(c, IR_OP_A_MIN, len, lw_index(c, dims[t]));
  }
  IrValue *rev = lw_bin(c, IR_OP_A_SUB, lw_bin(c, IR_OP_A_SUB, len, lw_index(c, 1)), iv[t]);
  for (int i = 0; i < r; i++) idx[i] = iv[i];
  idx[t] = lw_select(c, lw_cmp(c, "lt", iv[t], len), rev, iv[t]);
  lw_store(c, lw_load(c, c->in[0], idx), c->out[0], iv);
  lw_nest_end(c, &nest);
  return true;
}
