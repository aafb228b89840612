/*
 * lower.h — helpers for writing an op's lowering to loop-level IR.
 *
 * The `lower` pass gives each tensor op a LwCtx: a builder positioned where
 * the op stood, the buffers holding its operands (a buffer value, or a weight
 * value whose tensor type is read like a read-only buffer; NULL for an absent
 * optional operand) and the buffers its results must be written to.  The
 * op's lower hook emits loops that read `in` and write `out`, nothing else.
 *
 * Exports by file (ir/lower.c):
 *   lw_index, lw_const*, lw_for_*, lw_nest_*, lw_load, lw_store, lw_bin,
 *   lw_un, lw_cast, lw_cmp, lw_select, lw_fma, lw_dot4, lw_copy, lw_vector_span,
 *   lw_prefetch
 */
#ifndef TCC_IR_LOWER_H
#define TCC_IR_LOWER_H

#include "ir.h"

typedef struct LwCtx {
  IrModule *m;
  IrBuilder b;        /* insertion point; moves in and out of loop bodies */
  IrValue **in;       /* one per operand of the op being lowered */
  IrValue **out;      /* one per result */
  /* The target's description for the schedule (ir/schedule.h); NULL: plain
   * loops, the reference lowering (-O0). */
  const struct SchedTarget *target;
  /* The schedule context of the op being lowered (ir/schedule.h): a tuned
   * choice to apply and the problem the lowering asked; NULL: none. */
  struct SchedOp *sched;
  /* When > 0, the vector loads and stores emitted now touch only their
   * first valid_lanes lanes (mem.vload/vstore {valid}): a tile at an
   * operand's edge, so a partial vector needs no scalar loop. */
  int valid_lanes;
  /* Where the pass would like helper buffers: lw_alloc adds to the plan. */
} LwCtx;

/* Records the kernel this lowering chose for the op being lowered, for
 * the compile report (printf-style; ir_module_note_kernel). */
void lw_note_kernel(LwCtx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Constants */
IrValue *lw_index(LwCtx *c, int64_t v);                 /* index constant */
IrValue *lw_const_f(LwCtx *c, IrElem e, double v);      /* float scalar */
IrValue *lw_const_i(LwCtx *c, IrElem e, int64_t v);     /* int/bool scalar */

/* A counted loop lo..hi (exclusive) by step.  begin moves the builder into
 * the body and returns the induction variable; end moves it after the loop.
 * With iter args: `iters` are the initial values, *body_iters receives the
 * body's block arguments, and end takes the values to yield and returns the
 * loop op (whose results are the final values). */
IrOp *lw_for_begin(LwCtx *c, IrValue *lo, IrValue *hi, int64_t step,
                   IrValue **iv);
IrOp *lw_for_begin_iter(LwCtx *c, IrValue *lo, IrValue *hi, int64_t step,
                        int n_iters, IrValue *const *iters, IrValue **iv,
                        IrValue **body_iters);
void lw_for_end(LwCtx *c, IrOp *loop);
void lw_for_end_iter(LwCtx *c, IrOp *loop, int n, IrValue *const *yielded);

/* A loop nest over every index of dims[0..rank): ivs[i] gets each index.
 * rank 0 emits no loop (a scalar).  Close with lw_nest_end. */
typedef struct LwNest {
  int rank;
  IrOp *loops[IR_MAX_RANK];
} LwNest;
void lw_nest_begin(LwCtx *c, LwNest *nest, int rank, const int64_t *dims,
                   IrValue **ivs);
void lw_nest_end(LwCtx *c, LwNest *nest);
/* Where threads run (c->target->threads) and the nest (static dims, each
 * iteration one element of `elem`) moves at least 256 KiB, its outermost
 * loop of 2 or more iterations becomes a parallel loop: a data-movement
 * op's iterations write elements of their own. */
void lw_nest_parallel(LwCtx *c, LwNest *nest, const int64_t *dims, IrElem elem);

/* Memory: buf is a buffer or weight value; idx has one index per dim. */
IrValue *lw_load(LwCtx *c, IrValue *buf, IrValue *const *idx);
void lw_store(LwCtx *c, IrValue *v, IrValue *buf, IrValue *const *idx);
/* A hint that buf's element at idx is read soon (mem.prefetch); idx may
 * lie past the end. */
void lw_prefetch(LwCtx *c, IrValue *buf, IrValue *const *idx);
/* Vector memory: `lanes` contiguous elements along the last dim (lanes 1:
 * a scalar load/store).  lw_splat broadcasts a scalar (lanes 1: itself). */
IrValue *lw_vload(LwCtx *c, IrValue *buf, IrValue *const *idx, int lanes);
/* Lane l reads the element `stride * l` after idx along the last dim. */
IrValue *lw_vload_strided(LwCtx *c, IrValue *buf, IrValue *const *idx, int lanes,
                          int64_t stride);
void lw_vstore(LwCtx *c, IrValue *v, IrValue *buf, IrValue *const *idx);
/* Lane l writes the element `stride * l` after idx; the others keep theirs. */
void lw_vstore_strided(LwCtx *c, IrValue *v, IrValue *buf, IrValue *const *idx,
                       int64_t stride);
IrValue *lw_splat(LwCtx *c, IrValue *scalar, int lanes);
/* body(i) for i = lo, lo+lanes, ... < hi, each on `lanes` elements; the
 * last, when fewer remain, with c->valid_lanes set to them (its loads and
 * stores masked), so a row of any length keeps its vectors. */
void lw_vector_span(LwCtx *c, int64_t lo, int64_t hi, int lanes,
                    void (*body)(LwCtx *c, void *user, IrValue *i), void *user);
/* Copies all of src into dst (same element count and type). */
void lw_copy(LwCtx *c, IrValue *src, IrValue *dst);
/* A scratch buffer of the workspace, live from here to the op's end. */
IrValue *lw_alloc(LwCtx *c, IrElem e, int rank, const int64_t *dims);

/* Arithmetic on scalars or vectors; result type = a's type (cmp: bool). */
IrValue *lw_bin(LwCtx *c, IrOpKind k, IrValue *a, IrValue *b);
IrValue *lw_un(LwCtx *c, IrOpKind k, IrValue *a);
IrValue *lw_fma(LwCtx *c, IrValue *a, IrValue *b, IrValue *acc);
/* acc + the four u8 x i8 byte products of each i32 lane (arith.dot4) */
IrValue *lw_dot4(LwCtx *c, IrValue *acc, IrValue *u, IrValue *s);
/* Converts v to element type `to` (arith.cast; to or from an 8-bit float,
 * f4e2m1 or a sub-byte integer, the exact conversion composed of loop ops,
 * docs/ir.md).  lw_cast saturates where an 8-bit float overflows;
 * lw_cast_sat chooses (f4e2m1 always saturates). */
IrValue *lw_cast(LwCtx *c, IrValue *v, IrElem to);
IrValue *lw_cast_sat(LwCtx *c, IrValue *v, IrElem to, bool saturate);
/* To e8m0 with Cast's round_mode (lw_cast: up). */
IrValue *lw_e8m0_from_f32(LwCtx *c, IrValue *x, bool saturate, IrE8m0Round mode);
/* The same bits as `to`, an element type of the same size (arith.bitcast). */
IrValue *lw_bitcast(LwCtx *c, IrValue *v, IrElem to);
/* pred: "eq" "ne" "lt" "le" "gt" "ge" (signedness from the type; floats
 * compare ordered, "ne" unordered). */
IrValue *lw_cmp(LwCtx *c, const char *pred, IrValue *a, IrValue *b);
IrValue *lw_select(LwCtx *c, IrValue *cond, IrValue *a, IrValue *b);

/* elementwise.c: the activations a kernel's epilogue can apply, and the
 * value of one (its semantics stay in elementwise.c) at x, an f32 scalar
 * or vector of `lanes`; its attributes are read from `attrs` by the
 * activation's own names (alpha, beta, min, max, gamma). */
bool ew_fusable_activation(IrOpKind kind);
IrValue *ew_activation(LwCtx *c, const IrOp *attrs, IrOpKind kind, IrValue *x,
                       int lanes);
/* conv.c: whether a conv or fused_conv (tensor level, static) lowers to
 * the packed kernel that packs X as it runs (im2col panels) whenever a
 * schedule shapes the kernels (above -O0): f32, 2-D, weights known, at least 4 filters per
 * group, not a 1x1 stride-1 unpadded window.  The fuse pass folds a
 * preprocess into such a conv's packing only. */
bool conv_packs_input(const IrOp *op);
/* Value-dependent failure: where `ok` (a bool scalar) is false at run time,
 * the model stops and its entry point returns `status` (a tcc_status),
 * naming this op's node (rt.check, docs/ir.md). */
void lw_check(LwCtx *c, IrValue *ok, int status);
/* Checks, in a loop of its own, that every element of the integer tensor
 * `ind` lies in [-n, n-1] (allow_neg) or [0, n-1], else the run fails with
 * TCC_ERR_INDEX_OUT_OF_RANGE.  nb == 1: n = bounds[0] for every element;
 * nb > 1: ind's last dim has nb entries and entry j is checked against
 * bounds[j] (GatherND, ScatterND).  bounds are lw_dim codes.  An element
 * equal to *skip (when skip is not NULL) is exempt (ignore_index).  Call it
 * before the op's own loops, so a bad index stops the run before anything
 * is written; it emits nothing under -index-checks=0 (IrModule). */
void lw_check_indices(LwCtx *c, IrValue *ind, int nb, const int64_t *bounds,
                      bool allow_neg, const int64_t *skip);

/* Element type and dims of a buffer/weight operand.  A run-time dim (only
 * ops flagged OPF_DYN ever see one) comes back as LW_DYN_DIM(sym), a
 * negative code that lw_nest_begin, lw_dim_index, lw_alloc and
 * lw_broadcast_index understand; arithmetic on dims must go through
 * lw_dim_index instead (and `lw_dim(..) == 1` stays a valid test). */
#define LW_DYN_DIM(sym) (-2 - (int64_t)(sym))
#define LW_DIM_IS_DYN(d) ((d) <= -2)
IrElem lw_elem(const IrValue *buf);
int lw_rank(const IrValue *buf);
int64_t lw_dim(const IrValue *buf, int i);
/* All dims of a buffer/tensor as lw_dim codes; returns the rank. */
int lw_dims(const IrValue *v, int64_t *dims);
/* A tensor or buffer type from dims that may hold LW_DYN_DIM codes. */
IrType lw_type(IrTypeKind kind, IrElem e, int rank, const int64_t *dims);
/* A dim (static size or LW_DYN_DIM) as an index value: a constant, or
 * dim.get of the sym. */
IrValue *lw_dim_index(LwCtx *c, int64_t d);
/* Product of dims[0..n) as an index value (folded when all static). */
IrValue *lw_dims_product(LwCtx *c, int n, const int64_t *dims);

/* Index of an operand dim under numpy broadcasting: for an operand of rank
 * r broadcast to out rank R, fills idx[0..r) from out_ivs, using constant 0
 * where the operand's dim is 1 and the output's is not. */
void lw_broadcast_index(LwCtx *c, const IrValue *buf, int out_rank,
                        const int64_t *out_dims, IrValue *const *out_ivs,
                        IrValue **idx);

#endif
