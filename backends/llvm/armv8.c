/*
 * armv8.c — what is particular to the armv8 (AArch64) target.
 *
 * The baseline is LLVM's `generic` AArch64 CPU with NEON, which every
 * ARMv8-A core has; -mcpu=cortex-a72 and -mattr=+dotprod,+fullfp16 pass
 * through to LLVM.  Nothing else differs from x86_64: the loops LLVM
 * vectorizes become NEON code (fmla v.4s) on their own, but for the int8
 * kernels' arith.dot4, which takes sdot with +dotprod (usdot with +i8mm).
 */
#include "llvm_int.h"

void armv8_init(void) {
  LLVMInitializeAArch64TargetInfo();
  LLVMInitializeAArch64Target();
  LLVMInitializeAArch64TargetMC();
  LLVMInitializeAArch64AsmPrinter();
}

/* arith.dot4 on 128-bit vectors with the dot-product instructions. */
void armv8_sched(const TargetRow *t, const char *cpu, const char *features, SchedTarget *out) {
  (void)t, (void)cpu;
  if (target_feature_on(features, "dotprod", false) || target_feature_on(features, "i8mm", false))
    out->dot4_bits = 128;
}
