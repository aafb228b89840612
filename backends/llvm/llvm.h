/*
 * llvm.h — the LLVM backend: loop-level IR in, a native object out.
 *
 * It never learns about tensor ops: it translates loop.for, mem.*, arith.*,
 * math.* and vec.* through the LLVM C API.  A target is a row of the target
 * registry (targets.c): a triple, a baseline CPU, features and a runtime
 * build; one small file per target adds what is particular to it.
 *
 * Exports by file:
 *   targets.c    target_*         the registry, CPU/feature checks
 *   llvm_emit.c  llvm_emit, llvm_object_*  loop IR -> object (bytes + weights blob)
 */
#ifndef TCC_LLVM_H
#define TCC_LLVM_H

#include <stdio.h>

#include "elf_object.h"
#include "ir.h"
#include "schedule.h"

typedef struct TccTarget {
  const char *name;          /* "x86_64" */
  const char *aliases;       /* space-separated, e.g. "aarch64"; "" for none */
  const char *triple;        /* "x86_64-unknown-linux-gnu" */
  const char *default_cpu;   /* a fixed baseline, never the host's */
  const char *default_features;
  const char *description;
} TccTarget;

const TccTarget *target_find(const char *name); /* by name or alias */
/* The most weight bytes a model may have on the target (UINT64_MAX: no
 * limit of tcc's own; docs/frontend.md). */
uint64_t target_max_weight_bytes(const TccTarget *t);
int target_count(void);
const TccTarget *target_at(int i);
/* Checks cpu ("native" allowed where the host matches) / a "+a,-b" feature
 * list against LLVM's list for the target; emits a diagnostic listing the
 * valid values and returns false on an unknown one. */
bool target_check_cpu(const TccTarget *t, const char *cpu);
bool target_check_features(const TccTarget *t, const char *features);

typedef struct LlvmOptions {
  const TccTarget *target;
  const char *cpu;        /* NULL: the target's default; "native": the host */
  const char *features;   /* NULL: the target's default */
  int opt_level;          /* 0..3 */
  int jobs;               /* code generation threads (>= 1) */
  bool share;             /* loops of the same shape as one shared function */
  bool external_weights;  /* --weights=external: weights read through ctx->weights */
  bool want_llvm, want_asm; /* also the LLVM IR / assembly text (--emit) */
} LlvmOptions;

/* The LLVM cpu name and feature string for the options ("native" expanded
 * to the host's); both malloc'd.  A tuning log records them. */
void target_resolve(const LlvmOptions *o, char **cpu, char **features);

/* The schedule's description of the target for these options (vector
 * width and registers of the CPU and features they select, caches). */
void target_sched(const LlvmOptions *o, SchedTarget *out);

/* --weights=external: the weights of the code's blob <name>.weights, a
 * header (TCC_WEIGHTS_HEADER_SIZE bytes) and the weights 64-aligned in
 * model order; the structural scalars (IrWeight.structural: a Pow's
 * exponent, a Clip's bounds, an epsilon) stay constants of the code.  The
 * id binds blob and code: a hash of the loop-level module without weight
 * values or source locations, where each weight lies, and the kept
 * scalars' bytes; so a retrained model of the same architecture compiles
 * to the same code and id, and anything else that changes the code
 * changes the id. */
typedef struct LlvmWeights {
  bool external;
  uint64_t *offset;    /* by weight index: from the header's end; UINT64_MAX in the code */
  uint64_t data_size;  /* bytes after the header */
  uint64_t id;
} LlvmWeights;

/* A compiled object.  On ELF targets the weights over 256 bytes are not
 * LLVM constants but one read-only blob attached to LLVM's object
 * (elf_object.h) and written from where the weights lie (the model's
 * buffer or mapping, which must outlive this), so compile memory holds
 * them once.  Without a blob, bytes/size are the whole object. */
typedef struct LlvmObject {
  void *bytes;
  size_t size;
  ElfWithBlob blob;          /* blob.head != NULL: bytes is unused */
  ElfBlobPiece *pieces;
  int num_pieces;
  /* With LlvmOptions.want_llvm / want_asm: each module's optimized LLVM IR
   * and its assembly, in unit order (malloc'd; for reading: the weights
   * blob is not in them). */
  char *llvm_text, *asm_text;
  /* --weights=external: the blob the code reads (llvm_weights_write). */
  LlvmWeights weights;
} LlvmObject;

/* Translates the loop-level module (m->main lowered, memory planned) into an
 * object.  False after a diagnostic (out is then empty). */
bool llvm_emit(IrModule *m, const LlvmOptions *o, LlvmObject *out);
uint64_t llvm_object_size(const LlvmObject *o);
/* Writes the object to f; false on a write error (errno kept). */
bool llvm_object_write(const LlvmObject *o, FILE *f);
/* The whole object in memory: o->bytes, made from the blob once when there
 * is one; NULL when out of memory. */
const void *llvm_object_bytes(LlvmObject *o);
void llvm_object_free(LlvmObject *o);

/* The blob of an object compiled with external weights: its size, and
 * the blob written to f from where m's weights lie (false on a write error,
 * errno kept). */
uint64_t llvm_weights_file_size(const LlvmObject *o);
bool llvm_weights_write(const IrModule *m, const LlvmObject *o, FILE *f);

/* llvm_emit, then the whole object as one malloc'd buffer (tests). */
bool llvm_emit_object(IrModule *m, const LlvmOptions *o, void **obj,
                      size_t *size);

/* Bare-metal targets (cortex_m.c), and any ELF target given a budget:
 * whether the compiled object plus the module's workspace and I/O buffers
 * fit the target's board and the budget; reports the flash and RAM figures
 * (a note when they fit, an error when not).  True for hosted targets
 * without a budget. */
typedef struct MemoryBudget {
  uint64_t max_flash, max_ram; /* bytes; 0: no limit (--max-flash, --max-ram) */
} MemoryBudget;
bool target_check_fit(const TccTarget *t, const IrModule *m, LlvmObject *obj,
                      const MemoryBudget *budget);
/* The figures behind it, one definition for every target: flash = the
 * object's allocated read-only sections + the weights blob of
 * --weights=external (the code reads it in place, so it is in flash too);
 * RAM = the object's writable sections + the workspace + the inputs and
 * outputs + TARGET_STACK_MARGIN.  False when the object is not ELF
 * (wasm32). */
typedef struct MemoryFigures {
  uint64_t flash, code, rodata, blob, ram, workspace, io, data, stack_margin;
} MemoryFigures;
bool target_memory(const IrModule *m, LlvmObject *obj, MemoryFigures *out);

#endif
