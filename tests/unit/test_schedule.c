/*
 * test_schedule.c — the schedule layer's choices (ir/schedule.h): register
 * tiles that fit the target's registers, K blocks within L1, the
 * orientation of a matrix product with a narrow N, and how its columns
 * split into blocks and threads' tasks.  The numbers the tiles
 * give are tests/kernels' job; these pin the decisions.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ir.h"
#include "schedule.h"

static char captured[1024];

static void capture(void *user, DiagLevel level, const char *msg) {
  (void)user, (void)level;
  size_t n = strlen(captured);
  snprintf(captured + n, sizeof captured - n, "%s\n", msg);
}

static const SchedTarget avx512 = {"x86_64", 512, 32, 48 * 1024, 1024 * 1024, 0, true, false, true, IR_F32, NULL};
static const SchedTarget avx2 = {"x86_64", 256, 16, 48 * 1024, 1024 * 1024, 0, true, false, true, IR_F32, NULL};
static const SchedTarget neon = {"armv8", 128, 32, 64 * 1024, 1024 * 1024, 0, true, false, true, IR_F32, NULL};
static const SchedTarget fpu = {"cortex-m4", 32, 16, 16 * 1024, 0, 0, false, false, true, IR_F32, NULL};

static void test_tiles_fit_registers(void **state) {
  (void)state;
  const SchedTarget *targets[] = {&avx512, &avx2, &neon, &fpu};
  const int lanes[] = {16, 8, 4, 1};
  for (int i = 0; i < 4; i++) {
    GemmSched s;
    double cost = sched_gemm(targets[i], NULL, 256, 3136, 576, SCHED_A_PACKED, 0, &s);
    assert_true(cost > 0);
    assert_int_equal(s.lanes, lanes[i]);
    assert_true(s.mr * s.nv + s.nv + 1 <= targets[i]->vec_regs);
    assert_true(s.mr >= 1 && s.mr <= SCHED_A_PACKED && s.nv >= 1 && s.nv <= 4);
    /* a tile's B strip within half of L1, or the 16-row floor */
    assert_true(s.kc == 16 || s.kc * s.nv * s.lanes * 4 <= targets[i]->l1_bytes / 2);
    assert_true(s.nc % (s.nv * s.lanes) == 0);
  }
  GemmSched s;
  sched_gemm(&avx512, NULL, 1024, 1024, 1024, SCHED_A_IN_PLACE, 0, &s);
  assert_true(s.mr <= SCHED_A_IN_PLACE);
}

static void test_orientation(void **state) {
  (void)state;
  /* ResNet-18's layer4 3x3 conv: 512 filters, 7x7 = 49 pixels */
  assert_true(sched_gemm_transposed(&avx512, NULL, 512, 49, 4608, SCHED_A_PACKED, 0));
  assert_true(sched_gemm_transposed(&avx2, NULL, 512, 49, 4608, SCHED_A_PACKED, 0));
  /* layer1: 3136 pixels fill vectors; layer3: 196 = 12*16 + 4 wastes a
   * little, and transposed measured 2.18 -> 2.10 ms (with -winograd=0) */
  assert_false(sched_gemm_transposed(&avx512, NULL, 64, 3136, 576, SCHED_A_PACKED, 0));
  assert_true(sched_gemm_transposed(&avx512, NULL, 256, 196, 2304, SCHED_A_PACKED, 0));
  /* few filters: nothing to gain; a short K still gains (a 1x1 96 -> 64 on
   * 7x7 measured 8.0 -> 6.2 us transposed) */
  assert_false(sched_gemm_transposed(&avx512, NULL, 13, 49, 4608, SCHED_A_PACKED, 0));
  assert_true(sched_gemm_transposed(&avx512, NULL, 64, 49, 96, SCHED_A_PACKED, 0));
  /* a scalar FPU has no lanes to fill */
  assert_false(sched_gemm_transposed(&fpu, NULL, 512, 49, 4608, SCHED_A_PACKED, 0));
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
    sched_column_split(cases[i].t, NULL, cases[i].units, cases[i].unit_cols, cases[i].cols,
                       cases[i].max, &per, &tasks);
    assert_int_equal(per, cases[i].per);
    assert_int_equal(tasks, cases[i].tasks);
  }
  /* a tuned task count: none, or 4 of ResNet-18's 56 rows; recorded */
  SchedChoice c = sched_model_choice;
  c.tasks = 1;
  SchedOp op = {.choice = &c};
  int64_t per, tasks;
  sched_column_split(&avx512, &op, 56, 56, 3136, 18, &per, &tasks);
  assert_int_equal(tasks, 1);
  assert_int_equal(per, 18);
  assert_true(op.problem.splittable);
  assert_int_equal(op.problem.used.tasks, 1);
  c.tasks = 4;
  SchedOp op4 = {.choice = &c};
  sched_column_split(&avx512, &op4, 56, 56, 3136, 18, &per, &tasks);
  assert_int_equal(tasks, 4);
  assert_int_equal(op4.problem.used.tasks, 4);
  /* no threads on the target: nothing to split, whatever the choice */
  SchedOp op_fpu = {.choice = &c};
  sched_column_split(&fpu, &op_fpu, 56, 56, 3136, 18, &per, &tasks);
  assert_int_equal(tasks, 1);
  assert_false(op_fpu.problem.splittable);
}

/* A log's text of a choice reads back as the same choice; anything else
 * is refused. */
/* c's text is `text`, which parses back to c. */
static void roundtrip(const SchedChoice *c, SchedKind kind, const char *text) {
  char buf[160];
  SchedChoice back;
  sched_choice_format(c, kind, buf, sizeof buf);
  assert_string_equal(buf, text);
  assert_true(sched_choice_parse(buf, &back));
  assert_true(sched_choice_equal(c, &back));
}

static void test_choice_text(void **state) {
  (void)state;
  SchedChoice c = {6, 4, 256, 8192, 0, SCHED_MODEL, SCHED_MODEL, SCHED_MODEL}, back;
  roundtrip(&c, SCHED_KIND_GEMM, "tile=6x4 kc=256 prefetch=8192 transposed=0");
  SchedChoice d = sched_model_choice;
  d.variant = SCHED_DW_ROWS_PADDED;
  roundtrip(&d, SCHED_KIND_DEPTHWISE, "depthwise=rows-padded");
  d.block = 3;
  roundtrip(&d, SCHED_KIND_DEPTHWISE, "depthwise=rows-padded block=3");
  d.variant = SCHED_DW_CHANNELS_LAST;
  d.block = 8;
  roundtrip(&d, SCHED_KIND_DEPTHWISE, "depthwise=channels-last block=8");
  SchedChoice split = c;
  split.tasks = 2;
  roundtrip(&split, SCHED_KIND_GEMM, "tile=6x4 kc=256 prefetch=8192 transposed=0 tasks=2");
  /* a 3x3 conv's product: Winograd's tile with a register tile, or alone */
  SchedChoice wino = split;
  wino.variant = 4;
  roundtrip(&wino, SCHED_KIND_GEMM, "tile=6x4 kc=256 prefetch=8192 transposed=0 tasks=2 winograd=4");
  SchedChoice direct = sched_model_choice;
  direct.variant = 0;
  roundtrip(&direct, SCHED_KIND_GEMM, "winograd=0");
  static const char *const bad[] = {
      "winograd=3", "winograd=4 x", "tile=6x4 kc=256 prefetch=0 transposed=0 winograd=6",
      "tile=6x4 kc=256 prefetch=0 transposed=0 tasks=3",
      "tile=6x4 kc=256 prefetch=0 transposed=0 tasks=2 x",
      "tile=0x4 kc=256 prefetch=0 transposed=0", "tile=6x5 kc=256 prefetch=0 transposed=0",
      "tile=6x4 kc=256", "tile=6x4 kc=256 prefetch=0 transposed=2",
      "tile=6x4 kc=256 prefetch=0 transposed=0 x", "depthwise=diagonal", "depthwise=rowsx",
      "depthwise=rows block=7", "depthwise=rows block=0", "depthwise=channels-last block=9",
      "depthwise=rows block=2 x", ""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_false(sched_choice_parse(bad[i], &back));
}

/* A tuned choice replaces the model's tile, K block, prefetch and
 * orientation, and the op records what it asked and got. */
static void test_choice_applies(void **state) {
  (void)state;
  SchedChoice c = {3, 2, 100, 0, SCHED_MODEL, SCHED_MODEL, SCHED_MODEL, SCHED_MODEL};
  SchedOp op = {.choice = &c};
  GemmSched s;
  sched_gemm(&avx512, &op, 256, 3136, 576, SCHED_A_PACKED, 4096, &s);
  assert_int_equal(s.mr, 3);
  assert_int_equal(s.nv, 2);
  assert_int_equal(s.kc, 100);
  assert_int_equal(s.prefetch_bytes, 0);
  assert_int_equal(op.problem.kind, SCHED_KIND_GEMM);
  assert_int_equal(op.problem.M, 256);
  assert_int_equal(op.problem.N, 3136);
  assert_int_equal(op.problem.K, 576);
  assert_int_equal(op.problem.packed_bytes, 4096);
  assert_int_equal(op.problem.used.mr, 3);
  assert_int_equal(op.problem.used.kc, 100);
  /* a tile that does not fit the registers keeps the model's */
  SchedChoice big = {16, 4, SCHED_MODEL, SCHED_MODEL, SCHED_MODEL, SCHED_MODEL, SCHED_MODEL,
                     SCHED_MODEL};
  SchedOp op2 = {.choice = &big};
  GemmSched model;
  sched_gemm(&avx2, NULL, 256, 3136, 576, SCHED_A_PACKED, 0, &model);
  sched_gemm(&avx2, &op2, 256, 3136, 576, SCHED_A_PACKED, 0, &s);
  assert_int_equal(s.mr, model.mr);
  assert_int_equal(s.nv, model.nv);
  /* the orientation: the model keeps 64x3136 direct; a choice turns it */
  SchedChoice tr = sched_model_choice;
  tr.transposed = 1;
  SchedOp op3 = {.choice = &tr};
  assert_true(sched_gemm_transposed(&avx512, &op3, 64, 3136, 576, SCHED_A_PACKED, 0));
  assert_true(op3.problem.transposable);
  assert_int_equal(op3.problem.used.transposed, 1);
  /* none on a scalar FPU, whatever the choice */
  SchedOp op4 = {.choice = &tr};
  assert_false(sched_gemm_transposed(&fpu, &op4, 64, 3136, 576, SCHED_A_PACKED, 0));
  assert_false(op4.problem.transposable);
}

/* -schedule=naive: one-row, one-vector tiles, K whole, no prefetch, no
 * transposition, depthwise rows as they are. */
static void test_naive(void **state) {
  (void)state;
  SchedTarget naive = avx512;
  naive.naive = true;
  GemmSched s;
  sched_gemm(&naive, NULL, 512, 49, 4608, SCHED_A_PACKED, 0, &s);
  assert_int_equal(s.mr, 1);
  assert_int_equal(s.nv, 1);
  assert_int_equal(s.kc, 4608);
  assert_int_equal(s.prefetch_bytes, 0);
  assert_false(sched_gemm_transposed(&naive, NULL, 512, 49, 4608, SCHED_A_PACKED, 0));
  SchedDepthwise dw = sched_depthwise(&naive, NULL, 7u, SCHED_DW_CHANNELS_LAST);
  assert_int_equal(dw.variant, SCHED_DW_ROWS);
  assert_int_equal(dw.block, 1);
  /* the model's blocks: a row at a time, four columns */
  assert_int_equal(sched_depthwise(&avx512, NULL, 7u, SCHED_DW_ROWS).block, 1);
  assert_int_equal(sched_depthwise(&avx512, NULL, 7u, SCHED_DW_CHANNELS_LAST).block, 4);
  /* a depthwise choice the lowering can run wins; one it cannot is ignored,
   * and so is a block out of the variant's range */
  SchedChoice c = sched_model_choice;
  c.variant = SCHED_DW_CHANNELS_LAST;
  c.block = 8;
  SchedOp op = {.choice = &c};
  dw = sched_depthwise(&avx512, &op, 7u, SCHED_DW_ROWS);
  assert_int_equal(dw.variant, SCHED_DW_CHANNELS_LAST);
  assert_int_equal(dw.block, 8);
  SchedOp op2 = {.choice = &c};
  dw = sched_depthwise(&avx512, &op2, 3u, SCHED_DW_ROWS_PADDED);
  assert_int_equal(dw.variant, SCHED_DW_ROWS_PADDED);
  assert_int_equal(dw.block, 1);
  assert_int_equal(op2.problem.kind, SCHED_KIND_DEPTHWISE);
  assert_int_equal(op2.problem.variants, 3u);
  assert_int_equal(op2.problem.used.variant, SCHED_DW_ROWS_PADDED);
  assert_int_equal(op2.problem.used.block, 1);
  c.block = 2;
  SchedOp op3 = {.choice = &c};
  assert_int_equal(sched_depthwise(&avx512, &op3, 3u, SCHED_DW_ROWS).block, 2);
}

/* The candidates: every tile fits, none twice, best predicted first, and
 * the first no worse than the model's own choice. */
static void test_candidates(void **state) {
  (void)state;
  SchedOp op = {0};
  GemmSched s;
  sched_gemm_transposed(&avx512, &op, 512, 49, 4608, SCHED_A_PACKED, 512 * 4608 * 4);
  sched_gemm(&avx512, &op, 49, 512, 4608, SCHED_A_PACKED, 512 * 4608 * 4, &s);
  SchedChoice c[512];
  int n = sched_candidates(&avx512, &op.problem, 1, c, 512);
  assert_true(n > 100);
  n = n < 512 ? n : 512;
  bool both = false;
  for (int i = 0; i < n; i++) {
    assert_true(c[i].mr * c[i].nv + c[i].nv + 1 <= avx512.vec_regs);
    assert_true(c[i].kc >= 16 && c[i].kc <= 4608);
    if (i) assert_true(sched_predict(&avx512, &op.problem, &c[i - 1]) <=
                       sched_predict(&avx512, &op.problem, &c[i]));
    for (int k = 0; k < i; k++) assert_false(sched_choice_equal(&c[k], &c[i]));
    both |= c[i].transposed != c[0].transposed;
  }
  assert_true(both);
  assert_true(sched_predict(&avx512, &op.problem, &c[0]) <=
              sched_predict(&avx512, &op.problem, &op.problem.used));
  /* at 2 threads a splittable op also tries its task counts: its own first */
  SchedProblem split = op.problem;
  split.splittable = true;
  split.used.tasks = 2;
  assert_true(sched_candidates(&avx512, &split, 2, c, 512) > n);
  assert_int_equal(c[0].tasks, 2);
  assert_int_equal(c[1].tasks, 1);
  assert_int_equal(c[2].tasks, 4);
  assert_true(c[0].mr == c[2].mr && c[0].nv == c[2].nv && c[0].kc == c[2].kc);
  /* a K under 16 (a 3x3 window on one channel) is one block of all of K */
  SchedOp small = {0};
  sched_gemm(&avx512, &small, 8, 784, 9, SCHED_A_PACKED, 8 * 9 * 4, &s);
  n = sched_candidates(&avx512, &small.problem, 1, c, 512);
  assert_true(n > 20);
  for (int i = 0; i < n && i < 512; i++) assert_int_equal(c[i].kc, 9);
  /* a depthwise op: its own pick first, its other blocks, then the other
   * variants it can run with each of theirs */
  SchedProblem dw = {.kind = SCHED_KIND_DEPTHWISE, .variants = 5u, .used = sched_model_choice};
  dw.used.variant = SCHED_DW_CHANNELS_LAST;
  dw.used.block = 4;
  assert_int_equal(sched_candidates(&avx512, &dw, 1, c, 512),
                   SCHED_DW_MAX_COLS + SCHED_DW_MAX_ROWS);
  assert_int_equal(c[0].variant, SCHED_DW_CHANNELS_LAST);
  assert_int_equal(c[0].block, 4);
  for (int i = 1; i < SCHED_DW_MAX_COLS; i++) {
    assert_int_equal(c[i].variant, SCHED_DW_CHANNELS_LAST);
    assert_int_equal(c[i].block, i < 4 ? i : i + 1);
  }
  for (int i = 0; i < SCHED_DW_MAX_ROWS; i++) {
    assert_int_equal(c[SCHED_DW_MAX_COLS + i].variant, SCHED_DW_ROWS);
    assert_int_equal(c[SCHED_DW_MAX_COLS + i].block, i + 1);
  }
  /* all three variants: at least the 20 candidates tune measures */
  dw.variants = 7u;
  assert_int_equal(sched_candidates(&avx512, &dw, 1, c, 512),
                   SCHED_DW_MAX_COLS + 2 * SCHED_DW_MAX_ROWS);
}

/* The cost model's file: what sched_cost_write writes reads back the same;
 * a file with an unknown, repeated or missing parameter is refused. */
static void test_cost_file(void **state) {
  (void)state;
  char path[] = "/tmp/tcc-cost-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  SchedCostModel m = sched_cost_builtin, back;
  m.k_overhead = 1.75;
  assert_true(sched_cost_write(path, &m, "a test"));
  assert_true(sched_cost_load(path, &back));
  assert_memory_equal(&m, &back, sizeof m);
  static const struct {
    const char *text, *error;
  } bad[] = {
      {"COST_PARAM(frobs, 1, \"x\")\n", "%s:1:1: error: unknown parameter 'frobs'\n"},
      {"COST_PARAM(k_overhead, 1, \"x\")\nCOST_PARAM(k_overhead, 2, \"x\")\n",
       "%s:2:1: error: repeated parameter 'k_overhead'\n"},
      {"COST_PARAM(k_overhead, -1, \"x\")\n",
       "%s:1:1: error: 'k_overhead' must be positive and finite\n"},
      {"COST_PARAM(k_overhead 1)\n",
       "%s:1:1: error: expected COST_PARAM(name, value, \"meaning\")\n"},
      {"/* nothing */\n", "%s: error: parameter 'fma_per_cycle' is missing\n"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    FILE *f = fopen(path, "w");
    fputs(bad[i].text, f);
    fclose(f);
    captured[0] = 0;
    diag_set_sink(capture, NULL);
    assert_false(sched_cost_load(path, &back));
    diag_set_sink(NULL, NULL);
    char want[512];
    snprintf(want, sizeof want, bad[i].error, path);
    assert_string_equal(captured, want);
  }
  unlink(path);
}

/* Winograd: F(4x4) on sides that are multiples of 4, F(2x2) on even ones,
 * blocks of whole tile rows within twice L2, tasks where threads run; the
 * direct product where it does not pay or is not wanted. */
static void test_winograd(void **state) {
  (void)state;
  SchedWinograd w;
  /* the problem notes what the op can take; a choice takes another tile,
   * or the direct product */
  SchedOp op = {0};
  assert_true(sched_winograd(&avx512, &op, 64, 64, 56, 56, &w));
  assert_int_equal(op.problem.variants, 1u | 1u << 2 | 1u << 4);
  assert_int_equal(op.problem.used.variant, 4);
  SchedChoice c = sched_model_choice;
  c.variant = 2;
  op = (SchedOp){.choice = &c};
  assert_true(sched_winograd(&avx512, &op, 64, 64, 56, 56, &w));
  assert_int_equal(w.m, 2);
  c.variant = 0;
  op = (SchedOp){.choice = &c};
  assert_false(sched_winograd(&avx512, &op, 64, 64, 56, 56, &w));
  assert_int_equal(op.problem.used.variant, 0);
  /* candidates: the tiles of the product, then the other two ways */
  GemmSched gs;
  op = (SchedOp){0};
  sched_winograd(&avx512, &op, 64, 64, 56, 56, &w);
  sched_gemm(&avx512, &op, 64, 98, 64, SCHED_A_PACKED, 36 * 64 * 64 * 4, &gs);
  assert_int_equal(op.problem.used.variant, 4);
  SchedChoice cand[512];
  int n = sched_candidates(&avx512, &op.problem, 1, cand, 512), others = 0;
  for (int i = 0; i < n && i < 512; i++) others += cand[i].variant == 0 || cand[i].variant == 2;
  assert_int_equal(others, 2);
  /* ResNet-18's 56x56 layer: 14 tile rows of 14, 36 x 128 x 14 floats a row */
  assert_true(sched_winograd(&avx512, NULL, 64, 64, 56, 56, &w));
  assert_int_equal(w.m, 4);
  assert_int_equal(w.rows_per_block, 7);
  assert_int_equal(w.tasks, 2);
  /* 14x14: 4 does not divide it; 7 tiles a row of 16 lanes is enough */
  assert_true(sched_winograd(&avx512, NULL, 256, 256, 14, 14, &w));
  assert_int_equal(w.m, 2);
  assert_int_equal(w.rows_per_block, 7);
  assert_int_equal(w.tasks, 1);
  /* 20x20 at 16 lanes: 5 tiles of 4 fill too little, 10 of 2 enough */
  assert_true(sched_winograd(&avx512, NULL, 32, 48, 20, 20, &w));
  assert_int_equal(w.m, 2);
  assert_true(sched_winograd(&avx2, NULL, 32, 48, 20, 20, &w));
  assert_int_equal(w.m, 4);
  /* sides the tile does not divide: the tiles hang over */
  assert_true(sched_winograd(&avx512, NULL, 16, 64, 55, 55, &w));
  assert_int_equal(w.m, 4);
  assert_true(sched_winograd(&avx512, NULL, 64, 256, 13, 13, &w));
  assert_int_equal(w.m, 2);
  assert_false(sched_winograd(&avx512, NULL, 512, 512, 7, 7, &w)); /* 4 tiles a row of 16 lanes */
  assert_true(sched_winograd(&avx2, NULL, 512, 512, 7, 7, &w));
  assert_int_equal(w.m, 2);
  assert_false(sched_winograd(&avx512, NULL, 8, 64, 56, 56, &w));  /* few channels */
  assert_false(sched_winograd(&fpu, NULL, 64, 64, 56, 56, &w));    /* scalar, no L2 */
  assert_false(sched_winograd(NULL, NULL, 64, 64, 56, 56, &w));    /* -O0 */
  SchedTarget t = avx512;
  t.winograd = false;
  assert_false(sched_winograd(&t, NULL, 64, 64, 56, 56, &w));
  t = avx512;
  t.weight_store = IR_F16;
  assert_false(sched_winograd(&t, NULL, 64, 64, 56, 56, &w));
  t = neon;
  t.threads = false;
  assert_true(sched_winograd(&t, NULL, 64, 64, 56, 56, &w));
  assert_int_equal(w.tasks, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tiles_fit_registers),
      cmocka_unit_test(test_orientation),
      cmocka_unit_test(test_column_split),
      cmocka_unit_test(test_choice_text),
      cmocka_unit_test(test_choice_applies),
      cmocka_unit_test(test_naive),
      cmocka_unit_test(test_candidates),
      cmocka_unit_test(test_cost_file),
      cmocka_unit_test(test_winograd),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
