/*
 * wasm32.c — what is particular to the wasm32 target.
 *
 * WebAssembly with SIMD128 (LLVM's `generic` CPU, +simd128), linked by
 * clang-19/wasm-ld against wasi-libc.  Pointers and size_t are 32 bits, so
 * the entry point reads tcc_ctx in its 32-bit layout (the emitter takes the
 * pointer-sized integer from the target's data layout).  Weights stay in
 * the default data section: wasm object files have no named read-only
 * sections like ELF's .rodata.*.
 */
#include "llvm_int.h"

void wasm32_init(void) {
  LLVMInitializeWebAssemblyTargetInfo();
  LLVMInitializeWebAssemblyTarget();
  LLVMInitializeWebAssemblyTargetMC();
  LLVMInitializeWebAssemblyAsmPrinter();
}
