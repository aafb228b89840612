/*
 * shapeof.c — Shape and Size: tensors computed from the input's TYPE only
 * (OPF_TYPE_ONLY), so they are constants whenever the shape is static.
 *
 * Canonical form: shape {start, end} with both explicit once the input rank
 * is known (ONNX opset 15 slicing; clamped to [0, rank]); size {}.  The
 * lowering stores the numbers; the input buffer is never read.
 */
#include "dyndims.h"

static bool shape_import(IrModule *m, IrOp *op) {
  int64_t start, end;
  if (!dm_attr_int(op, "start", 0, &start) ||
      !dm_attr_int(op, "end", INT64_MAX, &end))
    return false;
  ir_attr_set_int(m, op, "start", start);
  if (end != INT64_MAX || dm_type_known(op, 0))
    ir_attr_set_int(m, op, "end", end == INT64_MAX ? op->operands[0]->type.rank : end);
  return true;
}

/* Clamps start/end to [0, rank] after adding rank to negatives. */
static void shape_range(const IrOp *op, int rank, int *start, int *end) {
  int64_t s = ir_attr_int(op, "start", 0), e = ir_attr_int(op, "end", rank);
  if (s < 0) s += rank;
  if (e < 0) e += rank;
  s = s < 0 ? 0 : s > rank ? rank : s;
  e = e < 0 ? 0 : e > rank ? rank : e;
  *start = (int)s;
  *end = (int)(e < s ? s : e);
}

static bool shapeof_check(const IrOp *op) {
  int64_t dims[IR_MAX_RANK], v;
  if (!dd_input(op, 0, dims)) return false;
  if (op->kind == IR_OP_SHAPE &&
      (!dm_attr_int(op, "start", 0, &v) || !dm_attr_int(op, "end", 0, &v)))
    return false;
  return true;
}

bool op_shapeof_import(IrModule *m, IrOp *op, int opset) {
  (void)opset;
  return op->kind == IR_OP_SHAPE ? shape_import(m, op) : true;
}

bool op_shapeof_infer(IrModule *m, IrOp *op) {
  (void)m;
  if (!shapeof_check(op)) return false;
  if (op->kind == IR_OP_SIZE) {
    dm_set_result(op, 0, IR_I64, 0, NULL);
    return true;
  }
  int start, end;
  shape_range(op, op->operands[0]->type.rank, &start, &end);
  int64_t n = end - start;
  dm_set_result(op, 0, IR_I64, 1, &n);
  return true;
}

bool op_shapeof_lower(LwCtx *c, IrOp *op) {
  const IrType *t = &c->in[0]->type;
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < t->rank; i++) dims[i] = lw_dim(c->in[0], i);
  if (op->kind == IR_OP_SIZE) {
    IrValue *none[1] = {NULL};
    uint64_t k = 0;
    IrValue *n = ir_type_numel(t, &k) ? lw_const_i(c, IR_I64, (int64_t)k)
                                      : lw_cast(c, lw_dims_product(c, t->rank, dims), IR_I64);
    lw_store(c, n, c->out[0], none);
    return true;
  }
  int start, end;
  shape_range(op, t->rank, &start, &end);
  for (int i = start; i < end; i++) {
    IrValue *idx = lw_index(c, i - start);
    IrValue *d = DD_IS_SYM(dims[i]) ? lw_cast(c, lw_dim_index(c, dims[i]), IR_I64)
                                    : lw_const_i(c, IR_I64, dims[i]);
    lw_store(c, d, c->out[0], &idx);
  }
  return true;
}
