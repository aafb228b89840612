/* dnnl_sgemm.c — GFLOP/s of oneDNN's dnnl_sgemm on N x N x N (row-major,
 * C = A*B), the reference bench_vs_ort.sh holds tcc's MatMul against.
 *   cc -O2 dnnl_sgemm.c -ldnnl -o dnnl_sgemm && OMP_NUM_THREADS=1 ./dnnl_sgemm [N] [ITERS] [ROUNDS]
 * Prints "dnnl_sgemm N=1024: median X ms, min Y ms, Z GFLOP/s (median)".
 * Threads: oneDNN's OpenMP runtime, set by OMP_NUM_THREADS. */
#define _POSIX_C_SOURCE 200809L
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1024;
  int iters = argc > 2 ? atoi(argv[2]) : 20;
  if (n <= 0 || iters <= 0) return 1;
  float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
        *c = malloc(sizeof(float) * n * n);
  double *t = malloc(sizeof(double) * iters);
  if (!a || !b || !c || !t) return 1;
  srand(1); /* any data: sgemm's speed does not depend on the values */
  for (long i = 0; i < n * n; i++) {
    a[i] = (float)rand() / RAND_MAX - 0.5f;
    b[i] = (float)rand() / RAND_MAX - 0.5f;
  }
  /* Warm-up calls: oneDNN picks and JITs its kernel on the first one. */
  for (int i = 0; i < 3; i++)
    if (dnnl_sgemm('N', 'N', n, n, n, 1.f, a, n, b, n, 0.f, c, n) != dnnl_success) return 1;
  for (int i = 0; i < iters; i++) {
    double s = now_ms();
    dnnl_sgemm('N', 'N', n, n, n, 1.f, a, n, b, n, 0.f, c, n);
    t[i] = now_ms() - s;
  }
  qsort(t, iters, sizeof *t, cmp);
  double med = iters % 2 ? t[iters / 2] : (t[iters / 2 - 1] + t[iters / 2]) / 2;
  printf("dnnl_sgemm N=%ld: median %.4f ms, min %.4f ms, %.1f GFLOP/s (median), c[0] %g\n", n, med,
         t[0], 2.0 * n * n * n / (med * 1e6), c[0]);
  return 0;
}
