/*
 * concat.c — Concat and its inverse Split.
 *
 * Canonical form: concat {axis}; split {axis, split} with one operand (the
 * split sizes, an input from opset 13, become the attribute; equal parts are
 * made explicit once the input type is known, num_outputs (opset 18) then
 * dropped).  Both lower to one loop nest
 * per piece that copies it at its offset along the axis; zero-size pieces
 * emit nothing.  Run-time dims (OPF_DYN) may be anywhere; along the axis
 * the result is their sum (a KV cache's past + seq: a sum sym), and each
 * piece's offset is read at run time.
 */
#include "dyndims.h"

static bool concat_import(IrModule *m, IrOp *op, int opset) {
  int64_t axis;
  if (!ir_attr_get(op, "axis") && opset >= 4) {
    diag_at(DIAG_ERROR, &op->loc, "Concat: missing attribute 'axis'");
    return false;
  }
  if (!dm_attr_int(op, "axis", 1, &axis)) return false;
  ir_attr_set_int(m, op, "axis", axis);
  return true;
}

/* Checks one input against input 0: same element type, rank and dims off
 * the axis. */
static bool concat_check(const IrModule *m, const IrOp *op, int k, const int64_t *d0,
                         const int64_t *dk, int axis) {
  const IrType *t0 = &op->operands[0]->type, *tk = &op->operands[k]->type;
  if (tk->elem != t0->elem) {
    diag_at(DIAG_ERROR, &op->loc, "Concat: input %d has element type %s but input 0 has %s",
            k, ir_elem_name(tk->elem), ir_elem_name(t0->elem));
    return false;
  }
  if (tk->rank != t0->rank) {
    diag_at(DIAG_ERROR, &op->loc, "Concat: input %d has rank %d but input 0 has rank %d",
            k, tk->rank, t0->rank);
    return false;
  }
  for (int d = 0; d < t0->rank; d++)
    if (d != axis && dk[d] != d0[d]) {
      char a[64], b[64];
      diag_at(DIAG_ERROR, &op->loc,
              "Concat: input %d has size %s in dim %d but input 0 has %s", k,
              dd_dim_str(m, dk[d], a, sizeof a), d, dd_dim_str(m, d0[d], b, sizeof b));
      return false;
    }
  return true;
}

static bool concat_infer(IrModule *m, IrOp *op) {
  int64_t d0[IR_MAX_RANK], dk[IR_MAX_RANK], axis_v;
  int axis;
  if (!dd_input(op, 0, d0) || !dm_attr_int(op, "axis", 1, &axis_v))
    return false;
  int rank = op->operands[0]->type.rank;
  if (rank == 0) {
    diag_at(DIAG_ERROR, &op->loc, "Concat: inputs must have rank >= 1");
    return false;
  }
  if (!dm_axis(op, "axis", axis_v, rank, &axis)) return false;
  /* the static sizes summed, the run-time ones kept as terms of a sum sym */
  int64_t total = 0, terms[IR_SYM_MAX_TERMS + 1];
  int n = 0;
  for (int k = 0; k < op->num_operands; k++) {
    if (!dd_input(op, k, dk) || !concat_check(m, op, k, d0, dk, axis)) return false;
    if (!DD_IS_SYM(dk[axis]))
      total += dk[axis];
    else if (n < IR_SYM_MAX_TERMS)
      terms[n++] = dk[axis];
    else
      n = IR_SYM_MAX_TERMS + 1;  /* too many terms */
  }
  if (n > IR_SYM_MAX_TERMS) {
    total = -1;
  } else if (n) {
    terms[n++] = total;
    total = dd_dim_sum(m, n, terms);
  }
  if (total == -1) {
    diag_at(DIAG_ERROR, &op->loc, "Concat: along axis %d the sum of the inputs' sizes "
            "has more than %d run-time terms", axis, IR_SYM_MAX_TERMS);
    return false;
  }
  d0[axis] = total;
  dd_set_result(op, 0, op->operands[0]->type.elem, rank, d0);
  return true;
}

/* A 2-D view [outer, rest] of buf: the dims before axis, and from it on. */
static IrValue *piece_view(LwCtx *c, IrValue *buf, int axis) {
  int64_t d[2] = {1, 1};
  for (int i = 0; i < lw_rank(buf); i++) d[i < axis ? 0 : 1] *= lw_dim(buf, i);
  return ir_build1(&c->b, IR_OP_VIEW, 1, &buf, ir_type_buffer(lw_elem(buf), 2, d));
}

static bool piece_static(const IrValue *buf) {
  for (int i = 0; i < lw_rank(buf); i++)
    if (DD_IS_SYM(lw_dim(buf, i))) return false;
  return true;
}

/* Copies the smaller buffer's extent between src and dst, shifted by
 * `offset`, or the index value dyn_offset when not NULL (after pieces of
 * run-time sizes), along `axis` on the dst side (concat) or the src side
 * (split).
 * With static shapes (and a schedule: not -O0) both are seen as
 * [outer, axis * inner], so the copy is one contiguous run per outer
 * index (a channel concat of 27x27 maps: runs of C*729 instead of rows of
 * 27, which LLVM vectorized across channels with gathers and scatters). */
static void copy_piece(LwCtx *c, IrValue *src, IrValue *dst, int axis,
                       int64_t offset, IrValue *dyn_offset, bool offset_in_dst) {
  IrValue *small = offset_in_dst ? src : dst;
  int rank = lw_rank(small);
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK];
  LwNest nest;
  for (int d = 0; d < rank; d++) dims[d] = lw_dim(small, d);
  if (dd_has_zero(rank, dims)) return;
  if (c->target && piece_static(src) && piece_static(dst)) {
    int64_t inner = 1;
    for (int d = axis + 1; d < rank; d++) inner *= dims[d];
    src = piece_view(c, src, axis), dst = piece_view(c, dst, axis);
    small = offset_in_dst ? src : dst;
    offset *= inner, axis = 1, rank = 2;
    dims[0] = lw_dim(small, 0), dims[1] = lw_dim(small, 1);
  }
  lw_nest_begin(c, &nest, rank, dims, iv);
  lw_nest_parallel(c, &nest, dims, lw_elem(small));
  for (int d = 0; d < rank; d++) idx[d] = iv[d];
  idx[axis] = dyn_offset ? lw_bin(c, IR_OP_A_ADD, iv[axis], dyn_offset)
                        : dm_affine(c, iv[axis], 1, offset);
  if (offset_in_dst)
    lw_store(c, lw_load(c, src, iv), dst, idx);
  else
    lw_store(c, lw_load(c, src, idx), dst, iv);
  lw_nest_end(c, &nest);
}

static bool concat_lower(LwCtx *c, IrOp *op) {
  int rank = lw_rank(c->out[0]), axis = 0;
  if (!dm_axis(op, "axis", ir_attr_int(op, "axis", 1), rank, &axis)) return false;
  int64_t offset = 0;
  IrValue *dyn_offset = NULL;  /* once a piece has a run-time size */
  for (int k = 0; k < op->num_operands; k++) {
    copy_piece(c, c->in[k], c->out[0], axis, offset, dyn_offset, true);
    int64_t d = lw_dim(c->in[k], axis);
    if (DD_IS_SYM(d) || dyn_offset)
      dyn_offset = lw_bin(c, IR_OP_A_ADD, dyn_offset ? dyn_offset : lw_index(c, offset),
                          lw_dim_index(c, d));
    else
      offset += d;
  }
  return true;
}

/* ----------------------------------------------------------------- Split */
/* Equal parts of dim for the k outputs.  With num_outputs (opset 18) an
 * uneven dim gives parts of ceil(dim / k) and a smaller last one; without
 * it the parts must be equal. */
static bool split_equal_parts(const IrOp *op, int axis, int64_t dim, int k,
                              int64_t *sizes) {
  bool uneven_ok = ir_attr_get(op, "num_outputs") != NULL;
  int64_t part = uneven_ok ? (dim + k - 1) / k : dim / k;
  if ((!uneven_ok && dim % k != 0) || dim - part * (k - 1) < 0) {
    diag_at(DIAG_ERROR, &op->loc, "Split: size %lld of axis %d is not divisible into %d outputs",
            (long long)dim, axis, k);
    return false;
  }
  for (int i = 0; i < k; i++) sizes[i] = i < k - 1 ? part : dim - part * (k - 1);
  return true;
}

static bool split_import(IrModule *m, IrOp *op, int opset) {
  int64_t axis, num_outputs;
  int n;
  const int64_t *split;
  if (!dm_attr_int(op, "axis", 0, &axis)) return false;
  ir_attr_set_int(m, op, "axis", axis);
  if (dm_operand(op, 1) && !dm_input_to_ints(m, op, 1, "split", "split"))
    return false;
  (void)opset;
  op->num_operands = 1;
  if (!dm_attr_ints(op, "split", &n, &split)) return false;
  if (ir_attr_get(op, "num_outputs")) {
    if (!dm_attr_int(op, "num_outputs", 0, &num_outputs)) return false;
    if (n >= 0 || num_outputs != op->num_results) {
      diag_at(DIAG_ERROR, &op->loc, n >= 0
              ? "Split: attribute 'num_outputs' and input 'split' are both given"
              : "Split: attribute 'num_outputs' (%lld) differs from the %d outputs",
              (long long)num_outputs, op->num_results);
      return false;
    }
  }
  if (n < 0 && dm_type_known(op, 0)) {
    const IrType *t = &op->operands[0]->type;
    int a, k = op->num_results;
    int64_t sizes[256];
    if (!dm_axis(op, "axis", axis, t->rank, &a)) return false;
    if (k > 256) {
      diag_at(DIAG_ERROR, &op->loc, "Split: more than 256 outputs");
      return false;
    }
    if (!split_equal_parts(op, a, ir_type_dim(t, a), k, sizes)) return false;
    ir_attr_set_ints(m, op, "split", k, sizes);
    ir_attr_remove(op, "num_outputs");
  }
  return true;
}

/* Fills sizes[0..num_results) from `split` or equal parts. */
static bool split_sizes(const IrOp *op, int axis, int64_t dim, int64_t *sizes) {
  int n, k = op->num_results;
  const int64_t *split;
  if (!dm_attr_ints(op, "split", &n, &split)) return false;
  if (n < 0) return split_equal_parts(op, axis, dim, k, sizes);
  int64_t sum = 0;
  for (int i = 0; i < k; i++) sizes[i] = split[i < n ? i : 0];
  for (int i = 0; i < n; i++) sum += split[i];
  if (n != k || sum != dim) {
    char buf[512];
    diag_at(DIAG_ERROR, &op->loc,
            "Split: split %s must have %d entries summing to %lld",
            dm_ints_str(buf, sizeof buf, n, split), k, (long long)dim);
    return false;
  }
  for (int i = 0; i < k; i++)
    if (sizes[i] < 0) {
      diag_at(DIAG_ERROR, &op->loc, "Split: negative split size %lld", (long long)sizes[i]);
      return false;
    }
  return true;
}

static bool split_infer(const IrModule *m, IrOp *op) {
  int64_t in[IR_MAX_RANK], axis_v, sizes[256], out[IR_MAX_RANK];
  int axis;
  if (!dd_input(op, 0, in) || !dm_attr_int(op, "axis", 0, &axis_v))
    return false;
  int rank = op->operands[0]->type.rank;
  if (!dm_axis(op, "axis", axis_v, rank, &axis)) return false;
  if (DD_IS_SYM(in[axis])) {
    char b[64];
    diag_at(DIAG_ERROR, &op->loc, "Split: axis %d has the run-time size %s; "
            "tcc splits only static axes", axis, dd_dim_str(m, in[axis], b, sizeof b));
    return false;
  }
  if (op->num_results > 256) {
    diag_at(DIAG_ERROR, &op->loc, "Split: more than 256 outputs");
    return false;
  }
  if (!split_sizes(op, axis, in[axis], sizes)) return false;
  for (int k = 0; k < op->num_results; k++) {
    for (int d = 0; d < rank; d++) out[d] = d == axis ? sizes[k] : in[d];
    dd_set_result(op, k, op->operands[0]->type.elem, rank, out);
  }
  return true;
}

static bool split_lower(LwCtx *c, IrOp *op) {
  int rank = lw_rank(c->in[0]), axis = 0;
  if (!dm_axis(op, "axis", ir_attr_int(op, "axis", 0), rank, &axis)) return false;
  int64_t offset = 0;
  for (int k = 0; k < op->num_results; k++) {
    copy_piece(c, c->in[0], c->out[k], axis, offset, NULL, false);
    offset += lw_dim(c->out[k], axis);
  }
  return true;
}

bool op_concat_import(IrModule *m, IrOp *op, int opset) {
  return op->kind == IR_OP_CONCAT ? concat_import(m, op, opset)
                                  : split_import(m, op, opset);
}

bool op_concat_infer(IrModule *m, IrOp *op) {
  return op->kind == IR_OP_CONCAT ? concat_infer(m, op) : split_infer(m, op);
}

bool op_concat_lower(LwCtx *c, IrOp *op) {
  return op->kind == IR_OP_CONCAT ? concat_lower(c, op) : split_lower(c, op);
}
