/*
 * test_schedule.c — the schedule layer's choices (ir/schedule.h): register
 * tiles that fit the target's registers, K blocks within L1, the
 * orientation of a matrix product with a narrow N, and how its columns
 * split into blocks and threads' tasks.  The numbers the tiles
 * give are tests/kernels' job; these pin the decisions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "schedule.h"

static const SchedTarget avx512 = {"x86_64", 512, 32, 48 * 1024, 1024 * 1024, true};
static const SchedTarget avx2 = {"x86_64", 256, 16, 48 * 1024, 1024 * 1024, true};
static const SchedTarget neon = {"armv8", 128, 32, 64 * 1024, 1024 * 1024, true};
static const SchedTarget fpu = {"cortex-m4", 32, 16, 16 * 1024, 0, false};

static void test_tiles_fit_registers(void **state) {
  (void)state;
  const SchedTarget *targets[] = {&avx512, &avx2, &neon, &fpu};
  const int lanes[] = {16, 8, 4, 1};
  for (int i = 0; i < 4; i++) {
    GemmSched s;
    double cost = sched_gemm(targets[i], 256, 3136, 576, SCHED_A_PACKED, &s);
    assert_true(cost > 0);
    assert_int_equal(s.lanes, lanes[i]);
    assert_true(s.mr * s.nv + s.nv + 1 <= targets[i]->vec_regs);
    assert_true(s.mr >= 1 && s.mr <= SCHED_A_PACKED && s.nv >= 1 && s.nv <= 4);
    /* a tile's B strip within half of L1, or the 16-row floor */
    assert_true(s.kc == 16 || s.kc * s.nv * s.lanes * 4 <= targets[i]->l1_bytes / 2);
    assert_true(s.nc % (s.nv * s.lanes) == 0);
  }
  GemmSched s;
  sched_gemm(&avx512, 1024, 1024, 1024, SCHED_A_IN_PLACE, &s);
  assert_true(s.mr <= SCHED_A_IN_PLACE);
}

static void test_orientation(void **state) {
  (void)state;
  /* ResNet-18's layer4 3x3 conv: 512 filters, 7x7 = 49 pixels */
  assert_true(sched_gemm_transposed(&avx512, 512, 49, 4608, SCHED_A_PACKED));
  assert_true(sched_gemm_transposed(&avx2, 512, 49, 4608, SCHED_A_PACKED));
  /* layer1: 3136 pixels fill vectors; layer3: 196 = 12*16 + 4 wastes little */
  assert_false(sched_gemm_transposed(&avx512, 64, 3136, 576, SCHED_A_PACKED));
  assert_false(sched_gemm_transposed(&avx512, 256, 196, 2304, SCHED_A_PACKED));
  /* few filters: nothing to gain; short K: the transposing pass dominates */
  assert_false(sched_gemm_transposed(&avx512, 13, 49, 4608, SCHED_A_PACKED));
  assert_false(sched_gemm_transposed(&avx512, 64, 49, 96, SCHED_A_PACKED));
  /* a scalar FPU has no lanes to fill */
  assert_false(sched_gemm_transposed(&fpu, 512, 49, 4608, SCHED_A_PACKED));
}

static void test_column_split(void **state) {
  (void)state;
  static const struct {
    const SchedTarget *t;
    int64_t units, unit_cols, cols, max, per, tasks;
  } cases[] = {
      /* ResNet-18's 56x56 maps: blocks of 14 rows (784 columns, 49 whole
       * vectors), two per task */
      {&avx512, 56, 56, 3136, 18, 14, 2},
      /* 14x14: 8 + 6 rows (112 + 84 columns: 7 + 6 vectors) cost no more at
       * two threads than 7 + 7 (98 + 98: 7 + 7, two masked), less at one */
      {&avx512, 14, 14, 196, 14, 8, 2},
      /* with 8 lanes 7 + 7 rows (13 + 13 vectors) beat 8 + 6 (14 + 11) */
      {&avx2, 14, 14, 196, 14, 7, 2},
      /* strips: 11 of 24 columns, the last 16 wide (256 filters) */
      {&avx2, 11, 24, 256, 11, 6, 2},
      /* no threads: the largest block, no tasks */
      {&fpu, 56, 56, 3136, 18, 18, 1},
      {&fpu, 5, 56, 280, 18, 5, 1},
      /* one unit: nothing to split */
      {&avx512, 1, 49, 49, 4, 1, 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int64_t per, tasks;
    sched_column_split(cases[i].t, cases[i].units, cases[i].unit_cols, cases[i].cols,
                       cases[i].max, &per, &tasks);
    assert_int_equal(per, cases[i].per);
    assert_int_equal(tasks, cases[i].tasks);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tiles_fit_registers),
      cmocka_unit_test(test_orientation),
      cmocka_unit_test(test_column_split),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
