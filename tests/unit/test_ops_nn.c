/* test_ops_nn.c — linear algebra and NN ops (matmul, gemm, conv, pools,
 * batchnorm, softmax family, reductions): import canonicalization, exact
 * result types, exact diagnostics, and numbers from the lowering run by the
 * loop-level interpreter against values computed by hand / by the ONNX
 * reference implementations. */
#include "op_test.h"

static const char *op1(IrModule *m, IrOpKind k, IrValue *a, int opset) {
  return run(m, op_new(m, k, 1, &a, 1), opset);
}
static const char *op2(IrModule *m, IrOpKind k, IrValue *a, IrValue *b, int opset) {
  IrValue *in[2] = {a, b};
  return run(m, op_new(m, k, 2, in, 1), opset);
}

/* -------------------------------------------------------------- matmul */
static void test_matmul_infer(void **state) {
  IrModule *m = *state;
  assert_string_equal(op2(m, IR_OP_MATMUL, IN(m, IR_F32, 2, 3, 4), IN(m, IR_F32, 4, 5), 13),
                      "f32[2,3,5]");
  assert_string_equal(op2(m, IR_OP_MATMUL, IN(m, IR_F32, 4), IN(m, IR_F32, 2, 4, 5), 13),
                      "f32[2,5]");
  assert_string_equal(op2(m, IR_OP_MATMUL, IN(m, IR_I32, 3, 4), IN(m, IR_I32, 4), 13),
                      "i32[3]");
  assert_string_equal(op2(m, IR_OP_MATMUL, IN(m, IR_F64, 4), IN(m, IR_F64, 4), 13), "f64[]");
  assert_string_equal(op2(m, IR_OP_MATMUL, IN(m, IR_F16, 2, 1, 3, 4), IN(m, IR_F16, 5, 4, 2), 13),
                      "f16[2,5,3,2]");
}

static void test_matmul_errors(void **state) {
  IrModule *m = *state;
  assert_string_equal(op2(m, IR_OP_MATMUL, IN(m, IR_F32, 3, 4), IN(m, IR_F32, 5, 2), 13),
                      "error: MatMul: A has K=4 but B has K=5");
  assert_string_equal(op2(m, IR_OP_MATMUL, IN(m, IR_F32, 3, 4), IN(m, IR_F64, 4, 2), 13),
                      "error: MatMul: A is f32 but B is f64");
  assert_string_equal(op2(m, IR_OP_MATMUL, IN(m, IR_F32, 2, 3, 4), IN(m, IR_F32, 3, 4, 2), 13),
                      "error: MatMul: batch dims 2 and 3 are not broadcastable");
  assert_string_equal(op2(m, IR_OP_MATMUL, IN(m, IR_BOOL, 3, 4), IN(m, IR_BOOL, 4, 2), 13),
                      "error: MatMul: input A has unsupported element type bool");
  /* storage types (no arithmetic on them) are refused, not lowered */
  assert_string_equal(op2(m, IR_OP_MATMUL, IN(m, IR_I4, 3, 4), IN(m, IR_I4, 4, 2), 21),
                      "error: MatMul: input A has unsupported element type i4");
  assert_string_equal(op2(m, IR_OP_MATMUL, IN(m, IR_F8E4M3FN, 3, 4), IN(m, IR_F8E4M3FN, 4, 2), 21),
                      "error: MatMul: input A has unsupported element type f8e4m3fn");
}

static void test_matmul_numbers(void **state) {
  IrModule *m = *state;
  /* [2,3] x [3] (matrix-vector, dot form) */
  IrValue *in[2] = {IN(m, IR_F32, 2, 3), IN(m, IR_F32, 3)};
  IrOp *op = op_new(m, IR_OP_MATMUL, 2, in, 1);
  assert_string_equal(run(m, op, 13), "f32[2]");
  float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {1, 0, -1}, y[2], want[2] = {-2, -2};
  exec(m, op, (void *[]){a, b}, (void *[]){y});
  floats_near(y, want, 2);
}

static void test_matmul_batch_numbers(void **state) {
  IrModule *m = *state;
  /* [2,1,4] x [4,5]: row form, batch broadcast of B */
  IrValue *in[2] = {IN(m, IR_F32, 2, 1, 4), IN(m, IR_F32, 4, 5)};
  IrOp *op = op_new(m, IR_OP_MATMUL, 2, in, 1);
  assert_string_equal(run(m, op, 13), "f32[2,1,5]");
  float a[8], b[20], y[10], want[10] = {0};
  for (int i = 0; i < 8; i++) a[i] = (float)(i + 1);
  for (int i = 0; i < 20; i++) b[i] = (float)(i % 7) - 3;
  for (int bt = 0; bt < 2; bt++)
    for (int j = 0; j < 5; j++)
      for (int k = 0; k < 4; k++) want[bt * 5 + j] += a[bt * 4 + k] * b[k * 5 + j];
  exec(m, op, (void *[]){a, b}, (void *[]){y});
  floats_near(y, want, 10);
}

/* ---------------------------------------------------------------- gemm */
static void test_gemm(void **state) {
  IrModule *m = *state;
  IrValue *in[3] = {IN(m, IR_F32, 3, 2), IN(m, IR_F32, 4, 3), IN(m, IR_F32, 4)};
  IrOp *op = op_new(m, IR_OP_GEMM, 3, in, 1);
  ir_attr_set_int(m, op, "transA", 1);
  ir_attr_set_int(m, op, "transB", 1);
  ir_attr_set_float(m, op, "alpha", 0.5);
  ir_attr_set_int(m, op, "broadcast", 1); /* opset 6 */
  assert_string_equal(run(m, op, 6), "f32[2,4]");
  assert_null(ir_attr_get(op, "broadcast"));
  assert_true(ir_attr_float(op, "beta", 0) == 1.0);
  float a[6] = {1, 2, 3, 4, 5, 6}, b[12], c[4] = {10, 20, 30, 40}, y[8], want[8];
  for (int i = 0; i < 12; i++) b[i] = (float)i;
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 4; j++) {
      float s = 0;
      for (int k = 0; k < 3; k++) s += a[k * 2 + i] * b[j * 3 + k];
      want[i * 4 + j] = 0.5f * s + c[j];
    }
  exec(m, op, (void *[]){a, b, c}, (void *[]){y});
  floats_near(y, want, 8);
}

static void test_gemm_errors(void **state) {
  IrModule *m = *state;
  IrValue *in[3] = {IN(m, IR_F32, 3, 2), IN(m, IR_F32, 2, 4), IN(m, IR_F32, 2, 4)};
  assert_string_equal(run(m, op_new(m, IR_OP_GEMM, 3, in, 1), 13),
                      "error: Gemm: C of type f32[2,4] does not broadcast to [3,4]");
  IrValue *in2[2] = {IN(m, IR_F32, 3, 2), IN(m, IR_F32, 3, 4)};
  assert_string_equal(run(m, op_new(m, IR_OP_GEMM, 2, in2, 1), 13),
                      "error: Gemm: A has K=2 but B has K=3");
  IrValue *in3[2] = {IN(m, IR_F32, 3, 2), IN(m, IR_F32, 2)};
  assert_string_equal(run(m, op_new(m, IR_OP_GEMM, 2, in3, 1), 13),
                      "error: Gemm: A and B must have rank 2 (got 2 and 1)");
}

/* ---------------------------------------------------------------- conv */
static void test_conv_canonical(void **state) {
  IrModule *m = *state;
  IrValue *in[2] = {IN(m, IR_F32, 1, 4, 5, 5), IN(m, IR_F32, 8, 2, 3, 3)};
  IrOp *op = op_new(m, IR_OP_CONV, 2, in, 1);
  ir_attr_set_string(m, op, "auto_pad", "SAME_LOWER");
  ir_attr_set_ints(m, op, "strides", 2, (int64_t[]){2, 2});
  ir_attr_set_int(m, op, "group", 2);
  assert_string_equal(run(m, op, 11), "f32[1,8,3,3]");
  assert_null(ir_attr_get(op, "auto_pad"));
  ints_equal(op, "pads", 4, (int64_t[]){1, 1, 1, 1});
  ints_equal(op, "kernel_shape", 2, (int64_t[]){3, 3});
  ints_equal(op, "dilations", 2, (int64_t[]){1, 1});
  assert_int_equal(ir_attr_int(op, "group", 0), 2);
}

static void test_conv_errors(void **state) {
  IrModule *m = *state;
  assert_string_equal(op2(m, IR_OP_CONV, IN(m, IR_F32, 1, 3, 5), IN(m, IR_F32, 2, 3, 3, 3), 11),
                      "error: Conv: input X has rank 3 but W has rank 4");
  assert_string_equal(op2(m, IR_OP_CONV, IN(m, IR_F32, 1, 4, 5, 5), IN(m, IR_F32, 2, 3, 3, 3), 11),
                      "error: Conv: input X has 4 channels and W has 2 filters of 3 "
                      "channels, which group=1 does not fit");
  assert_string_equal(op2(m, IR_OP_CONV, IN(m, IR_F32, 1, 1, 2, 2), IN(m, IR_F32, 1, 1, 3, 3), 11),
                      "error: Conv: kernel extent 3 is larger than the padded input 2 "
                      "in spatial dim 0");
  IrValue *in[2] = {IN(m, IR_F32, 1, 1, 5, 5), IN(m, IR_F32, 1, 1, 3, 3)};
  IrOp *op = op_new(m, IR_OP_CONV, 2, in, 1);
  ir_attr_set_string(m, op, "auto_pad", "SAME");
  assert_string_equal(run(m, op, 11), "error: attribute 'auto_pad' has unknown value 'SAME'");
  op = op_new(m, IR_OP_CONV, 2, in, 1);
  ir_attr_set_ints(m, op, "pads", 2, (int64_t[]){1, 1});
  assert_string_equal(run(m, op, 11), "error: attribute 'pads' has 2 values; expected 4");
}

static void test_conv_numbers(void **state) {
  IrModule *m = *state;
  /* ONNX test_basic_conv_with_padding plus a bias and stride 2 in W */
  IrValue *in[3] = {IN(m, IR_F32, 1, 1, 5, 5), IN(m, IR_F32, 1, 1, 3, 3), IN(m, IR_F32, 1)};
  IrOp *op = op_new(m, IR_OP_CONV, 3, in, 1);
  ir_attr_set_ints(m, op, "pads", 4, (int64_t[]){1, 1, 1, 1});
  ir_attr_set_ints(m, op, "strides", 2, (int64_t[]){1, 2});
  assert_string_equal(run(m, op, 11), "f32[1,1,5,3]");
  float x[25], w[9], b[1] = {0.5f}, y[15];
  for (int i = 0; i < 25; i++) x[i] = (float)i;
  for (int i = 0; i < 9; i++) w[i] = 1;
  float want[15] = {12, 27, 24, 33, 63, 51, 63, 108, 81, 93, 153, 111, 72, 117, 84};
  for (int i = 0; i < 15; i++) want[i] += 0.5f;
  exec(m, op, (void *[]){x, w, b}, (void *[]){y});
  floats_near(y, want, 15);
}

static void test_conv_depthwise_numbers(void **state) {
  IrModule *m = *state;
  /* 1-D, 2 groups of one channel each, dilation 2, asymmetric pads */
  IrValue *in[2] = {IN(m, IR_F32, 1, 2, 5), IN(m, IR_F32, 2, 1, 2)};
  IrOp *op = op_new(m, IR_OP_CONV, 2, in, 1);
  ir_attr_set_int(m, op, "group", 2);
  ir_attr_set_ints(m, op, "dilations", 1, (int64_t[]){2});
  ir_attr_set_ints(m, op, "pads", 2, (int64_t[]){2, 1});
  assert_string_equal(run(m, op, 11), "f32[1,2,6]");
  float x[10] = {1, 2, 3, 4, 5, 10, 20, 30, 40, 50}, w[4] = {1, 10, 2, -1}, y[12];
  /* y[o] = w0*x[o-2] + w1*x[o] */
  float want[12] = {10, 20, 31, 42, 53, 4, -10, -20, -10, 0, 10, 80};
  exec(m, op, (void *[]){x, w}, (void *[]){y});
  floats_near(y, want, 12);
}

/* ---------------------------------------------------------------- pool */
static void test_pool_infer(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 1, 1, 4, 4);
  IrOp *op = op_new(m, IR_OP_MAX_POOL, 1, &x, 2);
  ir_attr_set_ints(m, op, "kernel_shape", 2, (int64_t[]){3, 3});
  ir_attr_set_ints(m, op, "strides", 2, (int64_t[]){2, 2});
  ir_attr_set_int(m, op, "ceil_mode", 1);
  assert_string_equal(run(m, op, 12), "f32[1,1,2,2]");
  char buf[64];
  assert_string_equal(ir_type_str(m, &op->results[1]->type, buf, sizeof buf), "i64[1,1,2,2]");
  assert_int_equal(ir_attr_int(op, "storage_order", -1), 0);
  assert_string_equal(op1(m, IR_OP_GLOBAL_AVERAGE_POOL, IN(m, IR_F16, 2, 3, 5, 6, 7), 1),
                      "f16[2,3,1,1,1]");
  assert_string_equal(op1(m, IR_OP_AVERAGE_POOL, IN(m, IR_F32, 1, 1, 4, 4), 11),
                      "error: attribute 'kernel_shape' is required");
  assert_string_equal(op1(m, IR_OP_GLOBAL_MAX_POOL, IN(m, IR_F32, 2, 3), 1),
                      "error: GlobalMaxPool: input X has rank 2; expected at least 3");
}

static void test_maxpool_indices_numbers(void **state) {
  IrModule *m = *state;
  /* ONNX test_maxpool_with_argmax_2d_precomputed_strides */
  IrValue *x = IN(m, IR_F32, 1, 1, 5, 5);
  IrOp *op = op_new(m, IR_OP_MAX_POOL, 1, &x, 2);
  ir_attr_set_ints(m, op, "kernel_shape", 2, (int64_t[]){2, 2});
  ir_attr_set_ints(m, op, "strides", 2, (int64_t[]){2, 2});
  ir_attr_set_int(m, op, "storage_order", 1);
  assert_string_equal(run(m, op, 12), "f32[1,1,2,2]");
  float xv[25], y[4], want[4] = {7, 9, 17, 19};
  int64_t idx[4];
  for (int i = 0; i < 25; i++) xv[i] = (float)(i + 1);
  exec(m, op, (void *[]){xv}, (void *[]){y, idx});
  floats_near(y, want, 4);
  assert_int_equal(idx[0], 6);
  assert_int_equal(idx[1], 16);
  assert_int_equal(idx[2], 8);
  assert_int_equal(idx[3], 18);
}

static void test_averagepool_numbers(void **state) {
  IrModule *m = *state;
  /* 1x1x3x3, kernel 2, pads 1, stride 2: corners see 1 element */
  IrValue *x = IN(m, IR_F32, 1, 1, 3, 3);
  IrOp *op = op_new(m, IR_OP_AVERAGE_POOL, 1, &x, 1);
  ir_attr_set_ints(m, op, "kernel_shape", 2, (int64_t[]){2, 2});
  ir_attr_set_ints(m, op, "strides", 2, (int64_t[]){2, 2});
  ir_attr_set_ints(m, op, "pads", 4, (int64_t[]){1, 1, 1, 1});
  assert_string_equal(run(m, op, 11), "f32[1,1,2,2]");
  float xv[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, y[4];
  float want[4] = {1, 2.5f, 5.5f, 7};
  exec(m, op, (void *[]){xv}, (void *[]){y});
  floats_near(y, want, 4);
}

/* ----------------------------------------------------------- batchnorm */
static void test_batchnorm(void **state) {
  IrModule *m = *state;
  IrValue *in[5] = {IN(m, IR_F32, 1, 2, 2), IN(m, IR_F32, 2), IN(m, IR_F32, 2),
                    IN(m, IR_F32, 2), IN(m, IR_F32, 2)};
  IrOp *op = op_new(m, IR_OP_BATCH_NORM, 5, in, 1);
  ir_attr_set_int(m, op, "is_test", 1);
  assert_string_equal(run(m, op, 6), "f32[1,2,2]");
  assert_null(ir_attr_get(op, "is_test"));
  assert_true(ir_attr_float(op, "epsilon", 0) == 1e-5);
  float x[4] = {1, 2, 3, 4}, s[2] = {2, 1}, b[2] = {0, 1}, mean[2] = {1, 3},
        var[2] = {4, 1}, y[4];
  float want[4] = {0, 2 / sqrtf(4 + 1e-5f), 1, 1 + 1 / sqrtf(1 + 1e-5f)};
  exec(m, op, (void *[]){x, s, b, mean, var}, (void *[]){y});
  floats_near(y, want, 4);
}

/* training_mode=1: the batch's statistics over N and the spatial dims;
 * numbers from the ONNX reference (_batchnorm_training_mode, numpy). */
static void test_batchnorm_training(void **state) {
  IrModule *m = *state;
  IrValue *in[5] = {IN(m, IR_F32, 2, 2, 2), IN(m, IR_F32, 2), IN(m, IR_F32, 2),
                    IN(m, IR_F32, 2), IN(m, IR_F32, 2)};
  IrOp *op = op_new(m, IR_OP_BATCH_NORM, 5, in, 3);
  ir_attr_set_int(m, op, "training_mode", 1);
  ir_attr_set_float(m, op, "momentum", 0.8);
  assert_string_equal(run_all(m, op, 15), "f32[2,2,2], f32[2], f32[2]");
  assert_int_equal(ir_attr_int(op, "training_mode", 0), 1);
  float x[8] = {1, 2, 3, 5, 4, 6, 0, -3}, s[2] = {2, 1}, b[2] = {0, 1},
        mean[2] = {1, 3}, var[2] = {4, 1}, y[8], rm[2], rv[2];
  /* batch mean [3.25, 1.25], population variance [3.6875, 9.1875] */
  float want[8] = {-2.3433971f, -1.3018874f, 1.5773499f, 2.2371783f,
                   0.7811324f,  2.8641522f,  0.58760715f, -0.4021356f};
  float want_rm[2] = {1.45f, 2.65f}, want_rv[2] = {3.9375f, 2.6375f};
  exec(m, op, (void *[]){x, s, b, mean, var}, (void *[]){y, rm, rv});
  floats_near(y, want, 8);
  floats_near(rm, want_rm, 2);
  floats_near(rv, want_rv, 2);
}

/* The same with Y alone, momentum defaulting to 0.9. */
static void test_batchnorm_training_y(void **state) {
  IrModule *m = *state;
  IrValue *in[5] = {IN(m, IR_F32, 2, 2, 2), IN(m, IR_F32, 2), IN(m, IR_F32, 2),
                    IN(m, IR_F32, 2), IN(m, IR_F32, 2)};
  IrOp *op = op_new(m, IR_OP_BATCH_NORM, 5, in, 1);
  ir_attr_set_int(m, op, "training_mode", 1);
  assert_string_equal(run(m, op, 15), "f32[2,2,2]");
  assert_true(ir_attr_float(op, "momentum", 0) == 0.9);
  float x[8] = {1, 2, 3, 5, 4, 6, 0, -3}, s[2] = {2, 1}, b[2] = {0, 1},
        mean[2] = {1, 3}, var[2] = {4, 1}, y[8];
  float want[8] = {-2.3433971f, -1.3018874f, 1.5773499f, 2.2371783f,
                   0.7811324f,  2.8641522f,  0.58760715f, -0.4021356f};
  exec(m, op, (void *[]){x, s, b, mean, var}, (void *[]){y});
  floats_near(y, want, 8);
}

static void test_batchnorm_errors(void **state) {
  IrModule *m = *state;
  IrValue *in[5] = {IN(m, IR_F32, 1, 2, 2), IN(m, IR_F32, 2), IN(m, IR_F32, 2),
                    IN(m, IR_F32, 2), IN(m, IR_F32, 3)};
  IrOp *op = op_new(m, IR_OP_BATCH_NORM, 5, in, 1);
  ir_attr_set_int(m, op, "training_mode", 1);
  assert_string_equal(run(m, op, 9), "error: BatchNormalization: attribute "
                      "'training_mode' exists from opset 14 on (this model has opset 9)");
  op = op_new(m, IR_OP_BATCH_NORM, 5, in, 1);
  ir_attr_set_int(m, op, "training_mode", 2);
  assert_string_equal(run(m, op, 15), "error: BatchNormalization: attribute "
                      "'training_mode' must be 0 or 1, got 2");
  op = op_new(m, IR_OP_BATCH_NORM, 5, in, 3);
  assert_string_equal(run(m, op, 9), "error: BatchNormalization with 3 outputs "
                      "(training statistics) is not supported by tcc without "
                      "training_mode=1");
  op = op_new(m, IR_OP_BATCH_NORM, 5, in, 1);
  ir_attr_set_int(m, op, "spatial", 0);
  assert_string_equal(run(m, op, 7), "error: attribute 'spatial' = 0 (per-activation "
                      "statistics) is not supported by tcc");
  op = op_new(m, IR_OP_BATCH_NORM, 5, in, 1);
  assert_string_equal(run(m, op, 15), "error: BatchNormalization: input input_var has "
                      "type f32[3]; expected 2 elements (the channels of X)");
}

/* ------------------------------------------------------------- softmax */
static void test_softmax_canonical(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 2, 3);
  IrOp *op = op_new(m, IR_OP_SOFTMAX, 1, &x, 1);
  assert_string_equal(run(m, op, 11), "f32[2,3]");
  assert_int_equal(ir_attr_int(op, "axis", 9), 1);
  assert_int_equal(ir_attr_int(op, "coerce_2d", 9), 1);
  op = op_new(m, IR_OP_LOG_SOFTMAX, 1, &x, 1);
  assert_string_equal(run(m, op, 13), "f32[2,3]");
  assert_int_equal(ir_attr_int(op, "axis", 9), -1);
  assert_int_equal(ir_attr_int(op, "coerce_2d", 9), 0);
  op = op_new(m, IR_OP_HARDMAX, 1, &x, 1);
  ir_attr_set_int(m, op, "axis", 2);
  assert_string_equal(run(m, op, 13), "error: Hardmax: axis 2 is out of range for rank 2");
  op = op_new(m, IR_OP_SOFTMAX, 1, &x, 1);
  ir_attr_set_float(m, op, "axis", 1.0);
  assert_string_equal(run(m, op, 13), "error: attribute 'axis' must be an int");
}

static void test_softmax_numbers(void **state) {
  IrModule *m = *state;
  /* opset 11 on [2,1,2] at axis 1: each batch row of 2 normalizes together */
  IrValue *x = IN(m, IR_F32, 2, 1, 2);
  IrOp *op = op_new(m, IR_OP_SOFTMAX, 1, &x, 1);
  assert_string_equal(run(m, op, 11), "f32[2,1,2]");
  float xv[4] = {1000, 1001, 0, 0}, y[4];
  float e = expf(-1), want[4] = {e / (1 + e), 1 / (1 + e), 0.5f, 0.5f};
  exec(m, op, (void *[]){xv}, (void *[]){y});
  floats_near(y, want, 4);
}

static void test_hardmax_numbers(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 2, 3);
  IrOp *op = op_new(m, IR_OP_HARDMAX, 1, &x, 1);
  ir_attr_set_int(m, op, "axis", 0);
  assert_string_equal(run(m, op, 13), "f32[2,3]");
  float xv[6] = {1, 5, 3, 2, 5, 3}, y[6], want[6] = {0, 1, 1, 1, 0, 0};
  exec(m, op, (void *[]){xv}, (void *[]){y});
  floats_near(y, want, 6);
}

/* -------------------------------------------------------------- reduce */
static void test_reduce_canonical(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 2, 3, 4);
  IrValue *axes = weight(m, IR_I64, DIMS(2), (int64_t[]){-1, 0});
  assert_string_equal(op2(m, IR_OP_REDUCE_SUM, x, axes, 13), "f32[1,3,1]");
  IrOp *op = m->main->body->last;
  assert_int_equal(op->num_operands, 1);
  ints_equal(op, "axes", 2, (int64_t[]){0, 2});
  assert_int_equal(ir_attr_int(op, "keepdims", 9), 1);
  op = op_new(m, IR_OP_REDUCE_MEAN, 1, &x, 1);
  ir_attr_set_int(m, op, "keepdims", 0);
  assert_string_equal(run(m, op, 11), "f32[]");
  ints_equal(op, "axes", 3, (int64_t[]){0, 1, 2});
  op = op_new(m, IR_OP_REDUCE_SUM, 2, (IrValue *[]){x, IN(m, IR_I64, 0)}, 1);
  ir_attr_set_int(m, op, "noop_with_empty_axes", 1);
  assert_string_equal(run(m, op, 13), "f32[2,3,4]");
  ints_equal(op, "axes", 0, NULL);
  assert_null(ir_attr_get(op, "noop_with_empty_axes"));
  op = op_new(m, IR_OP_ARGMIN, 1, &x, 1);
  ir_attr_set_int(m, op, "axis", -2);
  ir_attr_set_int(m, op, "keepdims", 0);
  assert_string_equal(run(m, op, 13), "i64[2,4]");
}

static void test_reduce_errors(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 2, 3);
  assert_string_equal(op2(m, IR_OP_REDUCE_SUM, x, IN(m, IR_I64, 1), 13),
                      "error: input 'axes' must be a constant (initializer or Constant) "
                      "in tcc");
  IrOp *op = op_new(m, IR_OP_REDUCE_MAX, 1, &x, 1);
  ir_attr_set_ints(m, op, "axes", 2, (int64_t[]){1, -1});
  assert_string_equal(run(m, op, 11), "error: ReduceMax: axis 1 appears twice");
  op = op_new(m, IR_OP_REDUCE_L2, 1, (IrValue *[]){IN(m, IR_I32, 2)}, 1);
  assert_string_equal(run(m, op, 11),
                      "error: ReduceL2: input data has unsupported element type i32");
  op = op_new(m, IR_OP_ARGMAX, 1, &x, 1);
  ir_attr_set_int(m, op, "axis", 2);
  assert_string_equal(run(m, op, 13), "error: ArgMax: axis 2 is out of range for rank 2");
}

static void test_reduce_numbers(void **state) {
  IrModule *m = *state;
  /* LogSumExp over axis 0 of [2,3] (strided reduction), large values */
  IrValue *x = IN(m, IR_F32, 2, 3);
  IrOp *op = op_new(m, IR_OP_REDUCE_LOG_SUM_EXP, 1, &x, 1);
  ir_attr_set_ints(m, op, "axes", 1, (int64_t[]){0});
  ir_attr_set_int(m, op, "keepdims", 0);
  assert_string_equal(run(m, op, 13), "f32[3]");
  float xv[6] = {1000, 1, -INFINITY, 1000, 2, -INFINITY}, y[3];
  float want[3] = {1000 + logf(2), 2 + logf(1 + expf(-1)), -INFINITY};
  exec(m, op, (void *[]){xv}, (void *[]){y});
  floats_near(y, want, 2);
  assert_true(isinf(y[2]) && y[2] < 0);
}

static void test_reduce_int_numbers(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_I32, 2, 3);
  IrOp *op = op_new(m, IR_OP_REDUCE_PROD, 1, &x, 1);
  ir_attr_set_ints(m, op, "axes", 1, (int64_t[]){1});
  assert_string_equal(run(m, op, 13), "i32[2,1]");
  int32_t xv[6] = {1, -2, 3, 4, 5, 6}, y[2];
  exec(m, op, (void *[]){xv}, (void *[]){y});
  assert_int_equal(y[0], -6);
  assert_int_equal(y[1], 120);
}

static void test_argmax_numbers(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 2, 3);
  IrOp *op = op_new(m, IR_OP_ARGMAX, 1, &x, 1);
  ir_attr_set_int(m, op, "axis", 1);
  ir_attr_set_int(m, op, "select_last_index", 1);
  assert_string_equal(run(m, op, 13), "i64[2,1]");
  float xv[6] = {3, 7, 7, -1, -5, -2};
  int64_t y[2];
  exec(m, op, (void *[]){xv}, (void *[]){y});
  assert_int_equal(y[0], 2);
  assert_int_equal(y[1], 0);
}

/* ---------------------------------------------------------------- loss */
static void test_sce_loss(void **state) {
  IrModule *m = *state;
  /* N=2, C=2, D=2; label -1 ignored; mean over the 3 weighted labels */
  IrValue *in[3] = {IN(m, IR_F32, 2, 2, 2), IN(m, IR_I64, 2, 2), IN(m, IR_F32, 2)};
  IrOp *op = op_new(m, IR_OP_SCE_LOSS, 3, in, 2);
  ir_attr_set_int(m, op, "ignore_index", -1);
  assert_string_equal(run(m, op, 13), "f32[]");
  assert_string_equal(ir_attr_string(op, "reduction", ""), "mean");
  float x[8] = {0, 0, 1, 2, 3, 0, 0, 3}, w[2] = {1, 2}, y, lp[8];
  int64_t t[4] = {0, 1, -1, 1};
  float l2 = logf(2), e3 = logf(1 + expf(-3));
  /* log_softmax along C at (n, d): (0,0) [0,1] (0,1) [0,2] (1,0) [3,0] (1,1) [0,3] */
  float want_lp[8] = {-logf(1 + expf(1)), -logf(1 + expf(2)), -e3 - 0 + 0, -e3,
                      -e3, -3 - e3, -3 - e3, -e3};
  want_lp[0] = 0 - logf(1 + expf(1)), want_lp[2] = 1 - logf(1 + expf(1));
  want_lp[1] = 0 - logf(1 + expf(2)), want_lp[3] = 2 - logf(1 + expf(2));
  want_lp[4] = 3 - (3 + e3), want_lp[6] = -(3 + e3);
  want_lp[5] = -(3 + e3), want_lp[7] = 3 - (3 + e3);
  float want = (-want_lp[0] * 1 - want_lp[3] * 2 - want_lp[7] * 2) / 5;
  (void)l2;
  exec(m, op, (void *[]){x, t, w}, (void *[]){&y, lp});
  floats_near(lp, want_lp, 8);
  floats_near(&y, &want, 1);
}

static void test_loss_errors(void **state) {
  IrModule *m = *state;
  IrValue *in[2] = {IN(m, IR_F32, 2, 3, 4), IN(m, IR_I64, 2, 3)};
  assert_string_equal(run(m, op_new(m, IR_OP_NLL_LOSS, 2, in, 1), 13),
                      "error: NegativeLogLikelihoodLoss: target i64[2,3] does not "
                      "match input f32[2,3,4] without its class dim");
  IrValue *in2[2] = {IN(m, IR_F32, 2, 3), IN(m, IR_I64, 2)};
  IrOp *op = op_new(m, IR_OP_NLL_LOSS, 2, in2, 1);
  ir_attr_set_string(m, op, "reduction", "max");
  assert_string_equal(run(m, op, 13), "error: attribute 'reduction' must be "
                      "\"none\", \"sum\" or \"mean\" (got \"max\")");
  op = op_new(m, IR_OP_NLL_LOSS, 2, in2, 1);
  ir_attr_set_string(m, op, "reduction", "none");
  assert_string_equal(run(m, op, 13), "f32[2]");
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
      T(test_matmul_infer),       T(test_matmul_errors),
      T(test_matmul_numbers),     T(test_matmul_batch_numbers),
      T(test_gemm),               T(test_gemm_errors),
      T(test_conv_canonical),     T(test_conv_errors),
      T(test_conv_numbers),       T(test_conv_depthwise_numbers),
      T(test_pool_infer),         T(test_maxpool_indices_numbers),
      T(test_averagepool_numbers), T(test_batchnorm), T(test_batchnorm_training), T(test_batchnorm_training_y),
      T(test_batchnorm_errors),   T(test_softmax_canonical),
      T(test_softmax_numbers),    T(test_hardmax_numbers),
      T(test_reduce_canonical),   T(test_reduce_errors),
      T(test_reduce_numbers),     T(test_reduce_int_numbers),
      T(test_argmax_numbers),     T(test_sce_loss),
      T(test_loss_errors),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
