/*
 * main.c — the `tcc` command line, a thin driver over the compiler library.
 *
 *   tcc compile MODEL.onnx [-target=T] [-o DIR] ...   object + header
 *   tcc run MODEL.onnx [--input X.pb ...] [--output-dir DIR] [-threads=N]
 *   tcc bench MODEL.onnx [-threads=N] [--iters N] [--warmup N] [--json]
 *   tcc inspect MODEL.onnx
 *   tcc opt FILE.tir|MODEL.onnx [-passes=...]         IR after passes
 *   tcc export MODEL.onnx -quantize=int8 --calib=DIR [-o DIR]   QDQ model
 *   tcc targets | tcc list-ops [--markdown] | tcc --list-passes
 *
 * Every option is accepted as -opt=value, --opt=value and --opt value.
 * Exit codes: 0 success, 1 bad input or flags (with a diagnostic), 2 an
 * internal error.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llvm.h"
#include "onnx.h"
#include "passes.h"
#include "session.h"
#include "timer.h"

typedef enum OptKind { OPT_SESSION, OPT_CLI, OPT_FLAG } OptKind;

static const struct {
  const char *name;
  OptKind kind;
  const char *commands; /* the commands it applies to: c compile, r run, b bench,
                           i inspect, o opt, l list-ops, u tune, e export, g any */
  const char *help;
} options[] = {
    {"target", OPT_SESSION, "crboi", "target to compile for (see `tcc targets`; default x86_64)"},
    {"mcpu", OPT_SESSION, "crbou", "CPU (default: the target's baseline; `native` = this machine)"},
    {"mattr", OPT_SESSION, "crbou", "CPU features, e.g. +avx512f,-fma"},
    {"name", OPT_SESSION, "crbe", "symbol prefix and file name (default: the model's file stem)"},
    {"O", OPT_SESSION, "crboe", "optimization level 0..3 (default 2): -O3 or -O=3"},
    {"passes", OPT_SESSION, "crbou", "run exactly these passes, comma-separated"},
    {"print-ir-after", OPT_SESSION, "crbo", "print the IR after PASS (or `all`) to stdout"},
    {"shape", OPT_SESSION, "crboiue", "NAME:1x3x224x224 binds an input's shape (repeatable)"},
    {"dim", OPT_SESSION, "crboiue", "PARAM=VALUE binds a symbolic dimension; PARAM=LO..HI makes it a run-time one; PARAM=A+B their sum (repeatable)"},
    {"freeze", OPT_SESSION, "crboiue", "NAME:FILE.pb makes an input a compile-time constant (repeatable)"},
    {"preprocess", OPT_SESSION, "crbou", "NAME:u8,scale=1/255,mean=M[,M..],std=S[,S..],layout=nhwc|nchw: input NAME takes raw bytes, converted to (x*scale-mean)/std per channel inside the first kernel (repeatable)"},
    {"lowrank", OPT_SESSION, "crbou", "energy:E (0 < E <= 1) or rank:R: Gemm, MatMul and Conv weights as a truncated SVD, two thinner products, where that saves (docs/compression.md)"},
    {"prune-channels", OPT_SESSION, "crbou", "F (0 < F < 1): removes the fraction F of each Conv, Gemm and MatMul layer's output channels, those of least L2 norm, and their traces downstream, where every consumer can shrink (docs/compression.md)"},
    {"quantize", OPT_SESSION, "crboue", "int8: post-training static quantization: Conv, MatMul and Gemm layers run on int8 kernels (i8 weights per channel, u8 inputs scaled by --calib); dynamic: MatMul and Gemm layers, their inputs scaled at run time, no calibration (docs/compression.md)"},
    {"calib", OPT_SESSION, "crboue", "DIR: calibration data for -quantize, DIR/test_data_set_<k>/input_<i>.pb, one batch each; the model runs on them compiled for this machine"},
    {"calib-method", OPT_SESSION, "crboue", "minmax (default): a layer's input range is the smallest and largest value calibration saw; percentile[:P]: the central P% of them (default 99.99); entropy: the range whose 256 levels lose the least information (KL divergence)"},
    {"calib-cache", OPT_SESSION, "crboue", "FILE: with -quantize, the calibrated ranges: read from FILE when it exists (no calibration run), else measured on --calib and written there"},
    {"quantize-min-sqnr", OPT_SESSION, "crbue", "DB: with -quantize=int8, the layers whose outputs have the lowest SQNR stay in float until the model's outputs on --calib reach DB against float32"},
    {"weight-type", OPT_SESSION, "crbu", "f32 (default), fp16 or bf16: the weights the kernels pack (Conv, MatMul, Gemm, RNN, attention) stored at half size and widened to f32 as they are loaded (docs/compression.md)"},
    {"keep-float", OPT_SESSION, "crboue", "NODE,...: with -quantize, these ONNX nodes' layers stay in float"},
    {"verify-each", OPT_SESSION, "crboue", "0 turns off the verifier between passes"},
    {"fuse", OPT_SESSION, "crboue", "0 leaves out the fuse pass (default 1; -O0 never fuses)"},
    {"winograd", OPT_SESSION, "crbu", "0 keeps 3x3 stride-1 convolutions on the direct product (default 1: Winograd where the schedule says it pays)"},
    {"share-functions", OPT_SESSION, "crbu", "0 translates each node's loops in place instead of once per shape in a shared function (default 1)"},
    {"profile", OPT_SESSION, "crbo", "1: the object calls tcc_profile_mark(layer) before each layer (docs/runtime.md); bench then prints each layer's median time"},
    {"schedule", OPT_SESSION, "crbu", "model (default): kernels shaped by the cost model; naive: one-row tiles, no blocking (a poor start for tune)"},
    {"tuning", OPT_SESSION, "crb", "FILE: the schedules of a tcc tune log (refused for another target or CPU)"},
    {"tuning-any-cpu", OPT_FLAG, "crb", "take a --tuning log made on another CPU"},
    {"cost-model", OPT_SESSION, "crbu", "FILE: the cost model's parameters (the form of ir/cost_model.def) instead of the built-in ones"},
    {"index-checks", OPT_SESSION, "crbu", "0 clamps out-of-range indices instead of failing the run with TCC_ERR_INDEX_OUT_OF_RANGE (default 1)"},
    {"j", OPT_SESSION, "crbu", "code generation threads, -j N or -jN (default: the number of cores; the object is the same for any N)"},
    {"jobs", OPT_SESSION, "crbu", "the same as -j"},
    {"stats", OPT_FLAG, "crboe", "print pass statistics"},
    {"time-passes", OPT_FLAG, "crb", "print the wall and CPU time and peak memory of each compile stage to stderr"},
    {"o", OPT_CLI, "cue", "compile, export: output folder (default .); tune --learn: the cost model file to write"},
    {"max-flash", OPT_SESSION, "c", "compile: fail (exit 1, nothing written) when code + weights exceed this size, e.g. 1M"},
    {"max-ram", OPT_SESSION, "c", "compile: fail when workspace + inputs/outputs + data + a 16 KiB stack margin exceed this size, e.g. 256K"},
    {"emit", OPT_SESSION, "c", "compile: the files to write, a comma list of obj, header, asm, llvm, ir, dot, weights (default obj,header; with --weights=external also weights)"},
    {"weights", OPT_SESSION, "crbu", "external: the weights go to <name>.weights, a blob the application hands over at run time, and the object holds only code (default embedded)"},
    {"report", OPT_SESSION, "c", "compile: also write FILE.json, the compile report: per layer its op, output, FLOPs, parameters, weight bytes and the kernel chosen; totals; flash and RAM"},
    {"v", OPT_FLAG, "c", "compile: print the compile report's table to stderr"},
    {"depfile", OPT_SESSION, "c", "compile: also write FILE, a Makefile rule naming the files the compile read (model, external data, -freeze files)"},
    {"input", OPT_CLI, "rb", "run: an input TensorProto .pb, by position (repeatable)"},
    {"output-dir", OPT_CLI, "r", "run: write output_<i>.pb files here"},
    {"threads", OPT_CLI, "rbu", "run, bench, tune: threads for the model's parallel loops (default 1)"},
    {"budget", OPT_CLI, "u", "tune: wall-clock seconds for the whole search, compiles included (default 120)"},
    {"log", OPT_CLI, "u", "tune: the tuning log to write (JSON; compile, run and bench read it with --tuning)"},
    {"resume", OPT_FLAG, "u", "tune: continue from the --log file of an earlier run"},
    {"learn", OPT_CLI, "u", "tune: LOG[,LOG...]: fit the cost model to these logs and write it to -o FILE"},
    {"evaluate", OPT_CLI, "u", "tune: LOG[,LOG...]: on subgraphs held out of training, the model's first choice against the best measured, before and after learning"},
    {"iters", OPT_CLI, "b", "bench: timed calls (default 100)"},
    {"repeat", OPT_CLI, "b", "bench: the same as --iters"},
    {"warmup", OPT_CLI, "b", "bench: untimed calls before the timed ones (default 1)"},
    {"json", OPT_FLAG, "bi", "bench, inspect: print the result as one JSON object"},
    {"q", OPT_FLAG, "g", "quiet: no notes (errors and warnings still)"},
    {"print-ir-after-all", OPT_FLAG, "crbo", "print the IR after every pass"},
    {"markdown", OPT_FLAG, "l", "list-ops: print a Markdown table"},
    {"list-passes", OPT_FLAG, "g", "list the passes"},
    {"help", OPT_FLAG, "g", "this help"},
    {"version", OPT_FLAG, "g", "print the version"},
};
#define NUM_OPTIONS (int)(sizeof options / sizeof options[0])

typedef struct Cli {
  const char *command, *file, *out_dir, *output_dir;
  const char *budget, *log, *learn, *evaluate; /* tune */
  char *fwd[256]; /* the session options as given (--name=value): tune's children get them */
  int num_fwd;
  const char *iters, *iters_flag, *threads, *warmup; /* iters_flag: iters or repeat */
  const char *inputs[256];
  int num_inputs;
  bool flags[NUM_OPTIONS];
  tcc_session *s;
} Cli;

/* The commands, for `tcc --help` and `tcc help CMD` / `tcc CMD --help`. */
static const struct {
  const char *name, *letter, *synopsis, *summary, *example;
} commands[] = {
    {"compile", "c", "tcc compile MODEL.onnx [options]", "write <name>.o and <name>.h (-o DIR)",
     "tcc compile model.onnx -target=armv8 -o out/"},
    {"run", "r", "tcc run MODEL.onnx --input IN0.pb [...] [options]",
     "compile for this machine (or a target under QEMU/Node.js), run, write or print outputs",
     "tcc run model.onnx --input in0.pb --output-dir outs/"},
    {"bench", "b", "tcc bench MODEL.onnx [options]",
     "compile for this machine, time --iters calls, print the median",
     "tcc bench model.onnx --iters 1000 -threads=2 --json"},
    {"inspect", "i", "tcc inspect MODEL.onnx [options]",
     "inputs, outputs, op histogram, parameters", "tcc inspect model.onnx --json"},
    {"opt", "o", "tcc opt FILE.tir|MODEL.onnx [options]", "run passes, print the IR",
     "tcc opt model.onnx -passes=infer-shapes,fold-constants --print-ir-after-all"},
    {"targets", "t", "tcc targets", "list targets", "tcc targets"},
    {"list-ops", "l", "tcc list-ops [--markdown]", "list operators (--markdown for docs/ops.md)",
     "tcc list-ops --markdown"},
    {"tune", "u", "tcc tune MODEL.onnx --budget=SECONDS --log=FILE [options]",
     "search schedules on this machine within the budget; write the tuning log (docs/tuning.md)",
     "tcc tune model.onnx --budget=120 --log=tuning.json"},
    {"export", "e", "tcc export MODEL.onnx -quantize=int8 --calib=DIR [options]",
     "write <name>.onnx (-o DIR): the model with its int8 layers as QuantizeLinear/"
     "DequantizeLinear pairs carrying tcc's scales, for ONNX Runtime and other tools",
     "tcc export model.onnx -quantize=int8 --calib=calib/ -o out/"},
    {"help", "h", "tcc help COMMAND", "a command's options and an example", "tcc help compile"},
};
#define NUM_COMMANDS (int)(sizeof commands / sizeof commands[0])

static void print_option(FILE *out, int i) {
  fprintf(out, "  --%-20s %s\n", options[i].name, options[i].help);
}

static void usage(FILE *out) {
  fprintf(out, "usage: tcc <command> [options]\n\ncommands:\n");
  for (int k = 0; k < NUM_COMMANDS; k++)
    fprintf(out, "  %-20s %s\n", commands[k].name, commands[k].summary);
  fprintf(out, "\noptions (-opt=value, --opt=value or --opt value; `tcc help COMMAND` "
               "lists a command's):\n");
  for (int i = 0; i < NUM_OPTIONS; i++) print_option(out, i);
}

/* `tcc help CMD`, `tcc CMD --help`: 0, or 1 for an unknown command. */
static int command_help(const char *cmd, FILE *out) {
  for (int k = 0; k < NUM_COMMANDS; k++) {
    if (strcmp(commands[k].name, cmd)) continue;
    fprintf(out, "usage: %s\n\n%s\n", commands[k].synopsis, commands[k].summary);
    bool any = false;
    for (int i = 0; i < NUM_OPTIONS; i++)
      if (strpbrk(options[i].commands, commands[k].letter) || !strcmp(options[i].commands, "g")) {
        if (!any) fprintf(out, "\noptions:\n");
        any = true;
        print_option(out, i);
      }
    fprintf(out, "\nexample:\n  %s\n", commands[k].example);
    return 0;
  }
  fprintf(stderr, "tcc: error: unknown command '%s' (see tcc --help)\n", cmd);
  return 1;
}

static int find_option(const char *name, size_t n) {
  for (int i = 0; i < NUM_OPTIONS; i++)
    if (strlen(options[i].name) == n && !strncmp(options[i].name, name, n))
      return i;
  return -1;
}

static bool apply(Cli *c, int k, const char *value) {
  const char *name = options[k].name;
  if (options[k].kind == OPT_SESSION) {
    if (c->num_fwd < 256 && strcmp(name, "tuning") && strcmp(name, "profile")) {
      size_t n = strlen(name) + strlen(value) + 4;
      c->fwd[c->num_fwd] = malloc(n);
      snprintf(c->fwd[c->num_fwd++], n, "--%s=%s", name, value);
    }
    return tcc_set_option(c->s, name, value) == TCC_SUCCESS;
  }
  if (!strcmp(name, "stats") || !strcmp(name, "time-passes") || !strcmp(name, "tuning-any-cpu"))
    return tcc_set_option(c->s, name, "1") == TCC_SUCCESS;
  if (!strcmp(name, "print-ir-after-all"))
    return tcc_set_option(c->s, "print-ir-after", "all") == TCC_SUCCESS;
  if (!strcmp(name, "o")) c->out_dir = value;
  else if (!strcmp(name, "output-dir")) c->output_dir = value;
  else if (!strcmp(name, "repeat") || !strcmp(name, "iters")) {
    c->iters = value;
    c->iters_flag = name;
  } else if (!strcmp(name, "threads")) c->threads = value;
  else if (!strcmp(name, "warmup")) c->warmup = value;
  else if (!strcmp(name, "budget")) c->budget = value;
  else if (!strcmp(name, "log")) c->log = value;
  else if (!strcmp(name, "learn")) c->learn = value;
  else if (!strcmp(name, "evaluate")) c->evaluate = value;
  else if (!strcmp(name, "input")) {
    if (c->num_inputs == 256) {
      fprintf(stderr, "tcc: error: too many --input flags\n");
      return false;
    }
    c->inputs[c->num_inputs++] = value;
  } else c->flags[k] = true;
  return true;
}

/* -O3 and -O=3 are both the optimization level. */
static bool parse_one(Cli *c, int argc, char **argv, int *i) {
  const char *a = argv[*i];
  const char *name = a + (a[1] == '-' ? 2 : 1);
  if (name[0] == 'O' && name[1] && name[1] != '=')
    return apply(c, find_option("O", 1), name + 1);
  if (name[0] == 'j' && name[1] >= '0' && name[1] <= '9') /* -j4 */
    return apply(c, find_option("j", 1), name + 1);
  const char *eq = strchr(name, '=');
  size_t n = eq ? (size_t)(eq - name) : strlen(name);
  int k = find_option(name, n);
  if (k < 0) {
    fprintf(stderr, "tcc: error: unknown option '%s' (see tcc --help)\n", a);
    return false;
  }
  if (options[k].kind == OPT_FLAG) {
    if (eq) {
      fprintf(stderr, "tcc: error: option '--%s' takes no value\n", options[k].name);
      return false;
    }
    return apply(c, k, NULL);
  }
  if (eq) return apply(c, k, eq + 1);
  if (*i + 1 >= argc) {
    fprintf(stderr, "tcc: error: option '%s' needs a value\n", a);
    return false;
  }
  return apply(c, k, argv[++*i]);
}

static bool parse_args(Cli *c, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] == '-' && a[1]) {
      if (!parse_one(c, argc, argv, &i)) return false;
    } else if (!c->command) {
      c->command = a;
    } else if (!c->file) {
      c->file = a;
    } else {
      fprintf(stderr, "tcc: error: unexpected argument '%s'\n", a);
      return false;
    }
  }
  return true;
}

static bool flag(const Cli *c, const char *name) {
  return c->flags[find_option(name, strlen(name))];
}

static int cmd_targets(void) {
  for (int i = 0; i < target_count(); i++) {
    const TccTarget *t = target_at(i);
    printf("%-12s %-36s cpu=%-12s features=%-20s %s%s%s\n", t->name, t->triple,
           t->default_cpu, *t->default_features ? t->default_features : "-",
           t->description, *t->aliases ? "  aliases: " : "", t->aliases);
  }
  return 0;
}

static int cmd_list_passes(void) {
  for (int i = 0; i < pass_count(); i++)
    printf("%-16s %s\n", pass_at(i)->name, pass_at(i)->summary);
  printf("\npipelines:\n  -O0  %s\n  -O1..-O3  %s\n  -lowrank, -prune-channels, -quantize  %s\n",
         pass_pipeline_for_level(0, false, false), pass_pipeline_for_level(2, true, false),
         pass_pipeline_for_level(2, true, true));
  return 0;
}

static int cmd_list_ops(const Cli *c) {
  bool md = flag(c, "markdown");
  if (md)
    printf("# Operators\n\nGenerated by `tcc list-ops --markdown` from `ir/ops.def`. "
           "\"run-time dims\": the op accepts dims known only at run time "
           "(`-dim=NAME=LO..HI`, data-dependent sizes; docs/runtime.md).\n\n"
           "| ONNX op | IR name | inputs | outputs | run-time dims |\n|---|---|---|---|---|\n");
  for (int k = 0; k < IR_OP_COUNT; k++) {
    const IrOpInfo *info = ir_op_info(k);
    if (!info->onnx_name) continue;
    char in[32], out[32];
    snprintf(in, sizeof in, info->max_operands < 0 ? "%d+" : "%d..%d",
             info->min_operands, info->max_operands);
    snprintf(out, sizeof out, "%d..%d", info->min_results, info->max_results);
    bool dyn = info->flags & OPF_DYN;
    if (md)
      printf("| %s | `%s` | %s | %s | %s |\n", info->onnx_name, info->name, in, out,
             dyn ? "yes" : "");
    else
      printf("%-24s %-22s in %-6s out %-5s%s\n", info->onnx_name, info->name, in, out,
             dyn ? " run-time dims" : "");
  }
  return 0;
}

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

/* .tir files are parsed as IR; anything else is an ONNX model. */
static tcc_result load(Cli *c) {
  if (!c->file) {
    fprintf(stderr, "tcc: error: '%s' needs a model file\n", c->command);
    return TCC_ERROR_INPUT;
  }
  if (!has_suffix(c->file, ".tir")) return tcc_load_file(c->s, c->file);
  char *text;
  size_t size;
  if (!util_read_file(c->file, &text, &size)) return TCC_ERROR_INPUT;
  IrModule *m = ir_parse(text, size, c->file);
  free(text);
  if (!m) return TCC_ERROR_INPUT;
  tcc_session_set_module(c->s, m);
  return TCC_SUCCESS;
}

/* Tensors of rank <= 1 are what shape computations take (shapes, axes,
 * starts, pads, repeats, k, Resize's scales and roi). */
static bool looks_like_shape_input(const char *path, char **name) {
  OnnxTensor t = {0};
  bool ok = onnx_tensor_read_file(path, &t);
  bool shape_like = ok && t.name && *t.name && t.rank <= 1;
  if (shape_like) *name = strdup(t.name);
  onnx_tensor_free(&t);
  return shape_like;
}

/* `tcc run` has every input's value: when the model does not compile
 * because an op needs an input's value at compile time (a Reshape's shape
 * fed from a graph input), it freezes the inputs that look like shapes and
 * says so. */
static tcc_result load_for_run(Cli *c) {
  tcc_session_echo(c->s, false);
  tcc_result r = load(c);
  int frozen = 0;
  if (r == TCC_ERROR_INPUT) {
    for (int i = 0; i < c->num_inputs; i++) {
      char *name = NULL;
      if (!looks_like_shape_input(c->inputs[i], &name)) continue;
      char *opt = malloc(strlen(name) + strlen(c->inputs[i]) + 2);
      sprintf(opt, "%s:%s", name, c->inputs[i]);
      if (tcc_set_option(c->s, "freeze", opt) == TCC_SUCCESS) {
        c->inputs[i] = NULL;
        frozen++;
      }
      free(opt);
      free(name);
    }
  }
  if (frozen) {
    tcc_session_clear_diagnostics(c->s);
    r = load(c);
  }
  fputs(tcc_diagnostics(c->s), stderr);
  tcc_session_echo(c->s, true);
  if (frozen && r == TCC_SUCCESS) {
    int k = 0;
    bool quiet = flag(c, "q");
    for (int i = 0; i < c->num_inputs; i++)
      if (c->inputs[i]) c->inputs[k++] = c->inputs[i];
    c->num_inputs = k;
    if (!quiet) fprintf(stderr, "tcc: note: %d input%s frozen to the given values: the "
            "model needs them at compile time (-freeze=NAME:FILE.pb does this "
            "explicitly)\n", frozen, frozen == 1 ? "" : "s");
  }
  return r;
}

/* A count option's value in lo..hi into *out (left alone when absent);
 * false after a diagnostic naming the option. */
static bool count_option(const char *name, const char *value, long lo, long hi, int *out) {
  if (!value) return true;
  char *end;
  errno = 0;
  long v = strtol(value, &end, 10);
  if (!*value || *end || errno || v < lo || v > hi) {
    fprintf(stderr, "tcc: error: invalid --%s '%s': expected %ld to %ld\n", name, value, lo, hi);
    return false;
  }
  *out = (int)v;
  return true;
}

/* `tcc tune`: the search, or learning / evaluating the cost model. */
static int cmd_tune(Cli *c) {
  TuneOptions o = {.model = c->file, .flags = (const char **)c->fwd, .num_flags = c->num_fwd,
                   .log = c->log, .budget_s = 120, .resume = flag(c, "resume"),
                   .quiet = flag(c, "q"), .threads = 1, .learn = c->learn,
                   .evaluate = c->evaluate, .out = c->out_dir,
                   .cost = tcc_session_cost_model(c->s)};
  static char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    fprintf(stderr, "tcc: error: cannot find this program's path (/proc/self/exe)\n");
    return 1;
  }
  self[n] = 0;
  o.self = self;
  if (c->budget) {
    char *end;
    o.budget_s = strtod(c->budget, &end);
    if (!*c->budget || *end || !(o.budget_s >= 1 && o.budget_s <= 1e6)) {
      fprintf(stderr, "tcc: error: invalid --budget '%s': expected seconds from 1 to 1000000\n",
              c->budget);
      return 1;
    }
  }
  if (!count_option("threads", c->threads, 1, 256, &o.threads)) return 1;
  if (!o.learn && !o.evaluate) {
    if (!c->file) {
      fprintf(stderr, "tcc: error: 'tune' needs a model file (or --learn / --evaluate)\n");
      return 1;
    }
    if (!tcc_session_has_option(c->s, "mcpu") && tcc_set_option(c->s, "mcpu", "native"))
      return 1;
    tcc_result r = load(c); /* a bad model is refused here, not in every child */
    if (r) return (int)r;
  }
  return tune_main(c->s, &o);
}

static tcc_result dispatch(Cli *c) {
  const char *cmd = c->command;
  tcc_result r;
  bool bench = !strcmp(cmd, "bench"), run = bench || !strcmp(cmd, "run");
  bool tune = !strcmp(cmd, "tune");
  if (!run && !tune && c->threads) {
    fprintf(stderr, "tcc: error: option '--threads' applies to tcc run, bench and tune only\n");
    return TCC_ERROR_INPUT;
  }
  const char *tune_only = c->budget     ? "budget"
                          : c->log      ? "log"
                          : c->learn    ? "learn"
                          : c->evaluate ? "evaluate"
                          : flag(c, "resume") ? "resume"
                                              : NULL;
  if (!tune && tune_only) {
    fprintf(stderr, "tcc: error: option '--%s' applies to tcc tune only\n", tune_only);
    return TCC_ERROR_INPUT;
  }
  if (tune) return (tcc_result)cmd_tune(c);
  const char *bench_only = c->iters ? c->iters_flag : c->warmup ? "warmup" : NULL;
  if (!bench && bench_only) {
    fprintf(stderr, "tcc: error: option '--%s' applies to tcc bench only\n", bench_only);
    return TCC_ERROR_INPUT;
  }
  if (flag(c, "json") && !bench && strcmp(cmd, "inspect")) {
    fprintf(stderr, "tcc: error: option '--json' applies to tcc bench and tcc inspect only\n");
    return TCC_ERROR_INPUT;
  }
  if (!strcmp(cmd, "compile")) {
    if (flag(c, "v") && (r = tcc_set_option(c->s, "verbose", "1"))) return r;
    if ((r = load(c))) return r;
    r = tcc_compile(c->s);
    /* -v, or a refusal for flash or RAM: where the bytes go, layer by layer */
    if (flag(c, "v") || tcc_session_did_not_fit(c->s)) tcc_session_print_report(c->s, stderr);
    return r ? r : tcc_emit_files(c->s, c->out_dir ? c->out_dir : ".");
  }
  if (run) {
    int iters = 0, warmup = 1, threads = 1;
    if (!count_option("threads", c->threads, 1, 256, &threads) ||
        (bench && (!count_option(c->iters_flag, c->iters, 1, 10000000, &iters) ||
                   !count_option("warmup", c->warmup, 0, 1000000, &warmup))))
      return TCC_ERROR_INPUT;
    if (bench && !c->iters) iters = 100;
    if (!tcc_session_has_option(c->s, "mcpu") &&
        (r = tcc_set_option(c->s, "mcpu", "native")))
      return r;
    if ((r = load_for_run(c))) return r;
    RunOptions ro = {.inputs = c->inputs, .num_inputs = c->num_inputs,
                     .output_dir = c->output_dir, .repeat = iters, .warmup = warmup,
                     .threads = threads, .json = flag(c, "json")};
    return tcc_run_model(c->s, &ro);
  }
  if (!strcmp(cmd, "inspect")) {
    if ((r = load(c))) return r;
    return flag(c, "json") ? tcc_inspect_json(c->s, stdout) : tcc_inspect(c->s, stdout);
  }
  if (!strcmp(cmd, "export")) {
    if ((r = load(c))) return r;
    return tcc_export_model(c->s, c->out_dir ? c->out_dir : ".");
  }
  if (!strcmp(cmd, "opt")) {
    if ((r = load(c)) || (r = tcc_session_run_passes(c->s))) return r;
    ir_print_module(tcc_session_module(c->s), stdout);
    return TCC_SUCCESS;
  }
  fprintf(stderr, "tcc: error: unknown command '%s' (see tcc --help)\n", cmd);
  return TCC_ERROR_INPUT;
}

int main(int argc, char **argv) {
  Cli c = {0};
  c.s = tcc_session_new();
  if (!c.s) return 2;
  tcc_session_echo(c.s, true);
  int rc = 1;
  if (!parse_args(&c, argc, argv)) goto done;
  rc = 0;
  if (flag(&c, "q")) tcc_session_quiet(c.s, true);
  if (flag(&c, "help") && c.command && strcmp(c.command, "help")) rc = command_help(c.command, stdout);
  else if (flag(&c, "help")) usage(stdout);
  else if (flag(&c, "version")) {
    printf("tcc %s (LLVM 19)\ntargets:", tcc_version());
    for (int i = 0; i < target_count(); i++) printf(" %s", target_at(i)->name);
    printf("\n");
  } else if (c.command && !strcmp(c.command, "help")) {
    if (c.file) rc = command_help(c.file, stdout);
    else usage(stdout);
  } else if (flag(&c, "list-passes")) rc = cmd_list_passes();
  else if (!c.command) {
    usage(stderr);
    rc = 1;
  } else if (!strcmp(c.command, "targets")) rc = cmd_targets();
  else if (!strcmp(c.command, "list-ops")) rc = cmd_list_ops(&c);
  else {
    progress_begin(flag(&c, "q"));
    rc = (int)dispatch(&c);
    progress_end();
  }
  stage_report(stderr); /* --time-passes */
done:
  for (int i = 0; i < c.num_fwd; i++) free(c.fwd[i]);
  tcc_session_free(c.s);
  return rc;
}
