/*
 * shape.c — Reshape, Flatten, Squeeze, Unsqueeze: ops that only change the
 * shape, never the bytes (OPF_VIEW).  The lower pass normally aliases the
 * operand's buffer (mem.view); the lower hook below is the fallback and
 * simply copies.
 *
 * Canonical form after import: every op has one operand and explicit
 * attributes — reshape {allowzero, shape}, flatten {axis}, squeeze {axes},
 * unsqueeze {axes}.  ONNX's later opsets pass shape/axes as inputs; those
 * must be constants and become the attributes.  Attribute values are kept
 * as written (0 and -1 in shape, negative axes); infer resolves them.
 *
 * Run-time dims (OPF_DYN): a reshape's shape attribute stays plain ints;
 * a run-time dim of the result is spelled 0 (copy the input's dim at that
 * position) or -1 (the one inferred dim), and infer resolves it from the
 * input's dims as a product of static sizes and syms.  The frontend writes
 * shapes computed from Shape(x) at run time in this form.  A result dim
 * that would be a product (seq*4) or a fraction of a sym is refused.
 */
#include <string.h>

#include "dyndims.h"

/* Reshape: attribute before opset 5, constant input after. */
static bool reshape_import(IrModule *m, IrOp *op, int opset) {
  int n;
  const int64_t *v;
  int64_t allowzero;
  if (!dm_attr_int(op, "allowzero", 0, &allowzero)) return false;
  if (allowzero != 0 && allowzero != 1) {
    diag_at(DIAG_ERROR, &op->loc, "Reshape: attribute 'allowzero' must be 0 or 1");
    return false;
  }
  ir_attr_set_int(m, op, "allowzero", allowzero);
  if (opset >= 5 || dm_operand(op, 1)) {
    if (!dm_input_to_ints(m, op, 1, "shape", "shape")) return false;
    op->num_operands = 1;
  }
  if (!dm_attr_ints(op, "shape", &n, &v)) return false;
  if (n < 0) {
    diag_at(DIAG_ERROR, &op->loc, "Reshape: missing attribute 'shape'");
    return false;
  }
  return true;
}

/* Resolves 0 (copy the input dim) and -1 (inferred) in the target shape. */
static bool reshape_resolve(const IrOp *op, int rank, const int64_t *in,
                            int n, const int64_t *shape, bool allowzero,
                            int64_t *out) {
  char buf[512], tbuf[256];
  int infer_at = -1;
  int64_t known = 1, total = dm_numel(rank, in);
  for (int i = 0; i < n; i++) {
    out[i] = shape[i];
    if (shape[i] == -1) {
      if (infer_at >= 0) {
        diag_at(DIAG_ERROR, &op->loc, "Reshape: more than one -1 in shape %s",
                dm_ints_str(buf, sizeof buf, n, shape));
        return false;
      }
      infer_at = i;
      continue;
    }
    if (shape[i] < -1) {
      diag_at(DIAG_ERROR, &op->loc, "Reshape: invalid dimension %lld in shape %s",
              (long long)shape[i], dm_ints_str(buf, sizeof buf, n, shape));
      return false;
    }
    if (shape[i] == 0 && !allowzero) {
      if (i >= rank) {
        diag_at(DIAG_ERROR, &op->loc,
                "Reshape: shape[%d] is 0 (copy) but the input has rank %d", i,
                rank);
        return false;
      }
      out[i] = in[i];
    }
    known *= out[i];
  }
  if (infer_at >= 0) {
    if (known == 0 || total % known != 0) {
      diag_at(DIAG_ERROR, &op->loc, "Reshape: cannot infer the -1 in shape %s for input %s",
              dm_ints_str(buf, sizeof buf, n, shape),
              dm_type_str(op, 0, tbuf, sizeof tbuf));
      return false;
    }
    out[infer_at] = total / known;
    known *= out[infer_at];
  }
  if (known != total) {
    diag_at(DIAG_ERROR, &op->loc,
            "Reshape: cannot reshape %s (%lld elements) to shape %s (%lld elements)",
            dm_type_str(op, 0, tbuf, sizeof tbuf), (long long)total,
            dm_ints_str(buf, sizeof buf, n, out), (long long)known);
    return false;
  }
  return true;
}

/* Dims as a product: a static factor and a multiset of syms (codes). */
typedef struct SymProd {
  int64_t k;
  int n;
  int64_t syms[IR_MAX_RANK];
} SymProd;

static void prod_add(SymProd *p, int64_t d) {
  if (DD_IS_SYM(d))
    p->syms[p->n++] = d;
  else
    p->k *= d;
}

/* Removes one occurrence of code d from p; false when absent. */
static bool prod_take(SymProd *p, int64_t d) {
  for (int i = 0; i < p->n; i++)
    if (p->syms[i] == d) {
      p->syms[i] = p->syms[--p->n];
      return true;
    }
  return false;
}

/* reshape_resolve for an input or a shape with run-time dims: the result
 * must have the same syms as the input, and the -1 may stand for one sym
 * or a static size. */
static bool reshape_resolve_dyn(const IrModule *m, const IrOp *op, int rank,
                                const int64_t *in, int n, const int64_t *shape,
                                bool allowzero, int64_t *out) {
  char buf[512], tbuf[256];
  SymProd rest = {1, 0, {0}};
  int infer_at = -1;
  int64_t known = 1;
  for (int i = 0; i < rank; i++) prod_add(&rest, in[i]);
  for (int i = 0; i < n; i++) {
    out[i] = shape[i];
    if (shape[i] == -1 && infer_at < 0) {
      infer_at = i;
      continue;
    }
    if (shape[i] < 0) {
      diag_at(DIAG_ERROR, &op->loc, shape[i] == -1
                  ? "Reshape: more than one -1 in shape %s"
                  : "Reshape: invalid dimension in shape %s",
              dm_ints_str(buf, sizeof buf, n, shape));
      return false;
    }
    if (shape[i] == 0 && !allowzero) {
      if (i >= rank) {
        diag_at(DIAG_ERROR, &op->loc,
                "Reshape: shape[%d] is 0 (copy) but the input has rank %d", i, rank);
        return false;
      }
      out[i] = in[i];
    }
    if (DD_IS_SYM(out[i])) {
      if (!prod_take(&rest, out[i])) goto mismatch;
    } else {
      known *= out[i];
    }
  }
  /* What is left of the input: rest.k * syms, to be matched by known and
   * the -1 (a zero-size input never reaches here with a sym left). */
  if (known == 0 || rest.k % known != 0) goto mismatch;
  rest.k /= known;
  if (infer_at >= 0) {
    if (rest.n > 1 || (rest.n == 1 && rest.k != 1)) goto mismatch;
    out[infer_at] = rest.n ? rest.syms[0] : rest.k;
    return true;
  }
  if (rest.n == 0 && rest.k == 1) return true;
mismatch:
  diag_at(DIAG_ERROR, &op->loc,
          "Reshape: cannot reshape %s to shape %s: with run-time dims the result "
          "must hold each of the input's syms as a whole dim",
          dd_type_str(m, op, 0, tbuf, sizeof tbuf), dm_ints_str(buf, sizeof buf, n, shape));
  return false;
}

static bool reshape_infer(const IrModule *m, IrOp *op) {
  int64_t in[IR_MAX_RANK], out[IR_MAX_RANK], allowzero;
  const int64_t *shape;
  int n;
  if (!dd_input(op, 0, in) || !dm_attr_ints(op, "shape", &n, &shape) ||
      !dm_attr_int(op, "allowzero", 0, &allowzero))
    return false;
  if (n < 0 || n > IR_MAX_RANK) {
    diag_at(DIAG_ERROR, &op->loc, n < 0 ? "Reshape: missing attribute 'shape'"
                                        : "Reshape: shape has more than 16 dims");
    return false;
  }
  int rank = op->operands[0]->type.rank;
  bool dyn = !ir_type_is_static(&op->operands[0]->type);
  if (dyn ? !reshape_resolve_dyn(m, op, rank, in, n, shape, allowzero != 0, out)
          : !reshape_resolve(op, rank, in, n, shape, allowzero != 0, out))
    return false;
  dd_set_result(op, 0, op->operands[0]->type.elem, n, out);
  return true;
}

static bool flatten_import(IrModule *m, IrOp *op) {
  int64_t axis;
  if (!dm_attr_int(op, "axis", 1, &axis)) return false;
  ir_attr_set_int(m, op, "axis", axis);
  return true;
}

/* One result dim from dims[0..n): their product, which may hold at most
 * one sym (times 1). */
static bool flatten_side(const IrModule *m, const IrOp *op, int n,
                         const int64_t *dims, int64_t *out) {
  SymProd p = {1, 0, {0}};
  for (int i = 0; i < n; i++) prod_add(&p, dims[i]);
  if (p.n == 0 || (p.n == 1 && p.k == 1) || p.k == 0) {
    *out = p.n && p.k ? p.syms[0] : p.k;
    return true;
  }
  char tbuf[256];
  diag_at(DIAG_ERROR, &op->loc, "Flatten: the result of %s would have a dim "
          "that is a product of a run-time dim and other dims, which a type "
          "cannot hold", dd_type_str(m, op, 0, tbuf, sizeof tbuf));
  return false;
}

static bool flatten_infer(const IrModule *m, IrOp *op) {
  int64_t in[IR_MAX_RANK], axis;
  if (!dd_input(op, 0, in) || !dm_attr_int(op, "axis", 1, &axis))
    return false;
  int rank = op->operands[0]->type.rank;
  if (axis < -rank || axis > rank) {
    diag_at(DIAG_ERROR, &op->loc, "Flatten: axis %lld is out of range for rank %d",
            (long long)axis, rank);
    return false;
  }
  int a = (int)(axis < 0 ? axis + rank : axis);
  int64_t out[2];
  if (!flatten_side(m, op, a, in, &out[0]) ||
      !flatten_side(m, op, rank - a, in + a, &out[1]))
    return false;
  dd_set_result(op, 0, op->operands[0]->type.elem, 2, out);
  return true;
}

/* Squeeze/Unsqueeze: axes attribute before opset 13, constant input after.
 * Squeeze without axes removes every 1-dim; made explicit when the input
 * type is already known. */
static bool squeeze_import(IrModule *m, IrOp *op, int opset) {
  int n;
  const int64_t *v;
  bool un = op->kind == IR_OP_UNSQUEEZE;
  if (dm_operand(op, 1) || (opset >= 13 && un)) {
    if (!dm_input_to_ints(m, op, 1, "axes", "axes")) return false;
  }
  op->num_operands = 1;
  if (!dm_attr_ints(op, "axes", &n, &v)) return false;
  if (n < 0 && un) {
    diag_at(DIAG_ERROR, &op->loc, "Unsqueeze: missing attribute 'axes'");
    return false;
  }
  if (n < 0 && dm_type_known(op, 0)) {
    int64_t axes[IR_MAX_RANK];
    const IrType *t = &op->operands[0]->type;
    int k = 0;
    for (int i = 0; i < t->rank; i++)
      if (ir_type_dim(t, i) == 1) axes[k++] = i;
    ir_attr_set_ints(m, op, "axes", k, axes);
  }
  return true;
}

/* Marks the normalized axes in mark[0..rank); false on range/duplicates. */
static bool mark_axes(const IrOp *op, int n, const int64_t *axes, int rank,
                      bool *mark) {
  memset(mark, 0, sizeof *mark * (size_t)rank);
  for (int i = 0; i < n; i++) {
    int a;
    if (!dm_axis(op, "axis", axes[i], rank, &a)) return false;
    if (mark[a]) {
      diag_at(DIAG_ERROR, &op->loc, "%s: axis %lld appears twice", dm_name(op),
              (long long)axes[i]);
      return false;
    }
    mark[a] = true;
  }
  return true;
}

/* A run-time dim is squeezed never (without axes, when it cannot be 1)
 * or refused (it might be 1 at run time, or not be at all). */
static bool squeeze_infer(const IrModule *m, IrOp *op) {
  int64_t in[IR_MAX_RANK], out[IR_MAX_RANK];
  bool mark[IR_MAX_RANK];
  const int64_t *axes;
  int n, rank, k = 0;
  char dbuf[64];
  if (!dd_input(op, 0, in) || !dm_attr_ints(op, "axes", &n, &axes))
    return false;
  rank = op->operands[0]->type.rank;
  if (n < 0) {
    for (int i = 0; i < rank; i++) {
      mark[i] = in[i] == 1;
      if (DD_IS_SYM(in[i]) && dd_lo(m, in[i]) <= 1) {
        diag_at(DIAG_ERROR, &op->loc, "Squeeze: without 'axes', the run-time dim "
                "%s (axis %d) may be 1 at run time; give the axes",
                dd_dim_str(m, in[i], dbuf, sizeof dbuf), i);
        return false;
      }
    }
  } else if (!mark_axes(op, n, axes, rank, mark)) {
    return false;
  }
  for (int i = 0; i < rank; i++) {
    if (!mark[i]) {
      out[k++] = in[i];
    } else if (in[i] != 1) {
      diag_at(DIAG_ERROR, &op->loc, "Squeeze: cannot squeeze axis %d of size %s",
              i, dd_dim_str(m, in[i], dbuf, sizeof dbuf));
      return false;
    }
  }
  dd_set_result(op, 0, op->operands[0]->type.elem, k, out);
  return true;
}

static bool unsqueeze_infer(IrOp *op) {
  int64_t in[IR_MAX_RANK], out[IR_MAX_RANK];
  bool mark[IR_MAX_RANK];
  const int64_t *axes;
  int n, k = 0;
  if (!dd_input(op, 0, in) || !dm_attr_ints(op, "axes", &n, &axes))
    return false;
  int rank = op->operands[0]->type.rank, out_rank = rank + n;
  if (n < 0 || out_rank > IR_MAX_RANK) {
    diag_at(DIAG_ERROR, &op->loc, n < 0 ? "Unsqueeze: missing attribute 'axes'"
                                        : "Unsqueeze: result has more than 16 dims");
    return false;
  }
  if (!mark_axes(op, n, axes, out_rank, mark)) return false;
  for (int i = 0; i < out_rank; i++) out[i] = mark[i] ? 1 : in[k++];
  dd_set_result(op, 0, op->operands[0]->type.elem, out_rank, out);
  return true;
}

bool op_shape_import(IrModule *m, IrOp *op, int opset) {
  switch (op->kind) {
  case IR_OP_RESHAPE: return reshape_import(m, op, opset);
  case IR_OP_FLATTEN: return flatten_import(m, op);
  default: return squeeze_import(m, op, opset);
  }
}

bool op_shape_infer(IrModule *m, IrOp *op) {
  switch (op->kind) {
  case IR_OP_RESHAPE: return reshape_infer(m, op);
  case IR_OP_FLATTEN: return flatten_infer(m, op);
  case IR_OP_SQUEEZE: return squeeze_infer(m, op);
  default: return unsqueeze_infer(op);
  }
}

/* Same bytes, new shape: a plain copy. */
bool op_shape_lower(LwCtx *c, IrOp *op) {
  (void)op;
  lw_copy(c, c->in[0], c->out[0]);
  return true;
}
