/*
 * schedule.h — how an op becomes loops on one target: the one place that
 * lowerings (and later the tuner) ask.
 *
 * A target is a description, not a fork of the lowering: its f32 vector
 * width, how many vector registers it has and its data caches
 * (SchedTarget, filled by the backend's registry from the target row, the
 * CPU and the features).  From it and an op's sizes, sched_* functions pick
 * the loop shape: for a matrix product the register tile (rows x vectors),
 * the K block that keeps a panel in L1 and the column block packed at a
 * time.  A NULL target means plain loops (-O0): the reference lowering.
 *
 * Exports by file (ir/schedule.c): sched_gemm, sched_gemm_transposed,
 * sched_column_split, sched_winograd, sched_target_describe.
 */
#ifndef TCC_IR_SCHEDULE_H
#define TCC_IR_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct SchedCostModel SchedCostModel;

typedef struct SchedTarget {
  const char *name;   /* the target's name ("x86_64") */
  int vec_bits;       /* f32 vector register width; 32 = a scalar FPU */
  int vec_regs;       /* registers of that width */
  int64_t l1_bytes;   /* L1 data cache per core */
  int64_t l2_bytes;   /* L2 per core */
  /* The widest vector (bits) whose four-way u8 x s8 dot product into i32
   * lanes has an instruction (arith.dot4: x86's vpdpbusd with AVX-512 VNNI
   * or AVX-VNNI, armv8's usdot or sdot); 0: none, widened multiplies. */
  int dot4_bits;
  bool threads;       /* parallel loops may run on several cores (a hosted
                         OS with a thread pool); bare metal runs them serially */
  /* -schedule=naive: one-row, one-vector tiles, no K blocks, no prefetch,
   * no transposition, depthwise rows as they are: a deliberately poor
   * default that tuning must climb from. */
  bool naive;
  /* -winograd=0: 3x3 stride-1 convolutions stay direct products
   * (sched_winograd); default true. */
  bool winograd;
  /* -weight-type: IR_F16 or IR_BF16 stores the weights that kernels pack at
   * compile time (gk_pack) at half size, widened to f32 as they are
   * loaded; anything else keeps them f32. */
  IrElem weight_store;
  /* The cost model's parameters (ir/cost_model.def); NULL: the built-in
   * ones.  --cost-model=FILE hands another set. */
  const SchedCostModel *cost;
} SchedTarget;

/* ------------------------------------------------------------ tuning --- */
/* A schedule chosen for one op instead of the model's: a tuning log's
 * entry (`--tuning=FILE`), or a candidate `tcc tune` times.  A field left
 * at SCHED_MODEL keeps the model's choice for it. */
enum { SCHED_MODEL = -1 };
/* Depthwise convolutions: vectors along output rows as they are, along
 * rows of a zero-padded copy, or along the channels (conv.c). */
enum { SCHED_DW_ROWS, SCHED_DW_ROWS_PADDED, SCHED_DW_CHANNELS_LAST, SCHED_DW_VARIANTS };
typedef struct SchedChoice {
  int mr, nv;          /* register tile */
  int64_t kc;          /* K block */
  int64_t prefetch;    /* bytes ahead; 0: none */
  int transposed;      /* 1: C^T = B^T A^T, then a transposing pass */
  int variant;         /* depthwise: SCHED_DW_*; a 3x3 conv's product: 0 direct,
                          2 or 4 Winograd's tile (sched_winograd) */
  int tasks;           /* threads' tasks a convolution's columns split into (1: none) */
  int block;           /* depthwise: outputs accumulated together, output rows of
                          the rows variants (1..SCHED_DW_MAX_ROWS), columns of
                          channels-last (1..SCHED_DW_MAX_COLS) */
} SchedChoice;
enum { SCHED_DW_MAX_ROWS = 6, SCHED_DW_MAX_COLS = 8 };
extern const SchedChoice sched_model_choice; /* every field SCHED_MODEL */
/* Field by field (a struct's padding bytes are not its value). */
bool sched_choice_equal(const SchedChoice *a, const SchedChoice *b);

typedef enum { SCHED_KIND_NONE, SCHED_KIND_GEMM, SCHED_KIND_DEPTHWISE } SchedKind;

/* What one op's lowering asked of the schedule and what it got: the
 * problem `tcc tune` searches over and the log's record of the default. */
typedef struct SchedProblem {
  SchedKind kind;
  int64_t M, N, K;     /* GEMM: C[M,N] += A[M,K] B[K,N], direct orientation */
  int max_rows;        /* SCHED_A_PACKED or SCHED_A_IN_PLACE */
  bool transposable;   /* the lowering can compute C^T instead */
  bool splittable;     /* its columns can split into threads' tasks */
  int64_t packed_bytes; /* operand packed at compile time (prefetched), bytes */
  unsigned variants;   /* depthwise: bit SCHED_DW_* set when the lowering can run it;
                          GEMM: bit 0 and bit m where a 3x3 conv can run direct and
                          as Winograd F(m x m) (none: no such choice) */
  SchedChoice used;    /* the schedule the op was given, every field set */
} SchedProblem;

/* The schedule context of the op being lowered (LwCtx.sched): the choice
 * to apply (NULL: the model's) and the problem, filled by the first
 * sched_* call that receives it.  Lowerings that ask several products
 * (attention, RNN cells) pass NULL: they are not tuned. */
typedef struct SchedOp {
  const SchedChoice *choice;
  SchedProblem problem;
} SchedOp;

/* "tile=6x4 kc=256 prefetch=8192 transposed=0" (and " tasks=2" where the
 * op splits its columns), "depthwise=rows-padded block=2":
 * the text of a choice in logs; fields at SCHED_MODEL are left out.
 * parse returns false on text it does not know (the log names it). */
void sched_choice_format(const SchedChoice *c, SchedKind kind, char *buf, size_t size);
bool sched_choice_parse(const char *text, SchedChoice *c);

/* A matrix product C[M,N] (+)= A[M,K] * B[K,N] computed in register tiles
 * of mr rows by nv vectors of `lanes` columns: A is broadcast one element
 * at a time, B is read a vector at a time, contiguous along N. */
typedef struct GemmSched {
  int lanes;      /* f32 per vector; 1 on a scalar FPU */
  int mr, nv;     /* register tile */
  int64_t kc;     /* K block: a B strip of kc x nv*lanes stays in L1 */
  int64_t nc;     /* columns packed at a time when B is packed while running */
  /* How far ahead along k (bytes) a tile prefetches an operand packed at
   * compile time, which streams from memory the first time a K block reads
   * it; 0: no prefetch (no cache hierarchy to fill ahead). */
  int64_t prefetch_bytes;
} GemmSched;

/* max_rows bounds mr: SCHED_A_PACKED when A is packed (a tile reads one
 * contiguous run), SCHED_A_IN_PLACE when a tile broadcasts from rows of A
 * K apart, which beyond 8 rows evict each other from the L1 sets they share. */
enum { SCHED_A_PACKED = 16, SCHED_A_IN_PLACE = 8 };
/* Fills s; returns the model's cycles for the whole product.  op (may be
 * NULL) applies its choice and records the problem; packed_bytes: the
 * size of an operand packed at compile time (0: none), for the prefetch. */
double sched_gemm(const SchedTarget *t, SchedOp *op, int64_t M, int64_t N, int64_t K,
                  int max_rows, int64_t packed_bytes, GemmSched *s);
/* Whether C^T = B^T A^T (vectors along M) plus a pass that transposes it
 * into C costs less than C itself: a narrow N (few output pixels)
 * with a wide M (many filters).  op's choice decides when it has one; the
 * problem is recorded in the direct orientation either way. */
bool sched_gemm_transposed(const SchedTarget *t, SchedOp *op, int64_t M, int64_t N,
                           int64_t K, int max_rows, int64_t packed_bytes);
/* A depthwise convolution's variant and block: op's choice when it names
 * a variant the lowering can run (bit in `variants`), else the lowering's
 * own pick `model` (naive: SCHED_DW_ROWS); op's block when it gives one in
 * the variant's range, else one output row at a time and four columns
 * (naive: one of either). */
typedef struct SchedDepthwise {
  int variant, block;
} SchedDepthwise;
SchedDepthwise sched_depthwise(const SchedTarget *t, SchedOp *op, unsigned variants, int model);

/* A 3x3, stride-1 convolution (C input channels, M filters, OH x OW
 * outputs) as Winograd's F(m x m, 3 x 3) (ir/ops/conv_winograd.c): tiles
 * of m x m outputs (4, or 2), blocks of whole tile rows whose transformed
 * tiles stay in L2, and the parallel tasks the blocks split into (1: the
 * products of a block run in parallel instead).  False where the direct
 * product is kept: -winograd=0, -weight-type=fp16|bf16 (the transformed
 * filters are 4x the filters for F(4x4)), a core without an L2 (a
 * microcontroller), a target with fewer than 4 lanes, a map
 * whose sides are not multiples of the tile, too few tiles to fill a
 * vector, or too few channels for the transforms to pay.  The products'
 * register tile is the op's tunable GEMM problem (-schedule=naive shapes
 * it too), and op's choice (SchedChoice.variant: 0, 2 or 4) may take the
 * direct product or the other tile instead of the model's; the problem
 * records which it could take (SchedProblem.variants). */
typedef struct SchedWinograd {
  int m;
  int64_t rows_per_block, tasks;
} SchedWinograd;
bool sched_winograd(const SchedTarget *t, SchedOp *op, int64_t C, int64_t M, int64_t OH,
                    int64_t OW, SchedWinograd *w);

/* The model's cycles for problem p under choice c (every field set). */
double sched_predict(const SchedTarget *t, const SchedProblem *p, const SchedChoice *c);
/* Every choice the problem can take on t (tiles that fit the registers,
 * both orientations where allowed, K blocks, prefetch distances, and at
 * threads > 1 the split into 1, 2 or 4 tasks; the depthwise variants),
 * best predicted first.  Returns how many; fills at most max of them. */
int sched_candidates(const SchedTarget *t, const SchedProblem *p, int threads, SchedChoice *out,
                     int max);

/* The cost model's parameters: ir/cost_model.def names them and holds
 * the built-in values, which `tcc tune --learn` rebuilds from tuning logs. */
struct SchedCostModel {
#define COST_PARAM(name, value, meaning) double name;
#include "cost_model.def"
#undef COST_PARAM
};
extern const SchedCostModel sched_cost_builtin;
/* Reads a file in cost_model.def's form (COST_PARAM lines; every parameter
 * given once).  False after a diagnostic naming the file and line. */
bool sched_cost_load(const char *path, SchedCostModel *out);
/* Writes one in that form, with a comment naming where it came from. */
bool sched_cost_write(const char *path, const SchedCostModel *c, const char *comment);

/* How a product's `cols` columns, in `units` of unit_cols (output rows, or
 * strips; the last may be short), become column blocks of at most
 * `max_per_block` units, and where the target runs threads, the blocks
 * parallel tasks (a contiguous run of blocks each, which one core packs
 * and computes).  Sets *per_block and *tasks (1: no tasks; the kernel's
 * strips are then the parallel loop).  The split weighs the time at one
 * thread and at two: each block's masked last vector, and the busier
 * thread's share.  op's choice of a task count (1: none) decides where
 * the split is possible. */
void sched_column_split(const SchedTarget *t, SchedOp *op, int64_t units, int64_t unit_cols,
                        int64_t cols, int64_t max_per_block, int64_t *per_block, int64_t *tasks);

/* A tuning log's choices by op key (ir_print_op_signature); the CLI reads
 * the log (src/tune.c) and `lower` looks each op up. */
typedef struct SchedTuning {
  int n;
  char **keys;
  SchedChoice *choices;
} SchedTuning;
const SchedChoice *sched_tuning_find(const SchedTuning *t, const char *key);

/* One line describing t ("x86_64: 512-bit vectors x 32, L1 48 KiB, ..."). */
void sched_target_describe(const SchedTarget *t, FILE *out);

#endif
