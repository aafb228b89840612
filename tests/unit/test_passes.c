/* test_passes.c — the pass manager and the passes' invariants on real
 * models (the golden tests in tests/ir check exact IR). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "onnx.h"
#include "passes.h"

static char captured[4096];

static void capture(void *user, DiagLevel level, const char *msg) {
  (void)user, (void)level;
  size_t n = strlen(captured);
  snprintf(captured + n, sizeof captured - n, "%s\n", msg);
}

static IrModule *load_sample(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/models/%s/model.onnx", TCC_SOURCE_DIR, name);
  OnnxLoadOptions o = {.model_name = name};
  IrModule *m = onnx_load_file(path, &o);
  assert_non_null(m);
  return m;
}

static bool run(IrModule *m, const char *passes) {
  PipelineOptions o = {.passes = passes, .verify_each = true};
  return pass_run_pipeline(m, &o);
}

static void test_unknown_pass_is_reported(void **state) {
  (void)state;
  captured[0] = 0;
  diag_set_sink(capture, NULL);
  assert_false(pass_check_pipeline("dce,frobnicate"));
  assert_string_equal(captured,
                      "tcc: error: unknown pass 'frobnicate'; valid passes: infer-shapes, "
                      "fold-constants, dce, prune, lowrank, fuse, quantize, lower, plan-memory\n");
  captured[0] = 0;
  assert_false(pass_check_pipeline("dce,,lower"));
  assert_non_null(strstr(captured, "unknown pass ''"));
  diag_set_sink(NULL, NULL);
}

static void test_pipelines_name_registered_passes(void **state) {
  (void)state;
  for (int level = 0; level <= 3; level++)
    assert_true(pass_check_pipeline(pass_pipeline_for_level(level, true, false)));
  assert_string_equal(pass_pipeline_for_level(0, true, false), "infer-shapes,lower,plan-memory");
  assert_string_equal(pass_pipeline_for_level(2, true, false),
                       "infer-shapes,fold-constants,dce,fuse,quantize,dce,lower,dce,plan-memory");
  assert_string_equal(pass_pipeline_for_level(2, false, false),
                       "infer-shapes,fold-constants,quantize,dce,lower,dce,plan-memory");
  for (int level = 0; level <= 2; level++)
    for (int fuse = 0; fuse <= 1; fuse++) {
      const char *p = pass_pipeline_for_level(level, fuse, true);
      assert_true(pass_check_pipeline(p));
      /* lowrank and quantize, then a dce: the replaced weights leave the
       * object; quantize after fuse, which it keeps in the int8 epilogue */
      assert_non_null(strstr(p, "lowrank,"));
      assert_non_null(strstr(p, "quantize,dce,"));
      assert_true(strstr(p, "lowrank") < strstr(p, "quantize"));
      assert_true(!fuse || level == 0 || strstr(p, "lowrank") < strstr(p, "fuse"));
      assert_true(!fuse || level == 0 || strstr(p, "fuse,quantize,"));
    }
  assert_non_null(pass_find("fold-constants"));
  assert_null(pass_find("fold"));
}

/* Lowering turns outputs into buffer arguments after the inputs and leaves
 * no tensor-level op behind. */
static void check_lowered(IrOp *op, void *user) {
  (void)user;
  assert_int_equal(ir_op_info(op->kind)->level, IR_LEVEL_LOOP);
}

static void test_lower_leaves_only_loop_ops(void **state) {
  (void)state;
  IrModule *m = load_sample("cnn");
  assert_true(run(m, "infer-shapes,lower"));
  IrFunc *f = m->main;
  assert_true(f->lowered);
  assert_int_equal(f->body->num_args, f->num_inputs + f->num_outputs);
  for (int i = 0; i < f->body->num_args; i++)
    assert_int_equal(f->body->args[i]->type.kind, IR_TYPE_BUFFER);
  ir_walk(f->body, check_lowered, NULL);
  ir_module_free(m);
}

/* Two buffers whose lives overlap must not share a byte; the workspace
 * covers every buffer; reuse makes it smaller than the sum. */
typedef struct Life {
  int64_t offset, size;
  int start, end;
  int first_write; /* the first top-level op other than a view that uses it */
} Life;

typedef struct Aliases {
  IrValue *v[16];
  int n;
  bool used;
} Aliases;

/* Does op (or anything nested in it) use one of the aliases? */
static void uses(IrOp *op, Aliases *al) {
  for (int k = 0; k < op->num_operands; k++)
    for (int a = 0; a < al->n; a++)
      if (op->operands[k] == al->v[a]) {
        al->used = true;
        if (op->kind == IR_OP_VIEW && al->n < 16) al->v[al->n++] = op->results[0];
      }
  for (int r = 0; r < op->num_regions; r++)
    for (IrOp *in = op->regions[r]->first; in; in = in->next) uses(in, al);
}

static void test_plan_memory_never_overlaps_live_buffers(void **state) {
  (void)state;
  IrModule *m = load_sample("cnn");
  assert_true(run(m, "infer-shapes,lower,plan-memory"));
  IrFunc *f = m->main;
  Life lives[64];
  int n = 0, pos = 0;
  for (IrOp *op = f->body->first; op; op = op->next, pos++) {
    if (op->kind != IR_OP_ALLOC) continue;
    uint64_t bytes;
    assert_true(ir_type_nbytes(&op->results[0]->type, &bytes));
    lives[n] = (Life){ir_attr_int(op, "offset", -1), (int64_t)bytes, pos, pos, -1};
    assert_true(lives[n].offset >= 0 && lives[n].offset % 64 == 0);
    assert_true(lives[n].offset + lives[n].size <= f->workspace_size);
    /* the last top-level op that reads or writes it, or a view of it */
    Aliases al = {{op->results[0]}, 1, false};
    int p = pos;
    for (IrOp *u = op->next; u; u = u->next, p++) {
      al.used = false;
      uses(u, &al);
      if (al.used) lives[n].end = p + 1;
      if (al.used && u->kind != IR_OP_VIEW && lives[n].first_write < 0)
        lives[n].first_write = p + 1;
    }
    n++;
    assert_true(n < 64);
  }
  assert_true(n >= 5);
  int64_t sum = 0;
  int in_place = 0;
  for (int i = 0; i < n; i++) {
    sum += (lives[i].size + 63) / 64 * 64;
    for (int j = 0; j < i; j++) {
      bool live_together = lives[j].end >= lives[i].start;
      bool share = lives[i].offset < lives[j].offset + lives[j].size &&
                   lives[j].offset < lives[i].offset + lives[i].size;
      /* written in place: j dies in the op that first writes i, at the
       * same offset (what that op may do is the golden tests' part) */
      bool over_dying = lives[j].end == lives[i].first_write &&
                        lives[i].offset == lives[j].offset;
      in_place += live_together && share && over_dying;
      assert_false(live_together && share && !over_dying);
    }
  }
  assert_true(in_place >= 1); /* unfused, the sample's activations write over their input */
  assert_true(f->workspace_size < sum);
  ir_module_free(m);
}

/* A chain of constant ops folds to weights; the surviving graph computes
 * the same thing (checked end to end by the golden and conformance tests). */
static void test_fold_constants_folds_weight_chains(void **state) {
  (void)state;
  IrModule *m = ir_module_new("fold");
  IrFunc *f = ir_func_new(m, "main");
  float a[4] = {1, 2, 3, 4}, b[4] = {4, 3, 2, 1};
  int64_t dims[1] = {4};
  IrType t = ir_type_tensor(IR_F32, 1, dims);
  IrValue *wa = ir_weight_add(m, "a", t, a, sizeof a, true)->value;
  IrValue *wb = ir_weight_add(m, "b", t, b, sizeof b, true)->value;
  IrValue *x = ir_block_add_arg(m, f->body, t);
  f->num_inputs = 1;
  IrBuilder bl = ir_builder_at_end(m, f->body);
  IrValue *ops1[2] = {wa, wb};
  IrValue *s = ir_build1(&bl, IR_OP_MUL, 2, ops1, t);
  IrValue *e = ir_build1(&bl, IR_OP_NEG, 1, &s, t);
  IrValue *ops2[2] = {x, e};
  IrValue *y = ir_build1(&bl, IR_OP_ADD, 2, ops2, t);
  ir_build(&bl, IR_OP_RETURN, 1, &y, 0, NULL);
  f->num_outputs = 1;
  f->output_types = ir_arena_alloc(m->arena, sizeof(IrType));
  f->output_types[0] = t;
  const char *names[1] = {"y"}, *in_names[1] = {"x"};
  f->output_names = names;
  f->input_names = in_names;
  PassContext pc = {.m = m};
  assert_true(pass_fold_constants(&pc));
  assert_string_equal(pc.stats[0].name, "ops folded");
  assert_int_equal(pc.stats[0].value, 2);
  IrOp *add = f->body->first;
  assert_int_equal(add->kind, IR_OP_ADD);
  IrWeight *w = add->operands[1]->weight;
  assert_non_null(w);
  const float *v = w->data;
  assert_true(v[0] == -4.0f && v[1] == -6.0f && v[2] == -6.0f && v[3] == -4.0f);
  PassContext dc = {.m = m};
  assert_true(pass_dce(&dc));
  assert_int_equal(m->num_weights, 1); /* a and b are gone, the fold stays */
  ir_module_free(m);
}

/* P Q against w: the largest |difference|. */
static double reconstruction_error(const double *w, int m, int n, int r, const double *P,
                                   const double *Q) {
  double worst = 0;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double sum = 0;
      for (int k = 0; k < r; k++) sum += P[i * r + k] * Q[k * n + j];
      double d = sum > w[i * n + j] ? sum - w[i * n + j] : w[i * n + j] - sum;
      worst = d > worst ? d : worst;
    }
  return worst;
}

/* The truncated SVD of lowrank.c: full rank reproduces the matrix (wide,
 * tall, 1 x n, 2 x 2); an exact rank-1 matrix needs one; a zero matrix
 * none; past max_rank no factors are made. */
static void test_lowrank_factor(void **state) {
  (void)state;
  static const int shapes[][2] = {{5, 7}, {7, 5}, {1, 6}, {2, 2}, {9, 9}};
  for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
    int m = shapes[t][0], n = shapes[t][1], full = m < n ? m : n;
    double w[81], *P, *Q, kept;
    for (int i = 0; i < m * n; i++) w[i] = sin(i * i * 0.37 + (double)t);
    assert_int_equal(lowrank_factor(w, m, n, full, 0, 0, &P, &Q, &kept), full);
    assert_true(reconstruction_error(w, m, n, full, P, Q) < 1e-9);
    assert_true(kept > 1 - 1e-12 && kept < 1 + 1e-12);
    free(P), free(Q);
    assert_int_equal(lowrank_factor(w, m, n, 0, 1.0, 0, &P, &Q, &kept), full);
    free(P), free(Q);
  }
  double w[12], *P, *Q, kept;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) w[i * 4 + j] = (i + 1.0) * (j - 1.5);
  assert_int_equal(lowrank_factor(w, 3, 4, 0, 0.999999, 0, &P, &Q, &kept), 1);
  assert_true(reconstruction_error(w, 3, 4, 1, P, Q) < 1e-12);
  free(P), free(Q);
  assert_int_equal(lowrank_factor(w, 3, 4, 3, 0, 0, &P, &Q, &kept), 1); /* zero directions go */
  free(P), free(Q);
  memset(w, 0, sizeof w);
  assert_int_equal(lowrank_factor(w, 3, 4, 0, 0.5, 0, &P, &Q, &kept), 0);
  assert_null(P);
  for (int i = 0; i < 12; i++) w[i] = (double)(i * i % 7) - 3.0;
  assert_int_equal(lowrank_factor(w, 3, 4, 3, 0, 1, &P, &Q, &kept), 3);
  assert_null(P);
  assert_null(Q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unknown_pass_is_reported),
      cmocka_unit_test(test_pipelines_name_registered_passes),
      cmocka_unit_test(test_lowrank_factor),
      cmocka_unit_test(test_lower_leaves_only_loop_ops),
      cmocka_unit_test(test_plan_memory_never_overlaps_live_buffers),
      cmocka_unit_test(test_fold_constants_folds_weight_chains),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
