/* op_test.h — what the per-op unit tests (test_ops_*.c) share: a module
 * with an empty "main" per test, a diagnostic sink keeping the first
 * "error: ..." message in msg, function inputs and weights, import+infer
 * with the result type as text, and two ways to get numbers out of an op's
 * lowering: through the whole pipeline (exec) or lowered alone into a
 * scratch function (lower_and_run). Each test is its own executable, so the
 * static state here is per test program. */
#ifndef TCC_OP_TEST_H
#define TCC_OP_TEST_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"
#include "lower.h"
#include "passes.h"

static char msg[1024];

/* Keeps the first message from "error: " on: the location prefix is
 * diag.c's business, not these ops'. */
static inline void sink(void *user, DiagLevel level, const char *text) {
  (void)user, (void)level;
  const char *e = strstr(text, "error: ");
  if (!msg[0]) snprintf(msg, sizeof msg, "%s", e ? e : text);
}

static inline int setup(void **state) {
  *state = ir_module_new("t");
  ir_func_new(*state, "main");
  diag_set_sink(sink, NULL);
  msg[0] = 0;
  return 0;
}

static inline int teardown(void **state) {
  ir_module_free(*state);
  diag_set_sink(NULL, NULL);
  return 0;
}

/* A function input of element type e and the given dims. */
static inline IrValue *input(IrModule *m, IrElem e, int rank, const int64_t *dims) {
  IrFunc *f = m->main;
  IrValue *v = ir_block_add_arg(m, f->body, ir_type_tensor(e, rank, dims));
  f->num_inputs++;
  return v;
}
#define DIMS(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / 8), (int64_t[]){__VA_ARGS__}
#define IN(m, e, ...) input(m, e, DIMS(__VA_ARGS__))
#define IN0(m, e) input(m, e, 0, NULL)

/* A weight of element type e holding data (copied). */
static inline IrValue *weight(IrModule *m, IrElem e, int rank, const int64_t *dims,
                              const void *data) {
  char name[32];
  snprintf(name, sizeof name, "w%d", m->num_weights);
  IrType t = ir_type_tensor(e, rank, dims);
  uint64_t nbytes;
  ir_type_nbytes(&t, &nbytes);
  return ir_weight_add(m, name, t, data, nbytes, true)->value;
}

static inline IrOp *op_new(IrModule *m, IrOpKind k, int n, IrValue *const *in, int nres) {
  IrOp *op = ir_op_new(m, k, n, in, nres, NULL);
  ir_block_append(m->main->body, op);
  return op;
}

/* import (at opset) then infer: the types of op's first n results as text
 * ("f32[2], f32[3]"), or the first diagnostic. */
static inline const char *run_n(IrModule *m, IrOp *op, int opset, int n) {
  static char out[1024];
  const IrOpInfo *info = ir_op_info(op->kind);
  msg[0] = 0;
  if (!info->import(m, op, opset) || !info->infer(m, op)) return msg;
  size_t k = 0;
  for (int i = 0; i < n; i++) {
    char buf[256];
    k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", i ? ", " : "",
                          ir_type_str(m, &op->results[i]->type, buf, sizeof buf));
  }
  return out;
}

/* run_n for result 0 only, and for all results. */
static inline const char *run(IrModule *m, IrOp *op, int opset) {
  return run_n(m, op, opset, 1);
}
static inline const char *run_all(IrModule *m, IrOp *op, int opset) {
  return run_n(m, op, opset, op->num_results);
}

static inline void ints_equal(const IrOp *op, const char *name, int n, const int64_t *want) {
  const int64_t *v;
  assert_int_equal(ir_attr_ints(op, name, &v), n);
  for (int i = 0; i < n; i++) assert_int_equal(v[i], want[i]);
}

/* Returns op's results, lowers the function and runs it in the
 * interpreter: ins are the inputs' data, outs receive the results. */
static inline void exec(IrModule *m, IrOp *op, void *const *ins, void *const *outs) {
  IrFunc *f = m->main;
  f->num_outputs = op->num_results;
  f->output_types = ir_arena_alloc(m->arena, sizeof(IrType) * (size_t)op->num_results);
  for (int i = 0; i < op->num_results; i++) f->output_types[i] = op->results[i]->type;
  ir_block_append(f->body, ir_op_new(m, IR_OP_RETURN, op->num_results, op->results, 0, NULL));
  PipelineOptions po = {.passes = "infer-shapes,lower,plan-memory", .verify_each = true};
  msg[0] = 0;
  if (!pass_run_pipeline(m, &po)) fail_msg("passes failed: %s", msg);
  void *bufs[16];
  int n = 0;
  for (int i = 0; i < f->num_inputs; i++) bufs[n++] = ins[i];
  for (int i = 0; i < op->num_results; i++) bufs[n++] = outs[i];
  static char ws[1 << 16] __attribute__((aligned(64)));
  assert_true(f->workspace_size <= (int64_t)sizeof ws);
  assert_true(ir_interp_run(m, f, bufs, ws));
}

/* A function input whose dims may hold run-time dims, LW_DYN_DIM(sym). */
static inline IrValue *din(IrModule *m, IrElem e, int rank, const int64_t *dims) {
  IrFunc *f = m->main;
  IrValue *v = ir_block_add_arg(m, f->body, lw_type(IR_TYPE_TENSOR, e, rank, dims));
  f->num_inputs++;
  return v;
}
#define DIN(m, e, ...) din(m, e, DIMS(__VA_ARGS__))

/* Lowers op (already inferred) alone into a scratch loop-level function
 * whose arguments are the non-weight operands, then the results, and
 * checks that it verifies.  The function can run any number of times. */
static inline IrFunc *lower_alone(IrModule *m, IrOp *op) {
  IrFunc *main = m->main, *f = ir_func_new(m, "eval");
  m->main = main;
  f->lowered = true;
  LwCtx c = {.m = m, .b = ir_builder_at_end(m, f->body)};
  IrValue *cin[8] = {0}, *cout[4];
  int n = 0;
  assert_true(op->num_operands <= 8 && op->num_results <= 4);
  for (int i = 0; i < op->num_operands; i++) {
    IrValue *v = op->operands[i];
    if (!v || v->weight) {
      cin[i] = v;
      continue;
    }
    cin[i] = ir_block_add_arg(m, f->body, ir_type_with_kind(v->type, IR_TYPE_BUFFER));
    n++;
  }
  f->num_inputs = n;
  for (int i = 0; i < op->num_results; i++)
    cout[i] = ir_block_add_arg(m, f->body,
                               ir_type_with_kind(op->results[i]->type, IR_TYPE_BUFFER));
  f->num_outputs = op->num_results;
  c.in = cin, c.out = cout;
  msg[0] = 0;
  if (!ir_op_info(op->kind)->lower(&c, op)) fail_msg("lower failed: %s", msg);
  m->main = f; /* ir_verify checks m->main */
  bool ok = ir_verify(m);
  if (getenv("DYN_PRINT")) ir_print_module(m, stderr);
  m->main = main;
  if (!ok) fail_msg("verify failed: %s", msg);
  return f;
}

/* lower_alone, then one run: in[i] holds operand i's data (unused for
 * weights and absent operands), out receives result 0 (a one-result op). */
static inline void lower_and_run(IrModule *m, IrOp *op, void *const *in, void *out) {
  assert_int_equal(op->num_results, 1);
  IrFunc *f = lower_alone(m, op);
  void *bufs[9];
  int n = 0;
  for (int i = 0; i < op->num_operands; i++)
    if (op->operands[i] && !op->operands[i]->weight) bufs[n++] = in[i];
  bufs[n++] = out;
  bool ok = ir_interp_run(m, f, bufs, NULL);
  if (!ok) fprintf(stderr, "%s\n", msg);
  assert_true(ok);
}

static inline void floats_near(const float *got, const float *want, int n) {
  for (int i = 0; i < n; i++)
    if (fabsf(got[i] - want[i]) > 1e-5f + 1e-4f * fabsf(want[i]))
      fail_msg("element %d: got %g, want %g", i, got[i], want[i]);
}

#endif
