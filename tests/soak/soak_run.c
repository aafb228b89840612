/* soak_run.c — runs the compiled sample models (soak_mlp.o, soak_cnn.o, made
 * by `tcc compile` at build time) again and again and checks that memory
 * stays flat and the outputs stay those of the ONNX test data.
 *
 * usage: tcc-soak-run [-n RUNS] [-l LIMIT_KIB] MODELS_DIR
 *   -n  runs of each model (default 100000)
 *   -l  allowed growth of RSS and of heap in use (default 1024 KiB)
 * MODELS_DIR holds mlp/ and cnn/ with test_data_set_0/{input,output}_0.pb.
 * Before the loop, the entry points must refuse bad arguments with a status
 * (never abort or print): NULL pointers, a short or misaligned workspace,
 * a wrong ABI version. */
#define _GNU_SOURCE /* getopt, mallinfo2 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx.h"
#include "soak_cnn.h"
#include "soak_mem.h"
#include "soak_mlp.h"

typedef int (*RunFn)(const tcc_ctx *, const void *const[], void *const[]);

typedef struct Model {
  const char *name;
  RunFn run;
  size_t ws_size, out_bytes;
  OnnxTensor in, want;
  void *ws, *out;
} Model;

static bool model_open(Model *m, const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s/test_data_set_0/input_0.pb", dir, m->name);
  if (!onnx_tensor_read_file(path, &m->in)) return false;
  snprintf(path, sizeof path, "%s/%s/test_data_set_0/output_0.pb", dir, m->name);
  if (!onnx_tensor_read_file(path, &m->want) || m->want.nbytes != m->out_bytes) return false;
  m->ws = aligned_alloc(TCC_WORKSPACE_ALIGN, (m->ws_size + 64) / 64 * 64);
  m->out = calloc(1, m->out_bytes);
  return m->ws && m->out;
}

static void model_close(Model *m) {
  onnx_tensor_free(&m->in);
  onnx_tensor_free(&m->want);
  free(m->ws);
  free(m->out);
}

static int run(Model *m, tcc_ctx ctx) {
  const void *const in[1] = {m->in.data};
  void *const out[1] = {m->out};
  return m->run(&ctx, in, out);
}

/* The outputs against the reference, as the conformance runner compares. */
static bool outputs_ok(const Model *m) {
  const float *got = m->out, *want = m->want.data;
  for (size_t i = 0; i < m->out_bytes / 4; i++)
    if (!(fabsf(got[i] - want[i]) <= 1e-4f + 1e-3f * fabsf(want[i]))) {
      printf("FAIL: %s output[%zu] = %g, expected %g\n", m->name, i, got[i], want[i]);
      return false;
    }
  return true;
}

/* Each misuse must come back as its status code. */
static bool argument_checks(Model *m) {
  const void *const in[1] = {m->in.data}, *const no_in[1] = {NULL};
  void *const out[1] = {m->out}, *const no_out[1] = {NULL};
  tcc_ctx ok = tcc_ctx_init(m->ws, m->ws_size), bad_abi = ok;
  bad_abi.abi_version = 999;
  struct { const char *what; int got, want; } c[] = {
      {"NULL ctx", m->run(NULL, in, out), TCC_ERR_NULL_ARGUMENT},
      {"NULL inputs", m->run(&ok, NULL, out), TCC_ERR_NULL_ARGUMENT},
      {"NULL input 0", m->run(&ok, no_in, out), TCC_ERR_NULL_ARGUMENT},
      {"NULL output 0", m->run(&ok, in, no_out), TCC_ERR_NULL_ARGUMENT},
      {"wrong ABI", m->run(&bad_abi, in, out), TCC_ERR_ABI_MISMATCH},
      {"short workspace", run(m, tcc_ctx_init(m->ws, m->ws_size - 1)),
       m->ws_size ? TCC_ERR_WORKSPACE_TOO_SMALL : TCC_OK},
      {"misaligned workspace", run(m, tcc_ctx_init((char *)m->ws + 1, m->ws_size)),
       m->ws_size ? TCC_ERR_WORKSPACE_MISALIGNED : TCC_OK},
  };
  bool all = true;
  for (size_t i = 0; i < sizeof c / sizeof *c; i++)
    if (c[i].got != c[i].want) {
      printf("FAIL: %s with %s returned %d (%s), expected %d\n", m->name, c[i].what,
             c[i].got, tcc_status_str(c[i].got), c[i].want);
      all = false;
    }
  return all;
}

int main(int argc, char **argv) {
  long n = 100000, limit = 1024;
  for (int c; (c = getopt(argc, argv, "n:l:")) != -1;) {
    if (c == 'n') n = atol(optarg);
    else if (c == 'l') limit = atol(optarg);
    else return 2;
  }
  if (optind != argc - 1 || n < 1) {
    fprintf(stderr, "usage: %s [-n RUNS] [-l LIMIT_KIB] MODELS_DIR\n", argv[0]);
    return 2;
  }
  Model models[2] = {
      {.name = "mlp", .run = soak_mlp_run, .ws_size = SOAK_MLP_WORKSPACE_SIZE,
       .out_bytes = soak_mlp_outputs[0].nbytes},
      {.name = "cnn", .run = soak_cnn_run, .ws_size = SOAK_CNN_WORKSPACE_SIZE,
       .out_bytes = soak_cnn_outputs[0].nbytes}};
  bool ok = true;
  for (int k = 0; k < 2; k++)
    if (!model_open(&models[k], argv[optind])) {
      fprintf(stderr, "soak: cannot read the %s test data\n", models[k].name);
      return 1;
    }
  for (int k = 0; k < 2; k++) { /* warm-up: the first run faults in code and weights */
    ok = argument_checks(&models[k]) && ok;
    ok = run(&models[k], tcc_ctx_init(models[k].ws, models[k].ws_size)) == 0 && ok;
  }
  SoakMem before = soak_mem();
  for (long i = 0; i < n && ok; i++)
    for (int k = 0; k < 2 && ok; k++) {
      Model *m = &models[k];
      int st = run(m, tcc_ctx_init(m->ws, m->ws_size));
      if (st) printf("FAIL: %s run %ld: %s\n", m->name, i, tcc_status_str(st));
      ok = st == 0 && ((i != 0 && i != n - 1) || outputs_ok(m));
    }
  ok = soak_report("soak run (each model)", n, before, soak_mem(), limit) && ok;
  for (int k = 0; k < 2; k++) model_close(&models[k]);
  return ok ? 0 : 1;
}
