/*
 * plan_memory.c — the workspace plan.
 *
 * Each mem.alloc of the lowered function gets a byte offset into the one
 * workspace the caller provides.  A buffer is live from its alloc to the
 * last top-level op that uses it (or a mem.view of it); two buffers whose
 * lives overlap never share bytes.  Offsets are first-fit over the buffers
 * live at the alloc, 64-byte aligned, so a buffer whose life ended is
 * reused.  An elementwise op writes over an operand's buffer that dies
 * there (in place): see in_place_source.  Sets the function's
 * workspace_size; --stats also prints the liveness lower bound (the most
 * bytes live at once).  Needs: loop level.
 */
#include <stdlib.h>

#include "passes.h"

#define ALIGN 64

typedef struct Buf {
  IrOp *alloc;
  int start, end;       /* top-level op positions */
  uint64_t size, offset;
  IrOp *last_use;       /* the top-level op at end */
} Buf;

typedef struct Plan {
  const IrModule *m;
  Buf *bufs;
  int n;
  int *buf_of;  /* by value id: index into bufs, or -1 */
  int pos;      /* top-level position being scanned */
  IrOp *top;    /* the top-level op at pos */
} Plan;

static void note_uses(IrOp *op, void *user) {
  Plan *p = user;
  for (int i = 0; i < op->num_operands; i++) {
    IrValue *v = op->operands[i];
    if (!v || p->buf_of[v->id] < 0) continue;
    Buf *b = &p->bufs[p->buf_of[v->id]];
    if (b->end <= p->pos) b->end = p->pos, b->last_use = p->top;
  }
  /* A view is the same memory: its uses are uses of the base buffer. */
  if (op->kind == IR_OP_VIEW && op->operands[0] &&
      p->buf_of[op->operands[0]->id] >= 0)
    p->buf_of[op->results[0]->id] = p->buf_of[op->operands[0]->id];
}

static bool collect(Plan *p, IrFunc *f) {
  int cap = 16, pos = 0;
  p->bufs = malloc(sizeof *p->bufs * (size_t)cap);
  if (!p->bufs) return false;
  for (IrOp *op = f->body->first; op; op = op->next, pos++) {
    p->pos = pos;
    p->top = op;
    if (op->kind == IR_OP_ALLOC) {
      if (p->n == cap && !(p->bufs = realloc(p->bufs, sizeof *p->bufs * (size_t)(cap *= 2))))
        return false;
      uint64_t bytes;
      if (!ir_type_nbytes_bound(p->m, &op->results[0]->type, &bytes)) {
        diag_at(DIAG_ERROR, &op->loc, "buffer size overflows");
        return false;
      }
      p->bufs[p->n] = (Buf){op, pos, pos, (bytes + ALIGN - 1) / ALIGN * ALIGN, 0, op};
      p->buf_of[op->results[0]->id] = p->n++;
    }
    note_uses(op, p);
    for (int r = 0; r < op->num_regions; r++) ir_walk(op->regions[r], note_uses, p);
  }
  return true;
}

/* ------------------------------------------------------------ in place */
/* What one top-level loop nest does with buffer k (being planned) and the
 * buffers that die in it. */
typedef struct Scan {
  Plan *p;
  int k;
  IrOp *store;   /* the one store into k */
  bool bad_k;    /* k read, or stored twice */
} Scan;

static bool is_load(const IrOp *op) {
  return op->kind == IR_OP_LOAD || op->kind == IR_OP_VLOAD;
}
static bool is_store(const IrOp *op) {
  return op->kind == IR_OP_STORE || op->kind == IR_OP_VSTORE;
}

static void find_store(IrOp *op, void *user) {
  Scan *s = user;
  for (int i = 0; i < op->num_operands; i++) {
    IrValue *v = op->operands[i];
    if (!v || s->p->buf_of[v->id] != s->k) continue;
    if (is_store(op) && i == 1 && !s->store) s->store = op;
    else s->bad_k = true;
  }
}

/* Does the store's index depend on the loop's induction variable?  Then
 * two iterations do not store one element twice (each writes its own). */
static bool depends_on(const IrValue *v, const IrValue *iv, int depth) {
  if (v == iv) return true;
  if (!v->def || v->def->num_regions || depth > 16) return false;
  for (int i = 0; i < v->def->num_operands; i++)
    if (v->def->operands[i] && depends_on(v->def->operands[i], iv, depth + 1)) return true;
  return false;
}

/* A load of buffer o that reads the element the store writes: the same
 * index values, the same view type and vector shape, in the store's block
 * and before it, so each element is read before it is overwritten. */
static bool same_element(const IrOp *load, const IrOp *store) {
  if (load->parent != store->parent || load->num_operands + 1 != store->num_operands ||
      ir_attr_int(load, "stride", 1) != 1 || ir_attr_int(store, "stride", 1) != 1 ||
      ir_attr_int(load, "valid", -1) != ir_attr_int(store, "valid", -1) ||
      !ir_type_equal(&load->operands[0]->type, &store->operands[1]->type) ||
      !ir_type_equal(&load->results[0]->type, &store->operands[0]->type))
    return false;
  for (int i = 1; i < load->num_operands; i++)
    if (load->operands[i] != store->operands[i + 1]) return false;
  for (const IrOp *o = load; o; o = o->next)
    if (o == store) return true;
  return false;
}

typedef struct Reads {
  Scan *s;
  int o;
  bool ok, any;
} Reads;

static void check_reads(IrOp *op, void *user) {
  Reads *r = user;
  for (int i = 0; i < op->num_operands; i++) {
    IrValue *v = op->operands[i];
    if (!v || r->s->p->buf_of[v->id] != r->o) continue;
    if (op->kind == IR_OP_VIEW) continue; /* its uses are checked as o's */
    if (is_load(op) && i == 0 && same_element(op, r->s->store)) r->any = true;
    else r->ok = false;
  }
}

/* The buffer whose bytes buffer k can take, or -1.  k's first op after its
 * alloc (and views and constants) must be a loop nest that stores into k
 * once, at an index that moves with every loop around the store, and reads
 * k never; the source o dies in that nest (a workspace buffer: a caller's
 * input is never written over), is at least k's size, and the nest only
 * reads it, at the element the store writes, before it: an elementwise op
 * whose operand has the output's shape (a residual add, an activation, a
 * squeeze-excitation scale left unfused).  Then y[i] = f(x[i]) over x is
 * the same computation: x[i] is read before y[i] is written, and no other
 * element of x is read after it has been written. */
static int in_place_source(Plan *p, int k) {
  IrOp *q = p->bufs[k].alloc->next;
  while (q && (q->kind == IR_OP_VIEW || q->kind == IR_OP_CONST)) q = q->next;
  if (!q || q->kind != IR_OP_FOR) return -1;
  Scan s = {p, k, NULL, false};
  for (int r = 0; r < q->num_regions; r++) ir_walk(q->regions[r], find_store, &s);
  find_store(q, &s);
  if (!s.store || s.bad_k) return -1;
  for (IrBlock *b = s.store->parent; b && b->parent_op; b = b->parent_op->parent) {
    IrOp *l = b->parent_op;
    if (l->kind != IR_OP_FOR || !b->num_args) return -1;
    bool moves = false;
    for (int i = 2; i < s.store->num_operands && !moves; i++)
      moves = depends_on(s.store->operands[i], b->args[0], 0);
    if (!moves) return -1;
    if (l == q) break;
  }
  for (int o = 0; o < k; o++) {
    const Buf *b = &p->bufs[o];
    if (b->last_use != q || b->size < p->bufs[k].size) continue;
    Reads r = {&s, o, true, false};
    for (int i = 0; i < q->num_regions; i++) ir_walk(q->regions[i], check_reads, &r);
    check_reads(q, &r);
    if (r.ok && r.any) return o;
  }
  return -1;
}

/* Lowest offset where [off, off+size) misses every buffer live at b. */
static uint64_t first_fit(const Plan *p, int k) {
  const Buf *b = &p->bufs[k];
  uint64_t off = 0;
  for (bool moved = true; moved;) {
    moved = false;
    for (int i = 0; i < k; i++) {
      const Buf *o = &p->bufs[i];
      if (o->end < b->start || !o->size) continue;  /* dead before b starts */
      if (off < o->offset + o->size && o->offset < off + b->size) {
        off = o->offset + o->size;
        moved = true;
      }
    }
  }
  return off;
}

/* The most bytes live at once (sizes rounded to the alignment): no plan
 * can use less, so --stats prints it beside the workspace size. */
static uint64_t live_lower_bound(const Plan *p) {
  uint64_t best = 0;
  for (int k = 0; k < p->n; k++) {
    uint64_t live = 0;
    for (int i = 0; i < p->n; i++) {
      const Buf *o = &p->bufs[i];
      if (o->start <= p->bufs[k].start && p->bufs[k].start <= o->end)
        live += (o->size + ALIGN - 1) / ALIGN * ALIGN;
    }
    if (live > best) best = live;
  }
  return best;
}

bool pass_plan_memory(PassContext *pc) {
  IrModule *m = pc->m;
  IrFunc *f = m->main;
  if (!f || !f->lowered) {
    diag_error("plan-memory needs lowered IR (run 'lower' first)");
    return false;
  }
  Plan p = {.m = m};
  p.buf_of = malloc(sizeof(int) * ((size_t)m->next_value_id + 1));
  bool ok = p.buf_of != NULL;
  for (int i = 0; ok && i <= m->next_value_id; i++) p.buf_of[i] = -1;
  ok = ok && collect(&p, f);
  uint64_t total = 0, sum = 0;
  int in_place = 0;
  for (int k = 0; ok && k < p.n; k++) {
    int o = in_place_source(&p, k);
    if (o >= 0) {
      /* o ends where k starts: later buffers see k over the same bytes */
      p.bufs[k].offset = p.bufs[o].offset;
      p.bufs[o].end = p.bufs[k].start - 1;
      in_place++;
    } else {
      p.bufs[k].offset = first_fit(&p, k);
    }
    ir_attr_set_int(m, p.bufs[k].alloc, "offset", (int64_t)p.bufs[k].offset);
    if (p.bufs[k].offset + p.bufs[k].size > total)
      total = p.bufs[k].offset + p.bufs[k].size;
    sum += p.bufs[k].size;
  }
  if (ok) f->workspace_size = (int64_t)total;
  pass_stat(pc, "buffers", p.n);
  pass_stat(pc, "written in place", in_place);
  pass_stat(pc, "workspace bytes", (int64_t)total);
  pass_stat(pc, "bytes without reuse", (int64_t)sum);
  if (ok) pass_stat(pc, "liveness lower bound", (int64_t)live_lower_bound(&p));
  free(p.bufs);
  free(p.buf_of);
  return ok;
}
