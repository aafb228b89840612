/*
 * datamove.h — helpers shared by the data-movement op families (shape.c,
 * transpose.c, concat.c, shapeof.c, gather.c, slice.c, pad.c, expand.c,
 * fill.c): attribute checks, constant inputs turned into attributes, axis
 * normalization, and index arithmetic for lowerings.
 *
 * Every diagnostic starts with the ONNX op name ("Reshape: ...").
 *
 * Exports (datamove.c): dm_*
 */
#ifndef TCC_IR_OPS_DATAMOVE_H
#define TCC_IR_OPS_DATAMOVE_H

#include "ir.h"
#include "lower.h"

/* "Reshape" (ONNX name) or the text name for internal ops. */
const char *dm_name(const IrOp *op);

/* Attribute readers that check the kind: false after a diagnostic.  An
 * absent attribute gives dflt / *n = -1. */
bool dm_attr_int(const IrOp *op, const char *name, int64_t dflt, int64_t *out);
bool dm_attr_ints(const IrOp *op, const char *name, int *n, const int64_t **v);
bool dm_attr_string(const IrOp *op, const char *name, const char *dflt,
                    const char **out);

/* Operand i must be a weight with data (a constant); else a diagnostic
 * naming input `input`. */
bool dm_const_operand(const IrOp *op, int i, const char *input);
/* Reads constant integer operand i (any rank) into INTS attribute attr. */
bool dm_input_to_ints(IrModule *m, IrOp *op, int i, const char *input,
                      const char *attr);
/* Operand i or NULL when absent (index past the end or a NULL entry). */
IrValue *dm_operand(const IrOp *op, int i);

/* Operand i is present and a tensor of static shape; dims into dims. */
bool dm_static_input(const IrOp *op, int i, int64_t *dims);
/* True when operand i's type is already known and static (import time). */
bool dm_type_known(const IrOp *op, int i);
/* Normalizes axis into [0, rank) (negative counts from the end). */
bool dm_axis(const IrOp *op, const char *what, int64_t axis, int rank,
             int *out);

int64_t dm_numel(int rank, const int64_t *dims);
/* "[1,2,3]" into buf. */
const char *dm_ints_str(char *buf, size_t size, int n, const int64_t *v);
/* The type of operand i as text ("f32[2,3]"). */
const char *dm_type_str(const IrOp *op, int i, char *buf, size_t size);
void dm_set_result(IrOp *op, int i, IrElem e, int rank, const int64_t *dims);

/* Lowering: iv * mul + add on index values, folding the trivial cases. */
IrValue *dm_affine(LwCtx *c, IrValue *iv, int64_t mul, int64_t add);

#endif
