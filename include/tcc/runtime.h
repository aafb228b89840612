/*
 * tcc/runtime.h — what a program that calls a tcc-compiled model needs.
 *
 * A compiled model `<name>.o` comes with `<name>.h`, which includes this file
 * and declares `<name>_run(const tcc_ctx *ctx, const void *const inputs[],
 * void *const outputs[])` plus a typed inline wrapper.  The caller owns all
 * memory: inputs, outputs, and a workspace of `<NAME>_WORKSPACE_SIZE` bytes
 * aligned to TCC_WORKSPACE_ALIGN.  Nothing allocates, nothing prints; every
 * failure is a status code.  Calls are reentrant when each concurrent caller
 * passes its own workspace.
 *
 * A model compiled with --weights=external reads its weights from a blob,
 * <name>.weights, that the caller hands over in ctx->weights (checked once
 * with <name>_check_weights, the header's wrapper of tcc_weights_check).
 */
#ifndef TCC_RUNTIME_H
#define TCC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever tcc_ctx or the entry-point convention changes. */
#define TCC_ABI_VERSION 3u
#define TCC_WORKSPACE_ALIGN 64u
/* A weights blob (--weights=external): its address must be a multiple of
 * this; a header of TCC_WEIGHTS_HEADER_SIZE bytes precedes the weights. */
#define TCC_WEIGHTS_ALIGN 64u
#define TCC_WEIGHTS_HEADER_SIZE 64u

typedef enum tcc_status {
  TCC_OK = 0,
  TCC_ERR_NULL_ARGUMENT = 1,        /* ctx, an input or an output is NULL */
  TCC_ERR_ABI_MISMATCH = 2,         /* ctx->abi_version != the model's */
  TCC_ERR_WORKSPACE_TOO_SMALL = 3,  /* ctx->workspace_size < required */
  TCC_ERR_WORKSPACE_MISALIGNED = 4, /* workspace not TCC_WORKSPACE_ALIGN-aligned */
  TCC_ERR_DIM_OUT_OF_RANGE = 5,     /* a run-time dim outside its LO..HI */
  TCC_ERR_INDEX_OUT_OF_RANGE = 6,   /* an index tensor holds a value outside [-n, n-1] */
  TCC_ERR_WEIGHTS_MISSING = 7,      /* external weights: ctx->weights is NULL */
  TCC_ERR_WEIGHTS_MISMATCH = 8,     /* the blob is not one for this code (or is cut short) */
  TCC_ERR_WEIGHTS_CHECKSUM = 9,     /* the blob's CRC-32 does not match its weights */
  TCC_ERR_WEIGHTS_MISALIGNED = 10,  /* ctx->weights not TCC_WEIGHTS_ALIGN-aligned */
} tcc_status;

/* Which node stopped a run with a value-dependent status (an index out of
 * range, a size past its compiled bound).  The generated code fills it
 * only then; for other statuses it is left as it was. */
typedef struct tcc_error_info {
  int32_t status;          /* the status the call returned */
  int32_t reserved;        /* zero */
  const char *node;        /* the ONNX node's name ("" when unnamed) */
  const char *op_type;     /* its ONNX op type, e.g. "Gather" */
} tcc_error_info;

/* Runs body(arg, lo, hi) over [0, n): every index exactly once, in calls
 * on disjoint sub-ranges, possibly on several threads at once, and returns
 * when all have returned.  A model calls it once per run of a parallel loop
 * (n = its trip count); the split never changes the outputs.  NULL in the
 * context: the model calls body(arg, 0, n) itself.  tcc/pool.h has one. */
typedef void (*tcc_parallel_for_fn)(void *user, int64_t n,
                                    void (*body)(void *arg, int64_t lo, int64_t hi),
                                    void *arg);

typedef struct tcc_ctx {
  uint32_t abi_version;   /* set to TCC_ABI_VERSION */
  uint32_t reserved;      /* zero */
  void *workspace;        /* NULL allowed when the model needs 0 bytes */
  size_t workspace_size;  /* bytes available at workspace */
  tcc_parallel_for_fn parallel_for; /* NULL: serial */
  void *parallel_user;    /* its first argument */
  tcc_error_info *error;  /* optional: NULL, or where a failing node is reported */
  const void *weights;    /* --weights=external: the blob <name>.weights; else NULL */
  size_t weights_size;    /* its bytes */
} tcc_ctx;

/* What a generated header says about one input or output. */
typedef struct tcc_tensor_info {
  const char *name;             /* as the ONNX model declares it */
  int32_t elem_type;            /* ONNX TensorProto.DataType code (1 = float) */
  int32_t rank;
  const int64_t *dims;          /* rank sizes, row-major (as declared) */
  const char *const *dim_names; /* per dim: symbol name or NULL; NULL if none */
  uint64_t nbytes;              /* bytes of the dense row-major buffer */
} tcc_tensor_info;

/* A context for the given workspace (abi_version filled in). */
static inline tcc_ctx tcc_ctx_init(void *workspace, size_t workspace_size) {
  tcc_ctx c = {TCC_ABI_VERSION, 0, workspace, workspace_size, 0, 0, 0, 0, 0};
  return c;
}

/* A short English text for a status code ("workspace too small"). */
const char *tcc_status_str(int status);

/* A weights blob, <name>.weights (little-endian fields):
 *    0  8 bytes  magic "TCCW\r\n\x1a\n"
 *    8  u32      format version, 1
 *   12  u32      header size, TCC_WEIGHTS_HEADER_SIZE
 *   16  u64      weights id: the code the blob is made for
 *   24  u64      data size: the bytes after the header
 *   32  u32      CRC-32 of those bytes (zlib's crc32)
 *   36  u32      zero
 *   40  24 bytes the model's name, NUL-padded (for tools; not checked)
 * then the weights, each at a multiple of 64 from the header's end. */
#define TCC_WEIGHTS_MAGIC "TCCW\r\n\x1a\n"
#define TCC_WEIGHTS_FORMAT 1u

/* CRC-32 as zlib's crc32(): crc is 0 to start, or the result so far. */
uint32_t tcc_crc32(uint32_t crc, const void *data, size_t size);

/* Checks a weights blob once, before it is used (from flash, mmap or a
 * buffer the application filled): its header names the code it was made
 * for (weights_id and data_size, the <NAME>_WEIGHTS_ID and
 * <NAME>_WEIGHTS_DATA_SIZE of the model's header), its size covers the
 * weights, and their CRC-32 matches.  TCC_OK or a TCC_ERR_WEIGHTS_*. */
int tcc_weights_check(const void *blob, size_t size, uint64_t weights_id,
                      uint64_t data_size);

/* Called by every generated entry point before it touches memory. */
int tcc_rt_check(const tcc_ctx *ctx, uint32_t model_abi, uint64_t workspace_needed,
                 int num_inputs, const void *const inputs[], int num_outputs,
                 void *const outputs[]);
/* ...and by one with external weights: the blob is there, aligned, and
 * its header is this code's (no checksum: tcc_weights_check did that). */
int tcc_rt_check_weights(const tcc_ctx *ctx, uint64_t weights_id, uint64_t data_size);

#ifdef __cplusplus
}
#endif
#endif
