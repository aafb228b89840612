/*
 * reduce.c — ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare/LogSum/LogSumExp
 * and ArgMax/ArgMin.
 *
 * Canonical form: `axes` is an attribute holding sorted non-negative axes
 * (moved there from the second input of opset 13+ ReduceSum / opset 18
 * reductions when that input is constant), `keepdims` is explicit, and
 * noop_with_empty_axes is folded in: axes=[] reduces nothing, i.e. the
 * element map and finish are applied to each element alone (ReduceSum is
 * then the identity).  An absent `axes` means all axes; infer writes them.
 *
 * Each reduction is  finish(combine_i map(x_i))  with
 *   map: x, |x|, x*x   combine: add, mul, max, min   finish: /n, sqrt, log
 * (Max/Min of bools combine with or/and).
 * The lowering loops over the kept dims outside and carries the
 * accumulator through the reduced dims inside; the output is viewed with
 * only the kept dims (same element count as with keepdims).  LogSumExp
 * makes a max pass first and sums exp(x - max).
 *
 * ReduceSum/Mean/Max take run-time dims (OPF_DYN; the others share the
 * code): dims are carried as lw_dim codes, loop bounds come from dim.get
 * where a dim is a run-time one, and a mean over a run-time dim divides by
 * the element count computed at run time.
 */
#include <stdlib.h>

#include "nn_util.h"

static bool rd_any_dyn(int n, const int64_t *dims) {
  for (int i = 0; i < n; i++)
    if (LW_DIM_IS_DYN(dims[i])) return true;
  return false;
}

static bool reduce_is_arg(const IrOp *op) {
  return op->kind == IR_OP_ARGMAX || op->kind == IR_OP_ARGMIN;
}

/* The axes input of newer opsets becomes the canonical attribute. */
static bool reduce_axes_input(IrModule *m, IrOp *op) {
  IrValue *a = op->operands[1];
  op->num_operands = 1;
  if (!a) return true;
  if (a->type.kind == IR_TYPE_TENSOR && ir_type_is_static(&a->type)) {
    uint64_t n = 0;
    ir_type_numel(&a->type, &n);
    if (n == 0) return true;  /* statically empty: same as absent */
    if (a->weight && a->weight->data && ir_elem_is_int(a->type.elem) &&
        n <= IR_MAX_RANK) {
      int64_t axes[IR_MAX_RANK];
      for (uint64_t i = 0; i < n; i++)
        axes[i] = ir_elem_load_i64(a->type.elem, a->weight->data, i);
      ir_attr_set_ints(m, op, "axes", (int)n, axes);
      return true;
    }
  }
  diag_at(DIAG_ERROR, &op->loc, "input 'axes' must be a constant (initializer "
          "or Constant) in tcc");
  return false;
}

bool op_reduce_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  int64_t noop = 0;
  if (!nn_attr_int_canon(m, op, "keepdims", 1, NULL)) return false;
  if (reduce_is_arg(op))
    return nn_attr_int_canon(m, op, "axis", 0, NULL) &&
           nn_attr_int_canon(m, op, "select_last_index", 0, NULL);
  if (!nn_attr_kind(op, "axes", IR_ATTR_INTS) ||
      !nn_attr_kind(op, "noop_with_empty_axes", IR_ATTR_INT))
    return false;
  noop = ir_attr_int(op, "noop_with_empty_axes", 0);
  ir_attr_remove(op, "noop_with_empty_axes");
  if (op->num_operands > 1 && !reduce_axes_input(m, op)) return false;
  const int64_t *axes;
  if (ir_attr_ints(op, "axes", &axes) > 0) return true;
  if (noop)
    ir_attr_set_ints(m, op, "axes", 0, NULL);
  else
    ir_attr_remove(op, "axes"); /* all axes; infer writes them */
  return true;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Normalized, sorted axes into out; the reduced-dim mask into red. */
static bool reduce_axes(const IrOp *op, int rank, int64_t *out, int *n,
                        bool *red) {
  const int64_t *axes;
  int k = ir_attr_ints(op, "axes", &axes);
  if (k > rank) {
    diag_at(DIAG_ERROR, &op->loc, "%s: %d axes given for rank %d", nn_name(op), k,
            rank);
    return false;
  }
  for (int i = 0; i < rank; i++) red[i] = k < 0, out[i] = i;
  if (k < 0) return *n = rank, true;
  for (int i = 0; i < k; i++)
    if (!nn_norm_axis(op, axes[i], rank, &out[i])) return false;
  qsort(out, (size_t)k, sizeof *out, cmp_i64);
  for (int i = 0; i < k; i++) {
    if (i && out[i] == out[i - 1]) {
      diag_at(DIAG_ERROR, &op->loc, "%s: axis %lld appears twice", nn_name(op),
              (long long)out[i]);
      return false;
    }
    red[out[i]] = true;
  }
  *n = k;
  return true;
}

static unsigned reduce_types(const IrOp *op) {
  switch (op->kind) {
  case IR_OP_REDUCE_L2: case IR_OP_REDUCE_LOG_SUM: case IR_OP_REDUCE_LOG_SUM_EXP:
    return NN_FLOAT;
  case IR_OP_REDUCE_MAX: case IR_OP_REDUCE_MIN:
    return NN_FLOAT | NN_INT | NN_BOOL;
  default: return NN_FLOAT | NN_INT;
  }
}

static bool argmax_infer(IrOp *op) {
  const IrType *t = &op->operands[0]->type;
  int64_t axis, dims[IR_MAX_RANK];
  int r = nn_dims(op->operands[0], dims), o = 0;
  if (!nn_norm_axis(op, ir_attr_int(op, "axis", 0), t->rank, &axis)) return false;
  bool keep = ir_attr_int(op, "keepdims", 1) != 0;
  for (int i = 0; i < r; i++)
    if (i != axis)
      dims[o++] = dims[i];
    else if (keep)
      dims[o++] = 1;
  op->results[0]->type = ir_type_tensor(IR_I64, o, dims);
  return true;
}

bool op_reduce_infer(IrModule *m, IrOp *op) {
  if (!nn_check_operand_dyn(op, 0, "data", reduce_types(op))) return false;
  if (reduce_is_arg(op)) return argmax_infer(op);
  const IrType *t = &op->operands[0]->type;
  int64_t axes[IR_MAX_RANK], dims[IR_MAX_RANK];
  bool red[IR_MAX_RANK];
  int n, r = lw_dims(op->operands[0], dims), o = 0;
  if (!reduce_axes(op, r, axes, &n, red)) return false;
  ir_attr_set_ints(m, op, "axes", n, axes);
  bool keep = ir_attr_int(op, "keepdims", 1) != 0;
  for (int i = 0; i < r; i++)
    if (!red[i])
      dims[o++] = dims[i];
    else if (keep)
      dims[o++] = 1;
  op->results[0]->type = lw_type(IR_TYPE_TENSOR, t->elem, o, dims);
  return true;
}

/* ----------------------------------------------------------- lowering */

typedef struct RdCtx {
  IrOpKind kind;
  IrValue *X;
  int r, nk, nr;                  /* rank, kept dims, reduced dims */
  int64_t x[IR_MAX_RANK], kd[IR_MAX_RANK], rd[IR_MAX_RANK];
  bool red[IR_MAX_RANK];
  IrElem ce;
} RdCtx;

/* Loads X at the kept indices ki and reduced indices ri. */
static IrValue *rd_load(LwCtx *c, const RdCtx *s, IrValue *const *ki,
                        IrValue *const *ri) {
  IrValue *xi[IR_MAX_RANK];
  for (int i = 0, a = 0, b = 0; i < s->r; i++) xi[i] = s->red[i] ? ri[b++] : ki[a++];
  return nn_load(c, s->X, xi);
}

static IrValue *rd_map(LwCtx *c, IrOpKind k, IrValue *x) {
  switch (k) {
  case IR_OP_REDUCE_L1: return lw_un(c, IR_OP_A_ABS, x);
  case IR_OP_REDUCE_L2: case IR_OP_REDUCE_SUM_SQUARE: return lw_bin(c, IR_OP_A_MUL, x, x);
  default: return x;
  }
}

/* On bool, max is or and min is and. */
static IrOpKind rd_combine(IrOpKind k, IrElem e) {
  if (e == IR_BOOL && (k == IR_OP_REDUCE_MAX || k == IR_OP_REDUCE_MIN))
    return k == IR_OP_REDUCE_MAX ? IR_OP_A_OR : IR_OP_A_AND;
  switch (k) {
  case IR_OP_REDUCE_MAX: return IR_OP_A_MAX;
  case IR_OP_REDUCE_MIN: return IR_OP_A_MIN;
  case IR_OP_REDUCE_PROD: return IR_OP_A_MUL;
  default: return IR_OP_A_ADD;
  }
}

static IrValue *rd_init(LwCtx *c, IrOpKind k, IrElem e) {
  if (e == IR_BOOL) return lw_const_i(c, e, k == IR_OP_REDUCE_MIN);
  switch (k) {
  case IR_OP_REDUCE_MAX: return nn_lowest(c, e);
  case IR_OP_REDUCE_MIN: return nn_highest(c, e);
  case IR_OP_REDUCE_PROD: return lw_const_f(c, e, 1);
  default: return lw_const_f(c, e, 0);
  }
}

/* One pass over the reduced dims: combine(map(x - shift)), or max when
 * kind is REDUCE_MAX (the LogSumExp pre-pass). */
static IrValue *rd_pass(LwCtx *c, const RdCtx *s, IrOpKind kind, IrValue *const *ki,
                        IrValue *shift) {
  IrValue *ri[IR_MAX_RANK], *acc = rd_init(c, kind, s->ce), *hi[IR_MAX_RANK];
  bool dyn = rd_any_dyn(s->nr, s->rd);
  for (int i = 0; dyn && i < s->nr; i++) hi[i] = lw_dim_index(c, s->rd[i]);
  NnIterNest nest;
  nn_iter_nest_begin(c, &nest, s->nr, NULL, dyn ? hi : NULL, s->rd, 1, &acc, ri);
  IrValue *x = rd_load(c, s, ki, ri);
  if (shift) x = lw_un(c, IR_OP_M_EXP, lw_bin(c, IR_OP_A_SUB, x, shift));
  acc = lw_bin(c, rd_combine(kind, s->ce), acc, rd_map(c, kind, x));
  nn_iter_nest_end(c, &nest, &acc);
  return acc;
}

static IrValue *rd_value(LwCtx *c, const RdCtx *s, IrValue *const *ki) {
  if (s->kind == IR_OP_REDUCE_LOG_SUM_EXP) {
    IrValue *max = rd_pass(c, s, IR_OP_REDUCE_MAX, ki, NULL);
    /* all -inf (or nothing): shift by 0 so the result is log(0) = -inf */
    IrValue *ninf = lw_cmp(c, "eq", max, nn_lowest(c, s->ce));
    max = lw_select(c, ninf, lw_const_f(c, s->ce, 0), max);
    IrValue *sum = rd_pass(c, s, IR_OP_REDUCE_SUM, ki, max);
    return lw_bin(c, IR_OP_A_ADD, max, lw_un(c, IR_OP_M_LOG, sum));
  }
  IrValue *v = rd_pass(c, s, s->kind, ki, NULL);
  switch (s->kind) {
  case IR_OP_REDUCE_MEAN:
    if (rd_any_dyn(s->nr, s->rd))
      return lw_bin(c, IR_OP_A_DIV, v,
                    lw_cast(c, lw_dims_product(c, s->nr, s->rd), s->ce));
    return lw_bin(c, IR_OP_A_DIV, v, lw_const_f(c, s->ce, (double)nn_numel(s->rd, s->nr)));
  case IR_OP_REDUCE_L2: return lw_un(c, IR_OP_M_SQRT, v);
  case IR_OP_REDUCE_LOG_SUM: return lw_un(c, IR_OP_M_LOG, v);
  default: return v;
  }
}

static bool reduce_lower(LwCtx *c, IrOp *op) {
  RdCtx s = {.kind = op->kind, .X = c->in[0], .ce = nn_calc_elem(lw_elem(c->in[0]))};
  int64_t axes[IR_MAX_RANK];
  int n;
  s.r = lw_dims(s.X, s.x);
  if (!reduce_axes(op, s.r, axes, &n, s.red)) return false;
  for (int i = 0; i < s.r; i++)
    if (s.red[i])
      s.rd[s.nr++] = s.x[i];
    else
      s.kd[s.nk++] = s.x[i];
  IrValue *Y = c->out[0], *ki[IR_MAX_RANK];
  if (!rd_any_dyn(s.nk, s.kd)) {
    Y = nn_view(c, Y, s.nk, s.kd);
  } else {
    IrType t = lw_type(IR_TYPE_BUFFER, lw_elem(Y), s.nk, s.kd);
    if (!ir_type_equal(&t, &Y->type)) Y = ir_build1(&c->b, IR_OP_VIEW, 1, &Y, t);
  }
  LwNest nest;
  lw_nest_begin(c, &nest, s.nk, s.kd, ki);
  nn_store(c, rd_value(c, &s, ki), Y, ki);
  lw_nest_end(c, &nest);
  return true;
}

/* ArgMax/ArgMin over X viewed as [outer, axis, inner]. */
static bool argmax_lower(LwCtx *c, IrOp *op) {
  int64_t x[IR_MAX_RANK], axis;
  int r = nn_dims(c->in[0], x);
  if (!nn_norm_axis(op, ir_attr_int(op, "axis", 0), r, &axis)) return false;
  int64_t d3[3] = {nn_numel(x, (int)axis), x[axis],
                   nn_numel(x + axis + 1, r - (int)axis - 1)};
  IrValue *X = nn_view(c, c->in[0], 3, d3);
  IrValue *Y = nn_view(c, c->out[0], 2, (int64_t[]){d3[0], d3[2]});
  bool max = op->kind == IR_OP_ARGMAX, last = ir_attr_int(op, "select_last_index", 0);
  const char *pred = max ? (last ? "ge" : "gt") : (last ? "le" : "lt");
  IrElem ce = nn_calc_elem(lw_elem(X));
  IrValue *ivs[2], *k;
  LwNest nest;
  lw_nest_begin(c, &nest, 2, (int64_t[]){d3[0], d3[2]}, ivs);
  IrValue *vals[2] = {max ? nn_lowest(c, ce) : nn_highest(c, ce), lw_index(c, 0)};
  NnIterNest in;
  nn_iter_nest_begin(c, &in, 1, NULL, NULL, &d3[1], 2, vals, &k);
  IrValue *v = nn_load(c, X, (IrValue *[]){ivs[0], k, ivs[1]});
  IrValue *better = lw_cmp(c, pred, v, vals[0]);
  vals[0] = lw_select(c, better, v, vals[0]);
  vals[1] = lw_select(c, better, k, vals[1]);
  nn_iter_nest_end(c, &in, vals);
  lw_store(c, lw_cast(c, vals[1], IR_I64), Y, ivs);
  lw_nest_end(c, &nest);
  return true;
}

bool op_reduce_lower(LwCtx *c, IrOp *op) {
  return reduce_is_arg(op) ? argmax_lower(c, op) : reduce_lower(c, op);
}
