/*
 * cortex_m.c — what is particular to the cortex-m4 / cortex-m7 targets.
 *
 * Bare-metal Thumb-2 with the hard-float ABI (thumbv7em-none-eabihf): the
 * CPU names the FPU (cortex-m4: single-precision VFPv4; cortex-m7: FPv5),
 * so the default feature list is empty.  Weights go to .rodata (flash on a
 * microcontroller); the workspace is RAM the application provides.  There
 * is no vector unit on these cores (cortex-m55's Helium/MVE is reachable
 * with -mcpu=cortex-m55).
 */
#include "llvm_int.h"

void cortex_m_init(void) {
  LLVMInitializeARMTargetInfo();
  LLVMInitializeARMTarget();
  LLVMInitializeARMTargetMC();
  LLVMInitializeARMAsmPrinter();
}
