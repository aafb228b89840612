/* test_control.c — If, Loop and Scan: small models built here with
 * protobuf-c, loaded (the frontend expands the control flow, or keeps a
 * Loop known only at run time as a `loop` op), then either
 * read back as folded weights or lowered and run by the interpreter; the
 * numbers are checked against values worked out by hand, and every refusal
 * by its exact message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "onnx.h"
#include "onnx.pb-c.h"
#include "passes.h"

static char diags[8192];

static void sink(void *user, DiagLevel level, const char *msg) {
  (void)user, (void)level;
  size_t n = strlen(diags);
  snprintf(diags + n, sizeof diags - n, "%s%s", n ? "\n" : "", msg);
}

/* ---------------------------------------------------- graph builder */
/* Everything is cut from one arena, freed after each test. */
static IrArena *A;

static int setup(void **state) {
  (void)state;
  diags[0] = 0;
  diag_set_sink(sink, NULL);
  A = ir_arena_new();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ir_arena_free(A);
  return 0;
}

static Onnx__GraphProto *gr_new(const char *name) {
  Onnx__GraphProto *g = ir_arena_alloc(A, sizeof *g);
  onnx__graph_proto__init(g);
  g->name = (char *)name;
  g->node = ir_arena_alloc(A, sizeof *g->node * 16);
  g->initializer = ir_arena_alloc(A, sizeof *g->initializer * 16);
  g->input = ir_arena_alloc(A, sizeof *g->input * 16);
  g->output = ir_arena_alloc(A, sizeof *g->output * 16);
  return g;
}

/* A value: dtype 0 = no type; rank -1 = no shape. */
static Onnx__ValueInfoProto *gr_vi(const char *name, int dtype, int rank,
                                   const int64_t *dims) {
  Onnx__ValueInfoProto *v = ir_arena_alloc(A, sizeof *v);
  onnx__value_info_proto__init(v);
  v->name = (char *)name;
  if (!dtype) return v;
  Onnx__TypeProto *t = ir_arena_alloc(A, sizeof *t);
  onnx__type_proto__init(t);
  Onnx__TypeProto__Tensor *tt = ir_arena_alloc(A, sizeof *tt);
  onnx__type_proto__tensor__init(tt);
  t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  t->tensor_type = tt;
  tt->has_elem_type = true;
  tt->elem_type = dtype;
  v->type = t;
  if (rank < 0) return v;
  Onnx__TensorShapeProto *sh = ir_arena_alloc(A, sizeof *sh);
  onnx__tensor_shape_proto__init(sh);
  sh->dim = ir_arena_alloc(A, sizeof *sh->dim * 16);
  for (int i = 0; i < rank; i++) {
    Onnx__TensorShapeProto__Dimension *d = ir_arena_alloc(A, sizeof *d);
    onnx__tensor_shape_proto__dimension__init(d);
    d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d->dim_value = dims[i];
    sh->dim[sh->n_dim++] = d;
  }
  tt->shape = sh;
  return v;
}

static void gr_input(Onnx__GraphProto *g, const char *name, int dtype, int rank,
                     const int64_t *dims) {
  g->input[g->n_input++] = gr_vi(name, dtype, rank, dims);
}

static void gr_output(Onnx__GraphProto *g, const char *name) {
  g->output[g->n_output++] = gr_vi(name, 0, -1, NULL);
}

/* An initializer holding raw little-endian data. */
static void gr_init(Onnx__GraphProto *g, const char *name, int dtype, int rank,
                    const int64_t *dims, const void *data, size_t nbytes) {
  Onnx__TensorProto *t = ir_arena_alloc(A, sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = (char *)name;
  t->has_data_type = true;
  t->data_type = dtype;
  t->n_dims = (size_t)rank;
  t->dims = ir_arena_alloc(A, sizeof(int64_t) * 16);
  if (rank) memcpy(t->dims, dims, sizeof(int64_t) * (size_t)rank);
  t->has_raw_data = true;
  t->raw_data.len = nbytes;
  t->raw_data.data = ir_arena_alloc(A, nbytes + 1);
  memcpy(t->raw_data.data, data, nbytes);
  g->initializer[g->n_initializer++] = t;
}

/* "a,b" -> names; an empty entry is an absent input. */
static char **gr_names(const char *list, size_t *n) {
  char **v = ir_arena_alloc(A, sizeof *v * 16);
  *n = 0;
  if (!list) return v;
  char *s = ir_arena_strdup(A, list);
  for (char *p = s;; p++) {
    char *e = strchr(p, ',');
    if (e) *e = 0;
    v[(*n)++] = p;
    if (!e) break;
    p = e;
  }
  return v;
}

static Onnx__NodeProto *gr_node(Onnx__GraphProto *g, const char *op, const char *ins,
                                const char *outs) {
  Onnx__NodeProto *n = ir_arena_alloc(A, sizeof *n);
  onnx__node_proto__init(n);
  n->op_type = (char *)op;
  n->name = (char *)op;
  n->input = gr_names(ins, &n->n_input);
  n->output = gr_names(outs, &n->n_output);
  n->attribute = ir_arena_alloc(A, sizeof *n->attribute * 8);
  g->node[g->n_node++] = n;
  return n;
}

static Onnx__AttributeProto *gr_attr(Onnx__NodeProto *n, const char *name,
                                     Onnx__AttributeProto__AttributeType k) {
  Onnx__AttributeProto *a = ir_arena_alloc(A, sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = (char *)name;
  a->has_type = true;
  a->type = k;
  n->attribute[n->n_attribute++] = a;
  return a;
}

static void gr_graph_attr(Onnx__NodeProto *n, const char *name, Onnx__GraphProto *g) {
  gr_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = g;
}

static void gr_int_attr(Onnx__NodeProto *n, const char *name, int64_t v) {
  Onnx__AttributeProto *a = gr_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = true;
  a->i = v;
}

static void gr_ints_attr(Onnx__NodeProto *n, const char *name, size_t k, const int64_t *v) {
  Onnx__AttributeProto *a = gr_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->n_ints = k;
  a->ints = ir_arena_alloc(A, sizeof *a->ints * (k + 1));
  memcpy(a->ints, v, sizeof *v * k);
}

static IrModule *load(Onnx__GraphProto *g, int opset) {
  Onnx__ModelProto mp;
  onnx__model_proto__init(&mp);
  Onnx__OperatorSetIdProto os, *osp = &os;
  onnx__operator_set_id_proto__init(&os);
  os.domain = "";
  os.has_version = true;
  os.version = opset;
  mp.opset_import = &osp;
  mp.n_opset_import = 1;
  mp.graph = g;
  size_t n = onnx__model_proto__get_packed_size(&mp);
  uint8_t *buf = ir_arena_alloc(A, n + 1);
  onnx__model_proto__pack(&mp, buf);
  OnnxLoadOptions o = {.model_name = "t"};
  return onnx_load_memory(buf, n, "t.onnx", &o);
}

static void expect_error(Onnx__GraphProto *g, int opset, const char *msg) {
  diags[0] = 0;
  IrModule *m = load(g, opset);
  assert_null(m);
  assert_string_equal(diags, msg);
}

/* Output i of a module whose outputs all folded to weights. */
static const IrWeight *folded_output(IrModule *m, int i) {
  IrOp *ret = m->main->body->last;
  assert_int_equal(ret->kind, IR_OP_RETURN);
  assert_non_null(ret->operands[i]->weight);
  return ret->operands[i]->weight;
}

static void expect_f32(const IrWeight *w, int n, const float *want) {
  uint64_t numel;
  assert_true(ir_type_numel(&w->value->type, &numel));
  assert_int_equal(numel, n);
  for (int i = 0; i < n; i++) assert_float_equal(((const float *)w->data)[i], want[i], 0);
}

/* Lowers m and runs it on inputs; outputs land in outs (same order). */
static void run(IrModule *m, void *const *ins, int nin, void *const *outs, int nout) {
  PipelineOptions o = {.passes = "infer-shapes,lower", .verify_each = true};
  assert_true(pass_run_pipeline(m, &o));
  void *bufs[16];
  assert_int_equal(m->main->num_inputs, nin);
  assert_int_equal(m->main->num_outputs, nout);
  for (int i = 0; i < nin; i++) bufs[i] = ins[i];
  for (int i = 0; i < nout; i++) bufs[nin + i] = outs[i];
  assert_true(ir_interp_run(m, m->main, bufs, NULL));
}

/* ---------------------------------------------------------------- If */
/* then: c + 1, else: c * 2, where c is an outer-scope value. */
static Onnx__GraphProto *if_model(bool known, uint8_t cond) {
  static const float c[2] = {3, 4}, one = 1, two = 2;
  int64_t d2 = 2;
  Onnx__GraphProto *g = gr_new("main"), *gt = gr_new("then"), *ge = gr_new("else");
  gr_init(g, "c", 1, 1, &d2, c, sizeof c);
  gr_init(g, "one", 1, 0, NULL, &one, 4);
  gr_init(g, "two", 1, 0, NULL, &two, 4);
  if (known) gr_init(g, "cond", 9, 0, NULL, &cond, 1);
  else gr_input(g, "cond", 9, 0, NULL);
  gr_node(gt, "Add", "c,one", "t");
  gr_output(gt, "t");
  gr_node(ge, "Mul", "c,two", "e");
  gr_output(ge, "e");
  Onnx__NodeProto *n = gr_node(g, "If", "cond", "y");
  gr_graph_attr(n, "then_branch", gt);
  gr_graph_attr(n, "else_branch", ge);
  gr_output(g, "y");
  return g;
}

static void test_if_known_condition(void **state) {
  (void)state;
  IrModule *m = load(if_model(true, 1), 13);
  assert_non_null(m);
  expect_f32(folded_output(m, 0), 2, (const float[]){4, 5});
  ir_module_free(m);
  m = load(if_model(true, 0), 13);
  assert_non_null(m);
  expect_f32(folded_output(m, 0), 2, (const float[]){6, 8});
  ir_module_free(m);
}

static void test_if_runtime_condition(void **state) {
  (void)state;
  for (uint8_t cond = 0; cond < 2; cond++) {
    IrModule *m = load(if_model(false, 0), 13);
    assert_non_null(m);
    float y[2] = {0};
    run(m, (void *[]){&cond}, 1, (void *[]){y}, 1);
    assert_float_equal(y[0], cond ? 4 : 6, 0);
    assert_float_equal(y[1], cond ? 5 : 8, 0);
    ir_module_free(m);
  }
}

static void test_if_branch_types_differ(void **state) {
  (void)state;
  Onnx__GraphProto *g = if_model(false, 0);
  Onnx__GraphProto *ge = g->node[0]->attribute[1]->g;
  ge->node[0]->input = gr_names("c,c,c", &ge->node[0]->n_input);
  ge->node[0]->op_type = "Concat";
  gr_int_attr(ge->node[0], "axis", 0);
  expect_error(g, 13, "t.onnx: node 'If' (If, opset 13): error: If with a condition "
                      "known only at run time needs both branches to compute the "
                      "same types; output 0 is f32[2] or f32[6]");
}

/* -------------------------------------------------------------- Loop */
/* Loop(trip, cond, y): y += x[i] (x outer), scan output y, and an If in
 * the body on the iteration number (nested subgraph, outer scope). */
static Onnx__GraphProto *loop_model(int64_t trip, bool known_trip) {
  static const float x[4] = {1, 2, 3, 4}, y0 = 10;
  static const int64_t one = 1;
  static const uint8_t yes = 1;
  int64_t d4 = 4;
  Onnx__GraphProto *g = gr_new("main"), *b = gr_new("body");
  Onnx__GraphProto *gt = gr_new("then"), *ge = gr_new("else");
  gr_init(g, "x", 1, 1, &d4, x, sizeof x);
  gr_init(g, "y0", 1, 0, NULL, &y0, 4);
  gr_init(g, "one", 7, 0, NULL, &one, 8);
  gr_init(g, "cond", 9, 0, NULL, &yes, 1);
  if (known_trip) gr_init(g, "trip", 7, 0, NULL, &trip, 8);
  else gr_input(g, "trip", 7, 0, NULL);
  gr_input(b, "i", 7, 0, NULL);
  gr_input(b, "c_in", 9, 0, NULL);
  gr_input(b, "y_in", 0, -1, NULL);
  gr_node(b, "Identity", "c_in", "c_out");
  gr_node(b, "Gather", "x,i", "xi");
  gr_node(b, "Add", "y_in,xi", "y_out");
  gr_node(b, "Less", "i,one", "first");
  Onnx__NodeProto *n = gr_node(b, "If", "first", "s");
  gr_node(gt, "Neg", "y_out", "neg");
  gr_output(gt, "neg");
  gr_node(ge, "Identity", "y_out", "same");
  gr_output(ge, "same");
  gr_graph_attr(n, "then_branch", gt);
  gr_graph_attr(n, "else_branch", ge);
  gr_output(b, "c_out");
  gr_output(b, "y_out");
  gr_output(b, "s");
  n = gr_node(g, "Loop", "trip,cond,y0", "y,scan");
  gr_graph_attr(n, "body", b);
  gr_output(g, "y");
  gr_output(g, "scan");
  return g;
}

static void test_loop_unrolled(void **state) {
  (void)state;
  IrModule *m = load(loop_model(3, true), 13);
  assert_non_null(m);
  expect_f32(folded_output(m, 0), 1, (const float[]){16});
  expect_f32(folded_output(m, 1), 3, (const float[]){-11, 13, 16});
  assert_int_equal(folded_output(m, 1)->value->type.rank, 1);
  ir_module_free(m);
}

/* The condition output stops the loop: c_out = i < 1 stops after i = 1. */
static void test_loop_condition_stops(void **state) {
  (void)state;
  Onnx__GraphProto *g = loop_model(0, true);
  g->node[0]->input[0] = "";   /* no trip count: until the condition says */
  Onnx__GraphProto *b = g->node[0]->attribute[0]->g;
  b->node[0]->op_type = "Less";
  b->node[0]->input = gr_names("i,one", &b->node[0]->n_input);
  IrModule *m = load(g, 13);
  assert_non_null(m);
  expect_f32(folded_output(m, 0), 1, (const float[]){13});
  expect_f32(folded_output(m, 1), 2, (const float[]){-11, 13});
  ir_module_free(m);
}

static void test_loop_refusals(void **state) {
  (void)state;
  expect_error(loop_model(3, false), 13,
               "t.onnx: node 'Loop' (Loop, opset 13): error: Loop: scan outputs need a trip "
               "count known at compile time (it bounds their length); freeze it with "
               "-freeze=NAME:FILE.pb");
  expect_error(loop_model(0, true), 13,
               "t.onnx: node 'Loop' (Loop, opset 13): error: Loop: a loop with scan "
               "outputs runs 0 times; tcc cannot type its empty scan outputs");
  Onnx__GraphProto *g = loop_model(3, true);
  g->node[0]->n_attribute = 0;
  expect_error(g, 13, "t.onnx: node 'Loop' (Loop, opset 13): error: Loop: missing "
                      "subgraph attribute 'body'");
}

/* Runs m (lowered) with run-time dims; dims[k] = value of sym k after. */
static void run_dims(IrModule *m, void *const *ins, int nin, void *const *outs, int nout,
                     int64_t *dims) {
  PipelineOptions o = {.passes = "infer-shapes,fold-constants,dce,lower,dce,plan-memory",
                       .verify_each = true};
  assert_true(pass_run_pipeline(m, &o));
  void *bufs[16];
  for (int i = 0; i < nin; i++) bufs[i] = ins[i];
  for (int i = 0; i < nout; i++) bufs[nin + i] = outs[i];
  static char ws[1 << 16] __attribute__((aligned(64)));
  assert_true((size_t)m->main->workspace_size <= sizeof ws);
  assert_true(ir_interp_run_dims(m, m->main, bufs, ws, dims));
}

/* A trip count known only at run time (no scan output): a real loop, run
 * for 3 and for 0 iterations by the same lowered function. */
static void test_loop_runtime_trip(void **state) {
  (void)state;
  for (int64_t trip = 0; trip <= 3; trip += 3) {
    Onnx__GraphProto *g = loop_model(0, false);
    g->node[0]->n_output = 1;
    g->n_output = 1;
    g->node[0]->attribute[0]->g->n_output = 2; /* c_out, y_out */
    IrModule *m = load(g, 13);
    assert_non_null(m);
    float y = 0;
    int64_t dims[1] = {-1};
    run_dims(m, (void *[]){&trip}, 1, (void *[]){&y}, 1, dims);
    assert_float_equal(y, trip ? 16 : 10, 0);
    ir_module_free(m);
  }
}

/* Beyond the unroll limit, a known trip count gives a real loop too; its
 * condition (i < 1, known only inside the loop) stops it after 2
 * iterations, and the scan output's run-time length says so. */
static void test_loop_long_with_scan(void **state) {
  (void)state;
  Onnx__GraphProto *g = loop_model(5000, true);
  Onnx__GraphProto *b = g->node[0]->attribute[0]->g;
  b->node[0]->op_type = "Less";
  b->node[0]->input = gr_names("i,one", &b->node[0]->n_input);
  IrModule *m = load(g, 13);
  assert_non_null(m);
  assert_int_equal(m->num_syms, 1);
  assert_string_equal(m->syms[0].name, "loop_iters");
  assert_int_equal(m->syms[0].hi, 5000);
  static float y, scan[5000];
  int64_t dims[1] = {-1};
  run_dims(m, NULL, 0, (void *[]){&y, scan}, 2, dims);
  assert_int_equal(dims[0], 2);
  assert_float_equal(y, 13, 0);
  assert_float_equal(scan[0], -11, 0);
  assert_float_equal(scan[1], 13, 0);
  ir_module_free(m);
}

/* The body's condition comes from a graph input: stops after the first
 * iteration when it is false, runs all 3 when true. */
static void test_loop_runtime_condition(void **state) {
  (void)state;
  for (uint8_t c = 0; c < 2; c++) {
    Onnx__GraphProto *g = loop_model(3, true);
    gr_input(g, "c_rt", 9, 0, NULL);
    Onnx__GraphProto *b = g->node[0]->attribute[0]->g;
    b->node[0]->input[0] = "c_rt";
    IrModule *m = load(g, 13);
    assert_non_null(m);
    float y = 0, scan[3] = {0};
    int64_t dims[1] = {-1};
    run_dims(m, (void *[]){&c}, 1, (void *[]){&y, scan}, 2, dims);
    assert_int_equal(dims[0], c ? 3 : 1);
    assert_float_equal(y, c ? 16 : 11, 0);
    assert_float_equal(scan[0], -11, 0);
    if (c) assert_float_equal(scan[2], 16, 0);
    ir_module_free(m);
  }
}

/* -------------------------------------------------------------- Scan */
/* Scan(s0, x): s += row; scan output s, x an input f32[3,2]. */
static Onnx__GraphProto *scan_model(int opset) {
  static const int64_t d2[2] = {3, 2}, d3[3] = {1, 3, 2}, d1[2] = {1, 2};
  Onnx__GraphProto *g = gr_new("main"), *b = gr_new("body");
  bool v8 = opset < 9;
  gr_input(g, "s0", 1, v8 ? 2 : 1, v8 ? d1 : d2 + 1);
  gr_input(g, "x", 1, v8 ? 3 : 2, v8 ? d3 : d2);
  gr_input(b, "s_in", 0, -1, NULL);
  gr_input(b, "row", 0, -1, NULL);
  gr_node(b, "Add", "s_in,row", "s_out");
  gr_node(b, "Identity", "s_out", "acc");
  gr_output(b, "s_out");
  gr_output(b, "acc");
  Onnx__NodeProto *n = gr_node(g, "Scan", v8 ? ",s0,x" : "s0,x", "s,z");
  gr_graph_attr(n, "body", b);
  gr_int_attr(n, "num_scan_inputs", 1);
  gr_output(g, "s");
  gr_output(g, "z");
  return g;
}

static void test_scan(void **state) {
  (void)state;
  const float s0[2] = {1, 1}, x[6] = {1, 2, 3, 4, 5, 6};
  for (int opset = 8; opset <= 9; opset++) {
    IrModule *m = load(scan_model(opset), opset);
    assert_non_null(m);
    float s[2], z[6];
    run(m, (void *[]){(void *)s0, (void *)x}, 2, (void *[]){s, z}, 2);
    const float want_z[6] = {2, 3, 5, 7, 10, 13};
    assert_float_equal(s[0], 10, 0);
    assert_float_equal(s[1], 13, 0);
    for (int i = 0; i < 6; i++) assert_float_equal(z[i], want_z[i], 0);
    ir_module_free(m);
  }
}

/* Reversed input and output axis 1: z[:, t] is the sum of rows t..2. */
static void test_scan_directions_and_axes(void **state) {
  (void)state;
  Onnx__GraphProto *g = scan_model(11);
  gr_ints_attr(g->node[0], "scan_input_directions", 1, (const int64_t[]){1});
  gr_ints_attr(g->node[0], "scan_output_directions", 1, (const int64_t[]){1});
  gr_ints_attr(g->node[0], "scan_output_axes", 1, (const int64_t[]){-1});
  IrModule *m = load(g, 11);
  assert_non_null(m);
  const float s0[2] = {0, 0}, x[6] = {1, 2, 3, 4, 5, 6};
  float s[2], z[6];
  run(m, (void *[]){(void *)s0, (void *)x}, 2, (void *[]){s, z}, 2);
  /* z is f32[2,3]: z[j][t] = sum of x[t..2][j]. */
  const float want_z[6] = {9, 8, 5, 12, 10, 6};
  for (int i = 0; i < 6; i++) assert_float_equal(z[i], want_z[i], 0);
  assert_float_equal(s[0], 9, 0);
  assert_float_equal(s[1], 12, 0);
  ir_module_free(m);
}

static void test_scan_refusals(void **state) {
  (void)state;
  Onnx__GraphProto *g = scan_model(9);
  g->node[0]->n_attribute = 1;
  expect_error(g, 9, "t.onnx: node 'Scan' (Scan, opset 9): error: Scan: attribute "
                     "'num_scan_inputs' must be 1 to the number of inputs (2)");
  g = scan_model(9);
  gr_ints_attr(g->node[0], "scan_input_axes", 2, (const int64_t[]){0, 0});
  expect_error(g, 9, "t.onnx: node 'Scan' (Scan, opset 9): error: Scan: attribute "
                     "'scan_input_axes' has 2 entries, expected 1");
  g = scan_model(8);
  g->node[0]->input[0] = "s0";
  expect_error(g, 8, "t.onnx: node 'Scan' (Scan, opset 8): error: Scan: input "
                     "'sequence_lens' is not supported (leave it empty: every "
                     "sequence has the full length)");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_if_known_condition, setup, teardown),
      cmocka_unit_test_setup_teardown(test_if_runtime_condition, setup, teardown),
      cmocka_unit_test_setup_teardown(test_if_branch_types_differ, setup, teardown),
      cmocka_unit_test_setup_teardown(test_loop_unrolled, setup, teardown),
      cmocka_unit_test_setup_teardown(test_loop_condition_stops, setup, teardown),
      cmocka_unit_test_setup_teardown(test_loop_refusals, setup, teardown),
      cmocka_unit_test_setup_teardown(test_loop_runtime_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_loop_long_with_scan, setup, teardown),
      cmocka_unit_test_setup_teardown(test_loop_runtime_condition, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scan_directions_and_axes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scan_refusals, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
