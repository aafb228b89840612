/* ops.h — the op table (from ops.def) and the per-op hooks. */
#ifndef TCC_IR_OPS_H
#define TCC_IR_OPS_H

#include <stdbool.h>

typedef enum IrOpKind {
#define TOP(E, name, onnx, fam, i0, i1, r0, r1, fl) IR_OP_##E,
#define LOP(E, name, fam, i0, i1, r0, r1, fl) IR_OP_##E,
#include "ops.def"
#undef TOP
#undef LOP
  IR_OP_COUNT
} IrOpKind;

enum {
  OPF_ELEMENTWISE = 1 << 0, /* result[i] depends on operands[i] (broadcast) */
  OPF_VIEW = 1 << 1,        /* result is its operand's bytes reinterpreted */
  OPF_TERMINATOR = 1 << 2,  /* ends a block */
  OPF_REGION = 1 << 3,      /* holds a region */
  OPF_PURE = 1 << 4,        /* no side effects: removable when unused */
  OPF_TYPE_ONLY = 1 << 5,   /* results depend on operand types only (Shape) */
  OPF_DYN = 1 << 6,         /* shape rule and lowering take run-time dims */
};

typedef enum IrLevel { IR_LEVEL_TENSOR, IR_LEVEL_LOOP } IrLevel;

struct IrModule;
struct IrOp;
struct LwCtx;

/* Canonicalizes a freshly imported ONNX node (opset moves, defaults, attribute
 * checks).  Runs once, before infer.  False = a diagnostic was emitted. */
typedef bool (*IrImportFn)(struct IrModule *m, struct IrOp *op, int opset);
/* Sets the result types from the operands and attributes. */
typedef bool (*IrInferFn)(struct IrModule *m, struct IrOp *op);
/* Emits loop-level IR computing the op (see ir/lower.h). */
typedef bool (*IrLowerFn)(struct LwCtx *c, struct IrOp *op);
/* Checks a loop-level op's operand and result types. */
typedef bool (*IrVerifyFn)(struct IrModule *m, struct IrOp *op);

typedef struct IrOpInfo {
  const char *name;      /* textual IR name */
  const char *onnx_name; /* ONNX op type, NULL for internal ops */
  IrLevel level;
  int min_operands, max_operands; /* max -1: variadic */
  int min_results, max_results;
  unsigned flags;
  IrImportFn import;
  IrInferFn infer;
  IrLowerFn lower;
  IrVerifyFn verify;
} IrOpInfo;

const IrOpInfo *ir_op_info(int kind);
/* Runs op's shape rule; an op without OPF_DYN whose operands have run-time
 * dims is refused with a diagnostic naming the dim. */
bool ir_infer_op(struct IrModule *m, struct IrOp *op);
bool ir_op_check_dyn(struct IrModule *m, struct IrOp *op); /* that check alone */
/* Lookup by textual name / ONNX op type; IR_OP_COUNT when unknown. */
int ir_op_by_name(const char *name, unsigned long len);
int ir_op_by_onnx(const char *onnx_type);

/* Hook declarations, one set per family. */
#define TOP(E, name, onnx, fam, i0, i1, r0, r1, fl)                               \
  bool op_##fam##_import(struct IrModule *m, struct IrOp *op, int opset);    \
  bool op_##fam##_infer(struct IrModule *m, struct IrOp *op);                \
  bool op_##fam##_lower(struct LwCtx *c, struct IrOp *op);
#define LOP(E, name, fam, i0, i1, r0, r1, fl)                                     \
  bool op_##fam##_verify(struct IrModule *m, struct IrOp *op);
#include "ops.def"
#undef TOP
#undef LOP

#endif
