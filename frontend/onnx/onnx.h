/*
 * onnx.h — the ONNX frontend: model bytes in, verified tensor-level IR out.
 *
 * Exports by file:
 *   onnx_load.c    onnx_load_file, onnx_load_memory   ModelProto -> IrModule
 *   onnx_tensor.c  onnx_tensor_*                       TensorProto <-> memory
 *   onnx_export.c  onnx_export_qdq                     IrModule's file + quantize log -> bytes
 */
#ifndef TCC_ONNX_H
#define TCC_ONNX_H

#include "ir.h"

/* -shape=NAME:1x3x224x224 (rank 0 allowed) and -dim=PARAM=VALUE or
 * -dim=PARAM=LO..HI (a run-time dim: value -1, any size in lo..hi). */
typedef struct OnnxShapeBinding {
  const char *name;
  int rank;
  int64_t dims[IR_MAX_RANK];
  bool used; /* set by the loader; unused bindings are an error */
} OnnxShapeBinding;

typedef struct OnnxDimBinding {
  const char *param;
  int64_t value;
  bool used;
  int64_t lo, hi; /* a run-time dim's range (value -1) */
  /* -dim=P=A+B[+N]: P is the sum of the run-time dims A and B and N (value
   * -1): an input such as an attention mask as long as past + seq. */
  const char *sum;
} OnnxDimBinding;

/* -freeze=NAME:FILE.pb: a graph input that becomes a compile-time constant
 * (its value in the file; type and shape must fit the input's). */
struct OnnxTensor;
typedef struct OnnxFrozenInput {
  const char *name;
  const struct OnnxTensor *value;
  bool used;
} OnnxFrozenInput;

typedef struct OnnxLoadOptions {
  const char *model_name;  /* IR module name (a C identifier) */
  const char *base_dir;    /* external data resolves here; NULL: none allowed */
  OnnxShapeBinding *shapes;
  int num_shapes;
  OnnxDimBinding *dims;
  int num_dims;
  OnnxFrozenInput *frozen;
  int num_frozen;
} OnnxLoadOptions;

/* Path is used in diagnostics ("model.onnx: node 'X' (Op, opset N): ...").
 * Returns NULL after emitting diagnostics. */
IrModule *onnx_load_file(const char *path, const OnnxLoadOptions *o);
IrModule *onnx_load_memory(const void *data, size_t size, const char *path,
                           const OnnxLoadOptions *o);

/* One tensor as the ONNX test data stores it (a serialized TensorProto). */
typedef struct OnnxTensor {
  char *name;        /* malloc'd, may be NULL */
  IrElem elem;
  int rank;
  int64_t dims[IR_MAX_RANK];
  void *data;        /* malloc'd, dense little-endian, elem-size elements (a
                        sub-byte type: one byte each, unpacked as the IR holds
                        it; files and the compiled code's buffers pack) */
  size_t nbytes;
} OnnxTensor;

/* Reads a serialized TensorProto; false after a diagnostic naming path. */
bool onnx_tensor_read_file(const char *path, OnnxTensor *t);
bool onnx_tensor_read_memory(const void *data, size_t size, const char *path,
                             OnnxTensor *t);
/* Writes a TensorProto (raw_data) to path; false after a diagnostic. */
bool onnx_tensor_write_file(const char *path, const OnnxTensor *t);
void onnx_tensor_free(OnnxTensor *t);

/* `tcc export`: the model m was read from (IrModule.onnx_model) with the
 * layers of the quantize pass's log in QDQ form; the serialized model in
 * *bytes (malloc'd).  False after a diagnostic naming the node. */
typedef struct OnnxExportStats {
  int layers, pairs;     /* layers written in QDQ form; activation pairs */
  int requantized;       /* weights quantized again from the file's values */
} OnnxExportStats;
bool onnx_export_qdq(const IrModule *m, const QuantizeLog *log, void **bytes,
                     size_t *size, OnnxExportStats *stats);

#endif
