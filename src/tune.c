/*
 * tune.c — `tcc tune`: schedules searched on this machine within a
 * budget, the tuning log that compiles read (--tuning=FILE), and the cost
 * model learned from such logs (docs/tuning.md).
 *
 * A round compiles and times the whole model once, in a child
 * `tcc bench -profile=1 --json` (so a crashing candidate costs its round,
 * never the search), with one candidate schedule per subgraph: the
 * object calls tcc_profile_mark between layers, so every subgraph's time
 * comes out of the same run.  A subgraph is a distinct op with its
 * shapes and types (ir_print_op_signature): ResNet-18's repeated blocks
 * are one, and all its layers take the same candidate.  The cost model
 * ranks each subgraph's candidates (sched_candidates) and the search
 * takes them best-predicted first; compiling and timing never overlap.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "session.h"
#include "timer.h"

/* A log is refused by a compile when made for another target or CPU. */
#define TUNE_LOG_FORMAT 1
/* Candidates kept per subgraph, best predicted first. */
#define TUNE_MAX_CANDIDATES 512
/* A candidate replaces the default only when this much faster (noise). */
#define TUNE_MIN_GAIN 0.02
/* Confirmation: every TUNE_CONFIRM_EVERY-th round, and every round once a
 * subgraph has no candidate left, it times one of its TUNE_CONFIRM fastest
 * (or the default) again, so one slow timing does not decide. */
#define TUNE_CONFIRM 3
#define TUNE_CONFIRM_EVERY 4

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ------------------------------------------------------ reading a log */
static const char *json_string(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double json_number(const cJSON *o, const char *name, double dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static cJSON *read_json(const char *path) {
  char *text;
  size_t size;
  if (!util_read_file(path, &text, &size)) return NULL;
  cJSON *j = cJSON_ParseWithLength(text, size);
  free(text);
  if (!j || !cJSON_IsObject(j)) {
    diag_at(DIAG_ERROR, &(IrLoc){.file = path}, "not a tuning log (not a JSON object)");
    cJSON_Delete(j);
    return NULL;
  }
  return j;
}

/* The first feature in which two comma lists differ ("+avx512f" against
 * "-avx512f", or one list's extra entry), for the refusal's message. */
static void first_feature_difference(const char *a, const char *b, char *out, size_t size) {
  snprintf(out, size, "their order");
  const char *lists[2] = {a, b};
  for (int side = 0; side < 2; side++)
    for (const char *p = lists[side]; *p;) {
      size_t n = strcspn(p, ",");
      const char *other = lists[1 - side];
      bool found = false;
      for (const char *q = other; *q;) {
        size_t m = strcspn(q, ",");
        if (m == n && !strncmp(p, q, n)) found = true;
        q += m + (q[m] == ',');
      }
      if (!found) {
        snprintf(out, size, "'%.*s' only in the %s", (int)n, p, side ? "compile's" : "log's");
        return;
      }
      p += n + (p[n] == ',');
    }
}

/* Checks that the log was made for this target, CPU and features. */
static bool log_matches(const char *path, const cJSON *j, const char *target, const char *cpu,
                        const char *features, bool any_cpu) {
  const char *lt = json_string(j, "target"), *lc = json_string(j, "cpu"),
             *lf = json_string(j, "features");
  if ((int)json_number(j, "format", 0) != TUNE_LOG_FORMAT || !lt || !lc || !lf ||
      !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "subgraphs"))) {
    diag_at(DIAG_ERROR, &(IrLoc){.file = path},
            "not a tuning log of this tcc (format %d with target, cpu, features and "
            "subgraphs expected)",
            TUNE_LOG_FORMAT);
    return false;
  }
  if (strcmp(lt, target)) {
    diag_at(DIAG_ERROR, &(IrLoc){.file = path}, "the log was tuned for target %s, not %s", lt,
            target);
    return false;
  }
  if (any_cpu) return true;
  if (strcmp(lc, cpu)) {
    diag_at(DIAG_ERROR, &(IrLoc){.file = path},
            "the log was tuned on CPU %s, this compile is for %s (--tuning-any-cpu "
            "uses it anyway)",
            lc, cpu);
    return false;
  }
  if (strcmp(lf, features)) {
    char diff[160];
    first_feature_difference(lf, features, diff, sizeof diff);
    diag_at(DIAG_ERROR, &(IrLoc){.file = path},
            "the log was tuned with other CPU features than this compile's (%s; "
            "--tuning-any-cpu uses it anyway)",
            diff);
    return false;
  }
  return true;
}

static void add_choice(SchedTuning *t, const char *key, const SchedChoice *c) {
  t->keys = realloc(t->keys, sizeof *t->keys * (size_t)(t->n + 1));
  t->choices = realloc(t->choices, sizeof *t->choices * (size_t)(t->n + 1));
  IR_ASSERT(t->keys && t->choices);
  t->keys[t->n] = strdup(key);
  t->choices[t->n++] = *c;
}

void tune_choices_free(SchedTuning *t) {
  for (int i = 0; i < t->n; i++) free(t->keys[i]);
  free(t->keys), free(t->choices);
  *t = (SchedTuning){0};
}

bool tune_choices_read(const char *path, const char *target, const char *cpu, const char *features,
                       bool any_cpu, SchedTuning *out) {
  cJSON *j = read_json(path);
  if (!j) return false;
  bool ok = log_matches(path, j, target, cpu, features, any_cpu);
  const cJSON *sg, *all = ok ? cJSON_GetObjectItemCaseSensitive(j, "subgraphs") : NULL;
  int k = 0;
  cJSON_ArrayForEach(sg, all) {
    const char *key = json_string(sg, "key");
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(sg, "best");
    const char *text = best ? json_string(best, "schedule") : NULL;
    SchedChoice c;
    if (!key || !text || !sched_choice_parse(text, &c)) {
      diag_at(DIAG_ERROR, &(IrLoc){.file = path},
              "subgraph %d: expected a key and best.schedule like \"tile=6x4 kc=256 "
              "prefetch=8192 transposed=0\" or \"depthwise=rows\"",
              k);
      ok = false;
      break;
    }
    add_choice(out, key, &c);
    k++;
  }
  cJSON_Delete(j);
  if (!ok) tune_choices_free(out);
  return ok;
}

/* ------------------------------------------------------------ search */
typedef struct Measured {
  SchedChoice c;
  double ms; /* the subgraph's layers summed, the least of its timings; < 0: failed */
  int times; /* how many rounds timed it */
} Measured;

typedef struct Subgraph {
  char *key;
  SchedProblem problem; /* the default compile's */
  int layers;           /* how many of the model's layers it is */
  double default_ms;    /* round 0's, or less when confirmed */
  int default_times;
  SchedChoice *cand;    /* best predicted first */
  int num_cand, next;
  Measured *meas;
  int num_meas;
  int best; /* index into meas; -1: the default stays */
} Subgraph;

typedef struct Tuner {
  tcc_session *s;
  const TuneOptions *o;
  SchedTarget target;
  char *cpu, *features;
  char dir[64]; /* the candidates' logs and the child's output */
  Subgraph *sg;
  int num_sg;
  double start, default_total, tuned_total;
  int rounds, failed_rounds, iters;
  bool interrupted;
} Tuner;

static volatile sig_atomic_t got_sigint;
static void on_sigint(int sig) {
  (void)sig;
  got_sigint = 1;
}

static Subgraph *find_subgraph(Tuner *t, const char *key) {
  for (int i = 0; i < t->num_sg; i++)
    if (!strcmp(t->sg[i].key, key)) return &t->sg[i];
  return NULL;
}

static bool measured_already(const Subgraph *g, const SchedChoice *c) {
  for (int i = 0; i < g->num_meas; i++)
    if (sched_choice_equal(&g->meas[i].c, c)) return true;
  return false;
}

/* A timing only ever errs slow on a shared machine (another process takes
 * the core, never gives it back faster), so a schedule timed again keeps
 * its least time. */
static void keep_least(double *ms, double t) {
  if (t >= 0 && (*ms < 0 || t < *ms)) *ms = t;
}

/* The best: the fastest measured, when at least TUNE_MIN_GAIN faster than
 * the default (less is noise). */
static void update_best(Subgraph *g) {
  g->best = -1;
  for (int i = 0; i < g->num_meas; i++) {
    double ms = g->meas[i].ms;
    if (ms >= 0 && ms < g->default_ms * (1 - TUNE_MIN_GAIN) &&
        (g->best < 0 || ms < g->meas[g->best].ms))
      g->best = i;
  }
}

/* One timing of c (< 0: its round failed): a new candidate, or another
 * timing of one measured before or of the default. */
static void add_measured(Subgraph *g, const SchedChoice *c, double ms) {
  int i = 0;
  while (i < g->num_meas && !sched_choice_equal(&g->meas[i].c, c)) i++;
  if (i == g->num_meas) {
    g->meas = realloc(g->meas, sizeof *g->meas * (size_t)(g->num_meas + 1));
    IR_ASSERT(g->meas);
    g->meas[g->num_meas++] = (Measured){*c, -1, 0};
  }
  keep_least(&g->meas[i].ms, ms);
  g->meas[i].times++;
  if (sched_choice_equal(c, &g->problem.used)) {
    keep_least(&g->default_ms, ms);
    g->default_times++;
  }
  update_best(g);
}

/* Writes a log: what the search measured, and per subgraph the best. */
static cJSON *log_json(const Tuner *t, bool with_measured) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "format", TUNE_LOG_FORMAT);
  cJSON_AddStringToObject(j, "tcc_version", tcc_version());
  cJSON_AddStringToObject(j, "target", t->target.name);
  cJSON_AddStringToObject(j, "cpu", t->cpu);
  cJSON_AddStringToObject(j, "features", t->features);
  if (with_measured) {
    cJSON_AddStringToObject(j, "model", t->o->model);
    cJSON_AddNumberToObject(j, "threads", t->o->threads);
    cJSON_AddNumberToObject(j, "budget_s", t->o->budget_s);
    cJSON_AddNumberToObject(j, "elapsed_s", now_s() - t->start);
    cJSON_AddNumberToObject(j, "rounds", t->rounds);
    cJSON_AddNumberToObject(j, "default_ms", t->default_total);
    if (t->tuned_total > 0) cJSON_AddNumberToObject(j, "tuned_ms", t->tuned_total);
    if (t->interrupted) cJSON_AddBoolToObject(j, "interrupted", true);
  }
  cJSON *arr = cJSON_AddArrayToObject(j, "subgraphs");
  for (int i = 0; i < t->num_sg; i++) {
    const Subgraph *g = &t->sg[i];
    char text[160];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "key", g->key);
    cJSON_AddNumberToObject(o, "layers", g->layers);
    cJSON *p = cJSON_AddObjectToObject(o, "problem");
    cJSON_AddStringToObject(p, "kind", g->problem.kind == SCHED_KIND_GEMM ? "gemm" : "depthwise");
    cJSON_AddNumberToObject(p, "M", (double)g->problem.M);
    cJSON_AddNumberToObject(p, "N", (double)g->problem.N);
    cJSON_AddNumberToObject(p, "K", (double)g->problem.K);
    cJSON_AddNumberToObject(p, "max_rows", g->problem.max_rows);
    cJSON_AddBoolToObject(p, "transposable", g->problem.transposable);
    cJSON_AddBoolToObject(p, "splittable", g->problem.splittable);
    cJSON_AddNumberToObject(p, "packed_bytes", (double)g->problem.packed_bytes);
    cJSON_AddNumberToObject(p, "variants", g->problem.variants);
    cJSON *d = cJSON_AddObjectToObject(o, "default");
    sched_choice_format(&g->problem.used, g->problem.kind, text, sizeof text);
    cJSON_AddStringToObject(d, "schedule", text);
    cJSON_AddNumberToObject(d, "ms", g->default_ms);
    cJSON *b = cJSON_AddObjectToObject(o, "best");
    const SchedChoice *bc = g->best >= 0 ? &g->meas[g->best].c : &g->problem.used;
    sched_choice_format(bc, g->problem.kind, text, sizeof text);
    cJSON_AddStringToObject(b, "schedule", text);
    cJSON_AddNumberToObject(b, "ms", g->best >= 0 ? g->meas[g->best].ms : g->default_ms);
    if (with_measured) {
      cJSON *m = cJSON_AddArrayToObject(o, "measured");
      for (int k = 0; k < g->num_meas; k++) {
        cJSON *e = cJSON_CreateObject();
        sched_choice_format(&g->meas[k].c, g->problem.kind, text, sizeof text);
        cJSON_AddStringToObject(e, "schedule", text);
        if (g->meas[k].ms >= 0)
          cJSON_AddNumberToObject(e, "ms", g->meas[k].ms);
        else
          cJSON_AddStringToObject(e, "error", "the round failed");
        cJSON_AddNumberToObject(e, "times", g->meas[k].times);
        cJSON_AddItemToArray(m, e);
      }
    }
    cJSON_AddItemToArray(arr, o);
  }
  return j;
}

static bool write_json(const char *path, cJSON *j) {
  char *text = cJSON_Print(j);
  cJSON_Delete(j);
  bool ok = text && util_write_file_atomic(path, text, strlen(text));
  cJSON_free(text);
  return ok;
}

/* A child `tcc bench` of the model with `tuning` (NULL: the default
 * schedule): its JSON, or NULL when it failed (its stderr is kept). */
static cJSON *bench_round(Tuner *t, const char *tuning) {
  const TuneOptions *o = t->o;
  char iters[16], threads[32], warm[16];
  snprintf(iters, sizeof iters, "%d", t->iters);
  snprintf(threads, sizeof threads, "-threads=%d", o->threads);
  snprintf(warm, sizeof warm, "%d", 2);
  char tuning_opt[160];
  snprintf(tuning_opt, sizeof tuning_opt, "--tuning=%s", tuning ? tuning : "");
  const char *argv[300];
  int n = 0;
  argv[n++] = o->self;
  argv[n++] = "bench";
  argv[n++] = o->model;
  for (int i = 0; i < o->num_flags && n < 280; i++) argv[n++] = o->flags[i];
  argv[n++] = "-profile=1";
  argv[n++] = "--json";
  argv[n++] = "-q";
  argv[n++] = threads;
  argv[n++] = "--iters";
  argv[n++] = iters;
  argv[n++] = "--warmup";
  argv[n++] = warm;
  if (tuning) argv[n++] = tuning_opt;
  argv[n] = NULL;
  char out_path[96], err_path[96];
  snprintf(out_path, sizeof out_path, "%s/bench.json", t->dir);
  snprintf(err_path, sizeof err_path, "%s/bench.err", t->dir);
  pid_t pid = fork();
  if (pid == 0) {
    /* a group of its own: Ctrl-C on the terminal reaches tune only, which
     * lets the round finish and then stops */
    setpgid(0, 0);
    int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0) _exit(127);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  int st = -1;
  if (pid > 0)
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) continue;
  if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return NULL;
  char *text;
  size_t size;
  if (!util_read_file(out_path, &text, &size)) return NULL;
  cJSON *j = cJSON_ParseWithLength(text, size);
  free(text);
  return j;
}

/* The child's error output, for a failed default round. */
static void show_child_error(const Tuner *t) {
  char path[96], *text;
  size_t size;
  snprintf(path, sizeof path, "%s/bench.err", t->dir);
  if (util_read_file(path, &text, &size)) {
    fputs(text, stderr);
    free(text);
  }
}

static bool problem_from_json(const cJSON *p, SchedProblem *out) {
  const char *kind = json_string(p, "kind");
  if (!kind) return false;
  *out = (SchedProblem){
      .kind = !strcmp(kind, "gemm") ? SCHED_KIND_GEMM : SCHED_KIND_DEPTHWISE,
      .M = (int64_t)json_number(p, "M", 0),
      .N = (int64_t)json_number(p, "N", 0),
      .K = (int64_t)json_number(p, "K", 0),
      .max_rows = (int)json_number(p, "max_rows", SCHED_A_IN_PLACE),
      .transposable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "transposable")),
      .splittable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "splittable")),
      .packed_bytes = (int64_t)json_number(p, "packed_bytes", 0),
      .variants = (unsigned)json_number(p, "variants", 0)};
  const char *used = json_string(p, "schedule");
  return used && sched_choice_parse(used, &out->used);
}

/* Per subgraph key, its layers' medians summed, from a bench's JSON. */
static double subgraph_ms(const cJSON *bench, const char *key) {
  double ms = 0;
  const cJSON *l;
  cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(bench, "layers")) {
    const char *k = json_string(l, "key");
    if (k && !strcmp(k, key)) ms += json_number(l, "median_ms", 0);
  }
  return ms;
}

/* Round 0: the default schedule's times and the subgraphs it shows. */
static bool default_round(Tuner *t) {
  cJSON *b = bench_round(t, NULL);
  if (!b) {
    show_child_error(t);
    diag_at(DIAG_ERROR, &(IrLoc){.file = t->o->model},
            "the default compile and benchmark failed; nothing to tune");
    return false;
  }
  t->default_total = json_number(b, "median_ms", 0);
  const cJSON *l;
  cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(b, "layers")) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(l, "problem");
    const char *key = json_string(l, "key");
    SchedProblem prob;
    if (!p || !key || !problem_from_json(p, &prob)) continue;
    Subgraph *g = find_subgraph(t, key);
    if (!g) {
      t->sg = realloc(t->sg, sizeof *t->sg * (size_t)(t->num_sg + 1));
      IR_ASSERT(t->sg);
      g = &t->sg[t->num_sg++];
      *g = (Subgraph){.key = strdup(key), .problem = prob, .best = -1};
      g->cand = malloc(sizeof *g->cand * TUNE_MAX_CANDIDATES);
      IR_ASSERT(g->cand);
      int n = sched_candidates(&t->target, &prob, t->o->threads, g->cand, TUNE_MAX_CANDIDATES);
      g->num_cand = n < TUNE_MAX_CANDIDATES ? n : TUNE_MAX_CANDIDATES;
    }
    g->layers++;
  }
  for (int i = 0; i < t->num_sg; i++) {
    t->sg[i].default_ms = subgraph_ms(b, t->sg[i].key);
    t->sg[i].default_times = 1;
  }
  /* about a third of a second of calls a round, 5 to 50 */
  double per = t->default_total > 0 ? t->default_total : 1;
  t->iters = (int)(300.0 / per);
  t->iters = t->iters < 5 ? 5 : t->iters > 50 ? 50 : t->iters;
  cJSON_Delete(b);
  return true;
}

/* --resume: the candidates an earlier run of this log measured. */
static bool resume_from(Tuner *t, const char *path) {
  cJSON *j = read_json(path);
  if (!j) return false;
  bool ok = log_matches(path, j, t->target.name, t->cpu, t->features, false);
  const cJSON *sg, *m, *all = ok ? cJSON_GetObjectItemCaseSensitive(j, "subgraphs") : NULL;
  cJSON_ArrayForEach(sg, all) {
    const char *key = json_string(sg, "key");
    Subgraph *g = key ? find_subgraph(t, key) : NULL;
    if (!g) continue; /* a subgraph of another model or other flags */
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(sg, "measured")) {
      const char *text = json_string(m, "schedule");
      SchedChoice c;
      if (!text || !sched_choice_parse(text, &c) || measured_already(g, &c)) continue;
      add_measured(g, &c, json_number(m, "ms", -1));
    }
  }
  cJSON_Delete(j);
  return ok;
}

/* The next untried candidate of g, or NULL. */
static const SchedChoice *next_candidate(Subgraph *g) {
  while (g->next < g->num_cand && measured_already(g, &g->cand[g->next])) g->next++;
  return g->next < g->num_cand ? &g->cand[g->next] : NULL;
}

/* Writes a log that gives each subgraph `pick[i]` (NULL: its best). */
static bool write_choices(Tuner *t, const char *path, const SchedChoice *const *pick) {
  cJSON *j = log_json(t, false);
  cJSON *sg = cJSON_GetObjectItemCaseSensitive(j, "subgraphs");
  for (int i = 0; i < t->num_sg; i++) {
    if (!pick[i]) continue;
    char text[160];
    sched_choice_format(pick[i], t->sg[i].problem.kind, text, sizeof text);
    cJSON *best = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sg, i), "best");
    cJSON_ReplaceItemInObjectCaseSensitive(best, "schedule", cJSON_CreateString(text));
  }
  return write_json(path, j);
}

static double best_speedup(const Tuner *t) {
  double before = 0, after = 0;
  for (int i = 0; i < t->num_sg; i++) {
    const Subgraph *g = &t->sg[i];
    before += g->default_ms;
    after += g->best >= 0 ? g->meas[g->best].ms : g->default_ms;
  }
  return after > 0 ? before / after : 1;
}

static void show_progress(const Tuner *t, int searching, double left) {
  char line[160];
  snprintf(line, sizeof line,
           "tune: round %d, %d of %d subgraphs searching, best %.2fx, "
           "%.0f s left",
           t->rounds, searching, t->num_sg, best_speedup(t), left);
  stage_begin(line);
}

/* The contender to time again: of the default and the TUNE_CONFIRM fastest
 * measured, the one timed fewest times (the faster on a tie). */
static const SchedChoice *confirm_pick(const Subgraph *g) {
  const SchedChoice *pick = &g->problem.used;
  int times = g->default_times;
  double ms = g->default_ms;
  bool *taken = calloc((size_t)g->num_meas + 1, sizeof *taken);
  IR_ASSERT(taken);
  for (int n = 0; n < TUNE_CONFIRM; n++) {
    int f = -1; /* the fastest not yet taken */
    for (int i = 0; i < g->num_meas; i++)
      if (!taken[i] && g->meas[i].ms >= 0 && (f < 0 || g->meas[i].ms < g->meas[f].ms)) f = i;
    if (f < 0) break;
    taken[f] = true;
    const Measured *m = &g->meas[f];
    if (m->times < times || (m->times == times && m->ms < ms))
      pick = &m->c, times = m->times, ms = m->ms;
  }
  free(taken);
  return pick;
}

/* One round: each subgraph still searching gets its next candidate, and
 * the others (all of them every TUNE_CONFIRM_EVERY rounds) time a contender
 * again. False when no subgraph has a candidate left. */
static bool search_round(Tuner *t) {
  const SchedChoice **pick = calloc((size_t)t->num_sg + 1, sizeof *pick);
  IR_ASSERT(pick);
  int searching = 0;
  bool confirm_all = t->rounds % TUNE_CONFIRM_EVERY == TUNE_CONFIRM_EVERY - 1;
  for (int i = 0; i < t->num_sg; i++) {
    Subgraph *g = &t->sg[i];
    const SchedChoice *next = next_candidate(g);
    searching += next != NULL;
    pick[i] = next && !confirm_all ? next : confirm_pick(g);
  }
  if (!searching) {
    free(pick);
    return false;
  }
  show_progress(t, searching, t->o->budget_s - (now_s() - t->start));
  char path[96];
  snprintf(path, sizeof path, "%s/candidates.json", t->dir);
  cJSON *b = write_choices(t, path, pick) ? bench_round(t, path) : NULL;
  t->rounds++;
  if (!b) t->failed_rounds++;
  for (int i = 0; i < t->num_sg; i++) {
    Subgraph *g = &t->sg[i];
    add_measured(g, pick[i], b ? subgraph_ms(b, g->key) : -1);
    if (g->next < g->num_cand && pick[i] == &g->cand[g->next]) g->next++;
  }
  cJSON_Delete(b);
  free(pick);
  return true;
}

/* The tuned model, timed once more with every subgraph's best. */
static void final_round(Tuner *t) {
  const SchedChoice **pick = calloc((size_t)t->num_sg + 1, sizeof *pick);
  IR_ASSERT(pick);
  char path[96];
  snprintf(path, sizeof path, "%s/best.json", t->dir);
  cJSON *b = write_choices(t, path, pick) ? bench_round(t, path) : NULL;
  if (b) t->tuned_total = json_number(b, "median_ms", 0);
  cJSON_Delete(b);
  free(pick);
}

static void free_tuner(Tuner *t) {
  for (int i = 0; i < t->num_sg; i++) free(t->sg[i].key), free(t->sg[i].cand), free(t->sg[i].meas);
  free(t->sg);
  free(t->cpu), free(t->features);
  if (t->dir[0]) util_remove_tree(t->dir);
}

static int tune_search(tcc_session *s, const TuneOptions *o) {
  Tuner t = {.s = s, .o = o, .start = now_s(), .iters = 10};
  if (!tcc_session_describe_target(s, &t.target, &t.cpu, &t.features)) return 1;
  snprintf(t.dir, sizeof t.dir, "/tmp/tcc-tune-XXXXXX");
  if (!mkdtemp(t.dir)) {
    t.dir[0] = 0;
    diag_error("cannot create a temporary folder: %s", strerror(errno));
    return 2;
  }
  struct sigaction sa = {.sa_handler = on_sigint}, old;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  got_sigint = 0;
  int rc = 0;
  stage_begin("tune: the default schedule");
  if (!default_round(&t) || (o->resume && !resume_from(&t, o->log))) rc = 1;
  double round_s = now_s() - t.start;
  while (rc == 0 && !got_sigint) {
    /* a round must end within the budget, and the final one with it */
    double left = o->budget_s - (now_s() - t.start);
    if (left < 2 * round_s * 1.05) break;
    double begin = now_s();
    if (!search_round(&t)) break;
    double took = now_s() - begin;
    round_s = took > round_s ? took : 0.7 * round_s + 0.3 * took;
    if (!write_json(o->log, log_json(&t, true))) rc = 1;
  }
  t.interrupted = got_sigint != 0;
  if (rc == 0 && !t.interrupted) {
    stage_begin("tune: the tuned model");
    final_round(&t);
  }
  stage_end();
  sigaction(SIGINT, &old, NULL);
  if (rc == 0 || t.interrupted) {
    if (!write_json(o->log, log_json(&t, true))) {
      diag_at(DIAG_ERROR, &(IrLoc){.file = o->log}, "cannot write the tuning log");
      rc = 1;
    }
  }
  if (rc == 0 || t.interrupted) {
    int measured = 0, min_meas = -1;
    for (int i = 0; i < t.num_sg; i++) {
      measured += t.sg[i].num_meas;
      if (min_meas < 0 || t.sg[i].num_meas < min_meas) min_meas = t.sg[i].num_meas;
    }
    if (!o->quiet || t.interrupted)
      fprintf(stderr,
              "tcc: %s%d subgraphs, %d candidates measured (at least %d each) in %d "
              "rounds%s, %.1f s; default %.4g ms%s",
              t.interrupted ? "interrupted: " : "", t.num_sg, measured, min_meas < 0 ? 0 : min_meas,
              t.rounds, t.failed_rounds ? " (some failed)" : "", now_s() - t.start, t.default_total,
              t.tuned_total > 0 ? "" : "\n");
    if (!o->quiet && t.tuned_total > 0)
      fprintf(stderr, ", tuned %.4g ms (%.2fx); log %s\n", t.tuned_total,
              t.default_total / t.tuned_total, o->log);
    if (t.interrupted) rc = 130;
  }
  free_tuner(&t);
  return rc;
}

/* ------------------------------------------------ learning the model */
/* One subgraph's measurements from a log, with its target description. */
typedef struct Sample {
  SchedTarget target;
  SchedProblem problem;
  SchedChoice *c;
  double *ms;
  int n;
  unsigned hash;
} Sample;

static unsigned fnv1a(const char *s) {
  unsigned h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static bool read_samples(const char *list, Sample **out, int *num) {
  char *copy = strdup(list), *save = NULL;
  bool ok = true;
  for (char *path = strtok_r(copy, ",", &save); ok && path; path = strtok_r(NULL, ",", &save)) {
    cJSON *j = read_json(path);
    const char *target = j ? json_string(j, "target") : NULL;
    const TccTarget *tt = target ? target_find(target) : NULL;
    if (!tt) {
      if (j) diag_at(DIAG_ERROR, &(IrLoc){.file = path}, "not a tuning log (no known target)");
      cJSON_Delete(j);
      ok = false;
      break;
    }
    LlvmOptions lo = {.target = tt,
                      .cpu = json_string(j, "cpu"),
                      .features = json_string(j, "features"),
                      .opt_level = 2,
                      .jobs = 1};
    SchedTarget st;
    target_sched(&lo, &st);
    const cJSON *sg, *m;
    cJSON_ArrayForEach(sg, cJSON_GetObjectItemCaseSensitive(j, "subgraphs")) {
      SchedProblem p;
      const cJSON *pj = cJSON_GetObjectItemCaseSensitive(sg, "problem");
      const cJSON *dj = cJSON_GetObjectItemCaseSensitive(sg, "default");
      cJSON *pcopy = pj ? cJSON_Duplicate(pj, 1) : NULL;
      if (pcopy && dj && json_string(dj, "schedule"))
        cJSON_AddStringToObject(pcopy, "schedule", json_string(dj, "schedule"));
      bool good = pcopy && problem_from_json(pcopy, &p) && p.kind == SCHED_KIND_GEMM;
      cJSON_Delete(pcopy);
      if (!good) continue; /* only products have a model to learn */
      Sample smp = {.target = st,
                    .problem = p,
                    .hash = fnv1a(json_string(sg, "key") ? json_string(sg, "key") : "")};
      cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(sg, "measured")) {
        const char *text = json_string(m, "schedule");
        double ms = json_number(m, "ms", -1);
        SchedChoice c;
        if (!text || ms <= 0 || !sched_choice_parse(text, &c) || c.mr == SCHED_MODEL) continue;
        smp.c = realloc(smp.c, sizeof *smp.c * (size_t)(smp.n + 1));
        smp.ms = realloc(smp.ms, sizeof *smp.ms * (size_t)(smp.n + 1));
        IR_ASSERT(smp.c && smp.ms);
        smp.c[smp.n] = c, smp.ms[smp.n++] = ms;
      }
      if (smp.n < 2) {
        free(smp.c), free(smp.ms);
        continue;
      }
      *out = realloc(*out, sizeof **out * (size_t)(*num + 1));
      IR_ASSERT(*out);
      (*out)[(*num)++] = smp;
    }
    cJSON_Delete(j);
  }
  free(copy);
  return ok;
}

static void free_samples(Sample *s, int n) {
  for (int i = 0; i < n; i++) free(s[i].c), free(s[i].ms);
  free(s);
}

/* The model's cycles for each of a sample's measured candidates (malloc'd). */
static double *predict_all(const Sample *s, const SchedCostModel *cm) {
  SchedTarget t = s->target;
  t.cost = cm;
  double *p = malloc(sizeof *p * (size_t)s->n);
  IR_ASSERT(p);
  for (int k = 0; k < s->n; k++) p[k] = sched_predict(&t, &s->problem, &s->c[k]);
  return p;
}

/* Sum over subgraphs of the squared log-error of predicted against
 * measured time, each subgraph with its own scale (cycles to ms). */
static double fit_error(const Sample *s, int n, const SchedCostModel *cm,
                        bool (*use)(const Sample *)) {
  double err = 0;
  for (int i = 0; i < n; i++) {
    if (!use(&s[i])) continue;
    double mean = 0, *d = predict_all(&s[i], cm);
    for (int k = 0; k < s[i].n; k++) {
      d[k] = log(s[i].ms[k]) - log(d[k] > 1e-9 ? d[k] : 1e-9);
      mean += d[k];
    }
    mean /= s[i].n;
    for (int k = 0; k < s[i].n; k++) err += (d[k] - mean) * (d[k] - mean);
    free(d);
  }
  return err;
}

static bool use_all(const Sample *s) {
  (void)s;
  return true;
}
static bool use_train(const Sample *s) { return s->hash % 4 != 0; }
static bool use_held_out(const Sample *s) { return s->hash % 4 == 0; }

/* Coordinate descent on the parameters, multiplicative steps. */
static SchedCostModel learn(const Sample *s, int n, bool (*use)(const Sample *)) {
  SchedCostModel cm = sched_cost_builtin;
  double *v = (double *)&cm;
  int num = (int)(sizeof cm / sizeof(double));
  double best = fit_error(s, n, &cm, use);
  static const double steps[] = {0.5, 0.7, 0.85, 1.15, 1.4, 2.0};
  for (int sweep = 0; sweep < 40; sweep++) {
    bool better = false;
    for (int k = 0; k < num; k++)
      for (size_t j = 0; j < sizeof steps / sizeof *steps; j++) {
        double keep = v[k];
        v[k] = keep * steps[j];
        if (v[k] < 1e-3 || v[k] > 1e4) {
          v[k] = keep;
          continue;
        }
        double e = fit_error(s, n, &cm, use);
        if (e < best - 1e-12)
          best = e, better = true;
        else
          v[k] = keep;
      }
    if (!better) break;
  }
  return cm;
}

/* Over the held-out subgraphs: the measured time of the model's first
 * choice (among the measured candidates) over the best measured. */
static double first_choice_ratio(const Sample *s, int n, const SchedCostModel *cm, int *count) {
  double sum = 0;
  *count = 0;
  for (int i = 0; i < n; i++) {
    if (!use_held_out(&s[i])) continue;
    double *p = predict_all(&s[i], cm), best_ms = s[i].ms[0];
    int first = 0;
    for (int k = 1; k < s[i].n; k++) {
      if (p[k] < p[first]) first = k;
      if (s[i].ms[k] < best_ms) best_ms = s[i].ms[k];
    }
    free(p);
    sum += s[i].ms[first] / best_ms;
    (*count)++;
  }
  return *count ? sum / *count : 0;
}

static int tune_learn(const TuneOptions *o) {
  Sample *s = NULL;
  int n = 0;
  const char *logs = o->learn ? o->learn : o->evaluate;
  if (!read_samples(logs, &s, &n)) return 1;
  if (n == 0) {
    diag_at(DIAG_ERROR, &(IrLoc){.file = logs},
            "no subgraph with two or more measured products to learn from");
    free_samples(s, n);
    return 1;
  }
  int rc = 0;
  if (o->evaluate) {
    SchedCostModel trained = learn(s, n, use_train);
    const SchedCostModel *before = o->cost ? o->cost : &sched_cost_builtin;
    int held;
    double r0 = first_choice_ratio(s, n, before, &held);
    double r1 = first_choice_ratio(s, n, &trained, &held);
    printf(
        "held out: %d of %d subgraphs (the key's hash %% 4 == 0); trained on the rest\n"
        "first choice / best measured, mean: before learning %.3f, after %.3f\n",
        held, n, r0, r1);
  } else {
    SchedCostModel learned = learn(s, n, use_all);
    char comment[600];
    snprintf(comment, sizeof comment, "fitted to %d subgraphs of %.400s", n, logs);
    if (!sched_cost_write(o->out, &learned, comment))
      rc = 1;
    else if (!o->quiet)
      fprintf(stderr, "tcc: %s: the cost model fitted to %d subgraphs\n", o->out, n);
  }
  free_samples(s, n);
  return rc;
}

int tune_main(tcc_session *s, const TuneOptions *o) {
  if (o->learn || o->evaluate) {
    if (o->learn && !o->out) {
      diag_error("tcc tune --learn needs -o FILE, the cost model to write");
      return 1;
    }
    return tune_learn(o);
  }
  if (!o->log) {
    diag_error("tcc tune needs --log=FILE, the tuning log to write");
    return 1;
  }
  if (o->resume && access(o->log, R_OK) != 0) {
    diag_at(DIAG_ERROR, &(IrLoc){.file = o->log}, "--resume needs the log of an earlier run: %s",
            strerror(errno));
    return 1;
  }
  return tune_search(s, o);
}
