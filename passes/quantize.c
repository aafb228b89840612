/*
 * quantize.c — post-training static int8 quantization (-quantize=int8
 * --calib=DIR; docs/compression.md "Quantization").
 *
 * The layers it takes, in the order of the function (the candidates):
 *   - conv / fused_conv: 2-D, one group, an f32 weight W, a bias that is a
 *     weight or none, no absorbed preprocess;
 *   - matmul / fused_matmul: a 2-D f32 weight B [K, N], f32 A;
 *   - gemm: transA 0, alpha 1, a weight B (transB either way), C none or an
 *     f32 weight of N elements with beta 1 (a Linear layer).
 * Each becomes the int8 form of fused_conv / fused_matmul
 * (ir/ops/gemm_kernel.h): W quantized per output channel, symmetric,
 * scale max|W| / 127 and values in [-127, 127] (QuantizeLinear's rounding);
 * X per tensor, asymmetric u8, from its calibrated range [lo, hi] widened
 * to hold 0: scale (hi - lo) / 255, zero point round(-lo / scale).  The
 * epilogue keeps what fuse put there (bias, residual, activation) in f32.
 *
 * The ranges come from calibration (src/compiler.c): the same model,
 * compiled with the same flags for this machine, with `instrument` set:
 * this pass then rewrites nothing and adds each candidate's X as a graph
 * output "tcc_calib_<k>"; running that object on the data sets gives
 * candidate k's range.  Both compiles see the same candidates, since every
 * pass before this one is independent of the target.
 *
 * A layer fed by a QuantizeLinear/DequantizeLinear pair (a model that
 * arrives quantized, ONNX Runtime's QDQ format) takes the pair's u8 scale
 * and zero point instead, and needs no flag: such layers are rewritten
 * first, and are no candidates of calibration.
 *
 * -quantize=dynamic (QuantizeOptions.dynamic) takes the MatMul and Gemm
 * candidates only, with no ranges: their int8 form carries x_dynamic, and
 * the lowering measures X's range at every call (gemm_kernel.h).
 *
 * -quantize-min-sqnr's measuring compiles set observe (each candidate's
 * result becomes an output), all_float or keep_layer (src/compiler.c).
 *
 * Statistics: convs quantized, matmuls quantized, gemms quantized, fed by
 * QuantizeLinear/DequantizeLinear, QLinearConv / QLinearMatMul on the int8
 * kernels, left in float (a candidate that -keep-float names, or whose X
 * never varied in calibration), inputs observed (instrument).  Needs: tensor level with inferred types, after
 * fuse.  Without -quantize it rewrites only the QDQ-fed layers and the
 * QLinearConv / QLinearMatMul ops with constant weights (below).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

enum { QUANTIZE_MAX_KEEP = 1024 };

/* The f32 weight data of v with all its elements, or NULL. */
static const float *weight_data(const IrValue *v) {
  uint64_t n;
  return v && ir_type_numel(&v->type, &n) ? pass_weight_f32(v, n) : NULL;
}

static bool is_conv(const IrOp *op) {
  if (op->kind != IR_OP_CONV && op->kind != IR_OP_FUSED_CONV) return false;
  const IrValue *X = op->operands[0], *W = op->operands[1];
  const IrValue *B = op->num_operands > 2 ? op->operands[2] : NULL;
  bool pre = op->num_operands > 4 && op->operands[4];
  return !pre && X->type.elem == IR_F32 && X->type.rank == 4 &&
         ir_type_is_static(&X->type) && ir_attr_int(op, "group", 1) == 1 && weight_data(W) &&
         (!B || weight_data(B));
}

static bool is_matmul(const IrOp *op) {
  if (op->kind != IR_OP_MATMUL && op->kind != IR_OP_FUSED_MATMUL) return false;
  const IrValue *A = op->operands[0], *B = op->operands[1];
  const IrValue *bias = op->num_operands > 2 ? op->operands[2] : NULL;
  return A->type.elem == IR_F32 && A->type.rank >= 2 && ir_type_is_static(&A->type) &&
         B->type.rank == 2 && weight_data(B) && (!bias || weight_data(bias));
}

/* C of a Linear layer: none, or an f32 weight of N elements (beta 1). */
static bool gemm_bias_ok(const IrOp *op, int64_t N) {
  const IrValue *C = op->num_operands > 2 ? op->operands[2] : NULL;
  uint64_t n;
  if (!C) return true;
  return ir_attr_float(op, "beta", 1) == 1 && weight_data(C) && ir_type_numel(&C->type, &n) &&
         n == (uint64_t)N && ir_type_dim(&C->type, C->type.rank - 1) == N;
}

static bool is_gemm(const IrOp *op) {
  if (op->kind != IR_OP_GEMM) return false;
  const IrValue *A = op->operands[0], *B = op->operands[1];
  int64_t N = ir_type_dim(&B->type, ir_attr_int(op, "transB", 0) ? 0 : 1);
  return A->type.elem == IR_F32 && ir_type_is_static(&A->type) && weight_data(B) &&
         ir_attr_int(op, "transA", 0) == 0 && ir_attr_float(op, "alpha", 1) == 1 &&
         gemm_bias_ok(op, N);
}

/* The i32 sum of K products of u8 and i8 stays exact up to K = 2^31 /
 * (255 * 127), 66,313: longer sums stay in float. */
enum { MAX_K = 65536 };

static int64_t reduction_length(const IrOp *op) {
  const IrType *w = &op->operands[1]->type;
  if (op->kind == IR_OP_CONV || op->kind == IR_OP_FUSED_CONV)
    return ir_type_dim(w, 1) * ir_type_dim(w, 2) * ir_type_dim(w, 3);
  return ir_type_dim(w, op->kind == IR_OP_GEMM && ir_attr_int(op, "transB", 0) ? 1 : 0);
}

static bool is_candidate(const IrOp *op) {
  return (is_conv(op) || is_matmul(op) || is_gemm(op)) && reduction_length(op) <= MAX_K;
}

/* The graph outputs gain v, named `name` (the calibration object's). */
static void add_output(IrModule *m, IrValue *v, const char *name) {
  IrFunc *f = m->main;
  IrOp *ret = f->body->last;
  int n = f->num_outputs;
  IrValue **operands = ir_arena_alloc(m->arena, sizeof *operands * (size_t)(n + 1));
  const char **names = ir_arena_alloc(m->arena, sizeof *names * (size_t)(n + 1));
  IrType *types = ir_arena_alloc(m->arena, sizeof *types * (size_t)(n + 1));
  for (int i = 0; i < n; i++) {
    operands[i] = ret->operands[i];
    names[i] = f->output_names ? f->output_names[i] : NULL;
    types[i] = f->output_types[i];
  }
  operands[n] = v;
  names[n] = ir_arena_strdup(m->arena, name);
  types[n] = v->type;
  IrBuilder b = ir_builder_before(m, ret);
  b.loc = ret->loc;
  ir_build(&b, IR_OP_RETURN, n + 1, operands, 0, NULL);
  ir_op_remove(ret);
  f->output_names = names;
  f->output_types = types;
  f->num_outputs = n + 1;
}

/* x's u8 scale and zero point from its range, widened to hold 0. */
static void activation_params(float lo, float hi, float *scale, int *zp) {
  if (lo > 0) lo = 0;
  if (hi < 0) hi = 0;
  *scale = (hi - lo) / 255;
  double z = nearbyint(-lo / (double)*scale);
  *zp = (int)(z < 0 ? 0 : z > 255 ? 255 : z);
}

static IrValue *new_weight(IrModule *m, const IrValue *from, const char *suffix, IrElem e,
                           int rank, const int64_t *dims, const void *data, uint64_t bytes) {
  return pass_new_weight_bytes(m, from->weight->name, suffix, ir_type_tensor(e, rank, dims),
                               data, bytes);
}

void quantize_log_free(QuantizeLog *log) {
  for (int i = 0; i < log->num; i++) {
    free(log->layers[i].q);
    free(log->layers[i].scale);
  }
  free(log->layers);
  *log = (QuantizeLog){0};
}

/* Appends op's layer to the log: q and scale as ir_quantize_weight made them,
 * which is the layout of op's weight operand. */
static void record(QuantizeLog *log, const IrOp *op, float x_scale, int zp, const int8_t *q,
                   const float *scale, int64_t channels, int64_t per) {
  if (log->num == log->cap) {
    log->cap = log->cap ? 2 * log->cap : 16;
    log->layers = realloc(log->layers, (size_t)log->cap * sizeof *log->layers);
    IR_ASSERT(log->layers);
  }
  const IrType *w = &op->operands[1]->type;
  bool columns = (op->kind == IR_OP_MATMUL || op->kind == IR_OP_FUSED_MATMUL ||
                  op->kind == IR_OP_GEMM) && !(op->kind == IR_OP_GEMM &&
                                               ir_attr_int(op, "transB", 0));
  QuantizedLayer l = {.node = op->loc.source, .node_name = op->loc.node, .x_scale = x_scale,
                      .x_zero_point = zp, .axis = columns ? 1 : 0, .rank = w->rank,
                      .q = malloc((size_t)(channels * per)),
                      .scale = malloc((size_t)channels * sizeof *scale)};
  IR_ASSERT(l.q && l.scale && w->rank <= 4);
  for (int i = 0; i < w->rank; i++) l.dims[i] = ir_type_dim(w, i);
  memcpy(l.q, q, (size_t)(channels * per));
  memcpy(l.scale, scale, (size_t)channels * sizeof *scale);
  log->layers[log->num++] = l;
}

/* The int8 fused_conv (conv) or fused_matmul before `at` (its place, and
 * its attributes with `attrs`): X, the i8 W, its scales S, bias and R (or
 * NULL); X's u8 parameters, or x_scale 0: measured at run time. */
static IrOp *int8_op(IrModule *m, IrOp *at, bool conv, IrValue *X, IrValue *W, IrValue *S,
                     IrValue *bias, IrValue *R, bool attrs, float x_scale, int zp, IrType type) {
  IrValue *operands[7] = {X, W, bias, R, NULL, NULL, NULL};
  int n = conv ? 7 : 5;
  operands[n - 1] = S;
  IrBuilder b = ir_builder_before(m, at);
  b.loc = at->loc;
  IrOp *q8 = ir_build(&b, conv ? IR_OP_FUSED_CONV : IR_OP_FUSED_MATMUL, n, operands, 1, &type);
  for (int i = 0; attrs && i < at->num_attrs; i++) ir_attr_set(m, q8, &at->attrs[i]);
  if (x_scale > 0) {
    ir_attr_set_float(m, q8, "x_scale", x_scale);
    ir_attr_set_int(m, q8, "x_zero_point", zp);
  } else {
    ir_attr_set_int(m, q8, "x_dynamic", 1);
  }
  return q8;
}

/* The int8 form of op, X's parameters given (x_scale 0: measured at run
 * time, x_dynamic); returns it. */
static IrOp *rewrite(PassContext *pc, IrOp *op, float x_scale, int zp, bool exact) {
  IrModule *m = pc->m;
  IrValue *W = op->operands[1];
  bool conv = is_conv(op), gemm = op->kind == IR_OP_GEMM;
  bool tB = gemm && ir_attr_int(op, "transB", 0);
  int64_t channels, per, dims[4];
  if (conv) {
    channels = ir_type_dim(&W->type, 0);
    per = 1;
    for (int i = 0; i < 4; i++) per *= dims[i] = ir_type_dim(&W->type, i);
    per /= channels;
  } else {
    channels = ir_type_dim(&W->type, tB ? 0 : 1);
    per = ir_type_dim(&W->type, tB ? 1 : 0);
    dims[0] = per, dims[1] = channels; /* the int8 form's B is [K, N] */
  }
  const float *w = weight_data(W);
  int8_t *q = malloc((size_t)(channels * per));
  float *scale = malloc((size_t)channels * sizeof *scale);
  IR_ASSERT(q && scale);
  /* a conv's W and a transposed B are channel-major; a matmul's B [K, N] is
   * by columns, which the int8 form keeps */
  ir_quantize_weight(w, (uint64_t)(channels * per), channels, !conv && !tB ? 1 : (uint64_t)per,
                     exact, q, scale);
  QuantizeLog *log = pc->quantize && !exact && x_scale > 0 ? pc->quantize->log : NULL;
  if (log) record(log, op, x_scale, zp, q, scale, channels, per);
  if (tB) { /* B^T [N, K] -> [K, N] */
    int8_t *t = malloc((size_t)(channels * per));
    IR_ASSERT(t);
    for (int64_t n = 0; n < channels; n++)
      for (int64_t k = 0; k < per; k++) t[k * channels + n] = q[n * per + k];
    free(q);
    q = t;
  }
  IrValue *Wq = new_weight(m, W, "int8_", IR_I8, conv ? 4 : 2, dims, q,
                           (uint64_t)(channels * per));
  IrValue *S = new_weight(m, W, "scale_", IR_F32, 1, &channels, scale,
                          (uint64_t)channels * sizeof *scale);
  free(q);
  free(scale);
  IrValue *bias = op->num_operands > 2 ? op->operands[2] : NULL;
  if (gemm && bias && bias->type.rank != 1) { /* C of [1, N]: the bias f32[N] */
    const float *c = weight_data(bias);
    bias = new_weight(m, bias, "row_", IR_F32, 1, &channels, c,
                      (uint64_t)channels * sizeof *c);
  }
  IrValue *R = !gemm && op->num_operands > 3 ? op->operands[3] : NULL;
  IrOp *q8 = int8_op(m, op, conv, op->operands[0], Wq, S, bias, R, !gemm, x_scale, zp,
                     op->results[0]->type);
  ir_replace_uses(m->main, op->results[0], q8->results[0]);
  ir_op_remove(op);
  pass_stat(pc, conv ? "convs quantized" : gemm ? "gemms quantized" : "matmuls quantized", 1);
  return q8;
}

/* A weight's values per channel, for `channels` of them: one value for
 * all (a scalar scale or zero point), or one each (rank 1); absent: dflt. */
static bool weight_values(const IrValue *v, int64_t channels, double dflt, double *out) {
  uint64_t n;
  if (!v) {
    for (int64_t c = 0; c < channels; c++) out[c] = dflt;
    return true;
  }
  if (!v->weight || !v->weight->data || !ir_type_numel(&v->type, &n) ||
      (n != 1 && (n != (uint64_t)channels || v->type.rank > 1)))
    return false;
  for (int64_t c = 0; c < channels; c++)
    out[c] = ir_elem_load_f64(v->type.elem, v->weight->data, n == 1 ? 0 : (size_t)c);
  return true;
}

/* v = DequantizeLinear(QuantizeLinear(x, s, zp), s, zp) per tensor, u8:
 * what ONNX Runtime's QDQ format puts before a layer.  The layer's int8
 * form takes x with that s and zp: q(x) is the same byte.  Sets *x. */
static bool qdq_value(const IrValue *v, IrValue **x, float *scale, int *zp) {
  const IrOp *dq = v->def;
  if (!dq || dq->kind != IR_OP_DEQUANTIZE_LINEAR) return false;
  const IrOp *q = dq->operands[0]->def;
  if (!q || q->kind != IR_OP_QUANTIZE_LINEAR || q->results[0]->type.elem != IR_U8 ||
      q->operands[0]->type.elem != IR_F32 || ir_attr_int(q, "block_size", 0) ||
      ir_attr_int(dq, "block_size", 0))
    return false;
  double s1, s2, z1, z2;
  if (!weight_values(q->operands[1], 1, 1, &s1) || !weight_values(dq->operands[1], 1, 1, &s2) ||
      !weight_values(q->num_operands > 2 ? q->operands[2] : NULL, 1, 0, &z1) ||
      !weight_values(dq->num_operands > 2 ? dq->operands[2] : NULL, 1, 0, &z2) || s1 != s2 ||
      z1 != z2 || !(s1 > 0 && s1 < 1e30))
    return false;
  *x = q->operands[0];
  *scale = (float)s1;
  *zp = (int)z1;
  return true;
}

/* The layers fed by a QuantizeLinear/DequantizeLinear pair run on the
 * int8 kernels with its scale and zero point, with or without -quantize
 * (their weights, folded to f32 by fold-constants, quantized again per
 * channel: DequantizeLinear's i8 values come back). */
static void quantize_qdq(PassContext *pc) {
  IrFunc *f = pc->m->main;
  for (IrOp *op = f->body->first, *next; op; op = next) {
    next = op->next;
    IrValue *x;
    float scale;
    int zp;
    if (!is_candidate(op)) continue;
    /* a Flatten or Reshape between the pair and the layer moves to x */
    IrOp *view = op->operands[0]->def;
    if (view && view->kind != IR_OP_FLATTEN && view->kind != IR_OP_RESHAPE) view = NULL;
    if (!qdq_value(view ? view->operands[0] : op->operands[0], &x, &scale, &zp)) continue;
    if (view) {
      IrBuilder b = ir_builder_before(pc->m, op);
      b.loc = view->loc;
      IrValue *operands[2] = {x, view->num_operands > 1 ? view->operands[1] : NULL};
      IrOp *moved = ir_build(&b, view->kind, view->num_operands, operands, 1,
                             &view->results[0]->type);
      for (int i = 0; i < view->num_attrs; i++) ir_attr_set(pc->m, moved, &view->attrs[i]);
      x = moved->results[0];
    }
    ir_op_set_operand(pc->m, op, 0, x);
    rewrite(pc, op, scale, zp, true);
    pass_stat(pc, "fed by QuantizeLinear/DequantizeLinear", 1);
  }
}

/* ------------------------------------------------ QLinearConv, QLinearMatMul
 * ONNX Runtime's other quantized format (QOperator): the layer takes u8 or
 * i8 bytes and gives bytes, y = saturate(round((sum (x - xz)(w - wz) + B)
 * * xs * ws / ys) + yz).  With constant weights and parameters (per-tensor
 * x and y, per-tensor or per-channel w) it becomes
 *   DequantizeLinear(x) -> the int8 form -> QuantizeLinear(., 1, yz)
 * where the int8 form quantizes x's floats back to the same bytes (an i8 x
 * shifted by 128 into u8, its zero point too), W is w - wz (when every
 * value fits i8), and its scales are ws / ys, so that its f32 output is
 * the sum times M = xs * ws / ys (rounded as ONNX's reference rounds it)
 * plus B * M. */

/* f32 s with xs * s (in f32) == m: the scale gk_quant_channels multiplies
 * back into m; the nearest float to m / xs when none is. */
static float scale_giving(float xs, float m) {
  float s = m / xs;
  for (int step = 0; step < 4 && xs * s != m; step++)
    s = nextafterf(s, xs * s < m ? INFINITY : -INFINITY);
  return xs * s == m ? s : m / xs;
}

/* MatMulInteger / ConvInteger: the i32 sum of (x - xz)(w - wz) is the same
 * form with every scale 1 and a Cast of its f32 output to i32, exact while
 * no sum can pass 2^24 (f32's integers): checked per channel from the
 * weights and the widest x - xz its byte type allows. */
static bool integer_op(const IrOp *op) {
  return op->kind == IR_OP_MATMUL_INTEGER || op->kind == IR_OP_CONV_INTEGER;
}

static bool quantize_qlinear_op(PassContext *pc, IrOp *op) {
  IrModule *m = pc->m;
  bool integer = integer_op(op);
  bool conv = op->kind == IR_OP_QLINEAR_CONV || op->kind == IR_OP_CONV_INTEGER;
  /* x, x_scale?, x_zero_point, w, w_scale?, w_zero_point, ...; the integer
   * ops have no scales, and their zero points may be left out */
  int wi = integer ? 1 : 3, wzi = integer ? 3 : 5;
  IrValue *x = op->operands[0], *w = op->operands[wi];
  IrValue *bias = !integer && conv && op->num_operands > 8 ? op->operands[8] : NULL;
  const IrValue *xz_v = op->num_operands > 2 ? op->operands[2] : NULL;
  const IrValue *wz_v = op->num_operands > wzi ? op->operands[wzi] : NULL;
  const IrValue *xs_v = integer ? NULL : op->operands[1], *ws_v = integer ? NULL : op->operands[4];
  const IrValue *ys_v = integer ? NULL : op->operands[6], *yz_v = integer ? NULL : op->operands[7];
  IrElem ye = op->results[0]->type.elem;
  double xs, xz, ys, yz;
  if ((x->type.elem != IR_U8 && x->type.elem != IR_I8) ||
      (integer ? ye != IR_I32 : ye != IR_U8 && ye != IR_I8) || !ir_type_is_static(&x->type) ||
      x->type.rank < 2 || (conv && x->type.rank != 4) ||
      (conv && ir_attr_int(op, "group", 1) != 1) || !w->weight || !w->weight->data ||
      w->type.rank != (conv ? 4 : 2) || (w->type.elem != IR_I8 && w->type.elem != IR_U8) ||
      (xs_v && xs_v->type.elem != IR_F32) || (ws_v && ws_v->type.elem != IR_F32) ||
      (ys_v && ys_v->type.elem != IR_F32) || !weight_values(xs_v, 1, 1, &xs) ||
      !weight_values(xz_v, 1, 0, &xz) || !weight_values(ys_v, 1, 1, &ys) ||
      !weight_values(yz_v, 1, 0, &yz) || !(xs > 0) || !(ys > 0) ||
      (bias && (!bias->weight || !bias->weight->data || bias->type.elem != IR_I32)))
    return false;
  int64_t channels = ir_type_dim(&w->type, conv ? 0 : 1), numel = 1;
  for (int i = 0; i < w->type.rank; i++) numel *= ir_type_dim(&w->type, i);
  int64_t per = numel / channels;
  double *ws = malloc(sizeof *ws * (size_t)channels), *wz = malloc(sizeof *wz * (size_t)channels);
  int8_t *q = malloc((size_t)numel);
  float *scale = malloc(sizeof *scale * (size_t)channels), *b = malloc(sizeof *b * (size_t)channels);
  IR_ASSERT(ws && wz && q && scale && b);
  bool ok = weight_values(ws_v, channels, 1, ws) && weight_values(wz_v, channels, 0, wz) &&
            (!bias || ir_type_dim(&bias->type, 0) == channels);
  /* the widest |x - xz|, for the integer ops' exactness bound */
  double x_lo = x->type.elem == IR_I8 ? -128 : 0, x_span = fmax(xz - x_lo, x_lo + 255 - xz);
  double *reach = calloc((size_t)channels, sizeof *reach); /* per channel: max |sum| */
  IR_ASSERT(reach);
  for (int64_t i = 0; ok && i < numel; i++) { /* conv: channel-major; matmul: by columns */
    int64_t c = conv ? i / per : i % channels;
    double v = ir_elem_load_f64(w->type.elem, w->weight->data, (size_t)i) - wz[c];
    ok = v >= -128 && v <= 127;
    q[i] = (int8_t)v;
    reach[c] += fabs(v) * x_span;
  }
  for (int64_t c = 0; ok && integer && c < channels; c++) ok = reach[c] <= 16777216.0;
  free(reach);
  for (int64_t c = 0; ok && c < channels; c++) {
    float mult = (float)((float)(xs * ws[c]) / (float)ys); /* the reference's rounding */
    ok = mult > 0 && isfinite(mult);
    scale[c] = scale_giving((float)xs, mult);
    b[c] = bias ? (float)(((const int32_t *)bias->weight->data)[c] * (double)mult) : 0;
  }
  if (ok) {
    int64_t dims[4];
    for (int i = 0; i < w->type.rank; i++) dims[i] = ir_type_dim(&w->type, i);
    IrValue *Wq = new_weight(m, w, "int8_", IR_I8, w->type.rank, dims, q, (uint64_t)numel);
    IrValue *S = new_weight(m, w, "scale_", IR_F32, 1, &channels, scale,
                            sizeof *scale * (size_t)channels);
    IrValue *B = bias ? new_weight(m, bias, "f32_", IR_F32, 1, &channels, b,
                                   sizeof *b * (size_t)channels)
                      : NULL;
    float one = 1;
    IrValue *One = new_weight(m, integer ? w : op->operands[6], "one_", IR_F32, 0, NULL, &one,
                              sizeof one); /* an integer op's x scale, else y's */
    IrBuilder bld = ir_builder_before(m, op);
    bld.loc = op->loc;
    IrValue *dq_in[3] = {x, integer ? One : op->operands[1], (IrValue *)xz_v};
    IrType xf_type = x->type;
    xf_type.elem = IR_F32;
    IrValue *xf = ir_build(&bld, IR_OP_DEQUANTIZE_LINEAR, dq_in[2] ? 3 : 2, dq_in, 1,
                           &xf_type)->results[0];
    IrType yf_type = op->results[0]->type;
    yf_type.elem = IR_F32;
    int zp = (int)xz + (x->type.elem == IR_I8 ? 128 : 0); /* i8 bytes shifted into u8 */
    IrOp *q8 = int8_op(m, op, conv, xf, Wq, S, B, NULL, conv, (float)xs, zp, yf_type);
    IrOp *y;
    if (integer) {
      y = ir_build(&bld, IR_OP_CAST, 1, &q8->results[0], 1, &op->results[0]->type);
      ir_attr_set_type(m, y, "to", IR_I32);
    } else {
      IrValue *q_in[3] = {q8->results[0], One, op->operands[7]};
      y = ir_build(&bld, IR_OP_QUANTIZE_LINEAR, q_in[2] ? 3 : 2, q_in, 1, &op->results[0]->type);
    }
    ir_replace_uses(m->main, op->results[0], y->results[0]);
    ir_op_remove(op);
    static const char *const stat[2][2] = {
        {"QLinearMatMul on the int8 kernels", "QLinearConv on the int8 kernels"},
        {"MatMulInteger on the int8 kernels", "ConvInteger on the int8 kernels"}};
    pass_stat(pc, stat[integer][conv], 1);
  }
  free(ws), free(wz), free(q), free(scale), free(b);
  return ok;
}

static void quantize_qlinear(PassContext *pc) {
  for (IrOp *op = pc->m->main->body->first, *next; op; op = next) {
    next = op->next;
    if (op->kind == IR_OP_QLINEAR_CONV || op->kind == IR_OP_QLINEAR_MATMUL || integer_op(op))
      quantize_qlinear_op(pc, op);
  }
}

bool pass_quantize(PassContext *pc) {
  IrFunc *f = pc->m->main;
  if (f->lowered) { /* loop-level input (.tir) has no layers left to take */
    if (!pc->quantize) return true;
    diag_error("pass 'quantize' needs tensor-level IR; run it before 'lower'");
    return false;
  }
  quantize_qdq(pc);
  quantize_qlinear(pc);
  const QuantizeOptions *o = pc->quantize;
  if (!o) return true;
  int k = 0;
  bool kept[QUANTIZE_MAX_KEEP] = {false}; /* -keep-float's names matched */
  if (o->num_keep > QUANTIZE_MAX_KEEP) {
    diag_error("-keep-float names %d nodes; at most %d", o->num_keep, QUANTIZE_MAX_KEEP);
    return false;
  }
  IrValue **observed = NULL; /* o->observe: each candidate's result */
  int num_observed = 0;
  if (o->observe) {
    int n = 0;
    for (IrOp *op = f->body->first; op; op = op->next) n += is_candidate(op);
    observed = ir_arena_alloc(pc->m->arena, sizeof *observed * (size_t)(n + 1));
  }
  for (IrOp *op = f->body->first, *next; op; op = next) {
    next = op->next; /* a rewrite inserts before op and removes it */
    if (!is_candidate(op)) continue;
    int cand = k++;
    if (o->instrument) {
      char name[32];
      snprintf(name, sizeof name, "tcc_calib_%d", cand);
      add_output(pc->m, op->operands[0], name);
      pass_stat(pc, "inputs observed", 1);
      continue;
    }
    const char *name = op->loc.node ? op->loc.node : "";
    bool keep = false;
    for (int i = 0; i < o->num_keep; i++)
      if (!strcmp(o->keep_float[i], name)) keep = kept[i] = true;
    if (o->dynamic) {
      if (keep || is_conv(op)) pass_stat(pc, "left in float", 1);
      else rewrite(pc, op, 0, 0, false);
      continue;
    }
    if (cand >= o->num_ranges) {
      diag_error("quantize: the calibration has ranges for %d layer%s, this model has %d or "
                 "more to quantize (a --calib-cache of another model or other flags?)",
                 o->num_ranges, o->num_ranges == 1 ? "" : "s", cand + 1);
      return false;
    }
    float lo = o->lo[cand], hi = o->hi[cand];
    keep = keep || o->all_float || (cand < o->num_keep_layer && o->keep_layer[cand]);
    if (o->layer_names) o->layer_names[cand] = name;
    if (keep || !(hi - lo > 0) || !isfinite(lo) || !isfinite(hi)) {
      pass_stat(pc, "left in float", 1);
      if (observed) observed[num_observed++] = op->results[0];
      continue;
    }
    float scale;
    int zp;
    activation_params(lo, hi, &scale, &zp);
    IrOp *q8 = rewrite(pc, op, scale, zp, false);
    if (observed) observed[num_observed++] = q8->results[0];
  }
  for (int i = 0; i < num_observed; i++) { /* after the walk: this replaces the return */
    char name[32];
    snprintf(name, sizeof name, "tcc_layer_%d", i);
    add_output(pc->m, observed[i], name);
  }
  for (int i = 0; !o->instrument && i < o->num_keep; i++)
    if (!kept[i]) {
      diag_error("-keep-float: node '%s' is not a layer -quantize takes (a Conv, MatMul or Gemm "
                 "with weights)", o->keep_float[i]);
      return false;
    }
  if (!o->instrument && !o->dynamic && k != o->num_ranges) {
    diag_error("quantize: the calibration has ranges for %d layer%s, this model has %d to "
               "quantize (a --calib-cache of another model or other flags?)", o->num_ranges,
               o->num_ranges == 1 ? "" : "s", k);
    return false;
  }
  return true;
}
