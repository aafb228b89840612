/*
 * run.c — `tcc run`: compile for this machine, link the object with the
 * runtime and a small generated harness, execute it on TensorProto inputs,
 * and write (or print) the outputs.  The harness runs in a child process so
 * a fault in generated code can never take the compiler down, and talks
 * through raw files in a private temporary folder.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "onnx.h"
#include "session.h"

static const char harness_text[] =
    "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
    "#include \"%s.h\"\n"
    "static void *slurp(const char *p, size_t n) {\n"
    "  void *b = calloc(1, n ? n : 1); FILE *f = fopen(p, \"rb\");\n"
    "  if (!b || !f || fread(b, 1, n, f) != n) { fprintf(stderr, \"cannot read %%s\\n\", p); exit(4); }\n"
    "  fclose(f); return b;\n}\n"
    "int main(int argc, char **argv) {\n"
    "  enum { NI = %s_NUM_INPUTS, NO = %s_NUM_OUTPUTS };\n"
    "  const void *in[NI + 1]; void *out[NO + 1];\n"
    "  if (argc != 1 + NI + NO) return 5;\n"
    "  for (int i = 0; i < NI; i++) in[i] = slurp(argv[1 + i], %s_inputs[i].nbytes);\n"
    "  for (int i = 0; i < NO; i++) out[i] = calloc(1, %s_outputs[i].nbytes + 1);\n"
    "  size_t ws = %s_WORKSPACE_SIZE;\n"
    "  void *w = ws ? aligned_alloc(TCC_WORKSPACE_ALIGN, (ws + 63) / 64 * 64) : NULL;\n"
    "  tcc_ctx ctx = tcc_ctx_init(w, ws);\n"
    "  int st = %s_run(&ctx, in, out);\n"
    "  if (st) { fprintf(stderr, \"%s_run failed: %%s\\n\", tcc_status_str(st)); return 3; }\n"
    "  for (int i = 0; i < NO; i++) {\n"
    "    FILE *f = fopen(argv[1 + NI + i], \"wb\");\n"
    "    if (!f || fwrite(out[i], 1, %s_outputs[i].nbytes, f) != %s_outputs[i].nbytes) return 4;\n"
    "    fclose(f); free(out[i]);\n  }\n"
    "  for (int i = 0; i < NI; i++) free((void *)in[i]);\n"
    "  free(w);\n  return 0;\n}\n";

static const char *runtime_lib(void) {
  static const char *const candidates[] = {TCC_BUILD_RUNTIME_LIB,
                                           TCC_INSTALL_PREFIX "/lib/libtccrt.a"};
  for (int i = 0; i < 2; i++)
    if (access(candidates[i], R_OK) == 0) return candidates[i];
  return NULL;
}

static const char *include_dir(void) {
  if (access(TCC_SOURCE_INCLUDE_DIR "/tcc/runtime.h", R_OK) == 0)
    return TCC_SOURCE_INCLUDE_DIR;
  return TCC_INSTALL_PREFIX "/include";
}

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
} RunDir;

static char *in_dir(const RunDir *d, const char *name) {
  return ir_arena_printf(d->m->arena, "%s/%s", d->path, name);
}

static bool write_harness_and_link(RunDir *d) {
  const char *n = d->m->name, *lib = runtime_lib();
  if (!lib) {
    diag_error("cannot find the runtime library libtccrt.a (looked in the "
               "build tree and %s/lib)", TCC_INSTALL_PREFIX);
    return false;
  }
  char *up = ir_arena_strdup(d->m->arena, n);
  for (char *p = up; *p; p++)
    if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
  char *src = ir_arena_printf(d->m->arena, harness_text, n, up, up, n, n, up, n,
                              n, n, n);
  char *src_path = in_dir(d, "harness.c");
  if (!util_write_file_atomic(src_path, src, strlen(src))) return false;
  const char *cc = getenv("TCC_CC") ? getenv("TCC_CC") : "cc";
  char *inc = ir_arena_printf(d->m->arena, "-I%s", include_dir());
  char *inc2 = ir_arena_printf(d->m->arena, "-I%s", d->path);
  char *obj = in_dir(d, ir_arena_printf(d->m->arena, "%s.o", n));
  char *exe = in_dir(d, "run");
  char *argv[] = {(char *)cc, "-O1", "-w", inc, inc2, src_path, obj,
                  (char *)lib, "-lm", "-o", exe, NULL};
  if (spawn(argv) != 0) {
    diag_error("linking the compiled model with the runtime failed (%s)", cc);
    return false;
  }
  return true;
}

static IrType input_type(const IrModule *m, int i) {
  return m->main->body->args[i]->type;
}

static bool check_input(const IrModule *m, int i, const char *path,
                        const OnnxTensor *t) {
  IrType want = input_type(m, i);
  const char *name = m->main->input_names ? m->main->input_names[i] : NULL;
  IrLoc loc = {.file = path};
  if (t->name && *t->name && name && strcmp(t->name, name)) {
    diag_at(DIAG_ERROR, &loc, "tensor '%s' given as input %d, but the model's "
            "input %d is '%s'", t->name, i, i, name);
    return false;
  }
  IrType got = ir_type_tensor(t->elem, t->rank, t->dims);
  want.kind = IR_TYPE_TENSOR;
  if (!ir_type_equal(&got, &want)) {
    char a[256], b[256];
    diag_at(DIAG_ERROR, &loc, "input %d is %s but the model expects %s", i,
            ir_type_str(m, &got, a, sizeof a), ir_type_str(m, &want, b, sizeof b));
    return false;
  }
  return true;
}

static bool stage_inputs(RunDir *d, const RunOptions *o, char **args) {
  IrFunc *f = d->m->main;
  if (o->num_inputs != f->num_inputs) {
    diag_error("the model has %d input%s; %d given with --input", f->num_inputs,
               f->num_inputs == 1 ? "" : "s", o->num_inputs);
    return false;
  }
  for (int i = 0; i < f->num_inputs; i++) {
    OnnxTensor t = {0};
    if (!onnx_tensor_read_file(o->inputs[i], &t)) return false;
    bool ok = check_input(d->m, i, o->inputs[i], &t);
    args[i] = in_dir(d, ir_arena_printf(d->m->arena, "in%d.bin", i));
    ok = ok && util_write_file_atomic(args[i], t.data, t.nbytes);
    onnx_tensor_free(&t);
    if (!ok) return false;
  }
  return true;
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

static bool collect_outputs(RunDir *d, const RunOptions *o, char **args) {
  IrFunc *f = d->m->main;
  if (o->output_dir && !util_mkdir_p(o->output_dir)) return false;
  for (int i = 0; i < f->num_outputs; i++) {
    IrType t = f->body->args[f->num_inputs + i]->type;
    OnnxTensor out = {.name = (char *)(f->output_names ? f->output_names[i] : NULL),
                      .elem = t.elem, .rank = t.rank};
    for (int k = 0; k < t.rank; k++) out.dims[k] = ir_type_dim(&t, k);
    char *data;
    if (!util_read_file(args[f->num_inputs + i], &data, &out.nbytes)) return false;
    out.data = data;
    bool ok = true;
    if (o->output_dir) {
      char *name = ir_arena_printf(d->m->arena, "output_%d.pb", i);
      char *path = util_join(o->output_dir, name);
      ok = onnx_tensor_write_file(path, &out);
      free(path);
    } else {
      print_output(d->m, i, &out);
    }
    free(data);
    if (!ok) return false;
  }
  return true;
}

static void remove_dir(const RunDir *d) {
  char *argv[] = {"rm", "-rf", (char *)d->path, NULL};
  spawn(argv);
}

tcc_result tcc_run_model(tcc_session *s, const RunOptions *o) {
  tcc_result r = tcc_compile(s);
  if (r != TCC_SUCCESS) return r;
  RunDir d = {"/tmp/tcc-run-XXXXXX", tcc_session_module(s)};
  if (!mkdtemp(d.path)) {
    diag_error("cannot create a temporary folder: %s", strerror(errno));
    return TCC_ERROR_INTERNAL;
  }
  IrFunc *f = d.m->main;
  int nargs = f->num_inputs + f->num_outputs;
  char **argv = ir_arena_alloc(d.m->arena, sizeof *argv * (size_t)(nargs + 2));
  argv[0] = in_dir(&d, "run");
  for (int i = 0; i < f->num_outputs; i++)
    argv[1 + f->num_inputs + i] = in_dir(&d, ir_arena_printf(d.m->arena, "out%d.bin", i));
  r = TCC_ERROR_INPUT;
  if (stage_inputs(&d, o, argv + 1) && tcc_emit_files(s, d.path) == TCC_SUCCESS &&
      write_harness_and_link(&d)) {
    int st = spawn(argv);
    if (st != 0) {
      if (st > 0) diag_error("the compiled model failed (exit status %d)", st);
      r = TCC_ERROR_INTERNAL;
    } else if (collect_outputs(&d, o, argv + 1)) {
      r = TCC_SUCCESS;
    }
  }
  remove_dir(&d);
  return r;
}
