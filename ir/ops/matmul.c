/*
 * matmul.c — MatMul (numpy semantics) and Gemm.
 *
 * Both lower to one of two loop shapes.  The "row" form walks i-k-j: for
 * each output row it broadcasts A[i,k] and streams row k of B into the
 * output row, so the innermost loop reads B and writes Y contiguously (what
 * LLVM vectorizes for row-major B).  The "dot" form walks i-j-k with the
 * sum in a loop-carried value; it serves transposed B (contiguous along k),
 * narrow outputs (N < 4, e.g. matrix-vector) and f16/bf16, whose sums stay
 * in f32 registers instead of being rounded in memory at every step.
 *
 * MatMul's 1-D operands are handled by viewing A as [1,K] and B as [K,1]
 * and the output as [batch..., M, N]; batch dims broadcast numpy-style.
 *
 * Run-time dims (OPF_DYN) may stand anywhere in MatMul's shapes and in
 * Gemm's M, N, K: dims are carried as lw_dim codes (LW_DYN_DIM for a sym),
 * loop bounds come from lw_dim_index, and a run-time N takes the row form
 * (static shapes choose exactly as before).  A K or batch dim that is a
 * sym on one side must be the same sym on the other (or, for a batch dim,
 * 1): a sym against a size could not be checked until run time.
 */
#include <stdio.h>

#include "gemm_kernel.h"
#include "nn_util.h"

static bool mm_all_static(int n, const int64_t *dims) {
  for (int i = 0; i < n; i++)
    if (LW_DIM_IS_DYN(dims[i])) return false;
  return true;
}

/* nn_view for dims that may be run-time. */
static IrValue *mm_view(LwCtx *c, IrValue *buf, int rank, const int64_t *dims) {
  if (mm_all_static(rank, dims)) return nn_view(c, buf, rank, dims);
  IrType t = lw_type(IR_TYPE_BUFFER, buf->type.elem, rank, dims);
  if (buf->type.kind == IR_TYPE_BUFFER && ir_type_equal(&t, &buf->type)) return buf;
  return ir_build1(&c->b, IR_OP_VIEW, 1, &buf, t);
}

/* A dim for a message: its size or its sym's name. */
static const char *mm_dim_str(const IrModule *m, int64_t d, char *buf, size_t n) {
  if (LW_DIM_IS_DYN(d)) {
    int sym = (int)(-2 - d);
    snprintf(buf, n, "%s", m && sym < m->num_syms ? m->syms[sym].name : "?");
  } else {
    snprintf(buf, n, "%lld", (long long)d);
  }
  return buf;
}

/* ------------------------------------------------------------- MatMul */

bool op_matmul_import(IrModule *m, IrOp *op, int opset) {
  (void)m, (void)op, (void)opset;
  return true;
}

/* The [.., M, K] x [.., K, N] view of the operands: ranks >= 2. */
typedef struct MmShape {
  int ra, rb, r;                  /* ranks of the 2-D+ views and of the result view */
  int64_t a[IR_MAX_RANK], b[IR_MAX_RANK], y[IR_MAX_RANK];
  int64_t M, K, N;
} MmShape;

static bool mm_shape(const IrModule *m, const IrOp *op, MmShape *s) {
  const IrValue *A = op->operands[0], *B = op->operands[1];
  int ra = lw_dims(A, s->a), rb = lw_dims(B, s->b);
  if (ra == 1) s->a[1] = s->a[0], s->a[0] = 1, ra = 2;
  if (rb == 1) s->b[1] = 1, rb = 2;
  s->ra = ra, s->rb = rb;
  s->M = s->a[ra - 2], s->K = s->a[ra - 1], s->N = s->b[rb - 1];
  if (s->b[rb - 2] != s->K) {
    char ka[64], kb[64];
    diag_at(DIAG_ERROR, &op->loc, "MatMul: A has K=%s but B has K=%s",
            mm_dim_str(m, s->K, ka, sizeof ka), mm_dim_str(m, s->b[rb - 2], kb, sizeof kb));
    return false;
  }
  s->r = ra > rb ? ra : rb;
  for (int i = 0; i < s->r - 2; i++) {
    int ia = i - (s->r - ra), ib = i - (s->r - rb);
    int64_t da = ia >= 0 ? s->a[ia] : 1, db = ib >= 0 ? s->b[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      char sa[64], sb[64];
      diag_at(DIAG_ERROR, &op->loc, "MatMul: batch dims %s and %s are not "
              "broadcastable", mm_dim_str(m, da, sa, sizeof sa),
              mm_dim_str(m, db, sb, sizeof sb));
      return false;
    }
    s->y[i] = da == 1 ? db : da;
  }
  s->y[s->r - 2] = s->M, s->y[s->r - 1] = s->N;
  return true;
}

/* fused_matmul: static, f32, a bias of f32[N]; R and act as gk_fused_check. */
static bool mm_fused_check(IrModule *m, IrOp *op, const MmShape *s) {
  const IrValue *bias = op->num_operands > 2 ? op->operands[2] : NULL;
  if (!ir_type_is_static(&op->results[0]->type) || op->results[0]->type.elem != IR_F32 ||
      (bias && (bias->type.elem != IR_F32 || bias->type.rank != 1 ||
                !ir_type_is_static(&bias->type) || ir_type_dim(&bias->type, 0) != s->N))) {
    diag_at(DIAG_ERROR, &op->loc, "fused_matmul: needs static f32 operands and a "
            "bias of f32[N]");
    return false;
  }
  return gk_fused_check(m, op);
}

bool op_matmul_infer(IrModule *m, IrOp *op) {
  if (!nn_check_operand_dyn(op, 0, "A", NN_FLOAT | NN_INT) ||
      !nn_check_operand_dyn(op, 1, "B", NN_FLOAT | NN_INT) ||
      !nn_check_rank_min(op, 0, "A", 1) || !nn_check_rank_min(op, 1, "B", 1))
    return false;
  IrElem e = op->operands[0]->type.elem;
  bool quantized = op->kind == IR_OP_FUSED_MATMUL && gk_is_quantized(op, 1);
  if (quantized ? e != IR_F32 || op->operands[1]->type.rank != 2
                : op->operands[1]->type.elem != e) {
    diag_at(DIAG_ERROR, &op->loc, "%s: A is %s but B is %s%s", nn_name(op), ir_elem_name(e),
            ir_elem_name(op->operands[1]->type.elem),
            quantized ? " (an i8 B is a 2-D weight, A f32)" : "");
    return false;
  }
  MmShape s;
  if (!mm_shape(m, op, &s)) return false;
  /* drop the M / N dims that 1-D operands added */
  int64_t dims[IR_MAX_RANK];
  int r = 0;
  for (int i = 0; i < s.r - 2; i++) dims[r++] = s.y[i];
  if (op->operands[0]->type.rank > 1) dims[r++] = s.M;
  if (op->operands[1]->type.rank > 1) dims[r++] = s.N;
  op->results[0]->type = lw_type(IR_TYPE_TENSOR, e, r, dims);
  if (op->kind != IR_OP_FUSED_MATMUL) return true;
  return mm_fused_check(m, op, &s) && (!quantized || gk_quant_check(op, 1, 4, s.N));
}

/* Operand index of a broadcast batch: ivs are the output batch indices. */
static void mm_batch_index(LwCtx *c, const int64_t *dims, int rank,
                           const int64_t *ydims, int yrank, IrValue *const *ivs,
                           IrValue **idx) {
  int off = yrank - rank;
  for (int i = 0; i < rank; i++)
    idx[i] = dims[i] == 1 && ydims[i + off] != 1 ? lw_index(c, 0) : ivs[i + off];
}

/* Emits Y[b, i, j] = sum_k A[b, i, k] * B[b, k, j] inside the batch+row nest.
 * ai/bi/yi are full index arrays whose last two slots this fills. */
static void mm_row_body(LwCtx *c, const MmShape *s, IrValue *A, IrValue *B,
                        IrValue *Y, IrValue **ai, IrValue **bi, IrValue **yi,
                        bool dot) {
  IrElem ce = nn_calc_elem(Y->type.elem);
  IrValue *zero = lw_const_f(c, ce, 0), *k, *j, *acc;
  IrOp *lj, *lk;
  if (dot) {
    lj = lw_for_begin(c, lw_index(c, 0), lw_dim_index(c, s->N), 1, &j);
    lk = lw_for_begin_iter(c, lw_index(c, 0), lw_dim_index(c, s->K), 1, 1, &zero,
                           &k, &acc);
    ai[s->ra - 1] = k, bi[s->rb - 2] = k, bi[s->rb - 1] = j;
    IrValue *sum = nn_madd(c, nn_load(c, A, ai), nn_load(c, B, bi), acc);
    lw_for_end_iter(c, lk, 1, &sum);
    yi[s->r - 1] = j;
    nn_store(c, lk->results[0], Y, yi);
    lw_for_end(c, lj);
    return;
  }
  lj = lw_for_begin(c, lw_index(c, 0), lw_dim_index(c, s->N), 1, &j);
  yi[s->r - 1] = j;
  lw_store(c, zero, Y, yi);
  lw_for_end(c, lj);
  lk = lw_for_begin(c, lw_index(c, 0), lw_dim_index(c, s->K), 1, &k);
  ai[s->ra - 1] = k;
  IrValue *a = lw_load(c, A, ai);
  lj = lw_for_begin(c, lw_index(c, 0), lw_dim_index(c, s->N), 1, &j);
  bi[s->rb - 2] = k, bi[s->rb - 1] = j, yi[s->r - 1] = j;
  lw_store(c, nn_madd(c, a, lw_load(c, B, bi), lw_load(c, Y, yi)), Y, yi);
  lw_for_end(c, lj);
  lw_for_end(c, lk);
}

/* ------------------------------------------------ the packed-kernel path
 * MatMul and Gemm on f32 with static shapes go through the register-blocked
 * kernel (gemm_kernel.h): A is read in place (one broadcast element at a
 * time, either orientation), B is packed at compile time when it is a
 * weight (strips of the tile's width, transposed or not), else read in
 * place when its rows are contiguous along N.  Batch dims (MatMul)
 * broadcast by giving an operand stride 0. */
typedef struct MmKernel {
  IrValue *A, *B, *Bp, *C, *Y;  /* flat; Bp: packed B or NULL */
  IrValue *a_off, *b_off, *b_batch; /* this batch's offsets / packed index */
  int64_t M, N, K;
  bool tA;
  double alpha, beta;           /* Gemm's; MatMul: 1, 0 */
  int64_t c_rows, c_cols;       /* Gemm's C dims seen as [c_rows, c_cols] */
  const IrOp *op;               /* fused_matmul: its epilogue */
  IrValue *bias, *R, *y_off;    /* fused_matmul's operands (flat); Y offset */
} MmKernel;

typedef struct MmPackB {
  const float *b;
  int64_t K, N;
  bool tB;
} MmPackB;

/* Element (k, j) of matrix `batch` of B, as the packer's (row j, k). */
static double mm_b_get(const void *user, int64_t batch, int64_t j, int64_t k) {
  const MmPackB *p = user;
  const float *m = p->b + batch * p->K * p->N;
  return p->tB ? m[j * p->K + k] : m[k * p->N + j];
}

static void mm_a_tile(LwCtx *c, void *user, IrValue *i0, int rows, IrValue *k0,
                      GkOperand *a) {
  (void)rows;
  MmKernel *v = user;
  if (!v->tA) {
    gk_rows_in_place(c, v->A, v->a_off, i0, k0, v->K, a);
    return;
  }
  a->buf = v->A; /* A[k][i] */
  a->base = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, v->a_off, k0, v->M), i0);
  a->rs = 1, a->ks = v->M;
}

static void mm_b_strip(LwCtx *c, void *user, IrValue *jb, IrValue *j0, int64_t w,
                       IrValue *k0, IrValue *task, GkOperand *b) {
  (void)jb, (void)task;
  MmKernel *v = user;
  if (v->Bp) {
    gk_packed_operand(c, v->Bp, v->N, v->K, v->b_batch, j0, w, k0, b);
    return;
  }
  b->buf = v->B;
  b->base = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, v->b_off, k0, v->N), j0);
  b->rs = 1, b->ks = v->N;
}

/* alpha * sum + beta * C[i, j] (Gemm); C broadcasts from [c_rows, c_cols]. */
static IrValue *mm_epilogue(LwCtx *c, void *user, IrValue *i, IrValue *j,
                            int lanes, IrValue *y) {
  MmKernel *v = user;
  if (v->alpha != 1)
    y = lw_bin(c, IR_OP_A_MUL, y, lw_splat(c, lw_const_f(c, IR_F32, v->alpha), lanes));
  if (v->bias) y = lw_bin(c, IR_OP_A_ADD, y, lw_vload(c, v->bias, &j, lanes));
  if (v->op) {
    IrValue *ridx = v->R ? lw_bin(c, IR_OP_A_ADD, gk_axpy(c, v->y_off, i, v->N), j) : NULL;
    return gk_fused_tail(c, v->op, v->R, ridx, lanes, y);
  }
  if (!v->C || v->beta == 0) return y;
  IrValue *row = v->c_rows > 1 ? gk_axpy(c, NULL, i, v->c_cols) : lw_index(c, 0);
  IrValue *t;
  if (v->c_cols > 1) {
    IrValue *idx = lw_bin(c, IR_OP_A_ADD, row, j);
    t = lw_vload(c, v->C, &idx, lanes);
  } else {
    t = lw_splat(c, lw_load(c, v->C, &row), lanes);
  }
  if (v->beta != 1)
    t = lw_bin(c, IR_OP_A_MUL, t, lw_splat(c, lw_const_f(c, IR_F32, v->beta), lanes));
  return lw_bin(c, IR_OP_A_ADD, y, t);
}

/* One product per output batch; a_strides/b_strides give each batch dim's
 * element stride in A and B (0 where it broadcasts). */
static void mm_kernel_emit(LwCtx *c, MmKernel *v, const GemmSched *s, int nb,
                           const int64_t *bdims, const int64_t *a_strides,
                           const int64_t *b_strides, bool b_packed_batches) {
  GkGemm g = {.M = v->M, .N = v->N, .K = v->K, .s = *s, .nc = s->nc, .user = v,
              .a_tile = mm_a_tile, .b_strip = mm_b_strip, .c_buf = v->Y,
              .c_rs = v->N, .epilogue = mm_epilogue};
  IrValue *ivs[IR_MAX_RANK];
  LwNest nest;
  lw_nest_begin(c, &nest, nb, bdims, ivs);
  IrValue *a_off = lw_index(c, 0), *b_off = lw_index(c, 0), *y_off = lw_index(c, 0);
  int64_t ystride = v->M * v->N;
  for (int i = nb - 1; i >= 0; i--) {
    a_off = gk_axpy(c, a_off, ivs[i], a_strides[i]);
    b_off = gk_axpy(c, b_off, ivs[i], b_strides[i]);
    y_off = gk_axpy(c, y_off, ivs[i], ystride);
    ystride *= bdims[i];
  }
  v->a_off = a_off, v->b_off = b_off, v->y_off = y_off;
  /* the packed B's matrix index: its element offset / (K*N) */
  v->b_batch = b_packed_batches
                   ? lw_bin(c, IR_OP_A_DIV, b_off, lw_index(c, v->K * v->N))
                   : NULL;
  g.c_base = y_off;
  gk_emit(c, &g);
  lw_nest_end(c, &nest);
}

static bool mm_kernel_fits(const LwCtx *c, const IrValue *Y, int n,
                           const int64_t *dims, int64_t N) {
  return c->target && lw_elem(Y) == IR_F32 && mm_all_static(n, dims) && N >= 4;
}

static bool matmul_kernel(LwCtx *c, const IrOp *op, const MmShape *s) {
  if (!mm_kernel_fits(c, c->out[0], s->r, s->y, s->N) || !mm_all_static(s->ra, s->a) ||
      !mm_all_static(s->rb, s->b))
    return false;
  MmKernel v = {.A = gk_flat(c, c->in[0]), .Y = gk_flat(c, c->out[0]),
                .M = s->M, .N = s->N, .K = s->K, .alpha = 1};
  if (op->kind == IR_OP_FUSED_MATMUL) {
    v.op = op;
    v.bias = op->num_operands > 2 && c->in[2] ? c->in[2] : NULL;
    v.R = op->num_operands > 3 && c->in[3] ? gk_flat(c, c->in[3]) : NULL;
  }
  int nb = s->r - 2;
  int64_t as[IR_MAX_RANK], bs[IR_MAX_RANK];
  int64_t sa = s->M * s->K, sb = s->K * s->N, nbatch_b = 1;
  for (int i = nb - 1; i >= 0; i--) {
    int ia = i - (s->r - s->ra), ib = i - (s->r - s->rb);
    int64_t da = ia >= 0 ? s->a[ia] : 1, db = ib >= 0 ? s->b[ib] : 1;
    as[i] = da == 1 ? 0 : sa;
    bs[i] = db == 1 ? 0 : sb;
    sa *= da, sb *= db, nbatch_b *= db;
  }
  if (nbatch_b == 1) {
    /* one B for every batch: A's rows are consecutive across batches, so
     * the batches are one taller product (a Linear layer on [seq, 1, d]) */
    for (int i = 0; i < nb; i++) v.M *= s->y[i];
    nb = 0;
  }
  GemmSched sched;
  const float *bw = gk_weight_f32(c->in[1]);
  sched_gemm(c->target, c->sched, v.M, s->N, s->K, SCHED_A_IN_PLACE,
             bw ? nbatch_b * s->K * s->N * (int64_t)sizeof(float) : 0, &sched);
  if (bw) {
    MmPackB pb = {bw, s->K, s->N, false};
    v.Bp = gk_pack(c, c->in[1], nbatch_b, s->N, s->K, (int64_t)sched.nv * sched.lanes,
                   mm_b_get, &pb);
  } else {
    v.B = gk_flat(c, c->in[1]);
  }
  mm_kernel_emit(c, &v, &sched, nb, s->y, as, bs, bw != NULL);
  return true;
}

/* fused_matmul without the kernel: its epilogue as a loop over Y. */
static void mm_plain_epilogue(LwCtx *c, const IrOp *op, int64_t N) {
  IrValue *Y = gk_flat(c, c->out[0]), *i;
  IrValue *bias = op->num_operands > 2 ? c->in[2] : NULL;
  IrValue *R = op->num_operands > 3 && c->in[3] ? gk_flat(c, c->in[3]) : NULL;
  IrOp *l = lw_for_begin(c, lw_index(c, 0), lw_index(c, lw_dim(Y, 0)), 1, &i);
  IrValue *y = lw_load(c, Y, &i);
  if (bias) {
    IrValue *col = lw_bin(c, IR_OP_A_REM, i, lw_index(c, N));
    y = lw_bin(c, IR_OP_A_ADD, y, lw_load(c, bias, &col));
  }
  lw_store(c, gk_fused_tail(c, op, R, i, 1, y), Y, &i);
  lw_for_end(c, l);
}

/* ------------------------------------------------------ the int8 path
 * fused_matmul with an i8 B (the int8 form in gemm_kernel.h): the rows of
 * A (batches included: B has none) are quantized into words of four k, a
 * workspace of M x K/4 i32; B is packed at compile time in words; the
 * packed kernel sums with arith.dot4, vectors along N, and the epilogue
 * dequantizes.  Without a target (-O0) plain loops compute the same i32
 * sums and the same epilogue: the reference. */
typedef struct MmInt8 {
  const IrOp *op;
  IrValue *A, *Aq, *Bp, *Y, *bias, *R;
  const int8_t *w;
  int64_t M, N, K, K4;
  int lanes;
  GkQuant q;
} MmInt8;

static int mm_int8_w(const void *user, int64_t n, int64_t k) {
  const MmInt8 *v = user;
  return v->w[k * v->N + n];
}

static int mm_int8_get(const void *user, int64_t b, int64_t n, int64_t k) {
  (void)b;
  return mm_int8_w(user, n, k);
}

/* Y[i, j..] from the i32 sums of `lanes` columns at j. */
static IrValue *mm_int8_epilogue(LwCtx *c, void *user, IrValue *i, IrValue *j, int lanes,
                                 IrValue *acc) {
  MmInt8 *v = user;
  IrValue *y = gk_dequantize_channels(c, &v->q, acc, j, lanes);
  if (v->bias) y = lw_bin(c, IR_OP_A_ADD, y, lw_vload(c, v->bias, &j, lanes));
  IrValue *ridx = v->R ? lw_bin(c, IR_OP_A_ADD, gk_axpy(c, NULL, i, v->N), j) : NULL;
  return gk_fused_tail(c, v->op, v->R, ridx, lanes, y);
}

/* Words [w, w + lanes) of A's row at `row` (its element offset). */
typedef struct MmQuantRow {
  MmInt8 *v;
  IrValue *row, *qrow;
} MmQuantRow;

static void mm_int8_quantize_words(LwCtx *c, void *user, IrValue *w) {
  const MmQuantRow *r = user;
  IrValue *q[4];
  for (int b = 0; b < 4; b++) {
    IrValue *idx = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, r->row, w, 4), lw_index(c, b));
    q[b] = gk_quantize(c, &r->v->q, lw_vload_strided(c, r->v->A, &idx, r->v->lanes, 4));
  }
  IrValue *di = lw_bin(c, IR_OP_A_ADD, r->qrow, w);
  lw_vstore(c, gk_word(c, q), r->v->Aq, &di);
}

/* Aq[i, w] = the word of q(A[i, 4w .. 4w+3]); a last, partial word takes
 * the zero point where K ends (B's bytes there are 0). */
static void mm_int8_quantize(LwCtx *c, MmInt8 *v) {
  IrValue *i;
  IrOp *li = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->M), 1, &i);
  if (c->target->threads && v->M > 1 && v->M * v->K >= 16384)
    ir_attr_set_int(c->m, li, "parallel", 1);
  MmQuantRow r = {v, gk_axpy(c, NULL, i, v->K), gk_axpy(c, NULL, i, v->K4)};
  int64_t full = v->K / 4;
  if (full) lw_vector_span(c, 0, full, v->lanes, mm_int8_quantize_words, &r);
  if (full < v->K4) {
    IrValue *q[4];
    for (int b = 0; b < 4; b++) {
      IrValue *idx = gk_axpy(c, r.row, lw_index(c, 4 * full + b), 1);
      q[b] = 4 * full + b < v->K ? gk_quantize(c, &v->q, lw_load(c, v->A, &idx))
                                 : lw_const_i(c, IR_I32, v->q.params ? 0 : v->q.zero_point);
    }
    IrValue *di = gk_axpy(c, r.qrow, lw_index(c, full), 1);
    lw_store(c, gk_word(c, q), v->Aq, &di);
  }
  lw_for_end(c, li);
}

static void mm_int8_a_tile(LwCtx *c, void *user, IrValue *i0, int rows, IrValue *k0,
                           GkOperand *a) {
  (void)rows;
  MmInt8 *v = user;
  gk_rows_in_place(c, v->Aq, NULL, i0, k0, v->K4, a);
}

static void mm_int8_b_strip(LwCtx *c, void *user, IrValue *jb, IrValue *j0, int64_t w,
                            IrValue *k0, IrValue *task, GkOperand *b) {
  (void)jb, (void)task;
  MmInt8 *v = user;
  gk_packed_operand(c, v->Bp, v->N, v->K4, NULL, j0, w, k0, b);
}

/* -O0: Y[i, j] from sum_k q(A[i, k]) * B[k, j] in i32, one element at a time. */
static void mm_int8_plain(LwCtx *c, MmInt8 *v, IrValue *W) {
  IrValue *i, *j, *k, *acc, *zero = lw_const_i(c, IR_I32, 0);
  IrOp *li = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->M), 1, &i);
  IrOp *lj = lw_for_begin(c, lw_index(c, 0), lw_index(c, v->N), 1, &j);
  IrOp *lk = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, v->K), 1, 1, &zero, &k, &acc);
  IrValue *ai = gk_axpy(c, k, i, v->K), *wi = gk_axpy(c, j, k, v->N);
  IrValue *x = gk_quantize(c, &v->q, lw_load(c, v->A, &ai));
  IrValue *sum = lw_bin(c, IR_OP_A_ADD, acc,
                        lw_bin(c, IR_OP_A_MUL, x, lw_cast(c, lw_load(c, W, &wi), IR_I32)));
  lw_for_end_iter(c, lk, 1, &sum);
  IrValue *yi = gk_axpy(c, j, i, v->N);
  lw_store(c, mm_int8_epilogue(c, v, i, j, 1, lk->results[0]), v->Y, &yi);
  lw_for_end(c, lj);
  lw_for_end(c, li);
}

static void matmul_int8(LwCtx *c, const IrOp *op, const MmShape *s) {
  IrValue *A = gk_flat(c, c->in[0]);
  MmInt8 v = {.op = op, .A = A, .Y = gk_flat(c, c->out[0]), .w = op->operands[1]->weight->data,
              .M = lw_dim(A, 0) / s->K, .N = s->N, .K = s->K, .K4 = (s->K + 3) / 4};
  v.bias = op->num_operands > 2 && c->in[2] ? c->in[2] : NULL;
  v.R = op->num_operands > 3 && c->in[3] ? gk_flat(c, c->in[3]) : NULL;
  gk_quant_channels(c, op, op->operands[4], v.N, v.K, mm_int8_w, &v, &v.q);
  if (ir_attr_int(op, "x_dynamic", 0))
    gk_dynamic_params(c, &v.q, A, v.M * v.K, c->target ? c->target->vec_bits / 32 : 1);
  if (!c->target) {
    mm_int8_plain(c, &v, gk_flat(c, c->in[1]));
    return;
  }
  GemmSched sched;
  sched_gemm(c->target, c->sched, v.M, v.N, v.K4, SCHED_A_IN_PLACE,
             v.K4 * v.N * (int64_t)sizeof(int32_t), &sched);
  v.lanes = sched.lanes;
  v.Bp = gk_pack_words(c, op->operands[1], 1, v.N, v.K, (int64_t)sched.nv * sched.lanes,
                       mm_int8_get, &v);
  int64_t dims[1] = {v.M * v.K4};
  v.Aq = lw_alloc(c, IR_I32, 1, dims);
  mm_int8_quantize(c, &v);
  GkGemm g = {.M = v.M, .N = v.N, .K = v.K4, .s = sched, .nc = sched.nc, .user = &v,
              .a_tile = mm_int8_a_tile, .b_strip = mm_int8_b_strip, .c_buf = v.Y,
              .c_base = lw_index(c, 0), .c_rs = v.N, .epilogue = mm_int8_epilogue,
              .int8 = true};
  gk_emit(c, &g);
}

bool op_matmul_lower(LwCtx *c, IrOp *op) {
  MmShape s;
  if (!mm_shape(c->m, op, &s)) return false;
  if (op->kind == IR_OP_FUSED_MATMUL && gk_is_quantized(op, 1)) {
    matmul_int8(c, op, &s);
    return true;
  }
  if (matmul_kernel(c, op, &s)) return true;
  IrValue *A = mm_view(c, c->in[0], s.ra, s.a);
  IrValue *B = mm_view(c, c->in[1], s.rb, s.b);
  IrValue *Y = mm_view(c, c->out[0], s.r, s.y);
  /* a run-time N is taken as wide: the row form */
  bool dot = (!LW_DIM_IS_DYN(s.N) && s.N < 4) ||
             nn_calc_elem(Y->type.elem) != Y->type.elem;
  IrValue *ivs[IR_MAX_RANK], *ai[IR_MAX_RANK], *bi[IR_MAX_RANK];
  LwNest nest;
  lw_nest_begin(c, &nest, s.r - 1, s.y, ivs); /* batch dims and i */
  mm_batch_index(c, s.a, s.ra - 2, s.y, s.r - 2, ivs, ai);
  mm_batch_index(c, s.b, s.rb - 2, s.y, s.r - 2, ivs, bi);
  ai[s.ra - 2] = ivs[s.r - 2];
  mm_row_body(c, &s, A, B, Y, ai, bi, ivs, dot);
  lw_nest_end(c, &nest);
  if (op->kind == IR_OP_FUSED_MATMUL) mm_plain_epilogue(c, op, s.N);
  return true;
}

/* --------------------------------------------------------------- Gemm */

bool op_gemm_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  if (!nn_attr_float_canon(m, op, "alpha", 1.0) ||
      !nn_attr_float_canon(m, op, "beta", 1.0) ||
      !nn_attr_int_canon(m, op, "transA", 0, NULL) ||
      !nn_attr_int_canon(m, op, "transB", 0, NULL))
    return false;
  /* opset < 7: `broadcast` only allowed what unidirectional broadcasting
   * now does always */
  ir_attr_remove(op, "broadcast");
  return true;
}

bool op_gemm_infer(IrModule *m, IrOp *op) {
  if (!nn_check_operand_dyn(op, 0, "A", NN_FLOAT | NN_INT) ||
      !nn_check_operand_dyn(op, 1, "B", NN_FLOAT | NN_INT))
    return false;
  const IrType *ta = &op->operands[0]->type, *tb = &op->operands[1]->type;
  if (ta->rank != 2 || tb->rank != 2) {
    diag_at(DIAG_ERROR, &op->loc, "Gemm: A and B must have rank 2 (got %d and %d)",
            ta->rank, tb->rank);
    return false;
  }
  if (ta->elem != tb->elem) {
    diag_at(DIAG_ERROR, &op->loc, "Gemm: A is %s but B is %s",
            ir_elem_name(ta->elem), ir_elem_name(tb->elem));
    return false;
  }
  int tA = ir_attr_int(op, "transA", 0) != 0, tB = ir_attr_int(op, "transB", 0) != 0;
  const IrValue *A = op->operands[0], *B = op->operands[1];
  int64_t M = lw_dim(A, tA), K = lw_dim(A, !tA);
  int64_t K2 = lw_dim(B, tB), N = lw_dim(B, !tB);
  if (K != K2) {
    char ka[64], kb[64];
    diag_at(DIAG_ERROR, &op->loc, "Gemm: A has K=%s but B has K=%s",
            mm_dim_str(m, K, ka, sizeof ka), mm_dim_str(m, K2, kb, sizeof kb));
    return false;
  }
  int64_t dims[2] = {M, N};
  if (op->num_operands > 2 && op->operands[2]) {
    if (!nn_check_operand_dyn(op, 2, "C", NN_FLOAT | NN_INT)) return false;
    const IrType *tc = &op->operands[2]->type;
    bool ok = tc->rank <= 2 && tc->elem == ta->elem;
    for (int i = 0; ok && i < tc->rank; i++) {
      int64_t d = lw_dim(op->operands[2], i);
      ok = d == 1 || d == dims[2 - tc->rank + i];
    }
    if (!ok) {
      char buf[128], sm[64], sn[64];
      diag_at(DIAG_ERROR, &op->loc, "Gemm: C of type %s does not broadcast to "
              "[%s,%s]", ir_type_str(m, tc, buf, sizeof buf),
              mm_dim_str(m, M, sm, sizeof sm), mm_dim_str(m, N, sn, sizeof sn));
      return false;
    }
  }
  op->results[0]->type = lw_type(IR_TYPE_TENSOR, ta->elem, 2, dims);
  return true;
}

typedef struct GemmCtx {
  IrValue *A, *B, *C, *Y;
  bool tA, tB;
  double alpha, beta;
  int64_t M, N, K;
  IrElem ce;
} GemmCtx;

static IrValue *gemm_load_a(LwCtx *c, const GemmCtx *g, IrValue *i, IrValue *k) {
  IrValue *idx[2] = {g->tA ? k : i, g->tA ? i : k};
  return nn_load(c, g->A, idx);
}

static IrValue *gemm_load_b(LwCtx *c, const GemmCtx *g, IrValue *k, IrValue *j) {
  IrValue *idx[2] = {g->tB ? j : k, g->tB ? k : j};
  return nn_load(c, g->B, idx);
}

/* beta * C[i, j] (broadcast), or NULL when there is no C term. */
static IrValue *gemm_c_term(LwCtx *c, const GemmCtx *g, IrValue *i, IrValue *j) {
  if (!g->C || g->beta == 0) return NULL;
  IrValue *ivs[2] = {i, j}, *idx[2];
  int64_t dims[2] = {g->M, g->N};
  lw_broadcast_index(c, g->C, 2, dims, ivs, idx);
  IrValue *v = nn_load(c, g->C, idx);
  return g->beta == 1 ? v : lw_bin(c, IR_OP_A_MUL, v, lw_const_f(c, g->ce, g->beta));
}

static IrValue *gemm_scale(LwCtx *c, const GemmCtx *g, IrValue *v) {
  return g->alpha == 1 ? v : lw_bin(c, IR_OP_A_MUL, v, lw_const_f(c, g->ce, g->alpha));
}

static void gemm_dot(LwCtx *c, const GemmCtx *g, IrValue *i) {
  IrValue *j, *k, *acc, *zero = lw_const_f(c, g->ce, 0);
  IrOp *lj = lw_for_begin(c, lw_index(c, 0), lw_dim_index(c, g->N), 1, &j);
  IrOp *lk = lw_for_begin_iter(c, lw_index(c, 0), lw_dim_index(c, g->K), 1, 1, &zero,
                               &k, &acc);
  IrValue *sum = nn_madd(c, gemm_load_a(c, g, i, k), gemm_load_b(c, g, k, j), acc);
  lw_for_end_iter(c, lk, 1, &sum);
  IrValue *y = gemm_scale(c, g, lk->results[0]), *ct = gemm_c_term(c, g, i, j);
  if (ct) y = lw_bin(c, IR_OP_A_ADD, y, ct);
  nn_store(c, y, g->Y, (IrValue *[]){i, j});
  lw_for_end(c, lj);
}

static void gemm_rows(LwCtx *c, const GemmCtx *g, IrValue *i) {
  IrValue *j, *k;
  IrOp *lj = lw_for_begin(c, lw_index(c, 0), lw_dim_index(c, g->N), 1, &j);
  IrValue *init = gemm_c_term(c, g, i, j);
  lw_store(c, init ? init : lw_const_f(c, g->ce, 0), g->Y, (IrValue *[]){i, j});
  lw_for_end(c, lj);
  IrOp *lk = lw_for_begin(c, lw_index(c, 0), lw_dim_index(c, g->K), 1, &k);
  IrValue *a = gemm_scale(c, g, gemm_load_a(c, g, i, k));
  lj = lw_for_begin(c, lw_index(c, 0), lw_dim_index(c, g->N), 1, &j);
  IrValue *yi[2] = {i, j};
  lw_store(c, nn_madd(c, a, gemm_load_b(c, g, k, j), lw_load(c, g->Y, yi)), g->Y, yi);
  lw_for_end(c, lj);
  lw_for_end(c, lk);
}

static bool gemm_kernel(LwCtx *c, const GemmCtx *g) {
  int64_t dims[3] = {g->M, g->N, g->K};
  const float *bw = gk_weight_f32(g->B);
  int64_t cdims[2];
  if (!mm_kernel_fits(c, g->Y, 3, dims, g->N) || (g->tB && !bw) ||
      (g->C && !mm_all_static(lw_dims(g->C, cdims), cdims)))
    return false;
  MmKernel v = {.A = gk_flat(c, g->A), .Y = gk_flat(c, g->Y), .M = g->M, .N = g->N,
                .K = g->K, .tA = g->tA, .alpha = g->alpha, .beta = g->beta};
  if (g->C) {
    int r = lw_rank(g->C);
    v.C = r ? gk_flat(c, g->C) : nn_view(c, g->C, 1, (int64_t[]){1});
    v.c_cols = r ? lw_dim(g->C, r - 1) : 1;
    v.c_rows = r == 2 ? lw_dim(g->C, 0) : 1;
  }
  GemmSched sched;
  sched_gemm(c->target, c->sched, g->M, g->N, g->K, SCHED_A_IN_PLACE,
             bw ? g->K * g->N * (int64_t)sizeof(float) : 0, &sched);
  if (bw) {
    MmPackB pb = {bw, g->K, g->N, g->tB};
    v.Bp = gk_pack(c, g->B, 1, g->N, g->K, (int64_t)sched.nv * sched.lanes, mm_b_get, &pb);
  } else {
    v.B = gk_flat(c, g->B);
  }
  mm_kernel_emit(c, &v, &sched, 0, NULL, NULL, NULL, false);
  return true;
}

bool op_gemm_lower(LwCtx *c, IrOp *op) {
  GemmCtx g = {
      .A = c->in[0], .B = c->in[1], .C = op->num_operands > 2 ? c->in[2] : NULL,
      .Y = c->out[0], .tA = ir_attr_int(op, "transA", 0) != 0,
      .tB = ir_attr_int(op, "transB", 0) != 0,
      .alpha = ir_attr_float(op, "alpha", 1), .beta = ir_attr_float(op, "beta", 1),
      .M = lw_dim(c->out[0], 0), .N = lw_dim(c->out[0], 1),
      .ce = nn_calc_elem(lw_elem(c->out[0])),
  };
  g.K = lw_dim(g.A, g.tA ? 0 : 1);
  if (gemm_kernel(c, &g)) return true;
  /* a run-time N is taken as wide: the row form */
  bool dot = g.tB || (!LW_DIM_IS_DYN(g.N) && g.N < 4) || g.ce != lw_elem(g.Y);
  IrValue *i;
  IrOp *li = lw_for_begin(c, lw_index(c, 0), lw_dim_index(c, g.M), 1, &i);
  if (dot)
    gemm_dot(c, &g, i);
  else
    gemm_rows(c, &g, i);
  lw_for_end(c, li);
  return true;
}
