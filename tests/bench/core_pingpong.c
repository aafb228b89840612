/* core_pingpong.c — how long one cache line takes to go from one core to
 * another and back: two threads hand a flag back and forth, and the median
 * round trip of 9 runs is printed, "core round trip: N ns".  Every tensor a
 * layer writes on one core and the next layer reads on the other pays this
 * per line, so it tells how much a 2-thread figure can gain over 1 thread
 * on the machine at hand (docs/performance.md: 450-550 ns on the host where
 * tcc's 2-thread runs gained nothing over 1 thread).
 *   cc -O2 core_pingpong.c -o core_pingpong -lpthread && ./core_pingpong */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { HANDS = 100000, RUNS = 9 };

static _Alignas(64) _Atomic int flag;

static void *answer(void *unused) {
  (void)unused;
  for (int i = 0; i < HANDS * RUNS; i++) {
    while (atomic_load_explicit(&flag, memory_order_acquire) != 1) {
    }
    atomic_store_explicit(&flag, 0, memory_order_release);
  }
  return NULL;
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(void) {
  pthread_t other;
  if (pthread_create(&other, NULL, answer, NULL)) return 1;
  double ns[RUNS];
  for (int r = 0; r < RUNS; r++) {
    double t0 = now_ns();
    for (int i = 0; i < HANDS; i++) {
      atomic_store_explicit(&flag, 1, memory_order_release);
      while (atomic_load_explicit(&flag, memory_order_acquire) != 0) {
      }
    }
    ns[r] = (now_ns() - t0) / HANDS;
  }
  pthread_join(other, NULL);
  qsort(ns, RUNS, sizeof *ns, by_value);
  printf("core round trip: %.0f ns (median of %d runs of %d hand-overs)\n", ns[RUNS / 2], RUNS,
         HANDS);
  return 0;
}
