/*
 * rotary.c — RotaryEmbedding (RoPE, opset 23).
 *
 * X is [B, H, S, D] or [B, S, H*D] (then num_heads gives H).  The first
 * rd = rotary_embedding_dim (0: D) elements of each head are rotated in
 * rd/2 pairs (x1, x2): the halves (x[i], x[i + rd/2]) or, interleaved,
 * (x[2i], x[2i+1]), by the angle of the token's position:
 *   y1 = cos * x1 - sin * x2,   y2 = sin * x1 + cos * x2
 * with cos/sin = cache[position_ids[b, s], i] ([P, rd/2] caches) or, without
 * position_ids, cache[b, s, i] ([B, S, rd/2] caches).  The rest of the head
 * is copied.  position_ids and 3-D caches may have 1 for B or S (numpy
 * broadcasting, as the reference's indexing gives).  A position outside
 * [0, P) stops the run (TCC_ERR_INDEX_OUT_OF_RANGE).
 *
 * Run-time dims (OPF_DYN): B, S (and H of a 4-D X) may be run-time dims,
 * loop bounds from dim.get; D (the hidden size of a 3-D X) is static.
 */
#include "nn_util.h"

bool op_rotary_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  int64_t il, rd, nh;
  if (!nn_attr_int_canon(m, op, "interleaved", 0, &il) ||
      !nn_attr_int_canon(m, op, "rotary_embedding_dim", 0, &rd) ||
      !nn_attr_int_canon(m, op, "num_heads", 0, &nh))
    return false;
  if (il != 0 && il != 1) {
    diag_at(DIAG_ERROR, &op->loc, "RotaryEmbedding: attribute 'interleaved' must "
            "be 0 or 1, got %lld", (long long)il);
    return false;
  }
  if (rd < 0 || nh < 0) {
    diag_at(DIAG_ERROR, &op->loc, "RotaryEmbedding: attribute '%s' must be >= 0, "
            "got %lld", rd < 0 ? "rotary_embedding_dim" : "num_heads",
            (long long)(rd < 0 ? rd : nh));
    return false;
  }
  return true;
}

/* The shape facts every hook needs. */
typedef struct Rope {
  int64_t B, H, S, D; /* lw_dim codes (D static) */
  int64_t rd;         /* rotated elements per head */
  bool three_d;
} Rope;

static void rope_dim_str(const IrModule *m, int64_t d, char *buf, size_t size) {
  if (LW_DIM_IS_DYN(d))
    snprintf(buf, size, "%s", m->syms[-2 - d].name);
  else
    snprintf(buf, size, "%lld", (long long)d);
}

/* X's layout; false after a diagnostic. */
static bool rope_shape(const IrModule *m, const IrOp *op, Rope *r) {
  int64_t x[IR_MAX_RANK];
  int rank = lw_dims(op->operands[0], x);
  int64_t nh = ir_attr_int(op, "num_heads", 0);
  if (rank != 3 && rank != 4) {
    diag_at(DIAG_ERROR, &op->loc, "RotaryEmbedding: input X must have rank 3 "
            "[batch, seq, hidden] or 4 [batch, heads, seq, head_size], got rank %d",
            rank);
    return false;
  }
  r->three_d = rank == 3;
  r->B = x[0];
  int64_t last = x[rank - 1];
  if (LW_DIM_IS_DYN(last)) {
    diag_at(DIAG_ERROR, &op->loc, "RotaryEmbedding: the last dim of X is the "
            "run-time dimension '%s', which this op does not support; give it one "
            "size with -dim=%s=VALUE", m->syms[-2 - last].name, m->syms[-2 - last].name);
    return false;
  }
  if (r->three_d) {
    if (nh <= 0 || last % nh != 0) {
      diag_at(DIAG_ERROR, &op->loc, "RotaryEmbedding: a 3-D input X needs the "
              "attribute 'num_heads' dividing its hidden size %lld (num_heads %lld)",
              (long long)last, (long long)nh);
      return false;
    }
    r->S = x[1], r->H = nh, r->D = last / nh;
  } else {
    r->H = x[1], r->S = x[2], r->D = last;
    if (nh && !LW_DIM_IS_DYN(r->H) && nh != r->H) {
      diag_at(DIAG_ERROR, &op->loc, "RotaryEmbedding: attribute 'num_heads' (%lld) "
              "differs from dim 1 of X (%lld)", (long long)nh, (long long)r->H);
      return false;
    }
  }
  int64_t rd = ir_attr_int(op, "rotary_embedding_dim", 0);
  r->rd = rd ? rd : r->D;
  if (r->rd > r->D || r->rd % 2) {
    diag_at(DIAG_ERROR, &op->loc, "RotaryEmbedding: the rotated size %lld must be "
            "even and at most the head size %lld", (long long)r->rd, (long long)r->D);
    return false;
  }
  return true;
}

/* Dim k of operand i is `want` (a code) or a static 1. */
static bool rope_dim_ok(const IrModule *m, const IrOp *op, int i, const char *what,
                        int k, int64_t want, const char *want_name) {
  int64_t d = lw_dim(op->operands[i], k);
  if (d == want || d == 1) return true;
  char sd[64], sw[64];
  rope_dim_str(m, d, sd, sizeof sd), rope_dim_str(m, want, sw, sizeof sw);
  diag_at(DIAG_ERROR, &op->loc, "RotaryEmbedding: dim %d of input %s is %s; "
          "expected the %s of X (%s) or 1", k, what, sd, want_name, sw);
  return false;
}

/* A cache [P, rd/2] (with position_ids) or [B, S, rd/2]. */
static bool rope_check_cache(IrModule *m, const IrOp *op, int i, const char *what,
                             const Rope *r, bool pos) {
  if (!nn_check_operand_dyn(op, i, what, NN_FLOAT)) return false;
  const IrType *t = &op->operands[i]->type;
  char buf[128];
  int want_rank = pos ? 2 : 3;
  if (t->elem != op->operands[0]->type.elem || t->rank != want_rank ||
      lw_dim(op->operands[i], want_rank - 1) != r->rd / 2) {
    diag_at(DIAG_ERROR, &op->loc, "RotaryEmbedding: input %s has type %s; expected "
            "%s[%s%lld] (the rotated size %lld halved)", what,
            ir_type_str(m, t, buf, sizeof buf), ir_elem_name(op->operands[0]->type.elem),
            pos ? "max_position, " : "batch, seq, ", (long long)(r->rd / 2),
            (long long)r->rd);
    return false;
  }
  return pos || (rope_dim_ok(m, op, i, what, 0, r->B, "batch size") &&
                 rope_dim_ok(m, op, i, what, 1, r->S, "sequence length"));
}

bool op_rotary_infer(IrModule *m, IrOp *op) {
  Rope r;
  if (!nn_check_operand_dyn(op, 0, "X", NN_FLOAT) || !rope_shape(m, op, &r))
    return false;
  IrValue *pid = op->num_operands > 3 ? op->operands[3] : NULL;
  if (pid) {
    char buf[128];
    if (!nn_check_operand_dyn(op, 3, "position_ids", NN_INT)) return false;
    if (pid->type.elem != IR_I64 || pid->type.rank != 2) {
      diag_at(DIAG_ERROR, &op->loc, "RotaryEmbedding: input position_ids has type "
              "%s; expected i64[batch, seq]", ir_type_str(m, &pid->type, buf, sizeof buf));
      return false;
    }
    if (!rope_dim_ok(m, op, 3, "position_ids", 0, r.B, "batch size") ||
        !rope_dim_ok(m, op, 3, "position_ids", 1, r.S, "sequence length"))
      return false;
  }
  if (!rope_check_cache(m, op, 1, "cos_cache", &r, pid) ||
      !rope_check_cache(m, op, 2, "sin_cache", &r, pid))
    return false;
  op->results[0]->type = op->operands[0]->type;
  return true;
}

/* ------------------------------------------------------------ lowering */

/* iv, or index 0 where buf's dim k is a broadcast 1. */
static IrValue *rope_bidx(LwCtx *c, IrValue *buf, int k, IrValue *iv) {
  return lw_dim(buf, k) == 1 ? lw_index(c, 0) : iv;
}

bool op_rotary_lower(LwCtx *c, IrOp *op) {
  Rope r;
  if (!rope_shape(c->m, op, &r)) return false;
  IrValue *X = c->in[0], *Y = c->out[0], *cosb = c->in[1], *sinb = c->in[2];
  IrValue *pid = op->num_operands > 3 ? c->in[3] : NULL;
  bool il = ir_attr_int(op, "interleaved", 0) != 0;
  int64_t half = r.rd / 2;
  if (pid) {
    int64_t P = lw_dim(cosb, 0);
    lw_check_indices(c, pid, 1, &P, false, NULL);
  }
  /* outer loops in X's order: [B, H, S] or [B, S, H] */
  int64_t od[3] = {r.B, r.three_d ? r.S : r.H, r.three_d ? r.H : r.S};
  IrValue *ivs[3], *idx[IR_MAX_RANK];
  LwNest nest;
  lw_nest_begin(c, &nest, 3, od, ivs);
  IrValue *b = ivs[0], *s = ivs[r.three_d ? 1 : 2], *h = ivs[r.three_d ? 2 : 1];
  /* the cache row: [pos, .] or [b, s, .] */
  IrValue *ci[3];
  int nc = 0;
  if (pid) {
    IrValue *pi[2] = {rope_bidx(c, pid, 0, b), rope_bidx(c, pid, 1, s)};
    ci[nc++] = lw_cast(c, lw_load(c, pid, pi), IR_INDEX);
  } else {
    ci[nc++] = rope_bidx(c, cosb, 0, b);
    ci[nc++] = rope_bidx(c, cosb, 1, s);
  }
  /* X's index of head element d: [b, h, s, d] or [b, s, h*D + d] */
  IrValue *head = r.three_d ? nn_imul(c, h, r.D) : NULL;
  int last = r.three_d ? 2 : 3;
  idx[0] = b;
  if (r.three_d) idx[1] = s;
  else idx[1] = h, idx[2] = s;

  IrValue *i;
  IrOp *loop = lw_for_begin(c, lw_index(c, 0), lw_index(c, half), 1, &i);
  ci[nc] = i;
  IrValue *co = nn_load(c, cosb, ci), *si = nn_load(c, sinb, ci);
  IrValue *j1 = il ? nn_imul(c, i, 2) : i;
  IrValue *j2 = il ? nn_lin(c, j1, 1, 1) : nn_lin(c, i, 1, half);
  if (head) j1 = nn_iadd(c, head, j1), j2 = nn_iadd(c, head, j2);
  IrValue *i2[IR_MAX_RANK];
  for (int k = 0; k < last; k++) i2[k] = idx[k];
  idx[last] = j1, i2[last] = j2;
  IrValue *x1 = nn_load(c, X, idx), *x2 = nn_load(c, X, i2);
  IrValue *y1 = lw_bin(c, IR_OP_A_SUB, lw_bin(c, IR_OP_A_MUL, co, x1),
                       lw_bin(c, IR_OP_A_MUL, si, x2));
  IrValue *y2 = lw_bin(c, IR_OP_A_ADD, lw_bin(c, IR_OP_A_MUL, si, x1),
                       lw_bin(c, IR_OP_A_MUL, co, x2));
  nn_store(c, y1, Y, idx);
  nn_store(c, y2, Y, i2);
  lw_for_end(c, loop);

  if (r.rd < r.D) { /* the unrotated rest of the head */
    IrValue *d;
    loop = lw_for_begin(c, lw_index(c, r.rd), lw_index(c, r.D), 1, &d);
    idx[last] = head ? nn_iadd(c, head, d) : d;
    lw_store(c, lw_load(c, X, idx), Y, idx);
    lw_for_end(c, loop);
  }
  lw_nest_end(c, &nest);
  return true;
}
