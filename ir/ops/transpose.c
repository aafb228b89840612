/*
 * transpose.c — Transpose and its relatives DepthToSpace / SpaceToDepth,
 * which are a reshape, a fixed transpose and a reshape in one.
 *
 * Canonical form: transpose {perm} (explicit once the input rank is known),
 * depth_to_space {blocksize, mode}, space_to_depth {blocksize}.
 *
 * Lowerings loop over the OUTPUT in row-major order, so stores are
 * contiguous in the innermost loop and loads are a gather; index arithmetic
 * is adds and multiplies by constants, no div/mod.
 *
 * Transpose takes run-time dims (OPF_DYN): a dim moves with its sym, and
 * the loops are bounded by dim.get where a dim is a run-time one.
 */
#include <string.h>

#include "datamove.h"

static bool transpose_import(IrModule *m, IrOp *op) {
  int n;
  const int64_t *perm;
  if (!dm_attr_ints(op, "perm", &n, &perm)) return false;
  IrValue *x = dm_operand(op, 0);
  bool dyn = x && x->type.kind == IR_TYPE_TENSOR && !ir_type_is_static(&x->type);
  if (n < 0 && (dm_type_known(op, 0) || dyn)) {
    int64_t rev[IR_MAX_RANK];
    int rank = op->operands[0]->type.rank;
    for (int i = 0; i < rank; i++) rev[i] = rank - 1 - i;
    ir_attr_set_ints(m, op, "perm", rank, rev);
  }
  return true;
}

/* perm (default: reversed) checked to be a permutation of 0..rank-1. */
static bool transpose_perm(const IrOp *op, int rank, int *perm) {
  const int64_t *p;
  int n;
  bool seen[IR_MAX_RANK] = {false};
  char buf[256];
  if (!dm_attr_ints(op, "perm", &n, &p)) return false;
  if (n < 0) {
    for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
    return true;
  }
  bool ok = n == rank;
  for (int i = 0; ok && i < n; i++) {
    ok = p[i] >= 0 && p[i] < rank && !seen[p[i]];
    if (ok) seen[p[i]] = true, perm[i] = (int)p[i];
  }
  if (!ok)
    diag_at(DIAG_ERROR, &op->loc,
            "Transpose: perm %s is not a permutation of 0..%d", dm_ints_str(buf, sizeof buf, n, p),
            rank - 1);
  return ok;
}

static bool transpose_infer(IrOp *op) {
  int64_t in[IR_MAX_RANK], out[IR_MAX_RANK];
  int perm[IR_MAX_RANK];
  IrValue *x = dm_operand(op, 0);
  if (x && x->type.kind == IR_TYPE_TENSOR && !ir_type_is_static(&x->type)) {
    /* run-time dims move with their syms */
    IrType t = x->type;
    if (!transpose_perm(op, t.rank, perm)) return false;
    for (int i = 0; i < t.rank; i++) t.dims[i] = x->type.dims[perm[i]];
    op->results[0]->type = t;
    return true;
  }
  if (!dm_static_input(op, 0, in)) return false;
  int rank = op->operands[0]->type.rank;
  if (!transpose_perm(op, rank, perm)) return false;
  for (int i = 0; i < rank; i++) out[i] = in[perm[i]];
  dm_set_result(op, 0, op->operands[0]->type.elem, rank, out);
  return true;
}

static bool transpose_lower(LwCtx *c, IrOp *op) {
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK];
  int64_t out[IR_MAX_RANK];
  int perm[IR_MAX_RANK], rank = lw_rank(c->out[0]);
  LwNest nest;
  if (!transpose_perm(op, rank, perm)) return false;
  bool dyn = false;
  for (int i = 0; i < rank; i++) {
    out[i] = lw_dim(c->out[0], i);
    dyn |= LW_DIM_IS_DYN(out[i]);
  }
  if (!dyn && dm_numel(rank, out) == 0) return true;
  lw_nest_begin(c, &nest, rank, out, iv);
  lw_nest_parallel(c, &nest, out, lw_elem(c->out[0]));
  for (int i = 0; i < rank; i++) idx[perm[i]] = iv[i];
  lw_store(c, lw_load(c, c->in[0], idx), c->out[0], iv);
  lw_nest_end(c, &nest);
  return true;
}

/* ------------------------------------------- DepthToSpace, SpaceToDepth */
static bool d2s_import(IrModule *m, IrOp *op) {
  int64_t bs;
  const char *mode;
  if (!dm_attr_int(op, "blocksize", 0, &bs) ||
      !dm_attr_string(op, "mode", "DCR", &mode))
    return false;
  if (bs <= 0) {
    diag_at(DIAG_ERROR, &op->loc, "%s: attribute 'blocksize' must be a positive int",
            dm_name(op));
    return false;
  }
  if (op->kind == IR_OP_DEPTH_TO_SPACE) {
    if (strcmp(mode, "DCR") && strcmp(mode, "CRD")) {
      diag_at(DIAG_ERROR, &op->loc,
              "DepthToSpace: attribute 'mode' must be \"DCR\" or \"CRD\", not \"%s\"", mode);
      return false;
    }
    ir_attr_set_string(m, op, "mode", mode);
  }
  return true;
}

static bool d2s_infer(IrOp *op) {
  int64_t in[IR_MAX_RANK], out[4], bs;
  if (!dm_static_input(op, 0, in) || !dm_attr_int(op, "blocksize", 0, &bs))
    return false;
  bool d2s = op->kind == IR_OP_DEPTH_TO_SPACE;
  if (op->operands[0]->type.rank != 4 || bs <= 0) {
    diag_at(DIAG_ERROR, &op->loc, "%s: input must have rank 4 and blocksize > 0",
            dm_name(op));
    return false;
  }
  if (d2s ? in[1] % (bs * bs) != 0 : (in[2] % bs != 0 || in[3] % bs != 0)) {
    diag_at(DIAG_ERROR, &op->loc, "%s: %s not divisible by blocksize %s%lld",
            dm_name(op), d2s ? "channels" : "height or width", d2s ? "squared " : "",
            (long long)(d2s ? bs * bs : bs));
    return false;
  }
  out[0] = in[0];
  out[1] = d2s ? in[1] / (bs * bs) : in[1] * bs * bs;
  out[2] = d2s ? in[2] * bs : in[2] / bs;
  out[3] = d2s ? in[3] * bs : in[3] / bs;
  dm_set_result(op, 0, op->operands[0]->type.elem, 4, out);
  return true;
}

static IrValue *add3(LwCtx *c, IrValue *a, IrValue *b, IrValue *d) {
  return lw_bin(c, IR_OP_A_ADD, lw_bin(c, IR_OP_A_ADD, a, b), d);
}

/* Loops (n, c, h, i, w, j) over out[n, c, h*b+i, w*b+j]; the input channel
 * is (i*b+j)*C'+c (DCR) or c*b*b+i*b+j (CRD). */
static void d2s_lower(LwCtx *c, IrOp *op, int64_t b) {
  int64_t C = lw_dim(c->out[0], 1);
  int64_t dims[6] = {lw_dim(c->out[0], 0), C, lw_dim(c->in[0], 2), b,
                     lw_dim(c->in[0], 3), b};
  IrValue *v[6], *in_idx[4], *out_idx[4];
  LwNest nest;
  bool dcr = !strcmp(ir_attr_string(op, "mode", "DCR"), "DCR");
  lw_nest_begin(c, &nest, 6, dims, v);
  in_idx[0] = out_idx[0] = v[0];
  in_idx[1] = dcr ? add3(c, v[1], dm_affine(c, v[3], b * C, 0), dm_affine(c, v[5], C, 0))
                  : add3(c, dm_affine(c, v[1], b * b, 0), dm_affine(c, v[3], b, 0), v[5]);
  in_idx[2] = v[2];
  in_idx[3] = v[4];
  out_idx[1] = v[1];
  out_idx[2] = lw_bin(c, IR_OP_A_ADD, dm_affine(c, v[2], b, 0), v[3]);
  out_idx[3] = lw_bin(c, IR_OP_A_ADD, dm_affine(c, v[4], b, 0), v[5]);
  lw_store(c, lw_load(c, c->in[0], in_idx), c->out[0], out_idx);
  lw_nest_end(c, &nest);
}

/* Loops (n, i, j, c, h, w) over out[n, (i*b+j)*C+c, h, w] reading
 * in[n, c, h*b+i, w*b+j]. */
static void s2d_lower(LwCtx *c, int64_t b) {
  int64_t C = lw_dim(c->in[0], 1);
  int64_t dims[6] = {lw_dim(c->in[0], 0), b, b, C, lw_dim(c->out[0], 2),
                     lw_dim(c->out[0], 3)};
  IrValue *v[6], *in_idx[4], *out_idx[4];
  LwNest nest;
  lw_nest_begin(c, &nest, 6, dims, v);
  in_idx[0] = out_idx[0] = v[0];
  in_idx[1] = v[3];
  in_idx[2] = lw_bin(c, IR_OP_A_ADD, dm_affine(c, v[4], b, 0), v[1]);
  in_idx[3] = lw_bin(c, IR_OP_A_ADD, dm_affine(c, v[5], b, 0), v[2]);
  out_idx[1] = add3(c, dm_affine(c, v[1], b * C, 0), dm_affine(c, v[2], C, 0), v[3]);
  out_idx[2] = v[4];
  out_idx[3] = v[5];
  lw_store(c, lw_load(c, c->in[0], in_idx), c->out[0], out_idx);
  lw_nest_end(c, &nest);
}

bool op_transpose_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  return op->kind == IR_OP_TRANSPOSE ? transpose_import(m, op) : d2s_import(m, op);
}

bool op_transpose_infer(IrModule *m, IrOp *op) {
  (void)m;
  return op->kind == IR_OP_TRANSPOSE ? transpose_infer(op) : d2s_infer(op);
}

bool op_transpose_lower(LwCtx *c, IrOp *op) {
  if (op->kind == IR_OP_TRANSPOSE) return transpose_lower(c, op);
  uint64_t n = 0;
  ir_type_numel(&c->out[0]->type, &n);
  if (n == 0) return true;
  int64_t b = ir_attr_int(op, "blocksize", 1);
  if (op->kind == IR_OP_DEPTH_TO_SPACE)
    d2s_lower(c, op, b);
  else
    s2d_lower(c, b);
  return true;
}
