/* use_blob.c — an application of a model compiled with --weights=external:
 * it reads a weights blob, checks it once, hands it over in the context
 * and runs the model (a one-input, one-output model named net).
 *
 *   use_blob BLOB INPUT.bin OUTPUT.bin [ok|null|misaligned|short]
 *
 * hands over the blob as the mode says (as read, NULL, one byte off its
 * alignment, one byte short) and prints "check: <status>" of
 * net_check_weights and "run: <status>" of net_run; writes the output when
 * the run succeeds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

static void *read_file(const char *path, size_t *size, size_t extra) {
  FILE *f = fopen(path, "rb");
  if (!f || fseek(f, 0, SEEK_END) || (*size = (size_t)ftell(f), fseek(f, 0, SEEK_SET))) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  /* TCC_WEIGHTS_ALIGN-aligned, with room to misalign it on purpose */
  unsigned char *b = aligned_alloc(TCC_WEIGHTS_ALIGN, (*size + extra + 63) / 64 * 64);
  if (!b || fread(b + extra, 1, *size, f) != *size) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  fclose(f);
  return b;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  const char *mode = argc > 4 ? argv[4] : "ok";
  size_t extra = !strcmp(mode, "misaligned"), size, in_size;
  unsigned char *blob = read_file(argv[1], &size, extra);
  void *in = read_file(argv[2], &in_size, 0);
  if (in_size != net_inputs[0].nbytes) {
    fprintf(stderr, "input: %zu bytes, the model takes %llu\n", in_size,
            (unsigned long long)net_inputs[0].nbytes);
    return 2;
  }
  const void *given = !strcmp(mode, "null") ? NULL : blob + extra;
  size_t given_size = size - !strcmp(mode, "short");
  printf("check: %s\n", tcc_status_str(net_check_weights(given, given_size)));
  void *ws = aligned_alloc(TCC_WORKSPACE_ALIGN, (NET_WORKSPACE_SIZE + 63) / 64 * 64 + 64);
  void *out = malloc(net_outputs[0].nbytes);
  tcc_ctx ctx = tcc_ctx_init(ws, NET_WORKSPACE_SIZE);
  ctx.weights = given;
  ctx.weights_size = given_size;
  const void *inputs[1] = {in};
  void *outputs[1] = {out};
  int st = net_run(&ctx, inputs, outputs);
  printf("run: %s\n", tcc_status_str(st));
  if (st == TCC_OK) {
    FILE *f = fopen(argv[3], "wb");
    if (!f || fwrite(out, 1, net_outputs[0].nbytes, f) != net_outputs[0].nbytes) return 2;
    fclose(f);
  }
  free(blob);
  free(in);
  free(ws);
  free(out);
  return 0;
}
