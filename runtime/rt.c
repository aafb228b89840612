/* rt.c — the runtime: argument checks and status texts.  No malloc, no I/O. */
#include "tcc/runtime.h"

const char *tcc_status_str(int status) {
  switch (status) {
  case TCC_OK: return "ok";
  case TCC_ERR_NULL_ARGUMENT: return "null argument";
  case TCC_ERR_ABI_MISMATCH: return "ABI version mismatch";
  case TCC_ERR_WORKSPACE_TOO_SMALL: return "workspace too small";
  case TCC_ERR_WORKSPACE_MISALIGNED: return "workspace misaligned";
  case TCC_ERR_DIM_OUT_OF_RANGE: return "dimension out of range";
  case TCC_ERR_INDEX_OUT_OF_RANGE: return "index out of range";
  case TCC_ERR_WEIGHTS_MISSING: return "weights missing";
  case TCC_ERR_WEIGHTS_MISMATCH: return "weights not made for this code";
  case TCC_ERR_WEIGHTS_CHECKSUM: return "weights checksum mismatch";
  case TCC_ERR_WEIGHTS_MISALIGNED: return "weights misaligned";
  default: return "unknown status";
  }
}

int tcc_rt_check(const tcc_ctx *ctx, uint32_t model_abi, uint64_t workspace_needed,
                 int num_inputs, const void *const inputs[], int num_outputs,
                 void *const outputs[]) {
  if (!ctx) return TCC_ERR_NULL_ARGUMENT;
  if (ctx->abi_version != model_abi) return TCC_ERR_ABI_MISMATCH;
  if (ctx->workspace_size < workspace_needed) return TCC_ERR_WORKSPACE_TOO_SMALL;
  if (workspace_needed && !ctx->workspace) return TCC_ERR_NULL_ARGUMENT;
  if ((uintptr_t)ctx->workspace % TCC_WORKSPACE_ALIGN) return TCC_ERR_WORKSPACE_MISALIGNED;
  if ((num_inputs && !inputs) || (num_outputs && !outputs)) return TCC_ERR_NULL_ARGUMENT;
  for (int i = 0; i < num_inputs; i++)
    if (!inputs[i]) return TCC_ERR_NULL_ARGUMENT;
  for (int i = 0; i < num_outputs; i++)
    if (!outputs[i]) return TCC_ERR_NULL_ARGUMENT;
  return TCC_OK;
}
