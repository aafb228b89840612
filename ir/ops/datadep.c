/*
 * datadep.c — ops whose output size depends on the data: NonZero, Unique
 * and NonMaxSuppression.
 *
 * Each data-dependent output dim is a run-time sym of its own (value -1,
 * lo 0, hi an upper bound that sizes memory).  The shape rule creates it
 * the first time, named after the node (an identifier, unique in the
 * module), and records the name in the op's string attribute `sym`, so
 * re-running infer reuses it.  The lowering counts first, publishes the
 * count with dim.set, then stores the outputs dense at that size: strides
 * of a buffer with a run-time dim follow the sym's current value, so no
 * output is touched before the dim.set.  The caller reads the sym's value
 * back after the run.
 *
 * Canonical forms:
 *   non_zero {sym}                 x -> i64[rank(x), sym]
 *   unique {sorted, axis?, sym}    x -> Y (x with dim `axis` = sym, or
 *       [sym] flattened), indices i64[sym], inverse_indices i64[n] (n =
 *       dim `axis`, or numel), counts i64[sym]; results after Y optional
 *   non_max_suppression {center_point_box, max_output_boxes_per_class,
 *       iou_threshold, score_threshold?, sym}  boxes, scores -> i64[sym, 3];
 *       the ONNX inputs 2..4 must be constants and become attributes.
 *
 * The lowerings are plain quadratic loops (no sort): an element's output
 * position is the number of elements that precede it in the output order.
 * A data-dependent branch is a loop that runs once or never.  Scratch
 * counters live in one-element workspace buffers.
 */
#include <stdio.h>
#include <string.h>

#include "datamove.h"

/* ------------------------------------------------------------- shared */

/* Largest value a dim can take: its size, its sym's bound value or the
 * sym's upper bound; -1 when unbounded. */
static int64_t dd_dim_max(const IrModule *m, IrDim d) {
  int64_t v = ir_dim_fixed(m, d);
  if (v < 0 && d.sym < m->num_syms) v = m->syms[d.sym].hi;
  return v < 0 ? -1 : v;
}

/* a * b for bounds: -1 (unbounded) wins over anything but 0; overflow is
 * unbounded too. */
static int64_t dd_mul(int64_t a, int64_t b) {
  if (a == 0 || b == 0) return 0;
  if (a < 0 || b < 0 || a > INT64_MAX / b) return -1;
  return a * b;
}

static int64_t dd_numel_max(const IrModule *m, const IrType *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n = dd_mul(n, dd_dim_max(m, t->dims[i]));
  return n;
}

static bool dd_dim_equal(IrDim a, IrDim b) {
  return a.sym >= 0 || b.sym >= 0 ? a.sym == b.sym : a.size == b.size;
}

/* The op's run-time sym, bounded by 0..hi.  Its name comes from attribute
 * `sym` when set (a re-run, or IR read from text); else it is the node's
 * name (or the op's) made an identifier, with _2, _3.. appended until no
 * sym of the module has it. */
static int dd_sym(IrModule *m, IrOp *op, int64_t hi) {
  const char *name = ir_attr_string(op, "sym", NULL);
  int s = name ? ir_sym_find(m, name) : -1;
  if (name && s < 0) s = ir_sym_add(m, name, 0, hi);
  if (s >= 0) {
    m->syms[s].lo = 0, m->syms[s].hi = hi;
    return s;
  }
  const char *src = op->loc.node && *op->loc.node ? op->loc.node
                                                  : ir_op_info(op->kind)->name;
  char base[96], cand[128];
  size_t n = 0;
  /* [A-Za-z_][A-Za-z0-9_.]*, and not inf or nan (they lex as numbers) */
  if (!strcmp(src, "inf") || !strcmp(src, "nan")) base[n++] = '_';
  for (const char *p = src; *p && n + 2 < sizeof base; p++) {
    char ch = *p;
    bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
    bool digit = (ch >= '0' && ch <= '9') || ch == '.';
    if (n == 0 && !alpha) base[n++] = '_';
    base[n++] = alpha || digit ? ch : '_';
  }
  base[n] = 0;
  snprintf(cand, sizeof cand, "%s", base);
  for (int k = 2; ir_sym_find(m, cand) >= 0; k++)
    snprintf(cand, sizeof cand, "%s_%d", base, k);
  s = ir_sym_add(m, cand, 0, hi);
  ir_attr_set_string(m, op, "sym", m->syms[s].name);
  return s;
}

static void dd_set_type(IrOp *op, int i, IrElem e, int rank, const IrDim *dims) {
  IrType t = {.kind = IR_TYPE_TENSOR, .elem = e, .rank = rank};
  for (int k = 0; k < rank; k++) t.dims[k] = dims[k];
  op->results[i]->type = t;
}

/* A one-element i64 scratch counter, read and written as an index. */
static IrValue *cell_new(LwCtx *c, int64_t init);
static IrValue *cell_get(LwCtx *c, IrValue *cell) {
  IrValue *z = lw_index(c, 0);
  return lw_cast(c, lw_load(c, cell, &z), IR_INDEX);
}
static void cell_set(LwCtx *c, IrValue *cell, IrValue *v) {
  IrValue *z = lw_index(c, 0);
  lw_store(c, lw_cast(c, v, IR_I64), cell, &z);
}
static IrValue *cell_new(LwCtx *c, int64_t init) {
  IrValue *cell = lw_alloc(c, IR_I64, 1, (int64_t[]){1});
  cell_set(c, cell, lw_index(c, init));
  return cell;
}

static IrValue *add1(LwCtx *c, IrValue *v) { return lw_bin(c, IR_OP_A_ADD, v, lw_index(c, 1)); }
static IrValue *as_i64(LwCtx *c, IrValue *v) { return lw_cast(c, v, IR_I64); }
static IrValue *and2(LwCtx *c, IrValue *a, IrValue *b) { return lw_bin(c, IR_OP_A_AND, a, b); }

/* cond ? 1 : 0 as an index. */
static IrValue *dd_count(LwCtx *c, IrValue *cond) {
  return lw_select(c, cond, lw_index(c, 1), lw_index(c, 0));
}

/* if (cond) { ... }: a loop that runs once or never; close with lw_for_end. */
static IrOp *dd_if(LwCtx *c, IrValue *cond) {
  IrValue *iv;
  return lw_for_begin(c, lw_index(c, 0), dd_count(c, cond), 1, &iv);
}

/* The dim.set publishing op's data-dependent size. */
static void dd_dim_set(LwCtx *c, const IrOp *op, IrValue *n) {
  IrOp *s = ir_build(&c->b, IR_OP_DIM_SET, 1, &n, 0, NULL);
  ir_attr_set_string(c->m, s, "sym", ir_attr_string(op, "sym", ""));
}

/* ------------------------------------------------------------ NonZero */

bool op_non_zero_import(IrModule *m, IrOp *op, int opset) {
  (void)m, (void)op, (void)opset;
  return true;
}

bool op_non_zero_infer(IrModule *m, IrOp *op) {
  const IrType *x = &op->operands[0]->type;
  int s = dd_sym(m, op, dd_numel_max(m, x));
  IrDim d[2] = {{x->rank, -1}, {0, s}};
  dd_set_type(op, 0, IR_I64, 2, d);
  return true;
}

static IrValue *dd_nonzero(LwCtx *c, IrValue *v) {
  IrElem e = v->type.elem;
  if (e == IR_BOOL) return v;
  IrValue *z = ir_elem_is_float(e) ? lw_const_f(c, e, 0) : lw_const_i(c, e, 0);
  return lw_cmp(c, "ne", v, z); /* unordered: NaN counts, as in numpy */
}

/* Y[d, k] = index d of the k-th non-zero element, row-major. */
bool op_non_zero_lower(LwCtx *c, IrOp *op) {
  IrValue *x = c->in[0], *y = c->out[0], *iv[IR_MAX_RANK];
  int r = lw_rank(x);
  int64_t dims[IR_MAX_RANK] = {0};
  for (int i = 0; i < r; i++) dims[i] = lw_dim(x, i);
  LwNest nest;
  IrValue *cnt = cell_new(c, 0);
  lw_nest_begin(c, &nest, r, dims, iv);
  IrValue *n = cell_get(c, cnt);
  cell_set(c, cnt, lw_bin(c, IR_OP_A_ADD, n, dd_count(c, dd_nonzero(c, lw_load(c, x, iv)))));
  lw_nest_end(c, &nest);
  dd_dim_set(c, op, cell_get(c, cnt));
  if (r == 0) return true; /* Y is [0, n]: nothing to store */
  cell_set(c, cnt, lw_index(c, 0));
  lw_nest_begin(c, &nest, r, dims, iv);
  IrOp *when = dd_if(c, dd_nonzero(c, lw_load(c, x, iv)));
  IrValue *k = cell_get(c, cnt);
  for (int d = 0; d < r; d++)
    lw_store(c, as_i64(c, iv[d]), y, (IrValue *[]){lw_index(c, d), k});
  cell_set(c, cnt, add1(c, k));
  lw_for_end(c, when);
  lw_nest_end(c, &nest);
  return true;
}

/* ------------------------------------------------------------- Unique */

bool op_unique_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  int64_t sorted, axis;
  if (!dm_attr_int(op, "sorted", 1, &sorted) || !dm_attr_int(op, "axis", 0, &axis))
    return false;
  if (sorted != 0 && sorted != 1) {
    diag_at(DIAG_ERROR, &op->loc, "Unique: attribute 'sorted' must be 0 or 1, got %lld",
            (long long)sorted);
    return false;
  }
  ir_attr_set_int(m, op, "sorted", sorted);
  return true;
}

/* The axis unique slices run along (0 for the flattened form). */
static bool unique_axis(const IrOp *op, int rank, int *axis) {
  *axis = 0;
  if (!ir_attr_get(op, "axis")) return true;
  return dm_axis(op, "axis", ir_attr_int(op, "axis", 0), rank, axis);
}

bool op_unique_infer(IrModule *m, IrOp *op) {
  const IrType *x = &op->operands[0]->type;
  int axis, rank = x->rank;
  IrDim ydims[IR_MAX_RANK], n;
  if (!unique_axis(op, rank, &axis)) return false;
  if (ir_attr_get(op, "axis")) {
    n = x->dims[axis];
    for (int i = 0; i < rank; i++) ydims[i] = x->dims[i];
  } else if (rank == 1) {
    n = x->dims[0];
    rank = 1;
  } else {
    if (ir_type_is_dynamic(m, x)) {
      char ts[256];
      diag_at(DIAG_ERROR, &op->loc, "Unique: without 'axis' the input %s must have "
              "fixed dims or rank 1 (its flattened size is a product of run-time dims)",
              ir_type_str(m, x, ts, sizeof ts));
      return false;
    }
    n = (IrDim){dd_numel_max(m, x), -1};
    rank = 1;
  }
  int s = dd_sym(m, op, dd_dim_max(m, n));
  IrDim k = {0, s};
  ydims[axis] = k;
  dd_set_type(op, 0, x->elem, rank, ydims);
  if (op->num_results > 1) dd_set_type(op, 1, IR_I64, 1, &k);
  if (op->num_results > 2) dd_set_type(op, 2, IR_I64, 1, &n);
  if (op->num_results > 3) dd_set_type(op, 3, IR_I64, 1, &k);
  return true;
}

/* Loops over every element of a slice: all dims but `axis`, carrying one
 * value.  ivs[axis] is left for the caller to fill in. */
typedef struct DdNest {
  int n;
  IrOp *loops[IR_MAX_RANK];
} DdNest;

static IrValue *dd_slice_begin(LwCtx *c, DdNest *nest, int rank, const int64_t *dims,
                               int axis, IrValue *init, IrValue **ivs) {
  nest->n = 0;
  for (int d = 0; d < rank; d++) {
    if (d == axis) continue;
    nest->loops[nest->n++] = lw_for_begin_iter(c, lw_index(c, 0), lw_dim_index(c, dims[d]),
                                               1, 1, &init, &ivs[d], &init);
  }
  return init;
}

static IrValue *dd_slice_end(LwCtx *c, DdNest *nest, IrValue *yield) {
  for (int i = nest->n - 1; i >= 0; i--) {
    lw_for_end_iter(c, nest->loops[i], 1, &yield);
    yield = nest->loops[i]->results[0];
  }
  return yield;
}

/* Lexicographic comparison of slices a and b of x along axis: 0 equal,
 * 1 a < b, 2 a > b (an index).  The first differing element decides. */
static IrValue *slice_cmp(LwCtx *c, IrValue *x, int axis, IrValue *a, IrValue *b) {
  int r = lw_rank(x);
  int64_t dims[IR_MAX_RANK] = {0};
  IrValue *iv[IR_MAX_RANK], *ia[IR_MAX_RANK], *ib[IR_MAX_RANK];
  for (int i = 0; i < r; i++) dims[i] = lw_dim(x, i);
  DdNest nest;
  IrValue *st = dd_slice_begin(c, &nest, r, dims, axis, lw_index(c, 0), iv);
  for (int i = 0; i < r; i++) ia[i] = ib[i] = iv[i];
  ia[axis] = a, ib[axis] = b;
  IrValue *va = lw_load(c, x, ia), *vb = lw_load(c, x, ib);
  IrValue *now = lw_select(c, lw_cmp(c, "lt", va, vb), lw_index(c, 1),
                           lw_select(c, lw_cmp(c, "gt", va, vb), lw_index(c, 2),
                                     lw_index(c, 0)));
  st = lw_select(c, lw_cmp(c, "eq", st, lw_index(c, 0)), now, st);
  return dd_slice_end(c, &nest, st);
}

/* dst slice `to` (along axis) = x slice `from`. */
static void slice_copy(LwCtx *c, IrValue *x, IrValue *from, IrValue *dst, IrValue *to,
                       int axis) {
  int r = lw_rank(x);
  int64_t dims[IR_MAX_RANK] = {0};
  IrValue *iv[IR_MAX_RANK], *is[IR_MAX_RANK], *id[IR_MAX_RANK];
  for (int i = 0; i < r; i++) dims[i] = lw_dim(x, i);
  DdNest nest;
  IrValue *unused = dd_slice_begin(c, &nest, r, dims, axis, lw_index(c, 0), iv);
  for (int i = 0; i < r; i++) is[i] = id[i] = iv[i];
  is[axis] = from, id[axis] = to;
  lw_store(c, lw_load(c, x, is), dst, id);
  dd_slice_end(c, &nest, unused);
}

/*
 * first[i] = the first slice equal to slice i; the distinct slices are
 * those with first[i] == i, K of them.  pos[i] (for a distinct i) = its
 * output row: the distinct slices before it (sorted=0) or smaller than it
 * (sorted=1).  Then Y[pos[i]] = x[i], indices[pos[i]] = i, and for every
 * i: inverse[i] = pos[first[i]], counts[pos[first[i]]] += 1.
 */
bool op_unique_lower(LwCtx *c, IrOp *op) {
  IrValue *x = c->in[0];
  int axis = 0, nres = op->num_results;
  bool sorted = ir_attr_int(op, "sorted", 1) != 0;
  if (ir_attr_get(op, "axis")) {
    if (!unique_axis(op, lw_rank(x), &axis)) return false;
  } else if (lw_rank(x) != 1) {
    int64_t numel = 1;
    for (int i = 0; i < lw_rank(x); i++) numel *= lw_dim(x, i); /* static: infer */
    x = ir_build1(&c->b, IR_OP_VIEW, 1, &x, ir_type_buffer(lw_elem(x), 1, &numel));
  }
  int64_t nd = lw_dim(x, axis);
  IrValue *n = lw_dim_index(c, nd), *zero = lw_index(c, 0);
  IrValue *first = lw_alloc(c, IR_I64, 1, &nd), *pos = lw_alloc(c, IR_I64, 1, &nd);
  IrValue *i, *j, *f, *k;

  /* first[i]: the smallest j <= i whose slice equals slice i. */
  IrOp *li = lw_for_begin(c, zero, n, 1, &i);
  IrOp *lj = lw_for_begin_iter(c, lw_index(c, 0), add1(c, i), 1, 1, &i, &j, &f);
  IrValue *hit = and2(c, lw_cmp(c, "eq", f, i),
                      lw_cmp(c, "eq", slice_cmp(c, x, axis, j, i), lw_index(c, 0)));
  IrValue *nf = lw_select(c, hit, j, f);
  lw_for_end_iter(c, lj, 1, &nf);
  lw_store(c, as_i64(c, lj->results[0]), first, &i);
  lw_for_end(c, li);

  /* K, and each distinct slice's output row. */
  IrValue *cnt = cell_new(c, 0);
  li = lw_for_begin(c, lw_index(c, 0), n, 1, &i);
  IrValue *fi = lw_cast(c, lw_load(c, first, &i), IR_INDEX);
  IrOp *when = dd_if(c, lw_cmp(c, "eq", fi, i));
  k = cell_get(c, cnt);
  if (sorted) {
    lj = lw_for_begin_iter(c, lw_index(c, 0), n, 1, 1, (IrValue *[]){lw_index(c, 0)}, &j, &f);
    IrValue *fj = lw_cast(c, lw_load(c, first, &j), IR_INDEX);
    IrValue *less = lw_cmp(c, "eq", slice_cmp(c, x, axis, j, i), lw_index(c, 1));
    IrValue *nf2 = lw_bin(c, IR_OP_A_ADD, f, dd_count(c, and2(c, lw_cmp(c, "eq", fj, j), less)));
    lw_for_end_iter(c, lj, 1, &nf2);
    lw_store(c, as_i64(c, lj->results[0]), pos, &i);
  } else {
    lw_store(c, as_i64(c, k), pos, &i);
  }
  cell_set(c, cnt, add1(c, k));
  lw_for_end(c, when);
  lw_for_end(c, li);
  IrValue *kk = cell_get(c, cnt);
  dd_dim_set(c, op, kk);

  /* Outputs, now that their size is known. */
  if (nres > 3) {
    lj = lw_for_begin(c, lw_index(c, 0), kk, 1, &j);
    lw_store(c, lw_const_i(c, IR_I64, 0), c->out[3], &j);
    lw_for_end(c, lj);
  }
  li = lw_for_begin(c, lw_index(c, 0), n, 1, &i);
  fi = lw_cast(c, lw_load(c, first, &i), IR_INDEX);
  IrValue *p = lw_cast(c, lw_load(c, pos, &fi), IR_INDEX);
  when = dd_if(c, lw_cmp(c, "eq", fi, i));
  slice_copy(c, x, i, c->out[0], p, axis);
  if (nres > 1) lw_store(c, as_i64(c, i), c->out[1], &p);
  lw_for_end(c, when);
  if (nres > 2) lw_store(c, as_i64(c, p), c->out[2], &i);
  if (nres > 3) {
    IrValue *old = lw_load(c, c->out[3], &p);
    lw_store(c, lw_bin(c, IR_OP_A_ADD, old, lw_const_i(c, IR_I64, 1)), c->out[3], &p);
  }
  lw_for_end(c, li);
  return true;
}

/* -------------------------------------------------- NonMaxSuppression */

/* Operand i as one number, or dflt when absent; false after a diagnostic
 * when it is present but not a constant scalar. */
static bool nms_scalar(const IrOp *op, int i, const char *input, bool want_int,
                       double dflt, double *out) {
  *out = dflt;
  IrValue *v = dm_operand(op, i);
  if (!v) return true;
  if (!dm_const_operand(op, i, input)) return false;
  const IrWeight *w = v->weight;
  const IrType *t = &w->value->type;
  uint64_t n = 0;
  if (!ir_type_numel(t, &n) || n != 1 || t->rank > 1 || ir_elem_size(t->elem) > w->nbytes ||
      (want_int ? !ir_elem_is_int(t->elem) : !ir_elem_is_float(t->elem))) {
    char ts[256];
    diag_at(DIAG_ERROR, &op->loc, "NonMaxSuppression: input '%s' must be one %s value, got %s",
            input, want_int ? "integer" : "float", dm_type_str(op, i, ts, sizeof ts));
    return false;
  }
  *out = want_int ? (double)ir_elem_load_i64(t->elem, w->data, 0)
                  : ir_elem_load_f64(t->elem, w->data, 0);
  return true;
}

bool op_nms_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  int64_t cpb;
  double maxout, iou, score;
  if (!dm_attr_int(op, "center_point_box", 0, &cpb) ||
      !nms_scalar(op, 2, "max_output_boxes_per_class", true, 0, &maxout) ||
      !nms_scalar(op, 3, "iou_threshold", false, 0, &iou) ||
      !nms_scalar(op, 4, "score_threshold", false, 0, &score))
    return false;
  if (cpb != 0 && cpb != 1) {
    diag_at(DIAG_ERROR, &op->loc,
            "NonMaxSuppression: attribute 'center_point_box' must be 0 or 1, got %lld",
            (long long)cpb);
    return false;
  }
  if (!(iou >= 0 && iou <= 1)) {
    diag_at(DIAG_ERROR, &op->loc,
            "NonMaxSuppression: iou_threshold must be in [0, 1], got %g", iou);
    return false;
  }
  ir_attr_set_int(m, op, "center_point_box", cpb);
  ir_attr_set_int(m, op, "max_output_boxes_per_class", maxout > 0 ? (int64_t)maxout : 0);
  ir_attr_set_float(m, op, "iou_threshold", iou);
  if (dm_operand(op, 4)) ir_attr_set_float(m, op, "score_threshold", score);
  op->num_operands = 2;
  return true;
}

bool op_nms_infer(IrModule *m, IrOp *op) {
  const IrType *b = &op->operands[0]->type, *s = &op->operands[1]->type;
  if (b->rank != 3 || s->rank != 3 || !ir_elem_is_float(b->elem) || s->elem != b->elem ||
      !dd_dim_equal(b->dims[2], (IrDim){4, -1}) || !dd_dim_equal(b->dims[0], s->dims[0]) ||
      !dd_dim_equal(b->dims[1], s->dims[2])) {
    char bs[256], ss[256];
    diag_at(DIAG_ERROR, &op->loc, "NonMaxSuppression: boxes %s and scores %s must be "
            "[batches, boxes, 4] and [batches, classes, boxes] of one float type",
            dm_type_str(op, 0, bs, sizeof bs), dm_type_str(op, 1, ss, sizeof ss));
    return false;
  }
  int64_t per = dd_dim_max(m, b->dims[1]), maxout = ir_attr_int(op, "max_output_boxes_per_class", 0);
  if (per < 0 || per > maxout) per = maxout;
  int sym = dd_sym(m, op, dd_mul(dd_mul(dd_dim_max(m, s->dims[0]), dd_dim_max(m, s->dims[1])), per));
  IrDim d[2] = {{0, sym}, {3, -1}};
  dd_set_type(op, 0, IR_I64, 2, d);
  return true;
}

/* The corners (x0, y0, x1, y1), x0 <= x1, y0 <= y1, of box i of batch b. */
static void nms_corners(LwCtx *c, IrValue *boxes, IrValue *b, IrValue *i, bool center,
                        IrValue **out) {
  IrValue *v[4];
  for (int k = 0; k < 4; k++) v[k] = lw_load(c, boxes, (IrValue *[]){b, i, lw_index(c, k)});
  if (center) { /* [x_center, y_center, width, height] */
    IrValue *half = lw_const_f(c, lw_elem(boxes), 0.5);
    IrValue *hw = lw_bin(c, IR_OP_A_MUL, v[2], half), *hh = lw_bin(c, IR_OP_A_MUL, v[3], half);
    out[0] = lw_bin(c, IR_OP_A_SUB, v[0], hw), out[2] = lw_bin(c, IR_OP_A_ADD, v[0], hw);
    out[1] = lw_bin(c, IR_OP_A_SUB, v[1], hh), out[3] = lw_bin(c, IR_OP_A_ADD, v[1], hh);
    return;
  } /* [y1, x1, y2, x2], either corner pair */
  out[0] = lw_bin(c, IR_OP_A_MIN, v[1], v[3]), out[2] = lw_bin(c, IR_OP_A_MAX, v[1], v[3]);
  out[1] = lw_bin(c, IR_OP_A_MIN, v[0], v[2]), out[3] = lw_bin(c, IR_OP_A_MAX, v[0], v[2]);
}

/* Does box a suppress box b: IoU > threshold, with the empty and
 * degenerate cases never suppressing (as onnxruntime). */
static IrValue *nms_suppress(LwCtx *c, IrValue *const *a, IrValue *const *b, double thr) {
  IrElem e = a[0]->type.elem;
  IrValue *zero = lw_const_f(c, e, 0);
  IrValue *ix0 = lw_bin(c, IR_OP_A_MAX, a[0], b[0]), *ix1 = lw_bin(c, IR_OP_A_MIN, a[2], b[2]);
  IrValue *iy0 = lw_bin(c, IR_OP_A_MAX, a[1], b[1]), *iy1 = lw_bin(c, IR_OP_A_MIN, a[3], b[3]);
  IrValue *iw = lw_bin(c, IR_OP_A_SUB, ix1, ix0), *ih = lw_bin(c, IR_OP_A_SUB, iy1, iy0);
  IrValue *inter = lw_bin(c, IR_OP_A_MUL, iw, ih);
  IrValue *area_a = lw_bin(c, IR_OP_A_MUL, lw_bin(c, IR_OP_A_SUB, a[2], a[0]),
                           lw_bin(c, IR_OP_A_SUB, a[3], a[1]));
  IrValue *area_b = lw_bin(c, IR_OP_A_MUL, lw_bin(c, IR_OP_A_SUB, b[2], b[0]),
                           lw_bin(c, IR_OP_A_SUB, b[3], b[1]));
  IrValue *uni = lw_bin(c, IR_OP_A_SUB, lw_bin(c, IR_OP_A_ADD, area_a, area_b), inter);
  IrValue *ok = and2(c, lw_cmp(c, "gt", iw, zero), lw_cmp(c, "gt", ih, zero));
  ok = and2(c, ok, lw_cmp(c, "gt", inter, zero));
  ok = and2(c, ok, and2(c, lw_cmp(c, "gt", area_a, zero), lw_cmp(c, "gt", area_b, zero)));
  ok = and2(c, ok, lw_cmp(c, "gt", uni, zero));
  IrValue *iou = lw_bin(c, IR_OP_A_DIV, inter, uni);
  return and2(c, ok, lw_cmp(c, "gt", iou, lw_const_f(c, e, thr)));
}

/*
 * Per batch b and class cl: order[] = the boxes by descending score (ties:
 * lower index first), then greedy selection into sel[b, cl, 0..ns) of each
 * box above the score threshold that no selected box suppresses, up to
 * max_output_boxes_per_class.  Then the total is published and the
 * selections are written out as (b, cl, box) rows.
 */
bool op_nms_lower(LwCtx *c, IrOp *op) {
  IrValue *boxes = c->in[0], *scores = c->in[1], *out = c->out[0];
  IrElem e = lw_elem(scores);
  bool center = ir_attr_int(op, "center_point_box", 0) != 0;
  int64_t maxout = ir_attr_int(op, "max_output_boxes_per_class", 0);
  double thr = ir_attr_float(op, "iou_threshold", 0);
  const IrAttr *st = ir_attr_get(op, "score_threshold");
  int64_t nb = lw_dim(scores, 0), nc = lw_dim(scores, 1), nn = lw_dim(scores, 2);
  int64_t nbmax = LW_DIM_IS_DYN(nb) ? c->m->syms[-2 - nb].hi : nb;
  int64_t ncmax = LW_DIM_IS_DYN(nc) ? c->m->syms[-2 - nc].hi : nc;
  int64_t per = LW_DIM_IS_DYN(nn) ? c->m->syms[-2 - nn].hi : nn;
  if (per > maxout) per = maxout;
  if (per == 0 || nbmax == 0 || ncmax == 0) {
    dd_dim_set(c, op, lw_index(c, 0));
    return true;
  }
  IrValue *order = lw_alloc(c, IR_I64, 1, &nn);
  IrValue *ns = lw_alloc(c, IR_I64, 2, (int64_t[]){nbmax, ncmax});
  IrValue *sel = lw_alloc(c, IR_I64, 3, (int64_t[]){nbmax, ncmax, per});
  IrValue *n = lw_dim_index(c, nn), *iv[2], *i, *j, *r, *t, *acc;
  LwNest bc;
  lw_nest_begin(c, &bc, 2, (int64_t[]){nb, nc}, iv);
  IrValue *b = iv[0], *cl = iv[1];

  /* order[rank of i] = i; rank = boxes ranked before i. */
  IrOp *li = lw_for_begin(c, lw_index(c, 0), n, 1, &i);
  IrValue *si = lw_load(c, scores, (IrValue *[]){b, cl, i});
  IrOp *lj = lw_for_begin_iter(c, lw_index(c, 0), n, 1, 1, (IrValue *[]){lw_index(c, 0)},
                               &j, &acc);
  IrValue *sj = lw_load(c, scores, (IrValue *[]){b, cl, j});
  IrValue *before = lw_bin(c, IR_OP_A_OR, lw_cmp(c, "gt", sj, si),
                           and2(c, lw_cmp(c, "eq", sj, si), lw_cmp(c, "lt", j, i)));
  IrValue *nacc = lw_bin(c, IR_OP_A_ADD, acc, dd_count(c, before));
  lw_for_end_iter(c, lj, 1, &nacc);
  IrValue *rk = lj->results[0];
  lw_store(c, as_i64(c, i), order, &rk);
  lw_for_end(c, li);

  /* Greedy selection. */
  IrValue *bcix[2] = {b, cl};
  lw_store(c, lw_const_i(c, IR_I64, 0), ns, bcix);
  IrOp *lr = lw_for_begin(c, lw_index(c, 0), n, 1, &r);
  IrValue *box = lw_cast(c, lw_load(c, order, &r), IR_INDEX);
  IrValue *cnt = lw_cast(c, lw_load(c, ns, bcix), IR_INDEX);
  IrValue *ok = lw_cmp(c, "lt", cnt, lw_index(c, maxout));
  if (st) {
    IrValue *s = lw_load(c, scores, (IrValue *[]){b, cl, box});
    ok = and2(c, ok, lw_cmp(c, "gt", s, lw_const_f(c, e, st->f)));
  }
  IrValue *ca[4], *cb[4];
  nms_corners(c, boxes, b, box, center, ca);
  IrValue *hi = lw_select(c, ok, cnt, lw_index(c, 0));
  IrOp *lt = lw_for_begin_iter(c, lw_index(c, 0), hi, 1, 1, (IrValue *[]){lw_const_i(c, IR_BOOL, 0)},
                               &t, &acc);
  IrValue *other = lw_cast(c, lw_load(c, sel, (IrValue *[]){b, cl, t}), IR_INDEX);
  nms_corners(c, boxes, b, other, center, cb);
  IrValue *sup = lw_bin(c, IR_OP_A_OR, acc, nms_suppress(c, ca, cb, thr));
  lw_for_end_iter(c, lt, 1, &sup);
  IrValue *take = and2(c, ok, lw_un(c, IR_OP_A_NOT, lt->results[0]));
  IrOp *when = dd_if(c, take);
  lw_store(c, as_i64(c, box), sel, (IrValue *[]){b, cl, cnt});
  lw_store(c, as_i64(c, add1(c, cnt)), ns, bcix);
  lw_for_end(c, when);
  lw_for_end(c, lr);
  lw_nest_end(c, &bc);

  /* The total, then the rows. */
  IrValue *tot = cell_new(c, 0);
  lw_nest_begin(c, &bc, 2, (int64_t[]){nb, nc}, iv);
  IrValue *k = cell_get(c, tot);
  cell_set(c, tot, lw_bin(c, IR_OP_A_ADD, k, lw_cast(c, lw_load(c, ns, iv), IR_INDEX)));
  lw_nest_end(c, &bc);
  dd_dim_set(c, op, cell_get(c, tot));
  cell_set(c, tot, lw_index(c, 0));
  lw_nest_begin(c, &bc, 2, (int64_t[]){nb, nc}, iv);
  k = cell_get(c, tot);
  IrValue *cn = lw_cast(c, lw_load(c, ns, iv), IR_INDEX);
  lt = lw_for_begin(c, lw_index(c, 0), cn, 1, &t);
  IrValue *row = lw_bin(c, IR_OP_A_ADD, k, t);
  lw_store(c, as_i64(c, iv[0]), out, (IrValue *[]){row, lw_index(c, 0)});
  lw_store(c, as_i64(c, iv[1]), out, (IrValue *[]){row, lw_index(c, 1)});
  lw_store(c, lw_load(c, sel, (IrValue *[]){iv[0], iv[1], t}), out,
           (IrValue *[]){row, lw_index(c, 2)});
  lw_for_end(c, lt);
  cell_set(c, tot, lw_bin(c, IR_OP_A_ADD, k, cn));
  lw_nest_end(c, &bc);
  return true;
}
