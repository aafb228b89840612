/*
 * compiler.c — the public compiler API (include/tcc/tcc.h): a session holds
 * the options, the module, the emitted object and header, and every
 * diagnostic.  The whole pipeline reads in tcc_compile:
 *   load (frontend) -> passes (infer, fold, dce, lower, plan) -> LLVM -> header
 */
#define _XOPEN_SOURCE 700 /* sysconf, strdup, realpath */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "header.h"
#include "llvm.h"
#include "onnx.h"
#include "passes.h"
#include "session.h"
#include "timer.h"

#define MAX_BINDINGS 64

struct tcc_session {
  char *diag;
  size_t diag_len, diag_cap;
  bool echo;
  bool quiet;  /* -q: notes are neither kept nor printed */
  /* options */
  char *target, *mcpu, *mattr, *name, *passes, *print_ir_after;
  char *depfile;     /* --depfile: a Makefile rule naming what was read */
  MemoryBudget budget; /* --max-flash, --max-ram */
  unsigned emit;       /* EMIT_* bits: the artifacts tcc_emit_files writes */
  char *report;        /* --report=FILE.json */
  bool verbose;        /* -v: the report's table */
  int opt_level;
  int jobs;          /* code generation threads; 0: the number of cores */
  bool fuse;             /* -fuse=0 leaves the fuse pass out */
  bool share_functions;  /* -share-functions=0 translates repeated loops in place */
  bool external_weights; /* --weights=external: the weights in <name>.weights */
  bool verify_each, stats, index_checks;
  bool profile;          /* -profile=1: rt.mark before each layer */
  bool naive_schedule;   /* -schedule=naive */
  bool winograd;         /* -winograd=0 keeps 3x3 convolutions direct */
  IrElem weight_store;   /* -weight-type: IR_F32, IR_F16 or IR_BF16 */
  LowrankOptions lowrank; /* -lowrank=energy:E|rank:R */
  bool has_lowrank;
  PruneOptions prune;     /* -prune-channels=F */
  bool has_prune;
  bool has_quantize;      /* -quantize=int8 or dynamic */
  bool quantize_dynamic;  /* -quantize=dynamic */
  QuantizeLog *quantize_log; /* tcc export: the pass records its layers here */
  double min_sqnr;        /* -quantize-min-sqnr=DB (0: none) */
  bool *keep_layer;       /* per candidate: left in float by -quantize-min-sqnr */
  int num_keep_layer;
  bool sqnr_observe, sqnr_all_float; /* this session is one of its measuring compiles */
  const char **sqnr_names; /* there: each candidate's node (the module's strings) */
  /* the last measurement: each candidate's output SQNR (dB) and node name */
  double *layer_sqnr;
  char **layer_names;
  int num_layer_sqnr;
  char *calib_dir;        /* --calib=DIR */
  char *calib_cache;      /* --calib-cache=FILE: ranges read, or written */
  double calib_percentile; /* -calib-method=percentile:P (0: minmax) */
  bool calib_entropy;      /* -calib-method=entropy */
  char **keep_float;      /* -keep-float=NODE,... */
  int num_keep_float;
  /* calibration's ranges (quantize.c's candidates), measured once per load */
  float *calib_lo, *calib_hi;
  int num_calib;
  bool calibrated;
  bool calib_instrument;  /* this session is the calibration compile */
  QuantizeOptions quantize;
  /* every option set, in order: what was given (tcc_session_has_option),
   * and what the calibration compile sets again */
  char **opt_names, **opt_values;
  int num_opts;
  char *tuning_path;     /* --tuning=FILE: a tcc tune log */
  bool tuning_any_cpu;   /* --tuning-any-cpu: take a log of another CPU */
  SchedTuning tuning;    /* its choices, read at the first compile */
  bool tuning_read;
  SchedCostModel cost;   /* --cost-model=FILE */
  bool has_cost;
  OnnxShapeBinding shapes[MAX_BINDINGS];
  int num_shapes;
  OnnxDimBinding dims[MAX_BINDINGS];
  int num_dims;
  OnnxFrozenInput frozen[MAX_BINDINGS];
  OnnxTensor frozen_values[MAX_BINDINGS];
  char *frozen_files[MAX_BINDINGS]; /* absolute paths, for --depfile */
  int num_frozen;
  PreprocessSpec preprocess[MAX_BINDINGS]; /* -preprocess, applied after each load */
  int num_preprocess;
  /* state */
  IrModule *m;
  char *model_name;
  char *model_path;  /* absolute, for --depfile */
  LlvmObject obj;   /* its weights blob reads m's weights: freed before m */
  bool has_obj;
  char *header;
  char *tir, *dot_before, *dot_after; /* --emit=ir, dot */
  ReportLayer *layers;                /* --report, -v: taken before `lower` */
  int num_layers;
  MemoryFigures mem;
  bool has_mem;
  bool did_not_fit;  /* the last compile exceeded a budget or its board */
};

/* --emit's kinds, in the order the files are written. */
enum { EMIT_OBJ = 1, EMIT_HEADER = 2, EMIT_ASM = 4, EMIT_LLVM = 8, EMIT_IR = 16, EMIT_DOT = 32,
       EMIT_WEIGHTS = 64 };
static const char *const emit_names[] = {"obj", "header", "asm", "llvm", "ir", "dot", "weights"};
#define NUM_EMIT_KINDS 7

static void session_sink(void *user, DiagLevel level, const char *msg) {
  tcc_session *s = user;
  if (s->quiet && level == DIAG_NOTE) return;
  size_t n = strlen(msg);
  if (s->diag_len + n + 2 > s->diag_cap) {
    size_t cap = (s->diag_cap + n + 2) * 2;
    char *d = realloc(s->diag, cap);
    if (!d) return;
    s->diag = d;
    s->diag_cap = cap;
  }
  memcpy(s->diag + s->diag_len, msg, n);
  s->diag_len += n;
  s->diag[s->diag_len++] = '\n';
  s->diag[s->diag_len] = 0;
  if (s->echo) {
    progress_clear();
    fprintf(stderr, "%s\n", msg);
  }
}

/* Every API entry routes diagnostics to its session. */
static void enter(tcc_session *s) {
  diag_set_sink(session_sink, s);
  diag_reset_count();
}

tcc_session *tcc_session_new(void) {
  tcc_session *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->target = strdup("x86_64");
  s->opt_level = 2;
  s->fuse = true;
  s->winograd = true;
  s->share_functions = true;
  s->verify_each = true;
  s->index_checks = true;
  s->emit = EMIT_OBJ | EMIT_HEADER;
  s->weight_store = IR_F32;
  return s;
}

static void free_bindings(tcc_session *s) {
  for (int i = 0; i < s->num_shapes; i++) free((char *)s->shapes[i].name);
  for (int i = 0; i < s->num_dims; i++) {
    free((char *)s->dims[i].param);
    free((char *)s->dims[i].sum);
  }
  for (int i = 0; i < s->num_frozen; i++) {
    free((char *)s->frozen[i].name);
    free(s->frozen_files[i]);
    onnx_tensor_free(&s->frozen_values[i]);
  }
  for (int i = 0; i < s->num_preprocess; i++) free(s->preprocess[i].input);
}

void tcc_session_free(tcc_session *s) {
  if (!s) return;
  diag_set_sink(NULL, NULL);
  ir_module_free(s->m);
  free_bindings(s);
  free(s->target), free(s->mcpu), free(s->mattr), free(s->name);
  free(s->passes), free(s->print_ir_after), free(s->model_name);
  free(s->depfile), free(s->model_path);
  llvm_object_free(&s->obj);
  free(s->header), free(s->diag);
  free(s->tir), free(s->dot_before), free(s->dot_after);
  free(s->report), free(s->layers);
  free(s->tuning_path);
  tune_choices_free(&s->tuning);
  free(s->calib_dir), free(s->calib_cache), free(s->calib_lo), free(s->calib_hi);
  free(s->keep_layer), free(s->layer_sqnr);
  for (int i = 0; i < s->num_layer_sqnr; i++) free(s->layer_names[i]);
  free(s->layer_names);
  for (int i = 0; i < s->num_keep_float; i++) free(s->keep_float[i]);
  free(s->keep_float);
  for (int i = 0; i < s->num_opts; i++) free(s->opt_names[i]), free(s->opt_values[i]);
  free(s->opt_names), free(s->opt_values);
  free(s);
}

void tcc_session_echo(tcc_session *s, bool echo) { s->echo = echo; }
void tcc_session_quiet(tcc_session *s, bool quiet) { s->quiet = quiet; }

void tcc_session_clear_diagnostics(tcc_session *s) {
  s->diag_len = 0;
  if (s->diag) s->diag[0] = 0;
}
IrModule *tcc_session_module(tcc_session *s) { return s->m; }

void tcc_session_set_module(tcc_session *s, IrModule *m) {
  ir_module_free(s->m);
  s->m = m;
}

const char *tcc_diagnostics(const tcc_session *s) {
  return s->diag ? s->diag : "";
}
const char *tcc_version(void) { return TCC_VERSION; }
const char *tcc_model_name(const tcc_session *s) {
  return s->m ? s->m->name : s->model_name;
}

bool tcc_session_has_option(const tcc_session *s, const char *name) {
  for (int i = 0; i < s->num_opts; i++)
    if (!strcmp(s->opt_names[i], name)) return true;
  return false;
}

const char *tcc_session_target(const tcc_session *s) { return s->target; }
const char *tcc_session_cpu(const tcc_session *s) { return s->mcpu; }
bool tcc_session_profile(const tcc_session *s) { return s->profile; }
bool tcc_session_external_weights(const tcc_session *s, uint64_t *id, uint64_t *data_size) {
  if (!s->external_weights || !s->has_obj) return false;
  *id = s->obj.weights.id;
  *data_size = s->obj.weights.data_size;
  return true;
}
const SchedCostModel *tcc_session_cost_model(const tcc_session *s) {
  return s->has_cost ? &s->cost : NULL;
}

/* What the session's flags add to the target's description. */
static void session_sched(const tcc_session *s, SchedTarget *st) {
  st->naive = s->naive_schedule;
  st->winograd = s->winograd;
  st->weight_store = s->weight_store;
  st->cost = tcc_session_cost_model(s);
}

bool tcc_session_describe_target(tcc_session *s, SchedTarget *st, char **cpu, char **features) {
  enter(s);
  const TccTarget *t = target_find(s->target);
  if (!target_check_cpu(t, s->mcpu ? s->mcpu : t->default_cpu) ||
      (s->mattr && !target_check_features(t, s->mattr)))
    return false;
  LlvmOptions lo = {.target = t, .cpu = s->mcpu, .features = s->mattr,
                    .opt_level = s->opt_level, .jobs = 1};
  target_sched(&lo, st);
  session_sched(s, st);
  target_resolve(&lo, cpu, features);
  return true;
}

/* ------------------------------------------------------------- options */
static bool parse_dims(const char *text, OnnxShapeBinding *b) {
  b->rank = 0;
  for (const char *p = text; *p;) {
    char *end;
    long long d = strtoll(p, &end, 10);
    if (end == p || d < 0 || b->rank == IR_MAX_RANK) return false;
    b->dims[b->rank++] = d;
    if (*end == 'x' && end[1]) p = end + 1;
    else if (*end == 0) p = end;
    else return false;
  }
  return true;
}

static tcc_result set_shape(tcc_session *s, const char *v) {
  const char *colon = strrchr(v, ':');
  OnnxShapeBinding b = {0};
  if (!colon || colon == v || !parse_dims(colon + 1, &b)) {
    diag_error("invalid -shape value '%s': expected NAME:DIMxDIMx... "
               "(e.g. input:1x3x224x224; NAME: for a scalar)", v);
    return TCC_ERROR_INPUT;
  }
  if (s->num_shapes == MAX_BINDINGS) {
    diag_error("too many -shape flags (at most %d)", MAX_BINDINGS);
    return TCC_ERROR_INPUT;
  }
  b.name = strndup(v, (size_t)(colon - v));
  s->shapes[s->num_shapes++] = b;
  return TCC_SUCCESS;
}

/* A+B[+N]: two or more terms, run-time dim names or numbers, at least one
 * a name. */
static bool is_dim_sum(const char *t) {
  int terms = 0, names = 0;
  for (const char *p = t;; p++) {
    size_t n = strcspn(p, "+");
    bool name = n && (isalpha((unsigned char)*p) || *p == '_');
    for (size_t i = 0; i < n; i++)
      if (!(name ? isalnum((unsigned char)p[i]) || p[i] == '_' : isdigit((unsigned char)p[i])))
        return false;
    if (!n) return false;
    terms++, names += name;
    p += n;
    if (!*p) break;
  }
  return terms >= 2 && names >= 1;
}

/* PARAM=VALUE, PARAM=LO..HI for a dim known only at run time, or
 * PARAM=A+B for the sum of run-time dims. */
static tcc_result set_dim(tcc_session *s, const char *v) {
  const char *eq = strrchr(v, '=');
  OnnxDimBinding b = {0};
  if (eq && eq != v && (isalpha((unsigned char)eq[1]) || eq[1] == '_')) {
    if (!is_dim_sum(eq + 1)) {
      diag_error("invalid -dim value '%s': expected PARAM=A+B (e.g. total=past+seq), a sum of "
                 "run-time dims and numbers", v);
      return TCC_ERROR_INPUT;
    }
    b = (OnnxDimBinding){.value = -1, .sum = eq + 1};
  } else {
    char *end = NULL, *end2 = NULL;
    long long d = eq ? strtoll(eq + 1, &end, 10) : -1, hi = -1;
    bool range = end && end != eq + 1 && end[0] == '.' && end[1] == '.';
    if (range) hi = strtoll(end + 2, &end2, 10);
    bool ok = eq && eq != v && end && end != eq + 1 && d >= 0 &&
              (range ? end2 != end + 2 && !*end2 && hi >= d && hi > 0 : !*end);
    if (!ok) {
      diag_error("invalid -dim value '%s': expected PARAM=VALUE (e.g. batch=1) or "
                 "PARAM=LO..HI (e.g. seq=1..512)", v);
      return TCC_ERROR_INPUT;
    }
    b = (OnnxDimBinding){.value = range ? -1 : d, .lo = d, .hi = hi};
  }
  if (s->num_dims == MAX_BINDINGS) {
    diag_error("too many -dim flags (at most %d)", MAX_BINDINGS);
    return TCC_ERROR_INPUT;
  }
  b.param = strndup(v, (size_t)(eq - v));
  if (b.sum) b.sum = strdup(b.sum);
  s->dims[s->num_dims++] = b;
  return TCC_SUCCESS;
}

/* NAME:FILE.pb, split at the last ':' (value names often hold ':', file
 * paths rarely do). */
static tcc_result set_freeze(tcc_session *s, const char *v) {
  const char *colon = strrchr(v, ':');
  if (!colon || colon == v || !colon[1]) {
    diag_error("invalid -freeze value '%s': expected NAME:FILE.pb", v);
    return TCC_ERROR_INPUT;
  }
  if (s->num_frozen == MAX_BINDINGS) {
    diag_error("too many -freeze flags (at most %d)", MAX_BINDINGS);
    return TCC_ERROR_INPUT;
  }
  OnnxTensor *t = &s->frozen_values[s->num_frozen];
  if (!onnx_tensor_read_file(colon + 1, t)) return TCC_ERROR_INPUT;
  s->frozen_files[s->num_frozen] = realpath(colon + 1, NULL);
  s->frozen[s->num_frozen++] =
      (OnnxFrozenInput){strndup(v, (size_t)(colon - v)), t, false};
  return TCC_SUCCESS;
}

/* 262144, 256K, 256KiB, 1.5M, 1MiB, 2G: bytes (K = 1024). */
static tcc_result set_size(uint64_t *slot, const char *name, const char *v) {
  char *end;
  double x = strtod(v, &end);
  double unit = 1;
  if (*end == 'K' || *end == 'k') unit = 1024.0, end++;
  else if (*end == 'M') unit = 1024.0 * 1024, end++;
  else if (*end == 'G') unit = 1024.0 * 1024 * 1024, end++;
  if (unit > 1 && (!strcmp(end, "iB") || !strcmp(end, "B"))) end += strlen(end);
  double bytes = x * unit;
  if (end == v || *end || !(bytes >= 1) || bytes > 1e18) {
    diag_error("invalid --%s '%s': expected a size such as 262144, 256K or 1.5M", name, v);
    return TCC_ERROR_INPUT;
  }
  *slot = (uint64_t)bytes;
  return TCC_SUCCESS;
}

/* obj,header,asm,llvm,ir,dot,weights in any order. */
static tcc_result set_emit(tcc_session *s, const char *v) {
  unsigned bits = 0;
  for (const char *p = v; *p;) {
    size_t n = strcspn(p, ",");
    int k = 0;
    while (k < NUM_EMIT_KINDS && (strlen(emit_names[k]) != n || strncmp(p, emit_names[k], n))) k++;
    if (k == NUM_EMIT_KINDS) {
      diag_error("unknown --emit kind '%.*s' (expected a comma list of obj, header, asm, "
                 "llvm, ir, dot, weights)", (int)n, p);
      return TCC_ERROR_INPUT;
    }
    bits |= 1u << k;
    p += n + (p[n] == ',');
  }
  if (!bits) {
    diag_error("--emit needs at least one of obj, header, asm, llvm, ir, dot, weights");
    return TCC_ERROR_INPUT;
  }
  s->emit = bits;
  return TCC_SUCCESS;
}

static tcc_result set_string(char **slot, const char *v) {
  free(*slot);
  *slot = strdup(v);
  return TCC_SUCCESS;
}

static tcc_result set_bool(bool *slot, const char *name, const char *v) {
  if (!strcmp(v, "1") || !strcmp(v, "true")) *slot = true;
  else if (!strcmp(v, "0") || !strcmp(v, "false")) *slot = false;
  else {
    diag_error("invalid value '%s' for -%s: expected 0 or 1", v, name);
    return TCC_ERROR_INPUT;
  }
  return TCC_SUCCESS;
}

/* -lowrank=energy:E (0 < E <= 1) or rank:R (R >= 1), then optionally
 * ,conv=best|channels|spatial. */
static tcc_result set_lowrank(tcc_session *s, const char *v) {
  char *end = NULL;
  LowrankOptions o = {0, 0, LOWRANK_CONV_BEST};
  if (!strncmp(v, "energy:", 7)) {
    o.energy = strtod(v + 7, &end);
    if (end == v + 7 || !(o.energy > 0 && o.energy <= 1)) end = NULL;
  } else if (!strncmp(v, "rank:", 5) && isdigit((unsigned char)v[5])) {
    long r = strtol(v + 5, &end, 10);
    if (r < 1 || r > 1 << 20) end = NULL;
    o.rank = (int)r;
  }
  if (end && *end) {
    static const char *const forms[] = {",conv=best", ",conv=channels", ",conv=spatial"};
    int form = 0;
    while (form < 3 && strcmp(end, forms[form])) form++;
    o.conv = (LowrankConv)form;
    if (form == 3) end = NULL;
  }
  if (!end) {
    diag_error("invalid -lowrank '%s': expected energy:E with 0 < E <= 1 (the share of the "
               "squared singular values kept) or rank:R with R >= 1, then optionally "
               ",conv=best|channels|spatial",
               v);
    return TCC_ERROR_INPUT;
  }
  s->lowrank = o;
  s->has_lowrank = true;
  return TCC_SUCCESS;
}

/* An option with two values, a (the default) and b: *is_b. */
static tcc_result set_one_of(bool *is_b, const char *option, const char *v, const char *a,
                             const char *a_doc, const char *b, const char *b_doc) {
  if (strcmp(v, a) && strcmp(v, b)) {
    diag_error("invalid %s '%s': expected %s (%s) or %s (%s)", option, v, a, a_doc, b, b_doc);
    return TCC_ERROR_INPUT;
  }
  *is_b = !strcmp(v, b);
  return TCC_SUCCESS;
}

static tcc_result set_target(tcc_session *s, const char *v) {
  if (!target_find(v)) {
    char list[512] = "";
    size_t n = 0;
    for (int i = 0; i < target_count() && n < sizeof list; i++)
      n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "",
                            target_at(i)->name);
    diag_error("unknown target '%s'; valid targets: %s", v, list);
    return TCC_ERROR_INPUT;
  }
  return set_string(&s->target, v);
}

/* s's -keep-float names, copies of names[0..n). */
static tcc_result set_keep_float_list(tcc_session *s, char *const *names, int n) {
  for (int i = 0; i < s->num_keep_float; i++) free(s->keep_float[i]);
  free(s->keep_float);
  s->keep_float = n ? calloc((size_t)n, sizeof *s->keep_float) : NULL;
  s->num_keep_float = 0;
  if (n && !s->keep_float) return TCC_ERROR_INTERNAL;
  for (int i = 0; i < n; i++) s->keep_float[s->num_keep_float++] = strdup(names[i]);
  return TCC_SUCCESS;
}

/* -keep-float=NODE,...: ONNX node names whose layers stay in f32. */
static tcc_result set_keep_float(tcc_session *s, const char *v) {
  set_keep_float_list(s, NULL, 0);
  for (const char *p = v; *p;) {
    size_t n = strcspn(p, ",");
    if (n == 0) {
      diag_error("invalid -keep-float '%s': expected node names separated by commas", v);
      return TCC_ERROR_INPUT;
    }
    char **k = realloc(s->keep_float, sizeof *k * (size_t)(s->num_keep_float + 1));
    if (!k) return TCC_ERROR_INTERNAL;
    s->keep_float = k;
    k[s->num_keep_float++] = strndup(p, n);
    p += n;
    if (*p == ',') p++;
  }
  return TCC_SUCCESS;
}

static tcc_result set_option(tcc_session *s, const char *name, const char *v) {
  if (!strcmp(name, "target")) return set_target(s, v);
  if (!strcmp(name, "mcpu")) return set_string(&s->mcpu, v);
  if (!strcmp(name, "mattr")) return set_string(&s->mattr, v);
  if (!strcmp(name, "depfile")) return set_string(&s->depfile, v);
  if (!strcmp(name, "emit")) return set_emit(s, v);
  if (!strcmp(name, "report")) return set_string(&s->report, v);
  if (!strcmp(name, "verbose")) return set_bool(&s->verbose, name, v);
  if (!strcmp(name, "max-flash")) return set_size(&s->budget.max_flash, name, v);
  if (!strcmp(name, "max-ram")) return set_size(&s->budget.max_ram, name, v);
  if (!strcmp(name, "name")) {
    char *id = util_c_identifier(v);
    bool same = id && !strcmp(id, v) && !strchr(v, '.');
    free(id);
    if (!same) {
      diag_error("invalid -name '%s': must be a C identifier", v);
      return TCC_ERROR_INPUT;
    }
    return set_string(&s->name, v);
  }
  if (!strcmp(name, "O")) {
    if (strlen(v) != 1 || v[0] < '0' || v[0] > '3') {
      diag_error("invalid optimization level '-O%s': expected 0, 1, 2 or 3", v);
      return TCC_ERROR_INPUT;
    }
    s->opt_level = v[0] - '0';
    return TCC_SUCCESS;
  }
  if (!strcmp(name, "j") || !strcmp(name, "jobs")) {
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < 1 || n > 256) {
      diag_error("invalid -j '%s': expected a number of threads from 1 to 256", v);
      return TCC_ERROR_INPUT;
    }
    s->jobs = (int)n;
    return TCC_SUCCESS;
  }
  if (!strcmp(name, "passes")) {
    if (!pass_check_pipeline(v)) return TCC_ERROR_INPUT;
    return set_string(&s->passes, v);
  }
  if (!strcmp(name, "print-ir-after")) {
    if (strcmp(v, "all") && !pass_find(v)) {
      diag_error("unknown pass '%s' in -print-ir-after (see --list-passes)", v);
      return TCC_ERROR_INPUT;
    }
    return set_string(&s->print_ir_after, v);
  }
  if (!strcmp(name, "shape")) return set_shape(s, v);
  if (!strcmp(name, "dim")) return set_dim(s, v);
  if (!strcmp(name, "freeze")) return set_freeze(s, v);
  if (!strcmp(name, "preprocess")) {
    if (s->num_preprocess == MAX_BINDINGS) {
      diag_error("too many -preprocess flags (at most %d)", MAX_BINDINGS);
      return TCC_ERROR_INPUT;
    }
    bool ok = preprocess_parse(v, &s->preprocess[s->num_preprocess]);
    s->num_preprocess += ok;
    return ok ? TCC_SUCCESS : TCC_ERROR_INPUT;
  }
  if (!strcmp(name, "lowrank")) return set_lowrank(s, v);
  if (!strcmp(name, "prune-channels")) {
    char *end;
    double f = strtod(v, &end);
    if (end == v || *end || !(f > 0 && f < 1)) {
      diag_error("invalid -prune-channels '%s': expected the fraction F of each layer's output "
                 "channels to remove, 0 < F < 1",
                 v);
      return TCC_ERROR_INPUT;
    }
    s->prune.channels = f;
    s->has_prune = true;
    return TCC_SUCCESS;
  }
  if (!strcmp(name, "quantize")) {
    if (strcmp(v, "int8") && strcmp(v, "dynamic")) {
      diag_error("invalid -quantize '%s': expected int8 (static: u8 activations scaled by "
                 "--calib, i8 weights per channel) or dynamic (MatMul and Gemm: i8 weights per "
                 "channel, u8 inputs scaled at run time)", v);
      return TCC_ERROR_INPUT;
    }
    s->has_quantize = true;
    s->quantize_dynamic = !strcmp(v, "dynamic");
    s->calibrated = false;
    return TCC_SUCCESS;
  }
  if (!strcmp(name, "calib")) {
    s->calibrated = false;
    return set_string(&s->calib_dir, v);
  }
  if (!strcmp(name, "calib-method")) {
    double p = 0;
    char *end = NULL;
    bool entropy = !strcmp(v, "entropy");
    if (!strncmp(v, "percentile", 10))
      p = v[10] == ':' ? strtod(v + 11, &end) : v[10] ? -1 : 99.99;
    if (strcmp(v, "minmax") && !entropy &&
        (!(p > 50 && p <= 100) || (end && (end == v + 11 || *end)))) {
      diag_error("invalid -calib-method '%s': expected minmax (each layer's input range is its "
                 "smallest and largest value), percentile[:P] (the central P%% of its values, "
                 "50 < P <= 100, default 99.99) or entropy (the range whose 256 levels lose the "
                 "least information, by KL divergence)", v);
      return TCC_ERROR_INPUT;
    }
    s->calib_percentile = p;
    s->calib_entropy = entropy;
    s->calibrated = false;
    return TCC_SUCCESS;
  }
  if (!strcmp(name, "calib-cache")) {
    s->calibrated = false;
    return set_string(&s->calib_cache, v);
  }
  if (!strcmp(name, "keep-float")) return set_keep_float(s, v);
  if (!strcmp(name, "quantize-min-sqnr")) {
    char *end;
    double db = strtod(v, &end);
    if (!*v || *end || !(db > 0 && db <= 200)) {
      diag_error("invalid -quantize-min-sqnr '%s': expected the outputs' SQNR in dB against "
                 "float32 on --calib, 0 < DB <= 200", v);
      return TCC_ERROR_INPUT;
    }
    s->min_sqnr = db;
    return TCC_SUCCESS;
  }
  if (!strcmp(name, "verify-each")) return set_bool(&s->verify_each, name, v);
  if (!strcmp(name, "stats")) return set_bool(&s->stats, name, v);
  if (!strcmp(name, "time-passes")) {
    bool on;
    tcc_result r = set_bool(&on, name, v);
    if (r == TCC_SUCCESS) stage_timer_enable(on);
    return r;
  }
  if (!strcmp(name, "fuse")) return set_bool(&s->fuse, name, v);
  if (!strcmp(name, "winograd")) return set_bool(&s->winograd, name, v);
  if (!strcmp(name, "share-functions")) return set_bool(&s->share_functions, name, v);
  if (!strcmp(name, "weights"))
    return set_one_of(&s->external_weights, "--weights", v, "embedded",
                      "in the object, the default", "external",
                      "in <name>.weights, handed over at run time");
  if (!strcmp(name, "index-checks")) return set_bool(&s->index_checks, name, v);
  if (!strcmp(name, "profile")) return set_bool(&s->profile, name, v);
  if (!strcmp(name, "schedule"))
    return set_one_of(&s->naive_schedule, "-schedule", v, "model", "the cost model's, the default",
                      "naive", "one-row tiles, no blocking: a poor start for tcc tune");
  if (!strcmp(name, "weight-type")) {
    static const char *const names[] = {"f32", "fp16", "bf16"};
    static const IrElem elems[] = {IR_F32, IR_F16, IR_BF16};
    for (int i = 0; i < 3; i++)
      if (!strcmp(v, names[i])) {
        s->weight_store = elems[i];
        return TCC_SUCCESS;
      }
    diag_error("invalid -weight-type '%s': expected f32 (the default), fp16 or bf16 (the "
               "kernels' packed weights stored at half size, computed in f32)", v);
    return TCC_ERROR_INPUT;
  }
  if (!strcmp(name, "tuning")) {
    tune_choices_free(&s->tuning);
    s->tuning_read = false;
    return set_string(&s->tuning_path, v);
  }
  if (!strcmp(name, "tuning-any-cpu")) return set_bool(&s->tuning_any_cpu, name, v);
  if (!strcmp(name, "cost-model")) {
    if (!sched_cost_load(v, &s->cost)) return TCC_ERROR_INPUT;
    s->has_cost = true;
    return TCC_SUCCESS;
  }
  diag_error("unknown option '-%s' (see tcc --help)", name);
  return TCC_ERROR_INPUT;
}

tcc_result tcc_set_option(tcc_session *s, const char *name, const char *value) {
  enter(s);
  tcc_result r = set_option(s, name, value ? value : "");
  if (r == TCC_SUCCESS) { /* tcc_session_has_option, and calibration's replay */
    char **n = realloc(s->opt_names, sizeof *n * (size_t)(s->num_opts + 1));
    if (n) s->opt_names = n;
    char **v = realloc(s->opt_values, sizeof *v * (size_t)(s->num_opts + 1));
    if (v) s->opt_values = v;
    if (!n || !v) return TCC_ERROR_INTERNAL;
    n[s->num_opts] = strdup(name);
    v[s->num_opts++] = strdup(value ? value : "");
  }
  return r;
}

/* ---------------------------------------------------------------- load */
/* Weights go into the object; past the target's limit (what its code can
 * address, target_max_weight_bytes) the model is refused right after
 * loading, before any of the compile.  Documented in docs/frontend.md. */
static bool check_weight_total(const tcc_session *s, const IrModule *m) {
  const TccTarget *t = target_find(s->target);
  uint64_t total = 0, max = t ? target_max_weight_bytes(t) : UINT64_MAX;
  for (int i = 0; i < m->num_weights; i++) total += m->weights[i]->nbytes;
  if (total <= max) return true;
  IrLoc loc = {.file = m->source};
  diag_at(DIAG_ERROR, &loc, "the model's weights total %llu bytes; on %s tcc compiles at most "
          "%llu bytes (%llu GiB) of them into the object", (unsigned long long)total,
          t->name, (unsigned long long)max, (unsigned long long)(max >> 30));
  return false;
}

static tcc_result finish_load(tcc_session *s, IrModule *m) {
  if (!m) return TCC_ERROR_INPUT;
  if (!check_weight_total(s, m) || !preprocess_apply(m, s->preprocess, s->num_preprocess)) {
    ir_module_free(m);
    return TCC_ERROR_INPUT;
  }
  llvm_object_free(&s->obj); /* it reads the old module's weights */
  s->has_obj = false;
  ir_module_free(s->m);
  s->m = m;
  s->calibrated = false;
  return TCC_SUCCESS;
}

static OnnxLoadOptions load_options(tcc_session *s, const char *path,
                                    const char *base_dir) {
  free(s->model_name);
  s->model_name = s->name ? strdup(s->name) : util_c_identifier(path);
  for (int i = 0; i < s->num_shapes; i++) s->shapes[i].used = false;
  for (int i = 0; i < s->num_dims; i++) s->dims[i].used = false;
  for (int i = 0; i < s->num_frozen; i++) s->frozen[i].used = false;
  OnnxLoadOptions o = {s->model_name, base_dir, s->shapes, s->num_shapes,
                       s->dims, s->num_dims, s->frozen, s->num_frozen};
  return o;
}

tcc_result tcc_load_file(tcc_session *s, const char *path) {
  enter(s);
  char *dir = util_dirname(path);
  OnnxLoadOptions o = load_options(s, path, dir);
  stage_begin("load");
  tcc_result r = finish_load(s, onnx_load_file(path, &o));
  stage_end();
  free(dir);
  free(s->model_path);
  s->model_path = r == TCC_SUCCESS ? realpath(path, NULL) : NULL;
  return r;
}

tcc_result tcc_load_memory(tcc_session *s, const void *data, size_t size,
                           const char *name, const char *base_dir) {
  enter(s);
  OnnxLoadOptions o = load_options(s, name ? name : "model", base_dir);
  stage_begin("load");
  tcc_result r = finish_load(s, onnx_load_memory(data, size, name ? name : "<memory>", &o));
  stage_end();
  return r;
}

/* ------------------------------------------------------------- compile */
static char *dot_of(const IrModule *m, const char *when) {
  char title[300];
  snprintf(title, sizeof title, "%s: %s", m->name, when);
  return ir_dot_str(m, title);
}

/* The layers are also taken under a memory limit (a budget, a board's), so
 * that a refusal can show where the bytes go. */
static bool wants_report(const tcc_session *s) {
  const TccTarget *t = target_find(s->target);
  return s->report || s->verbose || s->budget.max_flash || s->budget.max_ram ||
         (t && !strncmp(t->name, "cortex-m", 8));
}

/* --emit=dot's second graph and the report's layers: the tensor level
 * after its passes, the last moment there is a graph of ops. */
static void before_lower(IrModule *m, const char *pass, void *user) {
  tcc_session *s = user;
  if (strcmp(pass, "lower")) return;
  if ((s->emit & EMIT_DOT) && !s->dot_after)
    s->dot_after = dot_of(m, "after the tensor-level passes");
  if (wants_report(s) && !s->layers) s->layers = report_layers(m, &s->num_layers);
}

/* ------------------------------------------------------- calibration */
/* The options the calibration compile does not take again: it runs on
 * this machine, writes nothing, and quantizes nothing. */
static bool calib_skips(const char *name) {
  static const char *const skip[] = {
      "target", "mcpu", "mattr", "emit", "report", "verbose", "depfile", "max-flash",
      "max-ram", "weights", "weight-type", "quantize", "calib", "calib-cache", "calib-method",
      "keep-float", "quantize-min-sqnr", "tuning",
      "tuning-any-cpu",
      "print-ir-after", "stats", "time-passes", "profile", "schedule", "cost-model",
      "shape", "dim", NULL};
  for (int i = 0; skip[i]; i++)
    if (!strcmp(name, skip[i])) return true;
  return false;
}

static int cmp_calib_set(const void *a, const void *b) {
  int x = atoi(strrchr(*(char *const *)a, '_') + 1), y = atoi(strrchr(*(char *const *)b, '_') + 1);
  return (x > y) - (x < y);
}

/* DIR's test_data_set_<k> folders, in k's order (malloc'd). */
static char **calib_sets(const char *dir, int *n) {
  DIR *d = opendir(dir);
  if (!d) {
    diag_error("--calib=%s: %s", dir, strerror(errno));
    return NULL;
  }
  char **sets = NULL;
  *n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    int k, len = 0;
    if (sscanf(e->d_name, "test_data_set_%d%n", &k, &len) != 1 || e->d_name[len] || k < 0)
      continue;
    char **grown = realloc(sets, sizeof *sets * (size_t)(*n + 1));
    if (!grown) break;
    sets = grown;
    sets[(*n)++] = util_join(dir, e->d_name);
  }
  closedir(d);
  if (*n == 0) {
    diag_error("--calib=%s holds no test_data_set_<k> folders (each one batch: input_<i>.pb "
               "per model input, the layout of ONNX's test data)", dir);
    free(sets);
    return NULL;
  }
  qsort(sets, (size_t)*n, sizeof *sets, cmp_calib_set);
  return sets;
}

/* The calibration compile's -shape per model input: the first data set's
 * shapes, so the scales do not depend on the -dim or -shape a compile
 * binds (a batch of 1 for a latency figure, of 540 for accuracy). */
static tcc_result calib_shapes(tcc_session *s, tcc_session *c, const char *set) {
  IrFunc *f = s->m->main;
  tcc_result r = TCC_SUCCESS;
  for (int i = 0; r == TCC_SUCCESS && i < f->num_inputs; i++) {
    char *path = malloc(strlen(set) + 32);
    if (!path) return TCC_ERROR_INTERNAL;
    sprintf(path, "%s/input_%d.pb", set, i);
    OnnxTensor t = {0};
    if (!onnx_tensor_read_file(path, &t)) r = TCC_ERROR_INPUT;
    free(path);
    const char *name = f->input_names ? f->input_names[i] : NULL;
    if (r == TCC_SUCCESS && name && t.rank > 0) {
      char value[512];
      int n = snprintf(value, sizeof value, "%s:", name);
      for (int d = 0; d < t.rank && n < (int)sizeof value; d++)
        n += snprintf(value + n, sizeof value - (size_t)n, "%s%lld", d ? "x" : "",
                      (long long)t.dims[d]);
      r = tcc_set_option(c, "shape", value);
    }
    onnx_tensor_free(&t);
  }
  return r;
}

/* Appends the child's diagnostics to s's (printed already when echoing). */
static void adopt_diagnostics(tcc_session *s, const tcc_session *child) {
  bool echo = s->echo;
  s->echo = false;
  for (const char *p = child->diag ? child->diag : ""; *p;) {
    size_t n = strcspn(p, "\n");
    char *line = strndup(p, n);
    if (line) session_sink(s, DIAG_ERROR, line);
    free(line);
    p += n;
    if (*p) p++;
  }
  s->echo = echo;
}

/* --calib-cache=FILE: {"tcc_calibration": 1, "ranges": [[lo, hi], ...]},
 * a range per layer quantize.c takes, in its order. */
static bool calib_cache_read(tcc_session *s, const char *text, size_t len) {
  cJSON *j = cJSON_ParseWithLength(text, len);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "tcc_calibration");
  const cJSON *ranges = cJSON_GetObjectItemCaseSensitive(j, "ranges");
  int n = cJSON_GetArraySize(ranges);
  bool ok = cJSON_IsNumber(v) && v->valuedouble == 1 && cJSON_IsArray(ranges);
  float *lo = calloc((size_t)n + 1, sizeof *lo), *hi = calloc((size_t)n + 1, sizeof *hi);
  ok = ok && lo && hi;
  for (int i = 0; ok && i < n; i++) {
    const cJSON *r = cJSON_GetArrayItem(ranges, i);
    const cJSON *a = cJSON_GetArrayItem(r, 0), *b = cJSON_GetArrayItem(r, 1);
    ok = cJSON_GetArraySize(r) == 2 && cJSON_IsNumber(a) && cJSON_IsNumber(b) &&
         a->valuedouble <= b->valuedouble;
    if (ok) lo[i] = (float)a->valuedouble, hi[i] = (float)b->valuedouble;
  }
  cJSON_Delete(j);
  if (!ok) {
    free(lo), free(hi);
    diag_error("--calib-cache=%s: not a calibration cache (expected {\"tcc_calibration\": 1, "
               "\"ranges\": [[lo, hi], ...]} with lo <= hi)", s->calib_cache);
    return false;
  }
  free(s->calib_lo), free(s->calib_hi);
  s->calib_lo = lo, s->calib_hi = hi, s->num_calib = n;
  s->calibrated = true;
  return true;
}

static bool calib_cache_write(const tcc_session *s) {
  cJSON *j = cJSON_CreateObject(), *ranges = cJSON_CreateArray();
  cJSON_AddNumberToObject(j, "tcc_calibration", 1);
  for (int i = 0; i < s->num_calib; i++) {
    double r[2] = {s->calib_lo[i], s->calib_hi[i]};
    cJSON_AddItemToArray(ranges, cJSON_CreateDoubleArray(r, 2));
  }
  cJSON_AddItemToObject(j, "ranges", ranges);
  char *text = cJSON_Print(j);
  cJSON_Delete(j);
  bool ok = text && util_write_file_atomic(s->calib_cache, text, strlen(text));
  free(text);
  return ok;
}

/* -calib-method=percentile:P: each range narrowed to the central P% of the
 * values counted in hist (bins over [lo, hi]): the bins outside hold at
 * most (100 - P) / 2 % of them on each side. */
enum { CALIB_BINS = 2048 };
static void calib_percentile(float *lo, float *hi, const uint64_t *hist, double p) {
  uint64_t total = 0;
  for (int b = 0; b < CALIB_BINS; b++) total += hist[b];
  double tail = (double)total * (100 - p) / 200, width = ((double)*hi - *lo) / CALIB_BINS;
  int a = 0, z = CALIB_BINS - 1; /* the first and last bins kept */
  uint64_t below = hist[a], above = hist[z];
  while (a < z && (double)below <= tail) below += hist[++a];
  while (z > a && (double)above <= tail) above += hist[--z];
  float l = (float)(*lo + a * width), h = (float)(*lo + (z + 1) * width);
  if (l > *lo) *lo = l;
  if (h < *hi) *hi = h;
}

/* A session that compiles s's model for this machine with s's options
 * (those calibration replays), its input shapes from the data set `set`:
 * what calibration and -quantize-min-sqnr run.  *c NULL: out of memory. */
static tcc_result measuring_session(tcc_session *s, const char *set, tcc_session **out) {
  tcc_session *c = *out = tcc_session_new();
  if (!c) return TCC_ERROR_INTERNAL;
  tcc_result r = TCC_SUCCESS;
  c->echo = s->echo;
  c->quiet = s->quiet;
  for (int i = 0; r == TCC_SUCCESS && i < s->num_opts; i++)
    if (!calib_skips(s->opt_names[i])) r = tcc_set_option(c, s->opt_names[i], s->opt_values[i]);
  if (r == TCC_SUCCESS) r = tcc_set_option(c, "mcpu", "native");
  if (r == TCC_SUCCESS) r = calib_shapes(s, c, set);
  return r;
}

/* -calib-method=entropy: the kept bins [a, e) of the histogram whose u8
 * rendering loses the least information (docs/compression.md "Calibration").
 * P is the kept bins, with the clipped counts added to the end bins; Q
 * spreads each of 256 equal runs of the kept bins' own counts evenly over
 * its nonempty bins (what quantizing to that range keeps); the score is
 * KL(P || Q) with both normalized (an empty Q bin under P counts as 1e-12).
 * The bin of 0 counts in neither.  The upper end is chosen with every bin
 * below kept, then the lower end with that upper end: two searches of one
 * end each, at least 256 bins. */
enum { CALIB_LEVELS = 256 };

static double calib_kl(const uint64_t *hist, int zero, int a, int e, double *p, double *q) {
  int n = e - a;
  double total = 0, qtotal = 0;
#define CALIB_COUNT(i) ((i) == zero ? 0.0 : (double)hist[i])
  for (int i = 0; i < n; i++) p[i] = CALIB_COUNT(a + i);
  for (int i = 0; i < a; i++) p[0] += CALIB_COUNT(i);
  for (int i = e; i < CALIB_BINS; i++) p[n - 1] += CALIB_COUNT(i);
  for (int j = 0; j < CALIB_LEVELS; j++) {
    int b0 = (int)((int64_t)j * n / CALIB_LEVELS), b1 = (int)((int64_t)(j + 1) * n / CALIB_LEVELS);
    double mass = 0;
    int nonzero = 0;
    for (int i = b0; i < b1; i++) {
      mass += CALIB_COUNT(a + i);
      nonzero += CALIB_COUNT(a + i) != 0;
    }
    for (int i = b0; i < b1; i++) q[i] = CALIB_COUNT(a + i) != 0 ? mass / nonzero : 0;
  }
#undef CALIB_COUNT
  for (int i = 0; i < n; i++) total += p[i], qtotal += q[i];
  if (!(total > 0) || !(qtotal > 0)) return INFINITY;
  double kl = 0;
  for (int i = 0; i < n; i++) {
    if (p[i] <= 0) continue;
    double pi = p[i] / total, qi = q[i] / qtotal;
    kl += pi * log(pi / (qi > 1e-12 ? qi : 1e-12));
  }
  return kl;
}

static void calib_entropy(float *lo, float *hi, const uint64_t *hist) {
  double *p = malloc(sizeof *p * CALIB_BINS), *q = malloc(sizeof *q * CALIB_BINS);
  IR_ASSERT(p && q);
  double width = ((double)*hi - *lo) / CALIB_BINS;
  /* the bin of 0, left out: what it holds (a Relu's zeros) is exact at any
   * range, and its spike would otherwise favour the narrowest one */
  double z = width > 0 ? -(double)*lo / width : -1;
  int zero = z >= 0 && z < CALIB_BINS ? (int)z : -1;
  int a = 0, e = CALIB_BINS;
  double best = INFINITY;
  for (int end = CALIB_LEVELS; end <= CALIB_BINS; end++) {
    double kl = calib_kl(hist, zero, 0, end, p, q);
    if (kl < best) best = kl, e = end;
  }
  best = INFINITY;
  for (int start = 0; start + CALIB_LEVELS <= e; start++) {
    double kl = calib_kl(hist, zero, start, e, p, q);
    if (kl < best) best = kl, a = start;
  }
  free(p), free(q);
  float l = (float)(*lo + a * width), h = (float)(*lo + e * width);
  if (l > *lo) *lo = l;
  if (h < *hi) *hi = h;
}

/* -quantize=int8: the ranges of quantize.c's candidates' inputs.  The
 * model file is compiled again with the same flags for this machine, its
 * candidates' inputs as outputs (QuantizeOptions.instrument), and run on
 * every data set of --calib (docs/compression.md "Calibration"). */
static tcc_result calibrate(tcc_session *s) {
  char *cached;
  size_t len;
  if (s->calib_cache && access(s->calib_cache, F_OK) == 0) {
    if (!util_read_file(s->calib_cache, &cached, &len)) return TCC_ERROR_INPUT;
    bool ok = calib_cache_read(s, cached, len);
    free(cached);
    return ok ? TCC_SUCCESS : TCC_ERROR_INPUT;
  }
  if (!s->calib_dir) {
    diag_error("-quantize=int8 needs --calib=DIR: batches of typical inputs "
               "(DIR/test_data_set_<k>/input_<i>.pb) to measure the activations' ranges");
    return TCC_ERROR_INPUT;
  }
  if (!s->model_path) {
    diag_error("--calib compiles the model file again; this model was not read from a file");
    return TCC_ERROR_INPUT;
  }
  int num_sets;
  char **sets = calib_sets(s->calib_dir, &num_sets);
  if (!sets) return TCC_ERROR_INPUT;
  tcc_session *c;
  tcc_result r = measuring_session(s, sets[0], &c);
  if (c) c->calib_instrument = true;
  if (r == TCC_SUCCESS) r = tcc_load_file(c, s->model_path);
  int slots = 1;
  if (r == TCC_SUCCESS)
    for (IrOp *op = c->m->main->body->first; op; op = op->next) slots++;
  float *lo = calloc((size_t)slots, sizeof *lo), *hi = calloc((size_t)slots, sizeof *hi);
  int bins = s->calib_percentile > 0 || s->calib_entropy ? CALIB_BINS : 0;
  uint64_t *hist = bins ? calloc((size_t)slots * bins, sizeof *hist) : NULL;
  if (r == TCC_SUCCESS && (!lo || !hi || (bins && !hist))) r = TCC_ERROR_INTERNAL;
  int first = r == TCC_SUCCESS ? c->m->main->num_outputs : 0;
  if (r == TCC_SUCCESS) {
    RunOptions ro = {.threads = 1, .sets = (const char *const *)sets, .num_sets = num_sets,
                     .first_observed = first, .lo = lo, .hi = hi, .bins = bins, .hist = hist};
    stage_begin("calibration");
    r = tcc_run_model(c, &ro);
    stage_end();
  }
  int observed = r == TCC_SUCCESS ? c->m->main->num_outputs - first : 0;
  for (int i = 0; bins && i < observed; i++)
    if (s->calib_entropy) calib_entropy(&lo[i], &hi[i], hist + (size_t)i * bins);
    else calib_percentile(&lo[i], &hi[i], hist + (size_t)i * bins, s->calib_percentile);
  free(hist);
  if (c) {
    if (r != TCC_SUCCESS) adopt_diagnostics(s, c);
    tcc_session_free(c);
  }
  enter(s);
  for (int i = 0; i < num_sets; i++) free(sets[i]);
  free(sets);
  if (r != TCC_SUCCESS) {
    free(lo), free(hi);
    diag_error("-quantize=int8: calibration on --calib=%s failed", s->calib_dir);
    return r;
  }
  free(s->calib_lo), free(s->calib_hi);
  s->calib_lo = lo, s->calib_hi = hi, s->num_calib = observed;
  s->calibrated = true;
  return s->calib_cache && !calib_cache_write(s) ? TCC_ERROR_INPUT : TCC_SUCCESS;
}

/* ------------------------------------------------- -quantize-min-sqnr */
/* One measuring compile of s's model on the --calib sets (docs/compression.md
 * "Mixed precision"): every candidate's result an output too; all_float, or
 * int8 but for s->keep_layer.  Its outputs are kept (keep) or compared with
 * ref into signal / noise; *outputs: the model's own, *observed: all; names
 * (malloc'd, when not NULL): the node of each candidate. */
typedef struct Measure {
  char **sets;
  int num_sets, slots;
  float **ref;             /* the f32 compile's outputs, per set and output */
  double *signal, *noise;  /* per output */
  int outputs, observed;
} Measure;

static tcc_result measure(tcc_session *s, Measure *me, bool all_float, char ***names) {
  tcc_session *c;
  tcc_result r = measuring_session(s, me->sets[0], &c);
  if (c) {
    c->has_quantize = true;
    c->sqnr_observe = true, c->sqnr_all_float = all_float;
    c->calib_lo = malloc(sizeof *c->calib_lo * (size_t)(s->num_calib + 1));
    c->calib_hi = malloc(sizeof *c->calib_hi * (size_t)(s->num_calib + 1));
    c->keep_layer = calloc((size_t)(s->num_keep_layer + 1), sizeof *c->keep_layer);
    c->sqnr_names = calloc((size_t)me->slots, sizeof *c->sqnr_names);
    if (!c->calib_lo || !c->calib_hi || !c->keep_layer || !c->sqnr_names) r = TCC_ERROR_INTERNAL;
  }
  if (r == TCC_SUCCESS) {
    memcpy(c->calib_lo, s->calib_lo, sizeof *c->calib_lo * (size_t)s->num_calib);
    memcpy(c->calib_hi, s->calib_hi, sizeof *c->calib_hi * (size_t)s->num_calib);
    c->num_calib = s->num_calib;
    memcpy(c->keep_layer, s->keep_layer, sizeof *c->keep_layer * (size_t)s->num_keep_layer);
    c->num_keep_layer = s->num_keep_layer;
    r = set_keep_float_list(c, s->keep_float, s->num_keep_float);
  }
  if (r == TCC_SUCCESS) r = tcc_load_file(c, s->model_path);
  if (r == TCC_SUCCESS) {
    c->calibrated = true; /* s's ranges (a load forgets them) */
    me->outputs = c->m->main->num_outputs;
    for (int i = 0; i < me->slots; i++) me->signal[i] = me->noise[i] = 0;
    RunOptions ro = {.threads = 1, .sets = (const char *const *)me->sets,
                     .num_sets = me->num_sets, .keep = all_float ? me->ref : NULL,
                     .ref = all_float ? NULL : me->ref, .signal = me->signal,
                     .noise = me->noise};
    stage_begin("quantize-min-sqnr");
    r = tcc_run_model(c, &ro);
    stage_end();
  }
  if (r == TCC_SUCCESS) {
    me->observed = c->m->main->num_outputs;
    if (me->observed > me->slots) r = TCC_ERROR_INTERNAL;
    if (names && r == TCC_SUCCESS) {
      *names = calloc((size_t)me->observed + 1, sizeof **names);
      for (int i = me->outputs; *names && i < me->observed; i++) {
        const char *node = c->sqnr_names[i - me->outputs];
        (*names)[i - me->outputs] = strdup(node ? node : "");
      }
    }
  }
  if (c) {
    free(c->sqnr_names);
    if (r != TCC_SUCCESS) adopt_diagnostics(s, c);
    tcc_session_free(c);
  }
  enter(s);
  return r;
}

static double sqnr_db(double signal, double noise) {
  return noise > 0 ? 10 * log10(signal / noise) : INFINITY;
}

/* The model outputs' SQNR in me's last measurement. */
static double outputs_sqnr(const Measure *me) {
  double signal = 0, noise = 0;
  for (int i = 0; i < me->outputs; i++) signal += me->signal[i], noise += me->noise[i];
  return sqnr_db(signal, noise);
}

/* -quantize-min-sqnr=DB (docs/compression.md "Mixed precision"): when the
 * model's outputs on --calib are below DB against float32 with every layer
 * in int8, each layer is measured alone in int8 (its share of the outputs'
 * noise); the layers with the largest shares stay in float (s->keep_layer)
 * until the shares left fit DB, then the outputs are measured again and one
 * more layer stays in float while they miss it. */
static tcc_result choose_float_layers(tcc_session *s) {
  if (!s->calib_dir) {
    diag_error("-quantize-min-sqnr measures the outputs on --calib=DIR; give it (also with "
               "--calib-cache)");
    return TCC_ERROR_INPUT;
  }
  Measure me = {0};
  me.sets = calib_sets(s->calib_dir, &me.num_sets);
  if (!me.sets) return TCC_ERROR_INPUT;
  int n = s->num_calib;
  me.slots = s->m->main->num_outputs + n + 1;
  me.ref = calloc((size_t)me.num_sets * (size_t)me.slots, sizeof *me.ref);
  me.signal = calloc((size_t)me.slots, sizeof *me.signal);
  me.noise = calloc((size_t)me.slots, sizeof *me.noise);
  double *share = calloc((size_t)n + 1, sizeof *share); /* noise of layer k alone */
  free(s->keep_layer);
  s->keep_layer = calloc((size_t)n + 1, sizeof *s->keep_layer);
  s->num_keep_layer = n;
  tcc_result r = me.ref && me.signal && me.noise && share && s->keep_layer
                     ? TCC_SUCCESS : TCC_ERROR_INTERNAL;
  char **names = NULL;
  if (r == TCC_SUCCESS) r = measure(s, &me, true, NULL);
  if (r == TCC_SUCCESS) r = measure(s, &me, false, &names);
  double all = r == TCC_SUCCESS ? outputs_sqnr(&me) : 0, model = all, signal = 0;
  for (int i = 0; i < me.outputs; i++) signal += me.signal[i];
  int layers = r == TCC_SUCCESS ? me.observed - me.outputs : 0, kept = 0;
  double *layer_db = calloc((size_t)layers + 1, sizeof *layer_db);
  for (int k = 0; layer_db && k < layers; k++)
    layer_db[k] = sqnr_db(me.signal[me.outputs + k], me.noise[me.outputs + k]);
  if (r == TCC_SUCCESS && !layer_db) r = TCC_ERROR_INTERNAL;
  if (r == TCC_SUCCESS && model < s->min_sqnr) {
    for (int k = 0; r == TCC_SUCCESS && k < n; k++) { /* each layer alone */
      for (int j = 0; j < n; j++) s->keep_layer[j] = j != k;
      r = measure(s, &me, false, NULL);
      for (int i = 0; i < me.outputs; i++) share[k] += me.noise[i];
    }
    for (int k = 0; k < n; k++) s->keep_layer[k] = false;
    double allowed = signal / pow(10, s->min_sqnr / 10), left = 0;
    for (int k = 0; k < n; k++) left += share[k];
    while (r == TCC_SUCCESS && model < s->min_sqnr) {
      int worst = -1;
      for (int k = 0; k < n; k++)
        if (!s->keep_layer[k] && share[k] > 0 && (worst < 0 || share[k] > share[worst])) worst = k;
      if (worst < 0) break;
      s->keep_layer[worst] = true;
      left -= share[worst];
      kept++;
      diag_at(DIAG_NOTE, &(IrLoc){0}, "-quantize-min-sqnr: layer '%s' stays in float (alone in "
              "int8 it brings the outputs to %.1f dB)", names[worst], sqnr_db(signal, share[worst]));
      if (left > allowed) continue; /* the shares left still miss the bound */
      r = measure(s, &me, false, NULL);
      model = outputs_sqnr(&me);
    }
  }
  if (r == TCC_SUCCESS) {
    free(s->layer_sqnr);
    for (int i = 0; s->layer_names && i < s->num_layer_sqnr; i++) free(s->layer_names[i]);
    free(s->layer_names);
    s->layer_names = names, s->layer_sqnr = layer_db, s->num_layer_sqnr = layers;
    names = NULL, layer_db = NULL;
    diag_at(DIAG_NOTE, &(IrLoc){0}, "-quantize-min-sqnr: the outputs at %.1f dB against float32 "
            "on --calib (at least %g; %.1f dB all in int8), %d of %d layers in float", model,
            s->min_sqnr, all, kept, n);
    if (model < s->min_sqnr)
      diag_warning("-quantize-min-sqnr: %.1f dB is the most that float layers give here", model);
  }
  for (int i = 0; names && i < layers; i++) free(names[i]);
  free(names), free(layer_db), free(share);
  for (int i = 0; me.ref && i < me.num_sets * me.slots; i++) free(me.ref[i]);
  free(me.ref), free(me.signal), free(me.noise);
  for (int i = 0; i < me.num_sets; i++) free(me.sets[i]);
  free(me.sets);
  return r;
}

tcc_result tcc_session_run_passes(tcc_session *s) {
  enter(s);
  if (!s->m) {
    diag_error("no model loaded");
    return TCC_ERROR_INPUT;
  }
  /* -O0 keeps the plain loops as the reference; above it the schedule
   * shapes kernels for the target's description. */
  SchedTarget st;
  const TccTarget *t = target_find(s->target);
  if (s->opt_level == 0 && s->weight_store != IR_F32) {
    diag_error("-weight-type=%s stores the weights that the packed kernels read; -O0 has none "
               "(its plain loops read f32): compile at -O1 or above",
               s->weight_store == IR_F16 ? "fp16" : "bf16");
    return TCC_ERROR_INPUT;
  }
  if (s->opt_level > 0) {
    if (!target_check_cpu(t, s->mcpu ? s->mcpu : t->default_cpu) ||
        (s->mattr && !target_check_features(t, s->mattr)))
      return TCC_ERROR_INPUT;
    LlvmOptions lo = {.target = t, .cpu = s->mcpu, .features = s->mattr,
                      .opt_level = s->opt_level, .jobs = 1}; /* for the schedule only */
    target_sched(&lo, &st);
    session_sched(s, &st);
    if (s->tuning_path && !s->tuning_read) {
      char *cpu, *features;
      target_resolve(&lo, &cpu, &features);
      bool ok = tune_choices_read(s->tuning_path, t->name, cpu, features, s->tuning_any_cpu,
                                  &s->tuning);
      free(cpu), free(features);
      if (!ok) return TCC_ERROR_INPUT;
      s->tuning_read = true;
    }
  }
  s->m->no_index_checks = !s->index_checks;
  free(s->dot_before), free(s->dot_after), free(s->tir), free(s->layers);
  s->dot_before = s->dot_after = s->tir = NULL;
  s->layers = NULL;
  s->num_layers = 0;
  s->has_mem = false;
  if (s->has_quantize && s->quantize_dynamic) {
    if (s->calib_dir || s->calib_cache) {
      diag_error("%s applies to -quantize=int8; -quantize=dynamic measures each input's range "
                 "at run time", s->calib_dir ? "--calib" : "--calib-cache");
      return TCC_ERROR_INPUT;
    }
    s->quantize = (QuantizeOptions){.dynamic = true,
                                    .keep_float = (const char *const *)s->keep_float,
                                    .num_keep = s->num_keep_float};
  } else if (s->has_quantize && !s->calib_instrument) {
    if (!s->calibrated) {
      tcc_result r = calibrate(s);
      if (r != TCC_SUCCESS) return r;
    }
    if (s->min_sqnr > 0 && !s->sqnr_observe) {
      tcc_result r = choose_float_layers(s);
      if (r != TCC_SUCCESS) return r;
    }
    s->quantize = (QuantizeOptions){.lo = s->calib_lo, .hi = s->calib_hi,
                                    .num_ranges = s->num_calib,
                                    .keep_float = (const char *const *)s->keep_float,
                                    .num_keep = s->num_keep_float, .log = s->quantize_log,
                                    .observe = s->sqnr_observe,
                                    .all_float = s->sqnr_all_float,
                                    .keep_layer = s->keep_layer,
                                    .num_keep_layer = s->num_keep_layer,
                                    .layer_names = s->sqnr_names};
  }
  if (s->calib_instrument) s->quantize = (QuantizeOptions){.instrument = true};
  bool quantize = s->has_quantize || s->calib_instrument;
  if (s->emit & EMIT_DOT) s->dot_before = dot_of(s->m, "before the passes");
  PipelineOptions po = {
      s->passes ? s->passes
                : pass_pipeline_for_level(s->opt_level, s->fuse,
                                          s->has_lowrank || s->has_prune || quantize),
      s->print_ir_after, s->verify_each, s->stats, stdout,
      s->opt_level > 0 ? &st : NULL,
      (s->emit & EMIT_DOT) || wants_report(s) ? before_lower : NULL, s,
      s->opt_level > 0 && s->tuning_read ? &s->tuning : NULL, s->profile,
      s->has_lowrank ? &s->lowrank : NULL, s->has_prune ? &s->prune : NULL,
      quantize ? &s->quantize : NULL};
  if (!pass_run_pipeline(s->m, &po))
    return diag_error_count() ? TCC_ERROR_INPUT : TCC_ERROR_INTERNAL;
  if ((s->emit & EMIT_DOT) && !s->dot_after) s->dot_after = dot_of(s->m, "after the passes");
  if (s->emit & EMIT_IR) s->tir = ir_print_module_str(s->m);
  return TCC_SUCCESS;
}

static tcc_result codegen(tcc_session *s) {
  IrFunc *f = s->m->main;
  if (!f->lowered || f->workspace_size < 0) {
    diag_error("code generation needs lowered IR with a memory plan; the "
               "pipeline must include 'lower' and 'plan-memory'");
    return TCC_ERROR_INPUT;
  }
  const TccTarget *t = target_find(s->target);
  if (!target_check_cpu(t, s->mcpu ? s->mcpu : t->default_cpu) ||
      (s->mattr && !target_check_features(t, s->mattr)))
    return TCC_ERROR_INPUT;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int jobs = s->jobs ? s->jobs : cores < 1 ? 1 : cores > 256 ? 256 : (int)cores;
  if ((s->emit & EMIT_WEIGHTS) && !s->external_weights) {
    diag_error("--emit=weights writes the blob of --weights=external; add --weights=external "
               "(without it the weights are in the object)");
    return TCC_ERROR_INPUT;
  }
  LlvmOptions lo = {t, s->mcpu, s->mattr, s->opt_level, jobs, s->share_functions,
                    s->external_weights, (s->emit & EMIT_LLVM) != 0, (s->emit & EMIT_ASM) != 0};
  llvm_object_free(&s->obj);
  s->has_obj = false;
  bool emitted = llvm_emit(s->m, &lo, &s->obj); /* its stages: "codegen: ..." */
  stage_begin("header and memory fit");
  if (!emitted) return TCC_ERROR_INTERNAL;
  s->has_obj = true;
  if (wants_report(s)) s->has_mem = target_memory(s->m, &s->obj, &s->mem);
  s->did_not_fit = false;
  if (!target_check_fit(t, s->m, &s->obj, &s->budget)) {
    llvm_object_free(&s->obj); /* a refused object must not be emitted later */
    s->has_obj = false;
    s->did_not_fit = true;
    return TCC_ERROR_INPUT;
  }
  free(s->header);
  HeaderWeights hw = {s->obj.weights.id, s->obj.weights.data_size};
  s->header = header_emit(s->m, s->external_weights ? &hw : NULL);
  stage_end();
  return s->header ? TCC_SUCCESS : TCC_ERROR_INTERNAL;
}

tcc_result tcc_compile(tcc_session *s) {
  tcc_result r = tcc_session_run_passes(s);
  if (r != TCC_SUCCESS) return r;
  enter(s);
  return codegen(s);
}

/* ---------------------------------------------------------------- emit */
tcc_result tcc_emit_memory(tcc_session *s, const void **object,
                           size_t *object_size, const char **header) {
  enter(s);
  if (!s->has_obj || !s->header) {
    diag_error("nothing to emit: compile first");
    return TCC_ERROR_INPUT;
  }
  *object = llvm_object_bytes(&s->obj);
  if (!*object) {
    diag_error("out of memory for the %llu-byte object",
               (unsigned long long)llvm_object_size(&s->obj));
    return TCC_ERROR_INTERNAL;
  }
  *object_size = s->obj.size;
  *header = s->header;
  return TCC_SUCCESS;
}

/* Appends path to a Makefile rule, escaped as GNU make and CMake's depfile
 * reader take it (space, '#', '$', and a backslash before those). */
static void append_make_path(IrArena *a, char **rule, const char *path) {
  size_t n = strlen(path);
  char *e = ir_arena_alloc(a, 2 * n + 2), *o = e;
  *o++ = ' ';
  for (size_t i = 0; i < n; i++) {
    char c = path[i];
    if (c == '$') *o++ = '$';
    else if (c == ' ' || c == '#' || (c == '\\' && (path[i + 1] == ' ' || path[i + 1] == '#')))
      *o++ = '\\';
    *o++ = c;
  }
  *o = 0;
  *rule = ir_arena_printf(a, "%s%s", *rule, e);
}

/* "OUTPUTS...: MODEL DATA... FROZEN...": everything a compile read, so a
 * build system reruns it when one of them changes (absolute paths, as
 * realpath gives them; the outputs as written). */
static ReportInfo report_info(const tcc_session *s) {
  const TccTarget *t = target_find(s->target);
  return (ReportInfo){s->m, t->name, s->mcpu ? s->mcpu : t->default_cpu,
                      s->mattr ? s->mattr : t->default_features, s->layers, s->num_layers,
                      s->has_mem ? &s->mem : NULL, &s->budget, &s->obj.weights,
                      s->weight_store == IR_F16 ? "fp16" : s->weight_store == IR_BF16 ? "bf16"
                                                                                     : "f32",
                      (const char *const *)s->layer_names, s->layer_sqnr, s->num_layer_sqnr};
}

static char *report_text(const tcc_session *s) {
  ReportInfo r = report_info(s);
  return report_json(&r);
}

bool tcc_session_did_not_fit(const tcc_session *s) { return s->did_not_fit; }

void tcc_session_print_report(tcc_session *s, FILE *out) {
  if (!s->layers) return;
  ReportInfo r = report_info(s);
  report_table(&r, out);
}

/* One file --emit writes: a text, or (text NULL) what write puts there
 * piece by piece (the object, the weights blob). */
typedef struct Output {
  char *path, *tmp;
  const char *text;
  bool (*write)(FILE *f, void *user);
} Output;

static char *depfile_rule(tcc_session *s, const Output *out, int n) {
  IrArena *a = s->m->arena;
  char *rule = "";
  for (int i = 0; i < n; i++) append_make_path(a, &rule, out[i].path);
  rule = ir_arena_printf(a, "%s:", rule + 1);
  if (s->model_path) append_make_path(a, &rule, s->model_path);
  for (int i = 0; i < s->m->num_data_files; i++)
    append_make_path(a, &rule, s->m->data_files[i]);
  for (int i = 0; i < s->num_frozen; i++)
    if (s->frozen_files[i]) append_make_path(a, &rule, s->frozen_files[i]);
  return ir_arena_printf(a, "%s\n", rule);
}

/* The object goes to the file piece by piece: its weights from where they
 * lie, never a copy of them in memory. */
static bool write_object(FILE *f, void *user) {
  return llvm_object_write(&((tcc_session *)user)->obj, f);
}

static bool write_weights(FILE *f, void *user) {
  tcc_session *s = user;
  return llvm_weights_write(s->m, &s->obj, f);
}

/* What --emit names, with the weights blob by default under
 * --weights=external. */
static unsigned emit_kinds(const tcc_session *s) {
  unsigned k = s->emit;
  if (s->external_weights && !tcc_session_has_option(s, "emit")) k |= EMIT_WEIGHTS;
  return k;
}

tcc_result tcc_emit_files(tcc_session *s, const char *dir) {
  enter(s);
  if (!s->has_obj || !s->header) {
    diag_error("nothing to emit: compile first");
    return TCC_ERROR_INPUT;
  }
  if (!util_mkdir_p(dir)) return TCC_ERROR_INPUT;
  IrArena *a = s->m->arena;
  unsigned kinds = emit_kinds(s);
  const char *texts[] = {NULL, s->header, s->obj.asm_text, s->obj.llvm_text, s->tir};
  static const char *const suffix[] = {".o", ".h", ".s", ".ll", ".tir"};
  Output out[10];
  int n = 0;
  for (int k = 0; k < 5; k++)
    if (kinds & (1u << k))
      out[n++] = (Output){util_join(dir, ir_arena_printf(a, "%s%s", s->m->name, suffix[k])), NULL,
                          texts[k], k == 0 ? write_object : NULL};
  if (kinds & EMIT_WEIGHTS)
    out[n++] = (Output){util_join(dir, ir_arena_printf(a, "%s.weights", s->m->name)), NULL,
                        NULL, write_weights};
  char *report = s->report ? report_text(s) : NULL;
  if (s->report) out[n++] = (Output){strdup(s->report), NULL, report, NULL};
  if (kinds & EMIT_DOT) {
    out[n++] = (Output){util_join(dir, ir_arena_printf(a, "%s.before.dot", s->m->name)), NULL,
                        s->dot_before, NULL};
    out[n++] = (Output){util_join(dir, ir_arena_printf(a, "%s.after.dot", s->m->name)), NULL,
                        s->dot_after, NULL};
  }
  stage_begin("write object");
  /* Every temporary first, then every rename: never a new .o beside an
   * old .h. */
  bool ok = true;
  for (int i = 0; i < n && ok; i++) {
    if (!out[i].write && !out[i].text) { /* a text that could not be made */
      diag_error("out of memory for %s", out[i].path);
      ok = false;
      break;
    }
    out[i].tmp = out[i].text ? util_write_temp(out[i].path, out[i].text, strlen(out[i].text))
                             : util_write_temp_with(out[i].path, out[i].write, s);
    ok = out[i].tmp != NULL;
  }
  char *tmp_d = NULL;
  if (ok && s->depfile) {
    char *rule = depfile_rule(s, out, n);
    tmp_d = util_write_temp(s->depfile, rule, strlen(rule));
    ok = tmp_d != NULL;
  }
  for (int i = 0; i < n; i++) {
    if (ok) ok = util_commit_temp(out[i].tmp, out[i].path);
    else util_discard_temp(out[i].tmp);
    free(out[i].path);
  }
  if (tmp_d) {
    if (ok) ok = util_commit_temp(tmp_d, s->depfile);
    else util_discard_temp(tmp_d);
  }
  stage_end();
  free(report);
  return ok ? TCC_SUCCESS : TCC_ERROR_INPUT;
}

/* ---------------------------------------------------------------- export */
tcc_result tcc_export_model(tcc_session *s, const char *dir) {
  enter(s);
  if (!s->has_quantize) {
    diag_error("tcc export writes the model as -quantize=int8 compiles it; give -quantize=int8 "
               "and --calib=DIR (or --calib-cache=FILE)");
    return TCC_ERROR_INPUT;
  }
  if (s->quantize_dynamic) {
    diag_error("tcc export writes -quantize=int8 models; -quantize=dynamic is not written back "
               "yet");
    return TCC_ERROR_INPUT;
  }
  if (s->has_prune || s->has_lowrank) {
    diag_error("tcc export writes quantized models only; -%s changes the graph in ways it does "
               "not write back yet", s->has_prune ? "prune-channels" : "lowrank");
    return TCC_ERROR_INPUT;
  }
  if (!s->m || !s->model_path) {
    diag_error("tcc export needs a model read from an ONNX file");
    return TCC_ERROR_INPUT;
  }
  if (!util_mkdir_p(dir)) return TCC_ERROR_INPUT;
  char *path = util_join(dir, ir_arena_printf(s->m->arena, "%s.onnx", s->m->name));
  char *real = realpath(path, NULL);
  bool same = real && !strcmp(real, s->model_path);
  free(real);
  if (same) {
    diag_error("tcc export would write %s over the model it reads; choose another -o", path);
    free(path);
    return TCC_ERROR_INPUT;
  }
  QuantizeLog log = {0};
  s->quantize_log = &log;
  tcc_result r = tcc_session_run_passes(s);
  s->quantize_log = NULL;
  enter(s);
  void *bytes = NULL;
  size_t size = 0;
  OnnxExportStats st = {0};
  if (r == TCC_SUCCESS && !onnx_export_qdq(s->m, &log, &bytes, &size, &st))
    r = TCC_ERROR_INPUT;
  quantize_log_free(&log);
  if (r == TCC_SUCCESS) {
    r = util_write_file_atomic(path, bytes, size) ? TCC_SUCCESS : TCC_ERROR_INPUT;
    if (r == TCC_SUCCESS)
      diag_at(DIAG_NOTE, &(IrLoc){0}, "wrote %s: %d layer%s in QDQ form (%d input pair%s, %d weight%s quantized again "
                "from the file's values), %zu bytes", path, st.layers, st.layers == 1 ? "" : "s",
                st.pairs, st.pairs == 1 ? "" : "s", st.requantized,
                st.requantized == 1 ? "" : "s", size);
  }
  free(bytes);
  free(path);
  return r;
}
