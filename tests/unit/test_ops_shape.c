/* test_ops_shape.c — data-movement ops: import canonicalization, the shape
 * rule (exact result types) and exact diagnostics for bad inputs. */
#include "op_test.h"

/* A 1-D i64 weight (a constant input). */
static IrValue *ints_weight(IrModule *m, int n, const int64_t *v) {
  return weight(m, IR_I64, 1, (int64_t[]){n}, v);
}
#define W(m, ...) ints_weight(m, DIMS(__VA_ARGS__))

static const char *ints_attr(const IrOp *op, const char *name) {
  static char buf[256];
  const int64_t *v;
  int n = ir_attr_ints(op, name, &v);
  if (n < 0) return "absent";
  size_t k = (size_t)snprintf(buf, sizeof buf, "[");
  for (int i = 0; i < n; i++)
    k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%lld", i ? "," : "", (long long)v[i]);
  snprintf(buf + k, sizeof buf - k, "]");
  return buf;
}

static const char *op1(IrModule *m, IrOpKind k, int opset, IrValue *a, IrValue *b) {
  IrValue *in[2] = {a, b};
  return run(m, op_new(m, k, b ? 2 : 1, in, 1), opset);
}

/* ---------------------------------------------------------------- Reshape */
static void test_reshape(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 2, 3, 4);
  IrValue *in[2] = {x, W(m, 2, -1, 2)};
  IrOp *op = op_new(m, IR_OP_RESHAPE, 2, in, 1);
  assert_string_equal(run(m, op, 14), "f32[2,6,2]");
  assert_int_equal(op->num_operands, 1);
  assert_string_equal(ints_attr(op, "shape"), "[2,-1,2]");
  assert_int_equal(ir_attr_int(op, "allowzero", 7), 0);
  assert_string_equal(op1(m, IR_OP_RESHAPE, 14, x, W(m, 2, 0, 1, -1)), "f32[2,3,1,4]");
  assert_string_equal(op1(m, IR_OP_RESHAPE, 14, x, W(m, -1)), "f32[24]");
  assert_string_equal(op1(m, IR_OP_RESHAPE, 14, IN(m, IR_I8, 2, 3), W(m, 3, 2)), "i8[3,2]");
  /* opset 1: the shape is an attribute */
  op = op_new(m, IR_OP_RESHAPE, 1, &x, 1);
  ir_attr_set_ints(m, op, "shape", 2, (int64_t[]){4, 6});
  assert_string_equal(run(m, op, 1), "f32[4,6]");
  /* allowzero: 0 is a real zero */
  IrValue *z = IN(m, IR_F32, 0, 3, 4);
  in[0] = z, in[1] = W(m, 3, 4, 0);
  op = op_new(m, IR_OP_RESHAPE, 2, in, 1);
  ir_attr_set_int(m, op, "allowzero", 1);
  assert_string_equal(run(m, op, 14), "f32[3,4,0]");
  /* to a scalar */
  in[0] = IN(m, IR_F32, 1, 1), in[1] = ints_weight(m, 0, (int64_t[]){0});
  assert_string_equal(run(m, op_new(m, IR_OP_RESHAPE, 2, in, 1), 14), "f32[]");
}

static void test_reshape_errors(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 2, 3, 4);
  IrValue *computed = IN(m, IR_I64, 2);
  assert_string_equal(op1(m, IR_OP_RESHAPE, 14, x, computed),
                      "error: Reshape: input 'shape' must be a constant "
                      "(initializer or Constant node); got a computed value");
  assert_string_equal(op1(m, IR_OP_RESHAPE, 14, x, W(m, -1, -1)),
                      "error: Reshape: more than one -1 in shape [-1,-1]");
  assert_string_equal(op1(m, IR_OP_RESHAPE, 14, x, W(m, 5, 5)),
                      "error: Reshape: cannot reshape f32[2,3,4] (24 elements) "
                      "to shape [5,5] (25 elements)");
  assert_string_equal(op1(m, IR_OP_RESHAPE, 14, x, W(m, 5, -1)),
                      "error: Reshape: cannot infer the -1 in shape [5,-1] for "
                      "input f32[2,3,4]");
  assert_string_equal(op1(m, IR_OP_RESHAPE, 14, x, W(m, 2, -3)),
                      "error: Reshape: invalid dimension -3 in shape [2,-3]");
  assert_string_equal(op1(m, IR_OP_RESHAPE, 14, x, W(m, 1, 1, 1, 0)),
                      "error: Reshape: shape[3] is 0 (copy) but the input has rank 3");
  IrOp *op = op_new(m, IR_OP_RESHAPE, 1, &x, 1);
  assert_string_equal(run(m, op, 14),
                      "error: Reshape: input 'shape' must be a constant "
                      "(initializer or Constant node); got nothing");
}

/* ---------------------------------------------------------------- Flatten */
static void test_flatten(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 2, 3, 4, 5);
  static const struct { int64_t axis; const char *want; } cases[] = {
      {0, "f32[1,120]"}, {1, "f32[2,60]"}, {3, "f32[24,5]"}, {4, "f32[120,1]"},
      {-1, "f32[24,5]"}, {-4, "f32[1,120]"},
      {5, "error: Flatten: axis 5 is out of range for rank 4"},
      {-5, "error: Flatten: axis -5 is out of range for rank 4"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    IrOp *op = op_new(m, IR_OP_FLATTEN, 1, &x, 1);
    ir_attr_set_int(m, op, "axis", cases[i].axis);
    assert_string_equal(run(m, op, 13), cases[i].want);
  }
  IrOp *op = op_new(m, IR_OP_FLATTEN, 1, &x, 1);
  assert_string_equal(run(m, op, 13), "f32[2,60]");
  assert_int_equal(ir_attr_int(op, "axis", -9), 1);
  op = op_new(m, IR_OP_FLATTEN, 1, &x, 1);
  ir_attr_set_float(m, op, "axis", 1.0);
  assert_string_equal(run(m, op, 13), "error: Flatten: attribute 'axis' must be an int");
}

/* ------------------------------------------------------ Squeeze/Unsqueeze */
static void test_squeeze(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 1, 3, 1, 5);
  IrOp *op = op_new(m, IR_OP_SQUEEZE, 1, &x, 1);
  assert_string_equal(run(m, op, 13), "f32[3,5]");
  assert_string_equal(ints_attr(op, "axes"), "[0,2]");
  assert_string_equal(op1(m, IR_OP_SQUEEZE, 13, x, W(m, -2)), "f32[1,3,5]");
  op = op_new(m, IR_OP_SQUEEZE, 1, &x, 1);
  ir_attr_set_ints(m, op, "axes", 1, (int64_t[]){0});
  assert_string_equal(run(m, op, 11), "f32[3,1,5]");
  assert_string_equal(op1(m, IR_OP_SQUEEZE, 13, x, W(m, 1)),
                      "error: Squeeze: cannot squeeze axis 1 of size 3");
  assert_string_equal(op1(m, IR_OP_SQUEEZE, 13, x, W(m, 4)),
                      "error: Squeeze: axis 4 is out of range for rank 4");
  assert_string_equal(op1(m, IR_OP_SQUEEZE, 13, x, W(m, 0, -4)),
                      "error: Squeeze: axis -4 appears twice");
  assert_string_equal(op1(m, IR_OP_SQUEEZE, 13, x, IN(m, IR_I64, 1)),
                      "error: Squeeze: input 'axes' must be a constant "
                      "(initializer or Constant node); got a computed value");
}

static void test_unsqueeze(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_I64, 3, 4, 5);
  assert_string_equal(op1(m, IR_OP_UNSQUEEZE, 13, x, W(m, 0)), "i64[1,3,4,5]");
  assert_string_equal(op1(m, IR_OP_UNSQUEEZE, 13, x, W(m, 3)), "i64[3,4,5,1]");
  assert_string_equal(op1(m, IR_OP_UNSQUEEZE, 13, x, W(m, 5, 4, 0)), "i64[1,3,4,5,1,1]");
  assert_string_equal(op1(m, IR_OP_UNSQUEEZE, 13, x, W(m, -1, 1)), "i64[3,1,4,5,1]");
  assert_string_equal(op1(m, IR_OP_UNSQUEEZE, 13, IN0(m, IR_F32), W(m, 0)), "f32[1]");
  IrOp *op = op_new(m, IR_OP_UNSQUEEZE, 1, &x, 1);
  ir_attr_set_ints(m, op, "axes", 1, (int64_t[]){1});
  assert_string_equal(run(m, op, 11), "i64[3,1,4,5]");
  assert_string_equal(op1(m, IR_OP_UNSQUEEZE, 13, x, W(m, 4)),
                      "error: Unsqueeze: axis 4 is out of range for rank 4");
  assert_string_equal(op1(m, IR_OP_UNSQUEEZE, 13, x, W(m, 1, 1)),
                      "error: Unsqueeze: axis 1 appears twice");
  op = op_new(m, IR_OP_UNSQUEEZE, 1, &x, 1);
  assert_string_equal(run(m, op, 11), "error: Unsqueeze: missing attribute 'axes'");
}

/* -------------------------------------------------------------- Transpose */
static void test_transpose(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F16, 2, 3, 4);
  IrOp *op = op_new(m, IR_OP_TRANSPOSE, 1, &x, 1);
  assert_string_equal(run(m, op, 13), "f16[4,3,2]");
  assert_string_equal(ints_attr(op, "perm"), "[2,1,0]");
  op = op_new(m, IR_OP_TRANSPOSE, 1, &x, 1);
  ir_attr_set_ints(m, op, "perm", 3, (int64_t[]){1, 2, 0});
  assert_string_equal(run(m, op, 13), "f16[3,4,2]");
  op = op_new(m, IR_OP_TRANSPOSE, 1, &x, 1);
  ir_attr_set_ints(m, op, "perm", 3, (int64_t[]){0, 0, 1});
  assert_string_equal(run(m, op, 13),
                      "error: Transpose: perm [0,0,1] is not a permutation of 0..2");
  op = op_new(m, IR_OP_TRANSPOSE, 1, &x, 1);
  ir_attr_set_ints(m, op, "perm", 2, (int64_t[]){1, 0});
  assert_string_equal(run(m, op, 13),
                      "error: Transpose: perm [1,0] is not a permutation of 0..2");
}

/* ----------------------------------------------------------------- Concat */
static const char *concat(IrModule *m, int64_t axis, int n, IrValue **in) {
  IrOp *op = op_new(m, IR_OP_CONCAT, n, in, 1);
  ir_attr_set_int(m, op, "axis", axis);
  return run(m, op, 13);
}

static void test_concat(void **state) {
  IrModule *m = *state;
  IrValue *in[3] = {IN(m, IR_BOOL, 2, 3), IN(m, IR_BOOL, 2, 1), IN(m, IR_BOOL, 2, 0)};
  assert_string_equal(concat(m, 1, 3, in), "bool[2,4]");
  assert_string_equal(concat(m, -1, 3, in), "bool[2,4]");
  assert_string_equal(concat(m, 1, 1, in), "bool[2,3]");
  assert_string_equal(concat(m, 0, 3, in),
                      "error: Concat: input 1 has size 1 in dim 1 but input 0 has 3");
  assert_string_equal(concat(m, 2, 3, in),
                      "error: Concat: axis 2 is out of range for rank 2");
  IrValue *bad[2] = {in[0], IN(m, IR_F32, 2, 3)};
  assert_string_equal(concat(m, 0, 2, bad),
                      "error: Concat: input 1 has element type f32 but input 0 has bool");
  bad[1] = IN(m, IR_BOOL, 2, 3, 1);
  assert_string_equal(concat(m, 0, 2, bad),
                      "error: Concat: input 1 has rank 3 but input 0 has rank 2");
  bad[0] = bad[1] = IN0(m, IR_F32);
  assert_string_equal(concat(m, 0, 2, bad), "error: Concat: inputs must have rank >= 1");
  IrOp *op = op_new(m, IR_OP_CONCAT, 3, in, 1);
  assert_string_equal(run(m, op, 13), "error: Concat: missing attribute 'axis'");
}

/* ------------------------------------------------------------------ Split */
static void test_split(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 2, 6);
  IrValue *in[2] = {x, W(m, 2, 4)};
  IrOp *op = op_new(m, IR_OP_SPLIT, 2, in, 2);
  ir_attr_set_int(m, op, "axis", 1);
  assert_string_equal(run_all(m, op, 13), "f32[2,2], f32[2,4]");
  assert_int_equal(op->num_operands, 1);
  op = op_new(m, IR_OP_SPLIT, 1, &x, 3);
  ir_attr_set_int(m, op, "axis", -1);
  assert_string_equal(run_all(m, op, 13), "f32[2,2], f32[2,2], f32[2,2]");
  assert_string_equal(ints_attr(op, "split"), "[2,2,2]");
  op = op_new(m, IR_OP_SPLIT, 1, &x, 2);
  ir_attr_set_ints(m, op, "split", 2, (int64_t[]){1, 1});
  assert_string_equal(run_all(m, op, 11), "f32[1,6], f32[1,6]");
  op = op_new(m, IR_OP_SPLIT, 1, &x, 4);
  ir_attr_set_int(m, op, "axis", 1);
  assert_string_equal(run_all(m, op, 13),
                      "error: Split: size 6 of axis 1 is not divisible into 4 outputs");
  in[1] = W(m, 2, 3);
  op = op_new(m, IR_OP_SPLIT, 2, in, 2);
  ir_attr_set_int(m, op, "axis", 1);
  assert_string_equal(run_all(m, op, 13),
                      "error: Split: split [2,3] must have 2 entries summing to 6");
  /* opset 18's num_outputs: an uneven axis makes the last part smaller */
  IrValue *x7 = IN(m, IR_F32, 2, 7);
  op = op_new(m, IR_OP_SPLIT, 1, &x7, 4);
  ir_attr_set_int(m, op, "axis", 1);
  ir_attr_set_int(m, op, "num_outputs", 4);
  assert_string_equal(run_all(m, op, 18), "f32[2,2], f32[2,2], f32[2,2], f32[2,1]");
  op = op_new(m, IR_OP_SPLIT, 1, &x7, 2);
  ir_attr_set_int(m, op, "num_outputs", 3);
  assert_string_equal(run_all(m, op, 18),
                      "error: Split: attribute 'num_outputs' (3) differs from the 2 outputs");
  IrValue *e[2] = {IN(m, IR_F32, 0), W(m, 0, 0, 0)};
  assert_string_equal(run_all(m, op_new(m, IR_OP_SPLIT, 2, e, 3), 13),
                      "f32[0], f32[0], f32[0]");
}

/* ------------------------------------------- DepthToSpace, SpaceToDepth */
static void test_depth_space(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 1, 8, 2, 3);
  IrOp *op = op_new(m, IR_OP_DEPTH_TO_SPACE, 1, &x, 1);
  ir_attr_set_int(m, op, "blocksize", 2);
  assert_string_equal(run(m, op, 13), "f32[1,2,4,6]");
  assert_string_equal(ir_attr_string(op, "mode", "?"), "DCR");
  op = op_new(m, IR_OP_SPACE_TO_DEPTH, 1, &x, 1);
  ir_attr_set_int(m, op, "blocksize", 2);
  assert_string_equal(run(m, op, 13),
                      "error: SpaceToDepth: height or width not divisible by blocksize 2");
  op = op_new(m, IR_OP_SPACE_TO_DEPTH, 1, &op->operands[0], 1);
  op->operands[0] = IN(m, IR_F32, 1, 1, 4, 6);
  ir_attr_set_int(m, op, "blocksize", 2);
  assert_string_equal(run(m, op, 13), "f32[1,4,2,3]");
  op = op_new(m, IR_OP_DEPTH_TO_SPACE, 1, &x, 1);
  ir_attr_set_int(m, op, "blocksize", 3);
  assert_string_equal(run(m, op, 13),
                      "error: DepthToSpace: channels not divisible by blocksize squared 9");
  op = op_new(m, IR_OP_DEPTH_TO_SPACE, 1, &x, 1);
  ir_attr_set_int(m, op, "blocksize", 2);
  ir_attr_set_string(m, op, "mode", "XYZ");
  assert_string_equal(run(m, op, 13),
                      "error: DepthToSpace: attribute 'mode' must be \"DCR\" or \"CRD\", not \"XYZ\"");
}

/* ------------------------------------------------------------ Shape, Size */
static void test_shape_size(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 3, 4, 5);
  IrOp *op = op_new(m, IR_OP_SHAPE, 1, &x, 1);
  assert_string_equal(run(m, op, 15), "i64[3]");
  assert_int_equal(ir_attr_int(op, "start", -9), 0);
  assert_int_equal(ir_attr_int(op, "end", -9), 3);
  static const struct { int64_t start, end; const char *want; } cases[] = {
      {1, 3, "i64[2]"}, {-1, 3, "i64[1]"}, {-10, 10, "i64[3]"}, {2, 1, "i64[0]"},
      {1, -1, "i64[1]"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    op = op_new(m, IR_OP_SHAPE, 1, &x, 1);
    ir_attr_set_int(m, op, "start", cases[i].start);
    ir_attr_set_int(m, op, "end", cases[i].end);
    assert_string_equal(run(m, op, 15), cases[i].want);
  }
  assert_string_equal(op1(m, IR_OP_SIZE, 13, x, NULL), "i64[]");
  assert_int_equal(ir_op_info(IR_OP_SHAPE)->flags & OPF_TYPE_ONLY, OPF_TYPE_ONLY);
}

/* ---------------------------------------------------------------- Gather */
static const char *gather(IrModule *m, IrOpKind k, const char *attr, int64_t v,
                          IrValue *data, IrValue *ind) {
  IrValue *in[2] = {data, ind};
  IrOp *op = op_new(m, k, 2, in, 1);
  ir_attr_set_int(m, op, attr, v);
  return run(m, op, 13);
}

static void test_gather(void **state) {
  IrModule *m = *state;
  IrValue *d = IN(m, IR_F32, 5, 4, 3), *i = IN(m, IR_I64, 2, 7);
  assert_string_equal(gather(m, IR_OP_GATHER, "axis", 0, d, i), "f32[2,7,4,3]");
  assert_string_equal(gather(m, IR_OP_GATHER, "axis", -2, d, i), "f32[5,2,7,3]");
  assert_string_equal(gather(m, IR_OP_GATHER, "axis", 1, d, IN0(m, IR_I32)), "f32[5,3]");
  assert_string_equal(gather(m, IR_OP_GATHER, "axis", 3, d, i),
                      "error: Gather: axis 3 is out of range for rank 3");
  assert_string_equal(gather(m, IR_OP_GATHER, "axis", 0, d, IN(m, IR_F32, 2)),
                      "error: Gather: indices must be i32 or i64, not f32");
  IrValue *ie = IN(m, IR_I32, 2, 4, 3);
  assert_string_equal(gather(m, IR_OP_GATHER_ELEMENTS, "axis", 0, d, ie), "f32[2,4,3]");
  assert_string_equal(gather(m, IR_OP_GATHER_ELEMENTS, "axis", 1, d, IN(m, IR_I64, 5, 9, 3)),
                      "f32[5,9,3]");
  assert_string_equal(gather(m, IR_OP_GATHER_ELEMENTS, "axis", 0, d, IN(m, IR_I64, 5, 9, 3)),
                      "error: GatherElements: indices i64[5,9,3] do not fit data "
                      "f32[5,4,3] (same rank, no larger dim off the axis)");
  assert_string_equal(gather(m, IR_OP_GATHER_ND, "batch_dims", 0, d, IN(m, IR_I64, 6, 2)),
                      "f32[6,3]");
  assert_string_equal(gather(m, IR_OP_GATHER_ND, "batch_dims", 1, d, IN(m, IR_I64, 5, 1)),
                      "f32[5,3]");
  assert_string_equal(gather(m, IR_OP_GATHER_ND, "batch_dims", 0, d, IN(m, IR_I64, 6, 4)),
                      "error: GatherND: indices of shape [6,4] do not fit data of "
                      "rank 3 with batch_dims 0");
}

/* ----------------------------------------------------------------- Slice */
static const char *slice(IrModule *m, IrValue *x, IrValue *starts, IrValue *ends,
                         IrValue *axes, IrValue *steps) {
  IrValue *in[5] = {x, starts, ends, axes, steps};
  int n = steps ? 5 : axes ? 4 : 3;
  return run(m, op_new(m, IR_OP_SLICE, n, in, 1), 13);
}

static void test_slice(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 20, 10, 5);
  assert_string_equal(slice(m, x, W(m, 0, 0), W(m, 3, 10), W(m, 0, 1), W(m, 1, 1)),
                      "f32[3,10,5]");
  assert_string_equal(slice(m, x, W(m, 0, 0, 3), W(m, 20, 10, 4), NULL, NULL),
                      "f32[20,10,1]");
  assert_string_equal(slice(m, x, W(m, 20, 10, 4), W(m, 0, 0, 1), W(m, 0, 1, 2),
                            W(m, -1, -3, -2)),
                      "f32[19,3,2]");
  assert_string_equal(slice(m, x, W(m, 1), W(m, 1000), W(m, 1), W(m, 1)), "f32[20,9,5]");
  assert_string_equal(slice(m, x, W(m, 1000), W(m, 1000), W(m, 1), W(m, 1)), "f32[20,0,5]");
  assert_string_equal(slice(m, x, W(m, 0), W(m, -1), W(m, -2), NULL), "f32[20,9,5]");
  assert_string_equal(slice(m, x, W(m, -1), W(m, INT64_MIN), W(m, 0), W(m, -1)), "f32[20,10,5]");
  assert_string_equal(slice(m, x, W(m, 0), W(m, 1), W(m, 3), NULL),
                      "error: Slice: axis 3 is out of range for rank 3");
  assert_string_equal(slice(m, x, W(m, 0), W(m, 1), W(m, 0), W(m, 0)),
                      "error: Slice: step for axis 0 is 0");
  assert_string_equal(slice(m, x, W(m, 0, 0), W(m, 1), NULL, NULL),
                      "error: Slice: starts, ends (and axes, steps when given) must "
                      "be lists of the same length");
  assert_string_equal(slice(m, x, IN(m, IR_I64, 1), W(m, 1), NULL, NULL),
                      "error: Slice: input 'starts' must be a constant (initializer "
                      "or Constant node); got a computed value");
  IrOp *op = op_new(m, IR_OP_SLICE, 1, &x, 1); /* opset 1: attributes */
  ir_attr_set_ints(m, op, "starts", 1, (int64_t[]){2});
  ir_attr_set_ints(m, op, "ends", 1, (int64_t[]){4});
  assert_string_equal(run(m, op, 9), "f32[2,10,5]");
  assert_string_equal(ints_attr(op, "axes"), "[0]");
  assert_string_equal(ints_attr(op, "steps"), "[1]");
}

/* ------------------------------------------------------------ Expand, Tile */
static void test_expand_tile(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_I32, 3, 1);
  assert_string_equal(op1(m, IR_OP_EXPAND, 13, x, W(m, 2, 1, 6)), "i32[2,3,6]");
  assert_string_equal(op1(m, IR_OP_EXPAND, 13, x, W(m, 3, 4)), "i32[3,4]");
  assert_string_equal(op1(m, IR_OP_EXPAND, 13, x, W(m, 1)), "i32[3,1]");
  assert_string_equal(op1(m, IR_OP_EXPAND, 13, x, W(m, 2, 4)),
                      "error: Expand: cannot broadcast i32[3,1] to shape [2,4]");
  assert_string_equal(op1(m, IR_OP_TILE, 13, x, W(m, 2, 3)), "i32[6,3]");
  assert_string_equal(op1(m, IR_OP_TILE, 13, x, W(m, 0, 1)), "i32[0,1]");
  assert_string_equal(op1(m, IR_OP_TILE, 13, x, W(m, 2)),
                      "error: Tile: repeats [2] must have 2 non-negative entries (the input rank)");
  assert_string_equal(op1(m, IR_OP_TILE, 13, x, IN(m, IR_I64, 2)),
                      "error: Tile: input 'repeats' must be a constant (initializer "
                      "or Constant node); got a computed value");
}

/* ------------------------------------------------------------------- Pad */
static void test_pad(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 1, 3, 4, 5);
  IrValue *in[4] = {x, W(m, 0, 0, 1, 3, 0, 0, 2, 4)};
  IrOp *op = op_new(m, IR_OP_PAD, 2, in, 1);
  assert_string_equal(run(m, op, 13), "f32[1,3,7,12]");
  assert_string_equal(ir_attr_string(op, "mode", "?"), "constant");
  assert_float_equal(ir_attr_float(op, "value", -1), 0.0, 0);
  op = op_new(m, IR_OP_PAD, 1, &x, 1); /* opset 2: attributes */
  ir_attr_set_ints(m, op, "pads", 8, (int64_t[]){0, 0, -1, 0, 0, 0, 0, 1});
  ir_attr_set_string(m, op, "mode", "edge");
  assert_string_equal(run(m, op, 2),
                      "error: Pad: pads [0,0,-1,0,0,0,0,1] do not fit input f32[1,3,4,5]");
  op = op_new(m, IR_OP_PAD, 1, &x, 1);
  ir_attr_set_ints(m, op, "pads", 8, (int64_t[]){0, 0, -1, 0, 0, 0, 0, 1});
  assert_string_equal(run(m, op, 2), "f32[1,3,3,6]");
  in[1] = W(m, 1, 1);
  op = op_new(m, IR_OP_PAD, 2, in, 1);
  assert_string_equal(run(m, op, 13),
                      "error: Pad: pads [1,1] must have 8 entries (2 * rank)");
  op = op_new(m, IR_OP_PAD, 2, in, 1);
  ir_attr_set_string(m, op, "mode", "mirror");
  assert_string_equal(run(m, op, 13), "error: Pad: unknown mode \"mirror\"");
}

/* ------------------------------- ConstantOfShape, EyeLike, Trilu, OneHot */
static void test_fill(void **state) {
  IrModule *m = *state;
  /* ConstantOfShape: the TENSOR attribute arrives as a weight "$name" */
  int32_t seven = 7;
  ir_weight_add(m, "cos_value", ir_type_tensor(IR_I32, 1, (int64_t[]){1}), &seven, 4, true);
  IrValue *shape = W(m, 2, 3);
  IrOp *op = op_new(m, IR_OP_CONSTANT_OF_SHAPE, 1, &shape, 1);
  ir_attr_set_string(m, op, "value", "$cos_value");
  assert_string_equal(run(m, op, 9), "i32[2,3]");
  assert_int_equal(op->num_operands, 0);
  assert_int_equal(ir_attr_int(op, "value", 0), 7);
  op = op_new(m, IR_OP_CONSTANT_OF_SHAPE, 1, &shape, 1);
  assert_string_equal(run(m, op, 9), "f32[2,3]");
  /* EyeLike: dtype is an ONNX type code (6 = int32) */
  IrValue *x = IN(m, IR_F64, 3, 4);
  op = op_new(m, IR_OP_EYE_LIKE, 1, &x, 1);
  ir_attr_set_int(m, op, "dtype", 6);
  assert_string_equal(run(m, op, 9), "i32[3,4]");
  assert_string_equal(op1(m, IR_OP_EYE_LIKE, 9, x, NULL), "f64[3,4]");
  assert_string_equal(op1(m, IR_OP_EYE_LIKE, 9, IN(m, IR_F32, 3), NULL),
                      "error: EyeLike: input must have rank 2, not 1");
  /* Trilu */
  IrValue *k = W(m, -1);
  k->type.rank = 0; /* a scalar */
  assert_string_equal(op1(m, IR_OP_TRILU, 14, x, k), "f64[3,4]");
  assert_string_equal(op1(m, IR_OP_TRILU, 14, IN(m, IR_F32, 3), NULL),
                      "error: Trilu: input must have rank >= 2, not 1");
  /* OneHot: depth must be constant */
  IrValue *vals = IN(m, IR_F32, 2);
  IrValue *in[3] = {IN(m, IR_I64, 2, 3), k, vals};
  int64_t ten = 10;
  in[1] = ir_weight_add(m, "depth", ir_type_tensor(IR_I64, 0, NULL), &ten, 8, true)->value;
  op = op_new(m, IR_OP_ONE_HOT, 3, in, 1);
  assert_string_equal(run(m, op, 11), "f32[2,3,10]");
  op = op_new(m, IR_OP_ONE_HOT, 3, in, 1);
  ir_attr_set_int(m, op, "axis", 0);
  assert_string_equal(run(m, op, 11), "f32[10,2,3]");
  in[1] = IN0(m, IR_I64);
  op = op_new(m, IR_OP_ONE_HOT, 3, in, 1);
  assert_string_equal(run(m, op, 11),
                      "error: OneHot: input 'depth' must be a constant (initializer "
                      "or Constant node); got a computed value");
}

static void test_range(void **state) {
  IrModule *m = *state;
  float f[3] = {1, 5, 0.5f};
  int32_t i[3] = {10, 4, -3}, z[3] = {1, 5, 0};
  IrValue *fv[3], *iv[3], *zv[3];
  for (int k = 0; k < 3; k++) {
    char name[16];
    snprintf(name, sizeof name, "f%d", k);
    fv[k] = ir_weight_add(m, name, ir_type_tensor(IR_F32, 0, NULL), &f[k], 4, true)->value;
    snprintf(name, sizeof name, "i%d", k);
    iv[k] = ir_weight_add(m, name, ir_type_tensor(IR_I32, 0, NULL), &i[k], 4, true)->value;
    snprintf(name, sizeof name, "z%d", k);
    zv[k] = ir_weight_add(m, name, ir_type_tensor(IR_I32, 0, NULL), &z[k], 4, true)->value;
  }
  assert_string_equal(run(m, op_new(m, IR_OP_RANGE, 3, fv, 1), 11), "f32[8]");
  IrOp *op = op_new(m, IR_OP_RANGE, 3, iv, 1);
  assert_string_equal(run(m, op, 11), "i32[2]");
  assert_int_equal(ir_attr_int(op, "delta", 0), -3);
  assert_string_equal(run(m, op_new(m, IR_OP_RANGE, 3, zv, 1), 11),
                      "error: Range: delta must be non-zero and the element count finite");
  zv[2] = IN0(m, IR_I32);
  assert_string_equal(run(m, op_new(m, IR_OP_RANGE, 3, zv, 1), 11),
                      "error: Range: input 'delta' must be a constant (initializer "
                      "or Constant node); got a computed value");
  /* float16: computed in float32 (stash_type 1, Range-27's default) or in
   * float16 (stash_type 10); nothing else */
  uint16_t h[3] = {0x3c00, 0x4500, 0x3800}; /* 1, 5, 0.5 */
  IrValue *hv[3];
  for (int k = 0; k < 3; k++) {
    char name[16];
    snprintf(name, sizeof name, "h%d", k);
    hv[k] = ir_weight_add(m, name, ir_type_tensor(IR_F16, 0, NULL), &h[k], 2, true)->value;
  }
  op = op_new(m, IR_OP_RANGE, 3, hv, 1);
  assert_string_equal(run(m, op, 27), "f16[8]");
  assert_int_equal(ir_attr_get(op, "stash_type")->elem, IR_F32);
  op = op_new(m, IR_OP_RANGE, 3, hv, 1);
  ir_attr_set_int(m, op, "stash_type", 10);
  assert_string_equal(run(m, op, 27), "f16[8]");
  assert_int_equal(ir_attr_get(op, "stash_type")->elem, IR_F16);
  op = op_new(m, IR_OP_RANGE, 3, hv, 1);
  ir_attr_set_int(m, op, "stash_type", 7);
  assert_string_equal(run(m, op, 27),
                      "error: Range: stash_type 7 is neither 1 (float) nor the inputs' type");
  op = op_new(m, IR_OP_RANGE, 3, fv, 1);
  assert_string_equal(run(m, op, 27), "f32[8]");
  assert_null(ir_attr_get(op, "stash_type"));
}

/* --------------------------------------------------------- lowerings run */
static void pad1(IrModule *m, const char *mode, int64_t pb, int64_t pe,
                 const float *want, int n) {
  float x[3] = {1, 2, 3}, out[16] = {0};
  void *in[1] = {x};
  IrValue *v = IN(m, IR_F32, 3);
  IrOp *op = op_new(m, IR_OP_PAD, 1, &v, 1);
  ir_attr_set_ints(m, op, "pads", 2, (int64_t[]){pb, pe});
  ir_attr_set_string(m, op, "mode", mode);
  assert_non_null(strstr(run(m, op, 2), "f32["));
  lower_and_run(m, op, in, out);
  for (int i = 0; i < n; i++) assert_float_equal(out[i], want[i], 0);
}

static void test_pad_numbers(void **state) {
  IrModule *m = *state;
  /* numpy.pad: reflect repeats when the pad is longer than the input */
  pad1(m, "reflect", 0, 5, (float[]){1, 2, 3, 2, 1, 2, 3, 2}, 8);
  pad1(m, "reflect", 5, 1, (float[]){2, 1, 2, 3, 2, 1, 2, 3, 2}, 9);
  pad1(m, "wrap", 2, 2, (float[]){2, 3, 1, 2, 3, 1, 2}, 7);
  pad1(m, "edge", 2, 2, (float[]){1, 1, 1, 2, 3, 3, 3}, 7);
  pad1(m, "constant", -1, 2, (float[]){2, 3, 0, 0}, 4);
}

static void test_gather_slice_tile_numbers(void **state) {
  IrModule *m = *state;
  float x[4] = {10, 20, 30, 40}, out[16] = {0};
  void *in[1] = {x};
  IrValue *v = IN(m, IR_F32, 4), *ops[2] = {v, NULL};
  /* Gather with a negative index from a weight */
  ops[1] = W(m, -1, 0, 2);
  IrOp *op = op_new(m, IR_OP_GATHER, 2, ops, 1);
  assert_string_equal(run(m, op, 13), "f32[3]");
  lower_and_run(m, op, in, out);
  assert_float_equal(out[0], 40, 0);
  assert_float_equal(out[1], 10, 0);
  assert_float_equal(out[2], 30, 0);
  /* Slice with a negative step */
  IrValue *sl[5] = {v, W(m, -1), W(m, INT64_MIN), W(m, 0), W(m, -2)};
  op = op_new(m, IR_OP_SLICE, 5, sl, 1);
  assert_string_equal(run(m, op, 13), "f32[2]");
  lower_and_run(m, op, in, out);
  assert_float_equal(out[0], 40, 0);
  assert_float_equal(out[1], 20, 0);
  /* Tile [[10,20],[30,40]] by (1,2) */
  IrValue *v2 = IN(m, IR_F32, 2, 2), *t[2] = {v2, W(m, 1, 2)};
  op = op_new(m, IR_OP_TILE, 2, t, 1);
  assert_string_equal(run(m, op, 13), "f32[2,4]");
  lower_and_run(m, op, in, out);
  const float want[8] = {10, 20, 10, 20, 30, 40, 30, 40};
  for (int i = 0; i < 8; i++) assert_float_equal(out[i], want[i], 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_reshape, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reshape_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_flatten, setup, teardown),
      cmocka_unit_test_setup_teardown(test_squeeze, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unsqueeze, setup, teardown),
      cmocka_unit_test_setup_teardown(test_transpose, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concat, setup, teardown),
      cmocka_unit_test_setup_teardown(test_split, setup, teardown),
      cmocka_unit_test_setup_teardown(test_depth_space, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shape_size, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gather, setup, teardown),
      cmocka_unit_test_setup_teardown(test_slice, setup, teardown),
      cmocka_unit_test_setup_teardown(test_expand_tile, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pad, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fill, setup, teardown),
      cmocka_unit_test_setup_teardown(test_range, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pad_numbers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gather_slice_tile_numbers, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
