/*
 * tcc/tcc.h — the tcc compiler as a library.
 *
 *   tcc_session *s = tcc_session_new();
 *   tcc_set_option(s, "target", "armv8");        // any CLI option, same names
 *   if (tcc_load_file(s, "model.onnx") == TCC_SUCCESS &&
 *       tcc_compile(s) == TCC_SUCCESS &&
 *       tcc_emit_files(s, "out/") == TCC_SUCCESS) { ... }
 *   fputs(tcc_diagnostics(s), stderr);           // what went wrong, if anything
 *   tcc_session_free(s);
 *
 * A session owns everything it allocates; freeing it frees all.  Sessions are
 * independent: several threads may each compile with their own session at
 * the same time (a session's diagnostics, counters and options are its own;
 * LLVM is initialized once per process).  One session is used by one thread
 * at a time.
 */
#ifndef TCC_TCC_H
#define TCC_TCC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Results, also the CLI's exit codes. */
typedef enum tcc_result {
  TCC_SUCCESS = 0,
  TCC_ERROR_INPUT = 1,    /* the model, a flag or an option is wrong or unsupported */
  TCC_ERROR_INTERNAL = 2, /* a bug in tcc, or the system failed (disk full, ...) */
} tcc_result;

typedef struct tcc_session tcc_session;

tcc_session *tcc_session_new(void);
void tcc_session_free(tcc_session *s);

/* Options by CLI name without dashes: "target", "mcpu", "mattr", "name", "O"
 * ("0".."3"), "passes" (comma list), "shape" (NAME:1x3x224x224, repeatable),
 * "dim" (PARAM=VALUE, repeatable), "print-ir-after" (PASS or "all"),
 * "verify-each" ("0"/"1"), "index-checks" ("0"/"1", default "1": run-time
 * checks of index tensors, TCC_ERR_INDEX_OUT_OF_RANGE), "emit" (obj,header,
 * asm,llvm,ir,dot), "depfile" (FILE), "report" (FILE.json), "max-flash" and
 * "max-ram" (sizes: 262144, 256K, 1.5M), and the rest of `tcc --help`'s
 * compile options.  Unknown names or bad values: TCC_ERROR_INPUT. */
tcc_result tcc_set_option(tcc_session *s, const char *name, const char *value);

/* Loads an ONNX model.  External data is resolved relative to the file. */
tcc_result tcc_load_file(tcc_session *s, const char *path);
/* Loads from memory (the bytes must outlive the session); name is used in
 * diagnostics and as the default model name; base_dir (may be NULL)
 * resolves external data. */
tcc_result tcc_load_memory(tcc_session *s, const void *data, size_t size,
                           const char *name, const char *base_dir);

/* Runs the pass pipeline and code generation. */
tcc_result tcc_compile(tcc_session *s);

/* Writes DIR/<name>.o and DIR/<name>.h (or what "emit" names, and the
 * "depfile" and "report" files), each through a temporary file renamed into
 * place once all are written: a failure leaves any previous artifacts
 * untouched. */
tcc_result tcc_emit_files(tcc_session *s, const char *dir);
/* The object and header in memory, owned by the session. */
tcc_result tcc_emit_memory(tcc_session *s, const void **object, size_t *object_size,
                           const char **header);

/* The C identifier that prefixes every symbol of the object. */
const char *tcc_model_name(const tcc_session *s);
/* Everything diagnosed so far, one message per line ("" when none). */
const char *tcc_diagnostics(const tcc_session *s);
const char *tcc_version(void);

#ifdef __cplusplus
}
#endif
#endif
