/*
 * tcc/pool.h — a small pthread pool whose parallel_for a tcc_ctx can use,
 * so that a compiled model runs its parallel loops on several threads.
 *
 *   tcc_pool *pool = tcc_pool_new(4);           // the caller + 3 threads
 *   tcc_ctx ctx = tcc_ctx_init(ws, size);
 *   ctx.parallel_for = tcc_pool_parallel_for;
 *   ctx.parallel_user = pool;
 *   ... mlp_run(&ctx, inputs, outputs) ...      // any number of calls
 *   tcc_pool_free(pool);
 *
 * Link with -ltccrt_pool -lpthread (hosted targets only: bare-metal
 * runtimes have no pool and leave parallel_for NULL).
 */
#ifndef TCC_POOL_H
#define TCC_POOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tcc_pool tcc_pool;

#define TCC_POOL_MAX_THREADS 4096

/* A pool of `threads` workers counting the caller's thread (threads - 1
 * are started and persist until tcc_pool_free).  NULL when threads is not
 * 1..TCC_POOL_MAX_THREADS or a thread cannot be started. */
tcc_pool *tcc_pool_new(int threads);

/* Stops and joins the threads; NULL is allowed.  No call may be running. */
void tcc_pool_free(tcc_pool *pool);

/* The tcc_parallel_for_fn of the pool (user = the pool): splits [0, n) into
 * c = min(n, threads) contiguous chunks of n / c or n / c + 1 iterations
 * (chunk k is [k*q + min(k,r), ...), q = n / c, r = n % c), calls body
 * once per chunk, and returns when all are done.  The caller's thread
 * runs chunks too: each thread takes the next chunk not yet taken, so a
 * worker that has no core holds nothing up.  Calls on a busy pool (from
 * another thread at the same time, or from inside a body) run the whole
 * range serially on the calling thread instead of waiting. */
void tcc_pool_parallel_for(void *user, int64_t n,
                           void (*body)(void *arg, int64_t lo, int64_t hi),
                           void *arg);

/* The number of threads the pool was made with. */
int tcc_pool_threads(const tcc_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
