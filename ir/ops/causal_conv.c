/*
 * causal_conv.c — CausalConvWithState (opset 27): a stateful causal
 * depthwise 1-D convolution.
 *
 * X is [B, C, L], W [C, 1, k], bias [C], past_state [B, C, k-1] (zeros when
 * absent).  The lowering writes the padded sequence past ++ X ([B, C,
 * k-1+L]) into a scratch buffer, convolves it without padding:
 *   Y[b, c, t] = bias[c] + sum_i W[c, 0, i] * pad[b, c, t + i]
 * (then y * sigmoid(y) for activation silu/swish), and copies pad's last
 * k-1 positions to present_state.  f16/bf16 compute in f32.
 */
#include <string.h>

#include "nn_util.h"

bool op_causal_conv_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  if (!nn_attr_kind(op, "activation", IR_ATTR_STRING)) return false;
  const char *act = ir_attr_string(op, "activation", "none");
  if (strcmp(act, "none") && strcmp(act, "silu") && strcmp(act, "swish")) {
    diag_at(DIAG_ERROR, &op->loc, "CausalConvWithState: attribute 'activation' must be "
            "none, silu or swish, not '%s'", act);
    return false;
  }
  ir_attr_set_string(m, op, "activation", act);
  return true;
}

static bool cc_check(IrModule *m, const IrOp *op, int i, const char *what, int rank,
                     const int64_t *want) {
  if (i >= op->num_operands || !op->operands[i]) return true;
  if (!nn_check_operand(op, i, what, NN_FLOAT)) return false;
  IrType w = ir_type_tensor(op->operands[0]->type.elem, rank, want);
  if (ir_type_equal(&op->operands[i]->type, &w)) return true;
  char a[96], b[96];
  diag_at(DIAG_ERROR, &op->loc, "CausalConvWithState: input %s has type %s; expected %s",
          what, ir_type_str(m, &op->operands[i]->type, a, sizeof a),
          ir_type_str(m, &w, b, sizeof b));
  return false;
}

bool op_causal_conv_infer(IrModule *m, IrOp *op) {
  if (!nn_check_operand(op, 0, "input", NN_FLOAT) ||
      !nn_check_operand(op, 1, "weight", NN_FLOAT))
    return false;
  const IrType *x = &op->operands[0]->type, *w = &op->operands[1]->type;
  if (x->rank != 3 || w->rank != 3 || w->dims[2].size < 1) {
    diag_at(DIAG_ERROR, &op->loc, "CausalConvWithState: input must have rank 3 and "
            "weight be [channels, 1, k] with k >= 1");
    return false;
  }
  int64_t B = x->dims[0].size, C = x->dims[1].size, k = w->dims[2].size;
  if (!cc_check(m, op, 1, "weight", 3, (int64_t[]){C, 1, k}) ||
      !cc_check(m, op, 2, "bias", 1, &C) ||
      !cc_check(m, op, 3, "past_state", 3, (int64_t[]){B, C, k - 1}))
    return false;
  op->results[0]->type = *x;
  if (op->num_results > 1)
    op->results[1]->type = ir_type_tensor(x->elem, 3, (int64_t[]){B, C, k - 1});
  return true;
}

bool op_causal_conv_lower(LwCtx *c, IrOp *op) {
  IrValue *X = c->in[0], *W = c->in[1];
  IrValue *bias = op->num_operands > 2 ? c->in[2] : NULL;
  IrValue *past = op->num_operands > 3 ? c->in[3] : NULL;
  int64_t B = lw_dim(X, 0), C = lw_dim(X, 1), L = lw_dim(X, 2), k = lw_dim(W, 2);
  IrElem ce = nn_calc_elem(lw_elem(X));
  bool silu = strcmp(ir_attr_string(op, "activation", "none"), "none") != 0;
  IrValue *pad = lw_alloc(c, ce, 3, (int64_t[]){B, C, k - 1 + L}), *iv[3];
  LwNest n;
  /* pad = past ++ X */
  lw_nest_begin(c, &n, 3, (int64_t[]){B, C, k - 1}, iv);
  lw_store(c, past ? nn_load(c, past, iv) : lw_const_f(c, ce, 0), pad, iv);
  lw_nest_end(c, &n);
  lw_nest_begin(c, &n, 3, (int64_t[]){B, C, L}, iv);
  lw_store(c, nn_load(c, X, iv), pad, (IrValue *[]){iv[0], iv[1], nn_lin(c, iv[2], 1, k - 1)});
  lw_nest_end(c, &n);
  lw_nest_begin(c, &n, 3, (int64_t[]){B, C, L}, iv);
  IrValue *acc = bias ? nn_load(c, bias, &iv[1]) : lw_const_f(c, ce, 0), *i, *body;
  IrOp *l = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, k), 1, 1, &acc, &i, &body);
  IrValue *w = nn_load(c, W, (IrValue *[]){iv[1], lw_index(c, 0), i});
  IrValue *x = lw_load(c, pad, (IrValue *[]){iv[0], iv[1], nn_iadd(c, iv[2], i)});
  IrValue *next = lw_fma(c, w, x, body);
  lw_for_end_iter(c, l, 1, &next);
  IrValue *y = l->results[0];
  if (silu) y = lw_bin(c, IR_OP_A_MUL, y, lw_un(c, IR_OP_M_SIGMOID, y));
  nn_store(c, y, c->out[0], iv);
  lw_nest_end(c, &n);
  if (op->num_results > 1) {  /* the last k-1 positions of pad */
    lw_nest_begin(c, &n, 3, (int64_t[]){B, C, k - 1}, iv);
    IrValue *v = lw_load(c, pad, (IrValue *[]){iv[0], iv[1], nn_lin(c, iv[2], 1, L)});
    nn_store(c, v, c->out[1], iv);
    lw_nest_end(c, &n);
  }
  return true;
}
