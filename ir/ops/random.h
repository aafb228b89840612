/*
 * random.h — tcc's deterministic uniform generator (random.c), shared by
 * the random op family and Dropout's training mode, so that every op that
 * draws uses one generator and one seeding rule.
 */
#ifndef TCC_IR_OPS_RANDOM_H
#define TCC_IR_OPS_RANDOM_H

#include "ir.h"
#include "lower.h"

/* Sets float attribute `seed`: the given one (int or float), else one from
 * a hash of the node name.  False after a diagnostic. */
bool random_seed_import(IrModule *m, IrOp *op);
/* The row-major counter of the element at iv in a tensor of dims. */
IrValue *random_counter(LwCtx *c, int rank, const int64_t *dims, IrValue *const *iv);
/* The uniform f64 draw in [0, 1) of counter ctr in op's `seed` stream. */
IrValue *random_draw01(LwCtx *c, const IrOp *op, IrValue *ctr);

#endif
