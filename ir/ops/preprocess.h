/*
 * preprocess.h — the input conversion of -preprocess (ir/ops/preprocess.c):
 * raw camera bytes (u8) to the model's f32 NCHW image, per channel c
 * y = x * a[c] + b[c] (a = scale / std, b = -mean / std).  Shared with the
 * conv kernel that absorbs the op (fused_conv with operands 4 and 5, the
 * fuse pass), so the conversion is written once.
 */
#ifndef TCC_OPS_PREPROCESS_H
#define TCC_OPS_PREPROCESS_H

#include "ir.h"
#include "lower.h"

/* Whether `layout` (the op's attribute value; NULL: "nchw") is NHWC. */
bool pre_is_nhwc(const char *layout);
/* The NCHW dims of an image stored in `layout`: dims permuted in place. */
void pre_nchw_dims(const char *layout, IrDim *dims);
/* The shape rule: X = operand 0 must be u8 of rank 4 stored in the layout
 * that attribute `layout_attr` names, operands ia and ia + 1 (A, B) f32[C];
 * *image gets the f32 NCHW type.  False after a diagnostic. */
bool pre_check(IrModule *m, const IrOp *op, const char *layout_attr, int ia, IrType *image);
/* x (a u8 scalar or vector of `lanes`) converted: fma(f32(x), a, b), with
 * a, b the channel's f32 scalars (splat to the lanes here). */
IrValue *pre_convert(LwCtx *c, IrValue *x, IrValue *a, IrValue *b, int lanes);
/* The standalone conversion of the whole image X (u8 in `layout`) into Y
 * (f32 NCHW), A and B the per-channel f32[C] buffers. */
void pre_lower_image(LwCtx *c, IrValue *X, IrValue *A, IrValue *B, const char *layout,
                     IrValue *Y);

#endif
