/*
 * test_while.c — loop.while (docs/ir.md, "Loop level"): a loop whose trip
 * count is known only at run time.  Parsed .tir modules (a Collatz step
 * count per input value, a running sum that stops past a limit and stores
 * every step, a loop whose condition is a carried value) run in the
 * interpreter and, compiled for x86_64 and linked with a driver, as real
 * code; both must give the numbers computed here.  Also: zero iterations,
 * exact verifier messages, exact print/parse round trips, and what dce and
 * plan-memory do with a loop.while.
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

#include "header.h"
#include "ir.h"
#include "llvm.h"
#include "passes.h"
#include "program_test.h"

/* ---------------------------------------------------------- diagnostics */
static char diags[4096];

static void sink(void *user, DiagLevel level, const char *text) {
  (void)user, (void)level;
  size_t n = strlen(diags);
  snprintf(diags + n, sizeof diags - n, "%s%s", n ? "\n" : "", text);
}

static int setup(void **state) {
  (void)state;
  diags[0] = 0;
  diag_set_sink(sink, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  diag_set_sink(NULL, NULL);
  return 0;
}

static IrModule *parse_ok(const char *text) {
  IrModule *m = ir_parse(text, strlen(text), "w.tir");
  assert_non_null(m);
  assert_true(ir_verify(m));
  assert_string_equal(diags, "");
  return m;
}

/* ------------------------------------------------------------- modules */
/* steps[i] = number of Collatz steps from x[i] down to 1 (0 when x[i] <= 1:
 * the loop.while then never runs its body), one loop.while per element of
 * a loop.for. */
static const char collatz_text[] =
    "module @collatz\n"
    "func @main(%0: buf i64[5] as \"x\") -> (%1: buf i64[5] as \"steps\") {workspace=0} {\n"
    "  %2 = arith.const() {value=0} : index\n"
    "  %3 = arith.const() {value=5} : index\n"
    "  %4 = arith.const() {value=0} : i64\n"
    "  %5 = arith.const() {value=1} : i64\n"
    "  %6 = arith.const() {value=2} : i64\n"
    "  %7 = arith.const() {value=3} : i64\n"
    "  loop.for(%2, %3) {step=1} (%8: index) {\n"
    "    %9 = mem.load(%0, %8) : i64\n"
    "    %10 = arith.cmp(%9, %5) {pred=\"gt\"} : bool\n"
    "    %11, %12 = loop.while(%10, %9, %4) : i64, i64 (%13: i64, %14: i64) {\n"
    "      %15 = arith.rem(%13, %6) : i64\n"
    "      %16 = arith.cmp(%15, %4) {pred=\"eq\"} : bool\n"
    "      %17 = arith.div(%13, %6) : i64\n"
    "      %18 = arith.fma(%13, %7, %5) : i64\n"
    "      %19 = arith.select(%16, %17, %18) : i64\n"
    "      %20 = arith.add(%14, %5) : i64\n"
    "      %21 = arith.cmp(%19, %5) {pred=\"gt\"} : bool\n"
    "      loop.yield(%21, %19, %20)\n"
    "    }\n"
    "    mem.store(%12, %1, %8)\n"
    "  }\n"
    "}\n";

/* Adds x[i] while the sum stays <= limit (and i < 8), storing each running
 * sum into running[i]; count = iterations run, total = the final sum.  A
 * negative limit: no iteration, everything 0. */
static const char sum_text[] =
    "module @sumcap\n"
    "func @main(%0: buf f32[8] as \"x\", %1: buf f32[1] as \"limit\") -> (%2: buf f32[8] as "
    "\"running\", %3: buf i64[1] as \"count\", %4: buf f32[1] as \"total\") {workspace=0} {\n"
    "  %5 = arith.const() {value=0} : index\n"
    "  %6 = arith.const() {value=1} : index\n"
    "  %7 = arith.const() {value=8} : index\n"
    "  %8 = arith.const() {value=0.0} : f32\n"
    "  %9 = mem.load(%1, %5) : f32\n"
    "  %10 = arith.cmp(%8, %9) {pred=\"le\"} : bool\n"
    "  %11, %12 = loop.while(%10, %5, %8) : index, f32 (%13: index, %14: f32) {\n"
    "    %15 = mem.load(%0, %13) : f32\n"
    "    %16 = arith.add(%14, %15) : f32\n"
    "    mem.store(%16, %2, %13)\n"
    "    %17 = arith.add(%13, %6) : index\n"
    "    %18 = arith.cmp(%16, %9) {pred=\"le\"} : bool\n"
    "    %19 = arith.cmp(%17, %7) {pred=\"lt\"} : bool\n"
    "    %20 = arith.and(%18, %19) : bool\n"
    "    loop.yield(%20, %17, %16)\n"
    "  }\n"
    "  %21 = arith.cast(%11) : i64\n"
    "  mem.store(%21, %3, %5)\n"
    "  mem.store(%12, %4, %5)\n"
    "}\n";

/* The next condition is the carried flag's OLD value (%6), which the same
 * yield replaces: the loop runs once more after n reaches the limit, so
 * n = limit + 1.  A vector rides along (lane l grows by $steps[l]). */
static const char lag_text[] =
    "module @lag\n"
    "weight $steps : i32[4] = [1,2,3,4]\n"
    "func @main(%0: buf i64[1] as \"limit\") -> (%1: buf i64[1] as \"n\", %2: buf i32[4] as "
    "\"v\") {workspace=0} {\n"
    "  %3 = arith.const() {value=0} : index\n"
    "  %4 = arith.const() {value=0} : i64\n"
    "  %5 = arith.const() {value=1} : i64\n"
    "  %6 = mem.load(%0, %3) : i64\n"
    "  %7 = arith.cmp(%4, %6) {pred=\"lt\"} : bool\n"
    "  %8 = arith.const() {value=0} : i32\n"
    "  %9 = vec.broadcast(%8) : <4 x i32>\n"
    "  %10 = mem.vload($steps, %3) : <4 x i32>\n"
    "  %11, %12, %13 = loop.while(%7, %7, %4, %9) : bool, i64, <4 x i32> (%14: bool, %15: i64, "
    "%16: <4 x i32>) {\n"
    "    %17 = arith.add(%15, %5) : i64\n"
    "    %18 = arith.cmp(%17, %6) {pred=\"lt\"} : bool\n"
    "    %19 = arith.add(%16, %10) : <4 x i32>\n"
    "    loop.yield(%14, %18, %17, %19)\n"
    "  }\n"
    "  mem.store(%12, %1, %3)\n"
    "  mem.vstore(%13, %2, %3)\n"
    "}\n";

/* ----------------------------------------------------------- references */
static int64_t collatz_steps(int64_t x) {
  int64_t n = 0;
  for (; x > 1; n++) x = x % 2 == 0 ? x / 2 : 3 * x + 1;
  return n;
}

static const int64_t COLLATZ_X[5] = {1, 6, 27, 97, 0};

typedef struct SumOut {
  float running[8];
  int64_t count;
  float total;
} SumOut;

static const float SUM_X[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static SumOut sum_ref(float limit) {
  SumOut r = {{0}, 0, 0};
  float s = 0;
  for (int i = 0; s <= limit && i < 8;) {
    s += SUM_X[i];
    r.running[i++] = s;
    r.count = i;
  }
  r.total = s;
  return r;
}

static void check_sum(const SumOut *got, float limit) {
  SumOut want = sum_ref(limit);
  for (int i = 0; i < 8; i++) assert_true(got->running[i] == want.running[i]);
  assert_int_equal(got->count, want.count);
  assert_true(got->total == want.total);
}

/* ----------------------------------------------------------- interpreter */
static void test_interp(void **state) {
  (void)state;
  IrModule *m = parse_ok(collatz_text);
  int64_t steps[5] = {-1, -1, -1, -1, -1};
  void *bufs[2] = {(void *)COLLATZ_X, steps};
  assert_true(ir_interp_run(m, m->main, bufs, NULL));
  for (int i = 0; i < 5; i++) assert_int_equal(steps[i], collatz_steps(COLLATZ_X[i]));
  assert_int_equal(steps[2], 111); /* 27 */
  assert_int_equal(steps[3], 118); /* 97 */
  ir_module_free(m);

  m = parse_ok(sum_text);
  static const float limits[3] = {10, 100, 0.5f};
  for (int k = 0; k < 3; k++) {
    SumOut got;
    memset(&got, 0, sizeof got);
    float limit = limits[k];
    void *b[5] = {(void *)SUM_X, &limit, got.running, &got.count, &got.total};
    assert_true(ir_interp_run(m, m->main, b, NULL));
    check_sum(&got, limit);
  }
  SumOut r = sum_ref(10);
  assert_int_equal(r.count, 5); /* 1+2+3+4+5 = 15 > 10 */
  assert_true(r.total == 15);
  ir_module_free(m);

  m = parse_ok(lag_text);
  int64_t limit = 5, n = -1;
  int32_t v[4] = {-1, -1, -1, -1};
  void *b[3] = {&limit, &n, v};
  assert_true(ir_interp_run(m, m->main, b, NULL));
  assert_int_equal(n, 6);
  for (int l = 0; l < 4; l++) assert_int_equal(v[l], 6 * (l + 1));
  ir_module_free(m);
  assert_string_equal(diags, "");
}

/* The condition false at the start: the body never runs, results = inits,
 * nothing stored. */
static void test_zero_iterations(void **state) {
  (void)state;
  IrModule *m = parse_ok(sum_text);
  SumOut got;
  memset(&got, 0x55, sizeof got);
  memset(got.running, 0, sizeof got.running);
  float limit = -1;
  void *b[5] = {(void *)SUM_X, &limit, got.running, &got.count, &got.total};
  assert_true(ir_interp_run(m, m->main, b, NULL));
  for (int i = 0; i < 8; i++) assert_true(got.running[i] == 0);
  assert_int_equal(got.count, 0);
  assert_true(got.total == 0);
  ir_module_free(m);

  m = parse_ok(lag_text);
  int64_t lim = 0, n = -1;
  int32_t v[4] = {-1, -1, -1, -1};
  void *b2[3] = {&lim, &n, v};
  assert_true(ir_interp_run(m, m->main, b2, NULL));
  assert_int_equal(n, 0);
  for (int l = 0; l < 4; l++) assert_int_equal(v[l], 0);
  ir_module_free(m);
}

/* Bounds checks still apply inside the loop: without the i < 8 guard the
 * running sum reads past x and the interpreter reports it. */
static void test_interp_bounds(void **state) {
  (void)state;
  char *text = strdup(sum_text);
  char *p = strstr(text, "%20 = arith.and(%18, %19)");
  assert_non_null(p);
  memcpy(p, "%20 = arith.and(%18, %18)", strlen("%20 = arith.and(%18, %18)"));
  IrModule *m = parse_ok(text);
  free(text);
  SumOut got;
  memset(&got, 0, sizeof got);
  float limit = 1000;
  void *b[5] = {(void *)SUM_X, &limit, got.running, &got.count, &got.total};
  assert_false(ir_interp_run(m, m->main, b, NULL));
  assert_string_equal(diags, "w.tir:10:5: error: interp: 'mem.load' index 8 is out of bounds "
                             "for dimension 0 of buf f32[8]");
  ir_module_free(m);
}

/* -------------------------------------------------------------- backend */
static void build_o3(IrModule *m) {
  LlvmOptions o = {.target = target_find("x86_64"), .opt_level = 3, .jobs = 1, .share = true};
  build_program(m, &o);
}

static void test_backend(void **state) {
  (void)state;
  IrModule *m = parse_ok(collatz_text);
  build_o3(m);
  int64_t steps[5];
  run_program(COLLATZ_X, sizeof COLLATZ_X, steps, sizeof steps);
  for (int i = 0; i < 5; i++) assert_int_equal(steps[i], collatz_steps(COLLATZ_X[i]));
  cleanup_tmpdir();
  ir_module_free(m);

  /* Inputs x then limit; outputs running, count, total, packed. */
  m = parse_ok(sum_text);
  build_o3(m);
  static const float limits[4] = {10, 100, 0.5f, -1};
  for (int k = 0; k < 4; k++) {
    unsigned char in[36], out[44];
    memcpy(in, SUM_X, 32);
    memcpy(in + 32, &limits[k], 4);
    run_program(in, sizeof in, out, sizeof out);
    SumOut got;
    memcpy(got.running, out, 32);
    memcpy(&got.count, out + 32, 8);
    memcpy(&got.total, out + 40, 4);
    check_sum(&got, limits[k]);
  }
  cleanup_tmpdir();
  ir_module_free(m);

  m = parse_ok(lag_text);
  build_o3(m);
  static const int64_t lag_limits[3] = {5, 0, 1};
  for (int k = 0; k < 3; k++) {
    unsigned char out[24];
    int64_t n;
    int32_t v[4];
    run_program(&lag_limits[k], 8, out, sizeof out);
    memcpy(&n, out, 8);
    memcpy(v, out + 8, 16);
    int64_t want = lag_limits[k] > 0 ? lag_limits[k] + 1 : 0;
    assert_int_equal(n, want);
    for (int l = 0; l < 4; l++) assert_int_equal(v[l], want * (l + 1));
  }
  cleanup_tmpdir();
  ir_module_free(m);
  assert_string_equal(diags, "");
}

/* ------------------------------------------------------------- verifier */
static void expect_verify_error(const char *text, const char *msg) {
  diags[0] = 0;
  IrModule *m = ir_parse(text, strlen(text), "v.tir");
  assert_non_null(m);
  assert_false(ir_verify(m));
  assert_string_equal(diags, msg);
  ir_module_free(m);
}

#define HEAD                                                           \
  "module @v\nfunc @main(%0: buf f32[2]) -> () {\n"                    \
  "  %1 = arith.const() {value=0} : index\n"                           \
  "  %2 = arith.const() {value=1.0} : f32\n"                           \
  "  %3 = arith.cmp(%1, %1) {pred=\"eq\"} : bool\n"

static void test_verify_errors(void **state) {
  (void)state;
  expect_verify_error(HEAD "  %4 = loop.while(%1, %1) : index (%5: index) {\n"
                           "    loop.yield(%3, %5)\n  }\n}\n",
                      "v.tir:6:3: error: verifier: 'loop.while' expects a bool condition, "
                      "got index");
  expect_verify_error(HEAD "  %4 = loop.while(%3, %1) : index (%5: index) {\n"
                           "    loop.yield(%3)\n  }\n}\n",
                      "v.tir:7:5: error: verifier: 'loop.yield' yields 1 values, the "
                      "loop.while expects its condition and 1 iteration values");
  expect_verify_error(HEAD "  %4 = loop.while(%3, %1) : index (%5: index) {\n"
                           "    loop.yield(%3, %2)\n  }\n}\n",
                      "v.tir:7:5: error: verifier: 'loop.yield' value 1 is f32, the loop's "
                      "iteration value 0 is index");
  expect_verify_error(HEAD "  %4 = loop.while(%3, %1) : index (%5: index) {\n"
                           "    loop.yield(%5, %5)\n  }\n}\n",
                      "v.tir:7:5: error: verifier: 'loop.yield' condition is index, "
                      "expected bool");
  expect_verify_error(HEAD "  loop.while(%3) () {\n    mem.store(%2, %0, %1)\n  }\n}\n",
                      "v.tir:6:3: error: verifier: 'loop.while' body must end in "
                      "'loop.yield' (the next condition, then 0 iteration values)");
  expect_verify_error(HEAD "  %4 = loop.while(%3, %1) : index (%5: index, %6: f32) {\n"
                           "    loop.yield(%3, %5)\n  }\n}\n",
                      "v.tir:6:3: error: verifier: 'loop.while' expects a body with 1 "
                      "arguments (the iteration values)");
  expect_verify_error(HEAD "  %4 = loop.while(%3, %1) : index (%5: f32) {\n"
                           "    loop.yield(%3, %1)\n  }\n}\n",
                      "v.tir:6:3: error: verifier: 'loop.while' iteration value 0 is index "
                      "but its result or body argument differs");
  expect_verify_error(HEAD "  %4, %5 = loop.while(%3, %1) : index, index (%6: index) {\n"
                           "    loop.yield(%3, %6)\n  }\n}\n",
                      "v.tir:6:3: error: verifier: 'loop.while' has 1 iteration values but "
                      "2 results");
  expect_verify_error(HEAD "  loop.while() () {\n  }\n}\n",
                      "v.tir:6:3: error: verifier: 'loop.while' expects at least 1 operands, "
                      "got 0");
  expect_verify_error(HEAD "  loop.yield(%3)\n}\n",
                      "v.tir:6:3: error: verifier: 'loop.yield' must be inside 'loop.for' or "
                      "'loop.while'");
  /* The interpreter runs the same checks before it runs anything. */
  diags[0] = 0;
  const char *bad = HEAD "  %4 = loop.while(%1, %1) : index (%5: index) {\n"
                         "    loop.yield(%3, %5)\n  }\n}\n";
  IrModule *m = ir_parse(bad, strlen(bad), "v.tir");
  assert_non_null(m);
  float buf[2];
  void *b[1] = {buf};
  assert_false(ir_interp_run(m, m->main, b, NULL));
  assert_string_equal(diags, "v.tir:6:3: error: verifier: 'loop.while' expects a bool "
                             "condition, got index");
  ir_module_free(m);
}

/* ------------------------------------------------------------ round trip */
static void assert_roundtrip(const char *text) {
  IrModule *m = parse_ok(text);
  char *s = ir_print_module_str(m);
  assert_string_equal(s, text);
  free(s);
  ir_module_free(m);
}

static void test_roundtrip(void **state) {
  (void)state;
  assert_roundtrip(collatz_text);
  assert_roundtrip(sum_text);
  assert_roundtrip(lag_text);
}

/* --------------------------------------------------------------- passes */
static char *run_passes(const char *text, const char *passes) {
  IrModule *m = parse_ok(text);
  PipelineOptions o = {.passes = passes, .verify_each = true};
  assert_true(pass_run_pipeline(m, &o));
  char *s = ir_print_module_str(m);
  ir_module_free(m);
  return s;
}

/* dce keeps every loop.while, even one with unused results and no stores
 * (it might not terminate), and a loop.for around one; it still removes
 * the unused constant. */
static void test_dce(void **state) {
  (void)state;
  static const char in[] =
      "module @d\n"
      "func @main(%0: buf f32[2]) -> () {workspace=0} {\n"
      "  %1 = arith.const() {value=0} : index\n"
      "  %2 = arith.const() {value=2} : index\n"
      "  %3 = arith.cmp(%1, %2) {pred=\"lt\"} : bool\n"
      "  %4 = arith.const() {value=7} : index\n"
      "  %5 = loop.while(%3, %1) : index (%6: index) {\n"
      "    %7 = arith.cmp(%6, %6) {pred=\"eq\"} : bool\n"
      "    loop.yield(%7, %6)\n"
      "  }\n"
      "  loop.for(%1, %2) {step=1} (%8: index) {\n"
      "    %9 = loop.while(%3, %8) : index (%10: index) {\n"
      "      loop.yield(%3, %10)\n"
      "    }\n"
      "  }\n"
      "}\n";
  static const char want[] =
      "module @d\n"
      "func @main(%0: buf f32[2]) -> () {workspace=0} {\n"
      "  %1 = arith.const() {value=0} : index\n"
      "  %2 = arith.const() {value=2} : index\n"
      "  %3 = arith.cmp(%1, %2) {pred=\"lt\"} : bool\n"
      "  %4 = loop.while(%3, %1) : index (%5: index) {\n"
      "    %6 = arith.cmp(%5, %5) {pred=\"eq\"} : bool\n"
      "    loop.yield(%6, %5)\n"
      "  }\n"
      "  loop.for(%1, %2) {step=1} (%7: index) {\n"
      "    %8 = loop.while(%3, %7) : index (%9: index) {\n"
      "      loop.yield(%3, %9)\n"
      "    }\n"
      "  }\n"
      "}\n";
  char *s = run_passes(in, "dce");
  assert_string_equal(s, want);
  free(s);
}

/* plan-memory: a buffer used only inside a loop.while lives through the
 * loop (the buffer allocated next cannot take its bytes while the loop
 * runs), and is free again after it. */
static void test_plan_memory(void **state) {
  (void)state;
  static const char in[] =
      "module @p\n"
      "func @main(%0: buf f32[16] as \"x\") -> (%1: buf f32[16] as \"y\") {\n"
      "  %2 = arith.const() {value=0} : index\n"
      "  %3 = arith.const() {value=1} : index\n"
      "  %4 = arith.const() {value=16} : index\n"
      "  %5 = mem.alloc() : buf f32[16]\n"
      "  %6 = mem.alloc() : buf f32[16]\n"
      "  %7 = arith.cmp(%2, %4) {pred=\"lt\"} : bool\n"
      "  %8 = loop.while(%7, %2) : index (%9: index) {\n"
      "    %10 = mem.load(%0, %9) : f32\n"
      "    mem.store(%10, %5, %9)\n"
      "    %11 = mem.load(%5, %9) : f32\n"
      "    mem.store(%11, %6, %9)\n"
      "    %12 = arith.add(%9, %3) : index\n"
      "    %13 = arith.cmp(%12, %4) {pred=\"lt\"} : bool\n"
      "    loop.yield(%13, %12)\n"
      "  }\n"
      "  %14 = mem.alloc() : buf f32[16]\n"
      "  mem.copy(%6, %14)\n"
      "  mem.copy(%14, %1)\n"
      "}\n";
  char *s = run_passes(in, "plan-memory");
  assert_non_null(strstr(s, "{workspace=128} {\n"));
  assert_non_null(strstr(s, "  %5 = mem.alloc() {offset=0} : buf f32[16]\n"));
  assert_non_null(strstr(s, "  %6 = mem.alloc() {offset=64} : buf f32[16]\n"));
  /* %5 is dead after the loop: %14 takes its bytes. */
  assert_non_null(strstr(s, "  %14 = mem.alloc() {offset=0} : buf f32[16]\n"));
  IrModule *m = parse_ok(s);
  free(s);
  float x[16], y[16] = {0}, ws[48];
  for (int i = 0; i < 16; i++) x[i] = (float)i * 0.5f - 3;
  void *b[2] = {x, y};
  assert_true(ir_interp_run(m, m->main, b, ws));
  for (int i = 0; i < 16; i++) assert_true(y[i] == x[i]);
  ir_module_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_interp, setup, teardown),
      cmocka_unit_test_setup_teardown(test_zero_iterations, setup, teardown),
      cmocka_unit_test_setup_teardown(test_interp_bounds, setup, teardown),
      cmocka_unit_test_setup_teardown(test_backend, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dce, setup, teardown),
      cmocka_unit_test_setup_teardown(test_plan_memory, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
