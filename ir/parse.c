/*
 * parse.c — textual IR back into a module (the grammar is docs/ir.md,
 * "Textual form"; print.c is the reference writer).
 *
 * A one-token-lookahead lexer feeds a recursive-descent parser that rebuilds
 * the module through the ordinary builder API, so a parsed module is the
 * same kind of object the ONNX importer makes.  Newlines are plain
 * whitespace; `//` starts a comment.
 *
 * The parser is fed untrusted text (and fuzzed): the first error is reported
 * as `file:LINE:COL: error: MESSAGE`, every later step becomes a no-op, and
 * the half-built module is freed.  Recursion happens only for regions and is
 * bounded by PARSE_MAX_DEPTH.  Values live in one name -> value hash map for
 * the whole function: scoping (a value used outside its region) is the
 * verifier's business, not the parser's.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

#define PARSE_MAX_DEPTH 128

typedef enum TokKind {
  T_EOF, T_ERROR, T_IDENT, T_VALUE, T_WEIGHT, T_AT, T_INT, T_FLOAT,
  T_STRING, T_PUNCT, T_DOTDOT, T_ARROW,
} TokKind;

typedef struct Tok {
  TokKind kind;
  const char *s; /* token text */
  size_t n;
  int line, col;
  char c;        /* T_PUNCT */
  uint64_t mag;  /* T_INT: magnitude */
  bool neg, ovf; /* T_INT: sign, magnitude overflowed 64 bits */
  double f;      /* T_FLOAT */
} Tok;

typedef struct Ent {
  const char *k;
  size_t n;
  IrValue *v;
} Ent;

typedef struct Map {
  Ent *e;
  size_t cap, used;
} Map;

/* A number from a list: weights' data and list attributes. */
typedef struct Num {
  bool is_float;
  int64_t i;
  double f;
} Num;

typedef struct Vec {
  void *p;
  int n, cap;
} Vec;

typedef struct P {
  const char *cur, *end, *file;
  int line, col;
  Tok tok;
  IrModule *m;
  bool failed;
  int depth;
  Map values;
  Vec operands; /* IrValue*: operands of the ops being parsed (a stack) */
  Vec names;    /* Tok: result names of the ops being parsed (a stack) */
} P;

/* ---------------------------------------------------------------- utils */
static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) {
    fprintf(stderr, "tcc: out of memory\n");
    abort();
  }
  return p;
}

static void vec_push(Vec *v, const void *item, size_t size) {
  if (v->n == v->cap) {
    v->cap = v->cap ? v->cap * 2 : 16;
    v->p = xrealloc(v->p, (size_t)v->cap * size);
  }
  memcpy((char *)v->p + (size_t)v->n++ * size, item, size);
}

static void perr_at(P *p, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void perr_at(P *p, int line, int col, const char *fmt, ...) {
  if (p->failed) return;
  p->failed = true;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  IrLoc loc = {p->file, NULL, NULL, 0, line, col, NULL};
  diag_at(DIAG_ERROR, &loc, "%s", msg);
}
#define perr(p, t, ...) perr_at((p), (t)->line, (t)->col, __VA_ARGS__)

/* ------------------------------------------------------------------ map */
static Ent *map_slot(Map *m, const char *k, size_t n) {
  size_t i = ir_hash(IR_HASH_START, k, n) & (m->cap - 1);
  while (m->e[i].k && !(m->e[i].n == n && !memcmp(m->e[i].k, k, n)))
    i = (i + 1) & (m->cap - 1);
  return &m->e[i];
}

static IrValue *map_get(Map *m, const char *k, size_t n) {
  return m->cap ? map_slot(m, k, n)->v : NULL;
}

static void map_put(Map *m, const char *k, size_t n, IrValue *v) {
  if (2 * (m->used + 1) > m->cap) {
    Map big = {calloc(m->cap ? m->cap * 2 : 64, sizeof(Ent)),
               m->cap ? m->cap * 2 : 64, 0};
    if (!big.e) abort();
    for (size_t i = 0; i < m->cap; i++)
      if (m->e[i].k) *map_slot(&big, m->e[i].k, m->e[i].n) = m->e[i];
    big.used = m->used;
    free(m->e);
    *m = big;
  }
  Ent *e = map_slot(m, k, n);
  if (!e->k) m->used++;
  *e = (Ent){k, n, v};
}

/* ---------------------------------------------------------------- lexer */
static bool is_alpha(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_name(int c) { return is_alpha(c) || is_digit(c) || c == '.'; }

static int peekc(P *p, size_t k) {
  return p->cur + k < p->end ? (unsigned char)p->cur[k] : -1;
}

static void adv(P *p, size_t k) {
  for (; k && p->cur < p->end; k--, p->cur++) {
    if (*p->cur == '\n') {
      p->line++;
      p->col = 1;
    } else {
      p->col++;
    }
  }
}

static void skip_space(P *p) {
  for (;;) {
    int c = peekc(p, 0);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') adv(p, 1);
    else if (c == '/' && peekc(p, 1) == '/')
      while (peekc(p, 0) != -1 && peekc(p, 0) != '\n') adv(p, 1);
    else return;
  }
}

static size_t name_len(P *p, size_t from) {
  size_t k = from;
  while (is_name(peekc(p, k))) k++;
  return k - from;
}

/* A string literal starting at offset k: returns its length including the
 * quotes, or 0 after reporting an error. */
static size_t lex_string(P *p, size_t k0) {
  size_t k = k0 + 1;
  for (;;) {
    int c = peekc(p, k);
    if (c == -1 || c == '\n') {
      perr_at(p, p->line, p->col + (int)k0, "unterminated string");
      return 0;
    }
    if (c == '"') return k + 1 - k0;
    if (c == '\\') {
      int e = peekc(p, k + 1);
      if (e == '"' || e == '\\' || e == 'n' || e == 't') {
        k += 2;
        continue;
      }
      int h1 = peekc(p, k + 2), h2 = peekc(p, k + 3);
      bool hex1 = h1 != -1 && strchr("0123456789abcdefABCDEF", h1);
      bool hex2 = h2 != -1 && strchr("0123456789abcdefABCDEF", h2);
      if (e != 'x' || !hex1 || !hex2 || (h1 == '0' && h2 == '0')) {
        perr_at(p, p->line, p->col + (int)k, "invalid escape in string");
        return 0;
      }
      k += 4;
      continue;
    }
    k++;
  }
}

/* Numbers: -?D+(.D+)?(e[+-]?D+)?, inf, nan, -inf, -nan.  A '.' belongs to
 * the number only when a digit follows, so `1..64` lexes as 1 .. 64. */
static size_t lex_number(P *p, Tok *t) {
  size_t k = 0;
  bool is_float = false;
  if (peekc(p, 0) == '-') k++;
  if (is_alpha(peekc(p, k))) {
    size_t n = name_len(p, k);
    if ((n == 3 && !memcmp(p->cur + k, "inf", 3)) ||
        (n == 3 && !memcmp(p->cur + k, "nan", 3))) {
      t->kind = T_FLOAT;
      t->f = p->cur[k] == 'i' ? INFINITY : NAN;
      if (k) t->f = -t->f;
      return k + n;
    }
    return 0;
  }
  while (is_digit(peekc(p, k))) k++;
  if (peekc(p, k) == '.' && is_digit(peekc(p, k + 1))) {
    is_float = true;
    for (k++; is_digit(peekc(p, k)); k++) {}
  }
  if (peekc(p, k) == 'e' || peekc(p, k) == 'E') {
    size_t e = k + 1;
    if (peekc(p, e) == '+' || peekc(p, e) == '-') e++;
    if (is_digit(peekc(p, e))) {
      is_float = true;
      for (k = e; is_digit(peekc(p, k)); k++) {}
    }
  }
  if (is_float) {
    char buf[512];
    if (k >= sizeof buf) return 0;
    memcpy(buf, p->cur, k);
    buf[k] = 0;
    t->kind = T_FLOAT;
    t->f = strtod(buf, NULL);
    return k;
  }
  t->kind = T_INT;
  t->neg = p->cur[0] == '-';
  t->mag = 0;
  t->ovf = false;
  for (size_t i = t->neg; i < k; i++) {
    unsigned d = (unsigned)(p->cur[i] - '0');
    if (t->mag > (UINT64_MAX - d) / 10) t->ovf = true;
    t->mag = t->mag * 10 + d;
  }
  return k;
}

/* Sigil tokens: %name, $name, @name, $"quoted", @"quoted". */
static size_t lex_sigil(P *p, Tok *t, TokKind kind) {
  if (kind != T_VALUE && peekc(p, 1) == '"') {
    size_t n = lex_string(p, 1);
    return n ? n + 1 : 0;
  }
  size_t n = name_len(p, 1);
  if (!n) {
    perr_at(p, p->line, p->col, "expected a name after '%c'", p->cur[0]);
    return 0;
  }
  t->kind = kind;
  return n + 1;
}

static void next(P *p) {
  skip_space(p);
  Tok t = {.kind = T_ERROR, .s = p->cur, .line = p->line, .col = p->col};
  size_t n = 0;
  int c = peekc(p, 0);
  if (c == -1) {
    t.kind = T_EOF;
  } else if (is_digit(c) || (c == '-' && (is_digit(peekc(p, 1)) || is_alpha(peekc(p, 1)))) ||
             ((c == 'i' || c == 'n') && lex_number(p, &t))) {
    n = lex_number(p, &t);
    if (!n) perr_at(p, t.line, t.col, "invalid number");
  } else if (is_alpha(c)) {
    t.kind = T_IDENT;
    n = name_len(p, 0);
  } else if (c == '%' || c == '$' || c == '@') {
    t.kind = c == '%' ? T_VALUE : c == '$' ? T_WEIGHT : T_AT;
    n = lex_sigil(p, &t, t.kind);
    if (!n) t.kind = T_ERROR;
  } else if (c == '"') {
    n = lex_string(p, 0);
    t.kind = n ? T_STRING : T_ERROR;
  } else if (c == '-' && peekc(p, 1) == '>') {
    t.kind = T_ARROW;
    n = 2;
  } else if (c == '.' && peekc(p, 1) == '.') {
    t.kind = T_DOTDOT;
    n = 2;
  } else if (strchr("(){}[]<>,:=?", c)) {
    t.kind = T_PUNCT;
    t.c = (char)c;
    n = 1;
  } else {
    if (c >= 0x20 && c < 0x7f) perr_at(p, t.line, t.col, "unexpected character '%c'", c);
    else perr_at(p, t.line, t.col, "unexpected character '\\x%02x'", c);
  }
  if (p->failed) t.kind = T_ERROR;
  t.n = n;
  adv(p, n);
  p->tok = t;
}

/* --------------------------------------------------------- token helpers */
static bool is_punct(P *p, char c) { return p->tok.kind == T_PUNCT && p->tok.c == c; }

static bool is_word(P *p, const char *w) {
  return p->tok.kind == T_IDENT && p->tok.n == strlen(w) &&
         !memcmp(p->tok.s, w, p->tok.n);
}

static bool accept(P *p, char c) {
  if (!is_punct(p, c)) return false;
  next(p);
  return true;
}

static bool expect(P *p, char c) {
  if (accept(p, c)) return true;
  perr(p, &p->tok, "expected '%c'", c);
  return false;
}

static bool expect_word(P *p, const char *w) {
  if (is_word(p, w)) {
    next(p);
    return true;
  }
  perr(p, &p->tok, "expected '%s'", w);
  return false;
}

/* Decodes a string literal (text with quotes) into the arena. */
static char *decode(P *p, const char *s, size_t n) {
  char *d = ir_arena_alloc(p->m->arena, n), *o = d;
  for (size_t i = 1; i + 1 < n; i++) {
    if (s[i] != '\\') {
      *o++ = s[i];
      continue;
    }
    char e = s[++i];
    if (e == 'n') *o++ = '\n';
    else if (e == 't') *o++ = '\t';
    else if (e != 'x') *o++ = e;
    else {
      char hex[3] = {s[i + 1], s[i + 2], 0};
      *o++ = (char)strtol(hex, NULL, 16);
      i += 2;
    }
  }
  *o = 0;
  return d;
}

static bool string(P *p, const char **out) {
  if (p->tok.kind != T_STRING) {
    perr(p, &p->tok, "expected a string");
    return false;
  }
  *out = decode(p, p->tok.s, p->tok.n);
  next(p);
  return true;
}

/* The name of a $ or @ token (quoted or not), in the arena. */
static const char *sigil_name(P *p, const Tok *t) {
  if (t->n > 1 && t->s[1] == '"') return decode(p, t->s + 1, t->n - 1);
  return ir_arena_strndup(p->m->arena, t->s + 1, t->n - 1);
}

static bool int64_tok(P *p, int64_t *out) {
  Tok *t = &p->tok;
  if (t->kind != T_INT) {
    perr(p, t, "expected an integer");
    return false;
  }
  if (t->ovf || t->mag > (uint64_t)INT64_MAX + t->neg) {
    perr(p, t, "integer out of range");
    return false;
  }
  *out = t->neg ? (int64_t)(0 - t->mag) : (int64_t)t->mag;
  next(p);
  return true;
}

/* An int or float; u64 admits magnitudes up to 2^64-1 (weights of u64). */
static bool number(P *p, Num *out, bool u64) {
  Tok *t = &p->tok;
  if (t->kind == T_FLOAT) {
    *out = (Num){true, 0, t->f};
    next(p);
    return true;
  }
  if (u64 && t->kind == T_INT && !t->neg && !t->ovf) {
    *out = (Num){false, (int64_t)t->mag, 0};
    next(p);
    return true;
  }
  if (t->kind != T_INT && t->kind != T_FLOAT) {
    perr(p, t, "expected a number");
    return false;
  }
  out->is_float = false;
  return int64_tok(p, &out->i);
}

/* ---------------------------------------------------------------- types */
static bool elem(P *p, IrElem *e) {
  if (p->tok.kind != T_IDENT) {
    perr(p, &p->tok, "expected a type");
    return false;
  }
  *e = ir_elem_from_name(p->tok.s, p->tok.n);
  if (*e == IR_ELEM_NONE) {
    perr(p, &p->tok, "unknown type '%.*s'", (int)p->tok.n, p->tok.s);
    return false;
  }
  next(p);
  return true;
}

static bool vector_type(P *p, IrType *t) {
  bool scalable = false;
  int64_t lanes;
  IrElem e;
  if (is_word(p, "vscale")) {
    scalable = true;
    next(p);
    if (!expect_word(p, "x")) return false;
  }
  Tok at = p->tok;
  if (!int64_tok(p, &lanes)) return false;
  if (lanes < 1 || lanes > 65536) {
    perr(p, &at, "invalid vector lane count %lld", (long long)lanes);
    return false;
  }
  if (!expect_word(p, "x") || !elem(p, &e) || !expect(p, '>')) return false;
  *t = ir_type_vector(e, (int)lanes, scalable);
  return true;
}

static bool dims(P *p, IrType *t) {
  if (accept(p, ']')) return true;
  do {
    if (t->rank == IR_MAX_RANK) {
      perr(p, &p->tok, "too many dimensions (at most %d)", IR_MAX_RANK);
      return false;
    }
    IrDim *d = &t->dims[t->rank++];
    if (p->tok.kind == T_IDENT) {
      d->sym = ir_sym_find(p->m, ir_arena_strndup(p->m->arena, p->tok.s, p->tok.n));
      d->size = -1;
      if (d->sym < 0) {
        perr(p, &p->tok, "unknown symbol '%.*s'", (int)p->tok.n, p->tok.s);
        return false;
      }
      next(p);
    } else {
      d->sym = -1;
      if (!int64_tok(p, &d->size)) return false;
    }
  } while (accept(p, ','));
  return expect(p, ']');
}

static bool type(P *p, IrType *t) {
  *t = (IrType){0};
  if (accept(p, '<')) return vector_type(p, t);
  bool buf = is_word(p, "buf");
  if (buf) next(p);
  if (!elem(p, &t->elem)) return false;
  if (!is_punct(p, '[')) {
    if (buf) return expect(p, '[');
    t->kind = IR_TYPE_SCALAR;
    return true;
  }
  next(p);
  t->kind = buf ? IR_TYPE_BUFFER : IR_TYPE_TENSOR;
  return dims(p, t);
}

/* --------------------------------------------------------------- values */
static bool define(P *p, const Tok *name, IrValue *v) {
  if (map_get(&p->values, name->s, name->n)) {
    perr(p, name, "redefinition of value %.*s", (int)name->n, name->s);
    return false;
  }
  map_put(&p->values, name->s, name->n, v);
  return true;
}

/* %name: type — a block argument. */
static bool block_arg(P *p, IrBlock *b, IrValue **out) {
  Tok name = p->tok;
  IrType t;
  if (name.kind != T_VALUE) {
    perr(p, &name, "expected a value name");
    return false;
  }
  next(p);
  if (!expect(p, ':') || !type(p, &t)) return false;
  *out = ir_block_add_arg(p->m, b, t);
  return define(p, &name, *out);
}

static bool operand(P *p, IrValue **out) {
  Tok *t = &p->tok;
  *out = NULL;
  if (is_word(p, "none")) {
    next(p);
    return true;
  }
  if (t->kind == T_VALUE) {
    *out = map_get(&p->values, t->s, t->n);
    if (!*out) {
      perr(p, t, "use of undefined value %.*s", (int)t->n, t->s);
      return false;
    }
  } else if (t->kind == T_WEIGHT) {
    const char *key = t->s;
    size_t n = t->n;
    if (t->n > 1 && t->s[1] == '"') {
      key = ir_arena_printf(p->m->arena, "$%s", sigil_name(p, t));
      n = strlen(key);
    }
    *out = map_get(&p->values, key, n);
    if (!*out) {
      perr(p, t, "use of undefined weight %.*s", (int)t->n, t->s);
      return false;
    }
  } else {
    perr(p, t, "expected an operand");
    return false;
  }
  next(p);
  return true;
}

/* ----------------------------------------------------------- attributes */
static bool list_attr(P *p, IrOp *op, const char *name) {
  Vec nums = {0}, strs = {0};
  bool ok = true, any_float = false, is_str = p->tok.kind == T_STRING;
  while (ok && !is_punct(p, ']')) {
    if (nums.n + strs.n && !expect(p, ',')) break;
    if (is_str) {
      const char *s;
      if ((ok = string(p, &s))) vec_push(&strs, &s, sizeof s);
    } else {
      Num v;
      if ((ok = number(p, &v, false))) vec_push(&nums, &v, sizeof v);
      any_float |= ok && v.is_float;
    }
  }
  ok = !p->failed && expect(p, ']');
  if (ok && is_str) {
    ir_attr_set_strings(p->m, op, name, strs.n, strs.p);
  } else if (ok) {
    Num *v = nums.p;
    int64_t *ints = xrealloc(NULL, sizeof *ints * (size_t)nums.n);
    double *fl = xrealloc(NULL, sizeof *fl * (size_t)nums.n);
    for (int i = 0; i < nums.n; i++) {
      ints[i] = v[i].i;
      fl[i] = v[i].is_float ? v[i].f : (double)v[i].i;
    }
    if (any_float) ir_attr_set_floats(p->m, op, name, nums.n, fl);
    else ir_attr_set_ints(p->m, op, name, nums.n, ints);
    free(ints);
    free(fl);
  }
  free(nums.p);
  free(strs.p);
  return ok;
}

static bool attr(P *p, IrOp *op) {
  Tok at = p->tok;
  if (at.kind != T_IDENT) {
    perr(p, &at, "expected an attribute name");
    return false;
  }
  const char *name = ir_arena_strndup(p->m->arena, at.s, at.n);
  if (ir_attr_get(op, name)) {
    perr(p, &at, "duplicate attribute '%s'", name);
    return false;
  }
  next(p);
  if (!expect(p, '=')) return false;
  if (p->tok.kind == T_INT || p->tok.kind == T_FLOAT) {
    Num v;
    if (!number(p, &v, false)) return false;
    if (v.is_float) ir_attr_set_float(p->m, op, name, v.f);
    else ir_attr_set_int(p->m, op, name, v.i);
    return true;
  }
  if (p->tok.kind == T_STRING) {
    const char *s;
    if (!string(p, &s)) return false;
    ir_attr_set_string(p->m, op, name, s);
    return true;
  }
  if (accept(p, '[')) return list_attr(p, op, name);
  if (is_word(p, "type")) {
    IrElem e;
    next(p);
    if (!expect(p, '(') || !elem(p, &e) || !expect(p, ')')) return false;
    ir_attr_set_type(p->m, op, name, e);
    return true;
  }
  perr(p, &p->tok, "expected an attribute value");
  return false;
}

static bool attrs(P *p, IrOp *op) {
  if (!accept(p, '{')) return true;
  do {
    if (!attr(p, op)) return false;
  } while (accept(p, ','));
  return expect(p, '}');
}

/* ------------------------------------------------------------------ ops */
static bool block(P *p, IrBlock *b);

static bool region(P *p, IrOp *op) {
  if (p->depth >= PARSE_MAX_DEPTH) {
    perr(p, &p->tok, "regions nested too deeply (at most %d)", PARSE_MAX_DEPTH);
    return false;
  }
  IrBlock *b = ir_op_add_region(p->m, op);
  IrValue *v;
  if (!expect(p, '(')) return false;
  if (!is_punct(p, ')')) {
    do {
      if (!block_arg(p, b, &v)) return false;
    } while (accept(p, ','));
  }
  if (!expect(p, ')') || !expect(p, '{')) return false;
  p->depth++;
  bool ok = block(p, b);
  p->depth--;
  return ok;
}

static bool loc(P *p, IrOp *op) {
  const char *file, *node;
  next(p);
  if (!expect(p, '(') || !string(p, &file) || !expect(p, ':') ||
      !string(p, &node) || !expect(p, ')'))
    return false;
  op->loc = (IrLoc){file, node, ir_op_info(op->kind)->onnx_name, 0, 0, 0, NULL};
  return true;
}

/* [%a, %b =] name(operands) [{attrs}] [: types] [regions] [loc(...)] */
static bool op_results(P *p, int *count) {
  *count = 0;
  if (p->tok.kind != T_VALUE) return true;
  do {
    if (p->tok.kind != T_VALUE) {
      perr(p, &p->tok, "expected a value name");
      return false;
    }
    vec_push(&p->names, &p->tok, sizeof p->tok);
    ++*count;
    next(p);
  } while (accept(p, ','));
  return expect(p, '=');
}

static bool op_operands(P *p, int *count) {
  *count = 0;
  if (!expect(p, '(')) return false;
  if (accept(p, ')')) return true;
  do {
    IrValue *v;
    if (!operand(p, &v)) return false;
    vec_push(&p->operands, &v, sizeof v);
    ++*count;
  } while (accept(p, ','));
  return expect(p, ')');
}

static bool op_types(P *p, IrOp *op) {
  if (!op->num_results) {
    if (is_punct(p, ':')) {
      perr(p, &p->tok, "'%s' has no results to type", ir_op_info(op->kind)->name);
      return false;
    }
    return true;
  }
  if (!expect(p, ':')) return false;
  for (int i = 0; i < op->num_results; i++) {
    if (i && !accept(p, ',')) {
      perr(p, &p->tok, "expected %d result types", op->num_results);
      return false;
    }
    if (!type(p, &op->results[i]->type)) return false;
  }
  if (is_punct(p, ',')) {
    perr(p, &p->tok, "expected %d result type%s", op->num_results,
         op->num_results == 1 ? "" : "s");
    return false;
  }
  return true;
}

static bool op(P *p, IrBlock *b) {
  Tok start = p->tok;
  int nres, nops;
  if (!op_results(p, &nres)) return false;
  Tok name = p->tok;
  if (name.kind != T_IDENT) {
    perr(p, &name, "expected an op name");
    return false;
  }
  int kind = ir_op_by_name(name.s, name.n);
  if (kind == IR_OP_COUNT) {
    perr(p, &name, "unknown op '%.*s'", (int)name.n, name.s);
    return false;
  }
  next(p);
  if (!op_operands(p, &nops)) return false;
  p->operands.n -= nops;
  p->names.n -= nres;
  IrOp *o = ir_op_new(p->m, (IrOpKind)kind, nops,
                      nops ? (IrValue **)p->operands.p + p->operands.n : NULL,
                      nres, NULL);
  o->loc = (IrLoc){p->file, NULL, NULL, 0, start.line, start.col, NULL};
  ir_block_append(b, o);
  if (!attrs(p, o) || !op_types(p, o)) return false;
  for (int i = 0; i < nres; i++)
    if (!define(p, (Tok *)p->names.p + p->names.n + i, o->results[i])) return false;
  while (is_punct(p, '('))
    if (!region(p, o)) return false;
  if (is_word(p, "loc")) return loc(p, o);
  return true;
}

static bool block(P *p, IrBlock *b) {
  while (!p->failed && !is_punct(p, '}') && p->tok.kind != T_EOF)
    if (!op(p, b)) return false;
  return expect(p, '}');
}

/* ------------------------------------------------------------- func */
typedef struct Sig {
  Vec in_names, out_names, out_types;
} Sig;

/* `as "name"` after an argument or output type; NULL when absent. */
static bool as_name(P *p, Vec *names) {
  const char *s = NULL;
  if (is_word(p, "as")) {
    next(p);
    if (!string(p, &s)) return false;
  }
  vec_push(names, &s, sizeof s);
  return true;
}

static bool func_outputs(P *p, IrFunc *f, Sig *s) {
  if (!expect(p, '(')) return false;
  if (accept(p, ')')) return true;
  f->lowered = p->tok.kind == T_VALUE;
  do {
    if (f->lowered) {
      IrValue *v;
      if (!block_arg(p, f->body, &v)) return false;
    } else {
      IrType t;
      if (!type(p, &t)) return false;
      vec_push(&s->out_types, &t, sizeof t);
    }
    if (!as_name(p, &s->out_names)) return false;
  } while (accept(p, ','));
  return expect(p, ')');
}

static void *arena_copy(P *p, const Vec *v, size_t size) {
  void *d = ir_arena_alloc(p->m->arena, size * (size_t)(v->n ? v->n : 1));
  if (v->n) memcpy(d, v->p, size * (size_t)v->n);
  return d;
}

/* With `-> ()` the level is invisible in the text: a body without a
 * top-level `return` counts as lowered (docs/ir.md). */
static void func_finish(P *p, IrFunc *f, Sig *s) {
  f->num_inputs = s->in_names.n;
  f->num_outputs = s->out_names.n;
  f->input_names = arena_copy(p, &s->in_names, sizeof(char *));
  f->output_names = arena_copy(p, &s->out_names, sizeof(char *));
  if (!f->lowered) {
    f->output_types = arena_copy(p, &s->out_types, sizeof(IrType));
  } else {
    f->output_types = ir_arena_alloc(p->m->arena, sizeof(IrType) * (size_t)(f->num_outputs + 1));
    for (int i = 0; i < f->num_outputs; i++)
      f->output_types[i] =
          ir_type_with_kind(f->body->args[f->num_inputs + i]->type, IR_TYPE_TENSOR);
  }
  if (!f->num_outputs) {
    f->lowered = true;
    for (IrOp *o = f->body->first; o; o = o->next)
      if (o->kind == IR_OP_RETURN) f->lowered = false;
  }
}

static bool func_body(P *p, IrFunc *f, Sig *s) {
  IrValue *v;
  if (!expect(p, '(')) return false;
  if (!is_punct(p, ')')) {
    do {
      if (!block_arg(p, f->body, &v) || !as_name(p, &s->in_names)) return false;
    } while (accept(p, ','));
  }
  if (!expect(p, ')')) return false;
  if (p->tok.kind != T_ARROW) {
    perr(p, &p->tok, "expected '->'");
    return false;
  }
  next(p);
  if (!func_outputs(p, f, s)) return false;
  if (!expect(p, '{')) return false;
  if (is_word(p, "workspace")) { /* {workspace=N} comes before the body */
    next(p);
    if (!expect(p, '=')) return false;
    Tok at = p->tok;
    if (!int64_tok(p, &f->workspace_size)) return false;
    if (f->workspace_size < 0) {
      perr(p, &at, "workspace must be >= 0");
      return false;
    }
    if (!expect(p, '}') || !expect(p, '{')) return false;
  }
  return block(p, f->body);
}

static bool func(P *p) {
  Tok at = p->tok;
  if (p->m->main) {
    perr(p, &at, "a module holds one func");
    return false;
  }
  next(p);
  if (p->tok.kind != T_AT) {
    perr(p, &p->tok, "expected '@name'");
    return false;
  }
  IrFunc *f = ir_func_new(p->m, sigil_name(p, &p->tok));
  next(p);
  Sig s = {{0}, {0}, {0}};
  bool ok = func_body(p, f, &s);
  if (ok) func_finish(p, f, &s);
  free(s.in_names.p);
  free(s.out_names.p);
  free(s.out_types.p);
  return ok;
}

/* ---------------------------------------------------------- module level */
/* `sum(a, b[, N])` after a sym's range: earlier syms (not sums) in index
 * order and an offset; the range must be theirs summed. */
static bool sym_sum(P *p, const Tok *at, const char *s, int64_t lo, int64_t hi) {
  int terms[IR_SYM_MAX_TERMS], n = 0;
  int64_t offset = 0;
  next(p);
  if (!expect(p, '(')) return false;
  do {
    Tok t = p->tok;
    if (t.kind != T_IDENT) {
      if (!int64_tok(p, &offset)) return false;
      break;
    }
    int k = ir_sym_find(p->m, ir_arena_strndup(p->m->arena, t.s, t.n));
    if (k < 0 || p->m->syms[k].num_terms || p->m->syms[k].value >= 0 ||
        (n && k < terms[n - 1]) || n == IR_SYM_MAX_TERMS) {
      perr(p, &t, "a sum's terms are up to %d earlier run-time syms, not sums, in order",
           IR_SYM_MAX_TERMS);
      return false;
    }
    terms[n++] = k;
    next(p);
  } while (accept(p, ','));
  if (!expect(p, ')')) return false;
  if (n == 0 || (n == 1 && !offset)) {
    perr(p, at, "a sum needs two terms, or one and an offset");
    return false;
  }
  int k = ir_sym_add_sum(p->m, terms, n, offset);
  const IrSym *r = &p->m->syms[k];
  if (strcmp(r->name, s) || r->lo != lo || r->hi != hi) {
    perr(p, at, "the sum is '%s = %lld..%lld', not '%s = %lld..%lld'", r->name,
         (long long)r->lo, (long long)r->hi, s, (long long)lo, (long long)hi);
    return false;
  }
  return true;
}

static bool sym(P *p) {
  next(p);
  Tok name = p->tok;
  int64_t lo, hi = -1, value = -1;
  if (name.kind != T_IDENT) {
    perr(p, &name, "expected a symbol name");
    return false;
  }
  const char *s = ir_arena_strndup(p->m->arena, name.s, name.n);
  if (ir_sym_find(p->m, s) >= 0) {
    perr(p, &name, "redefinition of symbol '%s'", s);
    return false;
  }
  next(p);
  if (!expect(p, '=') || !int64_tok(p, &lo)) return false;
  if (p->tok.kind != T_DOTDOT) {
    perr(p, &p->tok, "expected '..'");
    return false;
  }
  next(p);
  Tok at = p->tok;
  if (!accept(p, '?') && (!int64_tok(p, &hi) || hi < 0)) {
    perr(p, &at, "expected an upper bound >= 0 or '?'");
    return false;
  }
  if (is_word(p, "bound")) {
    next(p);
    at = p->tok;
    if (!int64_tok(p, &value)) return false;
    if (value < 0) {
      perr(p, &at, "bound value must be >= 0");
      return false;
    }
  }
  if (is_word(p, "sum")) return sym_sum(p, &name, s, lo, hi);
  int i = ir_sym_add(p->m, s, lo, hi);
  p->m->syms[i].value = value;
  return true;
}

/* The inline data of a weight: exactly numel numbers. */
static bool weight_data(P *p, const char *name, IrType t, const Tok *at) {
  Vec nums = {0};
  uint64_t numel = 0;
  bool ok = expect(p, '[');
  while (ok && !is_punct(p, ']')) {
    Num v;
    ok = (!nums.n || expect(p, ',')) && number(p, &v, t.elem == IR_U64);
    if (ok && v.is_float && !ir_elem_is_float(t.elem)) {
      perr(p, at, "weight $%s of %s holds a float", name, ir_elem_name(t.elem));
      ok = false;
    }
    if (ok) vec_push(&nums, &v, sizeof v);
  }
  ok = ok && expect(p, ']');
  if (ok && !ir_type_numel(&t, &numel)) {
    perr(p, at, "weight $%s has a symbolic shape and cannot hold data", name);
    ok = false;
  }
  if (ok && numel != (uint64_t)nums.n) {
    perr(p, at, "weight $%s needs %llu values, got %d", name,
         (unsigned long long)numel, nums.n);
    ok = false;
  }
  if (ok) {
    size_t es = ir_elem_size(t.elem);
    unsigned char *data = xrealloc(NULL, es * (size_t)nums.n);
    Num *v = nums.p;
    for (int i = 0; i < nums.n; i++) {
      if (ir_elem_is_float(t.elem))
        ir_elem_store_f64(t.elem, data, (size_t)i, v[i].is_float ? v[i].f : (double)v[i].i);
      else
        ir_elem_store_i64(t.elem, data, (size_t)i, v[i].i);
    }
    IrWeight *w = ir_weight_add(p->m, name, t, data, es * (size_t)nums.n, true);
    map_put(&p->values, ir_arena_printf(p->m->arena, "$%s", name), strlen(name) + 1, w->value);
    free(data);
  }
  free(nums.p);
  return ok;
}

static bool weight(P *p) {
  next(p);
  Tok at = p->tok;
  IrType t;
  if (at.kind != T_WEIGHT) {
    perr(p, &at, "expected '$name'");
    return false;
  }
  const char *name = sigil_name(p, &at);
  const char *key = ir_arena_printf(p->m->arena, "$%s", name);
  if (map_get(&p->values, key, strlen(key))) {
    perr(p, &at, "redefinition of weight $%s", name);
    return false;
  }
  next(p);
  if (!expect(p, ':') || !type(p, &t)) return false;
  if (t.kind != IR_TYPE_TENSOR) {
    perr(p, &at, "weight $%s must have a tensor type", name);
    return false;
  }
  if (accept(p, '=')) return weight_data(p, name, t, &at);
  IrWeight *w = ir_weight_add(p->m, name, t, NULL, 0, false);
  map_put(&p->values, key, strlen(key), w->value);
  return true;
}

static bool module(P *p) {
  if (!expect_word(p, "module")) return false;
  if (p->tok.kind != T_AT) {
    perr(p, &p->tok, "expected '@name'");
    return false;
  }
  p->m->name = sigil_name(p, &p->tok);
  next(p);
  while (!p->failed && p->tok.kind != T_EOF) {
    if (is_word(p, "sym")) sym(p);
    else if (is_word(p, "weight")) weight(p);
    else if (is_word(p, "func")) func(p);
    else perr(p, &p->tok, "expected 'sym', 'weight' or 'func'");
  }
  return !p->failed;
}

IrModule *ir_parse(const char *text, size_t len, const char *filename) {
  P p = {0};
  p.cur = text ? text : "";
  p.end = p.cur + (text ? len : 0);
  p.line = p.col = 1;
  p.m = ir_module_new("module");
  p.file = filename ? ir_arena_strdup(p.m->arena, filename) : NULL;
  p.m->source = p.file;
  next(&p);
  bool ok = module(&p);
  free(p.values.e);
  free(p.operands.p);
  free(p.names.p);
  if (ok) return p.m;
  ir_module_free(p.m);
  return NULL;
}
