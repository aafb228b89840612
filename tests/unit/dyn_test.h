/* dyn_test.h — what the tests of ops with run-time dims share (on top of
 * op_test.h): a run-time dim "seq" of 1..SEQ_MAX (the includer defines
 * SEQ_MAX), a lowered function run by the interpreter at one seq, and
 * deterministic data. */
#ifndef TCC_DYN_TEST_H
#define TCC_DYN_TEST_H

#include "op_test.h"

/* dims of a test input: D(s) marks the run-time dim of sym s */
#define D(s) LW_DYN_DIM(s)

static inline int seq_sym(IrModule *m) { return ir_sym_add(m, "seq", 1, SEQ_MAX); }

/* Runs f with sym 0 = seq. */
static inline void run_at(IrModule *m, IrFunc *f, void *const *bufs, int64_t seq) {
  int64_t dims[4] = {seq, -1, -1, -1};
  static char ws[1 << 16] __attribute__((aligned(64)));
  msg[0] = 0;
  if (!ir_interp_run_dims(m, f, bufs, ws, dims))
    fail_msg("interp at seq=%lld: %s", (long long)seq, msg);
}

/* Deterministic test data in [-2, 2). */
static inline void fill(float *p, int n, unsigned seed) {
  for (int i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    p[i] = (float)((seed >> 9) % 4096) / 1024.0f - 2.0f;
  }
}

static const int64_t SEQS[] = {1, 5, SEQ_MAX};
#define NSEQ (int)(sizeof SEQS / sizeof *SEQS)

#endif
