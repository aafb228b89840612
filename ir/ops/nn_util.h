/*
 * nn_util.h — helpers shared by the linear-algebra and NN op families
 * (matmul.c conv.c conv_transpose.c pool.c quant.c batchnorm.c softmax.c
 * reduce.c ...).
 *
 * Exports by file (nn_util.c):
 *   nn_name, nn_check_*, nn_attr_*     import/infer checks with the op's name
 *   nn_window_*, nn_conv_window_import conv/pool kernel, strides, pads, dilations
 *   nn_calc_elem, nn_load, nn_store    f16/bf16 computed in f32
 *   nn_bias_init, nn_copy_round        a conv accumulator's start and end
 *   nn_view, nn_lin, nn_lowest, ...    lowering shorthands
 */
#ifndef TCC_NN_UTIL_H
#define TCC_NN_UTIL_H

#include "ir.h"
#include "lower.h"

/* Element type classes for nn_check_elem.  NN_STORAGE: the storage types
 * (8-bit floats, f4e2m1, i4 u4 i2 u2), which only ops that convert them
 * with lw_cast take; they are in no other class. */
enum { NN_FLOAT = 1, NN_SINT = 2, NN_UINT = 4, NN_INT = NN_SINT | NN_UINT, NN_BOOL = 8,
       NN_STORAGE = 16 };

/* "MatMul": the ONNX name of the op (its IR name for internal ops). */
const char *nn_name(const IrOp *op);
/* Operand i must be a static tensor whose element type is in `classes`. */
bool nn_check_operand(const IrOp *op, int i, const char *what, unsigned classes);
/* The same for an op flagged OPF_DYN: operand i may have run-time dims (the
 * checks run on a stand-in whose run-time dims read 1). */
bool nn_check_operand_dyn(const IrOp *op, int i, const char *what, unsigned classes);
bool nn_check_rank_min(const IrOp *op, int i, const char *what, int min_rank);

/* Import: an attribute of the given kind or absent (error names it). */
bool nn_attr_kind(const IrOp *op, const char *name, IrAttrKind kind);
/* Import: checks kind INT and writes the value (or dflt) back explicitly. */
bool nn_attr_int_canon(IrModule *m, IrOp *op, const char *name, int64_t dflt,
                       int64_t *out);
bool nn_attr_float_canon(IrModule *m, IrOp *op, const char *name, double dflt);
/* Normalizes axis into [0, rank); false after "<Op>: axis A is out of range
 * for rank R". */
bool nn_norm_axis(const IrOp *op, int64_t axis, int rank, int64_t *out);

/* Convolution/pool windows.  Canonical form: kernel_shape, strides, pads
 * (begins then ends), dilations, all explicit, no auto_pad. */
typedef struct NnWindow {
  int n;                                 /* spatial dims */
  int64_t in[IR_MAX_RANK];               /* input spatial sizes */
  int64_t k[IR_MAX_RANK], s[IR_MAX_RANK], d[IR_MAX_RANK];
  int64_t pb[IR_MAX_RANK], pe[IR_MAX_RANK];
  int64_t out[IR_MAX_RANK];              /* output spatial sizes */
} NnWindow;
/* Import: kinds and lengths of the window attributes; fills defaults for
 * strides and dilations (kernel_shape must be present unless kernel != NULL). */
bool nn_window_import(IrModule *m, IrOp *op, int nsp, const int64_t *kernel);
/* Resolves auto_pad (needs the input spatial sizes) into explicit pads. */
bool nn_window_resolve(IrModule *m, IrOp *op, const int64_t *in_sp, int nsp);
/* nn_window_resolve with X's spatial dims, when X is already a static
 * tensor of rank >= 3 (else infer resolves it later). */
bool nn_window_resolve_x(IrModule *m, IrOp *op, const IrValue *X);
/* Import of a Conv-like op (Conv, ConvInteger, QLinearConv): group, and the
 * window with kernel_shape defaulting to W's spatial dims. */
bool nn_conv_window_import(IrModule *m, IrOp *op, const IrValue *X,
                           const IrValue *W);
/* Infer: reads the canonical attributes into w and computes output sizes
 * (ceil_mode as in pooling).  False after a diagnostic. */
bool nn_window_get(const IrOp *op, int nsp, const int64_t *in_sp, bool ceil_mode,
                   NnWindow *w);
/* [lo, hi) of the output positions along spatial dim i whose every tap
 * lies inside the input (no padding, no ceil_mode overhang). */
void nn_window_interior(const NnWindow *w, int i, int64_t *lo, int64_t *hi);
/* Lowering: the range [lo, hi) of v in [0, count) for which
 * 0 <= v*mul + base < extent (base an index value, mul > 0). */
void nn_valid_range(LwCtx *c, IrValue *base, int64_t mul, int64_t count,
                    int64_t extent, IrValue **lo, IrValue **hi);

/* A loop nest ivs[i] in [lo[i], hi[i]) carrying n values: begin replaces
 * vals (the initial values) by the body's values; end takes the values to
 * yield and replaces them by the nest's results.  rank 0 emits no loop.
 * lo may be NULL (all zero); hi_c gives static bounds when hi is NULL. */
typedef struct NnIterNest {
  int rank, n;
  IrOp *loops[IR_MAX_RANK];
} NnIterNest;
void nn_iter_nest_begin(LwCtx *c, NnIterNest *nest, int rank,
                        IrValue *const *lo, IrValue *const *hi,
                        const int64_t *hi_c, int n, IrValue **vals,
                        IrValue **ivs);
void nn_iter_nest_end(LwCtx *c, NnIterNest *nest, IrValue **vals);

/* f16/bf16 are computed in f32; other types as themselves. */
IrElem nn_calc_elem(IrElem e);
IrValue *nn_load(LwCtx *c, IrValue *buf, IrValue *const *idx);  /* calc elem */
void nn_store(LwCtx *c, IrValue *v, IrValue *buf, IrValue *const *idx);
/* Y[n, m, ...] = B[m] (or 0) over dims: a conv accumulator's start. */
void nn_bias_init(LwCtx *c, IrValue *Y, IrValue *B, int rank, const int64_t *dims);
/* dst = src over dims, rounded to dst's element type (f32 scratch into
 * f16/bf16). */
void nn_copy_round(LwCtx *c, IrValue *src, IrValue *dst, int rank,
                   const int64_t *dims);
/* A row-major reinterpretation of buf with the given dims. */
IrValue *nn_view(LwCtx *c, IrValue *buf, int rank, const int64_t *dims);
/* iv * mul + add on indices, skipping the trivial parts. */
IrValue *nn_lin(LwCtx *c, IrValue *iv, int64_t mul, int64_t add);
IrValue *nn_iadd(LwCtx *c, IrValue *a, IrValue *b);
IrValue *nn_imul(LwCtx *c, IrValue *a, int64_t k);
/* Smallest / largest value of e (-inf / +inf for floats). */
IrValue *nn_lowest(LwCtx *c, IrElem e);
/* quant.c: QuantizeLinear's rounding, sat(round_half_even(v) + zp) into
 * the integer type e (v: f32 scalar or vector, zp of v's type). */
IrValue *quant_saturate(LwCtx *c, IrValue *v, IrValue *zp, IrElem e);
IrValue *nn_highest(LwCtx *c, IrElem e);
/* a*b + acc: fma for floats, mul+add for ints. */
IrValue *nn_madd(LwCtx *c, IrValue *a, IrValue *b, IrValue *acc);
/* The Lp norm's parts (LpPool, LpNormalization): the term |x|^p of a sum,
 * and the sum's p-th root; x and sum are floats of type e, p >= 1. */
IrValue *nn_lp_term(LwCtx *c, IrValue *x, int64_t p, IrElem e);
IrValue *nn_lp_root(LwCtx *c, IrValue *sum, int64_t p, IrElem e);
/* Static dims of a tensor/buffer value into dims; returns the rank. */
int nn_dims(const IrValue *v, int64_t *dims);
int64_t nn_numel(const int64_t *dims, int rank);

/* norm.c: BatchNormalization with training_mode=1, lowered with the
 * normalization statistics passes. */
bool nn_batchnorm_train_lower(LwCtx *c, IrOp *op);

#endif
