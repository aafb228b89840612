/* build.c — creating and editing modules, functions, blocks, ops, attributes. */
#define _DEFAULT_SOURCE /* madvise */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ir.h"

IrModule *ir_module_new(const char *name) {
  IrArena *a = ir_arena_new();
  IrModule *m = ir_arena_alloc(a, sizeof *m);
  m->arena = a;
  m->name = ir_arena_strdup(a, name ? name : "model");
  return m;
}

typedef struct IrCleanup {
  struct IrCleanup *next;
  void (*fn)(void *p, size_t n);
  void *p;
  size_t n;
} IrCleanup;

void ir_module_on_free(IrModule *m, void (*fn)(void *p, size_t n), void *p,
                       size_t n) {
  IrCleanup *c = ir_arena_alloc(m->arena, sizeof *c);
  *c = (IrCleanup){m->cleanups, fn, p, n};
  m->cleanups = c;
}

static void unmap(void *p, size_t n) { munmap(p, n); }

void ir_module_add_mapping(IrModule *m, const void *p, size_t n) {
  ir_module_on_free(m, unmap, (void *)p, n);
}

void ir_module_add_data_file(IrModule *m, const char *path) {
  for (int i = 0; i < m->num_data_files; i++)
    if (!strcmp(m->data_files[i], path)) return;
  if (m->num_data_files == m->cap_data_files) {
    int nc = m->cap_data_files ? 2 * m->cap_data_files : 4;
    const char **nf = ir_arena_alloc(m->arena, sizeof *nf * (size_t)nc);
    if (m->num_data_files) memcpy(nf, m->data_files, sizeof *nf * (size_t)m->num_data_files);
    m->data_files = nf, m->cap_data_files = nc;
  }
  m->data_files[m->num_data_files++] = ir_arena_strdup(m->arena, path);
}

void ir_module_note_kernel(IrModule *m, const IrLoc *loc, const char *text) {
  if (ir_module_kernel_of(m, loc)) return;
  if (m->num_kernel_notes == m->cap_kernel_notes) {
    int nc = m->cap_kernel_notes ? 2 * m->cap_kernel_notes : 16;
    IrKernelNote *nn = ir_arena_alloc(m->arena, sizeof *nn * (size_t)nc);
    if (m->num_kernel_notes)
      memcpy(nn, m->kernel_notes, sizeof *nn * (size_t)m->num_kernel_notes);
    m->kernel_notes = nn, m->cap_kernel_notes = nc;
  }
  m->kernel_notes[m->num_kernel_notes++] =
      (IrKernelNote){*loc, ir_arena_strdup(m->arena, text)};
}

const char *ir_module_kernel_of(const IrModule *m, const IrLoc *loc) {
  for (int i = m->num_kernel_notes - 1; i >= 0; i--)
    if (ir_loc_same_node(&m->kernel_notes[i].loc, loc)) return m->kernel_notes[i].text;
  return NULL;
}

void ir_weight_release_pages(const IrModule *m, const IrWeight *w) {
  if (!w->data || w->nbytes == 0) return;
  uintptr_t lo = (uintptr_t)w->data, hi = lo + w->nbytes;
  for (const IrCleanup *c = m->cleanups; c; c = c->next) {
    if (c->fn != unmap || lo < (uintptr_t)c->p || hi > (uintptr_t)c->p + c->n) continue;
    /* whole pages only; a private read-only file mapping refills a dropped
     * page from the file when it is read again, so this is only a hint */
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (lo + page - 1) / page * page, b = hi / page * page;
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
    return;
  }
}

void ir_module_free(IrModule *m) {
  if (!m) return;
  for (IrCleanup *c = m->cleanups; c; c = c->next) c->fn(c->p, c->n);
  ir_arena_free(m->arena);
}

IrBlock *ir_block_new(IrModule *m) {
  return ir_arena_alloc(m->arena, sizeof(IrBlock));
}

IrFunc *ir_func_new(IrModule *m, const char *name) {
  IrFunc *f = ir_arena_alloc(m->arena, sizeof *f);
  f->name = ir_arena_strdup(m->arena, name);
  f->body = ir_block_new(m);
  f->workspace_size = -1;
  m->main = f;
  return f;
}

IrValue *ir_value_new(IrModule *m, IrType type) {
  IrValue *v = ir_arena_alloc(m->arena, sizeof *v);
  v->id = m->next_value_id++;
  v->type = type;
  return v;
}

/* Grows an arena array of pointers; old storage stays in the arena. */
static void *grow(IrModule *m, void *old, int n, int *cap, size_t elem) {
  if (n < *cap) return old;
  int nc = *cap ? *cap * 2 : 8;
  void *p = ir_arena_alloc(m->arena, (size_t)nc * elem);
  if (old) memcpy(p, old, (size_t)n * elem);
  *cap = nc;
  return p;
}

IrValue *ir_block_add_arg(IrModule *m, IrBlock *b, IrType type) {
  IrValue *v = ir_value_new(m, type);
  v->block = b;
  IrValue **args = ir_arena_alloc(m->arena, sizeof *args * (size_t)(b->num_args + 1));
  if (b->num_args) memcpy(args, b->args, sizeof *args * (size_t)b->num_args);
  args[b->num_args++] = v;
  b->args = args;
  return v;
}

IrWeight *ir_weight_add(IrModule *m, const char *name, IrType type,
                        const void *data, uint64_t nbytes, bool copy) {
  m->weights = grow(m, m->weights, m->num_weights, &m->cap_weights,
                    sizeof *m->weights);
  IrWeight *w = ir_arena_alloc(m->arena, sizeof *w);
  w->name = ir_arena_strdup(m->arena, name);
  type.kind = IR_TYPE_TENSOR;
  w->value = ir_value_new(m, type);
  w->value->weight = w;
  w->value->name = w->name;
  w->nbytes = nbytes;
  if (copy && data) {
    void *d = ir_arena_alloc_aligned(m->arena, nbytes ? nbytes : 1, 64);
    memcpy(d, data, nbytes);
    w->data = d;
  } else {
    w->data = data;
  }
  m->weights[m->num_weights++] = w;
  return w;
}

IrWeight *ir_weight_find(const IrModule *m, const char *name) {
  for (int i = 0; i < m->num_weights; i++)
    if (!strcmp(m->weights[i]->name, name)) return m->weights[i];
  return NULL;
}

int ir_sym_add(IrModule *m, const char *name, int64_t lo, int64_t hi) {
  int i = ir_sym_find(m, name);
  if (i >= 0) return i;
  m->syms = grow(m, m->syms, m->num_syms, &m->cap_syms, sizeof *m->syms);
  m->syms[m->num_syms] =
      (IrSym){.name = ir_arena_strdup(m->arena, name), .lo = lo, .hi = hi, .value = -1};
  return m->num_syms++;
}

/* Appends d's run-time terms to terms (a sum sym's own terms) and its
 * static part to *offset; false when there are too many. */
static bool sum_terms(const IrModule *m, IrDim d, int *terms, int *n, int64_t *offset) {
  if (d.sym < 0) return *offset += d.size, true;
  const IrSym *s = &m->syms[d.sym];
  if (s->value >= 0) return *offset += s->value, true;
  if (!s->num_terms) {
    if (*n == IR_SYM_MAX_TERMS) return false;
    terms[(*n)++] = d.sym;
    return true;
  }
  for (int i = 0; i < s->num_terms; i++)
    if (!sum_terms(m, (IrDim){0, s->terms[i]}, terms, n, offset)) return false;
  *offset += s->offset;
  return true;
}

int ir_sym_add_sum(IrModule *m, const int *terms, int num_terms, int64_t offset) {
  for (int k = 0; k < m->num_syms; k++) {
    const IrSym *s = &m->syms[k];
    if (s->num_terms == num_terms && s->offset == offset &&
        !memcmp(s->terms, terms, sizeof *terms * (size_t)num_terms))
      return k;
  }
  /* the name spells the sum: past_plus_seq, seq_plus_1 */
  char name[256] = "";
  int64_t lo = offset, hi = offset;
  for (int i = 0; i < num_terms; i++) {
    const IrSym *t = &m->syms[terms[i]];
    snprintf(name + strlen(name), sizeof name - strlen(name), "%s%s", i ? "_plus_" : "",
             t->name);
    lo += t->lo;
    hi = hi < 0 || t->hi < 0 ? -1 : hi + t->hi;
  }
  if (offset)
    snprintf(name + strlen(name), sizeof name - strlen(name), "_%s_%lld",
             offset > 0 ? "plus" : "minus", (long long)(offset > 0 ? offset : -offset));
  size_t len = strlen(name);
  for (int n = 2; ir_sym_find(m, name) >= 0; n++)  /* a user's dim of that name */
    snprintf(name + len, sizeof name - len, "_%d", n);
  int k = ir_sym_add(m, name, lo, hi);
  IrSym *s = &m->syms[k];
  s->num_terms = num_terms, s->offset = offset;
  memcpy(s->terms, terms, sizeof *terms * (size_t)num_terms);
  return k;
}

static int int_cmp(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

IrDim ir_dim_sum(IrModule *m, int n, const IrDim *dims) {
  int terms[IR_SYM_MAX_TERMS], num = 0;
  int64_t offset = 0;
  for (int i = 0; i < n; i++)
    if (!sum_terms(m, dims[i], terms, &num, &offset)) return (IrDim){-1, -1};
  if (num == 0) return (IrDim){offset, -1};
  if (num == 1 && offset == 0) return (IrDim){0, terms[0]};
  qsort(terms, (size_t)num, sizeof *terms, int_cmp);
  return (IrDim){0, ir_sym_add_sum(m, terms, num, offset)};
}

int ir_sym_find(const IrModule *m, const char *name) {
  for (int i = 0; i < m->num_syms; i++)
    if (!strcmp(m->syms[i].name, name)) return i;
  return -1;
}

IrOp *ir_op_new(IrModule *m, IrOpKind kind, int num_operands,
                IrValue *const *operands, int num_results,
                const IrType *result_types) {
  IrOp *op = ir_arena_alloc(m->arena, sizeof *op);
  op->kind = kind;
  op->num_operands = num_operands;
  op->operands = ir_arena_alloc(m->arena, sizeof(IrValue *) * (size_t)num_operands);
  if (operands)
    memcpy(op->operands, operands, sizeof(IrValue *) * (size_t)num_operands);
  op->num_results = num_results;
  op->results = ir_arena_alloc(m->arena, sizeof(IrValue *) * (size_t)num_results);
  for (int i = 0; i < num_results; i++) {
    IrType t = result_types ? result_types[i] : (IrType){0};
    IrValue *v = ir_value_new(m, t);
    v->def = op;
    v->result_index = i;
    op->results[i] = v;
  }
  return op;
}

void ir_op_set_operand(IrModule *m, IrOp *op, int i, IrValue *v) {
  if (i >= op->num_operands) {
    IrValue **ops = ir_arena_alloc(m->arena, sizeof *ops * (size_t)(i + 1));
    memcpy(ops, op->operands, sizeof *ops * (size_t)op->num_operands);
    op->operands = ops;
    op->num_operands = i + 1;
  }
  op->operands[i] = v;
}

IrBlock *ir_op_add_region(IrModule *m, IrOp *op) {
  IrBlock **r = ir_arena_alloc(m->arena, sizeof *r * (size_t)(op->num_regions + 1));
  if (op->num_regions) memcpy(r, op->regions, sizeof *r * (size_t)op->num_regions);
  IrBlock *b = ir_block_new(m);
  b->parent_op = op;
  r[op->num_regions++] = b;
  op->regions = r;
  return b;
}

void ir_block_append(IrBlock *b, IrOp *op) {
  op->parent = b;
  op->next = NULL;
  op->prev = b->last;
  if (b->last)
    b->last->next = op;
  else
    b->first = op;
  b->last = op;
}

void ir_block_insert_before(IrBlock *b, IrOp *before, IrOp *op) {
  if (!before) {
    ir_block_append(b, op);
    return;
  }
  op->parent = b;
  op->next = before;
  op->prev = before->prev;
  if (before->prev)
    before->prev->next = op;
  else
    b->first = op;
  before->prev = op;
}

void ir_op_remove(IrOp *op) {
  IrBlock *b = op->parent;
  if (!b) return;
  if (op->prev) op->prev->next = op->next; else b->first = op->next;
  if (op->next) op->next->prev = op->prev; else b->last = op->prev;
  op->prev = op->next = NULL;
  op->parent = NULL;
}

static void walk_block(IrBlock *b, IrWalkFn fn, void *user) {
  for (IrOp *op = b->first, *next; op; op = next) {
    next = op->next;
    fn(op, user);
    for (int r = 0; r < op->num_regions; r++) walk_block(op->regions[r], fn, user);
  }
}

void ir_walk(IrBlock *b, IrWalkFn fn, void *user) { walk_block(b, fn, user); }

typedef struct {
  IrValue *from, *to;
  bool found;
} ReplaceCtx;

static void replace_in_op(IrOp *op, void *user) {
  ReplaceCtx *c = user;
  for (int i = 0; i < op->num_operands; i++)
    if (op->operands[i] == c->from) {
      if (c->to) op->operands[i] = c->to;
      c->found = true;
    }
}

void ir_replace_uses(IrFunc *f, IrValue *from, IrValue *to) {
  ReplaceCtx c = {from, to, false};
  ir_walk(f->body, replace_in_op, &c);
}

bool ir_value_has_uses(IrFunc *f, const IrValue *v) {
  ReplaceCtx c = {(IrValue *)v, NULL, false};
  ir_walk(f->body, replace_in_op, &c);
  return c.found;
}

/* ------------------------------------------------------------ attributes */
static IrAttr *attr_slot(IrModule *m, IrOp *op, const char *name) {
  int i = 0;
  while (i < op->num_attrs && strcmp(op->attrs[i].name, name) < 0) i++;
  if (i < op->num_attrs && !strcmp(op->attrs[i].name, name)) {
    memset(&op->attrs[i], 0, sizeof op->attrs[i]);
  } else {
    IrAttr *a = ir_arena_alloc(m->arena, sizeof *a * (size_t)(op->num_attrs + 1));
    if (i) memcpy(a, op->attrs, sizeof *a * (size_t)i);
    if (op->num_attrs > i) /* attrs is NULL on a fresh op: no memcpy(NULL) */
      memcpy(a + i + 1, op->attrs + i, sizeof *a * (size_t)(op->num_attrs - i));
    op->attrs = a;
    op->num_attrs++;
  }
  op->attrs[i].name = ir_arena_strdup(m->arena, name);
  return &op->attrs[i];
}

void ir_attr_set_int(IrModule *m, IrOp *op, const char *name, int64_t v) {
  IrAttr *a = attr_slot(m, op, name);
  a->kind = IR_ATTR_INT;
  a->i = v;
}

void ir_attr_set_float(IrModule *m, IrOp *op, const char *name, double v) {
  IrAttr *a = attr_slot(m, op, name);
  a->kind = IR_ATTR_FLOAT;
  a->f = v;
}

void ir_attr_set_string(IrModule *m, IrOp *op, const char *name, const char *v) {
  IrAttr *a = attr_slot(m, op, name);
  a->kind = IR_ATTR_STRING;
  a->s = ir_arena_strdup(m->arena, v);
}

void ir_attr_set_ints(IrModule *m, IrOp *op, const char *name, int n,
                      const int64_t *v) {
  IrAttr *a = attr_slot(m, op, name);
  a->kind = IR_ATTR_INTS;
  a->n = n;
  a->ints = ir_arena_alloc(m->arena, sizeof *a->ints * (size_t)(n ? n : 1));
  if (n) memcpy(a->ints, v, sizeof *a->ints * (size_t)n);
}

void ir_attr_set_floats(IrModule *m, IrOp *op, const char *name, int n,
                        const double *v) {
  IrAttr *a = attr_slot(m, op, name);
  a->kind = IR_ATTR_FLOATS;
  a->n = n;
  a->floats = ir_arena_alloc(m->arena, sizeof *a->floats * (size_t)(n ? n : 1));
  if (n) memcpy(a->floats, v, sizeof *a->floats * (size_t)n);
}

void ir_attr_set_strings(IrModule *m, IrOp *op, const char *name, int n,
                         const char *const *v) {
  IrAttr *a = attr_slot(m, op, name);
  a->kind = IR_ATTR_STRINGS;
  a->n = n;
  a->strings = ir_arena_alloc(m->arena, sizeof *a->strings * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++) a->strings[i] = ir_arena_strdup(m->arena, v[i]);
}

void ir_attr_set_type(IrModule *m, IrOp *op, const char *name, IrElem e) {
  IrAttr *a = attr_slot(m, op, name);
  a->kind = IR_ATTR_TYPE;
  a->elem = e;
}

void ir_attr_set(IrModule *m, IrOp *op, const IrAttr *src) {
  switch (src->kind) {
  case IR_ATTR_INT: ir_attr_set_int(m, op, src->name, src->i); break;
  case IR_ATTR_FLOAT: ir_attr_set_float(m, op, src->name, src->f); break;
  case IR_ATTR_STRING: ir_attr_set_string(m, op, src->name, src->s); break;
  case IR_ATTR_INTS: ir_attr_set_ints(m, op, src->name, src->n, src->ints); break;
  case IR_ATTR_FLOATS: ir_attr_set_floats(m, op, src->name, src->n, src->floats); break;
  case IR_ATTR_STRINGS:
    ir_attr_set_strings(m, op, src->name, src->n, src->strings);
    break;
  case IR_ATTR_TYPE: ir_attr_set_type(m, op, src->name, src->elem); break;
  }
}

void ir_attr_remove(IrOp *op, const char *name) {
  for (int i = 0; i < op->num_attrs; i++)
    if (!strcmp(op->attrs[i].name, name)) {
      memmove(op->attrs + i, op->attrs + i + 1,
              sizeof *op->attrs * (size_t)(op->num_attrs - i - 1));
      op->num_attrs--;
      return;
    }
}

const IrAttr *ir_attr_get(const IrOp *op, const char *name) {
  for (int i = 0; i < op->num_attrs; i++)
    if (!strcmp(op->attrs[i].name, name)) return &op->attrs[i];
  return NULL;
}

int64_t ir_attr_int(const IrOp *op, const char *name, int64_t dflt) {
  const IrAttr *a = ir_attr_get(op, name);
  if (!a) return dflt;
  if (a->kind == IR_ATTR_FLOAT) return (int64_t)a->f;
  return a->kind == IR_ATTR_INT ? a->i : dflt;
}

double ir_attr_float(const IrOp *op, const char *name, double dflt) {
  const IrAttr *a = ir_attr_get(op, name);
  if (!a) return dflt;
  if (a->kind == IR_ATTR_INT) return (double)a->i;
  return a->kind == IR_ATTR_FLOAT ? a->f : dflt;
}

const char *ir_attr_string(const IrOp *op, const char *name, const char *dflt) {
  const IrAttr *a = ir_attr_get(op, name);
  return a && a->kind == IR_ATTR_STRING ? a->s : dflt;
}

int ir_attr_ints(const IrOp *op, const char *name, const int64_t **out) {
  const IrAttr *a = ir_attr_get(op, name);
  if (!a || a->kind != IR_ATTR_INTS) return -1;
  *out = a->ints;
  return a->n;
}

/* --------------------------------------------------------------- builder */
IrBuilder ir_builder_at_end(IrModule *m, IrBlock *b) {
  IrBuilder bl = {m, b, NULL, {0}};
  return bl;
}

IrBuilder ir_builder_before(IrModule *m, IrOp *op) {
  IrBuilder bl = {m, op->parent, op, op->loc};
  return bl;
}

IrOp *ir_build(IrBuilder *b, IrOpKind kind, int num_operands,
               IrValue *const *operands, int num_results,
               const IrType *result_types) {
  IrOp *op = ir_op_new(b->m, kind, num_operands, operands, num_results,
                       result_types);
  op->loc = b->loc;
  ir_block_insert_before(b->block, b->before, op);
  return op;
}

IrValue *ir_build1(IrBuilder *b, IrOpKind kind, int num_operands,
                   IrValue *const *operands, IrType result_type) {
  return ir_build(b, kind, num_operands, operands, 1, &result_type)->results[0];
}
