/*
 * conv_winograd.h — a 3x3 stride-1 convolution by Winograd's F(m x m, 3 x 3)
 * (ir/ops/conv_winograd.c); conv.c calls it where sched_winograd says it
 * pays.
 */
#ifndef TCC_CONV_WINOGRAD_H
#define TCC_CONV_WINOGRAD_H

#include "lower.h"
#include "schedule.h"

typedef struct WinogradConv {
  const IrOp *op;           /* conv or fused_conv: its activation */
  IrValue *X, *W, *B, *Y;   /* X [N,C,H,Wd], W f32 weight [M,C,3,3], B [M] or NULL */
  IrValue *R;               /* fused_conv's residual (Y's shape) or NULL */
  int64_t N, C, H, Wd, M, OH, OW;
  int64_t pt, pl;           /* top and left padding */
} WinogradConv;

void conv_winograd_lower(LwCtx *c, const WinogradConv *cv, const SchedWinograd *sw);

#endif
