/*
 * preprocess.c — preprocess(X, A, B) {layout}: raw 8-bit image bytes to the
 * f32 image a model expects, Y[n,c,h,w] = fma(f32(X[n,h,w,c]), A[c], B[c])
 * (layout "nhwc"; "nchw": X[n,c,h,w]).  A = scale / std and B = -mean / std
 * per channel, so (x * scale - mean) / std is one fma.  Never imported: the
 * compiler inserts it at a graph input for -preprocess (src/preprocess.c),
 * and the fuse pass folds it into a following conv whose kernel packs its
 * input (fused_conv operands 4 and 5), which then converts each byte as it
 * packs it; otherwise this op's own loop runs, one pass over the image.
 */
#include <string.h>

#include "nn_util.h"
#include "preprocess.h"

bool pre_is_nhwc(const char *layout) { return layout && !strcmp(layout, "nhwc"); }

void pre_nchw_dims(const char *layout, IrDim *dims) {
  if (!pre_is_nhwc(layout)) return;
  IrDim c = dims[3];
  dims[3] = dims[2], dims[2] = dims[1], dims[1] = c;
}

IrValue *pre_convert(LwCtx *c, IrValue *x, IrValue *a, IrValue *b, int lanes) {
  return lw_fma(c, lw_cast(c, x, IR_F32), lw_splat(c, a, lanes), lw_splat(c, b, lanes));
}

void pre_lower_image(LwCtx *c, IrValue *X, IrValue *A, IrValue *B, const char *layout,
                     IrValue *Y) {
  int64_t dims[4];
  lw_dims(Y, dims);
  LwNest nest;
  IrValue *yi[4];
  lw_nest_begin(c, &nest, 4, dims, yi);
  bool nhwc = pre_is_nhwc(layout);
  IrValue *xi[4] = {yi[0], nhwc ? yi[2] : yi[1], nhwc ? yi[3] : yi[2], nhwc ? yi[1] : yi[3]};
  IrValue *y = pre_convert(c, lw_load(c, X, xi), lw_load(c, A, &yi[1]), lw_load(c, B, &yi[1]), 1);
  lw_store(c, y, Y, yi);
  lw_nest_end(c, &nest);
}

bool op_preprocess_import(IrModule *m, IrOp *op, int opset) {
  (void)m, (void)op, (void)opset;
  return true;
}

bool pre_check(IrModule *m, const IrOp *op, const char *layout_attr, int ia, IrType *image) {
  const char *layout = ir_attr_string(op, layout_attr, NULL);
  if (!layout || (strcmp(layout, "nhwc") && strcmp(layout, "nchw"))) {
    diag_at(DIAG_ERROR, &op->loc, "%s: attribute '%s' must be \"nhwc\" or \"nchw\"",
            nn_name(op), layout_attr);
    return false;
  }
  IrType t = op->operands[0]->type;
  if (t.elem != IR_U8 || t.rank != 4) {
    char buf[128];
    diag_at(DIAG_ERROR, &op->loc, "%s: input X has type %s; expected u8 of rank 4", nn_name(op),
            ir_type_str(m, &t, buf, sizeof buf));
    return false;
  }
  pre_nchw_dims(layout, t.dims);
  if (t.dims[1].sym >= 0) {
    diag_at(DIAG_ERROR, &op->loc, "%s: the channel count of X must be static", nn_name(op));
    return false;
  }
  for (int i = ia; i < ia + 2; i++) {
    const IrType *p = op->operands[i] ? &op->operands[i]->type : NULL;
    if (!p || p->elem != IR_F32 || p->rank != 1 || p->dims[0].sym >= 0 ||
        p->dims[0].size != t.dims[1].size) {
      char buf[128] = "none";
      if (p) ir_type_str(m, p, buf, sizeof buf);
      diag_at(DIAG_ERROR, &op->loc, "%s: operand %d (the conversion's %s) has type %s; expected "
              "f32[%lld]", nn_name(op), i, i == ia ? "scale" : "shift", buf,
              (long long)t.dims[1].size);
      return false;
    }
  }
  t.elem = IR_F32;
  *image = t;
  return true;
}

bool op_preprocess_infer(IrModule *m, IrOp *op) {
  return pre_check(m, op, "layout", 1, &op->results[0]->type);
}

bool op_preprocess_lower(LwCtx *c, IrOp *op) {
  pre_lower_image(c, c->in[0], c->in[1], c->in[2], ir_attr_string(op, "layout", NULL),
                  c->out[0]);
  return true;
}
