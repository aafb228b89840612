/*
 * gemm_kernel.c — the register-blocked matrix-product kernel (see
 * gemm_kernel.h for the loop structure and the operand conventions).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_kernel.h"
#include "nn_util.h"

const float *gk_weight_f32(const IrValue *v) {
  uint64_t n;
  if (!v || !v->weight || !v->weight->data || v->type.elem != IR_F32 ||
      !ir_type_numel(&v->type, &n) || v->weight->nbytes != n * sizeof(float))
    return NULL;
  return v->weight->data;
}

IrValue *gk_flat(LwCtx *c, IrValue *buf) {
  if (buf->type.rank == 1) return buf;
  uint64_t n;
  IR_ASSERT(ir_type_numel(&buf->type, &n));
  int64_t dims[1] = {(int64_t)n};
  return ir_build1(&c->b, IR_OP_VIEW, 1, &buf,
                   ir_type_buffer(buf->type.elem, 1, dims));
}

IrValue *gk_axpy(LwCtx *c, IrValue *base, IrValue *v, int64_t k) {
  if (!v || k == 0) return base;
  IrValue *t = k == 1 ? v : lw_bin(c, IR_OP_A_MUL, v, lw_index(c, k));
  return base ? lw_bin(c, IR_OP_A_ADD, base, t) : t;
}

/* base + k (k a constant). */
static IrValue *gk_plus(LwCtx *c, IrValue *base, int64_t k) {
  return k ? lw_bin(c, IR_OP_A_ADD, base, lw_index(c, k)) : base;
}

/* ------------------------------------------------------- fused epilogue */
bool gk_fused_check(IrModule *m, IrOp *op) {
  const char *name = ir_op_info(op->kind)->name;
  const IrValue *R = op->num_operands > 3 ? op->operands[3] : NULL;
  const IrType *yt = &op->results[0]->type;
  if (R && !ir_type_equal(&R->type, yt)) {
    char a[128], b[128];
    diag_at(DIAG_ERROR, &op->loc, "%s: R has type %s; expected %s", name,
            ir_type_str(m, &R->type, a, sizeof a), ir_type_str(m, yt, b, sizeof b));
    return false;
  }
  const char *act = ir_attr_string(op, "act", NULL);
  if (!act) return true;
  int kind = ir_op_by_name(act, strlen(act));
  if (kind == IR_OP_COUNT || !ew_fusable_activation(kind) || yt->elem != IR_F32) {
    diag_at(DIAG_ERROR, &op->loc, "%s: act=\"%s\" is not an activation an f32 "
            "kernel can apply", name, act);
    return false;
  }
  return true;
}

IrValue *gk_fused_tail(LwCtx *c, const IrOp *op, IrValue *R, IrValue *ridx, int lanes,
                       IrValue *y) {
  if (R) y = lw_bin(c, IR_OP_A_ADD, y, lw_vload(c, R, &ridx, lanes));
  const char *act = ir_attr_string(op, "act", NULL);
  if (act) y = ew_activation(c, op, ir_op_by_name(act, strlen(act)), y, lanes);
  return y;
}

/* A weight name "<base>.<suffix><i>" that the module does not hold yet. */
static void gk_weight_name(LwCtx *c, const IrValue *from, const char *suffix, char *name,
                           size_t size) {
  const char *base = from && from->weight ? from->weight->name : "w";
  for (int i = 0;; i++) {
    snprintf(name, size, "%s.%s%d", base, suffix, i);
    if (!ir_weight_find(c->m, name)) return;
  }
}

/* n elements of e packed from `from` as the weight
 * <from>.packed<i>; data is freed, and from's pages, read no more, go. */
static IrValue *gk_packed_weight(LwCtx *c, const IrValue *from, IrElem e, void *data,
                                 int64_t n) {
  char name[256];
  gk_weight_name(c, from, "packed", name, sizeof name);
  int64_t dims[1] = {n};
  IrWeight *w = ir_weight_add(c->m, name, ir_type_tensor(e, 1, dims), data,
                              (uint64_t)n * ir_elem_size(e), true);
  free(data);
  if (from && from->weight) ir_weight_release_pages(c->m, from->weight);
  return w->value;
}

void gk_rows_in_place(LwCtx *c, IrValue *buf, IrValue *off, IrValue *i0, IrValue *k0,
                      int64_t ld, GkOperand *a) {
  a->buf = buf;
  a->base = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, off, i0, ld), k0);
  a->rs = ld, a->ks = 1;
  a->packed = false;
}

/* ------------------------------------------------------------- int8 */
bool gk_is_quantized(const IrOp *op, int w_at) {
  return op->num_operands > w_at && op->operands[w_at] &&
         op->operands[w_at]->type.elem == IR_I8;
}

bool gk_quant_check(IrOp *op, int w_at, int scale_at, int64_t channels) {
  const char *name = ir_op_info(op->kind)->name;
  const IrValue *W = op->operands[w_at];
  const IrValue *S = op->num_operands > scale_at ? op->operands[scale_at] : NULL;
  double xs = ir_attr_float(op, "x_scale", 0);
  int64_t zp = ir_attr_int(op, "x_zero_point", -1);
  uint64_t n;
  if (!W->weight || !W->weight->data || !S || !S->weight || !S->weight->data ||
      S->type.elem != IR_F32 || S->type.rank != 1 || !ir_type_numel(&S->type, &n) ||
      n != (uint64_t)channels) {
    diag_at(DIAG_ERROR, &op->loc, "%s: an i8 W needs to be a weight, with operand %d "
            "w_scale an f32[%lld] weight", name, scale_at, (long long)channels);
    return false;
  }
  if (!ir_attr_int(op, "x_dynamic", 0) && (!(xs > 0 && xs < 1e30) || zp < 0 || zp > 255)) {
    diag_at(DIAG_ERROR, &op->loc, "%s: an i8 W needs x_scale > 0 and x_zero_point in "
            "0..255", name);
    return false;
  }
  const float *ws = S->weight->data;
  for (int64_t i = 0; i < channels; i++)
    if (!(ws[i] > 0 && ws[i] < 1e30)) {
      diag_at(DIAG_ERROR, &op->loc, "%s: w_scale[%lld] is %g; scales must be positive "
              "and finite", name, (long long)i, ws[i]);
      return false;
    }
  return true;
}

void gk_quant_channels(LwCtx *c, const IrOp *op, const IrValue *w_scale, int64_t channels,
                       int64_t K, int (*w)(const void *user, int64_t n, int64_t k),
                       const void *user, GkQuant *q) {
  bool dynamic = ir_attr_int(op, "x_dynamic", 0);
  /* dynamic: corr = sum W and scale = w_scale, times the run's values */
  q->x_scale = dynamic ? 1.0f : (float)ir_attr_float(op, "x_scale", 1);
  q->zero_point = dynamic ? 1 : (int)ir_attr_int(op, "x_zero_point", 0);
  q->params = NULL;
  int32_t *corr = malloc((size_t)channels * sizeof *corr);
  float *scale = malloc((size_t)channels * sizeof *scale);
  IR_ASSERT(corr && scale);
  const float *ws = w_scale->weight->data;
  for (int64_t n = 0; n < channels; n++) {
    int64_t sum = 0;
    for (int64_t k = 0; k < K; k++) sum += w(user, n, k);
    corr[n] = (int32_t)(sum * q->zero_point);
    scale[n] = q->x_scale * ws[n];
  }
  int64_t dims[1] = {channels};
  char name[256];
  gk_weight_name(c, w_scale, "corr", name, sizeof name);
  q->corr = ir_weight_add(c->m, name, ir_type_tensor(IR_I32, 1, dims), corr,
                          (uint64_t)channels * sizeof *corr, true)->value;
  gk_weight_name(c, w_scale, "scale", name, sizeof name);
  q->scale = ir_weight_add(c->m, name, ir_type_tensor(IR_F32, 1, dims), scale,
                           (uint64_t)channels * sizeof *scale, true)->value;
  free(corr);
  free(scale);
}

IrValue *gk_dequantize(LwCtx *c, IrValue *acc, IrValue *corr, IrValue *scale) {
  return lw_bin(c, IR_OP_A_MUL, lw_cast(c, lw_bin(c, IR_OP_A_SUB, acc, corr), IR_F32), scale);
}

/* X's scale and zero point (f32 scalars): the op's, or this run's. */
static IrValue *gk_x_param(LwCtx *c, const GkQuant *q, int which) {
  if (!q->params) return lw_const_f(c, IR_F32, which ? q->zero_point : q->x_scale);
  IrValue *i = lw_index(c, which);
  return lw_load(c, q->params, &i);
}

IrValue *gk_quantize(LwCtx *c, const GkQuant *q, IrValue *x) {
  int lanes = x->type.kind == IR_TYPE_VECTOR ? x->type.lanes : 1;
  IrValue *v = lw_bin(c, IR_OP_A_DIV, x, lw_splat(c, gk_x_param(c, q, 0), lanes));
  IrValue *zp = lw_splat(c, gk_x_param(c, q, 1), lanes);
  return lw_cast(c, quant_saturate(c, v, zp, IR_U8), IR_I32);
}

IrValue *gk_dequantize_channels(LwCtx *c, const GkQuant *q, IrValue *acc, IrValue *j,
                                int lanes) {
  IrValue *corr = lw_vload(c, q->corr, &j, lanes), *scale = lw_vload(c, q->scale, &j, lanes);
  if (q->params) {
    corr = lw_bin(c, IR_OP_A_MUL, corr, lw_splat(c, lw_cast(c, gk_x_param(c, q, 1), IR_I32), lanes));
    scale = lw_bin(c, IR_OP_A_MUL, scale, lw_splat(c, gk_x_param(c, q, 0), lanes));
  }
  return gk_dequantize(c, acc, corr, scale);
}

static IrValue *gk_reduce_lanes(LwCtx *c, IrValue *v, const char *kind) {
  if (v->type.kind != IR_TYPE_VECTOR) return v;
  IrOp *op = ir_build(&c->b, IR_OP_V_REDUCE, 1, &v, 1, &(IrType){0});
  op->results[0]->type = ir_type_scalar(v->type.elem);
  ir_attr_set_string(c->m, op, "kind", kind);
  return op->results[0];
}

void gk_dynamic_params(LwCtx *c, GkQuant *q, IrValue *x, int64_t n, int lanes) {
  int64_t full = n / lanes * lanes;
  IrValue *zero = lw_splat(c, lw_const_f(c, IR_F32, 0), lanes);
  IrValue *range[2] = {zero, zero}; /* from 0: the range holds it */
  if (full) {
    IrValue *i, *acc[2];
    IrOp *l = lw_for_begin_iter(c, lw_index(c, 0), lw_index(c, full), lanes, 2, range, &i, acc);
    IrValue *v = lw_vload(c, x, &i, lanes);
    IrValue *next[2] = {lw_bin(c, IR_OP_A_MIN, acc[0], v), lw_bin(c, IR_OP_A_MAX, acc[1], v)};
    lw_for_end_iter(c, l, 2, next);
    range[0] = l->results[0], range[1] = l->results[1];
  }
  if (n > full) { /* the lanes past n load as 0 */
    c->valid_lanes = lanes > 1 ? (int)(n - full) : 0;
    IrValue *i = lw_index(c, full), *v = lw_vload(c, x, &i, lanes);
    c->valid_lanes = 0;
    range[0] = lw_bin(c, IR_OP_A_MIN, range[0], v);
    range[1] = lw_bin(c, IR_OP_A_MAX, range[1], v);
  }
  IrValue *lo = gk_reduce_lanes(c, range[0], "min"), *hi = gk_reduce_lanes(c, range[1], "max");
  IrValue *scale = lw_bin(c, IR_OP_A_DIV, lw_bin(c, IR_OP_A_SUB, hi, lo),
                          lw_const_f(c, IR_F32, 255));
  IrValue *one = lw_const_f(c, IR_F32, 1);
  scale = lw_select(c, lw_cmp(c, "gt", scale, lw_const_f(c, IR_F32, 0)), scale, one);
  IrValue *zp = lw_un(c, IR_OP_M_ROUND, lw_bin(c, IR_OP_A_DIV, lw_un(c, IR_OP_A_NEG, lo), scale));
  zp = lw_bin(c, IR_OP_A_MIN, zp, lw_const_f(c, IR_F32, 255));
  int64_t dims[1] = {2};
  q->params = lw_alloc(c, IR_F32, 1, dims);
  IrValue *at0 = lw_index(c, 0), *at1 = lw_index(c, 1);
  lw_store(c, scale, q->params, &at0);
  lw_store(c, zp, q->params, &at1);
}

IrValue *gk_word(LwCtx *c, IrValue *const *q4) {
  int lanes = q4[0]->type.kind == IR_TYPE_VECTOR ? q4[0]->type.lanes : 1;
  IrValue *w = q4[0];
  for (int b = 1; b < 4; b++) /* byte b: times 2^(8b), wrapping into the sign bit */
    w = lw_bin(c, IR_OP_A_OR, w,
               lw_bin(c, IR_OP_A_MUL, q4[b], lw_splat(c, lw_const_i(c, IR_I32, 1LL << (8 * b)),
                                                      lanes)));
  return w;
}

IrValue *gk_pack_words(LwCtx *c, const IrValue *from, int64_t batches, int64_t rows,
                       int64_t K, int64_t tile,
                       int (*get)(const void *user, int64_t b, int64_t r, int64_t k),
                       const void *user) {
  int64_t K4 = (K + 3) / 4, n = batches * rows * K4;
  uint32_t *data = malloc((size_t)n * sizeof *data);
  IR_ASSERT(data);
  for (int64_t b = 0; b < batches; b++)
    for (int64_t r0 = 0; r0 < rows; r0 += tile) {
      int64_t w = rows - r0 < tile ? rows - r0 : tile;
      uint32_t *t = data + b * rows * K4 + r0 * K4;
      for (int64_t k = 0; k < K4; k++)
        for (int64_t r = 0; r < w; r++) {
          uint32_t word = 0;
          for (int64_t q = 0; q < 4 && 4 * k + q < K; q++)
            word |= (uint32_t)(uint8_t)(int8_t)get(user, b, r0 + r, 4 * k + q) << (8 * q);
          t[k * w + r] = word;
        }
    }
  return gk_packed_weight(c, from, IR_I32, data, n);
}

/* ----------------------------------------------------------- packing */
static bool gk_half(IrElem e) { return e == IR_F16 || e == IR_BF16; }

IrValue *gk_load(LwCtx *c, IrValue *buf, IrValue *idx, int lanes) {
  IrValue *v = lw_vload(c, buf, &idx, lanes);
  return gk_half(buf->type.elem) ? lw_cast(c, v, IR_F32) : v;
}

IrValue *gk_pack(LwCtx *c, const IrValue *from, int64_t batches, int64_t rows,
                 int64_t K, int64_t tile,
                 double (*get)(const void *user, int64_t b, int64_t r, int64_t k),
                 const void *user) {
  int64_t n = batches * rows * K;
  IrElem store = c->target && gk_half(c->target->weight_store) ? c->target->weight_store : IR_F32;
  void *data = malloc((size_t)n * ir_elem_size(store));
  IR_ASSERT(data);
  for (int64_t b = 0; b < batches; b++)
    for (int64_t r0 = 0; r0 < rows; r0 += tile) {
      int64_t w = rows - r0 < tile ? rows - r0 : tile;
      size_t t = (size_t)(b * rows * K + r0 * K);
      for (int64_t k = 0; k < K; k++)
        for (int64_t r = 0; r < w; r++) {
          double v = get(user, b, r0 + r, k);
          if (store == IR_F32) ((float *)data)[t + (size_t)(k * w + r)] = (float)v;
          else ir_elem_store_f64(store, data, t + (size_t)(k * w + r), v);
        }
    }
  return gk_packed_weight(c, from, store, data, n);
}

void gk_packed_operand(LwCtx *c, IrValue *packed, int64_t rows_total, int64_t K,
                       IrValue *batch, IrValue *r0, int64_t w, IrValue *k0,
                       GkOperand *op) {
  /* the tiles before r0 hold r0 * K elements */
  IrValue *base = gk_axpy(c, gk_axpy(c, NULL, r0, K), batch, rows_total * K);
  op->buf = packed;
  op->base = gk_axpy(c, base, k0, w);
  op->rs = 1;
  op->ks = w;
  op->packed = true;
}

/* ------------------------------------------------------------ the kernel */
/* A loop that runs its body once when cond holds (the loop level has no
 * `if`): for _ in 0 .. (cond ? 1 : 0). */
static IrOp *gk_if_begin(LwCtx *c, IrValue *cond) {
  IrValue *iv;
  return lw_for_begin(c, lw_index(c, 0),
                      lw_select(c, cond, lw_index(c, 1), lw_index(c, 0)), 1, &iv);
}

/* One column block and K block.  With one K block the sums start at zero
 * and end in the epilogue; with several (a loop: one copy of the tiles, so
 * compile time does not double) they start at zero in the first block and
 * from C in the others, and the epilogue's value is stored in the last. */
typedef struct GkBlock {
  IrValue *jb, *k0;   /* column block start, K block start */
  int64_t ncols;
  IrValue *kc;        /* this K block's length */
  IrValue *first;     /* bool: the first K block; NULL: the only one */
  IrValue *last;      /* bool: the last K block; NULL: the only one */
  IrValue *task;      /* the parallel task running the block (0 without tasks) */
} GkBlock;

/* C(i0 + r, j) as an index of the flat C buffer. */
static IrValue *gk_c_index(LwCtx *c, const GkGemm *g, IrValue *i0, int r,
                           IrValue *j) {
  IrValue *row = gk_axpy(c, g->c_base, gk_plus(c, i0, r), g->c_rs);
  return lw_bin(c, IR_OP_A_ADD, row, j);
}

/* In a tile's k loop, for an operand packed at compile time whose `width`
 * elements per k start at `at`: a prefetch of each 64-byte line of the
 * elements prefetch_bytes ahead, so a weight streaming from memory arrives
 * before the FMAs need it (in L1 already, it costs an issue slot). */
static void gk_prefetch(LwCtx *c, const GkGemm *g, const GkOperand *o, IrValue *at,
                        int64_t width) {
  if (!o->packed || !g->s.prefetch_bytes) return;
  int64_t size = (int64_t)ir_elem_size(o->buf->type.elem), line = 64 / size;
  int64_t ahead = (g->s.prefetch_bytes / size + o->ks - 1) / o->ks * o->ks;
  for (int64_t e = 0; e < width; e += line) {
    IrValue *i = gk_plus(c, at, ahead + e);
    lw_prefetch(c, o->buf, &i);
  }
}

/* One tile: rows x nv vectors of `lanes` at (i0, j0 + co) where j0 is the
 * start of a strip of width w. */
static void gk_tile(LwCtx *c, const GkGemm *g, const GkBlock *bl, IrValue *i0,
                    int rows, IrValue *j0, int64_t w, IrValue *col, int nv,
                    int lanes) {
  GkOperand A = {0}, B = {0};
  g->a_tile(c, g->user, i0, rows, bl->k0, &A);
  g->b_strip(c, g->user, bl->jb, j0, w, bl->k0, bl->task, &B);
  int n = rows * nv;
  IrValue *init[64], *acc[64], *cidx[64];
  IR_ASSERT(n <= 64);
  /* col: the tile's first column (j0 or inside the strip) */
  IrValue *jt = col ? col : j0;
  IrValue *co = lw_bin(c, IR_OP_A_SUB, jt, j0);
  IrElem acc_elem = g->int8 ? IR_I32 : IR_F32;
  IrValue *zero = lw_splat(c, g->int8 ? lw_const_i(c, IR_I32, 0) : lw_const_f(c, IR_F32, 0),
                           lanes);
  for (int r = 0; r < rows; r++)
    for (int v = 0; v < nv; v++) {
      int t = r * nv + v;
      cidx[t] = gk_c_index(c, g, i0, r, gk_plus(c, jt, (int64_t)v * lanes));
      if (!bl->first) {
        init[t] = zero;
        continue;
      }
      IrValue *old = lw_bitcast(c, lw_vload(c, g->c_buf, &cidx[t], lanes), acc_elem);
      init[t] = lw_select(c, bl->first, zero, old);
    }
  IrValue *kk;
  IrOp *lk = lw_for_begin_iter(c, lw_index(c, 0), bl->kc, 1, n, init, &kk, acc);
  IrValue *bv[4], *sum[64];
  IrValue *brow = lw_bin(c, IR_OP_A_ADD, gk_axpy(c, B.base, kk, B.ks), co);
  gk_prefetch(c, g, &B, brow, nv * lanes);
  for (int v = 0; v < nv; v++) {
    bv[v] = gk_load(c, B.buf, gk_plus(c, brow, (int64_t)v * lanes), lanes);
  }
  IrValue *arow = gk_axpy(c, A.base, kk, A.ks);
  gk_prefetch(c, g, &A, arow, rows);
  for (int r = 0; r < rows; r++) {
    IrValue *a = lw_splat(c, gk_load(c, A.buf, gk_plus(c, arow, r * A.rs), 1), lanes);
    for (int v = 0; v < nv; v++) {
      IrValue *s = acc[r * nv + v];
      if (!g->int8)
        sum[r * nv + v] = lw_fma(c, a, bv[v], s);
      else
        sum[r * nv + v] = g->b_unsigned ? lw_dot4(c, s, bv[v], a) : lw_dot4(c, s, a, bv[v]);
    }
  }
  lw_for_end_iter(c, lk, n, sum);
  for (int r = 0; r < rows; r++)
    for (int v = 0; v < nv; v++) {
      int t = r * nv + v;
      IrValue *y = lk->results[t];
      if (g->epilogue) {
        IrValue *e = g->epilogue(c, g->user, gk_plus(c, i0, r),
                                 gk_plus(c, jt, (int64_t)v * lanes), lanes, y);
        /* an int8 partial sum goes through C as its bits */
        y = bl->last ? lw_select(c, bl->last, e, lw_bitcast(c, y, IR_F32)) : e;
      }
      lw_vstore(c, y, g->c_buf, &cidx[t]);
    }
}

/* The rows a task of the parallel loop covers: all of them, or one group
 * of `per` row tiles (grp: its index value, of `groups`). */
typedef struct GkRows {
  IrValue *grp;
  int64_t groups, per;
} GkRows;

/* Every row tile of the task's rows of the strip at j0 (width w), each as
 * nv vectors of `lanes` from column `col` (NULL: j0). */
static void gk_rows(LwCtx *c, const GkGemm *g, const GkBlock *bl, const GkRows *rr,
                    IrValue *j0, int64_t w, IrValue *col, int nv, int lanes) {
  int mr = g->s.mr;
  int64_t full = g->M / mr * mr;
  if (full) {
    IrValue *lo = lw_index(c, 0), *hi = lw_index(c, full), *i0;
    if (rr->groups > 1) {
      lo = gk_axpy(c, NULL, rr->grp, rr->per * mr);
      hi = lw_bin(c, IR_OP_A_MIN, gk_plus(c, lo, rr->per * mr), hi);
    }
    IrOp *li = lw_for_begin(c, lo, hi, mr, &i0);
    gk_tile(c, g, bl, i0, mr, j0, w, col, nv, lanes);
    lw_for_end(c, li);
  }
  if (g->M == full) return;
  IrOp *l = rr->groups > 1
                ? gk_if_begin(c, lw_cmp(c, "eq", rr->grp, lw_index(c, rr->groups - 1)))
                : NULL;
  gk_tile(c, g, bl, lw_index(c, full), (int)(g->M - full), j0, w, col, nv, lanes);
  if (l) lw_for_end(c, l);
}

/* The strip at j0 of the block's last, narrower strip (rem columns):
 * whole vectors, then the last rem % lanes columns as one vector whose
 * loads and stores touch only those lanes (mem.vload {valid}), so the
 * edge keeps the tile's FMAs instead of a scalar loop per column. */
static void gk_last_strip(LwCtx *c, const GkGemm *g, const GkBlock *bl,
                          const GkRows *rr, IrValue *j0, int64_t rem) {
  int lanes = g->s.lanes;
  int64_t q = rem / lanes;
  if (q) gk_rows(c, g, bl, rr, j0, rem, NULL, (int)q, lanes);
  if (rem == q * lanes) return;
  c->valid_lanes = (int)(rem - q * lanes);
  gk_rows(c, g, bl, rr, j0, rem, gk_plus(c, j0, q * lanes), 1, lanes);
  c->valid_lanes = 0;
}

/* Tasks the parallel loop of a block should have at least, so that the
 * pool's equal static chunks (one per thread) come out nearly equal in
 * time on a few cores: one strip more or less is then a small share. */
enum { GK_MIN_TASKS = 16 };

/* The tiles of one block: strips outside, row tiles inside, so a strip of
 * B (kc x nv*lanes) stays in L1 while every row tile reads it and the A
 * block streams from L2 (the smaller of the two per k).  Without tasks the
 * strips, each cut into groups of row tiles when there are few strips (a
 * narrow layer), are one parallel loop: threads split them, and the loop
 * becomes a function of its own in the object. */
static void gk_block(LwCtx *c, const GkGemm *g, const GkBlock *bl) {
  if (g->prepare) g->prepare(c, g->user, bl->jb, bl->ncols, bl->k0, bl->kc, bl->task);
  int64_t nr = (int64_t)g->s.nv * g->s.lanes;
  int64_t full = bl->ncols / nr, strips = (bl->ncols + nr - 1) / nr;
  int64_t tiles = (g->M + g->s.mr - 1) / g->s.mr;
  GkRows rr = {NULL, 1, tiles};
  if (g->tasks <= 1 && strips < GK_MIN_TASKS && tiles > 1) {
    int64_t want = (GK_MIN_TASKS + strips - 1) / strips;
    rr.per = (tiles + want - 1) / want;
    rr.groups = (tiles + rr.per - 1) / rr.per;
  }
  IrValue *t, *s;
  IrOp *ls = lw_for_begin(c, lw_index(c, 0), lw_index(c, strips * rr.groups), 1, &t);
  if (g->tasks <= 1) ir_attr_set_int(c->m, ls, "parallel", 1);
  if (rr.groups > 1) {
    s = lw_bin(c, IR_OP_A_DIV, t, lw_index(c, rr.groups));
    rr.grp = lw_bin(c, IR_OP_A_REM, t, lw_index(c, rr.groups));
  } else {
    s = t;
  }
  IrValue *j0 = gk_axpy(c, bl->jb, s, nr);
  if (full == strips) {
    gk_rows(c, g, bl, &rr, j0, nr, NULL, g->s.nv, g->s.lanes);
  } else {
    IrOp *l = full ? gk_if_begin(c, lw_cmp(c, "lt", s, lw_index(c, full))) : NULL;
    if (l) {
      gk_rows(c, g, bl, &rr, j0, nr, NULL, g->s.nv, g->s.lanes);
      lw_for_end(c, l);
    }
    l = gk_if_begin(c, lw_cmp(c, "eq", s, lw_index(c, full)));
    gk_last_strip(c, g, bl, &rr, j0, bl->ncols - full * nr);
    lw_for_end(c, l);
  }
  lw_for_end(c, ls);
}

/* One column block: its K blocks, then g->finish. */
static void gk_column_block(LwCtx *c, const GkGemm *g, IrValue *jb, int64_t ncols,
                            IrValue *task) {
  int64_t kc = g->s.kc;
  if (g->K <= kc) {
    GkBlock only = {jb, lw_index(c, 0), ncols, lw_index(c, g->K), NULL, NULL, task};
    gk_block(c, g, &only);
  } else {
    IrValue *k0;
    IrOp *lk = lw_for_begin(c, lw_index(c, 0), lw_index(c, g->K), kc, &k0);
    IrValue *rest = lw_bin(c, IR_OP_A_SUB, lw_index(c, g->K), k0);
    GkBlock bl = {jb, k0, ncols, lw_bin(c, IR_OP_A_MIN, rest, lw_index(c, kc)),
                  lw_cmp(c, "eq", k0, lw_index(c, 0)),
                  lw_cmp(c, "le", rest, lw_index(c, kc)), task};
    gk_block(c, g, &bl);
    lw_for_end(c, lk);
  }
  if (g->finish) g->finish(c, g->user, jb, ncols, task);
}

/* The parallel loop of g->tasks tasks, task t running column blocks
 * [t*per, (t+1)*per) of the nblocks, the last of which may be narrower. */
static void gk_tasks(LwCtx *c, const GkGemm *g, int64_t nc) {
  int64_t full = g->N / nc, nblocks = (g->N + nc - 1) / nc;
  int64_t per = (nblocks + g->tasks - 1) / g->tasks;
  IrValue *t;
  IrOp *lt = lw_for_begin(c, lw_index(c, 0), lw_index(c, g->tasks), 1, &t);
  ir_attr_set_int(c->m, lt, "parallel", 1);
  IrValue *lo = gk_axpy(c, NULL, t, per * nc);
  IrValue *hi = lw_bin(c, IR_OP_A_MIN, gk_plus(c, lo, per * nc), lw_index(c, full * nc));
  IrValue *jb;
  IrOp *lj = lw_for_begin(c, lo, hi, nc, &jb);
  gk_column_block(c, g, jb, nc, t);
  lw_for_end(c, lj);
  if (g->N > full * nc) {
    IrOp *l = gk_if_begin(c, lw_cmp(c, "eq", t, lw_index(c, (nblocks - 1) / per)));
    gk_column_block(c, g, lw_index(c, full * nc), g->N - full * nc, t);
    lw_for_end(c, l);
  }
  lw_for_end(c, lt);
}

void gk_emit(LwCtx *c, const GkGemm *g) {
  lw_note_kernel(c, "packed GEMM %lldx%lldx%lld, register tile %d x %d, K block %lld",
                 (long long)g->M, (long long)g->N, (long long)g->K, g->s.mr,
                 g->s.nv * g->s.lanes, (long long)g->s.kc);
  int64_t nc = g->nc < g->N ? g->nc : g->N, full = g->N / nc * nc;
  if (g->tasks > 1) {
    gk_tasks(c, g, nc);
    return;
  }
  IrValue *task0 = lw_index(c, 0);
  if (full == nc) {
    gk_column_block(c, g, lw_index(c, 0), nc, task0);
  } else if (full) {
    IrValue *jb;
    IrOp *lj = lw_for_begin(c, lw_index(c, 0), lw_index(c, full), nc, &jb);
    gk_column_block(c, g, jb, nc, task0);
    lw_for_end(c, lj);
  }
  if (g->N > full) gk_column_block(c, g, lw_index(c, full), g->N - full, task0);
}
