/*
 * lower.c — tensor level to loop level.
 *
 * Every tensor value gets a buffer: function inputs become buffer arguments
 * in place, each output gets a new buffer argument after the inputs, and an
 * intermediate gets a mem.alloc (placed by plan-memory later).  A value that
 * is returned is computed straight into its output buffer.  View ops
 * (reshape, flatten, ...) become mem.view of their operand unless their
 * result is an output.  Each op's own lower hook then emits the loops, in
 * place of the op.  Needs: tensor level with inferred types.  Produces: a
 * lowered function with unplanned allocs.
 */
#include <stdlib.h>

#include "lower.h"
#include "passes.h"

typedef struct Lowering {
  IrModule *m;
  IrFunc *f;
  IrValue **buf;      /* by tensor value id: its buffer */
  IrValue **out_args; /* per output: the buffer argument */
} Lowering;

static IrType buffer_of(const IrValue *v) {
  return ir_type_with_kind(v->type, IR_TYPE_BUFFER);
}

static bool check_static(const IrValue *v, const IrOp *op) {
  if (ir_type_is_static(&v->type)) return true;
  diag_at(DIAG_ERROR, op ? &op->loc : NULL,
          "symbolic dimensions are not supported by lowering yet");
  return false;
}

/* Inputs turn into buffers in place; outputs get buffer arguments, and a
 * returned value defined by an op (first return of it) writes there. */
static bool lower_signature(Lowering *l, IrOp *ret) {
  IrFunc *f = l->f;
  for (int i = 0; i < f->num_inputs; i++) {
    IrValue *v = f->body->args[i];
    if (!check_static(v, NULL)) return false;
    v->type.kind = IR_TYPE_BUFFER;
    l->buf[v->id] = v;
  }
  for (int i = 0; i < f->num_outputs; i++) {
    IrValue *r = ret->operands[i];
    l->out_args[i] = ir_block_add_arg(l->m, f->body, buffer_of(r));
    if (r->def && !l->buf[r->id]) l->buf[r->id] = l->out_args[i];
  }
  return true;
}

static IrValue *operand_buffer(Lowering *l, IrValue *v) {
  if (!v) return NULL;
  if (v->weight) return v;
  return l->buf[v->id];
}

static bool lower_op(Lowering *l, IrOp *op) {
  const IrOpInfo *info = ir_op_info(op->kind);
  LwCtx c = {l->m, ir_builder_before(l->m, op), NULL, NULL};
  c.in = ir_arena_alloc(l->m->arena, sizeof *c.in * (size_t)(op->num_operands + 1));
  c.out = ir_arena_alloc(l->m->arena, sizeof *c.out * (size_t)(op->num_results + 1));
  for (int i = 0; i < op->num_operands; i++) {
    c.in[i] = operand_buffer(l, op->operands[i]);
    IR_ASSERT(!op->operands[i] || c.in[i]);
  }
  for (int i = 0; i < op->num_results; i++)
    if (!check_static(op->results[i], op)) return false;
  IrValue *r0 = op->results[0];
  if ((info->flags & OPF_VIEW) && c.in[0] && !l->buf[r0->id]) {
    /* Same bytes, new shape: no copy. */
    l->buf[r0->id] = ir_build1(&c.b, IR_OP_VIEW, 1, &c.in[0], buffer_of(r0));
    ir_op_remove(op);
    return true;
  }
  for (int i = 0; i < op->num_results; i++) {
    IrValue *r = op->results[i];
    if (!l->buf[r->id])
      l->buf[r->id] = ir_build1(&c.b, IR_OP_ALLOC, 0, NULL, buffer_of(r));
    c.out[i] = l->buf[r->id];
  }
  if (!info->lower(&c, op)) return false;
  ir_op_remove(op);
  return true;
}

/* Outputs that were not computed in place (an input, a weight, a value
 * returned twice, a view) are copied into their buffers at the end. */
static void lower_return(Lowering *l, IrOp *ret) {
  LwCtx c = {l->m, ir_builder_before(l->m, ret), NULL, NULL};
  for (int i = 0; i < l->f->num_outputs; i++) {
    IrValue *src = operand_buffer(l, ret->operands[i]);
    if (src != l->out_args[i]) lw_copy(&c, src, l->out_args[i]);
  }
  ir_op_remove(ret);
}

bool pass_lower(PassContext *pc) {
  IrModule *m = pc->m;
  IrFunc *f = m->main;
  if (!f || f->lowered) return true;
  IrOp *ret = f->body->last;
  if (!ret || ret->kind != IR_OP_RETURN) {
    diag_error("lower: the function does not end in 'return'");
    return false;
  }
  Lowering l = {m, f, calloc((size_t)m->next_value_id + 1, sizeof(IrValue *)),
                ir_arena_alloc(m->arena, sizeof(IrValue *) * (size_t)(f->num_outputs + 1))};
  bool ok = l.buf && lower_signature(&l, ret);
  int lowered = 0;
  for (IrOp *op = f->body->first, *next; ok && op != ret; op = next) {
    next = op->next;
    ok = lower_op(&l, op);
    lowered++;
  }
  if (ok) {
    lower_return(&l, ret);
    f->lowered = true;
  }
  free(l.buf);
  pass_stat(pc, "ops lowered", lowered);
  return ok;
}
