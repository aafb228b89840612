/*
 * test_targets.c — the cross targets: registry rows, aliases, CPU/feature
 * diagnostics, and objects compiled from a real model through the public
 * API (right file format and machine, reproducible byte for byte).  Running
 * the objects is tests/targets/ and the conformance smoke runs' job.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "llvm.h"
#include "tcc/tcc.h"

static char diag_text[8192];
static void sink(void *user, DiagLevel level, const char *msg) {
  (void)user;
  (void)level;
  snprintf(diag_text, sizeof diag_text, "%s", msg);
}

static void test_rows_and_aliases(void **state) {
  (void)state;
  static const char *const rows[][4] = {
      {"armv8", "aarch64-unknown-linux-gnu", "generic", "+neon"},
      {"riscv64", "riscv64-unknown-linux-gnu", "generic-rv64", "+m,+a,+f,+d,+c"},
      {"riscv64gcv", "riscv64-unknown-linux-gnu", "generic-rv64", "+m,+a,+f,+d,+c,+v"},
      {"wasm32", "wasm32-unknown-wasi", "generic", "+simd128"},
      {"cortex-m4", "thumbv7em-none-unknown-eabihf", "cortex-m4", ""},
      {"cortex-m7", "thumbv7em-none-unknown-eabihf", "cortex-m7", ""},
      {"cortex-m55", "thumbv8.1m.main-none-unknown-eabihf", "cortex-m55", "+mve.fp"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const TccTarget *t = target_find(rows[i][0]);
    assert_non_null(t);
    assert_string_equal(t->triple, rows[i][1]);
    assert_string_equal(t->default_cpu, rows[i][2]);
    assert_string_equal(t->default_features, rows[i][3]);
    assert_true(target_check_cpu(t, t->default_cpu));
    assert_true(target_check_features(t, t->default_features));
  }
  assert_ptr_equal(target_find("aarch64"), target_find("armv8"));
  assert_ptr_equal(target_find("arm64"), target_find("armv8"));
  assert_int_equal(target_count(), 8);
}

static void test_cpu_and_feature_errors(void **state) {
  (void)state;
  const TccTarget *arm = target_find("armv8"), *rv = target_find("riscv64gcv");
  for (const char *const *c = (const char *const[]){"cortex-a53", "cortex-a72",
       "cortex-a76", "neoverse-n1", NULL}; *c; c++)
    assert_true(target_check_cpu(arm, *c));
  assert_true(target_check_features(arm, "+dotprod,+fullfp16")); /* LLVM names */
  diag_set_sink(sink, NULL);
  assert_false(target_check_cpu(arm, "cortex-a99"));
  const char *want = "tcc: error: unknown CPU 'cortex-a99' for target armv8; valid CPUs: ";
  assert_memory_equal(diag_text, want, strlen(want));
  assert_non_null(strstr(diag_text, ", cortex-a53, "));
  assert_non_null(strstr(diag_text, ", native"));
  assert_false(target_check_features(rv, "+v,+avx2"));
  want = "tcc: error: unknown feature 'avx2' for target riscv64gcv; valid features: ";
  assert_memory_equal(diag_text, want, strlen(want));
  assert_non_null(strstr(diag_text, ", zvl256b, "));
  assert_false(target_check_cpu(arm, "native"));
  assert_string_equal(diag_text, "tcc: error: -mcpu=native needs a armv8 host to "
                                 "compile for target armv8");
  diag_set_sink(NULL, NULL);
}

/* Compiles the sample MLP for target; *size bytes, malloc'd. */
static unsigned char *compile(const char *target, size_t *size) {
  tcc_session *s = tcc_session_new();
  const void *obj;
  const char *header;
  assert_int_equal(tcc_set_option(s, "target", target), TCC_SUCCESS);
  assert_int_equal(tcc_load_file(s, TCC_SOURCE_DIR "/models/mlp/model.onnx"), TCC_SUCCESS);
  if (tcc_compile(s) != TCC_SUCCESS) fail_msg("%s: %s", target, tcc_diagnostics(s));
  assert_int_equal(tcc_emit_memory(s, &obj, size, &header), TCC_SUCCESS);
  unsigned char *copy = malloc(*size);
  memcpy(copy, obj, *size);
  tcc_session_free(s);
  return copy;
}

static void test_objects(void **state) {
  (void)state;
  /* target, ELF class (0: wasm), ELF e_machine */
  static const struct { const char *t; int cls, machine; } want[] = {
      {"x86_64", 2, 62}, {"armv8", 2, 183}, {"riscv64", 2, 243},
      {"riscv64gcv", 2, 243}, {"wasm32", 0, 0}, {"cortex-m4", 1, 40},
      {"cortex-m7", 1, 40}, {"cortex-m55", 1, 40},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    size_t n1, n2;
    unsigned char *a = compile(want[i].t, &n1), *b = compile(want[i].t, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1); /* reproducible */
    if (!want[i].cls) {
      assert_memory_equal(a, "\0asm\1\0\0\0", 8);
    } else {
      assert_memory_equal(a, "\177ELF", 4);
      assert_int_equal(a[4], want[i].cls);
      assert_int_equal(a[18] | a[19] << 8, want[i].machine);
    }
    if (want[i].machine == 243) /* RVC, double-float ABI: links with gcc's */
      assert_int_equal(a[48] & 0x7, 0x5);
    if (want[i].machine == 40) /* EABI version 5 */
      assert_int_equal(a[39], 0x05);
    free(a);
    free(b);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rows_and_aliases),
      cmocka_unit_test(test_cpu_and_feature_errors),
      cmocka_unit_test(test_objects),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
