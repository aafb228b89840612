/*
 * main.c — an application that runs a model compiled by tcc_add_model()
 * (CMakeLists.txt).  It knows the model only through the generated header:
 * `app DIR` reads DIR/input_<i>.bin (each input's raw bytes, as the header's
 * model_inputs[i] describes them), runs the model once and writes
 * DIR/output_<i>.bin.  The same source runs on Linux (natively or under
 * qemu-user), under a WASI runtime and on a bare-metal board under QEMU,
 * whose semihosting gives it the host's files.  A model compiled with
 * --weights=external (TCC_WEIGHTS=external) has its weights in a blob
 * apart from the code: the app reads DIR/model.weights, checks it once and
 * hands it over in the context; a device would map it from flash or take
 * it from an update instead.
 */
#include <stdio.h>
#include <stdlib.h>

#include "model.h"

static _Alignas(64) unsigned char workspace[MODEL_WORKSPACE_SIZE + 1];

/* Reads or writes a whole buffer of n bytes, DIR/<kind>_<i>.bin (i < 0:
 * DIR/<kind>.weights); 0 on success. */
static int file_io(const char *dir, const char *kind, int i, void *buf,
                   size_t n, int write) {
  char path[512];
  if (i < 0) snprintf(path, sizeof path, "%s/%s.weights", dir, kind);
  else snprintf(path, sizeof path, "%s/%s_%d.bin", dir, kind, i);
  FILE *f = fopen(path, write ? "wb" : "rb");
  if (!f) {
    fprintf(stderr, "app: cannot open %s\n", path);
    return 1;
  }
  size_t done = write ? fwrite(buf, 1, n, f) : fread(buf, 1, n, f);
  int bad = fclose(f) != 0 || done != n;
  if (bad) fprintf(stderr, "app: %s: expected %zu bytes\n", path, n);
  return bad;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: app DIR (reads DIR/input_<i>.bin, writes DIR/output_<i>.bin)\n");
    return 2;
  }
  const void *inputs[MODEL_NUM_INPUTS];
  void *outputs[MODEL_NUM_OUTPUTS];
  for (int i = 0; i < MODEL_NUM_INPUTS; i++) {
    void *p = malloc(model_inputs[i].nbytes);
    if (!p || file_io(argv[1], "input", i, p, model_inputs[i].nbytes, 0)) return 1;
    inputs[i] = p;
  }
  for (int i = 0; i < MODEL_NUM_OUTPUTS; i++)
    if (!(outputs[i] = malloc(model_outputs[i].nbytes))) return 1;

  tcc_ctx ctx = tcc_ctx_init(workspace, sizeof workspace);
#ifdef MODEL_WEIGHTS_SIZE
  void *weights = aligned_alloc(TCC_WEIGHTS_ALIGN, (MODEL_WEIGHTS_SIZE + 63) / 64 * 64);
  if (!weights || file_io(argv[1], "model", -1, weights, MODEL_WEIGHTS_SIZE, 0)) return 1;
  int checked = model_check_weights(weights, MODEL_WEIGHTS_SIZE);
  if (checked != TCC_OK) {
    fprintf(stderr, "app: %s/model.weights: %s\n", argv[1], tcc_status_str(checked));
    return 1;
  }
  ctx.weights = weights;
  ctx.weights_size = MODEL_WEIGHTS_SIZE;
#endif
  int status = model_run(&ctx, inputs, outputs);
  if (status != 0) {
    fprintf(stderr, "app: the model stopped with status %d\n", status);
    return 1;
  }
  for (int i = 0; i < MODEL_NUM_OUTPUTS; i++)
    if (file_io(argv[1], "output", i, outputs[i], model_outputs[i].nbytes, 1)) return 1;
  printf("app: %d output(s) written to %s\n", MODEL_NUM_OUTPUTS, argv[1]);
  return 0;
}
