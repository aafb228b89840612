/* test_ops_ops3.c — the "more coverage" ops (scatter.c select.c linalg.c
 * signal.c sample.c random.c): canonical forms, exact result types and
 * diagnostics, and numbers from the lowering run by the loop-level
 * interpreter against values from the ONNX reference formulas. */
#include "op_test.h"

static void test_scatter_elements_add(void **state) {
  IrModule *m = *state;
  IrValue *in[3] = {IN(m, IR_F32, 1, 5), IN(m, IR_I64, 1, 3), IN(m, IR_F32, 1, 3)};
  IrOp *op = op_new(m, IR_OP_SCATTER_ELEMENTS, 3, in, 1);
  ir_attr_set_int(m, op, "axis", 1);
  ir_attr_set_string(m, op, "reduction", "add");
  assert_string_equal(run(m, op, 16), "f32[1,5]");
  float data[5] = {1, 2, 3, 4, 5}, upd[3] = {1.1f, 2.1f, 3.0f}, y[5];
  int64_t ind[3] = {1, 1, -1};
  exec(m, op, (void *[]){data, ind, upd}, (void *[]){y});
  floats_near(y, (float[]){1, 5.2f, 3, 4, 8}, 5);
}

static void test_scatter_diagnostics(void **state) {
  IrModule *m = *state;
  IrValue *in[3] = {IN(m, IR_F32, 4), IN(m, IR_I64, 2), IN(m, IR_F32, 2)};
  IrOp *op = op_new(m, IR_OP_SCATTER_ND, 3, in, 1);
  ir_attr_set_string(m, op, "reduction", "avg");
  assert_string_equal(run(m, op, 16), "error: ScatterND: attribute 'reduction' must be "
                                      "none, add, mul, max or min, not 'avg'");
  ir_attr_set_string(m, op, "reduction", "mul");
  assert_string_equal(run(m, op, 16), "error: ScatterND: indices i64[2] and updates f32[2] "
                                      "do not fit data f32[4]");
}

/* TensorScatter: circular wraps the write position; axis 0 is refused. */
static void test_tensor_scatter(void **state) {
  IrModule *m = *state;
  IrValue *in[3] = {IN(m, IR_F32, 2, 3), IN(m, IR_F32, 2, 2), IN(m, IR_I64, 2)};
  IrOp *op = op_new(m, IR_OP_TENSOR_SCATTER, 3, in, 1);
  ir_attr_set_int(m, op, "axis", 0);
  assert_string_equal(run(m, op, 24), "error: TensorScatter: axis must not be 0 (the batch dim)");
  ir_attr_set_int(m, op, "axis", 1);
  ir_attr_set_string(m, op, "mode", "circular");
  assert_string_equal(run(m, op, 24), "f32[2,3]");
  float past[6] = {0, 0, 0, 0, 0, 0}, upd[4] = {1, 2, 3, 4}, y[6];
  int64_t w[2] = {2, 0};
  exec(m, op, (void *[]){past, upd, w}, (void *[]){y});
  floats_near(y, (float[]){2, 0, 1, 3, 4, 0}, 6);
}

static void test_compress_and_reverse(void **state) {
  IrModule *m = *state;
  bool cond[3] = {0, 1, 1};
  IrValue *in[2] = {IN(m, IR_F32, 3, 2), weight(m, IR_BOOL, DIMS(3), cond)};
  IrOp *op = op_new(m, IR_OP_COMPRESS, 2, in, 1);
  assert_string_equal(run(m, op, 11), "f32[2]"); /* no axis: flattened */
  ints_equal(op, "condition", 3, (int64_t[]){0, 1, 1});
  float x[6] = {1, 2, 3, 4, 5, 6}, y[2];
  exec(m, op, (void *[]){x}, (void *[]){y});
  floats_near(y, (float[]){2, 3}, 2);
}

static void test_reverse_sequence(void **state) {
  IrModule *m = *state;
  IrValue *in[2] = {IN(m, IR_F32, 2, 3), IN(m, IR_I64, 2)};
  IrOp *op = op_new(m, IR_OP_REVERSE_SEQUENCE, 2, in, 1);
  ir_attr_set_int(m, op, "batch_axis", 0);
  ir_attr_set_int(m, op, "time_axis", 1);
  assert_string_equal(run(m, op, 10), "f32[2,3]");
  float x[6] = {1, 2, 3, 4, 5, 6}, y[6];
  int64_t lens[2] = {2, 3};
  exec(m, op, (void *[]){x, lens}, (void *[]){y});
  floats_near(y, (float[]){2, 1, 3, 6, 5, 4}, 6);
}

static void test_det(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 2, 3, 3);
  IrOp *op = op_new(m, IR_OP_DET, 1, &x, 1);
  assert_string_equal(run(m, op, 11), "f32[2]");
  /* needs a row swap (a[0][0] = 0); the second is singular */
  float a[18] = {0, 2, 1, 3, 1, 4, 5, 6, 0, 1, 2, 3, 2, 4, 6, 7, 8, 9}, y[2];
  exec(m, op, (void *[]){a}, (void *[]){y});
  floats_near(y, (float[]){53, 0}, 2); /* numpy.linalg.det */
  IrValue *bad = IN(m, IR_I32, 2, 2);
  assert_string_equal(run(m, op_new(m, IR_OP_DET, 1, &bad, 1), 11),
                      "error: Det: input i32[2,2] must be float with square matrices "
                      "in the last two dims");
}

static void test_hann_window(void **state) {
  IrModule *m = *state;
  int32_t size = 4;
  IrValue *w = weight(m, IR_I32, 0, NULL, &size);
  IrOp *op = op_new(m, IR_OP_HANN_WINDOW, 1, &w, 1);
  assert_string_equal(run(m, op, 17), "f32[4]");
  assert_int_equal(op->num_operands, 0);
  assert_int_equal(ir_attr_int(op, "periodic", -1), 1);
  float y[4];
  exec(m, op, (void *[]){NULL}, (void *[]){y});
  floats_near(y, (float[]){0, 0.5f, 1, 0.5f}, 4);
}

static void test_dft_real(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 1, 4, 1);
  IrOp *op = op_new(m, IR_OP_DFT, 1, &x, 1);
  assert_string_equal(run(m, op, 17), "f32[1,4,2]");
  float in[4] = {1, 2, 3, 4}, y[8];
  exec(m, op, (void *[]){in}, (void *[]){y});
  floats_near(y, (float[]){10, 0, -2, 2, -2, 0, -2, -2}, 8);
}

/* IRFFT (onesided inverse): 3 one-sided bins give back the 4 real samples. */
static void test_dft_irfft(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 1, 3, 2);
  IrOp *op = op_new(m, IR_OP_DFT, 1, &x, 1);
  ir_attr_set_int(m, op, "inverse", 1);
  ir_attr_set_int(m, op, "onesided", 1);
  assert_string_equal(run(m, op, 20), "f32[1,4,1]");
  float in[6] = {10, 0, -2, 2, -2, 0}, y[4];
  exec(m, op, (void *[]){in}, (void *[]){y});
  floats_near(y, (float[]){1, 2, 3, 4}, 4);
}

static void test_grid_sample_bilinear(void **state) {
  IrModule *m = *state;
  IrValue *in[2] = {IN(m, IR_F32, 1, 1, 2, 2), IN(m, IR_F32, 1, 1, 2, 2)};
  IrOp *op = op_new(m, IR_OP_GRID_SAMPLE, 2, in, 1);
  ir_attr_set_int(m, op, "align_corners", 1);
  assert_string_equal(run(m, op, 16), "f32[1,1,1,2]");
  assert_string_equal(ir_attr_string(op, "padding_mode", ""), "zeros");
  /* the centre averages all four; (1, -1) is the top-right corner */
  float x[4] = {1, 2, 3, 4}, g[4] = {0, 0, 1, -1}, y[2];
  exec(m, op, (void *[]){x, g}, (void *[]){y});
  floats_near(y, (float[]){2.5f, 2}, 2);
  assert_string_equal(ir_attr_string(op, "mode", ""), "linear"); /* opset 16's bilinear */
}

/* GridSample-20 N-D: a 3-D image, grid components (x, y, z) reversed. */
static void test_grid_sample_volumetric(void **state) {
  IrModule *m = *state;
  IrValue *in[2] = {IN(m, IR_F32, 1, 1, 2, 1, 2), IN(m, IR_F32, 1, 1, 1, 1, 3)};
  IrOp *op = op_new(m, IR_OP_GRID_SAMPLE, 2, in, 1);
  ir_attr_set_int(m, op, "align_corners", 1);
  assert_string_equal(run(m, op, 20), "f32[1,1,1,1,1]");
  /* x = 1 (last dim's end), y = 0, z = 0 (halfway between the two planes) */
  float x[4] = {1, 2, 3, 4}, g[3] = {1, 0, 0}, y[1];
  exec(m, op, (void *[]){x, g}, (void *[]){y});
  floats_near(y, (float[]){3}, 1);
  IrValue *in2[2] = {IN(m, IR_F32, 1, 1, 2, 2), IN(m, IR_F32, 1, 1, 2, 2)};
  op = op_new(m, IR_OP_GRID_SAMPLE, 2, in2, 1);
  ir_attr_set_string(m, op, "mode", "bilinear");
  assert_string_equal(run(m, op, 20), "error: GridSample: unsupported mode 'bilinear'");
}

/* AffineGrid: the identity theta gives the pixel centres in [-1, 1]. */
static void test_affine_grid(void **state) {
  IrModule *m = *state;
  int64_t size[4] = {1, 1, 1, 2};
  IrValue *in[2] = {IN(m, IR_F32, 1, 2, 3), weight(m, IR_I64, DIMS(4), size)};
  IrOp *op = op_new(m, IR_OP_AFFINE_GRID, 2, in, 1);
  assert_string_equal(run(m, op, 20), "f32[1,1,2,2]");
  float theta[6] = {1, 0, 0, 0, 1, 0}, y[4];
  exec(m, op, (void *[]){theta}, (void *[]){y});
  floats_near(y, (float[]){-0.5f, 0, 0.5f, 0}, 4);
}

/* DeformConv: a 1x1 kernel whose offset moves the tap half a pixel right
 * reads the average of two neighbours (and zero past the edge). */
static void test_deform_conv(void **state) {
  IrModule *m = *state;
  float w1[1] = {2};
  IrValue *in[3] = {IN(m, IR_F32, 1, 1, 1, 2), weight(m, IR_F32, DIMS(1, 1, 1, 1), w1),
                    IN(m, IR_F32, 1, 2, 1, 2)};
  IrOp *op = op_new(m, IR_OP_DEFORM_CONV, 3, in, 1);
  assert_string_equal(run(m, op, 19), "f32[1,1,1,2]");
  float x[2] = {1, 3}, off[4] = {0, 0, 0.5f, 0.5f}, y[2];
  exec(m, op, (void *[]){x, off}, (void *[]){y});
  floats_near(y, (float[]){4, 3}, 2);
}

/* Same seed, same draws; values in range; Bernoulli 0/1 at p = 0 and 1. */
static void test_random(void **state) {
  IrModule *m = *state;
  IrOp *op = op_new(m, IR_OP_RANDOM_UNIFORM, 0, NULL, 1);
  ir_attr_set_ints(m, op, "shape", 1, (int64_t[]){64});
  ir_attr_set_float(m, op, "low", 2.0);
  ir_attr_set_float(m, op, "high", 3.0);
  ir_attr_set_float(m, op, "seed", 5.0);
  assert_string_equal(run(m, op, 15), "f32[64]");
  float y[64], again[64];
  exec(m, op, (void *[]){NULL}, (void *[]){y});
  for (int i = 0; i < 64; i++) assert_true(y[i] >= 2.0f && y[i] < 3.0f);
  assert_true(y[0] != y[1]);
  IrModule *m2 = ir_module_new("t2");
  ir_func_new(m2, "main");
  IrOp *op2 = op_new(m2, IR_OP_RANDOM_UNIFORM, 0, NULL, 1);
  for (int i = 0; i < op->num_attrs; i++) ir_attr_set(m2, op2, &op->attrs[i]);
  assert_string_equal(run(m2, op2, 15), "f32[64]");
  exec(m2, op2, (void *[]){NULL}, (void *[]){again});
  assert_memory_equal(y, again, sizeof y);
  ir_module_free(m2);
}

static void test_bernoulli(void **state) {
  IrModule *m = *state;
  IrValue *p = IN(m, IR_F64, 4);
  IrOp *op = op_new(m, IR_OP_BERNOULLI, 1, &p, 1);
  ir_attr_set_int(m, op, "dtype", 9); /* bool */
  assert_string_equal(run(m, op, 15), "bool[4]");
  double pv[4] = {0, 1, 0, 1};
  bool y[4];
  exec(m, op, (void *[]){pv}, (void *[]){y});
  assert_memory_equal(y, ((bool[]){0, 1, 0, 1}), 4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
      T(test_scatter_elements_add), T(test_scatter_diagnostics), T(test_tensor_scatter),
      T(test_compress_and_reverse), T(test_reverse_sequence),
      T(test_det), T(test_hann_window), T(test_dft_real), T(test_dft_irfft),
      T(test_grid_sample_bilinear), T(test_grid_sample_volumetric),
      T(test_affine_grid), T(test_deform_conv), T(test_random), T(test_bernoulli),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
