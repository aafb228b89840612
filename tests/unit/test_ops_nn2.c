/* test_ops_nn2.c — the "more NN" ops (norm.c conv_transpose.c resize.c
 * misc.c einsum.c rnn.c quant.c attention.c causal_conv.c
 * linear_attention.c): canonical forms, exact result types and
 * diagnostics, and numbers from the lowering run by the loop-level
 * interpreter against values computed by hand / by the ONNX reference
 * formulas. */
#include "op_test.h"

static const char *type_of(IrModule *m, const IrValue *v) {
  static char out[256];
  return ir_type_str(m, &v->type, out, sizeof out);
}

/* ---------------------------------------------------------------- norm */
static void test_layer_norm_numbers(void **state) {
  IrModule *m = *state;
  float one[4] = {1, 1, 1, 1};
  IrValue *in[2] = {IN(m, IR_F32, 1, 4), weight(m, IR_F32, DIMS(4), one)};
  IrOp *op = op_new(m, IR_OP_LAYER_NORM, 2, in, 3);
  ir_attr_set_float(m, op, "epsilon", 0.0);
  assert_string_equal(run(m, op, 17), "f32[1,4]");
  assert_string_equal(type_of(m, op->results[1]), "f32[1,1]");
  assert_int_equal(ir_attr_int(op, "axis", 0), -1);
  float x[4] = {1, 2, 3, 4}, y[4], mean, inv;
  exec(m, op, (void *[]){x}, (void *[]){y, &mean, &inv});
  floats_near(y, (float[]){-1.3416408f, -0.4472136f, 0.4472136f, 1.3416408f}, 4);
  floats_near(&mean, (float[]){2.5f}, 1);
  floats_near(&inv, (float[]){0.8944272f}, 1);
}

static void test_instance_norm_mvn(void **state) {
  IrModule *m = *state;
  IrValue *in[3] = {IN(m, IR_F32, 1, 2, 3), IN(m, IR_F32, 3), IN(m, IR_F32, 2)};
  IrOp *bad = op_new(m, IR_OP_INSTANCE_NORM, 3, in, 1);
  assert_string_equal(run(m, bad, 6),
                      "error: InstanceNormalization: input scale has type f32[3]; "
                      "expected f32[2]");
  ir_op_remove(bad);
  IrValue *x = IN(m, IR_F32, 1, 1, 1, 2);
  IrOp *op = op_new(m, IR_OP_MVN, 1, &x, 1);
  assert_string_equal(run(m, op, 13), "f32[1,1,1,2]");
  ints_equal(op, "axes", 3, (int64_t[]){0, 2, 3});
  float xv[2] = {1, 3}, y[2], unused[6];
  exec(m, op, (void *[]){unused, unused, unused, xv}, (void *[]){y});
  floats_near(y, (float[]){-1, 1}, 2);
}

static void test_lrn(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 1, 2);
  assert_string_equal(run(m, op_new(m, IR_OP_LRN, 1, &x, 1), 13),
                      "error: attribute 'size' is required");
  IrOp *op = op_new(m, IR_OP_LRN, 1, &x, 1);
  ir_attr_set_int(m, op, "size", 3);
  ir_attr_set_float(m, op, "alpha", 3.0);
  ir_attr_set_float(m, op, "beta", 1.0);
  assert_string_equal(run(m, op, 13), "f32[1,2]");
  /* window of c=0 and c=1 is both channels: sum of squares 1 + 4 = 5;
   * y = x / (1 + 3/3 * 5) */
  float xv[2] = {1, 2}, y[2];
  exec(m, op, (void *[]){xv}, (void *[]){y});
  floats_near(y, (float[]){1.0f / 6, 2.0f / 6}, 2);
}

/* ------------------------------------------------------- ConvTranspose */
static void test_conv_transpose(void **state) {
  IrModule *m = *state;
  float w[2] = {1, 1};
  IrValue *in[2] = {IN(m, IR_F32, 1, 1, 3), weight(m, IR_F32, DIMS(1, 1, 2), w)};
  IrOp *op = op_new(m, IR_OP_CONV_TRANSPOSE, 2, in, 1);
  ir_attr_set_ints(m, op, "strides", 1, (int64_t[]){2});
  ir_attr_set_ints(m, op, "output_shape", 1, (int64_t[]){7});
  assert_string_equal(run(m, op, 11), "f32[1,1,7]");
  ints_equal(op, "pads", 2, (int64_t[]){0, -1}); /* one extra zero at the end */
  assert_null(ir_attr_get(op, "output_shape"));
  float x[3] = {1, 2, 3}, y[7];
  exec(m, op, (void *[]){x}, (void *[]){y});
  floats_near(y, (float[]){1, 1, 2, 2, 3, 3, 0}, 7);
}

static void test_conv_transpose_errors(void **state) {
  IrModule *m = *state;
  IrValue *in[2] = {IN(m, IR_F32, 1, 2, 3), IN(m, IR_F32, 3, 1, 2)};
  assert_string_equal(run(m, op_new(m, IR_OP_CONV_TRANSPOSE, 2, in, 1), 11),
                      "error: ConvTranspose: W must be f32 of rank 3 with 2 input "
                      "channels (X's), divisible by group=1");
}

/* -------------------------------------------------------------- Resize */
static void test_resize_linear(void **state) {
  IrModule *m = *state;
  float sc[1] = {2};
  IrValue *in[3] = {IN(m, IR_F32, 2), NULL, weight(m, IR_F32, DIMS(1), sc)};
  IrOp *op = op_new(m, IR_OP_RESIZE, 3, in, 1);
  ir_attr_set_string(m, op, "mode", "linear");
  assert_string_equal(run(m, op, 13), "f32[4]");
  assert_int_equal(op->num_operands, 1);
  assert_string_equal(ir_attr_string(op, "coordinate_transformation_mode", ""),
                      "half_pixel");
  float x[2] = {1, 2}, y[4];
  exec(m, op, (void *[]){x}, (void *[]){y});
  floats_near(y, (float[]){1, 1.25f, 1.75f, 2}, 4);
}

static void test_resize_errors(void **state) {
  IrModule *m = *state;
  IrValue *in[3] = {IN(m, IR_F32, 2), NULL, IN(m, IR_F32, 1)};
  assert_string_equal(run(m, op_new(m, IR_OP_RESIZE, 3, in, 1), 13),
                      "error: input 'scales' must be a constant (initializer or "
                      "Constant) in tcc");
  float sc[1] = {2};
  IrValue *in2[3] = {IN(m, IR_I32, 2), NULL, weight(m, IR_F32, DIMS(1), sc)};
  IrOp *op = op_new(m, IR_OP_RESIZE, 3, in2, 1);
  ir_attr_set_string(m, op, "mode", "cubic");
  assert_string_equal(run(m, op, 13),
                      "error: Resize: mode 'cubic' needs a float input, not i32");
  float sc2[1] = {2};
  IrValue *in3[3] = {IN(m, IR_F32, 2, 3), NULL, weight(m, IR_F32, DIMS(1), sc2)};
  op = op_new(m, IR_OP_RESIZE, 3, in3, 1);
  ir_attr_set_ints(m, op, "axes", 1, (int64_t[]){2});
  assert_string_equal(run(m, op, 19),
                      "error: Resize: axes must be distinct dims in [-2, 1]");
}

/* Resize-18: sizes for axes [1] with not_larger keep X's aspect ratio. */
static void test_resize_axes_policy(void **state) {
  IrModule *m = *state;
  int64_t sz[1] = {3};
  IrValue *in[4] = {IN(m, IR_F32, 2, 4), NULL, NULL, weight(m, IR_I64, DIMS(1), sz)};
  IrOp *op = op_new(m, IR_OP_RESIZE, 4, in, 1);
  ir_attr_set_ints(m, op, "axes", 1, (int64_t[]){-1});
  ir_attr_set_string(m, op, "keep_aspect_ratio_policy", "not_larger");
  assert_string_equal(run(m, op, 19), "f32[2,3]");
  assert_null(ir_attr_get(op, "axes"));
}

/* -------------------------------------------------------------- Col2Im */
/* Two 1x2 blocks at stride 1 overlap on the middle pixel of a 1x3 image. */
static void test_col2im(void **state) {
  IrModule *m = *state;
  int64_t img[2] = {1, 3}, blk[2] = {1, 2};
  IrValue *in[3] = {IN(m, IR_F32, 1, 2, 2), weight(m, IR_I64, DIMS(2), img),
                    weight(m, IR_I64, DIMS(2), blk)};
  IrOp *op = op_new(m, IR_OP_COL2IM, 3, in, 1);
  assert_string_equal(run(m, op, 18), "f32[1,1,1,3]");
  float x[4] = {1, 2, 10, 20}, y[3];  /* rows: block offset; columns: block */
  exec(m, op, (void *[]){x}, (void *[]){y});
  floats_near(y, (float[]){1, 12, 20}, 3);
  IrValue *in2[3] = {IN(m, IR_F32, 1, 2, 3), weight(m, IR_I64, DIMS(2), img),
                     weight(m, IR_I64, DIMS(2), blk)};
  assert_string_equal(run(m, op_new(m, IR_OP_COL2IM, 3, in2, 1), 18),
                      "error: Col2Im: input must be [N, C * 2, 2] (block size, sliding "
                      "blocks), not rank 3 with dims 2, 3");
}

/* -------------------------------------------------------- CumSum, TopK */
static void test_cumsum(void **state) {
  IrModule *m = *state;
  IrValue *bad[2] = {IN(m, IR_F32, 4), IN(m, IR_I64)};
  IrOp *bop = op_new(m, IR_OP_CUMSUM, 2, bad, 1);
  assert_string_equal(run(m, bop, 14),
                      "error: input 'axis' must be a constant (initializer or "
                      "Constant) in tcc");
  ir_op_remove(bop);
  int64_t axis = 0;
  IrValue *in[2] = {IN(m, IR_F32, 4), weight(m, IR_I64, 0, NULL, &axis)};
  IrOp *op = op_new(m, IR_OP_CUMSUM, 2, in, 1);
  ir_attr_set_int(m, op, "exclusive", 1);
  ir_attr_set_int(m, op, "reverse", 1);
  assert_string_equal(run(m, op, 14), "f32[4]");
  float x[4] = {1, 2, 3, 4}, y[4], unused[4];
  exec(m, op, (void *[]){unused, unused, x}, (void *[]){y});
  floats_near(y, (float[]){9, 7, 4, 0}, 4);
}

/* CumProd is CumSum's scan with * and 1. */
static void test_cumprod(void **state) {
  IrModule *m = *state;
  int64_t axis = 0;
  IrValue *in[2] = {IN(m, IR_I32, 4), weight(m, IR_I64, 0, NULL, &axis)};
  IrOp *op = op_new(m, IR_OP_CUMPROD, 2, in, 1);
  ir_attr_set_int(m, op, "exclusive", 1);
  assert_string_equal(run(m, op, 26), "i32[4]");
  int32_t x[4] = {2, 3, 4, 5}, y[4];
  exec(m, op, (void *[]){x}, (void *[]){y});
  for (int i = 0; i < 4; i++) assert_int_equal(y[i], ((int32_t[]){1, 2, 6, 24})[i]);
}

/* LpNormalization: x / ||x||_p along axis, 0 where the norm is 0. */
static void test_lp_norm(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 2, 2);
  IrOp *op = op_new(m, IR_OP_LP_NORM, 1, &x, 1);
  ir_attr_set_int(m, op, "p", 3);
  assert_string_equal(run(m, op, 22), "error: LpNormalization: attribute 'p' (3) must be 1 or 2");
  ir_attr_set_int(m, op, "p", 2);
  ir_attr_set_int(m, op, "axis", 1);
  assert_string_equal(run(m, op, 22), "f32[2,2]");
  float in[4] = {3, 4, 0, 0}, y[4];
  exec(m, op, (void *[]){in}, (void *[]){y});
  floats_near(y, (float[]){0.6f, 0.8f, 0, 0}, 4);
}

static void test_topk(void **state) {
  IrModule *m = *state;
  int64_t k = 3;
  IrValue *in[2] = {IN(m, IR_F32, 1, 5), weight(m, IR_I64, DIMS(1), &k)};
  IrOp *op = op_new(m, IR_OP_TOPK, 2, in, 2);
  assert_string_equal(run(m, op, 11), "f32[1,3]");
  assert_string_equal(type_of(m, op->results[1]), "i64[1,3]");
  float x[5] = {3, 1, 3, 2, 5}, v[3];
  int64_t idx[3];
  exec(m, op, (void *[]){x}, (void *[]){v, idx});
  floats_near(v, (float[]){5, 3, 3}, 3);
  assert_int_equal(idx[0], 4);
  assert_int_equal(idx[1], 0); /* ties: the lower index first */
  assert_int_equal(idx[2], 2);
}

/* -------------------------------------------------------------- Einsum */
static void test_einsum(void **state) {
  IrModule *m = *state;
  IrValue *in[2] = {IN(m, IR_F32, 2, 2), IN(m, IR_F32, 2, 2)};
  IrOp *bad = op_new(m, IR_OP_EINSUM, 2, in, 1);
  ir_attr_set_string(m, bad, "equation", "ij,jk->il");
  assert_string_equal(run(m, bad, 12),
                      "error: Einsum: output label of 'ij,jk->il' is not in any input");
  ir_op_remove(bad);
  IrOp *op = op_new(m, IR_OP_EINSUM, 2, in, 1);
  ir_attr_set_string(m, op, "equation", "ij, jk");
  assert_string_equal(run(m, op, 12), "f32[2,2]"); /* implicit output ik */
  float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, y[4];
  exec(m, op, (void *[]){a, b}, (void *[]){y});
  floats_near(y, (float[]){19, 22, 43, 50}, 4);
}

/* ------------------------------------------------------------------ RNN */
static void test_rnn_numbers(void **state) {
  IrModule *m = *state;
  float w = 0.5f, r = 1;
  IrValue *in[3] = {IN(m, IR_F32, 2, 1, 1), weight(m, IR_F32, DIMS(1, 1, 1), &w),
                    weight(m, IR_F32, DIMS(1, 1, 1), &r)};
  IrOp *op = op_new(m, IR_OP_RNN, 3, in, 2);
  assert_string_equal(run(m, op, 14), "f32[2,1,1,1]");
  assert_string_equal(type_of(m, op->results[1]), "f32[1,1,1]");
  assert_int_equal(ir_attr_int(op, "hidden_size", 0), 1);
  float x[2] = {1, 2}, y[2], yh;
  exec(m, op, (void *[]){x}, (void *[]){y, &yh});
  floats_near(y, (float[]){0.46211717f, 0.898063f}, 2);
  floats_near(&yh, (float[]){0.898063f}, 1);
}

static void test_lstm_errors(void **state) {
  IrModule *m = *state;
  IrValue *in[3] = {IN(m, IR_F32, 2, 1, 3), IN(m, IR_F32, 1, 6, 3), IN(m, IR_F32, 1, 8, 2)};
  IrOp *op = op_new(m, IR_OP_LSTM, 3, in, 2);
  ir_attr_set_strings(m, op, "activations", 3,
                      (const char *[]){"Sigmoid", "Softsign", "Tanh"});
  assert_string_equal(run(m, op, 14),
                      "error: LSTM: activation 'Softsign' is not supported by tcc");
  op = op_new(m, IR_OP_LSTM, 3, in, 2);
  assert_string_equal(run(m, op, 14),
                      "error: LSTM: input W has type f32[1,6,3]; expected f32[1,8,3]");
}

/* --------------------------------------------------------- quantization */
static void test_quantize_numbers(void **state) {
  IrModule *m = *state;
  float s = 1;
  int8_t zp = 0;
  IrValue *in[3] = {IN(m, IR_F32, 6), weight(m, IR_F32, 0, NULL, &s),
                    weight(m, IR_I8, 0, NULL, &zp)};
  IrOp *op = op_new(m, IR_OP_QUANTIZE_LINEAR, 3, in, 1);
  assert_string_equal(run(m, op, 13), "i8[6]");
  float x[6] = {0.5f, 1.5f, 2.5f, -1, 300, -300};
  int8_t y[6];
  exec(m, op, (void *[]){x}, (void *[]){y});
  int8_t want[6] = {0, 2, 2, -1, 127, -128}; /* half to even, saturated */
  assert_memory_equal(y, want, 6);
}

/* Blocked quantization to int4 (block 2 along axis 1, an int4 zero point):
 * clamped to [-8, 7]; the output leaves the entry in ONNX's packing. */
static void test_quantize_int4_blocked(void **state) {
  IrModule *m = *state;
  float s[4] = {1, 2, 0.5f, 4};
  int8_t zp[4] = {1, -2, 0, 3}; /* i4 weights hold one byte per element */
  IrValue *in[3] = {IN(m, IR_F32, 2, 4), weight(m, IR_F32, DIMS(2, 2), s),
                    weight(m, IR_I4, DIMS(2, 2), zp)};
  IrOp *op = op_new(m, IR_OP_QUANTIZE_LINEAR, 3, in, 1);
  ir_attr_set_int(m, op, "axis", 1);
  ir_attr_set_int(m, op, "block_size", 2);
  assert_string_equal(run(m, op, 21), "i4[2,4]");
  float x[8] = {0.1f, 2.6f, -30, 9, 5.5f, -5.5f, 1.4f, 100};
  uint8_t y[4];
  exec(m, op, (void *[]){x}, (void *[]){y});
  /* 1 4 -8 2 / 7 -8 3 7, two per byte, the first in the low bits */
  assert_memory_equal(y, ((uint8_t[]){0x41, 0x28, 0x87, 0x73}), 4);
}

static void test_matmul_integer(void **state) {
  IrModule *m = *state;
  uint8_t azp = 1;
  IrValue *in[3] = {IN(m, IR_U8, 2, 2), IN(m, IR_U8, 2, 2), weight(m, IR_U8, DIMS(1), &azp)};
  IrOp *op = op_new(m, IR_OP_MATMUL_INTEGER, 3, in, 1);
  assert_string_equal(run(m, op, 10), "i32[2,2]");
  uint8_t a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1};
  int32_t y[4];
  exec(m, op, (void *[]){a, b}, (void *[]){y});
  int32_t want[4] = {0, 1, 2, 3};
  assert_memory_equal(y, want, sizeof want);
}

static void test_quant_errors(void **state) {
  IrModule *m = *state;
  IrValue *in[3] = {IN(m, IR_F32, 2, 3), IN(m, IR_F32, 2), IN(m, IR_U8, 2)};
  assert_string_equal(run(m, op_new(m, IR_OP_QUANTIZE_LINEAR, 3, in, 1), 13),
                      "error: QuantizeLinear: scale has type f32[2]; expected one "
                      "value or 3 (one per channel)");
}

/* ------------------------------------------------------------ attention */
/* Causal and a bool mask intersect: query 0 sees key 0 only, query 1 no key
 * (a fully-masked row: zeros in Y and in the mode-3 probabilities). */
static void test_attention_masked_rows(void **state) {
  IrModule *m = *state;
  IrValue *in[4] = {IN(m, IR_F32, 1, 1, 2, 2), IN(m, IR_F32, 1, 1, 2, 2),
                    IN(m, IR_F32, 1, 1, 2, 1), IN(m, IR_BOOL, 2, 2)};
  IrOp *op = op_new(m, IR_OP_ATTENTION, 4, in, 4);
  ir_attr_set_int(m, op, "is_causal", 1);
  ir_attr_set_int(m, op, "qk_matmul_output_mode", 3);
  assert_string_equal(run_all(m, op, 23),
                      "f32[1,1,2,1], f32[1,1,2,2], f32[1,1,2,1], f32[1,1,2,2]");
  float q[4] = {1, 0, 0, 1}, k[4] = {1, 1, 0, 2}, v[2] = {3, 5}, y[2], pk[4], pv[2], p[4];
  bool mask[4] = {1, 0, 0, 0};
  exec(m, op, (void *[]){q, k, v, mask}, (void *[]){y, pk, pv, p});
  floats_near(y, (float[]){3, 0}, 2);
  floats_near(p, (float[]){1, 0, 0, 0}, 4);
  floats_near(pk, k, 4);
}

/* 3-D inputs with 2 query heads sharing one KV head; softmax of scaled
 * scores against values computed by hand. */
static void test_attention_3d_gqa(void **state) {
  IrModule *m = *state;
  IrValue *in[3] = {IN(m, IR_F32, 1, 1, 2), IN(m, IR_F32, 1, 2, 1), IN(m, IR_F32, 1, 2, 1)};
  IrOp *op = op_new(m, IR_OP_ATTENTION, 3, in, 1);
  ir_attr_set_int(m, op, "q_num_heads", 2);
  ir_attr_set_int(m, op, "kv_num_heads", 1);
  assert_string_equal(run(m, op, 23), "f32[1,1,2]");
  float q[2] = {0, 2}, k[2] = {0, 1}, v[2] = {1, 3}, y[2];
  exec(m, op, (void *[]){q, k, v}, (void *[]){y});
  float w = 1 / (1 + expf(-2.0f)); /* head 1: scores 0 and 2, scale 1 */
  floats_near(y, (float[]){2, (1 - w) * 1 + w * 3}, 2);
}

static void test_attention_errors(void **state) {
  IrModule *m = *state;
  IrValue *in[4] = {IN(m, IR_F32, 1, 2, 4, 8), IN(m, IR_F32, 1, 3, 4, 8),
                    IN(m, IR_F32, 1, 3, 4, 8), IN(m, IR_I32, 4, 4)};
  IrOp *op = op_new(m, IR_OP_ATTENTION, 3, in, 1);
  assert_string_equal(run(m, op, 23), "error: Attention: the 2 query heads are not a "
                                      "multiple of the 3 key/value heads");
  IrValue *in3[3] = {IN(m, IR_F32, 1, 4, 24), IN(m, IR_F32, 1, 4, 24), IN(m, IR_F32, 1, 4, 24)};
  op = op_new(m, IR_OP_ATTENTION, 3, in3, 1);
  assert_string_equal(run(m, op, 23), "error: Attention: 3-D inputs need attribute "
                                      "'q_num_heads' >= 1 (it is absent)");
  in[1] = in[2] = in[0];
  op = op_new(m, IR_OP_ATTENTION, 4, in, 1);
  assert_string_equal(run(m, op, 23), "error: Attention: attn_mask of type i32 is not "
                                      "supported (a bool mask, or a float mask of Q's "
                                      "type f32)");
  op = op_new(m, IR_OP_ATTENTION, 3, in, 1);
  ir_attr_set_int(m, op, "qk_matmul_output_mode", 4);
  assert_string_equal(run(m, op, 23), "error: Attention: attribute "
                                      "'qk_matmul_output_mode' must be 0, 1, 2 or 3, got 4");
}

/* k = 3: pad = past ++ x = [1, 2 | 1, 0, 2]; y = bias + w . window */
static void test_causal_conv(void **state) {
  IrModule *m = *state;
  IrValue *in[4] = {IN(m, IR_F32, 1, 1, 3), IN(m, IR_F32, 1, 1, 3), IN(m, IR_F32, 1),
                    IN(m, IR_F32, 1, 1, 2)};
  IrOp *op = op_new(m, IR_OP_CAUSAL_CONV, 4, in, 2);
  assert_string_equal(run_all(m, op, 27), "f32[1,1,3], f32[1,1,2]");
  float x[3] = {1, 0, 2}, w[3] = {1, 10, 100}, bias[1] = {0.5f}, past[2] = {1, 2}, y[3], st[2];
  exec(m, op, (void *[]){x, w, bias, past}, (void *[]){y, st});
  floats_near(y, (float[]){121.5f, 12.5f, 201.5f}, 3);
  floats_near(st, (float[]){0, 2}, 2);
}

/* delta rule, one head, dk = dv = 1: u = beta (v - S k), S += k u, o = q S */
static void test_linear_attention_delta(void **state) {
  IrModule *m = *state;
  IrValue *in[6] = {IN(m, IR_F32, 1, 2, 1), IN(m, IR_F32, 1, 2, 1), IN(m, IR_F32, 1, 2, 1),
                    IN(m, IR_F32, 1, 1, 1, 1), NULL, IN(m, IR_F32, 1, 2, 1)};
  IrOp *op = op_new(m, IR_OP_LINEAR_ATTENTION, 6, in, 2);
  ir_attr_set_int(m, op, "q_num_heads", 1);
  ir_attr_set_int(m, op, "kv_num_heads", 1);
  ir_attr_set_string(m, op, "update_rule", "delta");
  assert_string_equal(run_all(m, op, 27), "f32[1,2,1], f32[1,1,1,1]");
  float q[2] = {1, 2}, k[2] = {1, 2}, v[2] = {3, 1}, past[1] = {1}, beta[2] = {0.5f, 1}, y[2], st[1];
  exec(m, op, (void *[]){q, k, v, past, beta}, (void *[]){y, st});
  /* t0: u = 0.5 (3 - 1) = 1, S = 2, o = 2; t1: u = 1 - 4 = -3, S = 2 - 6 = -4, o = 2 * -4 */
  floats_near(y, (float[]){2, -8}, 2);
  floats_near(st, (float[]){-4}, 1);
  IrValue *in2[3] = {in[0], in[1], in[2]};
  op = op_new(m, IR_OP_LINEAR_ATTENTION, 3, in2, 1);
  ir_attr_set_int(m, op, "q_num_heads", 1);
  ir_attr_set_int(m, op, "kv_num_heads", 1);
  assert_string_equal(run(m, op, 27), "error: LinearAttention: update_rule 'gated_delta' "
                                      "needs decay and needs beta");
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
      T(test_layer_norm_numbers), T(test_instance_norm_mvn),
      T(test_lrn),                T(test_conv_transpose),
      T(test_conv_transpose_errors), T(test_resize_linear),
      T(test_resize_errors), T(test_resize_axes_policy), T(test_col2im),
      T(test_cumsum), T(test_cumprod), T(test_lp_norm),
      T(test_topk),               T(test_einsum),
      T(test_rnn_numbers),        T(test_lstm_errors),
      T(test_quantize_numbers),   T(test_quantize_int4_blocked), T(test_matmul_integer),
      T(test_quant_errors),       T(test_attention_masked_rows),
      T(test_attention_3d_gqa),   T(test_attention_errors),
      T(test_causal_conv),        T(test_linear_attention_delta),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
