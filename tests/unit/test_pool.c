/*
 * test_pool.c — libtccrt_pool (tcc/pool.h): the split of [0, n) into
 * chunks, n = 0 and n < threads, many calls in a row, one thread, the work
 * spread over threads, nested and refused pools; prints the cost of one
 * call.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tcc/pool.h"
#include "tcc/runtime.h"

#define MAX_CALLS 64

/* What one parallel_for did: every body call's range and thread, and how
 * often each index ran. */
typedef struct Record {
  pthread_mutex_t mu;
  int calls;
  int64_t lo[MAX_CALLS], hi[MAX_CALLS];
  pthread_t who[MAX_CALLS];
  _Atomic int *hits;
} Record;

static void record_body(void *arg, int64_t lo, int64_t hi) {
  Record *r = arg;
  pthread_mutex_lock(&r->mu);
  if (r->calls < MAX_CALLS) {
    r->lo[r->calls] = lo;
    r->hi[r->calls] = hi;
    r->who[r->calls] = pthread_self();
  }
  r->calls++;
  pthread_mutex_unlock(&r->mu);
  for (int64_t i = lo; i < hi; i++) atomic_fetch_add(&r->hits[i], 1);
}

/* Runs one call of n iterations on a pool of t threads and checks the
 * exact chunks: c = min(n, t) of them, chunk k = k*q + min(k, r) .. + q +
 * (k < r) with q = n / c, r = n % c, each called once; one thread: all on
 * the caller. */
static void check_split(tcc_pool *p, int t, int64_t n) {
  Record r = {.mu = PTHREAD_MUTEX_INITIALIZER};
  r.hits = calloc((size_t)n + 1, sizeof *r.hits);
  tcc_pool_parallel_for(p, n, record_body, &r);
  int chunks = (int)(n < t ? n : t);
  int64_t q = n / chunks, rem = n % chunks;
  assert_int_equal(r.calls, chunks);
  for (int64_t i = 0; i < n; i++) assert_int_equal(atomic_load(&r.hits[i]), 1);
  for (int k = 0; k < chunks; k++) {
    int64_t lo = k * q + (k < rem ? k : rem), hi = lo + q + (k < rem);
    int c = 0;
    while (c < r.calls && r.lo[c] != lo) c++;
    assert_true(c < r.calls);
    assert_int_equal(r.hi[c], hi);
    if (t == 1) assert_true(pthread_equal(r.who[c], pthread_self()));
  }
  free(r.hits);
}

static void test_split(void **state) {
  (void)state;
  for (int t = 1; t <= 4; t++) {
    tcc_pool *p = tcc_pool_new(t);
    assert_non_null(p);
    assert_int_equal(tcc_pool_threads(p), t);
    static const int64_t ns[] = {1, 2, 3, 4, 5, 7, 8, 100, 1001};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) check_split(p, t, ns[i]);
    tcc_pool_free(p);
  }
}

static void test_n_below_threads(void **state) {
  (void)state;
  tcc_pool *p = tcc_pool_new(4);
  assert_non_null(p);
  check_split(p, 4, 2); /* two chunks of one */
  check_split(p, 4, 3);
  tcc_pool_free(p);
}

static void test_n_zero(void **state) {
  (void)state;
  tcc_pool *p = tcc_pool_new(3);
  Record r = {.mu = PTHREAD_MUTEX_INITIALIZER};
  tcc_pool_parallel_for(p, 0, record_body, &r);
  tcc_pool_parallel_for(p, -5, record_body, &r);
  assert_int_equal(r.calls, 0);
  tcc_pool_free(p);
}

/* Many calls in a row, of sizes that vary, on one pool: every index of
 * every call runs exactly once. */
static void count_body(void *arg, int64_t lo, int64_t hi) {
  _Atomic int *hits = arg;
  for (int64_t i = lo; i < hi; i++) atomic_fetch_add_explicit(&hits[i], 1, memory_order_relaxed);
}

static void test_repeated_calls(void **state) {
  (void)state;
  enum { N = 97, CALLS = 20000 };
  _Atomic int hits[N];
  for (int i = 0; i < N; i++) atomic_init(&hits[i], 0);
  tcc_pool *p = tcc_pool_new(3);
  int64_t want[N] = {0};
  for (int c = 0; c < CALLS; c++) {
    int64_t n = 1 + (c * 31) % N;
    tcc_pool_parallel_for(p, n, count_body, hits);
    for (int64_t i = 0; i < n; i++) want[i]++;
  }
  for (int i = 0; i < N; i++) assert_int_equal(atomic_load(&hits[i]), want[i]);
  tcc_pool_free(p);
}

static void test_one_thread(void **state) {
  (void)state;
  tcc_pool *p = tcc_pool_new(1);
  assert_non_null(p);
  Record r = {.mu = PTHREAD_MUTEX_INITIALIZER};
  r.hits = calloc(10, sizeof *r.hits);
  tcc_pool_parallel_for(p, 10, record_body, &r);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.lo[0], 0);
  assert_int_equal(r.hi[0], 10);
  assert_true(pthread_equal(r.who[0], pthread_self()));
  free(r.hits);
  tcc_pool_free(p);
}

static void test_refused_and_free_null(void **state) {
  (void)state;
  assert_null(tcc_pool_new(0));
  assert_null(tcc_pool_new(-3));
  assert_null(tcc_pool_new(TCC_POOL_MAX_THREADS + 1));
  tcc_pool_free(NULL);
  assert_int_equal(tcc_pool_threads(NULL), 0);
  /* the pool's function matches the context's type */
  tcc_parallel_for_fn f = tcc_pool_parallel_for;
  assert_non_null(f);
}

/* Two chunks that wait for each other finish only when two threads run
 * them at once: the pool hands chunks to its workers. */
typedef struct Meet {
  _Atomic int arrived;
  _Atomic int timed_out;
  int want;
} Meet;

static void meet_body(void *arg, int64_t lo, int64_t hi) {
  (void)lo;
  (void)hi;
  Meet *m = arg;
  atomic_fetch_add(&m->arrived, 1);
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (atomic_load(&m->arrived) < m->want) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (t.tv_sec - t0.tv_sec > 20) { /* a serial pool would hang here */
      atomic_store(&m->timed_out, 1);
      return;
    }
    sched_yield();
  }
}

static void test_threads_work(void **state) {
  (void)state;
  tcc_pool *p = tcc_pool_new(2);
  for (int i = 0; i < 50; i++) {
    Meet m = {.want = 2};
    atomic_init(&m.arrived, 0);
    atomic_init(&m.timed_out, 0);
    tcc_pool_parallel_for(p, 2, meet_body, &m);
    assert_int_equal(atomic_load(&m.arrived), 2);
    assert_int_equal(atomic_load(&m.timed_out), 0);
  }
  tcc_pool_free(p);
}

/* A body that calls parallel_for on its own pool: the inner call runs the
 * whole range serially on that thread instead of deadlocking. */
typedef struct Nested {
  tcc_pool *p;
  _Atomic int hits[4 * 8];
} Nested;

static _Thread_local int64_t nested_row;

static void inner_body(void *arg, int64_t lo, int64_t hi) {
  Nested *n = arg;
  for (int64_t j = lo; j < hi; j++) atomic_fetch_add(&n->hits[nested_row * 8 + j], 1);
}

static void outer_body(void *arg, int64_t lo, int64_t hi) {
  Nested *n = arg;
  for (int64_t i = lo; i < hi; i++) {
    nested_row = i;
    tcc_pool_parallel_for(n->p, 8, inner_body, n);
  }
}

static void test_nested(void **state) {
  (void)state;
  static Nested n;
  n.p = tcc_pool_new(2);
  for (int i = 0; i < 32; i++) atomic_init(&n.hits[i], 0);
  tcc_pool_parallel_for(n.p, 4, outer_body, &n);
  for (int i = 0; i < 32; i++) assert_int_equal(atomic_load(&n.hits[i]), 1);
  tcc_pool_free(n.p);
}

/* Not a timed test: prints what one call costs with an empty body. */
static void empty_body(void *arg, int64_t lo, int64_t hi) {
  (void)arg;
  (void)lo;
  (void)hi;
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* Not timed tests: print what a call costs, with an empty body (the
 * caller finds all chunks free and runs them itself) and with chunks that
 * each wait for all threads to arrive (every worker woken and busy). */
static void test_overhead(void **state) {
  (void)state;
  enum { CALLS = 20000, MEETS = 2000 };
  for (int t = 2; t <= 3; t++) {
    tcc_pool *p = tcc_pool_new(t);
    for (int i = 0; i < 100; i++) tcc_pool_parallel_for(p, 64, empty_body, NULL);
    double a = now_us();
    for (int i = 0; i < CALLS; i++) tcc_pool_parallel_for(p, 64, empty_body, NULL);
    double empty = (now_us() - a) / CALLS;
    a = now_us();
    for (int i = 0; i < MEETS; i++) {
      Meet m = {.want = t};
      atomic_init(&m.arrived, 0);
      atomic_init(&m.timed_out, 0);
      tcc_pool_parallel_for(p, t, meet_body, &m);
    }
    double meet = (now_us() - a) / MEETS;
    print_message("pool: %d threads, per parallel_for call: %.2f us (empty body), "
                  "%.2f us (all %d threads meet)\n", t, empty, meet, t);
    tcc_pool_free(p);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_split),
      cmocka_unit_test(test_n_below_threads),
      cmocka_unit_test(test_n_zero),
      cmocka_unit_test(test_repeated_calls),
      cmocka_unit_test(test_one_thread),
      cmocka_unit_test(test_refused_and_free_null),
      cmocka_unit_test(test_threads_work),
      cmocka_unit_test(test_nested),
      cmocka_unit_test(test_overhead),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
