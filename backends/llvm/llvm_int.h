/*
 * llvm_int.h — private types of the LLVM backend.
 *
 * A target is one TargetRow: the public TccTarget (first member, so a
 * `const TccTarget *` from target_find converts back), LLVM's CPU/feature
 * lists generated at build time (targets.cmake -> <build>/gen/targets/),
 * and the few hooks where targets differ.  Adding a target = one row in
 * targets.c, one tcc_target_lists() line in targets.cmake, one small file.
 *
 * Exports by file:
 *   targets.c      target_row, target_resolve   row lookup, CPU/features to use
 *   x86_64.c       target_x86_64                the x86_64 row's hooks
 *   armv8.c riscv64.c wasm32.c cortex_m.c        the cross targets' hooks
 *   llvm_emit.c    em_*                         module, function, memory, loops
 *   llvm_ops.c     em_op_*                      arith, math, cast, vec
 *   llvm_parallel.c em_parallel_for             parallel loops, outlined
 *   elf_merge.c    elf_merge_*                  unit objects -> one object
 *   elf_object.c   elf_attach_blob, elf_sizes   the weights blob, ELF reading
 *   <gen>.c        target_lists_<name>          LLVM's CPU and feature names
 */
#ifndef TCC_LLVM_INT_H
#define TCC_LLVM_INT_H

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include "llvm.h"

/* LLVM's own names for one target, sorted as llc prints them. */
typedef struct TargetLists {
  int num_cpus;
  const char *const *cpus;
  int num_features;
  const char *const *features;
  int num_wide_cpus;               /* CPUs whose LLVM default has 512-bit */
  const char *const *wide_cpus;    /* vector registers (probed with llc) */
} TargetLists;

typedef struct TargetRow {
  TccTarget pub;
  const TargetLists *lists;
  void (*init)(void);              /* LLVMInitialize<Arch>Target* */
  const char *weight_section;      /* NULL: the default section */
  /* Adds target-specific function attributes for the resolved cpu and
   * feature string (e.g. x86's "prefer-vector-width"). May be NULL. */
  void (*fn_attrs)(const struct TargetRow *t, LLVMContextRef c, LLVMValueRef fn,
                   const char *cpu, const char *features);
  /* What the schedule knows of the target at its baseline CPU
   * (ir/schedule.h; name filled in by target_sched)... */
  SchedTarget sched;
  /* ...and what a CPU or feature string changes in it. May be NULL. */
  void (*sched_hook)(const struct TargetRow *t, const char *cpu,
                     const char *features, SchedTarget *out);
  /* Feature pairs {a, b, ...}: when a is on and b not mentioned, +b is
   * added (x86: LLVM 19 gives 512-bit registers to +avx512f only with
   * +evex512, which an AVX-512 CPU name implies but the feature does not). */
  const char *const *implied_features;
} TargetRow;

extern const TargetLists target_lists_x86_64;
void x86_64_init(void);
void x86_64_fn_attrs(const TargetRow *t, LLVMContextRef c, LLVMValueRef fn,
                     const char *cpu, const char *features);
void x86_64_sched(const TargetRow *t, const char *cpu, const char *features,
                  SchedTarget *out);

/* The cross targets (armv8.c, riscv64.c, wasm32.c, cortex_m.c). */
extern const TargetLists target_lists_armv8, target_lists_riscv64,
    target_lists_wasm32, target_lists_cortex_m;
void armv8_init(void);
void armv8_sched(const TargetRow *t, const char *cpu, const char *features, SchedTarget *out);
void riscv64_init(void);
void riscv64_fn_attrs(const TargetRow *t, LLVMContextRef c, LLVMValueRef fn,
                      const char *cpu, const char *features);
void wasm32_init(void);
void cortex_m_init(void);

const TargetRow *target_row(const TccTarget *t);
/* Initializes LLVM's targets, once per process (thread-safe). */
void target_init_llvm(void);
bool target_cpu_is_wide(const TargetRow *t, const char *cpu);
/* The schedule's description of t for a resolved CPU and feature string. */
void target_describe(const TargetRow *t, const char *cpu, const char *features,
                     SchedTarget *out);
/* True when the last mention of +name/-name in features is +name. */
bool target_feature_on(const char *features, const char *name, bool dflt);

/* ----------------------------------------------------- emission context */
typedef struct Em {
  IrModule *m;
  LLVMContextRef c;
  LLVMModuleRef mod;
  LLVMBuilderRef b;
  LLVMBuilderRef entry_b;   /* em_entry_builder's */
  LLVMValueRef fn;          /* the body function being filled */
  LLVMValueRef workspace;   /* i8 pointer argument of the body */
  LLVMValueRef dims;        /* int64_t pointer argument: run-time dims by sym */
  LLVMValueRef pfor, puser; /* _main's ctx->parallel_for, ->parallel_user */
  bool in_parallel;         /* filling an outlined parallel body */
  int num_parallel;         /* outlined loops so far: names <name>_par<K> */
  LLVMValueRef *vals;       /* by IrValue id */
  /* by IrValue id, while a shared function is filled: its parameters,
   * which an outlined parallel loop takes as they are (llvm_share.c) */
  bool *shared_param;
  /* rt.check ops so far: _main returns k + 1 when checks[k] fails, and
   * _run reports it (llvm_emit.c, em_check / em_report) */
  const IrOp **checks;
  int num_checks;
  /* by weight index: offset in the weights blob <name>_weights, or
   * UINT64_MAX for a weight that is an LLVM constant (NULL: no blob) */
  const uint64_t *blob_offset;
  uint64_t blob_size;
  /* --weights=external: by IrValue id, a weight's offset in the blob that
   * ctx->weights points to (UINT64_MAX: not read from there; NULL: no
   * external weights), and the function's pointer to the blob's weights
   * (em_val adds the offset; NULL in a shared function, whose weights are
   * parameters) */
  const uint64_t *ext_offset;
  const LlvmWeights *ext;   /* the blob's id and size, for _run's check */
  LLVMValueRef wbase;
  LLVMTypeRef i1, i8, i32, i64, ptr;
  int dot4_bits;            /* SchedTarget.dot4_bits: arith.dot4's instruction */
  bool dot4_mixed;          /* aarch64: usdot (i8mm), u8 x s8 in one; else sdot */
} Em;

LLVMTypeRef em_elem_type(Em *e, IrElem el);      /* in registers */
LLVMTypeRef em_mem_elem_type(Em *e, IrElem el);  /* in memory (bool = i8) */
LLVMTypeRef em_type(Em *e, const IrType *t);     /* scalar or vector */
LLVMValueRef em_val(Em *e, const IrValue *v);
/* A builder at the top of the function's entry block, for what must
 * dominate every use or be made once per call (allocas, weight addresses). */
LLVMBuilderRef em_entry_builder(Em *e);
/* A weight that em_val reads from ctx->weights (--weights=external) and
 * that no function has taken as a parameter. */
bool em_is_blob_weight(const Em *e, const IrValue *v);
void em_set(Em *e, const IrValue *v, LLVMValueRef x);
LLVMValueRef em_intrinsic(Em *e, const char *name, LLVMTypeRef *over, int n_over,
                          LLVMValueRef *args, int n_args);
bool em_fail(const IrOp *op, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* llvm_emit.c: translates the ops of blk; *yield gets its loop.yield. */
bool em_block(Em *e, IrBlock *blk, IrOp **yield);

/* llvm_parallel.c: an outermost loop.for {parallel=1}, outlined and called
 * through ctx->parallel_for. */
bool em_parallel_for(Em *e, IrOp *op);

/* llvm_ops.c: one op that computes values (no memory, no control flow).
 * False after a diagnostic; *handled false when op is not of this kind. */
bool em_op_compute(Em *e, IrOp *op, bool *handled);

/* Weights up to this size are a constant of every module that uses them,
 * so LLVM folds their loads (a Pow's exponent, a Clip's bounds) in units
 * too; larger ones are loaded at run time anyway. */
#define WEIGHT_FOLDABLE_BYTES 256

/* llvm_share.c: groups of _main's top-level ops (one node's) that repeat
 * with the same shape, each translated once as <name>_shared<K>. */
typedef struct ShareGroup {
  int first, end;      /* top-level ops [first, end) */
  int call_at;         /* its last op that is not alloc/view/const */
  int fn;              /* its shared function, -1: translated in place */
  const IrValue **ext; /* the values from outside, in key order */
  int num_ext;
} ShareGroup;

typedef struct ShareFn {
  int group;           /* the group translated as its body */
  int segment;         /* that group's segment: its unit defines the function */
  unsigned *align;     /* by ext: the alignment every call's pointer has */
} ShareFn;

typedef struct SharePlan {
  ShareGroup *groups;
  int num_groups;
  int *group_of;       /* by top-level index: group of a shared function, or -1 */
  ShareFn *fns;
  int num_fns;
  const uint64_t *ext_offset; /* Em's: external weights are passed, never constants */
} SharePlan;

/* ops: _main's n top-level ops; reach: by index, the last top-level index
 * using the op's results; seg_of: by index, its segment. */
void share_plan(IrModule *m, IrOp *const *ops, int n, const int *reach, const int *seg_of,
                const uint64_t *ext_offset, SharePlan *sp);
void share_free(SharePlan *sp);
/* Does a call pass this value of a group's ext (all but the small weights,
 * which are the function's own constants)? */
bool share_passes(const SharePlan *sp, const IrValue *v);

/* elf_merge.c: whether objects for the triple can be merged (little-endian
 * ELF64 with RELA relocations: x86_64, aarch64, riscv64), and the merge:
 * one relocatable object holding the sections, symbols and relocations
 * of objs[0..n) in order (*out malloc'd).  False after a diagnostic. */
bool elf_merge_supported(const char *triple);
bool elf_merge_objects(const void **objs, const size_t *sizes, int n, void **out,
                       size_t *out_size);

#endif
