/* fuzz_common.h — shared by the libFuzzer harnesses (header-only: each
 * harness is one translation unit).
 *
 * Diagnostics are formatted (the formatting code is fuzzed too) but dropped.
 * A broken invariant calls fuzz_fail, which aborts: libFuzzer records the
 * input as a crash exactly as it does for a sanitizer report. */
#ifndef TCC_FUZZ_COMMON_H
#define TCC_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* The last diagnostic, for the report when an invariant breaks. */
static char fuzz_last_diag[512];

static inline void fuzz_drop_diag(void *user, DiagLevel level, const char *msg) {
  (void)user, (void)level;
  snprintf(fuzz_last_diag, sizeof fuzz_last_diag, "%s", msg); /* reads it all */
}

static inline void fuzz_quiet(void) {
  diag_set_sink(fuzz_drop_diag, NULL);
  diag_reset_count();
  fuzz_last_diag[0] = 0;
}

static inline void fuzz_fail(const char *what, const char *a, const char *b) {
  fprintf(stderr, "fuzz: invariant broken: %s\nfuzz: last diagnostic: %s\n",
          what, fuzz_last_diag);
  if (a) fprintf(stderr, "--- first:\n%s\n", a);
  if (b) fprintf(stderr, "--- second:\n%s\n", b);
  abort();
}

/* The invariant ir.h promises: print(parse(print(m))) == print(m), and a
 * module that verified still verifies after the round trip. */
static inline void fuzz_check_roundtrip(const IrModule *m) {
  char *text = ir_print_module_str(m);
  if (!text) fuzz_fail("ir_print_module_str returned NULL", NULL, NULL);
  IrModule *again = ir_parse(text, strlen(text), "roundtrip.tir");
  if (!again) fuzz_fail("the printed module does not parse", text, NULL);
  if (!ir_verify(again)) fuzz_fail("the reparsed module does not verify", text, NULL);
  char *text2 = ir_print_module_str(again);
  if (!text2 || strcmp(text, text2)) fuzz_fail("print(parse(print(m))) != print(m)", text, text2);
  free(text2);
  ir_module_free(again);
  free(text);
}

#endif
