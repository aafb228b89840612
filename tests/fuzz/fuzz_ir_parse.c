/* fuzz_ir_parse.c — textual IR -> IrModule (ir_parse, then ir_verify).  The
 * text is not NUL-terminated (the parser must honour len).  A module that
 * parses and verifies must survive a print/parse round trip. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  fuzz_quiet();
  IrModule *m = ir_parse((const char *)data, size, "fuzz.tir");
  if (!m) {
    if (!diag_error_count()) fuzz_fail("parse failed without an error", NULL, NULL);
    return 0;
  }
  if (ir_verify(m)) fuzz_check_roundtrip(m);
  else if (!diag_error_count()) fuzz_fail("verify failed without an error", NULL, NULL);
  ir_module_free(m);
  return 0;
}
