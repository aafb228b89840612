/* test_dyn_rnn.c — LSTM, GRU, RNN, BatchNormalization and
 * InstanceNormalization with run-time dims (a variable sequence length, a
 * variable batch): exact result types and diagnostics, and numbers from ONE
 * lowering of each op run by the loop-level interpreter at several run-time
 * sizes against references computed here in C (the ONNX formulas). */
#include <stdlib.h>

#include "op_test.h"

#define SEQ_MAX 16
#define BATCH_MAX 4
/* dims of a test input: D(s) marks the run-time dim of sym s */
#define D(s) LW_DYN_DIM(s)

/* Runs f with the run-time dims vals[k] = size of sym k. */
static void run_at(IrModule *m, IrFunc *f, void *const *bufs, const int64_t *vals) {
  static char ws[1 << 16] __attribute__((aligned(64)));
  int64_t dims[4] = {-1, -1, -1, -1};
  memcpy(dims, vals, sizeof(int64_t) * (size_t)m->num_syms);
  msg[0] = 0;
  if (!ir_interp_run_dims(m, f, bufs, ws, dims))
    fail_msg("interp at %lld,%lld: %s", (long long)vals[0], (long long)vals[1], msg);
}

/* Deterministic test data in [-scale, scale). */
static void fill(float *p, int n, unsigned seed, float scale) {
  for (int i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    p[i] = ((float)((seed >> 9) % 4096) / 2048.0f - 1.0f) * scale;
  }
}

static const char *infer(IrModule *m, IrOp *op) { return run_all(m, op, 14); }

/* ------------------------------------------------------ RNN reference */
enum { K_RNN, K_GRU, K_LSTM };
enum { FWD, REV, BIDI };
typedef struct RefRnn {
  int kind, dir, T, B, I, H;
  bool layout1;
  const float *x, *W, *R, *Bias; /* Bias may be NULL */
  const int32_t *lens;           /* NULL: every row has T steps */
  float *y, *yh, *yc;            /* outputs (yc: LSTM only) */
} RefRnn;

static float sigm(float v) { return 1.0f / (1.0f + expf(-v)); }

/* ONNX RNN/GRU (linear_before_reset=0)/LSTM with default activations, zero
 * initial state; Y is zero at steps past a row's length. */
static void ref_rnn(const RefRnn *p) {
  int G = p->kind == K_LSTM ? 4 : p->kind == K_GRU ? 3 : 1, Dn = p->dir == BIDI ? 2 : 1;
  int T = p->T, B = p->B, I = p->I, H = p->H;
  memset(p->y, 0, sizeof(float) * (size_t)(T * Dn * B * H));
  for (int d = 0; d < Dn; d++) {
    bool rev = p->dir == REV || d == 1;
    const float *W = p->W + d * G * H * I, *R = p->R + d * G * H * H;
    const float *Wb = p->Bias ? p->Bias + d * 2 * G * H : NULL, *Rb = Wb ? Wb + G * H : NULL;
    for (int b = 0; b < B; b++) {
      float h[8] = {0}, c[8] = {0}, xw[32], hr[32], rh[8];
      int len = p->lens ? p->lens[b] : T;
      for (int s = 0; s < len; s++) {
        int t = rev ? len - 1 - s : s;
        const float *xt = p->x + (p->layout1 ? b * T + t : t * B + b) * I;
        for (int j = 0; j < G * H; j++) {
          double a = Wb ? Wb[j] : 0, r = Rb ? Rb[j] : 0;
          for (int i = 0; i < I; i++) a += (double)xt[i] * W[j * I + i];
          for (int k = 0; k < H; k++) r += (double)h[k] * R[j * H + k];
          xw[j] = (float)a, hr[j] = (float)r;
        }
        float hn[8];
        for (int k = 0; k < H; k++) {
          if (p->kind == K_RNN) {
            hn[k] = tanhf(xw[k] + hr[k]);
          } else if (p->kind == K_LSTM) {
            float ig = sigm(xw[k] + hr[k]), og = sigm(xw[H + k] + hr[H + k]);
            float fg = sigm(xw[2 * H + k] + hr[2 * H + k]);
            float g = tanhf(xw[3 * H + k] + hr[3 * H + k]);
            c[k] = fg * c[k] + ig * g;
            hn[k] = og * tanhf(c[k]);
          } else {
            rh[k] = sigm(xw[H + k] + hr[H + k]) * h[k];
          }
        }
        if (p->kind == K_GRU)
          for (int k = 0; k < H; k++) {
            double a = xw[2 * H + k] + (Rb ? Rb[2 * H + k] : 0);
            for (int q = 0; q < H; q++) a += (double)rh[q] * R[(2 * H + k) * H + q];
            float z = sigm(xw[k] + hr[k]), hh = tanhf((float)a);
            hn[k] = (1 - z) * hh + z * h[k];
          }
        memcpy(h, hn, sizeof(float) * (size_t)H);
        float *yt = p->y + (p->layout1 ? ((b * T + t) * Dn + d) * H : ((t * Dn + d) * B + b) * H);
        memcpy(yt, h, sizeof(float) * (size_t)H);
      }
      int so = (p->layout1 ? b * Dn + d : d * B + b) * H;
      memcpy(p->yh + so, h, sizeof(float) * (size_t)H);
      if (p->yc) memcpy(p->yc + so, c, sizeof(float) * (size_t)H);
    }
  }
}

/* Weights W [D,G*H,I], R [D,G*H,H], B [D,2*G*H] as module weights. */
static void rnn_weights(IrModule *m, int G, int Dn, int I, int H, float *w, float *r,
                        float *bias, IrValue **in) {
  fill(w, Dn * G * H * I, 11, 0.8f), fill(r, Dn * G * H * H, 12, 0.6f);
  fill(bias, Dn * 2 * G * H, 13, 0.3f);
  in[1] = weight(m, IR_F32, DIMS(Dn, G * H, I), w);
  in[2] = weight(m, IR_F32, DIMS(Dn, G * H, H), r);
  in[3] = weight(m, IR_F32, DIMS(Dn, 2 * G * H), bias);
}

/* ---------------------------------------------------------------- LSTM */
/* X [seq, batch, 3] with both axes run-time, hidden 4: Y, Y_h, Y_c. */
static void test_lstm_dyn(void **state) {
  IrModule *m = *state;
  int s = ir_sym_add(m, "seq", 1, SEQ_MAX), bs = ir_sym_add(m, "batch", 1, BATCH_MAX);
  enum { I = 3, H = 4, G = 4 };
  static float w[G * H * I], r[G * H * H], bias[2 * G * H];
  IrValue *in[4] = {DIN(m, IR_F32, D(s), D(bs), I)};
  rnn_weights(m, G, 1, I, H, w, r, bias, in);
  IrOp *op = op_new(m, IR_OP_LSTM, 4, in, 3);
  ir_attr_set_int(m, op, "hidden_size", H);
  assert_string_equal(infer(m, op), "f32[seq,1,batch,4], f32[1,batch,4], f32[1,batch,4]");
  IrFunc *f = lower_alone(m, op);
  static float x[SEQ_MAX * BATCH_MAX * I], y[SEQ_MAX * BATCH_MAX * H], yh[BATCH_MAX * H],
      yc[BATCH_MAX * H], wy[SEQ_MAX * BATCH_MAX * H], wyh[BATCH_MAX * H], wyc[BATCH_MAX * H];
  static const int64_t sizes[][2] = {{1, 1}, {5, 3}, {SEQ_MAX, 2}, {7, BATCH_MAX}};
  for (int k = 0; k < 4; k++) {
    int T = (int)sizes[k][0], B = (int)sizes[k][1];
    fill(x, T * B * I, 20 + k, 1.5f);
    ref_rnn(&(RefRnn){K_LSTM, FWD, T, B, I, H, false, x, w, r, bias, NULL, wy, wyh, wyc});
    run_at(m, f, (void *[]){x, y, yh, yc}, sizes[k]);
    floats_near(y, wy, T * B * H);
    floats_near(yh, wyh, B * H);
    floats_near(yc, wyc, B * H);
  }
}

/* ----------------------------------------------------------------- GRU */
/* Bidirectional, layout 1: X [2, seq, 3] -> Y [2, seq, 2, 3]. */
static void test_gru_bidi_layout1_dyn(void **state) {
  IrModule *m = *state;
  int s = ir_sym_add(m, "seq", 1, SEQ_MAX);
  enum { I = 3, H = 3, G = 3, Bn = 2, Dn = 2 };
  static float w[Dn * G * H * I], r[Dn * G * H * H], bias[Dn * 2 * G * H];
  IrValue *in[4] = {DIN(m, IR_F32, Bn, D(s), I)};
  rnn_weights(m, G, Dn, I, H, w, r, bias, in);
  IrOp *op = op_new(m, IR_OP_GRU, 4, in, 2);
  ir_attr_set_int(m, op, "hidden_size", H);
  ir_attr_set_int(m, op, "layout", 1);
  ir_attr_set_string(m, op, "direction", "bidirectional");
  assert_string_equal(infer(m, op), "f32[2,seq,2,3], f32[2,2,3]");
  IrFunc *f = lower_alone(m, op);
  static float x[Bn * SEQ_MAX * I], y[Bn * SEQ_MAX * Dn * H], yh[Bn * Dn * H];
  static float wy[Bn * SEQ_MAX * Dn * H], wyh[Bn * Dn * H];
  static const int64_t seqs[] = {1, 4, SEQ_MAX};
  for (int k = 0; k < 3; k++) {
    int T = (int)seqs[k];
    fill(x, Bn * T * I, 30 + k, 1.5f);
    ref_rnn(&(RefRnn){K_GRU, BIDI, T, Bn, I, H, true, x, w, r, bias, NULL, wy, wyh, NULL});
    run_at(m, f, (void *[]){x, y, yh}, &seqs[k]);
    floats_near(y, wy, Bn * T * Dn * H);
    floats_near(yh, wyh, Bn * Dn * H);
  }
}

/* ----------------------------------------------------------------- RNN */
/* Reverse, with sequence_lens over a run-time batch: X [seq, batch, 2]. */
static void test_rnn_reverse_lens_dyn(void **state) {
  IrModule *m = *state;
  int s = ir_sym_add(m, "seq", 1, SEQ_MAX), bs = ir_sym_add(m, "batch", 1, BATCH_MAX);
  enum { I = 2, H = 3, G = 1 };
  static float w[G * H * I], r[G * H * H], bias[2 * G * H];
  IrValue *in[5] = {DIN(m, IR_F32, D(s), D(bs), I)};
  rnn_weights(m, G, 1, I, H, w, r, bias, in);
  in[4] = DIN(m, IR_I32, D(bs));
  IrOp *op = op_new(m, IR_OP_RNN, 5, in, 2);
  ir_attr_set_int(m, op, "hidden_size", H);
  ir_attr_set_string(m, op, "direction", "reverse");
  assert_string_equal(infer(m, op), "f32[seq,1,batch,3], f32[1,batch,3]");
  IrFunc *f = lower_alone(m, op);
  static float x[SEQ_MAX * BATCH_MAX * I], y[SEQ_MAX * BATCH_MAX * H], yh[BATCH_MAX * H];
  static float wy[SEQ_MAX * BATCH_MAX * H], wyh[BATCH_MAX * H];
  static const int64_t sizes[][2] = {{1, 2}, {6, 3}, {SEQ_MAX, BATCH_MAX}};
  static const int32_t lens[][BATCH_MAX] = {{1, 1}, {6, 2, 5}, {16, 1, 9, 12}};
  for (int k = 0; k < 3; k++) {
    int T = (int)sizes[k][0], B = (int)sizes[k][1];
    fill(x, T * B * I, 40 + k, 1.5f);
    ref_rnn(&(RefRnn){K_RNN, REV, T, B, I, H, false, x, w, r, bias, lens[k], wy, wyh, NULL});
    memset(y, 0x7f, sizeof y); /* the lowering must write the zeros too */
    run_at(m, f, (void *[]){x, (void *)lens[k], y, yh}, sizes[k]);
    floats_near(y, wy, T * B * H);
    floats_near(yh, wyh, B * H);
  }
}

/* Only the sequence and batch axes may be run-time. */
static void test_rnn_dyn_errors(void **state) {
  IrModule *m = *state;
  int s = ir_sym_add(m, "feat", 1, 8);
  float w[4 * 2 * 3] = {0}, r[4 * 2 * 2] = {0};
  IrValue *in[3] = {DIN(m, IR_F32, 5, 1, D(s)), weight(m, IR_F32, DIMS(1, 8, 3), w),
                    weight(m, IR_F32, DIMS(1, 8, 2), r)};
  IrOp *op = op_new(m, IR_OP_LSTM, 3, in, 2);
  assert_string_equal(infer(m, op),
                      "error: LSTM: the input size (dim 2 of X) is the run-time dimension "
                      "'feat', which this op does not support; give it one size with "
                      "-dim=feat=VALUE");
  /* initial_h must follow X's run-time batch */
  int bs = ir_sym_add(m, "batch", 1, 4);
  IrValue *in2[6] = {DIN(m, IR_F32, 5, D(bs), 3), in[1], in[2], NULL, NULL,
                     IN(m, IR_F32, 1, 2, 2)};
  op = op_new(m, IR_OP_LSTM, 6, in2, 2);
  assert_string_equal(infer(m, op),
                      "error: LSTM: input initial_h has type f32[1,2,2]; expected "
                      "f32[1,batch,2]");
}

/* ------------------------------------------------- BatchNormalization */
static void ref_bn(const float *x, const float *sc, const float *b, const float *mean,
                   const float *var, float *y, int N, int C, int S, float eps) {
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (int i = 0; i < S; i++) {
        int k = (n * C + c) * S + i;
        y[k] = (x[k] - mean[c]) / sqrtf(var[c] + eps) * sc[c] + b[c];
      }
}

/* X [batch, 3, seq, 2]: N and a spatial dim run-time. */
static void test_batchnorm_dyn(void **state) {
  IrModule *m = *state;
  int s = ir_sym_add(m, "seq", 1, SEQ_MAX), bs = ir_sym_add(m, "batch", 1, BATCH_MAX);
  enum { C = 3 };
  static float p[4][C];
  for (int i = 0; i < 4; i++) fill(p[i], C, 50 + i, 1.0f);
  for (int c = 0; c < C; c++) p[3][c] += 1.5f; /* var > 0 */
  IrValue *in[5] = {DIN(m, IR_F32, D(bs), C, D(s), 2)};
  for (int i = 0; i < 4; i++) in[1 + i] = weight(m, IR_F32, DIMS(C), p[i]);
  IrOp *op = op_new(m, IR_OP_BATCH_NORM, 5, in, 1);
  ir_attr_set_float(m, op, "epsilon", 1e-3);
  assert_string_equal(infer(m, op), "f32[batch,3,seq,2]");
  IrFunc *f = lower_alone(m, op);
  static float x[BATCH_MAX * C * SEQ_MAX * 2], y[BATCH_MAX * C * SEQ_MAX * 2],
      want[BATCH_MAX * C * SEQ_MAX * 2];
  static const int64_t sizes[][2] = {{1, 1}, {7, 2}, {SEQ_MAX, BATCH_MAX}};
  for (int k = 0; k < 3; k++) {
    int S = (int)sizes[k][0], N = (int)sizes[k][1];
    fill(x, N * C * S * 2, 60 + k, 2.0f);
    ref_bn(x, p[0], p[1], p[2], p[3], want, N, C, S * 2, 1e-3f);
    run_at(m, f, (void *[]){x, y}, sizes[k]);
    floats_near(y, want, N * C * S * 2);
  }
}

/* A run-time channel dim is refused by name (scale etc. are static [C]). */
static void test_norm_dyn_channel_errors(void **state) {
  IrModule *m = *state;
  int ch = ir_sym_add(m, "ch", 1, 8);
  float p[3] = {1, 1, 1};
  IrValue *w = weight(m, IR_F32, DIMS(3), p);
  IrOp *bn = op_new(m, IR_OP_BATCH_NORM, 5,
                    (IrValue *[]){DIN(m, IR_F32, 1, D(ch), 4), w, w, w, w}, 1);
  assert_string_equal(infer(m, bn),
                      "error: BatchNormalization: the channel dim (dim 1) of X is the "
                      "run-time dimension 'ch', which this op does not support; give it "
                      "one size with -dim=ch=VALUE");
  IrOp *in = op_new(m, IR_OP_INSTANCE_NORM, 3,
                    (IrValue *[]){DIN(m, IR_F32, 1, D(ch), 4), w, w}, 1);
  assert_string_equal(infer(m, in),
                      "error: InstanceNormalization: the channel dim (dim 1) of X is the "
                      "run-time dimension 'ch', which this op does not support; give it "
                      "one size with -dim=ch=VALUE");
}

/* ---------------------------------------------- InstanceNormalization */
/* X [batch, 2, seq, 3]: the mean and variance divide by the run-time
 * count seq * 3. */
static void test_instancenorm_dyn(void **state) {
  IrModule *m = *state;
  int s = ir_sym_add(m, "seq", 1, SEQ_MAX), bs = ir_sym_add(m, "batch", 1, BATCH_MAX);
  enum { C = 2 };
  float sc[C] = {1.5f, -0.5f}, bi[C] = {0.25f, 2.0f};
  IrValue *in[3] = {DIN(m, IR_F32, D(bs), C, D(s), 3), weight(m, IR_F32, DIMS(C), sc),
                    weight(m, IR_F32, DIMS(C), bi)};
  IrOp *op = op_new(m, IR_OP_INSTANCE_NORM, 3, in, 1);
  assert_string_equal(infer(m, op), "f32[batch,2,seq,3]");
  IrFunc *f = lower_alone(m, op);
  static float x[BATCH_MAX * C * SEQ_MAX * 3], y[BATCH_MAX * C * SEQ_MAX * 3],
      want[BATCH_MAX * C * SEQ_MAX * 3];
  static const int64_t sizes[][2] = {{1, 1}, {5, 3}, {SEQ_MAX, 2}};
  for (int k = 0; k < 3; k++) {
    int S = (int)sizes[k][0] * 3, N = (int)sizes[k][1];
    fill(x, N * C * S, 70 + k, 2.0f);
    for (int g = 0; g < N * C; g++) {
      const float *xg = x + g * S;
      double mean = 0, var = 0;
      for (int i = 0; i < S; i++) mean += xg[i];
      mean /= S;
      for (int i = 0; i < S; i++) var += (xg[i] - mean) * (xg[i] - mean);
      var /= S;
      for (int i = 0; i < S; i++)
        want[g * S + i] =
            (float)((xg[i] - mean) / sqrt(var + 1e-5) * sc[g % C] + bi[g % C]);
    }
    run_at(m, f, (void *[]){x, y}, sizes[k]);
    floats_near(y, want, N * C * S);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_lstm_dyn, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gru_bidi_layout1_dyn, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rnn_reverse_lens_dyn, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rnn_dyn_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_batchnorm_dyn, setup, teardown),
      cmocka_unit_test_setup_teardown(test_norm_dyn_channel_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_instancenorm_dyn, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
