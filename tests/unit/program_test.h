/* program_test.h — what the unit tests that run compiled code share
 * (test_backend.c, test_while.c): a temporary folder, files, shell
 * commands, and a driver program that reads all inputs from in.bin, checks
 * that bad contexts are refused with the right status, runs the model and
 * writes all outputs to out.bin.  Each test is its own executable, so the
 * static state here is per test program. */
#ifndef TCC_PROGRAM_TEST_H
#define TCC_PROGRAM_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "header.h"
#include "ir.h"
#include "llvm.h"

static inline void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

static inline void *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  char *p = malloc(*n + 1);
  assert_int_equal(fread(p, 1, *n, f), *n);
  p[*n] = 0;
  fclose(f);
  return p;
}

static inline int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int rc = system(cmd);
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

/* The driver: reads all inputs from in.bin, checks that bad contexts are
 * refused with the right status, runs, writes all outputs to out.bin. */
static const char driver[] =
    "#include <stdio.h>\n#include <stdlib.h>\n#include \"%1$s.h\"\n"
    "int main(int argc, char **argv) {\n"
    "  (void)argc;\n"
    "  const void *ins[%2$s_NUM_INPUTS + 1]; void *outs[%2$s_NUM_OUTPUTS + 1];\n"
    "  FILE *f = fopen(argv[1], \"rb\");\n"
    "  for (int i = 0; i < %2$s_NUM_INPUTS; i++) {\n"
    "    void *p = malloc(%1$s_inputs[i].nbytes + 1);\n"
    "    if (fread(p, 1, %1$s_inputs[i].nbytes, f) != %1$s_inputs[i].nbytes) return 20;\n"
    "    ins[i] = p;\n  }\n  fclose(f);\n"
    "  for (int i = 0; i < %2$s_NUM_OUTPUTS; i++) outs[i] = calloc(1, %1$s_outputs[i].nbytes + 1);\n"
    "  void *ws = aligned_alloc(64, %2$s_WORKSPACE_SIZE + 64);\n"
    "  tcc_ctx ctx = tcc_ctx_init(ws, %2$s_WORKSPACE_SIZE);\n"
    "  tcc_ctx bad = ctx; bad.abi_version = 99;\n"
    "  if (%1$s_run(&bad, ins, outs) != TCC_ERR_ABI_MISMATCH) return 21;\n"
    "  if (%1$s_run(0, ins, outs) != TCC_ERR_NULL_ARGUMENT) return 22;\n"
    "  const void *saved = ins[0]; ins[0] = 0;\n"
    "  if (%1$s_run(&ctx, ins, outs) != TCC_ERR_NULL_ARGUMENT) return 23;\n"
    "  ins[0] = saved;\n"
    "  if (%2$s_WORKSPACE_SIZE) { bad = ctx; bad.workspace_size--;\n"
    "    if (%1$s_run(&bad, ins, outs) != TCC_ERR_WORKSPACE_TOO_SMALL) return 24; }\n"
    "  int st = %1$s_run(&ctx, ins, outs);\n"
    "  if (st) return 30 + st;\n"
    "  f = fopen(argv[2], \"wb\");\n"
    "  for (int i = 0; i < %2$s_NUM_OUTPUTS; i++)\n"
    "    fwrite(outs[i], 1, %1$s_outputs[i].nbytes, f);\n"
    "  fclose(f);\n"
    "  for (int i = 0; i < %2$s_NUM_INPUTS; i++) free((void *)ins[i]);\n"
    "  for (int i = 0; i < %2$s_NUM_OUTPUTS; i++) free(outs[i]);\n"
    "  free(ws);\n  return 0;\n}\n";

static char tmpdir[64];

/* A sanitized build has a sanitized libtccrt.a: the driver links the same. */
#if defined(__SANITIZE_ADDRESS__)
#define DRIVER_FLAGS "-fsanitize=address,undefined"
#else
#define DRIVER_FLAGS ""
#endif

static inline void make_tmpdir(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/tcc_backend_XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
}

/* Emits m (x86_64 at opt level 3, or as o says) with its header into a
 * fresh tmpdir and links the driver once; run_program() then runs it. */
static inline void build_program(IrModule *m, const LlvmOptions *o) {
  char path[256], up[64], src[8192];
  void *obj;
  size_t size;
  assert_int_equal(access(TCC_BINARY_DIR "/libtccrt.a", R_OK), 0);
  assert_true(ir_verify(m));
  assert_true(llvm_emit_object(m, o, &obj, &size));
  make_tmpdir();
  snprintf(path, sizeof path, "%s/%s.o", tmpdir, m->name);
  write_file(path, obj, size);
  free(obj);
  char *h = header_emit(m, NULL);
  snprintf(path, sizeof path, "%s/%s.h", tmpdir, m->name);
  write_file(path, h, strlen(h));
  free(h);
  size_t i = 0;
  for (; m->name[i]; i++)
    up[i] = (char)(m->name[i] >= 'a' && m->name[i] <= 'z' ? m->name[i] - 32 : m->name[i]);
  up[i] = 0;
  snprintf(src, sizeof src, driver, m->name, up);
  snprintf(path, sizeof path, "%s/main.c", tmpdir);
  write_file(path, src, strlen(src));
  assert_int_equal(sh("cc -std=c11 " DRIVER_FLAGS " -Wall -Wextra -Werror -I%s/include -I%s "
                      "-o %s/a.out %s/main.c %s/%s.o %s/libtccrt.a -lm",
                      TCC_SOURCE_DIR, tmpdir, tmpdir, tmpdir, tmpdir, m->name,
                      TCC_BINARY_DIR), 0);
}

/* Runs the program built last on the concatenated inputs; fills exactly
 * out_n bytes of concatenated outputs. */
static inline void run_program(const void *in, size_t in_n, void *out, size_t out_n) {
  char path[256];
  snprintf(path, sizeof path, "%s/in.bin", tmpdir);
  write_file(path, in, in_n);
  assert_int_equal(sh("%s/a.out %s/in.bin %s/out.bin", tmpdir, tmpdir, tmpdir), 0);
  snprintf(path, sizeof path, "%s/out.bin", tmpdir);
  size_t n;
  void *got = read_file(path, &n);
  assert_int_equal(n, out_n);
  memcpy(out, got, n);
  free(got);
}

static inline void cleanup_tmpdir(void) {
  if (tmpdir[0]) sh("rm -rf %s", tmpdir);
  tmpdir[0] = 0;
}

#endif
