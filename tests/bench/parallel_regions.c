/*
 * parallel_regions.c — how a compiled model uses the thread pool: per run,
 * how many parallel loops it hands to ctx->parallel_for, how many of them
 * took under 20 us (where meeting the threads costs as much as the work),
 * and the time inside them against the whole run.  Built and run by
 * parallel_regions.sh; a benchmark tool, not a test.
 *   usage: regions ITERS THREADS   (the model compiled as "model")
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "model.h"
#include "tcc/pool.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static long calls, short_calls;
static double inside_ms;

static void counting(void *user, int64_t n, void (*body)(void *, int64_t, int64_t),
                     void *arg) {
  double t0 = now_ms();
  tcc_pool_parallel_for(user, n, body, arg);
  double d = now_ms() - t0;
  calls++, inside_ms += d;
  if (d < 0.02) short_calls++;
}

int main(int argc, char **argv) {
  int iters = argc > 1 ? atoi(argv[1]) : 50, threads = argc > 2 ? atoi(argv[2]) : 2;
  if (iters < 1 || threads < 1) return 2;
  size_t ws = (MODEL_WORKSPACE_SIZE + 63) / 64 * 64;
  void *in[MODEL_NUM_INPUTS + 1], *out[MODEL_NUM_OUTPUTS + 1];
  for (int i = 0; i < MODEL_NUM_INPUTS; i++) {
    size_t n = model_inputs[i].nbytes;
    unsigned char *p = calloc(1, n + 1);
    if (!p) return 3;
    for (size_t j = 0; j < n; j++) p[j] = (unsigned char)(j * 2654435761u >> 24) & 0x3f;
    in[i] = p;
  }
  for (int i = 0; i < MODEL_NUM_OUTPUTS; i++)
    if (!(out[i] = calloc(1, model_outputs[i].nbytes + 1))) return 3;
  tcc_pool *pool = tcc_pool_new(threads);
  void *w = ws ? aligned_alloc(64, ws) : NULL;
  if (!pool || (ws && !w)) return 3;
  tcc_ctx ctx = tcc_ctx_init(w, MODEL_WORKSPACE_SIZE);
  ctx.parallel_for = counting;
  ctx.parallel_user = pool;
  for (int i = 0; i < 3; i++) model_run(&ctx, (const void *const *)in, out);
  calls = short_calls = 0, inside_ms = 0;
  double t0 = now_ms();
  for (int i = 0; i < iters; i++)
    if (model_run(&ctx, (const void *const *)in, out)) return 4;
  double run_ms = (now_ms() - t0) / iters;
  printf("threads %d: %.3f ms a run, %ld parallel loops a run (%ld under 20 us), %.3f ms inside "
         "them\n",
         threads, run_ms, calls / iters, short_calls / iters, inside_ms / iters);
  tcc_pool_free(pool);
  free(w);
  for (int i = 0; i < MODEL_NUM_INPUTS; i++) free((void *)in[i]);
  for (int i = 0; i < MODEL_NUM_OUTPUTS; i++) free(out[i]);
  return 0;
}
