/*
 * attention.c — Attention (opsets 23 and 24): scaled dot-product attention
 * with optional mask, causal frontier, softcap, grouped-query heads, a KV
 * cache (past_* in, present_* out) and the qk_matmul_output debug output.
 *
 * Q is [B, Hq, Sq, D] and K, V are [B, Hkv, Skv, D|Dv] (or 3-D [B, S, H*D]
 * with q_num_heads/kv_num_heads, read through 4-D views [B, S, H, D]).
 * Query head h reads KV head h / (Hq/Hkv) (GQA: each KV head repeated).
 * With past_key/past_value, K and V are appended to the cache along the
 * sequence axis (present_*, T = P + Skv keys); otherwise K and V are read
 * directly (and copied to present_* when those outputs are asked for).
 *
 * Per query row (b, h, i) the lowering makes passes over the T keys into a
 * scratch row: the scores s = scale * q.k (then softcap*tanh(s/softcap)),
 * plus the bias: the mask (bool: 0/-inf; float: added; a last dim shorter
 * than T reads -inf past its end), the causal frontier j <= i + offset
 * (offset = P, or nonpad_kv_seqlen[b] - Sq without a cache) and the padding
 * j < nonpad_kv_seqlen[b]; then the softmax, then the weighted sum of V.
 * A row whose bias is -inf everywhere (no key allowed) gives zeros, in Y and
 * in the mode-3 qk output, as the spec's fully-masked-row guard says.
 * f16/bf16 compute in f32 (softmax_precision double: f64).
 *
 * f32 with a target (not -O0) goes through the packed GEMM kernel instead of
 * the per-row dot products: per (b, h), S = scale * Q K^T and Y = P V are
 * kernel products, the row passes run on S in between (att_lower_kernel).
 * Run-time dims (OPF_DYN): batch, sequence and cache lengths may be run-time
 * ones (the per-row loops, bounds from dim.get); with a cache the keys are
 * past + seq long, a sum sym (docs/ir.md).  Head counts and sizes are static.
 */
#include <math.h>

#include "dyndims.h"
#include "gemm_kernel.h"
#include "nn_util.h"

enum { ATT_Q, ATT_K, ATT_V, ATT_MASK, ATT_PAST_K, ATT_PAST_V, ATT_NONPAD };

static IrValue *att_operand(const IrOp *op, int i) {
  return i < op->num_operands ? op->operands[i] : NULL;
}

/* ------------------------------------------------------------- import */

bool op_attention_import(IrModule *m, IrOp *op, int opset) {
  int64_t causal, mode;
  if (opset < 24 && op->num_operands > ATT_NONPAD) {
    diag_at(DIAG_ERROR, &op->loc, "Attention: input nonpad_kv_seqlen needs opset 24 "
            "(the model imports opset %d)", opset);
    return false;
  }
  if (!nn_attr_int_canon(m, op, "is_causal", 0, &causal) ||
      !nn_attr_int_canon(m, op, "qk_matmul_output_mode", 0, &mode) ||
      !nn_attr_float_canon(m, op, "softcap", 0.0) ||
      !nn_attr_kind(op, "scale", IR_ATTR_FLOAT) ||
      !nn_attr_kind(op, "q_num_heads", IR_ATTR_INT) ||
      !nn_attr_kind(op, "kv_num_heads", IR_ATTR_INT) ||
      !nn_attr_kind(op, "softmax_precision", IR_ATTR_INT))
    return false;
  if (causal != 0 && causal != 1) {
    diag_at(DIAG_ERROR, &op->loc, "Attention: attribute 'is_causal' must be 0 or 1, "
            "got %lld", (long long)causal);
    return false;
  }
  if (mode < 0 || mode > 3) {
    diag_at(DIAG_ERROR, &op->loc, "Attention: attribute 'qk_matmul_output_mode' must "
            "be 0, 1, 2 or 3, got %lld", (long long)mode);
    return false;
  }
  if (ir_attr_get(op, "softmax_precision")) {
    int64_t p = ir_attr_int(op, "softmax_precision", 1);
    IrElem e = ir_elem_from_onnx((int)p);
    if (e == IR_ELEM_NONE || !ir_elem_is_float(e)) {
      diag_at(DIAG_ERROR, &op->loc, "Attention: attribute 'softmax_precision' must "
              "name a float type (1, 10, 11 or 16), got %lld", (long long)p);
      return false;
    }
  }
  return true;
}

/* -------------------------------------------------------------- infer */

/* The shape of one Attention instance, from its operands. */
typedef struct AttShape {
  bool is3d;
  int64_t B, Hq, Hkv, Sq, Skv, P, T, D, Dv;
} AttShape;

static bool att_dims_error(IrModule *m, const IrOp *op, int i, const char *what,
                           const char *want) {
  char buf[128];
  diag_at(DIAG_ERROR, &op->loc, "Attention: input %s has type %s; expected %s",
          what, ir_type_str(m, &op->operands[i]->type, buf, sizeof buf), want);
  return false;
}

/* The keys' length past + kv_sequence (P static or a run-time dim's code):
 * a sum sym when either is one (present_key's dim 2); -1 when too long a sum. */
static int64_t att_total(IrModule *m, int64_t P, int64_t Skv) {
  return LW_DIM_IS_DYN(P) || LW_DIM_IS_DYN(Skv) ? dd_dim_sum(m, 2, (int64_t[]){P, Skv})
                                              : P + Skv;
}

/* iv + off, off a static size or a run-time dim's code (the cache's length). */
static IrValue *att_plus(LwCtx *c, IrValue *iv, int64_t off) {
  return LW_DIM_IS_DYN(off) ? nn_iadd(c, iv, lw_dim_index(c, off)) : nn_lin(c, iv, 1, off);
}

static bool att_heads_attr(const IrOp *op, const char *name, int64_t *out) {
  *out = ir_attr_int(op, name, 0);
  if (*out >= 1) return true;
  diag_at(DIAG_ERROR, &op->loc, "Attention: 3-D inputs need attribute '%s' >= 1%s",
          name, ir_attr_get(op, name) ? "" : " (it is absent)");
  return false;
}

/* Operand i is [B, Hkv, P, d]. */
static bool att_check_past(IrModule *m, const IrOp *op, int i, const char *what,
                           const AttShape *s, int64_t d, int64_t *P) {
  const IrType *t = &op->operands[i]->type;
  if (!nn_check_operand_dyn(op, i, what, NN_FLOAT)) return false;
  if (t->elem != op->operands[ATT_Q]->type.elem || t->rank != 4 ||
      lw_dim(op->operands[i], 0) != s->B || lw_dim(op->operands[i], 1) != s->Hkv ||
      lw_dim(op->operands[i], 3) != d) {
    char want[96];
    snprintf(want, sizeof want, "%s[%lld,%lld,past,%lld]",
             ir_elem_name(op->operands[ATT_Q]->type.elem), (long long)s->B,
             (long long)s->Hkv, (long long)d);
    return att_dims_error(m, op, i, what, want);
  }
  *P = lw_dim(op->operands[i], 2);
  return true;
}

static bool att_check_mask(IrModule *m, const IrOp *op, const AttShape *s) {
  const IrType *t = &op->operands[ATT_MASK]->type;
  if (t->elem != IR_BOOL &&
      !nn_check_operand_dyn(op, ATT_MASK, "attn_mask", NN_FLOAT | NN_INT))
    return false;
  if (t->kind != IR_TYPE_TENSOR) {
    diag_at(DIAG_ERROR, &op->loc, "Attention: input attn_mask must be a tensor");
    return false;
  }
  if (t->elem != IR_BOOL && t->elem != op->operands[ATT_Q]->type.elem) {
    diag_at(DIAG_ERROR, &op->loc, "Attention: attn_mask of type %s is not supported "
            "(a bool mask, or a float mask of Q's type %s)", ir_elem_name(t->elem),
            ir_elem_name(op->operands[ATT_Q]->type.elem));
    return false;
  }
  int64_t full[4] = {s->B, s->Hq, s->Sq, s->T};
  bool ok = t->rank >= 1 && t->rank <= 4;
  for (int k = 0; ok && k < t->rank; k++) {
    int64_t d = lw_dim(op->operands[ATT_MASK], k), want = full[4 - t->rank + k];
    bool dyn = LW_DIM_IS_DYN(d) || LW_DIM_IS_DYN(want);
    /* a shorter last dim reads -inf past its end: static sizes only */
    ok = k == t->rank - 1 && !dyn ? d >= 1 && d <= want : d == 1 || d == want;
  }
  if (ok) return true;
  char want[128];
  snprintf(want, sizeof want, "a shape that broadcasts to [%lld,%lld,%lld,<=%lld]",
           (long long)s->B, (long long)s->Hq, (long long)s->Sq, (long long)s->T);
  return att_dims_error(m, op, ATT_MASK, "attn_mask", want);
}

static bool att_shape(IrModule *m, const IrOp *op, AttShape *s) {
  if (!nn_check_operand_dyn(op, ATT_Q, "Q", NN_FLOAT) ||
      !nn_check_operand_dyn(op, ATT_K, "K", NN_FLOAT) ||
      !nn_check_operand_dyn(op, ATT_V, "V", NN_FLOAT))
    return false;
  const IrType *q = &op->operands[ATT_Q]->type, *k = &op->operands[ATT_K]->type,
               *v = &op->operands[ATT_V]->type;
  if ((q->rank != 3 && q->rank != 4) || k->rank != q->rank || v->rank != q->rank) {
    diag_at(DIAG_ERROR, &op->loc, "Attention: Q, K and V must all have rank 3 or all "
            "rank 4 (got %d, %d, %d)", q->rank, k->rank, v->rank);
    return false;
  }
  if (k->elem != q->elem || v->elem != q->elem) {
    diag_at(DIAG_ERROR, &op->loc, "Attention: Q, K and V must have the same element "
            "type (got %s, %s, %s)", ir_elem_name(q->elem), ir_elem_name(k->elem),
            ir_elem_name(v->elem));
    return false;
  }
  /* dims as lw_dim codes: batch and sequence lengths may be run-time ones */
  int64_t qd[4], kd[4], vd[4];
  lw_dims(op->operands[ATT_Q], qd), lw_dims(op->operands[ATT_K], kd);
  lw_dims(op->operands[ATT_V], vd);
  int last = q->rank - 1;
  if (LW_DIM_IS_DYN(qd[last]) || LW_DIM_IS_DYN(kd[last]) || LW_DIM_IS_DYN(vd[last]) ||
      (q->rank == 4 && (LW_DIM_IS_DYN(qd[1]) || LW_DIM_IS_DYN(kd[1])))) {
    diag_at(DIAG_ERROR, &op->loc, "Attention: the head counts and sizes (the last dim "
            "of Q, K and V, and dim 1 of 4-D ones) must be static; only batch and "
            "sequence lengths may be run-time dimensions");
    return false;
  }
  *s = (AttShape){.is3d = q->rank == 3, .B = qd[0]};
  if (s->is3d) {
    if (!att_heads_attr(op, "q_num_heads", &s->Hq) ||
        !att_heads_attr(op, "kv_num_heads", &s->Hkv))
      return false;
    s->Sq = qd[1], s->Skv = kd[1];
    s->D = qd[2] / s->Hq, s->Dv = vd[2] / s->Hkv;
    if (qd[2] % s->Hq || kd[2] != s->Hkv * s->D || vd[2] % s->Hkv || kd[0] != s->B ||
        vd[0] != s->B || vd[1] != s->Skv) {
      char buf[3][96];
      diag_at(DIAG_ERROR, &op->loc, "Attention: 3-D inputs Q %s, K %s, V %s do not "
              "match q_num_heads %lld and kv_num_heads %lld",
              ir_type_str(m, q, buf[0], sizeof buf[0]), ir_type_str(m, k, buf[1], sizeof buf[1]),
              ir_type_str(m, v, buf[2], sizeof buf[2]), (long long)s->Hq, (long long)s->Hkv);
      return false;
    }
  } else {
    s->Hq = qd[1], s->Sq = qd[2], s->D = qd[3];
    s->Hkv = kd[1], s->Skv = kd[2], s->Dv = vd[3];
    if (kd[0] != s->B || kd[3] != s->D || vd[0] != s->B || vd[1] != s->Hkv ||
        vd[2] != s->Skv) {
      char buf[3][96];
      diag_at(DIAG_ERROR, &op->loc, "Attention: 4-D inputs Q %s, K %s, V %s do not "
              "agree on batch, heads, sequence and head sizes",
              ir_type_str(m, q, buf[0], sizeof buf[0]), ir_type_str(m, k, buf[1], sizeof buf[1]),
              ir_type_str(m, v, buf[2], sizeof buf[2]));
      return false;
    }
    const char *names[2] = {"q_num_heads", "kv_num_heads"};
    int64_t have[2] = {s->Hq, s->Hkv};
    for (int i = 0; i < 2; i++)
      if (ir_attr_get(op, names[i]) && ir_attr_int(op, names[i], 0) != have[i]) {
        diag_at(DIAG_ERROR, &op->loc, "Attention: attribute '%s' is %lld but the 4-D "
                "inputs have %lld heads", names[i],
                (long long)ir_attr_int(op, names[i], 0), (long long)have[i]);
        return false;
      }
  }
  if (s->Hkv < 1 || s->Hq % s->Hkv) {
    diag_at(DIAG_ERROR, &op->loc, "Attention: the %lld query heads are not a multiple "
            "of the %lld key/value heads", (long long)s->Hq, (long long)s->Hkv);
    return false;
  }
  bool pk = att_operand(op, ATT_PAST_K), pv = att_operand(op, ATT_PAST_V);
  if (pk != pv) {
    diag_at(DIAG_ERROR, &op->loc, "Attention: past_key and past_value must be given "
            "together");
    return false;
  }
  if (pk && att_operand(op, ATT_NONPAD)) {
    diag_at(DIAG_ERROR, &op->loc, "Attention: nonpad_kv_seqlen cannot be combined with "
            "past_key/past_value");
    return false;
  }
  int64_t pvlen = 0;
  if (pk && (!att_check_past(m, op, ATT_PAST_K, "past_key", s, s->D, &s->P) ||
             !att_check_past(m, op, ATT_PAST_V, "past_value", s, s->Dv, &pvlen)))
    return false;
  if (pk && pvlen != s->P) {
    diag_at(DIAG_ERROR, &op->loc, "Attention: past_key and past_value have different "
            "sequence lengths (%lld and %lld)", (long long)s->P, (long long)pvlen);
    return false;
  }
  s->T = pk ? att_total(m, s->P, s->Skv) : s->Skv;
  if (s->T == -1) {
    diag_at(DIAG_ERROR, &op->loc, "Attention: past + kv sequence length has more than %d "
            "run-time terms", IR_SYM_MAX_TERMS);
    return false;
  }
  if (att_operand(op, ATT_MASK) && !att_check_mask(m, op, s)) return false;
  if (att_operand(op, ATT_NONPAD)) {
    const IrType *t = &op->operands[ATT_NONPAD]->type;
    if (!nn_check_operand_dyn(op, ATT_NONPAD, "nonpad_kv_seqlen", NN_INT)) return false;
    if (t->elem != IR_I64 || t->rank != 1 || lw_dim(op->operands[ATT_NONPAD], 0) != s->B) {
      char want[48];
      snprintf(want, sizeof want, "i64[%lld]", (long long)s->B);
      return att_dims_error(m, op, ATT_NONPAD, "nonpad_kv_seqlen", want);
    }
  }
  return true;
}

bool op_attention_infer(IrModule *m, IrOp *op) {
  AttShape s;
  if (!att_shape(m, op, &s)) return false;
  IrElem e = op->operands[ATT_Q]->type.elem;
  if (!ir_attr_get(op, "scale"))
    ir_attr_set_float(m, op, "scale", 1.0 / sqrt((double)s.D));
  int64_t y4[4] = {s.B, s.Hq, s.Sq, s.Dv}, y3[3] = {s.B, s.Sq, s.Hq * s.Dv};
  int64_t pk[4] = {s.B, s.Hkv, s.T, s.D}, pv[4] = {s.B, s.Hkv, s.T, s.Dv};
  int64_t qk[4] = {s.B, s.Hq, s.Sq, s.T};
  op->results[0]->type = s.is3d ? lw_type(IR_TYPE_TENSOR, e, 3, y3)
                                 : lw_type(IR_TYPE_TENSOR, e, 4, y4);
  if (op->num_results > 1) op->results[1]->type = lw_type(IR_TYPE_TENSOR, e, 4, pk);
  if (op->num_results > 2) op->results[2]->type = lw_type(IR_TYPE_TENSOR, e, 4, pv);
  if (op->num_results > 3) op->results[3]->type = lw_type(IR_TYPE_TENSOR, e, 4, qk);
  return true;
}

/* -------------------------------------------------------------- lower */

typedef struct AttCtx {
  AttShape s;
  IrElem ce;                 /* the computation's element type */
  IrValue *Q, *K, *V, *Y;    /* 4-D: [B, H, S, D] or views [B, S, H, D] */
  bool kv_bshd;              /* K and V are [B, S, H, D] views (3-D, no cache) */
  IrValue *mask, *nonpad, *qk;
  /* the scores/probabilities of the row at row[row_off + j]; with the
   * kernel, row holds every query row of the head ([Sq, T]) and the
   * scaled products are already there */
  IrValue *row, *row_off;
  bool kernel;
  int mode;
  bool causal;
  double scale, softcap;
  /* the current row */
  IrValue *b, *hk, *h, *i;
} AttCtx;

/* Element [b, head, seq, d] of a 4-D tensor stored [B, H, S, D] or [B, S, H, D]. */
static IrValue *att_load(LwCtx *c, IrValue *buf, bool bshd, IrValue *b,
                         IrValue *head, IrValue *seq, IrValue *d) {
  IrValue *idx[4] = {b, bshd ? seq : head, bshd ? head : seq, d};
  return nn_load(c, buf, idx);
}

/* A loop 0..n carrying nv values (replaced by the results on return via end). */
static IrOp *att_for(LwCtx *c, int64_t n, int nv, IrValue **vals, IrValue **iv) {
  IrValue *body[4];
  IrOp *loop = lw_for_begin_iter(c, lw_index(c, 0), lw_dim_index(c, n), 1, nv, vals, iv,
                                 body);
  for (int k = 0; k < nv; k++) vals[k] = body[k];
  return loop;
}

static void att_for_end(LwCtx *c, IrOp *loop, int nv, IrValue **vals) {
  lw_for_end_iter(c, loop, nv, vals);
  for (int k = 0; k < nv; k++) vals[k] = loop->results[k];
}

/* The additive bias at key j of the current row (NULL: none at all). */
static IrValue *att_bias(LwCtx *c, const AttCtx *a, IrValue *j) {
  IrValue *ninf = nn_lowest(c, a->ce), *zero = lw_const_f(c, a->ce, 0), *bias = NULL;
  if (a->mask) {
    int r = lw_rank(a->mask);
    int64_t last = lw_dim(a->mask, r - 1);
    IrValue *full[4] = {a->b, a->h, a->i, j}, *idx[4];
    for (int k = 0; k < r; k++) {
      idx[k] = lw_dim(a->mask, k) == 1 ? lw_index(c, 0) : full[4 - r + k];
      if (k == r - 1 && last != a->s.T)  /* keys past the mask's end read -inf */
        idx[k] = lw_bin(c, IR_OP_A_MIN, j, lw_index(c, last - 1));
    }
    IrValue *mv = lw_load(c, a->mask, idx);
    bias = lw_elem(a->mask) == IR_BOOL ? lw_select(c, mv, zero, ninf) : lw_cast(c, mv, a->ce);
    if (last != a->s.T)  /* (infer allows a different last dim when static) */
      bias = lw_select(c, lw_cmp(c, "lt", j, lw_index(c, last)), bias, ninf);
  }
  IrValue *nonpad = a->nonpad ? lw_cast(c, lw_load(c, a->nonpad, &a->b), IR_INDEX) : NULL;
  if (a->causal) {
    /* j <= i + offset; offset = P, or nonpad[b] - Sq for an external cache */
    IrValue *limit = a->nonpad ? lw_bin(c, IR_OP_A_SUB, nn_iadd(c, a->i, nonpad),
                                        lw_dim_index(c, a->s.Sq))
                               : att_plus(c, a->i, a->s.P);
    bias = lw_select(c, lw_cmp(c, "le", j, limit), bias ? bias : zero, ninf);
  }
  if (nonpad) bias = lw_select(c, lw_cmp(c, "lt", j, nonpad), bias ? bias : zero, ninf);
  return bias;
}

/* Pass 1: scores (+ bias) of the row into a->row; returns the max score and
 * sets *bias_max (NULL when there is no bias). */
static IrValue *att_scores(LwCtx *c, const AttCtx *a, IrValue **bias_max) {
  bool has_bias = a->mask || a->causal || a->nonpad;
  IrValue *v[2] = {nn_lowest(c, a->ce), nn_lowest(c, a->ce)}, *j, *d, *s;
  IrOp *lj = att_for(c, a->s.T, has_bias ? 2 : 1, v, &j);
  IrValue *rj = nn_iadd(c, a->row_off, j);
  if (a->kernel) {
    s = lw_load(c, a->row, &rj);
  } else {
    IrValue *acc = lw_const_f(c, a->ce, 0);
    IrOp *ld = att_for(c, a->s.D, 1, &acc, &d);
    IrValue *q = att_load(c, a->Q, a->s.is3d, a->b, a->h, a->i, d);
    IrValue *k = att_load(c, a->K, a->kv_bshd, a->b, a->hk, j, d);
    acc = lw_fma(c, q, k, acc);
    att_for_end(c, ld, 1, &acc);
    s = lw_bin(c, IR_OP_A_MUL, acc, lw_const_f(c, a->ce, a->scale));
  }
  if (a->softcap > 0) {
    IrValue *cap = lw_const_f(c, a->ce, a->softcap);
    s = lw_bin(c, IR_OP_A_MUL, cap, lw_un(c, IR_OP_M_TANH, lw_bin(c, IR_OP_A_DIV, s, cap)));
  }
  IrValue *bias = att_bias(c, a, j), *x = bias ? lw_bin(c, IR_OP_A_ADD, s, bias) : s;
  IrValue *qidx[4] = {a->b, a->h, a->i, j};
  if (a->qk && a->mode < 3) nn_store(c, a->mode == 2 ? x : s, a->qk, qidx);
  lw_store(c, x, a->row, &rj);
  IrValue *next[2] = {lw_select(c, lw_cmp(c, "gt", x, v[0]), x, v[0]), NULL};
  if (bias) next[1] = lw_select(c, lw_cmp(c, "gt", bias, v[1]), bias, v[1]);
  lw_for_end_iter(c, lj, has_bias ? 2 : 1, next);
  *bias_max = has_bias ? lj->results[1] : NULL;
  return lj->results[0];
}

static void att_row(LwCtx *c, const AttCtx *a) {
  IrValue *bias_max, *xmax = att_scores(c, a, &bias_max), *j;
  IrValue *ninf = nn_lowest(c, a->ce), *zero = lw_const_f(c, a->ce, 0),
          *one = lw_const_f(c, a->ce, 1);
  /* an all -inf row: exp(x - 0) = 0 everywhere instead of NaN */
  IrValue *safe = lw_select(c, lw_cmp(c, "eq", xmax, ninf), zero, xmax);
  IrValue *sum = zero;
  IrOp *l = att_for(c, a->s.T, 1, &sum, &j);
  IrValue *rj = nn_iadd(c, a->row_off, j);
  IrValue *e = lw_un(c, IR_OP_M_EXP, lw_bin(c, IR_OP_A_SUB, lw_load(c, a->row, &rj), safe));
  lw_store(c, e, a->row, &rj);
  sum = lw_bin(c, IR_OP_A_ADD, sum, e);
  att_for_end(c, l, 1, &sum);
  IrValue *inv = lw_bin(c, IR_OP_A_DIV, one,
                        lw_select(c, lw_cmp(c, "eq", sum, zero), one, sum));
  IrValue *masked = bias_max ? lw_cmp(c, "eq", bias_max, ninf) : NULL;
  l = lw_for_begin(c, lw_index(c, 0), lw_dim_index(c, a->s.T), 1, &j);
  rj = nn_iadd(c, a->row_off, j);
  IrValue *p = lw_bin(c, IR_OP_A_MUL, lw_load(c, a->row, &rj), inv);
  if (masked) p = lw_select(c, masked, zero, p);  /* the fully-masked-row guard */
  lw_store(c, p, a->row, &rj);
  if (a->qk && a->mode == 3) nn_store(c, p, a->qk, (IrValue *[]){a->b, a->h, a->i, j});
  lw_for_end(c, l);
  if (a->kernel) return;  /* P x V is one product per head (att_head_kernel) */
  IrValue *dv;
  l = lw_for_begin(c, lw_index(c, 0), lw_dim_index(c, a->s.Dv), 1, &dv);
  IrValue *acc = zero;
  IrOp *lk = att_for(c, a->s.T, 1, &acc, &j);
  IrValue *v = att_load(c, a->V, a->kv_bshd, a->b, a->hk, j, dv);
  acc = lw_fma(c, lw_load(c, a->row, &j), v, acc);
  att_for_end(c, lk, 1, &acc);
  IrValue *yidx[4] = {a->b, a->s.is3d ? a->i : a->h, a->s.is3d ? a->h : a->i, dv};
  nn_store(c, acc, a->Y, yidx);
  lw_for_end(c, l);
}

/* ------------------------------------------------ the matmul-kernel path */

/* With the packed GEMM kernel (f32, a target): per (b, h) the scores
 * S = Q K^T into a [Sq, T] scratch (K^T packed per KV head, so the kernel
 * reads contiguous columns), the row passes above on S, then Y = P V. */
typedef struct AttGemm {
  IrValue *A, *B, *a_base, *b_base;
  int64_t a_rs, b_ks;
  double scale;
} AttGemm;

static void att_a_tile(LwCtx *c, void *user, IrValue *i0, int rows, IrValue *k0,
                       GkOperand *a) {
  (void)rows;
  AttGemm *g = user;
  a->buf = g->A;
  a->base = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, g->a_base, i0, g->a_rs), k0);
  a->rs = g->a_rs, a->ks = 1;
}

static void att_b_strip(LwCtx *c, void *user, IrValue *jb, IrValue *j0, int64_t w,
                        IrValue *k0, IrValue *task, GkOperand *b) {
  (void)jb, (void)w, (void)task;
  AttGemm *g = user;
  b->buf = g->B;
  b->base = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, g->b_base, k0, g->b_ks), j0);
  b->rs = 1, b->ks = g->b_ks;
}

static IrValue *att_scale_epilogue(LwCtx *c, void *user, IrValue *i, IrValue *j,
                                   int lanes, IrValue *y) {
  (void)i, (void)j;
  AttGemm *g = user;
  return lw_bin(c, IR_OP_A_MUL, y, lw_splat(c, lw_const_f(c, IR_F32, g->scale), lanes));
}

/* C[M, N] (row stride c_rs, from c_base) = A x B (times scale when != 1). */
static void att_gemm(LwCtx *c, AttGemm *g, int64_t M, int64_t N, int64_t K,
                     IrValue *C, IrValue *c_base, int64_t c_rs) {
  GkGemm gg = {.M = M, .N = N, .K = K, .user = g, .a_tile = att_a_tile,
               .b_strip = att_b_strip, .c_buf = C, .c_base = c_base, .c_rs = c_rs,
               .epilogue = g->scale != 1 ? att_scale_epilogue : NULL};
  sched_gemm(c->target, NULL, M, N, K, SCHED_A_IN_PLACE, 0, &gg.s);
  gg.nc = gg.s.nc;
  gk_emit(c, &gg);
}

static bool att_kernel_fits(const LwCtx *c, const AttCtx *a) {
  return c->target && lw_elem(a->Q) == IR_F32 && a->ce == IR_F32 &&
         ir_type_is_static(&a->Q->type) && ir_type_is_static(&a->K->type) &&
         ir_type_is_static(&a->V->type) && a->s.T >= 4 && a->s.Dv >= 4;
}

/* Element offset of [b, h, 0, 0] in a flat [B, H, S, D] or [B, S, H, D]
 * buffer, and its row stride. */
static IrValue *att_offset(LwCtx *c, bool bshd, IrValue *b, IrValue *h, int64_t H,
                           int64_t S, int64_t D, int64_t *rs) {
  *rs = bshd ? H * D : D;
  IrValue *bo = nn_imul(c, b, H * S * D);
  return nn_iadd(c, bo, nn_imul(c, h, bshd ? D : S * D));
}

static void att_lower_kernel(LwCtx *c, AttCtx *a) {
  const AttShape *s = &a->s;
  int64_t G = s->Hq / s->Hkv, q_rs, k_rs, v_rs, y_rs;
  IrValue *Qf = gk_flat(c, a->Q), *Kf = gk_flat(c, a->K), *Vf = gk_flat(c, a->V),
          *Yf = gk_flat(c, a->Y);
  IrValue *Kt = lw_alloc(c, IR_F32, 1, (int64_t[]){s->D * s->T});
  a->row = lw_alloc(c, IR_F32, 1, (int64_t[]){s->Sq * s->T});
  lw_note_kernel(c, "attention gemm (B %lld, heads %lld/%lld, %lldx%lld keys)",
                 (long long)s->B, (long long)s->Hq, (long long)s->Hkv, (long long)s->Sq,
                 (long long)s->T);
  LwNest nest;
  IrValue *iv[2], *ivk[2];
  lw_nest_begin(c, &nest, 2, (int64_t[]){s->B, s->Hkv}, iv);
  a->b = iv[0], a->hk = iv[1];
  /* K^T of this KV head: Kt[d * T + j] = K[b, hk, j, d] */
  IrValue *k_off = att_offset(c, a->kv_bshd, a->b, a->hk, s->Hkv, s->T, s->D, &k_rs);
  LwNest tn;
  lw_nest_begin(c, &tn, 2, (int64_t[]){s->T, s->D}, ivk);
  IrValue *src = nn_iadd(c, gk_axpy(c, k_off, ivk[0], k_rs), ivk[1]);
  IrValue *dst = nn_iadd(c, nn_imul(c, ivk[1], s->T), ivk[0]);
  lw_store(c, lw_load(c, Kf, &src), Kt, &dst);
  lw_nest_end(c, &tn);
  IrValue *v_off = att_offset(c, a->kv_bshd, a->b, a->hk, s->Hkv, s->T, s->Dv, &v_rs);
  IrValue *g;
  IrOp *lg = lw_for_begin(c, lw_index(c, 0), lw_index(c, G), 1, &g);
  a->h = nn_iadd(c, nn_imul(c, a->hk, G), g);
  IrValue *q_off = att_offset(c, s->is3d, a->b, a->h, s->Hq, s->Sq, s->D, &q_rs);
  IrValue *y_off = att_offset(c, s->is3d, a->b, a->h, s->Hq, s->Sq, s->Dv, &y_rs);
  AttGemm qk = {.A = Qf, .B = Kt, .a_base = q_off, .b_base = lw_index(c, 0),
                .a_rs = q_rs, .b_ks = s->T, .scale = a->scale};
  att_gemm(c, &qk, s->Sq, s->T, s->D, a->row, lw_index(c, 0), s->T);
  IrValue *i;
  IrOp *li = lw_for_begin(c, lw_index(c, 0), lw_index(c, s->Sq), 1, &i);
  a->i = i, a->row_off = nn_imul(c, i, s->T);
  att_row(c, a);
  lw_for_end(c, li);
  AttGemm pv = {.A = a->row, .B = Vf, .a_base = lw_index(c, 0), .b_base = v_off,
                .a_rs = s->T, .b_ks = v_rs, .scale = 1};
  att_gemm(c, &pv, s->Sq, s->Dv, s->T, Yf, y_off, y_rs);
  lw_for_end(c, lg);
  lw_nest_end(c, &nest);
}

/* dst[b, h, off + t, d] = src[b, h, t, d] (src [B, S, H, D] when bshd). */
static void att_copy_seq(LwCtx *c, IrValue *src, bool bshd, IrValue *dst, int64_t off,
                         int64_t B, int64_t H, int64_t S, int64_t D) {
  LwNest nest;
  IrValue *iv[4];
  lw_nest_begin(c, &nest, 4, (int64_t[]){B, H, S, D}, iv);
  IrValue *x = lw_load(c, src, bshd ? (IrValue *[]){iv[0], iv[2], iv[1], iv[3]} : iv);
  lw_store(c, x, dst, (IrValue *[]){iv[0], iv[1], att_plus(c, iv[2], off), iv[3]});
  lw_nest_end(c, &nest);
}

/* The 4-D [B, S, H, D] view of a 3-D [B, S, H*D] operand (B and S may be
 * run-time dims). */
static IrValue *att_view_bshd(LwCtx *c, IrValue *buf, int64_t H) {
  int64_t d[3];
  lw_dims(buf, d);
  IrType t = lw_type(IR_TYPE_BUFFER, lw_elem(buf), 4, (int64_t[]){d[0], d[1], H, d[2] / H});
  return ir_build1(&c->b, IR_OP_VIEW, 1, &buf, t);
}

/* The shape from the operand buffers (infer checked it). */
static void att_shape_lower(LwCtx *c, const IrOp *op, AttShape *s) {
  IrValue *Q = c->in[ATT_Q], *K = c->in[ATT_K], *V = c->in[ATT_V];
  *s = (AttShape){.is3d = lw_rank(Q) == 3, .B = lw_dim(Q, 0)};
  if (s->is3d) {
    s->Hq = ir_attr_int(op, "q_num_heads", 1), s->Hkv = ir_attr_int(op, "kv_num_heads", 1);
    s->Sq = lw_dim(Q, 1), s->Skv = lw_dim(K, 1);
    s->D = lw_dim(Q, 2) / s->Hq, s->Dv = lw_dim(V, 2) / s->Hkv;
  } else {
    s->Hq = lw_dim(Q, 1), s->Sq = lw_dim(Q, 2), s->D = lw_dim(Q, 3);
    s->Hkv = lw_dim(K, 1), s->Skv = lw_dim(K, 2), s->Dv = lw_dim(V, 3);
  }
  bool past = op->num_operands > ATT_PAST_K && c->in[ATT_PAST_K];
  if (past) s->P = lw_dim(c->in[ATT_PAST_K], 2);
  s->T = past ? att_total(c->m, s->P, s->Skv) : s->Skv;
}

bool op_attention_lower(LwCtx *c, IrOp *op) {
  AttCtx a = {.mode = (int)ir_attr_int(op, "qk_matmul_output_mode", 0),
              .causal = ir_attr_int(op, "is_causal", 0) != 0,
              .scale = ir_attr_float(op, "scale", 1.0),
              .softcap = ir_attr_float(op, "softcap", 0.0)};
  att_shape_lower(c, op, &a.s);
  const AttShape *s = &a.s;
  IrElem e = lw_elem(c->in[ATT_Q]);
  a.ce = nn_calc_elem(e);
  if (ir_attr_get(op, "softmax_precision") &&
      ir_elem_from_onnx((int)ir_attr_int(op, "softmax_precision", 1)) == IR_F64)
    a.ce = IR_F64;
  a.Q = s->is3d ? att_view_bshd(c, c->in[ATT_Q], s->Hq) : c->in[ATT_Q];
  a.Y = s->is3d ? att_view_bshd(c, c->out[0], s->Hq) : c->out[0];
  IrValue *K = s->is3d ? att_view_bshd(c, c->in[ATT_K], s->Hkv) : c->in[ATT_K];
  IrValue *V = s->is3d ? att_view_bshd(c, c->in[ATT_V], s->Hkv) : c->in[ATT_V];
  IrValue *pk_out = op->num_results > 1 ? c->out[1] : NULL;
  IrValue *pv_out = op->num_results > 2 ? c->out[2] : NULL;
  bool past = op->num_operands > ATT_PAST_K && c->in[ATT_PAST_K];
  if (past) {  /* the keys are the cache with K appended: build it first */
    a.K = pk_out ? pk_out : lw_alloc(c, e, 4, (int64_t[]){s->B, s->Hkv, s->T, s->D});
    a.V = pv_out ? pv_out : lw_alloc(c, e, 4, (int64_t[]){s->B, s->Hkv, s->T, s->Dv});
    att_copy_seq(c, c->in[ATT_PAST_K], false, a.K, 0, s->B, s->Hkv, s->P, s->D);
    att_copy_seq(c, c->in[ATT_PAST_V], false, a.V, 0, s->B, s->Hkv, s->P, s->Dv);
    att_copy_seq(c, K, s->is3d, a.K, s->P, s->B, s->Hkv, s->Skv, s->D);
    att_copy_seq(c, V, s->is3d, a.V, s->P, s->B, s->Hkv, s->Skv, s->Dv);
  } else {
    a.K = K, a.V = V, a.kv_bshd = s->is3d;
    if (pk_out) att_copy_seq(c, K, s->is3d, pk_out, 0, s->B, s->Hkv, s->Skv, s->D);
    if (pv_out) att_copy_seq(c, V, s->is3d, pv_out, 0, s->B, s->Hkv, s->Skv, s->Dv);
  }
  a.mask = op->num_operands > ATT_MASK ? c->in[ATT_MASK] : NULL;
  a.nonpad = op->num_operands > ATT_NONPAD ? c->in[ATT_NONPAD] : NULL;
  a.qk = op->num_results > 3 ? c->out[3] : NULL;
  if (att_kernel_fits(c, &a)) {
    a.kernel = true;
    att_lower_kernel(c, &a);
    return true;
  }
  a.row = lw_alloc(c, a.ce, 1, &s->T);
  a.row_off = lw_index(c, 0);
  lw_note_kernel(c, "attention rows (heads %lld/%lld)", (long long)s->Hq,
                 (long long)s->Hkv);
  int64_t G = s->Hq / s->Hkv;
  LwNest nest;
  IrValue *iv[4];
  lw_nest_begin(c, &nest, 4, (int64_t[]){s->B, s->Hkv, G, s->Sq}, iv);
  a.b = iv[0], a.hk = iv[1], a.h = nn_iadd(c, nn_imul(c, iv[1], G), iv[2]), a.i = iv[3];
  att_row(c, &a);
  lw_nest_end(c, &nest);
  return true;
}
