/* test_ir.c — the IR core: exact printed text of built modules (tensor and
 * loop level), print -> parse -> print round trips (built modules and every
 * tests/ir/roundtrip/ files), exact parser and verifier diagnostics, the
 * interpreter's numbers and its bounds checks, and a crash hunt over
 * truncated and mutated inputs. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"
#include "lower.h"

/* ---------------------------------------------------------- diagnostics */
static char diags[4096];

static void sink(void *user, DiagLevel level, const char *text) {
  (void)user, (void)level;
  size_t n = strlen(diags);
  snprintf(diags + n, sizeof diags - n, "%s%s", n ? "\n" : "", text);
}

static int setup(void **state) {
  (void)state;
  diags[0] = 0;
  diag_set_sink(sink, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  diag_set_sink(NULL, NULL);
  return 0;
}

static IrModule *parse(const char *text, const char *file) {
  return ir_parse(text, strlen(text), file);
}

/* print(parse(text)) must equal text exactly. */
static void assert_roundtrip(const char *text) {
  IrModule *m = parse(text, "rt.tir");
  assert_non_null(m);
  char *s = ir_print_module_str(m);
  assert_string_equal(s, text);
  free(s);
  ir_module_free(m);
}

/* ir_print_key: the same loops on other buffers print the same; the
 * buffers (the skipped allocs' too) and the caller's arguments become
 * %e<k> in order of first use, and outside constants print as their
 * value, so that another constant gives another key. */
static void test_print_key(void **state) {
  (void)state;
  static const char text[] =
      "module @k\n"
      "func @main(%0: buf f32[16] as \"x\") -> (%1: buf f32[16] as \"y\") {workspace=128} {\n"
      "  %2 = arith.const() {value=16} : index\n"
      "  %3 = mem.alloc() {offset=0} : buf f32[16]\n"
      "  %4 = arith.const() {value=0} : index\n"
      "  loop.for(%4, %2) {step=1} (%5: index) {\n"
      "    %6 = mem.load(%0, %5) : f32\n"
      "    mem.store(%6, %3, %5)\n"
      "  }\n"
      "  %7 = mem.alloc() {offset=64} : buf f32[16]\n"
      "  %8 = arith.const() {value=0} : index\n"
      "  loop.for(%8, %2) {step=1} (%9: index) {\n"
      "    %10 = mem.load(%3, %9) : f32\n"
      "    mem.store(%10, %7, %9)\n"
      "  }\n"
      "  %11 = arith.const() {value=1} : index\n"
      "  loop.for(%11, %2) {step=1} (%12: index) {\n"
      "    %13 = mem.load(%7, %12) : f32\n"
      "    mem.store(%13, %1, %12)\n"
      "  }\n"
      "}\n";
  IrModule *m = parse(text, "k.tir");
  assert_non_null(m);
  IrOp *ops[10];
  int n = 0;
  for (IrOp *op = m->main->body->first; op && n < 10; op = op->next) ops[n++] = op;
  assert_int_equal(n, 9);
  IrKeyPrinter *kp = ir_key_printer(m);
  const IrValue **e1, **e2, **e3;
  int n1, n2, n3;
  char *k1 = ir_print_key(kp, ops + 1, 3, &e1, &n1); /* alloc, const, loop */
  char *k2 = ir_print_key(kp, ops + 4, 3, &e2, &n2);
  char *k3 = ir_print_key(kp, ops + 8, 1, &e3, &n3); /* its const is outside */
  assert_string_equal(k1, "%0 = arith.const() {value=0} : index\n"
                          "loop.for(%0, const {value=16}:index) {step=1} (%1: index) {\n"
                          "  %2 = mem.load(%e0: buf f32[16], %1) : f32\n"
                          "  mem.store(%2, %e1: buf f32[16], %1)\n"
                          "}\n");
  assert_string_equal(k1, k2);
  assert_int_equal(n1, 2);
  assert_int_equal(n2, 2);
  assert_ptr_equal(e1[0], m->main->body->args[0]);
  assert_ptr_equal(e1[1], ops[1]->results[0]);
  assert_ptr_equal(e2[0], ops[1]->results[0]);
  assert_ptr_equal(e2[1], ops[4]->results[0]);
  assert_string_equal(k3, "loop.for(const {value=1}:index, const {value=16}:index) {step=1} (%0: index) {\n"
                          "  %1 = mem.load(%e0: buf f32[16], %0) : f32\n"
                          "  mem.store(%1, %e1: buf f32[16], %0)\n"
                          "}\n");
  assert_int_equal(n3, 2);
  free(k1), free(k2), free(k3);
  free(e1), free(e2), free(e3);
  ir_key_printer_free(kp);
  ir_module_free(m);
}

static const char **names(IrModule *m, const char *a) {
  const char **n = ir_arena_alloc(m->arena, sizeof *n);
  n[0] = a;
  return n;
}

/* ------------------------------------------------------ tensor printing */
static IrModule *build_tensor_module(void) {
  static const float wdata[4] = {1, 2, 3, 4};
  IrModule *m = ir_module_new("net");
  int n = ir_sym_add(m, "N", 1, 32);
  IrFunc *f = ir_func_new(m, "main");
  IrType t = ir_type_tensor(IR_F32, 2, (int64_t[]){1, 4});
  t.dims[0] = (IrDim){0, n};
  IrValue *x = ir_block_add_arg(m, f->body, t);
  f->num_inputs = 1;
  f->input_names = names(m, "x");
  IrWeight *w = ir_weight_add(m, "w", ir_type_tensor(IR_F32, 1, (int64_t[]){4}), wdata,
                              sizeof wdata, false);
  ir_weight_add(m, "big", ir_type_tensor(IR_F32, 1, (int64_t[]){17}), NULL, 0, false);
  IrBuilder b = ir_builder_at_end(m, f->body);
  b.loc = (IrLoc){"net.onnx", "Add_0", "Add", 13, 0, 0, NULL};
  IrValue *s = ir_build1(&b, IR_OP_ADD, 2, (IrValue *[]){x, w->value}, t);
  b.loc = (IrLoc){0};
  IrOp *sm = ir_build(&b, IR_OP_SOFTMAX, 1, &s, 1, &t);
  ir_attr_set_float(m, sm, "eps", 1e-5);
  ir_attr_set_int(m, sm, "axis", -1);
  ir_attr_set_ints(m, sm, "perm", 2, (int64_t[]){1, 0});
  ir_attr_set_strings(m, sm, "modes", 2, (const char *[]){"a", "b\"c"});
  ir_attr_set_floats(m, sm, "scales", 3, (double[]){1.0, 0.1, 100.0});
  ir_attr_set_type(m, sm, "to", IR_F16);
  IrOp *c = ir_build(&b, IR_OP_CLIP, 3, (IrValue *[]){sm->results[0], NULL, w->value}, 1, &t);
  ir_build(&b, IR_OP_RETURN, 1, &c->results[0], 0, NULL);
  f->num_outputs = 1;
  f->output_names = names(m, "y");
  f->output_types = ir_arena_alloc(m->arena, sizeof(IrType));
  f->output_types[0] = t;
  return m;
}

static const char tensor_text[] =
    "module @net\n"
    "sym N = 1..32\n"
    "weight $w : f32[4] = [1.0,2.0,3.0,4.0]\n"
    "weight $big : f32[17]\n"
    "func @main(%0: f32[N,4] as \"x\") -> (f32[N,4] as \"y\") {\n"
    "  %1 = add(%0, $w) : f32[N,4] loc(\"net.onnx\":\"Add_0\")\n"
    "  %2 = softmax(%1) {axis=-1, eps=1e-05, modes=[\"a\",\"b\\\"c\"], perm=[1,0], "
    "scales=[1.0,0.1,100.0], to=type(f16)} : f32[N,4]\n"
    "  %3 = clip(%2, none, $w) : f32[N,4]\n"
    "  return(%3)\n"
    "}\n";

static void test_print_tensor(void **state) {
  (void)state;
  IrModule *m = build_tensor_module();
  assert_true(ir_verify(m));
  char *s = ir_print_module_str(m);
  assert_string_equal(s, tensor_text);
  free(s);
  ir_module_free(m);
  assert_roundtrip(tensor_text);
}

/* The parser recovers the function's fields and the ONNX loc. */
static void test_parse_fields(void **state) {
  (void)state;
  IrModule *m = parse(tensor_text, "t.tir");
  assert_non_null(m);
  IrFunc *f = m->main;
  assert_false(f->lowered);
  assert_int_equal(f->num_inputs, 1);
  assert_int_equal(f->num_outputs, 1);
  assert_string_equal(f->input_names[0], "x");
  assert_string_equal(f->output_names[0], "y");
  assert_int_equal(f->output_types[0].dims[0].sym, 0);
  assert_int_equal(f->workspace_size, -1);
  IrOp *add = f->body->first;
  assert_string_equal(add->loc.file, "net.onnx");
  assert_string_equal(add->loc.node, "Add_0");
  assert_string_equal(add->loc.op_type, "Add");
  assert_null(add->next->next->operands[1]);
  assert_int_equal(add->next->loc.line, 7);
  assert_int_equal(add->next->loc.col, 3);
  IrWeight *w = ir_weight_find(m, "w");
  assert_int_equal(w->nbytes, 16);
  assert_true(((const float *)w->data)[3] == 4.0f);
  assert_null(ir_weight_find(m, "big")->data);
  assert_true(ir_verify(m));
  ir_module_free(m);
}

/* --------------------------------------------------------- loop printing */
/* sum of all elements of $w (2x3) into out[0], through lower.h helpers. */
static IrModule *build_loop_module(const float *data) {
  IrModule *m = ir_module_new("low");
  IrWeight *w = ir_weight_add(m, "w", ir_type_tensor(IR_F32, 2, (int64_t[]){2, 3}), data,
                              6 * sizeof(float), false);
  IrFunc *f = ir_func_new(m, "main");
  f->lowered = true;
  f->num_outputs = 1;
  f->output_names = names(m, "sum");
  f->output_types = ir_arena_alloc(m->arena, sizeof(IrType));
  f->output_types[0] = ir_type_tensor(IR_F32, 1, (int64_t[]){1});
  IrValue *out = ir_block_add_arg(m, f->body, ir_type_buffer(IR_F32, 1, (int64_t[]){1}));
  LwCtx c = {.m = m, .b = ir_builder_at_end(m, f->body)};
  IrValue *zero = lw_const_f(&c, IR_F32, 0.0), *i, *j, *acc_i, *acc_j;
  IrValue *lo = lw_index(&c, 0), *hi = lw_index(&c, 2);
  IrOp *outer = lw_for_begin_iter(&c, lo, hi, 1, 1, &zero, &i, &acc_i);
  lo = lw_index(&c, 0);
  hi = lw_index(&c, 3);
  IrOp *inner = lw_for_begin_iter(&c, lo, hi, 1, 1, &acc_i, &j, &acc_j);
  IrValue *v = lw_load(&c, w->value, (IrValue *[]){i, j});
  IrValue *sum = lw_bin(&c, IR_OP_A_ADD, acc_j, v);
  lw_for_end_iter(&c, inner, 1, &sum);
  lw_for_end_iter(&c, outer, 1, &inner->results[0]);
  lw_store(&c, outer->results[0], out, (IrValue *[]){lw_index(&c, 0)});
  return m;
}

static const char loop_text[] =
    "module @low\n"
    "weight $w : f32[2,3] = [1.0,2.0,3.0,4.0,5.0,6.5]\n"
    "func @main() -> (%0: buf f32[1] as \"sum\") {\n"
    "  %1 = arith.const() {value=0.0} : f32\n"
    "  %2 = arith.const() {value=0} : index\n"
    "  %3 = arith.const() {value=2} : index\n"
    "  %4 = loop.for(%2, %3, %1) {step=1} : f32 (%5: index, %6: f32) {\n"
    "    %7 = arith.const() {value=0} : index\n"
    "    %8 = arith.const() {value=3} : index\n"
    "    %9 = loop.for(%7, %8, %6) {step=1} : f32 (%10: index, %11: f32) {\n"
    "      %12 = mem.load($w, %5, %10) : f32\n"
    "      %13 = arith.add(%11, %12) : f32\n"
    "      loop.yield(%13)\n"
    "    }\n"
    "    loop.yield(%9)\n"
    "  }\n"
    "  %14 = arith.const() {value=0} : index\n"
    "  mem.store(%4, %0, %14)\n"
    "}\n";

static const float loop_data[6] = {1, 2, 3, 4, 5, 6.5f};

static void test_print_loop(void **state) {
  (void)state;
  IrModule *m = build_loop_module(loop_data);
  assert_true(ir_verify(m));
  char *s = ir_print_module_str(m);
  assert_string_equal(s, loop_text);
  free(s);
  ir_module_free(m);
  assert_roundtrip(loop_text);
}

/* ------------------------------------------------------ golden round trip */
static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
  s[n] = 0;
  fclose(f);
  return s;
}

/* A roundtrip file holds input IR, a `// PRINTS:` line, then its printed
 * form (not `// EXPECT:`, so run_golden.sh leaves these files alone).
 * print(parse(input)) == expected, and expected round-trips. */
static void check_roundtrip_file(const char *path) {
  char *text = read_file(path);
  char *cut = strstr(text, "// PRINTS:\n");
  assert_non_null(cut);
  const char *expected = cut + strlen("// PRINTS:\n");
  IrModule *m = ir_parse(text, (size_t)(cut - text), path);
  assert_non_null(m);
  assert_true(ir_verify(m));
  char *s = ir_print_module_str(m);
  assert_string_equal(s, expected);
  assert_roundtrip(expected);
  free(s);
  ir_module_free(m);
  free(text);
}

static void test_roundtrip_files(void **state) {
  (void)state;
  DIR *d = opendir(TCC_TEST_DIR "/ir/roundtrip");
  assert_non_null(d);
  int count = 0;
  for (struct dirent *e; (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    if (n < 5 || strcmp(e->d_name + n - 4, ".tir")) continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/ir/roundtrip/%s", TCC_TEST_DIR, e->d_name);
    check_roundtrip_file(path);
    count++;
  }
  closedir(d);
  assert_true(count >= 4);
  assert_string_equal(diags, "");
}

/* ---------------------------------------------------------- parse errors */
static void expect_parse_error(const char *text, const char *msg) {
  diags[0] = 0;
  assert_null(parse(text, "t.tir"));
  assert_string_equal(diags, msg);
}

static void test_parse_errors(void **state) {
  (void)state;
  expect_parse_error("", "t.tir:1:1: error: expected 'module'");
  expect_parse_error("module @m\nfunc @main() -> () {\n  %1 = foo() : f32\n}\n",
                     "t.tir:3:8: error: unknown op 'foo'");
  expect_parse_error("module @m\nfunc @main(%0: buf f32[2]) -> () {\n"
                     "  %1 = arith.const() {value=0} : index\n  mem.store(%7, %0, %1)\n}\n",
                     "t.tir:4:13: error: use of undefined value %7");
  expect_parse_error("module @m\nsym N = 1..4\nfunc @main(%0: f32[N] -> (f32[N]) {\n}\n",
                     "t.tir:3:23: error: expected ')'");
  /* sum syms: terms in order, earlier run-time syms, the bounds summed */
  expect_parse_error("module @m\nsym a = 0..4\nsym b = 1..2\nsym s = 1..6 sum(b, a)\n",
                     "t.tir:4:21: error: a sum's terms are up to 4 earlier run-time syms, not "
                     "sums, in order");
  expect_parse_error("module @m\nsym a = 0..4\nsym s = 0..4 sum(a)\n",
                     "t.tir:3:5: error: a sum needs two terms, or one and an offset");
  expect_parse_error("module @m\nsym a = 0..4\nsym b = 1..2\nsym a_plus_b = 1..7 sum(a, b)\n",
                     "t.tir:4:5: error: the sum is 'a_plus_b = 1..6', not 'a_plus_b = 1..7'");
  expect_parse_error("module @m\nsym a = 0..4 bound 2\nsym b = 1..2\nsym s = 1..6 sum(a, b)\n",
                     "t.tir:4:18: error: a sum's terms are up to 4 earlier run-time syms, not "
                     "sums, in order");
  expect_parse_error("module @m\nweight $w : f33[2]\n", "t.tir:2:13: error: unknown type 'f33'");
  expect_parse_error("module @m\nweight $w : f32[M]\n", "t.tir:2:17: error: unknown symbol 'M'");
  expect_parse_error("module @m\nweight $w : f32[2] = [1.0]\n",
                     "t.tir:2:8: error: weight $w needs 2 values, got 1");
  expect_parse_error("module @m\nweight $w : i32[1] = [1.5]\n",
                     "t.tir:2:8: error: weight $w of i32 holds a float");
  expect_parse_error("module @m\nfunc @f() -> () {\n  %1 = arith.const() {value=\"ab\n",
                     "t.tir:3:29: error: unterminated string");
  expect_parse_error("module @m\nfunc @f() -> () {\n  %1 = arith.const() {value=0} : index\n"
                     "  %1 = arith.const() {value=0} : index\n}\n",
                     "t.tir:4:3: error: redefinition of value %1");
  expect_parse_error("module @m\nfunc @f() -> () {\n  %1 = arith.const() {value=0, value=1} : index\n",
                     "t.tir:3:32: error: duplicate attribute 'value'");
  expect_parse_error("module @m\nfunc @f() -> () {\n  %1, %2 = arith.const() {value=0} : index\n",
                     "t.tir:4:1: error: expected 2 result types");
  expect_parse_error("module @m\nfunc @f() -> () {\n  %1 = arith.const() {value=9223372036854775808} : index\n",
                     "t.tir:3:29: error: integer out of range");
  expect_parse_error("module @m\nfunc @f() -> () {\n  %1 = arith.const() : <0 x f32>\n",
                     "t.tir:3:25: error: invalid vector lane count 0");
  expect_parse_error("module @m\nfunc @f() -> () {\n  mem.store() : f32\n",
                     "t.tir:3:15: error: 'mem.store' has no results to type");
  expect_parse_error("module @m\n#", "t.tir:2:1: error: unexpected character '#'");
  expect_parse_error("module @m\nfunc @f() -> () {\n", "t.tir:3:1: error: expected '}'");
  expect_parse_error("module @m\nfunc @f() -> () {\n}\nfunc @g() -> () {\n}\n",
                     "t.tir:4:1: error: a module holds one func");
  diags[0] = 0;
  assert_null(ir_parse("module", 6, NULL));
  assert_string_equal(diags, "<input>:1:7: error: expected '@name'");
}

/* 256 nested loops: refused with a diagnostic, not a stack overflow. */
static void test_parse_depth(void **state) {
  (void)state;
  size_t cap = 64 * 1024, n = 0;
  char *s = malloc(cap);
  n += (size_t)snprintf(s + n, cap - n,
                        "module @m\nfunc @f() -> () {\n  %%a = arith.const() {value=0} : index\n");
  for (int i = 0; i < 256; i++)
    n += (size_t)snprintf(s + n, cap - n, "loop.for(%%a, %%a) {step=1} (%%i%d: index) {\n", i);
  for (int i = 0; i < 256; i++) n += (size_t)snprintf(s + n, cap - n, "}\n");
  n += (size_t)snprintf(s + n, cap - n, "}\n");
  diags[0] = 0;
  assert_null(ir_parse(s, n, "deep.tir"));
  assert_string_equal(diags, "deep.tir:132:27: error: regions nested too deeply (at most 128)");
  free(s);
}

/* -------------------------------------------------------- verifier errors */
static void expect_verify_error(const char *text, const char *msg) {
  diags[0] = 0;
  IrModule *m = parse(text, "v.tir");
  if (!m) fprintf(stderr, "%s\n", diags);
  assert_non_null(m);
  assert_false(ir_verify(m));
  assert_string_equal(diags, msg);
  ir_module_free(m);
}

#define HEAD "module @v\nfunc @main(%0: buf f32[2,3,4], %1: buf f32[2]) -> () {\n" \
             "  %2 = arith.const() {value=0} : index\n"

static void test_verify_errors(void **state) {
  (void)state;
  expect_verify_error(HEAD "  %3 = mem.load(%0, %2, %2) : f32\n}\n",
                      "v.tir:4:3: error: verifier: 'mem.load' expects 3 indices for "
                      "buf f32[2,3,4], got 2");
  expect_verify_error(HEAD "  loop.for(%2, %2) {step=1} (%3: index) {\n"
                           "    %4 = mem.load(%1, %3) : f32\n  }\n  mem.store(%4, %1, %2)\n}\n",
                      "v.tir:7:3: error: verifier: 'mem.store' operand 0 is not defined "
                      "before this use or not in scope");
  expect_verify_error(HEAD "  loop.for(%2, %2) {step=0} (%3: index) {\n  }\n}\n",
                      "v.tir:4:3: error: verifier: 'loop.for' expects int attribute 'step' > 0");
  expect_verify_error(HEAD "  loop.for(%2, %2) {parallel=2, step=1} (%3: index) {\n  }\n}\n",
                      "v.tir:4:3: error: verifier: 'loop.for' expects int attribute "
                      "'parallel' = 0 or 1");
  expect_verify_error(HEAD "  loop.for(%2, %2) {parallel=\"yes\", step=1} (%3: index) {\n  }\n}\n",
                      "v.tir:4:3: error: verifier: 'loop.for' expects int attribute "
                      "'parallel' = 0 or 1");
  expect_verify_error(HEAD "  %3 = arith.const() {value=1.0} : f32\n"
                           "  %4 = loop.for(%2, %2, %3) {parallel=1, step=1} : f32 "
                           "(%5: index, %6: f32) {\n    loop.yield(%6)\n  }\n}\n",
                      "v.tir:5:3: error: verifier: 'loop.for' with parallel=1 cannot carry "
                      "iteration values (it has 1)");
  expect_verify_error(HEAD "  %3 = arith.const() {value=1.0} : f32\n"
                           "  %4 = loop.for(%2, %2, %3) {step=1} : f32 (%5: index, %6: f32) {\n"
                           "    loop.yield(%2)\n  }\n}\n",
                      "v.tir:6:5: error: verifier: 'loop.yield' value 0 is index, the loop's "
                      "iteration value is f32");
  expect_verify_error(HEAD "  %3 = arith.const() {value=1.0} : f32\n"
                           "  %4 = loop.for(%2, %2, %3) {step=1} : f32 (%5: index, %6: f32) {\n"
                           "  }\n}\n",
                      "v.tir:5:3: error: verifier: 'loop.for' body must end in 'loop.yield' "
                      "(the loop has 1 iteration values)");
  expect_verify_error(HEAD "  %3 = arith.cmp(%2, %2) {pred=\"lo\"} : bool\n}\n",
                      "v.tir:4:3: error: verifier: 'arith.cmp' expects string attribute "
                      "'pred' = eq|ne|lt|le|gt|ge");
  expect_verify_error(HEAD "  %3 = arith.const() {value=1.0} : f32\n"
                           "  %4 = arith.add(%3, %2) : f32\n}\n",
                      "v.tir:5:3: error: verifier: 'arith.add' operands have different types "
                      "f32 and index");
  expect_verify_error(HEAD "  %3 = math.exp(%2) : index\n}\n",
                      "v.tir:4:3: error: verifier: 'math.exp' expects float operands, got index");
  expect_verify_error(HEAD "  %3 = arith.const() {value=1.5} : i32\n}\n",
                      "v.tir:4:3: error: verifier: 'arith.const' has a float value for i32");
  expect_verify_error(HEAD "  %3 = arith.const() {value=1.5} : f32\n"
                           "  %4 = vec.broadcast(%3) : <4 x f32>\n"
                           "  %5 = vec.reduce(%4) {kind=\"mul\"} : f32\n}\n",
                      "v.tir:6:3: error: verifier: 'vec.reduce' expects string attribute "
                      "'kind' = add|max|min");
  expect_verify_error(HEAD "  %3 = mem.vload(%1, %2) : <4 x f16>\n}\n",
                      "v.tir:4:3: error: verifier: 'mem.vload' value <4 x f16> does not match "
                      "a vector of the elements of buf f32[2]");
  expect_verify_error(HEAD "  mem.store(%2)\n}\n",
                      "v.tir:4:3: error: verifier: 'mem.store' expects at least 2 operands, got 1");
  expect_verify_error("module @v\nweight $w : f32[2]\nfunc @main(%0: buf f32[2]) -> () {\n"
                      "  %1 = arith.const() {value=0} : index\n"
                      "  %2 = mem.load(%0, %1) : f32\n  mem.store(%2, $w, %1)\n}\n",
                      "v.tir:6:3: error: verifier: 'mem.store' cannot store into weight $w");
  expect_verify_error("module @v\nfunc @main(%0: f32[2]) -> (f32[2]) {\n"
                      "  %1 = arith.const() {value=0} : index\n  return(%0)\n}\n",
                      "v.tir:3:3: error: verifier: 'arith.const' is a loop-level op in a "
                      "tensor-level function");
  expect_verify_error("module @v\nfunc @main(%0: f32[2]) -> (f32[2]) {\n"
                      "  return(%0)\n  %1 = relu(%0) : f32[2]\n}\n",
                      "v.tir:3:3: error: verifier: 'return' is a terminator but not the last "
                      "op of its block");
  expect_verify_error("module @v\nfunc @main(%0: f32[2]) -> (f32[2]) {\n  return()\n}\n",
                      "v.tir:3:3: error: verifier: 'return' returns 0 values, the function "
                      "has 1 outputs");
}

/* The verifier also sees ops of another module (same ids, other values). */
static void test_verify_foreign_value(void **state) {
  (void)state;
  IrModule *a = build_loop_module(loop_data), *b = build_loop_module(loop_data);
  IrOp *store = a->main->body->last;
  store->operands[0] = b->main->body->first->results[0]; /* b's %1 */
  diags[0] = 0;
  assert_false(ir_verify(a));
  assert_string_equal(diags, "tcc: error: verifier: 'mem.store' operand 0 is not defined before "
                             "this use or not in scope");
  ir_module_free(a);
  ir_module_free(b);
}

/* ------------------------------------------------------------ interpreter */
static void test_interp_sum(void **state) {
  (void)state;
  IrModule *m = build_loop_module(loop_data);
  float out[1] = {-1};
  void *bufs[1] = {out};
  assert_true(ir_interp_run(m, m->main, bufs, NULL));
  assert_true(out[0] == 21.5f);
  ir_module_free(m);
  /* the same program from text */
  m = parse(loop_text, "l.tir");
  out[0] = -1;
  assert_true(ir_interp_run(m, m->main, bufs, NULL));
  assert_true(out[0] == 21.5f);
  ir_module_free(m);
  assert_string_equal(diags, "");
}

static void test_interp_oob(void **state) {
  (void)state;
  static const char text[] =
      "module @oob\nfunc @main(%0: buf f32[2]) -> (%1: buf f32[3]) {\n"
      "  %2 = arith.const() {value=0} : index\n"
      "  %3 = arith.const() {value=3} : index\n"
      "  loop.for(%2, %3) {step=1} (%4: index) {\n"
      "    %5 = mem.load(%0, %4) : f32\n"
      "    mem.store(%5, %1, %4)\n"
      "  }\n}\n";
  IrModule *m = parse(text, "oob.tir");
  assert_non_null(m);
  assert_true(ir_verify(m));
  float in[2] = {7, 8}, out[3] = {0, 0, -1};
  void *bufs[2] = {in, out};
  assert_false(ir_interp_run(m, m->main, bufs, NULL));
  assert_string_equal(diags, "oob.tir:6:5: error: interp: 'mem.load' index 2 is out of bounds "
                             "for dimension 0 of buf f32[2]");
  assert_true(out[0] == 7 && out[1] == 8 && out[2] == -1);
  ir_module_free(m);

  static const char vtext[] =
      "module @oob\nfunc @main(%0: buf f32[2,6]) -> () {\n"
      "  %1 = arith.const() {value=1} : index\n"
      "  %2 = arith.const() {value=3} : index\n"
      "  %3 = mem.vload(%0, %1, %2) : <4 x f32>\n}\n";
  diags[0] = 0;
  m = parse(vtext, "v.tir");
  float big[12] = {0};
  void *vb[1] = {big};
  assert_false(ir_interp_run(m, m->main, vb, NULL));
  assert_string_equal(diags, "v.tir:5:3: error: interp: 'mem.vload' index 3 (+ vector lanes) is "
                             "out of bounds for dimension 1 of buf f32[2,6]");
  ir_module_free(m);
}

static void test_interp_semantics(void **state) {
  (void)state;
  static const char text[] =
      "module @sem\nfunc @main() -> (%o: buf i64[6], %p: buf f64[6]) {\n"
      "  %i0 = arith.const() {value=0} : index\n"
      "  %i1 = arith.const() {value=1} : index\n"
      "  %i2 = arith.const() {value=2} : index\n"
      "  %i3 = arith.const() {value=3} : index\n"
      "  %i4 = arith.const() {value=4} : index\n"
      "  %i5 = arith.const() {value=5} : index\n"
      "  %a = arith.const() {value=127} : i8\n"
      "  %b = arith.const() {value=1} : i8\n"
      "  %c = arith.add(%a, %b) : i8\n"             /* wraps to -128 */
      "  %c64 = arith.cast(%c) : i64\n"
      "  mem.store(%c64, %o, %i0)\n"
      "  %u = arith.const() {value=4294967295} : u32\n"
      "  %two = arith.const() {value=2} : u32\n"
      "  %q = arith.div(%u, %two) : u32\n"          /* unsigned: 2147483647 */
      "  %q64 = arith.cast(%q) : i64\n"
      "  mem.store(%q64, %o, %i1)\n"
      "  %f = arith.const() {value=-2.75} : f32\n"
      "  %fi = arith.cast(%f) : i64\n"              /* toward zero: -2 */
      "  mem.store(%fi, %o, %i2)\n"
      "  %big = arith.const() {value=1e+30} : f32\n"
      "  %sat = arith.cast(%big) : i32\n"           /* saturates */
      "  %sat64 = arith.cast(%sat) : i64\n"
      "  mem.store(%sat64, %o, %i3)\n"
      "  %m1 = arith.const() {value=-1} : i32\n"
      "  %mu = arith.cast(%m1) : u64\n"             /* sign-extends, then u64 */
      "  %mi = arith.cast(%mu) : i64\n"
      "  mem.store(%mi, %o, %i4)\n"
      "  %two32 = arith.const() {value=2} : i32\n"
      "  %n7 = arith.const() {value=-7} : i32\n"
      "  %r = arith.rem(%n7, %two32) : i32\n"
      "  %r64 = arith.cast(%r) : i64\n"
      "  mem.store(%r64, %o, %i5)\n"
      "  %h = arith.const() {value=2.5} : f64\n"
      "  %hr = math.round(%h) : f64\n"               /* half to even: 2 */
      "  mem.store(%hr, %p, %i0)\n"
      "  %x = arith.const() {value=0.1} : f16\n"
      "  %x64 = arith.cast(%x) : f64\n"
      "  mem.store(%x64, %p, %i1)\n"
      "  %nan = arith.const() {value=nan} : f32\n"
      "  %one = arith.const() {value=1.0} : f32\n"
      "  %mx = arith.max(%nan, %one) : f32\n"       /* fmax: 1 */
      "  %mx64 = arith.cast(%mx) : f64\n"
      "  mem.store(%mx64, %p, %i2)\n"
      "  %t = arith.const() {value=0.1} : f32\n"
      "  %t2 = arith.mul(%t, %t) : f32\n"
      "  %t64 = arith.cast(%t2) : f64\n"
      "  mem.store(%t64, %p, %i3)\n"
      "  %v = vec.broadcast(%t) : <4 x f32>\n"
      "  %vs = vec.reduce(%v) {kind=\"add\"} : f32\n"
      "  %vs64 = arith.cast(%vs) : f64\n"
      "  mem.store(%vs64, %p, %i4)\n"
      "  %lt = arith.cmp(%nan, %one) {pred=\"ne\"} : bool\n"
      "  %sel = arith.select(%lt, %h, %x64) : f64\n"
      "  mem.store(%sel, %p, %i5)\n"
      "}\n";
  IrModule *m = parse(text, "sem.tir");
  assert_non_null(m);
  assert_true(ir_verify(m));
  int64_t o[6] = {0};
  double p[6] = {0};
  void *bufs[2] = {o, p};
  assert_true(ir_interp_run(m, m->main, bufs, NULL));
  assert_int_equal(o[0], -128);
  assert_int_equal(o[1], 2147483647);
  assert_int_equal(o[2], -2);
  assert_int_equal(o[3], 2147483647);
  assert_int_equal(o[4], -1);
  assert_int_equal(o[5], -1);
  assert_true(p[0] == 2.0);
  assert_true(p[1] == 0.0999755859375);
  assert_true(p[2] == 1.0);
  float t = 0.1f;
  volatile float t2 = t * t;
  assert_true(p[3] == (double)t2);
  float s4 = ((t + t) + t) + t;
  assert_true(p[4] == (double)s4);
  assert_true(p[5] == 2.5);
  ir_module_free(m);
  assert_string_equal(diags, "");
}

static void test_interp_errors(void **state) {
  (void)state;
  static const char text[] =
      "module @d\nfunc @main() -> () {\n"
      "  %1 = arith.const() {value=5} : i32\n"
      "  %2 = arith.const() {value=0} : i32\n"
      "  %3 = arith.div(%1, %2) : i32\n}\n";
  IrModule *m = parse(text, "d.tir");
  assert_false(ir_interp_run(m, m->main, NULL, NULL));
  assert_string_equal(diags, "d.tir:5:3: error: interp: 'arith.div' divides by zero");
  ir_module_free(m);
  diags[0] = 0;
  m = parse(tensor_text, "t.tir");
  assert_false(ir_interp_run(m, m->main, NULL, NULL));
  assert_string_equal(diags, "tcc: error: interp: only a lowered (loop-level) function can run");
  ir_module_free(m);
}

/* mem.alloc takes its planned offset in the workspace when given one. */
static void test_interp_workspace(void **state) {
  (void)state;
  static const char text[] =
      "module @ws\nfunc @main(%0: buf f32[2]) -> (%1: buf f32[2]) {workspace=16} {\n"
      "  %2 = mem.alloc() {offset=8} : buf f32[2]\n"
      "  mem.copy(%0, %2)\n"
      "  mem.copy(%2, %1)\n}\n";
  IrModule *m = parse(text, "ws.tir");
  assert_true(ir_verify(m));
  float in[2] = {3, 4}, out[2] = {0}, ws[4] = {0};
  void *bufs[2] = {in, out};
  assert_true(ir_interp_run(m, m->main, bufs, ws));
  assert_true(ws[2] == 3 && ws[3] == 4 && out[0] == 3 && out[1] == 4);
  out[0] = out[1] = 0;
  assert_true(ir_interp_run(m, m->main, bufs, NULL)); /* own memory */
  assert_true(out[0] == 3 && out[1] == 4);
  ir_module_free(m);
}

/* ------------------------------------------------------------ crash hunt */
/* Every prefix and many one-byte mutations of the golden files: the parser
 * must not crash, and whatever parses must print and round-trip. */
static void hunt(const char *text) {
  size_t n = strlen(text);
  char *buf = malloc(n + 1);
  static const char subst[] = {'(', ')', '{', '}', '%', ',', '"', '\\', 'x', '0', '-', '\n', 0};
  for (size_t i = 0; i <= n; i++) {
    for (size_t k = 0; k <= sizeof subst; k++) {
      memcpy(buf, text, n + 1);
      size_t len = n;
      if (k == sizeof subst) len = i; /* a prefix */
      else if (i < n) buf[i] = subst[k];
      else continue;
      IrModule *m = ir_parse(buf, len, "h.tir");
      if (!m) continue;
      ir_verify(m);
      char *s = ir_print_module_str(m);
      IrModule *m2 = ir_parse(s, strlen(s), "h2.tir");
      assert_non_null(m2);
      char *s2 = ir_print_module_str(m2);
      assert_string_equal(s, s2);
      free(s);
      free(s2);
      ir_module_free(m);
      ir_module_free(m2);
    }
  }
  free(buf);
}

static void test_crash_hunt(void **state) {
  (void)state;
  hunt(tensor_text);
  hunt(loop_text);
  char *t = read_file(TCC_TEST_DIR "/ir/roundtrip/vectors.tir");
  hunt(strstr(t, "// PRINTS:\n") + strlen("// PRINTS:\n"));
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_print_tensor, setup, teardown),
      cmocka_unit_test_setup_teardown(test_parse_fields, setup, teardown),
      cmocka_unit_test_setup_teardown(test_print_loop, setup, teardown),
      cmocka_unit_test_setup_teardown(test_roundtrip_files, setup, teardown),
      cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_parse_depth, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_foreign_value, setup, teardown),
      cmocka_unit_test_setup_teardown(test_interp_sum, setup, teardown),
      cmocka_unit_test_setup_teardown(test_print_key, setup, teardown),
      cmocka_unit_test_setup_teardown(test_interp_oob, setup, teardown),
      cmocka_unit_test_setup_teardown(test_interp_semantics, setup, teardown),
      cmocka_unit_test_setup_teardown(test_interp_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_interp_workspace, setup, teardown),
      cmocka_unit_test_setup_teardown(test_crash_hunt, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
