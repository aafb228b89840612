/* diag.c — the only place that writes diagnostics.  Messages read
 *   model.onnx: node 'Conv_7' (Conv, opset 13): error: ...
 *   x.tir:12:9: error: ...
 * and go to stderr unless the library user installed a sink. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ir.h"

/* Per thread: sessions compiling on different threads of one process
 * never see each other's diagnostics.  A helper thread of a compile (the
 * code generation units) adopts its parent's state. */
struct DiagState {
  DiagSink sink;
  void *user;
  int errors;
};
static _Thread_local DiagState own;
static _Thread_local DiagState *adopted;

static DiagState *state(void) { return adopted ? adopted : &own; }
DiagState *diag_state(void) { return state(); }
void diag_adopt(DiagState *s) { adopted = s; }

void diag_set_sink(DiagSink s, void *user) {
  state()->sink = s;
  state()->user = user;
}

int diag_error_count(void) { return state()->errors; }
void diag_reset_count(void) { state()->errors = 0; }

void diag_format_loc(char *buf, size_t size, const IrLoc *loc) {
  /* No place to name: the message is about the tool's own input. */
  snprintf(buf, size, "tcc: ");
  if (!loc) return;
  const char *file = loc->file ? loc->file : "<input>";
  if (loc->line > 0)
    snprintf(buf, size, "%s:%d:%d: ", file, loc->line, loc->col);
  else if (loc->op_type && loc->opset > 0)
    snprintf(buf, size, "%s: node '%s' (%s, opset %d): ", file,
             loc->node ? loc->node : "", loc->op_type, loc->opset);
  else if (loc->op_type)
    snprintf(buf, size, "%s: node '%s' (%s): ", file,
             loc->node ? loc->node : "", loc->op_type);
  else if (loc->file)
    snprintf(buf, size, "%s: ", file);
}

static void emit(DiagLevel level, const IrLoc *loc, const char *fmt,
                 va_list ap) {
  static const char *const names[] = {"error", "warning", "note"};
  char where[1024], text[4096], line[5200];
  diag_format_loc(where, sizeof where, loc);
  vsnprintf(text, sizeof text, fmt, ap);
  snprintf(line, sizeof line, "%s%s: %s", where, names[level], text);
  DiagState *st = state();
  if (level == DIAG_ERROR) st->errors++;
  if (st->sink)
    st->sink(st->user, level, line);
  else
    fprintf(stderr, "%s\n", line);
}

void diag_at(DiagLevel level, const IrLoc *loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit(level, loc, fmt, ap);
  va_end(ap);
}

void diag_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit(DIAG_ERROR, NULL, fmt, ap);
  va_end(ap);
}

void diag_warning(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit(DIAG_WARNING, NULL, fmt, ap);
  va_end(ap);
}

_Noreturn void ir_assert_fail(const char *file, int line, const char *expr) {
  fprintf(stderr, "tcc: internal error: %s:%d: assertion '%s' failed\n", file,
          line, expr);
  exit(2); /* the CLI's documented exit code for internal errors */
}
