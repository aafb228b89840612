/* soak_compile.c — compiles the sample models again and again in one
 * process through the library API (tcc/tcc.h) and checks that memory stays
 * flat: every session must give back everything it took, LLVM included.
 *
 * usage: tcc-soak-compile [-n COMPILES] [-l LIMIT_KIB] MODEL.onnx...
 *   -n  compiles in all, spread round-robin over the models (default 1000)
 *   -l  allowed growth of RSS and of heap in use (default 4096 KiB)
 * Memory is measured after a warm-up round (LLVM initializes its targets
 * and option tables once per process) and at the end. */
#define _GNU_SOURCE /* getopt, mallinfo2 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soak_mem.h"
#include "tcc/tcc.h"

static bool compile_once(const char *path) {
  tcc_session *s = tcc_session_new();
  const void *obj;
  size_t size;
  const char *header;
  bool ok = s && tcc_load_file(s, path) == TCC_SUCCESS && tcc_compile(s) == TCC_SUCCESS &&
            tcc_emit_memory(s, &obj, &size, &header) == TCC_SUCCESS && size > 0 &&
            strlen(header) > 0;
  if (!ok) fprintf(stderr, "soak: compiling %s failed:\n%s", path, s ? tcc_diagnostics(s) : "");
  tcc_session_free(s);
  return ok;
}

int main(int argc, char **argv) {
  long n = 1000, limit = 4096;
  for (int c; (c = getopt(argc, argv, "n:l:")) != -1;) {
    if (c == 'n') n = atol(optarg);
    else if (c == 'l') limit = atol(optarg);
    else return 2;
  }
  int nmodels = argc - optind;
  if (nmodels < 1 || n < 1) {
    fprintf(stderr, "usage: %s [-n COMPILES] [-l LIMIT_KIB] MODEL.onnx...\n", argv[0]);
    return 2;
  }
  for (int i = 0; i < nmodels; i++) /* warm-up */
    if (!compile_once(argv[optind + i])) return 1;
  SoakMem before = soak_mem();
  for (long i = 0; i < n; i++)
    if (!compile_once(argv[optind + (int)(i % nmodels)])) return 1;
  return soak_report("soak compile", n, before, soak_mem(), limit) ? 0 : 1;
}
