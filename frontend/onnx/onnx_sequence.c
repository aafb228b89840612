/*
 * onnx_sequence.c — sequence and optional values inside a graph, resolved
 * at import.
 *
 * A sequence inside a graph is a list of tensors whose length and
 * positions are known when the model is compiled (constant positions and
 * split sizes), so it never reaches the IR: the frontend keeps, per ONNX
 * name, the list of IR values, and each sequence op edits the list or
 * turns it into tensor ops (SplitToSequence -> Slice, ConcatFromSequence
 * -> Concat, SequenceAt -> the element itself).  An optional is a tensor or
 * nothing.  What this cannot express is refused naming the node: a
 * position or split computed at run time, a sequence or optional as a
 * graph input or output (the loader refuses those types), a sequence
 * carried through a Loop that is not unrolled.
 */
#include <string.h>

#include "onnx_int.h"

typedef struct OnnxSeq {
  IrElem elem;
  int n;
  IrValue **items;
} OnnxSeq;

/* What an empty optional binds to: no value of the IR is this address. */
static OnnxSeq empty_optional;

bool onnx_is_sequence_op(const char *op) {
  static const char *const ops[] = {
      "SequenceEmpty", "SequenceConstruct", "SequenceInsert", "SequenceAt", "SequenceErase",
      "SequenceLength", "SplitToSequence", "ConcatFromSequence", "Optional",
      "OptionalHasElement", "OptionalGetElement"};
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (!strcmp(op, ops[i])) return true;
  return false;
}

static const char *in_name(const Onnx__NodeProto *n, size_t i) {
  return i < n->n_input && n->input[i] ? n->input[i] : "";
}

static const Onnx__AttributeProto *attr_of(const Onnx__NodeProto *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; i++)
    if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name)) return n->attribute[i];
  return NULL;
}

static bool int_attr(const Onnx__NodeProto *n, const char *name, int64_t dflt, int64_t *v,
                     const IrLoc *loc) {
  const Onnx__AttributeProto *a = attr_of(n, name);
  *v = dflt;
  if (!a) return true;
  if (!a->has_type || a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT) {
    diag_at(DIAG_ERROR, loc, "%s: attribute '%s' must be an int", loc->op_type, name);
    return false;
  }
  *v = a->i;
  return true;
}

static OnnxSeq *seq_in(OnnxCtx *c, const Onnx__NodeProto *n, size_t i, const IrLoc *loc) {
  const char *name = in_name(n, i);
  OnnxSeq *s = *name && c->seqs.arena ? onnx_map_get(&c->seqs, name) : NULL;
  if (!s || s == &empty_optional)
    diag_at(DIAG_ERROR, loc, "%s: input '%s' is not a sequence built in this graph (tcc "
            "resolves sequences at compile time)", loc->op_type, name);
  return s == &empty_optional ? NULL : s;
}

static IrValue *tensor_in(OnnxCtx *c, const Onnx__NodeProto *n, size_t i, const IrLoc *loc) {
  const char *name = in_name(n, i);
  IrValue *v = *name ? onnx_map_get(&c->values, name) : NULL;
  if (!v)
    diag_at(DIAG_ERROR, loc, "%s: input '%s' is not a tensor produced by a node, "
            "initializer or graph input", loc->op_type, name);
  return v;
}

/* Input i, a position or split size: an integer scalar known at compile
 * time; absent inputs give *present = false. */
static bool const_in(OnnxCtx *c, const Onnx__NodeProto *n, size_t i, const char *what,
                     int64_t *v, bool *present, const IrLoc *loc) {
  *present = *in_name(n, i) != 0;
  if (!*present) return true;
  IrValue *t = tensor_in(c, n, i, loc);
  if (!t) return false;
  if (!ir_elem_is_int(t->type.elem) || t->type.rank > 1 || !onnx_known_int(t, v)) {
    diag_at(DIAG_ERROR, loc, "%s: the %s must be one integer known at compile time", loc->op_type,
            what);
    return false;
  }
  return true;
}

static OnnxSeq *seq_new(OnnxCtx *c, IrElem elem, int n) {
  OnnxSeq *s = ir_arena_alloc(c->m->arena, sizeof *s);
  s->elem = elem;
  s->n = n;
  s->items = ir_arena_alloc(c->m->arena, sizeof *s->items * (size_t)(n ? n : 1));
  return s;
}

static bool bind_seq(OnnxCtx *c, const Onnx__NodeProto *n, OnnxSeq *s) {
  if (n->n_output && n->output[0] && *n->output[0]) onnx_map_put(&c->seqs, n->output[0], s);
  return true;
}

static bool bind_tensor(OnnxCtx *c, const Onnx__NodeProto *n, IrValue *v) {
  if (n->n_output && n->output[0] && *n->output[0]) onnx_map_put(&c->values, n->output[0], v);
  return true;
}

static bool elem_matches(const OnnxSeq *s, const IrValue *v, const IrLoc *loc) {
  if (s->elem == IR_ELEM_NONE || v->type.elem == s->elem) return true;
  diag_at(DIAG_ERROR, loc, "%s: a %s tensor cannot join a sequence of %s", loc->op_type,
          ir_elem_name(v->type.elem), ir_elem_name(s->elem));
  return false;
}

/* A position in [-n, n - 1 + extra]; negative counts from the back. */
static bool position(int64_t p, int n, int extra, int *out, const IrLoc *loc) {
  if (p < -(int64_t)n || p > (int64_t)n - 1 + extra) {
    diag_at(DIAG_ERROR, loc, "%s: position %lld is out of range for a sequence of %d",
            loc->op_type, (long long)p, n);
    return false;
  }
  *out = (int)(p < 0 ? p + n : p);
  return true;
}

/* x[start:end] along axis (Slice's attribute form, opset 1). */
static IrValue *slice(OnnxCtx *c, IrValue *x, int axis, int64_t start, int64_t end,
                      const IrLoc *loc) {
  IrOp *op = ir_op_new(c->m, IR_OP_SLICE, 1, &x, 1, NULL);
  ir_attr_set_ints(c->m, op, "starts", 1, &start);
  ir_attr_set_ints(c->m, op, "ends", 1, &end);
  ir_attr_set_ints(c->m, op, "axes", 1, (int64_t[]){axis});
  return onnx_emit(c, op, loc, 1);
}

/* x without its axis of size 1 (Reshape's attribute form, opset 4). */
static IrValue *drop_axis(OnnxCtx *c, IrValue *x, int axis, const IrLoc *loc) {
  int64_t shape[IR_MAX_RANK];
  for (int k = 0, j = 0; k < x->type.rank; k++)
    if (k != axis) shape[j++] = x->type.dims[k].size;
  IrOp *op = ir_op_new(c->m, IR_OP_RESHAPE, 1, &x, 1, NULL);
  ir_attr_set_ints(c->m, op, "shape", x->type.rank - 1, shape);
  return onnx_emit(c, op, loc, 4);
}

static bool split_to_sequence(OnnxCtx *c, const Onnx__NodeProto *n, const IrLoc *loc) {
  IrValue *x = tensor_in(c, n, 0, loc);
  int64_t axis, keepdims;
  if (!x || !int_attr(n, "axis", 0, &axis, loc) || !int_attr(n, "keepdims", 1, &keepdims, loc))
    return false;
  int r = x->type.rank;
  if (axis < -r || axis >= r || !ir_type_is_static(&x->type)) {
    diag_at(DIAG_ERROR, loc, "SplitToSequence: %s", axis < -r || axis >= r
            ? "axis is out of range for the input's rank" : "the input needs a static shape");
    return false;
  }
  int a = (int)(axis < 0 ? axis + r : axis);
  int64_t d = x->type.dims[a].size, sizes_buf[1], *sizes = sizes_buf;
  int64_t count;
  const char *sname = in_name(n, 1);
  IrValue *split = *sname ? tensor_in(c, n, 1, loc) : NULL;
  if (*sname && !split) return false;
  uint64_t numel = 0;
  if (split && (!ir_elem_is_int(split->type.elem) || split->type.rank > 1 || !split->weight ||
                !split->weight->data || !ir_type_numel(&split->type, &numel))) {
    diag_at(DIAG_ERROR, loc, "SplitToSequence: split must be integers known at compile time");
    return false;
  }
  if (split && split->type.rank == 1) { /* the parts' sizes */
    count = (int64_t)numel;
    sizes = ir_arena_alloc(c->m->arena, sizeof *sizes * (numel ? numel : 1));
    int64_t sum = 0;
    for (uint64_t i = 0; i < numel; i++) {
      sizes[i] = ir_elem_load_i64(split->type.elem, split->weight->data, i);
      if (sizes[i] < 0) break;
      sum += sizes[i];
    }
    if (sum != d || numel == 0) {
      diag_at(DIAG_ERROR, loc, "SplitToSequence: split sizes must be non-negative and sum to "
              "%lld, the size of axis %d", (long long)d, a);
      return false;
    }
  } else { /* one size for every part, the last one smaller */
    sizes[0] = split ? ir_elem_load_i64(split->type.elem, split->weight->data, 0) : 1;
    if (sizes[0] < 1) {
      diag_at(DIAG_ERROR, loc, "SplitToSequence: split must be positive, got %lld",
              (long long)sizes[0]);
      return false;
    }
    count = d ? (d + sizes[0] - 1) / sizes[0] : 0;
  }
  if (count > 4096) {
    diag_at(DIAG_ERROR, loc, "SplitToSequence: %lld parts; tcc supports at most 4096",
            (long long)count);
    return false;
  }
  OnnxSeq *s = seq_new(c, x->type.elem, (int)count);
  int64_t at = 0;
  for (int i = 0; i < s->n; i++) {
    int64_t len = split && split->type.rank == 1 ? sizes[i] : sizes[0];
    if (at + len > d) len = d - at;
    IrValue *part = slice(c, x, a, at, at + len, loc);
    /* keepdims applies only without split: the parts then have size 1 */
    if (part && !split && !keepdims) part = drop_axis(c, part, a, loc);
    if (!(s->items[i] = part)) return false;
    at += len;
  }
  return bind_seq(c, n, s);
}

static bool concat_from_sequence(OnnxCtx *c, const Onnx__NodeProto *n, const IrLoc *loc) {
  OnnxSeq *s = seq_in(c, n, 0, loc);
  int64_t axis, new_axis;
  if (!s || !int_attr(n, "axis", 0, &axis, loc) || !int_attr(n, "new_axis", 0, &new_axis, loc))
    return false;
  if (!attr_of(n, "axis") || s->n == 0 || (new_axis != 0 && new_axis != 1)) {
    diag_at(DIAG_ERROR, loc, "ConcatFromSequence: %s", !attr_of(n, "axis")
            ? "the attribute 'axis' is required" : s->n == 0 ? "the sequence is empty"
            : "new_axis must be 0 or 1");
    return false;
  }
  int r = s->items[0]->type.rank + (int)new_axis;
  if (axis < -r || axis >= r) {
    diag_at(DIAG_ERROR, loc, "ConcatFromSequence: axis %lld is out of range for rank %d",
            (long long)axis, r);
    return false;
  }
  int a = (int)(axis < 0 ? axis + r : axis);
  IrValue *v;
  if (new_axis) {
    v = onnx_stack(c, s->items, s->n, a, loc, "the sequence's tensors");
  } else {
    IrOp *op = ir_op_new(c->m, IR_OP_CONCAT, s->n, s->items, 1, NULL);
    ir_attr_set_int(c->m, op, "axis", a);
    v = onnx_emit(c, op, loc, 13);
  }
  return v && bind_tensor(c, n, v);
}

/* Sequence ops edit lists: each op makes a new list, as sequences are
 * values (the input stays as it was for its other users). */
static bool sequence_op(OnnxCtx *c, const Onnx__NodeProto *n, const IrLoc *loc) {
  const char *op = loc->op_type;
  int64_t p;
  bool has_p;
  int at;
  if (!strcmp(op, "SequenceEmpty")) {
    int64_t dtype;
    if (!int_attr(n, "dtype", 1, &dtype, loc)) return false;
    IrElem e = onnx_elem(dtype);
    if (e == IR_ELEM_NONE) {
      diag_at(DIAG_ERROR, loc, "SequenceEmpty: dtype %lld is not supported", (long long)dtype);
      return false;
    }
    return bind_seq(c, n, seq_new(c, e, 0));
  }
  if (!strcmp(op, "SequenceConstruct")) {
    OnnxSeq *s = seq_new(c, IR_ELEM_NONE, (int)n->n_input);
    for (int i = 0; i < s->n; i++) {
      if (!(s->items[i] = tensor_in(c, n, (size_t)i, loc)) || !elem_matches(s, s->items[i], loc))
        return false;
      s->elem = s->items[i]->type.elem;
    }
    return s->n ? bind_seq(c, n, s) : (diag_at(DIAG_ERROR, loc, "SequenceConstruct: no inputs"), false);
  }
  if (!strcmp(op, "SplitToSequence")) return split_to_sequence(c, n, loc);
  if (!strcmp(op, "ConcatFromSequence")) return concat_from_sequence(c, n, loc);
  OnnxSeq *s = seq_in(c, n, 0, loc);
  if (!s) return false;
  if (!strcmp(op, "SequenceLength")) return bind_tensor(c, n, onnx_const_int(c, IR_I64, s->n));
  if (!strcmp(op, "SequenceAt")) {
    if (!const_in(c, n, 1, "position", &p, &has_p, loc)) return false;
    if (!has_p) {
      diag_at(DIAG_ERROR, loc, "SequenceAt: the input 'position' is required");
      return false;
    }
    return position(p, s->n, 0, &at, loc) && bind_tensor(c, n, s->items[at]);
  }
  if (!strcmp(op, "SequenceInsert")) {
    IrValue *t = tensor_in(c, n, 1, loc);
    if (!t || !elem_matches(s, t, loc) || !const_in(c, n, 2, "position", &p, &has_p, loc) ||
        !position(has_p ? p : s->n, s->n, 1, &at, loc))
      return false;
    OnnxSeq *r = seq_new(c, t->type.elem, s->n + 1);
    for (int i = 0, j = 0; i < r->n; i++) r->items[i] = i == at ? t : s->items[j++];
    return bind_seq(c, n, r);
  }
  /* SequenceErase */
  if (!const_in(c, n, 1, "position", &p, &has_p, loc) || !position(has_p ? p : -1, s->n, 0, &at, loc))
    return false;
  OnnxSeq *r = seq_new(c, s->elem, s->n - 1);
  for (int i = 0, j = 0; i < s->n; i++)
    if (i != at) r->items[j++] = s->items[i];
  return bind_seq(c, n, r);
}

/* Optional(x) is x; Optional() is the empty optional; a name that is
 * neither is a tensor (optional inputs of ops may take plain tensors). */
static bool optional_op(OnnxCtx *c, const Onnx__NodeProto *n, const IrLoc *loc) {
  const char *op = loc->op_type, *name = in_name(n, 0);
  bool empty = !*name || onnx_map_get(&c->seqs, name) == &empty_optional;
  if (!strcmp(op, "Optional")) {
    if (empty) return bind_seq(c, n, &empty_optional);
    IrValue *v = tensor_in(c, n, 0, loc);
    return v && bind_tensor(c, n, v);
  }
  if (!strcmp(op, "OptionalHasElement")) {
    if (!empty && !tensor_in(c, n, 0, loc)) return false;
    return bind_tensor(c, n, onnx_const_int(c, IR_BOOL, !empty));
  }
  if (empty) { /* OptionalGetElement */
    diag_at(DIAG_ERROR, loc, "OptionalGetElement: the optional is empty");
    return false;
  }
  IrValue *v = tensor_in(c, n, 0, loc);
  return v && bind_tensor(c, n, v);
}

bool onnx_sequence_node(OnnxCtx *c, const Onnx__NodeProto *n, const IrLoc *loc) {
  if (!c->seqs.arena) onnx_map_init(&c->seqs, c->m->arena);
  return !strncmp(loc->op_type, "Optional", 8) ? optional_op(c, n, loc) : sequence_op(c, n, loc);
}
