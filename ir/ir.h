/*
 * ir.h — tcc's typed SSA IR.
 *
 * One IR, two levels.  Tensor-level ops (conv, matmul, add, ...) take and
 * produce tensor values; the `lower` pass rewrites them into loop-level ops
 * (loop.for, mem.load, arith.add, vec.broadcast, ...) that work on buffers,
 * scalars and vectors.  The LLVM backend only ever sees the loop level.
 *
 * Every value has exactly one definition: an op result, a block argument, or
 * a module weight ($name).  Ops hold operands, results, attributes (kept
 * sorted by name) and regions (each region is one block with arguments).
 * Everything is cut from the module's arena and never freed one by one.
 *
 * Exports by file:
 *   arena.c   ir_arena_*                     bump allocator
 *   type.c    ir_elem_*, ir_type_*           element types and types
 *   build.c   ir_module_*, ir_op_*, ir_build_*, ir_attr_*  construction
 *   print.c   ir_print_*                     textual IR
 *   parse.c   ir_parse                       textual IR back into a module
 *   verify.c  ir_verify                      structural and type checks
 *   ops.c     ir_op_info                     the op table built from ops.def
 *   interp.c  ir_interp_*                    loop-level interpreter (folding, oracle)
 *   diag.c    diag_*                         the only writer of diagnostics
 */
#ifndef TCC_IR_H
#define TCC_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---------------------------------------------------------------- arena */
typedef struct IrArena IrArena;
IrArena *ir_arena_new(void);
void ir_arena_free(IrArena *a);
void ir_arena_reset(IrArena *a);
void *ir_arena_alloc(IrArena *a, size_t size);      /* zeroed, 16-aligned */
void *ir_arena_alloc_aligned(IrArena *a, size_t size, size_t align);
char *ir_arena_strdup(IrArena *a, const char *s);
/* FNV-1a of n bytes, continuing from h (IR_HASH_START to begin). */
#define IR_HASH_START 1469598103934665603ull
uint64_t ir_hash(uint64_t h, const void *data, size_t n);
char *ir_arena_strndup(IrArena *a, const char *s, size_t n);
char *ir_arena_printf(IrArena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
size_t ir_arena_bytes(const IrArena *a);

/* ---------------------------------------------------------- diagnostics */
/* A place in a source: an ONNX node, or a line/column of a .tir file. */
typedef struct IrLoc {
  const char *file; /* model or .tir path; NULL when unknown */
  const char *node; /* ONNX node name (may be "") */
  const char *op_type; /* ONNX op type, e.g. "Conv" */
  int opset;        /* 0 when not an ONNX node */
  int line, col;    /* 1-based, 0 when not textual */
  /* the ONNX NodeProto it came from, NULL when unknown: tells nodes apart
   * where names do not (unnamed nodes all share protobuf-c's "") */
  const void *source;
} IrLoc;

/* Do two ops come from the same source node (code generation cuts and
 * shares per node)? */
static inline bool ir_loc_same_node(const IrLoc *a, const IrLoc *b) {
  return a->source || b->source ? a->source == b->source : a->node == b->node;
}

typedef enum DiagLevel { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } DiagLevel;
typedef void (*DiagSink)(void *user, DiagLevel level, const char *message);
/* Route diagnostics somewhere other than stderr (the library API does). */
void diag_set_sink(DiagSink sink, void *user);
/* The sink and error count belong to the calling thread; a thread that
 * works for another (a code generation unit) reports into that thread's
 * state: diag_adopt(the parent's diag_state()), diag_adopt(NULL) to stop. */
typedef struct DiagState DiagState;
DiagState *diag_state(void);
void diag_adopt(DiagState *s);
void diag_at(DiagLevel level, const IrLoc *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* error/warning without a location */
void diag_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int diag_error_count(void);
void diag_reset_count(void);
/* Formats "file: node 'N' (Op, opset K): " or "file:L:C: " into buf. */
void diag_format_loc(char *buf, size_t size, const IrLoc *loc);

/* Internal bug: names file and line, aborts.  Never for user input. */
#define IR_ASSERT(c)                                                        \
  do {                                                                      \
    if (!(c)) ir_assert_fail(__FILE__, __LINE__, #c);                       \
  } while (0)
_Noreturn void ir_assert_fail(const char *file, int line, const char *expr);

/* -------------------------------------------------------- element types */
/* ORDER ELEM: the textual names in type.c follow this order. */
typedef enum IrElem {
  IR_ELEM_NONE,
  IR_F32, IR_F64, IR_F16, IR_BF16,
  IR_I8, IR_I16, IR_I32, IR_I64,
  IR_U8, IR_U16, IR_U32, IR_U64,
  IR_BOOL,
  IR_INDEX, /* loop-level integer index, 64-bit */
  /* 8-bit floats (ONNX FLOAT8*): storage types.  Memory holds the ONNX
   * byte; a loop-level scalar of such a type is that byte (its bit
   * pattern), which only mem.load/store and arith.bitcast (to/from u8)
   * touch; lw_cast converts it to and from f32 (docs/ir.md). */
  IR_F8E4M3FN, IR_F8E4M3FNUZ, IR_F8E5M2, IR_F8E5M2FNUZ,
  IR_F8E8M0, /* a power of two 2^(bits-127); 0xff is NaN */
  /* The sub-byte types (ONNX INT4, UINT4, INT2, UINT2, FLOAT4E2M1): storage
   * types of one byte per element inside (i4/i2 hold the value
   * sign-extended, u4/u2 the value, f4e2m1 its 4-bit code); only a graph's
   * inputs and outputs and data files hold ONNX's packing (docs/ir.md). */
  IR_I4, IR_U4, IR_I2, IR_U2, IR_F4E2M1,
  IR_ELEM_COUNT
} IrElem;

const char *ir_elem_name(IrElem e);           /* "f32" */
IrElem ir_elem_from_name(const char *s, size_t n); /* IR_ELEM_NONE if unknown */
size_t ir_elem_size(IrElem e);                /* bytes in memory (bool = 1) */
bool ir_elem_is_float(IrElem e);
bool ir_elem_is_int(IrElem e);                /* signed/unsigned/index, not bool */
bool ir_elem_is_signed(IrElem e);
bool ir_elem_is_f8(IrElem e);                 /* an 8-bit float storage type */
/* An 8-bit float or f4e2m1: the storage floats lw_cast converts. */
bool ir_elem_is_narrow_float(IrElem e);
bool ir_elem_is_subbyte(IrElem e);            /* i4 u4 i2 u2 f4e2m1 */
bool ir_elem_is_subbyte_int(IrElem e);        /* i4 u4 i2 u2 */
int ir_elem_bits(IrElem e);  /* bits of an element in ONNX's packing (4, 2; else 8 * size) */
/* Bytes of n elements in ONNX's packing: ceil(n * bits / 8), first element
 * in the low bits (n * size for the other types). */
uint64_t ir_elem_packed_bytes(IrElem e, uint64_t n);
/* n elements between one byte each (the IR's form) and ONNX's packing; the
 * padding bits of the last byte are zero; unpacking sign-extends i4/i2. */
void ir_subbyte_pack(IrElem e, const uint8_t *src, uint64_t n, uint8_t *dst);
void ir_subbyte_unpack(IrElem e, const uint8_t *src, uint64_t n, uint8_t *dst);
/* A small float format: mbits mantissa bits, exponent bias, the largest
 * finite code (positive), the NaN code, the infinity code (0: none), uz
 * (no negative zero, 0x80 is NaN) and the sign bit (0x80; 0x08 for
 * f4e2m1, which has no NaN: a NaN gives its "NaN" 0x08, negative zero,
 * with the sign flipping it as in ml_dtypes, and overflow always
 * saturates). */
typedef struct IrF8Format {
  int mbits, bias;
  unsigned max_code, nan_code, inf_code;
  bool uz;
  unsigned sign;
} IrF8Format;
/* NULL unless ir_elem_is_narrow_float (and not e8m0) */
const IrF8Format *ir_f8_format(IrElem e);
/* The exact conversions (round to nearest even; saturate clamps overflow
 * and infinities to the largest finite value, else they give inf or NaN as
 * the format has them).  Also f4e2m1's. */
float ir_f8_to_f32(IrElem e, uint8_t bits);
uint8_t ir_f8_from_f32(IrElem e, float x, bool saturate);
/* e8m0 keeps x's exponent (sign dropped), rounding its mantissa away up,
 * down or to nearest (Cast-24 round_mode); ir_f8_from_f32 rounds up. */
typedef enum IrE8m0Round { IR_E8M0_UP, IR_E8M0_DOWN, IR_E8M0_NEAREST } IrE8m0Round;
uint8_t ir_e8m0_from_f32(float x, bool saturate, IrE8m0Round mode);
IrElem ir_elem_from_onnx(int onnx_dtype);     /* IR_ELEM_NONE if unsupported */
int ir_elem_to_onnx(IrElem e);
/* Reads element i of a buffer of type e as double / int64 (any elem).
 * An 8-bit float or f4e2m1: the _f64 forms convert its value (storing
 * saturates), the _i64 forms move its bit pattern, as the loop level holds
 * it.  i4 u4 i2 u2: one byte per element (the unpacked form); storing a
 * value wraps it into the type's range (Cast's rule). */
double ir_elem_load_f64(IrElem e, const void *base, size_t i);
int64_t ir_elem_load_i64(IrElem e, const void *base, size_t i);
void ir_elem_store_f64(IrElem e, void *base, size_t i, double v);
void ir_elem_store_i64(IrElem e, void *base, size_t i, int64_t v);

/* ---------------------------------------------------------------- types */
typedef enum IrTypeKind {
  IR_TYPE_NONE,
  IR_TYPE_TENSOR, /* f32[1,3,224,224]       tensor-level value */
  IR_TYPE_BUFFER, /* buf f32[1,3,224,224]   loop-level memory */
  IR_TYPE_SCALAR, /* f32, index, bool */
  IR_TYPE_VECTOR, /* <16 x f32>, <vscale x 4 x f32> */
} IrTypeKind;

/* A dimension is a static size or a symbol of the module (sym >= 0). */
typedef struct IrDim {
  int64_t size; /* static size; ignored when sym >= 0 */
  int sym;      /* index into IrModule.syms, or -1 */
} IrDim;

#define IR_MAX_RANK 16

typedef struct IrType {
  IrTypeKind kind;
  IrElem elem;
  int rank;                 /* tensor/buffer */
  IrDim dims[IR_MAX_RANK];  /* tensor/buffer */
  int lanes;                /* vector: lanes (per vscale when scalable) */
  bool scalable;            /* vector: vscale x lanes */
} IrType;

IrType ir_type_scalar(IrElem e);
IrType ir_type_vector(IrElem e, int lanes, bool scalable);
IrType ir_type_tensor(IrElem e, int rank, const int64_t *dims);
IrType ir_type_buffer(IrElem e, int rank, const int64_t *dims);
IrType ir_type_with_kind(IrType t, IrTypeKind kind); /* tensor <-> buffer */
bool ir_type_equal(const IrType *a, const IrType *b);
bool ir_type_is_static(const IrType *t);
/* Element count of a static tensor/buffer; false (no diagnostic) on overflow. */
bool ir_type_numel(const IrType *t, uint64_t *out);
bool ir_type_nbytes(const IrType *t, uint64_t *out);
int64_t ir_type_dim(const IrType *t, int i); /* static size; asserts static */
/* Run-time dimensions.  A sym with a bound value (-dim=N=8) is as good as a
 * static size; one without (-dim=N=1..512, or a data-dependent size) is
 * dynamic: its value is known only when the model runs, and its upper
 * bound `hi` sizes memory. */
struct IrModule;
bool ir_dim_is_dynamic(const struct IrModule *m, IrDim d);
bool ir_type_is_dynamic(const struct IrModule *m, const IrType *t);
/* The fixed size of a dim (static or bound sym), or -1 when dynamic. */
int64_t ir_dim_fixed(const struct IrModule *m, IrDim d);
/* Bytes at the largest sizes the dims can take; false when a dim is
 * unbounded or the size overflows. */
bool ir_type_nbytes_bound(const struct IrModule *m, const IrType *t,
                          uint64_t *out);
/* Has the module a sym without a fixed value (so its entry takes dims)? */
bool ir_module_is_dynamic(const struct IrModule *m);
/* Prints into buf; returns buf.  Symbols print by name when m != NULL. */
const char *ir_type_str(const struct IrModule *m, const IrType *t, char *buf,
                        size_t size);

/* ----------------------------------------------------------- attributes */
typedef enum IrAttrKind {
  IR_ATTR_INT, IR_ATTR_FLOAT, IR_ATTR_STRING,
  IR_ATTR_INTS, IR_ATTR_FLOATS, IR_ATTR_STRINGS,
  IR_ATTR_TYPE, /* an element type, e.g. Cast's `to` */
} IrAttrKind;

typedef struct IrAttr {
  const char *name;
  IrAttrKind kind;
  int64_t i;          /* INT */
  double f;           /* FLOAT */
  const char *s;      /* STRING */
  int n;              /* INTS/FLOATS/STRINGS length */
  int64_t *ints;
  double *floats;
  const char **strings;
  IrElem elem;        /* TYPE */
} IrAttr;

/* --------------------------------------------------------- values & ops */
typedef struct IrOp IrOp;
typedef struct IrBlock IrBlock;
typedef struct IrWeight IrWeight;

typedef struct IrValue {
  int id;              /* unique within the module; printing renumbers */
  IrType type;
  IrOp *def;           /* defining op, or NULL */
  int result_index;    /* index in def->results */
  IrBlock *block;      /* when a block argument */
  IrWeight *weight;    /* when a module weight ($name) */
  const char *name;    /* source name (ONNX value name), may be NULL */
} IrValue;

/* A constant tensor owned by the module.  Data is read-only and owned by
 * the arena or by a mapping of the model file; never copied needlessly. */
struct IrWeight {
  const char *name;    /* printed as $name; a valid identifier */
  IrValue *value;      /* type: tensor */
  const void *data;    /* may be NULL for a declared-only weight (tests) */
  uint64_t nbytes;
  /* Part of the graph's structure (a Constant node, an attribute, a shape,
   * a -freeze value, or folded from only such), not an initializer that
   * training sets: --weights=external keeps such scalars in the code. */
  bool structural;
};

#include "ops.h" /* IrOpKind enum generated from ops.def */
#include "schedule.h" /* SchedProblem, in the sched notes */

struct IrOp {
  IrOpKind kind;
  int num_operands;
  IrValue **operands;  /* an entry may be NULL: an absent optional input */
  int num_results;
  IrValue **results;
  int num_attrs;
  IrAttr *attrs;       /* sorted by name */
  int num_regions;
  IrBlock **regions;
  IrLoc loc;
  IrOp *prev, *next;
  IrBlock *parent;
};

struct IrBlock {
  int num_args;
  IrValue **args;
  IrOp *first, *last;
  IrOp *parent_op;     /* NULL for a function body */
};

/* A symbolic dimension: a name, bounds, and the value bound by -dim/-shape. */
#define IR_SYM_MAX_TERMS 4
typedef struct IrSym {
  const char *name;
  int64_t lo, hi;      /* hi < 0: unbounded */
  int64_t value;       /* bound value, or -1 */
  /* A sum (num_terms > 0): the value is terms' values + offset, set by the
   * entry before any access (a KV cache's past + seq; docs/ir.md). */
  int num_terms;
  int terms[IR_SYM_MAX_TERMS];
  int64_t offset;
} IrSym;

/* The entry function.  At tensor level its body ends in `return`; at loop
 * level outputs are buffer arguments after the inputs and there is no
 * return value. */
typedef struct IrFunc {
  const char *name;        /* "main" */
  IrBlock *body;
  int num_inputs;          /* body->args[0 .. num_inputs) */
  int num_outputs;
  const char **input_names;
  const char **output_names;
  IrType *output_types;    /* tensor-level types of outputs */
  /* Per input, or NULL: a line the generated header adds to the input's
   * description (-preprocess's conversion, src/preprocess.c). */
  const char **input_notes;
  bool lowered;            /* loop level: body args = inputs then outputs */
  int64_t workspace_size;  /* bytes, set by plan-memory; -1 before */
} IrFunc;

typedef struct IrModule {
  IrArena *arena;
  const char *name;        /* module name (C identifier) */
  IrWeight **weights;
  int num_weights, cap_weights;
  IrSym *syms;
  int num_syms, cap_syms;
  IrFunc *main;
  int next_value_id;
  const char *source;      /* model path, for diagnostics */
  /* The ONNX ModelProto it was read from, in its arena (NULL: .tir):
   * IrLoc.source points into it; `tcc export` writes it back. */
  const void *onnx_model;
  /* -index-checks=0: lowerings emit no rt.check over index tensors (an
   * out-of-range index is then clamped). */
  bool no_index_checks;
  struct IrCleanup *cleanups; /* run by ir_module_free, newest first */
  /* The files the module was read from besides the model (external data),
   * as absolute paths: a build system's dependencies (--depfile). */
  const char **data_files;
  int num_data_files, cap_data_files;
  /* What the lowering chose for each source node's kernel ("packed GEMM,
   * tile 6x16, ..."), for the compile report (--report); a node without a
   * note was lowered to plain loops. */
  struct IrKernelNote *kernel_notes;
  int num_kernel_notes, cap_kernel_notes;
  /* Per top-level tensor op, in order, as `lower` met it: the layers of
   * a profile (rt.mark {layer=K}) and the problems `tcc tune` searches. */
  struct IrSchedNote *sched_notes;
  int num_sched_notes;
} IrModule;

typedef struct IrSchedNote {
  IrLoc loc;
  const char *op;       /* the tensor op's name */
  const char *key;      /* ir_print_op_signature */
  SchedProblem problem; /* kind SCHED_KIND_NONE: the op asked nothing */
} IrSchedNote;

typedef struct IrKernelNote {
  IrLoc loc;
  const char *text;
} IrKernelNote;

/* What passes/quantize.c did to each layer it quantized from calibration
 * (not the QDQ-fed ones), for `tcc export` (frontend/onnx/onnx_export.c;
 * here, since the frontend reads it and never depends on passes): the ONNX
 * node, its input's u8 parameters, and the i8 weight in the layout the
 * node reads (a Conv's [M, C, kh, kw], a MatMul's [K, N], a Gemm's B as
 * transB has it) with one scale per index of `axis`. */
typedef struct QuantizedLayer {
  const void *node; /* the ONNX NodeProto (IrLoc.source); NULL: none */
  const char *node_name;
  float x_scale;
  int x_zero_point;
  int axis, rank;
  int64_t dims[4];
  int8_t *q;     /* malloc'd */
  float *scale;  /* malloc'd, dims[axis] of them */
} QuantizedLayer;
typedef struct QuantizeLog {
  QuantizedLayer *layers; /* malloc'd */
  int num, cap;
} QuantizeLog;
/* The int8 forms' weight rule (ir/ops/quant.c), which the quantize pass and
 * `tcc export` share: per output channel, symmetric, scale max|w| / 127 (1
 * for an all-zero channel), q = round(w / scale) in [-127, 127]; element i
 * of the numel belongs to channel (i / inner) % channels.  With exact, a
 * channel already on a coarser i8 grid of its own keeps that grid. */
void ir_quantize_weight(const float *w, uint64_t numel, int64_t channels, uint64_t inner,
                        bool exact, int8_t *q, float *scale);

/* -------------------------------------------------------- construction */
IrModule *ir_module_new(const char *name);
void ir_module_free(IrModule *m);  /* frees the arena and all it holds */
/* Calls fn(p, n) when m is freed: releases what weights borrow (a mapping). */
void ir_module_on_free(IrModule *m, void (*fn)(void *p, size_t n), void *p,
                       size_t n);
/* A read-only private file mapping that weights borrow: unmapped when m is
 * freed. */
void ir_module_add_mapping(IrModule *m, const void *p, size_t n);
/* Records a file the module's data comes from (copied into the arena;
 * once per path). */
void ir_module_add_data_file(IrModule *m, const char *path);
/* Records the kernel chosen for loc's node (the first note per node
 * counts); text is copied. */
void ir_module_note_kernel(IrModule *m, const IrLoc *loc, const char *text);
/* The note of the node op came from, or NULL. */
const char *ir_module_kernel_of(const IrModule *m, const IrLoc *loc);
/* Lets go of the resident pages of w's data when they lie in such a
 * mapping (a weight that was packed into a copy and is not read again
 * until the object is written): compile memory then holds the weights
 * about once.  Reading the data again still works. */
void ir_weight_release_pages(const IrModule *m, const IrWeight *w);
IrFunc *ir_func_new(IrModule *m, const char *name);
IrValue *ir_value_new(IrModule *m, IrType type);
IrValue *ir_block_add_arg(IrModule *m, IrBlock *b, IrType type);
IrBlock *ir_block_new(IrModule *m);
/* Adds a weight; data is borrowed (must outlive the module) unless copy. */
IrWeight *ir_weight_add(IrModule *m, const char *name, IrType type,
                        const void *data, uint64_t nbytes, bool copy);
IrWeight *ir_weight_find(const IrModule *m, const char *name);
int ir_sym_add(IrModule *m, const char *name, int64_t lo, int64_t hi);
int ir_sym_find(const IrModule *m, const char *name);
/* The dim dims[0] + ... + dims[n-1]: static when all are static (or bound
 * syms), else the sum sym of their run-time terms, found or created
 * (`past + seq` and `seq + past` are one sym).  IrDim{-1, -1} when it has
 * more than IR_SYM_MAX_TERMS terms. */
IrDim ir_dim_sum(IrModule *m, int n, const IrDim *dims);
/* Adds the sum sym of terms + offset (terms sorted, none a sum). */
int ir_sym_add_sum(IrModule *m, const int *terms, int num_terms, int64_t offset);

/* Creates an op with num_results fresh results of the given types. */
IrOp *ir_op_new(IrModule *m, IrOpKind kind, int num_operands,
                IrValue *const *operands, int num_results,
                const IrType *result_types);
void ir_op_set_operand(IrModule *m, IrOp *op, int i, IrValue *v);
IrBlock *ir_op_add_region(IrModule *m, IrOp *op);
void ir_block_append(IrBlock *b, IrOp *op);
void ir_block_insert_before(IrBlock *b, IrOp *before, IrOp *op);
void ir_op_remove(IrOp *op);        /* unlinks; memory stays in the arena */
/* Replaces every use of from with to in f (including nested regions). */
void ir_replace_uses(IrFunc *f, IrValue *from, IrValue *to);
bool ir_value_has_uses(IrFunc *f, const IrValue *v);

/* Attributes: set keeps the list sorted and replaces an existing name. */
void ir_attr_set_int(IrModule *m, IrOp *op, const char *name, int64_t v);
void ir_attr_set_float(IrModule *m, IrOp *op, const char *name, double v);
void ir_attr_set_string(IrModule *m, IrOp *op, const char *name, const char *v);
void ir_attr_set_ints(IrModule *m, IrOp *op, const char *name, int n,
                      const int64_t *v);
void ir_attr_set_floats(IrModule *m, IrOp *op, const char *name, int n,
                        const double *v);
void ir_attr_set_strings(IrModule *m, IrOp *op, const char *name, int n,
                         const char *const *v);
void ir_attr_set_type(IrModule *m, IrOp *op, const char *name, IrElem e);
void ir_attr_set(IrModule *m, IrOp *op, const IrAttr *a); /* copies */
void ir_attr_remove(IrOp *op, const char *name);
const IrAttr *ir_attr_get(const IrOp *op, const char *name);
int64_t ir_attr_int(const IrOp *op, const char *name, int64_t dflt);
double ir_attr_float(const IrOp *op, const char *name, double dflt);
const char *ir_attr_string(const IrOp *op, const char *name, const char *dflt);
/* INTS attribute: returns count (or -1 if absent), *out points into op. */
int ir_attr_ints(const IrOp *op, const char *name, const int64_t **out);

/* Walk every op of a block and its nested regions, in order (pre-order).
 * The callback may not unlink ops other than the one it is given. */
typedef void (*IrWalkFn)(IrOp *op, void *user);
void ir_walk(IrBlock *b, IrWalkFn fn, void *user);

/* --------------------------------------------------------------- builder */
/* Inserts new ops into a block, before `before` (or at the end when NULL). */
typedef struct IrBuilder {
  IrModule *m;
  IrBlock *block;
  IrOp *before;
  IrLoc loc;  /* stamped on every op it creates */
} IrBuilder;

IrBuilder ir_builder_at_end(IrModule *m, IrBlock *b);
IrBuilder ir_builder_before(IrModule *m, IrOp *op);
IrOp *ir_build(IrBuilder *b, IrOpKind kind, int num_operands,
               IrValue *const *operands, int num_results,
               const IrType *result_types);
/* Single-result shorthand: returns the result. */
IrValue *ir_build1(IrBuilder *b, IrOpKind kind, int num_operands,
                   IrValue *const *operands, IrType result_type);

/* -------------------------------------------------------- text and checks */
/* print(parse(print(m))) == print(m) holds for every module. */
void ir_print_module(const IrModule *m, FILE *out);
char *ir_print_module_str(const IrModule *m); /* malloc'd; caller frees */
/* The module as its code sees it: without source locations and weight
 * values, so two models that differ only there print the same. */
char *ir_print_code_str(const IrModule *m);
/* An op without its values and regions: "fused_conv {act="relu", ...}
 * (f32[1,64,56,56], ...) -> (f32[...])", the same for every op that
 * computes the same thing on data of the same types: a schedule's key in
 * tuning logs.  malloc'd. */
char *ir_print_op_signature(const IrModule *m, const IrOp *op);
/* main's top-level ops as a Graphviz digraph named title (dot.c);
 * malloc'd, NULL when out of memory. */
char *ir_dot_str(const IrModule *m, const char *title);
/* The text of top-level ops ops[0..n) that is the same for two runs of ops
 * exactly when they compute the same way on other data: the textual IR
 * without locations and without the mem.alloc ops, values numbered per
 * key, and each value from outside (a buffer, including those the skipped
 * allocs define, a weight, a scalar) printed as %e<k>: type at its first
 * use and listed in *ext (malloc'd), an outside arith.const as its value.
 * Returns the malloc'd text.  One printer serves any number of keys of a
 * module at a cost linear in their text. */
typedef struct IrKeyPrinter IrKeyPrinter;
IrKeyPrinter *ir_key_printer(const IrModule *m);
char *ir_print_key(IrKeyPrinter *k, IrOp *const *ops, int n, const IrValue ***ext,
                   int *num_ext);
void ir_key_printer_free(IrKeyPrinter *k);
/* Parses textual IR; on error emits "file:L:C: error: ..." and returns NULL. */
IrModule *ir_parse(const char *text, size_t len, const char *filename);
/* Returns false after emitting a diagnostic naming the op. */
bool ir_verify(IrModule *m);

/* fold.c: can op be evaluated now (all operands weights, or a type-only op
 * with static operands, results small enough)? */
bool ir_foldable(const IrOp *op);
/* Evaluates op, replaces its uses in m->main with new weights (folded[i]
 * gets result i's weight value) and unlinks it.  False after a diagnostic.
 * An op that would take too long to evaluate stays: folded[i] are then its
 * own results, and the result is true. */
bool ir_fold_op(IrModule *m, IrOp *op, IrValue **folded);

/* Runs the loop-level function f.  buffers[i] is the memory of f's body
 * argument i (inputs, then outputs).  mem.alloc gets memory at its planned
 * offset in workspace when both exist, else memory of its own (freed on
 * return).  Weights are read from their data.  False after a diagnostic
 * (e.g. an out-of-bounds access, which names the op). */
bool ir_interp_run(IrModule *m, IrFunc *f, void *const *buffers,
                   void *workspace);
/* The same with run-time dimensions: dims[k] is the value of sym k (read
 * for dynamic input syms, written by dim.set); NULL = the syms' values. */
bool ir_interp_run_dims(IrModule *m, IrFunc *f, void *const *buffers,
                        void *workspace, int64_t *dims);
/* ir_interp_run that gives up after max_steps executed ops: false with
 * *over_limit set and no diagnostic (constant folding's time bound). */
bool ir_interp_run_limited(IrModule *m, IrFunc *f, void *const *buffers,
                           void *workspace, uint64_t max_steps, bool *over_limit);

#endif
