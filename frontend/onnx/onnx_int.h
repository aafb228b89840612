/* onnx_int.h — private to frontend/onnx: the loader's context and helpers.
 *
 * Exports by file:
 *   onnx_load.c    (entry points only; see onnx.h)
 *   onnx_graph.c   onnx_map_*, onnx_graph_*        value map, nodes -> ops
 *   onnx_weight.c  onnx_weight_*                   initializers, constants
 *   onnx_tensor.c  onnx_tp_*, onnx_file_*, onnx_dtype_name
 *   onnx_sequence.c onnx_*sequence*                sequences, optionals
 *   onnx_msdomain.c onnx_ms_node                    com.microsoft's quantized ops
 */
#ifndef TCC_ONNX_INT_H
#define TCC_ONNX_INT_H

#include <string.h>

#include "onnx.h"
#include "onnx.pb-c.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tcc's ONNX frontend assumes a little-endian host"
#endif

/* Per-tensor limit (documented in docs/frontend.md). */
#define ONNX_MAX_NUMEL 0xffffffffull

/* size bytes from arena a at a 64-byte aligned address (absolute: the
 * arena aligns within malloc'd chunks, which are only 16-aligned). */
static inline void *onnx_alloc64(IrArena *a, size_t size) {
  uintptr_t p = (uintptr_t)ir_arena_alloc(a, size + 64);
  return (void *)((p + 63) & ~(uintptr_t)63);
}

/* The IR element type of an ONNX data type code; UNDEFINED (0) and unknown
 * codes are IR_ELEM_NONE (ir_elem_from_onnx maps 0 to the IR-only index
 * type, which has no ONNX code). */
static inline IrElem onnx_elem(int64_t dtype) {
  return dtype > 0 && dtype <= 64 ? ir_elem_from_onnx((int)dtype) : IR_ELEM_NONE;
}

/* The default operator set's domain: absent, "" or "ai.onnx". */
static inline bool onnx_is_default_domain(const char *d) {
  return !d || !*d || !strcmp(d, "ai.onnx");
}
/* ------------------------------------------------------------ value map */
/* Open-addressing map from ONNX value names to pointers, cut from an arena. */
typedef struct OnnxMap {
  const char **keys;
  void **vals;
  size_t cap, len;
  IrArena *arena;
} OnnxMap;

void onnx_map_init(OnnxMap *mp, IrArena *a);
void *onnx_map_get(const OnnxMap *mp, const char *key);
void onnx_map_put(OnnxMap *mp, const char *key, void *val); /* replaces */

/* ------------------------------------------------------------- context */
typedef struct OnnxMapped { /* a mapped external-data file */
  const char *location;
  const unsigned char *base;
  size_t size;
} OnnxMapped;

typedef struct OnnxCtx {
  IrModule *m;
  const char *path;         /* arena copy, for every loc */
  const OnnxLoadOptions *o; /* never NULL */
  const char *base_dir;     /* external data folder; NULL: not allowed */
  int opset;                /* of the default domain */
  Onnx__GraphProto *g;
  OnnxMap values;           /* ONNX name -> IrValue* */
  OnnxMap wnames;           /* weight names already taken */
  OnnxMap symvals;          /* ONNX name -> shape value computed from run-time
                               dims (onnx_graph.c; arena set on first use) */
  OnnxMap seqs;             /* ONNX name -> sequence or empty optional
                               (onnx_sequence.c; arena set on first use) */
  IrBlock *block;           /* where ops go: a loop body's region, or NULL
                               for the main function's body */
  const char *iter_suffix;  /* ".i3" inside an unrolled loop body: keeps the
                               names of each copy's values distinct */
  OnnxMapped *files;        /* external data files, mapped once each */
  int num_files, cap_files;
} OnnxCtx;

/* A loc naming only the model file: "PATH: error: ...". */
IrLoc onnx_file_loc(const OnnxCtx *c);
/* A loc naming a node: "PATH: node 'X' (Op, opset N): error: ...". */
IrLoc onnx_node_loc(const OnnxCtx *c, const Onnx__NodeProto *n);

/* onnx_graph.c: topological order, nodes -> ops, return op and outputs. */
bool onnx_graph_build(OnnxCtx *c);
/* A node's operands by name ("" an absent optional input, NULL entries;
 * trailing ones dropped), or NULL after a diagnostic. */
IrValue **onnx_node_operands(OnnxCtx *c, const Onnx__NodeProto *n, const IrLoc *loc,
                             size_t *count);
/* Copies a node's attributes onto op; false after a diagnostic. */
bool onnx_node_attrs(OnnxCtx *c, const Onnx__NodeProto *n, IrOp *op, const IrLoc *loc);
/* onnx_msdomain.c: a node of the com.microsoft domain (ONNX Runtime's
 * quantized ops), built from ONNX ops; false after a diagnostic. */
bool onnx_ms_node(OnnxCtx *c, const Onnx__NodeProto *n, const IrLoc *loc);
/* One tensor op built by the frontend (not from a node): imported in the
 * form of `opset`, typed and folded; its first result, NULL after a
 * diagnostic. */
IrValue *onnx_emit(OnnxCtx *c, IrOp *op, const IrLoc *loc, int opset);
/* A scalar constant of element type e. */
IrValue *onnx_const_int(OnnxCtx *c, IrElem e, int64_t v);
/* A one-element weight's value as an integer; false when v is not one. */
bool onnx_known_int(const IrValue *v, int64_t *out);
/* parts (same type) stacked along a new axis; `what` names them in errors. */
IrValue *onnx_stack(OnnxCtx *c, IrValue **parts, int n, int axis, const IrLoc *loc,
                    const char *what);
/* onnx_sequence.c: sequence and optional ops, resolved at import. */
bool onnx_is_sequence_op(const char *op);
bool onnx_sequence_node(OnnxCtx *c, const Onnx__NodeProto *n, const IrLoc *loc);
/* Is s usable as an IR attribute or symbol name? */
bool onnx_ir_name_ok(const char *s);

/* onnx_weight.c */
bool onnx_weight_initializers(OnnxCtx *c);
/* A weight name from hint: identifier characters only, unique. */
const char *onnx_weight_name(OnnxCtx *c, const char *hint);
/* A weight from a TensorProto, named after hint (sanitized, made unique).
 * label names the tensor in messages ("initializer 'W'"). */
IrWeight *onnx_weight_from_tensor(OnnxCtx *c, const Onnx__TensorProto *tp,
                                  const char *hint, const IrLoc *loc,
                                  const char *label);
/* A Constant node -> a weight; returns its value (NULL after a diagnostic). */
IrValue *onnx_weight_constant(OnnxCtx *c, const Onnx__NodeProto *n);

/* ------------------------------------------------- onnx_tensor.c: data */
typedef struct OnnxTpInfo {
  IrType type;      /* static tensor type */
  uint64_t numel, nbytes; /* nbytes: in memory, one byte per sub-byte element */
  uint64_t stored;  /* bytes of the data as stored: sub-byte types packed */
  bool external;    /* data_location EXTERNAL: length not checked */
} OnnxTpInfo;

/* Checks dtype, dims and (unless external) that the stored data has
 * exactly nbytes; false after a diagnostic at loc naming label. */
bool onnx_tp_check(const Onnx__TensorProto *tp, const IrLoc *loc,
                   const char *label, OnnxTpInfo *info);
/* The per-tensor limit on a static type: false after "LABEL: the element
 * count of its shape overflows" or "LABEL has N elements; tcc supports at
 * most ...".  Types with a symbolic or unknown dim pass; numel may be NULL. */
bool onnx_check_numel(const IrType *t, const IrLoc *loc, const char *label,
                      uint64_t *numel);
/* The same where a run-time dim counts at its upper bound (m's syms). */
bool onnx_check_numel_bound(const IrModule *m, const IrType *t, const IrLoc *loc,
                            const char *label, uint64_t *numel);
/* The raw_data bytes when the tensor stores them (dense already), else NULL. */
const void *onnx_tp_raw(const Onnx__TensorProto *tp);
/* Writes the dense little-endian data of a checked, non-external tensor. */
void onnx_tp_fill(const Onnx__TensorProto *tp, const OnnxTpInfo *info,
                  void *dst);
const char *onnx_dtype_name(int dtype); /* "FLOAT", "STRING", ... */

/* A read-only mapping of a whole file (base NULL when size is 0). */
typedef struct OnnxFile {
  const unsigned char *base;
  size_t size;
} OnnxFile;
/* False after "LOC: error: [WHAT: ]cannot open 'PATH': REASON" (loc NULL:
 * the path itself). */
bool onnx_file_map(const char *path, const IrLoc *loc, const char *what,
                   OnnxFile *f);
void onnx_file_unmap(OnnxFile *f);
/* A serialized protobuf (model or TensorProto file) is below 2 GiB, the
 * format's limit: a larger file (a huge or sparse one) is refused before
 * parsing, which would otherwise copy or walk all of it. */
#define ONNX_MAX_PROTOBUF_BYTES 2147483647u
bool onnx_file_size_ok(const char *path, const OnnxFile *f);

#endif
