/*
 * lower.c — tensor level to loop level.
 *
 * Every tensor value gets a buffer: function inputs become buffer arguments
 * in place, each output gets a new buffer argument after the inputs, and an
 * intermediate gets a mem.alloc (placed by plan-memory later).  A value that
 * is returned is computed straight into its output buffer.  A sub-byte
 * input or output (i4 u4 i2 u2 f4e2m1) is the caller's buffer in ONNX's
 * packing: the entry unpacks the input into a buffer of one byte per
 * element, and the exit packs the output from one (docs/ir.md).  View ops
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
  const struct SchedTarget *target;
  SchedOp *sched; /* the top-level op's schedule context (NULL inside a loop) */
  IrFunc *f;
  IrValue **buf;      /* by tensor value id: its buffer */
  IrValue **out_args; /* per output: the buffer argument */
} Lowering;

static IrType buffer_of(const IrValue *v) {
  return ir_type_with_kind(v->type, IR_TYPE_BUFFER);
}

/* A sym bound to one value is a static size from here on, so lowerings
 * and the backend see a sym dim only when it is a run-time one. */
static void fix_bound_dims(const IrModule *m, IrValue *v) {
  if (v->type.kind != IR_TYPE_TENSOR) return;
  for (int i = 0; i < v->type.rank; i++) {
    IrDim *d = &v->type.dims[i];
    if (d->sym >= 0 && !ir_dim_is_dynamic(m, *d)) *d = (IrDim){ir_dim_fixed(m, *d), -1};
  }
}

static void fix_op_dims(IrOp *op, void *m) {
  for (int i = 0; i < op->num_results; i++) fix_bound_dims(m, op->results[i]);
  for (int r = 0; r < op->num_regions; r++)
    for (int i = 0; i < op->regions[r]->num_args; i++) fix_bound_dims(m, op->regions[r]->args[i]);
}

static void fix_bound_dims_all(IrModule *m, IrFunc *f) {
  for (int i = 0; i < m->num_weights; i++) fix_bound_dims(m, m->weights[i]->value);
  for (int i = 0; i < f->body->num_args; i++) fix_bound_dims(m, f->body->args[i]);
  ir_walk(f->body, fix_op_dims, m);
  for (int i = 0; i < f->num_outputs; i++) {
    IrValue tmp = {.type = f->output_types[i]};
    fix_bound_dims(m, &tmp);
    f->output_types[i] = tmp.type;
  }
}

/* Every bounded run-time dim sizes memory by its upper bound. */
static bool check_bounded(const IrModule *m, const IrValue *v, const IrOp *op) {
  uint64_t bytes;
  if (!ir_type_is_dynamic(m, &v->type) || ir_type_nbytes_bound(m, &v->type, &bytes))
    return true;
  diag_at(DIAG_ERROR, op ? &op->loc : NULL, "a run-time dimension without an "
          "upper bound (give one with -dim=NAME=LO..HI)");
  return false;
}

/* A run-time dim reaching an op without OPF_DYN: ir_infer_op refuses it on
 * import, so this catches IR read from text. */
static bool check_dyn_ok(const IrModule *m, const IrOp *op) {
  if (ir_op_info(op->kind)->flags & OPF_DYN) return true;
  for (int i = 0; i < op->num_results; i++)
    if (ir_type_is_dynamic(m, &op->results[i]->type)) {
      diag_at(DIAG_ERROR, &op->loc, "'%s' does not support run-time dimensions yet",
              ir_op_info(op->kind)->name);
      return false;
    }
  return true;
}

/* ------------------------------------------------- sub-byte arguments */
/* A sub-byte argument's bytes (u8[ceil(n * bits / 8)]) and a buffer's
 * elements as one dim. */
static IrValue *packed_bytes(LwCtx *c, IrValue *arg, uint64_t n) {
  int64_t nb = (int64_t)ir_elem_packed_bytes(lw_elem(arg), n);
  return ir_build1(&c->b, IR_OP_VIEW, 1, &arg, ir_type_buffer(IR_U8, 1, &nb));
}

static IrValue *flat(LwCtx *c, IrValue *buf, uint64_t n) {
  int64_t d = (int64_t)n;
  return ir_build1(&c->b, IR_OP_VIEW, 1, &buf, ir_type_buffer(lw_elem(buf), 1, &d));
}

/* Element i (flat) of a sub-byte buffer as its `bits` low bits, in i32. */
static IrValue *element_bits(LwCtx *c, IrValue *buf, IrValue *i) {
  IrElem e = lw_elem(buf);
  IrValue *b = lw_bitcast(c, lw_load(c, buf, &i), e == IR_I4 || e == IR_I2 ? IR_I8 : IR_U8);
  return lw_bin(c, IR_OP_A_AND, lw_cast(c, b, IR_I32),
                lw_const_i(c, IR_I32, (1 << ir_elem_bits(e)) - 1));
}

/* Elements j*per .. j*per + count - 1 of `out` from byte j of `bytes`:
 * each is its bits of the byte, as the element type (i4/i2 sign-extend). */
static void unpack_byte(LwCtx *c, IrValue *bytes, IrValue *out, IrValue *j, int per,
                        int count) {
  IrElem e = lw_elem(out);
  int bits = ir_elem_bits(e);
  IrValue *b = lw_cast(c, lw_load(c, bytes, &j), IR_I32);
  IrValue *base = lw_bin(c, IR_OP_A_MUL, j, lw_index(c, per));
  for (int k = 0; k < count; k++) {
    IrValue *v = k ? lw_bin(c, IR_OP_A_DIV, b, lw_const_i(c, IR_I32, 1 << (k * bits))) : b;
    IrValue *x = e == IR_F4E2M1 ? lw_bitcast(c, lw_cast(c, v, IR_U4), e) : lw_cast(c, v, e);
    IrValue *i = lw_bin(c, IR_OP_A_ADD, base, lw_index(c, k));
    lw_store(c, x, out, &i);
  }
}

/* Byte j of `bytes` from elements j*per .. j*per + count - 1 of `in`. */
static void pack_byte(LwCtx *c, IrValue *in, IrValue *bytes, IrValue *j, int per, int count) {
  int bits = ir_elem_bits(lw_elem(in));
  IrValue *base = lw_bin(c, IR_OP_A_MUL, j, lw_index(c, per)), *acc = NULL;
  for (int k = 0; k < count; k++) {
    IrValue *v = element_bits(c, in, lw_bin(c, IR_OP_A_ADD, base, lw_index(c, k)));
    if (k) v = lw_bin(c, IR_OP_A_MUL, v, lw_const_i(c, IR_I32, 1 << (k * bits)));
    acc = acc ? lw_bin(c, IR_OP_A_OR, acc, v) : v;
  }
  lw_store(c, lw_cast(c, acc, IR_U8), bytes, &j);
}

/* Whole bytes in a loop, then the last, partly used byte. */
static void convert_packed(LwCtx *c, IrValue *bytes, IrValue *elems, uint64_t n, bool pack) {
  int per = 8 / ir_elem_bits(lw_elem(elems));
  IrValue *j;
  IrOp *loop = lw_for_begin(c, lw_index(c, 0), lw_index(c, (int64_t)(n / (uint64_t)per)), 1, &j);
  if (pack) pack_byte(c, elems, bytes, j, per, per);
  else unpack_byte(c, bytes, elems, j, per, per);
  lw_for_end(c, loop);
  int tail = (int)(n % (uint64_t)per);
  if (!tail) return;
  j = lw_index(c, (int64_t)(n / (uint64_t)per));
  if (pack) pack_byte(c, elems, bytes, j, per, tail);
  else unpack_byte(c, bytes, elems, j, per, tail);
}

/* The element count of a sub-byte argument; false after a diagnostic when
 * it has run-time dims (their packed size is not supported yet). */
static bool packed_numel(const IrModule *m, const IrValue *v, const char *what, int i,
                         uint64_t *n) {
  if (!ir_type_is_dynamic(m, &v->type) && ir_type_numel(&v->type, n)) return true;
  diag_error("%s %d (%s): a sub-byte element type with run-time dimensions is not "
             "supported", what, i, ir_elem_name(v->type.elem));
  return false;
}

/* A sum sym's value (past + seq) is its terms' values added, set once at
 * the entry, before any buffer of that size is touched (after the ops are
 * lowered, so a sum that a lowering made is set too). */
static void set_sum_dims(IrModule *m, IrFunc *f) {
  /* (a body with nothing to compute, all outputs empty, has no first op) */
  LwCtx cc = {.m = m, .b = f->body->first ? ir_builder_before(m, f->body->first)
                                         : ir_builder_at_end(m, f->body)},
        *c = &cc;
  for (int k = 0; k < c->m->num_syms; k++) {
    const IrSym *s = &c->m->syms[k];
    if (!s->num_terms) continue;
    IrValue *v = lw_dim_index(c, LW_DYN_DIM(s->terms[0]));
    for (int t = 1; t < s->num_terms; t++)
      v = lw_bin(c, IR_OP_A_ADD, v, lw_dim_index(c, LW_DYN_DIM(s->terms[t])));
    if (s->offset) v = lw_bin(c, IR_OP_A_ADD, v, lw_index(c, s->offset));
    IrOp *set = ir_build(&c->b, IR_OP_DIM_SET, 1, &v, 0, NULL);
    ir_attr_set_string(c->m, set, "sym", s->name);
  }
}

/* Inputs turn into buffers in place; outputs get buffer arguments, and a
 * returned value defined by an op (first return of it) writes there.  A
 * sub-byte input is unpacked into an alloc first; a sub-byte output is
 * computed into an alloc that lower_return packs. */
static bool lower_signature(Lowering *l, IrOp *ret) {
  IrFunc *f = l->f;
  LwCtx c = {.m = l->m, .b = ir_builder_before(l->m, f->body->first), .target = l->target};
  for (int i = 0; i < f->num_inputs; i++) {
    IrValue *v = f->body->args[i];
    uint64_t n;
    if (!check_bounded(l->m, v, NULL)) return false;
    v->type.kind = IR_TYPE_BUFFER;
    l->buf[v->id] = v;
    if (!ir_elem_is_subbyte(v->type.elem)) continue;
    if (!packed_numel(l->m, v, "input", i, &n)) return false;
    l->buf[v->id] = ir_build1(&c.b, IR_OP_ALLOC, 0, NULL, v->type);
    convert_packed(&c, packed_bytes(&c, v, n), flat(&c, l->buf[v->id], n), n, false);
  }
  for (int i = 0; i < f->num_outputs; i++) {
    IrValue *r = ret->operands[i];
    uint64_t n;
    l->out_args[i] = ir_block_add_arg(l->m, f->body, buffer_of(r));
    if (ir_elem_is_subbyte(r->type.elem)) {
      if (!packed_numel(l->m, l->out_args[i], "output", i, &n)) return false;
      continue;
    }
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
  LwCtx c = {.m = l->m, .b = ir_builder_before(l->m, op), .target = l->target,
             .sched = l->sched};
  c.in = ir_arena_alloc(l->m->arena, sizeof *c.in * (size_t)(op->num_operands + 1));
  c.out = ir_arena_alloc(l->m->arena, sizeof *c.out * (size_t)(op->num_results + 1));
  for (int i = 0; i < op->num_operands; i++) {
    c.in[i] = operand_buffer(l, op->operands[i]);
    IR_ASSERT(!op->operands[i] || c.in[i]);
  }
  if (!check_dyn_ok(l->m, op)) return false;
  for (int i = 0; i < op->num_results; i++)
    if (!check_bounded(l->m, op->results[i], op)) return false;
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

/* ------------------------------------------------------------------ loop */
/* `loop` (ONNX Loop with a run-time trip count or condition) becomes
 *
 *   carried buffers <- initial values
 *   loop.while(cond && 0 < M, i = 0) {
 *     iteration and condition tensors <- i, true
 *     the body's ops, lowered in place (their allocs hoisted before the loop,
 *       so the memory plan sees one buffer per body value)
 *     carried buffers <- the body's results; scan buffers[i] <- scan values
 *     yield(cond_out && i + 1 < M, i + 1)
 *   }
 *   dim.set(scan length = final i); results <- carried buffers
 */
static bool lower_op(Lowering *l, IrOp *op);
static bool lower_loop(Lowering *l, IrOp *op);

static IrValue *alloc_like(LwCtx *c, const IrValue *v) {
  return ir_build1(&c->b, IR_OP_ALLOC, 0, NULL, buffer_of(v));
}

/* A scalar tensor's value (rank 0 or [1]) and a store into one. */
static IrValue *load_scalar(LwCtx *c, IrValue *buf) {
  IrValue *idx[1] = {lw_index(c, 0)};
  return lw_load(c, buf, idx);
}

static void store_scalar(LwCtx *c, IrValue *v, IrValue *buf) {
  IrValue *idx[1] = {lw_index(c, 0)};
  lw_store(c, v, buf, idx);
}

static void collect_allocs(IrOp *op, void *user) {
  IrOp ***list = user;
  if (op->kind == IR_OP_ALLOC) *(*list)++ = op;
}

static void count_ops(IrOp *op, void *user) {
  (void)op;
  ++*(int *)user;
}

/* Moves every mem.alloc inside w's region to just before w. */
static void hoist_allocs(IrOp *w) {
  int n = 0;
  ir_walk(w->regions[0], count_ops, &n);
  IrOp **all = malloc(sizeof *all * (size_t)(n + 1)), **end = all;
  ir_walk(w->regions[0], collect_allocs, &end);
  for (IrOp **a = all; a < end; a++) {
    ir_op_remove(*a);
    ir_block_insert_before(w->parent, w, *a);
  }
  free(all);
}

/* Is buf one the body did not compute itself (a view, an argument, an
 * outer value)?  Copying it into a carried buffer then needs a temporary,
 * as it may be another carried buffer. */
static bool maybe_carried(const IrValue *buf) {
  return !buf->def || buf->def->kind != IR_OP_ALLOC;
}

static bool lower_loop(Lowering *l, IrOp *op) {
  IrModule *m = l->m;
  /* IR read from text may come here without infer-shapes: check its shape. */
  if (!ir_infer_op(m, op)) return false;
  IrBlock *body = op->regions[0];
  IrOp *y = body->last;
  int nv = op->num_operands - 2, nk = op->num_results - nv;
  LwCtx c = {.m = m, .b = ir_builder_before(m, op)};
  IrValue **carry = ir_arena_alloc(m->arena, sizeof *carry * (size_t)(nv + nk + 1));
  IrValue **scan = carry + nv;
  for (int i = 0; i < nv; i++) {
    carry[i] = alloc_like(&c, op->operands[2 + i]);
    lw_copy(&c, operand_buffer(l, op->operands[2 + i]), carry[i]);
  }
  for (int k = 0; k < nk; k++) {
    IrValue *r = op->results[nv + k];
    if (!l->buf[r->id]) l->buf[r->id] = alloc_like(&c, r);
    scan[k] = l->buf[r->id];
  }
  IrValue *iter = alloc_like(&c, body->args[0]), *cond = alloc_like(&c, body->args[1]);
  IrValue *trip = op->operands[0]
                      ? lw_cast(&c, load_scalar(&c, operand_buffer(l, op->operands[0])), IR_INDEX)
                      : lw_index(&c, INT64_MAX);
  IrValue *go = op->operands[1] ? load_scalar(&c, operand_buffer(l, op->operands[1]))
                                : lw_const_i(&c, IR_BOOL, 1);
  IrValue *zero = lw_index(&c, 0);
  go = lw_bin(&c, IR_OP_A_AND, go, lw_cmp(&c, "lt", zero, trip));
  IrValue *wops[2] = {go, zero};
  IrType it = ir_type_scalar(IR_INDEX);
  IrOp *w = ir_build(&c.b, IR_OP_WHILE, 2, wops, 1, &it);
  IrBlock *wb = ir_op_add_region(m, w);
  IrValue *i = ir_block_add_arg(m, wb, it);
  LwCtx in = {.m = m, .b = ir_builder_at_end(m, wb)};
  in.b.loc = op->loc;
  store_scalar(&in, lw_cast(&in, i, IR_I64), iter);
  store_scalar(&in, lw_const_i(&in, IR_BOOL, 1), cond);
  l->buf[body->args[0]->id] = iter;
  l->buf[body->args[1]->id] = cond;
  for (int k = 0; k < nv; k++) l->buf[body->args[2 + k]->id] = carry[k];
  for (IrOp *b = body->first, *next; b && b != y; b = next) {
    next = b->next;
    ir_op_remove(b);
    ir_block_append(wb, b);
    if (!(b->kind == IR_OP_LOOP ? lower_loop(l, b) : lower_op(l, b))) return false;
  }
  in.b = ir_builder_at_end(m, wb);
  in.b.loc = op->loc;
  IrValue **src = ir_arena_alloc(m->arena, sizeof *src * (size_t)(nv + 1));
  for (int k = 0; k < nv; k++) {
    src[k] = operand_buffer(l, y->operands[1 + k]);
    if (src[k] != carry[k] && maybe_carried(src[k])) {
      IrValue *tmp = alloc_like(&in, y->operands[1 + k]);
      lw_copy(&in, src[k], tmp);
      src[k] = tmp;
    }
  }
  for (int k = 0; k < nv; k++)
    if (src[k] != carry[k]) lw_copy(&in, src[k], carry[k]);
  for (int k = 0; k < nk; k++) {
    IrValue *v = operand_buffer(l, y->operands[1 + nv + k]), *ivs[IR_MAX_RANK];
    IrValue *idx[IR_MAX_RANK + 1];
    int64_t dims[IR_MAX_RANK];
    int r = lw_rank(v);
    for (int d = 0; d < r; d++) dims[d] = lw_dim(v, d);
    LwNest nest;
    lw_nest_begin(&in, &nest, r, dims, ivs);
    idx[0] = i;
    for (int d = 0; d < r; d++) idx[1 + d] = ivs[d];
    lw_store(&in, lw_load(&in, v, ivs), scan[k], idx);
    lw_nest_end(&in, &nest);
  }
  IrValue *next_i = lw_bin(&in, IR_OP_A_ADD, i, lw_index(&in, 1));
  IrValue *more = lw_bin(&in, IR_OP_A_AND, load_scalar(&in, operand_buffer(l, y->operands[0])),
                         lw_cmp(&in, "lt", next_i, trip));
  ir_build(&in.b, IR_OP_YIELD, 2, (IrValue *[]){more, next_i}, 0, NULL);
  hoist_allocs(w);
  c.b = ir_builder_before(m, op);
  if (nk) {
    IrOp *set = ir_build(&c.b, IR_OP_DIM_SET, 1, &w->results[0], 0, NULL);
    ir_attr_set_string(m, set, "sym", ir_attr_string(op, "scan_len", ""));
  }
  for (int k = 0; k < nv; k++) {
    IrValue *r = op->results[k];
    if (l->buf[r->id]) lw_copy(&c, carry[k], l->buf[r->id]);
    else l->buf[r->id] = carry[k];
  }
  ir_op_remove(op);
  return true;
}

/* Outputs that were not computed in place (an input, a weight, a value
 * returned twice, a view) are copied into their buffers at the end; a
 * sub-byte one is packed into its. */
static void lower_return(Lowering *l, IrOp *ret) {
  LwCtx c = {.m = l->m, .b = ir_builder_before(l->m, ret), .target = l->target};
  for (int i = 0; i < l->f->num_outputs; i++) {
    IrValue *src = operand_buffer(l, ret->operands[i]), *dst = l->out_args[i];
    uint64_t n;
    if (ir_elem_is_subbyte(lw_elem(dst)) && ir_type_numel(&dst->type, &n))
      convert_packed(&c, packed_bytes(&c, dst, n), flat(&c, src, n), n, true);
    else if (src != dst)
      lw_copy(&c, src, dst);
  }
  ir_op_remove(ret);
}

/* rt.mark {layer=K} before op (NULL: at the end of main), outside every
 * node (so that no node's loops, shared as a function, include it). */
static void mark_layer(IrModule *m, IrOp *before, int layer) {
  IrBuilder b = before ? ir_builder_before(m, before) : ir_builder_at_end(m, m->main->body);
  b.loc = (IrLoc){0};
  IrOp *mark = ir_build(&b, IR_OP_MARK, 0, NULL, 0, NULL);
  ir_attr_set_int(m, mark, "layer", layer);
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
  Lowering l = {m, pc->target, NULL, f, calloc((size_t)m->next_value_id + 1, sizeof(IrValue *)),
                ir_arena_alloc(m->arena, sizeof(IrValue *) * (size_t)(f->num_outputs + 1))};
  fix_bound_dims_all(m, f);
  IrOp *first = f->body->first; /* the tensor ops, after what lower_signature adds */
  bool ok = l.buf && lower_signature(&l, ret);
  int lowered = 0;
  for (IrOp *op = first; op != ret; op = op->next) lowered++;
  m->sched_notes = ir_arena_alloc(m->arena, sizeof *m->sched_notes * (size_t)(lowered + 1));
  m->num_sched_notes = 0;
  for (IrOp *op = first, *next; ok && op != ret; op = next) {
    next = op->next;
    IrSchedNote *note = &m->sched_notes[m->num_sched_notes];
    char *key = ir_print_op_signature(m, op);
    *note = (IrSchedNote){.loc = op->loc, .op = ir_op_info(op->kind)->name,
                          .key = ir_arena_strdup(m->arena, key)};
    SchedOp sched = {.choice = sched_tuning_find(pc->tuning, key)};
    free(key);
    if (pc->profile) mark_layer(m, op, m->num_sched_notes);
    l.sched = op->kind == IR_OP_LOOP ? NULL : &sched;
    ok = op->kind == IR_OP_LOOP ? lower_loop(&l, op) : lower_op(&l, op);
    l.sched = NULL;
    note->problem = sched.problem;
    m->num_sched_notes++;
  }
  if (ok) {
    lower_return(&l, ret);
    if (pc->profile) mark_layer(m, NULL, m->num_sched_notes);
    set_sum_dims(m, f);
    f->lowered = true;
  }
  free(l.buf);
  pass_stat(pc, "ops lowered", lowered);
  return ok;
}
