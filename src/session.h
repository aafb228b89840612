/*
 * session.h — what the CLI needs of a session beyond the public API.
 *
 * Exports by file:
 *   compiler.c  tcc_session_* internals (module access, echo of diagnostics)
 *   run.c       tcc_run_model   compile, link with the runtime, execute
 *   inspect.c   tcc_inspect     print a model summary
 *   report.c    report_*        the compile report (--report, -v)
 *   util.c      util_*          files, paths, identifiers
 *   preprocess.c preprocess_*   the -preprocess flag
 */
#ifndef TCC_SESSION_H
#define TCC_SESSION_H

#include <stdio.h>

#include "ir.h"
#include "llvm.h"
#include "tcc/tcc.h"

/* Diagnostics also go to stderr as they happen (the CLI wants that). */
/* -q: drop notes (errors and warnings stay). */
void tcc_session_quiet(tcc_session *s, bool quiet);
void tcc_session_echo(tcc_session *s, bool echo);
void tcc_session_clear_diagnostics(tcc_session *s);
IrModule *tcc_session_module(tcc_session *s);
/* Sets the module directly (e.g. parsed from .tir); the session owns it. */
void tcc_session_set_module(tcc_session *s, IrModule *m);
/* Runs the pass pipeline only (no code generation). */
tcc_result tcc_session_run_passes(tcc_session *s);
/* `tcc export`: runs the passes with -quantize=int8 and writes
 * DIR/<name>.onnx, the model file with the quantized layers in QDQ form
 * (frontend/onnx/onnx_export.c), through a temporary renamed into place. */
tcc_result tcc_export_model(tcc_session *s, const char *dir);
/* True when an option was given explicitly. */
bool tcc_session_has_option(const tcc_session *s, const char *name);
/* The target name and the -mcpu value (NULL: the target's default). */
const char *tcc_session_target(const tcc_session *s);
const char *tcc_session_cpu(const tcc_session *s);
/* The schedule's target description for the session's target, CPU and
 * features, and the resolved CPU name and features (malloc'd). */
bool tcc_session_describe_target(tcc_session *s, SchedTarget *t, char **cpu, char **features);
/* --cost-model=FILE's parameters, or NULL. */
const SchedCostModel *tcc_session_cost_model(const tcc_session *s);
/* -profile=1: the object calls tcc_profile_mark before each layer. */
bool tcc_session_profile(const tcc_session *s);
/* --weights=external after a compile: the blob's id and data size (what
 * <name>_check_weights checks); false for embedded weights. */
bool tcc_session_external_weights(const tcc_session *s, uint64_t *id, uint64_t *data_size);

typedef struct RunOptions {
  const char **inputs;     /* .pb files, by input position */
  int num_inputs;
  const char *output_dir;  /* writes output_<i>.pb here */
  int repeat;              /* bench: runs to time (--iters); 0 = run once */
  int warmup;              /* bench: untimed calls first */
  int threads;             /* > 1: ctx.parallel_for = a pool of this many */
  bool json;               /* bench: one JSON object instead of a line */
  /* Calibration (-quantize, src/compiler.c): runs once per data set (a
   * folder of input_<i>.pb) and folds the f32 outputs from first_observed
   * on into lo[k] / hi[k] (minimum and maximum over all runs) instead of
   * writing them. */
  const char *const *sets;
  int num_sets, first_observed;
  float *lo, *hi;
  /* bins > 0: then a second pass over the sets counts each output's values
   * in `bins` equal bins over [lo, hi] (hist: bins per output, in order) */
  int bins;
  uint64_t *hist;
  /* Instead of ranges (-quantize-min-sqnr, src/compiler.c): with keep,
   * each set's observed outputs are kept, keep[set * observed + i] (f32,
   * malloc'd); with ref (such a keep), each is compared with it, adding
   * sum ref^2 to signal[i] and sum (out - ref)^2 to noise[i]. */
  float **keep;
  float *const *ref;
  double *signal, *noise;
} RunOptions;
tcc_result tcc_run_model(tcc_session *s, const RunOptions *o);

/* The same as one JSON object (tcc inspect --json). */
tcc_result tcc_inspect_json(tcc_session *s, FILE *out);
tcc_result tcc_inspect(tcc_session *s, FILE *out);

/* report.c: the layers of m (tensor level, before `lower`; malloc'd), and
 * the report of a compile from them, as JSON (malloc'd) or a table. */
typedef struct ReportLayer ReportLayer;
ReportLayer *report_layers(const IrModule *m, int *n);
typedef struct ReportInfo {
  const IrModule *m;            /* after code generation: its kernel notes */
  const char *target, *cpu, *features;
  const ReportLayer *layers;
  int num_layers;
  const MemoryFigures *mem;     /* NULL: not an ELF object (wasm32) */
  const MemoryBudget *budget;
  const LlvmWeights *weights;   /* external: the blob beside the object */
  const char *weight_type;      /* -weight-type: "f32", "fp16" or "bf16" */
  /* -quantize-min-sqnr's last measurement: each layer's output SQNR (dB,
   * infinite: exact) by ONNX node name */
  const char *const *sqnr_names;
  const double *sqnr;
  int num_sqnr;
} ReportInfo;
char *report_json(const ReportInfo *r);
void report_table(const ReportInfo *r, FILE *out);
/* -v: the report's table of the last compile to out (compiler.c). */
void tcc_session_print_report(tcc_session *s, FILE *out);
/* Whether the last compile was refused for its flash or RAM. */
bool tcc_session_did_not_fit(const tcc_session *s);

/* preprocess.c: -preprocess=NAME:u8,scale=S,mean=...,std=...,layout=L
 * (docs/cli.md): parse (false after a diagnostic), then, once the model is
 * loaded, turn each named input into raw bytes converted by a `preprocess`
 * op (false after a diagnostic naming the input). */
#define PREPROCESS_MAX_CHANNELS 256
typedef struct PreprocessSpec {
  char *input;    /* malloc'd */
  bool nhwc;      /* layout=nhwc; else nchw */
  double scale;
  int num_mean, num_std; /* 1: every channel */
  double mean[PREPROCESS_MAX_CHANNELS], std[PREPROCESS_MAX_CHANNELS];
} PreprocessSpec;
bool preprocess_parse(const char *text, PreprocessSpec *spec);
bool preprocess_apply(IrModule *m, const PreprocessSpec *specs, int n);
/* progress.c: the CLI's progress line on a terminal (not with quiet, not
 * in a pipe); diagnostics call progress_clear before they print. */
void progress_begin(bool quiet);
void progress_clear(void);
void progress_end(void);

/* tune.c: `tcc tune`, and the choices of a tuning log for a compile
 * (--tuning=FILE): refused, with a message naming the difference, when the
 * log was made for another target, CPU or features unless any_cpu. */
typedef struct TuneOptions {
  const char *self;          /* this tcc's path, for the child benchmarks */
  const char *model;         /* NULL with learn / evaluate */
  const char **flags;        /* the compile flags, given to every child */
  int num_flags;
  const char *log;           /* --log=FILE */
  double budget_s;           /* --budget=SECONDS */
  bool resume, quiet;
  int threads;               /* -threads=N for the timings */
  const char *learn, *evaluate; /* comma lists of logs */
  const char *out;           /* --learn: the cost model file to write */
  const SchedCostModel *cost; /* --evaluate: the model before learning */
} TuneOptions;
int tune_main(tcc_session *s, const TuneOptions *o);
bool tune_choices_read(const char *path, const char *target, const char *cpu,
                       const char *features, bool any_cpu, SchedTuning *out);
void tune_choices_free(SchedTuning *t);

/* util.c */
char *util_c_identifier(const char *path);  /* stem of path as a C name; malloc'd */
bool util_read_file(const char *path, char **data, size_t *size);
/* Writes data to path through a temporary file in the same folder renamed
 * into place: the old file survives any failure. */
bool util_write_file_atomic(const char *path, const void *data, size_t size);
/* The two halves, for writing several files that must appear together:
 * write_temp returns the temporary's path (malloc'd) or NULL; commit renames
 * it into place and frees it; discard removes it. */
char *util_write_temp(const char *path, const void *data, size_t size);
/* The same, the bytes written by write(f, user) (false: a write error). */
char *util_write_temp_with(const char *path, bool (*write)(FILE *f, void *user), void *user);
bool util_commit_temp(char *tmp, const char *path);
void util_discard_temp(char *tmp);
char *util_dirname(const char *path);        /* malloc'd; "." when none */
char *util_join(const char *dir, const char *name); /* malloc'd */
bool util_mkdir_p(const char *dir);
bool util_make_dirs(const char *dir); /* util_mkdir_p without the diagnostic (errno) */
bool util_remove_tree(const char *dir); /* rm -rf, in process; true when gone */

#endif
