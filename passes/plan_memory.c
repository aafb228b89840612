/*
 * plan_memory.c — the workspace plan.
 *
 * Each mem.alloc of the lowered function gets a byte offset into the one
 * workspace the caller provides.  A buffer is live from its alloc to the
 * last top-level op that uses it (or a mem.view of it); two buffers whose
 * lives overlap never share bytes.  Offsets are first-fit over the buffers
 * live at the alloc, 64-byte aligned, so a buffer whose life ended is
 * reused.  Sets the function's workspace_size; --stats also prints the
 * liveness lower bound (the most bytes live at once).  Needs: loop level.
 */
#include <stdlib.h>

#include "passes.h"

#define ALIGN 64

typedef struct Buf {
  IrOp *alloc;
  int start, end;       /* top-level op positions */
  uint64_t size, offset;
} Buf;

typedef struct Plan {
  const IrModule *m;
  Buf *bufs;
  int n;
  int *buf_of;  /* by value id: index into bufs, or -1 */
  int pos;      /* top-level position being scanned */
} Plan;

static void note_uses(IrOp *op, void *user) {
  Plan *p = user;
  for (int i = 0; i < op->num_operands; i++) {
    IrValue *v = op->operands[i];
    if (!v || p->buf_of[v->id] < 0) continue;
    Buf *b = &p->bufs[p->buf_of[v->id]];
    if (b->end < p->pos) b->end = p->pos;
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
    if (op->kind == IR_OP_ALLOC) {
      if (p->n == cap && !(p->bufs = realloc(p->bufs, sizeof *p->bufs * (size_t)(cap *= 2))))
        return false;
      uint64_t bytes;
      if (!ir_type_nbytes_bound(p->m, &op->results[0]->type, &bytes)) {
        diag_at(DIAG_ERROR, &op->loc, "buffer size overflows");
        return false;
      }
      p->bufs[p->n] = (Buf){op, pos, pos, (bytes + ALIGN - 1) / ALIGN * ALIGN, 0};
      p->buf_of[op->results[0]->id] = p->n++;
    }
    note_uses(op, p);
    for (int r = 0; r < op->num_regions; r++) ir_walk(op->regions[r], note_uses, p);
  }
  return true;
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
  for (int k = 0; ok && k < p.n; k++) {
    p.bufs[k].offset = first_fit(&p, k);
    ir_attr_set_int(m, p.bufs[k].alloc, "offset", (int64_t)p.bufs[k].offset);
    if (p.bufs[k].offset + p.bufs[k].size > total)
      total = p.bufs[k].offset + p.bufs[k].size;
    sum += p.bufs[k].size;
  }
  if (ok) f->workspace_size = (int64_t)total;
  pass_stat(pc, "buffers", p.n);
  pass_stat(pc, "workspace bytes", (int64_t)total);
  pass_stat(pc, "bytes without reuse", (int64_t)sum);
  if (ok) pass_stat(pc, "liveness lower bound", (int64_t)live_lower_bound(&p));
  free(p.bufs);
  free(p.buf_of);
  return ok;
}
