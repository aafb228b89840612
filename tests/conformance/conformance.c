/*
 * conformance.c — runs tcc over the ONNX backend test data.
 *
 * Each test is `SUITE/NAME/model.onnx` with `test_data_set_N` folders of `input_N.pb` and
 * `output_*.pb`.  For every data set the runner calls `tcc run` (under
 * `timeout`, so a hang or a crash only fails that test), then compares each
 * output with the expected one using the ONNX backend tolerances
 * (|got - want| <= atol + rtol * |want|, rtol 1e-3, atol 1e-7; NaN matches
 * NaN), wider for float16 and bfloat16 outputs, whose last bit differs
 * wherever the reference rounded between steps that tcc keeps in float32;
 * --tolerances FILE overrides them per test (`SUITE/NAME RTOL ATOL  # why`).  Outcomes: pass, fail (wrong numbers), unsupported (tcc exit 1: the
 * model uses something tcc refuses, with its message), error (exit 2, a
 * signal, a timeout).  With --expect-pass FILE every test listed there must
 * pass, or the run fails: the checked-in list guards against regressions.
 *
 * usage: tcc-conformance --tcc PATH [--data DIR] [--list FILE]
 *          [--filter SUBSTR] [-j N] [--timeout SEC] [--json FILE]
 *          [--expect-pass FILE] [--write-pass FILE] [--random FILE]
 *          [--tolerances FILE] [-- TCC FLAGS...]
 * --random FILE lists tests whose expected outputs are random draws: those
 * are compared by element type, shape and the range the draws span.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "onnx.h"

enum { PASS, FAIL, UNSUPPORTED, ERROR, NUM_OUTCOMES };
static const char *const outcome_names[] = {"pass", "fail", "unsupported", "error"};

typedef struct Test {
  char *name;       /* suite/test */
  bool random;      /* outputs are random draws: shape, type and range only */
  double rtol, atol; /* a per-test override when rtol > 0 */
  int outcome;
  char reason[512];
} Test;

typedef struct Config {
  const char *tcc, *data, *list, *filter, *json, *expect, *write_pass, *random, *tolerances;
  int jobs, timeout;
  char **flags;
  int num_flags;
  char tmp[64];
} Config;

static void set_reason(char *reason, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_reason(char *reason, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, 512, fmt, ap);
  va_end(ap);
}

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* The first line of tcc's stderr that says error, else the first line. */
static void first_error_line(const char *path, char *reason) {
  FILE *f = fopen(path, "r");
  char line[512], first[512] = "";
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (!first[0]) snprintf(first, sizeof first, "%s", line);
    if (strstr(line, "error")) {
      snprintf(first, sizeof first, "%s", line);
      break;
    }
  }
  fclose(f);
  snprintf(reason, 512, "%s", first);
}

typedef struct Tolerance {
  double rtol, atol;
} Tolerance;

/* float16 keeps 11 significant bits, bfloat16 8: a few units in the last
 * place of each. */
static Tolerance elem_tolerance(IrElem e) {
  if (e == IR_F16) return (Tolerance){4e-3, 1e-4};
  if (e == IR_BF16) return (Tolerance){1.6e-2, 1e-3};
  return (Tolerance){1e-3, 1e-7};
}

static bool close_enough(double got, double want, Tolerance tol) {
  if (isnan(want)) return isnan(got);
  if (isinf(want)) return got == want;
  return fabs(got - want) <= tol.atol + tol.rtol * fabs(want);
}

/* Random draws: the same type and shape, and every value within the range
 * the expected draws span. */
static bool within_range(const OnnxTensor *got, const OnnxTensor *want, size_t n,
                         const char *want_path, char *reason) {
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    double w = ir_elem_load_f64(want->elem, want->data, i);
    lo = w < lo ? w : lo;
    hi = w > hi ? w : hi;
  }
  for (size_t i = 0; i < n; i++) {
    double g = ir_elem_load_f64(got->elem, got->data, i);
    if (!(g >= lo && g <= hi)) {
      set_reason(reason, "%s: element %zu is %.9g, outside the drawn range [%g, %g]",
                 want_path, i, g, lo, hi);
      return false;
    }
  }
  return true;
}

static bool compare(const char *got_path, const char *want_path, const Test *t,
                    char *reason) {
  bool random = t->random;
  OnnxTensor got = {0}, want = {0};
  bool ok = onnx_tensor_read_file(got_path, &got) &&
            onnx_tensor_read_file(want_path, &want);
  /* Old test data stores bfloat16 tensors as UINT16 (the same bytes). */
  if (ok && got.elem == IR_BF16 && want.elem == IR_U16) want.elem = IR_BF16;
  if (!ok) {
    set_reason(reason, "cannot read output %s", got_path);
  } else if (got.elem != want.elem || got.rank != want.rank ||
             memcmp(got.dims, want.dims, sizeof(int64_t) * (size_t)got.rank)) {
    set_reason(reason, "output %s has the wrong type or shape", want_path);
    ok = false;
  } else {
    size_t n = want.nbytes / (ir_elem_size(want.elem) ? ir_elem_size(want.elem) : 1);
    if (random) ok = within_range(&got, &want, n, want_path, reason);
    Tolerance tol = t->rtol > 0 ? (Tolerance){t->rtol, t->atol} : elem_tolerance(want.elem);
    for (size_t i = 0; i < n && ok && !random; i++) {
      double g = ir_elem_load_f64(got.elem, got.data, i);
      double w = ir_elem_load_f64(want.elem, want.data, i);
      if (!close_enough(g, w, tol)) {
        set_reason(reason, "%s: element %zu is %.9g, expected %.9g", want_path,
                   i, g, w);
        ok = false;
      }
    }
  }
  onnx_tensor_free(&got);
  onnx_tensor_free(&want);
  return ok;
}

/* Runs `timeout tcc run model --input ... --output-dir out`; returns the
 * exit status (124 = timeout, 128+N = signal N). */
static int run_tcc(const Config *c, const char *model, const char *set,
                   const char *out, const char *err_path) {
  char *argv[256];
  char tsec[16], inputs[64][2200];
  int n = 0, k;
  snprintf(tsec, sizeof tsec, "%d", c->timeout);
  argv[n++] = "timeout";
  argv[n++] = "-k";
  argv[n++] = "5";
  argv[n++] = tsec;
  argv[n++] = (char *)c->tcc;
  argv[n++] = "run";
  argv[n++] = (char *)model;
  for (k = 0; k < 64; k++) {
    snprintf(inputs[k], sizeof inputs[k], "%s/input_%d.pb", set, k);
    if (!exists(inputs[k])) break;
    argv[n++] = "--input";
    argv[n++] = inputs[k];
  }
  argv[n++] = "--output-dir";
  argv[n++] = (char *)out;
  for (int i = 0; i < c->num_flags && n < 250; i++) argv[n++] = c->flags[i];
  argv[n] = NULL;
  pid_t pid = fork();
  if (pid == 0) {
    FILE *e = freopen(err_path, "w", stderr);
    (void)e;
    if (!freopen("/dev/null", "w", stdout)) _exit(127);
    execvp(argv[0], argv);
    _exit(127);
  }
  int st = 0;
  while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  if (pid < 0) return 127;
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return WEXITSTATUS(st);
}

static int run_data_set(const Config *c, const char *dir, const char *set,
                        const char *work, const Test *t, char *reason) {
  char model[2100], out[2100], err[2100];
  snprintf(model, sizeof model, "%s/model.onnx", dir);
  snprintf(out, sizeof out, "%s/out", work);
  snprintf(err, sizeof err, "%s/stderr", work);
  int st = run_tcc(c, model, set, out, err);
  if (st == 1) {
    first_error_line(err, reason);
    return UNSUPPORTED;
  }
  if (st != 0) {
    first_error_line(err, reason);
    if (st == 124) set_reason(reason, "timeout after %d s", c->timeout);
    else if (!reason[0]) set_reason(reason, "tcc exit status %d", st);
    return ERROR;
  }
  for (int k = 0;; k++) {
    char want[2200], got[2200];
    snprintf(want, sizeof want, "%s/output_%d.pb", set, k);
    if (!exists(want)) break;
    snprintf(got, sizeof got, "%s/output_%d.pb", out, k);
    if (!compare(got, want, t, reason)) return FAIL;
  }
  return PASS;
}

static int run_test(const Config *c, const Test *t, int index, char *reason) {
  char dir[1024], work[128];
  snprintf(dir, sizeof dir, "%s/%s", c->data, t->name);
  snprintf(work, sizeof work, "%s/%d", c->tmp, index);
  mkdir(work, 0777);
  int outcome = PASS, sets = 0;
  for (int k = 0; outcome == PASS; k++) {
    char set[2048];
    snprintf(set, sizeof set, "%s/test_data_set_%d", dir, k);
    if (!exists(set)) break;
    outcome = run_data_set(c, dir, set, work, t, reason);
    sets++;
  }
  if (!sets) {
    set_reason(reason, "no test_data_set_0 in %s", dir);
    outcome = ERROR;
  }
  return outcome;
}

/* Each test runs in a child; the outcome comes back as the exit status and
 * the reason through a file. */
static void run_all(const Config *c, Test *tests, int n) {
  pid_t *pids = calloc((size_t)c->jobs, sizeof *pids);
  int *slot_test = calloc((size_t)c->jobs, sizeof *slot_test);
  int next = 0, running = 0;
  while (next < n || running) {
    while (running < c->jobs && next < n) {
      int slot = 0;
      while (pids[slot]) slot++;
      pid_t pid = fork();
      if (pid == 0) {
        char reason[512] = "", path[128];
        int outcome = run_test(c, &tests[next], next, reason);
        snprintf(path, sizeof path, "%s/%d/reason", c->tmp, next);
        FILE *f = fopen(path, "w");
        if (f) fputs(reason, f), fclose(f);
        _exit(outcome);
      }
      pids[slot] = pid;
      slot_test[slot] = next++;
      running++;
    }
    int st;
    pid_t done = wait(&st);
    if (done < 0) break;
    for (int s = 0; s < c->jobs; s++) {
      if (pids[s] != done) continue;
      Test *t = &tests[slot_test[s]];
      t->outcome = WIFEXITED(st) && WEXITSTATUS(st) < NUM_OUTCOMES ? WEXITSTATUS(st) : ERROR;
      char path[128];
      snprintf(path, sizeof path, "%s/%d/reason", c->tmp, slot_test[s]);
      FILE *f = fopen(path, "r");
      if (f) {
        if (fgets(t->reason, sizeof t->reason, f)) t->reason[strcspn(t->reason, "\n")] = 0;
        fclose(f);
      }
      pids[s] = 0;
      running--;
    }
  }
  free(pids);
  free(slot_test);
}

static char **read_lines(const char *path, int *count) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "tcc-conformance: cannot open %s\n", path);
    exit(2);
  }
  char line[1024], **lines = NULL;
  int n = 0, cap = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0] || line[0] == '#') continue;
    if (n == cap) lines = realloc(lines, sizeof *lines * (size_t)(cap = cap ? cap * 2 : 256));
    lines[n++] = strdup(line);
  }
  fclose(f);
  *count = n;
  return lines;
}

/* Lines `SUITE/NAME RTOL ATOL  # reason`; a line that does not parse stops
 * the run, so a typo cannot widen nothing silently. */
static void read_tolerances(const char *path, Test *tests, int n) {
  int count;
  char **lines = read_lines(path, &count);
  for (int l = 0; l < count; l++) {
    char name[512];
    double rtol, atol;
    if (sscanf(lines[l], "%511s %lf %lf", name, &rtol, &atol) != 3 || !(rtol > 0) || !(atol >= 0)) {
      fprintf(stderr, "tcc-conformance: %s: cannot parse '%s' (want NAME RTOL ATOL)\n", path,
              lines[l]);
      exit(2);
    }
    for (int i = 0; i < n; i++)
      if (!strcmp(tests[i].name, name)) tests[i].rtol = rtol, tests[i].atol = atol;
    free(lines[l]);
  }
  free(lines);
}

static void write_json(const Config *c, const Test *tests, int n) {
  cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "tests");
  int counts[NUM_OUTCOMES] = {0};
  for (int i = 0; i < n; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "test", tests[i].name);
    cJSON_AddStringToObject(o, "outcome", outcome_names[tests[i].outcome]);
    cJSON_AddStringToObject(o, "reason", tests[i].reason);
    cJSON_AddItemToArray(arr, o);
    counts[tests[i].outcome]++;
  }
  for (int k = 0; k < NUM_OUTCOMES; k++)
    cJSON_AddNumberToObject(root, outcome_names[k], counts[k]);
  char *text = cJSON_Print(root);
  FILE *f = fopen(c->json, "w");
  if (f) fputs(text, f), fputc('\n', f), fclose(f);
  free(text);
  cJSON_Delete(root);
}

static void print_summary(const Test *tests, int n) {
  static const char *const suites[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};
  int total[NUM_OUTCOMES] = {0};
  for (int s = 0; s < 4; s++) {
    int counts[NUM_OUTCOMES] = {0}, all = 0;
    size_t len = strlen(suites[s]);
    for (int i = 0; i < n; i++)
      if (!strncmp(tests[i].name, suites[s], len) && tests[i].name[len] == '/')
        counts[tests[i].outcome]++, all++;
    if (!all) continue;
    printf("%-18s %4d tests: %4d pass, %4d fail, %4d unsupported, %4d error\n",
           suites[s], all, counts[PASS], counts[FAIL], counts[UNSUPPORTED], counts[ERROR]);
  }
  for (int i = 0; i < n; i++) total[tests[i].outcome]++;
  printf("%-18s %4d tests: %4d pass, %4d fail, %4d unsupported, %4d error\n", "total",
         n, total[PASS], total[FAIL], total[UNSUPPORTED], total[ERROR]);
}

static int check_expected(const Config *c, const Test *tests, int n) {
  int count, regressions = 0;
  char **expected = read_lines(c->expect, &count);
  for (int e = 0; e < count; e++) {
    for (int i = 0; i < n; i++) {
      if (strcmp(tests[i].name, expected[e])) continue;
      if (tests[i].outcome != PASS) {
        printf("REGRESSION %s: %s: %s\n", tests[i].name,
               outcome_names[tests[i].outcome], tests[i].reason);
        regressions++;
      }
    }
    free(expected[e]);
  }
  free(expected);
  return regressions;
}

static void usage(void) {
  fprintf(stderr, "usage: tcc-conformance --tcc PATH [--data DIR] [--list FILE] "
                  "[--filter SUBSTR] [-j N] [--timeout SEC] [--json FILE] "
                  "[--expect-pass FILE] [--write-pass FILE] [--random FILE] "
                  "[--tolerances FILE] [-- TCC FLAGS...]\n");
  exit(2);
}

static void parse_args(Config *c, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) {
      c->flags = argv + i + 1;
      c->num_flags = argc - i - 1;
      return;
    }
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (!strcmp(a, "--tcc")) c->tcc = v;
    else if (!strcmp(a, "--data")) c->data = v;
    else if (!strcmp(a, "--list")) c->list = v;
    else if (!strcmp(a, "--filter")) c->filter = v;
    else if (!strcmp(a, "--json")) c->json = v;
    else if (!strcmp(a, "--expect-pass")) c->expect = v;
    else if (!strcmp(a, "--write-pass")) c->write_pass = v;
    else if (!strcmp(a, "--random")) c->random = v;
    else if (!strcmp(a, "--tolerances")) c->tolerances = v;
    else if (!strcmp(a, "-j")) c->jobs = atoi(v);
    else if (!strcmp(a, "--timeout")) c->timeout = atoi(v);
    else usage();
  }
}

int main(int argc, char **argv) {
  Config c = {.data = "/usr/share/libonnx-testdata/data", .jobs = 2, .timeout = 120,
              .tmp = "/tmp/tcc-conformance-XXXXXX"};
  parse_args(&c, argc, argv);
  if (!c.tcc || !c.list || c.jobs < 1) usage();
  if (!mkdtemp(c.tmp)) return 2;
  int all, n = 0;
  char **names = read_lines(c.list, &all);
  Test *tests = calloc((size_t)all + 1, sizeof *tests);
  for (int i = 0; i < all; i++) {
    if (c.filter && !strstr(names[i], c.filter)) {
      free(names[i]);
      continue;
    }
    tests[n++].name = names[i];
  }
  free(names);
  if (c.random) {
    int nr;
    char **random = read_lines(c.random, &nr);
    for (int r = 0; r < nr; r++) {
      for (int i = 0; i < n; i++)
        if (!strcmp(tests[i].name, random[r])) tests[i].random = true;
      free(random[r]);
    }
    free(random);
  }
  if (c.tolerances) read_tolerances(c.tolerances, tests, n);
  run_all(&c, tests, n);
  for (int i = 0; i < n; i++)
    if (tests[i].outcome != PASS)
      printf("%-11s %s: %s\n", outcome_names[tests[i].outcome], tests[i].name,
             tests[i].reason);
  for (int i = 0; i < n; i++)
    if (tests[i].random)
      printf("%-11s %s: outputs are random draws: compared by type, shape and range only\n",
             outcome_names[tests[i].outcome], tests[i].name);
  print_summary(tests, n);
  if (c.json) write_json(&c, tests, n);
  if (c.write_pass) {
    FILE *f = fopen(c.write_pass, "w");
    for (int i = 0; f && i < n; i++)
      if (tests[i].outcome == PASS) fprintf(f, "%s\n", tests[i].name);
    if (f) fclose(f);
  }
  int regressions = c.expect ? check_expected(&c, tests, n) : 0;
  char *rm[] = {"rm", "-rf", c.tmp, NULL};
  if (fork() == 0) execvp("rm", rm), _exit(1);
  wait(NULL);
  for (int i = 0; i < n; i++) free(tests[i].name);
  free(tests);
  if (regressions) printf("%d regressions against %s\n", regressions, c.expect);
  return regressions ? 1 : 0;
}
