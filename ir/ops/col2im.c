/*
 * col2im.c — Col2Im (opset 18): the inverse of im2col, torch's fold.
 *
 * Canonical form: col2im {image_shape, block_shape, dilations, pads,
 * strides}, all explicit, one operand (the ONNX inputs image_shape and
 * block_shape must be constants).  The input [N, C * prod(block), L] holds
 * one column per sliding block (L = prod of the blocks' counts per dim);
 * row c * prod(block) + flat(k) of block l adds to image position
 * p = l * stride - pad_begin + k * dilation.
 *
 * Lowered as a gather: each output position sums, over the block offsets
 * k, the column whose block l = (p + pad_begin - k * dilation) / stride is
 * whole and in range; other offsets add nothing.
 */
#include "nn_util.h"

bool op_col2im_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  static const char *const inputs[2] = {"image_shape", "block_shape"};
  for (int i = 1; i <= 2; i++) {
    const IrValue *v = op->operands[i];
    uint64_t n = 0;
    ir_type_numel(&v->type, &n);
    if (!v || !v->weight || !v->weight->data || !ir_elem_is_int(v->type.elem) ||
        v->type.rank != 1 || n < 1 ||
        n > IR_MAX_RANK - 2) {
      diag_at(DIAG_ERROR, &op->loc, "Col2Im: input '%s' must be a constant 1-D integer "
              "tensor of 1 to %d values", inputs[i - 1], IR_MAX_RANK - 2);
      return false;
    }
    int64_t vals[IR_MAX_RANK];
    for (uint64_t k = 0; k < n; k++)
      vals[k] = ir_elem_load_i64(v->type.elem, v->weight->data, k);
    ir_attr_set_ints(m, op, inputs[i - 1], (int)n, vals);
  }
  const int64_t *img;
  int nd = ir_attr_ints(op, "image_shape", &img);
  static const char *const names[3] = {"dilations", "pads", "strides"};
  for (int a = 0; a < 3; a++) {
    int len = a == 1 ? 2 * nd : nd;
    int64_t v[2 * IR_MAX_RANK];
    const int64_t *given;
    if (!nn_attr_kind(op, names[a], IR_ATTR_INTS)) return false;
    int n = ir_attr_ints(op, names[a], &given);
    if (n >= 0 && n != len) {
      diag_at(DIAG_ERROR, &op->loc, "Col2Im: attribute '%s' needs %d values, not %d",
              names[a], len, n);
      return false;
    }
    for (int i = 0; i < len; i++) v[i] = n >= 0 ? given[i] : a == 1 ? 0 : 1;
    ir_attr_set_ints(m, op, names[a], len, v);
  }
  op->num_operands = 1;
  return true;
}

typedef struct Col2Im {
  int nd;
  const int64_t *img, *blk, *dil, *pads, *str;
  int64_t blocks[IR_MAX_RANK]; /* sliding blocks per dim */
} Col2Im;

static bool col2im_get(const IrOp *op, Col2Im *g) {
  g->nd = ir_attr_ints(op, "image_shape", &g->img);
  bool ok = g->nd >= 1 && ir_attr_ints(op, "block_shape", &g->blk) == g->nd &&
            ir_attr_ints(op, "dilations", &g->dil) == g->nd &&
            ir_attr_ints(op, "pads", &g->pads) == 2 * g->nd &&
            ir_attr_ints(op, "strides", &g->str) == g->nd;
  for (int d = 0; ok && d < g->nd; d++) {
    ok = g->img[d] >= 1 && g->blk[d] >= 1 && g->dil[d] >= 1 && g->str[d] >= 1 &&
         g->pads[d] >= 0 && g->pads[g->nd + d] >= 0;
    int64_t span = g->img[d] + g->pads[d] + g->pads[g->nd + d] - g->dil[d] * (g->blk[d] - 1) - 1;
    ok = ok && span >= 0;
    g->blocks[d] = ok ? span / g->str[d] + 1 : 0;
  }
  if (!ok)
    diag_at(DIAG_ERROR, &op->loc, "Col2Im: image_shape, block_shape, dilations and strides "
            "must be >= 1, pads >= 0, and each dilated block must fit the padded image");
  return ok;
}

bool op_col2im_infer(IrModule *m, IrOp *op) {
  (void)m;
  Col2Im g;
  if (!nn_check_operand(op, 0, "input", NN_FLOAT) || !col2im_get(op, &g))
    return false;
  int64_t x[IR_MAX_RANK], b = 1, l = 1, out[IR_MAX_RANK];
  int r = nn_dims(op->operands[0], x);
  for (int d = 0; d < g.nd; d++) b *= g.blk[d], l *= g.blocks[d];
  if (r != 3 || x[1] % b != 0 || x[2] != l) {
    diag_at(DIAG_ERROR, &op->loc, "Col2Im: input must be [N, C * %lld, %lld] (block size, "
            "sliding blocks), not rank %d with dims %lld, %lld", (long long)b, (long long)l,
            r, (long long)(r > 1 ? x[1] : 0), (long long)(r > 2 ? x[2] : 0));
    return false;
  }
  out[0] = x[0], out[1] = x[1] / b;
  for (int d = 0; d < g.nd; d++) out[2 + d] = g.img[d];
  op->results[0]->type = ir_type_tensor(op->operands[0]->type.elem, 2 + g.nd, out);
  return true;
}

bool op_col2im_lower(LwCtx *c, IrOp *op) {
  Col2Im g;
  if (!col2im_get(op, &g)) return false;
  int64_t y[IR_MAX_RANK], bsize = 1;
  IrValue *ov[IR_MAX_RANK], *kv[IR_MAX_RANK];
  int r = nn_dims(c->out[0], y);
  for (int d = 0; d < g.nd; d++) bsize *= g.blk[d];
  if (y[0] * y[1] == 0) return true;
  IrElem ce = nn_calc_elem(lw_elem(c->out[0]));
  LwNest nest;
  lw_nest_begin(c, &nest, r, y, ov);
  IrValue *acc = lw_const_f(c, ce, 0);
  NnIterNest kn;
  nn_iter_nest_begin(c, &kn, g.nd, NULL, NULL, g.blk, 1, &acc, kv);
  IrValue *ok = NULL, *row = lw_bin(c, IR_OP_A_MUL, ov[1], lw_index(c, bsize));
  IrValue *col = lw_index(c, 0);
  int64_t rstride = bsize;
  for (int d = 0; d < g.nd; d++) {
    rstride /= g.blk[d];
    row = lw_bin(c, IR_OP_A_ADD, row, lw_bin(c, IR_OP_A_MUL, kv[d], lw_index(c, rstride)));
    /* t = p + pad_begin - k * dilation must be a whole number of strides. */
    IrValue *t = lw_bin(c, IR_OP_A_SUB, lw_bin(c, IR_OP_A_ADD, ov[2 + d], lw_index(c, g.pads[d])),
                        lw_bin(c, IR_OP_A_MUL, kv[d], lw_index(c, g.dil[d])));
    IrValue *okd = lw_cmp(c, "ge", t, lw_index(c, 0));
    t = lw_bin(c, IR_OP_A_MAX, t, lw_index(c, 0));
    IrValue *l = t;
    if (g.str[d] > 1) {
      IrValue *s = lw_index(c, g.str[d]);
      okd = lw_bin(c, IR_OP_A_AND, okd,
                   lw_cmp(c, "eq", lw_bin(c, IR_OP_A_REM, t, s), lw_index(c, 0)));
      l = lw_bin(c, IR_OP_A_DIV, t, s);
    }
    okd = lw_bin(c, IR_OP_A_AND, okd, lw_cmp(c, "lt", l, lw_index(c, g.blocks[d])));
    l = lw_bin(c, IR_OP_A_MIN, l, lw_index(c, g.blocks[d] - 1));
    col = lw_bin(c, IR_OP_A_ADD, lw_bin(c, IR_OP_A_MUL, col, lw_index(c, g.blocks[d])), l);
    ok = ok ? lw_bin(c, IR_OP_A_AND, ok, okd) : okd;
  }
  IrValue *v = nn_load(c, c->in[0], (IrValue *[]){ov[0], row, col});
  acc = lw_bin(c, IR_OP_A_ADD, acc, lw_select(c, ok, v, lw_const_f(c, ce, 0)));
  nn_iter_nest_end(c, &kn, &acc);
  nn_store(c, acc, c->out[0], ov);
  lw_nest_end(c, &nest);
  return true;
}
