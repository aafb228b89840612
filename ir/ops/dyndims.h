/*
 * dyndims.h — run-time dimensions in the shape rules of the data-movement
 * ops flagged OPF_DYN (shape.c, concat.c, slice.c, gather.c, expand.c,
 * shapeof.c).
 *
 * A shape rule reads its operands' dims as int64: a static size, or for a
 * symbolic dim the code LW_DYN_DIM(sym) (negative, the same code lw_dim
 * gives lowerings), so "same dim" is plain equality.  A type can hold a
 * whole sym or a sum of syms and a constant (past + seq: a sum sym, made by
 * dd_dim_sum), never seq*2: a rule whose result would need one refuses with
 * a diagnostic.  Never do arithmetic on a code.
 */
#ifndef TCC_IR_OPS_DYNDIMS_H
#define TCC_IR_OPS_DYNDIMS_H

#include <stdio.h>

#include "datamove.h"

#define DD_IS_SYM(d) LW_DIM_IS_DYN(d)
#define DD_SYM(d) ((int)(-2 - (d)))

/* Operand i is present and a tensor; its dims (static or codes). */
static inline bool dd_input(const IrOp *op, int i, int64_t *dims) {
  IrValue *v = dm_operand(op, i);
  if (!v || v->type.kind != IR_TYPE_TENSOR) {
    diag_at(DIAG_ERROR, &op->loc, "%s: input %d must be a tensor", dm_name(op), i);
    return false;
  }
  for (int d = 0; d < v->type.rank; d++) {
    IrDim x = v->type.dims[d];
    dims[d] = x.sym >= 0 ? LW_DYN_DIM(x.sym) : x.size;
  }
  return true;
}

/* The dim codes[0] + ... + codes[n-1] (static sizes or codes; n at most
 * IR_SYM_MAX_TERMS + 2): static, or
 * the code of the sum sym (one for past + seq wherever it is made); -1 when
 * the sum would have more than IR_SYM_MAX_TERMS run-time terms. */
static inline int64_t dd_dim_sum(IrModule *m, int n, const int64_t *codes) {
  IrDim x[IR_SYM_MAX_TERMS + 2];
  if (n > IR_SYM_MAX_TERMS + 2) return -1;
  for (int i = 0; i < n; i++)
    x[i] = DD_IS_SYM(codes[i]) ? (IrDim){0, DD_SYM(codes[i])} : (IrDim){codes[i], -1};
  IrDim r = ir_dim_sum(m, n, x);
  return r.sym >= 0 ? LW_DYN_DIM(r.sym) : r.size;
}

/* Result i gets element type e and dims (static or codes). */
static inline void dd_set_result(IrOp *op, int i, IrElem e, int rank,
                                 const int64_t *dims) {
  op->results[i]->type = lw_type(IR_TYPE_TENSOR, e, rank, dims);
}

/* A dim as text: "64" or the sym's name. */
static inline const char *dd_dim_str(const IrModule *m, int64_t d, char *buf,
                                     size_t size) {
  if (!DD_IS_SYM(d))
    snprintf(buf, size, "%lld", (long long)d);
  else if (m && DD_SYM(d) < m->num_syms)
    snprintf(buf, size, "%s", m->syms[DD_SYM(d)].name);
  else
    snprintf(buf, size, "?%d", DD_SYM(d));
  return buf;
}

/* The type of operand i as text, syms by name ("f32[seq,256]"). */
static inline const char *dd_type_str(const IrModule *m, const IrOp *op, int i,
                                      char *buf, size_t size) {
  return ir_type_str(m, &op->operands[i]->type, buf, size);
}

/* Any static 0 among dims (codes are never 0)?  An empty loop nest. */
static inline bool dd_has_zero(int rank, const int64_t *dims) {
  for (int i = 0; i < rank; i++)
    if (dims[i] == 0) return true;
  return false;
}

/* The sym's smallest and largest sizes (-1: unbounded). */
static inline int64_t dd_lo(const IrModule *m, int64_t d) {
  return m && DD_SYM(d) < m->num_syms ? m->syms[DD_SYM(d)].lo : 0;
}
static inline int64_t dd_hi(const IrModule *m, int64_t d) {
  return m && DD_SYM(d) < m->num_syms ? m->syms[DD_SYM(d)].hi : -1;
}

/* The optional STRINGS attribute `name` (the frontend's `<input>_sym`,
 * docs/frontend.md): an op input computed from run-time dims holds each
 * element's factor, and entry i names the sym it multiplies ("" for a
 * constant).  syms[i] gets the sym, or -1 for a constant entry and for a
 * sym with a bound value, whose value is then multiplied into vals[i].
 * False after a diagnostic when the list is not n long or names no sym. */
static inline bool dd_attr_syms(const IrModule *m, const IrOp *op, const char *name,
                                int n, int64_t *vals, int *syms) {
  const IrAttr *a = ir_attr_get(op, name);
  for (int i = 0; i < n; i++) syms[i] = -1;
  if (!a) return true;
  if (a->kind != IR_ATTR_STRINGS || a->n != n) {
    diag_at(DIAG_ERROR, &op->loc, "%s: attribute '%s' must list %d sym names "
            "(\"\" for a constant)", dm_name(op), name, n);
    return false;
  }
  for (int i = 0; i < n; i++) {
    if (!a->strings[i][0]) continue;
    int s = m ? ir_sym_find(m, a->strings[i]) : -1;
    if (s < 0) {
      diag_at(DIAG_ERROR, &op->loc, "%s: attribute '%s' names '%s', which is not "
              "a sym of the module", dm_name(op), name, a->strings[i]);
      return false;
    }
    if (m->syms[s].value >= 0)
      vals[i] *= m->syms[s].value;
    else
      syms[i] = s;
  }
  return true;
}

#endif
