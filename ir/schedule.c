/*
 * schedule.c — the loop shapes of the kernels, from the target description.
 *
 * The register tile of a matrix product: acc[mr][nv] vectors stay in
 * registers for the whole K loop, plus nv vectors of B and one broadcast
 * of A, so mr*nv + nv + 1 <= registers.  Among the tiles that fit, the cost
 * model counts the cycles of the tiles the problem needs, edges included:
 * per k, mr*nv FMAs (two per cycle on the cores we target, one on a scalar
 * FPU) against nv loads plus mr broadcasts (two per cycle), plus a cycle
 * of loop overhead that bigger tiles amortize.  Wide tiles
 * waste work on narrow problems (a 49-column convolution output), tall ones
 * on few rows; the model weighs both.  The K block keeps the B strip that
 * one tile sweeps (kc x nv*lanes floats) within half of L1.
 *
 * Orientation: vectors run along N, so an N just above a multiple of the
 * lanes (49 = 3*16 + 1 columns) wastes most of a vector per strip; when
 * M fills vectors better, computing C^T and transposing it in one pass
 * costs less (sched_gemm_transposed, the same model both ways).
 */
#include "schedule.h"

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* A weight's panel is read once per K block from memory (ResNet-18's
 * 512-filter layers stream 9 MiB each, used by 4 row tiles): prefetched
 * this far ahead of the k being multiplied (measured: 4 KiB gave most of
 * the gain, 16 KiB no more, docs/performance.md). */
enum { GEMM_PREFETCH_BYTES = 8192 };

/* Cycles of one rows x vecs tile over K (a model, not a clock). */
static double tile_cost(int rows, int vecs, int lanes, int64_t K) {
  double fma_rate = lanes > 1 ? 2.0 : 1.0;
  double per_k = (double)(rows * vecs) / fma_rate;
  double mem = (double)(vecs + rows) / 2.0;
  if (mem > per_k) per_k = mem;
  /* the loop's own index and branch work, which a bigger tile amortizes */
  per_k += 1.0;
  /* a tile's stores and loop overhead, spread over K */
  return per_k * (double)K + (double)(rows * vecs) * 2.0 + 20.0;
}

/* Cycles of the whole product with an mr x nv tile: the full tiles, and at
 * the edges the narrower ones the kernel runs (the last rows; the last
 * strip's whole vectors and its one masked vector). */
static double gemm_cost(int mr, int nv, int lanes, int64_t M, int64_t N,
                        int64_t K) {
  int64_t nr = (int64_t)nv * lanes;
  int64_t row_full = M / mr, col_full = N / nr;
  int row_edge = (int)(M % mr), col_edge = (int)ceil_div(N % nr, lanes);
  double strip = (double)row_full * tile_cost(mr, nv, lanes, K) +
                 (row_edge ? tile_cost(row_edge, nv, lanes, K) : 0.0);
  double cost = strip * (double)col_full;
  if (col_edge)
    cost += (double)row_full * tile_cost(mr, col_edge, lanes, K) +
            (row_edge ? tile_cost(row_edge, col_edge, lanes, K) : 0.0);
  return cost;
}

double sched_gemm(const SchedTarget *t, int64_t M, int64_t N, int64_t K, int max_rows,
                  GemmSched *s) {
  int lanes = t->vec_bits / 32 > 1 ? t->vec_bits / 32 : 1;
  int regs = t->vec_regs;
  double best = -1;
  s->lanes = lanes, s->mr = 1, s->nv = 1;
  for (int nv = 1; nv <= 4; nv++)
    for (int mr = 1; mr <= max_rows; mr++) {
      if (mr * nv + nv + 1 > regs) continue;
      double cost = gemm_cost(mr, nv, lanes, M, N, K);
      if (best < 0 || cost < best) best = cost, s->mr = mr, s->nv = nv;
    }
  int64_t nr = (int64_t)s->nv * lanes;
  int64_t kc = t->l1_bytes / 2 / (nr * 4);
  if (kc < 16) kc = 16;
  s->kc = K <= kc ? K : kc;
  /* a packed panel of kc x nc within half of L2 */
  int64_t nc = t->l2_bytes / 2 / (s->kc * 4);
  nc = nc / nr * nr;
  s->nc = nc < nr ? nr : nc;
  s->prefetch_bytes = t->l2_bytes > t->l1_bytes ? GEMM_PREFETCH_BYTES : 0;
  return best;
}

bool sched_gemm_transposed(const SchedTarget *t, int64_t M, int64_t N, int64_t K,
                           int max_rows) {
  GemmSched s;
  if (t->vec_bits / 32 <= 1) return false; /* no lanes to fill */
  double direct = sched_gemm(t, M, N, K, max_rows, &s);
  /* the transposing pass: about two cycles per element of C */
  double transposed = sched_gemm(t, N, M, K, max_rows, &s) + 2.0 * (double)(M * N);
  return transposed < 0.9 * direct;
}

/* The task counts tried: one or two per core of the two- and four-core
 * parts we target, so that each core's share is whole tasks. */
static const int64_t column_task_counts[] = {2, 4};

/* The vectors of columns a split computes (a block's last vector is
 * masked: it costs as much as a whole one), at one thread and on the more
 * loaded of two (the pool hands each thread a contiguous half of the
 * tasks), plus a little per block (its weights read again, its packing
 * loop), which prefers fewer blocks on a tie. */
static double column_split_cost(int64_t units, int64_t unit_cols, int64_t cols, int lanes,
                                int64_t per, int64_t tasks, int64_t per_task) {
  double total = 0, first = 0;
  int64_t first_blocks = (tasks + 1) / 2 * per_task;
  for (int64_t b = 0; b * per < units; b++) {
    int64_t lo = b * per * unit_cols, hi = (b + 1) * per * unit_cols;
    if (hi > cols) hi = cols;
    double v = (double)ceil_div(hi - lo, lanes) + 0.25;
    total += v;
    if (b < first_blocks) first += v;
  }
  double busiest = first > total - first ? first : total - first;
  return total + 2.0 * busiest;
}

void sched_column_split(const SchedTarget *t, int64_t units, int64_t unit_cols, int64_t cols,
                        int64_t max_per_block, int64_t *per_block, int64_t *tasks) {
  if (max_per_block < 1) max_per_block = 1;
  if (max_per_block > units) max_per_block = units;
  *per_block = max_per_block;
  *tasks = 1;
  if (!t->threads || units < 2) return;
  int lanes = t->vec_bits / 32 > 1 ? t->vec_bits / 32 : 1;
  double best = -1;
  for (size_t i = 0; i < sizeof column_task_counts / sizeof *column_task_counts; i++)
    for (int64_t per = max_per_block; per >= 1; per--) {
      int64_t blocks = ceil_div(units, per);
      if (blocks < column_task_counts[i]) continue;
      int64_t per_task = ceil_div(blocks, column_task_counts[i]);
      int64_t n = ceil_div(blocks, per_task);
      double cost = column_split_cost(units, unit_cols, cols, lanes, per, n, per_task);
      if (best < 0 || cost < best - 1e-9) best = cost, *per_block = per, *tasks = n;
    }
}

void sched_target_describe(const SchedTarget *t, FILE *out) {
  fprintf(out, "%s: %d-bit vectors x %d, L1 %lld KiB, L2 %lld KiB\n", t->name,
          t->vec_bits, t->vec_regs, (long long)(t->l1_bytes / 1024),
          (long long)(t->l2_bytes / 1024));
}
