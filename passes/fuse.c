/*
 * fuse.c — operator fusion at tensor level.
 *
 * A convolution's output usually flows through a chain that reads and
 * writes the whole tensor once per op: BatchNormalization, a residual Add,
 * an activation.  This pass folds the chain into the convolution so the
 * kernel's epilogue computes it while the sum is still in registers:
 *
 *   - batch_norm(conv(X, W, B), scale, b, mean, var), all weights:
 *     conv(X, W', B') with W'[m] = W[m] * s[m], B'[m] = (B[m] - mean[m]) *
 *     s[m] + b[m], s = scale / sqrt(var + epsilon), computed here in double;
 *   - then add(y, R) with R of y's exact type (a residual), and/or one
 *     activation the kernel can apply (ew_fusable_activation; Clip with
 *     constant bounds): fused_conv(X, W, B, R) {act="relu", ...};
 *   - matmul likewise, after first an add of a bias f32[N] (a Linear
 *     layer's): fused_matmul(A, B, bias, R) {act=...}.
 *   - first, anywhere: mul(x, sigmoid(x)) becomes swish(x) (SiLU), one
 *     pass over x instead of two, and an activation the above can take.
 *   - last, preprocess(x, A, B) (-preprocess: raw u8 image bytes) feeding a
 *     conv or fused_conv whose kernel packs its input (conv_packs_input):
 *     fused_conv(x, W, B, R, A, B) {pre_layout=...}, whose packing converts
 *     each byte as it copies it, so the float image never exists.
 *
 * Only values with a single use are absorbed (a value also read elsewhere
 * must still exist), only f32, and only at the top level of the function.
 * Statistics: swish formed, batchnorm folded, bias add fused, residual
 * add fused, activation fused, preprocess fused into conv, preprocess
 * standalone (its consumer is not such a conv: its own loop runs).
 * Needs: tensor level with inferred types.  -fuse=0 leaves it out.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "passes.h"

/* Folds bn into conv's weights; returns the conv (rebuilt with a bias). */
static IrOp *fold_batchnorm(IrModule *m, IrOp *conv, IrOp *bn) {
  /* training mode normalizes with the batch's statistics: not foldable */
  if (bn->kind != IR_OP_BATCH_NORM || ir_attr_int(bn, "training_mode", 0)) return NULL;
  for (int i = 1; i < bn->num_results; i++)
    if (ir_value_has_uses(m->main, bn->results[i])) return NULL;
  const IrValue *W = conv->operands[1];
  const IrValue *B = conv->num_operands > 2 ? conv->operands[2] : NULL;
  uint64_t nw;
  if (!ir_type_numel(&W->type, &nw)) return NULL;
  int64_t M = ir_type_dim(&W->type, 0);
  uint64_t per = nw / (uint64_t)M;
  const float *w = pass_weight_f32(W, nw), *b = B ? pass_weight_f32(B, (uint64_t)M) : NULL;
  const float *sc = pass_weight_f32(bn->operands[1], (uint64_t)M);
  const float *bb = pass_weight_f32(bn->operands[2], (uint64_t)M);
  const float *mean = pass_weight_f32(bn->operands[3], (uint64_t)M);
  const float *var = pass_weight_f32(bn->operands[4], (uint64_t)M);
  if (!w || (B && !b) || !sc || !bb || !mean || !var) return NULL;
  double eps = ir_attr_float(bn, "epsilon", 1e-5);
  float *nwd = malloc(nw * sizeof *nwd), *nbd = malloc((size_t)M * sizeof *nbd);
  IR_ASSERT(nwd && nbd);
  for (int64_t i = 0; i < M; i++) {
    double s = (double)sc[i] / sqrt((double)var[i] + eps);
    for (uint64_t k = 0; k < per; k++)
      nwd[(uint64_t)i * per + k] = (float)(w[(uint64_t)i * per + k] * s);
    nbd[i] = (float)(((b ? (double)b[i] : 0.0) - mean[i]) * s + bb[i]);
  }
  const IrValue *scale = bn->operands[1];
  IrValue *operands[3] = {
      conv->operands[0], pass_new_weight(m, W->weight->name, "bn", W->type, nwd, nw),
      pass_new_weight(m, scale->weight->name, "bias", scale->type, nbd, (uint64_t)M)};
  free(nwd);
  free(nbd);
  IrBuilder bld = ir_builder_before(m, bn);
  bld.loc = conv->loc;
  IrOp *folded = ir_build(&bld, IR_OP_CONV, 3, operands, 1, &conv->results[0]->type);
  for (int i = 0; i < conv->num_attrs; i++) ir_attr_set(m, folded, &conv->attrs[i]);
  ir_replace_uses(m->main, bn->results[0], folded->results[0]);
  ir_op_remove(bn);
  ir_op_remove(conv);
  return folded;
}

/* Clip's operand bounds, when constant, as the min/max attributes the
 * fused op carries; false when a bound is computed. */
static bool clip_bounds(const IrOp *clip, double *lo, double *hi, bool *has) {
  for (int i = 1; i < clip->num_operands && i < 3; i++) {
    const IrValue *v = clip->operands[i];
    has[i - 1] = v != NULL;
    if (!v) continue;
    const float *d = pass_weight_f32(v, 1);
    if (!d) return false;
    *(i == 1 ? lo : hi) = *d;
  }
  return true;
}

/* The other operand of `add` when it is an add of v and a value of type t
 * (and the add's result has v's type). */
static IrValue *add_operand(IrOp *add, const IrValue *v, const IrType *t) {
  if (!add || add->kind != IR_OP_ADD || !ir_type_equal(&add->results[0]->type, &v->type))
    return NULL;
  IrValue *other = add->operands[0] == v ? add->operands[1] : add->operands[0];
  return other != v && ir_type_equal(&other->type, t) ? other : NULL;
}

/* producer: conv or matmul, f32 and static; absorbs, each when present and
 * the value before it has no other use: (matmul) add of a bias f32[N],
 * add of a residual of the result's type, one activation. */
static IrOp *fuse_epilogue(PassContext *pc, IrOp *producer) {
  IrModule *m = pc->m;
  IrFunc *f = m->main;
  IrValue *y = producer->results[0], *last = y, *bias = NULL, *R = NULL;
  IrOp *bias_add = NULL, *add = NULL, *act = NULL, *u;
  bool mm = producer->kind == IR_OP_MATMUL;
  /* a 1-D x 1-D product is a scalar: no row to carry a bias, nothing to gain */
  if (!ir_type_is_static(&y->type) || (mm && y->type.rank == 0)) return producer;
  if (mm) {
    int64_t n = ir_type_dim(&y->type, y->type.rank - 1);
    IrType bt = ir_type_tensor(IR_F32, 1, &n);
    u = pass_single_user(f, last);
    if ((bias = add_operand(u, last, &bt))) bias_add = u, last = u->results[0];
  }
  u = pass_single_user(f, last);
  if ((R = add_operand(u, last, &y->type))) add = u, last = u->results[0];
  u = pass_single_user(f, last);
  double lo = 0, hi = 0;
  bool has[2] = {false, false};
  if (u && ew_fusable_activation(u->kind) &&
      ir_type_equal(&u->results[0]->type, &y->type) &&
      (u->kind != IR_OP_CLIP || clip_bounds(u, &lo, &hi, has)))
    act = u;
  if (!bias_add && !add && !act) return producer;
  IrOp *at = act ? act : add ? add : bias_add;
  IrValue *operands[4] = {producer->operands[0], producer->operands[1],
                          mm ? bias : producer->num_operands > 2 ? producer->operands[2] : NULL,
                          R};
  IrBuilder bld = ir_builder_before(m, at);
  bld.loc = producer->loc;
  IrOp *fused = ir_build(&bld, mm ? IR_OP_FUSED_MATMUL : IR_OP_FUSED_CONV, 4, operands, 1,
                         &y->type);
  for (int i = 0; i < producer->num_attrs; i++) ir_attr_set(m, fused, &producer->attrs[i]);
  if (act) {
    for (int i = 0; i < act->num_attrs; i++) ir_attr_set(m, fused, &act->attrs[i]);
    if (has[0]) ir_attr_set_float(m, fused, "min", lo);
    if (has[1]) ir_attr_set_float(m, fused, "max", hi);
    ir_attr_set_string(m, fused, "act", ir_op_info(act->kind)->name);
    pass_stat(pc, "activation fused", 1);
  }
  if (add) pass_stat(pc, "residual add fused", 1);
  if (bias_add) pass_stat(pc, "bias add fused", 1);
  ir_replace_uses(f, at->results[0], fused->results[0]);
  if (act) ir_op_remove(act);
  if (add) ir_op_remove(add);
  if (bias_add) ir_op_remove(bias_add);
  ir_op_remove(producer);
  return fused;
}

/* mul(x, sigmoid(x)) (either order), sigmoid's result used only there:
 * swish(x), one op, which an epilogue can also take. */
static void form_swish(PassContext *pc, IrOp *sig) {
  IrModule *m = pc->m;
  IrValue *x = sig->operands[0];
  IrOp *mul = pass_silu_mul(m->main, sig);
  if (!mul || x->type.elem != IR_F32 || !ir_type_equal(&mul->results[0]->type, &x->type))
    return;
  IrBuilder bld = ir_builder_before(m, mul);
  bld.loc = sig->loc;
  IrOp *swish = ir_build(&bld, IR_OP_SWISH, 1, &x, 1, &x->type);
  ir_attr_set_float(m, swish, "alpha", 1.0); /* never imported: no defaults */
  ir_replace_uses(m->main, mul->results[0], swish->results[0]);
  ir_op_remove(mul);
  ir_op_remove(sig);
  pass_stat(pc, "swish formed", 1);
}

/* preprocess whose only user is a packing conv's X: into that conv. */
static void fuse_preprocess(PassContext *pc, IrOp *pre) {
  IrModule *m = pc->m;
  IrOp *conv = pass_single_user(m->main, pre->results[0]);
  if (!conv || (conv->kind != IR_OP_CONV && conv->kind != IR_OP_FUSED_CONV) ||
      conv->operands[0] != pre->results[0] || !conv_packs_input(conv)) {
    pass_stat(pc, "preprocess standalone", 1);
    return;
  }
  IrValue *operands[6] = {pre->operands[0], conv->operands[1], NULL, NULL, pre->operands[1],
                          pre->operands[2]};
  for (int i = 2; i < conv->num_operands && i < 4; i++) operands[i] = conv->operands[i];
  IrBuilder bld = ir_builder_before(m, conv);
  bld.loc = conv->loc;
  IrOp *fused = ir_build(&bld, IR_OP_FUSED_CONV, 6, operands, 1, &conv->results[0]->type);
  for (int i = 0; i < conv->num_attrs; i++) ir_attr_set(m, fused, &conv->attrs[i]);
  ir_attr_set_string(m, fused, "pre_layout", ir_attr_string(pre, "layout", "nchw"));
  ir_replace_uses(m->main, conv->results[0], fused->results[0]);
  ir_op_remove(conv);
  ir_op_remove(pre);
  pass_stat(pc, "preprocess fused into conv", 1);
}

/* rewrite(op) for each op of this kind, collected first: a rewrite may
 * remove or move ops past the one it was given. */
static void rewrite_each(PassContext *pc, IrFunc *f, IrOpKind kind,
                         void (*rewrite)(PassContext *, IrOp *)) {
  int n = 0;
  for (IrOp *op = f->body->first; op; op = op->next) n += op->kind == kind;
  IrOp **ops = malloc(sizeof *ops * (size_t)(n + 1));
  IR_ASSERT(ops);
  n = 0;
  for (IrOp *op = f->body->first; op; op = op->next)
    if (op->kind == kind) ops[n++] = op;
  for (int i = 0; i < n; i++) rewrite(pc, ops[i]);
  free(ops);
}

bool pass_fuse(PassContext *pc) {
  IrFunc *f = pc->m->main;
  if (!f || f->lowered) return true;
  /* swish lands where the mul was, past ops not yet seen */
  rewrite_each(pc, f, IR_OP_SIGMOID, form_swish);
  for (IrOp *op = f->body->first; op; op = op->next) {
    if ((op->kind != IR_OP_CONV && op->kind != IR_OP_MATMUL) ||
        op->results[0]->type.elem != IR_F32)
      continue;
    IrOp *bn = op->kind == IR_OP_CONV ? pass_single_user(f, op->results[0]) : NULL;
    IrOp *folded = bn ? fold_batchnorm(pc->m, op, bn) : NULL;
    if (folded) {
      pass_stat(pc, "batchnorm folded", 1);
      op = folded;
    }
    op = fuse_epilogue(pc, op);
  }
  /* after the epilogues: the conv it joins may be a fused_conv by now; the
   * conv goes too, perhaps the op after it */
  rewrite_each(pc, f, IR_OP_PREPROCESS, fuse_preprocess);
  return true;
}
