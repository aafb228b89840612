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
