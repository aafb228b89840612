/*
 * slice.c — Slice: a strided window of the input, per axis.
 *
 * Canonical form: slice {axes, ends, starts, steps}, one operand, all four
 * lists explicit and of equal length (opset >= 10 passes them as inputs,
 * which must be constants).  Values are kept as written; infer and lower
 * resolve them with slice_resolve(): negative starts/ends count from the
 * end, then starts clamp to [0, d] ([0, d-1] for negative steps) and ends
 * to [0, d] ([-1, d-1]), exactly as the ONNX spec says.
 */
#include "datamove.h"

/* Per input dim: first index, step and output size. */
typedef struct SliceDims {
  int64_t start[IR_MAX_RANK], step[IR_MAX_RANK], size[IR_MAX_RANK];
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

static bool slice_resolve(const IrOp *op, int rank, const int64_t *dims,
                          SliceDims *sd) {
  static const char *const names[4] = {"starts", "ends", "axes", "steps"};
  const int64_t *v[4];
  int n[4];
  bool seen[IR_MAX_RANK] = {false};
  for (int i = 0; i < 4; i++)
    if (!dm_attr_ints(op, names[i], &n[i], &v[i])) return false;
  if (n[0] < 0 || n[1] != n[0] || n[2] != n[0] || n[3] != n[0]) {
    diag_at(DIAG_ERROR, &op->loc, "Slice: starts, ends, axes and steps must "
            "be lists of the same length");
    return false;
  }
  for (int d = 0; d < rank; d++) sd->start[d] = 0, sd->step[d] = 1, sd->size[d] = dims[d];
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
    slice_axis(dims[a], v[0][i], v[1][i], v[3][i], &sd->start[a], &sd->size[a]);
  }
  return true;
}

bool op_slice_import(IrModule *m, IrOp *op, int opset) {
  return slice_import(m, op, opset);
}

bool op_slice_infer(IrModule *m, IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  SliceDims sd;
  (void)m;
  if (!dm_static_input(op, 0, dims)) return false;
  int rank = op->operands[0]->type.rank;
  if (!slice_resolve(op, rank, dims, &sd)) return false;
  dm_set_result(op, 0, op->operands[0]->type.elem, rank, sd.size);
  return true;
}

/* out[i...] = in[start + i*step ...]. */
bool op_slice_lower(LwCtx *c, IrOp *op) {
  int64_t dims[IR_MAX_RANK];
  IrValue *iv[IR_MAX_RANK], *idx[IR_MAX_RANK];
  SliceDims sd;
  LwNest nest;
  int rank = lw_rank(c->in[0]);
  for (int d = 0; d < rank; d++) dims[d] = lw_dim(c->in[0], d);
  if (!slice_resolve(op, rank, dims, &sd)) return false;
  if (dm_numel(rank, sd.size) == 0) return true;
  lw_nest_begin(c, &nest, rank, sd.size, iv);
  for (int d = 0; d < rank; d++) idx[d] = dm_affine(c, iv[d], sd.step[d], sd.start[d]);
  lw_store(c, lw_load(c, c->in[0], idx), c->out[0], iv);
  lw_nest_end(c, &nest);
  return true;
}
