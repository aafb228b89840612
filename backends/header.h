/* header.h — the C header that describes one compiled model (header.c). */
#ifndef TCC_HEADER_H
#define TCC_HEADER_H

#include "ir.h"

/* The weights blob of --weights=external, as the header names it. */
typedef struct HeaderWeights {
  uint64_t id, data_size;
} HeaderWeights;

/* Text of <name>.h for the lowered, planned module; malloc'd.  It declares
 * <name>_run, the typed wrapper, and per input/output: name, element type,
 * shape (symbols with bounds), byte size; the workspace size; the ABI; with
 * external weights (ext not NULL), the blob's id and size and
 * <name>_check_weights. */
char *header_emit(const IrModule *m, const HeaderWeights *ext);
/* The bytes of the caller's buffer for an input or output of type t (at
 * its run-time dims' upper bounds; sub-byte types packed as ONNX packs
 * them): the header's figure. */
uint64_t header_tensor_bytes(const IrModule *m, const IrType *t);

#endif
