/* test_dyn_data.c — NonZero, Unique and NonMaxSuppression: ops whose output
 * size depends on the data.  Exact result types (a new run-time sym per op,
 * reused when infer runs again), diagnostics, and numbers from ONE lowering
 * of each op run by the loop-level interpreter on several inputs giving
 * different counts: the count the op publishes with dim.set (dims[sym])
 * and the dense outputs, against references computed here in C and the
 * ONNX conformance examples' numbers. */
#include <stdlib.h>

#include "op_test.h"

#define D(s) LW_DYN_DIM(s)

/* Runs f; data-dependent syms start unknown (-1), input syms take `in`
 * (sym in_sym; -1 for none).  Returns the value op's sym got. */
static int64_t run_f(IrModule *m, IrFunc *f, const IrOp *op, void *const *bufs, int in_sym,
                     int64_t in) {
  int64_t dims[8];
  assert_true(m->num_syms <= 8);
  for (int k = 0; k < 8; k++) dims[k] = k == in_sym ? in : -1;
  msg[0] = 0;
  if (!ir_interp_run_dims(m, f, bufs, NULL, dims)) fail_msg("interp: %s", msg);
  int s = ir_sym_find(m, ir_attr_string(op, "sym", ""));
  assert_true(s >= 0);
  return dims[s];
}

static void i64s_equal(const int64_t *got, const int64_t *want, int n, const char *what) {
  for (int i = 0; i < n; i++)
    if (got[i] != want[i])
      fail_msg("%s[%d]: got %lld, want %lld", what, i, (long long)got[i], (long long)want[i]);
}

static unsigned rnd(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return (*s >> 9) & 0xffff;
}

/* ------------------------------------------------------------ NonZero */

/* want[d * nz + k] = index d of the k-th non-zero; returns nz. */
static int ref_nonzero(const float *x, int rank, const int *dims, int64_t *want) {
  int numel = 1, nz = 0;
  for (int d = 0; d < rank; d++) numel *= dims[d];
  for (int i = 0; i < numel; i++) nz += x[i] != 0;
  for (int i = 0, k = 0; i < numel; i++) {
    if (x[i] == 0) continue;
    for (int d = rank - 1, r = i; d >= 0; d--) {
      want[d * nz + k] = r % dims[d];
      r /= dims[d];
    }
    k++;
  }
  return nz;
}

static void test_nonzero(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 3, 4);
  IrOp *op = op_new(m, IR_OP_NON_ZERO, 1, &x, 1);
  assert_string_equal(run(m, op, 13), "i64[2,non_zero]");
  assert_string_equal(ir_attr_string(op, "sym", ""), "non_zero");
  int s = ir_sym_find(m, "non_zero");
  assert_int_equal(m->syms[s].lo, 0);
  assert_int_equal(m->syms[s].hi, 12);
  assert_int_equal(m->syms[s].value, -1);
  /* infer again (infer-shapes re-runs it): the same sym */
  assert_true(ir_infer_op(m, op));
  assert_int_equal(m->num_syms, 1);
  assert_int_equal(op->results[0]->type.dims[1].sym, s);
  IrFunc *f = lower_alone(m, op);
  static const int dims[2] = {3, 4};
  float in[12];
  int64_t y[24], want[24];
  for (int t = 0; t < 5; t++) {
    unsigned seed = 7 + t;
    /* none, all, then about 1/2, 1/4, 1/8 non-zero */
    for (int i = 0; i < 12; i++)
      in[i] = t == 0 ? 0.0f : t == 1 ? -1.5f : (rnd(&seed) % (1u << (t - 1)) == 0) * 2.5f;
    if (t == 4) in[0] = NAN; /* NaN is non-zero, as in numpy */
    int nz = ref_nonzero(in, 2, dims, want);
    memset(y, 0x7f, sizeof y);
    assert_int_equal(run_f(m, f, op, (void *[]){in, y}, -1, 0), nz);
    i64s_equal(y, want, 2 * nz, "nonzero");
  }
}

/* Conformance test_nonzero_example, and other element types / ranks. */
static void test_nonzero_types(void **state) {
  IrModule *m = *state;
  IrValue *b = IN(m, IR_BOOL, 2, 2), *i = IN(m, IR_I32, 5), *s = IN0(m, IR_I64);
  IrOp *ob = op_new(m, IR_OP_NON_ZERO, 1, &b, 1);
  IrOp *oi = op_new(m, IR_OP_NON_ZERO, 1, &i, 1);
  IrOp *os = op_new(m, IR_OP_NON_ZERO, 1, &s, 1);
  ob->loc.node = "my/nz:0";
  oi->loc.node = "my/nz:0";
  assert_string_equal(run(m, ob, 13), "i64[2,my_nz_0]");
  assert_string_equal(run(m, oi, 13), "i64[1,my_nz_0_2]");
  assert_string_equal(run(m, os, 13), "i64[0,non_zero]"); /* ONNX: (0, N) for a scalar */
  IrFunc *fb = lower_alone(m, ob), *fi = lower_alone(m, oi), *fs = lower_alone(m, os);
  bool cond[4] = {1, 0, 1, 1};
  int64_t y[10];
  assert_int_equal(run_f(m, fb, ob, (void *[]){cond, y}, -1, 0), 3);
  i64s_equal(y, (int64_t[]){0, 1, 1, 0, 0, 1}, 6, "example");
  int32_t v[5] = {0, 3, 0, -2, 7};
  assert_int_equal(run_f(m, fi, oi, (void *[]){v, y}, -1, 0), 3);
  i64s_equal(y, (int64_t[]){1, 3, 4}, 3, "i32");
  int64_t sc = 5;
  assert_int_equal(run_f(m, fs, os, (void *[]){&sc, y}, -1, 0), 1);
  sc = 0;
  assert_int_equal(run_f(m, fs, os, (void *[]){&sc, y}, -1, 0), 0);
}

/* A run-time input dim: the bound is numel at the largest size. */
static void test_nonzero_dyn_input(void **state) {
  IrModule *m = *state;
  int seq = ir_sym_add(m, "seq", 1, 8);
  IrValue *x = DIN(m, IR_F32, D(seq), 3);
  IrOp *op = op_new(m, IR_OP_NON_ZERO, 1, &x, 1);
  assert_string_equal(run(m, op, 13), "i64[2,non_zero]");
  assert_int_equal(m->syms[ir_sym_find(m, "non_zero")].hi, 24);
  IrFunc *f = lower_alone(m, op);
  float in[24];
  int64_t y[48], want[48];
  for (int n = 1; n <= 8; n += 3) {
    unsigned seed = (unsigned)n;
    for (int i = 0; i < n * 3; i++) in[i] = (float)(rnd(&seed) % 3);
    int nz = ref_nonzero(in, 2, (int[]){n, 3}, want);
    assert_int_equal(run_f(m, f, op, (void *[]){in, y}, seq, n), nz);
    i64s_equal(y, want, 2 * nz, "nonzero");
  }
}

/* Through infer-shapes, lower and plan-memory: the pipeline re-runs the
 * shape rule and reuses the sym. */
static void test_nonzero_pipeline(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 6);
  IrOp *op = op_new(m, IR_OP_NON_ZERO, 1, &x, 1);
  assert_string_equal(run(m, op, 13), "i64[1,non_zero]");
  IrFunc *f = m->main;
  f->num_outputs = 1;
  f->output_types = ir_arena_alloc(m->arena, sizeof(IrType));
  f->output_types[0] = op->results[0]->type;
  ir_block_append(f->body, ir_op_new(m, IR_OP_RETURN, 1, op->results, 0, NULL));
  PipelineOptions po = {.passes = "infer-shapes,lower,plan-memory", .verify_each = true};
  if (!pass_run_pipeline(m, &po)) fail_msg("passes failed: %s", msg);
  assert_int_equal(m->num_syms, 1);
  char *text = ir_print_module_str(m);
  assert_non_null(strstr(text, "sym non_zero = 0..6\n"));
  assert_non_null(strstr(text, "dim.set("));
  free(text);
  float in[6] = {0, 1, 0, 0, 2, 3};
  int64_t y[6], dims[1] = {-1};
  void *ws = aligned_alloc(64, (size_t)f->workspace_size + 64);
  assert_true(ir_interp_run_dims(m, f, (void *[]){in, y}, ws, dims));
  free(ws);
  assert_int_equal(dims[0], 3);
  i64s_equal(y, (int64_t[]){1, 4, 5}, 3, "pipeline");
}

/* ------------------------------------------------------------- Unique */

/* numpy.unique of x[n] (sorted) or its first-occurrence order; returns K. */
static int ref_unique(const float *x, int n, bool sorted, float *y, int64_t *idx,
                      int64_t *inv, int64_t *cnt) {
  int k = 0;
  for (int i = 0; i < n; i++) {
    int j = 0;
    while (j < i && x[j] != x[i]) j++;
    if (j < i) continue;
    int p = k;
    if (sorted) /* insertion: shift the larger ones up */
      for (p = 0; p < k && y[p] < x[i]; p++) {}
    for (int q = k; q > p; q--) y[q] = y[q - 1], idx[q] = idx[q - 1];
    y[p] = x[i], idx[p] = i;
    k++;
  }
  for (int p = 0; p < k; p++) cnt[p] = 0;
  for (int i = 0; i < n; i++) {
    int p = 0;
    while (y[p] != x[i]) p++;
    inv[i] = p;
    cnt[p]++;
  }
  return k;
}

static IrOp *unique_op(IrModule *m, IrValue *x, int nres, int64_t sorted, bool has_axis,
                       int64_t axis) {
  IrOp *op = op_new(m, IR_OP_UNIQUE, 1, &x, nres);
  if (sorted >= 0) ir_attr_set_int(m, op, "sorted", sorted);
  if (has_axis) ir_attr_set_int(m, op, "axis", axis);
  return op;
}

/* Flattened, sorted and not: the spec's examples 1 and 2 (= conformance
 * test_unique_not_sorted_without_axis / sorted_without_axis), then random
 * inputs with different numbers of distinct values. */
static void test_unique_flat(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 6), *x2 = IN(m, IR_F32, 2, 2);
  IrOp *ou = unique_op(m, x, 4, 0, false, 0), *os = unique_op(m, x, 4, -1, false, 0);
  IrOp *o2 = unique_op(m, x2, 4, 1, false, 0);
  assert_string_equal(run_all(m, ou, 11), "f32[unique], i64[unique], i64[6], i64[unique]");
  assert_string_equal(run_all(m, os, 11),
                      "f32[unique_2], i64[unique_2], i64[6], i64[unique_2]");
  assert_int_equal(ir_attr_int(os, "sorted", -1), 1); /* the default, explicit */
  assert_string_equal(run_all(m, o2, 11),
                      "f32[unique_3], i64[unique_3], i64[4], i64[unique_3]");
  assert_int_equal(m->syms[ir_sym_find(m, "unique_3")].hi, 4);
  IrFunc *fu = lower_alone(m, ou), *fs = lower_alone(m, os), *f2 = lower_alone(m, o2);
  float y[6], wy[6], in[6] = {2, 1, 1, 3, 4, 3};
  int64_t idx[6], inv[6], cnt[6], wi[6], wv[6], wc[6];
  void *bu[] = {in, y, idx, inv, cnt};
  assert_int_equal(run_f(m, fu, ou, bu, -1, 0), 4);
  floats_near(y, (float[]){2, 1, 3, 4}, 4);
  i64s_equal(idx, (int64_t[]){0, 1, 3, 4}, 4, "indices");
  i64s_equal(inv, (int64_t[]){0, 1, 1, 2, 3, 2}, 6, "inverse");
  i64s_equal(cnt, (int64_t[]){1, 2, 2, 1}, 4, "counts");
  assert_int_equal(run_f(m, fs, os, bu, -1, 0), 4);
  floats_near(y, (float[]){1, 2, 3, 4}, 4);
  i64s_equal(idx, (int64_t[]){1, 0, 3, 4}, 4, "indices");
  i64s_equal(inv, (int64_t[]){1, 0, 0, 2, 3, 2}, 6, "inverse");
  i64s_equal(cnt, (int64_t[]){2, 1, 2, 1}, 4, "counts");
  float in2[4] = {1, 3, 2, 3};
  assert_int_equal(run_f(m, f2, o2, (void *[]){in2, y, idx, inv, cnt}, -1, 0), 3);
  floats_near(y, (float[]){1, 2, 3}, 3);
  i64s_equal(idx, (int64_t[]){0, 2, 1}, 3, "indices");
  i64s_equal(inv, (int64_t[]){0, 2, 1, 2}, 4, "inverse");
  i64s_equal(cnt, (int64_t[]){1, 1, 2}, 3, "counts");
  for (int t = 0; t < 6; t++) {
    unsigned seed = 40 + t;
    for (int i = 0; i < 6; i++) in[i] = (float)(rnd(&seed) % (unsigned)(1 + t)) - 1.0f;
    for (int srt = 0; srt < 2; srt++) {
      int k = ref_unique(in, 6, srt, wy, wi, wv, wc);
      IrOp *op = srt ? os : ou;
      assert_int_equal(run_f(m, srt ? fs : fu, op, bu, -1, 0), k);
      floats_near(y, wy, k);
      i64s_equal(idx, wi, k, "indices");
      i64s_equal(inv, wv, 6, "inverse");
      i64s_equal(cnt, wc, k, "counts");
    }
  }
}

/* Only Y, and Y with indices: the optional outputs may be left off. */
static void test_unique_fewer_outputs(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_I64, 7);
  IrOp *o1 = unique_op(m, x, 1, 1, false, 0), *o2 = unique_op(m, x, 2, 0, false, 0);
  assert_string_equal(run_all(m, o1, 11), "i64[unique]");
  assert_string_equal(run_all(m, o2, 11), "i64[unique_2], i64[unique_2]");
  IrFunc *f1 = lower_alone(m, o1), *f2 = lower_alone(m, o2);
  int64_t in[7] = {5, -3, 5, 9, -3, -3, 0}, y[7], idx[7];
  assert_int_equal(run_f(m, f1, o1, (void *[]){in, y}, -1, 0), 4);
  i64s_equal(y, (int64_t[]){-3, 0, 5, 9}, 4, "Y");
  assert_int_equal(run_f(m, f2, o2, (void *[]){in, y, idx}, -1, 0), 4);
  i64s_equal(y, (int64_t[]){5, -3, 9, 0}, 4, "Y");
  i64s_equal(idx, (int64_t[]){0, 1, 3, 6}, 4, "indices");
}

/* With axis: the spec's examples 3 and 4 and the negative-axis conformance
 * case, all with ONE lowering per shape; then other data through the same
 * lowering. */
static void test_unique_axis(void **state) {
  IrModule *m = *state;
  IrValue *x = IN(m, IR_F32, 3, 3), *x3 = IN(m, IR_F32, 2, 4, 2);
  IrOp *o0 = unique_op(m, x, 4, 1, true, 0), *on = unique_op(m, x, 4, 1, true, -1);
  IrOp *o3 = unique_op(m, x3, 4, 1, true, 1), *ou = unique_op(m, x3, 4, 0, true, 1);
  assert_string_equal(run_all(m, o0, 11), "f32[unique,3], i64[unique], i64[3], i64[unique]");
  assert_string_equal(run_all(m, on, 11),
                      "f32[3,unique_2], i64[unique_2], i64[3], i64[unique_2]");
  assert_string_equal(run_all(m, o3, 11),
                      "f32[2,unique_3,2], i64[unique_3], i64[4], i64[unique_3]");
  assert_string_equal(run_all(m, ou, 11),
                      "f32[2,unique_4,2], i64[unique_4], i64[4], i64[unique_4]");
  IrFunc *f0 = lower_alone(m, o0), *fn = lower_alone(m, on), *f3 = lower_alone(m, o3);
  IrFunc *fu = lower_alone(m, ou);
  float y[16];
  int64_t idx[4], inv[4], cnt[4];
  float a[9] = {1, 0, 0, 1, 0, 0, 2, 3, 4};
  assert_int_equal(run_f(m, f0, o0, (void *[]){a, y, idx, inv, cnt}, -1, 0), 2);
  floats_near(y, (float[]){1, 0, 0, 2, 3, 4}, 6);
  i64s_equal(idx, (int64_t[]){0, 2}, 2, "indices");
  i64s_equal(inv, (int64_t[]){0, 0, 1}, 3, "inverse");
  i64s_equal(cnt, (int64_t[]){2, 1}, 2, "counts");
  float a2[9] = {3, 1, 3, 2, 1, 2, 3, 1, 3}; /* rows: 3 distinct -> 2 */
  assert_int_equal(run_f(m, f0, o0, (void *[]){a2, y, idx, inv, cnt}, -1, 0), 2);
  floats_near(y, (float[]){2, 1, 2, 3, 1, 3}, 6);
  i64s_equal(idx, (int64_t[]){1, 0}, 2, "indices");
  i64s_equal(inv, (int64_t[]){1, 0, 1}, 3, "inverse");
  i64s_equal(cnt, (int64_t[]){1, 2}, 2, "counts");
  float b[9] = {1, 0, 0, 1, 0, 0, 2, 3, 3};
  assert_int_equal(run_f(m, fn, on, (void *[]){b, y, idx, inv, cnt}, -1, 0), 2);
  floats_near(y, (float[]){0, 1, 0, 1, 3, 2}, 6); /* Y is [3, 2], dense */
  i64s_equal(idx, (int64_t[]){1, 0}, 2, "indices");
  i64s_equal(inv, (int64_t[]){1, 0, 0}, 3, "inverse");
  i64s_equal(cnt, (int64_t[]){2, 1}, 2, "counts");
  float c[16] = {1, 1, 0, 1, 2, 1, 0, 1, 1, 1, 0, 1, 2, 1, 0, 1};
  assert_int_equal(run_f(m, f3, o3, (void *[]){c, y, idx, inv, cnt}, -1, 0), 3);
  floats_near(y, (float[]){0, 1, 1, 1, 2, 1, 0, 1, 1, 1, 2, 1}, 12);
  i64s_equal(idx, (int64_t[]){1, 0, 2}, 3, "indices");
  i64s_equal(inv, (int64_t[]){1, 0, 2, 0}, 4, "inverse");
  i64s_equal(cnt, (int64_t[]){2, 1, 1}, 3, "counts");
  assert_int_equal(run_f(m, fu, ou, (void *[]){c, y, idx, inv, cnt}, -1, 0), 3);
  floats_near(y, (float[]){1, 1, 0, 1, 2, 1, 1, 1, 0, 1, 2, 1}, 12);
  i64s_equal(idx, (int64_t[]){0, 1, 2}, 3, "indices");
  i64s_equal(inv, (int64_t[]){0, 1, 2, 1}, 4, "inverse");
  i64s_equal(cnt, (int64_t[]){1, 2, 1}, 3, "counts");
  /* lexicographic: slices differ first in the second batch entry */
  float d[16] = {5, 5, 5, 5, 5, 5, 5, 5, 1, 2, 1, 1, 0, 9, 1, 2};
  assert_int_equal(run_f(m, f3, o3, (void *[]){d, y, idx, inv, cnt}, -1, 0), 3);
  floats_near(y, (float[]){5, 5, 5, 5, 5, 5, 0, 9, 1, 1, 1, 2}, 12);
  i64s_equal(idx, (int64_t[]){2, 1, 0}, 3, "indices");
  i64s_equal(inv, (int64_t[]){2, 1, 0, 2}, 4, "inverse");
  i64s_equal(cnt, (int64_t[]){1, 1, 2}, 3, "counts");
}

/* Along a run-time dim, and the errors. */
static void test_unique_dyn_and_errors(void **state) {
  IrModule *m = *state;
  int seq = ir_sym_add(m, "seq", 1, 8);
  IrValue *x = DIN(m, IR_F32, D(seq)), *x2 = DIN(m, IR_F32, 2, D(seq));
  IrOp *op = unique_op(m, x, 4, 1, false, 0);
  assert_string_equal(run_all(m, op, 11), "f32[unique], i64[unique], i64[seq], i64[unique]");
  assert_int_equal(m->syms[ir_sym_find(m, "unique")].hi, 8);
  IrFunc *f = lower_alone(m, op);
  float in[8], y[8], wy[8];
  int64_t idx[8], inv[8], cnt[8], wi[8], wv[8], wc[8];
  for (int n = 1; n <= 8; n += 2) {
    unsigned seed = 99u + (unsigned)n;
    for (int i = 0; i < n; i++) in[i] = (float)(rnd(&seed) % 4);
    int k = ref_unique(in, n, true, wy, wi, wv, wc);
    assert_int_equal(run_f(m, f, op, (void *[]){in, y, idx, inv, cnt}, seq, n), k);
    floats_near(y, wy, k);
    i64s_equal(idx, wi, k, "indices");
    i64s_equal(inv, wv, n, "inverse");
    i64s_equal(cnt, wc, k, "counts");
  }
  IrOp *e1 = unique_op(m, x2, 1, 1, false, 0);
  assert_string_equal(run(m, e1, 11), "error: Unique: without 'axis' the input f32[2,seq] "
                      "must have fixed dims or rank 1 (its flattened size is a product of "
                      "run-time dims)");
  IrOp *e2 = unique_op(m, x2, 1, 2, true, 0);
  assert_string_equal(run(m, e2, 11), "error: Unique: attribute 'sorted' must be 0 or 1, got 2");
  IrOp *e3 = unique_op(m, x2, 1, 1, true, 2);
  assert_non_null(strstr(run(m, e3, 11), "error: Unique: "));
  IrOp *ok = unique_op(m, x2, 3, 1, true, 1);
  assert_string_equal(run_all(m, ok, 11), "f32[2,unique_2], i64[unique_2], i64[seq]");
}

/* -------------------------------------------------- NonMaxSuppression */

static bool ref_suppress(const float *a, const float *b, bool center, float thr) {
  float ax0, ax1, ay0, ay1, bx0, bx1, by0, by1;
  if (center) {
    ax0 = a[0] - a[2] / 2, ax1 = a[0] + a[2] / 2, ay0 = a[1] - a[3] / 2, ay1 = a[1] + a[3] / 2;
    bx0 = b[0] - b[2] / 2, bx1 = b[0] + b[2] / 2, by0 = b[1] - b[3] / 2, by1 = b[1] + b[3] / 2;
  } else {
    ax0 = fminf(a[1], a[3]), ax1 = fmaxf(a[1], a[3]), ay0 = fminf(a[0], a[2]), ay1 = fmaxf(a[0], a[2]);
    bx0 = fminf(b[1], b[3]), bx1 = fmaxf(b[1], b[3]), by0 = fminf(b[0], b[2]), by1 = fmaxf(b[0], b[2]);
  }
  float ix0 = fmaxf(ax0, bx0), ix1 = fminf(ax1, bx1), iy0 = fmaxf(ay0, by0), iy1 = fminf(ay1, by1);
  if (ix1 <= ix0 || iy1 <= iy0) return false;
  float inter = (ix1 - ix0) * (iy1 - iy0);
  float aa = (ax1 - ax0) * (ay1 - ay0), ab = (bx1 - bx0) * (by1 - by0), u = aa + ab - inter;
  if (inter <= 0 || aa <= 0 || ab <= 0 || u <= 0) return false;
  return inter / u > thr;
}

/* onnxruntime's algorithm; returns the number of rows written to out. */
static int ref_nms(const float *boxes, const float *scores, int B, int C, int N, int maxout,
                   float iou, bool has_score, float score_thr, bool center, int64_t *out) {
  int k = 0;
  for (int b = 0; b < B; b++)
    for (int c = 0; c < C; c++) {
      const float *s = scores + (b * C + c) * N;
      bool used[64] = {0};
      int sel[64], ns = 0;
      while (ns < maxout) {
        int best = -1;
        for (int i = 0; i < N; i++)
          if (!used[i] && (!has_score || s[i] > score_thr) && (best < 0 || s[i] > s[best]))
            best = i;
        if (best < 0) break;
        used[best] = true;
        bool keep = true;
        for (int t = 0; t < ns; t++)
          if (ref_suppress(boxes + (b * N + best) * 4, boxes + (b * N + sel[t]) * 4, center, iou))
            keep = false;
        if (!keep) continue;
        sel[ns++] = best;
        out[k * 3] = b, out[k * 3 + 1] = c, out[k * 3 + 2] = best;
        k++;
      }
    }
  return k;
}

/* NonMaxSuppression(boxes, scores, constants...); maxout < 0: absent. */
static IrOp *nms_op(IrModule *m, IrValue *boxes, IrValue *scores, int64_t maxout, float iou,
                    bool has_score, float score, int64_t center) {
  IrValue *in[5] = {boxes, scores, NULL, NULL, NULL};
  int n = 2;
  if (maxout >= 0) in[2] = weight(m, IR_I64, 1, (int64_t[]){1}, &maxout), n = 3;
  in[3] = weight(m, IR_F32, 0, NULL, &iou), n = 4;
  if (has_score) in[4] = weight(m, IR_F32, 1, (int64_t[]){1}, &score), n = 5;
  IrOp *op = op_new(m, IR_OP_NON_MAX_SUPPRESSION, n, in, 1);
  if (center >= 0) ir_attr_set_int(m, op, "center_point_box", center);
  return op;
}

/* The six boxes of the conformance tests. */
static const float BOX6[24] = {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, -0.1f, 1, 0.9f,
                               0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100, 1, 101};
static const float SCORE6[6] = {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f};

static void test_nms_conformance(void **state) {
  IrModule *m = *state;
  IrValue *b1 = IN(m, IR_F32, 1, 6, 4), *s1 = IN(m, IR_F32, 1, 1, 6);
  IrOp *o = nms_op(m, b1, s1, 3, 0.5f, true, 0.0f, -1);
  assert_string_equal(run(m, o, 11), "i64[non_max_suppression,3]");
  assert_int_equal(o->num_operands, 2); /* the constants became attributes */
  assert_int_equal(ir_attr_int(o, "max_output_boxes_per_class", -1), 3);
  assert_int_equal(m->syms[ir_sym_find(m, "non_max_suppression")].hi, 3);
  IrFunc *f = lower_alone(m, o);
  int64_t y[3 * 20];
  /* suppress_by_IOU */
  assert_int_equal(run_f(m, f, o, (void *[]){(void *)BOX6, (void *)SCORE6, y}, -1, 0), 3);
  i64s_equal(y, (int64_t[]){0, 0, 3, 0, 0, 0, 0, 0, 5}, 9, "suppress_by_IOU");
  /* flipped_coordinates, same lowering */
  float flip[24] = {1, 1, 0, 0, 0, 0.1f, 1, 1.1f, 0, 0.9f, 1, -0.1f,
                    0, 10, 1, 11, 1, 10.1f, 0, 11.1f, 1, 101, 0, 100};
  assert_int_equal(run_f(m, f, o, (void *[]){flip, (void *)SCORE6, y}, -1, 0), 3);
  i64s_equal(y, (int64_t[]){0, 0, 3, 0, 0, 0, 0, 0, 5}, 9, "flipped");
  /* suppress_by_IOU_and_scores, limit_output_size */
  IrOp *os = nms_op(m, b1, s1, 3, 0.5f, true, 0.4f, -1);
  IrOp *ol = nms_op(m, b1, s1, 2, 0.5f, true, 0.0f, -1);
  run(m, os, 11), run(m, ol, 11);
  IrFunc *fs = lower_alone(m, os), *fl = lower_alone(m, ol);
  assert_int_equal(run_f(m, fs, os, (void *[]){(void *)BOX6, (void *)SCORE6, y}, -1, 0), 2);
  i64s_equal(y, (int64_t[]){0, 0, 3, 0, 0, 0}, 6, "by_IOU_and_scores");
  assert_int_equal(run_f(m, fl, ol, (void *[]){(void *)BOX6, (void *)SCORE6, y}, -1, 0), 2);
  i64s_equal(y, (int64_t[]){0, 0, 3, 0, 0, 0}, 6, "limit_output_size");
  /* center_point_box_format */
  float cbox[24] = {0.5f, 0.5f, 1, 1, 0.5f, 0.6f, 1, 1, 0.5f, 0.4f, 1, 1,
                    0.5f, 10.5f, 1, 1, 0.5f, 10.6f, 1, 1, 0.5f, 100.5f, 1, 1};
  IrOp *oc = nms_op(m, b1, s1, 3, 0.5f, true, 0.0f, 1);
  run(m, oc, 11);
  IrFunc *fc = lower_alone(m, oc);
  assert_int_equal(run_f(m, fc, oc, (void *[]){cbox, (void *)SCORE6, y}, -1, 0), 3);
  i64s_equal(y, (int64_t[]){0, 0, 3, 0, 0, 0, 0, 0, 5}, 9, "center_point_box");
  /* two_classes */
  IrValue *s2 = IN(m, IR_F32, 1, 2, 6);
  IrOp *o2 = nms_op(m, b1, s2, 2, 0.5f, true, 0.0f, -1);
  assert_string_equal(run(m, o2, 11), "i64[non_max_suppression_5,3]");
  assert_int_equal(m->syms[ir_sym_find(m, "non_max_suppression_5")].hi, 4);
  IrFunc *f2 = lower_alone(m, o2);
  float sc2[12];
  memcpy(sc2, SCORE6, sizeof SCORE6), memcpy(sc2 + 6, SCORE6, sizeof SCORE6);
  assert_int_equal(run_f(m, f2, o2, (void *[]){(void *)BOX6, sc2, y}, -1, 0), 4);
  i64s_equal(y, (int64_t[]){0, 0, 3, 0, 0, 0, 0, 1, 3, 0, 1, 0}, 12, "two_classes");
  /* two_batches */
  IrValue *bb = IN(m, IR_F32, 2, 6, 4), *sb = IN(m, IR_F32, 2, 1, 6);
  IrOp *ob = nms_op(m, bb, sb, 2, 0.5f, true, 0.0f, -1);
  run(m, ob, 11);
  IrFunc *fb = lower_alone(m, ob);
  float box2[48];
  memcpy(box2, BOX6, sizeof BOX6), memcpy(box2 + 24, BOX6, sizeof BOX6);
  assert_int_equal(run_f(m, fb, ob, (void *[]){box2, sc2, y}, -1, 0), 4);
  i64s_equal(y, (int64_t[]){0, 0, 3, 0, 0, 0, 1, 0, 3, 1, 0, 0}, 12, "two_batches");
  /* single_box, identical_boxes */
  IrValue *bs = IN(m, IR_F32, 1, 1, 4), *ss = IN(m, IR_F32, 1, 1, 1);
  IrValue *bi = IN(m, IR_F32, 1, 10, 4), *si = IN(m, IR_F32, 1, 1, 10);
  IrOp *o1 = nms_op(m, bs, ss, 3, 0.5f, true, 0.0f, -1);
  IrOp *oi = nms_op(m, bi, si, 3, 0.5f, true, 0.0f, -1);
  run(m, o1, 11), run(m, oi, 11);
  IrFunc *f1 = lower_alone(m, o1), *fi = lower_alone(m, oi);
  float one[4] = {0, 0, 1, 1}, s09 = 0.9f, ten[40], s10[10];
  assert_int_equal(run_f(m, f1, o1, (void *[]){one, &s09, y}, -1, 0), 1);
  i64s_equal(y, (int64_t[]){0, 0, 0}, 3, "single_box");
  for (int i = 0; i < 10; i++) memcpy(ten + 4 * i, one, sizeof one), s10[i] = 0.9f;
  assert_int_equal(run_f(m, fi, oi, (void *[]){ten, s10, y}, -1, 0), 1);
  i64s_equal(y, (int64_t[]){0, 0, 0}, 3, "identical_boxes");
}

/* Random boxes through one lowering against the C reference, with
 * different counts, both box formats and without a score threshold. */
static void test_nms_random(void **state) {
  IrModule *m = *state;
  IrValue *bx = IN(m, IR_F32, 2, 12, 4), *sc = IN(m, IR_F32, 2, 3, 12);
  for (int center = 0; center < 2; center++)
    for (int has_score = 0; has_score < 2; has_score++) {
      IrOp *o = nms_op(m, bx, sc, 5, 0.3f, has_score, 0.5f, center);
      run(m, o, 11);
      IrFunc *f = lower_alone(m, o);
      float boxes[2 * 12 * 4], scores[2 * 3 * 12];
      int64_t y[2 * 3 * 5 * 3], want[2 * 3 * 5 * 3];
      for (int t = 0; t < 4; t++) {
        unsigned seed = 1000u + 17u * (unsigned)t + 5u * (unsigned)center;
        for (int i = 0; i < 2 * 12; i++) {
          float *p = boxes + 4 * i;
          for (int k = 0; k < 4; k++) p[k] = (float)(rnd(&seed) % 64) / (8.0f + 8.0f * t);
          if (center) p[2] = fabsf(p[2]) + 0.25f, p[3] = fabsf(p[3]) + 0.25f;
        }
        for (int i = 0; i < 2 * 3 * 12; i++) scores[i] = (float)(rnd(&seed) % 100) / 100.0f;
        int k = ref_nms(boxes, scores, 2, 3, 12, 5, 0.3f, has_score, 0.5f, center, want);
        assert_int_equal(run_f(m, f, o, (void *[]){boxes, scores, y}, -1, 0), k);
        i64s_equal(y, want, 3 * k, "nms");
      }
    }
}

/* A run-time number of boxes; max_output_boxes_per_class absent (= 0);
 * the errors. */
static void test_nms_dyn_and_errors(void **state) {
  IrModule *m = *state;
  int nb = ir_sym_add(m, "nb", 1, 16);
  IrValue *bx = DIN(m, IR_F32, 1, D(nb), 4), *sc = DIN(m, IR_F32, 1, 2, D(nb));
  IrOp *o = nms_op(m, bx, sc, 100, 0.5f, false, 0, -1);
  assert_string_equal(run(m, o, 11), "i64[non_max_suppression,3]");
  assert_int_equal(m->syms[ir_sym_find(m, "non_max_suppression")].hi, 32);
  IrFunc *f = lower_alone(m, o);
  float boxes[16 * 4], scores[2 * 16];
  int64_t y[32 * 3], want[32 * 3];
  for (int n = 1; n <= 16; n += 5) {
    unsigned seed = 3u * (unsigned)n;
    for (int i = 0; i < n * 4; i++) boxes[i] = (float)(rnd(&seed) % 32) / 8.0f;
    for (int i = 0; i < 2 * n; i++) scores[i] = (float)(rnd(&seed) % 50) / 50.0f;
    int k = ref_nms(boxes, scores, 1, 2, n, 100, 0.5f, false, 0, false, want);
    assert_int_equal(run_f(m, f, o, (void *[]){boxes, scores, y}, nb, n), k);
    i64s_equal(y, want, 3 * k, "nms dyn");
  }
  IrValue *b1 = IN(m, IR_F32, 1, 6, 4), *s1 = IN(m, IR_F32, 1, 1, 6);
  IrOp *oz = nms_op(m, b1, s1, -1, 0.5f, false, 0, -1);
  assert_string_equal(run(m, oz, 11), "i64[non_max_suppression_2,3]");
  assert_int_equal(m->syms[ir_sym_find(m, "non_max_suppression_2")].hi, 0);
  IrFunc *fz = lower_alone(m, oz);
  assert_int_equal(run_f(m, fz, oz, (void *[]){(void *)BOX6, (void *)SCORE6, y}, -1, 0), 0);
  IrValue *mx = IN(m, IR_I64, 1);
  IrOp *e1 = op_new(m, IR_OP_NON_MAX_SUPPRESSION, 3, (IrValue *[]){b1, s1, mx}, 1);
  assert_string_equal(run(m, e1, 11),
                      "error: NonMaxSuppression: input 'max_output_boxes_per_class' must be "
                      "a constant (initializer or Constant node); got a computed value");
  IrOp *e2 = nms_op(m, b1, s1, 3, 1.5f, false, 0, -1);
  assert_string_equal(run(m, e2, 11),
                      "error: NonMaxSuppression: iou_threshold must be in [0, 1], got 1.5");
  IrOp *e3 = nms_op(m, b1, s1, 3, 0.5f, false, 0, 2);
  assert_string_equal(run(m, e3, 11), "error: NonMaxSuppression: attribute "
                      "'center_point_box' must be 0 or 1, got 2");
  IrOp *e4 = nms_op(m, s1, b1, 3, 0.5f, false, 0, -1);
  assert_string_equal(run(m, e4, 11), "error: NonMaxSuppression: boxes f32[1,1,6] and scores "
                      "f32[1,6,4] must be [batches, boxes, 4] and [batches, classes, boxes] "
                      "of one float type");
  float two[2] = {3, 4};
  IrValue *w2 = weight(m, IR_F32, 1, (int64_t[]){2}, two);
  IrOp *e5 = op_new(m, IR_OP_NON_MAX_SUPPRESSION, 4, (IrValue *[]){b1, s1, NULL, w2}, 1);
  assert_string_equal(run(m, e5, 11), "error: NonMaxSuppression: input 'iou_threshold' "
                      "must be one float value, got f32[2]");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_nonzero, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nonzero_types, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nonzero_dyn_input, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nonzero_pipeline, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unique_flat, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unique_fewer_outputs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unique_axis, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unique_dyn_and_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nms_conformance, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nms_random, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nms_dyn_and_errors, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
