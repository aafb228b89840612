/*
 * onnx_msdomain.c — the com.microsoft ops that ONNX Runtime's quantizer
 * writes (its QOperator format, docs/frontend.md "com.microsoft").  Each is
 * imported as the ONNX ops it stands for:
 *
 *   QLinearAdd / QLinearMul (A, As, Az, B, Bs, Bz, Cs, Cz)
 *       QuantizeLinear(Add|Mul(DequantizeLinear(A), DequantizeLinear(B)), Cs, Cz)
 *   QLinearSigmoid, QLinearLeakyRelu (alpha), QLinearAveragePool (the pool's
 *   attributes), QLinearGlobalAveragePool (X, Xs, Xz, Ys, Yz)
 *       QuantizeLinear(op(DequantizeLinear(X)), Ys, Yz)
 *   QLinearConcat (Ys, Yz, X1, X1s, X1z, X2, ...; axis)
 *       QuantizeLinear(Concat(DequantizeLinear(Xi)...), Ys, Yz)
 *   QuantizeLinear, DequantizeLinear: the ONNX ops (opset 13 form).
 *
 * ONNX Runtime defines them so, up to the rounding of its float
 * arithmetic.  A zero point left out is 0 of the quantized type (the input's
 * for the output).  channels_last = 1 (NHWC pools) is refused.  What the
 * ops become is fused and vectorized like any other elementwise chain; a
 * QLinearConv between them (an ONNX op) runs on the int8 kernels
 * (passes/quantize.c).
 */
#include <string.h>

#include "onnx_int.h"

typedef struct MsOp {
  const char *name;
  IrOpKind kind;  /* the float op in the middle */
  bool binary;    /* A, B inputs; else one X (QLinearConcat: any number) */
} MsOp;

static const MsOp ms_ops[] = {
    {"QLinearAdd", IR_OP_ADD, true},
    {"QLinearMul", IR_OP_MUL, true},
    {"QLinearSigmoid", IR_OP_SIGMOID, false},
    {"QLinearLeakyRelu", IR_OP_LEAKY_RELU, false},
    {"QLinearAveragePool", IR_OP_AVERAGE_POOL, false},
    {"QLinearGlobalAveragePool", IR_OP_GLOBAL_AVERAGE_POOL, false},
    {"QLinearConcat", IR_OP_CONCAT, false},
};

static IrValue *emit(OnnxCtx *c, IrOpKind kind, int n, IrValue **ins, const IrLoc *loc) {
  return onnx_emit(c, ir_op_new(c->m, kind, n, ins, 1, NULL), loc, 13);
}

/* DequantizeLinear(x, scale, zp) with zp optional. */
static IrValue *dequantize(OnnxCtx *c, IrValue *x, IrValue *scale, IrValue *zp,
                           const IrLoc *loc) {
  IrValue *ins[3] = {x, scale, zp};
  return emit(c, IR_OP_DEQUANTIZE_LINEAR, zp ? 3 : 2, ins, loc);
}

/* QuantizeLinear(y, scale, zp); without zp, to `like`'s type with 0. */
static IrValue *quantize(OnnxCtx *c, IrValue *y, IrValue *scale, IrValue *zp, IrElem like,
                         const IrLoc *loc) {
  IrValue *ins[3] = {y, scale, zp ? zp : onnx_const_int(c, like, 0)};
  return emit(c, IR_OP_QUANTIZE_LINEAR, 3, ins, loc);
}

static bool missing(const IrLoc *loc, const char *what) {
  diag_at(DIAG_ERROR, loc, "%s needs %s", loc->op_type, what);
  return false;
}

bool onnx_ms_node(OnnxCtx *c, const Onnx__NodeProto *n, const IrLoc *loc) {
  const char *op_type = loc->op_type;
  size_t nin;
  if (!strcmp(op_type, "QuantizeLinear") || !strcmp(op_type, "DequantizeLinear")) {
    IrValue **ins = onnx_node_operands(c, n, loc, &nin);
    if (!ins) return false;
    if (nin < 2 || !ins[0] || !ins[1]) return missing(loc, "x and scale");
    bool q = op_type[0] == 'Q';
    IrOp *op = ir_op_new(c->m, q ? IR_OP_QUANTIZE_LINEAR : IR_OP_DEQUANTIZE_LINEAR,
                         nin > 2 && ins[2] ? 3 : 2, ins, 1, NULL);
    if (!onnx_node_attrs(c, n, op, loc)) return false;
    IrValue *y = onnx_emit(c, op, loc, 13);
    if (y && n->n_output) onnx_map_put(&c->values, n->output[0], y);
    return y != NULL;
  }
  const MsOp *ms = NULL;
  for (size_t i = 0; i < sizeof ms_ops / sizeof ms_ops[0]; i++)
    if (!strcmp(op_type, ms_ops[i].name)) ms = &ms_ops[i];
  if (!ms) {
    diag_at(DIAG_ERROR, loc, "unsupported operator '%s' of domain 'com.microsoft' (tcc takes "
            "QuantizeLinear, DequantizeLinear, QLinearAdd, QLinearMul, QLinearSigmoid, "
            "QLinearLeakyRelu, QLinearAveragePool, QLinearGlobalAveragePool and QLinearConcat "
            "there)", op_type);
    return false;
  }
  IrValue **ins = onnx_node_operands(c, n, loc, &nin);
  if (!ins) return false;
  bool concat = ms->kind == IR_OP_CONCAT;
  size_t want = ms->binary ? 8 : 5;
  if (concat ? nin < 5 || (nin - 2) % 3 : nin < want - 1 || nin > want) {
    diag_at(DIAG_ERROR, loc, concat ? "%s takes Y_scale, Y_zero_point and triples of X, "
                                      "X_scale, X_zero_point, got %zu inputs"
                                    : "%s takes %zu inputs, got %zu",
            op_type, concat ? nin : want, nin);
    return false;
  }
  IrValue *ys, *yz; /* the output's scale and zero point */
  IrValue *mid[64];
  int parts = 0;
  if (concat) {
    ys = ins[0], yz = ins[1];
    if ((nin - 2) / 3 > 64) {
      diag_at(DIAG_ERROR, loc, "%s: at most 64 inputs are supported", op_type);
      return false;
    }
    for (size_t i = 2; i + 2 < nin; i += 3) {
      if (!ins[i] || !ins[i + 1]) return missing(loc, "X and X_scale of each part");
      if (!(mid[parts++] = dequantize(c, ins[i], ins[i + 1], ins[i + 2], loc))) return false;
    }
  } else {
    size_t out = ms->binary ? 6 : 3;
    ys = ins[out], yz = out + 1 < nin ? ins[out + 1] : NULL;
    for (size_t i = 0; i < (ms->binary ? 2u : 1u); i++) {
      IrValue *x = ins[3 * i], *s = ins[3 * i + 1], *z = ins[3 * i + 2];
      if (!x || !s) return missing(loc, ms->binary ? "A, A_scale, B and B_scale" : "X and X_scale");
      if (!(mid[parts++] = dequantize(c, x, s, z, loc))) return false;
    }
  }
  if (!ys) return missing(loc, "the output's scale (Y_scale or C_scale)");
  IrOp *op = ir_op_new(c->m, ms->kind, parts, mid, 1, NULL);
  if (!onnx_node_attrs(c, n, op, loc)) return false;
  if (ir_attr_int(op, "channels_last", 0)) {
    diag_at(DIAG_ERROR, loc, "%s: channels_last = 1 (NHWC) is not supported; export the model "
            "with NCHW pools", op_type);
    return false;
  }
  ir_attr_remove(op, "channels_last");
  IrValue *y = onnx_emit(c, op, loc, 13);
  IrElem like = (concat ? ins[2] : ins[0])->type.elem;
  if (y) y = quantize(c, y, ys, yz, like, loc);
  if (y && n->n_output) onnx_map_put(&c->values, n->output[0], y);
  return y != NULL;
}
