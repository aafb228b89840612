/*
 * pool.c — MaxPool (with the optional Indices output), AveragePool,
 * LpPool, GlobalAveragePool, GlobalMaxPool; N-D.
 *
 * Windowed pools walk the output positions and reduce each window in
 * loop-carried values.  Padding is never materialized: per output position
 * and spatial dim the range of kernel offsets whose input lies inside X is
 * computed before the kernel loops (nn_valid_range), so the innermost loop
 * has no conditions; when no window can be clipped the bounds are constants.
 * AveragePool divides by the number of in-range elements, or with
 * count_include_pad by those inside the padded extent.  LpPool sums |x|^p
 * over the window like AveragePool sums x (padding adds 0), then takes the
 * p-th root.  2-D f32 pools on a
 * vector target run the windows inside X as vectors (pool_window_lower_2d).
 * Global pools view X as [N*C, spatial] and reduce each contiguous row.
 */
#include "nn_util.h"
#include "schedule.h"

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
  } else if (op->kind == IR_OP_LP_POOL) {
    /* p is a float before opset 2; tcc takes whole values */
    const IrAttr *pa = ir_attr_get(op, "p");
    if (pa && pa->kind == IR_ATTR_FLOAT && pa->f == (double)(int64_t)pa->f)
      ir_attr_set_int(m, op, "p", (int64_t)pa->f);
    else if (pa && pa->kind == IR_ATTR_FLOAT) {
      diag_at(DIAG_ERROR, &op->loc, "LpPool: attribute 'p' (%g) must be a whole number in tcc",
              pa->f);
      return false;
    }
    if (!nn_attr_int_canon(m, op, "p", 2, &v)) return false;
    if (v < 1) {
      diag_at(DIAG_ERROR, &op->loc, "LpPool: attribute 'p' (%lld) must be at least 1",
              (long long)v);
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
  IrValue *Xf, *Yf;       /* the 2-D fast path: X and Y flat */
  NnWindow w;
  int64_t x[IR_MAX_RANK], y[IR_MAX_RANK];
  bool max, include_pad, col_major;
  int64_t lp_p; /* LpPool's p; 0: not LpPool */
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
    if (p->lp_p) x = nn_lp_term(c, x, p->lp_p, p->ce);
    vals[0] = lw_bin(c, p->max ? IR_OP_A_MAX : IR_OP_A_ADD, vals[0], x);
  }
  nn_iter_nest_end(c, &nest, vals);
  *index = vals[1];
  if (p->max) return vals[0];
  if (p->lp_p) return nn_lp_root(c, vals[0], p->lp_p, p->ce);
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

/* ---- 2-D f32 pools on a vector target: per plane and output row, the
 * positions whose window lies inside X go `lanes` at a time, one load per
 * tap strided by the pool's stride (LLVM gathered those, or stayed
 * scalar), the last vector masked; the rest one window at a time. */
static void pool_vector(LwCtx *c, const PoolCtx *p, IrValue *plane, IrValue *oh,
                        IrValue *ow0, int lanes) {
  const NnWindow *w = &p->w;
  IrValue *acc = lw_splat(c, p->max ? nn_lowest(c, IR_F32) : lw_const_f(c, IR_F32, 0), lanes);
  for (int64_t i = 0; i < w->k[0]; i++) {
    IrValue *ih = nn_lin(c, oh, w->s[0], i * w->d[0] - w->pb[0]);
    IrValue *row = nn_iadd(c, nn_imul(c, plane, w->in[0] * w->in[1]), nn_imul(c, ih, w->in[1]));
    for (int64_t j = 0; j < w->k[1]; j++) {
      IrValue *xi = nn_iadd(c, row, nn_lin(c, ow0, w->s[1], j * w->d[1] - w->pb[1]));
      IrValue *x = lw_vload_strided(c, p->Xf, &xi, lanes, w->s[1]);
      acc = lw_bin(c, p->max ? IR_OP_A_MAX : IR_OP_A_ADD, acc, x);
    }
  }
  if (!p->max) /* inside X: every window counts kh*kw elements */
    acc = lw_bin(c, IR_OP_A_DIV, acc,
                 lw_splat(c, lw_const_f(c, IR_F32, (double)(w->k[0] * w->k[1])), lanes));
  IrValue *yi = nn_iadd(c, nn_imul(c, plane, w->out[0] * w->out[1]),
                        nn_iadd(c, nn_imul(c, oh, w->out[1]), ow0));
  lw_vstore(c, acc, p->Yf, &yi);
}

static void pool_point(LwCtx *c, const PoolCtx *p, IrValue *n, IrValue *ch, IrValue *oh,
                       IrValue *ow) {
  IrValue *yi[4] = {n, ch, oh, ow}, *index;
  nn_store(c, pool_window(c, p, yi, &index), p->Y, yi);
}

static bool pool_window_lower_2d(LwCtx *c, PoolCtx *p, int lanes) {
  const NnWindow *w = &p->w;
  int64_t plane_n = p->x[0] * p->x[1], rlo, rhi, clo, chi;
  nn_window_interior(w, 0, &rlo, &rhi);
  nn_window_interior(w, 1, &clo, &chi);
  int64_t xf = plane_n * w->in[0] * w->in[1], yf = plane_n * w->out[0] * w->out[1];
  p->Xf = nn_view(c, p->X, 1, &xf);
  p->Yf = nn_view(c, p->Y, 1, &yf);
  IrValue *pl, *oh, *ow;
  IrOp *lp = lw_for_begin(c, lw_index(c, 0), lw_index(c, plane_n), 1, &pl);
  ir_attr_set_int(c->m, lp, "parallel", 1);
  IrValue *n = lw_bin(c, IR_OP_A_DIV, pl, lw_index(c, p->x[1]));
  IrValue *ch = lw_bin(c, IR_OP_A_REM, pl, lw_index(c, p->x[1]));
  int64_t rows[4] = {0, rlo, rhi, w->out[0]};
  for (int rp = 0; rp < 3; rp++) {
    if (rows[rp] >= rows[rp + 1]) continue;
    IrOp *lr = lw_for_begin(c, lw_index(c, rows[rp]), lw_index(c, rows[rp + 1]), 1, &oh);
    int64_t cols[4] = {0, clo, chi, w->out[1]};
    if (rp != 1) cols[1] = cols[2] = w->out[1];
    for (int cp = 0; cp < 3; cp++) {
      if (cols[cp] >= cols[cp + 1]) continue;
      if (cp == 1) {
        int64_t full = clo + (chi - clo) / lanes * lanes;
        if (full > clo) {
          IrOp *lv = lw_for_begin(c, lw_index(c, clo), lw_index(c, full), lanes, &ow);
          pool_vector(c, p, pl, oh, ow, lanes);
          lw_for_end(c, lv);
        }
        if (chi > full) {
          c->valid_lanes = (int)(chi - full);
          pool_vector(c, p, pl, oh, lw_index(c, full), lanes);
          c->valid_lanes = 0;
        }
        continue;
      }
      IrOp *lc = lw_for_begin(c, lw_index(c, cols[cp]), lw_index(c, cols[cp + 1]), 1, &ow);
      pool_point(c, p, n, ch, oh, ow);
      lw_for_end(c, lc);
    }
    lw_for_end(c, lr);
  }
  lw_for_end(c, lp);
  return true;
}

static bool pool_window_lower(LwCtx *c, IrOp *op) {
  PoolCtx p = {.X = c->in[0], .Y = c->out[0],
               .I = op->num_results > 1 ? c->out[1] : NULL,
               .max = op->kind == IR_OP_MAX_POOL,
               .include_pad = ir_attr_int(op, "count_include_pad", 0) != 0,
               .col_major = ir_attr_int(op, "storage_order", 0) == 1,
               .lp_p = op->kind == IR_OP_LP_POOL ? ir_attr_int(op, "p", 2) : 0};
  int r = nn_dims(p.X, p.x);
  nn_dims(p.Y, p.y);
  p.ce = nn_calc_elem(lw_elem(p.X));
  if (!nn_window_get(op, r - 2, p.x + 2, ir_attr_int(op, "ceil_mode", 0), &p.w))
    return false;
  int lanes = c->target ? c->target->vec_bits / 32 : 1;
  /* taps are unrolled (a 60x80 window is not), a stride spans s*lanes */
  if (lanes > 1 && r == 4 && !p.I && !p.lp_p && lw_elem(p.X) == IR_F32 &&
      ir_type_is_static(&p.X->type) && p.w.k[0] * p.w.k[1] <= 64 && p.w.s[1] <= 4)
    return pool_window_lower_2d(c, &p, lanes);
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
