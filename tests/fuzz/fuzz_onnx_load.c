/* fuzz_onnx_load.c — ONNX model bytes -> IrModule (onnx_load_memory, which
 * parses, builds and verifies).  A loaded module must verify again and
 * survive a print/parse round trip.
 *
 * External data resolves in a private folder holding one 4 KiB file,
 * "w.bin", so the checks on location, offset and length run too. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <unistd.h>

#include "fuzz_common.h"
#include "onnx.h"

static char base_dir[64];

static void make_base_dir(void) {
  snprintf(base_dir, sizeof base_dir, "/tmp/tcc-fuzz-XXXXXX");
  if (!mkdtemp(base_dir)) abort();
  char path[96];
  snprintf(path, sizeof path, "%s/w.bin", base_dir);
  FILE *f = fopen(path, "wb");
  if (!f) abort();
  for (int i = 0; i < 4096; i++) fputc(i & 0xff, f);
  fclose(f);
}

static void remove_base_dir(void) {
  char path[96];
  snprintf(path, sizeof path, "%s/w.bin", base_dir);
  unlink(path);
  rmdir(base_dir);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  if (!base_dir[0]) {
    make_base_dir();
    atexit(remove_base_dir);
  }
  fuzz_quiet();
  OnnxLoadOptions o = {.model_name = "fuzz", .base_dir = base_dir};
  IrModule *m = onnx_load_memory(data, size, "fuzz.onnx", &o);
  if (!m) {
    if (!diag_error_count()) fuzz_fail("load failed without an error", NULL, NULL);
    return 0;
  }
  if (!ir_verify(m)) fuzz_fail("a loaded module does not verify", NULL, NULL);
  fuzz_check_roundtrip(m);
  ir_module_free(m);
  return 0;
}
