/*
 * onnx_export.c — `tcc export` (docs/compression.md "Export"): the model as
 * it was read, with what -quantize=int8 computed written in ONNX's own QDQ
 * form, so that ONNX Runtime and the usual tools run and inspect what tcc
 * compiled.
 *
 * Per layer of the quantize pass's log (QuantizeLog, ir/ir.h):
 *   - its input x goes through QuantizeLinear -> DequantizeLinear with the
 *     layer's u8 scale and zero point; layers that read the same x with the
 *     same parameters share one pair, placed before the first of them;
 *   - its weight becomes an i8 initializer with per-channel f32 scales and
 *     a DequantizeLinear(axis) in front.  The values are tcc's where they
 *     represent the file's weight to half a step (the weight tcc quantized
 *     is the file's); where they do not (fuse folded a BatchNormalization
 *     into it), the file's weight is quantized by the same rule, max|w|/127
 *     per channel;
 *   - a float weight that nothing else reads is dropped (and its entry in
 *     the graph's inputs, where an old model lists initializers there).
 * The rest of the file is as it was.  Per-axis DequantizeLinear needs the
 * default domain at opset 13 or later.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_int.h"

typedef struct Pair { /* one QuantizeLinear -> DequantizeLinear */
  const char *x, *dq;
  float scale;
  int zp;
  size_t before; /* the node it goes before */
  Onnx__NodeProto *q_node, *dq_node;
} Pair;

typedef struct Export {
  IrArena *a;
  const IrModule *m;
  const Onnx__GraphProto *g;
  OnnxMap names;  /* every name in the graph, and the new ones */
  OnnxMap uses;   /* input name -> (intptr_t) readers left */
  OnnxMap moved;  /* the weights some layer no longer reads */
  Pair *pairs;
  int num_pairs;
  Onnx__NodeProto **replaced; /* per node: its new form, or NULL */
  Onnx__NodeProto ***before;  /* per node: NULL-ended list to insert first */
  int *num_before;
  Onnx__TensorProto **inits;  /* the new initializers */
  size_t num_inits, cap_inits;
  int requantized;
} Export;

static IrLoc file_loc(const Export *e) { return (IrLoc){.file = e->m->source}; }

static IrLoc node_loc(const Export *e, const Onnx__NodeProto *n, int opset) {
  return (IrLoc){.file = e->m->source, .node = n->name ? n->name : "",
                 .op_type = n->op_type ? n->op_type : "", .opset = opset};
}

/* A name not yet in the graph: base, else base_2, base_3, ... */
static const char *fresh_name(Export *e, const char *base) {
  const char *name = base;
  for (int k = 2; onnx_map_get(&e->names, name); k++)
    name = ir_arena_printf(e->a, "%s_%d", base, k);
  onnx_map_put(&e->names, name, (void *)1);
  return name;
}

static void take_names(Export *e, const Onnx__GraphProto *g) {
  for (size_t i = 0; i < g->n_initializer; i++)
    onnx_map_put(&e->names, g->initializer[i]->name ? g->initializer[i]->name : "", (void *)1);
  for (size_t i = 0; i < g->n_input; i++)
    onnx_map_put(&e->names, g->input[i]->name ? g->input[i]->name : "", (void *)1);
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *n = g->node[i];
    for (size_t k = 0; k < n->n_output; k++) onnx_map_put(&e->names, n->output[k], (void *)1);
    if (n->name) onnx_map_put(&e->names, n->name, (void *)1);
  }
}

static void add_use(Export *e, const char *name, intptr_t k) {
  onnx_map_put(&e->uses, name, (void *)((intptr_t)onnx_map_get(&e->uses, name) + k));
}

/* Counts the readers of each name, a subgraph's (which may read the outer
 * graph's names) included; a graph output counts as one. */
static void count_uses(Export *e, const Onnx__GraphProto *g) {
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *n = g->node[i];
    for (size_t k = 0; k < n->n_input; k++)
      if (n->input[k] && *n->input[k]) add_use(e, n->input[k], 1);
    for (size_t k = 0; k < n->n_attribute; k++) {
      const Onnx__AttributeProto *at = n->attribute[k];
      if (at->g) count_uses(e, at->g);
      for (size_t j = 0; j < at->n_graphs; j++) count_uses(e, at->graphs[j]);
    }
  }
  for (size_t i = 0; i < g->n_output; i++)
    if (g->output[i]->name) add_use(e, g->output[i]->name, 1);
}

static Onnx__TensorProto *new_tensor(Export *e, const char *name, int dtype, int rank,
                                     const int64_t *dims, const void *data, size_t bytes) {
  Onnx__TensorProto *t = ir_arena_alloc(e->a, sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = (char *)name;
  t->has_data_type = true;
  t->data_type = dtype;
  t->n_dims = (size_t)rank;
  t->dims = ir_arena_alloc(e->a, sizeof *t->dims * (size_t)(rank ? rank : 1));
  if (rank) memcpy(t->dims, dims, sizeof *t->dims * (size_t)rank);
  t->has_raw_data = true;
  t->raw_data.len = bytes;
  t->raw_data.data = ir_arena_alloc(e->a, bytes ? bytes : 1);
  memcpy(t->raw_data.data, data, bytes);
  if (e->num_inits == e->cap_inits) {
    e->cap_inits = e->cap_inits ? 2 * e->cap_inits : 64;
    Onnx__TensorProto **grown = ir_arena_alloc(e->a, sizeof *grown * e->cap_inits);
    if (e->num_inits) memcpy(grown, e->inits, sizeof *grown * e->num_inits);
    e->inits = grown;
  }
  e->inits[e->num_inits++] = t;
  return t;
}

/* A node op(inputs) -> output, in the default domain; axis >= 0 sets it. */
static Onnx__NodeProto *new_node(Export *e, const char *op, const char *name, int n_in,
                                 const char *const *inputs, const char *output, int axis) {
  Onnx__NodeProto *n = ir_arena_alloc(e->a, sizeof *n);
  onnx__node_proto__init(n);
  n->op_type = (char *)op;
  n->name = (char *)fresh_name(e, name);
  n->n_input = (size_t)n_in;
  n->input = ir_arena_alloc(e->a, sizeof *n->input * (size_t)n_in);
  for (int i = 0; i < n_in; i++) n->input[i] = (char *)inputs[i];
  n->n_output = 1;
  n->output = ir_arena_alloc(e->a, sizeof *n->output);
  n->output[0] = (char *)output;
  if (axis >= 0) {
    Onnx__AttributeProto *at = ir_arena_alloc(e->a, sizeof *at);
    onnx__attribute_proto__init(at);
    at->name = "axis";
    at->has_type = true;
    at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    at->has_i = true;
    at->i = axis;
    n->n_attribute = 1;
    n->attribute = ir_arena_alloc(e->a, sizeof *n->attribute);
    n->attribute[0] = at;
  }
  return n;
}

static void insert_before(Export *e, size_t node, Onnx__NodeProto *n) {
  Onnx__NodeProto **list = ir_arena_alloc(e->a, sizeof *list * (size_t)(e->num_before[node] + 1));
  if (e->num_before[node]) memcpy(list, e->before[node], sizeof *list * (size_t)e->num_before[node]);
  list[e->num_before[node]++] = n;
  e->before[node] = list;
}

/* The DequantizeLinear output that layer input x reads: a pair shared by
 * readers of x with the same parameters, before the first of them. */
static const char *activation_pair(Export *e, const char *x, float scale, int zp, size_t node) {
  for (int i = 0; i < e->num_pairs; i++) {
    Pair *p = &e->pairs[i];
    if (strcmp(p->x, x) || p->scale != scale || p->zp != zp) continue;
    if (node < p->before) p->before = node;
    return p->dq;
  }
  const char *s = new_tensor(e, fresh_name(e, ir_arena_printf(e->a, "%s_tcc_scale", x)),
                             ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 0, NULL, &scale,
                             sizeof scale)->name;
  uint8_t z = (uint8_t)zp;
  const char *zn = new_tensor(e, fresh_name(e, ir_arena_printf(e->a, "%s_tcc_zero_point", x)),
                              ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, 0, NULL, &z, 1)->name;
  const char *q = fresh_name(e, ir_arena_printf(e->a, "%s_tcc_quantized", x));
  const char *dq = fresh_name(e, ir_arena_printf(e->a, "%s_tcc_dequantized", x));
  const char *qin[3] = {x, s, zn}, *dqin[3] = {q, s, zn};
  Pair p = {x, dq, scale, zp, node,
            new_node(e, "QuantizeLinear", ir_arena_printf(e->a, "%s_tcc_QuantizeLinear", x), 3,
                     qin, q, -1),
            new_node(e, "DequantizeLinear",
                     ir_arena_printf(e->a, "%s_tcc_DequantizeLinear", x), 3, dqin, dq, -1)};
  Pair *grown = ir_arena_alloc(e->a, sizeof *grown * (size_t)(e->num_pairs + 1));
  if (e->num_pairs) memcpy(grown, e->pairs, sizeof *grown * (size_t)e->num_pairs);
  grown[e->num_pairs++] = p;
  e->pairs = grown;
  return dq;
}

static const Onnx__TensorProto *find_initializer(const Onnx__GraphProto *g, const char *name) {
  for (size_t i = 0; i < g->n_initializer; i++)
    if (g->initializer[i]->name && !strcmp(g->initializer[i]->name, name))
      return g->initializer[i];
  return NULL;
}

/* Whether q * scale (per index of axis) is within half a step of w. */
static bool represents(const QuantizedLayer *l, const float *w, uint64_t numel) {
  uint64_t inner = 1;
  for (int i = l->axis + 1; i < l->rank; i++) inner *= (uint64_t)l->dims[i];
  for (uint64_t i = 0; i < numel; i++) {
    float s = l->scale[(i / inner) % (uint64_t)l->dims[l->axis]];
    if (!(fabs((double)w[i] - (double)l->q[i] * s) <= 0.5001 * s + 1e-30)) return false;
  }
  return true;
}

/* The weight input of n as i8 + scales -> DequantizeLinear; its output's
 * name, or NULL after a diagnostic. */
static const char *weight_pair(Export *e, const QuantizedLayer *l, const Onnx__NodeProto *n,
                               size_t node, int opset) {
  IrLoc loc = node_loc(e, n, opset);
  const char *wname = n->input[1];
  const Onnx__TensorProto *tp = find_initializer(e->g, wname);
  OnnxTpInfo info;
  bool same_dims = tp && tp->n_dims == (size_t)l->rank;
  for (int i = 0; same_dims && i < l->rank; i++) same_dims = tp->dims[i] == l->dims[i];
  if (!tp || !same_dims || !tp->has_data_type ||
      tp->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
    diag_at(DIAG_ERROR, &loc, "export: the weight '%s' is not an f32 initializer of the shape "
            "tcc quantized; tcc export writes a layer's int8 weight in place of an initializer "
            "only", wname);
    return NULL;
  }
  if (!onnx_tp_check(tp, &loc, ir_arena_printf(e->a, "initializer '%s'", wname), &info))
    return NULL;
  if (info.external) {
    diag_at(DIAG_ERROR, &loc, "export: the weight '%s' is stored as external data; tcc export "
            "writes models whose weights are in the file", wname);
    return NULL;
  }
  float *w = malloc(info.nbytes ? info.nbytes : 1);
  IR_ASSERT(w);
  onnx_tp_fill(tp, &info, w);
  int64_t channels = l->dims[l->axis];
  const int8_t *q = l->q;
  const float *scale = l->scale;
  int8_t *q_file = NULL;
  float *scale_file = NULL;
  if (!represents(l, w, info.numel)) {
    q_file = malloc(info.numel ? info.numel : 1);
    scale_file = malloc(sizeof *scale_file * (size_t)channels);
    IR_ASSERT(q_file && scale_file);
    uint64_t inner = 1;
    for (int i = l->axis + 1; i < l->rank; i++) inner *= (uint64_t)l->dims[i];
    ir_quantize_weight(w, info.numel, channels, inner, false, q_file, scale_file);
    q = q_file, scale = scale_file;
    e->requantized++;
  }
  free(w);
  const char *qi = new_tensor(e, fresh_name(e, ir_arena_printf(e->a, "%s_tcc_int8", wname)),
                              ONNX__TENSOR_PROTO__DATA_TYPE__INT8, l->rank, l->dims, q,
                              (size_t)info.numel)->name;
  const char *si = new_tensor(e, fresh_name(e, ir_arena_printf(e->a, "%s_tcc_scale", wname)),
                              ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, &channels, scale,
                              sizeof *scale * (size_t)channels)->name;
  free(q_file), free(scale_file);
  const char *out = fresh_name(e, ir_arena_printf(e->a, "%s_tcc_dequantized", wname));
  const char *in[2] = {qi, si};
  insert_before(e, node, new_node(e, "DequantizeLinear",
                                  ir_arena_printf(e->a, "%s_tcc_DequantizeLinear", wname), 2,
                                  in, out, l->axis));
  add_use(e, wname, -1);
  onnx_map_put(&e->moved, wname, (void *)1);
  return out;
}

static int default_opset(const Onnx__ModelProto *mp) {
  for (size_t i = 0; i < mp->n_opset_import; i++)
    if (onnx_is_default_domain(mp->opset_import[i]->domain)) return (int)mp->opset_import[i]->version;
  return 0;
}

/* The layer's node: where in the main graph, and its rewritten copy. */
static bool place_layer(Export *e, const QuantizedLayer *l, int opset) {
  size_t node = 0;
  while (node < e->g->n_node && (const void *)e->g->node[node] != l->node) node++;
  const Onnx__NodeProto *n = node < e->g->n_node ? e->g->node[node] : NULL;
  if (!n || n->n_input < 2 || !onnx_is_default_domain(n->domain) ||
      (strcmp(n->op_type, "Conv") && strcmp(n->op_type, "MatMul") && strcmp(n->op_type, "Gemm"))) {
    IrLoc loc = file_loc(e);
    diag_at(DIAG_ERROR, &loc, "export: the layer quantized at node '%s' is not a Conv, MatMul "
            "or Gemm of the main graph; it cannot be written back in QDQ form",
            l->node_name ? l->node_name : "");
    return false;
  }
  Onnx__NodeProto *copy = e->replaced[node];
  if (!copy) {
    copy = ir_arena_alloc(e->a, sizeof *copy);
    *copy = *n;
    copy->input = ir_arena_alloc(e->a, sizeof *copy->input * n->n_input);
    memcpy(copy->input, n->input, sizeof *copy->input * n->n_input);
    e->replaced[node] = copy;
  }
  const char *w = weight_pair(e, l, n, node, opset);
  if (!w) return false;
  copy->input[0] = (char *)activation_pair(e, n->input[0], l->x_scale, l->x_zero_point, node);
  copy->input[1] = (char *)w;
  return true;
}

/* Whether an initializer or graph input named name stays: all but the
 * weights that the layers' int8 forms replaced everywhere. */
static bool still_read(const Export *e, const char *name) {
  return !name || !onnx_map_get(&e->moved, name) || onnx_map_get(&e->uses, name);
}

bool onnx_export_qdq(const IrModule *m, const QuantizeLog *log, void **bytes, size_t *size,
                     OnnxExportStats *stats) {
  const Onnx__ModelProto *mp = m->onnx_model;
  IrLoc loc = {.file = m->source};
  if (!mp || !mp->graph) {
    diag_at(DIAG_ERROR, &loc, "export: the model was not read from an ONNX file");
    return false;
  }
  int opset = default_opset(mp);
  if (log->num && opset < 13) {
    diag_at(DIAG_ERROR, &loc, "export: the model imports opset %d; per-channel int8 weights "
            "need DequantizeLinear with an axis, opset 13 or later (onnx.version_converter "
            "can convert the model)", opset);
    return false;
  }
  Export e = {.a = ir_arena_new(), .m = m, .g = mp->graph};
  const Onnx__GraphProto *g = mp->graph;
  onnx_map_init(&e.names, e.a);
  onnx_map_init(&e.uses, e.a);
  onnx_map_init(&e.moved, e.a);
  size_t nodes = g->n_node ? g->n_node : 1;
  e.replaced = ir_arena_alloc(e.a, sizeof *e.replaced * nodes);
  e.before = ir_arena_alloc(e.a, sizeof *e.before * nodes);
  e.num_before = ir_arena_alloc(e.a, sizeof *e.num_before * nodes);
  take_names(&e, g);
  count_uses(&e, g);
  bool ok = true;
  for (int i = 0; ok && i < log->num; i++) ok = place_layer(&e, &log->layers[i], opset);
  if (ok) {
    for (int i = 0; i < e.num_pairs; i++) { /* the activation pairs go first */
      Pair *p = &e.pairs[i];
      Onnx__NodeProto **list = e.before[p->before];
      int n = e.num_before[p->before];
      e.before[p->before] = NULL, e.num_before[p->before] = 0;
      insert_before(&e, p->before, p->q_node);
      insert_before(&e, p->before, p->dq_node);
      for (int k = 0; k < n; k++) insert_before(&e, p->before, list[k]);
    }
    Onnx__GraphProto graph = *g;
    size_t n_nodes = g->n_node;
    for (size_t i = 0; i < g->n_node; i++) n_nodes += (size_t)e.num_before[i];
    graph.node = ir_arena_alloc(e.a, sizeof *graph.node * (n_nodes ? n_nodes : 1));
    graph.n_node = 0;
    for (size_t i = 0; i < g->n_node; i++) {
      for (int k = 0; k < e.num_before[i]; k++) graph.node[graph.n_node++] = e.before[i][k];
      graph.node[graph.n_node++] = e.replaced[i] ? e.replaced[i] : g->node[i];
    }
    graph.initializer = ir_arena_alloc(e.a, sizeof *graph.initializer *
                                                (g->n_initializer + e.num_inits + 1));
    graph.n_initializer = 0;
    for (size_t i = 0; i < g->n_initializer; i++)
      if (still_read(&e, g->initializer[i]->name))
        graph.initializer[graph.n_initializer++] = g->initializer[i];
    for (size_t i = 0; i < e.num_inits; i++) graph.initializer[graph.n_initializer++] = e.inits[i];
    graph.input = ir_arena_alloc(e.a, sizeof *graph.input * (g->n_input + 1));
    graph.n_input = 0;
    for (size_t i = 0; i < g->n_input; i++)
      if (still_read(&e, g->input[i]->name) || !find_initializer(g, g->input[i]->name))
        graph.input[graph.n_input++] = g->input[i];
    Onnx__ModelProto model = *mp;
    model.graph = &graph;
    *size = onnx__model_proto__get_packed_size(&model);
    if (*size >= (size_t)1 << 31) {
      diag_at(DIAG_ERROR, &loc, "export: the model would be %zu bytes, over protobuf's 2 GiB",
              *size);
      ok = false;
    } else {
      *bytes = malloc(*size ? *size : 1);
      IR_ASSERT(*bytes);
      onnx__model_proto__pack(&model, *bytes);
    }
    if (stats) {
      stats->layers = log->num;
      stats->pairs = e.num_pairs;
      stats->requantized = e.requantized;
    }
  }
  ir_arena_free(e.a);
  return ok;
}
