/*
 * slice.c — Slice: a strided window of the input, per axis.
 *
 * Canonical form: slice {axes, ends, starts, steps}, one operand, all four
 * lists explicit and of equal length (opset >= 10 passes them as inputs,
 * which must be constants).  Values are kept as written; infer and lower
 * resolve them with slice_resolve(): negative starts/ends count from the
 * end, then starts clamp to [0, d] ([0, d-1] for negative steps) and ends
 * to [0, d] ([-1, d-1]), exactly as the ONNX spec says.
 *
 * Run-time dims (OPF_DYN) pass through untouched; a sliced run-time axis is
 * taken only when the answer is the same at every size it can have: whole
 * (step 1, start 0, end >= its upper bound) keeps the sym, and a window
 * 0 <= start <= end <= its lower bound is static.
 *
 * Starts and ends may themselves be run-time sizes (`x[:, :seq]`, computed
 * from Shape by the frontend): the optional STRINGS attributes starts_sym
 * and ends_sym name, per entry, the sym that entry multiplies (dyndims.h).
 * Two forms give a whole sym as the result, with step 1: ends `seq` from
 * start 0 (the first seq elements) and starts `-seq` up to the end (the
 * last seq), of a static axis that holds seq's upper bound, or of an axis
 * of size seq itself (then whole).
 */
#include "dyndims.h"

/* Per input dim: first index, step and output size. */
typedef struct SliceDims {
  int64_t start[IR_MAX_RANK], step[IR_MAX_RANK], size[IR_MAX_RANK];
  int64_t back[IR_MAX_RANK]; /* 0, or a code: the start is start - that size */
} SliceDims;

static bool slice_import(IrModule *m, IrOp *op, int opset) {
  static const char *const names[4] = {"starts", "ends", "axes", "steps"};
  int n[4];
  const int64_t *v[4];
  if (opset >= 10) {
    for (int i = 0; i < 4; i++) {
      ir_attr_remove(op, names[i]);
      if ((i < 2 || dm_operand(op, i + 1)) &&
          !dm_input_to_ints(m, op, i + 1, names[i], names[i]))
        return false;
    }
    op->num_operands = 1;
  }
  for (int i = 0; i < 4; i++)
    if (!dm_attr_ints(op, names[i], &n[i], &v[i])) return false;
  if (n[0] < 0 || n[1] < 0 || n[0] != n[1] || (n[2] >= 0 && n[2] != n[0]) ||
      (n[3] >= 0 && n[3] != n[0]) || n[0] > IR_MAX_RANK) {
    diag_at(DIAG_ERROR, &op->loc,
            "Slice: starts, ends (and axes, steps when given) must be lists "
            "of the same length");
    return false;
  }
  int64_t fill[IR_MAX_RANK];
  for (int i = 0; i < n[0]; i++) fill[i] = i;
  if (n[2] < 0) ir_attr_set_ints(m, op, "axes", n[0], fill);
  for (int i = 0; i < n[0]; i++) fill[i] = 1;
  if (n[3] < 0) ir_attr_set_ints(m, op, "steps", n[0], fill);
  return true;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/* Axis a of size d sliced with a run-time start or end (sym ss / es, -1
 * when constant; s, e the constants or factors): the two forms in the
 * header comment, else false after a diagnostic. */
static bool slice_axis_sym(const IrModule *m, const IrOp *op, int a, int64_t d,
                           int64_t s, int ss, int64_t e, int es, int64_t step,
                           SliceDims *sd) {
  int sym = es >= 0 ? es : ss;
  int64_t code = LW_DYN_DIM(sym), lo = dd_lo(m, code), hi = dd_hi(m, code);
  bool head = es >= 0 && ss < 0 && e == 1 && (s == 0 || (!DD_IS_SYM(d) && s <= -d));
  bool tail = ss >= 0 && es < 0 && s == -1 &&
              (DD_IS_SYM(d) ? e >= dd_hi(m, d) && dd_hi(m, d) >= 0 : e >= d);
  char b[64];
  if (step != 1 || !(head || tail)) {
    diag_at(DIAG_ERROR, &op->loc, "Slice: the %s of axis %d is computed from the "
            "run-time dimension '%s'; tcc supports only ends %s from starts 0, or "
            "starts -%s up to the end of the axis, with step 1", es >= 0 ? "end" : "start",
            a, m->syms[sym].name, m->syms[sym].name, m->syms[sym].name);
    return false;
  }
  sd->start[a] = 0, sd->size[a] = code;
  if (DD_IS_SYM(d)) {
    if (d != code) {
      diag_at(DIAG_ERROR, &op->loc, "Slice: axis %d has the run-time size %s; tcc "
              "slices it by the run-time dimension '%s' only when they are the same",
              a, dd_dim_str(m, d, b, sizeof b), m->syms[sym].name);
      return false;
    }
    return true; /* the whole axis */
  }
  if (hi < 0 || hi > d) {
    diag_at(DIAG_ERROR, &op->loc, "Slice: the %s of axis %d is the run-time dimension "
            "'%s' (%lld..%lld), but the axis has %lld elements: the upper bound %lld of "
            "'%s' is too large (it must be at most %lld)", es >= 0 ? "end" : "start", a,
            m->syms[sym].name, (long long)lo, (long long)hi, (long long)d, (long long)hi,
            m->syms[sym].name, (long long)d);
    return false;
  }
  if (tail) sd->start[a] = d, sd->back[a] = code;
  return true;
}

/* Resolves one axis of size d. */
static void slice_axis(int64_t d, int64_t s, int64_t e, int64_t step,
                       int64_t *start, int64_t *size) {
  if (s < 0) s += d;
  if (e < 0) e += d;
  *start = 0;
  *size = 0;
  if (d == 0) return;
  if (step > 0) {
    s = clamp(s, 0, d);
    e = clamp(e, 0, d);
    if (e > s) *size = (e - s - 1) / step + 1;
  } else {
    s = clamp(s, 0, d - 1);
    e = clamp(e, -1, d - 1);
    if (s > e) *size = (s - e - 1) / -(step == INT64_MIN ? step + 1 : step) + 1;
  }
  *start = s;
}

/* A slice of a run-time axis d (a code): the cases above, else false. */
static bool slice_axis_dyn(const IrModule *m, int64_t d, int64_t s, int64_t e,
                           int64_t step, int64_t *start, int64_t *size) {
  int64_t lo = dd_lo(m, d), hi = dd_hi(m, d);
  *start = s;
  if (step == 1 && (s == 0 || (hi >= 0 && s <= -hi)) && hi >= 0 && e >= hi) {
    *start = 0, *size = d;
    return true;
  }
  if (step == 1 && s >= 0 && s <= e && e <= lo) {
    *size = e - s;
    return true;
  }
  return false;
}

static bool slice_resolve(const IrModule *m, const IrOp *op, int rank, const int64_t *dims,
                          SliceDims *sd) {
  static const char *const names[4] = {"starts", "ends", "axes", "steps"};
  const int64_t *v[4];
  int n[4], ss[IR_MAX_RANK], es[IR_MAX_RANK];
  int64_t s[IR_MAX_RANK], e[IR_MAX_RANK];
  bool seen[IR_MAX_RANK] = {false};
  for (int i = 0; i < 4; i++)
    if (!dm_attr_ints(op, names[i], &n[i], &v[i])) return false;
  if (n[0] < 0 || n[1] != n[0] || n[2] != n[0] || n[3] != n[0] || n[0] > IR_MAX_RANK) {
    diag_at(DIAG_ERROR, &op->loc, "Slice: starts, ends, axes and steps must "
            "be lists of the same length");
    return false;
  }
  for (int i = 0; i < n[0]; i++) s[i] = v[0][i], e[i] = v[1][i];
  if (!dd_attr_syms(m, op, "starts_sym", n[0], s, ss) ||
      !dd_attr_syms(m, op, "ends_sym", n[0], e, es))
    return false;
  for (int d = 0; d < rank; d++)
    sd->start[d] = 0, sd->step[d] = 1, sd->size[d] = dims[d], sd->back[d] = 0;
  for (int i = 0; i < n[0]; i++) {
    int a;
    if (!dm_axis(op, "axis", v[2][i], rank, &a)) return false;
    if (seen[a] || v[3][i] == 0) {
      diag_at(DIAG_ERROR, &op->loc, seen[a] ? "Slice: axis %lld appears twice"
                                            : "Slice: step for axis %lld is 0",
              (long long)v[2][i]);
      return false;
    }
    seen[a] = true;
    sd->step[a] = v[3][i];
    if (ss[i] >= 0 || es[i] >= 0) {
      if (!slice_axis_sym(m, op, a, dims[a], s[i], ss[i], e[i], es[i], v[3][i], sd))
        return false;
    } else if (!DD_IS_SYM(dims[a])) {
      slice_axis(dims[a], s[i], e[i], v[3][i], &sd->start[a], &sd->size[a]);
    } else if (!slice_axis_dyn(m, dims[a], s[i], e[i], v[3][i], &sd->start[a],
                               &sd->size[a])) {
      char b[64];
      diag_at(DIAG_ERROR, &op->loc, "Slice: axis %d has the run-time size %s "
              "(%lld..%lld); tcc slices it only whole (starts 0, ends >= %lld, step 1) "
              "or within 0..%lld", a, dd_dim_str(m, dims[a], b, sizeof b),
              (long long)dd_lo(m, dims[a]), (long long)dd_hi(m, dims[a]),
              (long long)dd_hi(m, dims[a]), (long long)dd_lo(m, dims[a]));
      return false;
    }
  }
  return true;
}

bool op_slice_import(IrModule *m, IrOp *op, int opset) {
  return slice_import(m, op, opset);
}

bool op_slice_infer(IrModule *m, IrOp *op) {
  int64_t dims[IR_MAX_RANK] = {0};
  SliceDims sd;
  if (!dd_input(op, 0, dims)) return false;
  int rank = op->operands[0]->type.rank;
  if (!slice_resolve(m, op, rank, dims, &sd)) return false;
  dd_set_result(op, 0, op->operands[0]->type.elem, rank, sd.size);
  return true;
}

/* out[i...] = in[start + i*step ...]. */
bool op_slice_lower(LwCtx *c, IrOp *op) {
  int64_t dims[IR_MAX_RANK] = {0};
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK];
  SliceDims sd;
  LwNest nest;
  int rank = lw_rank(c->in[0]);
  for (int d = 0; d < rank; d++) dims[d] = lw_dim(c->in[0], d);
  if (!slice_resolve(c->m, op, rank, dims, &sd)) return false;
  if (dd_has_zero(rank, sd.size)) return true;
  lw_nest_begin(c, &nest, rank, sd.size, iv);
  lw_nest_parallel(c, &nest, sd.size, lw_elem(c->out[0]));
  for (int d = 0; d < rank; d++) {
    idx[d] = dm_affine(c, iv[d], sd.step[d], sd.start[d]);
    if (sd.back[d]) idx[d] = lw_bin(c, IR_OP_A_SUB, idx[d], lw_dim_index(c, sd.back[d]));
  }
  lw_store(c, lw_load(c, c->in[0], idx), c->out[0], iv);
  lw_nest_end(c, &nest);
  return true;
}
