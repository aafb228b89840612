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
 */
#include <string.h>

#include "llvm_int.h"

void riscv64_init(void) {
  LLVMInitializeRISCVTargetInfo();
  LLVMInitializeRISCVTarget();
  LLVMInitializeRISCVTargetMC();
  LLVMInitializeRISCVAsmPrinter();
}

void riscv64_fn_attrs(const TargetRow *t, LLVMContextRef c, LLVMValueRef fn,
                      const char *cpu, const char *features) {
  (void)t, (void)cpu;
  LLVMModuleRef mod = LLVMGetGlobalParent(fn);
  size_t n;
  if (LLVMGetModuleFlag(mod, "target-abi", 10)) return;
  /* Without +d the hard-float ABI is impossible: fall back to lp64. */
  const char *abi = target_feature_on(features, "d", false) ? "lp64d" : "lp64";
  n = strlen(abi);
  LLVMAddModuleFlag(mod, LLVMModuleFlagBehaviorError, "target-abi", 10,
                    LLVMMDStringInContext2(c, abi, n));
}
