/*
 * glue.c — the few exports the web page needs around a compiled model:
 * where to write the input, where to read the output, and run.  Built as a
 * WASI "reactor" (a library: no main), so the page calls the exports after
 * _initialize.  It does no I/O, so the module imports nothing from WASI
 * that the page's shim has to implement for real.
 *
 * The model comes in as -DMODEL=mlp -DMODEL_WORKSPACE=MLP_WORKSPACE_SIZE
 * -include mlp.h: the same glue serves any model with one input and one
 * output compiled with `tcc compile -target=wasm32` (build.sh).
 */
#include <stdlib.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define M(x) CAT(MODEL, x)

static void *workspace, *input, *output;

__attribute__((export_name("model_input")))
void *model_input(void) {
  if (!input) input = calloc(1, M(_inputs)[0].nbytes);
  return input;
}

__attribute__((export_name("model_input_bytes")))
unsigned model_input_bytes(void) { return (unsigned)M(_inputs)[0].nbytes; }

__attribute__((export_name("model_output")))
void *model_output(void) {
  if (!output) output = calloc(1, M(_outputs)[0].nbytes);
  return output;
}

__attribute__((export_name("model_output_bytes")))
unsigned model_output_bytes(void) { return (unsigned)M(_outputs)[0].nbytes; }

/* Runs the model on model_input() into model_output(); a tcc_status. */
__attribute__((export_name("model_run")))
int model_run(void) {
  size_t ws = (MODEL_WORKSPACE + 63) / 64 * 64;
  if (ws && !workspace) workspace = aligned_alloc(TCC_WORKSPACE_ALIGN, ws);
  tcc_ctx ctx = tcc_ctx_init(workspace, MODEL_WORKSPACE);
  const void *in[1] = {model_input()};
  void *out[1] = {model_output()};
  return M(_run)(&ctx, in, out);
}
