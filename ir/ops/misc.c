/*
 * misc.c — CumSum, CumProd and TopK.
 *
 * All take a constant from a second input (the scans' axis, TopK's k since
 * opset 10) and keep it as an attribute; all view X as [outer, A, inner]
 * around the axis.
 *
 * CumSum and CumProd are one scan with op (+ or *) and its identity (0 or
 * 1).  It runs row by row along the axis so the innermost loop walks the
 * contiguous inner dim:  Y[r(0)] = X[r(0)] (exclusive: the identity) and
 *   Y[r(a)] = Y[r(a-1)] op X[r(a)]   (exclusive: op X[r(a-1)])
 * with r(a) = A-1-a when reversed.
 *
 * TopK is a selection: pick j is the best element that comes after pick
 * j-1 in the order (value descending for largest, ascending for smallest;
 * ties by lower index first, as the ONNX reference's stable sort gives).
 * That needs no scratch marks: O(k * A) per row, fine for the small k that
 * models use.  The output is always sorted (sorted=0 allows any order).
 */
#include "nn_util.h"

/* Constant integer operand i (one element) into INT attribute attr and
 * drops the operands from i on. */
static bool misc_const_int(IrModule *m, IrOp *op, int i, const char *input,
                           const char *attr) {
  IrValue *v = i < op->num_operands ? op->operands[i] : NULL;
  uint64_t n = 0;
  if (v && v->type.kind == IR_TYPE_TENSOR && ir_type_is_static(&v->type))
    ir_type_numel(&v->type, &n);
  if (!v || !v->weight || !v->weight->data || n != 1 ||
      !ir_elem_is_int(v->type.elem)) {
    diag_at(DIAG_ERROR, &op->loc, "input '%s' must be a constant (initializer "
            "or Constant) in tcc", input);
    return false;
  }
  ir_attr_set_int(m, op, attr, ir_elem_load_i64(v->type.elem, v->weight->data, 0));
  op->num_operands = i;
  return true;
}

/* [outer, A, inner] around the (normalized) axis of X. */
static void misc_view3(const IrValue *x, int axis, int64_t *d3) {
  int64_t d[IR_MAX_RANK];
  int r = nn_dims(x, d);
  d3[0] = nn_numel(d, axis), d3[1] = d[axis];
  d3[2] = nn_numel(d + axis + 1, r - axis - 1);
}

/* ------------------------------------------------------ CumSum, CumProd */

bool op_cumsum_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  if (!nn_attr_int_canon(m, op, "exclusive", 0, NULL) ||
      !nn_attr_int_canon(m, op, "reverse", 0, NULL))
    return false;
  if (op->num_operands == 1 && ir_attr_get(op, "axis"))
    return nn_attr_kind(op, "axis", IR_ATTR_INT);
  return misc_const_int(m, op, 1, "axis", "axis");
}

bool op_cumsum_infer(IrModule *m, IrOp *op) {
  (void)m;
  int64_t axis;
  if (!nn_check_operand(op, 0, "x", NN_FLOAT | NN_INT) ||
      !nn_check_rank_min(op, 0, "x", 1) ||
      !nn_norm_axis(op, ir_attr_int(op, "axis", 0), op->operands[0]->type.rank, &axis))
    return false;
  op->results[0]->type = op->operands[0]->type;
  return true;
}

bool op_cumsum_lower(LwCtx *c, IrOp *op) {
  int64_t axis, d3[3];
  if (!nn_norm_axis(op, ir_attr_int(op, "axis", 0), lw_rank(c->in[0]), &axis))
    return false;
  misc_view3(c->in[0], (int)axis, d3);
  IrValue *X = nn_view(c, c->in[0], 3, d3), *Y = nn_view(c, c->out[0], 3, d3);
  bool excl = ir_attr_int(op, "exclusive", 0), rev = ir_attr_int(op, "reverse", 0);
  bool prod = op->kind == IR_OP_CUMPROD;
  int64_t A = d3[1];
  IrValue *iv[3], *a;
  LwNest nest;
  /* the first row */
  lw_nest_begin(c, &nest, 3, (int64_t[]){d3[0], 1, d3[2]}, iv);
  iv[1] = lw_index(c, rev ? A - 1 : 0);
  IrValue *v0 = excl ? lw_const_f(c, nn_calc_elem(lw_elem(X)), prod ? 1 : 0)
                     : nn_load(c, X, iv);
  nn_store(c, v0, Y, iv);
  lw_nest_end(c, &nest);
  /* the rest: a = 1 .. A-1 */
  IrOp *lo = lw_for_begin(c, lw_index(c, 0), lw_index(c, d3[0]), 1, &iv[0]);
  IrOp *la = lw_for_begin(c, lw_index(c, 1), lw_index(c, A), 1, &a);
  IrValue *cur = rev ? lw_bin(c, IR_OP_A_SUB, lw_index(c, A - 1), a) : a;
  IrValue *prev = rev ? nn_lin(c, cur, 1, 1) : nn_lin(c, a, 1, -1);
  IrOp *li = lw_for_begin(c, lw_index(c, 0), lw_index(c, d3[2]), 1, &iv[2]);
  IrValue *p = nn_load(c, Y, (IrValue *[]){iv[0], prev, iv[2]});
  IrValue *x = nn_load(c, X, (IrValue *[]){iv[0], excl ? prev : cur, iv[2]});
  nn_store(c, lw_bin(c, prod ? IR_OP_A_MUL : IR_OP_A_ADD, p, x), Y, (IrValue *[]){iv[0], cur, iv[2]});
  lw_for_end(c, li);
  lw_for_end(c, la);
  lw_for_end(c, lo);
  return true;
}

/* ----------------------------------------------------------------- TopK */

bool op_topk_import(IrModule *m, IrOp *op, int opset) {
  if (!nn_attr_int_canon(m, op, "axis", -1, NULL) ||
      !nn_attr_int_canon(m, op, "largest", 1, NULL) ||
      !nn_attr_int_canon(m, op, "sorted", 1, NULL))
    return false;
  if (opset < 10 || (op->num_operands == 1 && ir_attr_get(op, "k"))) {
    if (!ir_attr_get(op, "k")) {
      diag_at(DIAG_ERROR, &op->loc, "attribute 'k' is required");
      return false;
    }
    return nn_attr_kind(op, "k", IR_ATTR_INT);
  }
  return misc_const_int(m, op, 1, "K", "k");
}

bool op_topk_infer(IrModule *m, IrOp *op) {
  (void)m;
  int64_t axis, d[IR_MAX_RANK];
  if (!nn_check_operand(op, 0, "X", NN_FLOAT | NN_INT) ||
      !nn_check_rank_min(op, 0, "X", 1))
    return false;
  int r = nn_dims(op->operands[0], d);
  if (!nn_norm_axis(op, ir_attr_int(op, "axis", -1), r, &axis)) return false;
  int64_t k = ir_attr_int(op, "k", 1);
  if (k < 0 || k > d[axis]) {
    diag_at(DIAG_ERROR, &op->loc, "TopK: k=%lld is out of range for axis %lld of "
            "size %lld", (long long)k, (long long)axis, (long long)d[axis]);
    return false;
  }
  d[axis] = k;
  op->results[0]->type = ir_type_tensor(op->operands[0]->type.elem, r, d);
  if (op->num_results > 1) op->results[1]->type = ir_type_tensor(IR_I64, r, d);
  return true;
}

/* x comes strictly after (pv, pi) in the order. */
static IrValue *topk_after(LwCtx *c, bool largest, IrValue *x, IrValue *i,
                           IrValue *pv, IrValue *pi) {
  IrValue *beyond = lw_cmp(c, largest ? "lt" : "gt", x, pv);
  IrValue *tie = lw_bin(c, IR_OP_A_AND, lw_cmp(c, "eq", x, pv), lw_cmp(c, "gt", i, pi));
  return lw_bin(c, IR_OP_A_OR, beyond, tie);
}

/* One pick over the row: vals = {best, bi}; prev = {pv, pi}. */
static void topk_pick(LwCtx *c, bool largest, IrValue *X, IrValue *const *oi,
                      int64_t A, IrValue *const *prev, IrValue **vals) {
  IrValue *a;
  NnIterNest nest;
  nn_iter_nest_begin(c, &nest, 1, NULL, NULL, &A, 2, vals, &a);
  IrValue *x = lw_load(c, X, (IrValue *[]){oi[0], a, oi[1]});
  IrValue *ok = topk_after(c, largest, x, a, prev[0], prev[1]);
  IrValue *better = lw_bin(c, IR_OP_A_OR, lw_cmp(c, largest ? "gt" : "lt", x, vals[0]),
                           lw_cmp(c, "lt", vals[1], lw_index(c, 0)));
  IrValue *take = lw_bin(c, IR_OP_A_AND, ok, better);
  vals[0] = lw_select(c, take, x, vals[0]);
  vals[1] = lw_select(c, take, a, vals[1]);
  nn_iter_nest_end(c, &nest, vals);
}

bool op_topk_lower(LwCtx *c, IrOp *op) {
  int64_t axis, d3[3];
  if (!nn_norm_axis(op, ir_attr_int(op, "axis", -1), lw_rank(c->in[0]), &axis))
    return false;
  misc_view3(c->in[0], (int)axis, d3);
  int64_t k = ir_attr_int(op, "k", 1), A = d3[1], o3[3] = {d3[0], k, d3[2]};
  IrValue *X = nn_view(c, c->in[0], 3, d3), *V = nn_view(c, c->out[0], 3, o3);
  IrValue *I = op->num_results > 1 ? nn_view(c, c->out[1], 3, o3) : NULL;
  bool largest = ir_attr_int(op, "largest", 1) != 0;
  IrElem e = lw_elem(X);
  IrValue *oi[2], *j;
  LwNest nest;
  lw_nest_begin(c, &nest, 2, (int64_t[]){d3[0], d3[2]}, oi);
  IrValue *prev[2] = {largest ? nn_highest(c, e) : nn_lowest(c, e), lw_index(c, -1)};
  IrOp *lj = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, k), 1, 2, prev, &j, prev);
  IrValue *vals[2] = {largest ? nn_lowest(c, e) : nn_highest(c, e), lw_index(c, -1)};
  topk_pick(c, largest, X, oi, A, prev, vals);
  IrValue *at[3] = {oi[0], j, oi[1]};
  lw_store(c, vals[0], V, at);
  if (I) lw_store(c, lw_cast(c, vals[1], IR_I64), I, at);
  lw_for_end_iter(c, lj, 2, vals);
  lw_nest_end(c, &nest);
  return true;
}
