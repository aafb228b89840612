/*
 * run.c — `tcc run`: compile, link the object with the runtime and a small
 * generated harness, execute it on TensorProto inputs, and write (or print)
 * the outputs.  The harness runs in a child process so a fault in generated
 * code can never take the compiler down, and talks through raw files in a
 * private temporary folder.
 *
 * For this machine (x86_64) the harness links with the prebuilt libtccrt.a
 * and runs directly.  For another target a row of `cross` below names the
 * C compiler that builds the harness and the runtime sources (runtime/,
 * compiled for the target, never the host's library) and the emulator that
 * runs the result: qemu-user for armv8 and riscv64, Node.js through WASI
 * for wasm32 (a small JS runner written into the folder), qemu-system-arm
 * with semihosting for the bare-metal Cortex-M boards.  So any model can be
 * checked on any target from the build machine.
 *
 * -threads=N > 1: the harness makes a tcc_pool of N threads its
 * ctx.parallel_for and links libtccrt_pool.a and -lpthread (on the host the
 * prebuilt library, under qemu-user runtime/pool.c compiled for the target;
 * the WASI and bare-metal rows have no threads and refuse N > 1).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "llvm.h"
#include "onnx.h"
#include "session.h"
#include "tcc/runtime.h"

/* The harness includes the model header through a prelude (written by
 * write_harness) that names the model's symbols M_*, so the harness text
 * itself is the same for every model.  argv: dims file, input files,
 * output files [, runs].  A model with run-time dims gets its dims from the
 * file and writes them back after the run (data-dependent output sizes);
 * outputs are written at their upper-bound size and cut by tcc. */
static const char harness_prelude[] =
    "#include \"%s.h\"\n"
    "#define M_NAME \"%s\"\n"
    "#define M_NUM_INPUTS %s_NUM_INPUTS\n#define M_NUM_OUTPUTS %s_NUM_OUTPUTS\n"
    "#define M_WORKSPACE_SIZE %s_WORKSPACE_SIZE\n"
    "#define M_inputs %s_inputs\n#define M_outputs %s_outputs\n"
    "#define M_THREADS %d\n"
    "#ifdef %s_NUM_DIMS\n#define M_NUM_DIMS %s_NUM_DIMS\n"
    "#define M_RUN(c, d, i, o) %s_run_dims(c, d, i, o)\n"
    "#else\n#define M_NUM_DIMS 0\n#define M_RUN(c, d, i, o) ((void)(d), %s_run(c, i, o))\n"
    "#endif\n"
    "#ifdef %s_WEIGHTS_SIZE\n#define M_WEIGHTS_SIZE %s_WEIGHTS_SIZE\n"
    "#define M_CHECK_WEIGHTS(b, n) %s_check_weights(b, n)\n#define M_WEIGHTS_PATH \"%s\"\n"
    "#endif\n";

static const char harness_common[] =
    "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
    "/* Reads the file into a zeroed buffer of n bytes; a model with run-time\n"
    " * dims may get fewer bytes, a static one exactly n. */\n"
    "static void *slurp(const char *p, size_t n) {\n"
    "  unsigned char *b = calloc(1, n + 1); FILE *f = p[0] ? fopen(p, \"rb\") : NULL;\n"
    "  size_t got = f ? fread(b, 1, n + 1, f) : 0;\n"
    "  if (!b || (p[0] && (!f || got > n || (!M_NUM_DIMS && got != n)))) {\n"
    "    fprintf(stderr, \"cannot read %s\\n\", p); exit(4);\n  }\n"
    "  if (f) fclose(f); return b;\n}\n"
    "static int64_t dims[M_NUM_DIMS + 1];\n"
    "static void dims_io(const char *p, int out) {\n"
    "  if (!M_NUM_DIMS) return;\n"
    "  FILE *f = fopen(p, out ? \"wb\" : \"rb\");\n"
    "  size_t n = f ? (out ? fwrite(dims, 8, M_NUM_DIMS, f) : fread(dims, 8, M_NUM_DIMS, f)) : 0;\n"
    "  if (n != M_NUM_DIMS) { fprintf(stderr, \"cannot access %s\\n\", p); exit(4); }\n"
    "  fclose(f);\n}\n"
    "/* -threads=N > 1: the pool runs the model's parallel loops. */\n"
    "#if M_THREADS > 1\n#include <tcc/pool.h>\n#endif\n"
    "static void *pool_attach(tcc_ctx *ctx) {\n"
    "#if M_THREADS > 1\n"
    "  tcc_pool *p = tcc_pool_new(M_THREADS);\n"
    "  if (!p) { fprintf(stderr, \"cannot start %d threads\\n\", M_THREADS); exit(6); }\n"
    "  ctx->parallel_for = tcc_pool_parallel_for; ctx->parallel_user = p; return p;\n"
    "#else\n  (void)ctx; return NULL;\n#endif\n}\n"
    "/* --weights=external: the blob, read into aligned memory and checked\n"
    " * once, as an application would. */\n"
    "static void attach_weights(tcc_ctx *ctx) {\n"
    "#ifdef M_WEIGHTS_SIZE\n"
    "  size_t n = M_WEIGHTS_SIZE;\n"
    "  void *b = aligned_alloc(TCC_WEIGHTS_ALIGN, (n + 63) / 64 * 64);\n"
    "  FILE *f = fopen(M_WEIGHTS_PATH, \"rb\");\n"
    "  if (!b || !f || fread(b, 1, n, f) != n) {\n"
    "    fprintf(stderr, \"cannot read %s\\n\", M_WEIGHTS_PATH); exit(4);\n  }\n"
    "  fclose(f);\n"
    "  int st = M_CHECK_WEIGHTS(b, n);\n"
    "  if (st) { fprintf(stderr, \"%s: %s\\n\", M_WEIGHTS_PATH, tcc_status_str(st)); exit(7); }\n"
    "  ctx->weights = b; ctx->weights_size = n;\n"
    "#else\n  (void)ctx;\n#endif\n}\n"
    "static void pool_detach(void *p) {\n"
    "#if M_THREADS > 1\n  tcc_pool_free(p);\n#else\n  (void)p;\n#endif\n}\n"
    "/* A failure that names a node goes to <dims file>.err for tcc to report;\n"
    " * any other is printed here. */\n"
    "static tcc_error_info err_info;\n"
    "static int failed(int st, const char *dims_path) {\n"
    "  char p[4096]; FILE *f;\n"
    "  snprintf(p, sizeof p, \"%s.err\", dims_path);\n"
    "  if (err_info.node && (f = fopen(p, \"wb\"))) {\n"
    "    fprintf(f, \"%d\\n%s\\n%s\\n\", st, err_info.op_type, err_info.node); fclose(f);\n"
    "  } else {\n"
    "    fprintf(stderr, M_NAME \"_run failed: %s\\n\", tcc_status_str(st));\n  }\n"
    "  return 3;\n}\n"
    "/* -profile=1: the model calls this before each layer and at its end;\n"
    " * bench adds each layer's time of timed run r to prof_ms[r][layer]. */\n"
    "#ifdef M_NUM_LAYERS\n#include <time.h>\n"
    "static double *prof_ms;\nstatic int prof_run = -1, prof_layer = -1;\n"
    "static struct timespec prof_t;\n"
    "void tcc_profile_mark(int32_t layer);\n"
    "void tcc_profile_mark(int32_t layer) {\n"
    "  struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);\n"
    "  if (prof_run >= 0 && prof_layer >= 0 && prof_layer < M_NUM_LAYERS)\n"
    "    prof_ms[(size_t)prof_run * M_NUM_LAYERS + (size_t)prof_layer] +=\n"
    "        (double)(t.tv_sec - prof_t.tv_sec) * 1e3 +\n"
    "        (double)(t.tv_nsec - prof_t.tv_nsec) / 1e6;\n"
    "  prof_t = t; prof_layer = layer;\n}\n#endif\n";

static const char harness_text[] =
    "int main(int argc, char **argv) {\n"
    "  enum { NI = M_NUM_INPUTS, NO = M_NUM_OUTPUTS };\n"
    "  const void *in[NI + 1]; void *out[NO + 1];\n"
    "  if (argc != 2 + NI + NO) return 5;\n"
    "  dims_io(argv[1], 0);\n"
    "  for (int i = 0; i < NI; i++) in[i] = slurp(argv[2 + i], M_inputs[i].nbytes);\n"
    "  for (int i = 0; i < NO; i++) out[i] = calloc(1, M_outputs[i].nbytes + 1);\n"
    "  size_t ws = M_WORKSPACE_SIZE;\n"
    "  void *w = ws ? aligned_alloc(TCC_WORKSPACE_ALIGN, (ws + 63) / 64 * 64) : NULL;\n"
    "  tcc_ctx ctx = tcc_ctx_init(w, ws);\n"
    "  attach_weights(&ctx);\n"
    "  void *pool = pool_attach(&ctx);\n"
    "  ctx.error = &err_info;\n"
    "  int st = M_RUN(&ctx, dims, in, out);\n"
    "  pool_detach(pool);\n"
    "  if (st) return failed(st, argv[1]);\n"
    "  for (int i = 0; i < NO; i++) {\n"
    "    FILE *f = fopen(argv[2 + NI + i], \"wb\");\n"
    "    if (!f || fwrite(out[i], 1, M_outputs[i].nbytes, f) != M_outputs[i].nbytes) return 4;\n"
    "    fclose(f); free(out[i]);\n  }\n"
    "  dims_io(argv[1], 1);\n"
    "  for (int i = 0; i < NI; i++) free((void *)in[i]);\n"
    "  free(w);\n  return 0;\n}\n";

/* `tcc bench`: the same entry called `warmup` times, then `runs` timed
 * calls; the per-call wall times (ms, doubles) go to the times file and tcc
 * prints the figures.  argv: dims, inputs, outputs, runs, warmup, times. */
static const char bench_text[] =
    "#include <time.h>\n"
    "int main(int argc, char **argv) {\n"
    "  enum { NI = M_NUM_INPUTS, NO = M_NUM_OUTPUTS };\n"
    "  const void *in[NI + 1]; void *out[NO + 1];\n"
    "  if (argc != 5 + NI + NO) return 5;\n"
    "  int runs = atoi(argv[2 + NI + NO]), warm = atoi(argv[3 + NI + NO]);\n"
    "  dims_io(argv[1], 0);\n"
    "  for (int i = 0; i < NI; i++) in[i] = slurp(argv[2 + i], M_inputs[i].nbytes);\n"
    "  for (int i = 0; i < NO; i++) out[i] = calloc(1, M_outputs[i].nbytes + 1);\n"
    "  size_t ws = M_WORKSPACE_SIZE;\n"
    "  void *w = ws ? aligned_alloc(TCC_WORKSPACE_ALIGN, (ws + 63) / 64 * 64) : NULL;\n"
    "  tcc_ctx ctx = tcc_ctx_init(w, ws);\n"
    "  attach_weights(&ctx);\n"
    "  void *pool = pool_attach(&ctx);\n"
    "  ctx.error = &err_info;\n"
    "  double *t = calloc((size_t)runs, sizeof *t);\n"
    "#ifdef M_NUM_LAYERS\n"
    "  prof_ms = calloc((size_t)runs * M_NUM_LAYERS + 1, sizeof *prof_ms);\n#endif\n"
    "  int64_t given[M_NUM_DIMS + 1];\n"
    "  memcpy(given, dims, sizeof given);\n"
    "  int st = 0;\n"
    "  for (int r = 0; r < warm && !st; r++) {\n"
    "    memcpy(dims, given, sizeof given);\n"
    "    st = M_RUN(&ctx, dims, in, out);\n  }\n"
    "  for (int r = 0; r < runs && !st; r++) {\n"
    "    memcpy(dims, given, sizeof given);\n"
    "    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);\n"
    "#ifdef M_NUM_LAYERS\n    prof_run = r;\n#endif\n"
    "    st = M_RUN(&ctx, dims, in, out);\n"
    "    clock_gettime(CLOCK_MONOTONIC, &b);\n"
    "    t[r] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;\n  }\n"
    "  pool_detach(pool);\n"
    "  if (st) return failed(st, argv[1]);\n"
    "  FILE *f = fopen(argv[4 + NI + NO], \"wb\");\n"
    "  if (!f || fwrite(t, sizeof *t, (size_t)runs, f) != (size_t)runs) return 4;\n"
    "  fclose(f);\n"
    "#ifdef M_NUM_LAYERS\n"
    "  char lp[4096]; snprintf(lp, sizeof lp, \"%s.layers\", argv[4 + NI + NO]);\n"
    "  size_t nl = (size_t)runs * M_NUM_LAYERS;\n"
    "  if (!(f = fopen(lp, \"wb\")) || fwrite(prof_ms, sizeof *prof_ms, nl, f) != nl) return 4;\n"
    "  fclose(f);\n#endif\n"
    "  return 0;\n}\n";

/* How to build and run the harness for a target other than the host.
 * run: the emulator's argv prefix (the binary and its arguments follow);
 * the -cpu value of qemu can be replaced with TCC_QEMU_CPU (e.g. another
 * RVV vector length). */
typedef enum RunKind {
  RUN_QEMU_USER,  /* run[] binary args... */
  RUN_WASI,       /* run[] wasi.mjs run.wasm folder args... (Node.js) */
  RUN_SEMIHOST,   /* run[] -kernel binary, args through semihosting */
} RunKind;

typedef struct Cross {
  const char *target, *package;
  const char *cc[8];   /* compiler and its target flags (NULL-ended) */
  const char *run[8];
  RunKind kind;
  const char *compat;  /* a source of runtime/ the target's libraries lack */
  const char *board;   /* bare metal: runtime/toolchains/<board>/<board>.ld */
} Cross;

static const Cross cross[] = {
    {"armv8", "gcc-aarch64-linux-gnu qemu-user",
     {"aarch64-linux-gnu-gcc"},
     {"qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"}, RUN_QEMU_USER, NULL,
     NULL},
    {"riscv64", "gcc-riscv64-linux-gnu qemu-user",
     {"riscv64-linux-gnu-gcc"},
     {"qemu-riscv64", "-L", "/usr/riscv64-linux-gnu"}, RUN_QEMU_USER,
     "toolchains/riscv64-f16.c", NULL},
    {"riscv64gcv", "gcc-riscv64-linux-gnu qemu-user",
     {"riscv64-linux-gnu-gcc"},
     {"qemu-riscv64", "-L", "/usr/riscv64-linux-gnu", "-cpu",
      "rv64,v=true,vlen=256,elen=64,vext_spec=v1.0"}, RUN_QEMU_USER,
     "toolchains/riscv64-f16.c", NULL},
    {"wasm32", "clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 nodejs",
     {"clang-19", "--target=wasm32-wasi"}, {"node", "--no-warnings"}, RUN_WASI,
     NULL, NULL},
    /* Bare metal: QEMU's Cortex-M4 and Cortex-M7 MPS2 boards, with the
     * startup of runtime/toolchains/mps2-an386 and each board's memory map. */
    {"cortex-m4", "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm",
     {"arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
      "-mfpu=fpv4-sp-d16"},
     {"qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none"},
     RUN_SEMIHOST, NULL, "mps2-an386"},
    {"cortex-m7", "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm",
     {"arm-none-eabi-gcc", "-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard",
      "-mfpu=fpv5-d16"},
     {"qemu-system-arm", "-M", "mps2-an500", "-nographic", "-monitor", "none"},
     RUN_SEMIHOST, NULL, "mps2-an500"},
    /* Cortex-M55 with Helium on QEMU's MPS3 AN547 (the same startup). */
    {"cortex-m55", "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm",
     {"arm-none-eabi-gcc", "-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"},
     {"qemu-system-arm", "-M", "mps3-an547", "-nographic", "-monitor", "none"},
     RUN_SEMIHOST, NULL, "mps3-an547"},
};

/* Node.js runner: argv = runner.mjs module.wasm folder args...; the
 * folder is preopened so the harness can open the files in it. */
static const char wasi_runner[] =
    "import { readFile } from 'node:fs/promises';\n"
    "import { WASI } from 'node:wasi';\n"
    "const [wasm, dir, ...args] = process.argv.slice(2);\n"
    "const wasi = new WASI({ version: 'preview1', args: [wasm, ...args], env: {},\n"
    "  preopens: { [dir]: dir }, returnOnExit: true });\n"
    "const mod = await WebAssembly.compile(await readFile(wasm));\n"
    "const inst = await WebAssembly.instantiate(mod, wasi.getImportObject());\n"
    "process.exitCode = wasi.start(inst);\n";

/* The cross row of the session's target in *x (NULL for the host's);
 * false after a diagnostic when tcc cannot run code for the target. */
static bool cross_for(tcc_session *s, const Cross **x) {
  const TccTarget *t = target_find(tcc_session_target(s));
  *x = NULL;
  if (!t || !strcmp(t->name, "x86_64")) return true;
  for (size_t i = 0; i < sizeof cross / sizeof cross[0]; i++)
    if (!strcmp(cross[i].target, t->name)) {
      *x = &cross[i];
      return true;
    }
  diag_error("tcc run cannot run code for target %s yet (tcc compile can); "
             "see docs/targets.md", t->name);
  return false;
}

static bool on_path(const char *prog) {
  const char *path = getenv("PATH");
  char buf[4096];
  for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
    size_t n = strcspn(p, ":");
    snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, prog);
    if (access(buf, X_OK) == 0) return true;
    p += n + (p[n] == ':');
  }
  return false;
}

/* Where the runtime, its headers and sources are: beside tcc when it runs
 * installed (bin/tcc next to share/tcc/runtime, found from its own path,
 * so an installed tree works wherever it is unpacked: a .deb extracted
 * into a folder, a moved prefix), else the build tree's files, else the
 * configured prefix's.  Found once per process. */
typedef struct RuntimePaths {
  char lib[4200], pool[4200], include[4200], sources[4200];
} RuntimePaths;
static RuntimePaths paths;

static bool installed_prefix(char *prefix, size_t size) {
  ssize_t n = readlink("/proc/self/exe", prefix, size - 64);
  if (n <= 0 || (size_t)n >= size - 64) return false;
  prefix[n] = 0;
  for (int up = 0; up < 2; up++) { /* .../bin/tcc -> ... */
    char *slash = strrchr(prefix, '/');
    if (!slash) return false;
    *slash = 0;
  }
  size_t len = strlen(prefix);
  snprintf(prefix + len, size - len, "/share/tcc/runtime/rt.c");
  bool found = access(prefix, R_OK) == 0;
  prefix[len] = 0;
  return found;
}

static void locate(char *out, const char *prefix, const char *rel, const char *build_path) {
  if (!prefix && access(build_path, R_OK) == 0) snprintf(out, sizeof paths.lib, "%s", build_path);
  else snprintf(out, sizeof paths.lib, "%s/%s", prefix ? prefix : TCC_INSTALL_PREFIX, rel);
}

static void find_runtime_paths(void) {
  char buf[4096];
  const char *prefix = installed_prefix(buf, sizeof buf) ? buf : NULL;
  locate(paths.lib, prefix, "lib/libtccrt.a", TCC_BUILD_RUNTIME_LIB);
  locate(paths.pool, prefix, "lib/libtccrt_pool.a", TCC_BUILD_POOL_LIB);
  locate(paths.include, prefix, "include", TCC_SOURCE_INCLUDE_DIR);
  locate(paths.sources, prefix, "share/tcc/runtime", TCC_SOURCE_INCLUDE_DIR "/../runtime");
}

static const RuntimePaths *runtime_paths(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, find_runtime_paths);
  return &paths;
}

static const char *existing(const char *path) { return access(path, R_OK) == 0 ? path : NULL; }
static const char *runtime_lib(void) { return existing(runtime_paths()->lib); }
static const char *pool_lib(void) { return existing(runtime_paths()->pool); }
static const char *include_dir(void) { return runtime_paths()->include; }

/* Runs argv; returns the exit status, or -1 after a diagnostic. */
static int spawn(char *const argv[]) {
  pid_t pid = fork();
  if (pid < 0) {
    diag_error("cannot start '%s': %s", argv[0], strerror(errno));
    return -1;
  }
  if (pid == 0) {
    execvp(argv[0], argv);
    fprintf(stderr, "tcc: error: cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  if (WIFSIGNALED(st)) {
    diag_error("'%s' was killed by signal %d", argv[0], WTERMSIG(st));
    return -1;
  }
  return WEXITSTATUS(st);
}

typedef struct RunDir {
  char path[64];
  IrModule *m;
  const Cross *x;   /* NULL: the host */
  int repeat;          /* bench: timed calls; 0 = run once */
  int threads;         /* > 1: the harness links the pool */
  int layers;          /* -profile=1: the model's layers (rt.mark); 0: none */
} RunDir;

static char *in_dir(const RunDir *d, const char *name) {
  return ir_arena_printf(d->m->arena, "%s/%s", d->path, name);
}

/* A growing NULL-terminated argv in the module arena. */
typedef struct Argv {
  char **v;
  int n, cap;
  IrModule *m;
} Argv;

static void push(Argv *a, const char *s) {
  if (a->n + 2 > a->cap) {
    int cap = a->cap ? a->cap * 2 : 32;
    char **v = ir_arena_alloc(a->m->arena, sizeof *v * (size_t)cap);
    if (a->n) memcpy(v, a->v, sizeof *v * (size_t)a->n);
    a->v = v;
    a->cap = cap;
  }
  a->v[a->n++] = (char *)s;
  a->v[a->n] = NULL;
}

static const char *runtime_src_dir(void) { return runtime_paths()->sources; }

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Pushes every .c file of runtime/ (sorted, so the command is reproducible). */
static bool push_runtime_sources(Argv *a) {
  const char *dir = runtime_src_dir();
  DIR *dp = opendir(dir);
  if (!dp) {
    diag_error("cannot find the runtime sources (%s): %s", dir, strerror(errno));
    return false;
  }
  int first = a->n;
  for (struct dirent *e; (e = readdir(dp));) {
    size_t n = strlen(e->d_name);
    /* pool.c is the thread pool, a library of its own (hosted targets) */
    if (n > 2 && !strcmp(e->d_name + n - 2, ".c") && strcmp(e->d_name, "pool.c"))
      push(a, ir_arena_printf(a->m->arena, "%s/%s", dir, e->d_name));
  }
  closedir(dp);
  qsort(a->v + first, (size_t)(a->n - first), sizeof *a->v, cmp_str);
  return true;
}

static char *write_harness(RunDir *d, bool bench) {
  const char *n = d->m->name;
  char *up = ir_arena_strdup(d->m->arena, n);
  for (char *p = up; *p; p++)
    if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
  /* clock_gettime needs _POSIX_C_SOURCE before any header. */
  char *weights = in_dir(d, ir_arena_printf(d->m->arena, "%s.weights", n));
  char *prelude = ir_arena_printf(d->m->arena, harness_prelude, n, n, up, up, up,
                                  n, n, d->threads, up, up, n, n, up, up, n, weights);
  if (d->layers)
    prelude = ir_arena_printf(d->m->arena, "%s#define M_NUM_LAYERS %d\n", prelude, d->layers);
  char *src = ir_arena_printf(d->m->arena, "%s%s%s%s",
                              bench || d->layers ? "#define _POSIX_C_SOURCE 200809L\n" : "",
                              prelude, harness_common, bench ? bench_text : harness_text);
  char *src_path = in_dir(d, "harness.c");
  return util_write_file_atomic(src_path, src, strlen(src)) ? src_path : NULL;
}

static bool link_host(RunDir *d, char *src_path) {
  const char *n = d->m->name, *lib = runtime_lib();
  if (!lib) {
    diag_error("cannot find the runtime library libtccrt.a (looked for %s)",
               runtime_paths()->lib);
    return false;
  }
  const char *cc = getenv("TCC_CC") ? getenv("TCC_CC") : "cc";
  char *inc = ir_arena_printf(d->m->arena, "-I%s", include_dir());
  char *inc2 = ir_arena_printf(d->m->arena, "-I%s", d->path);
  char *obj = in_dir(d, ir_arena_printf(d->m->arena, "%s.o", n));
  char *exe = in_dir(d, "run");
  const char *pool = d->threads > 1 ? pool_lib() : NULL;
  if (d->threads > 1 && !pool) {
    diag_error("cannot find the thread pool library libtccrt_pool.a (looked for %s)",
               runtime_paths()->pool);
    return false;
  }
  Argv a = {.m = d->m};
  const char *fixed[] = {cc, "-O1", "-w", inc, inc2, src_path, obj};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) push(&a, fixed[i]);
  if (pool) push(&a, pool);
  push(&a, lib);
  if (pool) push(&a, "-lpthread");
  push(&a, "-lm");
  push(&a, "-o");
  push(&a, exe);
  if (spawn(a.v) != 0) {
    diag_error("linking the compiled model with the runtime failed (%s)", cc);
    return false;
  }
  return true;
}

/* Bare metal: newlib with semihosting, the board's memory map and the
 * (shared) startup code, shipped next to the runtime sources. */
static void push_bare_metal(Argv *a, const char *board) {
  const char *dir = ir_arena_printf(a->m->arena, "%s/toolchains",
                                    runtime_src_dir());
  push(a, "--specs=rdimon.specs");
  push(a, "-nostartfiles");
  push(a, "-Wl,--no-warn-execstack,--no-warn-rwx-segments"); /* newlib's */
  push(a, ir_arena_printf(a->m->arena, "-T%s/%s/%s.ld", dir, board, board));
  push(a, ir_arena_printf(a->m->arena, "%s/mps2-an386/startup.c", dir));
}

/* The harness, the runtime sources and the object, built with the
 * target's C compiler into <dir>/run (run.wasm for WASI). */
static bool link_cross(RunDir *d, char *src_path) {
  Argv a = {.m = d->m};
  for (int i = 0; d->x->cc[i]; i++) push(&a, d->x->cc[i]);
  push(&a, "-O1");
  push(&a, "-w");
  push(&a, ir_arena_printf(d->m->arena, "-I%s", include_dir()));
  push(&a, ir_arena_printf(d->m->arena, "-I%s", d->path));
  push(&a, src_path);
  if (!push_runtime_sources(&a)) return false;
  if (d->threads > 1) { /* qemu-user runs threads: the pool from source */
    push(&a, ir_arena_printf(d->m->arena, "%s/pool.c", runtime_src_dir()));
    push(&a, "-pthread");
  }
  if (d->x->kind == RUN_SEMIHOST) push_bare_metal(&a, d->x->board);
  if (d->x->compat)
    push(&a, ir_arena_printf(d->m->arena, "%s/%s", runtime_src_dir(),
                             d->x->compat));
  push(&a, in_dir(d, ir_arena_printf(d->m->arena, "%s.o", d->m->name)));
  push(&a, "-lm");
  push(&a, "-o");
  push(&a, in_dir(d, d->x->kind == RUN_WASI ? "run.wasm" : "run"));
  if (spawn(a.v) != 0) {
    diag_error("linking the compiled model with the runtime for %s failed (%s)",
               d->x->target, a.v[0]);
    return false;
  }
  if (d->x->kind != RUN_WASI) return true;
  char *js = in_dir(d, "wasi.mjs");
  return util_write_file_atomic(js, wasi_runner, strlen(wasi_runner));
}

static bool write_harness_and_link(RunDir *d) {
  char *src_path = write_harness(d, d->repeat > 0);
  if (!src_path) return false;
  return d->x ? link_cross(d, src_path) : link_host(d, src_path);
}

/* qemu-system's semihosting command line: the program and its arguments
 * (the harness's paths have no commas). */
static void push_semihost(RunDir *d, Argv *a, char **args, int nargs) {
  char *cfg = ir_arena_printf(d->m->arena, "enable=on,target=native,arg=%s",
                              in_dir(d, "run"));
  for (int i = 0; i < nargs; i++)
    cfg = ir_arena_printf(d->m->arena, "%s,arg=%s", cfg, args[i]);
  push(a, "-semihosting-config");
  push(a, cfg);
  push(a, "-kernel");
  push(a, in_dir(d, "run"));
}

/* The command that runs the linked harness: the binary itself, or the
 * emulator with the binary.  TCC_QEMU_CPU replaces qemu-user's -cpu. */
static char **run_command(RunDir *d, char **args, int nargs) {
  Argv a = {.m = d->m};
  const char *qcpu = getenv("TCC_QEMU_CPU");
  bool user = d->x && d->x->kind == RUN_QEMU_USER;
  for (int i = 0; d->x && d->x->run[i]; i++) {
    if (user && qcpu && *qcpu && !strcmp(d->x->run[i], "-cpu")) {
      i++;
      continue;
    }
    push(&a, d->x->run[i]);
  }
  if (user && qcpu && *qcpu) {
    push(&a, "-cpu");
    push(&a, qcpu);
  }
  if (d->x && d->x->kind == RUN_SEMIHOST) {
    push_semihost(d, &a, args, nargs);
    return a.v;
  }
  if (d->x && d->x->kind == RUN_WASI) {
    push(&a, in_dir(d, "wasi.mjs"));
    push(&a, in_dir(d, "run.wasm"));
    push(&a, d->path);
  } else {
    push(&a, in_dir(d, "run"));
  }
  for (int i = 0; i < nargs; i++) push(&a, args[i]);
  return a.v;
}

/* Before compiling for a cross target: the tools exist, and the `tcc run`
 * default -mcpu=native (this machine) becomes the target's baseline. */
static tcc_result cross_prepare(tcc_session *s, const Cross *x) {
  const char *need[] = {x->cc[0], x->run[0]};
  for (int i = 0; i < 2; i++)
    if (!on_path(need[i])) {
      diag_error("tcc run -target=%s needs '%s' (Debian packages: %s; "
                 "tests/install-deps.sh installs them)", x->target, need[i],
                 x->package);
      return TCC_ERROR_INPUT;
    }
  const char *cpu = tcc_session_cpu(s);
  if (cpu && !strcmp(cpu, "native"))
    return tcc_set_option(s, "mcpu", target_find(x->target)->default_cpu);
  return TCC_SUCCESS;
}

static IrType input_type(const IrModule *m, int i) {
  return m->main->body->args[i]->type;
}

/* Checks tensor t against input i; a run-time dim takes the tensor's size
 * into dims[sym] (which must agree between inputs and lie in LO..HI). */
static bool check_input(const IrModule *m, int i, const char *path,
                        const OnnxTensor *t, int64_t *dims) {
  IrType want = input_type(m, i);
  const char *name = m->main->input_names ? m->main->input_names[i] : NULL;
  IrLoc loc = {.file = path};
  if (t->name && *t->name && name && strcmp(t->name, name)) {
    diag_at(DIAG_ERROR, &loc, "tensor '%s' given as input %d, but the model's "
            "input %d is '%s'", t->name, i, i, name);
    return false;
  }
  /* Old ONNX test data stores bfloat16 tensors as UINT16: the same bytes. */
  IrElem elem = t->elem == IR_U16 && want.elem == IR_BF16 ? IR_BF16 : t->elem;
  IrType got = ir_type_tensor(elem, t->rank, t->dims);
  want.kind = IR_TYPE_TENSOR;
  for (int k = 0; k < t->rank && k < want.rank; k++) {
    int sym = want.dims[k].sym;
    if (!ir_dim_is_dynamic(m, want.dims[k])) continue;
    const IrSym *s = &m->syms[sym];
    if (t->dims[k] < s->lo || t->dims[k] > s->hi) {
      diag_at(DIAG_ERROR, &loc, "input %d: dimension %d ('%s') is %lld, outside "
              "the compiled range %lld..%lld", i, k, s->name, (long long)t->dims[k],
              (long long)s->lo, (long long)s->hi);
      return false;
    }
    if (dims[sym] >= 0 && dims[sym] != t->dims[k]) {
      diag_at(DIAG_ERROR, &loc, "input %d: dimension %d ('%s') is %lld, but an "
              "earlier input gives '%s' = %lld", i, k, s->name, (long long)t->dims[k],
              s->name, (long long)dims[sym]);
      return false;
    }
    dims[sym] = t->dims[k];
    got.dims[k] = want.dims[k];
  }
  if (!ir_type_equal(&got, &want)) {
    char a[256], b[256];
    diag_at(DIAG_ERROR, &loc, "input %d is %s but the model expects %s", i,
            ir_type_str(m, &got, a, sizeof a), ir_type_str(m, &want, b, sizeof b));
    return false;
  }
  return true;
}

/* An input whose dim is a sum sym (-dim=total=past+seq) must be as long
 * as its terms add up to (the model sets the sum from them). */
static bool check_sum_dims(const IrModule *m, const int64_t *dims) {
  for (int k = 0; k < m->num_syms; k++) {
    const IrSym *s = &m->syms[k];
    int64_t want = s->offset;
    if (!s->num_terms || dims[k] < 0) continue;
    for (int t = 0; t < s->num_terms; t++) want += dims[s->terms[t]];
    if (dims[k] != want) {
      diag_error("an input has dimension '%s' = %lld, but its terms add up to %lld", s->name,
                 (long long)dims[k], (long long)want);
      return false;
    }
  }
  return true;
}

/* Writes dims[] (the model's run-time dims) to args[0]. */
static bool stage_dims(RunDir *d, char **args, int64_t *dims) {
  IrModule *m = d->m;
  for (int k = 0; k < m->num_syms; k++) {
    if (m->syms[k].value >= 0) dims[k] = m->syms[k].value;
    else if (dims[k] < 0) dims[k] = m->syms[k].hi; /* bench zeros; outputs' */
  }
  args[0] = in_dir(d, "dims.bin");
  return util_write_file_atomic(args[0], dims, sizeof *dims * (size_t)m->num_syms);
}

/* splitmix64: a fixed sequence, so every bench of a model times the same
 * data. */
static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Bench input i at its largest size: floats uniform in [-1, 1) from a seed
 * per input; integer and bool inputs stay zero (they are mostly indices,
 * masks and sizes, where arbitrary values would be out of range). */
static bool write_random_input(RunDir *d, int i, const char *path) {
  IrType t = input_type(d->m, i);
  uint64_t nbytes, state = 0x7cc5eedull + (uint64_t)i;
  if (!ir_type_nbytes_bound(d->m, &t, &nbytes)) {
    diag_error("input %d has no bounded size to bench with", i);
    return false;
  }
  size_t es = ir_elem_size(t.elem), n = es ? (size_t)nbytes / es : 0;
  nbytes = ir_elem_packed_bytes(t.elem, n); /* sub-byte inputs: zeros, packed */
  void *data = calloc(1, (size_t)nbytes + 1);
  if (!data) {
    diag_error("out of memory for bench input %d (%llu bytes)", i, (unsigned long long)nbytes);
    return false;
  }
  if (ir_elem_is_float(t.elem))
    for (size_t k = 0; k < n; k++)
      ir_elem_store_f64(t.elem, data, k, (double)(next_random(&state) >> 11) * 0x1p-52 - 1.0);
  bool ok = util_write_file_atomic(path, data, (size_t)nbytes);
  free(data);
  return ok;
}

/* args[0] = the dims file, args[1 + i] = input i. */
static bool stage_inputs(RunDir *d, const RunOptions *o, char **args) {
  IrFunc *f = d->m->main;
  int64_t *dims = ir_arena_alloc(d->m->arena, sizeof *dims * (size_t)(d->m->num_syms + 1));
  for (int k = 0; k < d->m->num_syms; k++) dims[k] = -1;
  if (o->repeat > 0 && o->num_inputs == 0) { /* bench: seeded random data */
    for (int i = 0; i < f->num_inputs; i++) {
      args[1 + i] = in_dir(d, ir_arena_printf(d->m->arena, "in%d.bin", i));
      if (!write_random_input(d, i, args[1 + i])) return false;
    }
    return stage_dims(d, args, dims);
  }
  if (o->num_inputs != f->num_inputs) {
    diag_error("the model has %d input%s; %d given with --input", f->num_inputs,
               f->num_inputs == 1 ? "" : "s", o->num_inputs);
    return false;
  }
  for (int i = 0; i < f->num_inputs; i++) {
    OnnxTensor t = {0};
    if (!onnx_tensor_read_file(o->inputs[i], &t)) return false;
    bool ok = check_input(d->m, i, o->inputs[i], &t, dims);
    args[1 + i] = in_dir(d, ir_arena_printf(d->m->arena, "in%d.bin", i));
    if (ok && ir_elem_is_subbyte(t.elem)) { /* the compiled code takes ONNX's packing */
      size_t nb = (size_t)ir_elem_packed_bytes(t.elem, t.nbytes);
      uint8_t *packed = malloc(nb + 1);
      ok = packed != NULL;
      if (ok) ir_subbyte_pack(t.elem, t.data, t.nbytes, packed);
      free(t.data);
      t.data = packed;
      t.nbytes = nb;
    }
    ok = ok && util_write_file_atomic(args[1 + i], t.data, t.nbytes);
    onnx_tensor_free(&t);
    if (!ok) return false;
  }
  return check_sum_dims(d->m, dims) && stage_dims(d, args, dims);
}

static void print_output(const IrModule *m, int i, const OnnxTensor *t) {
  char ty[256];
  IrType type = ir_type_tensor(t->elem, t->rank, t->dims);
  printf("output %d '%s' %s:", i, t->name ? t->name : "",
         ir_type_str(m, &type, ty, sizeof ty));
  size_t n = t->nbytes / (ir_elem_size(t->elem) ? ir_elem_size(t->elem) : 1);
  for (size_t k = 0; k < n && k < 32; k++)
    printf(" %.6g", ir_elem_load_f64(t->elem, t->data, k));
  printf("%s\n", n > 32 ? " ..." : "");
}

/* Outputs at their run-time sizes: the dims file as the model left it. */
static bool collect_outputs(RunDir *d, const RunOptions *o, char **args) {
  IrFunc *f = d->m->main;
  char *dims_data;
  size_t dims_len;
  if (o->output_dir && !util_mkdir_p(o->output_dir)) return false;
  if (!util_read_file(args[0], &dims_data, &dims_len)) return false;
  const int64_t *dims = (const int64_t *)(void *)dims_data;
  bool ok = dims_len == sizeof *dims * (size_t)d->m->num_syms;
  if (!ok) diag_error("the compiled model returned no run-time dims");
  for (int i = 0; ok && i < f->num_outputs; i++) {
    IrType t = f->body->args[f->num_inputs + i]->type;
    OnnxTensor out = {.name = (char *)(f->output_names ? f->output_names[i] : NULL),
                      .elem = t.elem, .rank = t.rank};
    size_t numel = 1;
    for (int k = 0; k < t.rank; k++) {
      out.dims[k] = t.dims[k].sym >= 0 ? dims[t.dims[k].sym] : t.dims[k].size;
      numel *= (size_t)out.dims[k];
    }
    size_t want = (size_t)ir_elem_packed_bytes(t.elem, numel);
    char *data;
    if (!util_read_file(args[1 + f->num_inputs + i], &data, &out.nbytes)) {
      ok = false;
      break;
    }
    if (out.nbytes < want) {
      diag_error("output %d: the compiled model wrote %zu bytes, %zu expected", i,
                 out.nbytes, want);
      free(data);
      ok = false;
      break;
    }
    out.nbytes = want;
    if (ir_elem_is_subbyte(t.elem)) { /* unpacked, one byte per element */
      char *unpacked = malloc(numel + 1);
      if (unpacked) ir_subbyte_unpack(t.elem, (const uint8_t *)data, numel, (uint8_t *)unpacked);
      free(data);
      if (!(data = unpacked)) {
        diag_error("out of memory for output %d", i);
        ok = false;
        break;
      }
      out.nbytes = numel;
    }
    out.data = data;
    if (o->output_dir) {
      char *name = ir_arena_printf(d->m->arena, "output_%d.pb", i);
      char *path = util_join(o->output_dir, name);
      ok = onnx_tensor_write_file(path, &out);
      free(path);
    } else {
      print_output(d->m, i, &out);
    }
    free(data);
  }
  free(dims_data);
  return ok;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* -profile=1: each layer's median over the timed runs, from the harness's
 * <times>.layers (runs x layers ms); NULL after a diagnostic. */
static double *layer_medians(const RunDir *d, const char *times_path, int runs) {
  char *data;
  size_t len;
  char *path = ir_arena_printf(d->m->arena, "%s.layers", times_path);
  if (!util_read_file(path, &data, &len)) return NULL;
  size_t nl = (size_t)d->layers;
  if (len != sizeof(double) * nl * (size_t)runs) {
    diag_error("the benchmark wrote %zu layer times, %zu expected", len / sizeof(double),
               nl * (size_t)runs);
    free(data);
    return NULL;
  }
  const double *all = (const double *)(void *)data;
  double *med = calloc(nl + 1, sizeof *med), *col = calloc((size_t)runs, sizeof *col);
  IR_ASSERT(med && col);
  for (size_t k = 0; k < nl; k++) {
    for (int r = 0; r < runs; r++) col[r] = all[(size_t)r * nl + k];
    qsort(col, (size_t)runs, sizeof *col, cmp_double);
    med[k] = (col[(runs - 1) / 2] + col[runs / 2]) / 2;
  }
  free(col);
  free(data);
  return med;
}

/* A layer's schedule problem as JSON: what `tcc tune` searches. */
static cJSON *problem_json(const SchedProblem *p) {
  cJSON *j = cJSON_CreateObject();
  char used[160];
  sched_choice_format(&p->used, p->kind, used, sizeof used);
  if (p->kind == SCHED_KIND_GEMM) {
    cJSON_AddStringToObject(j, "kind", "gemm");
    cJSON_AddNumberToObject(j, "M", (double)p->M);
    cJSON_AddNumberToObject(j, "N", (double)p->N);
    cJSON_AddNumberToObject(j, "K", (double)p->K);
    cJSON_AddNumberToObject(j, "max_rows", p->max_rows);
    cJSON_AddBoolToObject(j, "transposable", p->transposable);
    cJSON_AddBoolToObject(j, "splittable", p->splittable);
    cJSON_AddNumberToObject(j, "packed_bytes", (double)p->packed_bytes);
    /* a 3x3 conv: the direct product and Winograd's tiles it can take */
    if (p->variants) cJSON_AddNumberToObject(j, "variants", p->variants);
  } else {
    cJSON_AddStringToObject(j, "kind", "depthwise");
    cJSON_AddNumberToObject(j, "variants", p->variants);
  }
  cJSON_AddStringToObject(j, "schedule", used);
  return j;
}

/* The per-layer part of bench's report: a table, or a `layers` array. */
static void print_layer_profile(const RunDir *d, const double *med, double total, cJSON *json) {
  const IrModule *m = d->m;
  cJSON *arr = json ? cJSON_AddArrayToObject(json, "layers") : NULL;
  if (!json) printf("%5s %10s %6s  %-16s %s\n", "layer", "median ms", "%", "op", "node");
  for (int k = 0; k < d->layers; k++) {
    const IrSchedNote *n = &m->sched_notes[k];
    const char *node = n->loc.node && n->loc.node[0] ? n->loc.node : "-";
    if (!json) {
      printf("%5d %10.4f %6.2f  %-16s %s\n", k, med[k], total > 0 ? 100 * med[k] / total : 0,
             n->op, node);
      continue;
    }
    cJSON *l = cJSON_CreateObject();
    cJSON_AddNumberToObject(l, "layer", k);
    cJSON_AddStringToObject(l, "node", node);
    cJSON_AddStringToObject(l, "op", n->op);
    cJSON_AddStringToObject(l, "key", n->key);
    cJSON_AddNumberToObject(l, "median_ms", med[k]);
    if (n->problem.kind != SCHED_KIND_NONE)
      cJSON_AddItemToObject(l, "problem", problem_json(&n->problem));
    cJSON_AddItemToArray(arr, l);
  }
}

/* bench: the figures from the harness's per-call times, as one line or
 * one JSON object; with -profile=1 also each layer's median. */
static bool report_times(RunDir *d, const RunOptions *o, const char *path) {
  char *data;
  size_t len;
  if (!util_read_file(path, &data, &len)) return false;
  size_t n = len / sizeof(double);
  if (n != (size_t)o->repeat) {
    diag_error("the benchmark wrote %zu times, %d expected", n, o->repeat);
    free(data);
    return false;
  }
  double *t = (double *)(void *)data;
  double *med = d->layers ? layer_medians(d, path, o->repeat) : NULL;
  if (d->layers && !med) {
    free(data);
    return false;
  }
  qsort(t, n, sizeof *t, cmp_double);
  double median = (t[(n - 1) / 2] + t[n / 2]) / 2, sum = 0;
  for (size_t i = 0; i < n; i++) sum += t[i];
  const char *name = d->m->name;
  if (o->json) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", name);
    cJSON_AddNumberToObject(j, "median_ms", median);
    cJSON_AddNumberToObject(j, "min_ms", t[0]);
    cJSON_AddNumberToObject(j, "max_ms", t[n - 1]);
    cJSON_AddNumberToObject(j, "mean_ms", sum / (double)n);
    cJSON_AddNumberToObject(j, "iters", (double)n);
    cJSON_AddNumberToObject(j, "warmup", o->warmup);
    cJSON_AddNumberToObject(j, "threads", o->threads);
    cJSON_AddNumberToObject(j, "workspace_bytes", (double)d->m->main->workspace_size);
    if (med) print_layer_profile(d, med, median, j);
    char *text = cJSON_PrintUnformatted(j);
    printf("%s\n", text);
    cJSON_free(text);
    cJSON_Delete(j);
  } else {
    printf("%s: %zu runs, median %.4f ms, min %.4f ms, max %.4f ms, %d thread%s\n", name, n,
           median, t[0], t[n - 1], o->threads, o->threads == 1 ? "" : "s");
    if (med) print_layer_profile(d, med, median, NULL);
  }
  free(med);
  free(data);
  return true;
}

/* The check op of the lowered module that failed: its location names the
 * file, node, op and opset. */
typedef struct FailSite {
  const char *node, *op_type;
  const IrOp *found;
} FailSite;

static void find_check(IrOp *op, void *user) {
  FailSite *f = user;
  if (!f->found && op->kind == IR_OP_CHECK && op->loc.node && op->loc.op_type &&
      !strcmp(op->loc.node, f->node) && !strcmp(op->loc.op_type, f->op_type))
    f->found = op;
}

/* The harness left <dims file>.err when a node stopped the run (status, op
 * type and node name, a line each): reports it at that node.  False when
 * there is no such file. */
static bool report_failed_node(RunDir *d, const char *dims_path) {
  char *text;
  size_t len;
  char *path = ir_arena_printf(d->m->arena, "%s.err", dims_path);
  if (access(path, R_OK) != 0 || !util_read_file(path, &text, &len)) return false;
  char *op_type = strchr(text, '\n'), *node = op_type ? strchr(op_type + 1, '\n') : NULL;
  char *end = node ? strchr(node + 1, '\n') : NULL;
  if (!end) {
    free(text);
    return false;
  }
  *op_type++ = 0, *node++ = 0, *end = 0;
  int st = atoi(text);
  FailSite f = {node, op_type, NULL};
  ir_walk(d->m->main->body, find_check, &f);
  IrLoc loc = {.file = d->m->source, .node = node, .op_type = op_type};
  diag_at(DIAG_ERROR, f.found ? &f.found->loc : &loc, "the compiled model stopped at "
          "this node: %s (status %d)", st == TCC_ERR_INDEX_OUT_OF_RANGE
          ? "an index is out of range, TCC_ERR_INDEX_OUT_OF_RANGE"
          : "a size is outside its compiled range, TCC_ERR_DIM_OUT_OF_RANGE", st);
  free(text);
  return true;
}


/* Output i's f32 values, read from its raw file (malloc'd; *n of them), or
 * NULL after a diagnostic (or for an output that is not f32). */
static float *read_f32_output(RunDir *d, const char *path, int i, uint64_t *n) {
  IrType t = d->m->main->body->args[d->m->main->num_inputs + i]->type;
  char *data;
  size_t len;
  if (t.elem != IR_F32 || !ir_type_numel(&t, n) || !util_read_file(path, &data, &len))
    return NULL;
  if (len < *n * sizeof(float)) {
    diag_error("output %d: the compiled model wrote %zu bytes, %llu expected", i, len,
               (unsigned long long)(*n * sizeof(float)));
    free(data);
    return NULL;
  }
  return (float *)(void *)data;
}

/* Folds output i's f32 values (its raw file) into lo/hi, or with hist,
 * counts them in `bins` bins over [lo, hi]. */
static bool observe_output(RunDir *d, const char *path, int i, float *lo, float *hi,
                           uint64_t *hist, int bins) {
  uint64_t n;
  float *data = read_f32_output(d, path, i, &n);
  if (!data) return false;
  const float *v = data;
  double width = ((double)*hi - *lo) / bins;
  for (uint64_t k = 0; k < n; k++) {
    if (hist) {
      double b = width > 0 ? ((double)v[k] - *lo) / width : 0;
      hist[b < 0 ? 0 : b >= bins ? bins - 1 : (int)b]++;
      continue;
    }
    if (v[k] < *lo) *lo = v[k];
    if (v[k] > *hi) *hi = v[k];
  }
  free(data);
  return true;
}

/* Output i of data set k (its raw file) kept, or compared with the kept
 * reference (RunOptions.keep, .ref); an output that is not f32 is left. */
static bool compare_output(RunDir *d, const RunOptions *o, const char *path, int k, int i) {
  IrFunc *f = d->m->main;
  int nobs = f->num_outputs - o->first_observed, at = o->first_observed + i;
  size_t slot = (size_t)k * (size_t)nobs + (size_t)i;
  if (f->body->args[f->num_inputs + at]->type.elem != IR_F32 || (o->ref && !o->ref[slot]))
    return true; /* no SQNR to take */
  uint64_t n;
  float *data = read_f32_output(d, path, at, &n);
  if (!data) return false;
  if (o->keep) {
    o->keep[slot] = data; /* handed over */
    return true;
  }
  const float *v = data, *r = o->ref[slot];
  for (uint64_t e = 0; e < n; e++) {
    double diff = (double)v[e] - r[e];
    o->signal[i] += (double)r[e] * r[e];
    o->noise[i] += diff * diff;
  }
  free(data);
  return true;
}

/* The linked harness on data set k, its outputs from o->first_observed
 * on folded into the ranges (pass 0) or the histograms (pass 1), or kept
 * or compared (RunOptions.keep, .ref). */
static tcc_result run_set(RunDir *d, const RunOptions *o, int k, int pass, char **args,
                          int nargs) {
  IrFunc *f = d->m->main;
  int ni = f->num_inputs, nobs = f->num_outputs - o->first_observed;
  const char **inputs = ir_arena_alloc(d->m->arena, sizeof *inputs * (size_t)(ni + 1));
  for (int i = 0; i < ni; i++) {
    inputs[i] = ir_arena_printf(d->m->arena, "%s/input_%d.pb", o->sets[k], i);
    if (access(inputs[i], R_OK)) {
      diag_error("--calib: cannot read '%s': %s (each data set holds input_<i>.pb for "
                 "the model's %d input%s)", inputs[i], strerror(errno), ni, ni == 1 ? "" : "s");
      return TCC_ERROR_INPUT;
    }
  }
  RunOptions one = *o;
  one.inputs = inputs, one.num_inputs = ni;
  if (!stage_inputs(d, &one, args)) return TCC_ERROR_INPUT;
  int st = spawn(run_command(d, args, nargs));
  if (st != 0) {
    if (st > 0) diag_error("the calibration model failed on '%s' (exit status %d)", o->sets[k], st);
    return TCC_ERROR_INTERNAL;
  }
  for (int i = 0; i < nobs; i++) {
    const char *path = args[1 + ni + o->first_observed + i];
    if (o->keep || o->ref ? !compare_output(d, o, path, k, i)
                          : !observe_output(d, path, o->first_observed + i, &o->lo[i],
                                            &o->hi[i], pass ? o->hist + (size_t)i * o->bins
                                                            : NULL,
                                            o->bins))
      return TCC_ERROR_INTERNAL;
  }
  return TCC_SUCCESS;
}

/* Calibration: every data set, then with o->bins every set again. */
static tcc_result run_sets(RunDir *d, const RunOptions *o, char **args, int nargs) {
  IrFunc *f = d->m->main;
  for (int i = 0; o->lo && i < f->num_outputs - o->first_observed; i++)
    o->lo[i] = INFINITY, o->hi[i] = -INFINITY;
  tcc_result r = TCC_SUCCESS;
  for (int pass = 0; pass < (o->bins > 0 ? 2 : 1); pass++)
    for (int k = 0; r == TCC_SUCCESS && k < o->num_sets; k++) r = run_set(d, o, k, pass, args, nargs);
  return r;
}

tcc_result tcc_run_model(tcc_session *s, const RunOptions *o) {
  const Cross *x;
  if (!cross_for(s, &x)) return TCC_ERROR_INPUT;
  if (o->threads > 1 && x && x->kind != RUN_QEMU_USER) {
    diag_error("-threads=%d: tcc run has no threads on target %s (its code runs "
               "serially there); use -threads=1", o->threads, x->target);
    return TCC_ERROR_INPUT;
  }
  tcc_result r = x ? cross_prepare(s, x) : TCC_SUCCESS;
  if (r == TCC_SUCCESS) r = tcc_compile(s);
  if (r != TCC_SUCCESS) return r;
  if (o->repeat > 0 && x) {
    diag_error("tcc bench times code on this machine; -target=%s runs under "
               "emulation (use tcc run there)", x->target);
    return TCC_ERROR_INPUT;
  }
  RunDir d = {"/tmp/tcc-run-XXXXXX", tcc_session_module(s), x, o->repeat, o->threads, 0};
  if (tcc_session_profile(s)) d.layers = d.m->num_sched_notes;
  if (!mkdtemp(d.path)) {
    diag_error("cannot create a temporary folder: %s", strerror(errno));
    return TCC_ERROR_INTERNAL;
  }
  IrFunc *f = d.m->main;
  int nargs = 1 + f->num_inputs + f->num_outputs;
  char **args = ir_arena_alloc(d.m->arena, sizeof *args * (size_t)(nargs + 4));
  if (o->repeat > 0) {
    args[nargs++] = ir_arena_printf(d.m->arena, "%d", o->repeat);
    args[nargs++] = ir_arena_printf(d.m->arena, "%d", o->warmup);
    args[nargs++] = in_dir(&d, "times.bin");
  }
  for (int i = 0; i < f->num_outputs; i++)
    args[1 + f->num_inputs + i] = in_dir(&d, ir_arena_printf(d.m->arena, "out%d.bin", i));
  r = TCC_ERROR_INPUT;
  if (o->num_sets > 0) {
    if (tcc_emit_files(s, d.path) == TCC_SUCCESS && write_harness_and_link(&d))
      r = run_sets(&d, o, args, nargs);
  } else if (stage_inputs(&d, o, args) && tcc_emit_files(s, d.path) == TCC_SUCCESS &&
             write_harness_and_link(&d)) {
    int st = spawn(run_command(&d, args, nargs));
    if (st == 3 && report_failed_node(&d, args[0])) {
      r = TCC_ERROR_INPUT; /* the inputs hold a bad value */
    } else if (st != 0) {
      if (st > 0) diag_error("the compiled model failed (exit status %d)", st);
      r = TCC_ERROR_INTERNAL;
    } else if (o->repeat > 0 ? report_times(&d, o, args[nargs - 1])
                             : collect_outputs(&d, o, args)) {
      r = TCC_SUCCESS;
    }
  }
  util_remove_tree(d.path);
  return r;
}
