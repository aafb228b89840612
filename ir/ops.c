/* ops.c — the op table, built from ops.def. */
#include <string.h>

#include "ir.h"
#include "lower.h"

static const IrOpInfo op_table[IR_OP_COUNT] = {
#define TOP(E, nm, onnx, fam, a, b, c, d, f)                                  \
  [IR_OP_##E] = {nm, onnx, IR_LEVEL_TENSOR, a, b, c, d, f,                    \
                 op_##fam##_import, op_##fam##_infer, op_##fam##_lower, NULL},
#define LOP(E, nm, fam, a, b, c, d, f)                                        \
  [IR_OP_##E] = {nm, NULL, IR_LEVEL_LOOP, a, b, c, d, f,                      \
                 NULL, NULL, NULL, op_##fam##_verify},
#include "ops.def"
#undef TOP
#undef LOP
};

const IrOpInfo *ir_op_info(int kind) {
  IR_ASSERT(kind >= 0 && kind < IR_OP_COUNT);
  return &op_table[kind];
}

int ir_op_by_name(const char *name, unsigned long len) {
  for (int k = 0; k < IR_OP_COUNT; k++)
    if (strlen(op_table[k].name) == len && !memcmp(op_table[k].name, name, len))
      return k;
  return IR_OP_COUNT;
}

int ir_op_by_onnx(const char *onnx_type) {
  for (int k = 0; k < IR_OP_COUNT; k++)
    if (op_table[k].onnx_name && !strcmp(op_table[k].onnx_name, onnx_type))
      return k;
  return IR_OP_COUNT;
}

bool ir_op_check_dyn(IrModule *m, IrOp *op) {
  const IrOpInfo *info = ir_op_info(op->kind);
  if (!(info->flags & OPF_DYN))
    for (int i = 0; i < op->num_operands; i++) {
      const IrValue *v = op->operands[i];
      if (!v || !ir_type_is_dynamic(m, &v->type)) continue;
      for (int k = 0; k < v->type.rank; k++) {
        IrDim d = v->type.dims[k];
        if (!ir_dim_is_dynamic(m, d)) continue;
        const char *name = d.sym < m->num_syms ? m->syms[d.sym].name : "?";
        diag_at(DIAG_ERROR, &op->loc, "%s: input %d has the run-time dimension "
                "'%s', which this op does not support yet; give it one size "
                "with -dim=%s=VALUE", info->onnx_name ? info->onnx_name : info->name,
                i, name, name);
        return false;
      }
    }
  return true;
}

bool ir_infer_op(IrModule *m, IrOp *op) {
  return ir_op_check_dyn(m, op) && ir_op_info(op->kind)->infer(m, op);
}
