/*
 * test_sessions.c — the compiler as a library in a multi-threaded process
 * (a build server, parallel tuning): sessions on different threads compile
 * at the same time, each with its own options and diagnostics, and give
 * the same objects as one after the other.  tests/run.sh also runs it in a
 * ThreadSanitizer build (build-tsan, -DTCC_TSAN=ON).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcc/tcc.h"

typedef struct Job {
  const char *model, *target; /* model: a file under models/, or NULL: bad bytes */
  int rounds;
  _Atomic int *busy;          /* non-NULL: go on after rounds until it is 0 */
  tcc_result result;
  void *object;               /* the last round's */
  size_t object_size;
  char diagnostics[2048];
} Job;

static const char not_onnx[] = "this is not an ONNX model";

static void run_once(Job *j) {
  tcc_session *s = tcc_session_new();
  j->result = tcc_set_option(s, "target", j->target);
  if (j->result == TCC_SUCCESS) {
    if (j->model) {
      char path[1024];
      snprintf(path, sizeof path, "%s/models/%s/model.onnx", TCC_SOURCE_DIR, j->model);
      j->result = tcc_load_file(s, path);
    } else {
      j->result = tcc_load_memory(s, not_onnx, sizeof not_onnx - 1, "bad.onnx", NULL);
    }
  }
  if (j->result == TCC_SUCCESS) j->result = tcc_compile(s);
  const void *obj;
  size_t size;
  const char *header;
  free(j->object);
  j->object = NULL;
  if (j->result == TCC_SUCCESS &&
      (j->result = tcc_emit_memory(s, &obj, &size, &header)) == TCC_SUCCESS) {
    j->object = malloc(size);
    memcpy(j->object, obj, size);
    j->object_size = size;
  }
  snprintf(j->diagnostics, sizeof j->diagnostics, "%s", tcc_diagnostics(s));
  tcc_session_free(s);
}

static _Atomic int compiling; /* sessions of the good jobs still at work */

static void *run_rounds(void *arg) {
  Job *j = arg;
  for (int i = 0; i < j->rounds || (j->busy && *j->busy); i++) {
    run_once(j);
    if (j->result != TCC_SUCCESS && j->model) break;
  }
  if (!j->busy) compiling--;
  return NULL;
}

/* Runs the jobs on one thread each, at the same time. */
static void run_concurrently(Job *jobs, int n) {
  pthread_t t[8];
  compiling = 0;
  for (int i = 0; i < n; i++) compiling += !jobs[i].busy;
  for (int i = 0; i < n; i++) assert_int_equal(pthread_create(&t[i], NULL, run_rounds, &jobs[i]), 0);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
}

static void test_concurrent_compiles_match_serial(void **state) {
  (void)state;
  Job par[3] = {{.model = "cnn", .target = "armv8", .rounds = 3},
                {.model = "mlp", .target = "x86_64", .rounds = 3},
                {.model = "cnn", .target = "riscv64gcv", .rounds = 3}};
  run_concurrently(par, 3);
  for (int i = 0; i < 3; i++) {
    Job one = {.model = par[i].model, .target = par[i].target, .rounds = 1};
    run_once(&one);
    assert_int_equal(par[i].result, TCC_SUCCESS);
    assert_string_equal(par[i].diagnostics, "");
    assert_int_equal(one.result, TCC_SUCCESS);
    assert_int_equal(par[i].object_size, one.object_size);
    assert_memory_equal(par[i].object, one.object, one.object_size);
    free(par[i].object);
    free(one.object);
  }
}

/* A failing session's error reaches only its own diagnostics, and does not
 * make the other fail (error counts are per session): the bad model is
 * loaded again and again for as long as the other compiles. */
static void test_diagnostics_stay_in_their_session(void **state) {
  (void)state;
  Job jobs[2] = {{.model = NULL, .target = "x86_64", .rounds = 20, .busy = &compiling},
                 {.model = "cnn", .target = "x86_64", .rounds = 3}};
  run_concurrently(jobs, 2);
  assert_int_equal(jobs[0].result, TCC_ERROR_INPUT);
  assert_string_equal(jobs[0].diagnostics,
                      "bad.onnx: error: not a valid ONNX model (protobuf parse failed; "
                      "the file is truncated or not ONNX)\n");
  assert_int_equal(jobs[1].result, TCC_SUCCESS);
  assert_string_equal(jobs[1].diagnostics, "");
  assert_non_null(jobs[1].object);
  free(jobs[1].object);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_concurrent_compiles_match_serial),
      cmocka_unit_test(test_diagnostics_stay_in_their_session),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
