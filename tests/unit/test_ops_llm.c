/* test_ops_llm.c — the normalization and language-model ops of opsets 18-28:
 * RMSNormalization, GroupNormalization (18: scale per group, 21: per
 * channel), RotaryEmbedding and SwiGLU.  Exact result types and
 * diagnostics, and numbers from one lowering of each op run by the
 * loop-level interpreter (at several run-time sizes where the op takes
 * run-time dims) against references computed here in C. */
#include <stdlib.h>

#define SEQ_MAX 16
#include "dyn_test.h"

/* ------------------------------------------------------ RMSNormalization */
/* [2,S,8] over the last axis with scale [8]; [2,S] over the run-time axis
 * with a scale of one element. */
static void test_rms_norm_dyn(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  enum { S = SEQ_MAX };
  static float sc[8], sc1[1] = {0.75f};
  fill(sc, 8, 1);
  IrOp *r1 = op_new(m, IR_OP_RMS_NORM, 2,
                    (IrValue *[]){DIN(m, IR_F32, 2, D(s), 8), weight(m, IR_F32, DIMS(8), sc)}, 1);
  assert_string_equal(run(m, r1, 23), "f32[2,seq,8]");
  assert_int_equal(ir_attr_int(r1, "stash_type", 0), 1);
  IrOp *r2 = op_new(m, IR_OP_RMS_NORM, 2,
                    (IrValue *[]){DIN(m, IR_F32, 2, D(s)), weight(m, IR_F32, DIMS(1), sc1)}, 1);
  ir_attr_set_float(m, r2, "epsilon", 0.5);
  assert_string_equal(run(m, r2, 23), "f32[2,seq]");
  IrFunc *f1 = lower_alone(m, r1), *f2 = lower_alone(m, r2);
  static float x[2 * S * 8], y[2 * S * 8], want[2 * S * 8];
  for (int t = 0; t < NSEQ; t++) {
    int n = (int)SEQS[t];
    fill(x, 2 * n * 8, 2 + t);
    for (int r = 0; r < 2 * n; r++) {
      double q = 0;
      for (int d = 0; d < 8; d++) q += (double)x[r * 8 + d] * x[r * 8 + d];
      double inv = 1 / sqrt(q / 8 + 1e-5);
      for (int d = 0; d < 8; d++) want[r * 8 + d] = (float)(x[r * 8 + d] * inv * sc[d]);
    }
    run_at(m, f1, (void *[]){x, y}, n);
    floats_near(y, want, 2 * n * 8);
    for (int r = 0; r < 2; r++) {
      double q = 0;
      for (int d = 0; d < n; d++) q += (double)x[r * n + d] * x[r * n + d];
      double inv = 1 / sqrt(q / n + 0.5);
      for (int d = 0; d < n; d++) want[r * n + d] = (float)(x[r * n + d] * inv * 0.75);
    }
    run_at(m, f2, (void *[]){x, y}, n);
    floats_near(y, want, 2 * n);
  }
}

static void test_rms_norm_errors(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  static float sc[8];
  IrOp *op = op_new(m, IR_OP_RMS_NORM, 2,
                    (IrValue *[]){DIN(m, IR_F32, 2, D(s)), weight(m, IR_F32, DIMS(8), sc)}, 1);
  assert_string_equal(run(m, op, 23),
                      "error: RMSNormalization: normalized dim 1 of X is the run-time "
                      "dimension 'seq', along which input scale (8) does not broadcast; "
                      "give it one size with -dim=seq=VALUE");
  op = op_new(m, IR_OP_RMS_NORM, 2,
              (IrValue *[]){IN(m, IR_F32, 2, 8), weight(m, IR_F32, DIMS(4), sc)}, 1);
  assert_string_equal(run(m, op, 23), "error: RMSNormalization: input scale has type "
                                      "f32[4], which does not broadcast to the "
                                      "normalized dims of X");
  op = op_new(m, IR_OP_RMS_NORM, 2,
              (IrValue *[]){IN(m, IR_F32, 2, 8), weight(m, IR_F32, DIMS(8), sc)}, 1);
  ir_attr_set_int(m, op, "stash_type", 7);
  assert_string_equal(run(m, op, 23), "error: RMSNormalization: attribute 'stash_type' "
                                      "must be a float type (1 float, 10 float16, 11 "
                                      "double, 16 bfloat16), got 7");
}

/* ---------------------------------------------------- GroupNormalization */
/* y = (x - mean) / sqrt(var + eps) * scale + bias over [N, G, C/G * S]. */
static void ref_group_norm(const float *x, const float *sc, const float *bi, float *y,
                           int N, int C, int S, int G, bool per_group, double eps) {
  int cg = C / G, len = cg * S;
  for (int n = 0; n < N; n++)
    for (int g = 0; g < G; g++) {
      const float *p = x + (n * C + g * cg) * S;
      double sum = 0, q = 0;
      for (int i = 0; i < len; i++) sum += p[i];
      double mu = sum / len;
      for (int i = 0; i < len; i++) q += (p[i] - mu) * (p[i] - mu);
      double inv = 1 / sqrt(q / len + eps);
      for (int i = 0; i < len; i++) {
        int ch = per_group ? g : g * cg + i / S;
        y[(n * C + g * cg) * S + i] = (float)((p[i] - mu) * inv * sc[ch] + bi[ch]);
      }
    }
}

/* stash 11: the statistics in f64 (stash_type 0: the default). */
static void group_norm_case(IrModule *m, int opset, int G, int nsb, int stash) {
  enum { N = 2, C = 6, H = 2, W = 3 };
  static float x[N * C * H * W], y[N * C * H * W], want[N * C * H * W], sc[C], bi[C];
  fill(x, N * C * H * W, 10 + (unsigned)opset), fill(sc, nsb, 11), fill(bi, nsb, 12);
  IrOp *op = op_new(m, IR_OP_GROUP_NORM, 3,
                    (IrValue *[]){IN(m, IR_F32, N, C, H, W), IN(m, IR_F32, nsb),
                                  IN(m, IR_F32, nsb)}, 1);
  ir_attr_set_int(m, op, "num_groups", G);
  if (stash) ir_attr_set_int(m, op, "stash_type", stash);
  assert_string_equal(run(m, op, opset), "f32[2,6,2,3]");
  assert_int_equal(ir_attr_int(op, "scale_per_group", -1), opset < 21);
  lower_and_run(m, op, (void *[]){x, sc, bi}, y);
  ref_group_norm(x, sc, bi, want, N, C, H * W, G, opset < 21, 1e-5);
  floats_near(y, want, N * C * H * W);
}

static void test_group_norm_18(void **state) { group_norm_case(*state, 18, 3, 3, 0); }
static void test_group_norm_21(void **state) { group_norm_case(*state, 21, 3, 6, 0); }
static void test_group_norm_21_stash_double(void **state) {
  group_norm_case(*state, 21, 2, 6, 11);
}

static void test_group_norm_errors(void **state) {
  IrModule *m = *state;
  IrOp *op = op_new(m, IR_OP_GROUP_NORM, 3,
                    (IrValue *[]){IN(m, IR_F32, 2, 6, 4), IN(m, IR_F32, 6), IN(m, IR_F32, 6)}, 1);
  assert_string_equal(run(m, op, 18), "error: GroupNormalization: attribute 'num_groups' "
                                      "is required");
  ir_attr_set_int(m, op, "num_groups", 3);
  assert_string_equal(run(m, op, 18), "error: GroupNormalization: input scale has type "
                                      "f32[6]; expected f32[3]");
  ir_attr_set_int(m, op, "num_groups", 4);
  assert_string_equal(run(m, op, 21), "error: GroupNormalization: num_groups (4) does "
                                      "not divide the 6 channels of X");
  ir_attr_set_int(m, op, "num_groups", 0);
  assert_string_equal(run(m, op, 21), "error: GroupNormalization: attribute 'num_groups' "
                                      "must be >= 1, got 0");
}

/* ------------------------------------------------------ RotaryEmbedding */
/* x as [B, S, H, Dh] (strides given), rd rotated, caches [P, rd/2]. */
static void ref_rope(const float *x, float *y, const float *cs, const float *sn,
                     const int64_t *pid, int B, int S, int Hn, int Dh, int rd, bool il,
                     const int *stride) {
  for (int b = 0; b < B; b++)
    for (int s = 0; s < S; s++)
      for (int h = 0; h < Hn; h++) {
        int base = b * stride[0] + s * stride[1] + h * stride[2], half = rd / 2;
        int64_t p = pid[b * S + s];
        for (int i = 0; i < half; i++) {
          int j1 = il ? 2 * i : i, j2 = il ? 2 * i + 1 : i + half;
          float c = cs[p * half + i], sv = sn[p * half + i];
          float x1 = x[base + j1], x2 = x[base + j2];
          y[base + j1] = c * x1 - sv * x2;
          y[base + j2] = sv * x1 + c * x2;
        }
        for (int d = rd; d < Dh; d++) y[base + d] = x[base + d];
      }
}

/* 3-D [1,S,32] with num_heads 4 (full rotation); 4-D [1,4,S,8] interleaved,
 * rotating 4 of 8; both with position_ids [1,S]. */
static void test_rotary_dyn(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  enum { S = SEQ_MAX, P = 24 };
  static float c8[P * 4], s8[P * 4], c2[P * 2], s2[P * 2];
  fill(c8, P * 4, 20), fill(s8, P * 4, 21), fill(c2, P * 2, 22), fill(s2, P * 2, 23);
  IrOp *r3 = op_new(m, IR_OP_ROTARY_EMBEDDING, 4,
                    (IrValue *[]){DIN(m, IR_F32, 1, D(s), 32), weight(m, IR_F32, DIMS(P, 4), c8),
                                  weight(m, IR_F32, DIMS(P, 4), s8), DIN(m, IR_I64, 1, D(s))}, 1);
  ir_attr_set_int(m, r3, "num_heads", 4);
  assert_string_equal(run(m, r3, 23), "f32[1,seq,32]");
  IrOp *r4 = op_new(m, IR_OP_ROTARY_EMBEDDING, 4,
                    (IrValue *[]){DIN(m, IR_F32, 1, 4, D(s), 8), weight(m, IR_F32, DIMS(P, 2), c2),
                                  weight(m, IR_F32, DIMS(P, 2), s2), DIN(m, IR_I64, 1, D(s))}, 1);
  ir_attr_set_int(m, r4, "interleaved", 1);
  ir_attr_set_int(m, r4, "rotary_embedding_dim", 4);
  assert_string_equal(run(m, r4, 23), "f32[1,4,seq,8]");
  IrFunc *f3 = lower_alone(m, r3), *f4 = lower_alone(m, r4);
  static float x[S * 32], y[S * 32], want[S * 32];
  static int64_t pid[S];
  for (int t = 0; t < NSEQ; t++) {
    int n = (int)SEQS[t];
    fill(x, n * 32, 24 + t);
    for (int i = 0; i < n; i++) pid[i] = (i * 7 + t) % P;
    ref_rope(x, want, c8, s8, pid, 1, n, 4, 8, 8, false, (int[]){n * 32, 32, 8});
    run_at(m, f3, (void *[]){x, pid, y}, n);
    floats_near(y, want, n * 32);
    ref_rope(x, want, c2, s2, pid, 1, n, 4, 8, 4, true, (int[]){n * 32, 8, n * 8});
    run_at(m, f4, (void *[]){x, pid, y}, n);
    floats_near(y, want, n * 32);
  }
}

/* Without position_ids the caches are [B, S, rd/2]: a run-time S too. */
static void test_rotary_no_position_ids(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  enum { S = SEQ_MAX };
  IrOp *op = op_new(m, IR_OP_ROTARY_EMBEDDING, 3,
                    (IrValue *[]){DIN(m, IR_F32, 2, 3, D(s), 6), DIN(m, IR_F32, 2, D(s), 3),
                                  DIN(m, IR_F32, 2, D(s), 3)}, 1);
  assert_string_equal(run(m, op, 23), "f32[2,3,seq,6]");
  IrFunc *f = lower_alone(m, op);
  static float x[2 * 3 * S * 6], y[2 * 3 * S * 6], want[2 * 3 * S * 6];
  static float cs[2 * S * 3], sn[2 * S * 3];
  static int64_t pid[2 * S];
  for (int t = 0; t < NSEQ; t++) {
    int n = (int)SEQS[t];
    fill(x, 2 * 3 * n * 6, 30 + t), fill(cs, 2 * n * 3, 31), fill(sn, 2 * n * 3, 32);
    /* the [B, S] cache rows as positions into a [B*S, 3] cache */
    for (int i = 0; i < 2 * n; i++) pid[i] = i;
    ref_rope(x, want, cs, sn, pid, 2, n, 3, 6, 6, false, (int[]){3 * n * 6, 6, n * 6});
    run_at(m, f, (void *[]){x, cs, sn, y}, n);
    floats_near(y, want, 2 * 3 * n * 6);
  }
}

static void test_rotary_errors(void **state) {
  IrModule *m = *state;
  static float c[16 * 4];
  IrValue *cw = weight(m, IR_F32, DIMS(16, 4), c), *pid = IN(m, IR_I64, 1, 3);
  IrOp *op = op_new(m, IR_OP_ROTARY_EMBEDDING, 4, (IrValue *[]){IN(m, IR_F32, 1, 3, 32), cw, cw, pid}, 1);
  assert_string_equal(run(m, op, 23), "error: RotaryEmbedding: a 3-D input X needs the "
                                      "attribute 'num_heads' dividing its hidden size 32 "
                                      "(num_heads 0)");
  op = op_new(m, IR_OP_ROTARY_EMBEDDING, 4, (IrValue *[]){IN(m, IR_F32, 1, 2, 3, 8), cw, cw, pid}, 1);
  ir_attr_set_int(m, op, "rotary_embedding_dim", 6);
  assert_string_equal(run(m, op, 23), "error: RotaryEmbedding: input cos_cache has type "
                                      "f32[16,4]; expected f32[max_position, 3] (the "
                                      "rotated size 6 halved)");
  op = op_new(m, IR_OP_ROTARY_EMBEDDING, 4, (IrValue *[]){IN(m, IR_F32, 1, 2, 3, 8), cw, cw, pid}, 1);
  ir_attr_set_int(m, op, "rotary_embedding_dim", 5);
  assert_string_equal(run(m, op, 23), "error: RotaryEmbedding: the rotated size 5 must "
                                      "be even and at most the head size 8");
  op = op_new(m, IR_OP_ROTARY_EMBEDDING, 4,
              (IrValue *[]){IN(m, IR_F32, 1, 2, 4, 8), cw, cw, IN(m, IR_I64, 1, 3)}, 1);
  assert_string_equal(run(m, op, 23), "error: RotaryEmbedding: dim 1 of input "
                                      "position_ids is 3; expected the sequence length "
                                      "of X (4) or 1");
}

/* --------------------------------------------------------------- SwiGLU */
static void test_swiglu_dyn(void **state) {
  IrModule *m = *state;
  int s = seq_sym(m);
  enum { S = SEQ_MAX };
  IrOp *op = op_new(m, IR_OP_SWIGLU, 2,
                    (IrValue *[]){DIN(m, IR_F32, D(s), 6), DIN(m, IR_F32, D(s), 6)}, 1);
  ir_attr_set_float(m, op, "alpha", 0.5);
  assert_string_equal(run(m, op, 28), "f32[seq,6]");
  IrFunc *f = lower_alone(m, op);
  static float a[S * 6], b[S * 6], y[S * 6], want[S * 6];
  for (int t = 0; t < NSEQ; t++) {
    int n = (int)SEQS[t];
    fill(a, n * 6, 40 + t), fill(b, n * 6, 41 + t);
    for (int i = 0; i < n * 6; i++)
      want[i] = (float)(a[i] / (1 + exp(-0.5 * a[i])) * b[i]);
    run_at(m, f, (void *[]){a, b, y}, n);
    floats_near(y, want, n * 6);
  }
}

static void test_swiglu_errors(void **state) {
  IrModule *m = *state;
  IrOp *op = op_new(m, IR_OP_SWIGLU, 2, (IrValue *[]){IN(m, IR_F32, 2, 6), IN(m, IR_F32, 1, 6)}, 1);
  assert_string_equal(run(m, op, 28), "error: SwiGLU: inputs A f32[2,6] and B f32[1,6] "
                                      "must have the same shape (SwiGLU does not broadcast)");
  op = op_new(m, IR_OP_SWIGLU, 2, (IrValue *[]){IN(m, IR_I32, 2, 6), IN(m, IR_I32, 2, 6)}, 1);
  msg[0] = 0;
  run(m, op, 28);
  assert_non_null(strstr(msg, "SwiGLU"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_rms_norm_dyn, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rms_norm_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_group_norm_18, setup, teardown),
      cmocka_unit_test_setup_teardown(test_group_norm_21, setup, teardown),
      cmocka_unit_test_setup_teardown(test_group_norm_21_stash_double, setup, teardown),
      cmocka_unit_test_setup_teardown(test_group_norm_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rotary_dyn, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rotary_no_position_ids, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rotary_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_swiglu_dyn, setup, teardown),
      cmocka_unit_test_setup_teardown(test_swiglu_errors, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
