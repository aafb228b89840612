/* lower.c — helpers that op lowerings use to emit loop-level IR. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "schedule.h"
#include "tcc/runtime.h"

static IrType scalar_like(const IrValue *v, IrElem e) {
  if (v->type.kind == IR_TYPE_VECTOR)
    return ir_type_vector(e, v->type.lanes, v->type.scalable);
  return ir_type_scalar(e);
}

void lw_note_kernel(LwCtx *c, const char *fmt, ...) {
  char text[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  ir_module_note_kernel(c->m, &c->b.loc, text);
}

IrValue *lw_index(LwCtx *c, int64_t v) { return lw_const_i(c, IR_INDEX, v); }

IrValue *lw_const_i(LwCtx *c, IrElem e, int64_t v) {
  if (ir_elem_is_float(e)) return lw_const_f(c, e, (double)v);
  IrOp *op = ir_build(&c->b, IR_OP_CONST, 0, NULL, 1,
                      &(IrType){.kind = IR_TYPE_SCALAR, .elem = e});
  ir_attr_set_int(c->m, op, "value", e == IR_BOOL ? v != 0 : v);
  return op->results[0];
}

IrValue *lw_const_f(LwCtx *c, IrElem e, double v) {
  if (!ir_elem_is_float(e)) return lw_const_i(c, e, (int64_t)v);
  IrOp *op = ir_build(&c->b, IR_OP_CONST, 0, NULL, 1,
                      &(IrType){.kind = IR_TYPE_SCALAR, .elem = e});
  ir_attr_set_float(c->m, op, "value", v);
  return op->results[0];
}

IrOp *lw_for_begin_iter(LwCtx *c, IrValue *lo, IrValue *hi, int64_t step,
                        int n_iters, IrValue *const *iters, IrValue **iv,
                        IrValue **body_iters) {
  IrValue *operands[2 + 64];
  IrType types[64] = {{0}};
  IR_ASSERT(n_iters <= 64);
  operands[0] = lo;
  operands[1] = hi;
  for (int i = 0; i < n_iters; i++) {
    operands[2 + i] = iters[i];
    types[i] = iters[i]->type;
  }
  IrOp *loop = ir_build(&c->b, IR_OP_FOR, 2 + n_iters, operands, n_iters, types);
  ir_attr_set_int(c->m, loop, "step", step);
  IrBlock *body = ir_op_add_region(c->m, loop);
  *iv = ir_block_add_arg(c->m, body, ir_type_scalar(IR_INDEX));
  for (int i = 0; i < n_iters; i++)
    body_iters[i] = ir_block_add_arg(c->m, body, types[i]);
  c->b.block = body;
  c->b.before = NULL;
  return loop;
}

IrOp *lw_for_begin(LwCtx *c, IrValue *lo, IrValue *hi, int64_t step,
                   IrValue **iv) {
  return lw_for_begin_iter(c, lo, hi, step, 0, NULL, iv, NULL);
}

void lw_for_end(LwCtx *c, IrOp *loop) {
  c->b.block = loop->parent;
  c->b.before = loop->next;
}

void lw_for_end_iter(LwCtx *c, IrOp *loop, int n, IrValue *const *yielded) {
  ir_build(&c->b, IR_OP_YIELD, n, yielded, 0, NULL);
  lw_for_end(c, loop);
}

void lw_nest_begin(LwCtx *c, LwNest *nest, int rank, const int64_t *dims,
                   IrValue **ivs) {
  nest->rank = rank;
  for (int i = 0; i < rank; i++) {
    IrValue *lo = lw_index(c, 0), *hi = lw_dim_index(c, dims[i]);
    nest->loops[i] = lw_for_begin(c, lo, hi, 1, &ivs[i]);
  }
}

/* A parallel_for call costs about 8 us at 2 threads (docs/status.md): a
 * copy splits across threads from this size, which takes about 20 us. */
enum { LW_PARALLEL_COPY_BYTES = 256 * 1024 };

void lw_nest_parallel(LwCtx *c, LwNest *nest, const int64_t *dims, IrElem elem) {
  int64_t bytes = ir_elem_size(elem);
  for (int i = 0; i < nest->rank; i++) {
    if (LW_DIM_IS_DYN(dims[i])) return;
    bytes *= dims[i];
  }
  if (!c->target || !c->target->threads || bytes < LW_PARALLEL_COPY_BYTES) return;
  for (int i = 0; i < nest->rank; i++)
    if (dims[i] >= 2) {
      ir_attr_set_int(c->m, nest->loops[i], "parallel", 1);
      return;
    }
}

void lw_nest_end(LwCtx *c, LwNest *nest) {
  for (int i = nest->rank - 1; i >= 0; i--) lw_for_end(c, nest->loops[i]);
}

/* A load (vload) or store (vstore): [value,] buf, one index per dim. */
static IrOp *mem_op(LwCtx *c, IrOpKind k, IrValue *v, IrValue *buf,
                    IrValue *const *idx, IrType result) {
  IrValue *operands[2 + IR_MAX_RANK];
  int r = buf->type.rank, n = 0;
  if (v) operands[n++] = v;
  operands[n++] = buf;
  memcpy(operands + n, idx, sizeof *idx * (size_t)r);
  bool res = result.kind != IR_TYPE_NONE; /* a load's value; none for a store or prefetch */
  return ir_build(&c->b, k, n + r, operands, res ? 1 : 0, res ? &result : NULL);
}

void lw_prefetch(LwCtx *c, IrValue *buf, IrValue *const *idx) {
  mem_op(c, IR_OP_PREFETCH, NULL, buf, idx, (IrType){0});
}

IrValue *lw_load(LwCtx *c, IrValue *buf, IrValue *const *idx) {
  return mem_op(c, IR_OP_LOAD, NULL, buf, idx, ir_type_scalar(buf->type.elem))->results[0];
}

void lw_store(LwCtx *c, IrValue *v, IrValue *buf, IrValue *const *idx) {
  mem_op(c, IR_OP_STORE, v, buf, idx, (IrType){0});
}

IrValue *lw_vload(LwCtx *c, IrValue *buf, IrValue *const *idx, int lanes) {
  if (lanes == 1) return lw_load(c, buf, idx);
  IrType t = ir_type_vector(buf->type.elem, lanes, false);
  IrOp *op = mem_op(c, IR_OP_VLOAD, NULL, buf, idx, t);
  if (c->valid_lanes > 0 && c->valid_lanes < lanes)
    ir_attr_set_int(c->m, op, "valid", c->valid_lanes);
  return op->results[0];
}

IrValue *lw_vload_strided(LwCtx *c, IrValue *buf, IrValue *const *idx, int lanes,
                          int64_t stride) {
  if (stride == 1 || lanes == 1) return lw_vload(c, buf, idx, lanes);
  IrValue *v = lw_vload(c, buf, idx, lanes);
  ir_attr_set_int(c->m, v->def, "stride", stride);
  return v;
}

static IrOp *vstore_op(LwCtx *c, IrValue *v, IrValue *buf, IrValue *const *idx) {
  bool vec = v->type.kind == IR_TYPE_VECTOR;
  IrOp *op = mem_op(c, vec ? IR_OP_VSTORE : IR_OP_STORE, v, buf, idx, (IrType){0});
  if (vec && c->valid_lanes > 0 && c->valid_lanes < v->type.lanes)
    ir_attr_set_int(c->m, op, "valid", c->valid_lanes);
  return op;
}

void lw_vstore(LwCtx *c, IrValue *v, IrValue *buf, IrValue *const *idx) {
  vstore_op(c, v, buf, idx);
}

void lw_vstore_strided(LwCtx *c, IrValue *v, IrValue *buf, IrValue *const *idx,
                       int64_t stride) {
  IrOp *op = vstore_op(c, v, buf, idx);
  if (stride != 1 && v->type.kind == IR_TYPE_VECTOR)
    ir_attr_set_int(c->m, op, "stride", stride);
}

void lw_vector_span(LwCtx *c, int64_t lo, int64_t hi, int lanes,
                    void (*body)(LwCtx *c, void *user, IrValue *i), void *user) {
  int64_t full = lo + (hi - lo) / lanes * lanes;
  if (full > lo) {
    IrValue *i;
    IrOp *l = lw_for_begin(c, lw_index(c, lo), lw_index(c, full), lanes, &i);
    body(c, user, i);
    lw_for_end(c, l);
  }
  if (hi <= full) return;
  c->valid_lanes = (int)(hi - full);
  body(c, user, lw_index(c, full));
  c->valid_lanes = 0;
}

IrValue *lw_splat(LwCtx *c, IrValue *scalar, int lanes) {
  if (lanes == 1) return scalar;
  return ir_build1(&c->b, IR_OP_V_BROADCAST, 1, &scalar,
                   ir_type_vector(scalar->type.elem, lanes, false));
}

void lw_copy(LwCtx *c, IrValue *src, IrValue *dst) {
  IrValue *operands[2] = {src, dst};
  ir_build(&c->b, IR_OP_COPY, 2, operands, 0, NULL);
}

IrValue *lw_alloc(LwCtx *c, IrElem e, int rank, const int64_t *dims) {
  return ir_build1(&c->b, IR_OP_ALLOC, 0, NULL, lw_type(IR_TYPE_BUFFER, e, rank, dims));
}

IrValue *lw_bin(LwCtx *c, IrOpKind k, IrValue *a, IrValue *b) {
  IrValue *operands[2] = {a, b};
  return ir_build1(&c->b, k, 2, operands, a->type);
}

IrValue *lw_un(LwCtx *c, IrOpKind k, IrValue *a) {
  return ir_build1(&c->b, k, 1, &a, a->type);
}

IrValue *lw_fma(LwCtx *c, IrValue *a, IrValue *b, IrValue *acc) {
  IrValue *operands[3] = {a, b, acc};
  return ir_build1(&c->b, IR_OP_A_FMA, 3, operands, acc->type);
}

IrValue *lw_dot4(LwCtx *c, IrValue *acc, IrValue *u, IrValue *s) {
  IrValue *operands[3] = {acc, u, s};
  return ir_build1(&c->b, IR_OP_A_DOT4, 3, operands, acc->type);
}

/* ------------------------------------------- 8-bit floats and f4e2m1 */
/* A constant of like's shape (a splat for vectors). */
static IrValue *k_like(LwCtx *c, const IrValue *like, IrElem e, double v) {
  IrValue *k = ir_elem_is_float(e) ? lw_const_f(c, e, v) : lw_const_i(c, e, (int64_t)v);
  if (like->type.kind != IR_TYPE_VECTOR) return k;
  return ir_build1(&c->b, IR_OP_V_BROADCAST, 1, &k, scalar_like(like, e));
}

IrValue *lw_bitcast(LwCtx *c, IrValue *v, IrElem to) {
  if (v->type.elem == to) return v;
  return ir_build1(&c->b, IR_OP_A_BITCAST, 1, &v, scalar_like(v, to));
}

/* The value of an 8-bit float (its bit pattern) as f32: ir_f8_to_f32's
 * steps.  Normals and specials are assembled as f32 bits, subnormals are
 * their mantissa times a power of two (exact). */
#define K(e, x) k_like(c, u, e, (double)(x))
/* e8m0 as f32: 2^(bits-127) is the f32 with those exponent bits, 0 the
 * subnormal 2^-127, 0xff NaN. */
static IrValue *e8m0_to_f32(LwCtx *c, IrValue *u) {
  IrValue *bits = lw_bin(c, IR_OP_A_MUL, u, K(IR_U32, 1u << 23));
  bits = lw_select(c, lw_cmp(c, "eq", u, K(IR_U32, 0)), K(IR_U32, 0x400000u), bits);
  bits = lw_select(c, lw_cmp(c, "eq", u, K(IR_U32, 0xff)), K(IR_U32, 0x7fc00000u), bits);
  return lw_bitcast(c, bits, IR_F32);
}

IrValue *lw_e8m0_from_f32(LwCtx *c, IrValue *x, bool saturate, IrE8m0Round mode) {
  IrValue *u = lw_bitcast(c, lw_cast(c, x, IR_F32), IR_U32);
  IrValue *ex = lw_bin(c, IR_OP_A_AND, lw_bin(c, IR_OP_A_DIV, u, K(IR_U32, 1u << 23)),
                       K(IR_U32, 0xff));
  IrValue *man = lw_bin(c, IR_OP_A_AND, u, K(IR_U32, 0x7fffffu));
  IrValue *inc = NULL; /* bool: round the exponent up */
  if (mode == IR_E8M0_UP) {
    inc = lw_cmp(c, "ne", man, K(IR_U32, 0));
  } else if (mode == IR_E8M0_NEAREST) {
    IrValue *g = lw_cmp(c, "ne", lw_bin(c, IR_OP_A_AND, man, K(IR_U32, 0x400000u)), K(IR_U32, 0));
    IrValue *rs = lw_cmp(c, "ne", lw_bin(c, IR_OP_A_AND, man, K(IR_U32, 0x3fffffu)),
                         K(IR_U32, 0));
    inc = lw_bin(c, IR_OP_A_AND, g, lw_bin(c, IR_OP_A_OR, rs, lw_cmp(c, "gt", ex, K(IR_U32, 0))));
  }
  IrValue *code = ex;
  if (inc) {
    /* inf and NaN (0xff) stay; saturation stops at 0xfe */
    inc = lw_bin(c, IR_OP_A_AND, inc, lw_cmp(c, "ne", ex, K(IR_U32, 0xff)));
    if (saturate) inc = lw_bin(c, IR_OP_A_AND, inc, lw_cmp(c, "ne", ex, K(IR_U32, 0xfe)));
    code = lw_select(c, inc, lw_bin(c, IR_OP_A_ADD, ex, K(IR_U32, 1)), ex);
  }
  return lw_bitcast(c, lw_cast(c, code, IR_U8), IR_F8E8M0);
}

/* What moves a format's sign bit to bit 31 of an f32. */
static uint32_t sign_scale(const IrF8Format *f) { return f->sign == 0x80 ? 1u << 24 : 1u << 28; }

static IrValue *f8_to_f32(LwCtx *c, IrValue *v) {
  IrValue *u = lw_cast(c, lw_bitcast(c, v, IR_U8), IR_U32);
  if (v->type.elem == IR_F8E8M0) return e8m0_to_f32(c, u);
  const IrF8Format *f = ir_f8_format(v->type.elem);
  IrValue *sign = lw_bin(c, IR_OP_A_AND, u, K(IR_U32, f->sign));
  IrValue *mag = lw_bin(c, IR_OP_A_AND, u, K(IR_U32, f->sign - 1));
  IrValue *sign32 = lw_bin(c, IR_OP_A_MUL, sign, K(IR_U32, sign_scale(f)));
  IrValue *bits = lw_bin(c, IR_OP_A_OR, sign32,
                         lw_bin(c, IR_OP_A_MUL,
                                lw_bin(c, IR_OP_A_ADD, mag,
                                       K(IR_U32, (uint32_t)(127 - f->bias) << f->mbits)),
                                K(IR_U32, 1u << (23 - f->mbits))));
  if (f->inf_code)
    bits = lw_select(c, lw_cmp(c, "eq", mag, K(IR_U32, f->inf_code)),
                     lw_bin(c, IR_OP_A_OR, sign32, K(IR_U32, 0x7f800000u)), bits);
  IrValue *nan = f->uz ? lw_cmp(c, "eq", u, K(IR_U32, 0x80))
                       : lw_cmp(c, "gt", mag,
                                K(IR_U32, f->inf_code ? f->inf_code : f->max_code));
  bits = lw_select(c, nan, K(IR_U32, 0x7fc00000u), bits);
  IrValue *sub = lw_bin(c, IR_OP_A_MUL, lw_cast(c, mag, IR_F32),
                        K(IR_F32, ldexp(1.0, 1 - f->bias - f->mbits)));
  sub = lw_select(c, lw_cmp(c, "ne", sign, K(IR_U32, 0)), lw_un(c, IR_OP_A_NEG, sub), sub);
  IrValue *use_bits = lw_cmp(c, "ge", mag, K(IR_U32, 1u << f->mbits));
  if (f->uz) use_bits = lw_bin(c, IR_OP_A_OR, use_bits, nan); /* 0x80 has mag 0 */
  return lw_select(c, use_bits, lw_bitcast(c, bits, IR_F32), sub);
}

/* An f32 as the 8-bit float (or f4e2m1) `to`: ir_f8_from_f32's steps
 * (round to nearest even on the bits for normals, math.round of the scaled
 * value for subnormals). */
static IrValue *f8_from_f32(LwCtx *c, IrValue *x, IrElem to, bool saturate) {
  if (to == IR_F8E8M0) return lw_e8m0_from_f32(c, x, saturate, IR_E8M0_UP);
  const IrF8Format *f = ir_f8_format(to);
  IrValue *u = lw_bitcast(c, x, IR_U32);
  if (to == IR_F4E2M1) saturate = true; /* no inf, no NaN: overflow saturates */
  unsigned over = saturate ? f->max_code : f->inf_code ? f->inf_code : f->nan_code;
  int sh = 23 - f->mbits;
  IrValue *sign = lw_bin(c, IR_OP_A_AND, lw_bin(c, IR_OP_A_DIV, u, K(IR_U32, sign_scale(f))),
                         K(IR_U32, f->sign));
  IrValue *a = lw_bin(c, IR_OP_A_AND, u, K(IR_U32, 0x7fffffffu));
  IrValue *odd = lw_bin(c, IR_OP_A_AND, lw_bin(c, IR_OP_A_DIV, a, K(IR_U32, 1u << sh)),
                        K(IR_U32, 1));
  IrValue *r = lw_bin(c, IR_OP_A_ADD, lw_bin(c, IR_OP_A_ADD, a, K(IR_U32, (1u << (sh - 1)) - 1)),
                      odd);
  IrValue *normal = lw_bin(c, IR_OP_A_SUB, lw_bin(c, IR_OP_A_DIV, r, K(IR_U32, 1u << sh)),
                           K(IR_U32, (uint32_t)(127 - f->bias) << f->mbits));
  normal = lw_select(c, lw_cmp(c, "gt", normal, K(IR_U32, f->max_code)), K(IR_U32, over),
                     normal);
  /* clamped so that the conversion of a normal's (unused) lane stays in range */
  IrValue *scaled = lw_bin(c, IR_OP_A_MIN,
                           lw_bin(c, IR_OP_A_MUL, lw_bitcast(c, a, IR_F32),
                                  K(IR_F32, ldexp(1.0, f->bias - 1 + f->mbits))),
                           K(IR_F32, 1u << f->mbits));
  IrValue *sub = lw_cast(c, lw_un(c, IR_OP_M_ROUND, scaled), IR_U32);
  IrValue *code = lw_select(c, lw_cmp(c, "ge", a, K(IR_U32, (uint32_t)(128 - f->bias) << 23)),
                            normal, sub);
  code = lw_select(c, lw_cmp(c, "eq", a, K(IR_U32, 0x7f800000u)), K(IR_U32, over), code);
  code = lw_select(c, lw_cmp(c, "gt", a, K(IR_U32, 0x7f800000u)), K(IR_U32, f->nan_code), code);
  /* xor: a code has no sign bit, except f4e2m1's "NaN" (negative zero),
   * which a negative NaN flips */
  IrValue *res = lw_bin(c, IR_OP_A_XOR, code, sign);
  if (f->uz) /* no negative zero; NaN is 0x80 whatever the sign */
    res = lw_select(c, lw_bin(c, IR_OP_A_OR, lw_cmp(c, "eq", code, K(IR_U32, 0)),
                              lw_cmp(c, "eq", code, K(IR_U32, f->nan_code))),
                    code, res);
  return lw_bitcast(c, lw_cast(c, res, IR_U8), to);
}

/* A value (no storage type) as the sub-byte integer `to`: its low bits,
 * sign-extended for i4/i2 (Cast's "discard higher bits"; a float is first
 * truncated to i32, saturating, as arith.cast does). */
static IrValue *to_subbyte_int(LwCtx *c, IrValue *v, IrElem to) {
  IrValue *u = lw_cast(c, v, IR_I32);
  bool is_signed = to == IR_I4 || to == IR_I2;
  unsigned bits = (unsigned)ir_elem_bits(to), half = 1u << (bits - 1);
  IrValue *w = lw_bin(c, IR_OP_A_AND, u, K(IR_I32, (1u << bits) - 1));
  if (is_signed)
    w = lw_bin(c, IR_OP_A_SUB, lw_bin(c, IR_OP_A_XOR, w, K(IR_I32, half)), K(IR_I32, half));
  return lw_bitcast(c, lw_cast(c, w, is_signed ? IR_I8 : IR_U8), to);
}
#undef K

IrValue *lw_cast_sat(LwCtx *c, IrValue *v, IrElem to, bool saturate) {
  IrElem from = v->type.elem;
  if (from == to) return v;
  if (ir_elem_is_narrow_float(from)) return lw_cast_sat(c, f8_to_f32(c, v), to, saturate);
  if (ir_elem_is_subbyte_int(from)) /* the byte holds the value */
    return lw_cast_sat(c, lw_bitcast(c, v, from == IR_I4 || from == IR_I2 ? IR_I8 : IR_U8), to,
                       saturate);
  if (ir_elem_is_narrow_float(to)) return f8_from_f32(c, lw_cast(c, v, IR_F32), to, saturate);
  if (ir_elem_is_subbyte_int(to)) return to_subbyte_int(c, v, to);
  return ir_build1(&c->b, IR_OP_A_CAST, 1, &v, scalar_like(v, to));
}

IrValue *lw_cast(LwCtx *c, IrValue *v, IrElem to) { return lw_cast_sat(c, v, to, true); }

IrValue *lw_cmp(LwCtx *c, const char *pred, IrValue *a, IrValue *b) {
  IrValue *operands[2] = {a, b};
  IrOp *op = ir_build(&c->b, IR_OP_A_CMP, 2, operands, 1,
                      &(IrType){0});
  op->results[0]->type = scalar_like(a, IR_BOOL);
  ir_attr_set_string(c->m, op, "pred", pred);
  return op->results[0];
}

IrValue *lw_select(LwCtx *c, IrValue *cond, IrValue *a, IrValue *b) {
  IrValue *operands[3] = {cond, a, b};
  return ir_build1(&c->b, IR_OP_A_SELECT, 3, operands, a->type);
}

IrElem lw_elem(const IrValue *buf) { return buf->type.elem; }
int lw_rank(const IrValue *buf) { return buf->type.rank; }
int64_t lw_dim(const IrValue *buf, int i) {
  IR_ASSERT(i >= 0 && i < buf->type.rank);
  IrDim d = buf->type.dims[i];
  return d.sym >= 0 ? LW_DYN_DIM(d.sym) : d.size;
}

int lw_dims(const IrValue *v, int64_t *dims) {
  for (int i = 0; i < v->type.rank; i++) dims[i] = lw_dim(v, i);
  return v->type.rank;
}

IrType lw_type(IrTypeKind kind, IrElem e, int rank, const int64_t *dims) {
  IR_ASSERT(rank >= 0 && rank <= IR_MAX_RANK);
  IrType t = {.kind = kind, .elem = e, .rank = rank};
  for (int i = 0; i < rank; i++)
    t.dims[i] = LW_DIM_IS_DYN(dims[i]) ? (IrDim){0, (int)(-2 - dims[i])} : (IrDim){dims[i], -1};
  return t;
}

IrValue *lw_dim_index(LwCtx *c, int64_t d) {
  if (!LW_DIM_IS_DYN(d)) return lw_index(c, d);
  IrOp *op = ir_build(&c->b, IR_OP_DIM_GET, 0, NULL, 1,
                      &(IrType){.kind = IR_TYPE_SCALAR, .elem = IR_INDEX});
  ir_attr_set_string(c->m, op, "sym", c->m->syms[-2 - d].name);
  return op->results[0];
}

IrValue *lw_dims_product(LwCtx *c, int n, const int64_t *dims) {
  int64_t fixed = 1;
  IrValue *dyn = NULL;
  for (int i = 0; i < n; i++) {
    if (!LW_DIM_IS_DYN(dims[i])) {
      fixed *= dims[i];
      continue;
    }
    IrValue *v = lw_dim_index(c, dims[i]);
    dyn = dyn ? lw_bin(c, IR_OP_A_MUL, dyn, v) : v;
  }
  if (!dyn) return lw_index(c, fixed);
  return fixed == 1 ? dyn : lw_bin(c, IR_OP_A_MUL, dyn, lw_index(c, fixed));
}

void lw_broadcast_index(LwCtx *c, const IrValue *buf, int out_rank,
                        const int64_t *out_dims, IrValue *const *out_ivs,
                        IrValue **idx) {
  int r = buf->type.rank, off = out_rank - r;
  bool bcast = off > 0;
  IR_ASSERT(off >= 0);
  for (int j = 0; j < r; j++) {
    int64_t d = lw_dim(buf, j);
    bcast |= d == 1 && out_dims[j + off] != 1;
    idx[j] = (d == 1 && out_dims[j + off] != 1) ? lw_index(c, 0)
                                                : out_ivs[j + off];
  }
  /* Test only (docs/testing.md, "Differential testing"): TCC_MUTATE=broadcast
   * plants a bug, a broadcast operand read at index 0 of its last axis, so
   * that tests/difftest can show it catches such a bug. */
  const char *mutate = getenv("TCC_MUTATE");
  if (bcast && r > 0 && mutate && !strcmp(mutate, "broadcast"))
    idx[r - 1] = lw_index(c, 0);
}

/* ------------------------------------------------------------- failures */
void lw_check(LwCtx *c, IrValue *ok, int status) {
  IrOp *op = ir_build(&c->b, IR_OP_CHECK, 1, &ok, 0, NULL);
  ir_attr_set_int(c->m, op, "status", status);
}

/* The check is an or-reduction carried through the nest (no branch per
 * element, so it vectorizes) and one rt.check after it. */
void lw_check_indices(LwCtx *c, IrValue *ind, int nb, const int64_t *bounds,
                      bool allow_neg, const int64_t *skip) {
  int64_t dims[IR_MAX_RANK];
  IrValue *ivs[IR_MAX_RANK];
  IrOp *loops[IR_MAX_RANK];
  if (c->m->no_index_checks) return;
  int rank = lw_dims(ind, dims), outer = nb > 1 ? rank - 1 : rank;
  IR_ASSERT(nb >= 1 && (nb == 1 || (rank >= 1 && dims[rank - 1] == nb)));
  for (int i = 0; i < rank; i++)
    if (dims[i] == 0) return; /* no elements */
  IrValue *any = lw_const_i(c, IR_BOOL, 0);
  for (int i = 0; i < outer; i++)
    loops[i] = lw_for_begin_iter(c, lw_index(c, 0), lw_dim_index(c, dims[i]), 1, 1, &any,
                                 &ivs[i], &any);
  for (int j = 0; j < nb; j++) {
    if (nb > 1) ivs[rank - 1] = lw_index(c, j);
    IrValue *v = lw_cast(c, lw_load(c, ind, ivs), IR_INDEX);
    IrValue *n = lw_dim_index(c, bounds[j]);
    IrValue *lo = allow_neg ? lw_bin(c, IR_OP_A_SUB, lw_index(c, 0), n) : lw_index(c, 0);
    IrValue *below = lw_cmp(c, "lt", v, lo), *above = lw_cmp(c, "ge", v, n);
    IrValue *bad = lw_bin(c, IR_OP_A_OR, below, above);
    if (skip) bad = lw_bin(c, IR_OP_A_AND, bad, lw_cmp(c, "ne", v, lw_index(c, *skip)));
    any = lw_bin(c, IR_OP_A_OR, any, bad);
  }
  for (int i = outer - 1; i >= 0; i--) {
    lw_for_end_iter(c, loops[i], 1, &any);
    any = loops[i]->results[0];
  }
  lw_check(c, lw_un(c, IR_OP_A_NOT, any), TCC_ERR_INDEX_OUT_OF_RANGE);
}
