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

#include "header.h"
#include "llvm.h"
#include "onnx.h"
#include "session.h"
#include "tcc/runtime.h"

/* The harness: one C text for every model, so that its object (with the
 * runtime sources on a cross target) is built once and kept in the cache
 * (harness_object), not compiled with every run.  tcc writes the model's
 * description into harness.desc, the first argument; the model's entry is
 * bound at link time (--defsym tcc_harness_run=<name>_run, or
 * tcc_harness_run_dims=<name>_run_dims), or by the preprocessor where the
 * linker has no --defsym (wasm-ld, which builds it each run).  argv:
 * description, dims file, input files, output files [, runs, warmup,
 * times file].  A model with run-time dims gets its dims from the file and
 * writes them back after the run (data-dependent output sizes); outputs
 * are written at their upper-bound size and cut by tcc.  Compiled with
 * TCC_HARNESS_BENCH (tcc bench's timing loop) and TCC_HARNESS_POOL
 * (-threads=N > 1: a tcc_pool runs the model's parallel loops). */
static const char harness_text[] =
    "#define _POSIX_C_SOURCE 200809L\n"
    "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <time.h>\n"
    "#include <tcc/runtime.h>\n"
    "#if TCC_HARNESS_POOL\n#include <tcc/pool.h>\n#endif\n"
    "int tcc_harness_run(const tcc_ctx *, const void *const[], void *const[])\n"
    "    __attribute__((weak));\n"
    "int tcc_harness_run_dims(const tcc_ctx *, int64_t[], const void *const[], void *const[])\n"
    "    __attribute__((weak));\n"
    "/* harness.desc: name, inputs, outputs, run-time dims, threads, layers,\n"
    " * workspace bytes, weights blob bytes, id and data size (0: embedded),\n"
    " * each input's and output's bytes, the blob's path. */\n"
    "static struct {\n"
    "  char name[256], weights[4096];\n"
    "  int ni, no, ndims, threads, layers;\n"
    "  unsigned long long ws, wsize, wid, wdata, *bytes;\n"
    "} M;\n"
    "static void describe(const char *p) {\n"
    "  FILE *f = fopen(p, \"r\");\n"
    "  int ok = f && fscanf(f, \"%255s %d %d %d %d %d %llu %llu %llu %llu\", M.name, &M.ni,\n"
    "                       &M.no, &M.ndims, &M.threads, &M.layers, &M.ws, &M.wsize, &M.wid,\n"
    "                       &M.wdata) == 10 && M.ni >= 0 && M.no >= 0 && M.ndims >= 0;\n"
    "  M.bytes = ok ? calloc((size_t)(M.ni + M.no) + 1, sizeof *M.bytes) : NULL;\n"
    "  for (int i = 0; M.bytes && i < M.ni + M.no; i++) ok &= fscanf(f, \"%llu\", &M.bytes[i]) == 1;\n"
    "  if (ok && M.wsize) ok = fscanf(f, \"%4095s\", M.weights) == 1;\n"
    "  if (!ok || !M.bytes) { fprintf(stderr, \"cannot read %s\\n\", p); exit(4); }\n"
    "  fclose(f);\n}\n"
    "static int run(const tcc_ctx *c, int64_t *d, const void *const *in, void *const *out) {\n"
    "  return M.ndims ? tcc_harness_run_dims(c, d, in, out) : tcc_harness_run(c, in, out);\n}\n"
    "/* Reads the file into a zeroed buffer of n bytes; a model with run-time\n"
    " * dims may get fewer bytes, a static one exactly n. */\n"
    "static void *slurp(const char *p, size_t n) {\n"
    "  unsigned char *b = calloc(1, n + 1); FILE *f = p[0] ? fopen(p, \"rb\") : NULL;\n"
    "  size_t got = f ? fread(b, 1, n + 1, f) : 0;\n"
    "  if (!b || (p[0] && (!f || got > n || (!M.ndims && got != n)))) {\n"
    "    fprintf(stderr, \"cannot read %s\\n\", p); exit(4);\n  }\n"
    "  if (f) fclose(f); return b;\n}\n"
    "static int64_t *dims;\n"
    "static void dims_io(const char *p, int out) {\n"
    "  if (!M.ndims) return;\n"
    "  FILE *f = fopen(p, out ? \"wb\" : \"rb\"); size_t n = (size_t)M.ndims;\n"
    "  if (!f || (out ? fwrite(dims, 8, n, f) : fread(dims, 8, n, f)) != n) {\n"
    "    fprintf(stderr, \"cannot access %s\\n\", p); exit(4);\n  }\n"
    "  fclose(f);\n}\n"
    "static void *pool_attach(tcc_ctx *ctx) {\n"
    "#if TCC_HARNESS_POOL\n"
    "  tcc_pool *p = tcc_pool_new(M.threads);\n"
    "  if (!p) { fprintf(stderr, \"cannot start %d threads\\n\", M.threads); exit(6); }\n"
    "  ctx->parallel_for = tcc_pool_parallel_for; ctx->parallel_user = p; return p;\n"
    "#else\n  (void)ctx; return NULL;\n#endif\n}\n"
    "static void pool_detach(void *p) {\n"
    "#if TCC_HARNESS_POOL\n  tcc_pool_free(p);\n#else\n  (void)p;\n#endif\n}\n"
    "/* --weights=external: the blob, read into aligned memory and checked\n"
    " * once, as an application would. */\n"
    "static void attach_weights(tcc_ctx *ctx) {\n"
    "  if (!M.wsize) return;\n"
    "  size_t n = (size_t)M.wsize;\n"
    "  void *b = aligned_alloc(TCC_WEIGHTS_ALIGN, (n + 63) / 64 * 64);\n"
    "  FILE *f = fopen(M.weights, \"rb\");\n"
    "  if (!b || !f || fread(b, 1, n, f) != n) {\n"
    "    fprintf(stderr, \"cannot read %s\\n\", M.weights); exit(4);\n  }\n"
    "  fclose(f);\n"
    "  int st = tcc_weights_check(b, n, M.wid, M.wdata);\n"
    "  if (st) { fprintf(stderr, \"%s: %s\\n\", M.weights, tcc_status_str(st)); exit(7); }\n"
    "  ctx->weights = b; ctx->weights_size = n;\n}\n"
    "/* A failure that names a node goes to <dims file>.err for tcc to report;\n"
    " * any other is printed here. */\n"
    "static tcc_error_info err_info;\n"
    "static int failed(int st, const char *dims_path) {\n"
    "  char p[4096]; FILE *f;\n"
    "  snprintf(p, sizeof p, \"%s.err\", dims_path);\n"
    "  if (err_info.node && (f = fopen(p, \"wb\"))) {\n"
    "    fprintf(f, \"%d\\n%s\\n%s\\n\", st, err_info.op_type, err_info.node); fclose(f);\n"
    "  } else {\n"
    "    fprintf(stderr, \"%s_run failed: %s\\n\", M.name, tcc_status_str(st));\n  }\n"
    "  return 3;\n}\n"
    "/* -profile=1: the model calls this before each layer and at its end;\n"
    " * bench adds each layer's time of timed run r to prof_ms[r][layer]. */\n"
    "static double *prof_ms;\nstatic int prof_run = -1, prof_layer = -1;\n"
    "static struct timespec prof_t;\n"
    "void tcc_profile_mark(int32_t layer);\n"
    "void tcc_profile_mark(int32_t layer) {\n"
    "#ifdef CLOCK_MONOTONIC /* bench runs on hosts; newlib has no such clock */\n"
    "  struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);\n"
    "  if (prof_ms && prof_run >= 0 && prof_layer >= 0 && prof_layer < M.layers)\n"
    "    prof_ms[(size_t)prof_run * (size_t)M.layers + (size_t)prof_layer] +=\n"
    "        (double)(t.tv_sec - prof_t.tv_sec) * 1e3 +\n"
    "        (double)(t.tv_nsec - prof_t.tv_nsec) / 1e6;\n"
    "  prof_t = t;\n#endif\n  prof_layer = layer;\n}\n"
    "/* `tcc bench`: the entry called `warmup` times, then `runs` timed calls;\n"
    " * the per-call wall times (ms, doubles) go to the times file and tcc\n"
    " * prints the figures.  `tcc run`: one call, the outputs to their files. */\n"
    "int main(int argc, char **argv) {\n"
    "  if (argc < 2) return 5;\n"
    "  describe(argv[1]);\n"
    "  int ni = M.ni, no = M.no;\n"
    "  const void **in = calloc((size_t)ni + 1, sizeof *in);\n"
    "  void **out = calloc((size_t)no + 1, sizeof *out);\n"
    "  dims = calloc((size_t)M.ndims + 1, sizeof *dims);\n"
    "#if TCC_HARNESS_BENCH\n"
    "  if (argc != 6 + ni + no) return 5;\n"
    "#else\n"
    "  if (argc != 3 + ni + no) return 5;\n"
    "#endif\n"
    "  char **files = argv + 2; /* dims, inputs, outputs */\n"
    "  dims_io(files[0], 0);\n"
    "  for (int i = 0; i < ni; i++) in[i] = slurp(files[1 + i], (size_t)M.bytes[i]);\n"
    "  for (int i = 0; i < no; i++) out[i] = calloc(1, (size_t)M.bytes[ni + i] + 1);\n"
    "  size_t ws = (size_t)M.ws;\n"
    "  void *w = ws ? aligned_alloc(TCC_WORKSPACE_ALIGN, (ws + 63) / 64 * 64) : NULL;\n"
    "  tcc_ctx ctx = tcc_ctx_init(w, ws);\n"
    "  attach_weights(&ctx);\n"
    "  void *pool = pool_attach(&ctx);\n"
    "  ctx.error = &err_info;\n"
    "  int st = 0;\n"
    "#if TCC_HARNESS_BENCH\n"
    "  int runs = atoi(files[1 + ni + no]), warm = atoi(files[2 + ni + no]);\n"
    "  const char *times = files[3 + ni + no];\n"
    "  double *t = calloc((size_t)runs + 1, sizeof *t);\n"
    "  if (M.layers) prof_ms = calloc((size_t)runs * (size_t)M.layers + 1, sizeof *prof_ms);\n"
    "  int64_t *given = calloc((size_t)M.ndims + 1, sizeof *given);\n"
    "  memcpy(given, dims, sizeof *dims * (size_t)M.ndims);\n"
    "  for (int r = 0; r < warm && !st; r++) {\n"
    "    memcpy(dims, given, sizeof *dims * (size_t)M.ndims);\n"
    "    st = run(&ctx, dims, in, out);\n  }\n"
    "  for (int r = 0; r < runs && !st; r++) {\n"
    "    memcpy(dims, given, sizeof *dims * (size_t)M.ndims);\n"
    "    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);\n"
    "    prof_run = r;\n"
    "    st = run(&ctx, dims, in, out);\n"
    "    clock_gettime(CLOCK_MONOTONIC, &b);\n"
    "    t[r] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;\n  }\n"
    "  pool_detach(pool);\n"
    "  if (st) return failed(st, files[0]);\n"
    "  FILE *f = fopen(times, \"wb\");\n"
    "  if (!f || fwrite(t, sizeof *t, (size_t)runs, f) != (size_t)runs) return 4;\n"
    "  fclose(f);\n"
    "  if (M.layers) {\n"
    "    char lp[4096]; snprintf(lp, sizeof lp, \"%s.layers\", times);\n"
    "    size_t nl = (size_t)runs * (size_t)M.layers;\n"
    "    if (!(f = fopen(lp, \"wb\")) || fwrite(prof_ms, sizeof *prof_ms, nl, f) != nl) return 4;\n"
    "    fclose(f);\n  }\n"
    "#else\n"
    "  st = run(&ctx, dims, in, out);\n"
    "  pool_detach(pool);\n"
    "  if (st) return failed(st, files[0]);\n"
    "  for (int i = 0; i < no; i++) {\n"
    "    FILE *f = fopen(files[1 + ni + i], \"wb\");\n"
    "    if (!f || fwrite(out[i], 1, (size_t)M.bytes[ni + i], f) != (size_t)M.bytes[ni + i])\n"
    "      return 4;\n"
    "    fclose(f);\n  }\n"
    "  dims_io(files[0], 1);\n"
    "#endif\n"
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
  const tcc_session *s;
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

/* harness.desc (harness_text says what it holds). */
static bool write_desc(RunDir *d) {
  IrModule *m = d->m;
  IrFunc *f = m->main;
  uint64_t wid = 0, wdata = 0;
  bool external = tcc_session_external_weights(d->s, &wid, &wdata);
  char *text = ir_arena_printf(
      m->arena, "%s %d %d %d %d %d %lld %llu %llu %llu\n", m->name, f->num_inputs,
      f->num_outputs, ir_module_is_dynamic(m) ? m->num_syms : 0, d->threads, d->layers,
      (long long)(f->workspace_size < 0 ? 0 : f->workspace_size),
      (unsigned long long)(external ? TCC_WEIGHTS_HEADER_SIZE + wdata : 0),
      (unsigned long long)wid, (unsigned long long)wdata);
  for (int i = 0; i < f->num_inputs + f->num_outputs; i++)
    text = ir_arena_printf(m->arena, "%s%llu\n", text,
                           (unsigned long long)header_tensor_bytes(m, &f->body->args[i]->type));
  if (external)
    text = ir_arena_printf(m->arena, "%s%s\n", text,
                           in_dir(d, ir_arena_printf(m->arena, "%s.weights", m->name)));
  return util_write_file_atomic(in_dir(d, "harness.desc"), text, strlen(text));
}

/* Where built harness objects are kept: $TCC_CACHE_DIR, else
 * $XDG_CACHE_HOME/tcc, else $HOME/.cache/tcc; NULL (built in the run
 * folder every time) when TCC_CACHE_DIR is "off" or none can be made or
 * written (a read-only home is no error). */
static const char *cache_dir(RunDir *d) {
  const char *env = getenv("TCC_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  char *dir = env && *env ? (strcmp(env, "off") ? ir_arena_strdup(d->m->arena, env) : NULL)
              : xdg && *xdg ? ir_arena_printf(d->m->arena, "%s/tcc", xdg)
              : home && *home ? ir_arena_printf(d->m->arena, "%s/.cache/tcc", home)
                              : NULL;
  return dir && util_make_dirs(dir) && access(dir, W_OK) == 0 ? dir : NULL;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ ((const unsigned char *)data)[i]) * 0x100000001b3ull;
  return h;
}

/* h with the contents of the file `arg` names (the harness is written anew
 * in each run folder), or with its text when it names no regular file. */
static uint64_t hash_arg(uint64_t h, const char *arg) {
  struct stat st;
  FILE *f = stat(arg, &st) == 0 && S_ISREG(st.st_mode) ? fopen(arg, "rb") : NULL;
  if (!f) return fnv1a(h, arg, strlen(arg) + 1);
  char buf[8192];
  for (size_t got; (got = fread(buf, 1, sizeof buf, f)) > 0;) h = fnv1a(h, buf, got);
  fclose(f);
  return h;
}

/* The key of a harness object: the command that builds it (before its
 * output), the files it names by their contents, and the headers the
 * harness includes, so an edited runtime source or header builds a new
 * one. */
static uint64_t harness_key(const Argv *build) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int i = 0; i < build->n; i++) h = hash_arg(h, build->v[i]);
  static const char *const headers[] = {"runtime.h", "pool.h"};
  for (size_t i = 0; i < sizeof headers / sizeof *headers; i++)
    h = hash_arg(h, ir_arena_printf(build->m->arena, "%s/tcc/%s", include_dir(), headers[i]));
  return h;
}

/* The target's C compiler and its target flags. */
static void push_cc(RunDir *d, Argv *a) {
  if (d->x)
    for (int i = 0; d->x->cc[i]; i++) push(a, d->x->cc[i]);
  else
    push(a, getenv("TCC_CC") ? getenv("TCC_CC") : "cc");
}

/* The target's compiler and flags, the include path and the harness's
 * kind, into a. */
static void push_harness_flags(RunDir *d, Argv *a) {
  push_cc(d, a);
  push(a, "-O1");
  push(a, "-w");
  push(a, ir_arena_printf(d->m->arena, "-I%s", include_dir()));
  push(a, d->repeat > 0 ? "-DTCC_HARNESS_BENCH=1" : "-DTCC_HARNESS_BENCH=0");
  push(a, d->threads > 1 ? "-DTCC_HARNESS_POOL=1" : "-DTCC_HARNESS_POOL=0");
  if (d->threads > 1 && d->x) push(a, "-pthread");
}

/* The sources a cross target builds with the harness: the runtime's, the
 * pool's for threads (qemu-user runs them), a bare-metal board's startup
 * code and what the target's C library lacks. */
static bool push_cross_sources(RunDir *d, Argv *a) {
  if (!push_runtime_sources(a)) return false;
  if (d->threads > 1) push(a, ir_arena_printf(d->m->arena, "%s/pool.c", runtime_src_dir()));
  if (d->x->kind == RUN_SEMIHOST)
    push(a, ir_arena_printf(d->m->arena, "%s/toolchains/mps2-an386/startup.c",
                            runtime_src_dir()));
  if (d->x->compat)
    push(a, ir_arena_printf(d->m->arena, "%s/%s", runtime_src_dir(), d->x->compat));
  return true;
}

/* The harness's object: on the host the harness alone (libtccrt.a comes
 * at the link), on a cross target the harness with the runtime sources
 * linked into one relocatable object (WASI: the runtime sources alone, the
 * harness is compiled with each link); from the cache when it holds it,
 * else built in the run folder and kept there.  NULL after a diagnostic. */
static const char *harness_object(RunDir *d, const char *src) {
  Argv a = {.m = d->m};
  push_harness_flags(d, &a);
  if (d->x) {
    push(&a, "-r");
    push(&a, "-nostdlib");
    if (d->x->kind != RUN_WASI) push(&a, src);
    if (!push_cross_sources(d, &a)) return NULL;
  } else {
    push(&a, "-c");
    push(&a, src);
  }
  const char *dir = cache_dir(d);
  char *cached = dir ? ir_arena_printf(d->m->arena, "%s/harness-%s-%016llx.o",
                                       dir, d->x ? d->x->target : "x86_64",
                                       (unsigned long long)harness_key(&a))
                     : NULL;
  if (cached && access(cached, R_OK) == 0) return cached;
  char *obj = in_dir(d, "harness.o");
  push(&a, "-o");
  push(&a, obj);
  if (spawn(a.v) != 0) {
    diag_error("building the run harness failed (%s)", a.v[0]);
    return NULL;
  }
  char *data;
  size_t size;
  /* another tcc may store the same object at once: each writes whole */
  if (cached && util_read_file(obj, &data, &size)) {
    util_write_file_atomic(cached, data, size);
    free(data);
  }
  return obj;
}

/* The model's entry, bound to the harness's name by the linker. */
static const char *entry_symbol(RunDir *d, bool define) {
  bool dims = ir_module_is_dynamic(d->m);
  const char *run = dims ? "tcc_harness_run_dims" : "tcc_harness_run";
  return ir_arena_printf(d->m->arena, define ? "-D%s=%s_run%s" : "-Wl,--defsym=%s=%s_run%s", run,
                         d->m->name, dims ? "_dims" : "");
}

/* Bare metal: newlib with semihosting and the board's memory map (the
 * startup code is among the harness's sources). */
static void push_bare_metal(Argv *a, const char *board) {
  const char *dir = ir_arena_printf(a->m->arena, "%s/toolchains", runtime_src_dir());
  push(a, "--specs=rdimon.specs");
  push(a, "-nostartfiles");
  push(a, "-Wl,--no-warn-execstack,--no-warn-rwx-segments"); /* newlib's */
  push(a, ir_arena_printf(a->m->arena, "-T%s/%s/%s.ld", dir, board, board));
}

/* <dir>/run (run.wasm for WASI): the harness, the model's object and the
 * runtime, linked by the target's C compiler; WASI compiles the harness
 * with them, its entry named by the preprocessor (wasm-ld has no
 * --defsym). */
static bool write_harness_and_link(RunDir *d) {
  char *src = in_dir(d, "harness.c");
  if (!write_desc(d) || !util_write_file_atomic(src, harness_text, strlen(harness_text)))
    return false;
  char *model_obj = in_dir(d, ir_arena_printf(d->m->arena, "%s.o", d->m->name));
  Argv a = {.m = d->m};
  const char *obj = harness_object(d, src);
  if (!obj) return false;
  if (d->x && d->x->kind == RUN_WASI) {
    push_harness_flags(d, &a);
    push(&a, entry_symbol(d, true));
    push(&a, src);
    push(&a, obj);
  } else {
    push_cc(d, &a);
    push(&a, obj);
    push(&a, entry_symbol(d, false));
  }
  push(&a, model_obj);
  if (!d->x) {
    const char *lib = runtime_lib(), *pool = d->threads > 1 ? pool_lib() : NULL;
    if (!lib) {
      diag_error("cannot find the runtime library libtccrt.a (looked for %s)",
                 runtime_paths()->lib);
      return false;
    }
    if (d->threads > 1 && !pool) {
      diag_error("cannot find the thread pool library libtccrt_pool.a (looked for %s)",
                 runtime_paths()->pool);
      return false;
    }
    if (pool) push(&a, pool);
    push(&a, lib);
    if (pool) push(&a, "-lpthread");
  } else {
    if (d->threads > 1) push(&a, "-pthread");
    if (d->x->kind == RUN_SEMIHOST) push_bare_metal(&a, d->x->board);
  }
  push(&a, "-lm");
  push(&a, "-o");
  push(&a, in_dir(d, d->x && d->x->kind == RUN_WASI ? "run.wasm" : "run"));
  if (spawn(a.v) != 0) {
    if (d->x)
      diag_error("linking the compiled model with the runtime for %s failed (%s)",
                 d->x->target, a.v[0]);
    else
      diag_error("linking the compiled model with the runtime failed (%s)", a.v[0]);
    return false;
  }
  if (!d->x || d->x->kind != RUN_WASI) return true;
  char *js = in_dir(d, "wasi.mjs");
  return util_write_file_atomic(js, wasi_runner, strlen(wasi_runner));
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
static char **run_command(RunDir *d, char **files, int nfiles) {
  Argv a = {.m = d->m};
  /* the harness's arguments: its description, then the files */
  int nargs = nfiles + 1;
  char **args = ir_arena_alloc(d->m->arena, sizeof *args * (size_t)nargs);
  args[0] = in_dir(d, "harness.desc");
  memcpy(args + 1, files, sizeof *args * (size_t)nfiles);
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
  RunDir d = {"/tmp/tcc-run-XXXXXX", tcc_session_module(s), s, x, o->repeat, o->threads, 0};
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
