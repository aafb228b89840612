/*
 * batchnorm.c — BatchNormalization, inference form only:
 *   Y = (X - mean) / sqrt(var + epsilon) * scale + B    per channel (dim 1).
 * Lowered as Y = X * a + b with a = scale / sqrt(var + eps) and
 * b = B - mean * a computed once per (n, c), outside the contiguous
 * spatial loop.  The per-activation statistics of old opsets (spatial=0)
 * are rejected.
 *
 * training_mode=1 (opset 14+, static dims only) normalizes with the batch's
 * own per-channel mean and population variance over every dim but the
 * channels, and writes the optional running statistics
 *   running_mean = input_mean * momentum + mean * (1 - momentum)
 * (running_var likewise with the population variance, as the ONNX
 * reference does); norm.c lowers it with its statistics passes.
 *
 * Run-time dims (OPF_DYN): every dim but the channels (dim 1) may be a
 * run-time dim; then the spatial dims are looped one by one (a flat view
 * would need their product as a static size).
 */
#include "nn_util.h"

bool op_batchnorm_import(IrModule *m, IrOp *op, int opset) {
  int64_t training = 0, spatial = 1;
  if (!nn_attr_kind(op, "training_mode", IR_ATTR_INT) ||
      !nn_attr_kind(op, "spatial", IR_ATTR_INT) ||
      !nn_attr_float_canon(m, op, "epsilon", 1e-5))
    return false;
  training = ir_attr_int(op, "training_mode", 0);
  spatial = ir_attr_int(op, "spatial", 1);
  if (training && opset < 14) {
    diag_at(DIAG_ERROR, &op->loc, "BatchNormalization: attribute 'training_mode' "
            "exists from opset 14 on (this model has opset %d)", opset);
    return false;
  }
  if (training && training != 1) {
    diag_at(DIAG_ERROR, &op->loc, "BatchNormalization: attribute 'training_mode' "
            "must be 0 or 1, got %lld", (long long)training);
    return false;
  }
  if (!training && op->num_results > 1) {
    diag_at(DIAG_ERROR, &op->loc, "BatchNormalization with %d outputs (training "
            "statistics) is not supported by tcc without training_mode=1",
            op->num_results);
    return false;
  }
  if (!spatial) {
    diag_at(DIAG_ERROR, &op->loc, "attribute 'spatial' = 0 (per-activation "
            "statistics) is not supported by tcc");
    return false;
  }
  ir_attr_remove(op, "spatial");
  ir_attr_remove(op, "is_test");
  ir_attr_remove(op, "consumed_inputs");
  if (training) /* the running statistics need momentum */
    return nn_attr_float_canon(m, op, "momentum", 0.9);
  /* inference semantics are the same in every opset from here on */
  ir_attr_remove(op, "training_mode");
  ir_attr_remove(op, "momentum");
  return true;
}

bool op_batchnorm_infer(IrModule *m, IrOp *op) {
  static const char *const names[] = {"X", "scale", "B", "input_mean", "input_var"};
  if (!nn_check_operand_dyn(op, 0, "X", NN_FLOAT) || !nn_check_rank_min(op, 0, "X", 2))
    return false;
  const IrType *tx = &op->operands[0]->type;
  int64_t C = lw_dim(op->operands[0], 1);
  if (LW_DIM_IS_DYN(C)) {
    const char *sym = m->syms[-2 - C].name;
    diag_at(DIAG_ERROR, &op->loc, "BatchNormalization: the channel dim (dim 1) of X "
            "is the run-time dimension '%s', which this op does not support; give "
            "it one size with -dim=%s=VALUE", sym, sym);
    return false;
  }
  for (int i = 1; i < 5; i++) {
    if (!nn_check_operand(op, i, names[i], NN_FLOAT)) return false;
    const IrType *t = &op->operands[i]->type;
    if (t->rank != 1 || ir_type_dim(t, 0) != C) {
      char buf[128];
      diag_at(DIAG_ERROR, &op->loc, "BatchNormalization: input %s has type %s; "
              "expected %lld elements (the channels of X)", names[i],
              ir_type_str(m, t, buf, sizeof buf), (long long)C);
      return false;
    }
  }
  op->results[0]->type = *tx;
  if (!ir_attr_int(op, "training_mode", 0)) return true;
  if (ir_type_is_dynamic(m, tx)) {
    char buf[128];
    diag_at(DIAG_ERROR, &op->loc, "BatchNormalization: training_mode=1 needs "
            "static dims, but X has type %s; give each run-time dim one size "
            "with -dim=NAME=VALUE", ir_type_str(m, tx, buf, sizeof buf));
    return false;
  }
  for (int i = 1; i < op->num_results; i++) /* running_mean, running_var */
    op->results[i]->type = op->operands[2 + i]->type;
  return true;
}

/* a = scale / sqrt(var + eps), b = B - mean * a for channel ch. */
static void batchnorm_coeffs(LwCtx *c, IrOp *op, IrElem ce, IrValue *ch,
                             IrValue **pa, IrValue **pb) {
  IrValue *scale = nn_load(c, c->in[1], &ch), *bias = nn_load(c, c->in[2], &ch);
  IrValue *mean = nn_load(c, c->in[3], &ch), *var = nn_load(c, c->in[4], &ch);
  scale = lw_cast(c, scale, ce), bias = lw_cast(c, bias, ce);
  mean = lw_cast(c, mean, ce), var = lw_cast(c, var, ce);
  IrValue *eps = lw_const_f(c, ce, ir_attr_float(op, "epsilon", 1e-5));
  IrValue *a = lw_bin(c, IR_OP_A_DIV, scale,
                      lw_un(c, IR_OP_M_SQRT, lw_bin(c, IR_OP_A_ADD, var, eps)));
  IrValue *b = lw_bin(c, IR_OP_A_SUB, bias, lw_bin(c, IR_OP_A_MUL, mean, a));
  *pa = a, *pb = b;
}

/* Run-time dims: a nest over N and C, then one over the spatial dims. */
static void batchnorm_lower_dyn(LwCtx *c, IrOp *op) {
  int64_t x[IR_MAX_RANK];
  int r = lw_dims(c->in[0], x);
  IrValue *ivs[IR_MAX_RANK], *a, *b;
  LwNest nest, sp;
  lw_nest_begin(c, &nest, 2, x, ivs);
  batchnorm_coeffs(c, op, nn_calc_elem(lw_elem(c->in[0])), ivs[1], &a, &b);
  lw_nest_begin(c, &sp, r - 2, x + 2, ivs + 2);
  nn_store(c, lw_fma(c, nn_load(c, c->in[0], ivs), a, b), c->out[0], ivs);
  lw_nest_end(c, &sp);
  lw_nest_end(c, &nest);
}

bool op_batchnorm_lower(LwCtx *c, IrOp *op) {
  if (ir_attr_int(op, "training_mode", 0)) return nn_batchnorm_train_lower(c, op);
  if (ir_type_is_dynamic(c->m, &c->in[0]->type)) {
    batchnorm_lower_dyn(c, op);
    return true;
  }
  int64_t x[IR_MAX_RANK];
  int r = nn_dims(c->in[0], x);
  int64_t d3[3] = {x[0], x[1], nn_numel(x + 2, r - 2)};
  IrValue *X = nn_view(c, c->in[0], 3, d3), *Y = nn_view(c, c->out[0], 3, d3);
  IrElem ce = nn_calc_elem(lw_elem(X));
  IrValue *ivs[3], *a, *b;
  LwNest nest;
  lw_nest_begin(c, &nest, 2, d3, ivs);
  batchnorm_coeffs(c, op, ce, ivs[1], &a, &b);
  IrOp *ls = lw_for_begin(c, lw_index(c, 0), lw_index(c, d3[2]), 1, &ivs[2]);
  nn_store(c, lw_fma(c, nn_load(c, X, ivs), a, b), Y, ivs);
  lw_for_end(c, ls);
  lw_nest_end(c, &nest);
  return true;
}
