/*
 * print.c — the textual IR (docs/ir.md, "Textual form").
 *
 * Everything is written into a growable string first; ir_print_module then
 * copies it to the FILE.  Values are renumbered %0, %1, ... in print order
 * (function arguments, then results and block arguments depth first), so two
 * modules that differ only in value ids print the same.  The parser in
 * parse.c reads exactly this text back: print(parse(print(m))) == print(m).
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

typedef struct Out {
  char *s;
  size_t len, cap;
  int *num;     /* value id -> printed number, -1 = not yet numbered */
  int num_size; /* entries in num */
  int next;     /* next printed number */
  const IrModule *m;
  /* ir_print_key: num[id] counts only where stamp[id] == cur (one array
   * serves many keys without clearing); values first used as an operand
   * are outside the printed ops and go into ext */
  int *stamp, cur;
  bool operand;
  const IrValue **ext;
  int num_ext, cap_ext;
  bool code_only; /* ir_print_code_str: no source locations, no weight values */
} Out;

static void out_grow(Out *o, size_t extra) {
  if (o->len + extra + 1 <= o->cap) return;
  size_t cap = o->cap ? o->cap : 256;
  while (cap < o->len + extra + 1) cap *= 2;
  char *s = realloc(o->s, cap);
  if (!s) {
    fprintf(stderr, "tcc: out of memory\n");
    abort();
  }
  o->s = s;
  o->cap = cap;
}

static void put(Out *o, const char *s) {
  size_t n = strlen(s);
  out_grow(o, n);
  memcpy(o->s + o->len, s, n + 1);
  o->len += n;
}

static void putf(Out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(Out *o, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  out_grow(o, (size_t)n);
  vsnprintf(o->s + o->len, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  o->len += (size_t)n;
}

static void indent(Out *o, int depth) {
  for (int i = 0; i < depth; i++) put(o, "  ");
}

/* Shortest "%.Ng" that reads back as the same double; always looks like a
 * float (has '.', 'e', "inf" or "nan") so the parser can tell it from an int. */
static void put_float(Out *o, double v) {
  char buf[40];
  if (isnan(v)) {
    put(o, signbit(v) ? "-nan" : "nan");
    return;
  }
  if (isinf(v)) {
    put(o, v < 0 ? "-inf" : "inf");
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
  /* Prefer 100.0 over 1e+02: same digits, plain notation below 1e16. */
  char *e = strchr(buf, 'e');
  int x = e ? atoi(e + 1) : -1, prec = 0;
  for (const char *p = buf; e && p < e; p++) prec += *p >= '0' && *p <= '9';
  if (e && x >= 0 && x < 16) {
    char plain[40];
    snprintf(plain, sizeof plain, "%.*g", x + 1 > prec ? x + 1 : prec, v);
    if (strtod(plain, NULL) == v) strcpy(buf, plain);
  }
  if (!strpbrk(buf, ".e")) strcat(buf, ".0");
  put(o, buf);
}

/* C-style escapes: \" \\ \n, other bytes outside 0x20..0x7e as \xHH. */
static void put_string(Out *o, const char *s) {
  put(o, "\"");
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p == '"') put(o, "\\\"");
    else if (*p == '\\') put(o, "\\\\");
    else if (*p == '\n') put(o, "\\n");
    else if (*p < 0x20 || *p >= 0x7f) putf(o, "\\x%02x", *p);
    else putf(o, "%c", *p);
  }
  put(o, "\"");
}

static bool is_ident(const char *s) {
  if (!s || !*s || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') ||
                     (s[0] >= 'a' && s[0] <= 'z')))
    return false;
  for (; *s; s++)
    if (!(*s == '_' || *s == '.' || (*s >= '0' && *s <= '9') ||
          (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
      return false;
  return true;
}

/* @name / $name, or @"..." when the name is not an identifier. */
static void put_name(Out *o, char sigil, const char *name) {
  putf(o, "%c", sigil);
  if (is_ident(name)) put(o, name);
  else put_string(o, name);
}

static void put_type(Out *o, const IrType *t) {
  char small[256];
  size_t need = 64 + (size_t)t->rank * 24;
  for (int i = 0; i < t->rank && i < IR_MAX_RANK; i++)
    if (t->dims[i].sym >= 0 && t->dims[i].sym < o->m->num_syms)
      need += strlen(o->m->syms[t->dims[i].sym].name);
  if (need <= sizeof small) {
    put(o, ir_type_str(o->m, t, small, sizeof small));
    return;
  }
  char *big = malloc(need);
  if (!big) abort();
  put(o, ir_type_str(o->m, t, big, need));
  free(big);
}

/* Numbers a value at its first appearance (normally its definition). */
static void put_value(Out *o, const IrValue *v) {
  if (!v) {
    put(o, "none");
    return;
  }
  if (v->weight) {
    put_name(o, '$', v->weight->name);
    return;
  }
  if (v->id < 0 || v->id >= o->num_size) {
    putf(o, "%%bad%d", v->id); /* corrupt module; the parser rejects it */
    return;
  }
  if (o->num[v->id] < 0) o->num[v->id] = o->next++;
  putf(o, "%%%d", o->num[v->id]);
}

/* ir_print_key's form of a value: numbered per key; one from outside the
 * printed ops is %e<k>: type at its first use, an outside arith.const its
 * value. */
static void put_attrs(Out *o, const IrOp *op);
static void put_key_value(Out *o, const IrValue *v) {
  if (!v) {
    put(o, "none");
    return;
  }
  bool seen = o->stamp[v->id] == o->cur;
  if (!seen && o->operand && v->def && v->def->kind == IR_OP_CONST && !v->weight) {
    put(o, "const");
    put_attrs(o, v->def);
    put(o, ":");
    put_type(o, &v->type);
    return;
  }
  if (!seen) {
    o->stamp[v->id] = o->cur;
    if (o->operand) {
      if (o->num_ext == o->cap_ext) {
        o->cap_ext = o->cap_ext ? 2 * o->cap_ext : 8;
        o->ext = realloc(o->ext, sizeof *o->ext * (size_t)o->cap_ext);
        if (!o->ext) abort();
      }
      o->num[v->id] = -1 - o->num_ext;
      o->ext[o->num_ext++] = v;
      putf(o, "%%e%d: ", o->num_ext - 1);
      put_type(o, &v->type);
      return;
    }
    o->num[v->id] = o->next++;
  }
  if (o->num[v->id] < 0) putf(o, "%%e%d", -1 - o->num[v->id]);
  else putf(o, "%%%d", o->num[v->id]);
}

static void put_any_value(Out *o, const IrValue *v) {
  if (o->stamp) put_key_value(o, v);
  else put_value(o, v);
}

static void put_typed_value(Out *o, const IrValue *v) {
  put_any_value(o, v);
  put(o, ": ");
  put_type(o, &v->type);
}

/* ----------------------------------------------------------- attributes */
static void put_attr_value(Out *o, const IrAttr *a) {
  switch (a->kind) {
  case IR_ATTR_INT: putf(o, "%lld", (long long)a->i); break;
  case IR_ATTR_FLOAT: put_float(o, a->f); break;
  case IR_ATTR_STRING: put_string(o, a->s); break;
  case IR_ATTR_TYPE: putf(o, "type(%s)", ir_elem_name(a->elem)); break;
  case IR_ATTR_INTS:
  case IR_ATTR_FLOATS:
  case IR_ATTR_STRINGS:
    put(o, "[");
    for (int i = 0; i < a->n; i++) {
      if (i) put(o, ",");
      if (a->kind == IR_ATTR_INTS) putf(o, "%lld", (long long)a->ints[i]);
      else if (a->kind == IR_ATTR_FLOATS) put_float(o, a->floats[i]);
      else put_string(o, a->strings[i]);
    }
    put(o, "]");
    break;
  }
}

/* Attributes are kept sorted by ir_attr_set; sort anyway (insertion sort on
 * a small index array) so a hand-edited list still prints canonically. */
static void put_attrs(Out *o, const IrOp *op) {
  if (!op->num_attrs) return;
  int *ix = malloc(sizeof *ix * (size_t)op->num_attrs);
  if (!ix) abort();
  for (int i = 0; i < op->num_attrs; i++) {
    int j = i;
    while (j > 0 && strcmp(op->attrs[ix[j - 1]].name, op->attrs[i].name) > 0) {
      ix[j] = ix[j - 1];
      j--;
    }
    ix[j] = i;
  }
  put(o, " {");
  for (int i = 0; i < op->num_attrs; i++) {
    if (i) put(o, ", ");
    putf(o, "%s=", op->attrs[ix[i]].name);
    put_attr_value(o, &op->attrs[ix[i]]);
  }
  put(o, "}");
  free(ix);
}

/* ------------------------------------------------------------------ ops */
static void put_block(Out *o, const IrBlock *b, int depth);

static void put_region(Out *o, const IrBlock *b, int depth) {
  put(o, " (");
  for (int i = 0; i < b->num_args; i++) {
    if (i) put(o, ", ");
    put_typed_value(o, b->args[i]);
  }
  put(o, ") {\n");
  put_block(o, b, depth + 1);
  indent(o, depth);
  put(o, "}");
}

static void put_op(Out *o, const IrOp *op, int depth) {
  indent(o, depth);
  for (int i = 0; i < op->num_results; i++) {
    if (i) put(o, ", ");
    put_any_value(o, op->results[i]);
  }
  if (op->num_results) put(o, " = ");
  putf(o, "%s(", ir_op_info(op->kind)->name);
  o->operand = true;
  for (int i = 0; i < op->num_operands; i++) {
    if (i) put(o, ", ");
    put_any_value(o, op->operands[i]);
  }
  o->operand = false;
  put(o, ")");
  put_attrs(o, op);
  for (int i = 0; i < op->num_results; i++) {
    put(o, i ? ", " : " : ");
    put_type(o, &op->results[i]->type);
  }
  for (int r = 0; r < op->num_regions; r++) put_region(o, op->regions[r], depth);
  if (op->loc.node && !o->stamp && !o->code_only) {
    put(o, " loc(");
    put_string(o, op->loc.file ? op->loc.file : "");
    put(o, ":");
    put_string(o, op->loc.node);
    put(o, ")");
  }
  put(o, "\n");
}

static void put_block(Out *o, const IrBlock *b, int depth) {
  for (const IrOp *op = b->first; op; op = op->next) put_op(o, op, depth);
}

/* ---------------------------------------------------------- module level */
static void put_weight(Out *o, const IrWeight *w) {
  const IrType *t = &w->value->type;
  uint64_t n, nbytes;
  put(o, "weight ");
  put_name(o, '$', w->name);
  put(o, " : ");
  put_type(o, t);
  if (!o->code_only && w->data && ir_type_numel(t, &n) && n <= 16 && ir_type_nbytes(t, &nbytes) &&
      nbytes <= w->nbytes) {
    put(o, " = [");
    for (uint64_t i = 0; i < n; i++) {
      if (i) put(o, ",");
      if (ir_elem_is_float(t->elem))
        put_float(o, ir_elem_load_f64(t->elem, w->data, i));
      else if (t->elem == IR_U64)
        putf(o, "%llu", (unsigned long long)ir_elem_load_i64(t->elem, w->data, i));
      else if (t->elem == IR_BOOL)
        putf(o, "%d", ir_elem_load_i64(t->elem, w->data, i) != 0);
      else
        putf(o, "%lld", (long long)ir_elem_load_i64(t->elem, w->data, i));
    }
    put(o, "]");
  }
  put(o, "\n");
}

static void put_arg(Out *o, const IrValue *v, const char *name) {
  put_typed_value(o, v);
  if (name) {
    put(o, " as ");
    put_string(o, name);
  }
}

static const char *name_at(const char **names, int n, int i) {
  return names && i >= 0 && i < n ? names[i] : NULL;
}

static void put_func(Out *o, const IrFunc *f) {
  const IrBlock *b = f->body;
  int nin = f->lowered ? f->num_inputs : b->num_args;
  if (nin > b->num_args) nin = b->num_args;
  if (nin < 0) nin = 0;
  put(o, "func ");
  put_name(o, '@', f->name);
  put(o, "(");
  for (int i = 0; i < nin; i++) {
    if (i) put(o, ", ");
    put_arg(o, b->args[i], name_at(f->input_names, f->num_inputs, i));
  }
  put(o, ") -> (");
  if (f->lowered) {
    for (int i = nin; i < b->num_args; i++) {
      if (i > nin) put(o, ", ");
      put_arg(o, b->args[i], name_at(f->output_names, f->num_outputs, i - nin));
    }
  } else {
    for (int i = 0; i < f->num_outputs; i++) {
      if (i) put(o, ", ");
      IrType none = {0};
      put_type(o, f->output_types ? &f->output_types[i] : &none);
      const char *name = name_at(f->output_names, f->num_outputs, i);
      if (name) {
        put(o, " as ");
        put_string(o, name);
      }
    }
  }
  put(o, ")");
  if (f->workspace_size >= 0) putf(o, " {workspace=%lld}", (long long)f->workspace_size);
  put(o, " {\n");
  put_block(o, b, 1);
  put(o, "}\n");
}

static void put_module(Out *o, const IrModule *m) {
  put(o, "module ");
  put_name(o, '@', m->name);
  put(o, "\n");
  for (int i = 0; i < m->num_syms; i++) {
    const IrSym *s = &m->syms[i];
    putf(o, "sym %s = %lld..", s->name, (long long)s->lo);
    if (s->hi < 0) put(o, "?");
    else putf(o, "%lld", (long long)s->hi);
    if (s->value >= 0) putf(o, " bound %lld", (long long)s->value);
    if (s->num_terms) {
      put(o, " sum(");
      for (int t = 0; t < s->num_terms; t++)
        putf(o, "%s%s", t ? ", " : "", m->syms[s->terms[t]].name);
      if (s->offset) putf(o, ", %lld", (long long)s->offset);
      put(o, ")");
    }
    put(o, "\n");
  }
  for (int i = 0; i < m->num_weights; i++) put_weight(o, m->weights[i]);
  if (m->main) put_func(o, m->main);
}

static char *print_module(const IrModule *m, bool code_only) {
  Out o = {0};
  o.m = m;
  o.code_only = code_only;
  o.num_size = m->next_value_id > 0 ? m->next_value_id : 0;
  o.num = malloc(sizeof *o.num * (size_t)(o.num_size ? o.num_size : 1));
  if (!o.num) abort();
  for (int i = 0; i < o.num_size; i++) o.num[i] = -1;
  out_grow(&o, 0);
  o.s[0] = 0;
  put_module(&o, m);
  free(o.num);
  return o.s;
}

char *ir_print_op_signature(const IrModule *m, const IrOp *op) {
  Out o = {0};
  o.m = m;
  out_grow(&o, 0);
  o.s[0] = 0;
  put(&o, ir_op_info(op->kind)->name);
  put_attrs(&o, op);
  put(&o, " (");
  for (int i = 0; i < op->num_operands; i++) {
    if (i) put(&o, ", ");
    /* a graph input is a buffer by the time `lower` meets its consumer */
    IrType t = op->operands[i] ? ir_type_with_kind(op->operands[i]->type, IR_TYPE_TENSOR)
                               : (IrType){0};
    if (op->operands[i]) put_type(&o, &t);
    else put(&o, "none");
  }
  put(&o, ") -> (");
  for (int i = 0; i < op->num_results; i++) {
    if (i) put(&o, ", ");
    put_type(&o, &op->results[i]->type);
  }
  put(&o, ")");
  return o.s;
}

char *ir_print_module_str(const IrModule *m) { return print_module(m, false); }
char *ir_print_code_str(const IrModule *m) { return print_module(m, true); }

/* ------------------------------------------------------------ keys */
struct IrKeyPrinter {
  Out o;
};

IrKeyPrinter *ir_key_printer(const IrModule *m) {
  IrKeyPrinter *k = calloc(1, sizeof *k);
  if (!k) abort();
  k->o.m = m;
  k->o.num_size = m->next_value_id > 0 ? m->next_value_id : 0;
  k->o.num = malloc(sizeof *k->o.num * (size_t)(k->o.num_size + 1));
  k->o.stamp = calloc((size_t)k->o.num_size + 1, sizeof *k->o.stamp);
  if (!k->o.num || !k->o.stamp) abort();
  return k;
}

char *ir_print_key(IrKeyPrinter *k, IrOp *const *ops, int n, const IrValue ***ext,
                   int *num_ext) {
  Out *o = &k->o;
  o->cur++;
  o->s = NULL;
  o->len = o->cap = 0;
  o->next = 0;
  o->ext = NULL;
  o->num_ext = o->cap_ext = 0;
  out_grow(o, 0);
  o->s[0] = 0;
  for (int i = 0; i < n; i++)
    if (ops[i]->kind != IR_OP_ALLOC) put_op(o, ops[i], 0);
  *ext = o->ext;
  *num_ext = o->num_ext;
  return o->s;
}

void ir_key_printer_free(IrKeyPrinter *k) {
  if (!k) return;
  free(k->o.num);
  free(k->o.stamp);
  free(k);
}

void ir_print_module(const IrModule *m, FILE *out) {
  char *s = ir_print_module_str(m);
  fputs(s, out);
  free(s);
}
