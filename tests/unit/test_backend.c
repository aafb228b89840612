/*
 * test_backend.c — the LLVM backend, the header and the runtime, end to end.
 *
 * Each case hand-builds a small LOWERED module with the ir/lower.h helpers,
 * emits an x86_64 object and its header, links them with a generic C driver
 * (it sizes buffers from the header's tcc_tensor_info) and libtccrt.a, runs
 * the program and compares its outputs with numbers computed here.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "header.h"
#include "llvm.h"
#include "lower.h"
#include "program_test.h"
#include "tcc/runtime.h"

/* The runtime itself, for test_runtime_check: the unit tests link tcc_lib,
 * which does not contain libtccrt. */
#include "../../runtime/rt.c"

/* ----------------------------------------------------------- fixtures */
static char diag_text[8192];
static void sink(void *user, DiagLevel level, const char *msg) {
  (void)user;
  (void)level;
  snprintf(diag_text, sizeof diag_text, "%s", msg);
}

typedef struct Model {
  IrModule *m;
  IrFunc *f;
  LwCtx c;
} Model;

static Model model_new(const char *name, int n_in, int n_out, const IrType *types,
                       const char *const *names, int64_t workspace) {
  Model d = {0};
  d.m = ir_module_new(name);
  d.f = ir_func_new(d.m, "main");
  d.f->lowered = true;
  d.f->num_inputs = n_in;
  d.f->num_outputs = n_out;
  d.f->workspace_size = workspace;
  d.f->input_names = ir_arena_alloc(d.m->arena, sizeof(char *) * (size_t)(n_in + 1));
  d.f->output_names = ir_arena_alloc(d.m->arena, sizeof(char *) * (size_t)(n_out + 1));
  for (int i = 0; i < n_in + n_out; i++) {
    ir_block_add_arg(d.m, d.f->body, types[i]);
    const char **dst = i < n_in ? &d.f->input_names[i] : &d.f->output_names[i - n_in];
    *dst = ir_arena_strdup(d.m->arena, names[i]);
  }
  d.c.m = d.m;
  d.c.b = ir_builder_at_end(d.m, d.f->body);
  return d;
}

static IrValue *arg(Model *d, int i) { return d->f->body->args[i]; }

static LlvmOptions opts(const char *cpu) {
  LlvmOptions o = {.target = target_find("x86_64"), .cpu = cpu, .opt_level = 3, .jobs = 1,
                   .share = true};
  return o;
}

/* Emits, links and runs m once on the concatenated inputs. */
static void build_and_run(IrModule *m, const void *in, size_t in_n, void *out, size_t out_n) {
  LlvmOptions o = opts(NULL);
  build_program(m, &o);
  run_program(in, in_n, out, out_n);
}









static void assert_close(double got, double want, double tol) {
  if (fabs(got - want) > tol * (1 + fabs(want))) {
    print_error("got %.9g, want %.9g\n", got, want);
    fail();
  }
}

/* ------------------------------------------- inline f32 math, accuracy */
enum { MATH_N = 4096, MATH_FNS = 4 };
static const IrOpKind math_kinds[MATH_FNS] = {IR_OP_M_EXP, IR_OP_M_TANH, IR_OP_M_ERF,
                                              IR_OP_M_SIGMOID};

static double math_want(int f, double x) {
  switch (f) {
  case 0: return exp(x);
  case 1: return tanh(x);
  case 2: return erf(x);
  default: return 1 / (1 + exp(-x));
  }
}

/* Error of got against want (double) in units of the f32 spacing at want;
 * below the smallest normal float in units of that normal: the inline code
 * flushes such results to 0. */
static double math_ulps(float got, double want) {
  double aw = fabs(want);
  double spacing = aw < 0x1p-126 ? 0x1p-126 : ldexp(1, ilogb(aw) - 23);
  if (isinf(want) || isinf(got)) return (float)want == got ? 0 : INFINITY;
  return fabs(got - want) / spacing;
}

/* y_f[i] = f(x[i]) for exp, tanh, erf and sigmoid, 16 lanes at a time: the
 * vector forms code generation computes inline (backends/llvm/llvm_ops.c),
 * checked in ulps over [-100, 100] and at the special values. */
static void test_inline_math_accuracy(void **state) {
  (void)state;
  int64_t n[1] = {MATH_N};
  IrType types[1 + MATH_FNS];
  for (int i = 0; i <= MATH_FNS; i++) types[i] = ir_type_buffer(IR_F32, 1, n);
  const char *names[1 + MATH_FNS] = {"x", "exp", "tanh", "erf", "sigmoid"};
  Model d = model_new("math", 1, MATH_FNS, types, names, 0);
  LwCtx *c = &d.c;
  IrValue *i;
  IrOp *l = lw_for_begin(c, lw_index(c, 0), lw_index(c, MATH_N), 16, &i);
  IrValue *x = lw_vload(c, arg(&d, 0), &i, 16);
  for (int f = 0; f < MATH_FNS; f++) lw_vstore(c, lw_un(c, math_kinds[f], x), arg(&d, 1 + f), &i);
  lw_for_end(c, l);

  static float in[MATH_N], out[MATH_FNS][MATH_N];
  const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 88.72283935546875f,
                           88.7228469848632812f, -87.33654022216797f, -87.3365478515625f,
                           88.37626f, -88.37626f, -103.97f, 1e-30f, -1e-30f, 0.625f, 4.0f};
  int k = 0;
  for (; k < 16; k++) in[k] = special[k];
  for (; k < 2048; k++) in[k] = -100.0f + 200.0f * (float)(k - 16) / 2032.0f;
  for (; k < 3072; k++) in[k] = -10.0f + 20.0f * (float)(k - 2048) / 1024.0f;
  for (; k < MATH_N; k++) in[k] = -1.0f + 2.0f * (float)(k - 3072) / 1024.0f;
  build_and_run(d.m, in, sizeof in, out, sizeof out);
  /* within: exp 2 ulp, tanh 2, sigmoid 3; erf 4 * 2^-23 absolute (a rational
   * approximation does not keep ulps near 0; docs/ir.md) */
  const double max_ulps[MATH_FNS] = {2, 2, 4, 3};
  for (int f = 0; f < MATH_FNS; f++) {
    for (k = 0; k < MATH_N; k++) {
      double want = math_want(f, in[k]);
      float got = out[f][k];
      if (isnan(in[k])) {
        assert_true(isnan(got));
        continue;
      }
      double u = f == 2 ? fabs(got - want) / 0x1p-23 : math_ulps(got, want);
      if (u > max_ulps[f]) {
        print_error("%s(%.9g) = %.9g, want %.9g (%.2f ulp)\n", names[1 + f], in[k], got, want, u);
        fail();
      }
    }
  }
  cleanup_tmpdir();
  ir_module_free(d.m);
}

/* ------------------------------------------------- scalar loops, weights */
static const float W8[8] = {0.5f, -1, 2, 0.25f, 3, -0.5f, 1.5f, -2};

/* x f32[4,8] -> y[i] = sqrt(1 + (sum_j x[i,j]*w[j])^2) + tanh(x[i,0]) + erf(..),
 *               z[i,j] = (i32)floor(max(x,0) * 3) via a workspace buffer,
 *               p[i,j] = pow(|x|, 1.5) - round(x) */
static Model build_scalar(void) {
  int64_t d48[2] = {4, 8}, d4[1] = {4}, d8[1] = {8};
  IrType types[4] = {ir_type_buffer(IR_F32, 2, d48), ir_type_buffer(IR_F32, 1, d4),
                     ir_type_buffer(IR_I32, 2, d48), ir_type_buffer(IR_F32, 2, d48)};
  const char *names[4] = {"x", "y", "z", "p"};
  Model d = model_new("scal", 1, 3, types, names, 128);
  LwCtx *c = &d.c;
  IrWeight *w = ir_weight_add(d.m, "w", ir_type_tensor(IR_F32, 1, d8), W8, sizeof W8, true);
  IrValue *tmp = lw_alloc(c, IR_F32, 1, d8);
  ir_attr_set_int(d.m, tmp->def, "offset", 64);
  IrValue *i, *j, *acc, *zero = lw_const_f(c, IR_F32, 0);
  IrOp *li = lw_for_begin(c, lw_index(c, 0), lw_index(c, 4), 1, &i);
  IrOp *lj = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, 8), 1, 1, &zero, &j, &acc);
  IrValue *xi[2] = {i, j};
  IrValue *prod = lw_bin(c, IR_OP_A_MUL, lw_load(c, arg(&d, 0), xi), lw_load(c, w->value, &j));
  IrValue *sum = lw_bin(c, IR_OP_A_ADD, acc, prod);
  lw_store(c, lw_bin(c, IR_OP_A_MAX, lw_load(c, arg(&d, 0), xi), zero), tmp, &j);
  lw_for_end_iter(c, lj, 1, &sum);
  IrValue *s = lj->results[0];
  IrValue *one = lw_const_f(c, IR_F32, 1);
  IrValue *r = lw_un(c, IR_OP_M_SQRT, lw_fma(c, s, s, one));
  IrValue *x0[2] = {i, lw_index(c, 0)};
  IrValue *x00 = lw_load(c, arg(&d, 0), x0);
  r = lw_bin(c, IR_OP_A_ADD, r, lw_un(c, IR_OP_M_TANH, x00));
  r = lw_bin(c, IR_OP_A_ADD, r, lw_un(c, IR_OP_M_ERF, x00));
  lw_store(c, r, arg(&d, 1), &i);
  IrOp *lk = lw_for_begin(c, lw_index(c, 0), lw_index(c, 8), 1, &j);
  IrValue *t = lw_bin(c, IR_OP_A_MUL, lw_load(c, tmp, &j), lw_const_f(c, IR_F32, 3));
  IrValue *zi[2] = {i, j};
  lw_store(c, lw_cast(c, lw_un(c, IR_OP_M_FLOOR, t), IR_I32), arg(&d, 2), zi);
  IrValue *x = lw_load(c, arg(&d, 0), zi);
  IrValue *pw = lw_bin(c, IR_OP_M_POW, lw_un(c, IR_OP_A_ABS, x), lw_const_f(c, IR_F32, 1.5));
  lw_store(c, lw_bin(c, IR_OP_A_SUB, pw, lw_un(c, IR_OP_M_ROUND, x)), arg(&d, 3), zi);
  lw_for_end(c, lk);
  lw_for_end(c, li);
  return d;
}

static void test_scalar_loops(void **state) {
  (void)state;
  Model d = build_scalar();
  float x[32], out[4 + 32 + 32];
  for (int k = 0; k < 32; k++) x[k] = (float)((k * 37 % 23) - 11) / 4.0f;
  x[5] = 2.5f; /* round half to even: 2 */
  build_and_run(d.m, x, sizeof x, out, sizeof out);
  int32_t z[32];
  memcpy(z, out + 4, sizeof z);
  for (int i = 0; i < 4; i++) {
    double s = 0;
    for (int j = 0; j < 8; j++) s += (double)x[i * 8 + j] * W8[j];
    assert_close(out[i], sqrt(1 + s * s) + tanh(x[i * 8]) + erf(x[i * 8]), 1e-5);
    for (int j = 0; j < 8; j++) {
      float v = x[i * 8 + j];
      assert_int_equal(z[i * 8 + j], (int32_t)floorf(fmaxf(v, 0) * 3));
      assert_close(out[36 + i * 8 + j], pow(fabs(v), 1.5) - nearbyint(v), 1e-5);
    }
  }
  cleanup_tmpdir();
  ir_module_free(d.m);
}

/* ------------------------------------------------------------- vectors */
/* x f32[2,16] -> y[i] = sum_j (x*2 + acc), m[i] = max_j x, v = x*3+1, via
 * <8 x f32> loads, broadcasts, fma, vector iter args and vec.reduce. */
static void test_vector_loop(void **state) {
  (void)state;
  int64_t d2x16[2] = {2, 16}, d2[1] = {2};
  IrType types[4] = {ir_type_buffer(IR_F32, 2, d2x16), ir_type_buffer(IR_F32, 1, d2),
                     ir_type_buffer(IR_F32, 1, d2), ir_type_buffer(IR_F32, 2, d2x16)};
  const char *names[4] = {"x", "sum", "max", "v"};
  Model d = model_new("vec", 1, 3, types, names, 0);
  LwCtx *c = &d.c;
  IrType v8 = ir_type_vector(IR_F32, 8, false);
  IrValue *i, *j, *it[2];
  IrOp *li = lw_for_begin(c, lw_index(c, 0), lw_index(c, 2), 1, &i);
  IrValue *init[2] = {ir_build1(&c->b, IR_OP_V_BROADCAST, 1,
                                (IrValue *[]){lw_const_f(c, IR_F32, 0)}, v8),
                      ir_build1(&c->b, IR_OP_V_BROADCAST, 1,
                                (IrValue *[]){lw_const_f(c, IR_F32, -INFINITY)}, v8)};
  IrOp *lj = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, 16), 8, 2, init, &j, it);
  IrValue *vx = ir_build1(&c->b, IR_OP_VLOAD, 3, (IrValue *[]){arg(&d, 0), i, j}, v8);
  IrValue *two = ir_build1(&c->b, IR_OP_V_BROADCAST, 1,
                           (IrValue *[]){lw_const_f(c, IR_F32, 2)}, v8);
  IrValue *three = ir_build1(&c->b, IR_OP_V_BROADCAST, 1,
                             (IrValue *[]){lw_const_f(c, IR_F32, 3)}, v8);
  IrValue *one = ir_build1(&c->b, IR_OP_V_BROADCAST, 1,
                           (IrValue *[]){lw_const_f(c, IR_F32, 1)}, v8);
  IrValue *y[2] = {lw_fma(c, vx, two, it[0]), lw_bin(c, IR_OP_A_MAX, it[1], vx)};
  ir_build(&c->b, IR_OP_VSTORE, 4, (IrValue *[]){lw_fma(c, vx, three, one), arg(&d, 3), i, j},
           0, NULL);
  lw_for_end_iter(c, lj, 2, y);
  const char *kinds[2] = {"add", "max"};
  for (int k = 0; k < 2; k++) {
    IrOp *r = ir_build(&c->b, IR_OP_V_REDUCE, 1, &lj->results[k], 1,
                       &(IrType){.kind = IR_TYPE_SCALAR, .elem = IR_F32});
    ir_attr_set_string(d.m, r, "kind", kinds[k]);
    lw_store(c, r->results[0], arg(&d, 1 + k), &i);
  }
  lw_for_end(c, li);
  float x[32], out[2 + 2 + 32];
  for (int k = 0; k < 32; k++) x[k] = (float)((k * 7) % 13) - 6.5f;
  build_and_run(d.m, x, sizeof x, out, sizeof out);
  for (int r = 0; r < 2; r++) {
    float s = 0, mx = -INFINITY;
    for (int k = 0; k < 16; k++) {
      s += 2 * x[r * 16 + k];
      mx = fmaxf(mx, x[r * 16 + k]);
      assert_close(out[4 + r * 16 + k], 3 * x[r * 16 + k] + 1, 1e-6);
    }
    assert_close(out[r], s, 1e-6);
    assert_close(out[2 + r], mx, 0);
  }
  cleanup_tmpdir();
  ir_module_free(d.m);
}

/* Partial and strided vectors (mem.vload/vstore {valid, stride}): x f32[37]
 * -> a = x[3 + 2l] (16 lanes), b = -1 then x[5 + 3l] stored in its first 11
 * lanes, c = x[30 ..] in 7 lanes (the rest read as 0); the object and the
 * interpreter agree with the arithmetic, and nothing outside is touched. */
static void test_partial_vectors(void **state) {
  (void)state;
  int64_t d37[1] = {37}, d16[1] = {16};
  IrType types[4] = {ir_type_buffer(IR_F32, 1, d37), ir_type_buffer(IR_F32, 1, d16),
                     ir_type_buffer(IR_F32, 1, d16), ir_type_buffer(IR_F32, 1, d16)};
  const char *names[4] = {"x", "a", "b", "c"};
  Model d = model_new("partial", 1, 3, types, names, 0);
  LwCtx *c = &d.c;
  IrValue *i3 = lw_index(c, 3), *i5 = lw_index(c, 5), *i30 = lw_index(c, 30);
  IrValue *zero = lw_index(c, 0);
  lw_vstore(c, lw_vload_strided(c, arg(&d, 0), &i3, 16, 2), arg(&d, 1), &zero);
  lw_vstore(c, lw_splat(c, lw_const_f(c, IR_F32, -1), 16), arg(&d, 2), &zero);
  c->valid_lanes = 11;
  lw_vstore(c, lw_vload_strided(c, arg(&d, 0), &i5, 16, 3), arg(&d, 2), &zero);
  c->valid_lanes = 7;
  IrValue *part = lw_vload(c, arg(&d, 0), &i30, 16);
  c->valid_lanes = 0;
  lw_vstore(c, part, arg(&d, 3), &zero);
  assert_true(ir_verify(d.m));
  float x[37], out[48], ref[48];
  for (int k = 0; k < 37; k++) x[k] = (float)k * 0.5f - 3.0f;
  for (int l = 0; l < 16; l++) {
    ref[l] = x[3 + 2 * l];
    ref[16 + l] = l < 11 ? x[5 + 3 * l] : -1.0f;
    ref[32 + l] = l < 7 ? x[30 + l] : 0.0f;
  }
  float interp[48];
  void *bufs[4] = {x, interp, interp + 16, interp + 32};
  assert_true(ir_interp_run(d.m, d.f, bufs, NULL));
  build_and_run(d.m, x, sizeof x, out, sizeof out);
  for (int k = 0; k < 48; k++) {
    assert_true(out[k] == ref[k]);
    assert_true(interp[k] == ref[k]);
  }
  cleanup_tmpdir();
  ir_module_free(d.m);
}

/* -------------------------------------------------- casts, ints, bools */
/* a f32[8], b i32[8] -> c i32 = (i32)a, u u8 = (u8)b, neg bool = a < 0,
 * q i32 = b / 3 + b % 3 (signed), h f16 = exp((f16)a), n u32 = (u32)b / 3,
 * s f32 = select(neg, (f32)b, a) copied through mem.copy and mem.view. */
static void test_casts(void **state) {
  (void)state;
  int64_t d8[1] = {8}, d24[2] = {2, 4};
  IrType types[9] = {ir_type_buffer(IR_F32, 1, d8),  ir_type_buffer(IR_I32, 1, d8),
                     ir_type_buffer(IR_I32, 1, d8),  ir_type_buffer(IR_U8, 1, d8),
                     ir_type_buffer(IR_BOOL, 1, d8), ir_type_buffer(IR_I32, 1, d8),
                     ir_type_buffer(IR_F16, 1, d8),  ir_type_buffer(IR_U32, 1, d8),
                     ir_type_buffer(IR_F32, 2, d24)};
  const char *names[9] = {"a", "b", "c", "u", "neg", "q", "h", "n", "s"};
  Model d = model_new("casts", 2, 7, types, names, 64);
  LwCtx *c = &d.c;
  IrValue *tmp = lw_alloc(c, IR_F32, 1, d8);
  ir_attr_set_int(d.m, tmp->def, "offset", 0);
  IrValue *i;
  IrOp *l = lw_for_begin(c, lw_index(c, 0), lw_index(c, 8), 1, &i);
  IrValue *a = lw_load(c, arg(&d, 0), &i), *b = lw_load(c, arg(&d, 1), &i);
  lw_store(c, lw_cast(c, a, IR_I32), arg(&d, 2), &i);
  lw_store(c, lw_cast(c, b, IR_U8), arg(&d, 3), &i);
  IrValue *neg = lw_cmp(c, "lt", a, lw_const_f(c, IR_F32, 0));
  lw_store(c, neg, arg(&d, 4), &i);
  IrValue *three = lw_const_i(c, IR_I32, 3);
  lw_store(c, lw_bin(c, IR_OP_A_ADD, lw_bin(c, IR_OP_A_DIV, b, three),
                     lw_bin(c, IR_OP_A_REM, b, three)), arg(&d, 5), &i);
  lw_store(c, lw_un(c, IR_OP_M_EXP, lw_cast(c, a, IR_F16)), arg(&d, 6), &i);
  lw_store(c, lw_bin(c, IR_OP_A_DIV, lw_cast(c, b, IR_U32), lw_const_i(c, IR_U32, 3)),
           arg(&d, 7), &i);
  lw_store(c, lw_select(c, lw_cast(c, lw_cast(c, neg, IR_I8), IR_BOOL), lw_cast(c, b, IR_F32), a),
           tmp, &i);
  lw_for_end(c, l);
  IrValue *view = ir_build1(&c->b, IR_OP_VIEW, 1, &tmp, ir_type_buffer(IR_F32, 2, d24));
  lw_copy(c, view, arg(&d, 8));

  struct {
    float a[8];
    int32_t b[8];
  } in = {{1.7f, -1.7f, 0.2f, -0.5f, 3.99f, -100.25f, 7, -0.0f},
          {7, -7, 300, -1, 0, 5, -300, 2}};
  struct {
    int32_t c[8];
    uint8_t u[8], neg[8];
    int32_t q[8];
    uint16_t h[8];
    uint32_t n[8];
    float s[8];
  } out;
  build_and_run(d.m, &in, sizeof in, &out, sizeof out);
  for (int k = 0; k < 8; k++) {
    assert_int_equal(out.c[k], (int32_t)in.a[k]);
    assert_int_equal(out.u[k], (uint8_t)in.b[k]);
    assert_int_equal(out.neg[k], in.a[k] < 0);
    assert_int_equal(out.q[k], in.b[k] / 3 + in.b[k] % 3);
    uint16_t hf;
    ir_elem_store_f64(IR_F16, &hf, 0, in.a[k]);
    double hv = ir_elem_load_f64(IR_F16, &hf, 0);
    ir_elem_store_f64(IR_F16, &hf, 0, expf((float)hv));
    assert_int_equal(out.h[k], hf);
    assert_int_equal(out.n[k], (uint32_t)in.b[k] / 3u);
    assert_close(out.s[k], in.a[k] < 0 ? (float)in.b[k] : in.a[k], 0);
  }
  cleanup_tmpdir();
  ir_module_free(d.m);
}

/* ----------------------------------------------- symbols, determinism */
/* Counts the defined symbols of obj; fails on one without the prefix. */
static int check_symbols(const void *obj, size_t n, const char *want1,
                         const char *want2, int *found) {
  char path[256], cmd[512];
  snprintf(path, sizeof path, "%s/scal.o", tmpdir);
  write_file(path, obj, n);
  snprintf(cmd, sizeof cmd, "llvm-nm-19 --defined-only --no-sort %s", path);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  char buf[256];
  int count = 0;
  *found = 0;
  while (fgets(buf, sizeof buf, p)) {
    buf[strcspn(buf, "\n")] = 0;
    if (strlen(buf) < 20) continue;
    char kind = buf[17], *name = buf + 19; /* "<16 hex> <kind> <name>" */
    /* .L labels are the assembler's local temporaries (constant pools);
     * no linker sees them, but they must at least be local. */
    if (!strncmp(name, ".L", 2) && kind >= 'a' && kind <= 'z') continue;
    if (strncmp(name, "scal_", 5)) {
      print_error("symbol without the prefix: %s\n", buf);
      fail();
    }
    *found += !strcmp(name, want1) + !strcmp(name, want2);
    count++;
  }
  assert_int_equal(pclose(p), 0);
  return count;
}

static void test_symbols_and_reproducible(void **state) {
  (void)state;
  Model d = build_scalar();
  LlvmOptions o = opts(NULL);
  void *a, *b;
  size_t na, nb;
  int found;
  assert_true(llvm_emit_object(d.m, &o, &a, &na));
  assert_true(llvm_emit_object(d.m, &o, &b, &nb));
  assert_int_equal(na, nb);
  assert_memory_equal(a, b, na);
  make_tmpdir();
  /* O3 inlines _main and folds the small weight into the code */
  assert_int_equal(check_symbols(a, na, "scal_run", "", &found), 1);
  assert_int_equal(found, 1);
  free(a);
  free(b);
  o.opt_level = 0;
  assert_true(llvm_emit_object(d.m, &o, &a, &na));
  assert_int_equal(check_symbols(a, na, "scal_main", "scal_w_w", &found), 3);
  assert_int_equal(found, 2);
  assert_int_equal(sh("llvm-readelf-19 -S %s/scal.o | grep -q '.rodata.tcc_weights'",
                      tmpdir), 0);
  free(a);
  cleanup_tmpdir();
  ir_module_free(d.m);
}

/* ---------------------------------------------------------- diagnostics */
/* LLVM's own list, from llc: "a, b, c". */
static char *llc_list(const char *section) {
  FILE *p = popen("llc-19 -mtriple=x86_64-unknown-linux-gnu -mcpu=help 2>&1", "r");
  assert_non_null(p);
  char line[512];
  size_t cap = 1 << 16, len = 0;
  char *s = calloc(1, cap);
  bool on = false;
  while (fgets(line, sizeof line, p)) {
    if (!strncmp(line, "Available ", 10)) on = strstr(line, section) != NULL;
    char name[128];
    if (on && !strncmp(line, "  ", 2) && sscanf(line, " %127s", name) == 1 &&
        strstr(line, " - "))
      len += (size_t)snprintf(s + len, cap - len, "%s%s", len ? ", " : "", name);
  }
  pclose(p);
  return s;
}

static void test_cpu_feature_diagnostics(void **state) {
  (void)state;
  const TccTarget *t = target_find("x86_64");
  assert_non_null(t);
  assert_ptr_equal(target_find("amd64"), t);
  assert_null(target_find("pdp11"));
  assert_string_equal(t->default_cpu, "x86-64-v3");
  assert_true(target_check_cpu(t, "x86-64-v3"));
  assert_true(target_check_cpu(t, "skylake-avx512"));
  assert_true(target_check_cpu(t, "native"));
  assert_true(target_check_features(t, "+avx2,-fma"));
  assert_true(target_check_features(t, ""));
  diag_set_sink(sink, NULL);
  char want[8192];
  char *cpus = llc_list("CPUs"), *feats = llc_list("features");
  assert_false(target_check_cpu(t, "skylake-foo"));
  snprintf(want, sizeof want,
           "tcc: error: unknown CPU 'skylake-foo' for target x86_64; valid CPUs: %s, native", cpus);
  assert_string_equal(diag_text, want);
  assert_false(target_check_features(t, "+avx2,+foo"));
  snprintf(want, sizeof want,
           "tcc: error: unknown feature 'foo' for target x86_64; valid features: %s", feats);
  assert_string_equal(diag_text, want);
  assert_false(target_check_features(t, "avx2"));
  assert_string_equal(diag_text, "tcc: error: invalid feature 'avx2' for target x86_64: "
                                 "expected +name or -name");
  diag_set_sink(NULL, NULL);
  free(cpus);
  free(feats);
}

static void test_emit_errors(void **state) {
  (void)state;
  int64_t d4[1] = {4};
  IrType types[2] = {ir_type_buffer(IR_F32, 1, d4), ir_type_buffer(IR_F32, 1, d4)};
  const char *names[2] = {"x", "y"};
  diag_set_sink(sink, NULL);
  LlvmOptions o = opts(NULL);
  void *obj;
  size_t n;
  Model d = model_new("bad2", 1, 1, types, names, 64);
  lw_alloc(&d.c, IR_F32, 1, d4);
  assert_false(llvm_emit_object(d.m, &o, &obj, &n));
  assert_string_equal(diag_text, "tcc: error: internal error: mem.alloc has no planned "
                                 "offset (the memory plan did not run)");
  diag_set_sink(NULL, NULL);
  ir_module_free(d.m);
}

/* ----------------------------------------------------- run-time dims */
/* y[N,3] = 2x (N given by the caller) and z[M] = 10k with M = N + 1 set by
 * the code (a data-dependent size): one object at N = 1, 4 and 7, and the
 * statuses for a missing dims array and N outside 1..8. */
static const char dyn_ir[] =
    "module @dyn\nsym N = 1..8\nsym M = 0..9\n"
    "func @main(%x: buf f32[N,3] as \"x\") -> (%y: buf f32[N,3] as \"y\", "
    "%z: buf i64[M] as \"z\") {\n"
    "  %c0 = arith.const() {value=0} : index\n"
    "  %c1 = arith.const() {value=1} : index\n"
    "  %c3 = arith.const() {value=3} : index\n"
    "  %n = dim.get() {sym=\"N\"} : index\n"
    "  loop.for(%c0, %n) {step=1} (%i: index) {\n"
    "    loop.for(%c0, %c3) {step=1} (%j: index) {\n"
    "      %v = mem.load(%x, %i, %j) : f32\n"
    "      %w = arith.add(%v, %v) : f32\n"
    "      mem.store(%w, %y, %i, %j)\n"
    "    }\n"
    "  }\n"
    "  %m = arith.add(%n, %c1) : index\n"
    "  dim.set(%m) {sym=\"M\"}\n"
    "  %ten = arith.const() {value=10} : i64\n"
    "  loop.for(%c0, %m) {step=1} (%k: index) {\n"
    "    %ki = arith.cast(%k) : i64\n"
    "    %kv = arith.mul(%ki, %ten) : i64\n"
    "    mem.store(%kv, %z, %k)\n"
    "  }\n"
    "}\n";

static const char dyn_driver[] =
    "#include <stdio.h>\n#include <stdlib.h>\n#include \"dyn.h\"\n"
    "int main(void) {\n"
    "  float x[8 * 3], y[8 * 3]; int64_t z[9];\n"
    "  for (int i = 0; i < 24; i++) x[i] = (float)i - 3.5f;\n"
    "  tcc_ctx ctx = tcc_ctx_init(0, 0);\n"
    "  int64_t dims[DYN_NUM_DIMS] = {0, -1};\n"
    "  if (DYN_DIM_N != 0 || DYN_DIM_M != 1) return 10;\n"
    "  if (dyn_run_dims(&ctx, 0, (const void *[]){x}, (void *[]){y, z}) != TCC_ERR_NULL_ARGUMENT) return 11;\n"
    "  dims[0] = 9;\n"
    "  if (dyn_infer(&ctx, dims, x, y, z) != TCC_ERR_DIM_OUT_OF_RANGE) return 12;\n"
    "  dims[0] = 0;\n"
    "  if (dyn_infer(&ctx, dims, x, y, z) != TCC_ERR_DIM_OUT_OF_RANGE) return 13;\n"
    "  for (int n = 1; n <= 8; n += 3) {\n"
    "    for (int i = 0; i < 24; i++) y[i] = -1;\n"
    "    dims[0] = n; dims[1] = -1;\n"
    "    if (dyn_infer(&ctx, dims, x, y, z)) return 14;\n"
    "    if (dims[1] != n + 1) return 15;\n"
    "    for (int i = 0; i < 24; i++) if (y[i] != (i < 3 * n ? 2 * x[i] : -1)) return 16;\n"
    "    for (int k = 0; k <= n; k++) if (z[k] != 10 * k) return 17;\n"
    "    printf(\"%d \", n);\n"
    "  }\n"
    "  return 0;\n}\n";

static void test_dynamic_dims(void **state) {
  (void)state;
  char path[256];
  void *obj;
  size_t size;
  IrModule *m = ir_parse(dyn_ir, strlen(dyn_ir), "dyn.tir");
  assert_non_null(m);
  m->main->workspace_size = 0;
  assert_true(ir_verify(m));
  LlvmOptions o = opts(NULL);
  assert_true(llvm_emit_object(m, &o, &obj, &size));
  make_tmpdir();
  snprintf(path, sizeof path, "%s/dyn.o", tmpdir);
  write_file(path, obj, size);
  free(obj);
  char *h = header_emit(m, NULL);
  assert_non_null(strstr(h, "int dyn_run_dims(const tcc_ctx *ctx, int64_t dims[],"));
  assert_non_null(strstr(h, "#define DYN_DIM_N 0 /* 1..8 */"));
  assert_non_null(strstr(h, "input 0 \"x\": f32[N=1..8,3], row-major, 96 bytes"));
  snprintf(path, sizeof path, "%s/dyn.h", tmpdir);
  write_file(path, h, strlen(h));
  free(h);
  snprintf(path, sizeof path, "%s/main.c", tmpdir);
  write_file(path, dyn_driver, strlen(dyn_driver));
  assert_int_equal(sh("cc -std=c11 " DRIVER_FLAGS " -Wall -Wextra -Werror -I%s/include -I%s "
                      "-o %s/a.out %s/main.c %s/dyn.o %s/libtccrt.a -lm > %s/out.txt",
                      TCC_SOURCE_DIR, tmpdir, tmpdir, tmpdir, tmpdir, TCC_BINARY_DIR,
                      tmpdir), 0);
  assert_int_equal(sh("%s/a.out > %s/out.txt", tmpdir, tmpdir), 0);
  snprintf(path, sizeof path, "%s/out.txt", tmpdir);
  size_t n;
  char *got = read_file(path, &n);
  assert_int_equal(n, 6);
  assert_memory_equal(got, "1 4 7 ", 6);
  free(got);
  cleanup_tmpdir();

  /* The interpreter runs the same function the same way. */
  float x[5 * 3], y[5 * 3];
  int64_t z[9], dims[2] = {5, -1};
  for (int i = 0; i < 15; i++) x[i] = (float)i;
  void *bufs[3] = {x, y, z};
  assert_true(ir_interp_run_dims(m, m->main, bufs, NULL, dims));
  assert_int_equal(dims[1], 6);
  for (int i = 0; i < 15; i++) assert_true(y[i] == 2 * x[i]);
  for (int k = 0; k < 6; k++) assert_int_equal(z[k], 10 * k);
  ir_module_free(m);
}

/* ----------------------------------------------------- parallel loops */
/* Loop-level IR with parallel loops as a kernel would have them: a nested
 * parallel loop (runs serially inside), values from outside (a loaded
 * scalar, its broadcast vector, a workspace buffer and a view of it, the
 * induction variable of an enclosing serial loop), a step > 1, an inner
 * reduction carried in a serial loop, an empty range.  Outputs:
 *   y[i,j] = x[i,j]*s + 1 (through the workspace), z = prefix sums of the
 *   rows of x, w[i] = 10 i for i = 0, 3, 6 (others untouched). */
static const char par_ir[] =
    "module @par\n"
    "func @main(%x: buf f32[6,16] as \"x\", %s: buf f32[1] as \"s\") -> "
    "(%y: buf f32[6,16] as \"y\", %z: buf f32[6,16] as \"z\", %w: buf f32[7] as \"w\") "
    "{workspace=384} {\n"
    "  %c0 = arith.const() {value=0} : index\n"
    "  %c1 = arith.const() {value=1} : index\n"
    "  %c2 = arith.const() {value=2} : index\n"
    "  %c6 = arith.const() {value=6} : index\n"
    "  %c7 = arith.const() {value=7} : index\n"
    "  %c16 = arith.const() {value=16} : index\n"
    "  %f0 = arith.const() {value=0.0} : f32\n"
    "  %t = mem.alloc() {offset=0} : buf f32[6,16]\n"
    "  %tv = mem.view(%t) : buf f32[96]\n"
    "  %k = mem.load(%s, %c0) : f32\n"
    "  %kv = vec.broadcast(%k) : <4 x f32>\n"
    "  loop.for(%c0, %c6) {parallel=1, step=1} (%i: index) {\n"
    "    loop.for(%c0, %c16) {parallel=1, step=4} (%j: index) {\n"
    "      %v = mem.vload(%x, %i, %j) : <4 x f32>\n"
    "      %m = arith.mul(%v, %kv) : <4 x f32>\n"
    "      mem.vstore(%m, %t, %i, %j)\n"
    "    }\n"
    "  }\n"
    "  loop.for(%c0, %c2) {step=1} (%r: index) {\n"
    "    %rf = arith.cast(%r) : f32\n"
    "    loop.for(%c0, %c6) {parallel=1, step=2} (%i2: index) {\n"
    "      loop.for(%c0, %c2) {step=1} (%d: index) {\n"
    "        %i3 = arith.add(%i2, %d) : index\n"
    "        loop.for(%c0, %c16) {step=1} (%j2: index) {\n"
    "          %row = arith.mul(%i3, %c16) : index\n"
    "          %at = arith.add(%row, %j2) : index\n"
    "          %a = mem.load(%tv, %at) : f32\n"
    "          %b = arith.add(%a, %rf) : f32\n"
    "          mem.store(%b, %y, %i3, %j2)\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "  loop.for(%c0, %c7) {parallel=1, step=3} (%q: index) {\n"
    "    %qi = arith.mul(%q, %c16) : index\n"
    "    %qf = arith.cast(%qi) : f32\n"
    "    %ten = arith.const() {value=0.625} : f32\n"
    "    %qw = arith.mul(%qf, %ten) : f32\n"
    "    mem.store(%qw, %w, %q)\n"
    "  }\n"
    "  loop.for(%c0, %c6) {parallel=1, step=1} (%zi: index) {\n"
    "    %sum = loop.for(%c0, %c16, %f0) {step=1} : f32 (%zj: index, %acc: f32) {\n"
    "      %xv = mem.load(%x, %zi, %zj) : f32\n"
    "      %nacc = arith.add(%acc, %xv) : f32\n"
    "      mem.store(%nacc, %z, %zi, %zj)\n"
    "      loop.yield(%nacc)\n"
    "    }\n"
    "  }\n"
    "  loop.for(%c6, %c6) {parallel=1, step=1} (%e: index) {\n"
    "    mem.store(%f0, %w, %e)\n"
    "  }\n"
    "}\n";

/* argv: threads (0 = parallel_for NULL, else a pool of that many), input
 * file, output file.  Logs each parallel_for's n to stdout. */
static const char par_driver[] =
    "#include <stdio.h>\n#include <stdlib.h>\n#include <tcc/pool.h>\n#include \"par.h\"\n"
    "static void logged(void *user, int64_t n, void (*body)(void *, int64_t, int64_t), void *arg) {\n"
    "  printf(\"%lld \", (long long)n);\n"
    "  tcc_pool_parallel_for(user, n, body, arg);\n}\n"
    "int main(int argc, char **argv) {\n"
    "  (void)argc;\n"
    "  static float x[96], s[1], y[96], z[96], w[7];\n"
    "  FILE *f = fopen(argv[2], \"rb\");\n"
    "  if (!f || fread(x, 4, 96, f) != 96 || fread(s, 4, 1, f) != 1) return 20;\n"
    "  fclose(f);\n"
    "  void *ws = aligned_alloc(64, PAR_WORKSPACE_SIZE);\n"
    "  tcc_ctx ctx = tcc_ctx_init(ws, PAR_WORKSPACE_SIZE);\n"
    "  int threads = atoi(argv[1]);\n"
    "  tcc_pool *pool = threads ? tcc_pool_new(threads) : NULL;\n"
    "  if (threads) { ctx.parallel_for = logged; ctx.parallel_user = pool; }\n"
    "  for (int rep = 0; rep < 3; rep++) {\n"
    "    if (par_infer(&ctx, x, s, y, z, w)) return 21;\n"
    "    printf(\"| \");\n  }\n"
    "  tcc_pool_free(pool);\n"
    "  f = fopen(argv[3], \"wb\");\n"
    "  fwrite(y, 4, 96, f); fwrite(z, 4, 96, f); fwrite(w, 4, 7, f);\n"
    "  fclose(f);\n  free(ws);\n  return 0;\n}\n";

static void test_parallel_loops(void **state) {
  (void)state;
  char path[256];
  void *obj;
  size_t size;
  IrModule *m = ir_parse(par_ir, strlen(par_ir), "par.tir");
  assert_non_null(m);
  assert_true(ir_verify(m));
  struct {
    float x[96], s;
  } in;
  for (int i = 0; i < 96; i++) in.x[i] = (float)((i * 29) % 41) / 7.0f - 2.5f;
  in.s = 1.5f;
  /* The interpreter runs it serially: the reference, also for the object. */
  float ref[96 + 96 + 7] = {0};
  void *bufs[5] = {in.x, &in.s, ref, ref + 96, ref + 192};
  assert_true(ir_interp_run(m, m->main, bufs, NULL));
  for (int i = 0; i < 96; i++) {
    assert_true(ref[i] == in.x[i] * 1.5f + 1.0f);
    float acc = 0;
    for (int j = 0; j <= i % 16; j++) acc += in.x[i - i % 16 + j];
    assert_true(ref[96 + i] == acc);
  }
  for (int q = 0; q < 7; q++) assert_true(ref[192 + q] == (q % 3 ? 0 : 10.0f * (float)q));

  make_tmpdir();
  for (int opt = 0; opt <= 3; opt += 3) {
    LlvmOptions o = opts(NULL);
    o.opt_level = opt;
    assert_true(llvm_emit_object(m, &o, &obj, &size));
    snprintf(path, sizeof path, "%s/par.o", tmpdir);
    write_file(path, obj, size);
    free(obj);
    char *h = header_emit(m, NULL);
    snprintf(path, sizeof path, "%s/par.h", tmpdir);
    write_file(path, h, strlen(h));
    free(h);
    snprintf(path, sizeof path, "%s/main.c", tmpdir);
    write_file(path, par_driver, strlen(par_driver));
    snprintf(path, sizeof path, "%s/in.bin", tmpdir);
    write_file(path, &in, sizeof in);
    assert_int_equal(sh("cc -std=c11 " DRIVER_FLAGS " -Wall -Wextra -Werror -I%s/include -I%s "
                        "-o %s/a.out %s/main.c %s/par.o %s/libtccrt_pool.a %s/libtccrt.a "
                        "-lpthread -lm", TCC_SOURCE_DIR, tmpdir, tmpdir, tmpdir, tmpdir,
                        TCC_BINARY_DIR, TCC_BINARY_DIR), 0);
    /* NULL parallel_for, then pools of 1, 2 and 3 threads: the same bytes. */
    for (int t = 0; t <= 3; t++) {
      assert_int_equal(sh("%s/a.out %d %s/in.bin %s/out%d.bin > %s/log%d.txt", tmpdir, t,
                          tmpdir, tmpdir, t, tmpdir, t), 0);
      size_t n;
      snprintf(path, sizeof path, "%s/out%d.bin", tmpdir, t);
      float *got = read_file(path, &n);
      assert_int_equal(n, sizeof ref);
      assert_memory_equal(got, ref, sizeof ref);
      free(got);
      /* one parallel_for per run of each outermost parallel loop, n its
       * trip count: 6; 3 twice (inside the serial loop); 3; 6; 0 */
      snprintf(path, sizeof path, "%s/log%d.txt", tmpdir, t);
      char *log = read_file(path, &n);
      assert_string_equal(log, t ? "6 3 3 3 6 0 | 6 3 3 3 6 0 | 6 3 3 3 6 0 | " : "| | | ");
      free(log);
    }
  }
  cleanup_tmpdir();

  /* Reproducible, and every function the object defines keeps the
   * model's prefix: one wrapper per outermost parallel loop. */
  LlvmOptions o = opts(NULL);
  void *again;
  size_t again_size;
  assert_true(llvm_emit_object(m, &o, &obj, &size));
  assert_true(llvm_emit_object(m, &o, &again, &again_size));
  assert_int_equal(size, again_size);
  assert_memory_equal(obj, again, size);
  free(obj);
  free(again);
  o.opt_level = 0;
  assert_true(llvm_emit_object(m, &o, &obj, &size));
  make_tmpdir();
  snprintf(path, sizeof path, "%s/par.o", tmpdir);
  write_file(path, obj, size);
  free(obj);
  assert_int_equal(sh("llvm-nm-19 --defined-only %s/par.o | grep -c ' t par_par[0-9]$' "
                      "| grep -qx 5", tmpdir), 0);
  cleanup_tmpdir();
  ir_module_free(m);
}

/* -------------------------------------------------------------- header */
static void test_header(void **state) {
  (void)state;
  int64_t d[3] = {1, 3, 4}, d2[1] = {2};
  IrType types[3] = {ir_type_buffer(IR_F32, 3, d), ir_type_buffer(IR_BOOL, 1, d2),
                     ir_type_buffer(IR_I64, 1, d2)};
  types[0].dims[0].sym = 0;
  const char *names[3] = {"input:0", "in\"*/x", "int"};
  Model m = model_new("net", 2, 1, types, names, 4096);
  int s = ir_sym_add(m.m, "batch", 1, 64);
  m.m->syms[s].value = 8;
  char *h = header_emit(m.m, NULL);
  static const char *const want[] = {
      "#ifndef TCC_MODEL_NET_H\n#define TCC_MODEL_NET_H\n",
      "#include <tcc/runtime.h>\n",
      "#define NET_ABI_VERSION 3u\n",
      "#define NET_WORKSPACE_SIZE 4096u\n",
      "#define NET_NUM_INPUTS 2\n",
      "#define NET_NUM_OUTPUTS 1\n",
      " *   input 0 \"input:0\": f32[batch=8,3,4], row-major, 384 bytes\n",
      " *   input 1 \"in\\\"*\\057x\": bool[2], row-major, 2 bytes\n",
      " *   output 0 \"int\": i64[2], row-major, 16 bytes\n",
      "static const int64_t net_input0_dims[3] NET_MAYBE_UNUSED = {8, 3, 4};\n",
      "static const char *const net_input0_dim_names[3] NET_MAYBE_UNUSED = {\"batch\", 0, 0};\n",
      "  {\"input:0\", 1, 3, net_input0_dims, net_input0_dim_names, 384u},\n",
      "  {\"in\\\"*\\057x\", 9, 1, net_input1_dims, 0, 2u},\n",
      "  {\"int\", 7, 1, net_output0_dims, 0, 16u},\n",
      "int net_run(const tcc_ctx *ctx, const void *const inputs[],\n    void *const outputs[]);\n",
      "static inline int net_infer(const tcc_ctx *ctx,\n    const float *input_0,\n"
      "    const uint8_t *in___x,\n    int64_t *int_) {\n",
      "  const void * const inputs[2] = {input_0, in___x};\n",
      "  return net_run(ctx, inputs, outputs);\n",
      "#ifdef __cplusplus\nextern \"C\" {\n#endif\n",
  };
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
    if (!strstr(h, want[k])) {
      print_error("header lacks:\n%s\n--- header:\n%s\n", want[k], h);
      fail();
    }
  char *h2 = header_emit(m.m, NULL);
  assert_string_equal(h, h2);
  free(h2);
  assert_null(strstr(h, "WEIGHTS"));
  /* --weights=external: the blob's id and sizes, and its check; the
   * header below is compiled as C and C++ with it */
  free(h);
  h = header_emit(m.m, &(HeaderWeights){0x00c0ffee0000beefull, 640});
  static const char *const want_ext[] = {
      "#define NET_WEIGHTS_ID 0x00c0ffee0000beefull\n",
      "#define NET_WEIGHTS_DATA_SIZE 640u\n",
      "#define NET_WEIGHTS_SIZE 704u /* bytes of net.weights */\n",
      "static inline int net_check_weights(const void *blob, size_t size) {\n"
      "  return tcc_weights_check(blob, size, NET_WEIGHTS_ID, NET_WEIGHTS_DATA_SIZE);\n}\n",
  };
  for (size_t k = 0; k < sizeof want_ext / sizeof want_ext[0]; k++)
    if (!strstr(h, want_ext[k])) {
      print_error("header lacks:\n%s\n--- header:\n%s\n", want_ext[k], h);
      fail();
    }
  make_tmpdir();
  char path[256];
  snprintf(path, sizeof path, "%s/net.h", tmpdir);
  write_file(path, h, strlen(h));
  snprintf(path, sizeof path, "%s/use.c", tmpdir);
  write_file(path, "#include \"net.h\"\n", 17);
  assert_int_equal(sh("cc -std=c99 -Wall -Wextra -Werror -I%s/include -c %s/use.c -o %s/use.o",
                      TCC_SOURCE_DIR, tmpdir, tmpdir), 0);
  if (sh("command -v c++ >/dev/null 2>&1") == 0) {
    snprintf(path, sizeof path, "%s/use.cc", tmpdir);
    write_file(path, "#include \"net.h\"\n", 17);
    assert_int_equal(sh("c++ -Wall -Wextra -Werror -I%s/include -c %s/use.cc -o %s/usecc.o",
                        TCC_SOURCE_DIR, tmpdir, tmpdir), 0);
  }
  free(h);
  cleanup_tmpdir();
  ir_module_free(m.m);
}

/* ------------------------------------------------------------- runtime */
static void test_runtime_check(void **state) {
  (void)state;
  static _Alignas(64) unsigned char ws[128];
  float a = 1, b = 0;
  const void *ins[1] = {&a};
  void *outs[1] = {&b};
  tcc_ctx c = tcc_ctx_init(ws, sizeof ws);
  assert_int_equal(tcc_rt_check(&c, TCC_ABI_VERSION, 128, 1, ins, 1, outs), TCC_OK);
  assert_int_equal(tcc_rt_check(NULL, TCC_ABI_VERSION, 0, 1, ins, 1, outs),
                   TCC_ERR_NULL_ARGUMENT);
  const void *null_in[1] = {NULL};
  assert_int_equal(tcc_rt_check(&c, TCC_ABI_VERSION, 0, 1, null_in, 1, outs),
                   TCC_ERR_NULL_ARGUMENT);
  assert_int_equal(tcc_rt_check(&c, TCC_ABI_VERSION, 0, 1, NULL, 1, outs),
                   TCC_ERR_NULL_ARGUMENT);
  assert_int_equal(tcc_rt_check(&c, TCC_ABI_VERSION, 129, 1, ins, 1, outs),
                   TCC_ERR_WORKSPACE_TOO_SMALL);
  assert_int_equal(tcc_rt_check(&c, TCC_ABI_VERSION + 1, 0, 1, ins, 1, outs),
                   TCC_ERR_ABI_MISMATCH);
  tcc_ctx mis = tcc_ctx_init(ws + 4, 64);
  assert_int_equal(tcc_rt_check(&mis, TCC_ABI_VERSION, 64, 1, ins, 1, outs),
                   TCC_ERR_WORKSPACE_MISALIGNED);
  tcc_ctx none = tcc_ctx_init(NULL, 0);
  assert_int_equal(tcc_rt_check(&none, TCC_ABI_VERSION, 0, 1, ins, 1, outs), TCC_OK);
  assert_int_equal(tcc_rt_check(&none, TCC_ABI_VERSION, 0, 0, NULL, 0, NULL), TCC_OK);
  assert_string_equal(tcc_status_str(TCC_ERR_WORKSPACE_TOO_SMALL), "workspace too small");
  assert_string_equal(tcc_status_str(77), "unknown status");
  assert_string_equal(tcc_status_str(TCC_ERR_INDEX_OUT_OF_RANGE), "index out of range");
  assert_null(c.error); /* tcc_ctx_init: no error report unless asked */
}

/* The weights blob's checks (runtime/weights.c) on a blob built here: CRC-32
 * as zlib's, every header field, and the order of the statuses. */
static void test_weights_blob(void **state) {
  (void)state;
  assert_int_equal(tcc_crc32(0, "123456789", 9), 0xcbf43926u);
  assert_int_equal(tcc_crc32(tcc_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
  assert_int_equal(tcc_crc32(0, "", 0), 0);
  _Alignas(64) unsigned char blob[64 + 9] = {0};
  memcpy(blob, TCC_WEIGHTS_MAGIC, 8);
  blob[8] = 1;                  /* format */
  blob[12] = 64;                /* header size */
  blob[16] = 0x2a, blob[23] = 0x80; /* id 0x800000000000002a */
  blob[24] = 9;                 /* data size */
  memcpy(blob + 32, (unsigned char[]){0x26, 0x39, 0xf4, 0xcb}, 4);
  memcpy(blob + 64, "123456789", 9);
  uint64_t id = 0x800000000000002aull;
  assert_int_equal(tcc_weights_check(blob, sizeof blob, id, 9), TCC_OK);
  assert_int_equal(tcc_weights_check(NULL, sizeof blob, id, 9), TCC_ERR_WEIGHTS_MISSING);
  assert_int_equal(tcc_weights_check(blob, sizeof blob - 1, id, 9), TCC_ERR_WEIGHTS_MISMATCH);
  assert_int_equal(tcc_weights_check(blob, sizeof blob, id + 1, 9), TCC_ERR_WEIGHTS_MISMATCH);
  assert_int_equal(tcc_weights_check(blob, sizeof blob, id, 8), TCC_ERR_WEIGHTS_MISMATCH);
  tcc_ctx c = tcc_ctx_init(NULL, 0);
  assert_int_equal(tcc_rt_check_weights(&c, id, 9), TCC_ERR_WEIGHTS_MISSING);
  c.weights = blob, c.weights_size = sizeof blob;
  assert_int_equal(tcc_rt_check_weights(&c, id, 9), TCC_OK);
  for (int field = 0; field < 32; field++) { /* magic, format, header size, id, size */
    blob[field] ^= 0x40;
    assert_int_equal(tcc_weights_check(blob, sizeof blob, id, 9), TCC_ERR_WEIGHTS_MISMATCH);
    assert_int_equal(tcc_rt_check_weights(&c, id, 9), TCC_ERR_WEIGHTS_MISMATCH);
    blob[field] ^= 0x40;
  }
  blob[70] ^= 1; /* the data: only the full check reads it */
  assert_int_equal(tcc_weights_check(blob, sizeof blob, id, 9), TCC_ERR_WEIGHTS_CHECKSUM);
  assert_int_equal(tcc_rt_check_weights(&c, id, 9), TCC_OK);
  blob[70] ^= 1;
  blob[40] = 'x'; /* the name: for tools, not checked */
  assert_int_equal(tcc_weights_check(blob, sizeof blob, id, 9), TCC_OK);
  static _Alignas(64) unsigned char moved[64 + 64 + 9];
  memcpy(moved + 1, blob, sizeof blob);
  assert_int_equal(tcc_weights_check(moved + 1, sizeof blob, id, 9), TCC_ERR_WEIGHTS_MISALIGNED);
  c.weights = moved + 1;
  assert_int_equal(tcc_rt_check_weights(&c, id, 9), TCC_ERR_WEIGHTS_MISALIGNED);
  assert_string_equal(tcc_status_str(TCC_ERR_WEIGHTS_CHECKSUM), "weights checksum mismatch");
  assert_string_equal(tcc_status_str(TCC_ERR_WEIGHTS_MISMATCH), "weights not made for this code");
}

/* ------------------------------------------------------------ rt.check */
/* ids i64[3,2] -> y = (f32)ids, after lw_check_indices with bounds {10, 5}
 * per column (GatherND's form): a bad id must stop the run with status 6
 * before y is written, in the interpreter and in the object, and the
 * object must name the node through ctx->error. */
static Model build_check(void) {
  int64_t d32[2] = {3, 2}, bounds[2] = {10, 5};
  IrType types[2] = {ir_type_buffer(IR_I64, 2, d32), ir_type_buffer(IR_F32, 2, d32)};
  const char *names[2] = {"ids", "y"};
  Model d = model_new("chk", 1, 1, types, names, 0);
  LwCtx *c = &d.c;
  c->b.loc = (IrLoc){.file = "m.onnx", .node = "ids_lookup", .op_type = "GatherND", .opset = 13};
  lw_check_indices(c, arg(&d, 0), 2, bounds, true, NULL);
  IrValue *iv[2];
  LwNest nest;
  lw_nest_begin(c, &nest, 2, d32, iv);
  lw_store(c, lw_cast(c, lw_load(c, arg(&d, 0), iv), IR_F32), arg(&d, 1), iv);
  lw_nest_end(c, &nest);
  return d;
}

static const int64_t CHECK_GOOD[6] = {0, 4, -10, -5, 9, 0};
static const int64_t CHECK_BAD[6] = {0, 4, 9, 5, 1, 1}; /* 5 is outside [-5, 4] */

static void test_check_interp(void **state) {
  (void)state;
  Model d = build_check();
  assert_true(ir_verify(d.m));
  float y[6];
  int64_t ids[6];
  memcpy(ids, CHECK_GOOD, sizeof ids);
  void *bufs[2] = {ids, y};
  assert_true(ir_interp_run(d.m, d.f, bufs, NULL));
  for (int i = 0; i < 6; i++) assert_true(y[i] == (float)CHECK_GOOD[i]);
  memcpy(ids, CHECK_BAD, sizeof ids);
  for (int i = 0; i < 6; i++) y[i] = -7;
  diag_set_sink(sink, NULL);
  assert_false(ir_interp_run(d.m, d.f, bufs, NULL));
  diag_set_sink(NULL, NULL);
  assert_string_equal(diag_text, "m.onnx: node 'ids_lookup' (GatherND, opset 13): error: an "
                                 "index is out of range (rt.check fails with status 6)");
  for (int i = 0; i < 6; i++) assert_true(y[i] == -7); /* checked before any write */
  ir_module_free(d.m);
  /* -index-checks=0: no check loop, no rt.check */
  IrModule *m = ir_module_new("nochk");
  m->no_index_checks = true;
  m->main = ir_func_new(m, "main");
  LwCtx c = {.m = m, .b = ir_builder_at_end(m, m->main->body)};
  int64_t bound = 4;
  IrValue *ind = ir_block_add_arg(m, m->main->body, ir_type_buffer(IR_I64, 1, &bound));
  lw_check_indices(&c, ind, 1, &bound, true, NULL);
  assert_null(m->main->body->first);
  ir_module_free(m);
}

static const char check_driver[] =
    "#include <stdio.h>\n#include <string.h>\n#include \"chk.h\"\n"
    "static const int64_t good[6] = {0, 4, -10, -5, 9, 0}, bad[6] = {0, 4, 9, 5, 1, 1};\n"
    "int main(void) {\n"
    "  float y[6]; tcc_error_info e = {99, 0, 0, 0};\n"
    "  tcc_ctx ctx = tcc_ctx_init(0, 0); ctx.error = &e;\n"
    "  if (chk_infer(&ctx, good, y) != TCC_OK || e.status != 99) return 10;\n"
    "  for (int i = 0; i < 6; i++) if (y[i] != (float)good[i]) return 11;\n"
    "  for (int i = 0; i < 6; i++) y[i] = -7;\n"
    "  if (chk_infer(&ctx, bad, y) != TCC_ERR_INDEX_OUT_OF_RANGE) return 12;\n"
    "  if (e.status != TCC_ERR_INDEX_OUT_OF_RANGE || e.reserved) return 13;\n"
    "  if (!e.node || strcmp(e.node, \"ids_lookup\") || strcmp(e.op_type, \"GatherND\")) return 14;\n"
    "  for (int i = 0; i < 6; i++) if (y[i] != -7) return 15;\n"
    "  ctx.error = 0;\n"
    "  if (chk_infer(&ctx, bad, y) != TCC_ERR_INDEX_OUT_OF_RANGE) return 16;\n"
    "  if (strcmp(tcc_status_str(TCC_ERR_INDEX_OUT_OF_RANGE), \"index out of range\")) return 17;\n"
    "  return 0;\n}\n";

/* The object (x86_64 at -O0 and -O3) through a driver of its own. */
static void test_check_backend(void **state) {
  (void)state;
  for (int opt = 0; opt <= 3; opt += 3) {
    Model d = build_check();
    LlvmOptions o = opts(NULL);
    o.opt_level = opt;
    build_program(d.m, &o); /* also links the generic driver (context checks) */
    char path[256];
    snprintf(path, sizeof path, "%s/check.c", tmpdir);
    write_file(path, check_driver, strlen(check_driver));
    assert_int_equal(sh("cc -std=c11 " DRIVER_FLAGS " -Wall -Wextra -Werror -I%s/include -I%s "
                        "-o %s/check %s/check.c %s/chk.o %s/libtccrt.a -lm && %s/check",
                        TCC_SOURCE_DIR, tmpdir, tmpdir, tmpdir, tmpdir, TCC_BINARY_DIR, tmpdir),
                     0);
    cleanup_tmpdir();
    ir_module_free(d.m);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_runtime_check),
      cmocka_unit_test(test_check_interp),
      cmocka_unit_test(test_check_backend),
      cmocka_unit_test(test_cpu_feature_diagnostics),
      cmocka_unit_test(test_header),
      cmocka_unit_test(test_emit_errors),
      cmocka_unit_test(test_symbols_and_reproducible),
      cmocka_unit_test(test_inline_math_accuracy),
      cmocka_unit_test(test_scalar_loops),
      cmocka_unit_test(test_vector_loop),
      cmocka_unit_test(test_partial_vectors),
      cmocka_unit_test(test_casts),
      cmocka_unit_test(test_dynamic_dims),
      cmocka_unit_test(test_parallel_loops),
      cmocka_unit_test(test_weights_blob),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
