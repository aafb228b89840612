/*
 * lowrank.c — low-rank factorization of weights (-lowrank=energy:E or
 * -lowrank=rank:R, then optionally ,conv=best|channels|spatial;
 * docs/compression.md).
 *
 * A weight matrix W (m x n) is replaced by its truncated SVD, W ~ P Q with
 * P m x r and Q r x n, r the rank kept:
 *   - matmul(A, W[K,N]):            matmul(matmul(A, P), Q)
 *   - gemm(A, B, C) (B a weight; W = B, or B^T with transB):
 *                                   gemm(gemm(A, P) {transA}, Q, C) {alpha, beta}
 *   - conv(X, W[M,C,k..], B), one group, channels: W as M x (C*k..), so
 *                                   conv(conv(X, Q[r,C,k..]) {the attributes}, P[M,r,1..], B)
 *     (a k x k conv to r channels, then a 1x1 one);
 *   - a 2-D conv, spatially: W as the (C*kh) x (M*kw) matrix, so a kh x 1
 *     conv to r channels, then a 1 x kw one, the attributes split.
 * The rank: exactly R (at most min(m, n)), or the smallest that keeps the
 * fraction E of the squared singular values (the weight's energy).  A layer
 * is factorized only where both its parameters and its multiply-adds go
 * down (for a matrix: r (m + n) < m n); else it stays dense.  Of a conv's
 * two forms, energy takes the cheaper, rank the one keeping more energy.
 * Runs before fuse, so a bias, a BatchNormalization or an activation still
 * joins the second product.
 *
 * The SVD: the eigen-decomposition of the smaller Gram matrix (W^T W or
 * W W^T), in double.  The Gram matrix squares the condition number, which
 * costs accuracy only in the smallest singular values, the ones truncation
 * drops.  Deterministic: the same weights and flags give the same factors
 * on every machine.
 *
 * Statistics: matmuls factorized, gemms factorized, convs factorized
 * (channels), convs factorized (spatial), kept dense (no saving at the
 * rank chosen, or a weight another op also reads: factors beside it would
 * grow the model), too large to factorize (the SVD's work past 8e9
 * multiply-adds, about min(m,n) > 1,500 for a square matrix: left dense so
 * that a compile stays in seconds), parameters before, parameters after
 * (of the layers factorized).  Needs: tensor level with inferred types.
 * Does nothing without -lowrank.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

/* sum a[k] b[k] with four partial sums: independent additions pipeline,
 * where one running sum waits for each add (the order is fixed: the same
 * result every time). */
static double dot(const double *a, const double *b, int n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < n; k++) s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

/* row -= vi p + pi v: restrict lets the compiler vectorize it (the row
 * lies in the matrix, v in another row of it, p apart). */
static void subtract_rank2(double *restrict row, const double *restrict v,
                           const double *restrict p, double vi, double pi, int len) {
  for (int j = 0; j < len; j++) row[j] -= vi * p[j] + pi * v[j];
}

/* Householder reduction of a (n x n, symmetric, row-major) to tridiagonal
 * form (Golub and Van Loan, 8.3.1): d the diagonal, e[i] couples i and
 * i + 1.  Row k of a keeps reflector H_k = I - beta[k] v v^T (v in
 * a[k][k+1..]) for tridiagonal_q.  (4/3) n^3. */
static void tridiagonalize(double *a, int n, double *d, double *e, double *beta) {
  double *p = malloc(((size_t)n + 1) * sizeof *p);
  IR_ASSERT(p);
  for (int k = 0; k < n; k++) beta[k] = 0;
  for (int k = 0; k + 2 < n; k++) {
    /* H_k maps row k's x = a[k][k+1..] to (alpha, 0..) */
    double *v = a + (size_t)k * n + k + 1, norm = 0;
    int len = n - k - 1;
    for (int i = 0; i < len; i++) norm += v[i] * v[i];
    norm = sqrt(norm);
    double alpha = v[0] > 0 ? -norm : norm;
    d[k] = a[(size_t)k * n + k];
    e[k] = alpha;
    v[0] -= alpha;
    double vv = 0;
    for (int i = 0; i < len; i++) vv += v[i] * v[i];
    if (vv == 0) continue; /* x is 0 already: H_k = I */
    beta[k] = 2 / vv;
    /* S = a[k+1.., k+1..] -= v w^T + w v^T, p = beta S v, w = p - (beta p.v / 2) v */
    double pv = 0;
    for (int i = 0; i < len; i++) {
      p[i] = beta[k] * dot(a + (size_t)(k + 1 + i) * n + k + 1, v, len);
      pv += p[i] * v[i];
    }
    double half = beta[k] * pv / 2;
    for (int i = 0; i < len; i++) p[i] -= half * v[i];
    for (int i = 0; i < len; i++)
      subtract_rank2(a + (size_t)(k + 1 + i) * n + k + 1, v, p, v[i], p[i], len);
  }
  if (n >= 2) {
    d[n - 2] = a[(size_t)(n - 2) * n + n - 2];
    e[n - 2] = a[(size_t)(n - 2) * n + n - 1];
  }
  if (n >= 1) d[n - 1] = a[(size_t)(n - 1) * n + n - 1];
  if (n >= 1) e[n - 1] = 0;
  free(p);
}

/* Q^T = H_{n-3} .. H_1 H_0 into qt (n x n) from tridiagonalize's
 * reflectors: row i of Q^T is column i of Q. */
static void tridiagonal_q(const double *a, int n, const double *beta, double *qt) {
  double *p = malloc(((size_t)n + 1) * sizeof *p);
  IR_ASSERT(p);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) qt[(size_t)i * n + j] = i == j;
  for (int k = 0; k + 2 < n; k++) {
    if (beta[k] == 0) continue;
    const double *v = a + (size_t)k * n + k + 1;
    int len = n - k - 1;
    for (int j = 0; j < n; j++) p[j] = 0;
    for (int i = 0; i < len; i++) {
      const double *row = qt + (size_t)(k + 1 + i) * n;
      for (int j = 0; j < n; j++) p[j] += v[i] * row[j];
    }
    for (int i = 0; i < len; i++) {
      double *row = qt + (size_t)(k + 1 + i) * n, f = beta[k] * v[i];
      for (int j = 0; j < n; j++) row[j] -= f * p[j];
    }
  }
  free(p);
}

/* The tridiagonal matrix (d, e; both overwritten) to its eigenvalues in d
 * by implicit symmetric QR steps with Wilkinson's shift (Golub and Van
 * Loan, 8.3.2); with qt (Q^T of the reduction, not NULL) its rows become
 * the eigenvectors.  The steps do not depend on qt: the values come out
 * the same, in the same places, with or without it. */
static void tridiagonal_qr(double *d, double *e, int n, double *qt) {
  const double eps = 0x1p-52;
  for (int h = n - 1, iterations = 0; h > 0 && iterations < 64 * n;) {
    if (fabs(e[h - 1]) <= eps * (fabs(d[h - 1]) + fabs(d[h]))) {
      e[h - 1] = 0, h--;
      continue;
    }
    int l = h - 1;
    while (l > 0 && fabs(e[l - 1]) > eps * (fabs(d[l - 1]) + fabs(d[l]))) l--;
    iterations++;
    double dd = (d[h - 1] - d[h]) / 2, b = e[h - 1];
    double mu = d[h] - b * b / (dd + copysign(hypot(dd, b), dd));
    double x = d[l] - mu, z = e[l];
    for (int k = l; k < h; k++) {
      /* the rotation J (c, s) on k, k+1 with J^T T J zeroing z */
      double r = hypot(x, z), c = r ? x / r : 1, s = r ? -z / r : 0;
      if (k > l) e[k - 1] = r;
      double dk = d[k], dk1 = d[k + 1], ek = e[k];
      d[k] = c * c * dk - 2 * c * s * ek + s * s * dk1;
      d[k + 1] = s * s * dk + 2 * c * s * ek + c * c * dk1;
      e[k] = c * s * (dk - dk1) + (c * c - s * s) * ek;
      if (k + 1 < h) {
        z = -s * e[k + 1]; /* the bulge at (k, k+2) */
        e[k + 1] *= c;
        x = e[k];
      }
      if (qt) {
        double *qk = qt + (size_t)k * n, *qk1 = qk + n;
        for (int j = 0; j < n; j++) {
          double u = qk[j], w = qk1[j];
          qk[j] = c * u - s * w;
          qk1[j] = s * u + c * w;
        }
      }
    }
  }
}

typedef struct Eigen {
  double value;
  int index;
} Eigen;

static int by_value_descending(const void *x, const void *y) {
  const Eigen *a = x, *b = y;
  if (a->value != b->value) return a->value > b->value ? -1 : 1;
  return a->index - b->index; /* ties by index: deterministic */
}

int lowrank_factor(const double *w, int m, int n, int rank, double energy, int max_rank,
                   double **P, double **Q, double *kept) {
  if (P) *P = *Q = NULL;
  *kept = 0;
  bool rows = m < n; /* the Gram matrix of the rows (m x m), else of the columns */
  int g = rows ? m : n, len = rows ? n : m;
  double *gram = malloc((size_t)g * g * sizeof *gram);
  double *d = malloc((size_t)g * sizeof *d), *sub = malloc((size_t)g * sizeof *sub);
  double *beta = malloc((size_t)g * sizeof *beta), *values = malloc((size_t)g * sizeof *values);
  double *off = malloc((size_t)g * sizeof *off);
  Eigen *e = malloc((size_t)g * sizeof *e);
  IR_ASSERT(gram && d && sub && beta && values && off && e);
  /* the Gram matrix of the g vectors of length len, each made contiguous */
  double *vecs = malloc((size_t)g * len * sizeof *vecs);
  IR_ASSERT(vecs);
  for (int i = 0; i < g; i++)
    for (int k = 0; k < len; k++)
      vecs[(size_t)i * len + k] = rows ? w[(size_t)i * n + k] : w[(size_t)k * n + i];
  for (int i = 0; i < g; i++)
    for (int j = i; j < g; j++) {
      double sum = dot(vecs + (size_t)i * len, vecs + (size_t)j * len, len);
      gram[(size_t)i * g + j] = gram[(size_t)j * g + i] = sum;
    }
  free(vecs);
  tridiagonalize(gram, g, d, sub, beta);
  /* the values first (they decide the rank), on a copy kept for the vectors */
  memcpy(values, d, (size_t)g * sizeof *values);
  memcpy(off, sub, (size_t)g * sizeof *off);
  tridiagonal_qr(values, off, g, NULL);
  double total = 0;
  for (int i = 0; i < g; i++) {
    e[i] = (Eigen){fmax(values[i], 0), i}; /* a rounding-negative is 0 */
    total += e[i].value;
  }
  qsort(e, (size_t)g, sizeof *e, by_value_descending);
  int r = 0;
  double sum = 0;
  if (total > 0) {
    if (rank > 0) {
      r = rank < g ? rank : g;
      for (int i = 0; i < r; i++) sum += e[i].value;
    } else
      while (r < g && sum < energy * total * (1 - 1e-12)) sum += e[r++].value;
  }
  while (r > 0 && e[r - 1].value == 0) r--; /* a zero direction adds nothing */
  *kept = total > 0 ? sum / total : 0;
  if (P && r > 0 && (max_rank <= 0 || r <= max_rank)) {
    /* the vectors only for a layer that is factorized: the QR steps again
     * on the kept tridiagonal matrix, now carrying Q */
    double *qt = malloc((size_t)g * g * sizeof *qt);
    double *pm = calloc((size_t)m * r, sizeof *pm), *qm = calloc((size_t)r * n, sizeof *qm);
    IR_ASSERT(qt && pm && qm);
    tridiagonal_q(gram, g, beta, qt);
    tridiagonal_qr(d, sub, g, qt);
    /* rows: P = U_r, Q = U_r^T W; columns: P = W V_r, Q = V_r^T */
    for (int j = 0; j < r; j++) {
      const double *vec = qt + (size_t)e[j].index * g;
      if (rows) {
        for (int i = 0; i < m; i++) {
          pm[(size_t)i * r + j] = vec[i];
          for (int k = 0; k < n; k++) qm[(size_t)j * n + k] += vec[i] * w[(size_t)i * n + k];
        }
      } else {
        for (int k = 0; k < n; k++) {
          qm[(size_t)j * n + k] = vec[k];
          for (int i = 0; i < m; i++) pm[(size_t)i * r + j] += w[(size_t)i * n + k] * vec[k];
        }
      }
    }
    free(qt);
    *P = pm, *Q = qm;
  }
  free(gram), free(d), free(sub), free(beta), free(values), free(off), free(e);
  return r;
}

typedef struct Factored {
  int r;
  float *p, *q; /* m x r, r x n */
} Factored;

static void count_factorized(PassContext *pc, const char *what, int64_t params, int64_t after) {
  pass_stat(pc, what, 1);
  pass_stat(pc, "parameters before", params);
  pass_stat(pc, "parameters after", after);
}

/* Whether the m x n matrix w may be factorized at all: some rank up to
 * max_rank (the most that still saves) is allowed, its values are finite,
 * and its SVD is affordable (else *too_large). */
static bool svd_allowed(const PassContext *pc, const double *w, int64_t m, int64_t n,
                        int64_t max_rank, bool *too_large) {
  *too_large = false;
  if (max_rank < 1 || pc->lowrank->rank > max_rank) return false;
  for (int64_t i = 0; i < m * n; i++)
    if (!isfinite(w[i])) return false; /* no SVD means anything there: dense */
  /* the SVD's work, g^2 (len + g) for the Gram matrix of side g = min(m,
   * n) and its reduction, bounded so that a compile stays in seconds */
  double g = (double)(m < n ? m : n), len = (double)(m < n ? n : m);
  *too_large = g * g * (len + g) > 8e9;
  return !*too_large;
}

/* The rank the m x n matrix w gets, at most max_rank; 0: it stays dense.
 * Only the eigenvalues: a conv plans both its forms, then factors one. */
static int plan_rank(const PassContext *pc, const double *w, int64_t m, int64_t n,
                     int64_t max_rank, double *kept, bool *too_large) {
  const LowrankOptions *o = pc->lowrank;
  *kept = 0;
  if (!svd_allowed(pc, w, m, n, max_rank, too_large)) return 0;
  int r = lowrank_factor(w, (int)m, (int)n, o->rank, o->energy, 0, NULL, NULL, kept);
  return r <= max_rank ? r : 0;
}

static void count_dense(PassContext *pc, bool too_large) {
  pass_stat(pc, too_large ? "too large to factorize" : "kept dense", 1);
}

/* The f32 factors of w, at the rank the options give when that is at most
 * max_rank (r == 0 otherwise). */
static Factored factor(const double *w, int64_t m, int64_t n, int rank, double energy,
                       int64_t max_rank) {
  double *P, *Q, kept;
  Factored f = {lowrank_factor(w, (int)m, (int)n, rank, energy, (int)max_rank, &P, &Q, &kept),
                NULL, NULL};
  if (!P) {
    f.r = 0;
    return f;
  }
  f.p = malloc((size_t)(m * f.r) * sizeof *f.p);
  f.q = malloc((size_t)(f.r * n) * sizeof *f.q);
  IR_ASSERT(f.p && f.q);
  for (int64_t i = 0; i < m * f.r; i++) f.p[i] = (float)P[i];
  for (int64_t i = 0; i < f.r * n; i++) f.q[i] = (float)Q[i];
  free(P), free(Q);
  return f;
}

/* A Gemm/MatMul weight as the m x n matrix w[i][j] = src[i * si + j * sj],
 * factored when that saves (r (m + n) < m n); r == 0 when not. */
static Factored factor_matrix(PassContext *pc, const float *src, int64_t m, int64_t n,
                              int64_t si, int64_t sj) {
  double *w = malloc((size_t)(m * n) * sizeof *w);
  IR_ASSERT(w);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) w[i * n + j] = src[i * si + j * sj];
  bool too_large;
  int64_t max_rank = (m * n - 1) / (m + n);
  Factored f = {0, NULL, NULL};
  if (svd_allowed(pc, w, m, n, max_rank, &too_large))
    f = factor(w, m, n, pc->lowrank->rank, pc->lowrank->energy, max_rank);
  if (!f.r) count_dense(pc, too_large);
  free(w);
  return f;
}

/* Whether op is the only reader of its weight v: a shared weight stays, as
 * factors beside it would grow the model. */
static bool only_reader(const PassContext *pc, const IrOp *op, const IrValue *v) {
  return pass_single_user(pc->m->main, v) == op;
}

/* The data of op's static f32 matrix weight v, or NULL; a weight another op
 * also reads counts as kept dense. */
static const float *matrix_weight(PassContext *pc, const IrOp *op, const IrValue *v) {
  uint64_t numel;
  if (!v || !v->weight || v->type.rank != 2 || !ir_type_is_static(&v->type) ||
      !ir_type_numel(&v->type, &numel) || numel > (1u << 26))
    return NULL;
  const float *data = pass_weight_f32(v, numel);
  if (data && !only_reader(pc, op, v)) {
    count_dense(pc, false);
    return NULL;
  }
  return data;
}

/* The loc of one half of a factorized node from a model: NODE/lowrank_a or
 * NODE/lowrank_b, a node of its own, so the report, the profile and the
 * kernel notes tell the halves apart. */
static IrLoc half_loc(IrModule *m, const IrLoc *loc, const char *half) {
  IrLoc l = *loc;
  if (!loc->node) return l; /* not an ONNX node (.tir text: its line tells) */
  const char *node = *loc->node ? loc->node : loc->op_type ? loc->op_type : "node";
  size_t size = strlen(node) + strlen(half) + 2;
  char *name = malloc(size);
  IR_ASSERT(name);
  snprintf(name, size, "%s/%s", node, half);
  l.node = ir_arena_strdup(m->arena, name);
  l.source = NULL;
  free(name);
  return l;
}

static IrType with_dim(IrType t, int i, int64_t size) {
  t.dims[i] = (IrDim){size, -1};
  return t;
}

/* f's factors as the weights P f32[K,r] and Q f32[r,N], named after the
 * weight they replace; f's arrays are freed. */
static void matrix_factor_weights(IrModule *m, const char *name, int64_t K, int64_t N,
                                  Factored *f, IrValue **p, IrValue **q) {
  *p = pass_new_weight(m, name, "lowrank_a", ir_type_tensor(IR_F32, 2, (int64_t[]){K, f->r}),
                       f->p, (uint64_t)(K * f->r));
  *q = pass_new_weight(m, name, "lowrank_b", ir_type_tensor(IR_F32, 2, (int64_t[]){f->r, N}),
                       f->q, (uint64_t)(f->r * N));
  free(f->p), free(f->q);
}

static void factor_matmul(PassContext *pc, IrOp *op) {
  IrModule *m = pc->m;
  IrValue *A = op->operands[0], *W = op->operands[1];
  const float *w = matrix_weight(pc, op, W);
  if (!w || A->type.rank < 1 || op->results[0]->type.elem != IR_F32) return;
  int64_t K = ir_type_dim(&W->type, 0), N = ir_type_dim(&W->type, 1);
  Factored f = factor_matrix(pc, w, K, N, N, 1);
  if (!f.r) return;
  IrValue *p, *q;
  matrix_factor_weights(m, W->weight->name, K, N, &f, &p, &q);
  IrBuilder bld = ir_builder_before(m, op);
  bld.loc = half_loc(m, &op->loc, "lowrank_a");
  IrValue *t = ir_build1(&bld, IR_OP_MATMUL, 2, (IrValue *[]){A, p},
                         with_dim(A->type, A->type.rank - 1, f.r));
  bld.loc = half_loc(m, &op->loc, "lowrank_b");
  IrValue *y = ir_build1(&bld, IR_OP_MATMUL, 2, (IrValue *[]){t, q}, op->results[0]->type);
  ir_replace_uses(m->main, op->results[0], y);
  ir_op_remove(op);
  count_factorized(pc, "matmuls factorized", K * N, f.r * (K + N));
}

static void factor_gemm(PassContext *pc, IrOp *op) {
  IrModule *m = pc->m;
  IrValue *A = op->operands[0], *B = op->operands[1];
  const float *b = matrix_weight(pc, op, B);
  if (!b || A->type.rank != 2 || !ir_type_is_static(&op->results[0]->type)) return;
  bool trans_b = ir_attr_int(op, "transB", 0) != 0;
  int64_t rows = ir_type_dim(&B->type, 0), cols = ir_type_dim(&B->type, 1);
  int64_t K = trans_b ? cols : rows, N = trans_b ? rows : cols;
  Factored f = factor_matrix(pc, b, K, N, trans_b ? 1 : cols, trans_b ? cols : 1);
  if (!f.r) return;
  IrValue *p, *q;
  matrix_factor_weights(m, B->weight->name, K, N, &f, &p, &q);
  IrBuilder bld = ir_builder_before(m, op);
  int64_t M = ir_type_dim(&op->results[0]->type, 0);
  IrType tt = ir_type_tensor(IR_F32, 2, (int64_t[]){M, f.r});
  bld.loc = half_loc(m, &op->loc, "lowrank_a");
  IrOp *first = ir_build(&bld, IR_OP_GEMM, 2, (IrValue *[]){A, p}, 1, &tt);
  ir_attr_set_float(m, first, "alpha", 1.0);
  ir_attr_set_float(m, first, "beta", 1.0);
  ir_attr_set_int(m, first, "transA", ir_attr_int(op, "transA", 0));
  ir_attr_set_int(m, first, "transB", 0);
  IrValue *operands[3] = {first->results[0], q, op->num_operands > 2 ? op->operands[2] : NULL};
  bld.loc = half_loc(m, &op->loc, "lowrank_b");
  IrOp *second = ir_build(&bld, IR_OP_GEMM, 3, operands, 1, &op->results[0]->type);
  ir_attr_set_float(m, second, "alpha", ir_attr_float(op, "alpha", 1.0));
  ir_attr_set_float(m, second, "beta", ir_attr_float(op, "beta", 1.0));
  ir_attr_set_int(m, second, "transA", 0);
  ir_attr_set_int(m, second, "transB", 0);
  ir_replace_uses(m->main, op->results[0], second->results[0]);
  ir_op_remove(op);
  count_factorized(pc, "gemms factorized", K * N, f.r * (K + N));
}

/* Channels: W as M x (C k..) -> conv(conv(X, Q[r,C,k..]) {the conv's
 * attributes}, P[M,r,1..], B). */
static void rewrite_conv_channels(PassContext *pc, IrOp *op, const Factored *f) {
  IrModule *m = pc->m;
  IrValue *W = op->operands[1];
  const IrType *wt = &W->type, *yt = &op->results[0]->type;
  int spatial = wt->rank - 2;
  int64_t M = ir_type_dim(wt, 0), qdims[IR_MAX_RANK], pdims[IR_MAX_RANK];
  int64_t zeros[2 * IR_MAX_RANK] = {0}, ones[IR_MAX_RANK], per = 1;
  for (int i = 0; i < wt->rank; i++) qdims[i] = ir_type_dim(wt, i), pdims[i] = 1;
  for (int i = 1; i < wt->rank; i++) per *= qdims[i];
  qdims[0] = f->r, pdims[0] = M, pdims[1] = f->r;
  for (int i = 0; i < spatial; i++) ones[i] = 1;
  const char *name = W->weight->name;
  IrValue *q = pass_new_weight(m, name, "lowrank_a", ir_type_tensor(IR_F32, wt->rank, qdims),
                               f->q, (uint64_t)(f->r * per));
  IrValue *p = pass_new_weight(m, name, "lowrank_b", ir_type_tensor(IR_F32, wt->rank, pdims),
                               f->p, (uint64_t)(M * f->r));
  IrBuilder bld = ir_builder_before(m, op);
  IrType tt = with_dim(*yt, 1, f->r);
  bld.loc = half_loc(m, &op->loc, "lowrank_a");
  IrOp *first = ir_build(&bld, IR_OP_CONV, 2, (IrValue *[]){op->operands[0], q}, 1, &tt);
  for (int i = 0; i < op->num_attrs; i++) ir_attr_set(m, first, &op->attrs[i]);
  IrValue *operands[3] = {first->results[0], p, op->num_operands > 2 ? op->operands[2] : NULL};
  bld.loc = half_loc(m, &op->loc, "lowrank_b");
  IrOp *second = ir_build(&bld, IR_OP_CONV, 3, operands, 1, yt);
  ir_attr_set_ints(m, second, "dilations", spatial, ones);
  ir_attr_set_int(m, second, "group", 1);
  ir_attr_set_ints(m, second, "kernel_shape", spatial, ones);
  ir_attr_set_ints(m, second, "pads", 2 * spatial, zeros);
  ir_attr_set_ints(m, second, "strides", spatial, ones);
  ir_replace_uses(m->main, op->results[0], second->results[0]);
  ir_op_remove(op);
}

/* Spatial: W[m,c,i,j] ~ sum_r V[r,c,i] H[m,r,j], the SVD of W as the
 * (C kh) x (M kw) matrix -> conv(conv(X, V[r,C,kh,1]) {the vertical half of
 * strides, pads, dilations}, H[M,r,1,kw], B) {the horizontal half}: a
 * kh x 1 conv to r channels over every input column, then a 1 x kw one. */
static void rewrite_conv_spatial(PassContext *pc, IrOp *op, const Factored *f) {
  IrModule *m = pc->m;
  IrValue *X = op->operands[0], *W = op->operands[1];
  const IrType *yt = &op->results[0]->type;
  int64_t M = ir_type_dim(&W->type, 0), C = ir_type_dim(&W->type, 1);
  int64_t kh = ir_type_dim(&W->type, 2), kw = ir_type_dim(&W->type, 3), r = f->r;
  float *v = malloc((size_t)(r * C * kh) * sizeof *v), *h = malloc((size_t)(M * r * kw) * sizeof *h);
  IR_ASSERT(v && h);
  for (int64_t k = 0; k < r; k++)
    for (int64_t ci = 0; ci < C * kh; ci++) v[k * C * kh + ci] = f->p[ci * r + k];
  for (int64_t o = 0; o < M; o++)
    for (int64_t k = 0; k < r; k++)
      for (int64_t j = 0; j < kw; j++) h[(o * r + k) * kw + j] = f->q[k * M * kw + o * kw + j];
  const char *name = W->weight->name;
  IrValue *vw = pass_new_weight(m, name, "lowrank_a",
                                ir_type_tensor(IR_F32, 4, (int64_t[]){r, C, kh, 1}), v,
                                (uint64_t)(r * C * kh));
  IrValue *hw = pass_new_weight(m, name, "lowrank_b",
                                ir_type_tensor(IR_F32, 4, (int64_t[]){M, r, 1, kw}), h,
                                (uint64_t)(M * r * kw));
  free(v), free(h);
  const int64_t *strides, *pads, *dilations;
  bool has_s = ir_attr_ints(op, "strides", &strides) == 2;
  bool has_p = ir_attr_ints(op, "pads", &pads) == 4;
  bool has_d = ir_attr_ints(op, "dilations", &dilations) == 2;
  int64_t s[2] = {has_s ? strides[0] : 1, has_s ? strides[1] : 1};
  int64_t d[2] = {has_d ? dilations[0] : 1, has_d ? dilations[1] : 1};
  int64_t pd[4] = {has_p ? pads[0] : 0, has_p ? pads[1] : 0, has_p ? pads[2] : 0,
                   has_p ? pads[3] : 0};
  IrBuilder bld = ir_builder_before(m, op);
  IrType tt = with_dim(with_dim(*yt, 1, r), 3, ir_type_dim(&X->type, 3));
  bld.loc = half_loc(m, &op->loc, "lowrank_a");
  IrOp *first = ir_build(&bld, IR_OP_CONV, 2, (IrValue *[]){X, vw}, 1, &tt);
  ir_attr_set_ints(m, first, "dilations", 2, (int64_t[]){d[0], 1});
  ir_attr_set_int(m, first, "group", 1);
  ir_attr_set_ints(m, first, "kernel_shape", 2, (int64_t[]){kh, 1});
  ir_attr_set_ints(m, first, "pads", 4, (int64_t[]){pd[0], 0, pd[2], 0});
  ir_attr_set_ints(m, first, "strides", 2, (int64_t[]){s[0], 1});
  IrValue *operands[3] = {first->results[0], hw, op->num_operands > 2 ? op->operands[2] : NULL};
  bld.loc = half_loc(m, &op->loc, "lowrank_b");
  IrOp *second = ir_build(&bld, IR_OP_CONV, 3, operands, 1, yt);
  ir_attr_set_ints(m, second, "dilations", 2, (int64_t[]){1, d[1]});
  ir_attr_set_int(m, second, "group", 1);
  ir_attr_set_ints(m, second, "kernel_shape", 2, (int64_t[]){1, kw});
  ir_attr_set_ints(m, second, "pads", 4, (int64_t[]){0, pd[1], 0, pd[3]});
  ir_attr_set_ints(m, second, "strides", 2, (int64_t[]){1, s[1]});
  ir_replace_uses(m->main, op->results[0], second->results[0]);
  ir_op_remove(op);
}

/* A conv's two forms, each planned on its eigenvalues; energy:E takes the
 * one with fewer multiply-adds, rank:R the one keeping more energy. */
static void factor_conv(PassContext *pc, IrOp *op) {
  IrValue *X = op->operands[0], *W = op->operands[1];
  const IrType *wt = &W->type, *yt = &op->results[0]->type;
  uint64_t numel;
  if (!W->weight || ir_attr_int(op, "group", 1) != 1 || wt->rank < 3 ||
      !ir_type_is_static(wt) || !ir_type_is_static(yt) || !ir_type_is_static(&X->type) ||
      !ir_type_numel(wt, &numel) || numel > (1u << 26))
    return;
  const float *src = pass_weight_f32(W, numel);
  if (!src) return;
  if (!only_reader(pc, op, W)) {
    count_dense(pc, false);
    return;
  }
  const LowrankOptions *o = pc->lowrank;
  LowrankConv form = o->conv;
  int64_t M = ir_type_dim(wt, 0), C = ir_type_dim(wt, 1), per = (int64_t)numel / M, pixels = 1;
  for (int i = 2; i < yt->rank; i++) pixels *= ir_type_dim(yt, i);
  /* channels: r (C k.. + M) parameters, and multiply-adds per output pixel */
  double *wc = NULL, *ws = NULL, kept_c = 0, kept_s = 0;
  int rc = 0, rs = 0;
  bool large_c = false, large_s = false;
  if (form != LOWRANK_CONV_SPATIAL) {
    wc = malloc((size_t)numel * sizeof *wc);
    IR_ASSERT(wc);
    for (uint64_t i = 0; i < numel; i++) wc[i] = src[i];
    rc = plan_rank(pc, wc, M, per, (M * per - 1) / (M + per), &kept_c, &large_c);
  }
  double cost_c = (double)rc * (double)(per + M) * (double)pixels, cost_s = 0;
  int64_t kh = wt->rank == 4 ? ir_type_dim(wt, 2) : 1, kw = wt->rank == 4 ? ir_type_dim(wt, 3) : 1;
  if (form != LOWRANK_CONV_CHANNELS && wt->rank == 4 && kh > 1 && kw > 1) {
    /* spatial: r (C kh + M kw) parameters; r C kh multiply-adds at each of
     * the first conv's Hout x Win outputs, r M kw at each final one */
    int64_t rows = C * kh, cols = M * kw, win = ir_type_dim(&X->type, 3);
    int64_t hout = ir_type_dim(yt, 2), dense = M * per * pixels;
    int64_t per_rank = rows * hout * win + cols * pixels;
    int64_t max_rank = (M * per - 1) / (rows + cols);
    if ((dense - 1) / per_rank < max_rank) max_rank = (dense - 1) / per_rank;
    ws = malloc((size_t)numel * sizeof *ws);
    IR_ASSERT(ws);
    for (int64_t mo = 0; mo < M; mo++)
      for (int64_t ci = 0; ci < rows; ci++)
        for (int64_t j = 0; j < kw; j++) ws[ci * cols + mo * kw + j] = src[mo * per + ci * kw + j];
    rs = plan_rank(pc, ws, rows, cols, max_rank, &kept_s, &large_s);
    cost_s = (double)rs * (double)per_rank;
  }
  bool spatial = rs && (!rc || (o->rank ? kept_s > kept_c || (kept_s == kept_c &&
                                                                      cost_s < cost_c)
                                             : cost_s < cost_c));
  if (spatial) {
    int64_t rows = C * kh, cols = M * kw;
    Factored f = factor(ws, rows, cols, rs, 0, rs);
    rewrite_conv_spatial(pc, op, &f);
    free(f.p), free(f.q);
    count_factorized(pc, "convs factorized (spatial)", (int64_t)numel, rs * (rows + cols));
  } else if (rc) {
    Factored f = factor(wc, M, per, rc, 0, rc);
    rewrite_conv_channels(pc, op, &f);
    free(f.p), free(f.q);
    count_factorized(pc, "convs factorized (channels)", (int64_t)numel, rc * (per + M));
  } else
    count_dense(pc, large_c || large_s);
  free(wc), free(ws);
}

bool pass_lowrank(PassContext *pc) {
  IrFunc *f = pc->m->main;
  if (!f || f->lowered || !pc->lowrank) return true;
  for (IrOp *op = f->body->first, *next; op; op = next) {
    next = op->next; /* the rewrites insert before op and remove it */
    if (op->num_results != 1 || op->results[0]->type.elem != IR_F32) continue;
    if (op->kind == IR_OP_MATMUL) factor_matmul(pc, op);
    else if (op->kind == IR_OP_GEMM) factor_gemm(pc, op);
    else if (op->kind == IR_OP_CONV) factor_conv(pc, op);
  }
  return true;
}
