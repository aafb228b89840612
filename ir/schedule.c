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
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "schedule.h"

const SchedCostModel sched_cost_builtin = {
#define COST_PARAM(name, value, meaning) value,
#include "cost_model.def"
#undef COST_PARAM
};

const SchedChoice sched_model_choice = {SCHED_MODEL, SCHED_MODEL, SCHED_MODEL, SCHED_MODEL,
                                        SCHED_MODEL, SCHED_MODEL, SCHED_MODEL, SCHED_MODEL};

bool sched_choice_equal(const SchedChoice *a, const SchedChoice *b) {
  return a->mr == b->mr && a->nv == b->nv && a->kc == b->kc && a->prefetch == b->prefetch &&
         a->transposed == b->transposed && a->variant == b->variant && a->tasks == b->tasks &&
         a->block == b->block;
}

static const SchedCostModel *cost_of(const SchedTarget *t) {
  return t->cost ? t->cost : &sched_cost_builtin;
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* A weight's panel is read once per K block from memory (ResNet-18's
 * 512-filter layers stream 9 MiB each, used by 4 row tiles): prefetched
 * this far ahead of the k being multiplied (measured: 4 KiB gave most of
 * the gain, 16 KiB no more, docs/performance.md). */
enum { GEMM_PREFETCH_BYTES = 8192 };

/* Cycles of one rows x vecs tile over K (a model, not a clock). */
static double tile_cost(const SchedCostModel *cm, int rows, int vecs, int lanes, int64_t K) {
  double fma_rate = lanes > 1 ? cm->fma_per_cycle : cm->fma_per_cycle / 2.0;
  double per_k = (double)(rows * vecs) / fma_rate;
  double mem = (double)(vecs + rows) / cm->mem_per_cycle;
  if (mem > per_k) per_k = mem;
  /* the loop's own index and branch work, which a bigger tile amortizes */
  per_k += cm->k_overhead;
  /* a tile's stores and loop overhead, spread over K */
  return per_k * (double)K + (double)(rows * vecs) * cm->tile_store + cm->tile_fixed;
}

/* Cycles of the whole product with an mr x nv tile: the full tiles, and at
 * the edges the narrower ones the kernel runs (the last rows; the last
 * strip's whole vectors and its one masked vector). */
static double gemm_cost(const SchedCostModel *cm, int mr, int nv, int lanes, int64_t M,
                        int64_t N, int64_t K) {
  int64_t nr = (int64_t)nv * lanes;
  int64_t row_full = M / mr, col_full = N / nr;
  int row_edge = (int)(M % mr), col_edge = (int)ceil_div(N % nr, lanes);
  double strip = (double)row_full * tile_cost(cm, mr, nv, lanes, K) +
                 (row_edge ? tile_cost(cm, row_edge, nv, lanes, K) : 0.0);
  double cost = strip * (double)col_full;
  if (col_edge)
    cost += (double)row_full * tile_cost(cm, mr, col_edge, lanes, K) +
            (row_edge ? tile_cost(cm, row_edge, col_edge, lanes, K) : 0.0);
  return cost;
}

static int lanes_of(const SchedTarget *t) { return t->vec_bits / 32 > 1 ? t->vec_bits / 32 : 1; }

/* The model's own K block and panel for a tile of nr columns. */
static void gemm_blocks(const SchedTarget *t, int64_t K, int64_t nr, GemmSched *s) {
  int64_t kc = t->l1_bytes / 2 / (nr * 4);
  if (kc < 16) kc = 16;
  s->kc = K <= kc ? K : kc;
  /* a packed panel of kc x nc within half of L2 */
  int64_t nc = t->l2_bytes / 2 / (s->kc * 4);
  nc = nc / nr * nr;
  s->nc = nc < nr ? nr : nc;
}

static void record_problem(SchedOp *op, SchedKind kind, int64_t M, int64_t N, int64_t K,
                           int max_rows, int64_t packed_bytes) {
  if (!op || op->problem.kind != SCHED_KIND_NONE) return;
  /* what sched_winograd noted before the product was asked */
  unsigned variants = op->problem.variants;
  int winograd = variants ? op->problem.used.variant : SCHED_MODEL;
  op->problem = (SchedProblem){.kind = kind, .M = M, .N = N, .K = K, .max_rows = max_rows,
                               .packed_bytes = packed_bytes, .variants = variants,
                               .used = sched_model_choice};
  op->problem.used.transposed = 0;
  op->problem.used.variant = winograd;
}

static bool tile_fits(const SchedTarget *t, int mr, int nv, int max_rows) {
  return mr >= 1 && nv >= 1 && nv <= 4 && mr <= max_rows && mr * nv + nv + 1 <= t->vec_regs;
}

double sched_gemm(const SchedTarget *t, SchedOp *op, int64_t M, int64_t N, int64_t K,
                  int max_rows, int64_t packed_bytes, GemmSched *s) {
  const SchedCostModel *cm = cost_of(t);
  int lanes = lanes_of(t);
  double best = -1;
  s->lanes = lanes, s->mr = 1, s->nv = 1;
  for (int nv = 1; nv <= 4 && !t->naive; nv++)
    for (int mr = 1; mr <= max_rows; mr++) {
      if (!tile_fits(t, mr, nv, max_rows)) continue;
      double cost = gemm_cost(cm, mr, nv, lanes, M, N, K);
      if (best < 0 || cost < best) best = cost, s->mr = mr, s->nv = nv;
    }
  record_problem(op, SCHED_KIND_GEMM, M, N, K, max_rows, packed_bytes);
  const SchedChoice *c = op ? op->choice : NULL;
  if (c && c->mr != SCHED_MODEL && tile_fits(t, c->mr, c->nv, max_rows))
    s->mr = c->mr, s->nv = c->nv;
  if (best < 0 || (c && c->mr != SCHED_MODEL)) best = gemm_cost(cm, s->mr, s->nv, lanes, M, N, K);
  gemm_blocks(t, K, (int64_t)s->nv * lanes, s);
  if (t->naive) s->kc = K;
  if (c && c->kc != SCHED_MODEL && c->kc >= 1) s->kc = c->kc < K ? c->kc : K;
  s->prefetch_bytes = t->l2_bytes > t->l1_bytes && !t->naive ? GEMM_PREFETCH_BYTES : 0;
  if (c && c->prefetch != SCHED_MODEL) s->prefetch_bytes = c->prefetch;
  if (op) {
    SchedChoice *u = &op->problem.used;
    u->mr = s->mr, u->nv = s->nv, u->kc = s->kc, u->prefetch = s->prefetch_bytes;
  }
  return best;
}

/* The model's cycles for the product in one orientation with this tile,
 * K block and prefetch (sched_predict's GEMM part). */
static double gemm_predict(const SchedTarget *t, const SchedCostModel *cm, int64_t M, int64_t N,
                           int64_t K, const SchedChoice *c, int64_t packed_bytes) {
  int lanes = lanes_of(t);
  double cost = gemm_cost(cm, c->mr, c->nv, lanes, M, N, K);
  int64_t kc = c->kc >= 1 && c->kc < K ? c->kc : K;
  /* each K block after the first reloads and stores every accumulator */
  double vectors = (double)M * (double)ceil_div(N, lanes);
  cost += (double)(ceil_div(K, kc) - 1) * vectors * cm->tile_store;
  /* a strip beyond half of L1 is read from L2 on every tile */
  int64_t strip = kc * c->nv * lanes * 4;
  if (strip > t->l1_bytes / 2)
    cost += cm->l1_overflow * (double)K * (double)c->nv * (double)(M / (c->mr ? c->mr : 1) + 1) *
            (double)ceil_div(N, (int64_t)c->nv * lanes);
  if (packed_bytes > 0)
    cost += c->prefetch > 0 ? cm->prefetch_per_byte * (double)packed_bytes
                            : cm->stream_per_byte * (double)packed_bytes;
  return cost;
}

double sched_predict(const SchedTarget *t, const SchedProblem *p, const SchedChoice *c) {
  const SchedCostModel *cm = cost_of(t);
  if (p->kind != SCHED_KIND_GEMM) return 0;
  if (c->transposed == 1)
    return gemm_predict(t, cm, p->N, p->M, p->K, c, p->packed_bytes) +
           cm->transpose_per_element * (double)(p->M * p->N);
  return gemm_predict(t, cm, p->M, p->N, p->K, c, p->packed_bytes);
}

bool sched_gemm_transposed(const SchedTarget *t, SchedOp *op, int64_t M, int64_t N,
                           int64_t K, int max_rows, int64_t packed_bytes) {
  GemmSched s;
  record_problem(op, SCHED_KIND_GEMM, M, N, K, max_rows, packed_bytes);
  bool can = t->vec_bits / 32 > 1; /* no lanes to fill on a scalar FPU */
  if (op) op->problem.transposable = can;
  bool transposed = false;
  if (can && !t->naive) {
    double direct = sched_gemm(t, NULL, M, N, K, max_rows, 0, &s);
    /* the transposing pass, per element of C */
    double flipped = sched_gemm(t, NULL, N, M, K, max_rows, 0, &s) +
                     cost_of(t)->transpose_per_element * (double)(M * N);
    transposed = flipped < direct;
  }
  if (can && op && op->choice && op->choice->transposed != SCHED_MODEL)
    transposed = op->choice->transposed == 1;
  if (op) op->problem.used.transposed = transposed;
  return transposed;
}

/* The largest block a depthwise variant takes. */
static int dw_max_block(int variant) {
  return variant == SCHED_DW_CHANNELS_LAST ? SCHED_DW_MAX_COLS : SCHED_DW_MAX_ROWS;
}

SchedDepthwise sched_depthwise(const SchedTarget *t, SchedOp *op, unsigned variants, int model) {
  SchedDepthwise d = {t->naive ? SCHED_DW_ROWS : model, 1};
  const SchedChoice *c = op ? op->choice : NULL;
  if (c && c->variant != SCHED_MODEL && (variants >> c->variant & 1u)) d.variant = c->variant;
  /* a row at a time: blocks helped some of MobileNetV2's layers and hurt
   * others (docs/tuning.md), so tuning picks them; four columns give four
   * FMA chains */
  if (!t->naive && d.variant == SCHED_DW_CHANNELS_LAST) d.block = 4;
  if (c && c->block >= 1 && c->block <= dw_max_block(d.variant)) d.block = c->block;
  if (op && op->problem.kind == SCHED_KIND_NONE) {
    op->problem = (SchedProblem){.kind = SCHED_KIND_DEPTHWISE, .variants = variants,
                                 .used = sched_model_choice};
    op->problem.used.variant = d.variant;
    op->problem.used.block = d.block;
  }
  return d;
}

/* ---------------------------------------------------------- candidates */
typedef struct Ranked {
  SchedChoice c;
  double cost;
  int order;
} Ranked;

static int cmp_ranked(const void *a, const void *b) {
  const Ranked *x = a, *y = b;
  if (x->cost != y->cost) return x->cost < y->cost ? -1 : 1;
  return x->order - y->order;
}

/* The task counts a split may take (sched_column_split tries 2 and 4). */
static const int64_t column_task_counts[] = {2, 4};
enum { NUM_TASK_COUNTS = sizeof column_task_counts / sizeof *column_task_counts };

int sched_candidates(const SchedTarget *t, const SchedProblem *p, int threads, SchedChoice *out,
                     int max) {
  enum { CAP = 4096 };
  Ranked *r = malloc(sizeof *r * CAP);
  IR_ASSERT(r);
  int n = 0;
  if (p->kind == SCHED_KIND_DEPTHWISE) {
    /* the lowering's own pick first, then its other blocks, then the
     * other variants it can run with each block */
    for (int pass = 0; pass < 2; pass++)
      for (int v = 0; v < SCHED_DW_VARIANTS; v++) {
        if (!(p->variants >> v & 1u) || (pass == 0) != (v == p->used.variant)) continue;
        /* (a log from before blocks has none) */
        int first = pass == 0 && p->used.block >= 1 ? p->used.block : 1;
        for (int b = 0; b <= dw_max_block(v) && n < CAP; b++) {
          int block = b == 0 ? first : b;
          if (b > 0 && block == first) continue;
          r[n] = (Ranked){sched_model_choice, n, n};
          r[n].c.variant = v;
          r[n].c.block = block;
          n++;
        }
      }
  } else if (p->kind == SCHED_KIND_GEMM) {
    int lanes = lanes_of(t);
    for (int tr = 0; tr <= (p->transposable ? 1 : 0); tr++) {
      int64_t K = p->K, cols = tr ? p->M : p->N;
      for (int nv = 1; nv <= 4; nv++)
        for (int mr = 1; mr <= p->max_rows; mr++) {
          if (!tile_fits(t, mr, nv, p->max_rows)) continue;
          if ((int64_t)(nv - 1) * lanes >= cols) continue; /* a whole vector of nothing */
          GemmSched blocks;
          gemm_blocks(t, K, (int64_t)nv * lanes, &blocks);
          int64_t kcs[4] = {blocks.kc, K, blocks.kc / 2, blocks.kc * 2};
          int64_t pfs[3] = {GEMM_PREFETCH_BYTES, 0, GEMM_PREFETCH_BYTES * 2};
          for (int i = 0; i < 4; i++) {
            /* a block under 16 only when it is all of K (a 3x3 window on one channel) */
            if ((kcs[i] < 16 && kcs[i] != K) || kcs[i] > K || (i > 0 && kcs[i] == blocks.kc) ||
                (i > 1 && kcs[i] == K))
              continue;
            for (int j = 0; j < (p->packed_bytes > 0 ? 3 : 1); j++) {
              SchedChoice c = {mr, nv, kcs[i], p->packed_bytes > 0 ? pfs[j] : 0, tr,
                               SCHED_MODEL, SCHED_MODEL, SCHED_MODEL};
              double cost = sched_predict(t, p, &c);
              /* the split: the op's own count first, then none and the others */
              bool split = threads > 1 && p->splittable;
              for (int k = 0; k <= (split ? NUM_TASK_COUNTS + 1 : 0) && n < CAP; k++) {
                int tasks = k == 0 ? p->used.tasks : k == 1 ? 1 : (int)column_task_counts[k - 2];
                if (k > 0 && tasks == p->used.tasks) continue;
                c.tasks = tasks;
                r[n] = (Ranked){c, cost, n};
                n++;
              }
            }
          }
        }
    }
    /* a 3x3 conv: the direct product or the other Winograd tile, each with
     * the model's tile, ranked as the schedule it replaces */
    for (int v = 0; v <= 4 && p->variants; v += 2)
      if ((p->variants >> v & 1u) && v != p->used.variant && n < CAP) {
        r[n] = (Ranked){sched_model_choice, sched_predict(t, p, &p->used), n};
        r[n].c.variant = v;
        n++;
      }
  }
  qsort(r, (size_t)n, sizeof *r, cmp_ranked);
  for (int i = 0; i < n && i < max; i++) out[i] = r[i].c;
  free(r);
  return n;
}

const SchedChoice *sched_tuning_find(const SchedTuning *t, const char *key) {
  for (int i = 0; t && i < t->n; i++)
    if (!strcmp(t->keys[i], key)) return &t->choices[i];
  return NULL;
}

/* ---------------------------------------------------------- choice text */
static const char *const dw_names[SCHED_DW_VARIANTS] = {"rows", "rows-padded", "channels-last"};

void sched_choice_format(const SchedChoice *c, SchedKind kind, char *buf, size_t size) {
  if (kind == SCHED_KIND_DEPTHWISE) {
    int n = snprintf(buf, size, "depthwise=%s",
                     c->variant >= 0 && c->variant < SCHED_DW_VARIANTS ? dw_names[c->variant]
                                                                        : "model");
    if (c->block >= 1 && n > 0 && (size_t)n < size)
      snprintf(buf + n, size - (size_t)n, " block=%d", c->block);
    return;
  }
  if (c->mr == SCHED_MODEL) { /* the model's tile with another product */
    snprintf(buf, size, "winograd=%d", c->variant);
    return;
  }
  int n = snprintf(buf, size, "tile=%dx%d kc=%lld prefetch=%lld transposed=%d", c->mr, c->nv,
                   (long long)c->kc, (long long)c->prefetch, c->transposed);
  if (c->tasks >= 1 && n > 0 && (size_t)n < size)
    n += snprintf(buf + n, size - (size_t)n, " tasks=%d", c->tasks);
  if (c->variant >= 0 && n > 0 && (size_t)n < size)
    snprintf(buf + n, size - (size_t)n, " winograd=%d", c->variant);
}

static bool winograd_tile_ok(int v) { return v == 0 || v == 2 || v == 4; }

bool sched_choice_parse(const char *text, SchedChoice *c) {
  *c = sched_model_choice;
  if (!strncmp(text, "depthwise=", 10)) {
    for (int v = 0; v < SCHED_DW_VARIANTS; v++) {
      size_t len = strlen(dw_names[v]);
      if (strncmp(text + 10, dw_names[v], len)) continue;
      const char *rest = text + 10 + len;
      if (*rest && *rest != ' ') continue;
      c->variant = v;
      if (!*rest) return true; /* a log from before blocks */
      int used = 0;
      return sscanf(rest, " block=%d%n", &c->block, &used) == 1 && !rest[used] &&
             c->block >= 1 && c->block <= dw_max_block(v);
    }
    return false;
  }
  long long kc, pf;
  int used = 0, more = 0;
  if (sscanf(text, "winograd=%d%n", &c->variant, &used) == 1)
    return !text[used] && winograd_tile_ok(c->variant);
  if (sscanf(text, "tile=%dx%d kc=%lld prefetch=%lld transposed=%d%n", &c->mr, &c->nv, &kc, &pf,
             &c->transposed, &used) != 5 || c->mr < 1 || c->mr > 64 || c->nv < 1 || c->nv > 4 ||
      kc < 1 || pf < 0 || c->transposed < 0 || c->transposed > 1)
    return false;
  if (!strncmp(text + used, " tasks=", 7)) {
    if (sscanf(text + used, " tasks=%d%n", &c->tasks, &more) != 1 ||
        (c->tasks != 1 && c->tasks != 2 && c->tasks != 4))
      return false;
    used += more;
  }
  if (!strncmp(text + used, " winograd=", 10)) {
    more = 0;
    if (sscanf(text + used, " winograd=%d%n", &c->variant, &more) != 1 ||
        !winograd_tile_ok(c->variant))
      return false;
    used += more;
  }
  if (text[used]) return false;
  c->kc = kc, c->prefetch = pf;
  return true;
}

/* ---------------------------------------------------------- cost file */
bool sched_cost_load(const char *path, SchedCostModel *out) {
  static const char *const names[] = {
#define COST_PARAM(name, value, meaning) #name,
#include "cost_model.def"
#undef COST_PARAM
  };
  enum { NUM = sizeof names / sizeof *names };
  double *v = (double *)out;
  bool seen[NUM] = {false};
  FILE *f = fopen(path, "r");
  if (!f) {
    diag_at(DIAG_ERROR, &(IrLoc){.file = path}, "cannot read the cost model");
    return false;
  }
  char line[512];
  int ln = 0;
  bool ok = true;
  while (ok && fgets(line, sizeof line, f)) {
    ln++;
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (strncmp(p, "COST_PARAM(", 11)) continue; /* comments, blank lines */
    char name[64];
    double value;
    if (sscanf(p + 11, "%63[a-z0-9_], %lf", name, &value) != 2) {
      diag_at(DIAG_ERROR, &(IrLoc){.file = path, .line = ln, .col = 1},
              "expected COST_PARAM(name, value, \"meaning\")");
      ok = false;
      break;
    }
    int i = 0;
    while (i < NUM && strcmp(names[i], name)) i++;
    if (i == NUM || seen[i]) {
      diag_at(DIAG_ERROR, &(IrLoc){.file = path, .line = ln, .col = 1}, "%s parameter '%s'",
              i == NUM ? "unknown" : "repeated", name);
      ok = false;
      break;
    }
    if (!(value > 0) || value > 1e6) {
      diag_at(DIAG_ERROR, &(IrLoc){.file = path, .line = ln, .col = 1},
              "'%s' must be positive and finite", name);
      ok = false;
      break;
    }
    seen[i] = true, v[i] = value;
  }
  fclose(f);
  for (int i = 0; ok && i < NUM; i++)
    if (!seen[i]) {
      diag_at(DIAG_ERROR, &(IrLoc){.file = path}, "parameter '%s' is missing", names[i]);
      ok = false;
    }
  return ok;
}

bool sched_cost_write(const char *path, const SchedCostModel *c, const char *comment) {
  FILE *f = fopen(path, "w");
  if (!f) {
    diag_at(DIAG_ERROR, &(IrLoc){.file = path}, "cannot write the cost model");
    return false;
  }
  fprintf(f, "/*\n * cost_model.def — the parameters of the schedule's cost model\n"
             " * (ir/schedule.c), in cycles.  Written by `tcc tune --learn`\n"
             " * (docs/tuning.md): %s\n */\n", comment);
  const double *v = (const double *)c;
  int i = 0;
#define COST_PARAM(name, value, meaning) \
  fprintf(f, "COST_PARAM(%s, %.6g, \"%s\")\n", #name, v[i], meaning), i++;
#include "cost_model.def"
#undef COST_PARAM
  (void)i;
  return fclose(f) == 0;
}


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

bool sched_winograd(const SchedTarget *t, SchedOp *op, int64_t C, int64_t M, int64_t OH,
                    int64_t OW, SchedWinograd *w) {
  int lanes = t ? t->vec_bits / 32 : 1;
  /* The transformed filters are (m+2)^2 / 9 times the filters' size (4x
   * for F(4x4)): not where the weights were asked to be small
   * (-weight-type), nor on a core without an L2 (a microcontroller, whose
   * flash pays for them; the blocks are sized by L2 too). */
  if (!t || !t->winograd || lanes < 4 || C < 16 || M < 16 || t->weight_store == IR_F16 ||
      t->weight_store == IR_BF16 || t->l2_bytes <= t->l1_bytes)
    return false;
  /* F(4x4) (36 products a tile of 16 outputs) or F(2x2) (16 a tile of 4),
   * whichever multiplies less over the tiles that cover the map (the last
   * ones hang over an edge that m does not divide): 4 where it divides,
   * 2 on 7x7 or 13x13 maps... among those whose tile rows fill a third of a
   * vector and whose map at least two vectors */
  unsigned can = 0;
  w->m = 0;
  double best = 0;
  for (int m = 4; m >= 2; m -= 2) {
    int64_t th = (OH + m - 1) / m, tw = (OW + m - 1) / m;
    double work = (double)(th * tw) * (m + 2) * (m + 2);
    if (tw * 3 < lanes || th * tw < 2 * lanes) continue;
    can |= 1u << m;
    if (!w->m || work < best) w->m = m, best = work;
  }
  if (!can) return false;
  /* and less than the direct product's 9 a pixel, by a margin for the
   * transforms */
  if (best > 0.6 * 9.0 * (double)(OH * OW)) w->m = 0;
  if (op && op->choice && op->choice->variant != SCHED_MODEL &&
      (op->choice->variant == 0 || (op->choice->variant < 32 && can >> op->choice->variant & 1u)))
    w->m = op->choice->variant;
  if (op && op->problem.kind == SCHED_KIND_NONE) {
    op->problem.variants = can | 1u; /* bit 0: direct */
    op->problem.used.variant = w->m;
  }
  if (!w->m) return false;
  int64_t a2 = (w->m + 2) * (w->m + 2), TH = (OH + w->m - 1) / w->m, TW = (OW + w->m - 1) / w->m;
  /* the block: the most tile rows (a divisor of TH) whose V and Mb fit in
   * twice L2.  Measured: larger blocks win even past L2 (the products
   * stream V in order, which the prefetcher follows), while a block of one
   * row of 7 tiles starved the kernel (ResNet-18's 14x14 layer: 2.27 ms in
   * one-row blocks, 1.23 ms in one block, 2.21 ms direct) */
  int64_t per_row = a2 * (C + M) * TW * 4, budget = t->l2_bytes * 2;
  w->rows_per_block = 1;
  for (int64_t r = 2; r <= TH; r++)
    if (TH % r == 0 && r * per_row <= budget) w->rows_per_block = r;
  int64_t blocks = TH / w->rows_per_block;
  w->tasks = !t->threads || blocks < 2 ? 1 : blocks % 4 == 0 ? 4 : 2;
  return true;
}

/* The task counts tried (column_task_counts): one or two per core of the
 * two- and four-core parts we target, so that each core's share is whole
 * tasks. */
void sched_column_split(const SchedTarget *t, SchedOp *op, int64_t units, int64_t unit_cols,
                        int64_t cols, int64_t max_per_block, int64_t *per_block, int64_t *tasks) {
  if (max_per_block < 1) max_per_block = 1;
  if (max_per_block > units) max_per_block = units;
  *per_block = max_per_block;
  *tasks = 1;
  int forced = op && op->choice ? op->choice->tasks : SCHED_MODEL;
  if (op) op->problem.used.tasks = 1;
  if (!t->threads || units < 2) return;
  if (op) op->problem.splittable = true;
  if (forced == 1) return;
  int lanes = t->vec_bits / 32 > 1 ? t->vec_bits / 32 : 1;
  double best = -1;
  for (size_t i = 0; i < NUM_TASK_COUNTS; i++)
    for (int64_t per = max_per_block; per >= 1; per--) {
      if (forced != SCHED_MODEL && column_task_counts[i] != forced) continue;
      int64_t blocks = ceil_div(units, per);
      if (blocks < column_task_counts[i]) continue;
      int64_t per_task = ceil_div(blocks, column_task_counts[i]);
      int64_t n = ceil_div(blocks, per_task);
      double cost = column_split_cost(units, unit_cols, cols, lanes, per, n, per_task);
      if (best < 0 || cost < best - 1e-9) best = cost, *per_block = per, *tasks = n;
    }
  if (op) op->problem.used.tasks = (int)*tasks;
}

void sched_target_describe(const SchedTarget *t, FILE *out) {
  fprintf(out, "%s: %d-bit vectors x %d, L1 %lld KiB, L2 %lld KiB\n", t->name,
          t->vec_bits, t->vec_regs, (long long)(t->l1_bytes / 1024),
          (long long)(t->l2_bytes / 1024));
}
