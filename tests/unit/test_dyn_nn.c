/* test_dyn_nn.c — MatMul, Gemm, Softmax/LogSoftmax, LayerNormalization,
 * the Reduce family and Transpose with run-time dims: exact result types
 * and diagnostics, and numbers from ONE lowering of each op run by the
 * loop-level interpreter at several run-time sizes against references
 * computed here in C. */
#include <stdlib.h>

#define SEQ_MAX 64
#include "dyn_test.h"

static const char *infer(IrModule *m, IrOp *op, int opset) { return run(m, op, opset); }

/* --------------------------------------------------------------- MatMul */
/* y[b] = a[b] x b[b] for row-major [M,K] x [K,N] slices */
static void ref_mm(const float *a, const float *b, float *y, int M, int K, int N) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      double s = 0;
      for (int k = 0; k < K; k++) s += (double)a[i * K + k] * b[k * N + j];
      y[i * N + j] = (float)s;
    }
}

/* Attention scores and output: [1,4,S,8] x [1,4,8,S] (M and N run-time)
 * and [1,4,S,S] x [1,4,S,8] (K run-time). */
static void test_matmul_attention(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  IrValue *q = DIN(m, IR_F32, 1, 4, D(s), 8), *kt = DIN(m, IR_F32, 1, 4, 8, D(s));
  IrOp *qk = op_new(m, IR_OP_MATMUL, 2, (IrValue *[]){q, kt}, 1);
  assert_string_equal(infer(m, qk, 13), "f32[1,4,seq,seq]");
  IrValue *p = DIN(m, IR_F32, 1, 4, D(s), D(s)), *v = DIN(m, IR_F32, 1, 4, D(s), 8);
  IrOp *pv = op_new(m, IR_OP_MATMUL, 2, (IrValue *[]){p, v}, 1);
  assert_string_equal(infer(m, pv, 13), "f32[1,4,seq,8]");
  IrFunc *f1 = lower_alone(m, qk), *f2 = lower_alone(m, pv);
  enum { S = SEQ_MAX };
  static float a[4 * S * 8], b[4 * 8 * S], y[4 * S * S], want[4 * S * S];
  static float pp[4 * S * S], vv[4 * S * 8], y2[4 * S * 8], want2[4 * S * 8];
  for (int t = 0; t < NSEQ; t++) {
    int n = (int)SEQS[t];
    fill(a, 4 * n * 8, 1 + t), fill(b, 4 * 8 * n, 2 + t);
    for (int h = 0; h < 4; h++) ref_mm(a + h * n * 8, b + h * 8 * n, want + h * n * n, n, 8, n);
    memset(y, 0, sizeof y);
    run_at(m, f1, (void *[]){a, b, y}, n);
    floats_near(y, want, 4 * n * n);
    fill(pp, 4 * n * n, 3 + t), fill(vv, 4 * n * 8, 4 + t);
    for (int h = 0; h < 4; h++)
      ref_mm(pp + h * n * n, vv + h * n * 8, want2 + h * n * 8, n, n, 8);
    run_at(m, f2, (void *[]){pp, vv, y2}, n);
    floats_near(y2, want2, 4 * n * 8);
  }
}

/* Run-time batch dims with broadcasting: [S,1,3,4] x [1,2,4,5] -> [S,2,3,5];
 * a weight B broadcast over a run-time batch; 1-D operands with a run-time
 * K ([S] x [S,5] and [3,S] x [S], the dot form). */
static void test_matmul_batch_and_vectors(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  enum { S = SEQ_MAX };
  IrOp *op1 = op_new(m, IR_OP_MATMUL, 2,
                     (IrValue *[]){DIN(m, IR_F32, D(s), 1, 3, 4), IN(m, IR_F32, 1, 2, 4, 5)}, 1);
  assert_string_equal(infer(m, op1, 13), "f32[seq,2,3,5]");
  static float w[20];
  fill(w, 20, 99);
  IrOp *op2 = op_new(m, IR_OP_MATMUL, 2,
                     (IrValue *[]){DIN(m, IR_F32, D(s), 3, 4), weight(m, IR_F32, DIMS(4, 5), w)}, 1);
  assert_string_equal(infer(m, op2, 13), "f32[seq,3,5]");
  IrOp *op3 = op_new(m, IR_OP_MATMUL, 2,
                     (IrValue *[]){DIN(m, IR_F32, D(s)), DIN(m, IR_F32, D(s), 5)}, 1);
  assert_string_equal(infer(m, op3, 13), "f32[5]");
  IrOp *op4 = op_new(m, IR_OP_MATMUL, 2,
                     (IrValue *[]){DIN(m, IR_F32, 3, D(s)), DIN(m, IR_F32, D(s))}, 1);
  assert_string_equal(infer(m, op4, 13), "f32[3]");
  IrFunc *f1 = lower_alone(m, op1), *f2 = lower_alone(m, op2), *f3 = lower_alone(m, op3),
         *f4 = lower_alone(m, op4);
  static float a[S * 12], b[40], y[S * 30], want[S * 30];
  static float v[S], bm[S * 5], y3[5], want3[5], am[3 * S], y4[3], want4[3];
  for (int t = 0; t < NSEQ; t++) {
    int n = (int)SEQS[t];
    fill(a, n * 12, 10 + t), fill(b, 40, 20 + t);
    for (int i = 0; i < n; i++)
      for (int h = 0; h < 2; h++) ref_mm(a + i * 12, b + h * 20, want + (i * 2 + h) * 15, 3, 4, 5);
    run_at(m, f1, (void *[]){a, b, y}, n);
    floats_near(y, want, n * 30);
    for (int i = 0; i < n; i++) ref_mm(a + i * 12, w, want + i * 15, 3, 4, 5);
    run_at(m, f2, (void *[]){a, y}, n);
    floats_near(y, want, n * 15);
    fill(v, n, 30 + t), fill(bm, n * 5, 40 + t);
    ref_mm(v, bm, want3, 1, n, 5);
    run_at(m, f3, (void *[]){v, bm, y3}, n);
    floats_near(y3, want3, 5);
    fill(am, 3 * n, 50 + t);
    ref_mm(am, v, want4, 3, n, 1);
    run_at(m, f4, (void *[]){am, v, y4}, n);
    floats_near(y4, want4, 3);
  }
}

static void test_matmul_dyn_errors(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m), t = ir_sym_add(m, "t", 1, 8);
  IrOp *op = op_new(m, IR_OP_MATMUL, 2,
                    (IrValue *[]){DIN(m, IR_F32, 3, D(s)), IN(m, IR_F32, 4, 5)}, 1);
  assert_string_equal(infer(m, op, 13), "error: MatMul: A has K=seq but B has K=4");
  op = op_new(m, IR_OP_MATMUL, 2,
              (IrValue *[]){DIN(m, IR_F32, D(s), 3, 4), DIN(m, IR_F32, D(t), 4, 5)}, 1);
  assert_string_equal(infer(m, op, 13),
                      "error: MatMul: batch dims seq and t are not broadcastable");
  op = op_new(m, IR_OP_MATMUL, 2,
              (IrValue *[]){DIN(m, IR_F32, D(s), 3, 4), IN(m, IR_F32, 2, 4, 5)}, 1);
  assert_string_equal(infer(m, op, 13),
                      "error: MatMul: batch dims seq and 2 are not broadcastable");
  op = op_new(m, IR_OP_MATMUL, 2,
              (IrValue *[]){DIN(m, IR_BOOL, D(s), 4), IN(m, IR_BOOL, 4, 5)}, 1);
  assert_string_equal(infer(m, op, 13),
                      "error: MatMul: input A has unsupported element type bool");
}

/* ----------------------------------------------------------------- Gemm */
/* Y = alpha * A' B' + beta * C with a run-time M: A [S,4] (row form) and
 * A^T [4,S] with B^T (dot form). */
static void test_gemm_dyn_m(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  enum { S = SEQ_MAX };
  IrOp *g1 = op_new(m, IR_OP_GEMM, 3,
                    (IrValue *[]){DIN(m, IR_F32, D(s), 4), IN(m, IR_F32, 4, 5), IN(m, IR_F32, 5)}, 1);
  ir_attr_set_float(m, g1, "alpha", 0.5);
  ir_attr_set_float(m, g1, "beta", 2.0);
  assert_string_equal(infer(m, g1, 13), "f32[seq,5]");
  IrOp *g2 = op_new(m, IR_OP_GEMM, 3,
                    (IrValue *[]){DIN(m, IR_F32, 4, D(s)), IN(m, IR_F32, 5, 4),
                                  DIN(m, IR_F32, D(s), 1)}, 1);
  ir_attr_set_int(m, g2, "transA", 1);
  ir_attr_set_int(m, g2, "transB", 1);
  assert_string_equal(infer(m, g2, 13), "f32[seq,5]");
  IrFunc *f1 = lower_alone(m, g1), *f2 = lower_alone(m, g2);
  static float a[S * 4], b[20], cv[S], y[S * 5], want[S * 5];
  for (int t = 0; t < NSEQ; t++) {
    int n = (int)SEQS[t];
    fill(a, n * 4, 60 + t), fill(b, 20, 61 + t), fill(cv, n > 5 ? n : 5, 62 + t);
    ref_mm(a, b, want, n, 4, 5);
    for (int i = 0; i < n * 5; i++) want[i] = 0.5f * want[i] + 2.0f * cv[i % 5];
    run_at(m, f1, (void *[]){a, b, cv, y}, n);
    floats_near(y, want, n * 5);
    /* a holds A^T [4,n], b holds B^T [5,4] */
    for (int i = 0; i < n; i++)
      for (int j = 0; j < 5; j++) {
        double acc = cv[i];
        for (int k = 0; k < 4; k++) acc += (double)a[k * n + i] * b[j * 4 + k];
        want[i * 5 + j] = (float)acc;
      }
    run_at(m, f2, (void *[]){a, b, cv, y}, n);
    floats_near(y, want, n * 5);
  }
}

/* -------------------------------------------------------------- Softmax */
/* Reference softmax / log-softmax of rows: x viewed as [outer, R, inner]. */
static void ref_softmax(const float *x, float *y, int outer, int R, int inner, bool log_) {
  for (int o = 0; o < outer; o++)
    for (int i = 0; i < inner; i++) {
      double mx = -INFINITY, sum = 0;
      for (int r = 0; r < R; r++) mx = fmax(mx, x[(o * R + r) * inner + i]);
      for (int r = 0; r < R; r++) sum += exp(x[(o * R + r) * inner + i] - mx);
      for (int r = 0; r < R; r++) {
        double d = x[(o * R + r) * inner + i] - mx;
        y[(o * R + r) * inner + i] = (float)(log_ ? d - log(sum) : exp(d) / sum);
      }
    }
}

/* Attention scores [1,4,S,S]: Softmax over the last (run-time) axis and
 * over axis 2 (run-time, not innermost), LogSoftmax over the last; opset 11
 * Softmax of [2,S,3] at axis 1 (coerce_2d: rows of S*3). */
static void test_softmax_dyn(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  enum { S = SEQ_MAX };
  IrOp *ops[4];
  ops[0] = op_new(m, IR_OP_SOFTMAX, 1, (IrValue *[]){DIN(m, IR_F32, 1, 4, D(s), D(s))}, 1);
  ops[1] = op_new(m, IR_OP_SOFTMAX, 1, (IrValue *[]){DIN(m, IR_F32, 1, 4, D(s), D(s))}, 1);
  ir_attr_set_int(m, ops[1], "axis", 2);
  ops[2] = op_new(m, IR_OP_LOG_SOFTMAX, 1, (IrValue *[]){DIN(m, IR_F32, 1, 4, D(s), D(s))}, 1);
  ops[3] = op_new(m, IR_OP_SOFTMAX, 1, (IrValue *[]){DIN(m, IR_F32, 2, D(s), 3)}, 1);
  for (int k = 0; k < 3; k++) assert_string_equal(infer(m, ops[k], 13), "f32[1,4,seq,seq]");
  assert_string_equal(infer(m, ops[3], 11), "f32[2,seq,3]");
  IrFunc *f[4];
  for (int k = 0; k < 4; k++) f[k] = lower_alone(m, ops[k]);
  static float x[4 * S * S], y[4 * S * S], want[4 * S * S];
  for (int t = 0; t < NSEQ; t++) {
    int n = (int)SEQS[t];
    fill(x, 4 * n * n, 70 + t);
    ref_softmax(x, want, 4 * n, n, 1, false);
    run_at(m, f[0], (void *[]){x, y}, n);
    floats_near(y, want, 4 * n * n);
    ref_softmax(x, want, 4, n, n, false);
    run_at(m, f[1], (void *[]){x, y}, n);
    floats_near(y, want, 4 * n * n);
    ref_softmax(x, want, 4 * n, n, 1, true);
    run_at(m, f[2], (void *[]){x, y}, n);
    floats_near(y, want, 4 * n * n);
    ref_softmax(x, want, 2, n * 3, 1, false);
    run_at(m, f[3], (void *[]){x, y}, n);
    floats_near(y, want, 2 * n * 3);
  }
}

/* ------------------------------------------------------ LayerNormalization */
static void ref_layernorm(const float *x, const float *sc, const float *bi, float *y,
                          float *mean, float *inv, int rows, int D, bool bcast1) {
  for (int r = 0; r < rows; r++) {
    double s = 0, q = 0;
    for (int d = 0; d < D; d++) s += x[r * D + d];
    double mu = s / D;
    for (int d = 0; d < D; d++) q += (x[r * D + d] - mu) * (x[r * D + d] - mu);
    double iv = 1 / sqrt(q / D + 1e-5);
    for (int d = 0; d < D; d++)
      y[r * D + d] = (float)((x[r * D + d] - mu) * iv * sc[bcast1 ? 0 : d] + bi[bcast1 ? 0 : d]);
    if (mean) mean[r] = (float)mu, inv[r] = (float)iv;
  }
}

/* [2,S,8] normalized over the last (static) axis with Scale, B and both
 * statistics outputs; [2,S] normalized over the run-time axis with Scale
 * and B of one element. */
static void test_layernorm_dyn(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  enum { S = SEQ_MAX };
  static float sc[8], bi[8], sc1[1] = {1.5f}, bi1[1] = {-0.25f};
  fill(sc, 8, 80), fill(bi, 8, 81);
  IrOp *l1 = op_new(m, IR_OP_LAYER_NORM, 3,
                    (IrValue *[]){DIN(m, IR_F32, 2, D(s), 8), weight(m, IR_F32, DIMS(8), sc),
                                  weight(m, IR_F32, DIMS(8), bi)}, 3);
  assert_string_equal(run_all(m, l1, 17), "f32[2,seq,8], f32[2,seq,1], f32[2,seq,1]");
  IrOp *l2 = op_new(m, IR_OP_LAYER_NORM, 3,
                    (IrValue *[]){DIN(m, IR_F32, 2, D(s)), weight(m, IR_F32, DIMS(1), sc1),
                                  weight(m, IR_F32, DIMS(1), bi1)}, 1);
  assert_string_equal(infer(m, l2, 17), "f32[2,seq]");
  IrFunc *f1 = lower_alone(m, l1), *f2 = lower_alone(m, l2);
  static float x[2 * S * 8], y[2 * S * 8], mu[2 * S], iv[2 * S];
  static float want[2 * S * 8], wmu[2 * S], wiv[2 * S];
  for (int t = 0; t < NSEQ; t++) {
    int n = (int)SEQS[t];
    fill(x, 2 * n * 8, 82 + t);
    ref_layernorm(x, sc, bi, want, wmu, wiv, 2 * n, 8, false);
    run_at(m, f1, (void *[]){x, y, mu, iv}, n);
    floats_near(y, want, 2 * n * 8);
    floats_near(mu, wmu, 2 * n);
    floats_near(iv, wiv, 2 * n);
    ref_layernorm(x, sc1, bi1, want, NULL, NULL, 2, n, true);
    run_at(m, f2, (void *[]){x, y}, n);
    floats_near(y, want, 2 * n);
  }
}

static void test_layernorm_dyn_errors(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  static float sc[8];
  IrOp *op = op_new(m, IR_OP_LAYER_NORM, 2,
                    (IrValue *[]){DIN(m, IR_F32, 2, D(s)), weight(m, IR_F32, DIMS(8), sc)}, 1);
  assert_string_equal(infer(m, op, 17),
                      "error: LayerNormalization: normalized dim 1 of X is the run-time "
                      "dimension 'seq', along which input Scale (8) does not broadcast; "
                      "give it one size with -dim=seq=VALUE");
}

/* BatchNormalization in training mode takes static dims only. */
static void test_batchnorm_training_dyn_errors(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  static float p[2];
  IrValue *in[5] = {DIN(m, IR_F32, D(s), 2, 3), weight(m, IR_F32, DIMS(2), p),
                    weight(m, IR_F32, DIMS(2), p), weight(m, IR_F32, DIMS(2), p),
                    weight(m, IR_F32, DIMS(2), p)};
  IrOp *op = op_new(m, IR_OP_BATCH_NORM, 5, in, 3);
  ir_attr_set_int(m, op, "training_mode", 1);
  assert_string_equal(infer(m, op, 15),
                      "error: BatchNormalization: training_mode=1 needs static dims, "
                      "but X has type f32[seq,2,3]; give each run-time dim one size "
                      "with -dim=NAME=VALUE");
}

/* ------------------------------------------------------------- Reduce */
/* ReduceMean over the run-time axis (divides by seq), ReduceSum over a
 * static axis keeping the run-time one, ReduceMax over all axes, all of
 * [2,S,3]. */
static void test_reduce_dyn(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  enum { S = SEQ_MAX };
  IrOp *mean = op_new(m, IR_OP_REDUCE_MEAN, 1, (IrValue *[]){DIN(m, IR_F32, 2, D(s), 3)}, 1);
  ir_attr_set_ints(m, mean, "axes", 1, (int64_t[]){1});
  assert_string_equal(infer(m, mean, 13), "f32[2,1,3]");
  IrOp *sum = op_new(m, IR_OP_REDUCE_SUM, 1, (IrValue *[]){DIN(m, IR_F32, 2, D(s), 3)}, 1);
  ir_attr_set_ints(m, sum, "axes", 1, (int64_t[]){-1});
  ir_attr_set_int(m, sum, "keepdims", 0);
  assert_string_equal(infer(m, sum, 13), "f32[2,seq]");
  IrOp *sum2 = op_new(m, IR_OP_REDUCE_SUM, 1, (IrValue *[]){DIN(m, IR_F32, 2, D(s), 3)}, 1);
  ir_attr_set_ints(m, sum2, "axes", 1, (int64_t[]){2});
  assert_string_equal(infer(m, sum2, 13), "f32[2,seq,1]");
  IrOp *max = op_new(m, IR_OP_REDUCE_MAX, 1, (IrValue *[]){DIN(m, IR_F32, 2, D(s), 3)}, 1);
  ir_attr_set_int(m, max, "keepdims", 0);
  assert_string_equal(infer(m, max, 13), "f32[]");
  IrFunc *fm = lower_alone(m, mean), *fs = lower_alone(m, sum), *fs2 = lower_alone(m, sum2),
         *fx = lower_alone(m, max);
  static float x[2 * S * 3], y[2 * S], want[2 * S];
  for (int t = 0; t < NSEQ; t++) {
    int n = (int)SEQS[t];
    fill(x, 2 * n * 3, 90 + t);
    for (int b = 0; b < 2; b++)
      for (int k = 0; k < 3; k++) {
        double acc = 0;
        for (int i = 0; i < n; i++) acc += x[(b * n + i) * 3 + k];
        want[b * 3 + k] = (float)(acc / n);
      }
    run_at(m, fm, (void *[]){x, y}, n);
    floats_near(y, want, 6);
    for (int r = 0; r < 2 * n; r++) want[r] = x[r * 3] + x[r * 3 + 1] + x[r * 3 + 2];
    run_at(m, fs, (void *[]){x, y}, n);
    floats_near(y, want, 2 * n);
    memset(y, 0, sizeof y);
    run_at(m, fs2, (void *[]){x, y}, n);
    floats_near(y, want, 2 * n);
    float mx = -INFINITY;
    for (int i = 0; i < 2 * n * 3; i++) mx = fmaxf(mx, x[i]);
    run_at(m, fx, (void *[]){x, y}, n);
    floats_near(y, &mx, 1);
  }
}

/* The other reduce kinds share the lowering: each over the run-time axis of
 * [2,S,3] (keepdims 0), against C. */
static void test_reduce_kinds_dyn(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  enum { S = SEQ_MAX };
  static const IrOpKind kinds[] = {IR_OP_REDUCE_MIN, IR_OP_REDUCE_PROD, IR_OP_REDUCE_L1,
                                   IR_OP_REDUCE_L2, IR_OP_REDUCE_SUM_SQUARE,
                                   IR_OP_REDUCE_LOG_SUM, IR_OP_REDUCE_LOG_SUM_EXP};
  enum { K = sizeof kinds / sizeof kinds[0] };
  IrFunc *f[K];
  for (int k = 0; k < K; k++) {
    IrOp *op = op_new(m, kinds[k], 1, (IrValue *[]){DIN(m, IR_F32, 2, D(s), 3)}, 1);
    ir_attr_set_ints(m, op, "axes", 1, (int64_t[]){1});
    ir_attr_set_int(m, op, "keepdims", 0);
    assert_string_equal(infer(m, op, 13), "f32[2,3]");
    f[k] = lower_alone(m, op);
  }
  static float x[2 * S * 3], y[6], want[6];
  for (int t = 0; t < NSEQ; t++) {
    int n = (int)SEQS[t];
    fill(x, 2 * n * 3, 300 + t);
    for (int i = 0; i < 2 * n * 3; i++) x[i] = x[i] / 2 + (i % 2 ? 0.25f : -0.25f);
    for (int k = 0; k < K; k++) {
      for (int b = 0; b < 2; b++)
        for (int j = 0; j < 3; j++) {
          double mn = INFINITY, prod = 1, l1 = 0, sq = 0, sum = 0, se = 0;
          for (int i = 0; i < n; i++) {
            double v = x[(b * n + i) * 3 + j];
            mn = fmin(mn, v), prod *= v, l1 += fabs(v), sq += v * v, sum += v, se += exp(v);
          }
          double r[K] = {mn, prod, l1, sqrt(sq), sq, log(fabs(sum)), log(se)};
          want[b * 3 + j] = (float)r[k];
          if (kinds[k] == IR_OP_REDUCE_LOG_SUM && sum <= 0) want[b * 3 + j] = NAN;
        }
      run_at(m, f[k], (void *[]){x, y}, n);
      for (int i = 0; i < 6; i++)
        if (!(isnan(want[i]) ? isnan(y[i]) : fabsf(y[i] - want[i]) <= 1e-4f * (1 + fabsf(want[i]))))
          fail_msg("%s at n=%d: [%d] %g, want %g", ir_op_info(kinds[k])->name, n, i, y[i], want[i]);
    }
  }
}

/* ---------------------------------------------------------- Transpose */
/* [2,S,3] with perm [1,2,0] -> [S,3,2], and the default (reversed) perm. */
static void test_transpose_dyn(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  enum { S = SEQ_MAX };
  IrOp *t1 = op_new(m, IR_OP_TRANSPOSE, 1, (IrValue *[]){DIN(m, IR_F32, 2, D(s), 3)}, 1);
  ir_attr_set_ints(m, t1, "perm", 3, (int64_t[]){1, 2, 0});
  assert_string_equal(infer(m, t1, 13), "f32[seq,3,2]");
  IrOp *t2 = op_new(m, IR_OP_TRANSPOSE, 1, (IrValue *[]){DIN(m, IR_F32, 2, D(s), 3)}, 1);
  assert_string_equal(infer(m, t2, 13), "f32[3,seq,2]");
  ints_equal(t2, "perm", 3, (int64_t[]){2, 1, 0});
  IrFunc *f1 = lower_alone(m, t1), *f2 = lower_alone(m, t2);
  static float x[2 * S * 3], y[2 * S * 3];
  for (int t = 0; t < NSEQ; t++) {
    int n = (int)SEQS[t];
    fill(x, 2 * n * 3, 100 + t);
    run_at(m, f1, (void *[]){x, y}, n);
    for (int a = 0; a < 2; a++)
      for (int b = 0; b < n; b++)
        for (int c = 0; c < 3; c++)
          if (y[(b * 3 + c) * 2 + a] != x[(a * n + b) * 3 + c]) fail_msg("perm [1,2,0] at n=%d", n);
    run_at(m, f2, (void *[]){x, y}, n);
    for (int a = 0; a < 2; a++)
      for (int b = 0; b < n; b++)
        for (int c = 0; c < 3; c++)
          if (y[(c * n + b) * 2 + a] != x[(a * n + b) * 3 + c]) fail_msg("perm [2,1,0] at n=%d", n);
  }
}

/* ------------------------------------------------------------ Attention */
/* Causal self-attention [1, 2, seq, 4] (seq run-time), one lowering run at
 * several lengths against softmax(QK^T / 2) V computed here. */
static void test_attention_causal(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  IrValue *in[3] = {DIN(m, IR_F32, 1, 2, D(s), 4), DIN(m, IR_F32, 1, 2, D(s), 4),
                    DIN(m, IR_F32, 1, 2, D(s), 4)};
  IrOp *op = op_new(m, IR_OP_ATTENTION, 3, in, 1);
  ir_attr_set_int(m, op, "is_causal", 1);
  assert_string_equal(infer(m, op, 23), "f32[1,2,seq,4]");
  IrFunc *f = lower_alone(m, op);
  enum { N = 2 * SEQ_MAX * 4 };
  static float q[N], k[N], v[N], y[N], want[N];
  for (int t = 0; t < NSEQ; t++) {
    int S = (int)SEQS[t];
    fill(q, 8 * S, 1), fill(k, 8 * S, 2), fill(v, 8 * S, 3);
    for (int h = 0; h < 2; h++)
      for (int i = 0; i < S; i++) {
        double w[SEQ_MAX], mx = -1e300, sum = 0;
        for (int j = 0; j <= i; j++) {
          w[j] = 0;
          for (int d = 0; d < 4; d++) w[j] += q[(h * S + i) * 4 + d] * k[(h * S + j) * 4 + d];
          w[j] /= 2;
          if (w[j] > mx) mx = w[j];
        }
        for (int j = 0; j <= i; j++) sum += w[j] = exp(w[j] - mx);
        for (int d = 0; d < 4; d++) {
          double acc = 0;
          for (int j = 0; j <= i; j++) acc += w[j] / sum * v[(h * S + j) * 4 + d];
          want[(h * S + i) * 4 + d] = (float)acc;
        }
      }
    run_at(m, f, (void *[]){q, k, v, y}, S);
    floats_near(y, want, 8 * S);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_matmul_attention, setup, teardown),
      cmocka_unit_test_setup_teardown(test_matmul_batch_and_vectors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_matmul_dyn_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gemm_dyn_m, setup, teardown),
      cmocka_unit_test_setup_teardown(test_softmax_dyn, setup, teardown),
      cmocka_unit_test_setup_teardown(test_layernorm_dyn, setup, teardown),
      cmocka_unit_test_setup_teardown(test_layernorm_dyn_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_batchnorm_training_dyn_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reduce_dyn, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reduce_kinds_dyn, setup, teardown),
      cmocka_unit_test_setup_teardown(test_transpose_dyn, setup, teardown),
      cmocka_unit_test_setup_teardown(test_attention_causal, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
