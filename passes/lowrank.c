/*
 * lowrank.c — low-rank factorization of weights (-lowrank=energy:E or
 * -lowrank=rank:R; docs/compression.md).
 *
 * A weight matrix W (m x n) is replaced by its truncated SVD, W ~ P Q with
 * P m x r and Q r x n, r the rank kept:
 *   - matmul(A, W[K,N]):            matmul(matmul(A, P), Q)
 *   - gemm(A, B, C) (B a weight; W = B, or B^T with transB):
 *                                   gemm(gemm(A, P) {transA}, Q, C) {alpha, beta}
 *   - conv(X, W[M,C,k..], B), one group: W as M x (C*k..), so
 *                                   conv(conv(X, Q[r,C,k..]) {the attributes}, P[M,r,1..], B)
 *     (a k x k conv to r channels, then a 1x1 one).
 * The rank: exactly R (at most min(m, n)), or the smallest that keeps the
 * fraction E of the squared singular values (the weight's energy).  A layer
 * is factorized only where r (m + n) < m n: then both its parameters and
 * its multiply-adds go down (per output row or pixel both cost m n before,
 * r (m + n) after); else it stays dense.  Runs before fuse, so a bias, a
 * BatchNormalization or an activation still joins the second product.
 *
 * The SVD: the eigen-decomposition of the smaller Gram matrix (W^T W or
 * W W^T) by cyclic Jacobi rotations, in double.  The Gram matrix squares
 * the condition number, which costs accuracy only in the smallest singular
 * values, the ones truncation drops.  Deterministic: the same weights and
 * flags give the same factors on every machine.
 *
 * Statistics: matmuls factorized, gemms factorized, convs factorized, kept
 * dense (no saving at the rank chosen), too large to factorize (the SVD's
 * work past 8e9 multiply-adds, about min(m,n) > 1,500 for a square
 * matrix: left dense so that a compile stays in seconds), parameters
 * before, parameters after (of the layers factorized).
 * Needs: tensor level with inferred types.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

/* The eigenvalues of a (n x n, symmetric, row-major; overwritten) into
 * values, and when qt is not NULL the eigenvectors into its rows (n x n):
 * Householder reduction to tridiagonal form, then implicit symmetric QR
 * steps with Wilkinson's shift (Golub and Van Loan, 8.3).  Without
 * vectors this costs (4/3) n^3, so deciding on a layer is cheap. */
static void symmetric_eigen(double *a, int n, double *values, double *qt) {
  double *e = calloc((size_t)n + 1, sizeof *e), *beta = calloc((size_t)n + 1, sizeof *beta);
  double *p = malloc(((size_t)n + 1) * sizeof *p);
  IR_ASSERT(e && beta && p);
  double *d = values;
  for (int k = 0; k + 2 < n; k++) {
    /* H_k = I - beta v v^T maps row k's x = a[k][k+1..] to (alpha, 0..);
     * v is kept in that row for the vectors */
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
      const double *si = a + (size_t)(k + 1 + i) * n + k + 1;
      double sum = 0;
      for (int j = 0; j < len; j++) sum += si[j] * v[j];
      p[i] = beta[k] * sum;
      pv += p[i] * v[i];
    }
    double half = beta[k] * pv / 2;
    for (int i = 0; i < len; i++) p[i] -= half * v[i];
    for (int i = 0; i < len; i++) {
      double *si = a + (size_t)(k + 1 + i) * n + k + 1;
      for (int j = 0; j < len; j++) si[j] -= v[i] * p[j] + p[i] * v[j];
    }
  }
  if (n >= 2) {
    d[n - 2] = a[(size_t)(n - 2) * n + n - 2];
    e[n - 2] = a[(size_t)(n - 2) * n + n - 1];
  }
  if (n >= 1) d[n - 1] = a[(size_t)(n - 1) * n + n - 1];
  e[n - 1] = 0;
  if (qt) { /* Q^T = H_{n-3} .. H_1 H_0: row i of Q^T is column i of Q */
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
  }
  /* d, e: the tridiagonal matrix (e[i] couples i and i + 1) */
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
  free(e), free(beta), free(p);
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
  *P = *Q = NULL;
  *kept = 0;
  bool rows = m < n; /* the Gram matrix of the rows (m x m), else of the columns */
  int g = rows ? m : n, len = rows ? n : m;
  double *gram = malloc((size_t)g * g * sizeof *gram), *a = malloc((size_t)g * g * sizeof *a);
  double *values = malloc((size_t)g * sizeof *values);
  Eigen *e = malloc((size_t)g * sizeof *e);
  IR_ASSERT(gram && a && values && e);
  for (int i = 0; i < g; i++)
    for (int j = i; j < g; j++) {
      double sum = 0;
      for (int k = 0; k < len; k++)
        sum += rows ? w[(size_t)i * n + k] * w[(size_t)j * n + k]
                    : w[(size_t)k * n + i] * w[(size_t)k * n + j];
      gram[(size_t)i * g + j] = gram[(size_t)j * g + i] = sum;
    }
  memcpy(a, gram, (size_t)g * g * sizeof *a);
  symmetric_eigen(a, g, values, NULL);
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
  if (r > 0 && (max_rank <= 0 || r <= max_rank)) {
    /* the vectors only for a layer that is factorized: the same steps
     * again, now carrying Q (the same values, in the same places) */
    double *qt = malloc((size_t)g * g * sizeof *qt);
    double *pm = calloc((size_t)m * r, sizeof *pm), *qm = calloc((size_t)r * n, sizeof *qm);
    IR_ASSERT(qt && pm && qm);
    symmetric_eigen(gram, g, values, qt);
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
  free(gram), free(a), free(values), free(e);
  return r;
}

typedef struct Factored {
  int r;
  float *p, *q; /* m x r, r x n */
} Factored;

static void count_factorized(PassContext *pc, const char *what, int64_t m, int64_t n, int r) {
  pass_stat(pc, what, 1);
  pass_stat(pc, "parameters before", m * n);
  pass_stat(pc, "parameters after", r * (m + n));
}

/* Factors the m x n matrix element (i, j) = src[i * si + j * sj] when that
 * saves; r == 0 when it does not (the stat "kept dense" counted). */
static Factored factor(PassContext *pc, const float *src, int64_t m, int64_t n, int64_t si,
                       int64_t sj) {
  Factored f = {0, NULL, NULL};
  const LowrankOptions *o = pc->lowrank;
  /* factorized only where r (m + n) < m n */
  int64_t max_rank = (m * n - 1) / (m + n);
  if (max_rank < 1 || (o && o->rank > max_rank)) {
    pass_stat(pc, "kept dense", 1);
    return f;
  }
  /* the SVD's work, g^2 (len + g) for the Gram matrix of side g = min(m,
   * n) and its reduction, bounded so that a compile stays in seconds */
  double g = (double)(m < n ? m : n), len = (double)(m < n ? n : m);
  if (g * g * (len + g) > 8e9) {
    pass_stat(pc, "too large to factorize", 1);
    return f;
  }
  double *w = malloc((size_t)(m * n) * sizeof *w), *P, *Q, kept;
  IR_ASSERT(w);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) w[i * n + j] = src[i * si + j * sj];
  int r = lowrank_factor(w, (int)m, (int)n, o ? o->rank : 0, o ? o->energy : 0.95,
                         (int)max_rank, &P, &Q, &kept);
  free(w);
  if (r > 0 && P) {
    f.r = r;
    f.p = malloc((size_t)(m * r) * sizeof *f.p);
    f.q = malloc((size_t)(r * n) * sizeof *f.q);
    IR_ASSERT(f.p && f.q);
    for (int64_t i = 0; i < m * r; i++) f.p[i] = (float)P[i];
    for (int64_t i = 0; i < r * n; i++) f.q[i] = (float)Q[i];
  } else
    pass_stat(pc, "kept dense", 1);
  free(P), free(Q);
  return f;
}

/* The weight W of a static f32 matrix operand, or NULL. */
static const float *matrix_weight(const IrValue *v) {
  uint64_t numel;
  if (!v || !v->weight || v->type.rank != 2 || !ir_type_is_static(&v->type) ||
      !ir_type_numel(&v->type, &numel) || numel > (1u << 26))
    return NULL;
  return pass_weight_f32(v, numel);
}

static IrType with_dim(IrType t, int i, int64_t size) {
  t.dims[i] = (IrDim){size, -1};
  return t;
}

static void factor_matmul(PassContext *pc, IrOp *op) {
  IrModule *m = pc->m;
  IrValue *A = op->operands[0], *W = op->operands[1];
  const float *w = matrix_weight(W);
  if (!w || A->type.rank < 1 || op->results[0]->type.elem != IR_F32) return;
  int64_t K = ir_type_dim(&W->type, 0), N = ir_type_dim(&W->type, 1);
  Factored f = factor(pc, w, K, N, N, 1);
  if (!f.r) return;
  const char *name = W->weight->name;
  IrValue *p = pass_new_weight(m, name, "lowrank_a", ir_type_tensor(IR_F32, 2, (int64_t[]){K, f.r}),
                               f.p, (uint64_t)(K * f.r));
  IrValue *q = pass_new_weight(m, name, "lowrank_b", ir_type_tensor(IR_F32, 2, (int64_t[]){f.r, N}),
                               f.q, (uint64_t)(f.r * N));
  free(f.p), free(f.q);
  IrBuilder bld = ir_builder_before(m, op);
  bld.loc = op->loc;
  IrValue *t = ir_build1(&bld, IR_OP_MATMUL, 2, (IrValue *[]){A, p},
                         with_dim(A->type, A->type.rank - 1, f.r));
  IrValue *y = ir_build1(&bld, IR_OP_MATMUL, 2, (IrValue *[]){t, q}, op->results[0]->type);
  ir_replace_uses(m->main, op->results[0], y);
  ir_op_remove(op);
  count_factorized(pc, "matmuls factorized", K, N, f.r);
}

static void factor_gemm(PassContext *pc, IrOp *op) {
  IrModule *m = pc->m;
  IrValue *A = op->operands[0], *B = op->operands[1];
  const float *b = matrix_weight(B);
  if (!b || A->type.rank != 2 || !ir_type_is_static(&op->results[0]->type)) return;
  bool trans_b = ir_attr_int(op, "transB", 0) != 0;
  int64_t rows = ir_type_dim(&B->type, 0), cols = ir_type_dim(&B->type, 1);
  int64_t K = trans_b ? cols : rows, N = trans_b ? rows : cols;
  Factored f = factor(pc, b, K, N, trans_b ? 1 : cols, trans_b ? cols : 1);
  if (!f.r) return;
  const char *name = B->weight->name;
  IrValue *p = pass_new_weight(m, name, "lowrank_a", ir_type_tensor(IR_F32, 2, (int64_t[]){K, f.r}),
                               f.p, (uint64_t)(K * f.r));
  IrValue *q = pass_new_weight(m, name, "lowrank_b", ir_type_tensor(IR_F32, 2, (int64_t[]){f.r, N}),
                               f.q, (uint64_t)(f.r * N));
  free(f.p), free(f.q);
  IrBuilder bld = ir_builder_before(m, op);
  bld.loc = op->loc;
  int64_t M = ir_type_dim(&op->results[0]->type, 0);
  IrType tt = ir_type_tensor(IR_F32, 2, (int64_t[]){M, f.r});
  IrOp *first = ir_build(&bld, IR_OP_GEMM, 2, (IrValue *[]){A, p}, 1, &tt);
  ir_attr_set_float(m, first, "alpha", 1.0);
  ir_attr_set_float(m, first, "beta", 1.0);
  ir_attr_set_int(m, first, "transA", ir_attr_int(op, "transA", 0));
  ir_attr_set_int(m, first, "transB", 0);
  IrValue *operands[3] = {first->results[0], q, op->num_operands > 2 ? op->operands[2] : NULL};
  IrOp *second = ir_build(&bld, IR_OP_GEMM, 3, operands, 1, &op->results[0]->type);
  ir_attr_set_float(m, second, "alpha", ir_attr_float(op, "alpha", 1.0));
  ir_attr_set_float(m, second, "beta", ir_attr_float(op, "beta", 1.0));
  ir_attr_set_int(m, second, "transA", 0);
  ir_attr_set_int(m, second, "transB", 0);
  ir_replace_uses(m->main, op->results[0], second->results[0]);
  ir_op_remove(op);
  count_factorized(pc, "gemms factorized", K, N, f.r);
}

static void factor_conv(PassContext *pc, IrOp *op) {
  IrModule *m = pc->m;
  IrValue *X = op->operands[0], *W = op->operands[1];
  const IrType *wt = &W->type, *yt = &op->results[0]->type;
  uint64_t numel;
  if (!W->weight || ir_attr_int(op, "group", 1) != 1 || wt->rank < 3 ||
      !ir_type_is_static(wt) || !ir_type_is_static(yt) || !ir_type_numel(wt, &numel) ||
      numel > (1u << 26))
    return;
  const float *w = pass_weight_f32(W, numel);
  if (!w) return;
  int64_t M = ir_type_dim(wt, 0), per = (int64_t)numel / M; /* C * k.. */
  Factored f = factor(pc, w, M, per, per, 1);
  if (!f.r) return;
  int spatial = wt->rank - 2;
  int64_t qdims[IR_MAX_RANK], pdims[IR_MAX_RANK], zeros[2 * IR_MAX_RANK] = {0};
  int64_t ones[IR_MAX_RANK];
  for (int i = 0; i < wt->rank; i++) qdims[i] = ir_type_dim(wt, i), pdims[i] = 1;
  qdims[0] = f.r, pdims[0] = M, pdims[1] = f.r;
  for (int i = 0; i < spatial; i++) ones[i] = 1;
  const char *name = W->weight->name;
  IrValue *q = pass_new_weight(m, name, "lowrank_a", ir_type_tensor(IR_F32, wt->rank, qdims),
                               f.q, (uint64_t)(f.r * per));
  IrValue *p = pass_new_weight(m, name, "lowrank_b", ir_type_tensor(IR_F32, wt->rank, pdims),
                               f.p, (uint64_t)(M * f.r));
  free(f.p), free(f.q);
  IrBuilder bld = ir_builder_before(m, op);
  bld.loc = op->loc;
  IrType tt = with_dim(*yt, 1, f.r);
  IrOp *first = ir_build(&bld, IR_OP_CONV, 2, (IrValue *[]){X, q}, 1, &tt);
  for (int i = 0; i < op->num_attrs; i++) ir_attr_set(m, first, &op->attrs[i]);
  IrValue *operands[3] = {first->results[0], p, op->num_operands > 2 ? op->operands[2] : NULL};
  IrOp *second = ir_build(&bld, IR_OP_CONV, 3, operands, 1, yt);
  ir_attr_set_ints(m, second, "dilations", spatial, ones);
  ir_attr_set_int(m, second, "group", 1);
  ir_attr_set_ints(m, second, "kernel_shape", spatial, ones);
  ir_attr_set_ints(m, second, "pads", 2 * spatial, zeros);
  ir_attr_set_ints(m, second, "strides", spatial, ones);
  ir_replace_uses(m->main, op->results[0], second->results[0]);
  ir_op_remove(op);
  count_factorized(pc, "convs factorized", M, per, f.r);
}

bool pass_lowrank(PassContext *pc) {
  IrFunc *f = pc->m->main;
  if (!f || f->lowered) return true;
  for (IrOp *op = f->body->first, *next; op; op = next) {
    next = op->next; /* the rewrites insert before op and remove it */
    if (op->num_results != 1 || op->results[0]->type.elem != IR_F32) continue;
    if (op->kind == IR_OP_MATMUL) factor_matmul(pc, op);
    else if (op->kind == IR_OP_GEMM) factor_gemm(pc, op);
    else if (op->kind == IR_OP_CONV) factor_conv(pc, op);
  }
  return true;
}
