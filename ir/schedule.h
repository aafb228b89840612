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
 * sched_column_split, sched_target_describe.
 */
#ifndef TCC_IR_SCHEDULE_H
#define TCC_IR_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct SchedTarget {
  const char *name;   /* the target's name ("x86_64") */
  int vec_bits;       /* f32 vector register width; 32 = a scalar FPU */
  int vec_regs;       /* registers of that width */
  int64_t l1_bytes;   /* L1 data cache per core */
  int64_t l2_bytes;   /* L2 per core */
  bool threads;       /* parallel loops may run on several cores (a hosted
                         OS with a thread pool); bare metal runs them serially */
} SchedTarget;

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
/* Fills s; returns the model's cycles for the whole product. */
double sched_gemm(const SchedTarget *t, int64_t M, int64_t N, int64_t K, int max_rows,
                  GemmSched *s);
/* Whether C^T = B^T A^T (vectors along M) plus a pass that transposes it
 * into C costs clearly less than C itself: a narrow N (few output pixels)
 * with a wide M (many filters). */
bool sched_gemm_transposed(const SchedTarget *t, int64_t M, int64_t N, int64_t K,
                           int max_rows);

/* How a product's `cols` columns, in `units` of unit_cols (output rows, or
 * strips; the last may be short), become column blocks of at most
 * `max_per_block` units, and where the target runs threads, the blocks
 * parallel tasks (a contiguous run of blocks each, which one core packs
 * and computes).  Sets *per_block and *tasks (1: no tasks; the kernel's
 * strips are then the parallel loop).  The split weighs the time at one
 * thread and at two: each block's masked last vector, and the busier
 * thread's share. */
void sched_column_split(const SchedTarget *t, int64_t units, int64_t unit_cols, int64_t cols,
                        int64_t max_per_block, int64_t *per_block, int64_t *tasks);

/* One line describing t ("x86_64: 512-bit vectors x 32, L1 48 KiB, ..."). */
void sched_target_describe(const SchedTarget *t, FILE *out);

#endif
