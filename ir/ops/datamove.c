/* datamove.c — helpers shared by the data-movement op families. */
#include <stdio.h>

#include "datamove.h"

const char *dm_name(const IrOp *op) {
  const IrOpInfo *info = ir_op_info(op->kind);
  return info->onnx_name ? info->onnx_name : info->name;
}

bool dm_attr_int(const IrOp *op, const char *name, int64_t dflt, int64_t *out) {
  const IrAttr *a = ir_attr_get(op, name);
  *out = dflt;
  if (!a) return true;
  if (a->kind != IR_ATTR_INT) {
    diag_at(DIAG_ERROR, &op->loc, "%s: attribute '%s' must be an int",
            dm_name(op), name);
    return false;
  }
  *out = a->i;
  return true;
}

bool dm_attr_ints(const IrOp *op, const char *name, int *n, const int64_t **v) {
  const IrAttr *a = ir_attr_get(op, name);
  *n = -1;
  *v = NULL;
  if (!a) return true;
  if (a->kind != IR_ATTR_INTS) {
    diag_at(DIAG_ERROR, &op->loc, "%s: attribute '%s' must be a list of ints",
            dm_name(op), name);
    return false;
  }
  *n = a->n;
  *v = a->ints;
  return true;
}

bool dm_attr_string(const IrOp *op, const char *name, const char *dflt,
                    const char **out) {
  const IrAttr *a = ir_attr_get(op, name);
  *out = dflt;
  if (!a) return true;
  if (a->kind != IR_ATTR_STRING) {
    diag_at(DIAG_ERROR, &op->loc, "%s: attribute '%s' must be a string",
            dm_name(op), name);
    return false;
  }
  *out = a->s;
  return true;
}

IrValue *dm_operand(const IrOp *op, int i) {
  return i < op->num_operands ? op->operands[i] : NULL;
}

bool dm_const_operand(const IrOp *op, int i, const char *input) {
  IrValue *v = dm_operand(op, i);
  if (v && v->weight && v->weight->data) return true;
  diag_at(DIAG_ERROR, &op->loc,
          "%s: input '%s' must be a constant (initializer or Constant node); "
          "got %s",
          dm_name(op), input, v ? "a computed value" : "nothing");
  return false;
}

bool dm_input_to_ints(IrModule *m, IrOp *op, int i, const char *input,
                      const char *attr) {
  if (!dm_const_operand(op, i, input)) return false;
  const IrWeight *w = op->operands[i]->weight;
  const IrType *t = &w->value->type;
  uint64_t n = 0;
  if (!ir_elem_is_int(t->elem) || !ir_type_numel(t, &n) || n > 4096 ||
      ir_elem_size(t->elem) * n > w->nbytes) {
    diag_at(DIAG_ERROR, &op->loc, "%s: input '%s' must be a small integer tensor",
            dm_name(op), input);
    return false;
  }
  int64_t v[4096];
  for (uint64_t k = 0; k < n; k++) v[k] = ir_elem_load_i64(t->elem, w->data, k);
  ir_attr_set_ints(m, op, attr, (int)n, v);
  return true;
}

bool dm_type_known(const IrOp *op, int i) {
  IrValue *v = dm_operand(op, i);
  return v && v->type.kind == IR_TYPE_TENSOR && ir_type_is_static(&v->type);
}

bool dm_static_input(const IrOp *op, int i, int64_t *dims) {
  IrValue *v = dm_operand(op, i);
  if (!v) {
    diag_at(DIAG_ERROR, &op->loc, "%s: missing input %d", dm_name(op), i);
    return false;
  }
  if (v->type.kind != IR_TYPE_TENSOR || !ir_type_is_static(&v->type)) {
    diag_at(DIAG_ERROR, &op->loc,
            "%s: input %d must be a tensor of static shape", dm_name(op), i);
    return false;
  }
  for (int d = 0; d < v->type.rank; d++) dims[d] = ir_type_dim(&v->type, d);
  return true;
}

bool dm_axis(const IrOp *op, const char *what, int64_t axis, int rank,
             int *out) {
  if (axis < -rank || axis >= rank) {
    diag_at(DIAG_ERROR, &op->loc, "%s: %s %lld is out of range for rank %d",
            dm_name(op), what, (long long)axis, rank);
    return false;
  }
  *out = (int)(axis < 0 ? axis + rank : axis);
  return true;
}

int64_t dm_numel(int rank, const int64_t *dims) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  return n;
}

const char *dm_ints_str(char *buf, size_t size, int n, const int64_t *v) {
  size_t k = 0;
  k += (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < n && k < size; i++)
    k += (size_t)snprintf(buf + k, size - k, "%s%lld", i ? "," : "",
                          (long long)v[i]);
  if (k < size) snprintf(buf + k, size - k, "]");
  return buf;
}

const char *dm_type_str(const IrOp *op, int i, char *buf, size_t size) {
  return ir_type_str(NULL, &op->operands[i]->type, buf, size);
}

void dm_set_result(IrOp *op, int i, IrElem e, int rank, const int64_t *dims) {
  op->results[i]->type = ir_type_tensor(e, rank, dims);
}

IrValue *dm_affine(LwCtx *c, IrValue *iv, int64_t mul, int64_t add) {
  IrValue *v = iv;
  if (mul == 0) return lw_index(c, add);
  if (mul != 1) v = lw_bin(c, IR_OP_A_MUL, v, lw_index(c, mul));
  if (add != 0) v = lw_bin(c, IR_OP_A_ADD, v, lw_index(c, add));
  return v;
}
