/* index_ab.c — the cost of the run-time index checks, measured in one
 * process: the same model compiled twice (-name=chk, and -name=nochk with
 * -index-checks=0), called alternately so that noise on a shared machine
 * hits both alike.  Prints each one's median and the median of the
 * per-pair ratios chk / nochk.  Built and run by tests/bench/index_checks.sh
 * (AB=1).
 *   usage: index_ab PAIRS DIM... INPUT.bin...   (one DIM per model sym, raw inputs) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "chk.h"
#include "nochk.h"

#ifdef CHK_NUM_DIMS
#define RUN(m, c, d, i, o) m##_run_dims(c, d, i, o)
#define NDIMS CHK_NUM_DIMS
#else
#define RUN(m, c, d, i, o) ((void)(d), m##_run(c, i, o))
#define NDIMS 0
#endif

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  enum { NI = CHK_NUM_INPUTS, NO = CHK_NUM_OUTPUTS };
  if (argc != 2 + NDIMS + NI) return 2;
  int n = atoi(argv[1]);
  int64_t given[NDIMS + 1], dims[NDIMS + 1];
  for (int k = 0; k < NDIMS; k++) given[k] = atoll(argv[2 + k]);
  const void *in[NI + 1];
  void *out[NO + 1];
  for (int i = 0; i < NI; i++) {
    unsigned char *b = calloc(1, chk_inputs[i].nbytes + 1);
    FILE *f = fopen(argv[2 + NDIMS + i], "rb");
    if (!b || !f) return 3;
    if (fread(b, 1, chk_inputs[i].nbytes, f) == 0) return 3;
    fclose(f);
    in[i] = b;
  }
  for (int i = 0; i < NO; i++) out[i] = calloc(1, chk_outputs[i].nbytes + 1);
  size_t ws = CHK_WORKSPACE_SIZE > NOCHK_WORKSPACE_SIZE ? CHK_WORKSPACE_SIZE : NOCHK_WORKSPACE_SIZE;
  void *w = ws ? aligned_alloc(TCC_WORKSPACE_ALIGN, (ws + 63) / 64 * 64) : NULL;
  tcc_ctx ctx = tcc_ctx_init(w, ws);
  double *ta = calloc((size_t)n, sizeof *ta), *tb = calloc((size_t)n, sizeof *tb),
         *r = calloc((size_t)n, sizeof *r);
  for (int i = 0; i < 2 * n + 20; i++) {
    int a = i & 1, pair = i / 2 - 10; /* 20 warm-up calls; the order alternates */
    if ((i / 2) & 1) a = !a;
    for (int k = 0; k < NDIMS; k++) dims[k] = given[k];
    double t0 = now_ms();
    int st = a ? RUN(chk, &ctx, dims, in, out) : RUN(nochk, &ctx, dims, in, out);
    double t1 = now_ms();
    if (st) {
      fprintf(stderr, "index_ab: %s\n", tcc_status_str(st));
      return 4;
    }
    if (pair >= 0) (a ? ta : tb)[pair] = t1 - t0;
  }
  for (int i = 0; i < n; i++) r[i] = ta[i] / tb[i];
  qsort(ta, (size_t)n, sizeof *ta, cmp);
  qsort(tb, (size_t)n, sizeof *tb, cmp);
  qsort(r, (size_t)n, sizeof *r, cmp);
  printf("index checks: median %.4f ms | -index-checks=0: median %.4f ms | median ratio %.4f "
         "(%d pairs)\n", ta[n / 2], tb[n / 2], r[n / 2], n);
  return 0;
}
