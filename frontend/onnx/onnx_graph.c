/* onnx_graph.c — ONNX nodes -> tensor-level ops, in topological order.
 *
 * ONNX requires nodes in topological order but files in the wild break the
 * rule, so we sort: an iterative depth-first walk from each node in file
 * order emits a node right after its producers, which keeps file order
 * wherever it is already valid and finds cycles (a node met again while it
 * is still on the stack).  Each node then becomes one op: operands and
 * results by name, attributes copied, and the op's own import and infer
 * hooks canonicalize it and type its results.  Outputs become `return`. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_int.h"

/* ------------------------------------------------------------ value map */
static size_t map_hash(const char *s) {
  size_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

void onnx_map_init(OnnxMap *mp, IrArena *a) {
  memset(mp, 0, sizeof *mp);
  mp->arena = a;
}

void *onnx_map_get(const OnnxMap *mp, const char *key) {
  if (!mp->cap) return NULL;
  for (size_t i = map_hash(key) & (mp->cap - 1);; i = (i + 1) & (mp->cap - 1)) {
    if (!mp->keys[i]) return NULL;
    if (!strcmp(mp->keys[i], key)) return mp->vals[i];
  }
}

static void map_grow(OnnxMap *mp) {
  OnnxMap old = *mp;
  mp->cap = old.cap ? old.cap * 2 : 64;
  mp->len = 0;
  mp->keys = ir_arena_alloc(mp->arena, sizeof *mp->keys * mp->cap);
  mp->vals = ir_arena_alloc(mp->arena, sizeof *mp->vals * mp->cap);
  for (size_t i = 0; i < old.cap; i++)
    if (old.keys[i]) onnx_map_put(mp, old.keys[i], old.vals[i]);
}

void onnx_map_put(OnnxMap *mp, const char *key, void *val) {
  if (2 * (mp->len + 1) > mp->cap) map_grow(mp);
  size_t i = map_hash(key) & (mp->cap - 1);
  while (mp->keys[i] && strcmp(mp->keys[i], key)) i = (i + 1) & (mp->cap - 1);
  if (!mp->keys[i]) mp->len++;
  mp->keys[i] = key;
  mp->vals[i] = val;
}

/* ------------------------------------------------------- topological sort */
typedef struct Topo {
  OnnxMap producer;   /* value name -> node index + 1 */
  unsigned char *state; /* 0 new, 1 on stack, 2 emitted */
  size_t *order, num_order;
  size_t *stack, *next_in;
} Topo;

static const char *node_out(const Onnx__NodeProto *n, size_t i) {
  return n->output[i] ? n->output[i] : "";
}
static const char *node_in(const Onnx__NodeProto *n, size_t i) {
  return n->input[i] ? n->input[i] : "";
}

/* Records each node's outputs; a name defined twice is an error. */
static bool topo_producers(OnnxCtx *c, Topo *t) {
  for (size_t i = 0; i < c->g->n_node; i++) {
    const Onnx__NodeProto *n = c->g->node[i];
    for (size_t k = 0; k < n->n_output; k++) {
      const char *o = node_out(n, k);
      if (!*o) continue;
      IrValue *v = onnx_map_get(&c->values, o);
      uintptr_t p = (uintptr_t)onnx_map_get(&t->producer, o);
      if (v || p) {
        IrLoc loc = onnx_node_loc(c, n);
        const Onnx__NodeProto *pn = p ? c->g->node[p - 1] : NULL;
        diag_at(DIAG_ERROR, &loc, "output '%s' is already defined %s%s%s", o,
                pn ? "by node '" : v->weight ? "as an initializer" : "as a graph input",
                pn ? (pn->name ? pn->name : "") : "", pn ? "'" : "");
        return false;
      }
      onnx_map_put(&t->producer, o, (void *)(i + 1));
    }
  }
  return true;
}

/* Depth-first from node `root`, emitting producers before consumers. */
static bool topo_visit(OnnxCtx *c, Topo *t, size_t root) {
  size_t sp = 0;
  t->stack[sp] = root, t->next_in[sp++] = 0, t->state[root] = 1;
  while (sp) {
    size_t i = t->stack[sp - 1];
    const Onnx__NodeProto *n = c->g->node[i];
    if (t->next_in[sp - 1] == n->n_input) {
      t->state[i] = 2, t->order[t->num_order++] = i, sp--;
      continue;
    }
    const char *in = node_in(n, t->next_in[sp - 1]++);
    uintptr_t p = *in ? (uintptr_t)onnx_map_get(&t->producer, in) : 0;
    if (!p || t->state[p - 1] == 2) continue;
    if (t->state[p - 1] == 1) {
      IrLoc loc = onnx_node_loc(c, c->g->node[p - 1]);
      diag_at(DIAG_ERROR, &loc, "the graph has a cycle through this node "
              "(via value '%s')", in);
      return false;
    }
    t->state[p - 1] = 1;
    t->stack[sp] = p - 1, t->next_in[sp++] = 0;
  }
  return true;
}

static bool topo_sort(OnnxCtx *c, Topo *t) {
  IrArena *a = c->m->arena;
  size_t n = c->g->n_node ? c->g->n_node : 1;
  onnx_map_init(&t->producer, a);
  t->state = ir_arena_alloc(a, n);
  t->order = ir_arena_alloc(a, n * sizeof *t->order);
  t->stack = ir_arena_alloc(a, n * sizeof *t->stack);
  t->next_in = ir_arena_alloc(a, n * sizeof *t->next_in);
  if (!topo_producers(c, t)) return false;
  for (size_t i = 0; i < c->g->n_node; i++)
    if (!t->state[i] && !topo_visit(c, t, i)) return false;
  return true;
}

/* ------------------------------------------------------------ attributes */
/* The shortest decimal that reads back as f, as a double: 1e-05f becomes
 * 1e-05 rather than 9.99999974737875e-06, which is what the author wrote. */
static double float_to_double(float f) {
  char buf[32];
  if (!isfinite(f)) return f;
  for (int p = 1; p <= 9; p++) {
    snprintf(buf, sizeof buf, "%.*g", p, (double)f);
    if (strtof(buf, NULL) == f) return strtod(buf, NULL);
  }
  return f;
}

static Onnx__AttributeProto__AttributeType attr_kind(const Onnx__AttributeProto *a) {
  if (a->has_type) return a->type;
  if (a->has_f) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  if (a->has_i) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  if (a->has_s) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  if (a->t) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
  if (a->g) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
  if (a->n_floats) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
  if (a->n_ints) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  if (a->n_strings) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
  if (a->n_graphs) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS;
  return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

static const char *bytes_str(IrArena *ar, ProtobufCBinaryData b) {
  return b.data ? ir_arena_strndup(ar, (const char *)b.data, b.len) : "";
}

/* A TENSOR attribute -> weight "<node>_<attr>" and STRING "$weight". */
static bool attr_tensor(OnnxCtx *c, const Onnx__NodeProto *n, IrOp *op,
                        const Onnx__AttributeProto *a, const IrLoc *loc) {
  IrArena *ar = c->m->arena;
  const char *node = n->name && *n->name ? n->name : n->op_type ? n->op_type : "";
  const char *hint = ir_arena_printf(ar, "%s_%s", node, a->name);
  const char *label = ir_arena_printf(ar, "attribute '%s'", a->name);
  IrWeight *w = a->t ? onnx_weight_from_tensor(c, a->t, hint, loc, label) : NULL;
  if (!a->t) diag_at(DIAG_ERROR, loc, "attribute '%s' has no tensor", a->name);
  if (!w) return false;
  ir_attr_set_string(c->m, op, a->name, ir_arena_printf(ar, "$%s", w->name));
  return true;
}

static bool attr_one(OnnxCtx *c, const Onnx__NodeProto *n, IrOp *op,
                     const Onnx__AttributeProto *a, const IrLoc *loc) {
  IrModule *m = c->m;
  switch (attr_kind(a)) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
    ir_attr_set_int(m, op, a->name, a->i);
    return true;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
    ir_attr_set_float(m, op, a->name, float_to_double(a->f));
    return true;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
    ir_attr_set_string(m, op, a->name, bytes_str(m->arena, a->s));
    return true;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
    ir_attr_set_ints(m, op, a->name, (int)a->n_ints, a->ints);
    return true;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: {
    double *d = ir_arena_alloc(m->arena, sizeof *d * (a->n_floats + 1));
    for (size_t i = 0; i < a->n_floats; i++) d[i] = float_to_double(a->floats[i]);
    ir_attr_set_floats(m, op, a->name, (int)a->n_floats, d);
    return true;
  }
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: {
    const char **s = ir_arena_alloc(m->arena, sizeof *s * (a->n_strings + 1));
    for (size_t i = 0; i < a->n_strings; i++) s[i] = bytes_str(m->arena, a->strings[i]);
    ir_attr_set_strings(m, op, a->name, (int)a->n_strings, s);
    return true;
  }
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
    return attr_tensor(c, n, op, a, loc);
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS:
    diag_at(DIAG_ERROR, loc, "attribute '%s': subgraph attributes are not "
            "supported yet", a->name);
    return false;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED:
    diag_at(DIAG_ERROR, loc, "attribute '%s' has no value", a->name);
    return false;
  default:
    diag_at(DIAG_ERROR, loc, "attribute '%s': attributes of kind %d (sparse "
            "tensors, tensor lists, types) are not supported", a->name,
            (int)attr_kind(a));
    return false;
  }
}

/* Attribute and symbol names must lex as an IR identifier for the printed
 * IR to parse back: [A-Za-z_][A-Za-z0-9_.]*, but not the numbers inf, nan. */
bool onnx_ir_name_ok(const char *s) {
  if (!strcmp(s, "inf") || !strcmp(s, "nan")) return false;
  for (const char *p = s; *p; p++) {
    bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_';
    if (!alpha && (p == s || !((*p >= '0' && *p <= '9') || *p == '.'))) return false;
  }
  return true;
}

static bool node_attrs(OnnxCtx *c, const Onnx__NodeProto *n, IrOp *op,
                       const IrLoc *loc) {
  for (size_t i = 0; i < n->n_attribute; i++) {
    const Onnx__AttributeProto *a = n->attribute[i];
    if (!a->name || !*a->name) {
      diag_at(DIAG_ERROR, loc, "attribute %zu has no name", i);
      return false;
    }
    if (!onnx_ir_name_ok(a->name)) {
      diag_at(DIAG_ERROR, loc, "attribute %zu has an invalid name (expected "
              "letters, digits, '_' and '.', not starting with a digit)", i);
      return false;
    }
    if (ir_attr_get(op, a->name)) {
      diag_at(DIAG_ERROR, loc, "attribute '%s' is given twice", a->name);
      return false;
    }
    if (a->n_ints > INT_MAX || a->n_floats > INT_MAX || a->n_strings > INT_MAX) {
      diag_at(DIAG_ERROR, loc, "attribute '%s' is too long", a->name);
      return false;
    }
    if (!attr_one(c, n, op, a, loc)) return false;
  }
  return true;
}

/* ------------------------------------------------------------------ nodes */
static bool check_count(const IrLoc *loc, const char *what, size_t n, int lo,
                        int hi, const char *op_type) {
  if (n >= (size_t)lo && (hi < 0 || n <= (size_t)hi) && n <= INT_MAX)
    return true;
  const char *s = (hi < 0 ? lo != 1 : hi != 1) ? "s" : ""; /* 1 input */
  if (hi < 0)
    diag_at(DIAG_ERROR, loc, "%s takes at least %d %s%s, got %zu", op_type, lo,
            what, s, n);
  else if (lo == hi)
    diag_at(DIAG_ERROR, loc, "%s takes %d %s%s, got %zu", op_type, lo, what, s,
            n);
  else
    diag_at(DIAG_ERROR, loc, "%s takes %d to %d %s%s, got %zu", op_type, lo, hi,
            what, s, n);
  return false;
}

/* Operands by name: "" is an absent optional input, trailing ones dropped. */
static IrValue **node_operands(OnnxCtx *c, const Onnx__NodeProto *n,
                               const IrLoc *loc, size_t *count) {
  size_t k = n->n_input;
  while (k && !*node_in(n, k - 1)) k--;
  IrValue **v = ir_arena_alloc(c->m->arena, sizeof *v * (k + 1));
  for (size_t i = 0; i < k; i++) {
    const char *in = node_in(n, i);
    if (!*in) continue;
    v[i] = onnx_map_get(&c->values, in);
    if (!v[i]) {
      diag_at(DIAG_ERROR, loc, "input '%s' is not produced by any node, "
              "initializer or graph input", in);
      return NULL;
    }
  }
  *count = k;
  return v;
}

static bool bind_results(OnnxCtx *c, const Onnx__NodeProto *n, IrOp *op,
                         const IrLoc *loc) {
  for (int i = 0; i < op->num_results; i++) {
    const char *o = (size_t)i < n->n_output ? node_out(n, (size_t)i) : "";
    if (op->results[i]->type.kind == IR_TYPE_NONE) {
      diag_at(DIAG_ERROR, loc, "internal: result %d has no type after infer", i);
      return false;
    }
    /* Ops compute shapes from data (Expand, ConstantOfShape, Resize...):
     * the limit that holds for inputs and weights holds here too. */
    char ts[256];
    const IrType *t = &op->results[i]->type;
    ir_type_str(c->m, t, ts, sizeof ts);
    const char *label =
        *o ? ir_arena_printf(c->m->arena, "output '%s' (%s)", o, ts)
           : ir_arena_printf(c->m->arena, "output %d (%s)", i, ts);
    if (t->kind == IR_TYPE_TENSOR && !onnx_check_numel(t, loc, label, NULL))
      return false;
    if (!*o) continue;
    op->results[i]->name = o;
    onnx_map_put(&c->values, o, op->results[i]);
  }
  return true;
}

static bool node_to_op(OnnxCtx *c, const Onnx__NodeProto *n) {
  IrLoc loc = onnx_node_loc(c, n);
  const char *op_type = loc.op_type;
  if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx")) {
    loc.opset = 0;
    diag_at(DIAG_ERROR, &loc, "operator domain '%s' is not supported (tcc "
            "supports only the default domain 'ai.onnx')", n->domain);
    return false;
  }
  if (!strcmp(op_type, "Constant")) {
    IrValue *v = onnx_weight_constant(c, n);
    if (v) onnx_map_put(&c->values, n->output[0], v);
    return v != NULL;
  }
  int kind = ir_op_by_onnx(op_type);
  if (kind == IR_OP_COUNT) {
    diag_at(DIAG_ERROR, &loc, "unsupported operator '%s'", op_type);
    return false;
  }
  const IrOpInfo *info = ir_op_info(kind);
  size_t nin, nout = n->n_output;
  while (nout && !*node_out(n, nout - 1)) nout--;
  IrValue **ins = node_operands(c, n, &loc, &nin);
  if (!ins || !check_count(&loc, "input", nin, info->min_operands,
                           info->max_operands, op_type) ||
      !check_count(&loc, "output", nout, info->min_results, info->max_results,
                   op_type))
    return false;
  IrOp *op = ir_op_new(c->m, (IrOpKind)kind, (int)nin, ins, (int)nout, NULL);
  op->loc = loc;
  if (!node_attrs(c, n, op, &loc)) return false;
  ir_block_append(c->m->main->body, op);
  if (!info->import(c->m, op, c->opset) || !info->infer(c->m, op) ||
      !bind_results(c, n, op, &loc))
    return false;
  /* Fold as we go, so an op that needs a constant operand (Reshape's shape
   * computed by Shape -> Gather -> Concat) finds a weight. */
  IrValue *folded[16];
  if (!ir_foldable(op)) return true;
  if (!ir_fold_op(c->m, op, folded)) return false;
  for (int i = 0; i < op->num_results; i++)
    if (op->results[i]->name) onnx_map_put(&c->values, op->results[i]->name, folded[i]);
  return true;
}

/* --------------------------------------------------------------- outputs */
/* "f16[1,N,?]" from an output's declaration. */
static const char *declared_str(OnnxCtx *c, const Onnx__TypeProto__Tensor *tt) {
  IrElem e = onnx_elem(tt->elem_type);
  char *s = ir_arena_printf(c->m->arena, "%s", e ? ir_elem_name(e)
                                                 : onnx_dtype_name(tt->elem_type));
  if (!tt->shape) return s;
  s = ir_arena_printf(c->m->arena, "%s[", s);
  for (size_t k = 0; k < tt->shape->n_dim && k < IR_MAX_RANK + 1; k++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[k];
    const char *sep = k ? "," : "";
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
      s = ir_arena_printf(c->m->arena, "%s%s%lld", s, sep, (long long)d->dim_value);
    else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
      s = ir_arena_printf(c->m->arena, "%s%s%s", s, sep, d->dim_param ? d->dim_param : "?");
    else
      s = ir_arena_printf(c->m->arena, "%s%s?", s, sep);
  }
  return ir_arena_printf(c->m->arena, "%s]", s);
}

/* Does the declaration agree with the computed type?  Unknown parts match. */
static bool declared_matches(OnnxCtx *c, const Onnx__TypeProto__Tensor *tt,
                             const IrType *t) {
  if (tt->elem_type && onnx_elem(tt->elem_type) != t->elem) return false;
  if (!tt->shape) return true;
  if (tt->shape->n_dim != (size_t)t->rank) return false;
  for (int k = 0; k < t->rank; k++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[k];
    int64_t want = -1;
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
      want = d->dim_value;
    else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
             d->dim_param) {
      int s = ir_sym_find(c->m, d->dim_param);
      want = s >= 0 ? c->m->syms[s].value : -1;
    }
    if (want >= 0 && t->dims[k].sym < 0 && t->dims[k].size != want) return false;
  }
  return true;
}

static IrValue *output_value(OnnxCtx *c, const Onnx__ValueInfoProto *vi) {
  IrLoc loc = onnx_file_loc(c);
  const char *name = vi->name ? vi->name : "";
  IrValue *v = *name ? onnx_map_get(&c->values, name) : NULL;
  if (!v) {
    diag_at(DIAG_ERROR, &loc, "output '%s' is not produced by any node, "
            "initializer or graph input", name);
    return NULL;
  }
  const Onnx__TypeProto *tp = vi->type;
  if (tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
      tp->tensor_type && !declared_matches(c, tp->tensor_type, &v->type)) {
    char ts[512];
    diag_at(DIAG_ERROR, &loc, "output '%s': the model declares %s but the "
            "graph computes %s", name, declared_str(c, tp->tensor_type),
            ir_type_str(c->m, &v->type, ts, sizeof ts));
    return NULL;
  }
  return v;
}

static bool build_outputs(OnnxCtx *c) {
  IrFunc *f = c->m->main;
  size_t n = c->g->n_output;
  if (n > INT_MAX) return false;
  IrValue **vals = ir_arena_alloc(c->m->arena, sizeof *vals * (n + 1));
  f->output_names = ir_arena_alloc(c->m->arena, sizeof(char *) * (n + 1));
  f->output_types = ir_arena_alloc(c->m->arena, sizeof(IrType) * (n + 1));
  for (size_t i = 0; i < n; i++) {
    if (!(vals[i] = output_value(c, c->g->output[i]))) return false;
    f->output_names[i] = c->g->output[i]->name;
    f->output_types[i] = vals[i]->type;
  }
  f->num_outputs = (int)n;
  IrOp *ret = ir_op_new(c->m, IR_OP_RETURN, (int)n, vals, 0, NULL);
  ret->loc = onnx_file_loc(c);
  ir_block_append(f->body, ret);
  return true;
}

bool onnx_graph_build(OnnxCtx *c) {
  Topo t = {0};
  if (!topo_sort(c, &t)) return false;
  for (size_t i = 0; i < t.num_order; i++)
    if (!node_to_op(c, c->g->node[t.order[i]])) return false;
  return build_outputs(c);
}
