/* fma_peak.c — the single-precision FMA peak of one core, measured: 12
 * independent FMA chains (more than latency x ports, 4 x 2, on current x86
 * cores, so the FMA units never wait) on zmm when the CPU has AVX-512F, and on ymm.
 *   cc -O2 fma_peak.c -o fma_peak && ./fma_peak
 * Prints one line per width, "fma_peak zmm: X GFLOP/s (best of 50 runs ...)": the
 * best run, since a busy machine only ever slows it down. */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#define STEPS 2500000L
#define CHAINS 12
#define TRIALS 50 /* short runs (about 10 ms): some fall between other jobs on a busy machine */

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* Each step issues CHAINS FMAs, each depending only on its own previous
 * value; the chains are named variables so that they stay in registers (12
 * chains and the two operands fit AVX2's 16 ymm registers without spills). */
#define FMA12(FMA)                                                                     \
  a0 = FMA(a0, m, k); a1 = FMA(a1, m, k); a2 = FMA(a2, m, k); a3 = FMA(a3, m, k);      \
  a4 = FMA(a4, m, k); a5 = FMA(a5, m, k); a6 = FMA(a6, m, k); a7 = FMA(a7, m, k);      \
  a8 = FMA(a8, m, k); a9 = FMA(a9, m, k); a10 = FMA(a10, m, k); a11 = FMA(a11, m, k);
#define BODY(T, FMA, SET1, ADD, STORE, LANES)                                          \
  T m = SET1(0.999999f), k = SET1(1e-7f);                                              \
  T a0 = SET1(0), a1 = SET1(1), a2 = SET1(2), a3 = SET1(3), a4 = SET1(4), a5 = SET1(5); \
  T a6 = SET1(6), a7 = SET1(7), a8 = SET1(8), a9 = SET1(9), a10 = SET1(10);            \
  T a11 = SET1(11);                                                                    \
  for (long s = 0; s < steps; s++) { FMA12(FMA) }                                      \
  T sum = ADD(ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7))),        \
              ADD(ADD(a8, a9), ADD(a10, a11)));                                        \
  float out[LANES];                                                                    \
  STORE(out, sum);                                                                     \
  return out[0];

__attribute__((target("avx512f"))) static float run_zmm(long steps) {
  BODY(__m512, _mm512_fmadd_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_storeu_ps, 16)
}

__attribute__((target("avx2,fma"))) static float run_ymm(long steps) {
  BODY(__m256, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_storeu_ps, 8)
}

static void measure(const char *name, float (*f)(long), int lanes) {
  double best = 0;
  float sink = 0;
  f(STEPS / 10); /* warm-up: clocks up, and an AVX-512 license change if any */
  for (int r = 0; r < TRIALS; r++) {
    double s = now_s();
    sink += f(STEPS);
    double g = 2.0 * lanes * CHAINS * STEPS / (now_s() - s) / 1e9;
    if (g > best) best = g;
  }
  printf("fma_peak %s: %.1f GFLOP/s (best of %d runs, %d chains; sink %g)\n", name, best, TRIALS, CHAINS, sink);
}

int main(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) measure("zmm", run_zmm, 16);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) measure("ymm", run_ymm, 8);
  return 0;
}
