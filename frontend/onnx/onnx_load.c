/* onnx_load.c — ONNX model bytes -> verified tensor-level IR.
 *
 * The pipeline is one function (onnx_load_memory): parse, check the opset,
 * initializers -> weights, graph inputs -> arguments (binding symbolic dims),
 * nodes -> ops (onnx_graph.c), outputs -> return, verify.
 *
 * Memory: protobuf-c unpacks into the module's own arena (allocations of
 * 256 bytes or more are 64-aligned), so the unpacked message dies with the
 * module, initializer raw_data is usable as weight data in place (one copy
 * of the weights in total: file -> arena), and node names, op types and
 * value names can be referenced by the IR without copying.  The model file
 * is mapped only while it is parsed; external-data files stay mapped until
 * the module is freed (ir_module_on_free).
 *
 * Hostile input: protobuf-c recurses once per nested message and has no
 * depth limit, so before unpacking we walk the wire format with the
 * generated descriptors and refuse nesting deeper than ONNX_MAX_NESTING.
 * Every other count is checked where it is used; all allocation sizes are
 * bounded by a constant times the input size. */
#define _DEFAULT_SOURCE /* strdup, strndup, realpath, mmap */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_int.h"

#define ONNX_MAX_NESTING 64
/* The newest default-domain opset tcc imports; frontend/onnx/gen_attrs.py
 * writes the schema table up to it (MAX_OPSET there). */
#define ONNX_MAX_OPSET 28

IrLoc onnx_file_loc(const OnnxCtx *c) { return (IrLoc){.file = c->path}; }

IrLoc onnx_node_loc(const OnnxCtx *c, const Onnx__NodeProto *n) {
  return (IrLoc){.file = c->path, .node = n->name ? n->name : "",
                 .op_type = n->op_type ? n->op_type : "", .opset = c->opset, .source = n};
}

/* -------------------------------------------------------------- parsing */
/* Big blocks (raw_data) 64-aligned so weights can point at them. */
static void *pb_alloc(void *user, size_t size) {
  return size >= 256 ? onnx_alloc64(user, size) : ir_arena_alloc(user, size);
}
static void pb_free(void *user, void *p) { (void)user, (void)p; }

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
  *v = 0;
  for (int shift = 0; shift < 64 && *p < end; shift += 7) {
    uint8_t b = *(*p)++;
    *v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

/* Deepest message nesting in [p, end) as descriptor d; stops early at
 * malformed bytes (unpack will reject them) and at limit+1. */
static int nesting(const ProtobufCMessageDescriptor *d, const uint8_t *p,
                   const uint8_t *end, int depth) {
  int deepest = depth;
  while (p < end && deepest <= ONNX_MAX_NESTING) {
    uint64_t tag, len;
    if (!read_varint(&p, end, &tag)) break;
    switch (tag & 7) {
    case 0: if (!read_varint(&p, end, &len)) return deepest; continue;
    case 1: p += (size_t)(end - p) < 8 ? (size_t)(end - p) : 8; continue;
    case 5: p += (size_t)(end - p) < 4 ? (size_t)(end - p) : 4; continue;
    case 2: break;
    default: return deepest;
    }
    if (!read_varint(&p, end, &len) || len > (uint64_t)(end - p)) break;
    const ProtobufCFieldDescriptor *f =
        tag >> 3 <= 0xffffffffu
            ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3))
            : NULL;
    if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
      int k = nesting(f->descriptor, p, p + len, depth + 1);
      if (k > deepest) deepest = k;
    }
    p += len;
  }
  return deepest;
}

static Onnx__ModelProto *parse_model(OnnxCtx *c, const void *data,
                                     size_t size) {
  IrLoc loc = onnx_file_loc(c);
  if (size == 0) {
    diag_at(DIAG_ERROR, &loc, "the file is empty; not an ONNX model");
    return NULL;
  }
  const uint8_t *p = data;
  if (nesting(&onnx__model_proto__descriptor, p, p + size, 0) >
      ONNX_MAX_NESTING) {
    diag_at(DIAG_ERROR, &loc, "the model nests messages more than %d levels "
            "deep (subgraphs or types); tcc refuses it", ONNX_MAX_NESTING);
    return NULL;
  }
  ProtobufCAllocator al = {pb_alloc, pb_free, c->m->arena};
  Onnx__ModelProto *mp = onnx__model_proto__unpack(&al, size, p);
  if (!mp)
    diag_at(DIAG_ERROR, &loc, "not a valid ONNX model (protobuf parse failed; "
            "the file is truncated or not ONNX)");
  return mp;
}


static bool check_opset(OnnxCtx *c, const Onnx__ModelProto *mp) {
  IrLoc loc = onnx_file_loc(c);
  for (size_t i = 0; i < mp->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *os = mp->opset_import[i];
    if (!onnx_is_default_domain(os->domain)) continue;
    int64_t v = os->has_version ? os->version : 0;
    if (v < 1 || v > ONNX_MAX_OPSET) {
      diag_at(DIAG_ERROR, &loc, "unsupported opset %lld for domain 'ai.onnx' "
              "(tcc supports 1 to %d)", (long long)v, ONNX_MAX_OPSET);
      return false;
    }
    c->opset = (int)v;
    return true;
  }
  diag_at(DIAG_ERROR, &loc, "the model imports no opset for domain "
          "'ai.onnx'%s", mp->n_opset_import ? "" : " (opset_import is missing)");
  return false;
}

/* ---------------------------------------------------------------- inputs */
static OnnxShapeBinding *find_shape(OnnxCtx *c, const char *name) {
  for (int i = 0; i < c->o->num_shapes; i++)
    if (c->o->shapes[i].name && !strcmp(c->o->shapes[i].name, name))
      return &c->o->shapes[i];
  return NULL;
}

static OnnxDimBinding *find_dim(OnnxCtx *c, const char *param) {
  for (int i = 0; i < c->o->num_dims; i++)
    if (c->o->dims[i].param && !strcmp(c->o->dims[i].param, param))
      return &c->o->dims[i];
  return NULL;
}

/* Dim k of input `name` whose symbol has -dim=P=A+B[+N]: the sum sym of the
 * run-time dims A, B (each with a -dim range) and N. */
static bool input_dim_sum(OnnxCtx *c, const char *name, int k, OnnxDimBinding *db,
                          IrDim *out) {
  IrLoc loc = onnx_file_loc(c);
  IrDim terms[IR_SYM_MAX_TERMS + 2];
  int n = 0;
  db->used = true;
  for (const char *p = db->sum; *p && n < IR_SYM_MAX_TERMS + 2; p += *p == '+') {
    size_t len = strcspn(p, "+");
    char term[256];
    snprintf(term, sizeof term, "%.*s", (int)len, p);
    p += len;
    if (isdigit((unsigned char)term[0])) {
      terms[n++] = (IrDim){strtoll(term, NULL, 10), -1};
      continue;
    }
    OnnxDimBinding *tb = find_dim(c, term);
    if (!tb || tb->sum || tb->value >= 0) {
      diag_at(DIAG_ERROR, &loc, "input '%s': dimension %d ('%s') is -dim=%s=%s, but '%s' is "
              "not a run-time dimension (give it -dim=%s=LO..HI)", name, k, db->param,
              db->param, db->sum, term, term);
      return false;
    }
    tb->used = true;
    int sym = ir_sym_add(c->m, term, tb->lo, tb->hi);
    c->m->syms[sym].lo = tb->lo, c->m->syms[sym].hi = tb->hi;
    terms[n++] = (IrDim){0, sym};
  }
  IrDim r = n <= IR_SYM_MAX_TERMS + 1 ? ir_dim_sum(c->m, n, terms) : (IrDim){-1, -1};
  if (r.sym < 0 && r.size < 0) {
    diag_at(DIAG_ERROR, &loc, "input '%s': dimension %d ('%s'): -dim=%s=%s has more than %d "
            "run-time terms", name, k, db->param, db->param, db->sum, IR_SYM_MAX_TERMS);
    return false;
  }
  *out = r;
  return true;
}

/* Dim k of input `name`: the -shape binding, the -dim binding of its
 * symbol, an earlier binding of the symbol, or 1 for an unbound dim 0 (with
 * a warning), as a static size; or the symbol itself when -dim gives it a
 * range (a run-time dim).  Symbols are recorded with their value. */
static bool input_dim(OnnxCtx *c, const char *name, int k,
                      const Onnx__TensorShapeProto__Dimension *d,
                      const OnnxShapeBinding *sb, IrDim *out) {
  IrLoc loc = onnx_file_loc(c);
  bool is_value = d && d->value_case ==
                           ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
  const char *param =
      d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
              d->dim_param && *d->dim_param
          ? d->dim_param : NULL;
  if (is_value) {
    if (d->dim_value < 0) {
      diag_at(DIAG_ERROR, &loc, "input '%s': dimension %d is negative (%lld)",
              name, k, (long long)d->dim_value);
      return false;
    }
    if (sb && sb->dims[k] != d->dim_value) {
      diag_at(DIAG_ERROR, &loc, "input '%s': -shape gives dimension %d as "
              "%lld but the model says %lld", name, k, (long long)sb->dims[k],
              (long long)d->dim_value);
      return false;
    }
    *out = (IrDim){d->dim_value, -1};
    return true;
  }
  OnnxDimBinding *sum = param ? find_dim(c, param) : NULL;
  if (sum && sum->sum) {
    if (sb) {
      diag_at(DIAG_ERROR, &loc, "input '%s': dimension %d ('%s') has both a -shape size "
              "and -dim=%s=%s", name, k, param, param, sum->sum);
      return false;
    }
    return input_dim_sum(c, name, k, sum, out);
  }
  /* A name the IR cannot spell gets no symbol (it still binds by -dim). */
  int sym = param && onnx_ir_name_ok(param) ? ir_sym_add(c->m, param, 1, -1) : -1;
  IrSym *s = sym >= 0 ? &c->m->syms[sym] : NULL;
  OnnxDimBinding *db = param ? find_dim(c, param) : NULL;
  int64_t v = s && s->value >= 0 ? s->value : -1;
  if (db && db->value < 0) { /* -dim=P=LO..HI */
    db->used = true;
    if (!s || sb) {
      diag_at(DIAG_ERROR, &loc, "input '%s': dimension %d ('%s') %s", name, k, param,
              sb ? "has both a -shape size and a -dim range"
                 : "cannot be a run-time dimension (its name is not an identifier)");
      return false;
    }
    if (s->value >= 0) {
      diag_at(DIAG_ERROR, &loc, "input '%s': dimension %d ('%s') is bound to %lld "
              "elsewhere", name, k, param, (long long)s->value);
      return false;
    }
    s->lo = db->lo;
    s->hi = db->hi;
    *out = (IrDim){0, sym};
    return true;
  }
  if (db) v = db->value, db->used = true;
  if (sb && db && sb->dims[k] != db->value) {
    diag_at(DIAG_ERROR, &loc, "input '%s': -shape gives dimension %d ('%s') "
            "as %lld but -dim=%s=%lld", name, k, param,
            (long long)sb->dims[k], param, (long long)db->value);
    return false;
  }
  if (sb) v = sb->dims[k];
  if (v < 0 && k == 0) {
    if (param)
      diag_at(DIAG_WARNING, &loc, "input '%s': dimension 0 ('%s') is not "
              "bound; using 1 (bind it with -dim=%s=VALUE or -shape=%s:...)",
              name, param, param, name);
    else
      diag_at(DIAG_WARNING, &loc, "input '%s': dimension 0 ('?') is not "
              "bound; using 1 (bind it with -shape=%s:...)", name, name);
    v = 1;
  }
  if (v < 0) {
    if (param)
      diag_at(DIAG_ERROR, &loc, "input '%s': dimension %d ('%s') is symbolic; "
              "bind it with -dim=%s=VALUE or -shape=%s:DIMxDIM...", name,
              k, param, param, name);
    else
      diag_at(DIAG_ERROR, &loc, "input '%s': dimension %d ('?') is unknown; "
              "bind it with -shape=%s:DIMxDIM...", name, k, name);
    return false;
  }
  if (s && s->value >= 0 && s->value != v) {
    diag_at(DIAG_ERROR, &loc, "input '%s': dimension %d ('%s') is bound to "
            "%lld here but to %lld elsewhere", name, k, param, (long long)v,
            (long long)s->value);
    return false;
  }
  if (s && s->value < 0 && s->hi >= 0) {
    diag_at(DIAG_ERROR, &loc, "input '%s': dimension %d ('%s') is a run-time "
            "dimension elsewhere; -dim gives it a range", name, k, param);
    return false;
  }
  if (s) s->value = v;
  *out = (IrDim){v, -1};
  return true;
}

static bool input_type(OnnxCtx *c, const Onnx__ValueInfoProto *vi,
                       IrType *t) {
  IrLoc loc = onnx_file_loc(c);
  const char *name = vi->name;
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
      !tp->tensor_type) {
    diag_at(DIAG_ERROR, &loc, "input '%s': only tensor inputs are supported "
            "(this one is %s)", name,
            !tp || tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET
                ? "untyped"
            : tp->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE ? "a sequence"
            : tp->value_case == ONNX__TYPE_PROTO__VALUE_MAP_TYPE ? "a map"
            : tp->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE ? "an optional"
            : "a sparse tensor");
    return false;
  }
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  IrElem e = onnx_elem(tt->elem_type);
  if (e == IR_ELEM_NONE) {
    diag_at(DIAG_ERROR, &loc, "input '%s': element type %s is not supported",
            name, onnx_dtype_name(tt->elem_type));
    return false;
  }
  OnnxShapeBinding *sb = find_shape(c, name);
  if (sb) sb->used = true;
  if (!tt->shape && !sb) {
    diag_at(DIAG_ERROR, &loc, "input '%s' has no shape; bind it with "
            "-shape=%s:DIMxDIM...", name, name);
    return false;
  }
  size_t rank = tt->shape ? tt->shape->n_dim : (size_t)sb->rank;
  if (rank > IR_MAX_RANK) {
    diag_at(DIAG_ERROR, &loc, "input '%s': rank %zu exceeds tcc's maximum of "
            "%d", name, rank, IR_MAX_RANK);
    return false;
  }
  if (sb && (size_t)sb->rank != rank) {
    diag_at(DIAG_ERROR, &loc, "input '%s': -shape gives rank %d but the model "
            "says rank %zu", name, sb->rank, rank);
    return false;
  }
  *t = (IrType){.kind = IR_TYPE_TENSOR, .elem = e, .rank = (int)rank};
  for (size_t k = 0; k < rank; k++)
    if (!input_dim(c, name, (int)k, tt->shape ? tt->shape->dim[k] : NULL, sb,
                   &t->dims[k]))
      return false;
  return onnx_check_numel_bound(c->m, t, &loc, ir_arena_printf(c->m->arena, "input '%s'",
                                                   name), NULL);
}

static OnnxFrozenInput *find_frozen(OnnxCtx *c, const char *name) {
  for (int i = 0; i < c->o->num_frozen; i++)
    if (!strcmp(c->o->frozen[i].name, name)) return &c->o->frozen[i];
  return NULL;
}

/* A frozen input becomes a weight holding the given value, after checking
 * it against what the model declares (element type, rank, static dims). */
static bool freeze_input(OnnxCtx *c, const Onnx__ValueInfoProto *vi,
                         OnnxFrozenInput *fz) {
  IrLoc loc = onnx_file_loc(c);
  const OnnxTensor *t = fz->value;
  fz->used = true;
  const Onnx__TypeProto *tp = vi->type;
  const Onnx__TypeProto__Tensor *tt =
      tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ? tp->tensor_type : NULL;
  bool fits = tt && onnx_elem(tt->elem_type) == t->elem &&
              (!tt->shape || tt->shape->n_dim == (size_t)t->rank);
  for (int k = 0; fits && tt->shape && k < t->rank; k++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[k];
    if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
        d->dim_value != t->dims[k])
      fits = false;
  }
  IrType type = ir_type_tensor(t->elem, t->rank, t->dims);
  if (!fits) {
    char buf[256];
    diag_at(DIAG_ERROR, &loc, "-freeze=%s: the value (%s) does not fit the "
            "input's declared type", vi->name, ir_type_str(c->m, &type, buf, sizeof buf));
    return false;
  }
  IrWeight *w = ir_weight_add(c->m, onnx_weight_name(c, vi->name), type,
                              t->data, t->nbytes, true);
  w->structural = true; /* given at compile time, like a Constant */
  w->value->name = vi->name;
  onnx_map_put(&c->values, vi->name, w->value);
  return true;
}

static bool build_inputs(OnnxCtx *c) {
  IrFunc *f = ir_func_new(c->m, "main");
  Onnx__GraphProto *g = c->g;
  f->input_names = ir_arena_alloc(c->m->arena, sizeof(char *) * (g->n_input + 1));
  for (size_t i = 0; i < g->n_input; i++) {
    const Onnx__ValueInfoProto *vi = g->input[i];
    IrLoc loc = onnx_file_loc(c);
    if (!vi->name || !*vi->name) {
      diag_at(DIAG_ERROR, &loc, "graph input %zu has no name", i);
      return false;
    }
    IrValue *prev = onnx_map_get(&c->values, vi->name);
    if (prev && prev->weight) continue; /* an initializer's default value */
    if (prev) {
      diag_at(DIAG_ERROR, &loc, "graph input '%s' is listed twice", vi->name);
      return false;
    }
    OnnxFrozenInput *fz = find_frozen(c, vi->name);
    if (fz) {
      if (!freeze_input(c, vi, fz)) return false;
      continue;
    }
    IrType t;
    if (!input_type(c, vi, &t)) return false;
    IrValue *v = ir_block_add_arg(c->m, f->body, t);
    v->name = vi->name;
    f->input_names[f->num_inputs++] = vi->name;
    onnx_map_put(&c->values, vi->name, v);
  }
  return true;
}

/* Every -shape and -dim binding must name something in the model. */
static bool check_bindings_used(OnnxCtx *c) {
  IrLoc loc = onnx_file_loc(c);
  for (int i = 0; i < c->o->num_frozen; i++)
    if (!c->o->frozen[i].used) {
      diag_at(DIAG_ERROR, &loc, "-freeze=%s:...: the model has no input named "
              "'%s'", c->o->frozen[i].name, c->o->frozen[i].name);
      return false;
    }
  for (int i = 0; i < c->o->num_shapes; i++)
    if (!c->o->shapes[i].used) {
      diag_at(DIAG_ERROR, &loc, "-shape=%s:...: the model has no input named "
              "'%s'", c->o->shapes[i].name, c->o->shapes[i].name);
      return false;
    }
  for (int i = 0; i < c->o->num_dims; i++) {
    OnnxDimBinding *d = &c->o->dims[i];
    if (!d->used) {
      if (d->value < 0)
        diag_at(DIAG_ERROR, &loc, "-dim=%s=%lld..%lld: the model has no symbolic "
                "dimension named '%s'", d->param, (long long)d->lo, (long long)d->hi,
                d->param);
      else
        diag_at(DIAG_ERROR, &loc, "-dim=%s=%lld: the model has no symbolic "
                "dimension named '%s'", d->param, (long long)d->value, d->param);
      return false;
    }
  }
  return true;
}

static bool check_binding_values(OnnxCtx *c) {
  IrLoc loc = onnx_file_loc(c);
  for (int i = 0; i < c->o->num_shapes; i++) {
    const OnnxShapeBinding *s = &c->o->shapes[i];
    bool bad = !s->name || s->rank < 0 || s->rank > IR_MAX_RANK;
    for (int k = 0; !bad && k < s->rank; k++) bad = s->dims[k] < 0;
    if (bad) {
      diag_at(DIAG_ERROR, &loc, "-shape=%s: invalid binding",
              s->name ? s->name : "");
      return false;
    }
  }
  for (int i = 0; i < c->o->num_dims; i++)
    if (!c->o->dims[i].param ||
        (c->o->dims[i].value < 0 && c->o->dims[i].hi < c->o->dims[i].lo)) {
      diag_at(DIAG_ERROR, &loc, "-dim=%s: invalid binding",
              c->o->dims[i].param ? c->o->dims[i].param : "");
      return false;
    }
  return true;
}

/* ---------------------------------------------------------- entry points */
static const char *module_name(IrArena *a, const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strchr(base, '.');
  size_t n = dot ? (size_t)(dot - base) : strlen(base);
  char *s = ir_arena_alloc(a, n + 2);
  size_t j = 0;
  if (!n || (base[0] >= '0' && base[0] <= '9')) s[j++] = '_';
  for (size_t i = 0; i < n; i++) {
    char ch = base[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_';
    s[j++] = ok ? ch : '_';
  }
  return s;
}

static bool load(OnnxCtx *c, const void *data, size_t size) {
  Onnx__ModelProto *mp = parse_model(c, data, size);
  if (!mp) return false;
  IrLoc loc = onnx_file_loc(c);
  if (!mp->graph) {
    diag_at(DIAG_ERROR, &loc, "the model has no graph");
    return false;
  }
  c->g = mp->graph;
  c->m->onnx_model = mp;
  if (!c->g->n_output) {
    diag_at(DIAG_ERROR, &loc, "the graph has no outputs; there is nothing to "
            "compile");
    return false;
  }
  return check_opset(c, mp) && check_binding_values(c) &&
         onnx_weight_initializers(c) && build_inputs(c) &&
         check_bindings_used(c) && onnx_graph_build(c) && ir_verify(c->m);
}

IrModule *onnx_load_memory(const void *data, size_t size, const char *path,
                           const OnnxLoadOptions *o) {
  static const OnnxLoadOptions none;
  if (!path) path = "<memory>";
  if (!o) o = &none;
  IrModule *m = ir_module_new(o->model_name ? o->model_name : "model");
  if (!o->model_name) m->name = module_name(m->arena, path);
  m->source = ir_arena_strdup(m->arena, path);
  OnnxCtx c = {.m = m, .path = m->source, .o = o};
  if (o->base_dir) c.base_dir = ir_arena_strdup(m->arena, o->base_dir);
  onnx_map_init(&c.values, m->arena);
  onnx_map_init(&c.wnames, m->arena);
  if (!load(&c, data ? data : "", data ? size : 0)) {
    ir_module_free(m);
    return NULL;
  }
  return m;
}

IrModule *onnx_load_file(const char *path, const OnnxLoadOptions *o) {
  OnnxFile f;
  if (!onnx_file_map(path, NULL, NULL, &f)) return NULL;
  if (!onnx_file_size_ok(path, &f)) {
    onnx_file_unmap(&f);
    return NULL;
  }
  OnnxLoadOptions oo = o ? *o : (OnnxLoadOptions){0};
  char *dir = NULL;
  if (!oo.base_dir) { /* external data lives next to the model */
    const char *slash = strrchr(path, '/');
    dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path))
                : strdup(".");
    oo.base_dir = dir;
  }
  IrModule *m = onnx_load_memory(f.base, f.size, path, &oo);
  free(dir);
  onnx_file_unmap(&f);
  return m;
}
