/*
 * linear_attention.c — LinearAttention (opset 27): the recurrent linear
 * attention of DeltaNet-style layers, computed token by token.
 *
 * query [B, T, Hq*dk], key [B, T, Hkv*dk], value [B, T, Hkv*dv] (heads
 * packed in the last dim), a state S [B, Hkv, dk, dv] (past_state or zeros)
 * kept in an f32 scratch.  Per (b, KV head) and token t:
 *   gated rules:  S *= exp(g_t)       (decay per key dim [.., Hkv*dk] or per head [.., Hkv])
 *   delta rules:  u = beta_t * (v_t - S^T k_t), else u = v_t
 *   S += k_t (outer) u;  o_t = scale * q_t^T S for each query head sharing it
 * with scale 0 meaning 1/sqrt(dk).  present_state is the final S in
 * past_state's type (query's when absent).  The inputs compute in f32.
 */
#include <math.h>
#include <string.h>

#include "nn_util.h"

enum { LA_Q, LA_K, LA_V, LA_PAST, LA_DECAY, LA_BETA };

static IrValue *la_operand(const IrOp *op, int i) {
  return i < op->num_operands ? op->operands[i] : NULL;
}

static bool la_gated(const IrOp *op) {
  const char *r = ir_attr_string(op, "update_rule", "gated_delta");
  return !strcmp(r, "gated") || !strcmp(r, "gated_delta");
}

static bool la_delta(const IrOp *op) {
  const char *r = ir_attr_string(op, "update_rule", "gated_delta");
  return !strcmp(r, "delta") || !strcmp(r, "gated_delta");
}

bool op_linear_attention_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  if (!nn_attr_kind(op, "update_rule", IR_ATTR_STRING) ||
      !nn_attr_int_canon(m, op, "chunk_size", 64, NULL) ||
      !nn_attr_float_canon(m, op, "scale", 0.0) ||
      !nn_attr_kind(op, "q_num_heads", IR_ATTR_INT) ||
      !nn_attr_kind(op, "kv_num_heads", IR_ATTR_INT))
    return false;
  const char *r = ir_attr_string(op, "update_rule", "gated_delta");
  if (strcmp(r, "linear") && strcmp(r, "gated") && strcmp(r, "delta") &&
      strcmp(r, "gated_delta")) {
    diag_at(DIAG_ERROR, &op->loc, "LinearAttention: attribute 'update_rule' must be "
            "linear, gated, delta or gated_delta, not '%s'", r);
    return false;
  }
  ir_attr_set_string(m, op, "update_rule", r);
  int64_t hq = ir_attr_int(op, "q_num_heads", 0), hkv = ir_attr_int(op, "kv_num_heads", 0);
  if (hq < 1 || hkv < 1 || hq % hkv) {
    diag_at(DIAG_ERROR, &op->loc, "LinearAttention: q_num_heads (%lld) must be a "
            "positive multiple of kv_num_heads (%lld)%s", (long long)hq, (long long)hkv,
            ir_attr_get(op, "q_num_heads") && ir_attr_get(op, "kv_num_heads")
                ? "" : "; both attributes are required");
    return false;
  }
  bool g = la_gated(op), d = la_delta(op);
  if (g != (la_operand(op, LA_DECAY) != NULL) || d != (la_operand(op, LA_BETA) != NULL)) {
    diag_at(DIAG_ERROR, &op->loc, "LinearAttention: update_rule '%s' %s decay and %s "
            "beta", r, g ? "needs" : "forbids", d ? "needs" : "forbids");
    return false;
  }
  return true;
}

static bool la_bad(IrModule *m, const IrOp *op, int i, const char *what, const char *want) {
  char buf[128];
  diag_at(DIAG_ERROR, &op->loc, "LinearAttention: input %s has type %s; expected %s",
          what, ir_type_str(m, &op->operands[i]->type, buf, sizeof buf), want);
  return false;
}

bool op_linear_attention_infer(IrModule *m, IrOp *op) {
  const char *names[6] = {"query", "key", "value", "past_state", "decay", "beta"};
  for (int i = 0; i < op->num_operands; i++)
    if (la_operand(op, i) && !nn_check_operand(op, i, names[i], NN_FLOAT)) return false;
  const IrType *q = &op->operands[LA_Q]->type;
  IrElem e = q->elem;
  int64_t hq = ir_attr_int(op, "q_num_heads", 1), hkv = ir_attr_int(op, "kv_num_heads", 1);
  if (q->rank != 3 || q->dims[2].size % hq)
    return la_bad(m, op, LA_Q, "query", "[B, T, q_num_heads * d_k]");
  int64_t B = q->dims[0].size, T = q->dims[1].size, dk = q->dims[2].size / hq;
  char want[96];
  for (int i = LA_K; i <= LA_V; i++) {
    const IrType *t = &op->operands[i]->type;
    bool ok = t->elem == e && t->rank == 3 && t->dims[0].size == B &&
              t->dims[1].size == T && t->dims[2].size % hkv == 0 &&
              (i == LA_V || t->dims[2].size == hkv * dk);
    snprintf(want, sizeof want, "%s[%lld,%lld,kv_num_heads*%s]", ir_elem_name(e),
             (long long)B, (long long)T, i == LA_K ? "d_k" : "d_v");
    if (!ok) return la_bad(m, op, i, names[i], want);
  }
  int64_t dv = op->operands[LA_V]->type.dims[2].size / hkv;
  int64_t st[4] = {B, hkv, dk, dv};
  IrElem se = e;
  if (la_operand(op, LA_PAST)) {
    const IrType *t = &op->operands[LA_PAST]->type;
    se = t->elem;
    IrType w = ir_type_tensor(se, 4, st);
    char wb[96];
    if (!ir_type_equal(t, &w))
      return la_bad(m, op, LA_PAST, "past_state", ir_type_str(m, &w, wb, sizeof wb));
  }
  for (int i = LA_DECAY; i <= LA_BETA; i++) {
    const IrType *t = la_operand(op, i) ? &op->operands[i]->type : NULL;
    if (!t) continue;
    int64_t last = t->rank == 3 ? t->dims[2].size : -1;
    bool ok = t->elem == e && t->rank == 3 && t->dims[0].size == B && t->dims[1].size == T &&
              (last == hkv || (i == LA_DECAY ? last == hkv * dk : last == 1));
    snprintf(want, sizeof want, "%s[%lld,%lld,%s]", ir_elem_name(e), (long long)B,
             (long long)T, i == LA_DECAY ? "kv_num_heads or kv_num_heads*d_k"
                                         : "kv_num_heads or 1");
    if (!ok) return la_bad(m, op, i, names[i], want);
  }
  if (ir_attr_float(op, "scale", 0.0) == 0.0)
    ir_attr_set_float(m, op, "scale", 1.0 / sqrt((double)dk));
  op->results[0]->type = ir_type_tensor(e, 3, (int64_t[]){B, T, hq * dv});
  if (op->num_results > 1) op->results[1]->type = ir_type_tensor(se, 4, st);
  return true;
}

bool op_linear_attention_lower(LwCtx *c, IrOp *op) {
  IrValue *Q = c->in[LA_Q], *K = c->in[LA_K], *V = c->in[LA_V];
  IrValue *past = op->num_operands > LA_PAST ? c->in[LA_PAST] : NULL;
  IrValue *decay = op->num_operands > LA_DECAY ? c->in[LA_DECAY] : NULL;
  IrValue *beta = op->num_operands > LA_BETA ? c->in[LA_BETA] : NULL;
  int64_t hq = ir_attr_int(op, "q_num_heads", 1), hkv = ir_attr_int(op, "kv_num_heads", 1);
  int64_t B = lw_dim(Q, 0), T = lw_dim(Q, 1), dk = lw_dim(Q, 2) / hq;
  int64_t dv = lw_dim(V, 2) / hkv, G = hq / hkv;
  IrValue *S = lw_alloc(c, IR_F32, 4, (int64_t[]){B, hkv, dk, dv});
  IrValue *U = lw_alloc(c, IR_F32, 1, &dv);
  IrValue *zero = lw_const_f(c, IR_F32, 0), *iv[4], *t, *i, *mm, *g;
  LwNest n;
  lw_nest_begin(c, &n, 4, (int64_t[]){B, hkv, dk, dv}, iv);
  lw_store(c, past ? nn_load(c, past, iv) : zero, S, iv);
  lw_nest_end(c, &n);
  lw_nest_begin(c, &n, 2, (int64_t[]){B, hkv}, iv);
  IrValue *b = iv[0], *h = iv[1];
  IrOp *lt = lw_for_begin(c, lw_index(c, 0), lw_index(c, T), 1, &t);
  LwNest sn;
  IrValue *si[2];
  if (decay) {  /* S *= exp(g_t) */
    bool per_key = lw_dim(decay, 2) != hkv;
    lw_nest_begin(c, &sn, 2, (int64_t[]){dk, dv}, si);
    IrValue *col = per_key ? nn_iadd(c, nn_imul(c, h, dk), si[0]) : h;
    IrValue *f = lw_un(c, IR_OP_M_EXP, lw_cast(c, nn_load(c, decay, (IrValue *[]){b, t, col}), IR_F32));
    IrValue *sidx[4] = {b, h, si[0], si[1]};
    lw_store(c, lw_bin(c, IR_OP_A_MUL, lw_load(c, S, sidx), f), S, sidx);
    lw_nest_end(c, &sn);
  }
  /* U = v_t, or beta_t * (v_t - S^T k_t) */
  IrOp *lm = lw_for_begin(c, lw_index(c, 0), lw_index(c, dv), 1, &mm);
  IrValue *v = lw_cast(c, nn_load(c, V, (IrValue *[]){b, t, nn_iadd(c, nn_imul(c, h, dv), mm)}), IR_F32);
  if (beta) {
    IrValue *acc = zero, *body;
    IrOp *li = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, dk), 1, 1, &acc, &i, &body);
    IrValue *k = lw_cast(c, nn_load(c, K, (IrValue *[]){b, t, nn_iadd(c, nn_imul(c, h, dk), i)}), IR_F32);
    IrValue *nx = lw_fma(c, lw_load(c, S, (IrValue *[]){b, h, i, mm}), k, body);
    lw_for_end_iter(c, li, 1, &nx);
    IrValue *bcol = lw_dim(beta, 2) == 1 ? lw_index(c, 0) : h;
    IrValue *bt = lw_cast(c, nn_load(c, beta, (IrValue *[]){b, t, bcol}), IR_F32);
    v = lw_bin(c, IR_OP_A_MUL, bt, lw_bin(c, IR_OP_A_SUB, v, li->results[0]));
  }
  lw_store(c, v, U, &mm);
  lw_for_end(c, lm);
  /* S += k_t (outer) U */
  lw_nest_begin(c, &sn, 2, (int64_t[]){dk, dv}, si);
  IrValue *k = lw_cast(c, nn_load(c, K, (IrValue *[]){b, t, nn_iadd(c, nn_imul(c, h, dk), si[0])}), IR_F32);
  IrValue *sidx[4] = {b, h, si[0], si[1]};
  lw_store(c, lw_fma(c, k, lw_load(c, U, &si[1]), lw_load(c, S, sidx)), S, sidx);
  lw_nest_end(c, &sn);
  /* o_t = scale * q_t^T S for the query heads of this KV head */
  lw_nest_begin(c, &sn, 2, (int64_t[]){G, dv}, si);
  g = nn_iadd(c, nn_imul(c, h, G), si[0]);
  IrValue *acc = zero, *body;
  IrOp *li = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, dk), 1, 1, &acc, &i, &body);
  IrValue *q = lw_cast(c, nn_load(c, Q, (IrValue *[]){b, t, nn_iadd(c, nn_imul(c, g, dk), i)}), IR_F32);
  IrValue *nx = lw_fma(c, q, lw_load(c, S, (IrValue *[]){b, h, i, si[1]}), body);
  lw_for_end_iter(c, li, 1, &nx);
  IrValue *o = lw_bin(c, IR_OP_A_MUL, li->results[0],
                      lw_const_f(c, IR_F32, ir_attr_float(op, "scale", 1.0)));
  nn_store(c, o, c->out[0], (IrValue *[]){b, t, nn_iadd(c, nn_imul(c, g, dv), si[1])});
  lw_nest_end(c, &sn);
  lw_for_end(c, lt);
  lw_nest_end(c, &n);
  if (op->num_results > 1) {
    lw_nest_begin(c, &n, 4, (int64_t[]){B, hkv, dk, dv}, iv);
    nn_store(c, lw_load(c, S, iv), c->out[1], iv);
    lw_nest_end(c, &n);
  }
  return true;
}
