/*
 * loss.c — NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
 *
 * With X viewed as [N, C, D] (D = the product of the extra dims) and the
 * labels t as [N, D]:
 *   loss[n, d] = -X[n, t[n,d], d] * w[t[n,d]]   (0 where t == ignore_index)
 * reduced by `reduction`: none (shape of t), sum, or mean = sum(loss) /
 * sum(w[t]) over the labels not ignored (w = 1 without weights).
 * SoftmaxCrossEntropyLoss first writes log_softmax(X) along C — into its
 * optional log_prob output, else into a scratch buffer — and takes the NLL
 * of that.  Labels equal to ignore_index are replaced by 0 before any
 * load, so no access goes out of bounds.
 */
#include <string.h>

#include "nn_util.h"

bool op_loss_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  if (!nn_attr_kind(op, "reduction", IR_ATTR_STRING) ||
      !nn_attr_kind(op, "ignore_index", IR_ATTR_INT))
    return false;
  const char *r = ir_attr_string(op, "reduction", "mean");
  if (strcmp(r, "none") && strcmp(r, "sum") && strcmp(r, "mean")) {
    diag_at(DIAG_ERROR, &op->loc, "attribute 'reduction' must be \"none\", "
            "\"sum\" or \"mean\" (got \"%s\")", r);
    return false;
  }
  ir_attr_set_string(m, op, "reduction", r);
  return true;
}

bool op_loss_infer(IrModule *m, IrOp *op) {
  if (!nn_check_operand(op, 0, "input", NN_FLOAT) ||
      !nn_check_operand(op, 1, "target", NN_INT) || !nn_check_rank_min(op, 0, "input", 2))
    return false;
  const IrType *tx = &op->operands[0]->type, *tt = &op->operands[1]->type;
  bool ok = tt->rank == tx->rank - 1 && ir_type_dim(tt, 0) == ir_type_dim(tx, 0);
  for (int i = 1; ok && i < tt->rank; i++)
    ok = ir_type_dim(tt, i) == ir_type_dim(tx, i + 1);
  char b1[128], b2[128];
  if (!ok) {
    diag_at(DIAG_ERROR, &op->loc, "%s: target %s does not match input %s without "
            "its class dim", nn_name(op), ir_type_str(m, tt, b1, sizeof b1),
            ir_type_str(m, tx, b2, sizeof b2));
    return false;
  }
  const IrValue *w = op->num_operands > 2 ? op->operands[2] : NULL;
  if (w && (!nn_check_operand(op, 2, "weight", NN_FLOAT) || w->type.elem != tx->elem ||
            w->type.rank != 1 || ir_type_dim(&w->type, 0) != ir_type_dim(tx, 1))) {
    diag_at(DIAG_ERROR, &op->loc, "%s: weight must be %s[%lld]", nn_name(op),
            ir_elem_name(tx->elem), (long long)ir_type_dim(tx, 1));
    return false;
  }
  int64_t dims[IR_MAX_RANK];
  int r = nn_dims(op->operands[1], dims);
  if (strcmp(ir_attr_string(op, "reduction", "mean"), "none")) r = 0;
  op->results[0]->type = ir_type_tensor(tx->elem, r, dims);
  if (op->num_results > 1) op->results[1]->type = *tx;
  return true;
}

typedef struct LossCtx {
  IrValue *X, *T, *W;  /* X: log-probabilities [N, C, D]; T: [N, D] */
  int64_t n, c, d;
  bool has_ignore;
  int64_t ignore;
  IrElem ce;
} LossCtx;

/* LP[n, :, d] = log_softmax(X[n, :, d]) for every n, d. */
static void loss_log_softmax(LwCtx *c, const LossCtx *s, IrValue *X, IrValue *LP) {
  IrValue *ivs[2], *k, *v[1];
  LwNest nest;
  NnIterNest in;
  lw_nest_begin(c, &nest, 2, (int64_t[]){s->n, s->d}, ivs);
  v[0] = nn_lowest(c, s->ce);
  nn_iter_nest_begin(c, &in, 1, NULL, NULL, &s->c, 1, v, &k);
  v[0] = lw_bin(c, IR_OP_A_MAX, v[0], nn_load(c, X, (IrValue *[]){ivs[0], k, ivs[1]}));
  nn_iter_nest_end(c, &in, v);
  IrValue *max = v[0];
  v[0] = lw_const_f(c, s->ce, 0);
  nn_iter_nest_begin(c, &in, 1, NULL, NULL, &s->c, 1, v, &k);
  IrValue *x = nn_load(c, X, (IrValue *[]){ivs[0], k, ivs[1]});
  v[0] = lw_bin(c, IR_OP_A_ADD, v[0], lw_un(c, IR_OP_M_EXP, lw_bin(c, IR_OP_A_SUB, x, max)));
  nn_iter_nest_end(c, &in, v);
  IrValue *lse = lw_bin(c, IR_OP_A_ADD, max, lw_un(c, IR_OP_M_LOG, v[0]));
  IrOp *lk = lw_for_begin(c, lw_index(c, 0), lw_index(c, s->c), 1, &k);
  IrValue *idx[3] = {ivs[0], k, ivs[1]};
  nn_store(c, lw_bin(c, IR_OP_A_SUB, nn_load(c, X, idx), lse), LP, idx);
  lw_for_end(c, lk);
  lw_nest_end(c, &nest);
}

/* The loss and the weight of label (n, d); both 0 when it is ignored. */
static void loss_term(LwCtx *c, const LossCtx *s, IrValue *n, IrValue *d,
                      IrValue **loss, IrValue **weight) {
  IrValue *t = lw_load(c, s->T, (IrValue *[]){n, d}), *valid = NULL;
  IrValue *zero = lw_const_f(c, s->ce, 0);
  if (s->has_ignore) {
    valid = lw_cmp(c, "ne", t, lw_const_i(c, lw_elem(s->T), s->ignore));
    t = lw_select(c, valid, t, lw_const_i(c, lw_elem(s->T), 0));
  }
  IrValue *ti = lw_cast(c, t, IR_INDEX);
  if (c->m->no_index_checks) /* no check loop: clamp, so X is never read outside */
    ti = lw_bin(c, IR_OP_A_MIN, lw_bin(c, IR_OP_A_MAX, ti, lw_index(c, 0)),
                lw_index(c, s->c - 1));
  IrValue *w = s->W ? nn_load(c, s->W, &ti) : lw_const_f(c, s->ce, 1);
  if (valid) w = lw_select(c, valid, w, zero);
  IrValue *x = nn_load(c, s->X, (IrValue *[]){n, ti, d});
  *loss = lw_bin(c, IR_OP_A_SUB, zero, lw_bin(c, IR_OP_A_MUL, x, w));
  *weight = w;
}

static void loss_reduce(LwCtx *c, const LossCtx *s, IrValue *Y, bool mean) {
  IrValue *v[2] = {lw_const_f(c, s->ce, 0), lw_const_f(c, s->ce, 0)}, *ivs[2];
  NnIterNest nest;
  nn_iter_nest_begin(c, &nest, 2, NULL, NULL, (int64_t[]){s->n, s->d}, 2, v, ivs);
  IrValue *l, *w;
  loss_term(c, s, ivs[0], ivs[1], &l, &w);
  v[0] = lw_bin(c, IR_OP_A_ADD, v[0], l);
  v[1] = lw_bin(c, IR_OP_A_ADD, v[1], w);
  nn_iter_nest_end(c, &nest, v);
  IrValue *none[1] = {NULL}; /* rank 0: no indices */
  nn_store(c, mean ? lw_bin(c, IR_OP_A_DIV, v[0], v[1]) : v[0], Y, none);
}

bool op_loss_lower(LwCtx *c, IrOp *op) {
  int64_t x[IR_MAX_RANK];
  int r = nn_dims(c->in[0], x);
  LossCtx s = {.n = x[0], .c = x[1], .d = nn_numel(x + 2, r - 2),
               .W = op->num_operands > 2 ? c->in[2] : NULL,
               .has_ignore = ir_attr_get(op, "ignore_index") != NULL,
               .ignore = ir_attr_int(op, "ignore_index", 0),
               .ce = nn_calc_elem(lw_elem(c->in[0]))};
  int64_t d3[3] = {s.n, s.c, s.d}, d2[2] = {s.n, s.d};
  s.X = nn_view(c, c->in[0], 3, d3);
  s.T = nn_view(c, c->in[1], 2, d2);
  /* A label outside [0, C) (other than ignore_index) is an error in ONNX
   * and would read outside X: checked before anything is written. */
  lw_check_indices(c, s.T, 1, &s.c, false, s.has_ignore ? &s.ignore : NULL);
  if (op->kind == IR_OP_SCE_LOSS) {
    IrValue *LP = op->num_results > 1 ? nn_view(c, c->out[1], 3, d3)
                                      : lw_alloc(c, s.ce, 3, d3);
    loss_log_softmax(c, &s, s.X, LP);
    s.X = LP;
  }
  const char *red = ir_attr_string(op, "reduction", "mean");
  if (strcmp(red, "none")) {
    loss_reduce(c, &s, c->out[0], !strcmp(red, "mean"));
    return true;
  }
  IrValue *Y = nn_view(c, c->out[0], 2, d2), *ivs[2], *l, *w;
  LwNest nest;
  lw_nest_begin(c, &nest, 2, d2, ivs);
  loss_term(c, &s, ivs[0], ivs[1], &l, &w);
  nn_store(c, l, Y, ivs);
  lw_nest_end(c, &nest);
  return true;
}
