/*
 * rnn.c — RNN, GRU and LSTM (forward, reverse, bidirectional; layout 0/1;
 * optional bias, sequence_lens, initial states and peepholes).
 *
 * Gates per direction (ONNX order): RNN one (Ht = f(Xt W' + Ht-1 R' + b)),
 * GRU z r h, LSTM i o f c.  The canonical form has hidden_size, direction,
 * layout, clip (0 = none) and one activation name per function and
 * direction explicit (`activations`, with their alpha/beta).
 *
 * The lowering emits each direction's time loop separately.  Per step s
 * and batch row b: the row's time index t (reverse: len_b - 1 - s) and
 * valid = s < len_b (len_b = sequence_lens[b], else T); then two scratch
 * rows XW[b] = Xt W' + Wb and HR[b] = H R' + Rb hold every gate's
 * pre-activation, and an elementwise pass over the hidden units updates H
 * (and C) in scratch state buffers, only where valid.  GRU's default h gate
 * needs (r * H) R_h, so its r gate is applied first into a scratch row.  Y
 * gets the new H at t (zeros at invalid steps); Y_h / Y_c get the final
 * state.  Everything computes in f32 for f16/bf16.  With a target, f32,
 * static sizes and W, R weights, the products go through the packed GEMM
 * kernel instead (ir/ops/gemm_kernel.h): XW for every step at once before
 * the time loop, HR once per step for all rows; GRU's default h gate keeps
 * the plain loops for HR.
 *
 * Run-time dims (OPF_DYN): the sequence and batch axes of X may be run-time
 * dims (hidden and input sizes stay static).  They are carried as lw_dim
 * codes: the time and batch loops run to dim.get of the sym, Y's sequence
 * axis is X's sym, and the scratch rows are allocated at the batch bound.
 */
#include <string.h>

#include "gemm_kernel.h"
#include "nn_util.h"

enum { RNN_MAX_ACT = 3 };

static int rnn_gates(const IrOp *op) {
  return op->kind == IR_OP_LSTM ? 4 : op->kind == IR_OP_GRU ? 3 : 1;
}

static int rnn_nact(const IrOp *op) {
  return op->kind == IR_OP_LSTM ? 3 : op->kind == IR_OP_GRU ? 2 : 1;
}

static const char *const rnn_act_names[] = {"Sigmoid", "Tanh", "Relu", "LeakyRelu",
                                            "HardSigmoid", "Affine", NULL};

static int rnn_act_kind(const char *s) {
  for (int i = 0; rnn_act_names[i]; i++)
    if (!strcmp(s, rnn_act_names[i])) return i;
  return -1;
}

/* ------------------------------------------------------------- import */

static bool rnn_import_acts(IrModule *m, IrOp *op, int dirs) {
  static const char *const dflt[3][3] = {
      {"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};
  int na = rnn_nact(op);
  const IrAttr *a = ir_attr_get(op, "activations");
  const char *names[2 * RNN_MAX_ACT];
  if (a && (a->kind != IR_ATTR_STRINGS || a->n != na * dirs)) {
    diag_at(DIAG_ERROR, &op->loc, "%s: attribute 'activations' must list %d "
            "names", nn_name(op), na * dirs);
    return false;
  }
  for (int i = 0; i < na * dirs; i++) {
    names[i] = a ? a->strings[i] : dflt[na - 1][i % na];
    if (rnn_act_kind(names[i]) < 0) {
      diag_at(DIAG_ERROR, &op->loc, "%s: activation '%s' is not supported by tcc",
              nn_name(op), names[i]);
      return false;
    }
  }
  ir_attr_set_strings(m, op, "activations", na * dirs, names);
  return nn_attr_kind(op, "activation_alpha", IR_ATTR_FLOATS) &&
         nn_attr_kind(op, "activation_beta", IR_ATTR_FLOATS);
}

bool op_rnn_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  if (!nn_attr_kind(op, "direction", IR_ATTR_STRING) ||
      !nn_attr_int_canon(m, op, "layout", 0, NULL) ||
      !nn_attr_float_canon(m, op, "clip", 0.0) ||
      !nn_attr_kind(op, "hidden_size", IR_ATTR_INT))
    return false;
  const char *dir = ir_attr_string(op, "direction", "forward");
  if (strcmp(dir, "forward") && strcmp(dir, "reverse") && strcmp(dir, "bidirectional")) {
    diag_at(DIAG_ERROR, &op->loc, "attribute 'direction' has unknown value '%s'", dir);
    return false;
  }
  ir_attr_set_string(m, op, "direction", dir);
  if (op->kind == IR_OP_GRU &&
      !nn_attr_int_canon(m, op, "linear_before_reset", 0, NULL))
    return false;
  if (op->kind == IR_OP_LSTM && ir_attr_int(op, "input_forget", 0) != 0) {
    diag_at(DIAG_ERROR, &op->loc, "LSTM: input_forget=1 is not supported by tcc");
    return false;
  }
  ir_attr_remove(op, "input_forget");
  return rnn_import_acts(m, op, strcmp(dir, "bidirectional") ? 1 : 2);
}

/* -------------------------------------------------------------- infer */

/* Operand i (when present) has exactly the dims want. */
static bool rnn_check(IrModule *m, const IrOp *op, int i, const char *what,
                      int rank, const int64_t *want, IrElem e) {
  if (i >= op->num_operands || !op->operands[i]) return true;
  if (!nn_check_operand_dyn(op, i, what, e == IR_I32 ? NN_INT : NN_FLOAT)) return false;
  const IrType *t = &op->operands[i]->type;
  IrType w = lw_type(IR_TYPE_TENSOR, e == IR_I32 ? t->elem : e, rank, want);
  if (ir_type_equal(t, &w)) return true;
  char a[96], b[96];
  diag_at(DIAG_ERROR, &op->loc, "%s: input %s has type %s; expected %s",
          nn_name(op), what, ir_type_str(m, t, a, sizeof a),
          ir_type_str(m, &w, b, sizeof b));
  return false;
}

bool op_rnn_infer(IrModule *m, IrOp *op) {
  if (!nn_check_operand_dyn(op, 0, "X", NN_FLOAT) ||
      !nn_check_operand(op, 2, "R", NN_FLOAT))
    return false;
  int64_t x[IR_MAX_RANK], rd[IR_MAX_RANK];
  IrElem e = op->operands[0]->type.elem;
  if (op->operands[0]->type.rank != 3 || op->operands[2]->type.rank != 3) {
    diag_at(DIAG_ERROR, &op->loc, "%s: X and R must have rank 3", nn_name(op));
    return false;
  }
  lw_dims(op->operands[0], x); /* T and B may be run-time (lw_dim codes) */
  nn_dims(op->operands[2], rd);
  if (LW_DIM_IS_DYN(x[2])) {
    const char *sym = m->syms[-2 - x[2]].name;
    diag_at(DIAG_ERROR, &op->loc, "%s: the input size (dim 2 of X) is the run-time "
            "dimension '%s', which this op does not support; give it one size "
            "with -dim=%s=VALUE", nn_name(op), sym, sym);
    return false;
  }
  bool bw = ir_attr_int(op, "layout", 0) != 0;
  int64_t D = strcmp(ir_attr_string(op, "direction", ""), "bidirectional") ? 1 : 2;
  int64_t H = ir_attr_int(op, "hidden_size", rd[2]), G = rnn_gates(op);
  int64_t T = bw ? x[1] : x[0], B = bw ? x[0] : x[1], I = x[2];
  int64_t hs[3] = {bw ? B : D, bw ? D : B, H};
  if (!rnn_check(m, op, 1, "W", 3, (int64_t[]){D, G * H, I}, e) ||
      !rnn_check(m, op, 2, "R", 3, (int64_t[]){D, G * H, H}, e) ||
      !rnn_check(m, op, 3, "B", 2, (int64_t[]){D, 2 * G * H}, e) ||
      !rnn_check(m, op, 4, "sequence_lens", 1, &B, IR_I32) ||
      !rnn_check(m, op, 5, "initial_h", 3, hs, e) ||
      !rnn_check(m, op, 6, "initial_c", 3, hs, e) ||
      !rnn_check(m, op, 7, "P", 2, (int64_t[]){D, 3 * H}, e))
    return false;
  ir_attr_set_int(m, op, "hidden_size", H);
  int64_t y[4] = {T, D, B, H};
  if (bw) y[0] = B, y[1] = T, y[2] = D;
  if (op->num_results > 0) op->results[0]->type = lw_type(IR_TYPE_TENSOR, e, 4, y);
  for (int i = 1; i < op->num_results; i++)
    op->results[i]->type = lw_type(IR_TYPE_TENSOR, e, 3, hs);
  return true;
}

/* ------------------------------------------------------------ lowering */

typedef struct RnnCtx {
  IrOp *op;
  IrValue *X, *W, *R, *Bias, *seq, *h0, *c0, *P;
  IrValue *Y, *Yh, *Yc;
  IrValue *Hs, *Cs, *XW, *HR, *RH;   /* scratch */
  IrValue *xrow;                     /* XW's row for this step's (t, b) */
  bool kernel;                       /* the products go through gemm_kernel */
  int64_t T, B, I, H, G;             /* T, B: lw_dim codes */
  bool bw;                           /* layout 1 */
  IrElem ce;
  int d;                             /* direction being emitted */
  bool reverse;
  int act[RNN_MAX_ACT];
  double alpha[RNN_MAX_ACT], beta[RNN_MAX_ACT];
} RnnCtx;

static IrValue *rnn_act(LwCtx *c, const RnnCtx *s, int f, IrValue *x) {
  IrElem e = s->ce;
  IrValue *one = lw_const_f(c, e, 1), *zero = lw_const_f(c, e, 0);
  switch (s->act[f]) {
  case 0: return lw_un(c, IR_OP_M_SIGMOID, x);
  case 1: return lw_un(c, IR_OP_M_TANH, x);
  case 2: return lw_bin(c, IR_OP_A_MAX, x, zero);
  case 3:
    return lw_select(c, lw_cmp(c, "ge", x, zero), x,
                     lw_bin(c, IR_OP_A_MUL, x, lw_const_f(c, e, s->alpha[f])));
  case 4: {
    IrValue *v = lw_fma(c, x, lw_const_f(c, e, s->alpha[f]), lw_const_f(c, e, s->beta[f]));
    return lw_bin(c, IR_OP_A_MIN, lw_bin(c, IR_OP_A_MAX, v, zero), one);
  }
  default:
    return lw_fma(c, x, lw_const_f(c, e, s->alpha[f]), lw_const_f(c, e, s->beta[f]));
  }
}

static IrValue *rnn_clip(LwCtx *c, const RnnCtx *s, IrValue *x) {
  double clip = ir_attr_float(s->op, "clip", 0);
  if (clip <= 0) return x;
  x = lw_bin(c, IR_OP_A_MIN, x, lw_const_f(c, s->ce, clip));
  return lw_bin(c, IR_OP_A_MAX, x, lw_const_f(c, s->ce, -clip));
}

/* Index of a [D,B,H]-shaped state (layout-dependent). */
static void rnn_state_idx(LwCtx *c, const RnnCtx *s, IrValue *b, IrValue *h,
                          IrValue **idx) {
  IrValue *d = lw_index(c, s->d);
  idx[0] = s->bw ? b : d, idx[1] = s->bw ? d : b, idx[2] = h;
}

static IrValue *rnn_ld(LwCtx *c, const RnnCtx *s, IrValue *buf, IrValue *const *idx) {
  return lw_cast(c, nn_load(c, buf, idx), s->ce);
}

/* dst[b, j] = sum_k src(k) * M[d, j, k] + bias[d, boff + j] for j in [lo, hi). */
static void rnn_matvec(LwCtx *c, const RnnCtx *s, IrValue *dst, IrValue *b,
                       IrValue *M, int64_t K, int64_t lo, int64_t hi,
                       IrValue *src, IrValue *const *src_pre, int64_t boff) {
  IrValue *j, *k, *d = lw_index(c, s->d);
  IrOp *lj = lw_for_begin(c, lw_index(c, lo), lw_index(c, hi), 1, &j);
  IrValue *acc = s->Bias ? rnn_ld(c, s, s->Bias, (IrValue *[]){d, nn_lin(c, j, 1, boff)})
                         : lw_const_f(c, s->ce, 0);
  IrOp *lk = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, K), 1, 1, &acc, &k, &acc);
  IrValue *sv;
  if (src_pre) { /* X row: src_pre = {t, b} */
    IrValue *xi[3] = {s->bw ? src_pre[1] : src_pre[0], s->bw ? src_pre[0] : src_pre[1], k};
    sv = rnn_ld(c, s, s->X, xi);
  } else {
    sv = lw_load(c, src, (IrValue *[]){b, k});
  }
  IrValue *mv = rnn_ld(c, s, M, (IrValue *[]){d, j, k});
  lw_for_end_iter(c, lk, 1, (IrValue *[]){lw_fma(c, sv, mv, acc)});
  lw_store(c, lk->results[0], dst, (IrValue *[]){b, j});
  lw_for_end(c, lj);
}

static IrValue *rnn_pre(LwCtx *c, const RnnCtx *s, IrValue *b, IrValue *h, int gate) {
  IrValue *j = nn_lin(c, h, 1, gate * s->H);
  IrValue *v = lw_bin(c, IR_OP_A_ADD, lw_load(c, s->XW, (IrValue *[]){s->xrow, j}),
                      lw_load(c, s->HR, (IrValue *[]){b, j}));
  return rnn_clip(c, s, v);
}

static IrValue *rnn_peep(LwCtx *c, const RnnCtx *s, IrValue *h, int which,
                         IrValue *cell, IrValue *v) {
  if (!s->P) return v;
  IrValue *p = rnn_ld(c, s, s->P, (IrValue *[]){lw_index(c, s->d), nn_lin(c, h, 1, which * s->H)});
  return lw_fma(c, p, cell, v);
}

/* New H (and *cnew for LSTM) for unit h of row b. */
static IrValue *rnn_cell(LwCtx *c, const RnnCtx *s, IrValue *b, IrValue *h,
                         IrValue *hprev, IrValue *cprev, IrValue **cnew) {
  if (s->op->kind == IR_OP_RNN) return rnn_act(c, s, 0, rnn_pre(c, s, b, h, 0));
  if (s->op->kind == IR_OP_GRU) {
    IrValue *z = rnn_act(c, s, 0, rnn_pre(c, s, b, h, 0));
    IrValue *hh;
    if (ir_attr_int(s->op, "linear_before_reset", 0)) {
      IrValue *j = nn_lin(c, h, 1, 2 * s->H);
      IrValue *r = rnn_act(c, s, 0, rnn_pre(c, s, b, h, 1));
      IrValue *v = lw_fma(c, r, lw_load(c, s->HR, (IrValue *[]){b, j}),
                          lw_load(c, s->XW, (IrValue *[]){s->xrow, j}));
      hh = rnn_act(c, s, 1, rnn_clip(c, s, v));
    } else {
      hh = rnn_act(c, s, 1, rnn_pre(c, s, b, h, 2));
    }
    /* (1 - z) * hh + z * hprev */
    return lw_fma(c, z, lw_bin(c, IR_OP_A_SUB, hprev, hh), hh);
  }
  IrValue *i = rnn_act(c, s, 0, rnn_peep(c, s, h, 0, cprev, rnn_pre(c, s, b, h, 0)));
  IrValue *f = rnn_act(c, s, 0, rnn_peep(c, s, h, 2, cprev, rnn_pre(c, s, b, h, 2)));
  IrValue *g = rnn_act(c, s, 1, rnn_pre(c, s, b, h, 3));
  IrValue *cc = lw_fma(c, f, cprev, lw_bin(c, IR_OP_A_MUL, i, g));
  IrValue *o = rnn_act(c, s, 0, rnn_peep(c, s, h, 1, cc, rnn_pre(c, s, b, h, 1)));
  *cnew = cc;
  return lw_bin(c, IR_OP_A_MUL, o, rnn_act(c, s, 2, cc));
}

/* GRU default: RH[b, k] = r_k * H[b, k], then HR's h-gate rows from it. */
static void rnn_gru_reset(LwCtx *c, const RnnCtx *s, IrValue *b) {
  IrValue *k;
  IrOp *lk = lw_for_begin(c, lw_index(c, 0), lw_index(c, s->H), 1, &k);
  IrValue *r = rnn_act(c, s, 0, rnn_pre(c, s, b, k, 1));
  IrValue *bk[2] = {b, k};
  lw_store(c, lw_bin(c, IR_OP_A_MUL, r, lw_load(c, s->Hs, bk)), s->RH, bk);
  lw_for_end(c, lk);
  int64_t G = s->G, H = s->H;
  rnn_matvec(c, s, s->HR, b, s->R, H, 2 * H, 3 * H, s->RH, NULL, G * H);
}

/* The elementwise update of row b at time t (valid: this step counts). */
static void rnn_update(LwCtx *c, const RnnCtx *s, IrValue *b, IrValue *t,
                       IrValue *pos, IrValue *valid) {
  IrValue *h;
  IrOp *lh = lw_for_begin(c, lw_index(c, 0), lw_index(c, s->H), 1, &h);
  IrValue *bh[2] = {b, h}, *cprev = s->Cs ? lw_load(c, s->Cs, bh) : NULL, *cnew = NULL;
  IrValue *hprev = lw_load(c, s->Hs, bh);
  IrValue *hnew = rnn_cell(c, s, b, h, hprev, cprev, &cnew);
  lw_store(c, lw_select(c, valid, hnew, hprev), s->Hs, bh);
  if (s->Cs) lw_store(c, lw_select(c, valid, cnew, cprev), s->Cs, bh);
  if (s->Y) {
    IrValue *d = lw_index(c, s->d), *at = lw_select(c, valid, t, pos);
    IrValue *yi[4] = {at, d, b, h};
    if (s->bw) yi[0] = b, yi[1] = at, yi[2] = d;
    nn_store(c, lw_select(c, valid, hnew, lw_const_f(c, s->ce, 0)), s->Y, yi);
  }
  lw_for_end(c, lh);
}

/* ---- the products through the packed kernel (f32, static sizes, W and R
 * weights): XW for every step at once before the time loop (X viewed as
 * [rows, I], its rows in X's order), HR = H R' + Rb per step with H read in
 * place; W and R packed at compile time as the kernel's B strips. */
typedef struct RnnGemm {
  const RnnCtx *s;
  IrValue *A, *Bp, *bias;          /* A flat; bias flat [D * 2GH] or NULL */
  int64_t lda, boff;               /* A's row stride; the bias part */
  const float *w;                  /* W or R data, [D, GH, K] */
  int64_t K, N;
} RnnGemm;

/* Element (k, j) of direction d's M', as the packer's (row j, k). */
static double rnn_w_get(const void *user, int64_t batch, int64_t j, int64_t k) {
  (void)batch;
  const RnnGemm *g = user;
  return g->w[((int64_t)g->s->d * g->N + j) * g->K + k];
}

static void rnn_a_tile(LwCtx *c, void *user, IrValue *i0, int rows, IrValue *k0,
                       GkOperand *a) {
  (void)rows;
  RnnGemm *g = user;
  gk_rows_in_place(c, g->A, NULL, i0, k0, g->lda, a);
}

static void rnn_b_strip(LwCtx *c, void *user, IrValue *jb, IrValue *j0, int64_t w,
                        IrValue *k0, IrValue *task, GkOperand *b) {
  (void)jb, (void)task;
  RnnGemm *g = user;
  gk_packed_operand(c, g->Bp, g->N, g->K, NULL, j0, w, k0, b);
}

static IrValue *rnn_bias_epilogue(LwCtx *c, void *user, IrValue *i, IrValue *j, int lanes,
                                  IrValue *v) {
  (void)i;
  RnnGemm *g = user;
  if (!g->bias) return v;
  IrValue *bi = lw_bin(c, IR_OP_A_ADD, j, lw_index(c, g->s->d * 2 * g->s->G * g->s->H + g->boff));
  return lw_bin(c, IR_OP_A_ADD, v, lw_vload(c, g->bias, &bi, lanes));
}

/* C[rows, N] = A[rows, K] x M[d]' (+ bias part boff), M a weight. */
static void rnn_gemm(LwCtx *c, const RnnCtx *s, IrValue *C, IrValue *A, int64_t rows,
                     int64_t lda, IrValue *M, int64_t N, int64_t K, int64_t boff) {
  int64_t gn = s->G * s->H;
  RnnGemm g = {.s = s, .A = gk_flat(c, A), .lda = lda, .boff = boff,
               .w = gk_weight_f32(M), .K = K, .N = gn,
               .bias = s->Bias ? gk_flat(c, s->Bias) : NULL};
  GkGemm k = {.M = rows, .N = N, .K = K, .user = &g, .a_tile = rnn_a_tile,
              .b_strip = rnn_b_strip, .c_buf = gk_flat(c, C), .c_base = lw_index(c, 0),
              .c_rs = lw_dim(C, 1), .epilogue = rnn_bias_epilogue};
  sched_gemm(c->target, NULL, rows, N, K, SCHED_A_IN_PLACE, 0, &k.s);
  k.nc = N;
  /* this direction's matrix, packed at compile time in the kernel's strips */
  g.Bp = gk_pack(c, M, 1, gn, K, (int64_t)k.s.nv * k.s.lanes, rnn_w_get, &g);
  gk_emit(c, &k);
}

static bool rnn_kernel_fits(const LwCtx *c, const RnnCtx *s) {
  return c->target && s->ce == IR_F32 && lw_elem(s->X) == IR_F32 &&
         ir_type_is_static(&s->X->type) && gk_weight_f32(s->W) && gk_weight_f32(s->R) &&
         (!s->Bias || lw_elem(s->Bias) == IR_F32);
}

/* One step s for every batch row. */
static void rnn_step(LwCtx *c, const RnnCtx *cs, IrValue *step) {
  RnnCtx local = *cs;
  RnnCtx *s = &local;
  bool gru_reset = s->op->kind == IR_OP_GRU && !ir_attr_int(s->op, "linear_before_reset", 0);
  int64_t GH = s->G * s->H;
  if (s->kernel && !gru_reset)
    rnn_gemm(c, s, s->HR, s->Hs, s->B, s->H, s->R, GH, s->H, GH);
  IrValue *b;
  IrOp *lb = lw_for_begin(c, lw_index(c, 0), lw_dim_index(c, s->B), 1, &b);
  IrValue *len = s->seq ? lw_cast(c, lw_load(c, s->seq, &b), IR_INDEX)
                        : lw_dim_index(c, s->T);
  IrValue *valid = lw_cmp(c, "lt", step, len);
  IrValue *t = step;
  if (s->reverse) {
    t = lw_bin(c, IR_OP_A_SUB, nn_lin(c, len, 1, -1), step);
    t = lw_select(c, valid, t, lw_index(c, 0));
  }
  if (s->kernel) { /* XW holds every step: X's row of (t, b) */
    s->xrow = s->bw ? nn_iadd(c, nn_imul(c, b, s->T), t) : nn_iadd(c, nn_imul(c, t, s->B), b);
  } else {
    s->xrow = b;
    rnn_matvec(c, s, s->XW, b, s->W, s->I, 0, GH, NULL, (IrValue *[]){t, b}, 0);
  }
  if (!s->kernel || gru_reset)
    rnn_matvec(c, s, s->HR, b, s->R, s->H, 0, gru_reset ? 2 * s->H : GH, s->Hs, NULL, GH);
  if (gru_reset) rnn_gru_reset(c, s, b);
  rnn_update(c, s, b, t, step, valid);
  lw_for_end(c, lb);
}

/* State buffer = initial (or 0) for direction d; or out = state at the end. */
static void rnn_state_copy(LwCtx *c, const RnnCtx *s, IrValue *state, IrValue *ext,
                           bool to_state) {
  IrValue *ivs[2], *idx[3];
  LwNest nest;
  lw_nest_begin(c, &nest, 2, (int64_t[]){s->B, s->H}, ivs);
  rnn_state_idx(c, s, ivs[0], ivs[1], idx);
  if (to_state)
    lw_store(c, ext ? rnn_ld(c, s, ext, idx) : lw_const_f(c, s->ce, 0), state, ivs);
  else
    nn_store(c, lw_load(c, state, ivs), ext, idx);
  lw_nest_end(c, &nest);
}

static void rnn_direction(LwCtx *c, RnnCtx *s) {
  rnn_state_copy(c, s, s->Hs, s->h0, true);
  if (s->Cs) rnn_state_copy(c, s, s->Cs, s->c0, true);
  if (s->kernel)
    rnn_gemm(c, s, s->XW, s->X, s->T * s->B, s->I, s->W, s->G * s->H, s->I, 0);
  IrValue *step;
  IrOp *lt = lw_for_begin(c, lw_index(c, 0), lw_dim_index(c, s->T), 1, &step);
  rnn_step(c, s, step);
  lw_for_end(c, lt);
  if (s->Yh) rnn_state_copy(c, s, s->Hs, s->Yh, false);
  if (s->Yc) rnn_state_copy(c, s, s->Cs, s->Yc, false);
}

static IrValue *rnn_in(LwCtx *c, const IrOp *op, int i) {
  return i < op->num_operands ? c->in[i] : NULL;
}

static void rnn_acts(const IrOp *op, RnnCtx *s) {
  const IrAttr *a = ir_attr_get(op, "activations");
  const IrAttr *al = ir_attr_get(op, "activation_alpha");
  const IrAttr *be = ir_attr_get(op, "activation_beta");
  int na = rnn_nact(op);
  for (int f = 0; f < na; f++) {
    int k = s->d * na + f;
    s->act[f] = rnn_act_kind(a->strings[k]);
    s->alpha[f] = al && k < al->n ? al->floats[k] : s->act[f] == 3 ? 0.01 : 0.2;
    s->beta[f] = be && k < be->n ? be->floats[k] : s->act[f] == 4 ? 0.5 : 0.0;
  }
}

bool op_rnn_lower(LwCtx *c, IrOp *op) {
  bool lstm = op->kind == IR_OP_LSTM;
  RnnCtx s = {.op = op, .X = c->in[0], .W = c->in[1], .R = c->in[2],
              .Bias = rnn_in(c, op, 3), .seq = rnn_in(c, op, 4),
              .h0 = rnn_in(c, op, 5), .c0 = lstm ? rnn_in(c, op, 6) : NULL,
              .P = lstm ? rnn_in(c, op, 7) : NULL,
              .Y = op->num_results > 0 ? c->out[0] : NULL,
              .Yh = op->num_results > 1 ? c->out[1] : NULL,
              .Yc = op->num_results > 2 ? c->out[2] : NULL};
  s.bw = ir_attr_int(op, "layout", 0) != 0;
  s.T = lw_dim(s.X, s.bw ? 1 : 0), s.B = lw_dim(s.X, s.bw ? 0 : 1);
  s.I = lw_dim(s.X, 2), s.H = ir_attr_int(op, "hidden_size", 1), s.G = rnn_gates(op);
  s.ce = nn_calc_elem(lw_elem(s.X));
  int64_t bh[2] = {s.B, s.H}, bg[2] = {s.B, s.G * s.H};
  s.Hs = lw_alloc(c, s.ce, 2, bh);
  s.Cs = lstm ? lw_alloc(c, s.ce, 2, bh) : NULL;
  s.kernel = rnn_kernel_fits(c, &s);
  int64_t xw[2] = {s.kernel ? s.T * s.B : s.B, s.G * s.H};
  s.XW = lw_alloc(c, s.ce, 2, xw);
  s.HR = lw_alloc(c, s.ce, 2, bg);
  s.RH = op->kind == IR_OP_GRU ? lw_alloc(c, s.ce, 2, bh) : NULL;
  const char *dir = ir_attr_string(op, "direction", "forward");
  int dirs = strcmp(dir, "bidirectional") ? 1 : 2;
  for (s.d = 0; s.d < dirs; s.d++) {
    s.reverse = !strcmp(dir, "reverse") || s.d == 1;
    rnn_acts(op, &s);
    rnn_direction(c, &s);
  }
  return true;
}
