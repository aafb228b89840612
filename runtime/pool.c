/*
 * pool.c — libtccrt_pool: the pthread pool of tcc/pool.h.  Hosted targets
 * only (the bare-metal runtime is rt.c alone).
 *
 * One call = one job: the caller publishes (body, arg, n), bumps the
 * generation counter and runs chunk 0; each worker sees the new generation,
 * runs its chunk and counts itself done.  A waiter first spins for a short
 * while (a model calls parallel_for once per parallel loop, often every few
 * microseconds, and a futex wake-up costs more than that), then sleeps on a
 * condition variable so idle workers cost nothing between inferences.
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

struct tcc_pool {
  int threads;
  pthread_t *tids;
  pthread_mutex_t mu;
  pthread_cond_t wake;     /* workers: a new generation */
  pthread_cond_t done;     /* caller: remaining reached 0 */
  pthread_mutex_t busy;    /* held by the running call */
  /* The job, written by the caller before gen is bumped (release). */
  pool_body body;
  void *arg;
  int64_t n;
  bool stop;
  _Atomic uint64_t gen;
  _Atomic int remaining;   /* workers not done with this generation */
};

typedef struct Worker {
  tcc_pool *pool;
  int index;
} Worker;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* Chunk k of [0, n) split in `threads` nearly equal contiguous parts. */
static void chunk(int64_t n, int threads, int k, int64_t *lo, int64_t *hi) {
  int64_t q = n / threads, r = n % threads;
  *lo = k * q + (k < r ? k : r);
  *hi = *lo + q + (k < r);
}

static void run_chunk(tcc_pool *p, int k) {
  int64_t lo, hi;
  chunk(p->n, p->threads, k, &lo, &hi);
  if (lo < hi) p->body(p->arg, lo, hi);
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
  return atomic_load_explicit(&p->remaining, memory_order_acquire) == 0;
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
  Worker *w = user;
  tcc_pool *p = w->pool;
  int k = w->index;
  free(w);
  uint64_t seen = 0;
  for (;;) {
    seen = wait_gen(p, seen);
    if (p->stop) return NULL;
    run_chunk(p, k);
    if (atomic_fetch_sub_explicit(&p->remaining, 1, memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->done);
      pthread_mutex_unlock(&p->mu);
    }
  }
}

/* Publishes a job (or the stop request) to every worker. */
static void publish(tcc_pool *p) {
  atomic_store_explicit(&p->remaining, p->threads - 1, memory_order_relaxed);
  pthread_mutex_lock(&p->mu);
  atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
}

static void wait_done(tcc_pool *p) {
  if (spin_until(all_done, p, 0)) return;
  pthread_mutex_lock(&p->mu);
  while (atomic_load_explicit(&p->remaining, memory_order_acquire) != 0)
    pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

static void stop_workers(tcc_pool *p, int started) {
  pthread_mutex_lock(&p->busy);
  p->stop = true;
  publish(p);
  pthread_mutex_unlock(&p->busy);
  for (int i = 0; i < started; i++) pthread_join(p->tids[i], NULL);
}

tcc_pool *tcc_pool_new(int threads) {
  if (threads < 1) return NULL;
  tcc_pool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->threads = threads;
  p->tids = calloc((size_t)threads, sizeof *p->tids);
  pthread_mutex_init(&p->mu, NULL);
  pthread_mutex_init(&p->busy, NULL);
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->done, NULL);
  atomic_init(&p->gen, 0);
  atomic_init(&p->remaining, 0);
  int started = 0;
  bool ok = p->tids != NULL;
  for (int i = 1; ok && i < threads; i++) {
    Worker *w = malloc(sizeof *w);
    ok = w != NULL;
    if (ok) {
      *w = (Worker){p, i};
      ok = pthread_create(&p->tids[i - 1], NULL, worker_main, w) == 0;
      if (!ok) free(w);
    }
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
  p->body = body;
  p->arg = arg;
  p->n = n;
  publish(p);
  run_chunk(p, 0);
  wait_done(p);
  pthread_mutex_unlock(&p->busy);
}
