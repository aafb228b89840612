/*
 * llvm_share.c — loops of the same shape translated once, as one function
 * that every place running them calls.
 *
 * A node's loops (the top-level ops _main holds for one ONNX node or one
 * fused group: its buffers, views and constants, then its loop nests) often
 * repeat exactly on other data: ResNet's blocks, a Transformer's layers.
 * Such a group becomes <name>_shared<K>(ptr ext..., ws, dims, parallel_for,
 * parallel_user), each call passing the buffers and weights of its own
 * node, so LLVM optimizes and compiles the loops once (docs/backend.md).
 *
 * The key of a group is its IR text with the values from outside as
 * parameters (ir_print_key); scalar weights stay constants of the
 * function (their bytes are part of the key) so that LLVM still folds a
 * Pow's exponent or a Clip's bounds.  A group is
 * translated in place, as before, when sharing could change what LLVM may
 * assume: a call's pointers must not overlap one another (each parameter is
 * noalias, like _main's: the loops vectorize the same), a group must not
 * define values used after it, hold an rt.check (its number is _main's) or
 * a mem.alloc inside a loop (an offset in the workspace), or use a scalar
 * computed outside it.  The alignment a parameter promises is the least
 * over the calls (allocs are 64-aligned by the memory plan).
 */
#include <stdlib.h>
#include <string.h>

#include "llvm_int.h"

/* IR ops (nested ones counted) below which a call is not worth it */
#define SHARE_MIN_OPS 32

typedef struct Scan {
  IrBlock *top;
  int count;
  bool bad; /* a nested alloc, an rt.check, _main's end, a result used later */
} Scan;

static void scan_op(IrOp *op, void *user) {
  Scan *s = user;
  s->count++;
  if (op->kind == IR_OP_CHECK || (op->kind == IR_OP_ALLOC && op->parent != s->top) ||
      (op->kind == IR_OP_YIELD && op->parent == s->top)) /* _main's end */
    s->bad = true;
}

static const IrValue *root_of(const IrValue *v) {
  while (v->def && v->def->kind == IR_OP_VIEW) v = v->def->operands[0];
  return v;
}

/* Weights up to this size (scalars: a Pow's exponent, a Clip's bounds) stay
 * constants of the function, so LLVM folds them; a bias is passed. */
#define SHARE_CONST_WEIGHT_BYTES 16

static bool small_weight(const SharePlan *sp, const IrValue *v) {
  return v->weight && v->weight->nbytes <= SHARE_CONST_WEIGHT_BYTES &&
         !(sp->ext_offset && sp->ext_offset[v->id] != UINT64_MAX);
}

bool share_passes(const SharePlan *sp, const IrValue *v) { return !small_weight(sp, v); }

/* The alignment of the address a buffer's root has: an alloc's from its
 * offset in the 64-aligned workspace, a weight 64 (blob and constants),
 * a caller's buffer unknown. */
static unsigned root_align(const IrValue *r) {
  if (r->weight) return 64;
  if (!r->def) return 1;
  uint64_t off = (uint64_t)ir_attr_int(r->def, "offset", 0);
  unsigned a = 64;
  while (a > 1 && off % a) a /= 2;
  return a;
}

/* Can a call pass these values: buffers whose roots are allocs at the top
 * level, the caller's buffers or weights, no two overlapping? */
static bool exts_ok(const SharePlan *sp, const IrModule *m, const IrBlock *top,
                    const IrValue **ext, int n) {
  for (int i = 0; i < n; i++) {
    const IrValue *r = root_of(ext[i]);
    bool is_arg = r->block == top && !r->def;
    bool is_alloc = r->def && r->def->kind == IR_OP_ALLOC && r->def->parent == top;
    if (!r->weight && !is_arg && !is_alloc) return false;
    if (small_weight(sp, ext[i])) continue;
    uint64_t lo = 0, hi = 0;
    if (is_alloc) {
      lo = (uint64_t)ir_attr_int(r->def, "offset", 0);
      if (!ir_type_nbytes_bound(m, &r->type, &hi)) return false;
      hi += lo;
    }
    for (int j = 0; j < i; j++) {
      if (small_weight(sp, ext[j])) continue;
      const IrValue *q = root_of(ext[j]);
      if (q == r) return false;
      if (is_alloc && q->def && q->def->kind == IR_OP_ALLOC) {
        uint64_t qlo = (uint64_t)ir_attr_int(q->def, "offset", 0), qn = 0;
        if (!ir_type_nbytes_bound(m, &q->type, &qn)) return false;
        if (lo < qlo + qn && qlo < hi) return false;
      }
    }
  }
  return true;
}

/* The key text plus each small weight's bytes (they are the function's). */
static char *full_key(const SharePlan *sp, char *text, const IrValue **ext, int n,
                      size_t *len) {
  size_t size = strlen(text) + 1;
  for (int i = 0; i < n; i++)
    if (small_weight(sp, ext[i])) size += 2 * ext[i]->weight->nbytes + 2;
  char *s = realloc(text, size);
  IR_ASSERT(s);
  size_t at = strlen(s);
  for (int i = 0; i < n; i++) {
    if (!small_weight(sp, ext[i])) continue;
    const unsigned char *d = ext[i]->weight->data;
    s[at++] = '\n';
    for (uint64_t b = 0; b < ext[i]->weight->nbytes; b++) {
      static const char hex[] = "0123456789abcdef";
      s[at++] = d ? hex[d[b] >> 4] : '?';
      s[at++] = d ? hex[d[b] & 15] : '?';
    }
  }
  s[at] = 0;
  *len = at;
  return s;
}

typedef struct Bucket {
  uint64_t hash;
  char *key;
  size_t len;
  int first;   /* the first group with the key */
  int fn;      /* its function, -1 while it has one group */
} Bucket;

void share_plan(IrModule *m, IrOp *const *ops, int n, const int *reach, const int *seg_of,
                const uint64_t *ext_offset, SharePlan *sp) {
  *sp = (SharePlan){.group_of = malloc(sizeof(int) * ((size_t)n + 1)),
                    .groups = malloc(sizeof *sp->groups * ((size_t)n + 1)),
                    .ext_offset = ext_offset};
  IR_ASSERT(sp->group_of && sp->groups);
  IrBlock *top = m->main->body;
  IrKeyPrinter *kp = ir_key_printer(m);
  int cap = 64;
  Bucket *tab = calloc((size_t)cap, sizeof *tab);
  int used = 0;
  IR_ASSERT(tab);
  for (int first = 0; first < n;) {
    int end = first + 1;
    while (end < n && ir_loc_same_node(&ops[end]->loc, &ops[first]->loc)) end++;
    for (int i = first; i < end; i++) sp->group_of[i] = -1;
    Scan s = {.top = top};
    int call_at = -1;
    for (int i = first; i < end && !s.bad; i++) {
      scan_op(ops[i], &s);
      for (int r = 0; r < ops[i]->num_regions; r++) ir_walk(ops[i]->regions[r], scan_op, &s);
      IrOpKind k = ops[i]->kind;
      if (k == IR_OP_ALLOC || k == IR_OP_VIEW || k == IR_OP_CONST) continue;
      call_at = i;
      if (reach[i] >= end) s.bad = true;
    }
    int g = first;
    first = end;
    if (s.bad || call_at < 0 || s.count < SHARE_MIN_OPS) continue;
    const IrValue **ext;
    int num_ext;
    char *text = ir_print_key(kp, ops + g, end - g, &ext, &num_ext);
    if (!exts_ok(sp, m, top, ext, num_ext)) {
      free(text);
      free(ext);
      continue;
    }
    size_t len;
    char *key = full_key(sp, text, ext, num_ext, &len);
    uint64_t h = ir_hash(IR_HASH_START, key, len);
    if (2 * (used + 1) > cap) { /* grow and rehash */
      Bucket *t = calloc((size_t)cap * 2, sizeof *t);
      IR_ASSERT(t);
      for (int i = 0; i < cap; i++) {
        if (!tab[i].key) continue;
        size_t j = tab[i].hash & (size_t)(2 * cap - 1);
        while (t[j].key) j = (j + 1) & (size_t)(2 * cap - 1);
        t[j] = tab[i];
      }
      free(tab);
      tab = t;
      cap *= 2;
    }
    size_t j = h & (size_t)(cap - 1);
    while (tab[j].key && !(tab[j].hash == h && tab[j].len == len && !memcmp(tab[j].key, key, len)))
      j = (j + 1) & (size_t)(cap - 1);
    ShareGroup *grp = &sp->groups[sp->num_groups];
    *grp = (ShareGroup){.first = g, .end = end, .call_at = call_at, .fn = -1, .ext = ext,
                        .num_ext = num_ext};
    if (!tab[j].key) { /* the first group of its shape: a function only on a repeat */
      tab[j] = (Bucket){.hash = h, .key = key, .len = len, .first = sp->num_groups, .fn = -1};
      used++;
      sp->num_groups++;
      continue;
    }
    free(key);
    if (tab[j].fn < 0) {
      tab[j].fn = sp->num_fns++;
      sp->fns = realloc(sp->fns, sizeof *sp->fns * (size_t)sp->num_fns);
      IR_ASSERT(sp->fns);
      ShareGroup *rep = &sp->groups[tab[j].first];
      ShareFn *f = &sp->fns[tab[j].fn];
      *f = (ShareFn){.group = tab[j].first, .segment = seg_of[rep->first],
                     .align = malloc(sizeof(unsigned) * ((size_t)num_ext + 1))};
      IR_ASSERT(f->align);
      for (int e = 0; e < num_ext; e++) f->align[e] = root_align(root_of(rep->ext[e]));
      rep->fn = tab[j].fn;
      for (int i = rep->first; i < rep->end; i++) sp->group_of[i] = tab[j].first;
    }
    ShareFn *f = &sp->fns[tab[j].fn];
    for (int e = 0; e < num_ext; e++) {
      unsigned a = root_align(root_of(ext[e]));
      if (a < f->align[e]) f->align[e] = a;
    }
    grp->fn = tab[j].fn;
    for (int i = g; i < end; i++) sp->group_of[i] = sp->num_groups;
    sp->num_groups++;
  }
  /* groups without a repeat keep group_of -1 */
  for (int i = 0; i < cap; i++) free(tab[i].key);
  free(tab);
  ir_key_printer_free(kp);
}

void share_free(SharePlan *sp) {
  for (int i = 0; i < sp->num_groups; i++) free(sp->groups[i].ext);
  for (int i = 0; i < sp->num_fns; i++) free(sp->fns[i].align);
  free(sp->groups);
  free(sp->group_of);
  free(sp->fns);
  *sp = (SharePlan){0};
}
