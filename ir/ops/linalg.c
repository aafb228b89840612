/*
 * linalg.c — Det: the determinant of each square matrix in the last two
 * dims of a float tensor.
 *
 * Canonical form: det, no attributes.  The lowering copies one matrix at a
 * time into an f64 scratch buffer and runs Gaussian elimination with
 * partial pivoting (what LAPACK's getrf, behind numpy's det, does): per
 * column k, find the row of the largest |a[i,k]|, swap it up (flipping the
 * sign), multiply the running determinant by the pivot and eliminate below.
 * A zero pivot means a singular matrix: its multipliers are forced to 0 so
 * no NaN appears and the product is 0.
 */
#include "datamove.h"

bool op_det_import(IrModule *m, IrOp *op, int opset) {
  (void)m, (void)op, (void)opset;
  return true;
}

bool op_det_infer(IrModule *m, IrOp *op) {
  (void)m;
  int64_t in[IR_MAX_RANK];
  if (!dm_static_input(op, 0, in)) return false;
  int r = op->operands[0]->type.rank;
  IrElem e = op->operands[0]->type.elem;
  if (r < 2 || in[r - 1] != in[r - 2] || !ir_elem_is_float(e)) {
    char a[256];
    diag_at(DIAG_ERROR, &op->loc,
            "Det: input %s must be float with square matrices in the last two dims",
            dm_type_str(op, 0, a, sizeof a));
    return false;
  }
  dm_set_result(op, 0, e, r - 2, in);
  return true;
}

static IrValue *det_at(LwCtx *c, IrValue *a, IrValue *i, IrValue *j) {
  return lw_load(c, a, (IrValue *[]){i, j});
}

/* The row p >= k with the largest |a[p,k]|. */
static IrValue *det_pivot_row(LwCtx *c, IrValue *a, IrValue *k, int64_t n) {
  IrValue *iv, *it[2], *init[2] = {lw_const_f(c, IR_F64, -1.0), k};
  IrOp *loop = lw_for_begin_iter(c, k, lw_index(c, n), 1, 2, init, &iv, it);
  IrValue *v = lw_un(c, IR_OP_A_ABS, det_at(c, a, iv, k));
  IrValue *better = lw_cmp(c, "gt", v, it[0]);
  IrValue *next[2] = {lw_select(c, better, v, it[0]), lw_select(c, better, iv, it[1])};
  lw_for_end_iter(c, loop, 2, next);
  return loop->results[1];
}

static void det_swap_rows(LwCtx *c, IrValue *a, IrValue *k, IrValue *p, int64_t n) {
  IrValue *j;
  IrOp *loop = lw_for_begin(c, lw_index(c, 0), lw_index(c, n), 1, &j);
  IrValue *x = det_at(c, a, k, j), *y = det_at(c, a, p, j);
  lw_store(c, y, a, (IrValue *[]){k, j});
  lw_store(c, x, a, (IrValue *[]){p, j});
  lw_for_end(c, loop);
}

/* a[i,j] -= a[i,k] / a[k,k] * a[k,j] for i, j > k. */
static void det_eliminate(LwCtx *c, IrValue *a, IrValue *k, IrValue *pivot, int64_t n) {
  IrValue *i, *j, *zero = lw_const_f(c, IR_F64, 0.0);
  IrValue *inv = lw_bin(c, IR_OP_A_DIV, lw_const_f(c, IR_F64, 1.0), pivot);
  inv = lw_select(c, lw_cmp(c, "eq", pivot, zero), zero, inv);
  IrValue *k1 = lw_bin(c, IR_OP_A_ADD, k, lw_index(c, 1));
  IrOp *li = lw_for_begin(c, k1, lw_index(c, n), 1, &i);
  IrValue *f = lw_un(c, IR_OP_A_NEG, lw_bin(c, IR_OP_A_MUL, det_at(c, a, i, k), inv));
  IrOp *lj = lw_for_begin(c, k1, lw_index(c, n), 1, &j);
  IrValue *v = lw_fma(c, f, det_at(c, a, k, j), det_at(c, a, i, j));
  lw_store(c, v, a, (IrValue *[]){i, j});
  lw_for_end(c, lj);
  lw_for_end(c, li);
}

/* The determinant of the matrix in scratch a (destroyed). */
static IrValue *det_of(LwCtx *c, IrValue *a, int64_t n) {
  IrValue *k, *acc, *init = lw_const_f(c, IR_F64, 1.0);
  IrOp *loop = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, n), 1, 1, &init, &k, &acc);
  IrValue *p = det_pivot_row(c, a, k, n);
  det_swap_rows(c, a, k, p, n);
  IrValue *pivot = det_at(c, a, k, k);
  IrValue *d = lw_bin(c, IR_OP_A_MUL, acc, pivot);
  d = lw_select(c, lw_cmp(c, "ne", p, k), lw_un(c, IR_OP_A_NEG, d), d);
  det_eliminate(c, a, k, pivot, n);
  lw_for_end_iter(c, loop, 1, &d);
  return loop->results[0];
}

bool op_det_lower(LwCtx *c, IrOp *op) {
  (void)op;
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK], *i, *j;
  LwNest nest;
  int r = lw_rank(c->in[0]);
  int64_t n = lw_dim(c->in[0], r - 1);
  for (int d = 0; d < r - 2; d++) dims[d] = lw_dim(c->in[0], d);
  if (dm_numel(r - 2, dims) == 0) return true;
  IrValue *a = lw_alloc(c, IR_F64, 2, (int64_t[]){n ? n : 1, n ? n : 1});
  lw_nest_begin(c, &nest, r - 2, dims, iv);
  IrOp *li = lw_for_begin(c, lw_index(c, 0), lw_index(c, n), 1, &i);
  IrOp *lj = lw_for_begin(c, lw_index(c, 0), lw_index(c, n), 1, &j);
  iv[r - 2] = i, iv[r - 1] = j;
  lw_store(c, lw_cast(c, lw_load(c, c->in[0], iv), IR_F64), a, (IrValue *[]){i, j});
  lw_for_end(c, lj);
  lw_for_end(c, li);
  lw_store(c, lw_cast(c, det_of(c, a, n), lw_elem(c->out[0])), c->out[0], iv);
  lw_nest_end(c, &nest);
  return true;
}
