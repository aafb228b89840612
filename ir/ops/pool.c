/*
 * pool.c — MaxPool (with the optional Indices output), AveragePool,
 * GlobalAveragePool, GlobalMaxPool; N-D.
 *
 * Windowed pools walk the output positions and reduce each window in
 * loop-carried values.  Padding is never materialized: per output position
 * and spatial dim the range of kernel offsets whose input lies inside X is
 * computed before the kernel loops (nn_valid_range), so the innermost loop
 * has no conditions; when no window can be clipped the bounds are constants.
 * AveragePool divides by the number of in-range elements, or with
 * count_include_pad by those inside the padded extent.  Global pools view
 * X as [N*C, spatial] and reduce each contiguous row.
 */
#include "nn_util.h"

static bool pool_is_global(const IrOp *op) {
  return op->kind == IR_OP_GLOBAL_AVERAGE_POOL || op->kind == IR_OP_GLOBAL_MAX_POOL;
}

bool op_pool_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  if (pool_is_global(op)) return true;
  int64_t v;
  if (!nn_attr_int_canon(m, op, "ceil_mode", 0, NULL) ||
      !nn_window_import(m, op, 0, NULL))
    return false;
  if (op->kind == IR_OP_MAX_POOL) {
    if (!nn_attr_int_canon(m, op, "storage_order", 0, &v)) return false;
    if (v != 0 && v != 1) {
      diag_at(DIAG_ERROR, &op->loc, "attribute 'storage_order' must be 0 or 1");
      return false;
    }
  } else if (!nn_attr_int_canon(m, op, "count_include_pad", 0, NULL)) {
    return false;
  }
  return nn_window_resolve_x(m, op, op->operands[0]);
}

bool op_pool_infer(IrModule *m, IrOp *op) {
  unsigned ok = op->kind == IR_OP_MAX_POOL ? NN_FLOAT | NN_INT : NN_FLOAT;
  if (!nn_check_operand(op, 0, "X", ok) || !nn_check_rank_min(op, 0, "X", 3))
    return false;
  const IrType *t = &op->operands[0]->type;
  int64_t x[IR_MAX_RANK];
  int r = nn_dims(op->operands[0], x);
  if (pool_is_global(op)) {
    for (int i = 2; i < r; i++) x[i] = 1;
  } else {
    NnWindow w;
    if (!nn_window_resolve(m, op, x + 2, r - 2) ||
        !nn_window_get(op, r - 2, x + 2, ir_attr_int(op, "ceil_mode", 0), &w))
      return false;
    for (int i = 2; i < r; i++) x[i] = w.out[i - 2];
  }
  op->results[0]->type = ir_type_tensor(t->elem, r, x);
  if (op->num_results > 1) op->results[1]->type = ir_type_tensor(IR_I64, r, x);
  return true;
}

typedef struct PoolCtx {
  IrValue *X, *Y, *I;     /* I: MaxPool indices or NULL */
  NnWindow w;
  int64_t x[IR_MAX_RANK], y[IR_MAX_RANK];
  bool max, include_pad, col_major;
  IrElem ce;
} PoolCtx;

/* Per spatial dim: the kernel range [lo, hi) and base = o*s - pb. */
static void pool_ranges(LwCtx *c, const PoolCtx *p, IrValue *const *o,
                        IrValue **lo, IrValue **hi, IrValue **base) {
  const NnWindow *w = &p->w;
  for (int i = 0; i < w->n; i++) {
    base[i] = nn_lin(c, o[i], w->s[i], -w->pb[i]);
    if (w->pb[i] == 0 && (w->out[i] - 1) * w->s[i] + (w->k[i] - 1) * w->d[i] < w->in[i])
      lo[i] = lw_index(c, 0), hi[i] = lw_index(c, w->k[i]);
    else
      nn_valid_range(c, base[i], w->d[i], w->k[i], w->in[i], &lo[i], &hi[i]);
  }
}

/* Flat index of input position xi (n, c, spatial...) for MaxPool Indices. */
static IrValue *pool_flat_index(LwCtx *c, const PoolCtx *p, IrValue *const *xi) {
  int n = p->w.n;
  IrValue *v = nn_iadd(c, nn_imul(c, xi[0], p->x[1]), xi[1]);
  if (!p->col_major) {
    for (int i = 0; i < n; i++) v = nn_iadd(c, nn_imul(c, v, p->x[i + 2]), xi[i + 2]);
    return v;
  }
  IrValue *sp = xi[n + 1];
  for (int i = n - 2; i >= 0; i--)
    sp = nn_iadd(c, nn_imul(c, sp, p->x[i + 2]), xi[i + 2]);
  return nn_iadd(c, nn_imul(c, v, nn_numel(p->x + 2, n)), sp);
}

/* The window reduction at output position yi; returns the pooled value. */
static IrValue *pool_window(LwCtx *c, const PoolCtx *p, IrValue *const *yi,
                            IrValue **index) {
  int n = p->w.n;
  IrValue *lo[IR_MAX_RANK], *hi[IR_MAX_RANK], *base[IR_MAX_RANK];
  IrValue *ks[IR_MAX_RANK], *xi[IR_MAX_RANK], *vals[2];
  pool_ranges(c, p, yi + 2, lo, hi, base);
  vals[0] = p->max ? nn_lowest(c, p->ce) : lw_const_f(c, p->ce, 0);
  vals[1] = lw_index(c, 0);
  int nv = p->I ? 2 : 1;
  NnIterNest nest;
  nn_iter_nest_begin(c, &nest, n, lo, hi, NULL, nv, vals, ks);
  xi[0] = yi[0], xi[1] = yi[1];
  for (int i = 0; i < n; i++) xi[i + 2] = nn_iadd(c, base[i], nn_imul(c, ks[i], p->w.d[i]));
  IrValue *x = nn_load(c, p->X, xi);
  if (p->I) {
    IrValue *gt = lw_cmp(c, "gt", x, vals[0]);
    vals[1] = lw_select(c, gt, pool_flat_index(c, p, xi), vals[1]);
    vals[0] = lw_select(c, gt, x, vals[0]);
  } else {
    vals[0] = lw_bin(c, p->max ? IR_OP_A_MAX : IR_OP_A_ADD, vals[0], x);
  }
  nn_iter_nest_end(c, &nest, vals);
  *index = vals[1];
  if (p->max) return vals[0];
  /* average: divide by the element count of the (clipped) window */
  IrValue *count = lw_index(c, 1);
  for (int i = 0; i < n; i++) {
    IrValue *l = lo[i], *h = hi[i];
    if (p->include_pad)
      nn_valid_range(c, nn_imul(c, yi[i + 2], p->w.s[i]), p->w.d[i], p->w.k[i],
                     p->w.in[i] + p->w.pb[i] + p->w.pe[i], &l, &h);
    count = lw_bin(c, IR_OP_A_MUL, count, lw_bin(c, IR_OP_A_SUB, h, l));
  }
  return lw_bin(c, IR_OP_A_DIV, vals[0], lw_cast(c, count, p->ce));
}

static bool pool_window_lower(LwCtx *c, IrOp *op) {
  PoolCtx p = {.X = c->in[0], .Y = c->out[0],
               .I = op->num_results > 1 ? c->out[1] : NULL,
               .max = op->kind == IR_OP_MAX_POOL,
               .include_pad = ir_attr_int(op, "count_include_pad", 0) != 0,
               .col_major = ir_attr_int(op, "storage_order", 0) == 1};
  int r = nn_dims(p.X, p.x);
  nn_dims(p.Y, p.y);
  p.ce = nn_calc_elem(lw_elem(p.X));
  if (!nn_window_get(op, r - 2, p.x + 2, ir_attr_int(op, "ceil_mode", 0), &p.w))
    return false;
  IrValue *yi[IR_MAX_RANK], *index;
  LwNest nest;
  lw_nest_begin(c, &nest, r, p.y, yi);
  nn_store(c, pool_window(c, &p, yi, &index), p.Y, yi);
  if (p.I) lw_store(c, lw_cast(c, index, IR_I64), p.I, yi);
  lw_nest_end(c, &nest);
  return true;
}

static bool pool_global_lower(LwCtx *c, IrOp *op) {
  int64_t x[IR_MAX_RANK];
  int r = nn_dims(c->in[0], x);
  int64_t rows = x[0] * x[1], cols = nn_numel(x + 2, r - 2);
  int64_t xd[2] = {rows, cols};
  IrValue *X = nn_view(c, c->in[0], 2, xd), *Y = nn_view(c, c->out[0], 1, &rows);
  bool max = op->kind == IR_OP_GLOBAL_MAX_POOL;
  IrElem ce = nn_calc_elem(lw_elem(X));
  IrValue *i, *j, *acc;
  IrOp *li = lw_for_begin(c, lw_index(c, 0), lw_index(c, rows), 1, &i);
  acc = max ? nn_lowest(c, ce) : lw_const_f(c, ce, 0);
  IrOp *lj = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, cols), 1, 1, &acc,
                               &j, &acc);
  IrValue *v = lw_bin(c, max ? IR_OP_A_MAX : IR_OP_A_ADD, acc,
                      nn_load(c, X, (IrValue *[]){i, j}));
  lw_for_end_iter(c, lj, 1, &v);
  v = lj->results[0];
  if (!max) v = lw_bin(c, IR_OP_A_MUL, v, lw_const_f(c, ce, 1.0 / (double)cols));
  nn_store(c, v, Y, &i);
  lw_for_end(c, li);
  return true;
}

bool op_pool_lower(LwCtx *c, IrOp *op) {
  return pool_is_global(op) ? pool_global_lower(c, op) : pool_window_lower(c, op);
}
