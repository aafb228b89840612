/* dyn_driver.c — runs a model compiled once with run-time dims (as `net`,
 * -name=net) at the sizes given on the command line: the dynamic-network
 * test links it once per network and calls it per data set.
 *
 * usage: dyn_driver NAME=SIZE... IN_0.raw... OUT_0.raw...
 * One NAME=SIZE per run-time dim of the inputs (a sum such as
 * seq_plus_past and a data-dependent size are the model's to write into
 * dims[]); then NET_NUM_INPUTS input files and
 * NET_NUM_OUTPUTS output files, dense row-major at the run-time sizes (an
 * input file of any other size is an error).  The build defines DYN_DIMS,
 * the header's dims as {"seq", NET_DIM_seq}, ... (test_dynamic.sh greps
 * them): the header names them only in macros. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

static const struct {
  const char *name;
  int index;
} dim_table[] = {DYN_DIMS};
#define NUM_TABLE ((int)(sizeof dim_table / sizeof dim_table[0]))

/* Bytes of tensor t at the run-time sizes dims[] (its dims named by a sym
 * take that sym's value). */
static size_t run_bytes(const tcc_tensor_info *t, const int64_t *dims) {
  uint64_t bound = 1, now = 1;
  for (int k = 0; k < t->rank; k++) {
    int64_t d = t->dims[k];
    bound *= (uint64_t)d;
    for (int j = 0; t->dim_names && t->dim_names[k] && j < NUM_TABLE; j++)
      if (!strcmp(t->dim_names[k], dim_table[j].name)) d = dims[dim_table[j].index];
    now *= (uint64_t)d;
  }
  return bound ? (size_t)(t->nbytes / bound * now) : 0;
}

int main(int argc, char **argv) {
  int64_t dims[NET_NUM_DIMS + 1] = {0};
  int a = 1, seen = 0;
  for (; a < argc && strchr(argv[a], '='); a++, seen++) {
    size_t len = (size_t)(strchr(argv[a], '=') - argv[a]);
    int j = 0;
    while (j < NUM_TABLE && (strlen(dim_table[j].name) != len ||
                             strncmp(argv[a], dim_table[j].name, len)))
      j++;
    if (j == NUM_TABLE) {
      fprintf(stderr, "dyn_driver: the model has no run-time dim '%.*s'\n", (int)len, argv[a]);
      return 2;
    }
    dims[dim_table[j].index] = atoll(argv[a] + len + 1);
  }
  if (seen > NET_NUM_DIMS || argc - a != NET_NUM_INPUTS + NET_NUM_OUTPUTS) {
    fprintf(stderr, "usage: %s NAME=SIZE (x%d) IN.raw (x%d) OUT.raw (x%d)\n", argv[0],
            NET_NUM_DIMS, NET_NUM_INPUTS, NET_NUM_OUTPUTS);
    return 2;
  }
  const void *ins[NET_NUM_INPUTS];
  void *outs[NET_NUM_OUTPUTS];
  for (int i = 0; i < NET_NUM_INPUTS; i++, a++) {
    size_t want = run_bytes(&net_inputs[i], dims);
    void *x = calloc(1, want + 1);
    FILE *f = fopen(argv[a], "rb");
    size_t got = x && f ? fread(x, 1, want + 1, f) : 0;
    if (f) fclose(f);
    if (got != want) {
      fprintf(stderr, "dyn_driver: %s: %zu bytes, input '%s' needs %zu\n", argv[a], got,
              net_inputs[i].name, want);
      return 3;
    }
    ins[i] = x;
  }
  for (int i = 0; i < NET_NUM_OUTPUTS; i++)
    if (!(outs[i] = calloc(1, net_outputs[i].nbytes + 1))) return 3;
  void *ws = aligned_alloc(TCC_WORKSPACE_ALIGN, (NET_WORKSPACE_SIZE + 63) / 64 * 64 + 64);
  tcc_ctx ctx = tcc_ctx_init(ws, NET_WORKSPACE_SIZE);
  int st = net_run_dims(&ctx, dims, ins, outs);
  if (st) {
    fprintf(stderr, "net_run_dims: %s\n", tcc_status_str(st));
    return 4;
  }
  for (int i = 0; i < NET_NUM_OUTPUTS; i++, a++) {
    size_t n = run_bytes(&net_outputs[i], dims);
    FILE *f = fopen(argv[a], "wb");
    if (!f || fwrite(outs[i], 1, n, f) != n || fclose(f)) return 5;
    free(outs[i]);
  }
  for (int i = 0; i < NET_NUM_INPUTS; i++) free((void *)ins[i]);
  free(ws);
  return 0;
}
