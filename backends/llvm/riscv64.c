/*
 * riscv64.c — what is particular to the riscv64 and riscv64gcv targets.
 *
 * Both use LLVM's `generic-rv64` CPU: rv64gc (+m,+a,+f,+d,+c), and
 * riscv64gcv adds +v, the vector extension 1.0.  RVV code is vector-length
 * agnostic: LLVM's loop vectorizer uses scalable vectors (<vscale x 4 x
 * float>), and the loop IR's own scalable vectors map to the same types, so
 * one object runs on any VLEN (checked under QEMU at 128, 256 and 512).
 *
 * The ABI must be lp64d to link with Debian's riscv64-linux-gnu objects
 * (the linker refuses to mix float ABIs); the module flag "target-abi" says
 * so explicitly instead of trusting LLVM's default for the feature set.
 *
 * With +v, float -> integer casts are rewritten without fptosi/fptoui
 * (rtz_free_casts): LLVM turns those into the vector conversions with the
 * static round-toward-zero mode (vfcvt/vfwcvt/vfncvt.rtz.*), and Debian's
 * QEMU 7.2 aborts translating such an instruction when it is the first
 * floating-point instruction of a translation block (`decode_save_opc:
 * Assertion 'ctx->insn_start != NULL' failed`: its do_opfv sets the rounding
 * mode twice for one instruction, and each change records the opcode).  The
 * rewrite uses llrint (the dynamic rounding mode) and steps its result back
 * toward zero when it went past x: the same values, a few more instructions.
 */
#include <string.h>

#include "llvm_int.h"

void riscv64_init(void) {
  LLVMInitializeRISCVTargetInfo();
  LLVMInitializeRISCVTarget();
  LLVMInitializeRISCVTargetMC();
  LLVMInitializeRISCVAsmPrinter();
}

/* The type `like` (scalar, fixed or scalable vector) with element el. */
static LLVMTypeRef shaped(LLVMTypeRef like, LLVMTypeRef el) {
  switch (LLVMGetTypeKind(like)) {
  case LLVMVectorTypeKind: return LLVMVectorType(el, LLVMGetVectorSize(like));
  case LLVMScalableVectorTypeKind:
    return LLVMScalableVectorType(el, LLVMGetVectorSize(like));
  default: return el;
  }
}

/* Scalar constant c in the shape of `like` (a splat for vectors; the
 * builder folds constant operands, so no instruction is left). */
static LLVMValueRef splat(LLVMBuilderRef b, LLVMValueRef c, LLVMTypeRef like) {
  LLVMTypeKind k = LLVMGetTypeKind(like);
  if (k != LLVMVectorTypeKind && k != LLVMScalableVectorTypeKind) return c;
  LLVMContextRef cx = LLVMGetTypeContext(like);
  LLVMTypeRef i32 = LLVMInt32TypeInContext(cx);
  LLVMValueRef poison = LLVMGetPoison(like);
  LLVMValueRef v = LLVMBuildInsertElement(b, poison, c, LLVMConstInt(i32, 0, 0), "");
  return LLVMBuildShuffleVector(b, v, poison,
                                LLVMConstNull(shaped(like, i32)), "");
}

static LLVMValueRef build_llrint(LLVMBuilderRef b, LLVMModuleRef mod, LLVMValueRef x,
                           LLVMTypeRef it) {
  LLVMTypeRef over[2] = {it, LLVMTypeOf(x)};
  unsigned id = LLVMLookupIntrinsicID("llvm.llrint", 11);
  LLVMValueRef f = LLVMGetIntrinsicDeclaration(mod, id, over, 2);
  LLVMTypeRef ft = LLVMIntrinsicGetType(LLVMGetModuleContext(mod), id, over, 2);
  return LLVMBuildCall2(b, ft, f, &x, 1, "");
}

/* x (float or double lanes) truncated toward zero into i64 lanes.  llrint
 * gives floor(x) or ceil(x), whatever the rounding mode; one step back
 * toward zero when it is past x (then x is not an integer, so the i64 is
 * exact in x's type and the compare is exact).  Unsigned: from 2^63 up x is
 * an integer; convert x - 2^63 (exact) and set the top bit. */
static LLVMValueRef trunc_to_i64(LLVMBuilderRef b, LLVMModuleRef mod,
                                 LLVMValueRef x, bool is_unsigned) {
  LLVMTypeRef ft = LLVMTypeOf(x);
  LLVMTypeRef it = shaped(ft, LLVMInt64TypeInContext(LLVMGetModuleContext(mod)));
  LLVMValueRef zero = LLVMConstNull(ft);
  LLVMValueRef r = build_llrint(b, mod, x, it);
  LLVMValueRef rf = LLVMBuildSIToFP(b, r, ft, "");
  LLVMValueRef dn = LLVMBuildAnd(b, LLVMBuildFCmp(b, LLVMRealOGT, rf, x, ""),
                                 LLVMBuildFCmp(b, LLVMRealOGT, x, zero, ""), "");
  LLVMValueRef up = LLVMBuildAnd(b, LLVMBuildFCmp(b, LLVMRealOLT, rf, x, ""),
                                 LLVMBuildFCmp(b, LLVMRealOLT, x, zero, ""), "");
  r = LLVMBuildSub(b, r, LLVMBuildZExt(b, dn, it, ""), "");
  r = LLVMBuildAdd(b, r, LLVMBuildZExt(b, up, it, ""), "");
  if (!is_unsigned) return r;
  LLVMTypeRef fel = LLVMGetTypeKind(ft) == LLVMVectorTypeKind ||
                            LLVMGetTypeKind(ft) == LLVMScalableVectorTypeKind
                        ? LLVMGetElementType(ft) : ft;
  LLVMValueRef two63 = splat(b, LLVMConstReal(fel, 9223372036854775808.0), ft);
  LLVMValueRef top = splat(b, LLVMConstInt(LLVMInt64TypeInContext(
                                               LLVMGetModuleContext(mod)),
                                           1ull << 63, 0), it);
  LLVMValueRef big = LLVMBuildFCmp(b, LLVMRealOGE, x, two63, "");
  LLVMValueRef hi = build_llrint(b, mod, LLVMBuildFSub(b, x, two63, ""), it);
  return LLVMBuildSelect(b, big, LLVMBuildXor(b, hi, top, ""), r, "");
}

/* Replaces every fptosi/fptoui of fn (see the top of the file). */
static void rtz_free_casts(LLVMContextRef c, LLVMValueRef fn) {
  LLVMModuleRef mod = LLVMGetGlobalParent(fn);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
  for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb;
       bb = LLVMGetNextBasicBlock(bb)) {
    for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i;) {
      LLVMValueRef next = LLVMGetNextInstruction(i);
      LLVMOpcode op = LLVMGetInstructionOpcode(i);
      if (op == LLVMFPToSI || op == LLVMFPToUI) {
        LLVMPositionBuilderBefore(b, i);
        LLVMValueRef x = LLVMGetOperand(i, 0);
        LLVMTypeRef ft = LLVMTypeOf(x), rt = LLVMTypeOf(i);
        LLVMTypeRef fel = LLVMGetTypeKind(ft) == LLVMVectorTypeKind ||
                                  LLVMGetTypeKind(ft) == LLVMScalableVectorTypeKind
                              ? LLVMGetElementType(ft) : ft;
        if (LLVMGetTypeKind(fel) != LLVMFloatTypeKind &&
            LLVMGetTypeKind(fel) != LLVMDoubleTypeKind) /* half: exact in float */
          x = LLVMBuildFPExt(b, x, shaped(ft, LLVMFloatTypeInContext(c)), "");
        LLVMValueRef r = trunc_to_i64(b, mod, x, op == LLVMFPToUI);
        if (LLVMTypeOf(r) != rt) r = LLVMBuildTrunc(b, r, rt, "");
        LLVMReplaceAllUsesWith(i, r);
        LLVMInstructionEraseFromParent(i);
      }
      i = next;
    }
  }
  LLVMDisposeBuilder(b);
}

void riscv64_fn_attrs(const TargetRow *t, LLVMContextRef c, LLVMValueRef fn,
                      const char *cpu, const char *features) {
  (void)t, (void)cpu;
  LLVMModuleRef mod = LLVMGetGlobalParent(fn);
  size_t n;
  if (target_feature_on(features, "v", false)) rtz_free_casts(c, fn);
  if (LLVMGetModuleFlag(mod, "target-abi", 10)) return;
  /* Without +d the hard-float ABI is impossible: fall back to lp64. */
  const char *abi = target_feature_on(features, "d", false) ? "lp64d" : "lp64";
  n = strlen(abi);
  LLVMAddModuleFlag(mod, LLVMModuleFlagBehaviorError, "target-abi", 10,
                    LLVMMDStringInContext2(c, abi, n));
}
