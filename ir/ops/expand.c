/*
 * expand.c — Expand (broadcast to a shape) and Tile (repeat along each
 * axis).
 *
 * Canonical form: expand {shape}, tile {repeats}, one operand each; the
 * ONNX inputs `shape` / `repeats` must be constants.  Expand broadcasts
 * both ways (numpy rules): a 1 in `shape` keeps the input's dim.
 * Tile lowers to a 2*rank nest (repeat r_d, then input index i_d, for each
 * d), writing out[r_d*in_d + i_d] in row-major order without div/mod.
 */
#include "datamove.h"

bool op_expand_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  const char *name = op->kind == IR_OP_EXPAND ? "shape" : "repeats";
  if (!dm_input_to_ints(m, op, 1, name, name)) return false;
  op->num_operands = 1;
  return true;
}

static bool expand_infer(IrOp *op, const int64_t *in, int rank, int n,
                         const int64_t *shape) {
  int64_t out[IR_MAX_RANK];
  int r = rank > n ? rank : n;
  if (n > IR_MAX_RANK) {
    diag_at(DIAG_ERROR, &op->loc, "Expand: shape has more than 16 dims");
    return false;
  }
  for (int i = 0; i < r; i++) {
    int64_t a = i - (r - rank) >= 0 ? in[i - (r - rank)] : 1;
    int64_t b = i - (r - n) >= 0 ? shape[i - (r - n)] : 1;
    if (a != b && a != 1 && b != 1) {
      char sb[256], tb[256];
      diag_at(DIAG_ERROR, &op->loc, "Expand: cannot broadcast %s to shape %s",
              dm_type_str(op, 0, tb, sizeof tb), dm_ints_str(sb, sizeof sb, n, shape));
      return false;
    }
    out[i] = a == 1 ? b : a;
  }
  dm_set_result(op, 0, op->operands[0]->type.elem, r, out);
  return true;
}

static bool tile_infer(IrOp *op, int64_t *in, int rank, int n,
                       const int64_t *rep) {
  char buf[256];
  bool ok = n == rank;
  for (int i = 0; ok && i < n; i++) ok = rep[i] >= 0;
  if (!ok) {
    diag_at(DIAG_ERROR, &op->loc,
            "Tile: repeats %s must have %d non-negative entries (the input rank)",
            dm_ints_str(buf, sizeof buf, n, rep), rank);
    return false;
  }
  for (int i = 0; i < rank; i++) in[i] *= rep[i];
  dm_set_result(op, 0, op->operands[0]->type.elem, rank, in);
  return true;
}

bool op_expand_infer(IrModule *m, IrOp *op) {
  int64_t in[IR_MAX_RANK];
  const int64_t *v;
  int n;
  bool ex = op->kind == IR_OP_EXPAND;
  (void)m;
  if (!dm_static_input(op, 0, in) ||
      !dm_attr_ints(op, ex ? "shape" : "repeats", &n, &v))
    return false;
  if (n < 0) {
    diag_at(DIAG_ERROR, &op->loc, "%s: missing attribute '%s'", dm_name(op),
            ex ? "shape" : "repeats");
    return false;
  }
  int rank = op->operands[0]->type.rank;
  return ex ? expand_infer(op, in, rank, n, v) : tile_infer(op, in, rank, n, v);
}

static void expand_lower(LwCtx *c) {
  int64_t out[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK];
  LwNest nest;
  int rank = lw_rank(c->out[0]);
  for (int i = 0; i < rank; i++) out[i] = lw_dim(c->out[0], i);
  if (dm_numel(rank, out) == 0) return;
  lw_nest_begin(c, &nest, rank, out, iv);
  lw_broadcast_index(c, c->in[0], rank, out, iv, idx);
  lw_store(c, lw_load(c, c->in[0], idx), c->out[0], iv);
  lw_nest_end(c, &nest);
}

static void tile_lower(LwCtx *c) {
  int64_t dims[2 * IR_MAX_RANK];
  IrValue *iv[2 * IR_MAX_RANK], *idx[IR_MAX_RANK], *oidx[IR_MAX_RANK];
  LwNest outer, inner;
  int rank = lw_rank(c->in[0]);
  for (int d = 0; d < rank; d++) {
    dims[2 * d] = lw_dim(c->out[0], d) / (lw_dim(c->in[0], d) ? lw_dim(c->in[0], d) : 1);
    dims[2 * d + 1] = lw_dim(c->in[0], d);
  }
  if (dm_numel(2 * rank, dims) == 0) return;
  /* An LwNest holds at most IR_MAX_RANK loops: open two. */
  int h = rank;
  lw_nest_begin(c, &outer, h, dims, iv);
  lw_nest_begin(c, &inner, 2 * rank - h, dims + h, iv + h);
  for (int d = 0; d < rank; d++) {
    idx[d] = iv[2 * d + 1];
    oidx[d] = lw_bin(c, IR_OP_A_ADD, dm_affine(c, iv[2 * d], dims[2 * d + 1], 0),
                     iv[2 * d + 1]);
  }
  lw_store(c, lw_load(c, c->in[0], idx), c->out[0], oidx);
  lw_nest_end(c, &inner);
  lw_nest_end(c, &outer);
}

bool op_expand_lower(LwCtx *c, IrOp *op) {
  if (op->kind == IR_OP_EXPAND)
    expand_lower(c);
  else
    tile_lower(c);
  return true;
}
