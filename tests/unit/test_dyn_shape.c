/* test_dyn_shape.c — data-movement ops with run-time dims (-dim=seq=LO..HI)
 * and the ONNX frontend's symbolic shape folding.
 *
 * Op tests build a function over inputs with the run-time dim `seq`
 * (1..8), lower it ONCE and run the same loop-level IR in the interpreter
 * at several sizes against references computed here.  Frontend tests load
 * models built with protobuf-c whose reshape targets are computed from
 * Shape(x), and check the IR text, the numbers and the exact errors. */
#define _DEFAULT_SOURCE /* strtok_r */
#include <stdlib.h>

#include "op_test.h"

#include "onnx.h"
#include "onnx.pb-c.h"

#define SEQ LW_DYN_DIM(0) /* the run-time dim "seq", 1..8: sym 0 */

/* A module with sym seq = 1..8 (sym 0) and an empty main. */
static int dsetup(void **state) {
  setup(state);
  ir_sym_add(*state, "seq", 1, 8);
  return 0;
}

/* import + infer of op; its result types as text, or the first error.
 * Opset 1: shapes, axes, starts... are the attributes set here. */
static const char *types(IrModule *m, IrOp *op) {
  return run_all(m, op, 1);
}

/* Expand(x, shape) with shape a constant operand. */
static IrOp *expand_op(IrModule *m, IrValue *x, int n, const int64_t *shape) {
  IrValue *ops[2] = {x, weight(m, IR_I64, 1, (int64_t[]){n}, shape)};
  return op_new(m, IR_OP_EXPAND, 2, ops, 1);
}

/* Returns res[0..n), lowers main (infer-shapes, lower, plan-memory). */
static void lower_main(IrModule *m, int n, IrValue *const *res) {
  IrFunc *f = m->main;
  f->num_outputs = n;
  f->output_types = ir_arena_alloc(m->arena, sizeof(IrType) * (size_t)n);
  for (int i = 0; i < n; i++) f->output_types[i] = res[i]->type;
  ir_block_append(f->body, ir_op_new(m, IR_OP_RETURN, n, (IrValue **)res, 0, NULL));
  PipelineOptions po = {.passes = "infer-shapes,lower,plan-memory", .verify_each = true};
  msg[0] = 0;
  if (!pass_run_pipeline(m, &po)) fail_msg("passes failed: %s", msg);
}

/* Runs lowered main with seq = s: bufs are inputs then outputs. */
static void run_at(IrModule *m, int64_t s, void *const *bufs) {
  static char ws[1 << 16] __attribute__((aligned(64)));
  int64_t dims[1] = {s};
  assert_true(m->main->workspace_size <= (int64_t)sizeof ws);
  msg[0] = 0;
  bool ok = ir_interp_run_dims(m, m->main, bufs, ws, dims);
  if (!ok) fail_msg("interp at seq=%lld: %s", (long long)s, msg);
}

static const int64_t sizes[3] = {1, 3, 8};

/* ------------------------------------------------------ ops, numbers */
/* x[seq,6] -> reshape [0,2,3] -> slice axis 1 [1:2] -> squeeze 1 ->
 * unsqueeze 0 -> flatten 2: [seq,3] = x[:, 3:6]; reshaped [3,-1]: [3,seq]. */
static void test_reshape_slice_squeeze(void **state) {
  IrModule *m = *state;
  IrValue *x = DIN(m, IR_F32, SEQ, 6);
  IrOp *r = op_new(m, IR_OP_RESHAPE, 1, &x, 1);
  ir_attr_set_ints(m, r, "shape", DIMS(0, 2, 3));
  assert_string_equal(types(m, r), "f32[seq,2,3]");
  IrOp *sl = op_new(m, IR_OP_SLICE, 1, &r->results[0], 1);
  ir_attr_set_ints(m, sl, "starts", DIMS(1));
  ir_attr_set_ints(m, sl, "ends", DIMS(2));
  ir_attr_set_ints(m, sl, "axes", DIMS(1));
  assert_string_equal(types(m, sl), "f32[seq,1,3]");
  IrOp *sq = op_new(m, IR_OP_SQUEEZE, 1, &sl->results[0], 1);
  ir_attr_set_ints(m, sq, "axes", DIMS(1));
  assert_string_equal(types(m, sq), "f32[seq,3]");
  IrOp *un = op_new(m, IR_OP_UNSQUEEZE, 1, &sq->results[0], 1);
  ir_attr_set_ints(m, un, "axes", DIMS(0));
  assert_string_equal(types(m, un), "f32[1,seq,3]");
  IrOp *fl = op_new(m, IR_OP_FLATTEN, 1, &un->results[0], 1);
  ir_attr_set_int(m, fl, "axis", 2);
  assert_string_equal(types(m, fl), "f32[seq,3]");
  /* the reshape back: -1 stands for seq */
  IrOp *r2 = op_new(m, IR_OP_RESHAPE, 1, &fl->results[0], 1);
  ir_attr_set_ints(m, r2, "shape", DIMS(3, -1));
  assert_string_equal(types(m, r2), "f32[3,seq]");
  IrValue *res[2] = {fl->results[0], r2->results[0]};
  lower_main(m, 2, res);
  for (int t = 0; t < 3; t++) {
    int64_t s = sizes[t];
    float in[8 * 6], out[8 * 3], out2[8 * 3];
    for (int i = 0; i < s * 6; i++) in[i] = (float)(i * 7 % 11) - 3.5f;
    void *bufs[3] = {in, out, out2};
    run_at(m, s, bufs);
    for (int i = 0; i < s; i++)
      for (int j = 0; j < 3; j++) {
        assert_true(out[i * 3 + j] == in[i * 6 + 3 + j]);
        assert_true(out2[i * 3 + j] == in[i * 6 + 3 + j]); /* same bytes */
      }
  }
}

/* concat along a static axis and split back. */
static void test_concat_split(void **state) {
  IrModule *m = *state;
  IrValue *a = DIN(m, IR_F32, SEQ, 2), *b = DIN(m, IR_F32, SEQ, 3);
  IrValue *ab[2] = {a, b};
  IrOp *cat = op_new(m, IR_OP_CONCAT, 2, ab, 1);
  ir_attr_set_int(m, cat, "axis", -1);
  assert_string_equal(types(m, cat), "f32[seq,5]");
  IrOp *sp = op_new(m, IR_OP_SPLIT, 1, &cat->results[0], 2);
  ir_attr_set_int(m, sp, "axis", 1);
  ir_attr_set_ints(m, sp, "split", DIMS(4, 1));
  assert_string_equal(types(m, sp), "f32[seq,4], f32[seq,1]");
  IrValue *res[3] = {cat->results[0], sp->results[0], sp->results[1]};
  lower_main(m, 3, res);
  for (int t = 0; t < 3; t++) {
    int64_t s = sizes[t];
    float x[16], y[24], c[40], p[32], q[8];
    for (int i = 0; i < 2 * s; i++) x[i] = (float)i;
    for (int i = 0; i < 3 * s; i++) y[i] = 100.0f + (float)i;
    void *bufs[5] = {x, y, c, p, q};
    run_at(m, s, bufs);
    for (int i = 0; i < s; i++)
      for (int j = 0; j < 5; j++) {
        float want = j < 2 ? x[i * 2 + j] : y[i * 3 + j - 2];
        assert_true(c[i * 5 + j] == want);
        assert_true((j < 4 ? p[i * 4 + j] : q[i]) == want);
      }
  }
}

/* An embedding lookup (indices [1,seq]) and a row of the seq axis picked
 * by a negative index (the clamp reads seq at run time). */
static void test_gather(void **state) {
  IrModule *m = *state;
  float table[10 * 4];
  for (int i = 0; i < 40; i++) table[i] = (float)i * 0.5f;
  IrValue *ids = DIN(m, IR_I64, 1, SEQ);
  IrValue *x = DIN(m, IR_F32, SEQ, 3);
  IrValue *ops[2] = {weight(m, IR_F32, DIMS(10, 4), table), ids};
  IrOp *emb = op_new(m, IR_OP_GATHER, 2, ops, 1);
  assert_string_equal(types(m, emb), "f32[1,seq,4]");
  int64_t last = -1;
  IrValue *ops2[2] = {x, weight(m, IR_I64, 0, NULL, &last)};
  IrOp *row = op_new(m, IR_OP_GATHER, 2, ops2, 1);
  assert_string_equal(types(m, row), "f32[3]");
  IrValue *res[2] = {emb->results[0], row->results[0]};
  lower_main(m, 2, res);
  for (int t = 0; t < 3; t++) {
    int64_t s = sizes[t];
    int64_t id[8];
    float xs[24], out[32], r[3];
    for (int i = 0; i < s; i++) id[i] = (i * 3 + 1) % 10;
    for (int i = 0; i < 3 * s; i++) xs[i] = (float)i;
    void *bufs[4] = {id, xs, out, r};
    run_at(m, s, bufs);
    for (int i = 0; i < s; i++)
      for (int j = 0; j < 4; j++) assert_true(out[i * 4 + j] == table[id[i] * 4 + j]);
    for (int j = 0; j < 3; j++) assert_true(r[j] == xs[(s - 1) * 3 + j]);
  }
}

/* GatherElements along a static axis of [seq,3] (indices [seq,2]) and
 * GatherND of rows of a [seq,3] by indices [2,1], both with the run-time
 * dim passing through. */
static void test_gather_elements_nd(void **state) {
  IrModule *m = *state;
  IrValue *x = DIN(m, IR_F32, SEQ, 3), *ind = DIN(m, IR_I64, SEQ, 2);
  IrValue *ops[2] = {x, ind};
  IrOp *ge = op_new(m, IR_OP_GATHER_ELEMENTS, 2, ops, 1);
  ir_attr_set_int(m, ge, "axis", 1);
  assert_string_equal(types(m, ge), "f32[seq,2]");
  int64_t rows[2] = {-1, 0};
  IrValue *ops2[2] = {x, weight(m, IR_I64, DIMS(2, 1), rows)};
  IrOp *nd = op_new(m, IR_OP_GATHER_ND, 2, ops2, 1);
  assert_string_equal(types(m, nd), "f32[2,3]");
  IrValue *res[2] = {ge->results[0], nd->results[0]};
  lower_main(m, 2, res);
  for (int t = 0; t < 3; t++) {
    int64_t s = sizes[t], id[16];
    float xs[24], g[16], r[6];
    for (int i = 0; i < 3 * s; i++) xs[i] = (float)i + 0.5f;
    for (int i = 0; i < 2 * s; i++) id[i] = (i * 5 + 1) % 3;
    void *bufs[4] = {xs, id, g, r};
    run_at(m, s, bufs);
    for (int i = 0; i < s; i++)
      for (int j = 0; j < 2; j++) assert_true(g[i * 2 + j] == xs[i * 3 + id[i * 2 + j]]);
    for (int j = 0; j < 3; j++) {
      assert_true(r[j] == xs[(s - 1) * 3 + j]);
      assert_true(r[3 + j] == xs[j]);
    }
  }
}

/* range(start, limit, delta) over i64 scalars, limit_sym = {sym}. */
static IrOp *range_op(IrModule *m, int64_t start, int64_t limit, int64_t delta,
                      const char *sym) {
  IrValue *ops[3] = {weight(m, IR_I64, 0, NULL, &start), weight(m, IR_I64, 0, NULL, &limit),
                     weight(m, IR_I64, 0, NULL, &delta)};
  IrOp *op = op_new(m, IR_OP_RANGE, 3, ops, 1);
  ir_attr_set_strings(m, op, "limit_sym", 1, &sym);
  return op;
}

/* constant_of_shape(shape) (f32 zeros) with shape_sym = syms. */
static IrOp *cos_op(IrModule *m, int n, const int64_t *shape, const char **syms) {
  IrValue *sh = weight(m, IR_I64, 1, (int64_t[]){n}, shape);
  IrOp *op = op_new(m, IR_OP_CONSTANT_OF_SHAPE, 1, &sh, 1);
  ir_attr_set_strings(m, op, "shape_sym", n, syms);
  return op;
}

/* Slices of a static [2,10] by the run-time size (ends_sym / starts_sym,
 * as the frontend spells `w[:, :seq]` and `w[:, -seq:]`), range(0, seq, 1)
 * and constant_of_shape [2, seq]. */
static void test_sym_operands(void **state) {
  IrModule *m = *state;
  float w[20];
  for (int i = 0; i < 20; i++) w[i] = (float)i * 0.25f;
  IrValue *wv = weight(m, IR_F32, DIMS(2, 10), w);
  IrOp *head = op_new(m, IR_OP_SLICE, 1, &wv, 1);
  ir_attr_set_ints(m, head, "starts", DIMS(0));
  ir_attr_set_ints(m, head, "ends", DIMS(1));
  ir_attr_set_strings(m, head, "ends_sym", 1, (const char *[]){"seq"});
  ir_attr_set_ints(m, head, "axes", DIMS(1));
  assert_string_equal(types(m, head), "f32[2,seq]");
  IrOp *tail = op_new(m, IR_OP_SLICE, 1, &wv, 1);
  ir_attr_set_ints(m, tail, "starts", DIMS(-1));
  ir_attr_set_strings(m, tail, "starts_sym", 1, (const char *[]){"seq"});
  ir_attr_set_ints(m, tail, "ends", DIMS(INT64_MAX));
  ir_attr_set_ints(m, tail, "axes", DIMS(-1));
  assert_string_equal(types(m, tail), "f32[2,seq]");
  IrOp *rg = range_op(m, 0, 1, 1, "seq");
  assert_string_equal(types(m, rg), "i64[seq]");
  IrOp *cs = cos_op(m, DIMS(2, 1), (const char *[]){"", "seq"});
  assert_string_equal(types(m, cs), "f32[2,seq]");
  IrValue *res[4] = {head->results[0], tail->results[0], rg->results[0], cs->results[0]};
  lower_main(m, 4, res);
  for (int t = 0; t < 3; t++) {
    int64_t s = sizes[t], r[8];
    float h[16], tl[16], c[16];
    memset(c, 0xff, sizeof c);
    void *bufs[4] = {h, tl, r, c};
    run_at(m, s, bufs);
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < s; j++) {
        assert_true(h[i * s + j] == w[i * 10 + j]);
        assert_true(tl[i * s + j] == w[i * 10 + 10 - s + j]);
        assert_true(c[i * s + j] == 0.0f);
      }
    for (int j = 0; j < s; j++) assert_int_equal(r[j], j);
  }
}

/* tile of x[seq,2] by [1,3] (the run-time dim repeated once) and of a
 * static [1,2] by [seq,1] (repeats_sym). */
static void test_tile(void **state) {
  IrModule *m = *state;
  IrValue *x = DIN(m, IR_F32, SEQ, 2);
  int64_t r1[2] = {1, 3}, r2[2] = {1, 1};
  float w[2] = {1.5f, -2.0f};
  IrValue *ops[2] = {x, weight(m, IR_I64, DIMS(2), r1)};
  IrOp *t1 = op_new(m, IR_OP_TILE, 2, ops, 1);
  assert_string_equal(types(m, t1), "f32[seq,6]");
  IrValue *ops2[2] = {weight(m, IR_F32, DIMS(1, 2), w), weight(m, IR_I64, DIMS(2), r2)};
  IrOp *t2 = op_new(m, IR_OP_TILE, 2, ops2, 1);
  ir_attr_set_strings(m, t2, "repeats_sym", 2, (const char *[]){"seq", ""});
  assert_string_equal(types(m, t2), "f32[seq,2]");
  IrValue *res[2] = {t1->results[0], t2->results[0]};
  lower_main(m, 2, res);
  for (int t = 0; t < 3; t++) {
    int64_t s = sizes[t];
    float xs[16], a[48], b[16];
    for (int i = 0; i < 2 * s; i++) xs[i] = (float)i - 0.5f;
    void *bufs[3] = {xs, a, b};
    run_at(m, s, bufs);
    for (int i = 0; i < s; i++)
      for (int j = 0; j < 6; j++) assert_true(a[i * 6 + j] == xs[i * 2 + j % 2]);
    for (int i = 0; i < 2 * s; i++) assert_true(b[i] == w[i % 2]);
  }
}

/* The forms of ends_sym / starts_sym / limit_sym / shape_sym and the
 * Tile / GatherElements cases that a type cannot hold, and a bound too
 * large for the sliced axis. */
static void test_sym_operand_refusals(void **state) {
  IrModule *m = *state;
  float w[12] = {0};
  IrValue *wv = weight(m, IR_F32, DIMS(2, 6), w);
  IrOp *big = op_new(m, IR_OP_SLICE, 1, &wv, 1);
  ir_attr_set_ints(m, big, "starts", DIMS(0));
  ir_attr_set_ints(m, big, "ends", DIMS(1));
  ir_attr_set_strings(m, big, "ends_sym", 1, (const char *[]){"seq"});
  ir_attr_set_ints(m, big, "axes", DIMS(1));
  assert_string_equal(types(m, big), "error: Slice: the end of axis 1 is the run-time "
                      "dimension 'seq' (1..8), but the axis has 6 elements: the upper "
                      "bound 8 of 'seq' is too large (it must be at most 6)");
  IrOp *two = op_new(m, IR_OP_SLICE, 1, &wv, 1);
  ir_attr_set_ints(m, two, "starts", DIMS(1));
  ir_attr_set_ints(m, two, "ends", DIMS(1));
  ir_attr_set_strings(m, two, "ends_sym", 1, (const char *[]){"seq"});
  ir_attr_set_ints(m, two, "axes", DIMS(0));
  assert_string_equal(types(m, two), "error: Slice: the end of axis 0 is computed from "
                      "the run-time dimension 'seq'; tcc supports only ends seq from "
                      "starts 0, or starts -seq up to the end of the axis, with step 1");
  IrOp *bad = op_new(m, IR_OP_SLICE, 1, &wv, 1);
  ir_attr_set_ints(m, bad, "starts", DIMS(0));
  ir_attr_set_ints(m, bad, "ends", DIMS(1));
  ir_attr_set_strings(m, bad, "ends_sym", 1, (const char *[]){"len"});
  assert_string_equal(types(m, bad), "error: Slice: attribute 'ends_sym' names 'len', "
                      "which is not a sym of the module");
  IrOp *rg = range_op(m, 1, 1, 1, "seq");
  assert_string_equal(types(m, rg), "error: Range: the limit is computed from the "
                      "run-time dimension 'seq'; tcc supports only Range(0, seq, 1)");
  IrOp *cs = cos_op(m, DIMS(2), (const char *[]){"seq"});
  assert_string_equal(types(m, cs), "error: ConstantOfShape: dim 0 of the shape is "
                      "seq*2, computed from the run-time dimension 'seq'; a run-time "
                      "dim must be a whole sym");
  IrValue *y = DIN(m, IR_F32, SEQ, 2);
  IrValue *ops3[2] = {y, weight(m, IR_I64, DIMS(2), (int64_t[]){2, 1})};
  IrOp *tile = op_new(m, IR_OP_TILE, 2, ops3, 1);
  assert_string_equal(types(m, tile), "error: Tile: axis 0 of size seq repeated 2 times "
                      "has no type: a run-time dim is repeated at most once, and a "
                      "run-time repeat count applies to a dim of size 1");
  IrValue *x = DIN(m, IR_F32, 4, SEQ), *ind = DIN(m, IR_I64, SEQ, 2);
  IrValue *ops[2] = {x, ind};
  IrOp *ge = op_new(m, IR_OP_GATHER_ELEMENTS, 2, ops, 1);
  ir_attr_set_int(m, ge, "axis", 1);
  assert_string_equal(types(m, ge), "error: GatherElements: indices i64[seq,2] do not fit "
                      "data f32[4,seq] (same rank, no larger dim off the axis)");
}

/* expand [seq,1] -> [seq,4]; slice of the seq axis, whole and within its
 * lower bound; shape of x stored at run time. */
static void test_expand_slice_shape(void **state) {
  IrModule *m = *state;
  IrValue *x = DIN(m, IR_F32, SEQ, 1);
  IrOp *ex = expand_op(m, x, DIMS(1, 4));
  assert_string_equal(types(m, ex), "f32[seq,4]");
  IrOp *whole = op_new(m, IR_OP_SLICE, 1, &ex->results[0], 1);
  ir_attr_set_ints(m, whole, "starts", DIMS(0, 1));
  ir_attr_set_ints(m, whole, "ends", DIMS(INT64_MAX, 3));
  ir_attr_set_ints(m, whole, "axes", DIMS(0, 1));
  assert_string_equal(types(m, whole), "f32[seq,2]");
  IrOp *first = op_new(m, IR_OP_SLICE, 1, &ex->results[0], 1);
  ir_attr_set_ints(m, first, "starts", DIMS(0));
  ir_attr_set_ints(m, first, "ends", DIMS(1));
  assert_string_equal(types(m, first), "f32[1,4]");
  IrOp *sh = op_new(m, IR_OP_SHAPE, 1, &whole->results[0], 1);
  assert_string_equal(types(m, sh), "i64[2]");
  IrValue *res[4] = {ex->results[0], whole->results[0], first->results[0], sh->results[0]};
  lower_main(m, 4, res);
  for (int t = 0; t < 3; t++) {
    int64_t s = sizes[t], shape[2];
    float in[8], e[32], w[16], f[4];
    for (int i = 0; i < s; i++) in[i] = (float)(i + 1);
    void *bufs[5] = {in, e, w, f, shape};
    run_at(m, s, bufs);
    for (int i = 0; i < s; i++)
      for (int j = 0; j < 4; j++) assert_true(e[i * 4 + j] == in[i]);
    for (int i = 0; i < s; i++)
      for (int j = 0; j < 2; j++) assert_true(w[i * 2 + j] == in[i]);
    for (int j = 0; j < 4; j++) assert_true(f[j] == in[0]);
    assert_int_equal(shape[0], s);
    assert_int_equal(shape[1], 2);
  }
}

/* What a type cannot hold is refused, naming the sym. */
static void test_refusals(void **state) {
  IrModule *m = *state;
  IrValue *x = DIN(m, IR_F32, SEQ, 6);
  IrOp *r = op_new(m, IR_OP_RESHAPE, 1, &x, 1);
  ir_attr_set_ints(m, r, "shape", DIMS(-1));
  assert_string_equal(types(m, r), "error: Reshape: cannot reshape f32[seq,6] to shape "
                      "[-1]: with run-time dims the result must hold each of the "
                      "input's syms as a whole dim");
  IrOp *r2 = op_new(m, IR_OP_RESHAPE, 1, &x, 1);
  ir_attr_set_ints(m, r2, "shape", DIMS(2, 3, 1));
  assert_string_equal(types(m, r2), "error: Reshape: cannot reshape f32[seq,6] to shape "
                      "[2,3,1]: with run-time dims the result must hold each of the "
                      "input's syms as a whole dim");
  IrOp *fl = op_new(m, IR_OP_FLATTEN, 1, &x, 1);
  ir_attr_set_int(m, fl, "axis", 0);
  assert_string_equal(types(m, fl), "error: Flatten: the result of f32[seq,6] would have "
                      "a dim that is a product of a run-time dim and other dims, which "
                      "a type cannot hold");
  IrOp *sq = op_new(m, IR_OP_SQUEEZE, 1, &x, 1);
  assert_string_equal(types(m, sq), "error: Squeeze: without 'axes', the run-time dim "
                      "seq (axis 0) may be 1 at run time; give the axes");
  /* along the axis run-time sizes add up to a sum sym, of at most 4 terms */
  IrValue *xx[5] = {x, x, x, x, x};
  IrOp *cat = op_new(m, IR_OP_CONCAT, 2, xx, 1);
  ir_attr_set_int(m, cat, "axis", 0);
  assert_string_equal(types(m, cat), "f32[seq_plus_seq,6]");
  IrOp *cat5 = op_new(m, IR_OP_CONCAT, 5, xx, 1);
  ir_attr_set_int(m, cat5, "axis", 0);
  assert_string_equal(types(m, cat5), "error: Concat: along axis 0 the sum of the inputs' "
                      "sizes has more than 4 run-time terms");
  IrOp *sl = op_new(m, IR_OP_SLICE, 1, &x, 1);
  ir_attr_set_ints(m, sl, "starts", DIMS(1));
  ir_attr_set_ints(m, sl, "ends", DIMS(INT64_MAX));
  assert_string_equal(types(m, sl), "error: Slice: axis 0 has the run-time size seq "
                      "(1..8); tcc slices it only whole (starts 0, ends >= 8, step 1) "
                      "or within 0..1");
  IrOp *sp = op_new(m, IR_OP_SPLIT, 1, &x, 2);
  ir_attr_set_int(m, sp, "axis", 0);
  assert_string_equal(types(m, sp), "error: Split: axis 0 has the run-time size seq; "
                      "tcc splits only static axes");
  IrOp *ex = expand_op(m, x, DIMS(4, 6));
  assert_string_equal(types(m, ex), "error: Expand: cannot broadcast f32[seq,6] to "
                      "shape [4,6]");
}

/* ----------------------------------------------------- ONNX frontend */
typedef struct MB {
  IrArena *a;
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__OperatorSetIdProto os, *opsets[1];
  Onnx__NodeProto *nodes[32];
  Onnx__TensorProto *inits[16];
  Onnx__ValueInfoProto *ins[4], *outs[4];
} MB;

static MB *mb_new(void) {
  IrArena *a = ir_arena_new();
  MB *b = ir_arena_alloc(a, sizeof *b);
  b->a = a;
  onnx__model_proto__init(&b->model);
  onnx__graph_proto__init(&b->graph);
  onnx__operator_set_id_proto__init(&b->os);
  b->os.domain = "";
  b->os.has_version = true;
  b->os.version = 13;
  b->opsets[0] = &b->os;
  b->model.opset_import = b->opsets;
  b->model.n_opset_import = 1;
  b->model.graph = &b->graph;
  b->graph.node = b->nodes;
  b->graph.initializer = b->inits;
  b->graph.input = b->ins;
  b->graph.output = b->outs;
  b->graph.name = "g";
  return b;
}

/* A float value info with dims "1,seq,8" (names are params). */
static Onnx__ValueInfoProto *mb_vi(MB *b, const char *name, const char *spec) {
  Onnx__ValueInfoProto *v = ir_arena_alloc(b->a, sizeof *v);
  Onnx__TypeProto *t = ir_arena_alloc(b->a, sizeof *t);
  Onnx__TypeProto__Tensor *tt = ir_arena_alloc(b->a, sizeof *tt);
  Onnx__TensorShapeProto *sh = ir_arena_alloc(b->a, sizeof *sh);
  onnx__value_info_proto__init(v);
  onnx__type_proto__init(t);
  onnx__type_proto__tensor__init(tt);
  onnx__tensor_shape_proto__init(sh);
  v->name = (char *)name;
  v->type = t;
  t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  t->tensor_type = tt;
  tt->has_elem_type = true;
  tt->elem_type = 1;
  tt->shape = sh;
  sh->dim = ir_arena_alloc(b->a, sizeof *sh->dim * 8);
  char *s = ir_arena_strdup(b->a, spec), *save = NULL;
  for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    Onnx__TensorShapeProto__Dimension *d = ir_arena_alloc(b->a, sizeof *d);
    onnx__tensor_shape_proto__dimension__init(d);
    if (*tok >= '0' && *tok <= '9') {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = strtoll(tok, NULL, 10);
    } else {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = tok;
    }
    sh->dim[sh->n_dim++] = d;
  }
  return v;
}

/* An i64 initializer holding v[0..n) (rank 0 when n < 0: one value). */
static void mb_ints(MB *b, const char *name, int n, const int64_t *v) {
  Onnx__TensorProto *t = ir_arena_alloc(b->a, sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = (char *)name;
  t->has_data_type = true;
  t->data_type = 7;
  t->dims = ir_arena_alloc(b->a, sizeof(int64_t));
  t->n_dims = n >= 0;
  t->dims[0] = n;
  t->has_raw_data = true;
  t->raw_data.len = 8 * (size_t)(n < 0 ? 1 : n);
  t->raw_data.data = ir_arena_alloc(b->a, t->raw_data.len);
  memcpy(t->raw_data.data, v, t->raw_data.len);
  b->inits[b->graph.n_initializer++] = t;
}

/* "a,b" -> names */
static char **mb_names(MB *b, const char *list, size_t *n) {
  char **v = ir_arena_alloc(b->a, sizeof *v * 8), *save = NULL;
  char *s = ir_arena_strdup(b->a, list);
  *n = 0;
  for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
    v[(*n)++] = tok;
  return v;
}

static Onnx__NodeProto *mb_node(MB *b, const char *op, const char *ins, const char *out) {
  Onnx__NodeProto *n = ir_arena_alloc(b->a, sizeof *n);
  onnx__node_proto__init(n);
  n->op_type = (char *)op;
  n->name = (char *)out; /* nodes are named after their output */
  n->input = mb_names(b, ins, &n->n_input);
  n->output = mb_names(b, out, &n->n_output);
  b->nodes[b->graph.n_node++] = n;
  return n;
}

/* An INT attribute. */
static void mb_int_attr(MB *b, Onnx__NodeProto *n, const char *name, int64_t v) {
  Onnx__AttributeProto *a = ir_arena_alloc(b->a, sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = (char *)name;
  a->has_type = true;
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  a->has_i = true;
  a->i = v;
  n->attribute = ir_arena_alloc(b->a, sizeof *n->attribute);
  n->attribute[0] = a;
  n->n_attribute = 1;
}

/* Loads b with the -dim bindings dims[0..n); NULL on failure (diagnostic
 * in msg). */
static IrModule *mb_load_dims(MB *b, OnnxDimBinding *dims, int n_dims) {
  OnnxLoadOptions o = {.model_name = "m", .dims = dims, .num_dims = n_dims};
  size_t n = onnx__model_proto__get_packed_size(&b->model);
  uint8_t *buf = ir_arena_alloc(b->a, n + 1);
  onnx__model_proto__pack(&b->model, buf);
  msg[0] = 0;
  return onnx_load_memory(buf, n, "t.onnx", &o);
}

/* Loads b with -dim=seq=1..8. */
static IrModule *mb_load(MB *b) {
  OnnxDimBinding dim = {.param = "seq", .value = -1, .lo = 1, .hi = 8};
  return mb_load_dims(b, &dim, 1);
}

/* The attention-head split a PyTorch export computes at run time:
 *   x f32[1,seq,8]; s = Shape(x); n = Gather(s, 1) (seq);
 *   h = Div(Gather(s, 2), 4) (2, a constant); k = Mul(n, one) (seq*1);
 *   y = Reshape(x, Concat(Unsqueeze(k), [4], Unsqueeze(h)))  -> [seq,4,2]
 *   z = Reshape(y, Concat(Gather(Shape(x), [0,1]), [8]))     -> [1,seq,8] */
static MB *mb_heads(void) {
  MB *b = mb_new();
  b->ins[b->graph.n_input++] = mb_vi(b, "x", "1,seq,8");
  b->outs[b->graph.n_output++] = mb_vi(b, "y", "seq,4,2");
  b->outs[b->graph.n_output++] = mb_vi(b, "z", "1,seq,8");
  int64_t one = 1, two = 2, four = 4, axes0 = 0, first2[2] = {0, 1}, eight = 8;
  mb_ints(b, "i1", -1, &one);
  mb_ints(b, "i2", -1, &two);
  mb_ints(b, "c4", -1, &four);
  mb_ints(b, "one", -1, &one);
  mb_ints(b, "ax0", 1, &axes0);
  mb_ints(b, "four", 1, &four);
  mb_ints(b, "first2", 2, first2);
  mb_ints(b, "eight", 1, &eight);
  mb_node(b, "Shape", "x", "s");
  mb_node(b, "Gather", "s,i1", "n");
  mb_node(b, "Gather", "s,i2", "d");
  mb_node(b, "Div", "d,c4", "h");
  mb_node(b, "Mul", "n,one", "k");
  mb_node(b, "Unsqueeze", "k,ax0", "k1");
  mb_node(b, "Unsqueeze", "h,ax0", "h1");
  mb_node(b, "Concat", "k1,four,h1", "shape");
  mb_int_attr(b, b->nodes[b->graph.n_node - 1], "axis", 0);
  mb_node(b, "Reshape", "x,shape", "y");
  mb_node(b, "Gather", "s,first2", "lead");
  mb_node(b, "Concat", "lead,eight", "shape2");
  mb_int_attr(b, b->nodes[b->graph.n_node - 1], "axis", 0);
  mb_node(b, "Reshape", "y,shape2", "z");
  return b;
}

/* -dim=total=seq+past: a mask input as long as the KV cache after the new
 * keys is typed with the same sum sym as Concat's result, so they add. */
static void test_onnx_dim_sum_binding(void **state) {
  (void)state;
  MB *b = mb_new();
  b->ins[b->graph.n_input++] = mb_vi(b, "mask", "1,total");
  b->ins[b->graph.n_input++] = mb_vi(b, "past_k", "1,past");
  b->ins[b->graph.n_input++] = mb_vi(b, "k", "1,seq");
  b->outs[b->graph.n_output++] = mb_vi(b, "y", "1,total");
  mb_node(b, "Concat", "past_k,k", "kv");
  mb_int_attr(b, b->nodes[b->graph.n_node - 1], "axis", 1);
  mb_node(b, "Add", "kv,mask", "y");
  OnnxDimBinding dims[3] = {{.param = "past", .value = -1, .lo = 0, .hi = 8},
                            {.param = "seq", .value = -1, .lo = 1, .hi = 4},
                            {.param = "total", .value = -1, .sum = "seq+past"}};
  IrModule *m = mb_load_dims(b, dims, 3);
  if (!m) fail_msg("load failed: %s", msg);
  char *text = ir_print_module_str(m);
  const char *want =
      "sym seq = 1..4\n"
      "sym past = 0..8\n"
      "sym seq_plus_past = 1..12 sum(seq, past)\n"
      "func @main(%0: f32[1,seq_plus_past] as \"mask\", %1: f32[1,past] as \"past_k\", "
      "%2: f32[1,seq] as \"k\") -> (f32[1,seq_plus_past] as \"y\") {\n"
      "  %3 = concat(%1, %2) {axis=1} : f32[1,seq_plus_past] loc(\"t.onnx\":\"kv\")\n"
      "  %4 = add(%3, %0) : f32[1,seq_plus_past] loc(\"t.onnx\":\"y\")\n"
      "  return(%4)\n"
      "}\n";
  const char *f = strstr(text, "sym seq");
  assert_non_null(f);
  assert_string_equal(f, want);
  free(text);
  ir_module_free(m);
  /* a term without a range */
  dims[1] = (OnnxDimBinding){.param = "seq", .value = 3};
  assert_null(mb_load_dims(b, dims, 3));
  assert_string_equal(msg, "error: input 'mask': dimension 1 ('total') is "
                      "-dim=total=seq+past, but 'seq' is not a run-time dimension (give it "
                      "-dim=seq=LO..HI)");
  ir_arena_free(b->a);
}

static void test_onnx_symbolic_reshape(void **state) {
  (void)state;
  MB *b = mb_heads();
  IrModule *m = mb_load(b);
  if (!m) fail_msg("load failed: %s", msg);
  char *text = ir_print_module_str(m);
  /* only the reshapes are left, their targets spelled with 0 / -1 */
  const char *want =
      "func @main(%0: f32[1,seq,8] as \"x\") -> (f32[seq,4,2] as \"y\", f32[1,seq,8] as \"z\") {\n"
      "  %1 = reshape(%0) {allowzero=0, shape=[-1,4,2]} : f32[seq,4,2] loc(\"t.onnx\":\"y\")\n"
      "  %2 = reshape(%1) {allowzero=0, shape=[1,-1,8]} : f32[1,seq,8] loc(\"t.onnx\":\"z\")\n"
      "  return(%1, %2)\n"
      "}\n";
  const char *f = strstr(text, "func @main");
  assert_non_null(f);
  assert_string_equal(f, want);
  free(text);
  PipelineOptions po = {.passes = "infer-shapes,lower,plan-memory", .verify_each = true};
  if (!pass_run_pipeline(m, &po)) fail_msg("passes failed: %s", msg);
  for (int t = 0; t < 3; t++) {
    int64_t s = sizes[t];
    float x[64], y[64], z[64];
    for (int i = 0; i < 8 * s; i++) x[i] = (float)i - 1.25f;
    void *bufs[3] = {x, y, z};
    run_at(m, s, bufs);
    assert_memory_equal(y, x, sizeof(float) * 8 * (size_t)s);
    assert_memory_equal(z, x, sizeof(float) * 8 * (size_t)s);
  }
  ir_module_free(m);
  ir_arena_free(b->a);
}

/* Expand(x f32[1,seq,1], [1, seq, 4]): the target's seq is spelled 1. */
static void test_onnx_symbolic_expand(void **state) {
  (void)state;
  MB *b = mb_new();
  b->ins[b->graph.n_input++] = mb_vi(b, "x", "1,seq,1");
  b->outs[b->graph.n_output++] = mb_vi(b, "y", "1,seq,4");
  int64_t first2[2] = {0, 1}, four = 4;
  mb_ints(b, "first2", 2, first2);
  mb_ints(b, "four", 1, &four);
  mb_node(b, "Shape", "x", "s");
  mb_node(b, "Gather", "s,first2", "lead");
  mb_node(b, "Concat", "lead,four", "shape");
  mb_int_attr(b, b->nodes[b->graph.n_node - 1], "axis", 0);
  mb_node(b, "Expand", "x,shape", "y");
  IrModule *m = mb_load(b);
  if (!m) fail_msg("load failed: %s", msg);
  char *text = ir_print_module_str(m);
  assert_non_null(strstr(text, "  %1 = expand(%0) {shape=[1,1,4]} : f32[1,seq,4] "
                               "loc(\"t.onnx\":\"y\")\n"));
  free(text);
  PipelineOptions po = {.passes = "infer-shapes,lower,plan-memory", .verify_each = true};
  if (!pass_run_pipeline(m, &po)) fail_msg("passes failed: %s", msg);
  for (int t = 0; t < 3; t++) {
    int64_t s = sizes[t];
    float x[8], y[32];
    for (int i = 0; i < s; i++) x[i] = 0.5f * (float)i;
    void *bufs[2] = {x, y};
    run_at(m, s, bufs);
    for (int i = 0; i < s * 4; i++) assert_true(y[i] == x[i / 4]);
  }
  ir_module_free(m);
  ir_arena_free(b->a);
}

/* An i64 value info (mb_vi gives f32). */
static Onnx__ValueInfoProto *mb_vi64(MB *b, const char *name, const char *spec) {
  Onnx__ValueInfoProto *v = mb_vi(b, name, spec);
  v->type->tensor_type->elem_type = 7;
  return v;
}

/* What BERT/GPT exports compute from seq = Shape(x)[1]:
 *   p = pos[:, :seq]  (Slice of an initializer [1,16], ends [seq])
 *   t = pos[:, -seq:] (starts Neg([seq]))
 *   r = Range(0, seq, 1)
 *   c = ConstantOfShape([1, seq])           (f32 zeros)
 *   e = Expand(p, Where(Equal([1,seq], -1), 1, [1,seq]))  (torch's expand) */
static MB *mb_positions(int64_t npos) {
  MB *b = mb_new();
  b->ins[b->graph.n_input++] = mb_vi(b, "x", "1,seq");
  b->outs[b->graph.n_output++] = mb_vi64(b, "p", "1,seq");
  b->outs[b->graph.n_output++] = mb_vi64(b, "t", "1,seq");
  b->outs[b->graph.n_output++] = mb_vi64(b, "r", "seq");
  b->outs[b->graph.n_output++] = mb_vi(b, "c", "1,seq");
  b->outs[b->graph.n_output++] = mb_vi64(b, "e", "1,seq");
  int64_t pos[16], zero = 0, one = 1, big = INT64_MAX, m1[2] = {-1, -1}, ones[2] = {1, 1};
  for (int i = 0; i < 16; i++) pos[i] = 3 * i + 1;
  mb_ints(b, "pos", (int)npos, pos); /* then [npos] -> [1,npos] */
  int64_t *dims = ir_arena_alloc(b->a, 2 * sizeof *dims);
  dims[0] = 1, dims[1] = npos;
  b->inits[b->graph.n_initializer - 1]->dims = dims;
  b->inits[b->graph.n_initializer - 1]->n_dims = 2;
  mb_ints(b, "zero", -1, &zero);
  mb_ints(b, "one", -1, &one);
  mb_ints(b, "zero1", 1, &zero);
  mb_ints(b, "one1", 1, &one);
  mb_ints(b, "big1", 1, &big);
  mb_ints(b, "m1", 2, m1);
  mb_ints(b, "ones", 2, ones);
  mb_node(b, "Shape", "x", "s");
  mb_node(b, "Gather", "s,one", "n");
  mb_node(b, "Unsqueeze", "n,zero1", "nu");
  mb_node(b, "Slice", "pos,zero1,nu,one1", "p");
  mb_node(b, "Neg", "nu", "negn");
  mb_node(b, "Slice", "pos,negn,big1,one1", "t");
  mb_node(b, "Range", "zero,n,one", "r");
  mb_node(b, "Concat", "one1,nu", "sh");
  mb_int_attr(b, b->nodes[b->graph.n_node - 1], "axis", 0);
  mb_node(b, "ConstantOfShape", "sh", "c");
  mb_node(b, "Equal", "sh,m1", "eq");
  mb_node(b, "Where", "eq,ones,sh", "esh");
  mb_node(b, "Expand", "p,esh", "e");
  return b;
}

static void test_onnx_symbolic_operands(void **state) {
  (void)state;
  MB *b = mb_positions(16);
  IrModule *m = mb_load(b);
  if (!m) fail_msg("load failed: %s", msg);
  char *text = ir_print_module_str(m);
  const char *want =
      "func @main(%0: f32[1,seq] as \"x\") -> (i64[1,seq] as \"p\", i64[1,seq] as \"t\", "
      "i64[seq] as \"r\", f32[1,seq] as \"c\", i64[1,seq] as \"e\") {\n"
      "  %1 = slice($pos) {axes=[1], ends=[1], ends_sym=[\"seq\"], starts=[0], steps=[1]} "
      ": i64[1,seq] loc(\"t.onnx\":\"p\")\n"
      "  %2 = slice($pos) {axes=[1], ends=[9223372036854775807], starts=[-1], "
      "starts_sym=[\"seq\"], steps=[1]} : i64[1,seq] loc(\"t.onnx\":\"t\")\n"
      "  %3 = range() {delta=1, dtype=type(i64), limit=1, limit_sym=[\"seq\"], start=0} "
      ": i64[seq] loc(\"t.onnx\":\"r\")\n"
      "  %4 = constant_of_shape() {dtype=type(f32), shape=[1,1], shape_sym=[\"\",\"seq\"], "
      "value=0.0} : f32[1,seq] loc(\"t.onnx\":\"c\")\n"
      "  %5 = expand(%1) {shape=[1,1]} : i64[1,seq] loc(\"t.onnx\":\"e\")\n"
      "  return(%1, %2, %3, %4, %5)\n"
      "}\n";
  const char *f = strstr(text, "func @main");
  assert_non_null(f);
  assert_string_equal(f, want);
  free(text);
  PipelineOptions po = {.passes = "infer-shapes,lower,plan-memory", .verify_each = true};
  if (!pass_run_pipeline(m, &po)) fail_msg("passes failed: %s", msg);
  for (int t = 0; t < 3; t++) {
    int64_t s = sizes[t], p[8], tl[8], r[8], e[8];
    float x[8] = {0}, c[8];
    memset(c, 0xff, sizeof c);
    void *bufs[6] = {x, p, tl, r, c, e};
    run_at(m, s, bufs);
    for (int i = 0; i < s; i++) {
      assert_int_equal(p[i], 3 * i + 1);
      assert_int_equal(tl[i], 3 * (16 - s + i) + 1);
      assert_int_equal(r[i], i);
      assert_true(c[i] == 0.0f);
      assert_int_equal(e[i], 3 * i + 1);
    }
  }
  ir_module_free(m);
  ir_arena_free(b->a);
}

/* Loads, expects failure with exactly `want` (from "error: " on). */
static void expect_load_error(MB *b, const char *want) {
  IrModule *m = mb_load(b);
  assert_null(m);
  assert_string_equal(msg, want);
  ir_arena_free(b->a);
}

static void test_onnx_symbolic_errors(void **state) {
  (void)state;
  /* seq*seq has no type */
  MB *b = mb_new();
  b->ins[b->graph.n_input++] = mb_vi(b, "x", "1,seq,8");
  b->outs[b->graph.n_output++] = mb_vi(b, "y", "seq");
  int64_t one = 1, axes0 = 0;
  mb_ints(b, "i1", -1, &one);
  mb_ints(b, "ax0", 1, &axes0);
  mb_node(b, "Shape", "x", "s");
  mb_node(b, "Gather", "s,i1", "n");
  mb_node(b, "Mul", "n,n", "nn");
  mb_node(b, "Unsqueeze", "nn,ax0", "t");
  mb_node(b, "Reshape", "x,t", "y");
  expect_load_error(b, "error: Mul: input 'n' is seq, computed from the run-time "
                    "dimension 'seq'; tcc evaluates such values at compile time "
                    "through Shape, Gather, Slice, Concat, Unsqueeze, Squeeze, Cast, "
                    "Add, Sub, Mul, Div, Neg, Equal and Where (each element a constant or a "
                    "multiple of one run-time dim), and uses them only as the shape of "
                    "Reshape, Expand or ConstantOfShape, the starts and ends of Slice, "
                    "the limit of Range and the repeats of Tile");
  /* a shape used as data */
  b = mb_new();
  b->ins[b->graph.n_input++] = mb_vi(b, "x", "1,seq,8");
  b->outs[b->graph.n_output++] = mb_vi(b, "y", "3");
  mb_node(b, "Shape", "x", "s");
  mb_node(b, "Cast", "s", "y");
  mb_int_attr(b, b->nodes[1], "to", 1);
  expect_load_error(b, "error: Cast: input 's' is [1,seq,8], computed from the run-time "
                    "dimension 'seq'; tcc evaluates such values at compile time "
                    "through Shape, Gather, Slice, Concat, Unsqueeze, Squeeze, Cast, "
                    "Add, Sub, Mul, Div, Neg, Equal and Where (each element a constant or a "
                    "multiple of one run-time dim), and uses them only as the shape of "
                    "Reshape, Expand or ConstantOfShape, the starts and ends of Slice, "
                    "the limit of Range and the repeats of Tile");
  /* seq*2 as a dim */
  b = mb_new();
  b->ins[b->graph.n_input++] = mb_vi(b, "x", "1,seq,8");
  b->outs[b->graph.n_output++] = mb_vi(b, "y", "?");
  int64_t two = 2, four = 4;
  mb_ints(b, "i1", -1, &one);
  mb_ints(b, "two", -1, &two);
  mb_ints(b, "ax0", 1, &axes0);
  mb_ints(b, "four", 1, &four);
  mb_node(b, "Shape", "x", "s");
  mb_node(b, "Gather", "s,i1", "n");
  mb_node(b, "Mul", "n,two", "n2");
  mb_node(b, "Unsqueeze", "n2,ax0", "t");
  mb_node(b, "Concat", "t,four", "shape");
  mb_int_attr(b, b->nodes[b->graph.n_node - 1], "axis", 0);
  mb_node(b, "Reshape", "x,shape", "y");
  expect_load_error(b, "error: Reshape: the shape [seq*2,4] computed from run-time dims "
                    "cannot be applied to f32[1,seq,8]: each run-time dim of the result "
                    "must be a whole sym, at most one of them new to its place");
  /* pos[:, :seq] with seq up to 8 but only 6 positions */
  expect_load_error(mb_positions(6), "error: Slice: the end of axis 1 is the run-time "
                    "dimension 'seq' (1..8), but the axis has 6 elements: the upper bound "
                    "8 of 'seq' is too large (it must be at most 6)");
  /* Range(1, seq, 1) has seq-1 elements */
  b = mb_new();
  b->ins[b->graph.n_input++] = mb_vi(b, "x", "1,seq");
  b->outs[b->graph.n_output++] = mb_vi64(b, "r", "?");
  mb_ints(b, "i1", -1, &one);
  mb_node(b, "Shape", "x", "s");
  mb_node(b, "Gather", "s,i1", "n");
  mb_node(b, "Range", "i1,n,i1", "r");
  expect_load_error(b, "error: Range: the limit is computed from the run-time dimension "
                    "'seq'; tcc supports only Range(0, seq, 1)");
  /* the shape itself as an output */
  b = mb_new();
  b->ins[b->graph.n_input++] = mb_vi(b, "x", "1,seq,8");
  b->outs[b->graph.n_output++] = mb_vi(b, "s", "3");
  mb_node(b, "Shape", "x", "s");
  expect_load_error(b, "error: output 's' is the shape [1,seq,8] computed from run-time "
                    "dims; tcc cannot output it yet");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_reshape_slice_squeeze, dsetup, teardown),
      cmocka_unit_test_setup_teardown(test_concat_split, dsetup, teardown),
      cmocka_unit_test_setup_teardown(test_gather, dsetup, teardown),
      cmocka_unit_test_setup_teardown(test_gather_elements_nd, dsetup, teardown),
      cmocka_unit_test_setup_teardown(test_sym_operands, dsetup, teardown),
      cmocka_unit_test_setup_teardown(test_tile, dsetup, teardown),
      cmocka_unit_test_setup_teardown(test_sym_operand_refusals, dsetup, teardown),
      cmocka_unit_test_setup_teardown(test_expand_slice_shape, dsetup, teardown),
      cmocka_unit_test_setup_teardown(test_refusals, dsetup, teardown),
      cmocka_unit_test_setup_teardown(test_onnx_dim_sum_binding, dsetup, teardown),
      cmocka_unit_test_setup_teardown(test_onnx_symbolic_reshape, dsetup, teardown),
      cmocka_unit_test_setup_teardown(test_onnx_symbolic_expand, dsetup, teardown),
      cmocka_unit_test_setup_teardown(test_onnx_symbolic_operands, dsetup, teardown),
      cmocka_unit_test_setup_teardown(test_onnx_symbolic_errors, dsetup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
