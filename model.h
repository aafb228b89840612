/* model.h - the C interface of the compiled model model (tcc). */
#ifndef TCC_MODEL_MODEL_H
#define TCC_MODEL_MODEL_H

#include <stdint.h>
#include <tcc/runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MODEL_ABI_VERSION 1u
#define MODEL_WORKSPACE_SIZE 1024u
#define MODEL_NUM_INPUTS 1
#define MODEL_NUM_OUTPUTS 1

#if defined(__GNUC__) || defined(__clang__)
#define MODEL_MAYBE_UNUSED __attribute__((unused))
#else
#define MODEL_MAYBE_UNUSED
#endif

/* Inputs and outputs (dims as declared; a symbolic dim as NAME=bound, a
 * run-time one as NAME=LO..HI; buffers hold HI):
 *   input 0 "input": f32[1,784], row-major, 3136 bytes
 *   output 0 "probs": f32[1,10], row-major, 40 bytes
 */
static const int64_t model_input0_dims[2] MODEL_MAYBE_UNUSED = {1, 784};
static const tcc_tensor_info model_inputs[1] MODEL_MAYBE_UNUSED = {
  {"input", 1, 2, model_input0_dims, 0, 3136u},
};
static const int64_t model_output0_dims[2] MODEL_MAYBE_UNUSED = {1, 10};
static const tcc_tensor_info model_outputs[1] MODEL_MAYBE_UNUSED = {
  {"probs", 1, 2, model_output0_dims, 0, 40u},
};

/* Runs the model; 0 or a tcc_status.  Outputs must not overlap inputs,
 * each other or the workspace. */
int model_run(const tcc_ctx *ctx, const void *const inputs[],
    void *const outputs[]);

static inline int model_infer(const tcc_ctx *ctx,
    const float *input,
    float *probs) {
  const void * const inputs[1] = {input};
  void * const outputs[1] = {probs};
  return model_run(ctx, inputs, outputs);
}

#ifdef __cplusplus
}
#endif
#endif
