/*
 * tfidf.c — TfIdfVectorizer: counts the n-grams of a fixed pool in each row
 * of an integer sequence, with skips, and weights the counts.
 *
 * Canonical form: tfidf_vectorizer {max_gram_length, max_skip_count,
 * min_gram_length, mode, ngram_counts, ngram_indexes, pool_int64s,
 * weights?}: x i32/i64[C] or [N,C] -> f32[W] or [N,W], W = max(ngram_indexes)
 * + 1.  tcc has no string type, so pool_strings is refused.
 *
 * Semantics (those of onnxruntime and the ONNX reference): the pool holds
 * the 1-grams from ngram_counts[0], the 2-grams from ngram_counts[1], ...;
 * the i-th n-gram of the pool (counting every size, also those outside
 * [min_gram_length, max_gram_length]) adds to column ngram_indexes[i].  A
 * k-gram with k >= 2 is the items at s, s+d, ..., s+(k-1)d for every skip
 * distance d in 1..max_skip_count+1; unigrams are counted once.  TF gives
 * the counts, IDF weights[col] (1 without weights) where the count is > 0,
 * TFIDF count * weights[col]: weights are indexed by output column.
 *
 * The pool is a compile-time constant, so the lowering unrolls it: per row,
 * per n-gram size and skip distance, a loop over the window starts loads the
 * window once and compares it with every pool n-gram of that size,
 * bumping the n-gram's output column on a match (O(C * skips * pool)).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datamove.h"

#define TF_NAME "TfIdfVectorizer"

enum { TF_TF, TF_IDF, TF_TFIDF };

/* The checked attributes. */
typedef struct TfSpec {
  int mode;
  int64_t min_len, max_len, skip;
  int n_counts, n_idx, n_pool, n_w;
  const int64_t *counts, *idx, *pool;
  const double *w; /* NULL without weights */
  int64_t width;   /* output columns */
} TfSpec;

static bool tf_err(const IrOp *op, const char *fmt, const char *a, long long x,
                   long long y) {
  char text[512];
  snprintf(text, sizeof text, fmt, a, x, y);
  diag_at(DIAG_ERROR, &op->loc, TF_NAME ": %s", text);
  return false;
}

/* A required INT attribute. */
static bool tf_int(const IrOp *op, const char *name, int64_t *out) {
  if (!ir_attr_get(op, name)) return tf_err(op, "attribute '%s' is required", name, 0, 0);
  return dm_attr_int(op, name, 0, out);
}

/* A required, non-empty INTS attribute. */
static bool tf_ints(const IrOp *op, const char *name, int *n, const int64_t **v) {
  if (!dm_attr_ints(op, name, n, v)) return false;
  if (*n <= 0) return tf_err(op, "attribute '%s' is required (a non-empty list of ints)",
                             name, 0, 0);
  return true;
}

/* First index of the size-k group in the pool and its item count. */
static void tf_group(const TfSpec *s, int k, int64_t *start, int64_t *items) {
  *start = s->counts[k - 1];
  int64_t end = k < s->n_counts ? s->counts[k] : s->n_pool;
  *items = end - *start;
}

static bool tf_spec(const IrOp *op, TfSpec *s) {
  memset(s, 0, sizeof *s);
  if (ir_attr_get(op, "pool_strings"))
    return tf_err(op, "string tensors are not supported (attribute '%s'); only integer "
                  "inputs with pool_int64s", "pool_strings", 0, 0);
  const char *mode;
  if (!dm_attr_string(op, "mode", NULL, &mode)) return false;
  if (!mode) return tf_err(op, "attribute '%s' is required", "mode", 0, 0);
  if (!strcmp(mode, "TF")) s->mode = TF_TF;
  else if (!strcmp(mode, "IDF")) s->mode = TF_IDF;
  else if (!strcmp(mode, "TFIDF")) s->mode = TF_TFIDF;
  else return tf_err(op, "attribute 'mode' must be TF, IDF or TFIDF, not '%s'", mode, 0, 0);
  if (!tf_int(op, "min_gram_length", &s->min_len) ||
      !tf_int(op, "max_gram_length", &s->max_len) ||
      !tf_int(op, "max_skip_count", &s->skip) ||
      !tf_ints(op, "ngram_counts", &s->n_counts, &s->counts) ||
      !tf_ints(op, "ngram_indexes", &s->n_idx, &s->idx) ||
      !tf_ints(op, "pool_int64s", &s->n_pool, &s->pool))
    return false;
  if (s->min_len < 1)
    return tf_err(op, "%smin_gram_length must be >= 1, got %lld", "", s->min_len, 0);
  if (s->max_len < s->min_len)
    return tf_err(op, "%smax_gram_length %lld is less than min_gram_length %lld", "",
                  s->max_len, s->min_len);
  if (s->skip < 0)
    return tf_err(op, "%smax_skip_count must be >= 0, got %lld", "", s->skip, 0);
  int64_t prev = 0, ngrams = 0;
  for (int i = 0; i < s->n_counts; i++) {
    if (s->counts[i] < prev || s->counts[i] > s->n_pool)
      return tf_err(op, "%sngram_counts must be nondecreasing offsets into pool_int64s "
                    "(%lld values), got %lld", "", s->n_pool, s->counts[i]);
    prev = s->counts[i];
  }
  for (int k = 1; k <= s->n_counts; k++) {
    int64_t start, items;
    tf_group(s, k, &start, &items);
    if (items % k)
      return tf_err(op, "%spool_int64s has %lld values for the %lld-grams, not whole "
                    "n-grams", "", items, k);
    ngrams += items / k;
  }
  if (ngrams != s->n_idx)
    return tf_err(op, "%sngram_indexes has %lld entries but the pool holds %lld n-grams",
                  "", s->n_idx, ngrams);
  for (int i = 0; i < s->n_idx; i++) {
    if (s->idx[i] < 0 || s->idx[i] >= INT32_MAX)
      return tf_err(op, "%sngram_indexes[%lld] = %lld is not a valid output column", "", i,
                    s->idx[i]);
    if (s->idx[i] + 1 > s->width) s->width = s->idx[i] + 1;
  }
  /* Two equal n-grams would make the count ambiguous (onnxruntime refuses
   * them too); only the sizes that are counted matter. */
  for (int k = 1; k <= s->n_counts; k++) {
    int64_t start, items;
    tf_group(s, k, &start, &items);
    if (k < s->min_len || k > s->max_len) continue;
    for (int64_t a = start; a < start + items; a += k)
      for (int64_t b = a + k; b < start + items; b += k)
        if (!memcmp(s->pool + a, s->pool + b, (size_t)k * sizeof *s->pool))
          return tf_err(op, "%spool_int64s holds the %lld-gram at offset %lld twice", "", k,
                        b);
  }
  const IrAttr *w = ir_attr_get(op, "weights");
  if (w && w->n > 0) {
    if (w->kind != IR_ATTR_FLOATS)
      return tf_err(op, "attribute '%s' must be a list of floats", "weights", 0, 0);
    if (w->n != s->n_idx)
      return tf_err(op, "%sweights has %lld values but ngram_indexes has %lld", "", w->n,
                    s->n_idx);
    if (w->n < s->width)
      return tf_err(op, "%sweights (%lld values) are indexed by output column and must "
                    "cover all %lld columns", "", w->n, s->width);
    s->n_w = w->n;
    s->w = w->floats;
  }
  return true;
}

bool op_tfidf_import(IrModule *m, IrOp *op, int opset) {
  (void)m, (void)opset;
  TfSpec s;
  if (!tf_spec(op, &s)) return false;
  if (!s.w) ir_attr_remove(op, "weights"); /* an empty list is no weights */
  return true;
}

bool op_tfidf_infer(IrModule *m, IrOp *op) {
  (void)m;
  TfSpec s;
  if (!tf_spec(op, &s)) return false;
  const IrType *t = &op->operands[0]->type;
  if (t->kind != IR_TYPE_TENSOR || (t->rank != 1 && t->rank != 2) ||
      (t->elem != IR_I32 && t->elem != IR_I64)) {
    char ts[256];
    diag_at(DIAG_ERROR, &op->loc, TF_NAME ": input must be i32 or i64 of shape [C] or "
            "[N,C], got %s", dm_type_str(op, 0, ts, sizeof ts));
    return false;
  }
  int64_t dims[2] = {t->dims[0].size, s.width}; /* [N, W] */
  dm_set_result(op, 0, IR_F32, t->rank, t->rank == 2 ? dims : dims + 1);
  return true;
}

/* out[row..., col] as an index list. */
static void tf_at(LwCtx *c, IrValue *row, int64_t col, IrValue **idx) {
  int n = 0;
  if (row) idx[n++] = row;
  idx[n] = lw_index(c, col);
}

/* Counts the size-k n-grams of one row (row NULL for 1-D input). */
static void tf_count_size(LwCtx *c, const TfSpec *s, IrValue *row, int k, int64_t start,
                          int64_t n_grams, int64_t first_id, int64_t C) {
  if (C < k) return;
  IrValue *one = lw_const_f(c, IR_F32, 1.0), *zero = lw_const_f(c, IR_F32, 0.0);
  /* Largest skip distance at which a window still fits in C items; the
   * window starts then run over [0, C - (k-1)d). */
  int64_t dmax = k == 1 ? 1 : (C - 1) / (k - 1);
  if (s->skip < dmax - 1) dmax = s->skip + 1;
  IrValue *d = lw_index(c, 1), *hi = lw_index(c, C - (k - 1));
  IrOp *dloop = NULL;
  if (dmax > 1) {
    dloop = lw_for_begin(c, lw_index(c, 1), lw_index(c, dmax + 1), 1, &d);
    hi = lw_bin(c, IR_OP_A_SUB, lw_index(c, C),
                lw_bin(c, IR_OP_A_MUL, d, lw_index(c, k - 1)));
  }
  IrValue *st, *idx[2], *oidx[2];
  IrValue **xs = ir_arena_alloc(c->m->arena, sizeof *xs * (size_t)k);
  IrOp *sloop = lw_for_begin(c, lw_index(c, 0), hi, 1, &st);
  IrValue *pos = st;
  for (int j = 0; j < k; j++) {
    if (j) pos = lw_bin(c, IR_OP_A_ADD, pos, d);
    int n = 0;
    if (row) idx[n++] = row;
    idx[n] = pos;
    xs[j] = lw_load(c, c->in[0], idx);
    if (lw_elem(c->in[0]) != IR_I64) xs[j] = lw_cast(c, xs[j], IR_I64);
  }
  for (int64_t g = 0; g < n_grams; g++) {
    const int64_t *want = s->pool + start + g * k;
    IrValue *match = NULL;
    for (int j = 0; j < k; j++) {
      IrValue *eq = lw_cmp(c, "eq", xs[j], lw_const_i(c, IR_I64, want[j]));
      match = match ? lw_bin(c, IR_OP_A_AND, match, eq) : eq;
    }
    int64_t col = s->idx[first_id + g];
    tf_at(c, row, col, oidx);
    IrValue *cur = lw_load(c, c->out[0], oidx), *v;
    if (s->mode == TF_IDF)
      v = lw_select(c, match, s->w ? lw_const_f(c, IR_F32, (float)s->w[col]) : one, cur);
    else
      v = lw_bin(c, IR_OP_A_ADD, cur, lw_select(c, match, one, zero));
    lw_store(c, v, c->out[0], oidx);
  }
  lw_for_end(c, sloop);
  if (dloop) lw_for_end(c, dloop);
}

bool op_tfidf_lower(LwCtx *c, IrOp *op) {
  TfSpec s;
  if (!tf_spec(op, &s)) return false;
  bool batched = lw_rank(c->in[0]) == 2;
  int64_t rows = batched ? lw_dim(c->in[0], 0) : 1, C = lw_dim(c->in[0], batched ? 1 : 0);
  if (rows == 0) return true;
  IrValue *row = NULL, *oidx[2];
  IrOp *rloop = batched ? lw_for_begin(c, lw_index(c, 0), lw_index(c, rows), 1, &row) : NULL;
  IrValue *zero = lw_const_f(c, IR_F32, 0.0), *ci;
  IrOp *zloop = lw_for_begin(c, lw_index(c, 0), lw_index(c, s.width), 1, &ci);
  int n = 0;
  if (row) oidx[n++] = row;
  oidx[n] = ci;
  lw_store(c, zero, c->out[0], oidx);
  lw_for_end(c, zloop);
  int64_t first_id = 0;
  for (int k = 1; k <= s.n_counts; k++) {
    int64_t start, items;
    tf_group(&s, k, &start, &items);
    if (k >= s.min_len && k <= s.max_len && items > 0)
      tf_count_size(c, &s, row, k, start, items / k, first_id, C);
    first_id += items / k;
  }
  /* TFIDF: scale each counted column once (count * weight, rounded once as
   * the references do); columns no counted n-gram maps to stay 0. */
  if (s.mode == TF_TFIDF && s.w) {
    bool *done = calloc((size_t)s.width, 1);
    if (!done) {
      diag_at(DIAG_ERROR, &op->loc, TF_NAME ": out of memory");
      return false;
    }
    first_id = 0;
    for (int k = 1; k <= s.n_counts; k++) {
      int64_t start, items;
      tf_group(&s, k, &start, &items);
      for (int64_t g = first_id; g < first_id + items / k; g++) {
        int64_t col = s.idx[g];
        if (k < s.min_len || k > s.max_len || done[col]) continue;
        done[col] = true;
        tf_at(c, row, col, oidx);
        IrValue *cur = lw_load(c, c->out[0], oidx);
        lw_store(c, lw_bin(c, IR_OP_A_MUL, cur, lw_const_f(c, IR_F32, (float)s.w[col])),
                 c->out[0], oidx);
      }
      first_id += items / k;
    }
    free(done);
  }
  if (rloop) lw_for_end(c, rloop);
  return true;
}
