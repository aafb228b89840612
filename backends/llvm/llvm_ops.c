/*
 * llvm_ops.c — loop-level ops that only compute values: arith.*, math.*,
 * arith.cast, vec.*.  Each works on scalars and on fixed or scalable vectors
 * alike (LLVM's instructions and intrinsics are shape-polymorphic); the
 * element type decides float vs integer and, for integers, signedness.
 *
 * Math without an LLVM intrinsic calls libm (tanhf, erff, ...); libm has no
 * vector entry points, so such calls on fixed vectors go lane by lane.
 * f16/bf16 math is computed in float and rounded back, as libm would.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "llvm_int.h"

/* The type of t with its element replaced by el (scalar or same lanes). */
static LLVMTypeRef like(Em *e, const IrType *t, IrElem el) {
  IrType u = *t;
  u.elem = el;
  return em_type(e, &u);
}

static LLVMValueRef splat(Em *e, LLVMValueRef x, const IrType *vt) {
  LLVMTypeRef ty = em_type(e, vt);
  LLVMValueRef poison = LLVMGetPoison(ty);
  LLVMValueRef ins = LLVMBuildInsertElement(e->b, poison, x,
                                            LLVMConstInt(e->i32, 0, 0), "");
  LLVMTypeRef mt = vt->scalable ? LLVMScalableVectorType(e->i32, (unsigned)vt->lanes)
                                : LLVMVectorType(e->i32, (unsigned)vt->lanes);
  return LLVMBuildShuffleVector(e->b, ins, poison, LLVMConstNull(mt), "");
}

/* An i32 constant shaped like t (scalar or vector). */
static LLVMValueRef i32_like(Em *e, const IrType *t, uint32_t v) {
  LLVMValueRef c = LLVMConstInt(e->i32, v, 0);
  if (t->kind != IR_TYPE_VECTOR) return c;
  IrType u = *t;
  u.elem = IR_I32;
  return splat(e, c, &u);
}

/* Rounds float/double x to t's shape in element `to`.  bfloat is done
 * inline (round to nearest even, NaN kept quiet): LLVM turns an fptrunc to
 * bfloat into a call to __truncsfbf2, which older libgcc and bare-metal
 * runtimes lack. */
static LLVMValueRef em_fptrunc(Em *e, LLVMValueRef x, const IrType *t, IrElem to) {
  if (to != IR_BF16) return LLVMBuildFPTrunc(e->b, x, like(e, t, to), "");
  LLVMTypeRef f32 = like(e, t, IR_F32), i32 = like(e, t, IR_I32);
  if (LLVMTypeOf(x) != f32) x = LLVMBuildFPTrunc(e->b, x, f32, "");
  LLVMValueRef bits = LLVMBuildBitCast(e->b, x, i32, "");
  LLVMValueRef lsb = LLVMBuildAnd(e->b, LLVMBuildLShr(e->b, bits, i32_like(e, t, 16), ""),
                                  i32_like(e, t, 1), "");
  LLVMValueRef bias = LLVMBuildAdd(e->b, lsb, i32_like(e, t, 0x7fff), "");
  LLVMValueRef rounded = LLVMBuildLShr(e->b, LLVMBuildAdd(e->b, bits, bias, ""),
                                       i32_like(e, t, 16), "");
  LLVMValueRef quiet = LLVMBuildOr(e->b, LLVMBuildLShr(e->b, bits, i32_like(e, t, 16), ""),
                                   i32_like(e, t, 0x40), "");
  LLVMValueRef nan = LLVMBuildFCmp(e->b, LLVMRealUNO, x, x, "");
  LLVMValueRef r = LLVMBuildSelect(e->b, nan, quiet, rounded, "");
  r = LLVMBuildTrunc(e->b, r, like(e, t, IR_I16), "");
  return LLVMBuildBitCast(e->b, r, like(e, t, IR_BF16), "");
}

static bool em_const(Em *e, IrOp *op) {
  IrValue *r = op->results[0];
  const IrAttr *a = ir_attr_get(op, "value");
  if (!a || (a->kind != IR_ATTR_INT && a->kind != IR_ATTR_FLOAT))
    return em_fail(op, "internal error: arith.const without a numeric value");
  LLVMTypeRef ty = em_elem_type(e, r->type.elem);
  double f = a->kind == IR_ATTR_FLOAT ? a->f : (double)a->i;
  int64_t i = a->kind == IR_ATTR_INT ? a->i : (int64_t)a->f;
  LLVMValueRef x;
  if (ir_elem_is_float(r->type.elem))
    x = LLVMConstReal(ty, f);
  else
    x = LLVMConstInt(ty, r->type.elem == IR_BOOL ? i != 0 : (unsigned long long)i, 1);
  em_set(e, r, r->type.kind == IR_TYPE_VECTOR ? splat(e, x, &r->type) : x);
  return true;
}

/* smax/umax/maxnum style intrinsic on (a, b). */
static LLVMValueRef bin_intr(Em *e, const char *name, LLVMValueRef a,
                             LLVMValueRef b) {
  LLVMTypeRef t = LLVMTypeOf(a);
  LLVMValueRef args[2] = {a, b};
  return em_intrinsic(e, name, &t, 1, args, 2);
}

/* maxnum/minnum as compares and selects, for wasm32: WebAssembly's f32.max
 * and f32x4.max return NaN when either operand is NaN, so LLVM lowers
 * maxnum to an fmaxf call per lane.  `a < b ? b : a` is SIMD128's
 * f32x4.pmax (pmin: `b < a ? b : a`); it already returns a when b is NaN,
 * and a NaN a is replaced by b: maxnum's value, with no calls. */
static LLVMValueRef em_maxmin_select(Em *e, LLVMValueRef a, LLVMValueRef b,
                                     bool max) {
  LLVMValueRef lt = max ? LLVMBuildFCmp(e->b, LLVMRealOLT, a, b, "")
                        : LLVMBuildFCmp(e->b, LLVMRealOLT, b, a, "");
  LLVMValueRef t = LLVMBuildSelect(e->b, lt, b, a, "");
  LLVMValueRef nan = LLVMBuildFCmp(e->b, LLVMRealUNO, a, a, "");
  return LLVMBuildSelect(e->b, nan, b, t, "");
}

/* Not on half floats: on a min/max of float16 widened to float (the IR's
 * way), InstCombine narrows the compares and selects back to half lanes,
 * which LLVM 19's wasm32 backend cannot promote (it aborts); maxnum stays
 * fmaxf calls there. */
static bool wasm_select_ok(Em *e, const IrOp *op) {
  if (strncmp(LLVMGetTarget(e->mod), "wasm", 4)) return false;
  for (int i = 0; i < op->num_operands; i++) {
    const IrValue *v = op->operands[i];
    IrElem el = v->type.elem;
    if (el != IR_F32 && el != IR_F64) return false;
    if (v->def && v->def->kind == IR_OP_A_CAST && v->def->num_operands &&
        ir_elem_size(v->def->operands[0]->type.elem) == 2)
      return false;
  }
  return true;
}

/* Float sums and products may be reassociated and contracted: that is what
 * lets LLVM vectorize a reduction kept in a loop's iteration value (a dot
 * product, a softmax sum): the LSTM sample runs 7x faster.  NaN and
 * infinity keep their IEEE behaviour (no nnan/ninf); results move by
 * rounding only (docs/ir.md). */
static void em_reassoc(LLVMValueRef x) {
  LLVMSetFastMathFlags(x, LLVMFastMathAllowReassoc | LLVMFastMathAllowContract);
}

static bool em_arith2(Em *e, IrOp *op) {
  IrElem el = op->operands[0]->type.elem;
  bool f = ir_elem_is_float(el), s = ir_elem_is_signed(el);
  LLVMValueRef a = em_val(e, op->operands[0]), b = em_val(e, op->operands[1]), x;
  LLVMBuilderRef B = e->b;
  switch (op->kind) {
  case IR_OP_A_ADD: x = f ? LLVMBuildFAdd(B, a, b, "") : LLVMBuildAdd(B, a, b, ""); break;
  case IR_OP_A_SUB: x = f ? LLVMBuildFSub(B, a, b, "") : LLVMBuildSub(B, a, b, ""); break;
  case IR_OP_A_MUL: x = f ? LLVMBuildFMul(B, a, b, "") : LLVMBuildMul(B, a, b, ""); break;
  case IR_OP_A_DIV:
    x = f ? LLVMBuildFDiv(B, a, b, "") : s ? LLVMBuildSDiv(B, a, b, "") : LLVMBuildUDiv(B, a, b, "");
    break;
  case IR_OP_A_REM:
    x = f ? LLVMBuildFRem(B, a, b, "") : s ? LLVMBuildSRem(B, a, b, "") : LLVMBuildURem(B, a, b, "");
    break;
  case IR_OP_A_MAX:
    x = f && wasm_select_ok(e, op) ? em_maxmin_select(e, a, b, true)
        : bin_intr(e, f ? "llvm.maxnum" : s ? "llvm.smax" : "llvm.umax", a, b);
    break;
  case IR_OP_A_MIN:
    x = f && wasm_select_ok(e, op) ? em_maxmin_select(e, a, b, false)
        : bin_intr(e, f ? "llvm.minnum" : s ? "llvm.smin" : "llvm.umin", a, b);
    break;
  default:
    if (f)
      return em_fail(op, "%s needs integer or bool operands, not %s",
                     ir_op_info(op->kind)->name, ir_elem_name(el));
    x = op->kind == IR_OP_A_AND  ? LLVMBuildAnd(B, a, b, "")
        : op->kind == IR_OP_A_OR ? LLVMBuildOr(B, a, b, "")
                                 : LLVMBuildXor(B, a, b, "");
  }
  if (f && (op->kind == IR_OP_A_ADD || op->kind == IR_OP_A_SUB || op->kind == IR_OP_A_MUL))
    em_reassoc(x);
  em_set(e, op->results[0], x);
  return true;
}

static bool em_arith1(Em *e, IrOp *op) {
  IrElem el = op->operands[0]->type.elem;
  bool f = ir_elem_is_float(el);
  LLVMValueRef a = em_val(e, op->operands[0]), x;
  LLVMTypeRef t = LLVMTypeOf(a);
  if (op->kind == IR_OP_A_NEG) {
    x = f ? LLVMBuildFNeg(e->b, a, "") : LLVMBuildNeg(e->b, a, "");
  } else if (op->kind == IR_OP_A_ABS) {
    LLVMValueRef args[2] = {a, LLVMConstInt(e->i1, 0, 0)};
    x = f ? em_intrinsic(e, "llvm.fabs", &t, 1, &a, 1)
        : ir_elem_is_signed(el) ? em_intrinsic(e, "llvm.abs", &t, 1, args, 2)
                                : a;
  } else {
    if (f) return em_fail(op, "arith.not needs an integer or bool operand");
    x = LLVMBuildNot(e->b, a, "");
  }
  em_set(e, op->results[0], x);
  return true;
}

static bool em_fma(Em *e, IrOp *op) {
  LLVMValueRef args[3];
  for (int i = 0; i < 3; i++) args[i] = em_val(e, op->operands[i]);
  LLVMTypeRef t = LLVMTypeOf(args[0]);
  LLVMValueRef x;
  /* fmuladd, not fma: fused where the target has it, a multiply and an
   * add where it has not (wasm32 SIMD128 would otherwise call fmaf per
   * lane). */
  if (ir_elem_is_float(op->operands[0]->type.elem)) {
    x = em_intrinsic(e, "llvm.fmuladd", &t, 1, args, 3);
    em_reassoc(x);
  } else
    x = LLVMBuildAdd(e->b, LLVMBuildMul(e->b, args[0], args[1], ""), args[2], "");
  em_set(e, op->results[0], x);
  return true;
}

/* lanes 0, 2, 4, ... (odd: 1, 3, 5, ...) of a vector of 2n. */
static LLVMValueRef em_half_lanes(Em *e, LLVMValueRef v, unsigned n, bool odd) {
  LLVMValueRef idx[64];
  IR_ASSERT(n <= 64);
  for (unsigned i = 0; i < n; i++) idx[i] = LLVMConstInt(e->i32, 2 * i + odd, 0);
  return LLVMBuildShuffleVector(e->b, v, LLVMGetUndef(LLVMTypeOf(v)), LLVMConstVector(idx, n),
                                "");
}

/* arith.dot4 on aarch64 (128 bits): usdot takes u8 x s8 (+i8mm); sdot
 * takes s8 x s8 (+dotprod), so u's bytes are offset by -128 (xor 0x80) and
 * 128 * sum s added back: sdot(acc, u ^ 0x80, s) - sdot(0, -128, s). */
static LLVMValueRef em_dot4_arm(Em *e, LLVMValueRef acc, LLVMValueRef u, LLVMValueRef s) {
  LLVMTypeRef b16 = LLVMVectorType(e->i8, 16), over[2] = {LLVMTypeOf(acc), b16};
  LLVMValueRef sb = LLVMBuildBitCast(e->b, s, b16, "");
  if (e->dot4_mixed) {
    LLVMValueRef args[3] = {acc, LLVMBuildBitCast(e->b, u, b16, ""), sb};
    return em_intrinsic(e, "llvm.aarch64.neon.usdot", over, 2, args, 3);
  }
  LLVMValueRef m128 = LLVMConstInt(e->i8, 0x80, 0), bytes[16];
  for (int i = 0; i < 16; i++) bytes[i] = m128;
  LLVMValueRef k = LLVMConstVector(bytes, 16);
  LLVMValueRef us = LLVMBuildXor(e->b, LLVMBuildBitCast(e->b, u, b16, ""), k, "");
  LLVMValueRef a1[3] = {acc, us, sb}, a2[3] = {LLVMConstNull(over[0]), k, sb};
  return LLVMBuildSub(e->b, em_intrinsic(e, "llvm.aarch64.neon.sdot", over, 2, a1, 3),
                      em_intrinsic(e, "llvm.aarch64.neon.sdot", over, 2, a2, 3), "");
}

/* arith.dot4: vpdpbusd (x86) or sdot/usdot (aarch64) where the target has
 * it for this width; else the bytes widened to i16 (a u8 x i8 product
 * fits), adjacent pairs summed into i32 (the shape x86 selects as
 * vpmaddwd), and adjacent pairs of those: exact, no saturating step. */
static bool em_dot4(Em *e, IrOp *op) {
  LLVMValueRef acc = em_val(e, op->operands[0]), u = em_val(e, op->operands[1]),
               s = em_val(e, op->operands[2]);
  const IrType *t = &op->results[0]->type;
  unsigned n = t->kind == IR_TYPE_VECTOR ? (unsigned)t->lanes : 1;
  unsigned bits = 32 * n;
  bool arm = !strncmp(LLVMGetTarget(e->mod), "aarch64", 7);
  LLVMValueRef x;
  if (arm && t->kind == IR_TYPE_VECTOR && !t->scalable && bits == 128 && e->dot4_bits >= 128) {
    x = em_dot4_arm(e, acc, u, s);
  } else if (!arm && t->kind == IR_TYPE_VECTOR && !t->scalable &&
             (bits == 128 || bits == 256 || bits == 512) && (int)bits <= e->dot4_bits) {
    char name[40];
    snprintf(name, sizeof name, "llvm.x86.avx512.vpdpbusd.%u", bits);
    LLVMValueRef args[3] = {acc, u, s};
    x = em_intrinsic(e, name, NULL, 0, args, 3);
  } else {
    LLVMTypeRef b4 = LLVMVectorType(e->i8, 4 * n);
    LLVMTypeRef h4 = LLVMVectorType(LLVMInt16TypeInContext(e->c), 4 * n);
    LLVMTypeRef w2 = LLVMVectorType(e->i32, 2 * n);
    LLVMValueRef uw = LLVMBuildZExt(e->b, LLVMBuildBitCast(e->b, u, b4, ""), h4, "");
    LLVMValueRef sw = LLVMBuildSExt(e->b, LLVMBuildBitCast(e->b, s, b4, ""), h4, "");
    LLVMValueRef pair[2];
    for (int odd = 0; odd < 2; odd++)
      pair[odd] = LLVMBuildMul(
          e->b, LLVMBuildSExt(e->b, em_half_lanes(e, uw, 2 * n, odd), w2, ""),
          LLVMBuildSExt(e->b, em_half_lanes(e, sw, 2 * n, odd), w2, ""), "");
    LLVMValueRef pairs = LLVMBuildAdd(e->b, pair[0], pair[1], "");
    LLVMValueRef quad = LLVMBuildAdd(e->b, em_half_lanes(e, pairs, n, false),
                                     em_half_lanes(e, pairs, n, true), "");
    if (t->kind != IR_TYPE_VECTOR) quad = LLVMBuildBitCast(e->b, quad, e->i32, "");
    x = LLVMBuildAdd(e->b, acc, quad, "");
  }
  em_set(e, op->results[0], x);
  return true;
}

static const struct {
  const char *name;
  LLVMRealPredicate f;
  LLVMIntPredicate s, u;
} preds[] = {
    {"eq", LLVMRealOEQ, LLVMIntEQ, LLVMIntEQ},
    {"ne", LLVMRealUNE, LLVMIntNE, LLVMIntNE},
    {"lt", LLVMRealOLT, LLVMIntSLT, LLVMIntULT},
    {"le", LLVMRealOLE, LLVMIntSLE, LLVMIntULE},
    {"gt", LLVMRealOGT, LLVMIntSGT, LLVMIntUGT},
    {"ge", LLVMRealOGE, LLVMIntSGE, LLVMIntUGE},
};

/* Helium (thumbv8.1m): LLVM 19 compares a q register with zero (VCMP
 * ..., zr) ignoring whether the predicate is ordered (olt and ult give the
 * same code), and InstCombine turns `x != x` into `fcmp uno x, 0.0`, so
 * IsNaN said false for NaN.  The NaN test on the bits instead, |x| > inf,
 * which LLVM keeps as an integer compare (and vectorizes). */
static LLVMValueRef em_nan_bits(Em *e, LLVMValueRef x, const IrType *t,
                                IrElem el, bool nan) {
  IrElem ie = el == IR_F64 ? IR_I64 : el == IR_F32 ? IR_I32 : IR_I16;
  uint64_t mask = el == IR_F64 ? 0x7fffffffffffffffull
                  : el == IR_F32 ? 0x7fffffffu : 0x7fffu;
  uint64_t inf = el == IR_F64 ? 0x7ff0000000000000ull
                 : el == IR_F32 ? 0x7f800000u : el == IR_BF16 ? 0x7f80u : 0x7c00u;
  IrType u = *t;
  u.elem = ie;
  LLVMTypeRef it = em_elem_type(e, ie);
  LLVMValueRef m = LLVMConstInt(it, mask, 0), k = LLVMConstInt(it, inf, 0);
  if (t->kind == IR_TYPE_VECTOR) m = splat(e, m, &u), k = splat(e, k, &u);
  LLVMValueRef bits = LLVMBuildAnd(e->b, LLVMBuildBitCast(e->b, x, em_type(e, &u), ""),
                                   m, "");
  return LLVMBuildICmp(e->b, nan ? LLVMIntUGT : LLVMIntULE, bits, k, "");
}

static bool em_cmp(Em *e, IrOp *op) {
  const char *p = ir_attr_string(op, "pred", "");
  IrElem el = op->operands[0]->type.elem;
  LLVMValueRef a = em_val(e, op->operands[0]), b = em_val(e, op->operands[1]);
  if (ir_elem_is_float(el) && a == b && (!strcmp(p, "ne") || !strcmp(p, "eq")) &&
      !strncmp(LLVMGetTarget(e->mod), "thumbv8.1m", 10)) {
    em_set(e, op->results[0],
           em_nan_bits(e, a, &op->operands[0]->type, el, !strcmp(p, "ne")));
    return true;
  }
  for (size_t i = 0; i < sizeof preds / sizeof preds[0]; i++) {
    if (strcmp(preds[i].name, p)) continue;
    LLVMValueRef x =
        ir_elem_is_float(el) ? LLVMBuildFCmp(e->b, preds[i].f, a, b, "")
        : LLVMBuildICmp(e->b, ir_elem_is_signed(el) ? preds[i].s : preds[i].u, a, b, "");
    em_set(e, op->results[0], x);
    return true;
  }
  return em_fail(op, "internal error: arith.cmp with unknown pred '%s'", p);
}

/* ------------------------------------------------------------------ cast */
/* bfloat16 -> float by moving the bits up: exact, and it avoids LLVM's
 * extending bf16 load, which some backends (wasm32) cannot select. */
static LLVMValueRef em_bf16_to_f32(Em *e, LLVMValueRef x, const IrType *t) {
  LLVMValueRef bits = LLVMBuildBitCast(e->b, x, like(e, t, IR_I16), "");
  bits = LLVMBuildZExt(e->b, bits, like(e, t, IR_I32), "");
  bits = LLVMBuildShl(e->b, bits, i32_like(e, t, 16), "");
  return LLVMBuildBitCast(e->b, bits, like(e, t, IR_F32), "");
}

/* A float of any width widened to `to` (bfloat16 through em_bf16_to_f32). */
static LLVMValueRef em_fpext(Em *e, LLVMValueRef x, const IrType *t, IrElem from,
                             IrElem to) {
  if (from == IR_BF16) {
    x = em_bf16_to_f32(e, x, t);
    if (to == IR_F32) return x;
  }
  return LLVMBuildFPExt(e->b, x, like(e, t, to), "");
}

static LLVMValueRef cast_from_float(Em *e, LLVMValueRef x, const IrType *t,
                                    IrElem from, IrElem to) {
  LLVMTypeRef rt = like(e, t, to);
  if (from == IR_BF16 && to != IR_BF16) { /* every other cast goes via float */
    x = em_bf16_to_f32(e, x, t);
    from = IR_F32;
  }
  if (to == IR_BOOL)
    return LLVMBuildFCmp(e->b, LLVMRealUNE, x, LLVMConstNull(LLVMTypeOf(x)), "");
  if (ir_elem_is_float(to)) {
    size_t fs = ir_elem_size(from), ts = ir_elem_size(to);
    if (fs == ts) /* f16 -> bf16: through float */
      x = em_fpext(e, x, t, from, IR_F32);
    return ir_elem_size(to) > (fs == ts ? 4 : fs) ? LLVMBuildFPExt(e->b, x, rt, "")
                                                  : em_fptrunc(e, x, t, to);
  }
  if (to == IR_U64) return LLVMBuildFPToUI(e->b, x, rt, "");
  if (to == IR_I64 || to == IR_INDEX) return LLVMBuildFPToSI(e->b, x, rt, "");
  /* Narrow ints: truncate toward zero into i64, then wrap, like C's
   * (uint8_t)(int64_t)x: defined for every value a narrow type may hold. */
  x = LLVMBuildFPToSI(e->b, x, like(e, t, IR_I64), "");
  return LLVMBuildTrunc(e->b, x, rt, "");
}

static LLVMValueRef cast_from_int(Em *e, LLVMValueRef x, const IrType *t,
                                  IrElem from, IrElem to) {
  LLVMTypeRef rt = like(e, t, to);
  bool s = ir_elem_is_signed(from);
  if (to == IR_BOOL)
    return LLVMBuildICmp(e->b, LLVMIntNE, x, LLVMConstNull(LLVMTypeOf(x)), "");
  if (ir_elem_is_float(to))
    return s ? LLVMBuildSIToFP(e->b, x, rt, "") : LLVMBuildUIToFP(e->b, x, rt, "");
  unsigned fb = from == IR_BOOL ? 1 : 8 * (unsigned)ir_elem_size(from);
  unsigned tb = 8 * (unsigned)ir_elem_size(to);
  if (fb == tb) return x;
  if (fb > tb) return LLVMBuildTrunc(e->b, x, rt, "");
  return s ? LLVMBuildSExt(e->b, x, rt, "") : LLVMBuildZExt(e->b, x, rt, "");
}

static bool em_cast(Em *e, IrOp *op) {
  IrValue *a = op->operands[0], *r = op->results[0];
  IrElem from = a->type.elem, to = r->type.elem;
  LLVMValueRef x = em_val(e, a);
  if (from != to)
    x = ir_elem_is_float(from) ? cast_from_float(e, x, &a->type, from, to)
                               : cast_from_int(e, x, &a->type, from, to);
  em_set(e, r, x);
  return true;
}

/* ------------------------------------------------------------------ math */
static const struct {
  IrOpKind kind;
  const char *intrinsic; /* NULL: libm */
  const char *libm;      /* double name; float adds "f" */
} maths[] = {
    {IR_OP_M_EXP, "llvm.exp", 0},     {IR_OP_M_LOG, "llvm.log", 0},
    {IR_OP_M_SQRT, "llvm.sqrt", 0},   {IR_OP_M_SIN, "llvm.sin", 0},
    {IR_OP_M_COS, "llvm.cos", 0},     {IR_OP_M_FLOOR, "llvm.floor", 0},
    {IR_OP_M_CEIL, "llvm.ceil", 0},   {IR_OP_M_ROUND, "llvm.roundeven", 0},
    {IR_OP_M_POW, "llvm.pow", 0},     {IR_OP_M_TANH, 0, "tanh"},
    {IR_OP_M_ERF, 0, "erf"},          {IR_OP_M_TAN, 0, "tan"},
    {IR_OP_M_ASIN, 0, "asin"},        {IR_OP_M_ACOS, 0, "acos"},
    {IR_OP_M_ATAN, 0, "atan"},        {IR_OP_M_SINH, 0, "sinh"},
    {IR_OP_M_COSH, 0, "cosh"},        {IR_OP_M_ASINH, 0, "asinh"},
    {IR_OP_M_ACOSH, 0, "acosh"},      {IR_OP_M_ATANH, 0, "atanh"},
    {IR_OP_M_SIGMOID, "llvm.exp", 0}, /* f64: 1 / (1 + exp(-x)) */
};

/* The libm function `name` for scalar type t: pure, so LLVM may hoist it. */
static LLVMValueRef libm_fn(Em *e, const char *name, LLVMTypeRef t,
                            LLVMTypeRef *ft) {
  *ft = LLVMFunctionType(t, &t, 1, 0);
  LLVMValueRef f = LLVMGetNamedFunction(e->mod, name);
  if (f) return f;
  f = LLVMAddFunction(e->mod, name, *ft);
  static const char *const attrs[] = {"nounwind", "willreturn", "nosync"};
  for (int i = 0; i < 3; i++) {
    unsigned k = LLVMGetEnumAttributeKindForName(attrs[i], strlen(attrs[i]));
    LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
                            LLVMCreateEnumAttribute(e->c, k, 0));
  }
  unsigned mem = LLVMGetEnumAttributeKindForName("memory", 6);
  LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
                          LLVMCreateEnumAttribute(e->c, mem, 0)); /* none */
  return f;
}

/* f32 constant v in t's shape (a splat for vectors). */
static LLVMValueRef f32_like(Em *e, const IrType *t, double v) {
  LLVMValueRef c = LLVMConstReal(em_elem_type(e, IR_F32), v);
  if (t->kind != IR_TYPE_VECTOR) return c;
  IrType u = *t;
  u.elem = IR_F32;
  return splat(e, c, &u);
}

static LLVMValueRef call2(Em *e, const char *intr, LLVMTypeRef ct, LLVMValueRef a,
                          LLVMValueRef b) {
  LLVMValueRef args[2] = {a, b};
  return em_intrinsic(e, intr, &ct, 1, args, 2);
}

/* a*b + c, fused where the target has FMA (one instruction, one rounding),
 * a multiply and an add where it has not (wasm32): llvm.fmuladd. */
static LLVMValueRef fmuladd(Em *e, LLVMTypeRef ct, LLVMValueRef a, LLVMValueRef b,
                            LLVMValueRef c) {
  LLVMValueRef args[3] = {a, b, c};
  return em_intrinsic(e, "llvm.fmuladd", &ct, 1, args, 3);
}

/* Horner: c[0]*x^(n-1) + ... + c[n-1], one fmuladd a term. */
static LLVMValueRef horner(Em *e, const IrType *t, LLVMTypeRef ct, LLVMValueRef x,
                           const double *c, int n) {
  LLVMValueRef p = f32_like(e, t, c[0]);
  for (int i = 1; i < n; i++) p = fmuladd(e, ct, p, x, f32_like(e, t, c[i]));
  return p;
}

/* The bounds of exp_f32's argument: e^EXP_HI is the largest finite f32,
 * e^EXP_LO about the smallest normal. */
#define EXP_HI 88.72283935546875
#define EXP_LO -87.33654022216797

/* e^x for x in [EXP_LO, EXP_HI]: 2^n e^r with n = round(x log2 e) and
 * r = x - n ln 2 (ln 2 in two parts), e^r by a degree-7 polynomial (the
 * classic Cephes expf coefficients), within 2 ulp.  2^n goes into the
 * exponent bits of two factors (2^h * 2^(n-h), h = n/2) so that n = 128
 * (x above 88.37) still works, or with !two of one, which makes it +inf. */
static LLVMValueRef exp_in_range(Em *e, const IrType *t, LLVMTypeRef ct, LLVMValueRef x,
                                 bool two) {
  static const double poly[] = {1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1};
  LLVMValueRef fx = fmuladd(e, ct, x, f32_like(e, t, 1.4426950408889634), f32_like(e, t, 0.5));
  LLVMValueRef n = em_intrinsic(e, "llvm.floor", &ct, 1, &fx, 1);
  LLVMValueRef r = fmuladd(e, ct, n, f32_like(e, t, -0.693359375), x);
  r = fmuladd(e, ct, n, f32_like(e, t, 2.12194440e-4), r);
  LLVMValueRef z = LLVMBuildFMul(e->b, r, r, "");
  LLVMValueRef y = fmuladd(e, ct, horner(e, t, ct, r, poly, 6), z, r);
  y = LLVMBuildFAdd(e->b, y, f32_like(e, t, 1.0), "");
  LLVMTypeRef it = like(e, t, IR_I32);
  LLVMValueRef ni = LLVMBuildFPToSI(e->b, n, it, "");
  LLVMValueRef h = two ? LLVMBuildAShr(e->b, ni, i32_like(e, t, 1), "") : ni;
  LLVMValueRef parts[2] = {h, two ? LLVMBuildSub(e->b, ni, h, "") : NULL};
  for (int i = 0; i < 1 + two; i++) {
    LLVMValueRef bits = LLVMBuildShl(e->b, LLVMBuildAdd(e->b, parts[i], i32_like(e, t, 127), ""),
                                     i32_like(e, t, 23), "");
    y = LLVMBuildFMul(e->b, y, LLVMBuildBitCast(e->b, bits, ct, ""), "");
  }
  return y;
}

static LLVMValueRef clamp(Em *e, const IrType *t, LLVMTypeRef ct, LLVMValueRef a, double lo,
                          double hi) {
  return call2(e, "llvm.maxnum", ct, call2(e, "llvm.minnum", ct, a, f32_like(e, t, hi)),
               f32_like(e, t, lo));
}

/* NaN where a is NaN, else y. */
static LLVMValueRef keep_nan(Em *e, LLVMValueRef a, LLVMValueRef y) {
  LLVMValueRef nan = LLVMBuildFCmp(e->b, LLVMRealUNO, a, a, "");
  return LLVMBuildSelect(e->b, nan, a, y, "");
}

/* exp on f32, inline for the same reason as erf (softmax and tanh are made
 * of it).  Overflow gives +inf, below EXP_LO 0; NaN stays NaN. */
static LLVMValueRef exp_f32(Em *e, const IrType *t, LLVMTypeRef ct, LLVMValueRef a) {
  LLVMValueRef y = exp_in_range(e, t, ct, clamp(e, t, ct, a, EXP_LO, EXP_HI), true);
  LLVMValueRef over = LLVMBuildFCmp(e->b, LLVMRealOGT, a, f32_like(e, t, EXP_HI), "");
  y = LLVMBuildSelect(e->b, over, f32_like(e, t, INFINITY), y, "");
  LLVMValueRef under = LLVMBuildFCmp(e->b, LLVMRealOLT, a, f32_like(e, t, EXP_LO), "");
  y = LLVMBuildSelect(e->b, under, f32_like(e, t, 0.0), y, "");
  return keep_nan(e, a, y);
}

/* sigmoid on f32, 1 / (1 + e^-a), inline: SiLU's cost in EfficientNet's
 * convolutions was its exp's selects and second scale factor.  e^-a is
 * clamped to [EXP_LO, EXP_HI], with one scale factor: below, 1 / (1 +
 * e^EXP_LO) is 1 in f32; from a = -88.37 down, e^-a is +inf and the result
 * 0 instead of a subnormal (under 4e-39).  NaN stays NaN. */
static LLVMValueRef sigmoid_f32(Em *e, const IrType *t, LLVMTypeRef ct, LLVMValueRef a) {
  LLVMValueRef u = clamp(e, t, ct, LLVMBuildFNeg(e->b, a, ""), EXP_LO, EXP_HI);
  LLVMValueRef one = f32_like(e, t, 1.0);
  LLVMValueRef y = LLVMBuildFDiv(e->b, one,
                                 LLVMBuildFAdd(e->b, one, exp_in_range(e, t, ct, u, false), ""), "");
  return keep_nan(e, a, y);
}

/* tanh on f32, inline: x + x^3 P(x^2) below |x| = 0.625 (Cephes tanhf's
 * coefficients; no cancellation near 0), else sign(x) (1 - e)/(1 + e) with
 * e = exp(-2|x|) <= 1 (no overflow; below EXP_LO, e is about 1e-38 instead
 * of 0, the same 1 in f32).  Within a few ulp; NaN stays NaN. */
static LLVMValueRef tanh_f32(Em *e, const IrType *t, LLVMTypeRef ct, LLVMValueRef a) {
  static const double poly[] = {-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2,
                                1.33314422036e-1, -3.33332819422e-1};
  LLVMValueRef ax = em_intrinsic(e, "llvm.fabs", &ct, 1, &a, 1);
  LLVMValueRef z = LLVMBuildFMul(e->b, a, a, "");
  LLVMValueRef small = fmuladd(e, ct, LLVMBuildFMul(e->b, a, z, ""),
                               horner(e, t, ct, z, poly, 5), a);
  LLVMValueRef m2ax = LLVMBuildFMul(e->b, ax, f32_like(e, t, -2.0), "");
  LLVMValueRef ex = exp_in_range(e, t, ct, clamp(e, t, ct, m2ax, EXP_LO, 0.0), false);
  LLVMValueRef one = f32_like(e, t, 1.0);
  LLVMValueRef big = LLVMBuildFDiv(e->b, LLVMBuildFSub(e->b, one, ex, ""),
                                   LLVMBuildFAdd(e->b, one, ex, ""), "");
  big = call2(e, "llvm.copysign", ct, big, a);
  LLVMValueRef is_small = LLVMBuildFCmp(e->b, LLVMRealOLT, ax, f32_like(e, t, 0.625), "");
  return keep_nan(e, a, LLVMBuildSelect(e->b, is_small, small, big, ""));
}

/* erf on f32, inline: libm has no vector erff, and lane-by-lane calls made
 * a Transformer's GELU cost as much as its matrix products.  A rational
 * approximation x*P(x^2)/Q(x^2) on [-4, 4] (beyond, erf is +-1 in f32);
 * coefficients as in Eigen's fast erf, errors of a few ulp.  Any shape,
 * scalable vectors included; NaN stays NaN. */
static LLVMValueRef erf_f32(Em *e, const IrType *t, LLVMTypeRef ct, LLVMValueRef a) {
  static const double num[] = {-2.72614225801306e-10, 2.77068142495902e-08,
                               -2.10102402082508e-06, -5.69250639462346e-05,
                               -7.34990630326855e-04, -2.95459980854025e-03,
                               -1.60960333262415e-02};
  static const double den[] = {-1.45660718464996e-05, -2.13374055278905e-04,
                               -1.68282697438203e-03, -7.37332916720468e-03,
                               -1.42647390514189e-02};
  LLVMValueRef x = clamp(e, t, ct, a, -4.0, 4.0);
  LLVMValueRef x2 = LLVMBuildFMul(e->b, x, x, "");
  LLVMValueRef p = horner(e, t, ct, x2, num, 7), q = horner(e, t, ct, x2, den, 5);
  return keep_nan(e, a, LLVMBuildFDiv(e->b, LLVMBuildFMul(e->b, x, p, ""), q, ""));
}

/* Calls libm on x (f32 or f64, scalar or fixed vector: lane by lane). */
static LLVMValueRef libm_call(Em *e, const char *base, IrElem el,
                              const IrType *t, LLVMValueRef x) {
  char name[32];
  snprintf(name, sizeof name, "%s%s", base, el == IR_F32 ? "f" : "");
  LLVMTypeRef st = em_elem_type(e, el), ft;
  LLVMValueRef f = libm_fn(e, name, st, &ft);
  if (t->kind != IR_TYPE_VECTOR) return LLVMBuildCall2(e->b, ft, f, &x, 1, "");
  LLVMValueRef v = LLVMGetPoison(LLVMTypeOf(x));
  for (int i = 0; i < t->lanes; i++) {
    LLVMValueRef k = LLVMConstInt(e->i32, (unsigned)i, 0);
    LLVMValueRef l = LLVMBuildExtractElement(e->b, x, k, "");
    l = LLVMBuildCall2(e->b, ft, f, &l, 1, "");
    v = LLVMBuildInsertElement(e->b, v, l, k, "");
  }
  return v;
}

static bool em_math(Em *e, IrOp *op) {
  const IrType *t = &op->operands[0]->type;
  IrElem el = t->elem;
  size_t m = 0;
  while (maths[m].kind != op->kind) m++;
  if (!ir_elem_is_float(el))
    return em_fail(op, "%s needs float operands, not %s",
                   ir_op_info(op->kind)->name, ir_elem_name(el));
  /* erf, exp, tanh and sigmoid on f32 (and f16/bf16 through it) are
   * computed inline so that they vectorize (erf_f32 and those above it) */
  bool inline_f32 = ir_elem_size(el) <= 4 && (op->kind == IR_OP_M_ERF ||
                                               op->kind == IR_OP_M_EXP ||
                                               op->kind == IR_OP_M_TANH ||
                                               op->kind == IR_OP_M_SIGMOID);
  if (!maths[m].intrinsic && !inline_f32 && t->kind == IR_TYPE_VECTOR && t->scalable)
    return em_fail(op, "%s on scalable vectors is not supported by code generation yet",
                   ir_op_info(op->kind)->name);
  IrElem ce = ir_elem_size(el) == 2 ? IR_F32 : el; /* f16/bf16 via float */
  LLVMValueRef args[2];
  for (int i = 0; i < op->num_operands; i++) {
    args[i] = em_val(e, op->operands[i]);
    if (ce != el) args[i] = em_fpext(e, args[i], t, el, ce);
  }
  LLVMTypeRef ct = like(e, t, ce);
  const char *intr = maths[m].intrinsic;
  /* Helium (thumbv8.1m, cortex-m55): LLVM 19 aborts selecting a vector
   * roundeven and calls roundevenf for a scalar one.  rint rounds the same
   * in the default rounding mode (to nearest, ties to even), which
   * bare-metal code does not change: VRINTX on q or s registers. */
  if (op->kind == IR_OP_M_ROUND && !strncmp(LLVMGetTarget(e->mod), "thumbv8.1m", 10))
    intr = "llvm.rint";
  LLVMValueRef x = NULL;
  if (inline_f32) {
    switch (op->kind) {
    case IR_OP_M_ERF: x = erf_f32(e, t, ct, args[0]); break;
    case IR_OP_M_EXP: x = exp_f32(e, t, ct, args[0]); break;
    case IR_OP_M_TANH: x = tanh_f32(e, t, ct, args[0]); break;
    default: x = sigmoid_f32(e, t, ct, args[0]); break;
    }
  } else if (op->kind == IR_OP_M_SIGMOID) {
    LLVMValueRef one = LLVMConstReal(em_elem_type(e, ce), 1.0);
    if (t->kind == IR_TYPE_VECTOR) one = splat(e, one, t);
    LLVMValueRef nx = LLVMBuildFNeg(e->b, args[0], "");
    x = LLVMBuildFDiv(e->b, one, LLVMBuildFAdd(e->b, one, em_intrinsic(e, intr, &ct, 1, &nx, 1), ""), "");
  } else {
    x = intr ? em_intrinsic(e, intr, &ct, 1, args, op->num_operands)
             : libm_call(e, maths[m].libm, ce, t, args[0]);
  }
  if (ce != el) x = em_fptrunc(e, x, t, el);
  em_set(e, op->results[0], x);
  return true;
}

/* ------------------------------------------------------------------- vec */
static bool em_vreduce(Em *e, IrOp *op) {
  IrValue *a = op->operands[0];
  IrElem el = a->type.elem;
  const char *kind = ir_attr_string(op, "kind", "");
  bool f = ir_elem_is_float(el), s = ir_elem_is_signed(el);
  LLVMValueRef v = em_val(e, a), x;
  LLVMTypeRef vt = LLVMTypeOf(v);
  if (f && (!strcmp(kind, "add") || !strcmp(kind, "mul"))) {
    bool add = kind[0] == 'a';
    LLVMValueRef args[2] = {LLVMConstReal(em_elem_type(e, el), add ? -0.0 : 1.0), v};
    x = em_intrinsic(e, add ? "llvm.vector.reduce.fadd" : "llvm.vector.reduce.fmul",
                     &vt, 1, args, 2);
    LLVMSetFastMathFlags(x, LLVMFastMathAllowReassoc); /* a tree, not a chain */
  } else {
    const char *name = !strcmp(kind, "add") ? "llvm.vector.reduce.add"
                     : !strcmp(kind, "mul") ? "llvm.vector.reduce.mul"
                     : !strcmp(kind, "max") ? (f ? "llvm.vector.reduce.fmax"
                                               : s ? "llvm.vector.reduce.smax"
                                                   : "llvm.vector.reduce.umax")
                     : !strcmp(kind, "min") ? (f ? "llvm.vector.reduce.fmin"
                                               : s ? "llvm.vector.reduce.smin"
                                                   : "llvm.vector.reduce.umin")
                                            : NULL;
    if (!name)
      return em_fail(op, "internal error: vec.reduce with unknown kind '%s'", kind);
    x = em_intrinsic(e, name, &vt, 1, &v, 1);
  }
  em_set(e, op->results[0], x);
  return true;
}

bool em_op_compute(Em *e, IrOp *op, bool *handled) {
  *handled = true;
  switch (op->kind) {
  case IR_OP_CONST: return em_const(e, op);
  case IR_OP_A_ADD: case IR_OP_A_SUB: case IR_OP_A_MUL: case IR_OP_A_DIV:
  case IR_OP_A_REM: case IR_OP_A_MAX: case IR_OP_A_MIN: case IR_OP_A_AND:
  case IR_OP_A_OR: case IR_OP_A_XOR:
    return em_arith2(e, op);
  case IR_OP_A_NEG: case IR_OP_A_ABS: case IR_OP_A_NOT: return em_arith1(e, op);
  case IR_OP_A_FMA: return em_fma(e, op);
  case IR_OP_A_DOT4: return em_dot4(e, op);
  case IR_OP_A_CMP: return em_cmp(e, op);
  case IR_OP_A_SELECT:
    em_set(e, op->results[0],
           LLVMBuildSelect(e->b, em_val(e, op->operands[0]),
                           em_val(e, op->operands[1]), em_val(e, op->operands[2]), ""));
    return true;
  case IR_OP_A_CAST: return em_cast(e, op);
  case IR_OP_A_BITCAST:
    em_set(e, op->results[0], LLVMBuildBitCast(e->b, em_val(e, op->operands[0]),
                                               em_type(e, &op->results[0]->type), ""));
    return true;
  case IR_OP_V_BROADCAST:
    em_set(e, op->results[0], splat(e, em_val(e, op->operands[0]), &op->results[0]->type));
    return true;
  case IR_OP_V_REDUCE: return em_vreduce(e, op);
  default:
    for (size_t i = 0; i < sizeof maths / sizeof maths[0]; i++)
      if (maths[i].kind == op->kind) return em_math(e, op);
    *handled = false;
    return true;
  }
}
