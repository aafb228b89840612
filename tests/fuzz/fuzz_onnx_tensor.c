/* fuzz_onnx_tensor.c — serialized TensorProto -> dense tensor
 * (onnx_tensor_read_memory).  A tensor that reads must have exactly the
 * bytes its type needs (every byte is touched, so ASan sees a short buffer)
 * and must read back unchanged after onnx_tensor_write_file. */
#define _DEFAULT_SOURCE /* mkstemp */
#include <unistd.h>

#include "fuzz_common.h"
#include "onnx.h"

static char tmp_path[64];

static void remove_tmp(void) { unlink(tmp_path); }

static void check_size(const OnnxTensor *t) {
  IrType ty = ir_type_tensor(t->elem, t->rank, t->dims);
  uint64_t want;
  if (!ir_type_nbytes(&ty, &want) || want != t->nbytes)
    fuzz_fail("the tensor's bytes do not match its type", NULL, NULL);
  volatile unsigned char sum = 0;
  for (size_t i = 0; i < t->nbytes; i++) sum += ((const unsigned char *)t->data)[i];
}

static void check_write_read(const OnnxTensor *t) {
  if (!tmp_path[0]) {
    snprintf(tmp_path, sizeof tmp_path, "/tmp/tcc-fuzz-XXXXXX");
    int fd = mkstemp(tmp_path);
    if (fd < 0) abort();
    close(fd);
    atexit(remove_tmp);
  }
  OnnxTensor back;
  if (!onnx_tensor_write_file(tmp_path, t)) fuzz_fail("a read tensor does not write", NULL, NULL);
  if (!onnx_tensor_read_file(tmp_path, &back)) fuzz_fail("a written tensor does not read", NULL, NULL);
  bool same = back.elem == t->elem && back.rank == t->rank && back.nbytes == t->nbytes &&
              !memcmp(back.dims, t->dims, sizeof(int64_t) * (size_t)t->rank) &&
              (!t->nbytes || !memcmp(back.data, t->data, t->nbytes)) &&
              !strcmp(back.name ? back.name : "", t->name ? t->name : "");
  onnx_tensor_free(&back);
  if (!same) fuzz_fail("write + read changed the tensor", NULL, NULL);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  fuzz_quiet();
  OnnxTensor t;
  if (!onnx_tensor_read_memory(data, size, "fuzz.pb", &t)) {
    if (!diag_error_count()) fuzz_fail("read failed without an error", NULL, NULL);
    return 0;
  }
  check_size(&t);
  /* A name with a NUL byte is cut there by strdup: not a round-trip bug. */
  if (t.nbytes <= (1u << 20)) check_write_read(&t);
  onnx_tensor_free(&t);
  return 0;
}
