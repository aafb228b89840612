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
static size_t map_hash(const char *s) { return (size_t)ir_hash(IR_HASH_START, s, strlen(s)); }

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
  w->structural = true;
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

static const char *attr_kind_name(int k) {
  static const char *const names[] = {"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR",
                                      "GRAPH", "FLOATS", "INTS", "STRINGS", "TENSORS",
                                      "GRAPHS", "SPARSE_TENSOR", "SPARSE_TENSORS",
                                      "TYPE_PROTO", "TYPE_PROTOS"};
  return k >= 0 && k < (int)(sizeof names / sizeof *names) ? names[k] : "unknown";
}

/* onnx.checker's attribute rule: one value field, and the declared type
 * (when given) is that field's.  tcc reads the value by the type, so a
 * disagreement would silently pick one of two meanings. */
static bool attr_fields_ok(const Onnx__AttributeProto *a, const IrLoc *loc) {
  const struct {
    bool set;
    int kind;
  } f[] = {{a->has_f, 1},         {a->has_i, 2},         {a->has_s, 3},
           {a->t != NULL, 4},      {a->g != NULL, 5},     {a->n_floats > 0, 6},
           {a->n_ints > 0, 7},     {a->n_strings > 0, 8}, {a->n_tensors > 0, 9},
           {a->n_graphs > 0, 10},  {a->sparse_tensor != NULL, 11},
           {a->n_sparse_tensors > 0, 12}, {a->tp != NULL, 13}, {a->n_type_protos > 0, 14}};
  int first = -1;
  for (size_t k = 0; k < sizeof f / sizeof *f; k++) {
    if (!f[k].set) continue;
    if (first >= 0) {
      diag_at(DIAG_ERROR, loc, "attribute '%s' holds more than one value (%s and %s)",
              a->name, attr_kind_name(first), attr_kind_name(f[k].kind));
      return false;
    }
    first = f[k].kind;
  }
  if (a->has_type && first >= 0 && (int)a->type != first) {
    diag_at(DIAG_ERROR, loc, "attribute '%s' is declared %s but holds a %s value", a->name,
            attr_kind_name((int)a->type), attr_kind_name(first));
    return false;
  }
  return true;
}

/* The attribute names of each op's schema versions up to ONNX_MAX_OPSET
 * (frontend/onnx/gen_attrs.py writes the table from onnx.defs and onnx
 * 1.23's operator changelog). */
typedef struct OpSchemaRow {
  const char *op;
  int since;
  const char *attrs; /* comma-separated */
} OpSchemaRow;

static const OpSchemaRow op_schemas[] = {
#include "onnx_attrs.inc"
};

static bool name_listed(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; *p;) {
    size_t k = strcspn(p, ",");
    if (k == n && !strncmp(p, name, n)) return true;
    p += k + (p[k] == ',');
  }
  return false;
}

/* The schema row of op at the model's opset (the latest version at or
 * below it); NULL when the op has no row, or (*first > 0) did not exist yet
 * at that opset: *first is its first version, 0 when it has no row. */
static const OpSchemaRow *schema_row(const OnnxCtx *c, const char *op, int *first) {
  const OpSchemaRow *row = NULL;
  *first = 0;
  for (size_t i = 0; i < sizeof op_schemas / sizeof *op_schemas; i++) {
    if (strcmp(op_schemas[i].op, op)) continue;
    if (!*first) *first = op_schemas[i].since;
    if (op_schemas[i].since <= c->opset) row = &op_schemas[i];
  }
  return row;
}

/* onnx.checker's schema rule: the op exists at the model's opset.  Ops
 * without a row are left to the unsupported-operator error. */
static bool schema_op_ok(const OnnxCtx *c, const IrLoc *loc) {
  int first;
  if (schema_row(c, loc->op_type, &first) || !first) return true;
  diag_at(DIAG_ERROR, loc, "%s does not exist at opset %d (ONNX introduced it in opset %d)",
          loc->op_type, c->opset, first);
  return false;
}

/* ...and every attribute is one of its schema's: a misspelled optional
 * attribute would otherwise take its default silently.  Runs after the
 * structural checks of onnx_node_attrs, whose messages are more specific. */
static bool schema_attrs_ok(const OnnxCtx *c, const Onnx__NodeProto *n, const IrLoc *loc) {
  int first;
  const OpSchemaRow *row = schema_row(c, loc->op_type, &first);
  for (size_t i = 0; row && i < n->n_attribute; i++) {
    const char *a = n->attribute[i]->name;
    if (!a || name_listed(row->attrs, a)) continue;
    char list[512] = "";
    size_t k = 0;
    for (const char *p = row->attrs; *p && k + 3 < sizeof list; p++)
      k += (size_t)snprintf(list + k, sizeof list - k, *p == ',' ? ", " : "%c", *p);
    diag_at(DIAG_ERROR, loc, "%s has no attribute '%s' at opset %d (%s%s)", loc->op_type, a,
            c->opset, *row->attrs ? "its attributes: " : "it has none", list);
    return false;
  }
  return true;
}

bool onnx_node_attrs(OnnxCtx *c, const Onnx__NodeProto *n, IrOp *op, const IrLoc *loc) {
  for (size_t i = 0; i < n->n_attribute; i++) {
    const Onnx__AttributeProto *a = n->attribute[i];
    if (!a->name || !*a->name) {
      diag_at(DIAG_ERROR, loc, "attribute %zu has no name", i);
      return false;
    }
    if (!attr_fields_ok(a, loc)) return false;
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
IrValue **onnx_node_operands(OnnxCtx *c, const Onnx__NodeProto *n, const IrLoc *loc,
                             size_t *count) {
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
    if (t->kind == IR_TYPE_TENSOR && !onnx_check_numel_bound(c->m, t, loc, label, NULL))
      return false;
    if (!*o) continue;
    op->results[i]->name =
        c->iter_suffix ? ir_arena_printf(c->m->arena, "%s%s", o, c->iter_suffix) : o;
    onnx_map_put(&c->values, o, op->results[i]);
  }
  return true;
}

static bool control_node(OnnxCtx *c, const Onnx__NodeProto *n, IrLoc *loc);

/* ------------------------------------------------- symbolic shape values */
/* With run-time dims (-dim=seq=1..512), exporters compute reshape targets
 * from Shape(x) at run time: Shape -> Gather -> Unsqueeze -> Concat ->
 * Reshape, with Mul/Div/Add/Cast/Slice on the way.  Such a value is small
 * and depends only on x's TYPE, so it is evaluated here, element by
 * element, each a constant or k*sym.  It never becomes an IR value: a
 * value whose elements all turn out constant becomes a weight (and folding
 * goes on as usual); one that reaches Reshape or Expand as the shape is
 * spelled in their int attribute (a sym dim is 0 "copy" or -1 "inferred"
 * for Reshape, 1 "keep" for Expand) and the result type is checked against
 * it; one that reaches Slice's starts/ends, Range's limit,
 * ConstantOfShape's shape or Tile's repeats goes in as factors plus an
 * `<input>_sym` attribute (sym_operands).  Any other use is an error naming
 * the node. */
typedef struct SymEl {
  int64_t k; /* the constant, or the sym's factor */
  int sym;   /* IrModule sym, or -1 for a constant */
} SymEl;

typedef struct SymVal {
  IrElem elem;
  int rank; /* 0 or 1 */
  int n;    /* elements (1 when rank 0) */
  SymEl e[IR_MAX_RANK];
} SymVal;

static SymVal *sym_get(OnnxCtx *c, const char *name) {
  if (!*name || onnx_map_get(&c->values, name) || !c->symvals.arena) return NULL;
  return onnx_map_get(&c->symvals, name);
}

static bool sym_is_const(const SymVal *s) {
  for (int i = 0; i < s->n; i++)
    if (s->e[i].sym >= 0) return false;
  return true;
}

/* "[seq,4,64]" / "seq*2". */
static const char *sym_str(OnnxCtx *c, const SymVal *s) {
  char *out = ir_arena_printf(c->m->arena, "%s", s->rank ? "[" : "");
  for (int i = 0; i < s->n; i++) {
    const SymEl *e = &s->e[i];
    const char *sep = i ? "," : "";
    if (e->sym < 0)
      out = ir_arena_printf(c->m->arena, "%s%s%lld", out, sep, (long long)e->k);
    else if (e->k == 1)
      out = ir_arena_printf(c->m->arena, "%s%s%s", out, sep, c->m->syms[e->sym].name);
    else
      out = ir_arena_printf(c->m->arena, "%s%s%s*%lld", out, sep, c->m->syms[e->sym].name,
                            (long long)e->k);
  }
  return ir_arena_printf(c->m->arena, "%s%s", out, s->rank ? "]" : "");
}

/* A small integer constant (rank <= 1, at most 16 elements) as a SymVal. */
static bool sym_from_weight(const IrValue *v, SymVal *s) {
  uint64_t n = 0;
  const IrType *t = &v->type;
  if (!v->weight || !v->weight->data || t->rank > 1 ||
      !(ir_elem_is_int(t->elem) || t->elem == IR_BOOL) || !ir_type_numel(t, &n) ||
      n > IR_MAX_RANK || (t->rank == 0 && n != 1) ||
      v->weight->nbytes < n * ir_elem_size(t->elem))
    return false;
  *s = (SymVal){.elem = t->elem, .rank = t->rank, .n = (int)n};
  for (uint64_t i = 0; i < n; i++)
    s->e[i] = (SymEl){ir_elem_load_i64(t->elem, v->weight->data, i), -1};
  return true;
}

/* Binds output 0 of n: a weight when every element is known, else a
 * symbolic value. */
static bool sym_bind(OnnxCtx *c, const Onnx__NodeProto *n, const SymVal *s) {
  const char *o = n->n_output ? node_out(n, 0) : "";
  if (!*o) return true;
  if (!sym_is_const(s)) {
    SymVal *copy = ir_arena_alloc(c->m->arena, sizeof *copy);
    *copy = *s;
    onnx_map_put(&c->values, o, NULL);
    onnx_map_put(&c->symvals, o, copy);
    return true;
  }
  unsigned char data[IR_MAX_RANK * 8];
  int64_t dims[1] = {s->n};
  for (int i = 0; i < s->n; i++) ir_elem_store_i64(s->elem, data, (size_t)i, s->e[i].k);
  IrWeight *w = ir_weight_add(c->m, onnx_weight_name(c, o),
                              ir_type_tensor(s->elem, s->rank, dims), data,
                              (size_t)s->n * ir_elem_size(s->elem), true);
  w->structural = true;
  onnx_map_put(&c->values, o, w->value);
  return true;
}

/* Attribute `name` of node n, or NULL. */
static const Onnx__AttributeProto *node_attr(const Onnx__NodeProto *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; i++)
    if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name))
      return n->attribute[i];
  return NULL;
}

/* Input i as a SymVal: symbolic, or a small integer constant; absent
 * inputs give false with *absent set. */
static bool sym_input(OnnxCtx *c, const Onnx__NodeProto *n, size_t i, SymVal *s,
                      bool *absent) {
  const char *in = i < n->n_input ? node_in(n, i) : "";
  if (absent) *absent = !*in;
  if (!*in) return false;
  SymVal *sv = sym_get(c, in);
  if (sv) {
    *s = *sv;
    return true;
  }
  IrValue *v = onnx_map_get(&c->values, in);
  return v && sym_from_weight(v, s);
}

/* An int list from attribute `name` or (opset >= from) constant input i. */
static bool sym_ints(OnnxCtx *c, const Onnx__NodeProto *n, const char *name, size_t i,
                     int from, int64_t *v, int *count) {
  *count = -1;
  if (c->opset >= from) {
    SymVal s;
    bool absent;
    if (!sym_input(c, n, i, &s, &absent)) return absent;
    if (!sym_is_const(&s)) return false;
    *count = s.n;
    for (int k = 0; k < s.n; k++) v[k] = s.e[k].k;
    return true;
  }
  const Onnx__AttributeProto *a = node_attr(n, name);
  if (!a) return true;
  if (a->n_ints > IR_MAX_RANK) return false;
  *count = (int)a->n_ints;
  for (size_t k = 0; k < a->n_ints; k++) v[k] = a->ints[k];
  return true;
}

/* a OP b on one element pair; false when the result is not a constant or
 * k*sym (seq*seq, seq+1, seq/2 ...). */
static bool sym_arith(char op, SymEl a, SymEl b, SymEl *r) {
  int64_t x;
  if (a.sym < 0 && b.sym < 0) {
    if (op == '/' && (b.k == 0 || (a.k == INT64_MIN && b.k == -1))) return false;
    if (op == '+' ? __builtin_add_overflow(a.k, b.k, &x)
        : op == '-' ? __builtin_sub_overflow(a.k, b.k, &x)
        : op == '*' ? __builtin_mul_overflow(a.k, b.k, &x) : (x = a.k / b.k, false))
      return false; /* a hostile constant: refused, never wrapped */
    *r = (SymEl){x, -1};
    return true;
  }
  switch (op) {
  case '+': case '-': {
    if (b.sym < 0 && b.k == 0) return *r = a, true;
    if (a.sym < 0 && a.k == 0 && op == '+') return *r = b, true;
    if (a.sym != b.sym || b.k == INT64_MIN) return false;
    if (__builtin_add_overflow(a.k, op == '-' ? -b.k : b.k, &x)) return false;
    *r = x ? (SymEl){x, a.sym} : (SymEl){0, -1};
    return true;
  }
  case '*':
    if (a.sym >= 0 && b.sym >= 0) return false;
    if (a.sym < 0) { SymEl t = a; a = b; b = t; }
    if (__builtin_mul_overflow(a.k, b.k, &x)) return false;
    *r = b.k ? (SymEl){x, a.sym} : (SymEl){0, -1};
    return true;
  default: /* '/': exact at every size only when the factor divides */
    if (b.sym >= 0 || b.k == 0 || b.k == -1 || a.k % b.k) return false;
    *r = (SymEl){a.k / b.k, a.sym};
    return true;
  }
}

/* a == b on one element pair, when the answer is the same at every size
 * the sym can have; false when it is not. */
static bool sym_equal(OnnxCtx *c, SymEl a, SymEl b, SymEl *r) {
  if (a.sym < 0 && b.sym < 0) return *r = (SymEl){a.k == b.k, -1}, true;
  if (a.sym < 0) { SymEl t = a; a = b; b = t; }
  const IrSym *s = &c->m->syms[a.sym];
  if (b.sym >= 0) { /* k1*x == k2*y */
    if (b.sym == a.sym && b.k == a.k) return *r = (SymEl){1, -1}, true;
    if (b.sym != a.sym || s->lo < 1) return false;
    return *r = (SymEl){0, -1}, true; /* k1 != k2 and x > 0 */
  }
  /* k*x == b: false when b is outside k*[lo, hi] or not a multiple of k */
  if (s->hi < 0 || (s->hi > 0 && (a.k > INT64_MAX / s->hi || a.k < -(INT64_MAX / s->hi))))
    return false; /* unbounded, or k*hi overflows */
  int64_t lo = a.k * s->lo, hi = a.k * s->hi;
  if (lo > hi) { int64_t t = lo; lo = hi; hi = t; }
  bool multiple = a.k == 1 || a.k == -1 || b.k % a.k == 0;
  if (b.k >= lo && b.k <= hi && multiple) return false;
  return *r = (SymEl){0, -1}, true;
}

/* Evaluates node n (some input symbolic, or Shape of a run-time tensor)
 * into *r; false when it cannot (the caller names the node). */
static bool sym_eval(OnnxCtx *c, const Onnx__NodeProto *n, const char *op, SymVal *r) {
  SymVal a, b;
  int64_t v[IR_MAX_RANK], v2[IR_MAX_RANK], v3[IR_MAX_RANK], v4[IR_MAX_RANK];
  int cnt, cnt2, cnt3, cnt4;
  const Onnx__AttributeProto *at;
  if (!strcmp(op, "Shape") && (a = (SymVal){0}, sym_input(c, n, 0, &a, NULL))) {
    *r = (SymVal){.elem = IR_I64, .rank = 1, .n = a.rank, .e = {{a.n, -1}}};
    return true; /* the shape of a shape value: a constant */
  }
  if (!strcmp(op, "Shape")) {
    IrValue *x = onnx_map_get(&c->values, node_in(n, 0));
    int rank = x->type.rank;
    int64_t s = (at = node_attr(n, "start")) ? at->i : 0;
    int64_t e = (at = node_attr(n, "end")) ? at->i : rank;
    s = s < 0 ? s + rank : s, e = e < 0 ? e + rank : e;
    s = s < 0 ? 0 : s > rank ? rank : s, e = e < s ? s : e > rank ? rank : e;
    *r = (SymVal){.elem = IR_I64, .rank = 1, .n = (int)(e - s)};
    for (int64_t i = s; i < e; i++) {
      IrDim d = x->type.dims[i];
      int64_t fixed = ir_dim_fixed(c->m, d);
      r->e[i - s] = fixed >= 0 ? (SymEl){fixed, -1} : (SymEl){1, d.sym};
    }
    return true;
  }
  if (!sym_input(c, n, 0, &a, NULL)) return false;
  if (!strcmp(op, "Neg")) { /* x[:, -seq:] */
    *r = a;
    for (int i = 0; i < a.n; i++)
      if (a.e[i].k == INT64_MIN) return false;
      else r->e[i].k = -a.e[i].k;
    return true;
  }
  if (!strcmp(op, "Identity") || !strcmp(op, "Cast")) {
    at = node_attr(n, "to");
    IrElem to = at ? onnx_elem(at->i) : a.elem;
    if (!ir_elem_is_int(to)) return false;
    *r = a, r->elem = to;
    return true;
  }
  if (!strcmp(op, "Gather")) {
    at = node_attr(n, "axis");
    if (a.rank != 1 || (at && at->i != 0 && at->i != -1) || !sym_input(c, n, 1, &b, NULL) ||
        !sym_is_const(&b))
      return false;
    *r = (SymVal){.elem = a.elem, .rank = b.rank, .n = b.n};
    for (int i = 0; i < b.n; i++) {
      int64_t k = b.e[i].k < 0 ? b.e[i].k + a.n : b.e[i].k;
      if (k < 0 || k >= a.n) return false;
      r->e[i] = a.e[k];
    }
    return true;
  }
  if (!strcmp(op, "Unsqueeze") || !strcmp(op, "Squeeze")) {
    bool un = op[0] == 'U';
    if (!sym_ints(c, n, "axes", 1, 13, v, &cnt)) return false;
    /* a scalar to [x], and back */
    bool axis0 = un ? cnt == 1 && (v[0] == 0 || v[0] == -1)
                    : cnt < 0 || (cnt == 1 && (v[0] == 0 || v[0] == -1));
    if (!axis0 || a.rank != (un ? 0 : 1) || a.n != 1) return false;
    *r = a, r->rank = un;
    return true;
  }
  if (!strcmp(op, "Concat")) {
    *r = (SymVal){.elem = a.elem, .rank = 1};
    for (size_t i = 0; i < n->n_input; i++) {
      if (!sym_input(c, n, i, &b, NULL) || b.rank != 1 || r->n + b.n > IR_MAX_RANK)
        return false;
      for (int k = 0; k < b.n; k++) r->e[r->n++] = b.e[k];
    }
    return true;
  }
  if (!strcmp(op, "Slice")) {
    if (a.rank != 1 || !sym_ints(c, n, "starts", 1, 10, v, &cnt) ||
        !sym_ints(c, n, "ends", 2, 10, v2, &cnt2) || !sym_ints(c, n, "axes", 3, 10, v3, &cnt3) ||
        !sym_ints(c, n, "steps", 4, 10, v4, &cnt4) || cnt != 1 || cnt2 != 1 ||
        (cnt3 >= 0 && (cnt3 != 1 || (v3[0] != 0 && v3[0] != -1))) ||
        (cnt4 >= 0 && (cnt4 != 1 || v4[0] != 1)))
      return false;
    int64_t s = v[0] < 0 ? v[0] + a.n : v[0], e = v2[0] < 0 ? v2[0] + a.n : v2[0];
    s = s < 0 ? 0 : s > a.n ? a.n : s, e = e < s ? s : e > a.n ? a.n : e;
    *r = (SymVal){.elem = a.elem, .rank = 1, .n = (int)(e - s)};
    for (int64_t i = s; i < e; i++) r->e[i - s] = a.e[i];
    return true;
  }
  if (!strcmp(op, "Reshape")) { /* a shape value reshaped to [] or [n] */
    if (!sym_input(c, n, 1, &b, NULL) || !sym_is_const(&b) || b.n > 1 ||
        (b.n == 1 && b.e[0].k != a.n && b.e[0].k != -1) || (b.n == 0 && a.n != 1))
      return false;
    *r = a, r->rank = b.n;
    return true;
  }
  if (!strcmp(op, "Equal")) { /* the test of torch's expand(-1) pattern */
    if (!sym_input(c, n, 1, &b, NULL) || (a.n != b.n && a.n != 1 && b.n != 1)) return false;
    *r = a.n >= b.n ? a : b;
    r->elem = IR_BOOL, r->rank = a.rank > b.rank ? a.rank : b.rank;
    for (int i = 0; i < r->n; i++)
      if (!sym_equal(c, a.e[a.n == 1 ? 0 : i], b.e[b.n == 1 ? 0 : i], &r->e[i])) return false;
    return true;
  }
  if (!strcmp(op, "Where")) { /* a known condition picks elements */
    SymVal x, y;
    if (!sym_is_const(&a) || !sym_input(c, n, 1, &x, NULL) || !sym_input(c, n, 2, &y, NULL) ||
        x.elem != y.elem)
      return false;
    int len = a.n > x.n ? a.n : x.n;
    len = len > y.n ? len : y.n;
    if ((a.n != len && a.n != 1) || (x.n != len && x.n != 1) || (y.n != len && y.n != 1))
      return false;
    *r = (SymVal){.elem = x.elem, .n = len, .rank = a.rank | x.rank | y.rank};
    for (int i = 0; i < len; i++)
      r->e[i] = a.e[a.n == 1 ? 0 : i].k ? x.e[x.n == 1 ? 0 : i] : y.e[y.n == 1 ? 0 : i];
    return true;
  }
  static const char *const arith[4] = {"Add", "Sub", "Mul", "Div"};
  for (int k = 0; k < 4; k++) {
    if (strcmp(op, arith[k])) continue;
    if (!sym_input(c, n, 1, &b, NULL) || (a.n != b.n && a.n != 1 && b.n != 1)) return false;
    *r = a.n >= b.n ? a : b;
    r->rank = a.rank > b.rank ? a.rank : b.rank;
    for (int i = 0; i < r->n; i++)
      if (!sym_arith("+-*/"[k], a.e[a.n == 1 ? 0 : i], b.e[b.n == 1 ? 0 : i], &r->e[i]))
        return false;
    return true;
  }
  return false;
}

static bool emit_node(OnnxCtx *c, const Onnx__NodeProto *n, int kind, IrValue **ins,
                      size_t nin, IrLoc *loc, IrOp **out, const IrAttr *extra, int nextra);

/* The shape operand of Reshape/Expand spelled as ints (see above); false
 * after a diagnostic when a sym cannot be spelled there. */
static bool sym_spell(OnnxCtx *c, const Onnx__NodeProto *n, const IrValue *x,
                      const SymVal *s, bool expand, int64_t *out, const IrLoc *loc) {
  const Onnx__AttributeProto *az = node_attr(n, "allowzero");
  bool allowzero = az && az->i, inferred = false;
  int off = expand ? s->n - x->type.rank : 0;
  for (int i = 0; i < s->n; i++) {
    const SymEl *e = &s->e[i];
    out[i] = e->k;
    if (e->sym < 0) {
      inferred |= e->k == -1;
      continue;
    }
    int j = i - off;
    bool same = j >= 0 && j < x->type.rank && x->type.dims[j].sym == e->sym;
    if (e->k == 1 && same && (expand || !allowzero)) {
      out[i] = expand ? 1 : 0;
    } else if (e->k == 1 && !expand && !inferred) {
      out[i] = -1, inferred = true;
    } else {
      char ts[256];
      diag_at(DIAG_ERROR, loc, "%s: the shape %s computed from run-time dims "
              "cannot be applied to %s: each run-time dim of the result must be "
              "a whole sym%s", loc->op_type, sym_str(c, s),
              ir_type_str(c->m, &x->type, ts, sizeof ts),
              expand ? " the input has at the same place" : ", at most one of them "
                                                           "new to its place");
      return false;
    }
  }
  return true;
}

/* Reshape/Expand(x, symbolic shape): the op with its shape spelled as a
 * constant, and its result type checked against the symbolic shape. */
static bool sym_apply(OnnxCtx *c, const Onnx__NodeProto *n, const SymVal *s,
                      IrLoc *loc) {
  bool expand = !strcmp(loc->op_type, "Expand");
  IrValue *x = onnx_map_get(&c->values, node_in(n, 0));
  int64_t spelled[IR_MAX_RANK], dims[1] = {s->n};
  if (!x || x->type.kind != IR_TYPE_TENSOR || n->n_input != 2 || s->rank != 1 ||
      !sym_spell(c, n, x, s, expand, spelled, loc))
    return false;
  IrWeight *w = ir_weight_add(c->m, onnx_weight_name(c, node_in(n, 1)),
                              ir_type_tensor(IR_I64, 1, dims), spelled,
                              (size_t)s->n * 8, true);
  w->structural = true;
  IrValue *ins[2] = {x, w->value};
  IrOp *op;
  if (!emit_node(c, n, ir_op_by_onnx(loc->op_type), ins, 2, loc, &op, NULL, 0)) return false;
  const IrType *t = &op->results[0]->type;
  const Onnx__AttributeProto *az = node_attr(n, "allowzero");
  bool ok = t->rank == (expand && x->type.rank > s->n ? x->type.rank : s->n);
  for (int i = 0; ok && i < s->n; i++) {
    const SymEl *e = &s->e[i];
    IrDim d = t->dims[i + t->rank - s->n];
    if (e->sym >= 0)
      ok = d.sym == e->sym;
    else if (expand ? e->k > 1 : e->k > 0 || (e->k == 0 && az && az->i))
      ok = d.sym < 0 && d.size == e->k; /* else: kept, copied or inferred */
  }
  if (!ok) {
    char ts[256];
    diag_at(DIAG_ERROR, loc, "%s: the shape %s computed from run-time dims does not "
            "match the result %s", loc->op_type, sym_str(c, s),
            ir_type_str(c->m, t, ts, sizeof ts));
  }
  return ok;
}

/* Op inputs that may be computed from run-time dims: the op gets the
 * elements' factors (or constants) as that constant input and, in the
 * STRINGS attribute `<input>_sym`, each element's sym name ("" for a
 * constant); its shape rule decides which forms it supports (Slice: ends
 * `seq`, starts `-seq`; Range: limit `seq`; ConstantOfShape: any dim a
 * whole sym; Tile: repeats `seq` of a dim of size 1). */
static const struct {
  const char *op;
  size_t input;
  const char *attr;
} sym_uses[] = {
    {"Slice", 1, "starts_sym"}, {"Slice", 2, "ends_sym"},
    {"Range", 1, "limit_sym"}, {"ConstantOfShape", 0, "shape_sym"},
    {"Tile", 1, "repeats_sym"},
};

#define SYM_USES (sizeof sym_uses / sizeof sym_uses[0])

static const char *sym_use(const char *op, size_t i) {
  for (size_t k = 0; k < SYM_USES; k++)
    if (!strcmp(sym_uses[k].op, op) && sym_uses[k].input == i) return sym_uses[k].attr;
  return NULL;
}

/* Node n, whose symbolic inputs all have a use above, as its op. */
static bool sym_operands(OnnxCtx *c, const Onnx__NodeProto *n, IrLoc *loc) {
  size_t nin = n->n_input;
  while (nin && !*node_in(n, nin - 1)) nin--;
  IrValue **ins = ir_arena_alloc(c->m->arena, sizeof *ins * (nin + 1));
  IrAttr extra[IR_MAX_RANK];
  int nextra = 0;
  for (size_t i = 0; i < nin; i++) {
    const char *in = node_in(n, i);
    const SymVal *s = sym_get(c, in);
    if (!*in) continue;
    if (!s) {
      if (!(ins[i] = onnx_map_get(&c->values, in))) {
        diag_at(DIAG_ERROR, loc, "input '%s' is not produced by any node, "
                "initializer or graph input", in);
        return false;
      }
      continue;
    }
    unsigned char data[IR_MAX_RANK * 8];
    const char **names = ir_arena_alloc(c->m->arena, sizeof *names * IR_MAX_RANK);
    int64_t dims[1] = {s->n};
    for (int k = 0; k < s->n; k++) {
      ir_elem_store_i64(s->elem, data, (size_t)k, s->e[k].k);
      names[k] = s->e[k].sym >= 0 ? c->m->syms[s->e[k].sym].name : "";
    }
    IrWeight *w = ir_weight_add(c->m, onnx_weight_name(c, in),
                                ir_type_tensor(s->elem, s->rank, dims), data,
                                (size_t)s->n * ir_elem_size(s->elem), true);
    w->structural = true;
    ins[i] = w->value;
    extra[nextra++] = (IrAttr){.name = sym_use(loc->op_type, i), .kind = IR_ATTR_STRINGS,
                               .n = s->n, .strings = names};
  }
  return emit_node(c, n, ir_op_by_onnx(loc->op_type), ins, nin, loc, NULL, extra, nextra);
}

/* A node with a symbolic input, or Shape of a tensor with run-time dims. */
static bool sym_node(OnnxCtx *c, const Onnx__NodeProto *n, IrLoc *loc) {
  const char *op = loc->op_type;
  SymVal r, *shape = n->n_input > 1 ? sym_get(c, node_in(n, 1)) : NULL;
  bool data_sym = n->n_input && sym_get(c, node_in(n, 0));
  if (shape && !data_sym && (!strcmp(op, "Reshape") || !strcmp(op, "Expand")))
    return sym_apply(c, n, shape, loc);
  int uses = 0; /* symbolic inputs the op takes; -1: one it does not */
  for (size_t i = 0; uses >= 0 && i < n->n_input; i++)
    if (sym_get(c, node_in(n, i))) uses = sym_use(op, i) ? uses + 1 : -1;
  if (uses > 0 && (c->opset >= 10 || strcmp(op, "Slice"))) return sym_operands(c, n, loc);
  if (n->n_output == 1 && sym_eval(c, n, op, &r)) return sym_bind(c, n, &r);
  for (size_t i = 0; i < n->n_input; i++) {
    const SymVal *s = sym_get(c, node_in(n, i));
    if (!s) continue;
    const SymEl *e = s->e;
    while (e->sym < 0) e++;
    diag_at(DIAG_ERROR, loc, "%s: input '%s' is %s, computed from the run-time "
            "dimension '%s'; tcc evaluates such values at compile time through "
            "Shape, Gather, Slice, Concat, Unsqueeze, Squeeze, Cast, Add, Sub, Mul, "
            "Div, Neg, Equal and Where (each element a constant or a multiple of one "
            "run-time dim), and uses them only as the shape of Reshape, Expand or "
            "ConstantOfShape, the starts and ends of Slice, the limit of Range and "
            "the repeats of Tile", op,
            node_in(n, i), sym_str(c, s), c->m->syms[e->sym].name);
    return false;
  }
  diag_at(DIAG_ERROR, loc, "%s: cannot evaluate this shape computation at "
          "compile time", op);
  return false;
}

/* Does node n go through sym_node? */
static bool sym_node_wanted(OnnxCtx *c, const Onnx__NodeProto *n, const char *op) {
  if (!c->symvals.arena) onnx_map_init(&c->symvals, c->m->arena);
  for (size_t i = 0; i < n->n_input; i++)
    if (sym_get(c, node_in(n, i))) return true;
  if (strcmp(op, "Shape") || n->n_input != 1 || n->n_output != 1) return false;
  IrValue *x = onnx_map_get(&c->values, node_in(n, 0));
  return x && x->type.kind == IR_TYPE_TENSOR && ir_type_is_dynamic(c->m, &x->type);
}


static bool node_to_op(OnnxCtx *c, const Onnx__NodeProto *n) {
  IrLoc loc = onnx_node_loc(c, n);
  const char *op_type = loc.op_type;
  if (!op_type || !*op_type) {
    loc.op_type = "?";
    diag_at(DIAG_ERROR, &loc, "the node has no op_type");
    return false;
  }
  if (n->domain && !strcmp(n->domain, "com.microsoft")) {
    loc.opset = 0;
    return onnx_ms_node(c, n, &loc);
  }
  if (!onnx_is_default_domain(n->domain)) {
    loc.opset = 0;
    diag_at(DIAG_ERROR, &loc, "operator domain '%s' is not supported (tcc supports the default "
            "domain 'ai.onnx' and the quantized ops of 'com.microsoft')", n->domain);
    return false;
  }
  if (!schema_op_ok(c, &loc)) return false;
  if (onnx_is_sequence_op(op_type))
    return schema_attrs_ok(c, n, &loc) && onnx_sequence_node(c, n, &loc);
  if (sym_node_wanted(c, n, op_type)) return sym_node(c, n, &loc);
  bool control = !strcmp(op_type, "If") || !strcmp(op_type, "Loop") || !strcmp(op_type, "Scan");
  if ((control || !strcmp(op_type, "Constant")) && !schema_attrs_ok(c, n, &loc)) return false;
  if (control) return control_node(c, n, &loc);
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
  /* The two ops ONNX deprecated (onnx.checker refuses them from then on). */
  if ((kind == IR_OP_UPSAMPLE && c->opset >= 10) || (kind == IR_OP_SCATTER && c->opset >= 11)) {
    bool up = kind == IR_OP_UPSAMPLE;
    diag_at(DIAG_ERROR, &loc, "%s is deprecated from opset %d on (this model imports opset %d); "
            "use %s", op_type, up ? 10 : 11, c->opset, up ? "Resize" : "ScatterElements");
    return false;
  }
  size_t nin;
  IrValue **ins = onnx_node_operands(c, n, &loc, &nin);
  return ins && emit_node(c, n, kind, ins, nin, &loc, NULL, NULL, 0);
}

/* Node n as one op of `kind` over ins: imported, typed, bound and folded;
 * *out (when not NULL) gets the op.  extra[] are attributes the frontend
 * adds (the `<input>_sym` lists of sym_operands); a node's own attributes
 * of those names are dropped, as ONNX has none. */
static bool emit_node(OnnxCtx *c, const Onnx__NodeProto *n, int kind, IrValue **ins,
                      size_t nin, IrLoc *locp, IrOp **out, const IrAttr *extra,
                      int nextra) {
  IrLoc loc = *locp;
  const char *op_type = loc.op_type;
  const IrOpInfo *info = ir_op_info(kind);
  size_t nout = n->n_output;
  while (nout && !*node_out(n, nout - 1)) nout--;
  if (!check_count(&loc, "input", nin, info->min_operands, info->max_operands,
                   op_type) ||
      !check_count(&loc, "output", nout, info->min_results, info->max_results,
                   op_type))
    return false;
  IrOp *op = ir_op_new(c->m, (IrOpKind)kind, (int)nin, ins, (int)nout, NULL);
  op->loc = loc;
  if (out) *out = op;
  if (!onnx_node_attrs(c, n, op, &loc) || !schema_attrs_ok(c, n, &loc)) return false;
  for (size_t i = 0; i < SYM_USES; i++) ir_attr_remove(op, sym_uses[i].attr);
  for (int i = 0; i < nextra; i++) ir_attr_set(c->m, op, &extra[i]);
  ir_block_append(c->block ? c->block : c->m->main->body, op);
  if (!ir_op_check_dyn(c->m, op) || !info->import(c->m, op, c->opset) ||
      !ir_infer_op(c->m, op) ||
      !bind_results(c, n, op, &loc))
    return false;
  /* Fold as we go, so an op that needs a constant operand (Reshape's shape
   * computed by Shape -> Gather -> Concat) finds a weight. */
  IrValue *folded[16];
  if (!ir_foldable(op)) return true;
  if (!ir_fold_op(c->m, op, folded)) return false;
  for (int i = 0; i < op->num_results; i++)
    if ((size_t)i < n->n_output && *node_out(n, (size_t)i))
      onnx_map_put(&c->values, node_out(n, (size_t)i), folded[i]);
  return true;
}

/* ---------------------------------------------------------- control flow */
/* If, Loop and Scan are expanded at import, where their subgraphs (GRAPH
 * attributes) are imported like the main graph: node by node, folding as
 * we go.  A subgraph sees the enclosing graph's values by name; its own
 * names (inputs, initializers, node outputs) shadow them only while it is
 * imported and are restored afterwards, so each run of a body is a fresh
 * scope.  If with a known condition imports only the chosen branch; with a
 * run-time condition both branches are imported (ONNX ops have no side
 * effects) and each output is `where(cond, then, else)`.  A Loop whose
 * trip count and condition are known at compile time (a weight, a folded
 * value or a frozen input) and a Scan (static sequence length) are
 * unrolled: carried values flow from one copy to the next and scan outputs
 * are stacked with reshape + concat; any other Loop becomes a `loop` op
 * (cf_loop_op).  Unrolling is bounded by
 * CF_MAX_ITERS iterations and CF_MAX_VALUES values in the module; nesting
 * by the loader's message-depth limit. */
#define CF_MAX_ITERS 4096
#define CF_MAX_VALUES (1 << 20)
#define CF_IMPORT_OPSET 13 /* the form cf_emit builds ops in */

static const Onnx__GraphProto *cf_graph(const Onnx__NodeProto *n, const char *name,
                                        const IrLoc *loc) {
  for (size_t i = 0; i < n->n_attribute; i++) {
    const Onnx__AttributeProto *a = n->attribute[i];
    if (a->name && !strcmp(a->name, name) &&
        attr_kind(a) == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH && a->g)
      return a->g;
  }
  diag_at(DIAG_ERROR, loc, "%s: missing subgraph attribute '%s'", loc->op_type, name);
  return NULL;
}


/* One tensor op built by the expansion, imported, typed and folded. */
IrValue *onnx_emit(OnnxCtx *c, IrOp *op, const IrLoc *loc, int opset) {
  op->loc = *loc;
  ir_block_append(c->block ? c->block : c->m->main->body, op);
  const IrOpInfo *info = ir_op_info(op->kind);
  if (!ir_op_check_dyn(c->m, op) || !info->import(c->m, op, opset) ||
      !ir_infer_op(c->m, op))
    return NULL;
  IrValue *folded[16];
  if (!ir_foldable(op)) return op->results[0];
  return ir_fold_op(c->m, op, folded) ? folded[0] : NULL;
}

IrValue *onnx_const_int(OnnxCtx *c, IrElem e, int64_t v) {
  unsigned char data[8] = {0};
  ir_elem_store_i64(e, data, 0, v);
  IrWeight *w = ir_weight_add(c->m, onnx_weight_name(c, "cf_const"),
                              ir_type_tensor(e, 0, NULL), data, ir_elem_size(e), true);
  w->structural = true;
  return w->value;
}

/* x[.., i, ..] along axis: the slice without that axis. */
static IrValue *cf_take(OnnxCtx *c, IrValue *x, int axis, int64_t i, const IrLoc *loc) {
  IrValue *ops[2] = {x, onnx_const_int(c, IR_I64, i)};
  IrOp *op = ir_op_new(c->m, IR_OP_GATHER, 2, ops, 1, NULL);
  ir_attr_set_int(c->m, op, "axis", axis);
  return onnx_emit(c, op, loc, CF_IMPORT_OPSET);
}

/* Stacks parts (same type) along a new axis; `what` names them in errors. */
IrValue *onnx_stack(OnnxCtx *c, IrValue **parts, int n, int axis, const IrLoc *loc,
                    const char *what) {
  const IrType *t = &parts[0]->type;
  if (!ir_type_is_static(t) || t->rank >= IR_MAX_RANK) {
    diag_at(DIAG_ERROR, loc, "%s: %s need static shapes", loc->op_type, what);
    return NULL;
  }
  int64_t shape[IR_MAX_RANK];
  for (int k = 0, j = 0; k <= t->rank; k++) shape[k] = k == axis ? 1 : t->dims[j++].size;
  IrValue **rows = ir_arena_alloc(c->m->arena, sizeof *rows * (size_t)n);
  for (int i = 0; i < n; i++) {
    if (!ir_type_equal(&parts[i]->type, t)) {
      diag_at(DIAG_ERROR, loc, "%s: %s differ in shape", loc->op_type, what);
      return NULL;
    }
    IrOp *op = ir_op_new(c->m, IR_OP_RESHAPE, 1, &parts[i], 1, NULL);
    ir_attr_set_ints(c->m, op, "shape", t->rank + 1, shape);
    if (!(rows[i] = onnx_emit(c, op, loc, 4))) return NULL; /* attribute form */
  }
  IrOp *op = ir_op_new(c->m, IR_OP_CONCAT, n, rows, 1, NULL);
  ir_attr_set_int(c->m, op, "axis", axis);
  return onnx_emit(c, op, loc, CF_IMPORT_OPSET);
}

/* Names a subgraph defines, with what they meant outside it. */
typedef struct CfScope {
  const char **names;
  IrValue **saved;
  size_t n;
} CfScope;

static void cf_scope_add(OnnxCtx *c, CfScope *s, const char *name) {
  if (!name || !*name) return;
  s->names[s->n] = name;
  s->saved[s->n++] = onnx_map_get(&c->values, name);
}

static void cf_scope_open(OnnxCtx *c, const Onnx__GraphProto *g, CfScope *s) {
  size_t n = g->n_input + g->n_initializer;
  for (size_t i = 0; i < g->n_node; i++) n += g->node[i]->n_output;
  s->names = ir_arena_alloc(c->m->arena, sizeof *s->names * (n + 1));
  s->saved = ir_arena_alloc(c->m->arena, sizeof *s->saved * (n + 1));
  s->n = 0;
  for (size_t i = 0; i < g->n_input; i++) cf_scope_add(c, s, g->input[i]->name);
  for (size_t i = 0; i < g->n_initializer; i++) cf_scope_add(c, s, g->initializer[i]->name);
  for (size_t i = 0; i < g->n_node; i++)
    for (size_t k = 0; k < g->node[i]->n_output; k++)
      cf_scope_add(c, s, node_out(g->node[i], k));
  for (size_t i = 0; i < s->n; i++) onnx_map_put(&c->values, s->names[i], NULL);
}

static void cf_scope_close(OnnxCtx *c, CfScope *s) {
  for (size_t i = s->n; i-- > 0;) onnx_map_put(&c->values, s->names[i], s->saved[i]);
}

static bool cf_body_nodes(OnnxCtx *c, const Onnx__GraphProto *g, const IrLoc *loc) {
  for (size_t i = 0; i < g->n_initializer; i++) {
    const Onnx__TensorProto *tp = g->initializer[i];
    const char *name = tp->name ? tp->name : "";
    IrWeight *w = onnx_weight_from_tensor(
        c, tp, name, loc, ir_arena_printf(c->m->arena, "initializer '%s'", name));
    if (!w) return false;
    if (*name) onnx_map_put(&c->values, name, w->value);
  }
  Onnx__GraphProto *outer = c->g;
  c->g = (Onnx__GraphProto *)g;
  Topo t = {0};
  bool ok = topo_sort(c, &t);
  for (size_t i = 0; ok && i < t.num_order; i++) ok = node_to_op(c, g->node[t.order[i]]);
  c->g = outer;
  return ok;
}

/* Imports subgraph g once with its inputs bound to args; outs[i] gets the
 * value of its output i. */
static bool cf_run(OnnxCtx *c, const Onnx__GraphProto *g, IrValue *const *args,
                   size_t nargs, IrValue **outs, const IrLoc *loc) {
  if (g->n_input != nargs) {
    diag_at(DIAG_ERROR, loc, "%s: the subgraph takes %zu inputs, expected %zu",
            loc->op_type, g->n_input, nargs);
    return false;
  }
  if (c->m->next_value_id > CF_MAX_VALUES) {
    diag_at(DIAG_ERROR, loc, "%s: unrolling makes the model too large (over %d "
            "values)", loc->op_type, CF_MAX_VALUES);
    return false;
  }
  CfScope s;
  cf_scope_open(c, g, &s);
  for (size_t i = 0; i < nargs; i++)
    if (g->input[i]->name && *g->input[i]->name)
      onnx_map_put(&c->values, g->input[i]->name, args[i]);
  bool ok = cf_body_nodes(c, g, loc);
  for (size_t i = 0; ok && i < g->n_output; i++) {
    const char *name = g->output[i]->name ? g->output[i]->name : "";
    outs[i] = *name ? onnx_map_get(&c->values, name) : NULL;
    if (!outs[i]) {
      diag_at(DIAG_ERROR, loc, "%s: subgraph output '%s' is not produced by any "
              "node, initializer or input", loc->op_type, name);
      ok = false;
    }
  }
  cf_scope_close(c, &s);
  return ok;
}

/* cf_run for iteration it of a loop: its values get names of their own
 * (folding names weights after them, and probing for a free name among
 * thousands of copies would be quadratic). */
static bool cf_run_iter(OnnxCtx *c, const Onnx__GraphProto *g, IrValue *const *args,
                        size_t nargs, IrValue **outs, int64_t it, const IrLoc *loc) {
  const char *outer = c->iter_suffix;
  c->iter_suffix = ir_arena_printf(c->m->arena, "%s.i%lld", outer ? outer : "", (long long)it);
  bool ok = cf_run(c, g, args, nargs, outs, loc);
  c->iter_suffix = outer;
  return ok;
}

static bool cf_bind(OnnxCtx *c, const Onnx__NodeProto *n, IrValue *const *vals,
                    size_t nvals, const IrLoc *loc) {
  if (n->n_output > nvals) {
    diag_at(DIAG_ERROR, loc, "%s has %zu outputs but computes %zu", loc->op_type,
            n->n_output, nvals);
    return false;
  }
  for (size_t i = 0; i < n->n_output; i++)
    if (*node_out(n, i)) onnx_map_put(&c->values, node_out(n, i), vals[i]);
  return true;
}

/* The value of a scalar weight, or false when it is not known yet. */
bool onnx_known_int(const IrValue *v, int64_t *out) {
  uint64_t numel;
  if (!v || !v->weight || !v->weight->data || !ir_type_numel(&v->type, &numel) ||
      numel != 1)
    return false;
  *out = ir_elem_load_i64(v->type.elem, v->weight->data, 0);
  return true;
}

static bool cf_if(OnnxCtx *c, const Onnx__NodeProto *n, IrValue *const *ins, size_t nin,
                  const IrLoc *loc) {
  const Onnx__GraphProto *gt = cf_graph(n, "then_branch", loc);
  const Onnx__GraphProto *ge = gt ? cf_graph(n, "else_branch", loc) : NULL;
  if (!ge) return false;
  if (nin != 1 || !ins[0]) {
    diag_at(DIAG_ERROR, loc, "If takes 1 input, got %zu", nin);
    return false;
  }
  int64_t cond;
  size_t nt = gt->n_output, ne = ge->n_output;
  IrValue **vt = ir_arena_alloc(c->m->arena, sizeof *vt * (nt + ne + 1)), **ve = vt + nt;
  if (onnx_known_int(ins[0], &cond))
    return cond ? cf_run(c, gt, NULL, 0, vt, loc) && cf_bind(c, n, vt, nt, loc)
                : cf_run(c, ge, NULL, 0, ve, loc) && cf_bind(c, n, ve, ne, loc);
  if (!cf_run(c, gt, NULL, 0, vt, loc) || !cf_run(c, ge, NULL, 0, ve, loc)) return false;
  for (size_t i = 0; i < nt && i < ne; i++) {
    if (!ir_type_equal(&vt[i]->type, &ve[i]->type)) {
      char a[256], b[256];
      diag_at(DIAG_ERROR, loc, "If with a condition known only at run time needs "
              "both branches to compute the same types; output %zu is %s or %s", i,
              ir_type_str(c->m, &vt[i]->type, a, sizeof a),
              ir_type_str(c->m, &ve[i]->type, b, sizeof b));
      return false;
    }
    IrValue *ops[3] = {ins[0], vt[i], ve[i]};
    if (!(vt[i] = onnx_emit(c, ir_op_new(c->m, IR_OP_WHERE, 3, ops, 1, NULL), loc,
                          CF_IMPORT_OPSET)))
      return false;
  }
  return cf_bind(c, n, vt, nt < ne ? nt : ne, loc);
}

/* Doubles the per-iteration lists of scan outputs; returns the new size. */
static int64_t cf_grow(OnnxCtx *c, IrValue ***lists, size_t n, int64_t cap) {
  int64_t ncap = cap ? 2 * cap : 16;
  for (size_t k = 0; k < n; k++) {
    IrValue **l = ir_arena_alloc(c->m->arena, sizeof *l * (size_t)ncap);
    if (cap) memcpy(l, lists[k], sizeof *l * (size_t)cap);
    lists[k] = l;
  }
  return ncap;
}

/* A Loop whose trip count or condition is known only at run time (or too
 * long to unroll): one `loop` op whose region is the body, imported once;
 * the lower pass makes it a loop.while (ir/ops/control.c). */
static bool cf_loop_op(OnnxCtx *c, const Onnx__NodeProto *n, const Onnx__GraphProto *g,
                       IrValue *const *ins, size_t nin, const IrLoc *loc) {
  size_t nv = nin > 2 ? nin - 2 : 0, nk = g->n_output - 1 - nv;
  IrValue **ops = ir_arena_alloc(c->m->arena, sizeof *ops * (nv + 3));
  ops[0] = nin > 0 ? ins[0] : NULL;
  ops[1] = nin > 1 ? ins[1] : NULL;
  for (size_t i = 0; i < nv; i++) ops[2 + i] = ins[2 + i];
  IrOp *op = ir_op_new(c->m, IR_OP_LOOP, (int)nv + 2, ops, (int)(nv + nk), NULL);
  op->loc = *loc;
  IrBlock *body = ir_op_add_region(c->m, op);
  IrValue **args = ir_arena_alloc(c->m->arena, sizeof *args * (nv + 3));
  /* The iteration number and condition as the body declares them: [] or [1]. */
  for (int k = 0; k < 2; k++) {
    const Onnx__TypeProto *tp = g->input[k]->type;
    bool one = tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
               tp->tensor_type && tp->tensor_type->shape &&
               tp->tensor_type->shape->n_dim == 1;
    args[k] = ir_block_add_arg(c->m, body, ir_type_tensor(k ? IR_BOOL : IR_I64, one ? 1 : 0,
                                                          (int64_t[]){1}));
  }
  for (size_t i = 0; i < nv; i++) args[2 + i] = ir_block_add_arg(c->m, body, ins[2 + i]->type);
  IrBlock *outer = c->block;
  IrValue **outs = ir_arena_alloc(c->m->arena, sizeof *outs * (g->n_output + 1));
  c->block = body;
  bool ok = cf_run(c, g, args, nv + 2, outs, loc);
  c->block = outer;
  if (!ok) return false;
  IrOp *y = ir_op_new(c->m, IR_OP_YIELD_T, (int)g->n_output, outs, 0, NULL);
  y->loc = *loc;
  ir_block_append(body, y);
  ir_block_append(c->block ? c->block : c->m->main->body, op);
  return ir_infer_op(c->m, op) && cf_bind(c, n, op->results, nv + nk, loc);
}

/* Loop: carried values v, scan outputs stacked along axis 0. */
static bool cf_loop(OnnxCtx *c, const Onnx__NodeProto *n, IrValue *const *ins, size_t nin,
                    const IrLoc *loc) {
  const Onnx__GraphProto *g = cf_graph(n, "body", loc);
  if (!g) return false;
  if (nin < 2 && n->n_input < 2) {
    diag_at(DIAG_ERROR, loc, "Loop takes at least 2 inputs, got %zu", n->n_input);
    return false;
  }
  size_t nv = nin > 2 ? nin - 2 : 0;
  if (g->n_output < nv + 1 || g->n_input != nv + 2) {
    diag_at(DIAG_ERROR, loc, "Loop: the body takes %zu inputs and returns %zu "
            "outputs; expected %zu inputs and at least %zu outputs", g->n_input,
            g->n_output, nv + 2, nv + 1);
    return false;
  }
  /* Unrolled when the trip count and condition are known and short;
   * otherwise a real loop. */
  int64_t trip = INT64_MAX, cond = 1;
  if ((nin > 0 && ins[0] && !onnx_known_int(ins[0], &trip)) ||
      (nin > 1 && ins[1] && !onnx_known_int(ins[1], &cond)) ||
      (trip != INT64_MAX && trip > CF_MAX_ITERS))
    return cf_loop_op(c, n, g, ins, nin, loc);
  size_t nk = g->n_output - 1 - nv;
  IrValue **args = ir_arena_alloc(c->m->arena, sizeof *args * (nv + 2));
  IrValue **outs = ir_arena_alloc(c->m->arena, sizeof *outs * (g->n_output + 1));
  IrValue ***scans = ir_arena_alloc(c->m->arena, sizeof *scans * (nk + 1));
  int64_t cap = 0;
  for (size_t i = 0; i < nv; i++) {
    args[2 + i] = ins[2 + i];
    if (!args[2 + i]) {
      diag_at(DIAG_ERROR, loc, "Loop: loop-carried input %zu is absent", i);
      return false;
    }
  }
  int64_t it = 0;
  for (; it < trip && cond; it++) {
    if (it == CF_MAX_ITERS) return cf_loop_op(c, n, g, ins, nin, loc);
    args[0] = onnx_const_int(c, IR_I64, it);
    args[1] = onnx_const_int(c, IR_BOOL, cond);
    if (!cf_run_iter(c, g, args, nv + 2, outs, it, loc)) return false;
    /* A condition known only at run time: the copies made so far are
     * dead code (dce drops them); the loop stays a loop. */
    if (!onnx_known_int(outs[0], &cond)) return cf_loop_op(c, n, g, ins, nin, loc);
    for (size_t i = 0; i < nv; i++) args[2 + i] = outs[1 + i];
    if (it == cap) cap = cf_grow(c, scans, nk, cap);
    for (size_t k = 0; k < nk; k++) scans[k][it] = outs[1 + nv + k];
  }
  IrValue **res = ir_arena_alloc(c->m->arena, sizeof *res * (nv + nk + 1));
  for (size_t i = 0; i < nv; i++) res[i] = args[2 + i];
  for (size_t k = 0; k < nk; k++) {
    if (it == 0) {
      diag_at(DIAG_ERROR, loc, "Loop: a loop with scan outputs runs 0 times; tcc "
              "cannot type its empty scan outputs");
      return false;
    }
    if (!(res[nv + k] = onnx_stack(c, scans[k], (int)it, 0, loc, "scan outputs"))) return false;
  }
  return cf_bind(c, n, res, nv + nk, loc);
}

/* Scan over static sequences: state carried, scan inputs sliced, scan
 * outputs stacked, each along its axis and in its direction. */
typedef struct CfScan {
  size_t ns, nm, nk;            /* states, scan inputs, scan outputs */
  IrValue **state, **xs;
  const int64_t *in_axes, *in_dirs, *out_axes, *out_dirs; /* NULL: all 0 */
} CfScan;

static int64_t cf_nth(const int64_t *v, size_t i) { return v ? v[i] : 0; }

static bool cf_scan_len(CfScan *s, int64_t *axes, int64_t *len, const IrLoc *loc) {
  *len = -1;
  for (size_t j = 0; j < s->nm; j++) {
    const IrType *t = &s->xs[j]->type;
    int64_t a = cf_nth(s->in_axes, j);
    a = a < 0 ? a + t->rank : a;
    if (a < 0 || a >= t->rank || t->dims[a].sym >= 0 ||
        (*len >= 0 && t->dims[a].size != *len)) {
      diag_at(DIAG_ERROR, loc, "Scan: scan input %zu needs a static axis %lld of the "
              "common sequence length", j, (long long)cf_nth(s->in_axes, j));
      return false;
    }
    axes[j] = a;
    *len = t->dims[a].size;
  }
  if (*len < 0 || (*len == 0 && s->nk)) {
    diag_at(DIAG_ERROR, loc, "Scan: needs at least one scan input%s",
            *len == 0 ? " of non-zero length" : "");
    return false;
  }
  if (*len > CF_MAX_ITERS) {
    diag_at(DIAG_ERROR, loc, "Scan: more than %d iterations; tcc unrolls scans "
            "and refuses this one", CF_MAX_ITERS);
    return false;
  }
  return true;
}

/* res gets the final states, then the stacked scan outputs. */
static bool cf_scan_core(OnnxCtx *c, const Onnx__GraphProto *g, CfScan *s,
                         IrValue **res, const IrLoc *loc) {
  int64_t len, *axes = ir_arena_alloc(c->m->arena, sizeof *axes * (s->nm + 1));
  if (!cf_scan_len(s, axes, &len, loc)) return false;
  if (g->n_output != s->ns + s->nk) {
    diag_at(DIAG_ERROR, loc, "Scan: the body returns %zu outputs, expected %zu",
            g->n_output, s->ns + s->nk);
    return false;
  }
  size_t nargs = s->ns + s->nm;
  IrValue **args = ir_arena_alloc(c->m->arena, sizeof *args * (nargs + 1));
  IrValue **outs = ir_arena_alloc(c->m->arena, sizeof *outs * (g->n_output + 1));
  IrValue ***scans = ir_arena_alloc(c->m->arena, sizeof *scans * (s->nk + 1));
  for (size_t k = 0; k < s->nk; k++)
    scans[k] = ir_arena_alloc(c->m->arena, sizeof **scans * (size_t)(len + 1));
  memcpy(args, s->state, sizeof *args * s->ns);
  for (int64_t t = 0; t < len; t++) {
    for (size_t j = 0; j < s->nm; j++) {
      int64_t at = cf_nth(s->in_dirs, j) ? len - 1 - t : t;
      if (!(args[s->ns + j] = cf_take(c, s->xs[j], (int)axes[j], at, loc))) return false;
    }
    if (!cf_run_iter(c, g, args, nargs, outs, t, loc)) return false;
    memcpy(args, outs, sizeof *args * s->ns);
    for (size_t k = 0; k < s->nk; k++)
      scans[k][cf_nth(s->out_dirs, k) ? len - 1 - t : t] = outs[s->ns + k];
  }
  memcpy(res, args, sizeof *res * s->ns);
  for (size_t k = 0; k < s->nk; k++) {
    int64_t a = cf_nth(s->out_axes, k), r = scans[k][0]->type.rank + 1;
    if (a < -r || a >= r) {
      diag_at(DIAG_ERROR, loc, "Scan: scan output axis %lld is out of range", (long long)a);
      return false;
    }
    if (!(res[s->ns + k] = onnx_stack(c, scans[k], (int)len, (int)(a < 0 ? a + r : a), loc,
                                       "scan outputs")))
      return false;
  }
  return true;
}

/* An INTS attribute of n entries (NULL when absent). */
static bool cf_ints(const Onnx__NodeProto *n, const char *name, size_t want,
                    const int64_t **out, const IrLoc *loc) {
  const Onnx__AttributeProto *a = node_attr(n, name);
  *out = a ? a->ints : NULL;
  if (!a || a->n_ints == want) return true;
  diag_at(DIAG_ERROR, loc, "Scan: attribute '%s' has %zu entries, expected %zu", name,
          a->n_ints, want);
  return false;
}

/* Opset 8: a batch axis 0 in front of everything and an optional
 * sequence_lens input; each batch entry is scanned on its own. */
static bool cf_scan8(OnnxCtx *c, const Onnx__GraphProto *g, CfScan *s,
                     IrValue **res, const IrLoc *loc) {
  IrValue *first = s->ns ? s->state[0] : s->xs[0];
  if (first->type.rank < 1 || first->type.dims[0].sym >= 0) {
    diag_at(DIAG_ERROR, loc, "Scan: needs a static batch axis");
    return false;
  }
  int64_t batch = first->type.dims[0].size;
  size_t nr = s->ns + s->nk;
  IrValue ***parts = ir_arena_alloc(c->m->arena, sizeof *parts * (nr + 1));
  for (size_t r = 0; r < nr; r++)
    parts[r] = ir_arena_alloc(c->m->arena, sizeof **parts * (size_t)(batch + 1));
  CfScan b = *s;
  b.state = ir_arena_alloc(c->m->arena, sizeof *b.state * (s->ns + s->nm + 1));
  b.xs = b.state + s->ns;
  IrValue **one = ir_arena_alloc(c->m->arena, sizeof *one * (nr + 1));
  for (int64_t i = 0; i < batch; i++) {
    for (size_t j = 0; j < s->ns + s->nm; j++)
      if (!(b.state[j] = cf_take(c, j < s->ns ? s->state[j] : s->xs[j - s->ns], 0, i, loc)))
        return false;
    if (!cf_scan_core(c, g, &b, one, loc)) return false;
    for (size_t r = 0; r < nr; r++) parts[r][i] = one[r];
  }
  for (size_t r = 0; r < nr; r++)
    if (!(res[r] = onnx_stack(c, parts[r], (int)batch, 0, loc, "scan outputs"))) return false;
  return true;
}

static bool cf_scan(OnnxCtx *c, const Onnx__NodeProto *n, IrValue *const *ins, size_t nin,
                    const IrLoc *loc) {
  const Onnx__GraphProto *g = cf_graph(n, "body", loc);
  const Onnx__AttributeProto *nsi = node_attr(n, "num_scan_inputs");
  if (!g) return false;
  size_t skip = loc->opset < 9; /* opset 8: sequence_lens first */
  if (skip && nin && ins[0]) {
    diag_at(DIAG_ERROR, loc, "Scan: input 'sequence_lens' is not supported "
            "(leave it empty: every sequence has the full length)");
    return false;
  }
  size_t nrest = nin > skip ? nin - skip : 0;
  if (!nsi || nsi->i < 1 || (uint64_t)nsi->i > nrest) {
    diag_at(DIAG_ERROR, loc, "Scan: attribute 'num_scan_inputs' must be 1 to the "
            "number of inputs (%zu)", nrest);
    return false;
  }
  CfScan s = {.nm = (size_t)nsi->i};
  s.ns = nrest - s.nm;
  s.nk = g->n_output > s.ns ? g->n_output - s.ns : 0;
  s.state = (IrValue **)ins + skip;
  s.xs = s.state + s.ns;
  for (size_t j = 0; j < s.ns + s.nm; j++)
    if (!s.state[j]) {
      diag_at(DIAG_ERROR, loc, "Scan: input %zu is absent", skip + j);
      return false;
    }
  IrValue **res = ir_arena_alloc(c->m->arena, sizeof *res * (s.ns + s.nk + 1));
  if (skip) {
    if (!cf_ints(n, "directions", s.nm, &s.in_dirs, loc) || !cf_scan8(c, g, &s, res, loc))
      return false;
  } else if (!cf_ints(n, "scan_input_axes", s.nm, &s.in_axes, loc) ||
             !cf_ints(n, "scan_input_directions", s.nm, &s.in_dirs, loc) ||
             !cf_ints(n, "scan_output_axes", s.nk, &s.out_axes, loc) ||
             !cf_ints(n, "scan_output_directions", s.nk, &s.out_dirs, loc) ||
             !cf_scan_core(c, g, &s, res, loc))
    return false;
  return cf_bind(c, n, res, s.ns + s.nk, loc);
}

/* If, Loop and Scan: operands by name, then the expansion above. */
static bool control_node(OnnxCtx *c, const Onnx__NodeProto *n, IrLoc *loc) {
  size_t nin;
  IrValue **ins = onnx_node_operands(c, n, loc, &nin);
  if (!ins) return false;
  if (!strcmp(loc->op_type, "If")) return cf_if(c, n, ins, nin, loc);
  if (!strcmp(loc->op_type, "Loop")) return cf_loop(c, n, ins, nin, loc);
  return cf_scan(c, n, ins, nin, loc);
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
  const SymVal *s = !v && c->symvals.arena ? sym_get(c, name) : NULL;
  if (s) {
    diag_at(DIAG_ERROR, &loc, "output '%s' is the shape %s computed from run-time "
            "dims; tcc cannot output it yet", name, sym_str(c, s));
    return NULL;
  }
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
