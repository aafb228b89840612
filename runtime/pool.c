/*
 * pool.c — libtccrt_pool: the pthread pool of tcc/pool.h.  Hosted targets
 * only (the bare-metal runtime is rt.c alone).
 *
 * One call = one job: [0, n) cut into min(n, threads) static contiguous
 * chunks.  The caller publishes (body, arg, n) and the chunk count, bumps
 * the generation counter and, like every worker that wakes, claims chunks
 * one at a time from an atomic counter until none is left, then waits
 * until all are finished.  The chunks never change; only which thread runs
 * which does: when a worker has no core (a loaded machine, more threads
 * than cores) the caller or another worker runs its chunk instead of
 * waiting for it.  A waiter first spins for a short while (a model calls
 * parallel_for once per parallel loop, often every few microseconds, and a
 * futex wake-up costs more than that), then sleeps on a condition variable
 * so idle workers cost nothing between inferences.
 */
#define _POSIX_C_SOURCE 200809L
#include "tcc/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

/* Before sleeping, a waiter checks POOL_SPIN times with a pause between
 * checks (about 5 us), then POOL_YIELD times giving its core away: on a
 * loaded or oversubscribed machine the thread it waits for may be the one
 * that needs this core. */
#ifndef POOL_SPIN
#define POOL_SPIN 200
#endif
#ifndef POOL_YIELD
#define POOL_YIELD 50
#endif

typedef void (*pool_body)(void *arg, int64_t lo, int64_t hi);

/* The claim word: the job's chunk count << CLAIM_BITS | the next chunk.
 * One word, so a claim always reads the count of the job it claims from. */
#define CLAIM_BITS 16
#define CLAIM_MASK ((1u << CLAIM_BITS) - 1)

struct tcc_pool {
  int threads;
  pthread_t *tids;
  pthread_mutex_t mu;
  pthread_cond_t wake;     /* workers: a new generation */
  pthread_cond_t done;     /* caller: pending reached 0 */
  pthread_mutex_t busy;    /* held by the running call */
  /* The job, written by the caller before the claim word (release). */
  pool_body body;
  void *arg;
  int64_t n;
  _Atomic bool stop;       /* atomic: a worker may look while the caller sets it */
  _Atomic uint64_t gen;
  _Atomic uint32_t claim;
  _Atomic int pending;     /* chunks of this job not finished */
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* Chunk k of [0, n) split in `chunks` nearly equal contiguous parts. */
static void chunk(int64_t n, int chunks, int k, int64_t *lo, int64_t *hi) {
  int64_t q = n / chunks, r = n % chunks;
  *lo = k * q + (k < r ? k : r);
  *hi = *lo + q + (k < r);
}

/* Claims and runs chunks of the current job until none is left.  A claim
 * that finds the chunks all taken (a worker waking late, or one that
 * already helped) runs nothing and reads nothing else of the job. */
static void help(tcc_pool *p) {
  for (;;) {
    uint32_t c = atomic_fetch_add_explicit(&p->claim, 1, memory_order_acquire);
    int k = (int)(c & CLAIM_MASK), chunks = (int)(c >> CLAIM_BITS);
    if (k >= chunks) return;
    int64_t lo, hi;
    chunk(p->n, chunks, k, &lo, &hi);
    p->body(p->arg, lo, hi);
    if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->done);
      pthread_mutex_unlock(&p->mu);
    }
  }
}

/* Spins and yields until pred(p, x) holds; false when it still does not. */
static bool spin_until(bool (*pred)(tcc_pool *, uint64_t), tcc_pool *p, uint64_t x) {
  for (int i = 0; i < POOL_SPIN; i++) {
    if (pred(p, x)) return true;
    cpu_relax();
  }
  for (int i = 0; i < POOL_YIELD; i++) {
    if (pred(p, x)) return true;
    sched_yield();
  }
  return pred(p, x);
}

static bool gen_moved(tcc_pool *p, uint64_t seen) {
  return atomic_load_explicit(&p->gen, memory_order_acquire) != seen;
}

static bool all_done(tcc_pool *p, uint64_t unused) {
  (void)unused;
  return atomic_load_explicit(&p->pending, memory_order_acquire) == 0;
}

static uint64_t wait_gen(tcc_pool *p, uint64_t seen) {
  uint64_t g;
  if (spin_until(gen_moved, p, seen)) return atomic_load_explicit(&p->gen, memory_order_acquire);
  pthread_mutex_lock(&p->mu);
  while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen)
    pthread_cond_wait(&p->wake, &p->mu);
  pthread_mutex_unlock(&p->mu);
  return g;
}

static void *worker_main(void *user) {
  tcc_pool *p = user;
  uint64_t seen = 0;
  for (;;) {
    seen = wait_gen(p, seen);
    if (atomic_load_explicit(&p->stop, memory_order_acquire)) return NULL;
    help(p);
  }
}

/* Wakes every worker: a new job (or the stop request) is out. */
static void publish(tcc_pool *p) {
  pthread_mutex_lock(&p->mu);
  atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
}

static void wait_done(tcc_pool *p) {
  if (spin_until(all_done, p, 0)) return;
  pthread_mutex_lock(&p->mu);
  while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0)
    pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

static void stop_workers(tcc_pool *p, int started) {
  pthread_mutex_lock(&p->busy);
  atomic_store_explicit(&p->stop, true, memory_order_release);
  publish(p);
  pthread_mutex_unlock(&p->busy);
  for (int i = 0; i < started; i++) pthread_join(p->tids[i], NULL);
}

tcc_pool *tcc_pool_new(int threads) {
  /* A job's claims number at most its chunks plus two per worker (one
   * that finds nothing, one more when it wakes late): the index field of
   * the claim word never overflows into the count below 4096 threads. */
  if (threads < 1 || threads > TCC_POOL_MAX_THREADS) return NULL;
  tcc_pool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->threads = threads;
  p->tids = calloc((size_t)threads, sizeof *p->tids);
  pthread_mutex_init(&p->mu, NULL);
  pthread_mutex_init(&p->busy, NULL);
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->done, NULL);
  atomic_init(&p->stop, false);
  atomic_init(&p->gen, 0);
  atomic_init(&p->claim, 0);
  atomic_init(&p->pending, 0);
  int started = 0;
  bool ok = p->tids != NULL;
  for (int i = 1; ok && i < threads; i++) {
    ok = pthread_create(&p->tids[i - 1], NULL, worker_main, p) == 0;
    started += ok;
  }
  if (ok) return p;
  stop_workers(p, started);
  p->threads = 1; /* so tcc_pool_free joins nothing more */
  tcc_pool_free(p);
  return NULL;
}

void tcc_pool_free(tcc_pool *p) {
  if (!p) return;
  if (p->threads > 1) stop_workers(p, p->threads - 1);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->done);
  pthread_mutex_destroy(&p->mu);
  pthread_mutex_destroy(&p->busy);
  free(p->tids);
  free(p);
}

int tcc_pool_threads(const tcc_pool *p) { return p ? p->threads : 0; }

void tcc_pool_parallel_for(void *user, int64_t n, pool_body body, void *arg) {
  tcc_pool *p = user;
  if (n <= 0) return;
  /* One thread, one iteration, or a busy pool: no hand-off. */
  if (!p || p->threads == 1 || n == 1 || pthread_mutex_trylock(&p->busy) != 0) {
    body(arg, 0, n);
    return;
  }
  int chunks = n < p->threads ? (int)n : p->threads;
  p->body = body;
  p->arg = arg;
  p->n = n;
  /* pending before the claim word: whoever claims a chunk sees both. */
  atomic_store_explicit(&p->pending, chunks, memory_order_relaxed);
  atomic_store_explicit(&p->claim, (uint32_t)chunks << CLAIM_BITS, memory_order_release);
  publish(p);
  help(p);
  wait_done(p);
  pthread_mutex_unlock(&p->busy);
}
