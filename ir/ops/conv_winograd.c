/*
 * conv_winograd.c — a 3x3, stride-1 convolution as Winograd's minimal
 * filtering F(m x m, 3 x 3) (Lavin and Gray, "Fast Algorithms for
 * Convolutional Neural Networks"): for a tile of m x m outputs read from
 * the (m+2) x (m+2) input tile d of each channel,
 *
 *   Y = A^T [ sum_c (G g_c G^T) . (B^T d_c B) ] A
 *
 * The sum over channels at each of the a^2 = (m+2)^2 positions of the
 * tile is a matrix product, filters x channels by channels x tiles, so a
 * tile costs a^2 multiply-adds per filter and channel instead of 9 m^2
 * (m = 4: 36 against 144, 4x fewer; m = 2: 16 against 36).
 *
 *   U[xi][f][c] = (G g G^T)[xi]     at compile time, packed as gk_pack's A
 *   per image: X copied into Xp, zero-padded so every tile is inside it
 *     (tiles cover Y, the last row and column of them hanging over its
 *     edge where m does not divide it: their outside outputs are dropped)
 *   per block of tile rows (the parallel tasks' unit, sized to stay in L2):
 *     V[xi][c][t]  = (B^T d B)[xi]  vectors along the tiles of a row, each
 *                                   input a strided load (stride m)
 *     Mb[xi][f][t] = U[xi] V[xi]    a^2 products on the packed kernel
 *     Y = A^T Mb A + bias (+ R), the activation, stored strided (stride m)
 *
 * The schedule (sched_winograd, ir/schedule.c) decides where it pays and
 * the tile size; outputs differ from the direct product by rounding only
 * (the transforms' constants are exact in f32 but for G's thirds).
 */
#include "conv_winograd.h"

#include "gemm_kernel.h"

/* B^T (a x a), G (a x 3), A^T (m x a): V = B^T d B, U = G g G^T,
 * Y = A^T M A. */
typedef struct WgMatrices {
  int m, a;
  const double *bt, *g, *at;
} WgMatrices;

static const double bt2[] = {1, 0, -1, 0, 0, 1, 1, 0, 0, -1, 1, 0, 0, 1, 0, -1};
static const double g2[] = {1, 0, 0, .5, .5, .5, .5, -.5, .5, 0, 0, 1};
static const double at2[] = {1, 1, 1, 0, 0, 1, -1, -1};
static const double bt4[] = {4, 0, -5, 0,  1, 0, 0, -4, -4, 1,  1, 0, 0, 4, -4, -1, 1, 0,
                             0, -2, -1, 2, 1, 0, 0, 2,  -1, -2, 1, 0, 0, 4, 0,  -5, 0, 1};
static const double g4[] = {1 / 4.,  0,       0,      -1 / 6., -1 / 6., -1 / 6.,
                            -1 / 6., 1 / 6.,  -1 / 6., 1 / 24., 1 / 12., 1 / 6.,
                            1 / 24., -1 / 12., 1 / 6.,  0,       0,       1};
static const double at4[] = {1, 1, 1, 1, 1, 0, 0, 1, -1, 2, -2, 0,
                             0, 1, 1, 4, 4, 0, 0, 1, -1, 8, -8, 1};
static const WgMatrices wg_f2 = {2, 4, bt2, g2, at2}, wg_f4 = {4, 6, bt4, g4, at4};

enum { WG_MAX_A2 = 36 };

typedef struct Wg {
  const WinogradConv *cv;
  const WgMatrices *mx;
  IrValue *Y, *R, *Xp, *V, *Mb, *Up;
  int64_t OH, OW, TH, TW, Hp, Wp, ntb, a2;
  int lanes;
  int jmax;   /* the output columns of a tile to store: m, or the last tile's */
  /* the loops' current values */
  IrValue *n, *task, *r0, *xi, *ch, *tr;
} Wg;

/* sum_i k[i*ks] x[i*xs] over n terms: zeros skipped, +-1 as adds. */
static IrValue *wg_combine(LwCtx *c, const double *k, int ks, IrValue *const *x, int xs, int n,
                           int lanes) {
  IrValue *acc = NULL;
  for (int i = 0; i < n; i++) {
    double w = k[i * ks];
    IrValue *v = x[i * xs];
    if (w == 0) continue;
    IrValue *kw = w == 1 || w == -1 ? NULL : lw_splat(c, lw_const_f(c, IR_F32, w), lanes);
    if (!acc)
      acc = w == 1 ? v : w == -1 ? lw_un(c, IR_OP_A_NEG, v) : lw_bin(c, IR_OP_A_MUL, v, kw);
    else
      acc = w == 1    ? lw_bin(c, IR_OP_A_ADD, acc, v)
            : w == -1 ? lw_bin(c, IR_OP_A_SUB, acc, v)
                      : lw_fma(c, v, kw, acc);
  }
  return acc ? acc : lw_splat(c, lw_const_f(c, IR_F32, 0), lanes);
}

/* U[xi = (p, q)][f][c] = sum_uv G[p][u] g[f][c][u][v] G[q][v], in double. */
typedef struct WgPackW {
  const float *w;
  const WgMatrices *mx;
  int64_t C;
} WgPackW;

static double wg_u_get(const void *user, int64_t b, int64_t f, int64_t ch) {
  const WgPackW *p = user;
  const double *G = p->mx->g;
  int64_t pi = b / p->mx->a, qi = b % p->mx->a;
  const float *g = p->w + (f * p->C + ch) * 9;
  double s = 0;
  for (int u = 0; u < 3; u++)
    for (int v = 0; v < 3; v++) s += G[pi * 3 + u] * g[u * 3 + v] * G[qi * 3 + v];
  return s;
}

/* Element (xi, c or f, t) of the task's V or Mb: rows = C or M. */
static IrValue *wg_at(LwCtx *c, const Wg *g, int64_t rows, IrValue *xi, IrValue *row,
                      IrValue *t) {
  IrValue *plane = gk_axpy(c, gk_axpy(c, NULL, g->task, g->a2), xi, 1);
  IrValue *r = gk_axpy(c, gk_axpy(c, NULL, plane, rows), row, 1);
  return lw_bin(c, IR_OP_A_ADD, gk_axpy(c, NULL, r, g->ntb), t);
}

/* ---------------------------------------------------- the input tiles */
/* `lanes` tiles of tile row tr from column tw0: B^T d B into V. */
static void wg_input_vector(LwCtx *c, void *user, IrValue *tw0) {
  const Wg *g = user;
  const WgMatrices *mx = g->mx;
  int a = mx->a, m = mx->m, L = g->lanes;
  IrValue *d[WG_MAX_A2], *t[WG_MAX_A2];
  IrValue *ih0 = gk_axpy(c, gk_axpy(c, NULL, g->r0, m), g->tr, m);
  IrValue *row0 = gk_axpy(c, gk_axpy(c, NULL, g->ch, g->Hp), ih0, 1);
  IrValue *col0 = gk_axpy(c, NULL, tw0, m);
  for (int u = 0; u < a; u++) {
    IrValue *row = gk_axpy(c, lw_index(c, u * g->Wp), row0, g->Wp);
    for (int v = 0; v < a; v++) {
      IrValue *idx = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, row, lw_index(c, v), 1), col0);
      d[u * a + v] = lw_vload_strided(c, g->Xp, &idx, L, m);
    }
  }
  for (int p = 0; p < a; p++)
    for (int v = 0; v < a; v++) t[p * a + v] = wg_combine(c, mx->bt + p * a, 1, d + v, a, a, L);
  IrValue *tcol = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, NULL, g->tr, g->TW), tw0);
  for (int p = 0; p < a; p++)
    for (int q = 0; q < a; q++) {
      IrValue *val = wg_combine(c, mx->bt + q * a, 1, t + p * a, 1, a, L);
      IrValue *vi = wg_at(c, g, g->cv->C, lw_index(c, p * a + q), g->ch, tcol);
      lw_vstore(c, val, g->V, &vi);
    }
}

/* --------------------------------------------------- the output tiles */
static void wg_output_vector(LwCtx *c, void *user, IrValue *tw0) {
  const Wg *g = user;
  const WgMatrices *mx = g->mx;
  const WinogradConv *cv = g->cv;
  int a = mx->a, m = mx->m, L = g->lanes;
  IrValue *mv[WG_MAX_A2], *t[WG_MAX_A2];
  IrValue *tcol = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, NULL, g->tr, g->TW), tw0);
  for (int xi = 0; xi < a * a; xi++) {
    IrValue *mi = wg_at(c, g, cv->M, lw_index(c, xi), g->ch, tcol);
    mv[xi] = lw_vload(c, g->Mb, &mi, L);
  }
  for (int i = 0; i < m; i++)
    for (int q = 0; q < a; q++) t[i * a + q] = wg_combine(c, mx->at + i * a, 1, mv + q, a, a, L);
  IrValue *bias = cv->B ? lw_splat(c, lw_load(c, cv->B, &g->ch), L) : NULL;
  IrValue *plane = gk_axpy(c, NULL, gk_axpy(c, g->ch, g->n, cv->M), g->OH * g->OW);
  IrValue *oh0 = gk_axpy(c, gk_axpy(c, NULL, g->r0, m), g->tr, m);
  IrValue *ow0 = gk_axpy(c, NULL, tw0, m);
  for (int i = 0; i < m; i++) {
    IrValue *oh = gk_axpy(c, lw_index(c, i), oh0, 1);
    /* the last tile row may hang over Y: row i of it is stored when inside
     * (a loop of at most one iteration) */
    IrOp *inside = NULL;
    if (g->OH % m && i >= g->OH % m) {
      IrValue *iv, *next = gk_axpy(c, lw_index(c, 1), oh, 1);
      inside = lw_for_begin(c, oh, lw_bin(c, IR_OP_A_MIN, next, lw_index(c, g->OH)), 1, &iv);
      oh = iv;
    }
    IrValue *row = gk_axpy(c, plane, oh, g->OW);
    for (int j = 0; j < g->jmax; j++) {
      IrValue *y = wg_combine(c, mx->at + j * a, 1, t + i * a, 1, a, L);
      if (bias) y = lw_bin(c, IR_OP_A_ADD, y, bias);
      IrValue *yi = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, row, lw_index(c, j), 1), ow0);
      if (g->R) y = lw_bin(c, IR_OP_A_ADD, y, lw_vload_strided(c, g->R, &yi, L, m));
      y = gk_fused_tail(c, cv->op, NULL, NULL, L, y);
      lw_vstore_strided(c, y, g->Y, &yi, m);
    }
    if (inside) lw_for_end(c, inside);
  }
}

/* ------------------------------------------------------ the products */
static void wg_a_tile(LwCtx *c, void *user, IrValue *i0, int rows, IrValue *k0, GkOperand *a) {
  const Wg *g = user;
  gk_packed_operand(c, g->Up, g->cv->M, g->cv->C, g->xi, i0, rows, k0, a);
}

static void wg_b_strip(LwCtx *c, void *user, IrValue *jb, IrValue *j0, int64_t w, IrValue *k0,
                       IrValue *task, GkOperand *b) {
  (void)jb, (void)w, (void)task;
  const Wg *g = user;
  b->buf = g->V;
  b->base = wg_at(c, g, g->cv->C, g->xi, k0, j0);
  b->rs = 1;
  b->ks = g->ntb;
}

void conv_winograd_lower(LwCtx *c, const WinogradConv *cv, const SchedWinograd *sw) {
  const WgMatrices *mx = sw->m == 4 ? &wg_f4 : &wg_f2;
  int m = mx->m, a = mx->a;
  Wg g = {.cv = cv, .mx = mx, .a2 = a * a, .lanes = c->target->vec_bits / 32};
  if (g.lanes < 1) g.lanes = 1;
  /* tiles cover Y, the last ones hanging over where m does not divide it */
  g.OH = cv->w->out[0], g.OW = cv->w->out[1];
  g.TH = (g.OH + m - 1) / m, g.TW = (g.OW + m - 1) / m;
  g.Hp = g.TH * m + 2, g.Wp = g.TW * m + 2;
  g.ntb = sw->rows_per_block * g.TW;
  int64_t blocks = g.TH / sw->rows_per_block, tasks = sw->tasks;
  int64_t per_task = (blocks + tasks - 1) / tasks;
  g.Y = gk_flat(c, cv->Y);
  g.R = cv->R ? gk_flat(c, cv->R) : NULL;
  WgPackW pw = {gk_weight_f32(cv->W), mx, cv->C};
  GemmSched s;
  sched_gemm(c->target, c->sched, cv->M, g.ntb, cv->C, SCHED_A_PACKED,
             g.a2 * cv->M * cv->C * 4, &s);
  g.Up = gk_pack(c, cv->W, g.a2, cv->M, cv->C, s.mr, wg_u_get, &pw);
  int64_t xp[1] = {cv->C * g.Hp * g.Wp}, vd[1] = {tasks * g.a2 * cv->C * g.ntb},
          md[1] = {tasks * g.a2 * cv->M * g.ntb};
  g.Xp = lw_alloc(c, IR_F32, 1, xp);
  g.V = lw_alloc(c, IR_F32, 1, vd);
  g.Mb = lw_alloc(c, IR_F32, 1, md);
  lw_note_kernel(c, "winograd F(%dx%d, 3x3), %lld tile rows a block, %lld tasks", m, m,
                 (long long)sw->rows_per_block, (long long)tasks);
  GkGemm gm = {.M = cv->M, .N = g.ntb, .K = cv->C, .s = s, .nc = g.ntb, .tasks = 1,
               .user = &g, .a_tile = wg_a_tile, .b_strip = wg_b_strip, .c_buf = g.Mb,
               .c_rs = g.ntb};
  IrValue *blk, *xi;
  IrOp *ln = lw_for_begin(c, lw_index(c, 0), lw_index(c, cv->N), 1, &g.n);
  conv_pad_planes(c, cv->X, cv->w, g.Xp, g.n, g.Hp, g.Wp, g.Hp * g.Wp, 1);
  IrOp *lt = lw_for_begin(c, lw_index(c, 0), lw_index(c, tasks), 1, &g.task);
  if (tasks > 1) ir_attr_set_int(c->m, lt, "parallel", 1);
  IrValue *lo = gk_axpy(c, NULL, g.task, per_task);
  IrValue *hi = lw_bin(c, IR_OP_A_MIN, gk_axpy(c, lo, lw_index(c, per_task), 1),
                       lw_index(c, blocks));
  IrOp *lb = lw_for_begin(c, lo, hi, 1, &blk);
  g.r0 = gk_axpy(c, NULL, blk, sw->rows_per_block);
  /* the input transform, a channel at a time */
  IrOp *lc = lw_for_begin(c, lw_index(c, 0), lw_index(c, cv->C), 1, &g.ch);
  if (tasks == 1) ir_attr_set_int(c->m, lc, "parallel", 1);
  IrOp *lr = lw_for_begin(c, lw_index(c, 0), lw_index(c, sw->rows_per_block), 1, &g.tr);
  lw_vector_span(c, 0, g.TW, g.lanes, wg_input_vector, &g);
  lw_for_end(c, lr);
  lw_for_end(c, lc);
  /* the a^2 products: in parallel themselves when the blocks are not */
  IrOp *lx = lw_for_begin(c, lw_index(c, 0), lw_index(c, g.a2), 1, &xi);
  if (tasks == 1) ir_attr_set_int(c->m, lx, "parallel", 1);
  g.xi = xi;
  gm.c_base = wg_at(c, &g, cv->M, xi, lw_index(c, 0), lw_index(c, 0));
  gk_emit(c, &gm);
  lw_for_end(c, lx);
  /* the output transform, a filter at a time */
  IrOp *lf = lw_for_begin(c, lw_index(c, 0), lw_index(c, cv->M), 1, &g.ch);
  if (tasks == 1) ir_attr_set_int(c->m, lf, "parallel", 1);
  lr = lw_for_begin(c, lw_index(c, 0), lw_index(c, sw->rows_per_block), 1, &g.tr);
  /* whole tiles, then the last one's columns inside Y */
  int64_t whole = g.OW / m;
  g.jmax = m;
  lw_vector_span(c, 0, whole, g.lanes, wg_output_vector, &g);
  g.jmax = (int)(g.OW % m);
  if (g.jmax) lw_vector_span(c, whole, g.TW, g.lanes, wg_output_vector, &g);
  lw_for_end(c, lr);
  lw_for_end(c, lf);
  lw_for_end(c, lb);
  lw_for_end(c, lt);
  lw_for_end(c, ln);
}
