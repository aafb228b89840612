/*
 * gemm_kernel.h — the register-blocked matrix-product kernel that Conv,
 * MatMul and Gemm lower through (ir/schedule.h chooses its shape).
 *
 *   C[i, j] = epilogue(sum_k A[i, k] * B[k, j])   for i < M, j < N
 *
 * The caller describes where A, B and C live (a 1-D buffer or weight and
 * affine strides) through callbacks, so the same kernel reads a weight
 * packed at compile time, an operand in place, or a panel packed while
 * running (a convolution's input, im2col one block at a time).
 *
 * Loops: column blocks of `nc` (each may be packed by `prepare`), K blocks
 * of `kc`, column strips of nv*lanes (a parallel loop), row tiles of mr;
 * or, with `tasks` > 1, one parallel loop of that many tasks outside, each
 * running a contiguous run of the column blocks whole (its own packing, K
 * blocks and strips, in a buffer of its own: the callbacks' `task`), so a
 * product makes one parallel call and a core computes what it packed;
 * the innermost loop
 * runs over k with mr*nv vector accumulators carried in registers.  Edges:
 * the last row tile has fewer rows; the last strip of a block has fewer
 * vectors, then one vector of fewer than `lanes` columns whose loads and
 * stores are masked to them, so nothing ever reads or writes outside an
 * operand.  With several K blocks
 * (one loop, so the tiles exist once in the object) the partial sums go
 * through C, and the epilogue's value is the one stored in the last.
 */
#ifndef TCC_GEMM_KERNEL_H
#define TCC_GEMM_KERNEL_H

#include "lower.h"
#include "schedule.h"

/* A matrix operand of one tile: element (r, k) at base + r*rs + k*ks of a
 * 1-D buffer or weight (r: row of A / column of B, relative to the tile;
 * k relative to the K block).  B's columns must be contiguous: rs = 1. */
typedef struct GkOperand {
  IrValue *buf;
  IrValue *base;
  int64_t rs, ks;
  bool packed;  /* packed at compile time: contiguous along k, prefetched */
} GkOperand;

typedef struct GkGemm {
  int64_t M, N, K;
  GemmSched s;
  int64_t nc;          /* column block (N when nothing is packed per block) */
  int64_t tasks;       /* > 1: the column blocks split into this many parallel
                          tasks (ir/schedule.h sched_column_split) */
  void *user;
  /* A of the row tile at i0 with `rows` rows, for the K block at k0. */
  void (*a_tile)(LwCtx *c, void *user, IrValue *i0, int rows, IrValue *k0,
                 GkOperand *a);
  /* B of the strip at column j0 of width w (nv*lanes, or the block's last
   * strip), for the K block at k0 (block columns start at jb), in the
   * parallel task `task` (index 0 when tasks <= 1). */
  void (*b_strip)(LwCtx *c, void *user, IrValue *jb, IrValue *j0, int64_t w,
                  IrValue *k0, IrValue *task, GkOperand *b);
  /* Optional: before the tiles of column block [jb, jb+ncols) and K block
   * [k0, k0+kc) (kc at most s.kc), e.g. packing B into task's buffer; its
   * own loops may be parallel only when tasks <= 1. */
  void (*prepare)(LwCtx *c, void *user, IrValue *jb, int64_t ncols, IrValue *k0,
                  IrValue *kc, IrValue *task);
  /* Optional: after column block [jb, jb+ncols)'s last K block, in its
   * task (e.g. moving the block's columns of C where they belong); its own
   * loops may be parallel only when tasks <= 1. */
  void (*finish)(LwCtx *c, void *user, IrValue *jb, int64_t ncols, IrValue *task);
  /* Integer products (int8 quantization): A and B are i32 buffers whose
   * elements each hold four bytes of consecutive k (K, k0 and kc count
   * these words), A's bytes unsigned and B's signed, or the other way
   * round with b_unsigned; the sums are i32 (arith.dot4), a K block's
   * partial sums pass through the f32 C as their bits, and the epilogue,
   * which must then be given, turns the i32 sum into C's f32. */
  bool int8, b_unsigned;
  /* C: element (i, j) at c_base + i*c_rs + j of the 1-D buffer c_buf. */
  IrValue *c_buf, *c_base;
  int64_t c_rs;
  /* The value stored at C(i, j .. j+lanes) from the sum v (a scalar when
   * lanes is 1); NULL: the sum itself. */
  IrValue *(*epilogue)(LwCtx *c, void *user, IrValue *i, IrValue *j, int lanes,
                       IrValue *v);
} GkGemm;

void gk_emit(LwCtx *c, const GkGemm *g);

/* The epilogue of a fused op (fused_conv, fused_matmul; passes/fuse.c):
 * its operand 3, R, has the result's type (it is added at R's element
 * ridx), and its `act` attribute names an activation applied last.
 * gk_fused_check is the shape rule's part; gk_fused_tail adds R (when
 * given) to y and applies the activation. */
bool gk_fused_check(IrModule *m, IrOp *op);
IrValue *gk_fused_tail(LwCtx *c, const IrOp *op, IrValue *R, IrValue *ridx, int lanes,
                       IrValue *y);

/* The data of an f32 weight with all its elements, or NULL (not a weight,
 * another type, or no data): what gk_pack can read at compile time. */
const float *gk_weight_f32(const IrValue *v);
/* A read in place, row-major: row i0 + r, element k0 + k at
 * off + (i0 + r) * ld + k0 + k of buf (off NULL: 0). */
void gk_rows_in_place(LwCtx *c, IrValue *buf, IrValue *off, IrValue *i0, IrValue *k0,
                      int64_t ld, GkOperand *a);
/* A 1-D view of a static buffer or weight (itself when already 1-D). */
IrValue *gk_flat(LwCtx *c, IrValue *buf);
/* base + k * v as an index value (folded when v is 0). */
IrValue *gk_axpy(LwCtx *c, IrValue *base, IrValue *v, int64_t k);

/* An element (lanes 1) or vector of a packed weight as f32: widened from
 * the half-size floats of -weight-type (SchedTarget.weight_store). */
IrValue *gk_load(LwCtx *c, IrValue *buf, IrValue *idx, int lanes);

/* Operands packed at compile time into a new f32 weight of the module
 * (f16 or bf16 under -weight-type: read them with gk_load):
 * `batches` matrices, each of `rows` x K where get(user, b, r, k) is
 * element (r, k) (r: a row of A, or a column of B), cut into tiles of
 * `tile` rows ([K][tile] each, the last [K][rows % tile]), so a tile reads
 * contiguous memory as k advances.  Matrix b starts at element b*rows*K. */
IrValue *gk_pack(LwCtx *c, const IrValue *from, int64_t batches, int64_t rows,
                 int64_t K, int64_t tile,
                 double (*get)(const void *user, int64_t b, int64_t r, int64_t k),
                 const void *user);
/* The operand of the tile starting at row r0 (a multiple of the tile
 * size), `w` rows wide (the tile size, or the last tile's width), K block
 * k0, of matrix `batch` (an index value, or NULL for 0) of such a weight. */
void gk_packed_operand(LwCtx *c, IrValue *packed, int64_t rows_total, int64_t K,
                       IrValue *batch, IrValue *r0, int64_t w, IrValue *k0,
                       GkOperand *op);

/* ------------------------------------------------------------- int8
 * The quantized form of fused_conv and fused_matmul (passes/quantize.c,
 * docs/compression.md): W is an i8 weight, per output channel scaled by
 * the f32 weight w_scale (operand `scale_at`); attributes x_scale and
 * x_zero_point quantize X per tensor to u8 with QuantizeLinear's rule;
 *   Y = act((sum_k (q(X) - x_zero_point) * W) * x_scale * w_scale + bias + R).
 * gk_quant_check is the shape rule's part (channels: W's output channels).
 * (ONNX's QuantizeLinear/DequantizeLinear pairs around a Conv mean the
 * same.) */
bool gk_is_quantized(const IrOp *op, int w_at);
bool gk_quant_check(IrOp *op, int w_at, int scale_at, int64_t channels);

/* What the epilogue needs per output channel n, computed at compile time:
 * corr[n] = x_zero_point * sum_k W[n, k] (i32) and scale[n] = x_scale *
 * w_scale[n] (f32), so Y = float(acc - corr) * scale + bias with acc the
 * sum of q(X) * W: the raw bytes' product, which arith.dot4 computes. */
typedef struct GkQuant {
  float x_scale;
  int zero_point;
  IrValue *corr, *scale;  /* weights i32[channels], f32[channels] */
  /* With the attribute x_dynamic (-quantize=dynamic): X's scale and zero
   * point are measured at run time (gk_dynamic_params) into this f32[2]
   * buffer; corr then holds sum_k W and scale w_scale, which
   * gk_dequantize_channels multiplies by them.  NULL: static. */
  IrValue *params;
} GkQuant;
/* w(user, n, k): W's element k of channel n; w_scale: the op's operand. */
void gk_quant_channels(LwCtx *c, const IrOp *op, const IrValue *w_scale, int64_t channels,
                       int64_t K, int (*w)(const void *user, int64_t n, int64_t k),
                       const void *user, GkQuant *q);
/* float(acc - corr) * scale (lanes of channel values, or splats of one). */
IrValue *gk_dequantize(LwCtx *c, IrValue *acc, IrValue *corr, IrValue *scale);
/* The same for `lanes` channels from j, static or dynamic. */
IrValue *gk_dequantize_channels(LwCtx *c, const GkQuant *q, IrValue *acc, IrValue *j,
                                int lanes);
/* x_dynamic: X's range over its n elements (a 1-D buffer), widened to hold
 * 0, as DynamicQuantizeLinear takes it: scale (hi - lo) / 255 (1 when X is
 * all zeros), zero point round(-lo / scale); into q->params. */
void gk_dynamic_params(LwCtx *c, GkQuant *q, IrValue *x, int64_t n, int lanes);
/* q(x): x's u8 value (f32 lanes) as i32 lanes; then four of them (k, k+1,
 * k+2, k+3) as the word arith.dot4 reads. */
IrValue *gk_quantize(LwCtx *c, const GkQuant *q, IrValue *x);
IrValue *gk_word(LwCtx *c, IrValue *const *q4);
/* gk_pack for an i8 matrix: words of four k (K padded with zeros to a
 * multiple of 4), the tiles [K/4][tile] words each. */
IrValue *gk_pack_words(LwCtx *c, const IrValue *from, int64_t batches, int64_t rows,
                       int64_t K, int64_t tile,
                       int (*get)(const void *user, int64_t b, int64_t r, int64_t k),
                       const void *user);

#endif
