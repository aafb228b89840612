/*
 * conv_winograd.h — a 3x3 stride-1 convolution by Winograd's F(m x m, 3 x 3)
 * (ir/ops/conv_winograd.c); conv.c calls it where sched_winograd says it
 * pays, and lends it the padded copy the depthwise kernels use.
 */
#ifndef TCC_CONV_WINOGRAD_H
#define TCC_CONV_WINOGRAD_H

#include "lower.h"
#include "nn_util.h"
#include "schedule.h"

typedef struct WinogradConv {
  const IrOp *op;           /* conv or fused_conv: its activation */
  IrValue *X, *W, *B, *Y;   /* X [N,C,H,Wd], W f32 weight [M,C,3,3], B [M] or NULL */
  IrValue *R;               /* fused_conv's residual (Y's shape) or NULL */
  int64_t N, C, M;
  const NnWindow *w;        /* sizes, padding */
} WinogradConv;

void conv_winograd_lower(LwCtx *c, const WinogradConv *cv, const SchedWinograd *sw);

/* conv.c: image n of X [N,C,H,W] into P with each plane's padding as
 * zeros: element (ch, r, q) of the Hp x Wp padded plane at
 * ch*cs + (r*Wp + q)*ps ([C][Hp][Wp]: cs = Hp*Wp, ps = 1; channels last,
 * [Hp][Wp][Cp]: cs = 1, ps = Cp), X's rows from w's top padding, its
 * columns from its left padding; one parallel loop over the channels. */
void conv_pad_planes(LwCtx *c, IrValue *X, const NnWindow *w, IrValue *P, IrValue *n,
                     int64_t Hp, int64_t Wp, int64_t cs, int64_t ps);

#endif
