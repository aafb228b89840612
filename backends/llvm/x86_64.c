/*
 * x86_64.c — what is particular to the x86_64 target.
 *
 * LLVM's x86 backend prefers 256-bit vectors even on AVX-512 CPUs (to avoid
 * frequency drops in mixed code).  A tensor kernel is nothing but vector
 * code, so where the CPU has avx512f we ask for 512-bit vectors.
 */
#include "llvm_int.h"

void x86_64_init(void) {
  LLVMInitializeX86TargetInfo();
  LLVMInitializeX86Target();
  LLVMInitializeX86TargetMC();
  LLVMInitializeX86AsmPrinter();
}

/* AVX-512 doubles the vector width and the register count.  VNNI's
 * vpdpbusd (arith.dot4) comes at 512 bits with avx512vnni, at 256 with
 * AVX-VNNI or avx512vnni plus avx512vl.  A feature is seen where the
 * feature string names it (-mattr, or -mcpu=native's host features). */
void x86_64_sched(const TargetRow *t, const char *cpu, const char *features,
                  SchedTarget *out) {
  bool vnni512 = target_feature_on(features, "avx512vnni", false);
  if (target_feature_on(features, "avxvnni", false) ||
      (vnni512 && target_feature_on(features, "avx512vl", false)))
    out->dot4_bits = 256;
  if (!target_feature_on(features, "avx512f", target_cpu_is_wide(t, cpu))) return;
  out->vec_bits = 512;
  out->vec_regs = 32;
  if (vnni512) out->dot4_bits = 512;
}

void x86_64_fn_attrs(const TargetRow *t, LLVMContextRef c, LLVMValueRef fn,
                     const char *cpu, const char *features) {
  bool wide = target_feature_on(features, "avx512f", target_cpu_is_wide(t, cpu));
  if (!wide) return;
  LLVMAttributeRef a = LLVMCreateStringAttribute(c, "prefer-vector-width", 19,
                                                 "512", 3);
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, a);
}
