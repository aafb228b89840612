/*
 * pad.c — Pad: modes constant, reflect, edge and wrap; CenterCropPad.
 *
 * Canonical form: pad(x[, constant_value]) {mode, pads, value}: `pads` has
 * 2*rank entries (all begins, then all ends; negative crops), `value` is
 * the constant (FLOAT attribute), overridden at run time by the optional
 * constant_value operand when that is a computed value.  Opset 11 moved
 * pads/constant_value to inputs and opset 18 added `axes`; constant inputs
 * fold into the attributes.  CenterCropPad becomes a constant-0 Pad: a dim
 * of size n made size s gets (s - n) split with the odd one at the end,
 * negative (a crop) when s < n, the odd one then at the start.
 *
 * Lowering: constant mode fills the output then copies the input window
 * into it; the other modes loop over the output and map each index into
 * the input (clamp / reflect / wrap per padded dim, no branches).
 */
#include <string.h>

#include "datamove.h"

/* Expands pads given for `axes` to all rank dims (opset 18). */
static bool pad_axes(IrModule *m, IrOp *op) {
  const int64_t *pads, *axes;
  int np, na, rank = op->operands[0]->type.rank;
  int64_t full[2 * IR_MAX_RANK] = {0};
  if (!dm_input_to_ints(m, op, 3, "axes", "axes") ||
      !dm_attr_ints(op, "axes", &na, &axes) || !dm_attr_ints(op, "pads", &np, &pads))
    return false;
  if (np != 2 * na) {
    diag_at(DIAG_ERROR, &op->loc, "Pad: pads must have 2 entries per axis");
    return false;
  }
  for (int i = 0; i < na; i++) {
    int a;
    if (!dm_axis(op, "axis", axes[i], rank, &a)) return false;
    full[a] = pads[i];
    full[a + rank] = pads[i + na];
  }
  ir_attr_remove(op, "axes");
  ir_attr_set_ints(m, op, "pads", 2 * rank, full);
  return true;
}

/* Opset >= 11: constant pads (and axes) inputs; constant_value folds into
 * `value` when it is a constant. */
static bool pad_inputs(IrModule *m, IrOp *op) {
  IrValue *cv = dm_operand(op, 2);
  if (!dm_input_to_ints(m, op, 1, "pads", "pads")) return false;
  if (dm_operand(op, 3) && (!dm_type_known(op, 0) || !pad_axes(m, op))) {
    if (!dm_type_known(op, 0))
      diag_at(DIAG_ERROR, &op->loc, "Pad: input 'axes' needs a static input shape");
    return false;
  }
  op->num_operands = 1;
  if (cv && cv->weight && cv->weight->data && cv->weight->nbytes) {
    ir_attr_set_float(m, op, "value",
                      ir_elem_load_f64(cv->type.elem, cv->weight->data, 0));
  } else if (cv) {
    op->operands[1] = cv;
    op->num_operands = 2;
  }
  return true;
}

/* CenterCropPad(x, shape) {axes} -> pad(x) {mode constant, value 0, pads}:
 * begin = floor(d / 2), end = d - begin for d = s - n >= 0; for a crop
 * (d < 0) the start of the window rounds down: begin = -floor(-d / 2). */
static bool center_crop_pad_import(IrModule *m, IrOp *op) {
  const int64_t *shape, *axes;
  int ns, na;
  if (!dm_type_known(op, 0)) {
    diag_at(DIAG_ERROR, &op->loc, "CenterCropPad: input 'input_data' needs a static shape in tcc");
    return false;
  }
  if (!dm_input_to_ints(m, op, 1, "shape", "shape") || !dm_attr_ints(op, "shape", &ns, &shape) ||
      !dm_attr_ints(op, "axes", &na, &axes))
    return false;
  const IrType *t = &op->operands[0]->type;
  int rank = t->rank;
  if (ns != (na < 0 ? rank : na)) {
    diag_at(DIAG_ERROR, &op->loc, "CenterCropPad: shape has %d entries; expected %d "
            "(one per axis)", ns, na < 0 ? rank : na);
    return false;
  }
  int64_t pads[2 * IR_MAX_RANK] = {0};
  bool seen[IR_MAX_RANK] = {false};
  for (int i = 0; i < ns; i++) {
    int a = i;
    if (na >= 0 && !dm_axis(op, "axis", axes[i], rank, &a)) return false;
    if (seen[a] || shape[i] < 0) {
      diag_at(DIAG_ERROR, &op->loc, seen[a] ? "CenterCropPad: axis %d appears twice"
              : "CenterCropPad: negative size for axis %d", a);
      return false;
    }
    seen[a] = true;
    int64_t d = shape[i] - ir_type_dim(t, a);
    pads[a] = d >= 0 ? d / 2 : -(-d / 2);
    pads[a + rank] = d - pads[a];
  }
  op->kind = IR_OP_PAD;
  op->num_operands = 1;
  ir_attr_remove(op, "shape");
  ir_attr_remove(op, "axes");
  ir_attr_set_string(m, op, "mode", "constant");
  ir_attr_set_float(m, op, "value", 0.0);
  ir_attr_set_ints(m, op, "pads", 2 * rank, pads);
  return true;
}

bool op_pad_import(IrModule *m, IrOp *op, int opset) {
  if (op->kind == IR_OP_CENTER_CROP_PAD) return center_crop_pad_import(m, op);
  const char *mode;
  int n;
  const int64_t *v;
  if (!dm_attr_string(op, "mode", "constant", &mode)) return false;
  if (strcmp(mode, "constant") && strcmp(mode, "reflect") && strcmp(mode, "edge") &&
      strcmp(mode, "wrap")) {
    diag_at(DIAG_ERROR, &op->loc, "Pad: unknown mode \"%s\"", mode);
    return false;
  }
  ir_attr_set_string(m, op, "mode", mode);
  if (opset < 2 && dm_attr_ints(op, "paddings", &n, &v) && n >= 0) {
    ir_attr_set_ints(m, op, "pads", n, v);
    ir_attr_remove(op, "paddings");
  }
  if (opset >= 11 && !pad_inputs(m, op)) return false;
  if (!ir_attr_get(op, "value")) ir_attr_set_float(m, op, "value", 0.0);
  if (!dm_attr_ints(op, "pads", &n, &v)) return false;
  if (n < 0) {
    diag_at(DIAG_ERROR, &op->loc, "Pad: missing attribute 'pads'");
    return false;
  }
  return true;
}

bool op_pad_infer(IrModule *m, IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  const int64_t *pads;
  int n;
  char buf[512];
  (void)m;
  if (!dm_static_input(op, 0, dims) || !dm_attr_ints(op, "pads", &n, &pads))
    return false;
  int rank = op->operands[0]->type.rank;
  if (n != 2 * rank) {
    diag_at(DIAG_ERROR, &op->loc, "Pad: pads %s must have %d entries (2 * rank)",
            dm_ints_str(buf, sizeof buf, n < 0 ? 0 : n, pads), 2 * rank);
    return false;
  }
  bool constant = !strcmp(ir_attr_string(op, "mode", "constant"), "constant");
  for (int d = 0; d < rank; d++) {
    int64_t out = dims[d] + pads[d] + pads[d + rank];
    bool padded = pads[d] != 0 || pads[d + rank] != 0;
    if (out < 0 || (!constant && padded && (dims[d] == 0 || pads[d] < 0 || pads[d + rank] < 0))) {
      diag_at(DIAG_ERROR, &op->loc, "Pad: pads %s do not fit input %s",
              dm_ints_str(buf, sizeof buf, n, pads), dm_type_str(op, 0, (char[256]){0}, 256));
      return false;
    }
    dims[d] = out;
  }
  IrValue *cv = dm_operand(op, 1);
  if (cv && (cv->type.kind != IR_TYPE_TENSOR || cv->type.elem != op->operands[0]->type.elem)) {
    diag_at(DIAG_ERROR, &op->loc, "Pad: constant_value must have the input's element type");
    return false;
  }
  dm_set_result(op, 0, op->operands[0]->type.elem, rank, dims);
  return true;
}

/* Constant mode: fill, then copy in[lo..hi) to out[lo+pb..) per dim. */
static void pad_constant(LwCtx *c, const IrOp *op, const int64_t *pads) {
  IrValue *in = c->in[0], *out = c->out[0];
  int rank = lw_rank(in);
  int64_t odims[IR_MAX_RANK], lo[IR_MAX_RANK], cnt[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK], *oidx[IR_MAX_RANK], *v;
  LwNest nest;
  IrElem e = lw_elem(out);
  if (op->num_operands > 1 && c->in[1]) {
    IrValue *none[1] = {NULL};
    v = lw_load(c, c->in[1], none);
  } else {
    v = lw_const_f(c, e, ir_attr_float(op, "value", 0));
  }
  for (int d = 0; d < rank; d++) odims[d] = lw_dim(out, d);
  if (dm_numel(rank, odims) == 0) return;
  lw_nest_begin(c, &nest, rank, odims, iv);
  lw_store(c, v, out, iv);
  lw_nest_end(c, &nest);
  for (int d = 0; d < rank; d++) {
    int64_t pb = pads[d], hi = lw_dim(in, d);
    lo[d] = pb < 0 ? -pb : 0;
    if (odims[d] - pb < hi) hi = odims[d] - pb;
    cnt[d] = hi > lo[d] ? hi - lo[d] : 0;
  }
  if (dm_numel(rank, cnt) == 0) return;
  lw_nest_begin(c, &nest, rank, cnt, iv);
  for (int d = 0; d < rank; d++) {
    idx[d] = dm_affine(c, iv[d], 1, lo[d]);
    oidx[d] = dm_affine(c, iv[d], 1, lo[d] + pads[d]);
  }
  lw_store(c, lw_load(c, in, idx), out, oidx);
  lw_nest_end(c, &nest);
}

/* Maps output index o of dim d (input size n, pads pb/pe) into the input. */
static IrValue *pad_map(LwCtx *c, char mode, IrValue *o, int64_t n, int64_t pb,
                        int64_t pe) {
  if (pb == 0 && pe == 0) return o;
  if (n == 1) return lw_index(c, 0);
  if (mode == 'e') {
    IrValue *i = dm_affine(c, o, 1, -pb);
    i = lw_bin(c, IR_OP_A_MAX, i, lw_index(c, 0));
    return lw_bin(c, IR_OP_A_MIN, i, lw_index(c, n - 1));
  }
  if (mode == 'w') { /* (o - pb) mod n, kept non-negative */
    int64_t k = (pb / n + 1) * n;
    return lw_bin(c, IR_OP_A_REM, dm_affine(c, o, 1, k - pb), lw_index(c, n));
  }
  /* reflect: |o - pb| folded about n-1, repeating with period 2(n-1) */
  int64_t p = 2 * (n - 1);
  IrValue *i = lw_un(c, IR_OP_A_ABS, dm_affine(c, o, 1, -pb));
  if (pb > n - 1 || pe > n - 1) i = lw_bin(c, IR_OP_A_REM, i, lw_index(c, p));
  IrValue *r = lw_bin(c, IR_OP_A_SUB, lw_index(c, p), i);
  return lw_bin(c, IR_OP_A_MIN, i, r);
}

bool op_pad_lower(LwCtx *c, IrOp *op) {
  const int64_t *pads;
  int rank = lw_rank(c->in[0]);
  ir_attr_ints(op, "pads", &pads);
  const char *mode = ir_attr_string(op, "mode", "constant");
  if (!strcmp(mode, "constant")) {
    pad_constant(c, op, pads);
    return true;
  }
  int64_t odims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK];
  LwNest nest;
  for (int d = 0; d < rank; d++) odims[d] = lw_dim(c->out[0], d);
  if (dm_numel(rank, odims) == 0) return true;
  lw_nest_begin(c, &nest, rank, odims, iv);
  for (int d = 0; d < rank; d++)
    idx[d] = pad_map(c, mode[0], iv[d], lw_dim(c->in[0], d), pads[d], pads[d + rank]);
  lw_store(c, lw_load(c, c->in[0], idx), c->out[0], iv);
  lw_nest_end(c, &nest);
  return true;
}
