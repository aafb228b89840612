/* test_onnx.c — the ONNX frontend: models built here with protobuf-c, packed
 * to bytes, loaded; the IR is inspected and every frontend error is checked
 * by its exact text. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "onnx.h"
#include "onnx.pb-c.h"

/* ------------------------------------------------------- diagnostics */
static char diags[16384];

static void sink(void *user, DiagLevel level, const char *msg) {
  (void)user, (void)level;
  size_t n = strlen(diags);
  snprintf(diags + n, sizeof diags - n, "%s%s", n ? "\n" : "", msg);
}

static int setup(void **state) {
  (void)state;
  diags[0] = 0;
  diag_set_sink(sink, NULL);
  return 0;
}

/* ---------------------------------------------------- model builder */
/* Everything the builder makes is cut from one arena: no bookkeeping. */
typedef struct MB {
  IrArena *a;
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__OperatorSetIdProto *opsets[4];
  Onnx__NodeProto *nodes[64];
  Onnx__TensorProto *inits[64];
  Onnx__ValueInfoProto *ins[16], *outs[16];
} MB;

static MB *mb_new(int opset) {
  IrArena *a = ir_arena_new();
  MB *b = ir_arena_alloc(a, sizeof *b);
  b->a = a;
  onnx__model_proto__init(&b->model);
  onnx__graph_proto__init(&b->graph);
  b->model.graph = &b->graph;
  b->model.opset_import = b->opsets;
  b->graph.node = b->nodes;
  b->graph.initializer = b->inits;
  b->graph.input = b->ins;
  b->graph.output = b->outs;
  b->graph.name = "g";
  if (opset) {
    Onnx__OperatorSetIdProto *os = ir_arena_alloc(a, sizeof *os);
    onnx__operator_set_id_proto__init(os);
    os->domain = "";
    os->has_version = true;
    os->version = opset;
    b->opsets[b->model.n_opset_import++] = os;
  }
  return b;
}

static void mb_free(MB *b) { ir_arena_free(b->a); }

/* "N,3,?" -> a TypeProto: numbers, params, '?' unknown; NULL spec: no shape */
static Onnx__TypeProto *mb_type(MB *b, int dtype, const char *spec) {
  Onnx__TypeProto *t = ir_arena_alloc(b->a, sizeof *t);
  onnx__type_proto__init(t);
  Onnx__TypeProto__Tensor *tt = ir_arena_alloc(b->a, sizeof *tt);
  onnx__type_proto__tensor__init(tt);
  t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  t->tensor_type = tt;
  tt->has_elem_type = true;
  tt->elem_type = dtype;
  if (!spec) return t;
  Onnx__TensorShapeProto *sh = ir_arena_alloc(b->a, sizeof *sh);
  onnx__tensor_shape_proto__init(sh);
  sh->dim = ir_arena_alloc(b->a, sizeof *sh->dim * 16);
  tt->shape = sh;
  char *s = ir_arena_strdup(b->a, spec), *save = NULL;
  for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    Onnx__TensorShapeProto__Dimension *d = ir_arena_alloc(b->a, sizeof *d);
    onnx__tensor_shape_proto__dimension__init(d);
    if ((*tok >= '0' && *tok <= '9') || *tok == '-') {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = strtoll(tok, NULL, 10);
    } else if (strcmp(tok, "?")) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = tok;
    }
    sh->dim[sh->n_dim++] = d;
  }
  return t;
}

static Onnx__ValueInfoProto *mb_vi(MB *b, const char *name, int dtype,
                                   const char *spec) {
  Onnx__ValueInfoProto *v = ir_arena_alloc(b->a, sizeof *v);
  onnx__value_info_proto__init(v);
  v->name = (char *)name;
  if (dtype) v->type = mb_type(b, dtype, spec);
  return v;
}

static void mb_input(MB *b, const char *name, int dtype, const char *spec) {
  b->ins[b->graph.n_input++] = mb_vi(b, name, dtype, spec);
}
static void mb_output(MB *b, const char *name, int dtype, const char *spec) {
  b->outs[b->graph.n_output++] = mb_vi(b, name, dtype, spec);
}

static Onnx__TensorProto *mb_tensor(MB *b, const char *name, int dtype,
                                    int rank, const int64_t *dims) {
  Onnx__TensorProto *t = ir_arena_alloc(b->a, sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = (char *)name;
  t->has_data_type = true;
  t->data_type = dtype;
  t->n_dims = (size_t)rank;
  t->dims = ir_arena_alloc(b->a, sizeof(int64_t) * 32);
  if (rank) memcpy(t->dims, dims, sizeof(int64_t) * (size_t)rank);
  return t;
}

static Onnx__TensorProto *mb_init(MB *b, const char *name, int dtype, int rank,
                                  const int64_t *dims, const void *raw,
                                  size_t nbytes) {
  Onnx__TensorProto *t = mb_tensor(b, name, dtype, rank, dims);
  if (raw) {
    t->has_raw_data = true;
    t->raw_data.len = nbytes;
    t->raw_data.data = (uint8_t *)raw;
  }
  b->inits[b->graph.n_initializer++] = t;
  return t;
}

/* "a,b" -> names; "a,," keeps empty names */
static char **mb_names(MB *b, const char *list, size_t *n) {
  char **v = ir_arena_alloc(b->a, sizeof *v * 16);
  *n = 0;
  if (!list) return v;
  char *s = ir_arena_strdup(b->a, list);
  for (char *p = s;; p++) {
    char *e = strchr(p, ',');
    if (e) *e = 0;
    v[(*n)++] = p;
    if (!e) break;
    p = e;
  }
  return v;
}

static Onnx__NodeProto *mb_node(MB *b, const char *op, const char *name,
                                const char *ins, const char *outs) {
  Onnx__NodeProto *n = ir_arena_alloc(b->a, sizeof *n);
  onnx__node_proto__init(n);
  n->op_type = (char *)op;
  n->name = (char *)name;
  n->input = mb_names(b, ins, &n->n_input);
  n->output = mb_names(b, outs, &n->n_output);
  n->attribute = ir_arena_alloc(b->a, sizeof *n->attribute * 8);
  b->nodes[b->graph.n_node++] = n;
  return n;
}

static Onnx__AttributeProto *mb_attr(MB *b, Onnx__NodeProto *n,
                                     const char *name,
                                     Onnx__AttributeProto__AttributeType k) {
  Onnx__AttributeProto *a = ir_arena_alloc(b->a, sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = (char *)name;
  a->has_type = true;
  a->type = k;
  n->attribute[n->n_attribute++] = a;
  return a;
}

static uint8_t *mb_pack(MB *b, size_t *n) {
  *n = onnx__model_proto__get_packed_size(&b->model);
  uint8_t *buf = ir_arena_alloc(b->a, *n + 1);
  onnx__model_proto__pack(&b->model, buf);
  return buf;
}

static IrModule *mb_load(MB *b, const OnnxLoadOptions *o) {
  size_t n;
  uint8_t *buf = mb_pack(b, &n);
  return onnx_load_memory(buf, n, "t.onnx", o);
}

/* Loads, expects failure and exactly the message msg (all diagnostics). */
static void expect_error(MB *b, const OnnxLoadOptions *o, const char *msg) {
  diags[0] = 0;
  IrModule *m = mb_load(b, o);
  assert_null(m);
  assert_string_equal(diags, msg);
  mb_free(b);
}

/* x: f32[2,3] -> Relu -> y */
static MB *mb_relu(void) {
  MB *b = mb_new(13);
  mb_input(b, "x", 1, "2,3");
  mb_node(b, "Relu", "r", "x", "y");
  mb_output(b, "y", 1, "2,3");
  return b;
}

/* --------------------------------------------------------- valid models */
static void test_valid_model(void **state) {
  (void)state;
  MB *b = mb_new(13);
  mb_input(b, "x", 1, "N,3");
  int64_t d3[] = {3};
  float w[] = {1, -2, 3};
  mb_init(b, "b/bias:0", 1, 1, d3, w, sizeof w);
  Onnx__TensorProto *t = mb_init(b, "a_b", 1, 1, d3, NULL, 0);
  float fd[] = {4, 5, 6};
  t->n_float_data = 3, t->float_data = fd;
  mb_init(b, "a/b", 1, 1, d3, w, sizeof w);
  mb_node(b, "Add", "add0", "x,b/bias:0", "t");
  mb_node(b, "Relu", "relu0", "t", "y");
  mb_output(b, "y", 1, "N,3");
  OnnxDimBinding dim = {.param = "N", .value = 2};
  OnnxLoadOptions o = {.model_name = "tiny", .dims = &dim, .num_dims = 1};
  IrModule *m = mb_load(b, &o);
  assert_non_null(m);
  assert_string_equal(diags, "");
  assert_true(dim.used);
  assert_string_equal(m->name, "tiny");
  assert_int_equal(m->num_weights, 3);
  assert_string_equal(m->weights[0]->name, "b_bias_0");
  assert_string_equal(m->weights[0]->value->name, "b/bias:0");
  assert_string_equal(m->weights[1]->name, "a_b");
  assert_string_equal(m->weights[2]->name, "a_b_1");
  assert_memory_equal(m->weights[0]->data, w, sizeof w);
  assert_memory_equal(m->weights[1]->data, fd, sizeof fd);
  assert_int_equal(m->weights[1]->nbytes, 12);
  assert_int_equal((uintptr_t)m->weights[1]->data % 64, 0);
  assert_int_equal(m->num_syms, 1);
  assert_string_equal(m->syms[0].name, "N");
  assert_int_equal(m->syms[0].value, 2);
  IrFunc *f = m->main;
  assert_int_equal(f->num_inputs, 1);
  assert_string_equal(f->input_names[0], "x");
  IrValue *x = f->body->args[0];
  assert_int_equal(x->type.rank, 2);
  assert_int_equal(x->type.dims[0].size, 2);
  assert_int_equal(x->type.dims[0].sym, -1);
  assert_int_equal(x->type.dims[1].size, 3);
  IrOp *add = f->body->first;
  assert_int_equal(add->kind, IR_OP_ADD);
  assert_ptr_equal(add->operands[0], x);
  assert_ptr_equal(add->operands[1], m->weights[0]->value);
  assert_string_equal(add->loc.node, "add0");
  assert_string_equal(add->loc.op_type, "Add");
  assert_int_equal(add->loc.opset, 13);
  IrOp *relu = add->next;
  assert_int_equal(relu->kind, IR_OP_RELU);
  assert_ptr_equal(relu->operands[0], add->results[0]);
  assert_string_equal(relu->results[0]->name, "y");
  IrOp *ret = relu->next;
  assert_int_equal(ret->kind, IR_OP_RETURN);
  assert_ptr_equal(ret->operands[0], relu->results[0]);
  assert_null(ret->next);
  assert_int_equal(f->num_outputs, 1);
  assert_string_equal(f->output_names[0], "y");
  assert_true(ir_type_equal(&f->output_types[0], &x->type));
  ir_module_free(m);
  mb_free(b);
}

/* Nodes out of order are sorted; file order is kept where valid. */
static void test_topo_sort(void **state) {
  (void)state;
  MB *b = mb_new(13);
  mb_input(b, "x", 1, "2");
  mb_node(b, "Relu", "second", "a", "y");
  mb_node(b, "Relu", "first", "x", "a");
  mb_node(b, "Identity", "other", "x", "z");
  mb_output(b, "y", 1, "2");
  mb_output(b, "z", 1, "2");
  IrModule *m = mb_load(b, NULL);
  assert_non_null(m);
  IrOp *op = m->main->body->first;
  assert_string_equal(op->loc.node, "first");
  assert_string_equal(op->next->loc.node, "second");
  assert_string_equal(op->next->next->loc.node, "other");
  ir_module_free(m);
  mb_free(b);
}

/* Every storage form becomes dense little-endian data. */
static void test_storage_forms(void **state) {
  (void)state;
  MB *b = mb_relu();
  int64_t d2[] = {2};
  int32_t i32[] = {-3, 200};
  Onnx__TensorProto *t;
  t = mb_init(b, "i8", 3, 1, d2, NULL, 0), t->n_int32_data = 2, t->int32_data = i32;
  t = mb_init(b, "u16", 4, 1, d2, NULL, 0), t->n_int32_data = 2, t->int32_data = i32;
  int32_t bools[] = {0, 7};
  t = mb_init(b, "bool", 9, 1, d2, NULL, 0), t->n_int32_data = 2, t->int32_data = bools;
  int32_t halves[] = {0x3c00, 0xc000};
  t = mb_init(b, "f16", 10, 1, d2, NULL, 0), t->n_int32_data = 2, t->int32_data = halves;
  int64_t i64[] = {-5, 1ll << 40};
  t = mb_init(b, "i64", 7, 1, d2, NULL, 0), t->n_int64_data = 2, t->int64_data = i64;
  double f64[] = {0.5, -1e300};
  t = mb_init(b, "f64", 11, 1, d2, NULL, 0), t->n_double_data = 2, t->double_data = f64;
  uint64_t u64[] = {7, 0xffffffffu};
  t = mb_init(b, "u32", 12, 1, d2, NULL, 0), t->n_uint64_data = 2, t->uint64_data = u64;
  t = mb_init(b, "u64", 13, 1, d2, NULL, 0), t->n_uint64_data = 2, t->uint64_data = u64;
  t = mb_init(b, "scalar", 1, 0, NULL, NULL, 0);
  float one = 1;
  t->n_float_data = 1, t->float_data = &one;
  mb_init(b, "empty", 1, 1, (int64_t[]){0}, NULL, 0);
  IrModule *m = mb_load(b, NULL);
  assert_non_null(m);
  assert_int_equal(m->num_weights, 10);
  assert_memory_equal(m->weights[0]->data, ((int8_t[]){-3, (int8_t)200}), 2);
  assert_memory_equal(m->weights[1]->data, ((uint16_t[]){65533, 200}), 4);
  assert_memory_equal(m->weights[2]->data, ((uint8_t[]){0, 1}), 2);
  assert_memory_equal(m->weights[3]->data, ((uint16_t[]){0x3c00, 0xc000}), 4);
  assert_memory_equal(m->weights[4]->data, i64, 16);
  assert_memory_equal(m->weights[5]->data, f64, 16);
  assert_memory_equal(m->weights[6]->data, ((uint32_t[]){7, 0xffffffffu}), 8);
  assert_memory_equal(m->weights[7]->data, u64, 16);
  assert_int_equal(m->weights[8]->value->type.rank, 0);
  assert_memory_equal(m->weights[8]->data, &one, 4);
  assert_int_equal(m->weights[9]->nbytes, 0);
  for (int i = 0; i < 8; i++) {
    assert_int_equal(m->weights[i]->nbytes, 2 * ir_elem_size(m->weights[i]->value->type.elem));
    assert_int_equal((uintptr_t)m->weights[i]->data % 64, 0);
  }
  assert_int_equal(m->weights[6]->value->type.elem, IR_U32);
  ir_module_free(m);
  mb_free(b);
}

/* The sub-byte types are stored packed (raw_data, or int32_data with one
 * packed byte per value) and become one byte per element; a count of
 * stored bytes other than ceil(n * bits / 8) is refused. */
static void test_subbyte_storage(void **state) {
  (void)state;
  MB *b = mb_relu();
  int64_t d5[] = {5}, d3[] = {3};
  uint8_t raw[5] = {0xe1, 0x87, 0x03}, f4[2] = {0x7f, 0x08};
  int32_t i32[] = {0x39};
  mb_init(b, "i4", 22, 1, d5, raw, 3);
  Onnx__TensorProto *t = mb_init(b, "u2", 25, 1, d3, NULL, 0);
  t->n_int32_data = 1, t->int32_data = i32;
  mb_init(b, "f4", 23, 1, d3, f4, 2);
  IrModule *m = mb_load(b, NULL);
  assert_non_null(m);
  assert_int_equal(m->weights[0]->value->type.elem, IR_I4);
  assert_int_equal(m->weights[0]->nbytes, 5);
  assert_memory_equal(m->weights[0]->data, ((int8_t[]){1, -2, 7, -8, 3}), 5);
  assert_int_equal(m->weights[1]->value->type.elem, IR_U2);
  assert_memory_equal(m->weights[1]->data, ((uint8_t[]){1, 2, 3}), 3);
  assert_int_equal(m->weights[2]->value->type.elem, IR_F4E2M1);
  assert_memory_equal(m->weights[2]->data, ((uint8_t[]){0xf, 0x7, 0x8}), 3);
  ir_module_free(m);
  mb_free(b);
  b = mb_relu();
  mb_init(b, "W", 22, 1, d5, raw, 5);
  expect_error(b, NULL, "t.onnx: error: initializer 'W': i4[5] needs 3 "
                        "bytes of data, found 5");
}

/* Constant nodes become weights; tensor attributes become "$weight". */
static void test_constants(void **state) {
  (void)state;
  MB *b = mb_new(13);
  mb_output(b, "c1", 0, NULL);
  mb_output(b, "c2", 0, NULL);
  mb_output(b, "c3", 0, NULL);
  Onnx__NodeProto *n = mb_node(b, "Constant", "k1", NULL, "c1");
  Onnx__AttributeProto *a =
      mb_attr(b, n, "value_float", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = true, a->f = 2.5f;
  n = mb_node(b, "Constant", "k2", NULL, "c2");
  a = mb_attr(b, n, "value_ints", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  int64_t ints[] = {1, 2, 3};
  a->n_ints = 3, a->ints = ints;
  n = mb_node(b, "Constant", "k3", NULL, "c3");
  a = mb_attr(b, n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  int64_t d2[] = {2};
  a->t = mb_tensor(b, "", 7, 1, d2);
  a->t->n_int64_data = 2, a->t->int64_data = ints;
  IrModule *m = mb_load(b, NULL);
  assert_non_null(m);
  assert_int_equal(m->num_weights, 3);
  assert_string_equal(m->weights[0]->name, "c1");
  assert_int_equal(m->weights[0]->value->type.rank, 0);
  assert_int_equal(m->weights[0]->value->type.elem, IR_F32);
  assert_true(*(const float *)m->weights[0]->data == 2.5f);
  assert_int_equal(m->weights[1]->value->type.dims[0].size, 3);
  assert_memory_equal(m->weights[1]->data, ints, 24);
  assert_memory_equal(m->weights[2]->data, ints, 16);
  assert_ptr_equal(m->main->body->first->operands[2], m->weights[2]->value);
  ir_module_free(m);
  mb_free(b);
}

/* ------------------------------------------------------------- errors */
#define PARSE_FAILED "t.onnx: error: not a valid ONNX model (protobuf parse " \
                     "failed; the file is truncated or not ONNX)"

static void test_not_protobuf(void **state) {
  (void)state;
  const char junk[] = "\xff\xff\xff\xff garbage";
  assert_null(onnx_load_memory(junk, sizeof junk, "t.onnx", NULL));
  assert_string_equal(diags, PARSE_FAILED);
  diags[0] = 0;
  assert_null(onnx_load_memory("", 0, "t.onnx", NULL));
  assert_string_equal(diags, "t.onnx: error: the file is empty; not an ONNX model");
  diags[0] = 0;
  assert_null(onnx_load_file("/nonexistent/m.onnx", NULL));
  assert_string_equal(diags, "/nonexistent/m.onnx: error: cannot open: No such "
                             "file or directory");
}

static void test_no_graph(void **state) {
  (void)state;
  MB *b = mb_new(13);
  b->model.graph = NULL;
  expect_error(b, NULL, "t.onnx: error: the model has no graph");
}

/* Every 1/16th prefix of a valid model fails cleanly or loads. */
static void test_truncated(void **state) {
  (void)state;
  MB *b = mb_relu();
  int64_t d[] = {4, 4};
  static float w[16];
  mb_init(b, "w", 1, 2, d, w, sizeof w);
  size_t n;
  uint8_t *buf = mb_pack(b, &n);
  int failed = 0;
  for (int k = 0; k < 16; k++) {
    diags[0] = 0;
    IrModule *m = onnx_load_memory(buf, n * (size_t)k / 16, "t.onnx", NULL);
    if (m) ir_module_free(m);
    else {
      failed++;
      assert_true(strstr(diags, "error: ") != NULL);
    }
  }
  assert_true(failed >= 15);
  IrModule *m = onnx_load_memory(buf, n, "t.onnx", NULL);
  assert_non_null(m);
  ir_module_free(m);
  mb_free(b);
}

/* Random byte mutations of a valid model (fixed seed): load or fail with a
 * diagnostic, never crash (ASan/UBSan builds check the memory side). */
static void test_mutations(void **state) {
  (void)state;
  MB *b = mb_relu();
  int64_t d[] = {3};
  static const float w[3] = {1, 2, 3};
  mb_init(b, "w", 1, 1, d, w, sizeof w);
  mb_node(b, "Add", "a", "y,w", "z");
  /* an INTS attribute its op has (an unknown one is refused) */
  Onnx__NodeProto *n = mb_node(b, "Transpose", "t", "z", "z2");
  Onnx__AttributeProto *a =
      mb_attr(b, n, "perm", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  static int64_t ints[] = {0, 1};
  a->n_ints = 2, a->ints = ints;
  mb_output(b, "z2", 1, "2,3");
  size_t len;
  const uint8_t *orig = mb_pack(b, &len);
  uint8_t *buf = malloc(len);
  unsigned seed = 12345;
  int loaded = 0;
  for (int iter = 0; iter < 3000; iter++) {
    memcpy(buf, orig, len);
    for (int k = 0; k < 1 + iter % 4; k++) {
      seed = seed * 1103515245u + 12345u;
      buf[(seed >> 8) % len] = (uint8_t)(seed >> 20);
    }
    diags[0] = 0;
    IrModule *m = onnx_load_memory(buf, len, "t.onnx", NULL);
    if (m) loaded++, ir_module_free(m);
    else assert_true(strstr(diags, "error: ") != NULL);
  }
  assert_true(loaded > 0);
  free(buf);
  mb_free(b);
}

static void test_opsets(void **state) {
  (void)state;
  MB *b = mb_relu();
  b->opsets[0]->version = 29;
  expect_error(b, NULL, "t.onnx: error: unsupported opset 29 for domain "
                        "'ai.onnx' (tcc supports 1 to 28)");
  b = mb_relu();
  b->opsets[0]->version = 0;
  expect_error(b, NULL, "t.onnx: error: unsupported opset 0 for domain "
                        "'ai.onnx' (tcc supports 1 to 28)");
  b = mb_relu();
  b->model.n_opset_import = 0;
  expect_error(b, NULL, "t.onnx: error: the model imports no opset for domain "
                        "'ai.onnx' (opset_import is missing)");
  b = mb_relu();
  b->opsets[0]->domain = "com.microsoft";
  expect_error(b, NULL, "t.onnx: error: the model imports no opset for domain "
                        "'ai.onnx'");
  b = mb_relu();
  b->opsets[0]->domain = "ai.onnx"; /* the explicit spelling works too */
  IrModule *m = mb_load(b, NULL);
  assert_non_null(m);
  ir_module_free(m);
  mb_free(b);
}

/* x: f32[4] -> Split {num_outputs=2} -> y0, y1 at the given opset */
static MB *mb_split_num_outputs(int opset) {
  MB *b = mb_new(opset);
  mb_input(b, "x", 1, "4");
  Onnx__NodeProto *n = mb_node(b, "Split", "s", "x", "y0,y1");
  Onnx__AttributeProto *a = mb_attr(b, n, "num_outputs", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = true;
  a->i = 2;
  mb_output(b, "y0", 1, "2");
  mb_output(b, "y1", 1, "2");
  return b;
}

/* The schema table goes past Debian's onnx 1.12 (opset 17): attributes
 * that a version added are refused below it and taken from it on. */
static void test_schema_versions(void **state) {
  (void)state;
  expect_error(mb_split_num_outputs(17), NULL,
               "t.onnx: node 's' (Split, opset 17): error: Split has no attribute 'num_outputs' "
               "at opset 17 (its attributes: axis)");
  MB *b = mb_split_num_outputs(18);
  IrModule *m = mb_load(b, NULL);
  assert_non_null(m);
  ir_module_free(m);
  mb_free(b);
  b = mb_relu();
  b->opsets[0]->version = 28;
  m = mb_load(b, NULL);
  assert_non_null(m);
  ir_module_free(m);
  mb_free(b);
}

/* x: f32[6] -> SplitToSequence (split `split`, an int64 initializer of
 * `nsplit` values, or a graph input when nsplit < 0) -> SequenceAt(pos) -> y */
static MB *mb_sequence(int64_t split, int nsplit, int64_t pos, const char *ydims) {
  MB *b = mb_new(12);
  mb_input(b, "x", 1, "6");
  int64_t *sp = ir_arena_alloc(b->a, 8), *p = ir_arena_alloc(b->a, 8);
  *sp = split, *p = pos;
  if (nsplit < 0) mb_input(b, "split", 7, "");
  else mb_init(b, "split", 7, nsplit, (int64_t[]){1}, sp, 8);
  mb_init(b, "pos", 7, 0, NULL, p, 8);
  mb_node(b, "SplitToSequence", "s", "x,split", "seq");
  mb_node(b, "SequenceAt", "at", "seq,pos", "y");
  mb_output(b, "y", 1, ydims);
  return b;
}

/* Sequences are resolved at import: lists of the parts' values. */
static void test_sequences(void **state) {
  (void)state;
  MB *b = mb_sequence(4, 0, -1, "2"); /* [0:4], [4:6]: the last one */
  IrModule *m = mb_load(b, NULL);
  assert_non_null(m);
  ir_module_free(m);
  mb_free(b);
  expect_error(mb_sequence(4, 0, 2, "2"), NULL,
               "t.onnx: node 'at' (SequenceAt, opset 12): error: SequenceAt: position 2 is out "
               "of range for a sequence of 2");
  expect_error(mb_sequence(4, -1, 0, "4"), NULL,
               "t.onnx: node 's' (SplitToSequence, opset 12): error: SplitToSequence: split must "
               "be integers known at compile time");
  expect_error(mb_sequence(0, 0, 0, "4"), NULL,
               "t.onnx: node 's' (SplitToSequence, opset 12): error: SplitToSequence: split must "
               "be positive, got 0");
  b = mb_new(12);
  mb_input(b, "x", 1, "6");
  mb_node(b, "SequenceLength", "len", "x", "y");
  mb_output(b, "y", 7, "");
  expect_error(b, NULL, "t.onnx: node 'len' (SequenceLength, opset 12): error: SequenceLength: "
               "input 'x' is not a sequence built in this graph (tcc resolves sequences at "
               "compile time)");
}

static void test_unknown_op_and_domain(void **state) {
  (void)state;
  MB *b = mb_relu();
  b->nodes[0]->op_type = "Foo";
  expect_error(b, NULL, "t.onnx: node 'r' (Foo, opset 13): error: "
                        "unsupported operator 'Foo'");
  b = mb_relu();
  b->nodes[0]->domain = "com.example";
  expect_error(b, NULL, "t.onnx: node 'r' (Relu): error: operator domain "
                        "'com.example' is not supported (tcc supports the default domain "
                        "'ai.onnx' and the quantized ops of 'com.microsoft')");
  b = mb_relu();
  b->nodes[0]->domain = "com.microsoft"; /* only its quantized ops */
  expect_error(b, NULL, "t.onnx: node 'r' (Relu): error: unsupported operator 'Relu' of "
                        "domain 'com.microsoft' (tcc takes QuantizeLinear, DequantizeLinear, "
                        "QLinearAdd, QLinearMul, QLinearSigmoid, QLinearLeakyRelu, "
                        "QLinearAveragePool, QLinearGlobalAveragePool and QLinearConcat there)");
}

static void test_undefined_and_cycle(void **state) {
  (void)state;
  MB *b = mb_relu();
  b->nodes[0]->input[0] = "foo";
  expect_error(b, NULL, "t.onnx: node 'r' (Relu, opset 13): error: input "
                        "'foo' is not produced by any node, initializer or "
                        "graph input");
  b = mb_new(13);
  mb_input(b, "x", 1, "2");
  mb_node(b, "Relu", "n0", "b", "a");
  mb_node(b, "Relu", "n1", "a", "b");
  mb_output(b, "b", 1, "2");
  expect_error(b, NULL, "t.onnx: node 'n0' (Relu, opset 13): error: the "
                        "graph has a cycle through this node (via value 'a')");
  b = mb_new(13); /* a node that consumes its own output */
  mb_node(b, "Relu", "self", "a", "a");
  mb_output(b, "a", 1, "2");
  expect_error(b, NULL, "t.onnx: node 'self' (Relu, opset 13): error: the "
                        "graph has a cycle through this node (via value 'a')");
}

static void test_duplicates(void **state) {
  (void)state;
  MB *b = mb_relu();
  mb_node(b, "Relu", "r2", "x", "y");
  expect_error(b, NULL, "t.onnx: node 'r2' (Relu, opset 13): error: output "
                        "'y' is already defined by node 'r'");
  b = mb_relu();
  mb_node(b, "Relu", "r2", "x", "x");
  expect_error(b, NULL, "t.onnx: node 'r2' (Relu, opset 13): error: output "
                        "'x' is already defined as a graph input");
  b = mb_relu();
  float w = 1;
  mb_init(b, "w", 1, 0, NULL, &w, 4);
  mb_init(b, "w", 1, 0, NULL, &w, 4);
  expect_error(b, NULL, "t.onnx: error: initializer 'w' is defined twice");
  b = mb_relu();
  mb_input(b, "x", 1, "2,3");
  expect_error(b, NULL, "t.onnx: error: graph input 'x' is listed twice");
}

static void test_outputs(void **state) {
  (void)state;
  MB *b = mb_relu();
  b->outs[0]->name = "nope";
  expect_error(b, NULL, "t.onnx: error: output 'nope' is not produced by any "
                        "node, initializer or graph input");
  b = mb_relu();
  b->outs[0]->type->tensor_type->elem_type = 10;
  expect_error(b, NULL, "t.onnx: error: output 'y': the model declares "
                        "f16[2,3] but the graph computes f32[2,3]");
  b = mb_relu();
  b->outs[0]->type = mb_type(b, 1, "2,4");
  expect_error(b, NULL, "t.onnx: error: output 'y': the model declares "
                        "f32[2,4] but the graph computes f32[2,3]");
  b = mb_relu();
  b->outs[0]->type = mb_type(b, 1, "2,3,1");
  expect_error(b, NULL, "t.onnx: error: output 'y': the model declares "
                        "f32[2,3,1] but the graph computes f32[2,3]");
  b = mb_relu(); /* unknown and symbolic declared dims match anything */
  b->outs[0]->type = mb_type(b, 1, "?,M");
  IrModule *m = mb_load(b, NULL);
  assert_non_null(m);
  ir_module_free(m);
  mb_free(b);
}

static void test_counts(void **state) {
  (void)state;
  MB *b = mb_relu();
  b->nodes[0]->input = mb_names(b, "x,x", &b->nodes[0]->n_input);
  expect_error(b, NULL, "t.onnx: node 'r' (Relu, opset 13): error: Relu "
                        "takes 1 input, got 2");
  b = mb_relu();
  b->nodes[0]->input = mb_names(b, "x,,", &b->nodes[0]->n_input);
  b->nodes[0]->output = mb_names(b, "y,", &b->nodes[0]->n_output);
  IrModule *m = mb_load(b, NULL); /* trailing "" inputs/outputs are dropped */
  assert_non_null(m);
  ir_module_free(m);
  mb_free(b);
  b = mb_relu();
  b->nodes[0]->output = mb_names(b, "y,z", &b->nodes[0]->n_output);
  expect_error(b, NULL, "t.onnx: node 'r' (Relu, opset 13): error: Relu "
                        "takes 1 output, got 2");
}

/* -shape and -dim bindings. */
static void test_bindings(void **state) {
  (void)state;
  MB *b = mb_relu();
  b->ins[0]->type = mb_type(b, 1, "N,seq");
  expect_error(b, NULL,
               "t.onnx: warning: input 'x': dimension 0 ('N') is not bound; "
               "using 1 (bind it with -dim=N=VALUE or -shape=x:...)\n"
               "t.onnx: error: input 'x': dimension 1 ('seq') is symbolic; "
               "bind it with -dim=seq=VALUE or -shape=x:DIMxDIM...");
  b = mb_relu();
  b->ins[0]->type = mb_type(b, 1, "2,?");
  expect_error(b, NULL, "t.onnx: error: input 'x': dimension 1 ('?') is "
                        "unknown; bind it with -shape=x:DIMxDIM...");
  b = mb_relu();
  b->ins[0]->type = mb_type(b, 1, "N,3");
  b->outs[0]->type = mb_type(b, 1, "N,3");
  diags[0] = 0;
  IrModule *m = mb_load(b, NULL);
  assert_non_null(m);
  assert_string_equal(diags, "t.onnx: warning: input 'x': dimension 0 ('N') "
                             "is not bound; using 1 (bind it with -dim=N=VALUE "
                             "or -shape=x:...)");
  assert_int_equal(m->main->body->args[0]->type.dims[0].size, 1);
  assert_int_equal(m->syms[0].value, 1);
  ir_module_free(m);
  mb_free(b);

  b = mb_relu();
  b->ins[0]->type = mb_type(b, 1, "N,3");
  b->outs[0]->type = mb_type(b, 1, "N,3");
  OnnxShapeBinding sb = {"x", 2, {5, 3}, false};
  OnnxLoadOptions o = {.shapes = &sb, .num_shapes = 1};
  diags[0] = 0;
  m = mb_load(b, &o);
  assert_non_null(m);
  assert_string_equal(diags, "");
  assert_true(sb.used);
  assert_int_equal(m->main->body->args[0]->type.dims[0].size, 5);
  assert_int_equal(m->main->output_types[0].dims[0].size, 5);
  ir_module_free(m);
  mb_free(b);

  OnnxShapeBinding sb3 = {"x", 3, {1, 2, 3}, false};
  o = (OnnxLoadOptions){.shapes = &sb3, .num_shapes = 1};
  expect_error(mb_relu(), &o, "t.onnx: error: input 'x': -shape gives rank 3 "
                              "but the model says rank 2");
  OnnxShapeBinding sbv = {"x", 2, {2, 4}, false};
  o = (OnnxLoadOptions){.shapes = &sbv, .num_shapes = 1};
  expect_error(mb_relu(), &o, "t.onnx: error: input 'x': -shape gives "
                              "dimension 1 as 4 but the model says 3");
  OnnxShapeBinding sbn = {"nope", 1, {2}, false};
  o = (OnnxLoadOptions){.shapes = &sbn, .num_shapes = 1};
  expect_error(mb_relu(), &o, "t.onnx: error: -shape=nope:...: the model has "
                              "no input named 'nope'");
  OnnxDimBinding db = {.param = "Q", .value = 4};
  o = (OnnxLoadOptions){.dims = &db, .num_dims = 1};
  expect_error(mb_relu(), &o, "t.onnx: error: -dim=Q=4: the model has no "
                              "symbolic dimension named 'Q'");
}

static void test_input_types(void **state) {
  (void)state;
  MB *b = mb_relu();
  b->ins[0]->type->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
  b->ins[0]->type->sequence_type = ir_arena_alloc(b->a, sizeof(Onnx__TypeProto__Sequence));
  onnx__type_proto__sequence__init(b->ins[0]->type->sequence_type);
  expect_error(b, NULL, "t.onnx: error: input 'x': only tensor inputs are "
                        "supported (this one is a sequence)");
  b = mb_relu();
  b->ins[0]->type->tensor_type->elem_type = 8;
  expect_error(b, NULL, "t.onnx: error: input 'x': element type STRING is not "
                        "supported");
  b = mb_relu();
  b->ins[0]->type = mb_type(b, 1, "2,-3");
  expect_error(b, NULL, "t.onnx: error: input 'x': dimension 1 is negative (-3)");
  b = mb_relu();
  b->ins[0]->type = mb_type(b, 1, NULL);
  expect_error(b, NULL, "t.onnx: error: input 'x' has no shape; bind it with "
                        "-shape=x:DIMxDIM...");
}

static void test_initializer_errors(void **state) {
  (void)state;
  MB *b = mb_relu();
  int64_t d3[] = {3};
  float w[4] = {0};
  mb_init(b, "W", 1, 1, d3, w, 8);
  expect_error(b, NULL, "t.onnx: error: initializer 'W': f32[3] needs 12 "
                        "bytes of data, found 8");
  b = mb_relu();
  mb_init(b, "W", 1, 1, d3, w, 16);
  expect_error(b, NULL, "t.onnx: error: initializer 'W': f32[3] needs 12 "
                        "bytes of data, found 16");
  b = mb_relu();
  Onnx__TensorProto *t = mb_init(b, "W", 1, 1, d3, NULL, 0);
  t->n_float_data = 2, t->float_data = w;
  expect_error(b, NULL, "t.onnx: error: initializer 'W': f32[3] needs 12 "
                        "bytes of data, found 8");
  b = mb_relu();
  int64_t neg[] = {2, -1};
  mb_init(b, "W", 1, 2, neg, w, 0);
  expect_error(b, NULL, "t.onnx: error: initializer 'W': dimension 1 is "
                        "negative (-1)");
  b = mb_relu();
  int64_t ovf[] = {1ll << 32, 1ll << 32, 1ll << 32};
  mb_init(b, "W", 1, 3, ovf, w, 0);
  expect_error(b, NULL, "t.onnx: error: initializer 'W': the element count "
                        "of its shape overflows");
  b = mb_relu();
  int64_t big[] = {1 << 20, 1 << 20};
  mb_init(b, "W", 1, 2, big, w, 0);
  expect_error(b, NULL, "t.onnx: error: initializer 'W' has 1099511627776 "
                        "elements; tcc supports at most 4294967295 (2^32-1) "
                        "per tensor");
  b = mb_relu();
  mb_init(b, "S", 8, 1, d3, NULL, 0);
  expect_error(b, NULL, "t.onnx: error: initializer 'S': data type STRING (8) "
                        "is not supported");
  b = mb_relu();
  t = mb_init(b, "W", 7, 1, d3, NULL, 0);
  t->n_float_data = 3, t->float_data = w;
  expect_error(b, NULL, "t.onnx: error: initializer 'W': i64 data is stored "
                        "in float_data (expected int64_data)");
  b = mb_relu();
  int64_t r17[17] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  mb_init(b, "W", 1, 17, r17, w, 4);
  expect_error(b, NULL, "t.onnx: error: initializer 'W': rank 17 exceeds "
                        "tcc's maximum of 16");
}

static void test_attributes(void **state) {
  (void)state;
  MB *b = mb_relu();
  Onnx__AttributeProto *a = mb_attr(b, b->nodes[0], "body",
                                    ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
  Onnx__GraphProto *sub = ir_arena_alloc(b->a, sizeof *sub);
  onnx__graph_proto__init(sub);
  a->g = sub;
  expect_error(b, NULL, "t.onnx: node 'r' (Relu, opset 13): error: attribute "
                        "'body': subgraph attributes are not supported yet");
  b = mb_relu();
  mb_attr(b, b->nodes[0], "alpha", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  mb_attr(b, b->nodes[0], "alpha", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  expect_error(b, NULL, "t.onnx: node 'r' (Relu, opset 13): error: attribute "
                        "'alpha' is given twice");
  b = mb_new(13);
  Onnx__NodeProto *n = mb_node(b, "Constant", "k", NULL, "c");
  mb_attr(b, n, "value_string", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  mb_output(b, "c", 0, NULL);
  expect_error(b, NULL, "t.onnx: node 'k' (Constant, opset 13): error: "
                        "Constant attribute 'value_string' (of this kind) is "
                        "not supported");
}

/* protobuf-c recurses per nested message: deep nesting is refused first. */
static void test_deep_nesting(void **state) {
  (void)state;
  MB *b = mb_relu();
  Onnx__NodeProto *n = b->nodes[0];
  for (int depth = 0; depth < 40; depth++) {
    Onnx__AttributeProto *a =
        mb_attr(b, n, "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    Onnx__GraphProto *g = ir_arena_alloc(b->a, sizeof *g);
    onnx__graph_proto__init(g);
    g->node = ir_arena_alloc(b->a, sizeof *g->node);
    a->g = g;
    n = ir_arena_alloc(b->a, sizeof *n);
    onnx__node_proto__init(n);
    n->attribute = ir_arena_alloc(b->a, sizeof *n->attribute * 8);
    g->node[g->n_node++] = n;
  }
  expect_error(b, NULL, "t.onnx: error: the model nests messages more than 64 "
                        "levels deep (subgraphs or types); tcc refuses it");
}

/* ------------------------------------------------------- external data */
static char tmpdir[64];

static void write_file(const char *name, const void *data, size_t n) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

static MB *mb_external(const char *location, const char *offset,
                       const char *length) {
  MB *b = mb_relu();
  int64_t d3[] = {3};
  Onnx__TensorProto *t = mb_init(b, "W", 1, 1, d3, NULL, 0);
  t->has_data_location = true;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  t->external_data = ir_arena_alloc(b->a, sizeof *t->external_data * 3);
  const char *keys[] = {"location", "offset", "length"};
  const char *vals[] = {location, offset, length};
  for (int i = 0; i < 3; i++) {
    if (!vals[i]) continue;
    Onnx__StringStringEntryProto *e = ir_arena_alloc(b->a, sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = (char *)keys[i];
    e->value = (char *)vals[i];
    t->external_data[t->n_external_data++] = e;
  }
  return b;
}

static void test_external_data(void **state) {
  (void)state;
  strcpy(tmpdir, "/tmp/tcc_onnx_XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  float data[5] = {9, 1, 2, 3, 9};
  write_file("w.bin", data, sizeof data);
  OnnxLoadOptions o = {.base_dir = tmpdir};

  MB *b = mb_external("w.bin", "4", "12");
  IrModule *m = mb_load(b, &o);
  assert_non_null(m);
  assert_memory_equal(m->weights[0]->data, data + 1, 12);
  ir_module_free(m); /* unmaps: ASan/valgrind would see a leak otherwise */
  mb_free(b);

  /* the same through onnx_load_file: external data resolves next to it */
  b = mb_external("w.bin", "4", NULL);
  size_t n;
  uint8_t *buf = mb_pack(b, &n);
  write_file("m.onnx", buf, n);
  char path[128];
  snprintf(path, sizeof path, "%s/m.onnx", tmpdir);
  diags[0] = 0;
  m = onnx_load_file(path, NULL); /* [4, 20) is 16 bytes: too long */
  assert_null(m);
  char want[512];
  snprintf(want, sizeof want, "%s: error: initializer 'W': f32[3] needs 12 "
           "bytes of data, found 16", path);
  assert_string_equal(diags, want);
  mb_free(b);

  expect_error(mb_external("/etc/passwd", NULL, NULL), &o,
               "t.onnx: error: initializer 'W': external data location "
               "'/etc/passwd' is absolute; it must be relative to the model's "
               "folder");
  expect_error(mb_external("sub/../../w.bin", NULL, NULL), &o,
               "t.onnx: error: initializer 'W': external data location "
               "'sub/../../w.bin' leaves the model's folder ('..' is not "
               "allowed)");
  snprintf(want, sizeof want, "t.onnx: error: initializer 'W': cannot open "
           "external data '%s/missing.bin': No such file or directory", tmpdir);
  expect_error(mb_external("missing.bin", NULL, NULL), &o, want);
  expect_error(mb_external("w.bin", "12", "12"), &o,
               "t.onnx: error: initializer 'W': external data range [12, 24) "
               "is beyond the end of 'w.bin' (20 bytes)");
  expect_error(mb_external("w.bin", NULL, NULL), NULL,
               "t.onnx: error: initializer 'W': uses external data, but the "
               "model was loaded from memory without a base directory");
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  assert_int_equal(system(cmd), 0);
}

/* -------------------------------------------------------- tensor files */
static void test_tensor_roundtrip(void **state) {
  (void)state;
  char dir[] = "/tmp/tcc_onnx_t_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[128];
  snprintf(path, sizeof path, "%s/input_0.pb", dir);
  int16_t v[6] = {1, -2, 3, -4, 5, 32767};
  OnnxTensor t = {.name = "in", .elem = IR_I16, .rank = 2, .dims = {2, 3},
                  .data = v, .nbytes = sizeof v};
  t.nbytes = 10;
  assert_false(onnx_tensor_write_file(path, &t));
  char bad[256];
  snprintf(bad, sizeof bad, "%s: error: cannot write tensor: i16[2,3] needs "
           "12 bytes, given 10", path);
  assert_string_equal(diags, bad);
  t.nbytes = sizeof v;
  assert_true(onnx_tensor_write_file(path, &t));
  OnnxTensor r;
  assert_true(onnx_tensor_read_file(path, &r));
  assert_string_equal(r.name, "in");
  assert_int_equal(r.elem, IR_I16);
  assert_int_equal(r.rank, 2);
  assert_int_equal(r.dims[0], 2);
  assert_int_equal(r.dims[1], 3);
  assert_int_equal(r.nbytes, sizeof v);
  assert_memory_equal(r.data, v, sizeof v);
  onnx_tensor_free(&r);
  /* a sub-byte tensor: one byte per element in memory, packed in the file */
  int8_t i4[3] = {-8, 7, -1};
  t = (OnnxTensor){.name = "q", .elem = IR_I4, .rank = 1, .dims = {3}, .data = i4,
                   .nbytes = 3};
  assert_true(onnx_tensor_write_file(path, &t));
  FILE *f = fopen(path, "rb");
  uint8_t file[256];
  size_t len = fread(file, 1, sizeof file, f);
  fclose(f);
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, file);
  assert_non_null(tp);
  assert_int_equal(tp->data_type, 22);
  assert_int_equal(tp->raw_data.len, 2);
  assert_memory_equal(tp->raw_data.data, ((uint8_t[]){0x78, 0x0f}), 2);
  onnx__tensor_proto__free_unpacked(tp, NULL);
  assert_true(onnx_tensor_read_file(path, &r));
  assert_int_equal(r.elem, IR_I4);
  assert_int_equal(r.nbytes, 3);
  assert_memory_equal(r.data, i4, 3);
  onnx_tensor_free(&r);
  unlink(path);
  rmdir(dir);
  diags[0] = 0;
  assert_false(onnx_tensor_read_file(path, &r));
  char want[256];
  snprintf(want, sizeof want, "%s: error: cannot open: No such file or "
           "directory", path);
  assert_string_equal(diags, want);
  diags[0] = 0;
  assert_false(onnx_tensor_read_memory("\xff\xff", 2, "bad.pb", &r));
  assert_string_equal(diags, "bad.pb: error: not a valid TensorProto "
                             "(protobuf parse failed; the file is truncated or "
                             "not a tensor)");
}

static void test_tensor_real_data(void **state) {
  (void)state;
  const char *dir = "/usr/share/libonnx-testdata/data/node/test_relu";
  char path[256];
  OnnxTensor in, out;
  snprintf(path, sizeof path, "%s/test_data_set_0/input_0.pb", dir);
  assert_true(onnx_tensor_read_file(path, &in));
  snprintf(path, sizeof path, "%s/test_data_set_0/output_0.pb", dir);
  assert_true(onnx_tensor_read_file(path, &out));
  assert_string_equal(in.name, "x");
  assert_int_equal(in.elem, IR_F32);
  assert_int_equal(in.rank, 3);
  assert_int_equal(in.dims[0] * in.dims[1] * in.dims[2], 60);
  assert_int_equal(in.nbytes, 240);
  const float *x = in.data, *y = out.data;
  int negatives = 0;
  for (int i = 0; i < 60; i++) { /* relu(x) == y: the data is really read */
    assert_true(y[i] == (x[i] > 0 ? x[i] : 0));
    negatives += x[i] < 0;
  }
  assert_true(negatives > 0);
  onnx_tensor_free(&in);
  onnx_tensor_free(&out);
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  IrModule *m = onnx_load_file(path, NULL);
  assert_non_null(m);
  assert_string_equal(m->name, "model");
  assert_int_equal(m->main->body->first->kind, IR_OP_RELU);
  ir_module_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_valid_model, setup),
      cmocka_unit_test_setup(test_topo_sort, setup),
      cmocka_unit_test_setup(test_storage_forms, setup),
      cmocka_unit_test_setup(test_subbyte_storage, setup),
      cmocka_unit_test_setup(test_constants, setup),
      cmocka_unit_test_setup(test_not_protobuf, setup),
      cmocka_unit_test_setup(test_no_graph, setup),
      cmocka_unit_test_setup(test_truncated, setup),
      cmocka_unit_test_setup(test_mutations, setup),
      cmocka_unit_test_setup(test_opsets, setup),
      cmocka_unit_test_setup(test_schema_versions, setup),
      cmocka_unit_test_setup(test_sequences, setup),
      cmocka_unit_test_setup(test_unknown_op_and_domain, setup),
      cmocka_unit_test_setup(test_undefined_and_cycle, setup),
      cmocka_unit_test_setup(test_duplicates, setup),
      cmocka_unit_test_setup(test_outputs, setup),
      cmocka_unit_test_setup(test_counts, setup),
      cmocka_unit_test_setup(test_bindings, setup),
      cmocka_unit_test_setup(test_input_types, setup),
      cmocka_unit_test_setup(test_initializer_errors, setup),
      cmocka_unit_test_setup(test_attributes, setup),
      cmocka_unit_test_setup(test_deep_nesting, setup),
      cmocka_unit_test_setup(test_external_data, setup),
      cmocka_unit_test_setup(test_tensor_roundtrip, setup),
      cmocka_unit_test_setup(test_tensor_real_data, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
