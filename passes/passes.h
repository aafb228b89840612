/*
 * passes.h — named passes over an IrModule and the manager that runs them.
 *
 * Exports by file:
 *   pass_manager.c  pass_find, pass_pipeline_for_level, pass_run_pipeline,
 *                   pass_users, pass_single_user, pass_silu_mul,
 *                   pass_weight_f32, pass_new_weight, pass_new_weight_bytes
 *                   (helpers for passes)
 *   <name>.c        pass_<name>  one pass each, listed in passes.def
 */
#ifndef TCC_PASSES_H
#define TCC_PASSES_H

#include "ir.h"

#define PASS_MAX_STATS 8

typedef struct PassStat {
  const char *name;
  int64_t value;
} PassStat;

/* -lowrank (passes/lowrank.c): keep exactly `rank` singular values when
 * rank > 0, else the fewest that hold `energy` of their squares; a conv's
 * form: the better of the two, or only one. */
typedef enum LowrankConv { LOWRANK_CONV_BEST, LOWRANK_CONV_CHANNELS, LOWRANK_CONV_SPATIAL } LowrankConv;
typedef struct LowrankOptions {
  int rank;
  double energy;
  LowrankConv conv;
} LowrankOptions;

/* lowrank.c's truncated SVD of w (m x n, row-major): w ~ P Q, P m x r and
 * Q r x n; returns r, *kept the energy kept.  P and Q are malloc'd when
 * 0 < r <= max_rank (max_rank <= 0: any), else NULL; P NULL: only r and
 * *kept (the eigenvalues, a third of the work). */
int lowrank_factor(const double *w, int m, int n, int rank, double energy, int max_rank,
                   double **P, double **Q, double *kept);

/* -prune-channels (passes/prune.c): the fraction of a layer's output
 * channels removed. */
typedef struct PruneOptions {
  double channels;
} PruneOptions;

/* -quantize=int8 (passes/quantize.c): per candidate layer (in the
 * function's order) its input's calibrated range [lo, hi]; or, for the
 * calibration compile itself, instrument: the inputs become outputs. */
typedef struct QuantizeOptions {
  bool instrument;
  /* -quantize=dynamic: MatMul and Gemm layers only, their inputs' range
   * measured at run time (x_dynamic); no ranges, no calibration */
  bool dynamic;
  const float *lo, *hi;
  int num_ranges;
  const char *const *keep_float; /* -keep-float=NODE,...: ONNX node names */
  int num_keep;
  struct QuantizeLog *log;       /* NULL, or where the pass records its layers */
  /* -quantize-min-sqnr's measuring compiles (src/compiler.c): observe makes
   * each candidate's result a graph output "tcc_layer_<k>"; all_float
   * quantizes none; keep_layer[k] leaves candidate k in float. */
  bool observe, all_float;
  const bool *keep_layer;
  int num_keep_layer;
  const char **layer_names; /* observe: candidate k's node name goes here */
} QuantizeOptions;

/* QuantizedLayer and QuantizeLog (what `tcc export` reads) are in ir.h. */
void quantize_log_free(QuantizeLog *log);

struct SchedTarget;
typedef struct PassContext {
  IrModule *m;
  /* The target's description (ir/schedule.h) for passes and lowerings that
   * shape loops; NULL: plain loops (-O0). */
  const struct SchedTarget *target;
  /* Schedules chosen by a tuning log, by op key (NULL: the model's). */
  const struct SchedTuning *tuning;
  /* `lower` puts rt.mark {layer=K} before each layer (a profile). */
  bool profile;
  /* The compression flags (NULL: not given; the pass does nothing). */
  const LowrankOptions *lowrank;
  const PruneOptions *prune;
  const QuantizeOptions *quantize;
  /* Statistics a pass reports ("folded: 12"); printed with --stats. */
  int num_stats;
  PassStat stats[PASS_MAX_STATS];
} PassContext;

/* Adds value to the statistic called name. */
void pass_stat(PassContext *pc, const char *name, int64_t value);

typedef bool (*PassFn)(PassContext *pc);
typedef struct PassInfo {
  const char *name;
  const char *summary;
  PassFn run;
} PassInfo;

#define PASS(fn, name, summary) bool pass_##fn(PassContext *pc);
#include "passes.def"
#undef PASS

/* How many times ops use v (a return counts; an op using it twice counts
 * twice); the first max of those ops into users. */
int pass_users(IrFunc *f, const IrValue *v, IrOp **users, int max);
/* The op that uses v, when exactly one op uses it exactly once, else NULL. */
IrOp *pass_single_user(IrFunc *f, const IrValue *v);
/* SiLU as PyTorch exports it: the mul(x, sig) (either order) that is the
 * only use of sig = sigmoid(x), else NULL. */
IrOp *pass_silu_mul(IrFunc *f, const IrOp *sig);
/* The f32 data of a weight operand with n elements, or NULL. */
const float *pass_weight_f32(const IrValue *v, uint64_t n);
/* A new f32 weight (data copied) named base.<suffix><i>, the first free i. */
IrValue *pass_new_weight(IrModule *m, const char *base, const char *suffix, IrType type,
                         const float *data, uint64_t n);
/* The same for any element type: nbytes of data. */
IrValue *pass_new_weight_bytes(IrModule *m, const char *base, const char *suffix, IrType type,
                               const void *data, uint64_t nbytes);

int pass_count(void);
const PassInfo *pass_at(int i);
const PassInfo *pass_find(const char *name);

/* The comma-separated pipeline for -O0..-O3 (fuse: with the fuse pass,
 * which -O0 never runs; compress: with the compression passes, prune and
 * lowrank, at every level). */
const char *pass_pipeline_for_level(int level, bool fuse, bool compress);

typedef struct PipelineOptions {
  const char *passes;          /* comma-separated names */
  const char *print_ir_after;  /* a pass name, "all", or NULL */
  bool verify_each;            /* run ir_verify after every pass */
  bool stats;                  /* print statistics to stdout */
  FILE *ir_out;                /* where --print-ir-after writes (stdout) */
  const struct SchedTarget *target; /* see PassContext; NULL: plain loops */
  /* Called before each pass (NULL: none): --emit=dot draws the graph
   * before `lower`. */
  void (*before_pass)(IrModule *m, const char *pass, void *user);
  void *user;
  const struct SchedTuning *tuning;  /* see PassContext */
  bool profile;                      /* see PassContext */
  const LowrankOptions *lowrank;     /* see PassContext */
  const PruneOptions *prune;         /* see PassContext */
  const QuantizeOptions *quantize;   /* see PassContext */
} PipelineOptions;

/* Checks every name first (unknown -> error listing valid passes), then runs
 * the passes in order.  False after a diagnostic. */
bool pass_check_pipeline(const char *passes);
bool pass_run_pipeline(IrModule *m, const PipelineOptions *o);

#endif
