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
 *   llvm_emit.c  llvm_emit_object loop IR -> object bytes
 */
#ifndef TCC_LLVM_H
#define TCC_LLVM_H

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
} LlvmOptions;

/* The schedule's description of the target for these options (vector
 * width and registers of the CPU and features they select, caches). */
void target_sched(const LlvmOptions *o, SchedTarget *out);

/* Translates the loop-level module (m->main lowered, memory planned) into an
 * object file.  *obj is malloc'd.  False after a diagnostic. */
bool llvm_emit_object(IrModule *m, const LlvmOptions *o, void **obj,
                      size_t *size);

/* Bare-metal targets (cortex_m.c): whether the compiled object plus the
 * module's workspace and I/O buffers fit the target's board; reports the
 * flash and RAM figures (a note when they fit, an error when not).  True
 * for hosted targets. */
bool target_check_fit(const TccTarget *t, const IrModule *m, const void *obj,
                      size_t size);

#endif
