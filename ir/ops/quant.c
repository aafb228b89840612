/*
 * quant.c — QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
 * MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv.
 *
 *   quantize    y = sat(round_half_even(x / scale) + zp)      (zp's type, u8 default)
 *   dequantize  y = (x - zp) * scale                          (f32)
 *   dynamic     scale = (max(0, max x) - min(0, min x)) / 255,
 *               zp = sat(round(-min / scale)), y = quantize(x, scale, zp)
 * Scales and zero points are a scalar (per tensor) or 1-D along `axis`
 * (per channel; for the products: per row of A / column of B / output
 * channel of W), or for Quantize/Dequantize blocked (block_size > 0: x's
 * shape with `axis` divided by block_size, element i reads scale[i / B]).
 * To an 8-bit float or f4e2m1, quantize does not round to an integer:
 * x / scale + zp goes through the exact cast (lw_cast_sat, `saturate`).
 * The sub-byte integers saturate to their ranges (int4 [-8, 7], uint4
 * [0, 15], int2 [-2, 1], uint2 [0, 3]).  The division is
 * in f32 whatever the scale's type (precision 1; other values refused).
 *
 * The integer products accumulate sum (a - a_zp) * (b - b_zp) in i32; the
 * QLinear forms then requantize:  y = sat(round(float(acc) * m) + y_zp)
 * with m = a_scale * b_scale / y_scale computed in f32.  Convolutions use
 * the canonical window attributes of Conv (nn_window_*) and accumulate
 * weight-stationary into an i32 buffer, skipping padding (a padded input
 * equals its zero point, so it adds nothing).  Saturation clamps in float
 * before the cast, so it does not depend on the cast's overflow rules.
 */
#include <math.h>

#include "nn_util.h"

/* Operand numbers per op: x, x_scale, x_zp, w, w_scale, w_zp, y_scale,
 * y_zp, bias (-1: none). */
typedef struct QSpec {
  int x, xs, xz, w, ws, wz, ys, yz, b;
} QSpec;

static QSpec q_spec(const IrOp *op) {
  switch (op->kind) {
  case IR_OP_MATMUL_INTEGER:
  case IR_OP_CONV_INTEGER:
    return (QSpec){0, -1, 2, 1, -1, 3, -1, -1, -1};
  case IR_OP_QLINEAR_MATMUL:
    return (QSpec){0, 1, 2, 3, 4, 5, 6, 7, -1};
  case IR_OP_QLINEAR_CONV:
    return (QSpec){0, 1, 2, 3, 4, 5, 6, 7, 8};
  default: /* Quantize/Dequantize: x, scale, zp */
    return (QSpec){0, 1, 2, -1, -1, -1, -1, -1, -1};
  }
}

static IrValue *q_operand(const IrOp *op, int i) {
  return i >= 0 && i < op->num_operands ? op->operands[i] : NULL;
}

static bool q_is_conv(const IrOp *op) {
  return op->kind == IR_OP_CONV_INTEGER || op->kind == IR_OP_QLINEAR_CONV;
}

/* ------------------------------------------------------------- import */

/* Quantize/Dequantize: saturate 0/1; output_dtype (an ONNX dtype, 0:
 * none) becomes a type attribute; precision only as f32 (1), what tcc
 * divides in; block_size >= 0. */
static bool q_import_elementwise(IrModule *m, IrOp *op) {
  int64_t v;
  if (!nn_attr_int_canon(m, op, "axis", 1, NULL) ||
      !nn_attr_int_canon(m, op, "saturate", 1, &v))
    return false;
  if (v != 0 && v != 1) {
    diag_at(DIAG_ERROR, &op->loc, "%s: attribute 'saturate' must be 0 or 1", nn_name(op));
    return false;
  }
  if (!nn_attr_int_canon(m, op, "block_size", 0, &v)) return false;
  if (v < 0) {
    diag_at(DIAG_ERROR, &op->loc, "%s: block_size %lld is negative", nn_name(op),
            (long long)v);
    return false;
  }
  if (!nn_attr_int_canon(m, op, "precision", 0, &v)) return false;
  if (v != 0 && v != 1) {
    diag_at(DIAG_ERROR, &op->loc, "%s: precision %lld is not supported by tcc "
            "(only 1, float)", nn_name(op), (long long)v);
    return false;
  }
  ir_attr_remove(op, "precision");
  const IrAttr *od = ir_attr_get(op, "output_dtype");
  if (od && od->kind == IR_ATTR_INT) {
    int64_t dt = od->i;
    ir_attr_remove(op, "output_dtype");
    if (dt == 0) return true;
    IrElem e = ir_elem_from_onnx((int)dt);
    if (e == IR_ELEM_NONE) {
      diag_at(DIAG_ERROR, &op->loc, "%s: output_dtype %lld is not supported by tcc",
              nn_name(op), (long long)dt);
      return false;
    }
    ir_attr_set_type(m, op, "output_dtype", e);
  }
  return true;
}

bool op_quant_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  if (op->kind == IR_OP_QUANTIZE_LINEAR || op->kind == IR_OP_DEQUANTIZE_LINEAR)
    return q_import_elementwise(m, op);
  if (!q_is_conv(op)) return true;
  QSpec q = q_spec(op);
  return nn_conv_window_import(m, op, q_operand(op, q.x), q_operand(op, q.w));
}

/* -------------------------------------------------------------- infer */

/* A scale/zero point: one element, or `n` elements in a 1-D tensor. */
static bool q_check_param(IrModule *m, const IrOp *op, int i, const char *what,
                          unsigned cls, int64_t n) {
  if (i < 0 || !q_operand(op, i)) return true;
  if (!nn_check_operand(op, i, what, cls)) return false;
  const IrType *t = &op->operands[i]->type;
  uint64_t cnt = 0;
  ir_type_numel(t, &cnt);
  if (cnt == 1 && t->rank <= 1) return true;
  if (t->rank == 1 && (int64_t)cnt == n) return true;
  char buf[96];
  diag_at(DIAG_ERROR, &op->loc, "%s: %s has type %s; expected one value or %lld "
          "(one per channel)", nn_name(op), what, ir_type_str(m, t, buf, sizeof buf),
          (long long)n);
  return false;
}

/* Quantize/Dequantize with a scale of more than one element. */
static bool q_per_axis(const IrValue *s) {
  uint64_t n = 0;
  if (s && ir_type_is_static(&s->type)) ir_type_numel(&s->type, &n);
  return n > 1;
}

/* The quantized side: integers (sub-byte too), 8-bit floats and f4e2m1. */
static bool q_check_quantized(const IrOp *op, int i, const char *what) {
  IrValue *v = q_operand(op, i);
  if (v && v->type.kind == IR_TYPE_TENSOR &&
      (ir_elem_is_narrow_float(v->type.elem) || ir_elem_is_subbyte_int(v->type.elem)))
    return true;
  return nn_check_operand(op, i, what, NN_INT);
}

/* Blocked: scale/zero point have x's shape with dim `axis` divided by
 * block_size (rounded up). */
static bool q_check_blocked(IrModule *m, const IrOp *op, int i, const char *what,
                            int64_t axis, int64_t block) {
  IrValue *v = q_operand(op, i);
  if (!v) return true;
  const IrType *x = &op->operands[0]->type, *t = &v->type;
  bool ok = ir_type_is_static(t) && t->rank == x->rank;
  for (int d = 0; ok && d < x->rank; d++) {
    int64_t want = ir_type_dim(x, d);
    if (d == axis) want = (want + block - 1) / block;
    ok = ir_type_dim(t, d) == want;
  }
  if (ok) return true;
  char a[96], b[96];
  diag_at(DIAG_ERROR, &op->loc, "%s: %s has type %s; blocked quantization (block_size "
          "%lld, axis %lld) of x %s needs x's shape with that axis divided by the "
          "block size", nn_name(op), what, ir_type_str(m, t, a, sizeof a), (long long)block,
          (long long)axis, ir_type_str(m, x, b, sizeof b));
  return false;
}

static bool q_infer_elementwise(IrModule *m, IrOp *op) {
  bool quant = op->kind == IR_OP_QUANTIZE_LINEAR;
  if (quant ? !nn_check_operand(op, 0, "x", NN_FLOAT | NN_SINT)
            : !q_check_quantized(op, 0, "x"))
    return false;
  const IrType *t = &op->operands[0]->type;
  int64_t axis = 0, n = 1, block = ir_attr_int(op, "block_size", 0);
  if (block > 0 || q_per_axis(op->operands[1])) {
    if (!nn_norm_axis(op, ir_attr_int(op, "axis", 1), t->rank, &axis)) return false;
    n = ir_type_dim(t, (int)axis);
  }
  if (block > 0) {
    if (!nn_check_operand(op, 1, "scale", NN_FLOAT) ||
        !q_check_blocked(m, op, 1, "scale", axis, block) ||
        (q_operand(op, 2) && !q_check_quantized(op, 2, "zero_point")) ||
        !q_check_blocked(m, op, 2, "zero_point", axis, block))
      return false;
  } else if (!q_check_param(m, op, 1, "scale", NN_FLOAT, n) ||
             (q_operand(op, 2) && !q_check_quantized(op, 2, "zero_point")) ||
             (q_operand(op, 2) && !q_check_param(m, op, 2, "zero_point", NN_INT | NN_STORAGE, n))) {
    return false;
  }
  IrValue *zp = q_operand(op, 2);
  const IrAttr *od = ir_attr_get(op, "output_dtype");
  IrType y = *t;
  y.elem = quant ? (zp ? zp->type.elem : IR_U8) : op->operands[1]->type.elem;
  if (od && od->kind == IR_ATTR_TYPE) {
    if (quant && zp && zp->type.elem != od->elem) {
      diag_at(DIAG_ERROR, &op->loc, "%s: output_dtype %s differs from y_zero_point's "
              "type %s", nn_name(op), ir_elem_name(od->elem), ir_elem_name(zp->type.elem));
      return false;
    }
    bool fits = quant ? ir_elem_is_int(od->elem) || ir_elem_is_narrow_float(od->elem) ||
                            ir_elem_is_subbyte_int(od->elem)
                      : ir_elem_is_float(od->elem);
    if (!fits || od->elem == IR_INDEX) {
      diag_at(DIAG_ERROR, &op->loc, "%s: output_dtype %s is not supported", nn_name(op),
              ir_elem_name(od->elem));
      return false;
    }
    y.elem = od->elem;
  }
  if (!quant && zp && zp->type.elem != t->elem) {
    diag_at(DIAG_ERROR, &op->loc, "%s: x_zero_point's type %s differs from x's %s",
            nn_name(op), ir_elem_name(zp->type.elem), ir_elem_name(t->elem));
    return false;
  }
  op->results[0]->type = y;
  return true;
}

static bool q_infer_dynamic(IrModule *m, IrOp *op) {
  (void)m;
  if (!nn_check_operand(op, 0, "x", NN_FLOAT)) return false;
  IrType t = op->operands[0]->type;
  t.elem = IR_U8;
  op->results[0]->type = t;
  if (op->num_results > 1) op->results[1]->type = ir_type_tensor(IR_F32, 0, NULL);
  if (op->num_results > 2) op->results[2]->type = ir_type_tensor(IR_U8, 0, NULL);
  return true;
}

/* [.., M, K] x [.., K, N] -> [.., M, N] with batch broadcasting. */
static bool q_infer_matmul(IrModule *m, IrOp *op, const QSpec *q, int64_t *y, int *ry) {
  (void)m;
  int64_t a[IR_MAX_RANK], b[IR_MAX_RANK];
  int ra = nn_dims(op->operands[q->x], a), rb = nn_dims(op->operands[q->w], b);
  int r = ra > rb ? ra : rb;
  bool ok = ra >= 2 && rb >= 2 && a[ra - 1] == b[rb - 2];
  for (int i = 0; ok && i < r - 2; i++) {
    int64_t da = i - (r - ra) >= 0 ? a[i - (r - ra)] : 1;
    int64_t db = i - (r - rb) >= 0 ? b[i - (r - rb)] : 1;
    ok = da == db || da == 1 || db == 1;
    y[i] = da == 1 ? db : da;
  }
  if (!ok) {
    diag_at(DIAG_ERROR, &op->loc, "%s: inputs of ranks %d and %d do not multiply "
            "(both need rank >= 2, matching K and broadcastable batch dims)",
            nn_name(op), ra, rb);
    return false;
  }
  y[r - 2] = a[ra - 2], y[r - 1] = b[rb - 1];
  *ry = r;
  return true;
}

/* Conv shape via the shared window attributes. */
static bool q_infer_conv(IrModule *m, IrOp *op, const QSpec *q, int64_t *y, int *ry) {
  int64_t x[IR_MAX_RANK], k[IR_MAX_RANK];
  int r = nn_dims(op->operands[q->x], x), rw = nn_dims(op->operands[q->w], k);
  int64_t g = ir_attr_int(op, "group", 1);
  NnWindow w;
  if (r < 3 || r != rw || g < 1 || x[1] % g || k[0] % g || x[1] / g != k[1]) {
    diag_at(DIAG_ERROR, &op->loc, "%s: x and w must have the same rank >= 3 and "
            "channels that group=%lld fits", nn_name(op), (long long)g);
    return false;
  }
  if (!nn_window_resolve(m, op, x + 2, r - 2) ||
      !nn_window_get(op, r - 2, x + 2, false, &w))
    return false;
  y[0] = x[0], y[1] = k[0];
  for (int i = 0; i < r - 2; i++) y[i + 2] = w.out[i];
  *ry = r;
  return true;
}

static bool q_infer_product(IrModule *m, IrOp *op) {
  QSpec q = q_spec(op);
  if (!nn_check_operand(op, q.x, "x", NN_INT) || !nn_check_operand(op, q.w, "w", NN_INT))
    return false;
  int64_t y[IR_MAX_RANK];
  int r;
  if (!(q_is_conv(op) ? q_infer_conv(m, op, &q, y, &r) : q_infer_matmul(m, op, &q, y, &r)))
    return false;
  int64_t rows = q_is_conv(op) ? 1 : y[r - 2], ch = q_is_conv(op) ? y[1] : y[r - 1];
  if (!q_check_param(m, op, q.xs, "x_scale", NN_FLOAT, 1) ||
      !q_check_param(m, op, q.xz, "x_zero_point", NN_INT, rows) ||
      !q_check_param(m, op, q.ws, "w_scale", NN_FLOAT, ch) ||
      !q_check_param(m, op, q.wz, "w_zero_point", NN_INT, ch) ||
      !q_check_param(m, op, q.ys, "y_scale", NN_FLOAT, 1) ||
      !q_check_param(m, op, q.yz, "y_zero_point", NN_INT, 1))
    return false;
  if (q.b >= 0 && q_operand(op, q.b) &&
      (!nn_check_operand(op, q.b, "B", NN_SINT) || op->operands[q.b]->type.rank != 1 ||
       ir_type_dim(&op->operands[q.b]->type, 0) != ch)) {
    diag_at(DIAG_ERROR, &op->loc, "%s: bias B must be i32[%lld]", nn_name(op),
            (long long)ch);
    return false;
  }
  IrElem e = IR_I32;
  if (q.yz >= 0) e = q_operand(op, q.yz) ? op->operands[q.yz]->type.elem : IR_U8;
  op->results[0]->type = ir_type_tensor(e, r, y);
  return true;
}

bool op_quant_infer(IrModule *m, IrOp *op) {
  switch (op->kind) {
  case IR_OP_QUANTIZE_LINEAR:
  case IR_OP_DEQUANTIZE_LINEAR: return q_infer_elementwise(m, op);
  case IR_OP_DYNAMIC_QUANTIZE_LINEAR: return q_infer_dynamic(m, op);
  default: return q_infer_product(m, op);
  }
}

/* ------------------------------------------------------------ lowering */

/* A scale / zero point at channel ch (NULL buffer: dflt). */
static IrValue *q_param(LwCtx *c, IrValue *buf, IrValue *ch, IrElem e, double dflt) {
  if (!buf) return lw_const_f(c, e, dflt);
  uint64_t n = 0;
  ir_type_numel(&buf->type, &n);
  IrValue *idx[1] = {n == 1 ? lw_index(c, 0) : ch};
  return lw_cast(c, lw_load(c, buf, idx), e);
}

IrValue *quant_saturate(LwCtx *c, IrValue *v, IrValue *zp, IrElem e) {
  int lanes = v->type.kind == IR_TYPE_VECTOR ? v->type.lanes : 1;
  v = lw_bin(c, IR_OP_A_ADD, lw_un(c, IR_OP_M_ROUND, v), zp);
  int bits = ir_elem_bits(e); /* the sub-byte types' ranges: [-8, 7], [0, 15], ... */
  bool sub = ir_elem_is_subbyte_int(e), neg = e == IR_I4 || e == IR_I2;
  IrValue *lo = sub ? lw_const_f(c, IR_F32, neg ? -(1 << (bits - 1)) : 0)
                    : lw_cast(c, nn_lowest(c, e), IR_F32);
  IrValue *hi = sub ? lw_const_f(c, IR_F32, neg ? (1 << (bits - 1)) - 1 : (1 << bits) - 1)
                    : lw_cast(c, nn_highest(c, e), IR_F32);
  v = lw_bin(c, IR_OP_A_MIN, lw_bin(c, IR_OP_A_MAX, v, lw_splat(c, lo, lanes)),
             lw_splat(c, hi, lanes));
  return lw_cast(c, v, e);
}

/* A scale / zero point of Quantize/Dequantize at the element ivs: per
 * tensor, per axis, or per block (NULL buffer: dflt). */
static IrValue *q_param_at(LwCtx *c, IrValue *buf, IrValue *const *ivs, int r, int64_t axis,
                           int64_t block, double dflt) {
  if (!buf || block <= 0) return q_param(c, buf, r > 0 ? ivs[axis] : lw_index(c, 0), IR_F32, dflt);
  IrValue *idx[IR_MAX_RANK];
  for (int d = 0; d < r; d++) idx[d] = ivs[d];
  idx[axis] = lw_bin(c, IR_OP_A_DIV, ivs[axis], lw_index(c, block));
  return lw_cast(c, lw_load(c, buf, idx), IR_F32);
}

static bool q_lower_elementwise(LwCtx *c, IrOp *op) {
  IrValue *X = c->in[0], *Y = c->out[0];
  int64_t d[IR_MAX_RANK], axis = 0, block = ir_attr_int(op, "block_size", 0);
  int r = nn_dims(X, d);
  if ((block > 0 || q_per_axis(c->in[1])) &&
      !nn_norm_axis(op, ir_attr_int(op, "axis", 1), r, &axis))
    return false;
  IrValue *ivs[IR_MAX_RANK];
  LwNest nest;
  lw_nest_begin(c, &nest, r, d, ivs);
  IrValue *scale = q_param_at(c, c->in[1], ivs, r, axis, block, 1);
  IrValue *zp = q_param_at(c, op->num_operands > 2 ? c->in[2] : NULL, ivs, r, axis, block, 0);
  IrValue *x = lw_cast(c, lw_load(c, X, ivs), IR_F32);
  IrElem ye = lw_elem(Y);
  if (op->kind != IR_OP_QUANTIZE_LINEAR)
    nn_store(c, lw_bin(c, IR_OP_A_MUL, lw_bin(c, IR_OP_A_SUB, x, zp), scale), Y, ivs);
  else if (ir_elem_is_narrow_float(ye)) /* no rounding to an integer: the cast rounds */
    lw_store(c, lw_cast_sat(c, lw_bin(c, IR_OP_A_ADD, lw_bin(c, IR_OP_A_DIV, x, scale), zp), ye,
                            ir_attr_int(op, "saturate", 1) != 0),
             Y, ivs);
  else
    lw_store(c, quant_saturate(c, lw_bin(c, IR_OP_A_DIV, x, scale), zp, ye), Y, ivs);
  lw_nest_end(c, &nest);
  return true;
}

static bool q_lower_dynamic(LwCtx *c, IrOp *op) {
  int64_t d[IR_MAX_RANK];
  int r = nn_dims(c->in[0], d);
  int64_t n = nn_numel(d, r);
  IrValue *X = nn_view(c, c->in[0], 1, &n), *Y = nn_view(c, c->out[0], 1, &n), *i;
  IrValue *mm[2] = {lw_const_f(c, IR_F32, 0), lw_const_f(c, IR_F32, 0)};
  NnIterNest nest;
  nn_iter_nest_begin(c, &nest, 1, NULL, NULL, &n, 2, mm, &i);
  IrValue *x = lw_cast(c, lw_load(c, X, &i), IR_F32);
  mm[0] = lw_bin(c, IR_OP_A_MIN, mm[0], x);
  mm[1] = lw_bin(c, IR_OP_A_MAX, mm[1], x);
  nn_iter_nest_end(c, &nest, mm);
  IrValue *scale = lw_bin(c, IR_OP_A_DIV, lw_bin(c, IR_OP_A_SUB, mm[1], mm[0]),
                          lw_const_f(c, IR_F32, 255));
  IrValue *zp8 = quant_saturate(c, lw_bin(c, IR_OP_A_DIV, lw_un(c, IR_OP_A_NEG, mm[0]), scale),
                            lw_const_f(c, IR_F32, 0), IR_U8);
  IrValue *none[1] = {NULL}; /* rank-0 outputs take no index */
  if (op->num_results > 1) lw_store(c, scale, c->out[1], none);
  if (op->num_results > 2) lw_store(c, zp8, c->out[2], none);
  IrValue *zp = lw_cast(c, zp8, IR_F32);
  IrOp *l = lw_for_begin(c, lw_index(c, 0), lw_index(c, n), 1, &i);
  x = lw_cast(c, lw_load(c, X, &i), IR_F32);
  lw_store(c, quant_saturate(c, lw_bin(c, IR_OP_A_DIV, x, scale), zp, IR_U8), Y, &i);
  lw_for_end(c, l);
  return true;
}

/* The QLinear multiplier x_scale * w_scale[ch] / y_scale, in f32. */
static IrValue *q_multiplier(LwCtx *c, const QSpec *q, IrValue *ch) {
  IrValue *m = lw_bin(c, IR_OP_A_MUL, q_param(c, c->in[q->xs], ch, IR_F32, 1),
                      q_param(c, c->in[q->ws], ch, IR_F32, 1));
  return lw_bin(c, IR_OP_A_DIV, m, q_param(c, c->in[q->ys], ch, IR_F32, 1));
}

/* Stores acc (i32) at idx: as is, or requantized for the QLinear ops. */
static void q_finish(LwCtx *c, IrOp *op, const QSpec *q, IrValue *acc, IrValue *ch,
                     IrValue *Y, IrValue *const *idx) {
  if (q->yz < 0) {
    lw_store(c, acc, Y, idx);
    return;
  }
  IrValue *v = lw_bin(c, IR_OP_A_MUL, lw_cast(c, acc, IR_F32), q_multiplier(c, q, ch));
  IrValue *zp = q_param(c, op->num_operands > q->yz ? c->in[q->yz] : NULL, ch, IR_F32, 0);
  lw_store(c, quant_saturate(c, v, zp, lw_elem(Y)), Y, idx);
}

static IrValue *q_zp(LwCtx *c, const IrOp *op, int i, IrValue *ch) {
  return q_param(c, i < op->num_operands ? c->in[i] : NULL, ch, IR_I32, 0);
}

static bool q_lower_matmul(LwCtx *c, IrOp *op) {
  QSpec q = q_spec(op);
  IrValue *A = c->in[q.x], *B = c->in[q.w], *Y = c->out[0];
  int64_t y[IR_MAX_RANK];
  int r = nn_dims(Y, y), ra = lw_rank(A), rb = lw_rank(B);
  int64_t K = lw_dim(A, ra - 1);
  IrValue *ivs[IR_MAX_RANK], *ai[IR_MAX_RANK], *bi[IR_MAX_RANK], *k;
  LwNest nest;
  lw_nest_begin(c, &nest, r, y, ivs);
  lw_broadcast_index(c, A, r, y, ivs, ai);
  lw_broadcast_index(c, B, r, y, ivs, bi);
  IrValue *azp = q_zp(c, op, q.xz, ivs[r - 2]), *bzp = q_zp(c, op, q.wz, ivs[r - 1]);
  IrValue *acc = lw_const_i(c, IR_I32, 0);
  IrOp *lk = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, K), 1, 1, &acc, &k, &acc);
  ai[ra - 1] = k, bi[rb - 2] = k;
  ai[ra - 2] = ivs[r - 2], bi[rb - 1] = ivs[r - 1];
  IrValue *a = lw_bin(c, IR_OP_A_SUB, lw_cast(c, lw_load(c, A, ai), IR_I32), azp);
  IrValue *b = lw_bin(c, IR_OP_A_SUB, lw_cast(c, lw_load(c, B, bi), IR_I32), bzp);
  lw_for_end_iter(c, lk, 1, (IrValue *[]){nn_madd(c, a, b, acc)});
  q_finish(c, op, &q, lk->results[0], ivs[r - 1], Y, ivs);
  lw_nest_end(c, &nest);
  return true;
}

typedef struct QConv {
  IrValue *X, *W, *Acc;
  NnWindow w;
  int64_t y[IR_MAX_RANK], cg, mg;
} QConv;

/* For one kernel position: Acc[n, m, o] += (X[..] - xzp) * wv over valid o. */
static void q_conv_outputs(LwCtx *c, const QConv *v, IrValue *const *ks,
                           IrValue **yi, IrValue **xi, IrValue *wv, IrValue *xzp) {
  const NnWindow *w = &v->w;
  IrOp *loops[IR_MAX_RANK];
  IrValue *off[IR_MAX_RANK];
  for (int i = 0; i < w->n; i++) {
    off[i] = nn_lin(c, ks[i], w->d[i], -w->pb[i]);
    IrValue *lo, *hi;
    nn_valid_range(c, off[i], w->s[i], w->out[i], w->in[i], &lo, &hi);
    loops[i] = lw_for_begin(c, lo, hi, 1, &yi[i + 2]);
  }
  for (int i = 0; i < w->n; i++)
    xi[i + 2] = nn_iadd(c, nn_imul(c, yi[i + 2], w->s[i]), off[i]);
  IrValue *x = lw_bin(c, IR_OP_A_SUB, lw_cast(c, lw_load(c, v->X, xi), IR_I32), xzp);
  lw_store(c, nn_madd(c, x, wv, lw_load(c, v->Acc, yi)), v->Acc, yi);
  for (int i = w->n - 1; i >= 0; i--) lw_for_end(c, loops[i]);
}

static void q_conv_accumulate(LwCtx *c, IrOp *op, const QSpec *q, const QConv *v) {
  IrValue *yi[IR_MAX_RANK], *xi[IR_MAX_RANK], *wi[IR_MAX_RANK], *cl;
  IrOp *ln = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->y[0]), 1, &yi[0]);
  IrOp *lm = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->y[1]), 1, &yi[1]);
  IrValue *cbase = NULL;
  if (v->mg != v->y[1])
    cbase = nn_imul(c, lw_bin(c, IR_OP_A_DIV, yi[1], lw_index(c, v->mg)), v->cg);
  IrValue *xzp = q_zp(c, op, q->xz, lw_index(c, 0)), *wzp = q_zp(c, op, q->wz, yi[1]);
  IrOp *lc = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->cg), 1, &cl);
  xi[0] = yi[0], xi[1] = cbase ? nn_iadd(c, cbase, cl) : cl;
  wi[0] = yi[1], wi[1] = cl;
  LwNest kn;
  lw_nest_begin(c, &kn, v->w.n, v->w.k, &wi[2]);
  IrValue *wv = lw_bin(c, IR_OP_A_SUB, lw_cast(c, lw_load(c, v->W, wi), IR_I32), wzp);
  q_conv_outputs(c, v, &wi[2], yi, xi, wv, xzp);
  lw_nest_end(c, &kn);
  lw_for_end(c, lc);
  lw_for_end(c, lm);
  lw_for_end(c, ln);
}

static bool q_lower_conv(LwCtx *c, IrOp *op) {
  QSpec q = q_spec(op);
  QConv v = {.X = c->in[q.x], .W = c->in[q.w]};
  int64_t x[IR_MAX_RANK];
  int r = nn_dims(v.X, x);
  if (!nn_window_get(op, r - 2, x + 2, false, &v.w)) return false;
  nn_dims(c->out[0], v.y);
  v.cg = lw_dim(v.W, 1);
  v.mg = v.y[1] / ir_attr_int(op, "group", 1);
  v.Acc = lw_elem(c->out[0]) == IR_I32 ? c->out[0] : lw_alloc(c, IR_I32, r, v.y);
  IrValue *B = q.b >= 0 && op->num_operands > q.b ? c->in[q.b] : NULL;
  IrValue *ivs[IR_MAX_RANK];
  LwNest nest;
  lw_nest_begin(c, &nest, r, v.y, ivs);
  lw_store(c, B ? lw_cast(c, lw_load(c, B, &ivs[1]), IR_I32) : lw_const_i(c, IR_I32, 0),
           v.Acc, ivs);
  lw_nest_end(c, &nest);
  q_conv_accumulate(c, op, &q, &v);
  if (v.Acc == c->out[0]) return true;
  lw_nest_begin(c, &nest, r, v.y, ivs);
  q_finish(c, op, &q, lw_load(c, v.Acc, ivs), ivs[1], c->out[0], ivs);
  lw_nest_end(c, &nest);
  return true;
}

bool op_quant_lower(LwCtx *c, IrOp *op) {
  switch (op->kind) {
  case IR_OP_QUANTIZE_LINEAR:
  case IR_OP_DEQUANTIZE_LINEAR: return q_lower_elementwise(c, op);
  case IR_OP_DYNAMIC_QUANTIZE_LINEAR: return q_lower_dynamic(c, op);
  default: return q_is_conv(op) ? q_lower_conv(c, op) : q_lower_matmul(c, op);
  }
}

/* ---------------------------------------- the int8 forms' weight rule */
/* A scale s with every element of channel c (outer x inner of them) / s an
 * integer in [-127, 127] (to 1e-3), the largest such integer range first:
 * a weight that DequantizeLinear made from i8 values gets exact ones back.
 * 0: none. */
static float exact_scale(const float *w, uint64_t outer, int64_t channels, uint64_t inner,
                         int64_t c, double amax) {
  for (int k = 127; k >= 1; k--) {
    double s = amax / k;
    bool on_grid = true;
    for (uint64_t o = 0; on_grid && o < outer; o++)
      for (uint64_t j = 0, i = (o * (uint64_t)channels + (uint64_t)c) * inner; on_grid && j < inner;
           j++, i++) {
        double v = w[i] / s;
        on_grid = fabs(v - nearbyint(v)) <= 1e-3;
      }
    if (on_grid) return (float)s;
  }
  return 0;
}

void ir_quantize_weight(const float *w, uint64_t numel, int64_t channels, uint64_t inner,
                        bool exact, int8_t *q, float *scale) {
  uint64_t outer = numel / ((uint64_t)channels * inner);
  for (int64_t c = 0; c < channels; c++) {
    double amax = 0;
    for (uint64_t o = 0; o < outer; o++)
      for (uint64_t j = 0, i = (o * (uint64_t)channels + (uint64_t)c) * inner; j < inner; j++, i++)
        if (fabs(w[i]) > amax) amax = fabs(w[i]);
    bool finite = amax > 0 && isfinite(amax);
    float e = exact && finite ? exact_scale(w, outer, channels, inner, c, amax) : 0;
    float s = e > 0 ? e : finite ? (float)(amax / 127) : 1.0f;
    scale[c] = s;
    for (uint64_t o = 0; o < outer; o++)
      for (uint64_t j = 0, i = (o * (uint64_t)channels + (uint64_t)c) * inner; j < inner; j++, i++) {
        float v = nearbyintf(w[i] / s);
        q[i] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
      }
  }
}
