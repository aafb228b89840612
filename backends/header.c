/*
 * header.c — <name>.h for a compiled model.
 *
 * The header is the model's whole C interface: sizes as macros, one
 * tcc_tensor_info per input and output, the _run prototype the object
 * defines, and a typed inline wrapper.  It must compile silently as C and
 * C++ under -Wall -Wextra -Werror when the including file uses none of it,
 * and must be reproducible: no version, date or path in it.  ONNX names are
 * arbitrary strings, so they are escaped in string literals and comments
 * and sanitized (unique, not keywords) where they become parameter names.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "tcc/runtime.h"

typedef struct Buf {
  char *s;
  size_t len, cap;
} Buf;

static void put(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(Buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (b->len + (size_t)n + 1 > b->cap) {
    b->cap = (b->len + (size_t)n + 1) * 2;
    b->s = realloc(b->s, b->cap);
  }
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

/* s as the inside of a C string literal; also safe inside a comment ("*\/"
 * cannot appear: '/' after '*' is escaped). */
static void put_escaped(Buf *b, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      put(b, "\\%c", *p);
    else if (*p == '/' && p > (const unsigned char *)s && p[-1] == '*')
      put(b, "\\057");
    else if (*p < 0x20 || *p >= 0x7f)
      put(b, "\\%03o", *p);
    else
      put(b, "%c", *p);
  }
}

static const char *c_type(IrElem e) {
  switch (e) {
  case IR_F32: return "float";
  case IR_F64: return "double";
  case IR_F16: case IR_BF16: case IR_U16: return "uint16_t";
  case IR_I8: return "int8_t";
  case IR_I16: return "int16_t";
  case IR_I32: return "int32_t";
  case IR_U8: case IR_BOOL: case IR_F8E4M3FN: case IR_F8E4M3FNUZ: case IR_F8E5M2:
  case IR_F8E5M2FNUZ: case IR_F8E8M0:
  case IR_I4: case IR_U4: case IR_I2: case IR_U2: case IR_F4E2M1: /* packed bytes */
    return "uint8_t";
  case IR_U32: return "uint32_t";
  case IR_U64: return "uint64_t";
  default: return "int64_t";
  }
}

/* The size of dim i: static, the symbol's bound value, or for a run-time
 * dim its upper bound (buffers are sized for it). */
static int64_t dim_size(const IrModule *m, const IrType *t, int i) {
  int s = t->dims[i].sym;
  if (s < 0) return t->dims[i].size;
  return m->syms[s].value >= 0 ? m->syms[s].value : m->syms[s].hi;
}

static bool has_sym(const IrType *t) {
  for (int i = 0; i < t->rank; i++)
    if (t->dims[i].sym >= 0) return true;
  return false;
}

/* (header.h) The caller's buffer: a sub-byte type in ONNX's packing. */
uint64_t header_tensor_bytes(const IrModule *m, const IrType *t) {
  uint64_t n = 1;
  for (int i = 0; i < t->rank; i++) {
    int64_t d = dim_size(m, t, i);
    n *= d < 0 ? 0 : (uint64_t)d;
  }
  return ir_elem_packed_bytes(t->elem, n);
}

/* "f32[N=8,3,224,224]" */
static void put_shape(Buf *b, const IrModule *m, const IrType *t) {
  put(b, "%s[", ir_elem_name(t->elem));
  for (int i = 0; i < t->rank; i++) {
    if (i) put(b, ",");
    const IrSym *s = t->dims[i].sym >= 0 ? &m->syms[t->dims[i].sym] : NULL;
    if (s) {
      put_escaped(b, s->name);
      put(b, "=");
    }
    if (s && s->value < 0) put(b, "%lld..", (long long)s->lo);
    put(b, "%lld", (long long)dim_size(m, t, i));
  }
  put(b, "]");
}

static const char *const keywords[] = {
    "auto", "bool", "break", "case", "catch", "char", "class", "const",
    "continue", "default", "delete", "do", "double", "else", "enum", "explicit",
    "extern", "false", "float", "for", "friend", "goto", "if", "inline", "int",
    "long", "mutable", "namespace", "new", "operator", "private", "protected",
    "public", "register", "restrict", "return", "short", "signed", "sizeof",
    "static", "struct", "switch", "template", "this", "throw", "true", "try",
    "typedef", "typename", "union", "unsigned", "using", "virtual", "void",
    "volatile", "while", "ctx", "inputs", "outputs", NULL};

/* A parameter name from an ONNX name: [A-Za-z0-9_], no leading digit or
 * underscore, not a keyword, distinct from names[0..n). */
static char *param_name(const char *onnx, const char *fallback, int idx,
                        char **names, int n) {
  size_t len = onnx ? strlen(onnx) : 0;
  char *s = malloc(len + 32), *p = s;
  if (!len) p += sprintf(p, "%s%d", fallback, idx);
  else if (!isalpha((unsigned char)onnx[0])) p += sprintf(p, "t_");
  for (size_t i = 0; i < len; i++)
    *p++ = isalnum((unsigned char)onnx[i]) ? onnx[i] : '_';
  *p = 0;
  for (int i = 0; keywords[i]; i++)
    if (!strcmp(s, keywords[i])) strcat(s, "_");
  size_t base = strlen(s);
  for (int k = 2, clash = 1; clash; k++) {
    clash = 0;
    for (int i = 0; i < n; i++) clash |= !strcmp(names[i], s);
    if (clash) sprintf(s + base, "_%d", k);
  }
  return s;
}

/* The dims/dim_names arrays and the tcc_tensor_info initializer text. */
static void put_info_data(Buf *b, const IrModule *m, const char *kind, int i,
                          const IrType *t, const char *mu) {
  const char *name = m->name;
  if (t->rank) {
    put(b, "static const int64_t %s_%s%d_dims[%d] %s = {", name, kind, i, t->rank, mu);
    for (int d = 0; d < t->rank; d++)
      put(b, "%s%lld", d ? ", " : "", (long long)dim_size(m, t, d));
    put(b, "};\n");
  }
  if (!has_sym(t)) return;
  put(b, "static const char *const %s_%s%d_dim_names[%d] %s = {", name, kind, i,
      t->rank, mu);
  for (int d = 0; d < t->rank; d++) {
    put(b, "%s", d ? ", " : "");
    if (t->dims[d].sym < 0) {
      put(b, "0");
      continue;
    }
    put(b, "\"");
    put_escaped(b, m->syms[t->dims[d].sym].name);
    put(b, "\"");
  }
  put(b, "};\n");
}

static void put_infos(Buf *b, const IrModule *m, const char *kind, int first,
                      int n, const char *const *names, const char *mu) {
  const IrFunc *f = m->main;
  for (int i = 0; i < n; i++)
    put_info_data(b, m, kind, i, &f->body->args[first + i]->type, mu);
  if (!n) {
    /* C has no empty arrays: one zeroed entry, so code indexing by
     * <NAME>_NUM_<KIND>S compiles for models without inputs. */
    put(b, "static const tcc_tensor_info %s_%ss[1] %s = {{0, 0, 0, 0, 0, 0}};\n",
        m->name, kind, mu);
    return;
  }
  put(b, "static const tcc_tensor_info %s_%ss[%d] %s = {\n", m->name, kind, n, mu);
  for (int i = 0; i < n; i++) {
    const IrType *t = &f->body->args[first + i]->type;
    put(b, "  {\"");
    put_escaped(b, names && names[i] ? names[i] : "");
    put(b, "\", %d, %d, ", ir_elem_to_onnx(t->elem), t->rank);
    if (t->rank) put(b, "%s_%s%d_dims, ", m->name, kind, i);
    else put(b, "0, ");
    if (has_sym(t)) put(b, "%s_%s%d_dim_names, ", m->name, kind, i);
    else put(b, "0, ");
    put(b, "%lluu},\n", (unsigned long long)header_tensor_bytes(m, t));
  }
  put(b, "};\n");
}

/* Comment lines describing each input/output. */
static void put_comments(Buf *b, const IrModule *m, const char *kind, int first,
                         int n, const char *const *names) {
  for (int i = 0; i < n; i++) {
    const IrType *t = &m->main->body->args[first + i]->type;
    put(b, " *   %s %d \"", kind, i);
    put_escaped(b, names && names[i] ? names[i] : "");
    put(b, "\": ");
    put_shape(b, m, t);
    if (ir_elem_is_subbyte(t->elem))
      put(b, ", row-major, %d per byte (the first in the low bits)",
          8 / ir_elem_bits(t->elem));
    else
      put(b, ", row-major");
    put(b, ", %llu bytes\n", (unsigned long long)header_tensor_bytes(m, t));
    const char *note = first == 0 && m->main->input_notes ? m->main->input_notes[i] : NULL;
    if (note) put(b, " *     %s\n", note);
  }
}

static void put_macros(Buf *b, const IrModule *m, const char *up) {
  const IrFunc *f = m->main;
  put(b, "#define %s_ABI_VERSION %uu\n", up, TCC_ABI_VERSION);
  put(b, "#define %s_WORKSPACE_SIZE %lluu\n", up,
      (unsigned long long)(f->workspace_size < 0 ? 0 : f->workspace_size));
  put(b, "#define %s_NUM_INPUTS %d\n", up, f->num_inputs);
  put(b, "#define %s_NUM_OUTPUTS %d\n", up, f->num_outputs);
  if (ir_module_is_dynamic(m)) {
    /* Run-time dims: the index of each in the dims array of _run_dims. */
    put(b, "#define %s_NUM_DIMS %d\n", up, m->num_syms);
    for (int k = 0; k < m->num_syms; k++) {
      const IrSym *s = &m->syms[k];
      if (s->value >= 0) continue;
      char *id = malloc(strlen(s->name) + 1);
      strcpy(id, s->name);
      for (char *c = id; *c; c++)
        if (!isalnum((unsigned char)*c)) *c = '_';
      put(b, "#define %s_DIM_%s %d /* %lld..%lld", up, id, k, (long long)s->lo,
          (long long)s->hi);
      for (int t = 0; t < s->num_terms; t++)
        put(b, "%s%s", t ? " + " : ": ", m->syms[s->terms[t]].name);
      if (s->offset) put(b, " + %lld", (long long)s->offset);
      put(b, "%s */\n", s->num_terms ? ", set by the model" : "");
      free(id);
    }
  }
  put(b, "\n");
  put(b, "#if defined(__GNUC__) || defined(__clang__)\n"
         "#define %s_MAYBE_UNUSED __attribute__((unused))\n#else\n"
         "#define %s_MAYBE_UNUSED\n#endif\n\n", up, up);
}

/* The typed wrapper <name>_infer(ctx, inputs..., outputs...). */
static void put_wrapper(Buf *b, const IrModule *m) {
  const IrFunc *f = m->main;
  int n = f->num_inputs + f->num_outputs;
  char **names = calloc((size_t)n + 1, sizeof *names);
  bool dyn = ir_module_is_dynamic(m);
  put(b, "static inline int %s_infer(const tcc_ctx *ctx%s", m->name,
      dyn ? ", int64_t dims[]" : "");
  for (int i = 0; i < n; i++) {
    bool in = i < f->num_inputs;
    int k = in ? i : i - f->num_inputs;
    const char *onnx = in ? (f->input_names ? f->input_names[k] : NULL)
                          : (f->output_names ? f->output_names[k] : NULL);
    names[i] = param_name(onnx, in ? "in" : "out", k, names, i);
    put(b, ",\n    %s%s *%s", in ? "const " : "", c_type(f->body->args[i]->type.elem),
        names[i]);
  }
  put(b, ") {\n");
  for (int side = 0; side < 2; side++) {
    int lo = side ? f->num_inputs : 0, hi = side ? n : f->num_inputs;
    if (lo == hi) continue;
    put(b, "  %s const %s[%d] = {", side ? "void *" : "const void *",
        side ? "outputs" : "inputs", hi - lo);
    for (int i = lo; i < hi; i++) put(b, "%s%s", i > lo ? ", " : "", names[i]);
    put(b, "};\n");
  }
  put(b, "  return %s_run%s(ctx, %s%s, %s);\n}\n", m->name, dyn ? "_dims" : "",
      dyn ? "dims, " : "", f->num_inputs ? "inputs" : "0", f->num_outputs ? "outputs" : "0");
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
}

/* --weights=external: what the application hands over, and its check. */
static void put_weights(Buf *b, const IrModule *m, const char *up, const HeaderWeights *w) {
  put(b, "/* The weights are not in the object (--weights=external): they are the\n"
         " * blob %s.weights, which the application hands over in ctx->weights and\n"
         " * ctx->weights_size at an address aligned to TCC_WEIGHTS_ALIGN (from flash,\n"
         " * a mapping or a buffer it filled), after one %s_check_weights.  A blob\n"
         " * made from retrained weights with the same flags fits this code as long as\n"
         " * its id is the same. */\n", m->name, m->name);
  put(b, "#define %s_WEIGHTS_ID 0x%016llxull\n", up, (unsigned long long)w->id);
  put(b, "#define %s_WEIGHTS_DATA_SIZE %lluu\n", up, (unsigned long long)w->data_size);
  put(b, "#define %s_WEIGHTS_SIZE %lluu /* bytes of %s.weights */\n", up,
      (unsigned long long)(TCC_WEIGHTS_HEADER_SIZE + w->data_size), m->name);
  put(b, "/* TCC_OK, or why the blob does not fit this code (TCC_ERR_WEIGHTS_*). */\n"
         "static inline int %s_check_weights(const void *blob, size_t size) {\n"
         "  return tcc_weights_check(blob, size, %s_WEIGHTS_ID, %s_WEIGHTS_DATA_SIZE);\n"
         "}\n\n", m->name, up, up);
}

char *header_emit(const IrModule *m, const HeaderWeights *ext) {
  const IrFunc *f = m->main;
  Buf b = {0};
  char *up = malloc(strlen(m->name) + 1), mu[160];
  for (size_t i = 0; (up[i] = (char)toupper((unsigned char)m->name[i])); i++) {}
  snprintf(mu, sizeof mu, "%s_MAYBE_UNUSED", up);
  put(&b, "/* %s.h - the C interface of the compiled model %s (tcc). */\n", m->name,
      m->name);
  put(&b, "#ifndef TCC_MODEL_%s_H\n#define TCC_MODEL_%s_H\n\n", up, up);
  put(&b, "#include <stdint.h>\n#include <tcc/runtime.h>\n\n");
  put(&b, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
  put_macros(&b, m, up);
  if (ext) put_weights(&b, m, up, ext);
  put(&b, "/* Inputs and outputs (dims as declared; a symbolic dim as NAME=bound, a\n"
          " * run-time one as NAME=LO..HI; buffers hold HI):\n");
  put_comments(&b, m, "input", 0, f->num_inputs, f->input_names);
  put_comments(&b, m, "output", f->num_inputs, f->num_outputs, f->output_names);
  put(&b, " */\n");
  put_infos(&b, m, "input", 0, f->num_inputs, f->input_names, mu);
  put_infos(&b, m, "output", f->num_inputs, f->num_outputs, f->output_names, mu);
  put(&b, "\n/* Runs the model; 0 or a tcc_status.  Outputs must not overlap inputs,\n"
          " * each other or the workspace. */\n");
  if (ir_module_is_dynamic(m))
    put(&b, "/* dims[<NAME>_DIM_x] gives each run-time dim of the inputs; the model\n"
            " * writes the run-time dims of outputs that depend on the data, and\n"
            " * those that are sums of others (past + seq).\n"
            " * Tensors are dense row-major at their run-time dims. */\n"
            "int %s_run_dims(const tcc_ctx *ctx, int64_t dims[],\n"
            "    const void *const inputs[], void *const outputs[]);\n\n", m->name);
  else
    put(&b, "int %s_run(const tcc_ctx *ctx, const void *const inputs[],\n"
            "    void *const outputs[]);\n\n", m->name);
  put_wrapper(&b, m);
  put(&b, "\n#ifdef __cplusplus\n}\n#endif\n#endif\n");
  free(up);
  return b.s;
}
