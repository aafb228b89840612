/*
 * expand.c — Expand (broadcast to a shape) and Tile (repeat along each
 * axis).
 *
 * Canonical form: expand {shape}, tile {repeats}, one operand each; the
 * ONNX inputs `shape` / `repeats` must be constants.  Expand broadcasts
 * both ways (numpy rules): a 1 in `shape` keeps the input's dim.
 * Tile lowers to a 2*rank nest (repeat r_d, then input index i_d, for each
 * d), writing out[r_d*in_d + i_d] in row-major order without div/mod.
 * Expand takes run-time dims (OPF_DYN) of the input: a 1 in `shape` keeps
 * them; the frontend spells a target dim that is the input's sym as 1.
 * Tile takes them too, repeated once (or 0 times); and a repeat count
 * computed from them (`repeats_sym`, dyndims.h) on a dim of size 1, which
 * becomes that sym.
 */
#include "dyndims.h"

bool op_expand_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  const char *name = op->kind == IR_OP_EXPAND ? "shape" : "repeats";
  if (!dm_input_to_ints(m, op, 1, name, name)) return false;
  op->num_operands = 1;
  return true;
}

static bool expand_infer(const IrModule *m, IrOp *op, const int64_t *in, int rank,
                         int n, const int64_t *shape) {
  int64_t out[IR_MAX_RANK];
  int r = rank > n ? rank : n;
  if (n > IR_MAX_RANK) {
    diag_at(DIAG_ERROR, &op->loc, "Expand: shape has more than 16 dims");
    return false;
  }
  for (int i = 0; i < r; i++) {
    int64_t a = i - (r - rank) >= 0 ? in[i - (r - rank)] : 1;
    int64_t b = i - (r - n) >= 0 ? shape[i - (r - n)] : 1;
    if ((a != b && a != 1 && b != 1) || b < 0) {
      char sb[256], tb[256];
      diag_at(DIAG_ERROR, &op->loc, "Expand: cannot broadcast %s to shape %s",
              dd_type_str(m, op, 0, tb, sizeof tb), dm_ints_str(sb, sizeof sb, n, shape));
      return false;
    }
    out[i] = a == 1 ? b : a;
  }
  dd_set_result(op, 0, op->operands[0]->type.elem, r, out);
  return true;
}

/* The repeat counts of tile: static, or a code (repeats_sym; the factor
 * must be 1, else -1, refused by the caller).  n > IR_MAX_RANK is left to
 * the caller's rank check. */
static bool tile_repeats(const IrModule *m, IrOp *op, int n, const int64_t *v,
                         int64_t *rep) {
  int syms[IR_MAX_RANK];
  if (n > IR_MAX_RANK) return true;
  for (int i = 0; i < n; i++) rep[i] = v[i];
  if (!dd_attr_syms(m, op, "repeats_sym", n, rep, syms)) return false;
  for (int i = 0; i < n; i++)
    if (syms[i] >= 0) rep[i] = v[i] == 1 ? LW_DYN_DIM(syms[i]) : -1;
  return true;
}

static bool tile_infer(const IrModule *m, IrOp *op, int64_t *in, int rank, int n,
                       const int64_t *v) {
  char buf[256], b2[64];
  int64_t rep[IR_MAX_RANK];
  if (!tile_repeats(m, op, n, v, rep)) return false;
  bool ok = n == rank;
  for (int i = 0; ok && i < n; i++) ok = rep[i] >= 0 || DD_IS_SYM(rep[i]);
  if (!ok) {
    diag_at(DIAG_ERROR, &op->loc,
            "Tile: repeats %s must have %d non-negative entries (the input rank)",
            dm_ints_str(buf, sizeof buf, n, v), rank);
    return false;
  }
  for (int i = 0; i < rank; i++) {
    if (DD_IS_SYM(in[i]) ? rep[i] > 1 || DD_IS_SYM(rep[i]) : DD_IS_SYM(rep[i]) && in[i] != 1) {
      diag_at(DIAG_ERROR, &op->loc, "Tile: axis %d of size %s repeated %s times has no "
              "type: a run-time dim is repeated at most once, and a run-time repeat "
              "count applies to a dim of size 1", i, dd_dim_str(m, in[i], buf, sizeof buf),
              dd_dim_str(m, rep[i], b2, sizeof b2));
      return false;
    }
    in[i] = DD_IS_SYM(rep[i]) ? rep[i] : rep[i] == 1 ? in[i] : in[i] * rep[i];
  }
  dd_set_result(op, 0, op->operands[0]->type.elem, rank, in);
  return true;
}

bool op_expand_infer(IrModule *m, IrOp *op) {
  int64_t in[IR_MAX_RANK];
  const int64_t *v;
  int n;
  bool ex = op->kind == IR_OP_EXPAND;
  if (!dd_input(op, 0, in) ||
      !dm_attr_ints(op, ex ? "shape" : "repeats", &n, &v))
    return false;
  if (n < 0) {
    diag_at(DIAG_ERROR, &op->loc, "%s: missing attribute '%s'", dm_name(op),
            ex ? "shape" : "repeats");
    return false;
  }
  int rank = op->operands[0]->type.rank;
  return ex ? expand_infer(m, op, in, rank, n, v) : tile_infer(m, op, in, rank, n, v);
}

static void expand_lower(LwCtx *c) {
  int64_t out[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK];
  LwNest nest;
  int rank = lw_rank(c->out[0]);
  for (int i = 0; i < rank; i++) out[i] = lw_dim(c->out[0], i);
  if (dd_has_zero(rank, out)) return;
  lw_nest_begin(c, &nest, rank, out, iv);
  lw_broadcast_index(c, c->in[0], rank, out, iv, idx);
  lw_store(c, lw_load(c, c->in[0], idx), c->out[0], iv);
  lw_nest_end(c, &nest);
}

/* A run-time input dim is repeated once (dims[2d] = 1) and a run-time
 * repeat count only multiplies a static dim, so no arithmetic touches a
 * code. */
static void tile_lower(LwCtx *c, IrOp *op) {
  int64_t dims[2 * IR_MAX_RANK], rep[IR_MAX_RANK];
  IrValue *iv[2 * IR_MAX_RANK], *idx[IR_MAX_RANK], *oidx[IR_MAX_RANK];
  LwNest outer, inner;
  const int64_t *v;
  int rank = lw_rank(c->in[0]), n = ir_attr_ints(op, "repeats", &v);
  tile_repeats(c->m, op, n, v, rep);
  for (int d = 0; d < rank; d++) dims[2 * d] = rep[d], dims[2 * d + 1] = lw_dim(c->in[0], d);
  if (dd_has_zero(2 * rank, dims)) return;
  /* An LwNest holds at most IR_MAX_RANK loops: open two. */
  int h = rank;
  lw_nest_begin(c, &outer, h, dims, iv);
  lw_nest_begin(c, &inner, 2 * rank - h, dims + h, iv + h);
  for (int d = 0; d < rank; d++) {
    idx[d] = iv[2 * d + 1];
    oidx[d] = DD_IS_SYM(dims[2 * d + 1])
                  ? iv[2 * d + 1]
                  : lw_bin(c, IR_OP_A_ADD, dm_affine(c, iv[2 * d], dims[2 * d + 1], 0),
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
    tile_lower(c, op);
  return true;
}
