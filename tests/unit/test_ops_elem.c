/* test_ops_elem.c — elementwise ops (binary, variadic, where, unary):
 * import canonicalization, the broadcasting shape rule (exact result
 * types) and exact diagnostics for bad inputs. */
#include <math.h>
#include "op_test.h"

static const char *op2(IrModule *m, IrOpKind k, IrValue *a, IrValue *b) {
  IrValue *in[2] = {a, b};
  return run(m, op_new(m, k, 2, in, 1), 17);
}
static const char *op1(IrModule *m, IrOpKind k, IrValue *a) {
  return run(m, op_new(m, k, 1, &a, 1), 17);
}

/* -------------------------------------------------------------- binary */
static void test_binary_broadcast(void **state) {
  IrModule *m = *state;
  assert_string_equal(op2(m, IR_OP_ADD, IN(m, IR_F32, 2, 3), IN(m, IR_F32, 3)), "f32[2,3]");
  assert_string_equal(op2(m, IR_OP_SUB, IN(m, IR_F32, 2, 1, 4), IN(m, IR_F32, 3, 1)),
                      "f32[2,3,4]");
  assert_string_equal(op2(m, IR_OP_MUL, IN0(m, IR_I64), IN(m, IR_I64, 5)), "i64[5]");
  assert_string_equal(op2(m, IR_OP_DIV, IN(m, IR_U8, 1, 0), IN(m, IR_U8, 3, 1)), "u8[3,0]");
  assert_string_equal(op2(m, IR_OP_MOD, IN(m, IR_I32, 3, 2, 5), IN(m, IR_I32, 1)),
                      "i32[3,2,5]");
  assert_string_equal(op2(m, IR_OP_ADD, IN(m, IR_BF16, 1), IN(m, IR_BF16, 7, 1)), "bf16[7,1]");
  assert_string_equal(op2(m, IR_OP_ADD, IN0(m, IR_F64), IN0(m, IR_F64)), "f64[]");
}

static void test_binary_errors(void **state) {
  IrModule *m = *state;
  assert_string_equal(op2(m, IR_OP_ADD, IN(m, IR_F32, 2, 3), IN(m, IR_F32, 4)),
                      "error: Add: operands f32[2,3] and f32[4] are not broadcastable");
  assert_string_equal(op2(m, IR_OP_MUL, IN(m, IR_F32, 2), IN(m, IR_I64, 2)),
                      "error: Mul: operands f32[2] and i64[2] have different element types");
  assert_string_equal(op2(m, IR_OP_ADD, IN(m, IR_BOOL, 2), IN(m, IR_BOOL, 2)),
                      "error: Add: element type bool is not supported (expected "
                      "float, signed integer or unsigned integer)");
  assert_string_equal(op2(m, IR_OP_AND, IN(m, IR_F32, 2), IN(m, IR_F32, 2)),
                      "error: And: element type f32 is not supported (expected bool)");
  assert_string_equal(op2(m, IR_OP_ADD, IN(m, IR_F32, 2), NULL),
                      "error: Add: input 1 is missing");
  IrValue *in[2] = {IN(m, IR_I32, 2), IN(m, IR_I32, 2)};
  IrOp *op = op_new(m, IR_OP_MOD, 2, in, 1);
  ir_attr_set_int(m, op, "fmod", 2);
  assert_string_equal(run(m, op, 13), "error: attribute 'fmod' must be 0 or 1");
}

static void test_compare_logic(void **state) {
  IrModule *m = *state;
  assert_string_equal(op2(m, IR_OP_EQUAL, IN(m, IR_I32, 3, 4, 5), IN(m, IR_I32, 5)),
                      "bool[3,4,5]");
  assert_string_equal(op2(m, IR_OP_EQUAL, IN(m, IR_BOOL, 2), IN(m, IR_BOOL, 2)), "bool[2]");
  assert_string_equal(op2(m, IR_OP_LESS_EQUAL, IN(m, IR_F16, 2, 1), IN(m, IR_F16, 3)),
                      "bool[2,3]");
  assert_string_equal(op2(m, IR_OP_GREATER, IN(m, IR_U64, 1), IN0(m, IR_U64)), "bool[1]");
  assert_string_equal(op2(m, IR_OP_XOR, IN(m, IR_BOOL, 1, 4, 1, 6), IN(m, IR_BOOL, 3, 1, 5, 6)),
                      "bool[3,4,5,6]");
  assert_string_equal(op2(m, IR_OP_LESS, IN(m, IR_BOOL, 2), IN(m, IR_BOOL, 2)),
                      "error: Less: element type bool is not supported (expected "
                      "float, signed integer or unsigned integer)");
}

static void test_pow(void **state) {
  IrModule *m = *state;
  assert_string_equal(op2(m, IR_OP_POW, IN(m, IR_F32, 3), IN(m, IR_I64, 3)), "f32[3]");
  assert_string_equal(op2(m, IR_OP_POW, IN(m, IR_I32, 3), IN(m, IR_F32, 3)), "i32[3]");
  assert_string_equal(op2(m, IR_OP_POW, IN(m, IR_F32, 2, 3), IN0(m, IR_F32)), "f32[2,3]");
  assert_string_equal(op2(m, IR_OP_POW, IN(m, IR_F32, 2), IN(m, IR_BOOL, 2)),
                      "error: Pow: element type bool is not supported (expected "
                      "float, signed integer or unsigned integer)");
  assert_string_equal(op2(m, IR_OP_POW, IN(m, IR_F32, 2), IN(m, IR_I8, 3)),
                      "error: Pow: operands f32[2] and i8[3] are not broadcastable");
}

static void test_prelu(void **state) {
  IrModule *m = *state;
  assert_string_equal(op2(m, IR_OP_PRELU, IN(m, IR_F32, 2, 3, 4), IN(m, IR_F32, 3, 1)),
                      "f32[2,3,4]");
  assert_string_equal(op2(m, IR_OP_PRELU, IN(m, IR_F32, 3, 4, 5), IN(m, IR_F32, 5)),
                      "f32[3,4,5]");
  assert_string_equal(op2(m, IR_OP_PRELU, IN(m, IR_F32, 3, 4), IN(m, IR_F32, 2, 3, 4)),
                      "error: PRelu: slope f32[2,3,4] is not unidirectionally "
                      "broadcastable to input f32[3,4]");
  assert_string_equal(op2(m, IR_OP_PRELU, IN(m, IR_F32, 2, 3), IN(m, IR_F32, 4)),
                      "error: PRelu: slope f32[4] is not unidirectionally "
                      "broadcastable to input f32[2,3]");
  /* opset 6: a 1-D slope of the channel count is per channel */
  float v[3] = {1, 2, 3};
  IrValue *in[2] = {IN(m, IR_F32, 2, 3, 4, 5), weight(m, IR_F32, DIMS(3), v)};
  IrOp *op = op_new(m, IR_OP_PRELU, 2, in, 1);
  assert_string_equal(run(m, op, 6), "f32[2,3,4,5]");
  char buf[64];
  assert_string_equal(ir_type_str(m, &op->operands[1]->type, buf, sizeof buf), "f32[3,1,1]");
  assert_ptr_equal(op->operands[1]->weight->data, in[1]->weight->data);
}

/* Opset < 7 Add: `broadcast`/`axis` become numpy broadcasting. */
static void test_legacy_broadcast(void **state) {
  IrModule *m = *state;
  float v[3] = {1, 2, 3};
  IrValue *in[2] = {IN(m, IR_F32, 2, 3, 4), weight(m, IR_F32, DIMS(3), v)};
  IrOp *op = op_new(m, IR_OP_ADD, 2, in, 1);
  ir_attr_set_int(m, op, "broadcast", 1);
  ir_attr_set_int(m, op, "axis", 1);
  assert_string_equal(run(m, op, 6), "f32[2,3,4]");
  assert_int_equal(op->num_attrs, 0);
  assert_string_equal(op->operands[1]->weight->name, "w0_bcast");
  /* suffix alignment needs nothing */
  in[1] = IN(m, IR_F32, 4);
  op = op_new(m, IR_OP_ADD, 2, in, 1);
  ir_attr_set_int(m, op, "broadcast", 1);
  ir_attr_set_int(m, op, "axis", 2);
  assert_string_equal(run(m, op, 6), "f32[2,3,4]");
  in[1] = IN(m, IR_F32, 3);
  op = op_new(m, IR_OP_ADD, 2, in, 1);
  ir_attr_set_int(m, op, "broadcast", 1);
  ir_attr_set_int(m, op, "axis", 1);
  assert_string_equal(run(m, op, 6), "error: Add: legacy broadcast with axis=1 "
                                     "needs a constant input 1 in tcc");
}

/* ------------------------------------------------------------ variadic */
static void test_variadic(void **state) {
  IrModule *m = *state;
  IrValue *in[3] = {IN(m, IR_F32, 3), IN(m, IR_F32, 2, 1), IN0(m, IR_F32)};
  assert_string_equal(run(m, op_new(m, IR_OP_MAX, 3, in, 1), 13), "f32[2,3]");
  assert_string_equal(run(m, op_new(m, IR_OP_MEAN, 1, in, 1), 13), "f32[3]");
  in[2] = IN(m, IR_F32, 4);
  assert_string_equal(run(m, op_new(m, IR_OP_SUM, 3, in, 1), 13),
                      "error: Sum: operands f32[2,3] and f32[4] are not broadcastable");
  IrValue *ints[2] = {IN(m, IR_U16, 3), IN(m, IR_U16, 3)};
  assert_string_equal(run(m, op_new(m, IR_OP_MIN, 2, ints, 1), 13), "u16[3]");
  assert_string_equal(run(m, op_new(m, IR_OP_SUM, 2, ints, 1), 13),
                      "error: Sum: element type u16 is not supported (expected float)");
  ints[1] = IN(m, IR_U32, 3);
  assert_string_equal(run(m, op_new(m, IR_OP_MAX, 2, ints, 1), 13),
                      "error: Max: operands u16[3] and u32[3] have different element types");
}

/* --------------------------------------------------------------- where */
static void test_where(void **state) {
  IrModule *m = *state;
  IrValue *in[3] = {IN(m, IR_BOOL, 2, 1), IN(m, IR_I64, 3), IN(m, IR_I64, 1)};
  assert_string_equal(run(m, op_new(m, IR_OP_WHERE, 3, in, 1), 16), "i64[2,3]");
  in[0] = IN(m, IR_F32, 2, 1);
  assert_string_equal(run(m, op_new(m, IR_OP_WHERE, 3, in, 1), 16),
                      "error: Where: condition must be bool, got f32[2,1]");
  in[0] = IN(m, IR_BOOL, 4);
  assert_string_equal(run(m, op_new(m, IR_OP_WHERE, 3, in, 1), 16),
                      "error: Where: operands bool[4] and i64[3] are not broadcastable");
}

/* --------------------------------------------------------------- unary */
static void test_unary_types(void **state) {
  IrModule *m = *state;
  assert_string_equal(op1(m, IR_OP_EXP, IN(m, IR_F16, 2, 3)), "f16[2,3]");
  assert_string_equal(op1(m, IR_OP_ABS, IN(m, IR_U8, 2)), "u8[2]");
  assert_string_equal(op1(m, IR_OP_NOT, IN(m, IR_BOOL, 2)), "bool[2]");
  assert_string_equal(op1(m, IR_OP_RELU, IN(m, IR_I8, 2)), "i8[2]");
  assert_string_equal(op1(m, IR_OP_IDENTITY, IN(m, IR_BOOL, 1)), "bool[1]");
  assert_string_equal(op1(m, IR_OP_SQRT, IN(m, IR_I32, 2)),
                      "error: Sqrt: element type i32 is not supported (expected float)");
  assert_string_equal(op1(m, IR_OP_NEG, IN(m, IR_U8, 2)),
                      "error: Neg: element type u8 is not supported (expected "
                      "float or signed integer)");
  assert_string_equal(op1(m, IR_OP_NOT, IN(m, IR_I32, 2)),
                      "error: Not: element type i32 is not supported (expected bool)");
}

static void test_unary_defaults(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 2);
  IrOp *op = op_new(m, IR_OP_LEAKY_RELU, 1, &x, 1);
  assert_string_equal(run(m, op, 16), "f32[2]");
  assert_true(ir_attr_float(op, "alpha", 0) == 0.01);
  op = op_new(m, IR_OP_SELU, 1, &x, 1);
  run(m, op, 6);
  assert_true(ir_attr_float(op, "alpha", 0) == 1.67326319217681884765625);
  assert_true(ir_attr_float(op, "gamma", 0) == 1.05070102214813232421875);
  op = op_new(m, IR_OP_HARD_SIGMOID, 1, &x, 1);
  ir_attr_set_float(m, op, "alpha", 0.5);
  run(m, op, 6);
  assert_true(ir_attr_float(op, "alpha", 0) == 0.5);
  assert_true(ir_attr_float(op, "beta", 0) == 0.5);
  op = op_new(m, IR_OP_THRESHOLDED_RELU, 1, &x, 1);
  run(m, op, 10);
  assert_true(ir_attr_float(op, "alpha", 0) == 1.0);
  op = op_new(m, IR_OP_ELU, 1, &x, 1);
  ir_attr_set_string(m, op, "alpha", "x");
  assert_string_equal(run(m, op, 6), "error: attribute 'alpha' must be a float");
  IrValue *in[2] = {IN(m, IR_I32, 2), IN(m, IR_I32, 2)};
  op = op_new(m, IR_OP_MOD, 2, in, 1);
  assert_string_equal(run(m, op, 13), "i32[2]");
  assert_int_equal(ir_attr_int(op, "fmod", 9), 0);
}

static void test_clip(void **state) {
  IrModule *m = *state;
  float lo = -1;
  IrValue *x = IN(m, IR_F32, 3, 4);
  IrValue *in[3] = {x, weight(m, IR_F32, 0, NULL, &lo), IN0(m, IR_F32)};
  IrOp *op = op_new(m, IR_OP_CLIP, 3, in, 1);
  assert_string_equal(run(m, op, 13), "f32[3,4]");
  assert_int_equal(op->num_operands, 3);
  assert_null(op->operands[1]);
  assert_ptr_equal(op->operands[2], in[2]);
  assert_true(ir_attr_float(op, "min", 0) == -1.0);
  assert_null(ir_attr_get(op, "max"));
  /* both constant: a unary op with attributes */
  in[2] = in[1];
  op = op_new(m, IR_OP_CLIP, 3, in, 1);
  assert_string_equal(run(m, op, 13), "f32[3,4]");
  assert_int_equal(op->num_operands, 1);
  assert_true(ir_attr_float(op, "max", 0) == -1.0);
  /* absent min, computed max */
  in[1] = NULL, in[2] = IN0(m, IR_F32);
  op = op_new(m, IR_OP_CLIP, 3, in, 1);
  assert_string_equal(run(m, op, 13), "f32[3,4]");
  assert_int_equal(op->num_operands, 3);
  in[2] = IN(m, IR_F32, 2);
  assert_string_equal(run(m, op_new(m, IR_OP_CLIP, 3, in, 1), 13),
                      "error: Clip: max must be a scalar, got f32[2]");
  in[2] = IN0(m, IR_F64);
  assert_string_equal(run(m, op_new(m, IR_OP_CLIP, 3, in, 1), 13),
                      "error: Clip: operands f32[3,4] and f64[] have different element types");
  /* opset 6: attributes as they are */
  op = op_new(m, IR_OP_CLIP, 1, &x, 1);
  ir_attr_set_float(m, op, "max", 0.5);
  assert_string_equal(run(m, op, 6), "f32[3,4]");
  assert_null(ir_attr_get(op, "min"));
}

static void test_cast(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F64, 3, 4);
  IrOp *op = op_new(m, IR_OP_CAST, 1, &x, 1);
  ir_attr_set_int(m, op, "to", 10);
  assert_string_equal(run(m, op, 13), "f16[3,4]");
  assert_int_equal(ir_attr_get(op, "to")->kind, IR_ATTR_TYPE);
  assert_int_equal(ir_attr_get(op, "to")->elem, IR_F16);
  op = op_new(m, IR_OP_CAST, 1, &x, 1);
  ir_attr_set_int(m, op, "to", 8);
  assert_string_equal(run(m, op, 13), "error: Cast: casting to string is not supported by tcc");
  op = op_new(m, IR_OP_CAST, 1, &x, 1);
  assert_string_equal(run(m, op, 13), "error: Cast: attribute 'to' is missing");
  /* CastLike becomes Cast */
  IrValue *in[2] = {x, IN(m, IR_BF16, 1)};
  op = op_new(m, IR_OP_CAST_LIKE, 2, in, 1);
  assert_string_equal(run(m, op, 15), "bf16[3,4]");
  assert_int_equal(op->kind, IR_OP_CAST);
  assert_int_equal(op->num_operands, 1);
}

/* Opsets 18-26: the Bitwise family, Gelu's approximate, BitCast's sizes. */
static void test_newer_ops(void **state) {
  IrModule *m = *state;
  assert_string_equal(op2(m, IR_OP_BITWISE_AND, IN(m, IR_U8, 2, 3), IN(m, IR_U8, 3)), "u8[2,3]");
  assert_string_equal(op1(m, IR_OP_BITWISE_NOT, IN(m, IR_I16, 4)), "i16[4]");
  assert_string_equal(op2(m, IR_OP_BITWISE_XOR, IN(m, IR_F32, 2), IN(m, IR_F32, 2)),
                      "error: BitwiseXor: element type f32 is not supported (expected "
                      "signed integer or unsigned integer)");
  IrValue *x = IN(m, IR_F32, 2, 3);
  IrOp *op = op_new(m, IR_OP_GELU, 1, &x, 1);
  assert_string_equal(run(m, op, 20), "f32[2,3]");
  assert_string_equal(ir_attr_string(op, "approximate", ""), "none");
  op = op_new(m, IR_OP_GELU, 1, &x, 1);
  ir_attr_set_string(m, op, "approximate", "fast");
  assert_string_equal(run(m, op, 20),
                      "error: Gelu: attribute 'approximate' must be \"none\" or \"tanh\"");
  op = op_new(m, IR_OP_BIT_CAST, 1, &x, 1);
  ir_attr_set_int(m, op, "to", 6); /* int32 */
  assert_string_equal(run(m, op, 26), "i32[2,3]");
  op = op_new(m, IR_OP_BIT_CAST, 1, &x, 1);
  ir_attr_set_int(m, op, "to", 7); /* int64 */
  assert_string_equal(run(m, op, 26),
                      "error: BitCast: f32 (32 bits) and i64 (64 bits) differ in width");
}

/* ------------------------------------------- numbers, via the interpreter */
/* Imports and infers op, then runs its lowering alone in the interpreter:
 * in[i] holds operand i's data (unused for weights and absent operands),
 * out receives the result. */
static void eval(IrModule *m, IrOp *op, int opset, void *const *in, void *out) {
  const IrOpInfo *info = ir_op_info(op->kind);
  msg[0] = 0;
  assert_true(info->import(m, op, opset) && info->infer(m, op));
  lower_and_run(m, op, in, out);
}

static IrOp *bin(IrModule *m, IrOpKind k, IrValue *a, IrValue *b) {
  IrValue *in[2] = {a, b};
  return op_new(m, k, 2, in, 1);
}

/* Mod: Python sign for fmod=0, C sign for fmod=1, 0 for a zero divisor. */
static void test_mod_numbers(void **state) {
  IrModule *m = *state;
  int8_t x[7] = {-4, 7, 5, 4, -7, 8, 9}, y[7] = {2, -3, 8, -2, 3, 5, 0}, z[7];
  IrOp *op = bin(m, IR_OP_MOD, IN(m, IR_I8, 7), IN(m, IR_I8, 7));
  eval(m, op, 13, (void *[]){x, y}, z);
  assert_memory_equal(z, ((int8_t[]){0, -2, 5, 0, 2, 3, 0}), 7);
  op = bin(m, IR_OP_MOD, IN(m, IR_I8, 7), IN(m, IR_I8, 7));
  ir_attr_set_int(m, op, "fmod", 1);
  eval(m, op, 13, (void *[]){x, y}, z);
  assert_memory_equal(z, ((int8_t[]){0, 1, 5, 0, -1, 3, 0}), 7);
  float fx[2] = {-4.5f, 4.5f}, fy[2] = {2, -2}, fz[2];
  op = bin(m, IR_OP_MOD, IN(m, IR_F32, 2), IN(m, IR_F32, 2));
  eval(m, op, 13, (void *[]){fx, fy}, fz);
  assert_true(fz[0] == 1.5f && fz[1] == -1.5f);
}

/* 8-bit floats: Cast's lowering (run by the interpreter) agrees with the C
 * conversions of ir/type.c on every code, the midpoints between codes
 * (ties to even) and the specials; a few values checked by hand. */
static bool same_f32(float a, float b) {
  return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a);
}

static void test_f8_numbers(void **state) {
  IrModule *m = *state;
  enum { N = 256 * 2 + 8 };
  static const IrElem types[] = {IR_F8E4M3FN, IR_F8E4M3FNUZ, IR_F8E5M2, IR_F8E5M2FNUZ,
                                 IR_F8E8M0};
  for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
    IrElem e = types[t];
    uint8_t codes[256], got8[N];
    float dec[256], x[N];
    for (int b = 0; b < 256; b++) codes[b] = (uint8_t)b;
    IrOp *op = op_new(m, IR_OP_CAST, 1, (IrValue *[]){IN(m, e, 256)}, 1);
    ir_attr_set_int(m, op, "to", 1);
    eval(m, op, 19, (void *[]){codes}, dec);
    for (int b = 0; b < 256; b++) {
      assert_true(same_f32(dec[b], ir_f8_to_f32(e, (uint8_t)b)));
      x[2 * b] = dec[b];
      x[2 * b + 1] = b < 255 ? (dec[b] + dec[b + 1]) / 2 : dec[b] * 1.75f;
    }
    float specials[8] = {INFINITY, -INFINITY, NAN, -0.0f, 1e30f, -1e-30f, 1e-45f, 3.0e38f};
    memcpy(x + 512, specials, sizeof specials);
    for (int sat = 0; sat < 2; sat++) {
      op = op_new(m, IR_OP_CAST, 1, (IrValue *[]){IN(m, IR_F32, N)}, 1);
      ir_attr_set_int(m, op, "to", ir_elem_to_onnx(e));
      ir_attr_set_int(m, op, "saturate", sat);
      eval(m, op, 19, (void *[]){x}, got8);
      for (int i = 0; i < N; i++) {
        uint8_t want = ir_f8_from_f32(e, x[i], sat);
        if (got8[i] != want) fail_msg("%s saturate=%d: %.9g gives 0x%02x, want 0x%02x",
                                      ir_elem_name(e), sat, (double)x[i], got8[i], want);
      }
    }
  }
  assert_int_equal(ir_f8_from_f32(IR_F8E4M3FN, 448, false), 0x7e);
  assert_int_equal(ir_f8_from_f32(IR_F8E4M3FN, 464, false), 0x7e); /* tie to even */
  assert_int_equal(ir_f8_from_f32(IR_F8E4M3FN, 465, false), 0x7f); /* NaN */
  assert_int_equal(ir_f8_from_f32(IR_F8E4M3FN, 465, true), 0x7e);
  assert_int_equal(ir_f8_from_f32(IR_F8E5M2, INFINITY, true), 0x7b);
  assert_int_equal(ir_f8_from_f32(IR_F8E5M2, -INFINITY, false), 0xfc);
  assert_int_equal(ir_f8_from_f32(IR_F8E4M3FNUZ, -0.0f, true), 0x00);
  assert_int_equal(ir_f8_from_f32(IR_F8E5M2FNUZ, NAN, true), 0x80);
  assert_int_equal(ir_f8_from_f32(IR_F8E4M3FN, 0.001953125f, true), 0x01); /* 2^-9 */
  /* 3 = 1.5 * 2^1, exponent bits 128 */
  assert_int_equal(ir_e8m0_from_f32(3.0f, true, IR_E8M0_UP), 129);
  assert_int_equal(ir_e8m0_from_f32(3.0f, true, IR_E8M0_DOWN), 128);
  assert_int_equal(ir_e8m0_from_f32(3.0f, true, IR_E8M0_NEAREST), 129);
  assert_int_equal(ir_e8m0_from_f32(2.9f, true, IR_E8M0_NEAREST), 128);
}

/* f4e2m1: Cast's lowering agrees with ir/type.c on every code, the
 * midpoints between codes and the specials, as for the 8-bit floats; the
 * values of ONNX's test data (round to nearest even, saturation, NaN to
 * 0x8 and -NaN to 0x0 as in ml_dtypes) checked by hand. */
static void test_f4_numbers(void **state) {
  IrModule *m = *state;
  enum { N = 16 * 2 + 10 };
  uint8_t codes[16], got4[N];
  float dec[16], x[N];
  for (int b = 0; b < 16; b++) codes[b] = (uint8_t)b;
  IrOp *op = op_new(m, IR_OP_CAST, 1, (IrValue *[]){IN(m, IR_F4E2M1, 16)}, 1);
  ir_attr_set_int(m, op, "to", 1);
  eval(m, op, 25, (void *[]){codes}, dec);
  for (int b = 0; b < 16; b++) {
    assert_true(same_f32(dec[b], ir_f8_to_f32(IR_F4E2M1, (uint8_t)b)));
    x[2 * b] = dec[b];
    x[2 * b + 1] = b != 7 && b != 15 ? (dec[b] + dec[(b + 1) % 16]) / 2 : dec[b] * 1.25f;
  }
  float specials[10] = {INFINITY, -INFINITY, NAN, -NAN, -0.0f, 1e30f, -1e-30f, 5.0f, 0.25f,
                        -3.5f};
  memcpy(x + 32, specials, sizeof specials);
  for (int sat = 0; sat < 2; sat++) {
    op = op_new(m, IR_OP_CAST, 1, (IrValue *[]){IN(m, IR_F32, N)}, 1);
    ir_attr_set_int(m, op, "to", 23);
    ir_attr_set_int(m, op, "saturate", sat);
    eval(m, op, 25, (void *[]){x}, got4);
    for (int i = 0; i < N; i++) {
      uint8_t want = ir_f8_from_f32(IR_F4E2M1, x[i], sat);
      if (got4[i] != want) fail_msg("f4e2m1 saturate=%d: %.9g gives 0x%x, want 0x%x", sat,
                                    (double)x[i], got4[i], want);
    }
  }
  static const float vals[] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (int b = 0; b < 16; b++)
    assert_true(same_f32(ir_f8_to_f32(IR_F4E2M1, (uint8_t)b), b & 8 ? -vals[b & 7] : vals[b & 7]));
  static const float in[] = {0.48f, 0.25f, 1.05f, -3.5f, -8, 9, 1e6f, 1e-7f, NAN, INFINITY,
                             -INFINITY, -4, 0.01f, -0.0f, -NAN, 5, 5.5f, 0.75f};
  static const uint8_t want[] = {0x1, 0x0, 0x2, 0xe, 0xf, 0x7, 0x7, 0x0, 0x8, 0x7,
                                 0xf, 0xe, 0x0, 0x8, 0x0, 0x6, 0x7, 0x2};
  for (size_t i = 0; i < sizeof in / sizeof *in; i++)
    assert_int_equal(ir_f8_from_f32(IR_F4E2M1, in[i], false), want[i]);
}

/* The sub-byte integers: to them Cast keeps the low bits (wraps, as ONNX's
 * reference: -9 -> int4 7, 15 -> int4 -1), floats truncated first; from
 * them the value; the lowering agrees with ir_elem_store_i64's wrap.  And
 * ONNX's packing, on the bytes of the Cast tests' data. */
static void test_subbyte_int_numbers(void **state) {
  IrModule *m = *state;
  static const IrElem types[] = {IR_I4, IR_U4, IR_I2, IR_U2};
  enum { N = 41 };
  float x[N];
  int32_t xi[N];
  for (int i = 0; i < N; i++) x[i] = (float)(i - 20) + (i % 3 ? 0.25f * (float)(i % 3) : 0);
  for (int i = 0; i < N; i++) xi[i] = (i - 20) * 7919;
  for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
    IrElem e = types[t];
    uint8_t got[N], want[N];
    IrOp *op = op_new(m, IR_OP_CAST, 1, (IrValue *[]){IN(m, IR_F32, N)}, 1);
    ir_attr_set_int(m, op, "to", ir_elem_to_onnx(e));
    eval(m, op, 25, (void *[]){x}, got);
    for (int i = 0; i < N; i++) ir_elem_store_i64(e, want, (size_t)i, (int64_t)x[i]);
    assert_memory_equal(got, want, N);
    op = op_new(m, IR_OP_CAST, 1, (IrValue *[]){IN(m, IR_I32, N)}, 1);
    ir_attr_set_int(m, op, "to", ir_elem_to_onnx(e));
    eval(m, op, 25, (void *[]){xi}, got);
    for (int i = 0; i < N; i++) ir_elem_store_i64(e, want, (size_t)i, xi[i]);
    assert_memory_equal(got, want, N);
    /* every value back to f32 */
    int n = 1 << ir_elem_bits(e), lo = e == IR_I4 || e == IR_I2 ? -n / 2 : 0;
    uint8_t codes[16];
    float back[16];
    for (int v = 0; v < n; v++) ir_elem_store_i64(e, codes, (size_t)v, lo + v);
    op = op_new(m, IR_OP_CAST, 1, (IrValue *[]){IN(m, e, n)}, 1);
    ir_attr_set_int(m, op, "to", 1);
    eval(m, op, 25, (void *[]){codes}, back);
    for (int v = 0; v < n; v++) assert_true(back[v] == (float)(lo + v));
  }
  /* test_cast_FLOAT_to_INT4: -9 .. 15 pack to 87 a9 cb ed 0f 21 43 65 87 a9 cb ed 0f */
  uint8_t vals[25], packed[13], back[25];
  for (int i = 0; i < 25; i++) ir_elem_store_i64(IR_I4, vals, (size_t)i, i - 9);
  ir_subbyte_pack(IR_I4, vals, 25, packed);
  assert_memory_equal(packed, ((uint8_t[]){0x87, 0xa9, 0xcb, 0xed, 0x0f, 0x21, 0x43, 0x65,
                                           0x87, 0xa9, 0xcb, 0xed, 0x0f}), 13);
  ir_subbyte_unpack(IR_I4, packed, 25, back);
  assert_memory_equal(back, vals, 25);
  /* test_cast_FLOAT_to_INT2: -3 .. 3 pack to 39 39 */
  for (int i = 0; i < 7; i++) ir_elem_store_i64(IR_I2, vals, (size_t)i, i - 3);
  ir_subbyte_pack(IR_I2, vals, 7, packed);
  assert_memory_equal(packed, ((uint8_t[]){0x39, 0x39}), 2);
  ir_subbyte_unpack(IR_I2, packed, 7, back);
  assert_memory_equal(back, ((int8_t[]){1, -2, -1, 0, 1, -2, -1}), 7);
  assert_int_equal(ir_elem_packed_bytes(IR_U2, 9), 3);
  assert_int_equal(ir_elem_packed_bytes(IR_F4E2M1, 9), 5);
  /* BitCast keeps the 4 bits: int4 -> uint4 -> float4e2m1 -> int4 */
  uint8_t b4[3][16];
  for (int v = 0; v < 16; v++) ir_elem_store_i64(IR_I4, b4[0], (size_t)v, v - 8);
  static const IrElem chain[4] = {IR_I4, IR_U4, IR_F4E2M1, IR_I4};
  for (int k = 0; k < 3; k++) {
    IrOp *op = op_new(m, IR_OP_BIT_CAST, 1, (IrValue *[]){IN(m, chain[k], 16)}, 1);
    ir_attr_set_int(m, op, "to", ir_elem_to_onnx(chain[k + 1]));
    eval(m, op, 26, (void *[]){b4[k]}, k < 2 ? b4[k + 1] : back);
  }
  for (int v = 0; v < 16; v++) assert_int_equal(b4[1][v], (v - 8) & 15);
  assert_memory_equal(b4[2], b4[1], 16);
  assert_memory_equal(back, b4[0], 16);
}

/* Through the whole pipeline, the entry unpacks a sub-byte input and the
 * exit packs a sub-byte output (ONNX's packing, docs/ir.md), an odd count
 * leaving half a byte. */
static void test_subbyte_entry_packing(void **state) {
  IrModule *m = *state;
  IrOp *op = op_new(m, IR_OP_CAST, 1, (IrValue *[]){IN(m, IR_I4, 5)}, 1);
  ir_attr_set_type(m, op, "to", IR_U2);
  assert_true(ir_infer_op(m, op));
  /* i4 1, -2, 7, -8, 3 -> u2 1, 2, 3, 0, 3 */
  uint8_t in[3] = {0xe1, 0x87, 0x03}, out[2] = {0xff, 0xff};
  exec(m, op, (void *[]){in}, (void *[]){out});
  assert_int_equal(out[0], 1 | 2 << 2 | 3 << 4 | 0 << 6);
  assert_int_equal(out[1], 3);
}

/* Integer Div truncates; x/0 is 0 and INT_MIN/-1 wraps, never a trap. */
static void test_div_numbers(void **state) {
  IrModule *m = *state;
  int32_t x[4] = {7, -7, INT32_MIN, 5}, y[4] = {2, 2, -1, 0}, z[4];
  eval(m, bin(m, IR_OP_DIV, IN(m, IR_I32, 4), IN(m, IR_I32, 4)), 14,
       (void *[]){x, y}, z);
  assert_memory_equal(z, ((int32_t[]){3, -3, INT32_MIN, 0}), sizeof z);
  uint8_t ux[2] = {200, 7}, uy[1] = {0}, uz[2];
  eval(m, bin(m, IR_OP_DIV, IN(m, IR_U8, 2), IN(m, IR_U8, 1)), 14,
       (void *[]){ux, uy}, uz);
  assert_memory_equal(uz, ((uint8_t[]){0, 0}), 2);
}

/* Integer Pow is exact and wraps; a negative exponent truncates. */
static void test_pow_numbers(void **state) {
  IrModule *m = *state;
  int32_t x[7] = {2, -3, 2, 1, -1, 5, 3}, y[7] = {10, 3, -1, -5, -3, 0, 21}, z[7];
  eval(m, bin(m, IR_OP_POW, IN(m, IR_I32, 7), IN(m, IR_I32, 7)), 15,
       (void *[]){x, y}, z);
  assert_memory_equal(z, ((int32_t[]){1024, -27, 0, 1, -1, 1, 1870418611}), sizeof z);
  int64_t lx[2] = {3, 2};
  float fy[2] = {2.5f, 3.0f};
  int64_t lz[2];
  eval(m, bin(m, IR_OP_POW, IN(m, IR_I64, 2), IN(m, IR_F32, 2)), 15,
       (void *[]){lx, fy}, lz);
  assert_true(lz[0] == 15 && lz[1] == 8);
}

static void test_unary_numbers(void **state) {
  IrModule *m = *state;
  float x[7] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f, -2.6f}, z[7];
  IrValue *v = IN(m, IR_F32, 7);
  eval(m, op_new(m, IR_OP_ROUND, 1, &v, 1), 11, (void *[]){x}, z);
  assert_memory_equal(z, ((float[]){0, 2, 2, -0.0f, -2, 2, -3}), sizeof z);
  float sx[3] = {100, -100, 0}, sz[3];
  v = IN(m, IR_F32, 3);
  eval(m, op_new(m, IR_OP_SOFTPLUS, 1, &v, 1), 1, (void *[]){sx}, sz);
  assert_true(sz[0] == 100.0f && sz[1] >= 0 && sz[1] < 1e-30f);
  assert_float_equal(sz[2], 0.69314718f, 1e-6);
  eval(m, op_new(m, IR_OP_SIGMOID, 1, &v, 1), 13, (void *[]){sx}, sz);
  assert_true(sz[0] == 1.0f && sz[1] >= 0 && sz[1] < 4e-39f && sz[2] == 0.5f);
  int8_t ix[4] = {-5, 0, 7, -128}, iz[4];
  v = IN(m, IR_I8, 4);
  eval(m, op_new(m, IR_OP_SIGN, 1, &v, 1), 13, (void *[]){ix}, iz);
  assert_memory_equal(iz, ((int8_t[]){-1, 0, 1, -1}), 4);
  eval(m, op_new(m, IR_OP_RELU, 1, &v, 1), 14, (void *[]){ix}, iz);
  assert_memory_equal(iz, ((int8_t[]){0, 0, 7, 0}), 4);
}

/* Where and Clip broadcast their operands; a weight operand is read in place. */
static void test_where_clip_numbers(void **state) {
  IrModule *m = *state;
  bool c[2] = {true, false};
  float x[3] = {1, 2, 3}, lo = 1.5f, z[6];
  IrValue *in[3] = {IN(m, IR_BOOL, 2, 1), IN(m, IR_F32, 3), weight(m, IR_F32, 0, NULL, &lo)};
  eval(m, op_new(m, IR_OP_WHERE, 3, in, 1), 16, (void *[]){c, x, NULL}, z);
  assert_memory_equal(z, ((float[]){1, 2, 3, 1.5f, 1.5f, 1.5f}), sizeof z);
  float hi = 2.5f, cz[3];
  IrValue *cl[3] = {IN(m, IR_F32, 3), in[2], IN0(m, IR_F32)};
  IrOp *op = op_new(m, IR_OP_CLIP, 3, cl, 1);
  eval(m, op, 13, (void *[]){x, NULL, &hi}, cz);
  assert_int_equal(op->num_operands, 3);
  assert_memory_equal(cz, ((float[]){1.5f, 2, 2.5f}), sizeof cz);
}

/* BitShift, IsInf/IsNaN, Shrink, Dropout (inference). */
static void test_more_numbers(void **state) {
  IrModule *m = *state;
  uint8_t x[4] = {16, 4, 1, 255}, y[4] = {1, 2, 8, 7}, z[4];
  IrOp *op = bin(m, IR_OP_BIT_SHIFT, IN(m, IR_U8, 4), IN(m, IR_U8, 4));
  ir_attr_set_string(m, op, "direction", "LEFT");
  eval(m, op, 11, (void *[]){x, y}, z);
  assert_memory_equal(z, ((uint8_t[]){32, 16, 0, 128}), 4);
  op = bin(m, IR_OP_BIT_SHIFT, IN(m, IR_U8, 4), IN(m, IR_U8, 4));
  ir_attr_set_string(m, op, "direction", "RIGHT");
  eval(m, op, 11, (void *[]){x, y}, z);
  assert_memory_equal(z, ((uint8_t[]){8, 1, 0, 1}), 4);
  op = bin(m, IR_OP_BIT_SHIFT, IN(m, IR_U8, 4), IN(m, IR_U8, 4));
  assert_string_equal(run(m, op, 11),
                      "error: attribute 'direction' must be \"LEFT\" or \"RIGHT\"");
  float f[4] = {INFINITY, -INFINITY, NAN, 1}, sz[5];
  bool b[4];
  IrValue *v = IN(m, IR_F32, 4);
  op = op_new(m, IR_OP_IS_INF, 1, &v, 1);
  ir_attr_set_int(m, op, "detect_positive", 0);
  eval(m, op, 10, (void *[]){f}, b);
  assert_memory_equal(b, ((bool[]){false, true, false, false}), 4);
  assert_int_equal(ir_attr_int(op, "detect_negative", 7), 1);
  eval(m, op_new(m, IR_OP_IS_NAN, 1, &v, 1), 13, (void *[]){f}, b);
  assert_memory_equal(b, ((bool[]){false, false, true, false}), 4);
  float sx[5] = {-2, -1, 0, 1, 2};
  v = IN(m, IR_F32, 5);
  op = op_new(m, IR_OP_SHRINK, 1, &v, 1);
  ir_attr_set_float(m, op, "lambd", 1.5);
  ir_attr_set_float(m, op, "bias", 1.5);
  eval(m, op, 9, (void *[]){sx}, sz);
  assert_memory_equal(sz, ((float[]){-0.5f, 0, 0, 0, 0.5f}), sizeof sz);
  IrValue *din[3] = {IN(m, IR_F32, 2, 3), IN0(m, IR_F32), IN0(m, IR_BOOL)};
  op = op_new(m, IR_OP_DROPOUT, 3, din, 2);
  assert_string_equal(run(m, op, 13), "error: Dropout: input 'training_mode' must be "
                                      "a constant (initializer or Constant node) in tcc");
  op = op_new(m, IR_OP_DROPOUT, 2, din, 2);
  assert_string_equal(run(m, op, 13), "f32[2,3]");
  char buf[64];
  assert_string_equal(ir_type_str(m, &op->results[1]->type, buf, sizeof buf), "bool[2,3]");
  assert_int_equal(op->num_operands, 1);
}

/* Dropout in training mode (ratio and training_mode constant): ratio 0
 * is the identity with an all-true mask; ratio 0.5 keeps each element
 * as 2x (mask true) or zeroes it (mask false), about half of them. */
static IrOp *dropout_train(IrModule *m, int n, float ratio, bool train) {
  IrValue *in[3] = {IN(m, IR_F32, n), weight(m, IR_F32, 0, NULL, &ratio),
                    weight(m, IR_BOOL, 0, NULL, &train)};
  return op_new(m, IR_OP_DROPOUT, 3, in, 2);
}

static void dropout_run(IrModule *m, IrOp *op, float *x, float *y, bool *mask) {
  assert_true(ir_op_info(op->kind)->import(m, op, 13) && ir_op_info(op->kind)->infer(m, op));
  IrFunc *f = lower_alone(m, op);
  void *bufs[3] = {x, y, mask};
  assert_true(ir_interp_run(m, f, bufs, NULL));
}

static void test_dropout_training(void **state) {
  IrModule *m = *state;
  enum { N = 1000 };
  static float x[N], y[N];
  static bool mask[N];
  for (int i = 0; i < N; i++) x[i] = (float)(i + 1) * 0.25f;
  dropout_run(m, dropout_train(m, N, 0.0f, true), x, y, mask);
  assert_memory_equal(y, x, sizeof x);
  for (int i = 0; i < N; i++) assert_true(mask[i]);
  IrOp *op = dropout_train(m, N, 0.5f, true);
  dropout_run(m, op, x, y, mask);
  assert_true(ir_attr_int(op, "training_mode", 0) == 1 && ir_attr_float(op, "ratio", 0) == 0.5);
  int kept = 0;
  for (int i = 0; i < N; i++) {
    assert_true(y[i] == 0 || y[i] == 2 * x[i]);
    assert_int_equal(mask[i], y[i] == 2 * x[i]);
    kept += mask[i];
  }
  assert_in_range(kept, 400, 600);
  assert_string_equal(run(m, dropout_train(m, 4, 1.0f, true), 13),
                      "error: Dropout: ratio must be in [0, 1), got 1");
  assert_string_equal(run(m, dropout_train(m, 4, -0.5f, true), 13),
                      "error: Dropout: ratio must be in [0, 1), got -0.5");
  /* out of range does not matter at inference */
  assert_string_equal(run(m, dropout_train(m, 4, 1.0f, false), 13), "f32[4]");
  IrValue *in[3] = {IN(m, IR_F32, 4), IN0(m, IR_F32), weight(m, IR_BOOL, 0, NULL, &(bool){1})};
  assert_string_equal(run(m, op_new(m, IR_OP_DROPOUT, 3, in, 1), 13),
                      "error: Dropout: input 'ratio' must be a constant (initializer or "
                      "Constant node) in tcc");
  in[1] = weight(m, IR_F32, DIMS(2), (float[]){0.5f, 0.5f});
  assert_string_equal(run(m, op_new(m, IR_OP_DROPOUT, 3, in, 1), 13),
                      "error: Dropout: input 'ratio' must be a scalar");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_binary_broadcast, setup, teardown),
      cmocka_unit_test_setup_teardown(test_binary_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_compare_logic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pow, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prelu, setup, teardown),
      cmocka_unit_test_setup_teardown(test_legacy_broadcast, setup, teardown),
      cmocka_unit_test_setup_teardown(test_variadic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_where, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unary_types, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unary_defaults, setup, teardown),
      cmocka_unit_test_setup_teardown(test_clip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cast, setup, teardown),
      cmocka_unit_test_setup_teardown(test_newer_ops, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mod_numbers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_div_numbers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pow_numbers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unary_numbers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_where_clip_numbers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_more_numbers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_f8_numbers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_f4_numbers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_subbyte_int_numbers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_subbyte_entry_packing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dropout_training, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
