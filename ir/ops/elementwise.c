/*
 * elementwise.c — ops whose result element i reads only the operand
 * elements at i after numpy broadcasting: the families binary (Add ...
 * Xor, BitwiseAnd/Or/Xor, Pow, Mod, PRelu, BitShift, SwiGLU, whose operands
 * have one shape), variadic (Max Min Sum Mean), where, and unary (Neg ...
 * Clip, BitwiseNot, Gelu, Mish, Cast, CastLike, BitCast, Identity, IsInf,
 * IsNaN, Shrink, and Dropout: the identity at inference, random masking
 * with the generator of random.c in training mode).
 *
 * One table, ew_rows, holds each op's facts: the element types it accepts,
 * whether it yields bool, its default attributes and its scalar function —
 * a single loop op (math.exp) or a few lines of builder calls (sigmoid).
 * The families differ only in their checks; every lowering goes through
 * ew_emit: one loop nest over the output shape, each operand loaded with
 * lw_broadcast_index (hoisted when it has one element), f16/bf16 widened
 * to f32, the scalar function applied, the result narrowed and stored.
 *
 * Integer corner cases are defined, never trapping: x / 0 and x % 0 yield
 * 0 (numpy's result); INT_MIN / -1 wraps to INT_MIN and INT_MIN % -1 is 0.
 * A negative integer exponent yields 0 unless the base is 1 or -1 (the
 * truncated real result).  BitShift by the type's width or more yields 0.
 */
#include <math.h>
#include <string.h>

#include "ir.h"
#include "lower.h"
#include "nn_util.h"
#include "random.h"

/* Element type classes an op accepts. */
enum {
  EW_F = 1, EW_SI = 2, EW_UI = 4, EW_B = 8,
  EW_I = EW_SI | EW_UI, EW_NUM = EW_F | EW_I, EW_ALL = EW_NUM | EW_B,
};
/* Row flags. */
enum {
  EWF_BOOL = 1, /* result is bool */
  EWF_RAW = 2,  /* operands are not widened (cast, where) */
};

typedef struct Ew Ew;
/* A scalar function: x[i] is operand i at the current element (NULL when
 * absent), widened unless EWF_RAW; returns the result element. */
typedef IrValue *(*EwFn)(Ew *e, IrValue *const *x);

typedef struct EwRow {
  unsigned types;   /* accepted element classes of operand 0 */
  unsigned flags;
  IrOpKind lop;     /* the loop op for fn_lop1/fn_lop2/fn_fold */
  const char *pred; /* comparisons */
  EwFn fn;
  struct { const char *name; double value; } defaults[2];
} EwRow;

struct Ew {
  LwCtx *c;
  const IrOp *op;
  const EwRow *row;
  IrElem ce;  /* compute type of operand 0 (f16/bf16 -> f32) */
  IrElem out; /* result element type */
  int lanes;  /* values are vectors of this many lanes (1: scalars) */
};

/* ------------------------------------------------------------ helpers */
static IrElem ew_widen_elem(IrElem e) {
  if (e == IR_I4 || e == IR_I2) return IR_I8;
  if (e == IR_U4 || e == IR_U2) return IR_U8;
  return e == IR_F16 || e == IR_BF16 || ir_elem_is_narrow_float(e) ? IR_F32 : e;
}

static IrValue *ew_k(Ew *e, double v) {
  return lw_splat(e->c, lw_const_f(e->c, e->ce, v), e->lanes);
}
static IrValue *ew_ki(Ew *e, IrElem t, int64_t v) {
  return lw_const_i(e->c, t, v);
}
static IrValue *ew_attr(Ew *e, const char *name) {
  return ew_k(e, ir_attr_float(e->op, name, 0));
}
static IrValue *ew_bin(Ew *e, IrOpKind k, IrValue *a, IrValue *b) {
  return lw_bin(e->c, k, a, b);
}
static IrValue *ew_fma(Ew *e, IrValue *a, IrValue *b, IrValue *acc) {
  return lw_fma(e->c, a, b, acc);
}
static IrValue *ew_cmp(Ew *e, const char *pred, IrValue *a, IrValue *b) {
  return lw_cmp(e->c, pred, a, b);
}
static IrValue *ew_sel(Ew *e, IrValue *c, IrValue *a, IrValue *b) {
  return lw_select(e->c, c, a, b);
}
static bool ew_signed(const IrValue *v) {
  return ir_elem_is_signed(v->type.elem);
}

/* ------------------------------------------------- scalar functions */
static IrValue *fn_lop1(Ew *e, IrValue *const *x) {
  return lw_un(e->c, e->row->lop, x[0]);
}
static IrValue *fn_lop2(Ew *e, IrValue *const *x) {
  return ew_bin(e, e->row->lop, x[0], x[1]);
}
static IrValue *fn_cmp(Ew *e, IrValue *const *x) {
  return ew_cmp(e, e->row->pred, x[0], x[1]);
}

/* Integer a/b or a%b that never traps (see the essay above). */
static IrValue *ew_int_divrem(Ew *e, IrOpKind k, IrValue *a, IrValue *b) {
  IrElem t = a->type.elem;
  IrValue *zero = ew_ki(e, t, 0), *one = ew_ki(e, t, 1);
  IrValue *bz = ew_cmp(e, "eq", b, zero), *guard = bz, *bm1 = NULL;
  if (ew_signed(a)) {
    bm1 = ew_cmp(e, "eq", b, ew_ki(e, t, -1));
    guard = ew_bin(e, IR_OP_A_OR, bz, bm1);
  }
  IrValue *q = ew_bin(e, k, a, ew_sel(e, guard, one, b));
  if (bm1)
    q = ew_sel(e, bm1, k == IR_OP_A_DIV ? lw_un(e->c, IR_OP_A_NEG, a) : zero,
               q);
  return ew_sel(e, bz, zero, q);
}

static IrValue *fn_div(Ew *e, IrValue *const *x) {
  if (ir_elem_is_float(e->ce)) return ew_bin(e, IR_OP_A_DIV, x[0], x[1]);
  return ew_int_divrem(e, IR_OP_A_DIV, x[0], x[1]);
}

/* fmod=1: C fmod (sign of the dividend); fmod=0: sign of the divisor, as
 * Python's % (also accepted for floats, as numpy.mod). */
static IrValue *fn_mod(Ew *e, IrValue *const *x) {
  IrValue *a = x[0], *b = x[1], *r;
  bool fl = ir_elem_is_float(e->ce);
  r = fl ? ew_bin(e, IR_OP_A_REM, a, b) : ew_int_divrem(e, IR_OP_A_REM, a, b);
  if (ir_attr_int(e->op, "fmod", 0) || !(fl || ew_signed(a))) return r;
  IrValue *zero = ew_k(e, 0);
  IrValue *differ = ew_bin(e, IR_OP_A_XOR, ew_cmp(e, "lt", r, zero),
                           ew_cmp(e, "lt", b, zero));
  IrValue *fix = ew_bin(e, IR_OP_A_AND, ew_cmp(e, "ne", r, zero), differ);
  return ew_sel(e, fix, ew_bin(e, IR_OP_A_ADD, r, b), r);
}

/* Integer power by squaring, wrapping like numpy; one iteration per bit
 * of the exponent's type. */
static IrValue *ew_ipow(Ew *e, IrValue *a, IrValue *y) {
  IrElem t = a->type.elem;
  int bits = (int)ir_elem_size(y->type.elem) * 8;
  IrValue *y64 = lw_cast(e->c, y, IR_I64), *z64 = ew_ki(e, IR_I64, 0);
  IrValue *neg = ew_signed(y) ? ew_cmp(e, "lt", y64, z64) : NULL;
  IrValue *ay = neg ? ew_sel(e, neg, lw_un(e->c, IR_OP_A_NEG, y64), y64) : y64;
  IrValue *init[3] = {ew_ki(e, t, 1), a, ay}, *it[3], *iv;
  IrOp *loop = lw_for_begin_iter(e->c, lw_index(e->c, 0),
                                 lw_index(e->c, bits), 1, 3, init, &iv, it);
  IrValue *bit = ew_bin(e, IR_OP_A_AND, it[2], ew_ki(e, IR_I64, 1));
  IrValue *next[3] = {
      ew_sel(e, ew_cmp(e, "ne", bit, z64), ew_bin(e, IR_OP_A_MUL, it[0], it[1]),
             it[0]),
      ew_bin(e, IR_OP_A_MUL, it[1], it[1]),
      ew_bin(e, IR_OP_A_DIV, it[2], ew_ki(e, IR_I64, 2))};
  lw_for_end_iter(e->c, loop, 3, next);
  IrValue *p = loop->results[0];
  if (!neg) return p;
  IrValue *unit = ew_cmp(e, "eq", a, ew_ki(e, t, 1));
  if (ew_signed(a))
    unit = ew_bin(e, IR_OP_A_OR, unit, ew_cmp(e, "eq", a, ew_ki(e, t, -1)));
  IrValue *zero_out = ew_bin(e, IR_OP_A_AND, neg, lw_un(e->c, IR_OP_A_NOT, unit));
  return ew_sel(e, zero_out, ew_ki(e, t, 0), p);
}

/* Pow: the result has the base's type.  Float base: pow in its compute
 * type.  Integer base, float exponent: in f64, truncated (numpy's
 * float64 result cast back).  Both integer: exact, by squaring. */
static IrValue *fn_pow(Ew *e, IrValue *const *x) {
  IrValue *a = x[0], *y = x[1];
  if (ir_elem_is_float(e->ce))
    return ew_bin(e, IR_OP_M_POW, a, lw_cast(e->c, y, e->ce));
  if (ir_elem_is_int(y->type.elem)) return ew_ipow(e, a, y);
  IrValue *r = ew_bin(e, IR_OP_M_POW, lw_cast(e->c, a, IR_F64),
                      lw_cast(e->c, y, IR_F64));
  return lw_cast(e->c, r, e->ce);
}

static IrValue *fn_prelu(Ew *e, IrValue *const *x) {
  IrValue *neg = ew_cmp(e, "lt", x[0], ew_k(e, 0));
  return ew_sel(e, neg, ew_bin(e, IR_OP_A_MUL, x[0], x[1]), x[0]);
}

/* Max/Min/Sum fold every operand with the row's loop op. */
static IrValue *fn_fold(Ew *e, IrValue *const *x) {
  IrValue *acc = x[0];
  for (int i = 1; i < e->op->num_operands; i++)
    acc = ew_bin(e, e->row->lop, acc, x[i]);
  return acc;
}
static IrValue *fn_mean(Ew *e, IrValue *const *x) {
  return ew_bin(e, IR_OP_A_DIV, fn_fold(e, x), ew_k(e, e->op->num_operands));
}

static IrValue *fn_where(Ew *e, IrValue *const *x) {
  return ew_sel(e, x[0], x[1], x[2]);
}

static IrValue *fn_abs(Ew *e, IrValue *const *x) {
  return ew_signed(x[0]) || ir_elem_is_float(e->ce)
             ? lw_un(e->c, IR_OP_A_ABS, x[0]) : x[0];
}
static IrValue *fn_relu(Ew *e, IrValue *const *x) {
  return ew_bin(e, IR_OP_A_MAX, x[0], ew_k(e, 0));
}
static IrValue *fn_reciprocal(Ew *e, IrValue *const *x) {
  return ew_bin(e, IR_OP_A_DIV, ew_k(e, 1), x[0]);
}
static IrValue *fn_sigmoid(Ew *e, IrValue *const *x) {
  return lw_un(e->c, IR_OP_M_SIGMOID, x[0]);
}

static IrValue *fn_swish(Ew *e, IrValue *const *x) {
  IrValue *ax = ew_bin(e, IR_OP_A_MUL, ew_attr(e, "alpha"), x[0]);
  return ew_bin(e, IR_OP_A_MUL, x[0], fn_sigmoid(e, &ax));
}

/* SwiGLU: swish(A) * B, the gate A through the same swish. */
static IrValue *fn_swiglu(Ew *e, IrValue *const *x) {
  return ew_bin(e, IR_OP_A_MUL, fn_swish(e, x), x[1]);
}

static IrValue *fn_sign(Ew *e, IrValue *const *x) {
  IrValue *zero = ew_k(e, 0), *pos = ew_cmp(e, "gt", x[0], zero);
  if (ir_elem_is_int(e->ce) && !ew_signed(x[0]))
    return ew_sel(e, pos, ew_k(e, 1), zero);
  IrValue *neg = ew_sel(e, ew_cmp(e, "lt", x[0], zero), ew_k(e, -1), x[0]);
  return ew_sel(e, pos, ew_k(e, 1), neg);
}

/* max(x,0) + log(1 + exp(-|x|)): never overflows. */
static IrValue *fn_softplus(Ew *e, IrValue *const *x) {
  IrValue *na = lw_un(e->c, IR_OP_A_NEG, lw_un(e->c, IR_OP_A_ABS, x[0]));
  IrValue *l = lw_un(e->c, IR_OP_M_LOG,
                     ew_bin(e, IR_OP_A_ADD, ew_k(e, 1), lw_un(e->c, IR_OP_M_EXP, na)));
  return ew_bin(e, IR_OP_A_ADD, ew_bin(e, IR_OP_A_MAX, x[0], ew_k(e, 0)), l);
}
static IrValue *fn_softsign(Ew *e, IrValue *const *x) {
  IrValue *d = ew_bin(e, IR_OP_A_ADD, ew_k(e, 1), lw_un(e->c, IR_OP_A_ABS, x[0]));
  return ew_bin(e, IR_OP_A_DIV, x[0], d);
}
static IrValue *fn_leaky_relu(Ew *e, IrValue *const *x) {
  IrValue *neg = ew_cmp(e, "lt", x[0], ew_k(e, 0));
  return ew_sel(e, neg, ew_bin(e, IR_OP_A_MUL, ew_attr(e, "alpha"), x[0]), x[0]);
}
/* exp(x) - 1 for the negative branches of elu/selu/celu. */
static IrValue *ew_expm1(Ew *e, IrValue *v) {
  return ew_bin(e, IR_OP_A_SUB, lw_un(e->c, IR_OP_M_EXP, v), ew_k(e, 1));
}
static IrValue *fn_elu(Ew *e, IrValue *const *x) {
  IrValue *neg = ew_cmp(e, "lt", x[0], ew_k(e, 0));
  IrValue *n = ew_bin(e, IR_OP_A_MUL, ew_attr(e, "alpha"), ew_expm1(e, x[0]));
  return ew_sel(e, neg, n, x[0]);
}
static IrValue *fn_selu(Ew *e, IrValue *const *x) {
  IrValue *pos = ew_cmp(e, "gt", x[0], ew_k(e, 0)), *g = ew_attr(e, "gamma");
  IrValue *n = ew_bin(e, IR_OP_A_MUL, ew_expm1(e, x[0]), ew_attr(e, "alpha"));
  return ew_sel(e, pos, ew_bin(e, IR_OP_A_MUL, x[0], g),
                ew_bin(e, IR_OP_A_MUL, n, g));
}
/* max(0,x) + min(0, alpha * (exp(x/alpha) - 1)) */
static IrValue *fn_celu(Ew *e, IrValue *const *x) {
  IrValue *a = ew_attr(e, "alpha"), *zero = ew_k(e, 0);
  IrValue *n = ew_bin(e, IR_OP_A_MUL, a,
                      ew_expm1(e, ew_bin(e, IR_OP_A_DIV, x[0], a)));
  return ew_bin(e, IR_OP_A_ADD, ew_bin(e, IR_OP_A_MAX, x[0], zero),
                ew_bin(e, IR_OP_A_MIN, n, zero));
}
/* clamp(alpha * x + beta, 0, 1) */
static IrValue *ew_hard(Ew *e, IrValue *v, IrValue *alpha, IrValue *beta) {
  IrValue *t = ew_bin(e, IR_OP_A_ADD, ew_bin(e, IR_OP_A_MUL, alpha, v), beta);
  return ew_bin(e, IR_OP_A_MAX, ew_bin(e, IR_OP_A_MIN, t, ew_k(e, 1)), ew_k(e, 0));
}
static IrValue *fn_hard_sigmoid(Ew *e, IrValue *const *x) {
  return ew_hard(e, x[0], ew_attr(e, "alpha"), ew_attr(e, "beta"));
}
static IrValue *fn_hard_swish(Ew *e, IrValue *const *x) {
  IrValue *h = ew_hard(e, x[0], ew_k(e, 1.0 / 6.0), ew_k(e, 0.5));
  return ew_bin(e, IR_OP_A_MUL, x[0], h);
}
/* approximate "none": 0.5 x (1 + erf(x / sqrt 2));
 * "tanh": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
static IrValue *fn_gelu(Ew *e, IrValue *const *x) {
  IrValue *v = x[0], *t;
  if (!strcmp(ir_attr_string(e->op, "approximate", "none"), "tanh")) {
    IrValue *x3 = ew_bin(e, IR_OP_A_MUL, ew_bin(e, IR_OP_A_MUL, v, v), v);
    IrValue *inner = ew_fma(e, ew_k(e, 0.044715), x3, v);
    IrValue *sqrt_2_pi = ew_k(e, 0.79788456080286535588);
    t = lw_un(e->c, IR_OP_M_TANH, ew_bin(e, IR_OP_A_MUL, sqrt_2_pi, inner));
  } else {
    IrValue *inv_sqrt2 = ew_k(e, 0.70710678118654752440);
    t = lw_un(e->c, IR_OP_M_ERF, ew_bin(e, IR_OP_A_MUL, v, inv_sqrt2));
  }
  IrValue *half_x = ew_bin(e, IR_OP_A_MUL, ew_k(e, 0.5), v);
  return ew_bin(e, IR_OP_A_MUL, half_x, ew_bin(e, IR_OP_A_ADD, ew_k(e, 1), t));
}
/* x * tanh(softplus(x)) */
static IrValue *fn_mish(Ew *e, IrValue *const *x) {
  return ew_bin(e, IR_OP_A_MUL, x[0],
                lw_un(e->c, IR_OP_M_TANH, fn_softplus(e, x)));
}
static IrValue *fn_thresholded_relu(Ew *e, IrValue *const *x) {
  IrValue *above = ew_cmp(e, "gt", x[0], ew_attr(e, "alpha"));
  return ew_sel(e, above, x[0], ew_k(e, 0));
}

/* Clip: a bound is an operand (computed) or a float attribute (constant). */
static IrValue *fn_clip(Ew *e, IrValue *const *x) {
  static const char *const names[2] = {"min", "max"};
  static const IrOpKind kinds[2] = {IR_OP_A_MAX, IR_OP_A_MIN};
  IrValue *v = x[0];
  for (int i = 0; i < 2; i++) {
    IrValue *bound = i + 1 < e->op->num_operands ? x[i + 1] : NULL;
    if (!bound && ir_attr_get(e->op, names[i])) bound = ew_attr(e, names[i]);
    if (bound) v = ew_bin(e, kinds[i], v, bound);
  }
  return v;
}

/* BitShift on unsigned ints: x * 2^y or x / 2^y; a shift by the width or
 * more yields 0 (2^y wraps to 0, and x / 0 is 0). */
static IrValue *fn_bit_shift(Ew *e, IrValue *const *x) {
  IrValue *p = ew_ipow(e, ew_k(e, 2), x[1]);
  bool left = !strcmp(ir_attr_string(e->op, "direction", ""), "LEFT");
  return left ? ew_bin(e, IR_OP_A_MUL, x[0], p)
              : ew_int_divrem(e, IR_OP_A_DIV, x[0], p);
}

static IrValue *fn_is_nan(Ew *e, IrValue *const *x) {
  return ew_cmp(e, "ne", x[0], x[0]);
}
static IrValue *fn_is_inf(Ew *e, IrValue *const *x) {
  IrValue *r = lw_const_i(e->c, IR_BOOL, 0);
  if (ir_attr_int(e->op, "detect_positive", 1))
    r = ew_bin(e, IR_OP_A_OR, r, ew_cmp(e, "eq", x[0], ew_k(e, HUGE_VAL)));
  if (ir_attr_int(e->op, "detect_negative", 1))
    r = ew_bin(e, IR_OP_A_OR, r, ew_cmp(e, "eq", x[0], ew_k(e, -HUGE_VAL)));
  return r;
}

/* x < -lambd: x + bias; x > lambd: x - bias; else 0.  For integers the
 * truncated lambd compares the same way (lambd >= 0). */
static IrValue *fn_shrink(Ew *e, IrValue *const *x) {
  double l = ir_attr_float(e->op, "lambd", 0.5);
  IrValue *b = ew_attr(e, "bias"), *zero = ew_k(e, 0);
  IrValue *r = ew_sel(e, ew_cmp(e, "gt", x[0], ew_k(e, l)),
                      ew_bin(e, IR_OP_A_SUB, x[0], b), zero);
  if (ir_elem_is_int(e->ce) && !ew_signed(x[0])) return r;
  return ew_sel(e, ew_cmp(e, "lt", x[0], ew_k(e, -l)),
                ew_bin(e, IR_OP_A_ADD, x[0], b), r);
}

/* BitCast reinterprets the bytes (types of one size, checked by infer);
 * bool is the byte 0 or 1, so to and from it the value moves. */
static IrValue *fn_bitcast(Ew *e, IrValue *const *x) {
  IrValue *v = x[0];
  if (ir_elem_is_subbyte(v->type.elem)) {
    /* the bits as an unsigned value (between integers of one width, Cast
     * wraps, which keeps the bits), then as the target */
    IrElem bits = ir_elem_bits(e->out) == 4 ? IR_U4 : IR_U2;
    IrValue *u = v->type.elem == IR_F4E2M1 ? lw_bitcast(e->c, v, bits) : lw_cast(e->c, v, bits);
    return e->out == IR_F4E2M1 ? lw_bitcast(e->c, u, e->out) : lw_cast(e->c, u, e->out);
  }
  if (v->type.elem == IR_BOOL) return lw_bitcast(e->c, lw_cast(e->c, v, IR_U8), e->out);
  if (e->out == IR_BOOL) return lw_cast(e->c, lw_bitcast(e->c, v, IR_U8), IR_BOOL);
  return lw_bitcast(e->c, v, e->out);
}

/* Cast is arith.cast: C truncation float->int, round to nearest even
 * between floats, "!= 0" to bool, 0/1 from bool; to an 8-bit float,
 * `saturate` (Cast-19+, default 1) clamps what overflows; to a sub-byte
 * integer the low bits (wrapping, as ONNX's reference); to f4e2m1 round to
 * nearest even, always saturating (lw_cast_sat). */
static IrValue *fn_cast(Ew *e, IrValue *const *x) {
  bool saturate = ir_attr_int(e->op, "saturate", 1) != 0;
  if (e->out == IR_F8E8M0) {
    const char *mode = ir_attr_string(e->op, "round_mode", "up");
    return lw_e8m0_from_f32(e->c, x[0], saturate,
                            !strcmp(mode, "down")      ? IR_E8M0_DOWN
                            : !strcmp(mode, "nearest") ? IR_E8M0_NEAREST
                                                       : IR_E8M0_UP);
  }
  return lw_cast_sat(e->c, x[0], e->out, saturate);
}

/* ------------------------------------------------------------ the table */
#define D1(n, v) {{n, v}}
#define D2(n1, v1, n2, v2) {{n1, v1}, {n2, v2}}
#define MATH(K, M) [IR_OP_##K] = {EW_F, 0, IR_OP_M_##M, NULL, fn_lop1, {{0}}}
#define CMP(K, P, T) [IR_OP_##K] = {T, EWF_BOOL, IR_OP_COUNT, P, fn_cmp, {{0}}}
#define ARITH2(K, A, T) [IR_OP_##K] = {T, 0, IR_OP_A_##A, NULL, fn_lop2, {{0}}}
#define FN(K, T, F, ...) [IR_OP_##K] = {T, 0, IR_OP_COUNT, NULL, F, __VA_ARGS__}

static const EwRow ew_rows[IR_OP_COUNT] = {
    /* binary */
    ARITH2(ADD, ADD, EW_NUM), ARITH2(SUB, SUB, EW_NUM), ARITH2(MUL, MUL, EW_NUM),
    FN(DIV, EW_NUM, fn_div, {{0}}),
    FN(POW, EW_NUM, fn_pow, {{0}}),
    FN(MOD, EW_NUM, fn_mod, {{0}}),
    FN(PRELU, EW_F | EW_I, fn_prelu, {{0}}),
    FN(SWIGLU, EW_F, fn_swiglu, D1("alpha", 1.0)),
    CMP(EQUAL, "eq", EW_ALL), CMP(LESS, "lt", EW_NUM),
    CMP(LESS_EQUAL, "le", EW_NUM), CMP(GREATER, "gt", EW_NUM),
    CMP(GREATER_EQUAL, "ge", EW_NUM),
    ARITH2(AND, AND, EW_B), ARITH2(OR, OR, EW_B), ARITH2(XOR, XOR, EW_B),
    ARITH2(BITWISE_AND, AND, EW_I), ARITH2(BITWISE_OR, OR, EW_I),
    ARITH2(BITWISE_XOR, XOR, EW_I),
    /* variadic */
    [IR_OP_MAX] = {EW_NUM, 0, IR_OP_A_MAX, NULL, fn_fold, {{0}}},
    [IR_OP_MIN] = {EW_NUM, 0, IR_OP_A_MIN, NULL, fn_fold, {{0}}},
    [IR_OP_SUM] = {EW_F, 0, IR_OP_A_ADD, NULL, fn_fold, {{0}}},
    [IR_OP_MEAN] = {EW_F, 0, IR_OP_A_ADD, NULL, fn_mean, {{0}}},
    /* where: types are those of x (operand 1) */
    [IR_OP_WHERE] = {EW_ALL, EWF_RAW, IR_OP_COUNT, NULL, fn_where, {{0}}},
    /* unary */
    [IR_OP_NEG] = {EW_F | EW_SI, 0, IR_OP_A_NEG, NULL, fn_lop1, {{0}}},
    FN(ABS, EW_NUM, fn_abs, {{0}}),
    MATH(SQRT, SQRT), MATH(EXP, EXP), MATH(LOG, LOG),
    FN(RELU, EW_F | EW_SI, fn_relu, {{0}}),
    FN(SIGMOID, EW_F, fn_sigmoid, {{0}}),
    MATH(TANH, TANH),
    FN(RECIPROCAL, EW_F, fn_reciprocal, {{0}}),
    MATH(FLOOR, FLOOR), MATH(CEIL, CEIL),
    MATH(ROUND, ROUND), /* half to even */
    FN(SIGN, EW_NUM, fn_sign, {{0}}),
    MATH(SIN, SIN), MATH(COS, COS), MATH(TAN, TAN), MATH(ASIN, ASIN),
    MATH(ACOS, ACOS), MATH(ATAN, ATAN), MATH(SINH, SINH), MATH(COSH, COSH),
    MATH(ASINH, ASINH), MATH(ACOSH, ACOSH), MATH(ATANH, ATANH), MATH(ERF, ERF),
    [IR_OP_NOT] = {EW_B, 0, IR_OP_A_NOT, NULL, fn_lop1, {{0}}},
    [IR_OP_BITWISE_NOT] = {EW_I, 0, IR_OP_A_NOT, NULL, fn_lop1, {{0}}},
    FN(SOFTPLUS, EW_F, fn_softplus, {{0}}),
    FN(SOFTSIGN, EW_F, fn_softsign, {{0}}),
    FN(LEAKY_RELU, EW_F, fn_leaky_relu, D1("alpha", 0.01)),
    FN(ELU, EW_F, fn_elu, D1("alpha", 1.0)),
    FN(SELU, EW_F, fn_selu,
       D2("alpha", 1.67326319217681884765625, "gamma", 1.05070102214813232421875)),
    FN(CELU, EW_F, fn_celu, D1("alpha", 1.0)),
    FN(HARD_SIGMOID, EW_F, fn_hard_sigmoid, D2("alpha", 0.2, "beta", 0.5)),
    FN(HARD_SWISH, EW_F, fn_hard_swish, {{0}}),
    FN(SWISH, EW_F, fn_swish, D1("alpha", 1.0)),
    FN(GELU, EW_F, fn_gelu, {{0}}),
    FN(MISH, EW_F, fn_mish, {{0}}),
    FN(THRESHOLDED_RELU, EW_F, fn_thresholded_relu, D1("alpha", 1.0)),
    FN(CLIP, EW_NUM, fn_clip, {{0}}),
    [IR_OP_CAST] = {EW_ALL, EWF_RAW, IR_OP_COUNT, NULL, fn_cast, {{0}}},
    [IR_OP_CAST_LIKE] = {EW_ALL, EWF_RAW, IR_OP_COUNT, NULL, fn_cast, {{0}}},
    [IR_OP_BIT_CAST] = {EW_ALL, EWF_RAW, IR_OP_COUNT, NULL, fn_bitcast, {{0}}},
    [IR_OP_IDENTITY] = {EW_ALL, EWF_RAW, IR_OP_COUNT, NULL, NULL, {{0}}},
    [IR_OP_DROPOUT] = {EW_F, EWF_RAW, IR_OP_COUNT, NULL, NULL, {{0}}},
    FN(BIT_SHIFT, EW_UI, fn_bit_shift, {{0}}),
    [IR_OP_IS_NAN] = {EW_F, EWF_BOOL, IR_OP_COUNT, NULL, fn_is_nan, {{0}}},
    [IR_OP_IS_INF] = {EW_F, EWF_BOOL, IR_OP_COUNT, NULL, fn_is_inf, {{0}}},
    FN(SHRINK, EW_NUM, fn_shrink, D2("bias", 0.0, "lambd", 0.5)),
};

static const EwRow *ew_row(const IrOp *op) {
  const EwRow *r = &ew_rows[op->kind];
  IR_ASSERT(r->types != 0);
  return r;
}

/* ------------------------------------------------------------- lowering */
/* Loads element 0 of a one-element operand before the loops. */
static IrValue *ew_load_first(LwCtx *c, IrValue *buf) {
  IrValue *idx[IR_MAX_RANK];
  for (int i = 0; i < lw_rank(buf); i++) idx[i] = lw_index(c, 0);
  return lw_load(c, buf, idx);
}

static bool ew_single(const IrValue *buf) {
  uint64_t n;
  return ir_type_numel(&buf->type, &n) && n == 1;
}

static IrValue *ew_widen(LwCtx *c, const EwRow *row, IrValue *v) {
  if (row->flags & EWF_RAW) return v;
  return lw_cast(c, v, ew_widen_elem(v->type.elem));
}

/* Merges adjacent output dims that every operand in[i] (NULL: none, or
 * loaded once) reads alike, all of them or broadcast, and drops dims of
 * size 1: [1,C,7,7] * [1,C,1,1] becomes [C,49] * [C,1], an inner loop 49
 * long that vectorizes instead of 7 (LLVM vectorized the channels with
 * gathers and scatters).  Rewrites in[] and *out as views of the new
 * shape; returns its rank (rank itself when nothing merges, or with
 * run-time dims). */
static int ew_collapse(LwCtx *c, int n, IrValue **in, IrValue **out, int rank,
                       int64_t *dims) {
  int group[IR_MAX_RANK], groups = 0, prev = -1;
  for (int j = 0; j < rank; j++) {
    if (dims[j] <= 0) return rank;
    group[j] = -1;
    if (dims[j] == 1) continue;
    bool same = prev >= 0;
    for (int i = 0; i < n; i++) {
      if (!in[i]) continue;
      int off = rank - lw_rank(in[i]);
      int64_t d = j < off ? 1 : lw_dim(in[i], j - off);
      int64_t dp = prev < off ? 1 : lw_dim(in[i], prev - off); /* prev -1: none yet */
      if (d < 0 || dp < 0) return rank;
      same &= (d == 1) == (dp == 1);
    }
    group[j] = same ? groups - 1 : groups++;
    prev = j;
  }
  if (groups == 0 || groups == rank) return rank;
  int64_t gd[IR_MAX_RANK];
  for (int g = 0; g < groups; g++) gd[g] = 1;
  for (int j = 0; j < rank; j++)
    if (group[j] >= 0) gd[group[j]] *= dims[j];
  for (int i = 0; i < n; i++) {
    if (!in[i]) continue;
    int off = rank - lw_rank(in[i]);
    int64_t vd[IR_MAX_RANK];
    for (int g = 0; g < groups; g++) vd[g] = 1;
    for (int j = off; j < rank; j++)
      if (group[j] >= 0) vd[group[j]] *= lw_dim(in[i], j - off);
    in[i] = ir_build1(&c->b, IR_OP_VIEW, 1, &in[i],
                      ir_type_buffer(lw_elem(in[i]), groups, vd));
  }
  *out = ir_build1(&c->b, IR_OP_VIEW, 1, out, ir_type_buffer(lw_elem(*out), groups, gd));
  memcpy(dims, gd, sizeof *dims * (size_t)groups);
  return groups;
}

/* The one loop nest every elementwise op lowers to. */
static bool ew_emit(LwCtx *c, IrOp *op) {
  const EwRow *row = ew_row(op);
  IrValue *out = c->out[0], *ivs[IR_MAX_RANK], *idx[IR_MAX_RANK];
  /* CastLike's second operand gives only a type. */
  int rank = lw_rank(out), n = op->kind == IR_OP_CAST_LIKE ? 1 : op->num_operands;
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < rank; i++) dims[i] = lw_dim(out, i);
  IrValue **x = ir_arena_alloc(c->m->arena, sizeof *x * (size_t)(n + 1));
  IrValue **in = ir_arena_alloc(c->m->arena, sizeof *in * (size_t)(n + 1));
  int first = op->kind == IR_OP_WHERE ? 1 : 0;
  Ew e = {c, op, row, ew_widen_elem(lw_elem(c->in[first])), lw_elem(out), 1};
  for (int i = 0; i < n; i++) {
    x[i] = in[i] = NULL;
    if (c->in[i] && ew_single(c->in[i]))
      x[i] = ew_widen(c, row, ew_load_first(c, c->in[i]));
    else
      in[i] = c->in[i];
  }
  if (c->target) rank = ew_collapse(c, n, in, &out, rank, dims);
  LwNest nest;
  lw_nest_begin(c, &nest, rank, dims, ivs);
  for (int i = 0; i < n; i++) {
    if (!in[i]) continue;
    lw_broadcast_index(c, in[i], rank, dims, ivs, idx);
    x[i] = ew_widen(c, row, lw_load(c, in[i], idx));
  }
  IrValue *r = row->fn(&e, x);
  lw_store(c, lw_cast(c, r, lw_elem(out)), out, ivs);
  lw_nest_end(c, &nest);
  return true;
}

bool ew_fusable_activation(IrOpKind kind) {
  switch (kind) {
  case IR_OP_RELU: case IR_OP_LEAKY_RELU: case IR_OP_SIGMOID: case IR_OP_TANH:
  case IR_OP_HARD_SIGMOID: case IR_OP_HARD_SWISH: case IR_OP_CLIP: case IR_OP_ELU:
  case IR_OP_SOFTPLUS: case IR_OP_SELU: case IR_OP_CELU: case IR_OP_SWISH:
    return true;
  default:
    return false;
  }
}

IrValue *ew_activation(LwCtx *c, const IrOp *attrs, IrOpKind kind, IrValue *x,
                       int lanes) {
  IR_ASSERT(ew_fusable_activation(kind));
  const EwRow *row = &ew_rows[kind];
  Ew e = {c, attrs, row, IR_F32, IR_F32, lanes};
  /* Clip's bounds are attributes here: no operand slots */
  IrValue *xs[3] = {x, NULL, NULL};
  return row->fn(&e, xs);
}

bool op_binary_lower(LwCtx *c, IrOp *op) { return ew_emit(c, op); }
bool op_variadic_lower(LwCtx *c, IrOp *op) { return ew_emit(c, op); }
bool op_where_lower(LwCtx *c, IrOp *op) { return ew_emit(c, op); }

/* Dropout: at inference y = x and a mask of all true; in training mode
 * (attribute training_mode=1, set by import) mask = draw >= ratio and
 * y = x * mask / (1 - ratio), as the ONNX reference computes it. */
static bool dropout_lower(LwCtx *c, IrOp *op) {
  bool train = ir_attr_int(op, "training_mode", 0) != 0;
  if (!train) lw_copy(c, c->in[0], c->out[0]);
  if (!train && op->num_results < 2) return true;
  IrValue *y = c->out[0], *ivs[IR_MAX_RANK];
  int64_t dims[IR_MAX_RANK];
  int r = lw_rank(y);
  for (int i = 0; i < r; i++) dims[i] = lw_dim(y, i);
  LwNest nest;
  lw_nest_begin(c, &nest, r, dims, ivs);
  IrValue *keep = lw_const_i(c, IR_BOOL, 1);
  if (train) {
    double ratio = ir_attr_float(op, "ratio", 0.5);
    IrValue *u = random_draw01(c, op, random_counter(c, r, dims, ivs));
    keep = lw_cmp(c, "ge", u, lw_const_f(c, IR_F64, ratio));
    IrValue *m = lw_select(c, keep, lw_const_f(c, IR_F64, 1.0), lw_const_f(c, IR_F64, 0.0));
    IrValue *x = lw_cast(c, lw_load(c, c->in[0], ivs), IR_F64);
    IrValue *v = lw_bin(c, IR_OP_A_DIV, lw_bin(c, IR_OP_A_MUL, x, m),
                        lw_const_f(c, IR_F64, 1.0 - ratio));
    lw_store(c, lw_cast(c, v, lw_elem(y)), y, ivs);
  }
  if (op->num_results > 1) lw_store(c, keep, c->out[1], ivs);
  lw_nest_end(c, &nest);
  return true;
}

bool op_unary_lower(LwCtx *c, IrOp *op) {
  if (op->kind == IR_OP_DROPOUT) return dropout_lower(c, op);
  if (op->kind == IR_OP_IDENTITY) {
    lw_copy(c, c->in[0], c->out[0]);
    return true;
  }
  return ew_emit(c, op);
}

/* ------------------------------------------------------ type checking */
static const char *ew_name(const IrOp *op) {
  return ir_op_info(op->kind)->onnx_name;
}

static unsigned ew_class(IrElem t) {
  if (ir_elem_is_float(t) || ir_elem_is_narrow_float(t)) return EW_F;
  if (t == IR_I4 || t == IR_I2) return EW_SI;
  if (t == IR_U4 || t == IR_U2) return EW_UI;
  if (t == IR_BOOL) return EW_B;
  if (t == IR_INDEX) return 0;
  if (ir_elem_is_int(t)) return ir_elem_is_signed(t) ? EW_SI : EW_UI;
  return 0;
}

/* "float, signed integer or unsigned integer" */
static void ew_describe(unsigned types, char *buf, size_t size) {
  static const char *const names[4] = {"float", "signed integer",
                                       "unsigned integer", "bool"};
  int total = 0, k = 0;
  for (int i = 0; i < 4; i++) total += (types >> i) & 1;
  buf[0] = 0;
  for (int i = 0; i < 4; i++) {
    if (!((types >> i) & 1)) continue;
    const char *sep = k == 0 ? "" : k == total - 1 ? " or " : ", ";
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, "%s%s", sep, names[i]);
    k++;
  }
}

static bool ew_check_elem(const IrOp *op, unsigned types, const IrValue *v) {
  if (ew_class(v->type.elem) & types) return true;
  char want[96];
  ew_describe(types, want, sizeof want);
  diag_at(DIAG_ERROR, &op->loc, "%s: element type %s is not supported (expected %s)",
          ew_name(op), ir_elem_name(v->type.elem), want);
  return false;
}

/* Every operand in [0, n) must be a present tensor. */
static bool ew_check_present(const IrOp *op, int n) {
  if (op->num_operands < n) n = op->num_operands;
  for (int i = 0; i < n; i++) {
    const IrValue *v = op->operands[i];
    if (!v) {
      diag_at(DIAG_ERROR, &op->loc, "%s: input %d is missing", ew_name(op), i);
      return false;
    }
    if (v->type.kind != IR_TYPE_TENSOR) {
      diag_at(DIAG_ERROR, &op->loc, "%s: input %d is not a tensor", ew_name(op), i);
      return false;
    }
  }
  return true;
}

static bool ew_same_elem(IrModule *m, const IrOp *op, const IrValue *a,
                         const IrValue *b) {
  if (a->type.elem == b->type.elem) return true;
  char sa[256], sb[256];
  diag_at(DIAG_ERROR, &op->loc, "%s: operands %s and %s have different element types",
          ew_name(op), ir_type_str(m, &a->type, sa, sizeof sa),
          ir_type_str(m, &b->type, sb, sizeof sb));
  return false;
}

static bool ew_dim_one(IrDim d) { return d.sym < 0 && d.size == 1; }
static bool ew_dim_eq(IrDim a, IrDim b) {
  return a.sym == b.sym && (a.sym >= 0 || a.size == b.size);
}

/* Numpy broadcasting of *acc with t into *acc (a symbol meets a size by
 * taking the size).  False without a diagnostic when incompatible. */
static bool ew_broadcast2(IrType *acc, const IrType *t) {
  IrType r = *acc;
  r.rank = acc->rank > t->rank ? acc->rank : t->rank;
  for (int i = 0; i < r.rank; i++) {
    int ia = i - (r.rank - acc->rank), ib = i - (r.rank - t->rank);
    IrDim one = {1, -1};
    IrDim a = ia >= 0 ? acc->dims[ia] : one, b = ib >= 0 ? t->dims[ib] : one;
    if (ew_dim_eq(a, b) || ew_dim_one(b)) r.dims[i] = a;
    else if (ew_dim_one(a) || a.sym >= 0) r.dims[i] = b;
    else if (b.sym >= 0) r.dims[i] = a;
    else return false;
  }
  *acc = r;
  return true;
}

static bool ew_broadcast(IrModule *m, const IrOp *op, IrType *acc,
                         const IrType *t) {
  if (ew_broadcast2(acc, t)) return true;
  char sa[256], sb[256];
  diag_at(DIAG_ERROR, &op->loc, "%s: operands %s and %s are not broadcastable",
          ew_name(op), ir_type_str(m, acc, sa, sizeof sa),
          ir_type_str(m, t, sb, sizeof sb));
  return false;
}

static void ew_set_result(IrOp *op, IrType t, IrElem e) {
  t.kind = IR_TYPE_TENSOR;
  t.elem = e;
  op->results[0]->type = t;
}

/* -------------------------------------------------------------- binary */
/* PRelu: slope broadcasts to X's shape, never the other way. */
static bool prelu_infer(IrModule *m, IrOp *op, IrValue *x, IrValue *s) {
  IrType t = x->type;
  if (!ew_check_elem(op, ew_row(op)->types, x) || !ew_same_elem(m, op, x, s))
    return false;
  if (!ew_broadcast2(&t, &s->type) || !ir_type_equal(&t, &x->type)) {
    char sx[256], ss[256];
    diag_at(DIAG_ERROR, &op->loc,
            "PRelu: slope %s is not unidirectionally broadcastable to input %s",
            ir_type_str(m, &s->type, ss, sizeof ss),
            ir_type_str(m, &x->type, sx, sizeof sx));
    return false;
  }
  ew_set_result(op, x->type, x->type.elem);
  return true;
}

/* Pow: base and exponent types may differ; the result is the base's. */
static bool pow_infer(IrModule *m, IrOp *op, IrValue *a, IrValue *b) {
  IrType t = a->type;
  if (!ew_check_elem(op, EW_NUM, a) || !ew_check_elem(op, EW_NUM, b) ||
      !ew_broadcast(m, op, &t, &b->type))
    return false;
  ew_set_result(op, t, a->type.elem);
  return true;
}

/* SwiGLU: A and B of one type; ONNX applies no broadcasting. */
static bool swiglu_infer(IrModule *m, IrOp *op, IrValue *a, IrValue *b) {
  if (!ew_check_elem(op, EW_F, a) || !ew_same_elem(m, op, a, b)) return false;
  if (!ir_type_equal(&a->type, &b->type)) {
    char sa[256], sb[256];
    diag_at(DIAG_ERROR, &op->loc, "SwiGLU: inputs A %s and B %s must have the "
            "same shape (SwiGLU does not broadcast)",
            ir_type_str(m, &a->type, sa, sizeof sa),
            ir_type_str(m, &b->type, sb, sizeof sb));
    return false;
  }
  ew_set_result(op, a->type, a->type.elem);
  return true;
}

bool op_binary_infer(IrModule *m, IrOp *op) {
  const EwRow *row = ew_row(op);
  if (!ew_check_present(op, 2)) return false;
  IrValue *a = op->operands[0], *b = op->operands[1];
  if (op->kind == IR_OP_PRELU) return prelu_infer(m, op, a, b);
  if (op->kind == IR_OP_POW) return pow_infer(m, op, a, b);
  if (op->kind == IR_OP_SWIGLU) return swiglu_infer(m, op, a, b);
  IrType t = a->type;
  if (!ew_same_elem(m, op, a, b) || !ew_check_elem(op, row->types, a) ||
      !ew_broadcast(m, op, &t, &b->type))
    return false;
  ew_set_result(op, t, row->flags & EWF_BOOL ? IR_BOOL : a->type.elem);
  return true;
}

/* A weight value viewed with another shape (same data, a new weight). */
static IrValue *ew_reshape_weight(IrModule *m, IrValue *w, int rank,
                                  const int64_t *dims) {
  const char *name = ir_arena_printf(m->arena, "%s_bcast", w->weight->name);
  for (int k = 1; ir_weight_find(m, name); k++)
    name = ir_arena_printf(m->arena, "%s_bcast%d", w->weight->name, k);
  IrType t = ir_type_tensor(w->type.elem, rank, dims);
  IrWeight *v = ir_weight_add(m, name, t, w->weight->data, w->weight->nbytes, false);
  v->structural = w->weight->structural;
  return v->value;
}

/* Operand 1 of rank r aligned at axis `axis` of operand 0 (rank ra):
 * numpy broadcasting needs it padded with trailing 1s.  Only a weight can
 * be re-shaped here. */
static bool ew_align_axis(IrModule *m, IrOp *op, int64_t axis, int ra) {
  IrValue *b = op->operands[1];
  int rb = b->type.rank;
  if (axis < 0) axis += ra;
  if (axis < 0 || axis + rb > ra) {
    diag_at(DIAG_ERROR, &op->loc, "%s: attribute 'axis' (%lld) is out of range",
            ew_name(op), (long long)axis);
    return false;
  }
  if (axis + rb == ra) return true;
  if (!b->weight || !ir_type_is_static(&b->type)) {
    diag_at(DIAG_ERROR, &op->loc,
            "%s: legacy broadcast with axis=%lld needs a constant input 1 in tcc",
            ew_name(op), (long long)axis);
    return false;
  }
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < ra - (int)axis; i++)
    dims[i] = i < rb ? ir_type_dim(&b->type, i) : 1;
  op->operands[1] = ew_reshape_weight(m, b, ra - (int)axis, dims);
  return true;
}

/* Opset < 7: `broadcast`/`axis` attributes instead of numpy rules. */
static bool binary_import_legacy(IrModule *m, IrOp *op) {
  const IrAttr *ax = ir_attr_get(op, "axis");
  bool bc = ir_attr_int(op, "broadcast", 0) != 0;
  IrValue *a = op->num_operands == 2 ? op->operands[0] : NULL;
  IrValue *b = a ? op->operands[1] : NULL;
  if (bc && ax && b && a->type.kind == IR_TYPE_TENSOR &&
      b->type.kind == IR_TYPE_TENSOR) {
    if (ax->kind != IR_ATTR_INT) {
      diag_at(DIAG_ERROR, &op->loc, "attribute 'axis' must be an int");
      return false;
    }
    if (!ew_align_axis(m, op, ax->i, a->type.rank)) return false;
  }
  ir_attr_remove(op, "broadcast");
  ir_attr_remove(op, "axis");
  return true;
}

/* PRelu before opset 7: a 1-D slope of X's channel count is per channel
 * (axis 1), which numpy broadcasting expresses as slope[C,1,...,1]. */
static bool prelu_import_legacy(IrModule *m, IrOp *op) {
  IrValue *x = op->operands[0], *s = op->operands[1];
  if (!x || !s || x->type.kind != IR_TYPE_TENSOR || x->type.rank <= 2 ||
      s->type.rank != 1 || !ir_type_is_static(&s->type) ||
      !ir_type_is_static(&x->type))
    return true;
  int64_t c = ir_type_dim(&s->type, 0);
  if (c == 1 || c != ir_type_dim(&x->type, 1)) return true;
  if (!s->weight) {
    diag_at(DIAG_ERROR, &op->loc,
            "PRelu: a per-channel slope before opset 7 must be a constant in tcc");
    return false;
  }
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < x->type.rank - 1; i++) dims[i] = i == 0 ? c : 1;
  op->operands[1] = ew_reshape_weight(m, s, x->type.rank - 1, dims);
  return true;
}

static bool ew_fill_defaults(IrModule *m, IrOp *op);

bool op_binary_import(IrModule *m, IrOp *op, int opset) {
  if (op->kind == IR_OP_SWIGLU) return ew_fill_defaults(m, op);
  if (opset < 7 && op->kind == IR_OP_PRELU && op->num_operands == 2 &&
      !prelu_import_legacy(m, op))
    return false;
  if (opset < 7 && !binary_import_legacy(m, op)) return false;
  if (op->kind == IR_OP_BIT_SHIFT) {
    const char *d = ir_attr_string(op, "direction", "");
    if (strcmp(d, "LEFT") && strcmp(d, "RIGHT")) {
      diag_at(DIAG_ERROR, &op->loc,
              "attribute 'direction' must be \"LEFT\" or \"RIGHT\"");
      return false;
    }
  }
  if (op->kind != IR_OP_MOD) return true;
  const IrAttr *f = ir_attr_get(op, "fmod");
  if (f && (f->kind != IR_ATTR_INT || (f->i != 0 && f->i != 1))) {
    diag_at(DIAG_ERROR, &op->loc, "attribute 'fmod' must be 0 or 1");
    return false;
  }
  if (!f) ir_attr_set_int(m, op, "fmod", 0);
  return true;
}

/* ------------------------------------------------------------ variadic */
bool op_variadic_import(IrModule *m, IrOp *op, int opset) {
  (void)m, (void)op, (void)opset;
  return true;
}

bool op_variadic_infer(IrModule *m, IrOp *op) {
  if (op->num_operands < 1) {
    diag_at(DIAG_ERROR, &op->loc, "%s: needs at least one input", ew_name(op));
    return false;
  }
  if (!ew_check_present(op, op->num_operands)) return false;
  IrValue *a = op->operands[0];
  IrType t = a->type;
  if (!ew_check_elem(op, ew_row(op)->types, a)) return false;
  for (int i = 1; i < op->num_operands; i++)
    if (!ew_same_elem(m, op, a, op->operands[i]) ||
        !ew_broadcast(m, op, &t, &op->operands[i]->type))
      return false;
  ew_set_result(op, t, a->type.elem);
  return true;
}

/* --------------------------------------------------------------- where */
bool op_where_import(IrModule *m, IrOp *op, int opset) {
  (void)m, (void)op, (void)opset;
  return true;
}

bool op_where_infer(IrModule *m, IrOp *op) {
  if (!ew_check_present(op, 3)) return false;
  IrValue *c = op->operands[0], *x = op->operands[1], *y = op->operands[2];
  if (c->type.elem != IR_BOOL) {
    char s[256];
    diag_at(DIAG_ERROR, &op->loc, "Where: condition must be bool, got %s",
            ir_type_str(m, &c->type, s, sizeof s));
    return false;
  }
  IrType t = c->type;
  if (!ew_same_elem(m, op, x, y) || !ew_broadcast(m, op, &t, &x->type) ||
      !ew_broadcast(m, op, &t, &y->type))
    return false;
  ew_set_result(op, t, x->type.elem);
  return true;
}

/* --------------------------------------------------------------- unary */
/* Float attributes with ONNX defaults are always explicit after import. */
static bool ew_fill_defaults(IrModule *m, IrOp *op) {
  const EwRow *row = ew_row(op);
  for (int i = 0; i < 2 && row->defaults[i].name; i++) {
    const char *name = row->defaults[i].name;
    const IrAttr *a = ir_attr_get(op, name);
    if (!a) {
      ir_attr_set_float(m, op, name, row->defaults[i].value);
    } else if (a->kind == IR_ATTR_INT) {
      ir_attr_set_float(m, op, name, (double)a->i);
    } else if (a->kind != IR_ATTR_FLOAT) {
      diag_at(DIAG_ERROR, &op->loc, "attribute '%s' must be a float", name);
      return false;
    }
  }
  return true;
}

/* Clip >= 11: constant bounds become float attributes `min`/`max`;
 * computed ones stay operands.  Trailing absent operands are dropped. */
static bool clip_import(IrModule *m, IrOp *op, int opset) {
  static const char *const names[2] = {"min", "max"};
  for (int i = 0; i < 2; i++) {
    const IrAttr *a = ir_attr_get(op, names[i]);
    if (a && a->kind != IR_ATTR_FLOAT && a->kind != IR_ATTR_INT) {
      diag_at(DIAG_ERROR, &op->loc, "attribute '%s' must be a float", names[i]);
      return false;
    }
    if (a && a->kind == IR_ATTR_INT) ir_attr_set_float(m, op, names[i], (double)a->i);
    IrValue *v = opset >= 11 && i + 1 < op->num_operands ? op->operands[i + 1] : NULL;
    if (!v || !v->weight || !v->weight->data) continue;
    uint64_t n;
    if (!ir_type_numel(&v->type, &n) || n != 1) {
      diag_at(DIAG_ERROR, &op->loc, "Clip: input '%s' must be a scalar", names[i]);
      return false;
    }
    ir_attr_set_float(m, op, names[i],
                      ir_elem_load_f64(v->type.elem, v->weight->data, 0));
    op->operands[i + 1] = NULL;
  }
  while (op->num_operands > 1 && !op->operands[op->num_operands - 1])
    op->num_operands--;
  return true;
}

/* Cast's and BitCast's ONNX `to` (a TensorProto dtype) becomes an element
 * type attribute. */
static bool cast_import(IrModule *m, IrOp *op) {
  const IrAttr *a = ir_attr_get(op, "to");
  if (a && a->kind == IR_ATTR_TYPE) return true;
  if (!a || a->kind != IR_ATTR_INT) {
    if (a)
      diag_at(DIAG_ERROR, &op->loc, "attribute 'to' must be an int");
    else
      diag_at(DIAG_ERROR, &op->loc, "%s: attribute 'to' is missing", ew_name(op));
    return false;
  }
  IrElem e = ir_elem_from_onnx((int)a->i);
  if (e == IR_ELEM_NONE) {
    if (a->i == 8)
      diag_at(DIAG_ERROR, &op->loc, "%s: casting to string is not supported by tcc",
              ew_name(op));
    else
      diag_at(DIAG_ERROR, &op->loc, "%s: target type %lld is not supported by tcc",
              ew_name(op), (long long)a->i);
    return false;
  }
  ir_attr_set_type(m, op, "to", e);
  const IrAttr *sat = ir_attr_get(op, "saturate");
  if (sat && (sat->kind != IR_ATTR_INT || (sat->i != 0 && sat->i != 1))) {
    diag_at(DIAG_ERROR, &op->loc, "Cast: attribute 'saturate' must be 0 or 1");
    return false;
  }
  const IrAttr *rm = ir_attr_get(op, "round_mode");
  if (rm && (rm->kind != IR_ATTR_STRING ||
             (strcmp(rm->s, "up") && strcmp(rm->s, "down") && strcmp(rm->s, "nearest")))) {
    diag_at(DIAG_ERROR, &op->loc, "Cast: attribute 'round_mode' must be \"up\", \"down\" "
            "or \"nearest\"");
    return false;
  }
  return true;
}

/* CastLike(x, like) is Cast(x) to like's element type. */
static bool cast_like_import(IrModule *m, IrOp *op) {
  IrValue *like = op->num_operands == 2 ? op->operands[1] : NULL;
  if (!like || like->type.kind != IR_TYPE_TENSOR) return true;
  ir_attr_set_type(m, op, "to", like->type.elem);
  op->kind = IR_OP_CAST;
  op->num_operands = 1;
  return true;
}

/* IsInf's two switches, explicit and 0/1. */
static bool is_inf_import(IrModule *m, IrOp *op) {
  static const char *const names[2] = {"detect_negative", "detect_positive"};
  for (int i = 0; i < 2; i++) {
    const IrAttr *a = ir_attr_get(op, names[i]);
    if (a && (a->kind != IR_ATTR_INT || (a->i != 0 && a->i != 1))) {
      diag_at(DIAG_ERROR, &op->loc, "attribute '%s' must be 0 or 1", names[i]);
      return false;
    }
    if (!a) ir_attr_set_int(m, op, names[i], 1);
  }
  return true;
}

/* Gelu's approximate, explicit: "none" or "tanh". */
static bool gelu_import(IrModule *m, IrOp *op) {
  const IrAttr *a = ir_attr_get(op, "approximate");
  if (!a) {
    ir_attr_set_string(m, op, "approximate", "none");
    return true;
  }
  if (a->kind != IR_ATTR_STRING ||
      (strcmp(a->s, "none") && strcmp(a->s, "tanh"))) {
    diag_at(DIAG_ERROR, &op->loc,
            "Gelu: attribute 'approximate' must be \"none\" or \"tanh\"");
    return false;
  }
  return true;
}

/* Dropout's inputs ratio and training_mode must be constants.  Import
 * turns them into attributes: nothing at inference (ratio and seed do not
 * matter then), else training_mode=1, ratio and the seed of the shared
 * generator (random.h), chosen as for RandomUniform when absent. */
static bool dropout_import(IrModule *m, IrOp *op) {
  IrValue *t = op->num_operands > 2 ? op->operands[2] : NULL;
  if (t && (!t->weight || !t->weight->data)) {
    diag_at(DIAG_ERROR, &op->loc, "Dropout: input 'training_mode' must be a "
                                  "constant (initializer or Constant node) in tcc");
    return false;
  }
  bool train = t && ir_elem_load_i64(t->type.elem, t->weight->data, 0);
  IrValue *r = op->num_operands > 1 ? op->operands[1] : NULL;
  op->num_operands = 1;
  if (!train) return true;
  double ratio = 0.5;
  if (r && (!r->weight || !r->weight->data)) {
    diag_at(DIAG_ERROR, &op->loc, "Dropout: input 'ratio' must be a "
                                  "constant (initializer or Constant node) in tcc");
    return false;
  }
  uint64_t n = 1;
  if (r && (!ir_type_numel(&r->type, &n) || n != 1)) {
    diag_at(DIAG_ERROR, &op->loc, "Dropout: input 'ratio' must be a scalar");
    return false;
  }
  if (r) ratio = ir_elem_load_f64(r->type.elem, r->weight->data, 0);
  if (!(ratio >= 0 && ratio < 1)) {
    diag_at(DIAG_ERROR, &op->loc, "Dropout: ratio must be in [0, 1), got %g", ratio);
    return false;
  }
  ir_attr_set_int(m, op, "training_mode", 1);
  ir_attr_set_float(m, op, "ratio", ratio);
  return random_seed_import(m, op);
}

bool op_unary_import(IrModule *m, IrOp *op, int opset) {
  if (!ew_fill_defaults(m, op)) return false;
  switch (op->kind) {
  case IR_OP_CLIP: return clip_import(m, op, opset);
  case IR_OP_CAST: case IR_OP_BIT_CAST: return cast_import(m, op);
  case IR_OP_CAST_LIKE: return cast_like_import(m, op);
  case IR_OP_IS_INF: return is_inf_import(m, op);
  case IR_OP_DROPOUT: return dropout_import(m, op);
  case IR_OP_GELU: return gelu_import(m, op);
  default: return true;
  }
}

/* Clip bound operands: one element of x's type. */
static bool clip_infer_bounds(IrModule *m, IrOp *op) {
  static const char *const names[2] = {"min", "max"};
  for (int i = 1; i < op->num_operands && i < 3; i++) {
    IrValue *v = op->operands[i];
    uint64_t n;
    if (!v) continue;
    if (!ew_same_elem(m, op, op->operands[0], v)) return false;
    if (!ir_type_numel(&v->type, &n) || n != 1) {
      char s[256];
      diag_at(DIAG_ERROR, &op->loc, "Clip: %s must be a scalar, got %s",
              names[i - 1], ir_type_str(m, &v->type, s, sizeof s));
      return false;
    }
  }
  return true;
}

static IrElem ew_cast_target(const IrOp *op) {
  if (op->kind == IR_OP_CAST_LIKE)
    return op->num_operands == 2 && op->operands[1] ? op->operands[1]->type.elem
                                                    : IR_ELEM_NONE;
  const IrAttr *a = ir_attr_get(op, "to");
  return a && a->kind == IR_ATTR_TYPE ? a->elem : IR_ELEM_NONE;
}

static bool bit_cast_infer(const IrOp *op, IrElem from, IrElem to) {
  if (ir_elem_bits(from) == ir_elem_bits(to)) return true;
  diag_at(DIAG_ERROR, &op->loc, "BitCast: %s (%d bits) and %s (%d bits) differ in width",
          ir_elem_name(from), ir_elem_bits(from), ir_elem_name(to), ir_elem_bits(to));
  return false;
}

bool op_unary_infer(IrModule *m, IrOp *op) {
  if (!ew_check_present(op, 1)) return false;
  IrValue *x = op->operands[0];
  IrElem out = x->type.elem;
  if (!ew_check_elem(op, ew_row(op)->types, x)) return false;
  if (op->kind == IR_OP_CLIP && !clip_infer_bounds(m, op)) return false;
  if (op->kind == IR_OP_CAST || op->kind == IR_OP_CAST_LIKE || op->kind == IR_OP_BIT_CAST) {
    out = ew_cast_target(op);
    if (out == IR_ELEM_NONE || !ew_class(out)) {
      diag_at(DIAG_ERROR, &op->loc, "%s: the target element type is missing",
              ew_name(op));
      return false;
    }
    if (op->kind == IR_OP_BIT_CAST && !bit_cast_infer(op, x->type.elem, out)) return false;
  }
  if (ew_row(op)->flags & EWF_BOOL) out = IR_BOOL;
  ew_set_result(op, x->type, out);
  if (op->kind == IR_OP_DROPOUT && op->num_results == 2) {
    op->results[1]->type = op->results[0]->type;
    op->results[1]->type.elem = IR_BOOL;
  }
  return true;
}
