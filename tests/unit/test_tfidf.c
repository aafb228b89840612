/* test_tfidf.c — TfIdfVectorizer (ir/ops/tfidf.c): the canonical form and
 * result types, the counts, IDF and TFIDF weights run through the lowering
 * in the interpreter (numbers counted by hand following the onnxruntime /
 * ONNX reference algorithm), and the exact diagnostics for bad attributes. */
#include "op_test.h"

/* A TfIdfVectorizer on x with the given attributes (weights NULL = none). */
static IrOp *tfidf(IrModule *m, IrValue *x, const char *mode, int64_t min_len,
                   int64_t max_len, int64_t skip, int n_counts, const int64_t *counts,
                   int n_idx, const int64_t *idx, int n_pool, const int64_t *pool,
                   int n_w, const double *w) {
  IrOp *op = op_new(m, IR_OP_TFIDF_VECTORIZER, 1, &x, 1);
  ir_attr_set_string(m, op, "mode", mode);
  ir_attr_set_int(m, op, "min_gram_length", min_len);
  ir_attr_set_int(m, op, "max_gram_length", max_len);
  ir_attr_set_int(m, op, "max_skip_count", skip);
  ir_attr_set_ints(m, op, "ngram_counts", n_counts, counts);
  ir_attr_set_ints(m, op, "ngram_indexes", n_idx, idx);
  ir_attr_set_ints(m, op, "pool_int64s", n_pool, pool);
  if (w) ir_attr_set_floats(m, op, "weights", n_w, w);
  return op;
}

/* The pool of the ONNX backend tests: unigrams 2 3 5 4, bigrams 5,6 7,8 6,7. */
static const int64_t counts[] = {0, 4}, idx7[] = {0, 1, 2, 3, 4, 5, 6};
static const int64_t pool[] = {2, 3, 5, 4, 5, 6, 7, 8, 6, 7};
static const double w4[] = {0.5, 2.0, 0.25, 9.0};
static const int32_t seq[12] = {1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8};

static void test_tfidf_uni_and_bigrams(void **state) {
  IrModule *m = *state;
  IrOp *op = tfidf(m, IN(m, IR_I32, 12), "TF", 1, 2, 5, 2, counts, 7, idx7, 10, pool, 0, NULL);
  ir_attr_set_floats(m, op, "weights", 0, w4); /* empty = no weights */
  assert_string_equal(run(m, op, 9), "f32[7]");
  assert_null(ir_attr_get(op, "weights"));
  float y[7];
  exec(m, op, (void *[]){(void *)seq}, (void *[]){y});
  /* 3 three times, 5 once; (7,8) at distances 1, 3 and 6; (6,7) at 1. */
  floats_near(y, (float[]){0, 3, 1, 0, 1, 3, 1}, 7);
}

static void test_tfidf_batch_bigrams(void **state) {
  IrModule *m = *state;
  IrOp *op = tfidf(m, IN(m, IR_I32, 2, 6), "TF", 2, 2, 0, 2, counts, 7, idx7, 10, pool, 0, NULL);
  assert_string_equal(run(m, op, 9), "f32[2,7]");
  float y[14];
  exec(m, op, (void *[]){(void *)seq}, (void *[]){y});
  /* Rows 1 1 3 3 3 7 and 8 6 7 5 6 8: adjacent pairs only, unigrams ignored. */
  floats_near(y, (float[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1}, 14);
}

/* x = 1 2 1 2 3, unigrams {1 -> col 2, 3 -> col 0}, bigrams {(1,2) -> col 1,
 * (2,1) -> col 2}, distances 1 and 2: col 0 = 1, col 1 = 2 ((1,2) at 0 and 2
 * with distance 1), col 2 = 2 + 1 ((2,1) at 1). */
static const int64_t x5[5] = {1, 2, 1, 2, 3};
static const int64_t wcounts[] = {0, 2}, widx[] = {2, 0, 1, 2}, wpool[] = {1, 3, 1, 2, 2, 1};

static void run_weighted(IrModule *m, const char *mode, const double *w, const float *want) {
  IrOp *op = tfidf(m, IN(m, IR_I64, 5), mode, 1, 2, 1, 2, wcounts, 4, widx, 6, wpool, 4, w);
  assert_string_equal(run(m, op, 9), "f32[3]");
  float y[3];
  exec(m, op, (void *[]){(void *)x5}, (void *[]){y});
  floats_near(y, want, 3);
}

static void test_tfidf_tf(void **state) {
  run_weighted(*state, "TF", w4, (float[]){1, 2, 3});
}
static void test_tfidf_idf(void **state) {
  run_weighted(*state, "IDF", w4, (float[]){0.5f, 2, 0.25f});
}
static void test_tfidf_idf_unweighted(void **state) {
  run_weighted(*state, "IDF", NULL, (float[]){1, 1, 1});
}
static void test_tfidf_tfidf(void **state) {
  run_weighted(*state, "TFIDF", w4, (float[]){0.5f, 4, 0.75f});
}

/* An i32 input never matches a pool value outside i32 (no truncation); a
 * size outside [min, max] still takes its n-gram ids; a sequence shorter
 * than the n-grams counts nothing. */
static void test_tfidf_i32_range_and_ids(void **state) {
  IrModule *m = *state;
  const int64_t p[] = {3 + (1LL << 32), 3, 3, 3}, cnt[] = {0, 2}, ix[] = {0, 1, 2};
  IrOp *op = tfidf(m, IN(m, IR_I32, 2, 1), "TF", 1, 1, 0, 2, cnt, 3, ix, 4, p, 0, NULL);
  assert_string_equal(run(m, op, 9), "f32[2,3]");
  int32_t x[2] = {3, 4};
  float y[6];
  exec(m, op, (void *[]){x}, (void *[]){y});
  floats_near(y, (float[]){0, 1, 0, 0, 0, 0}, 6);

  /* Only the bigram (3,3), id 2 after the two unigrams: at distance 1 twice
   * and at distance 2 once in 3 3 3. */
  IrModule *m2 = ir_module_new("t2");
  ir_func_new(m2, "main");
  op = tfidf(m2, IN(m2, IR_I32, 3), "TF", 2, 2, 3, 2, cnt, 3, ix, 4, p, 0, NULL);
  assert_string_equal(run(m2, op, 9), "f32[3]");
  int32_t x3[3] = {3, 3, 3};
  exec(m2, op, (void *[]){x3}, (void *[]){y});
  floats_near(y, (float[]){0, 0, 3}, 3);
  ir_module_free(m2);

  IrModule *m3 = ir_module_new("t3");
  ir_func_new(m3, "main");
  op = tfidf(m3, IN(m3, IR_I32, 2, 1), "TF", 2, 2, 3, 2, cnt, 3, ix, 4, p, 0, NULL);
  assert_string_equal(run(m3, op, 9), "f32[2,3]");
  y[0] = y[5] = -1;
  exec(m3, op, (void *[]){x}, (void *[]){y});
  floats_near(y, (float[]){0, 0, 0, 0, 0, 0}, 6);
  ir_module_free(m3);
}

static const char *diag(IrModule *m, const char *mode, int64_t min_len, int64_t max_len,
                        int64_t skip, int n_counts, const int64_t *cnt, int n_idx,
                        const int64_t *ix, int n_pool, const int64_t *p, int n_w,
                        const double *w) {
  IrOp *op = tfidf(m, IN(m, IR_I64, 4), mode, min_len, max_len, skip, n_counts, cnt, n_idx,
                   ix, n_pool, p, n_w, w);
  return run(m, op, 9);
}

static void test_tfidf_diagnostics(void **state) {
  IrModule *m = *state;
  assert_string_equal(diag(m, "BM25", 1, 2, 0, 2, counts, 7, idx7, 10, pool, 0, NULL),
                      "error: TfIdfVectorizer: attribute 'mode' must be TF, IDF or TFIDF, "
                      "not 'BM25'");
  assert_string_equal(diag(m, "TF", 0, 2, 0, 2, counts, 7, idx7, 10, pool, 0, NULL),
                      "error: TfIdfVectorizer: min_gram_length must be >= 1, got 0");
  assert_string_equal(diag(m, "TF", 2, 1, 0, 2, counts, 7, idx7, 10, pool, 0, NULL),
                      "error: TfIdfVectorizer: max_gram_length 1 is less than "
                      "min_gram_length 2");
  assert_string_equal(diag(m, "TF", 1, 2, -1, 2, counts, 7, idx7, 10, pool, 0, NULL),
                      "error: TfIdfVectorizer: max_skip_count must be >= 0, got -1");
  assert_string_equal(diag(m, "TF", 1, 2, 0, 2, (int64_t[]){4, 0}, 7, idx7, 10, pool, 0, NULL),
                      "error: TfIdfVectorizer: ngram_counts must be nondecreasing offsets "
                      "into pool_int64s (10 values), got 0");
  assert_string_equal(diag(m, "TF", 1, 2, 0, 2, (int64_t[]){0, 3}, 7, idx7, 10, pool, 0, NULL),
                      "error: TfIdfVectorizer: pool_int64s has 7 values for the 2-grams, "
                      "not whole n-grams");
  assert_string_equal(diag(m, "TF", 1, 2, 0, 2, counts, 6, idx7, 10, pool, 0, NULL),
                      "error: TfIdfVectorizer: ngram_indexes has 6 entries but the pool "
                      "holds 7 n-grams");
  assert_string_equal(diag(m, "TF", 1, 2, 0, 2, counts, 7, (int64_t[]){0, 1, 2, -3, 4, 5, 6},
                           10, pool, 0, NULL),
                      "error: TfIdfVectorizer: ngram_indexes[3] = -3 is not a valid output "
                      "column");
  assert_string_equal(diag(m, "TF", 1, 2, 0, 2, counts, 7, idx7, 10,
                           (int64_t[]){2, 3, 5, 4, 5, 6, 7, 8, 5, 6}, 0, NULL),
                      "error: TfIdfVectorizer: pool_int64s holds the 2-gram at offset 8 twice");
  assert_string_equal(diag(m, "TF", 1, 2, 0, 2, counts, 7, idx7, 10, pool, 3,
                           (double[]){1, 2, 3}),
                      "error: TfIdfVectorizer: weights has 3 values but ngram_indexes has 7");
  assert_string_equal(diag(m, "TFIDF", 1, 1, 0, 1, (int64_t[]){0}, 2, (int64_t[]){0, 5}, 2,
                           (int64_t[]){1, 2}, 2, (double[]){1, 2}),
                      "error: TfIdfVectorizer: weights (2 values) are indexed by output "
                      "column and must cover all 6 columns");

  IrOp *op = tfidf(m, IN(m, IR_I64, 4), "TF", 1, 2, 0, 2, counts, 7, idx7, 10, pool, 0, NULL);
  ir_attr_set_strings(m, op, "pool_strings", 2, (const char *[]){"a", "b"});
  assert_string_equal(run(m, op, 9), "error: TfIdfVectorizer: string tensors are not "
                                     "supported (attribute 'pool_strings'); only integer "
                                     "inputs with pool_int64s");
  op = tfidf(m, IN(m, IR_F32, 4), "TF", 1, 2, 0, 2, counts, 7, idx7, 10, pool, 0, NULL);
  assert_string_equal(run(m, op, 9), "error: TfIdfVectorizer: input must be i32 or i64 of "
                                     "shape [C] or [N,C], got f32[4]");
  op = tfidf(m, IN(m, IR_I64, 4), "TF", 1, 2, 0, 2, counts, 7, idx7, 10, pool, 0, NULL);
  ir_attr_remove(op, "max_skip_count");
  assert_string_equal(run(m, op, 9),
                      "error: TfIdfVectorizer: attribute 'max_skip_count' is required");
  ir_attr_remove(op, "pool_int64s");
  ir_attr_set_int(m, op, "max_skip_count", 0);
  assert_string_equal(run(m, op, 9), "error: TfIdfVectorizer: attribute 'pool_int64s' is "
                                     "required (a non-empty list of ints)");
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
      T(test_tfidf_uni_and_bigrams), T(test_tfidf_batch_bigrams), T(test_tfidf_tf),
      T(test_tfidf_idf), T(test_tfidf_idf_unweighted), T(test_tfidf_tfidf),
      T(test_tfidf_i32_range_and_ids), T(test_tfidf_diagnostics),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
