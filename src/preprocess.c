/*
 * preprocess.c — the -preprocess flag: a graph input takes raw camera bytes.
 *
 *   -preprocess=NAME:u8,scale=1/255,mean=0.485,0.456,0.406,std=0.229,0.224,0.225,layout=nhwc
 *
 * makes input NAME (an f32[N,C,H,W] image with a static C) a u8 tensor in
 * the given layout (nhwc: [N,H,W,C]; default nchw) and inserts a
 * `preprocess` op (ir/ops/preprocess.c) computing (x * scale - mean[c]) /
 * std[c] as one fma per element, x * a[c] + b[c] with a = scale / std and
 * b = -mean / std (in double, then f32).  The fuse pass moves the
 * conversion into the first conv's input packing when it can.  mean and
 * std hold one value (every channel) or one per channel; defaults scale 1,
 * mean 0, std 1.  Parsing happens when the option is set (syntax errors at
 * once); applying, after the model is loaded (errors name the input).
 */
#define _POSIX_C_SOURCE 200809L /* strndup */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

static bool bad_spec(const char *text, const char *why) {
  diag_error("invalid -preprocess value '%s': %s", text, why);
  return false;
}

/* A finite number; scale may be a fraction A/B. */
static bool parse_number(const char *s, size_t n, bool fraction, double *out) {
  char buf[64], *end;
  if (n == 0 || n >= sizeof buf) return false;
  memcpy(buf, s, n);
  buf[n] = 0;
  if (isspace((unsigned char)buf[0])) return false;
  double x = strtod(buf, &end);
  if (fraction && *end == '/' && end != buf && !isspace((unsigned char)end[1])) {
    char *den_end;
    double d = strtod(end + 1, &den_end);
    if (den_end == end + 1 || *den_end || d == 0) return false;
    x /= d, end = den_end;
  }
  if (end == buf || *end || !isfinite(x)) return false;
  *out = x;
  return true;
}

bool preprocess_parse(const char *text, PreprocessSpec *spec) {
  char why[256];
  const char *colon = strrchr(text, ':');
  *spec = (PreprocessSpec){.scale = 1, .num_mean = 1, .num_std = 1, .std = {1}};
  if (!colon || colon == text || !colon[1])
    return bad_spec(text, "expected NAME:u8[,scale=S][,mean=M,...][,std=S,...][,layout=nhwc|nchw]");
  const char *p = colon + 1;
  size_t n = strcspn(p, ",");
  if (n != 2 || strncmp(p, "u8", 2)) {
    snprintf(why, sizeof why, "the input type '%.*s' is not supported (expected u8, raw 8-bit "
             "bytes)", (int)n, p);
    return bad_spec(text, why);
  }
  double *list = NULL; /* the mean or std values being read */
  int *count = NULL;
  bool seen[4] = {false, false, false, false};
  static const char *const keys[4] = {"scale", "mean", "std", "layout"};
  for (p += n; *p == ',';) {
    p++;
    n = strcspn(p, ",");
    size_t klen = strcspn(p, "=,");
    if (klen < n) { /* key=value */
      int k = 0;
      while (k < 4 && (strlen(keys[k]) != klen || strncmp(p, keys[k], klen))) k++;
      if (k == 4) {
        snprintf(why, sizeof why, "unknown key '%.*s' (expected scale, mean, std or layout)",
                 (int)klen, p);
        return bad_spec(text, why);
      }
      if (seen[k]) {
        snprintf(why, sizeof why, "%s is given twice", keys[k]);
        return bad_spec(text, why);
      }
      seen[k] = true;
      const char *v = p + klen + 1;
      size_t vlen = n - klen - 1;
      list = NULL;
      if (k == 0 && !parse_number(v, vlen, true, &spec->scale)) {
        snprintf(why, sizeof why, "scale '%.*s' is not a number or a fraction such as 1/255",
                 (int)vlen, v);
        return bad_spec(text, why);
      }
      if (k == 1 || k == 2) {
        list = k == 1 ? spec->mean : spec->std;
        count = k == 1 ? &spec->num_mean : &spec->num_std;
        *count = 0;
      }
      if (k == 3) {
        if (!(vlen == 4 && (!strncmp(v, "nhwc", 4) || !strncmp(v, "nchw", 4)))) {
          snprintf(why, sizeof why, "layout '%.*s' must be nhwc or nchw", (int)vlen, v);
          return bad_spec(text, why);
        }
        spec->nhwc = !strncmp(v, "nhwc", 4);
      }
      p = v, n = vlen;
    } else if (!list) {
      snprintf(why, sizeof why, "'%.*s' is not key=value (only mean= and std= take a list)",
               (int)n, p);
      return bad_spec(text, why);
    }
    if (list) {
      const char *what = list == spec->mean ? "mean" : "std";
      if (*count == PREPROCESS_MAX_CHANNELS) {
        snprintf(why, sizeof why, "%s has more than %d values", what, PREPROCESS_MAX_CHANNELS);
        return bad_spec(text, why);
      }
      double *x = &list[*count];
      if (!parse_number(p, n, false, x)) {
        snprintf(why, sizeof why, "%s value '%.*s' is not a number", what, (int)n, p);
        return bad_spec(text, why);
      }
      if (list == spec->std && *x == 0) return bad_spec(text, "a std value is 0");
      ++*count;
    }
    p += n;
  }
  if (*p) return bad_spec(text, "expected NAME:u8[,scale=S][,mean=M,...][,std=S,...][,layout=nhwc|nchw]");
  spec->input = strndup(text, (size_t)(colon - text));
  return true;
}

/* The conversion's constants for C channels: a = scale / std, b = -mean / std. */
static void affine(const PreprocessSpec *p, int64_t C, float *a, float *b) {
  for (int64_t c = 0; c < C; c++) {
    double mean = p->mean[p->num_mean == 1 ? 0 : c], std = p->std[p->num_std == 1 ? 0 : c];
    a[c] = (float)(p->scale / std);
    b[c] = (float)(-mean / std);
  }
}

static const char *fmt_list(IrArena *arena, const double *v, int n) {
  char *s = "";
  for (int i = 0; i < n; i++) s = ir_arena_printf(arena, "%s%s%.9g", s, i ? ", " : "", v[i]);
  return s;
}

static bool apply_one(IrModule *m, const PreprocessSpec *p) {
  IrFunc *f = m->main;
  IrLoc loc = {.file = m->source};
  int i = 0;
  while (i < f->num_inputs && !(f->input_names && !strcmp(f->input_names[i], p->input))) i++;
  if (i == f->num_inputs) {
    char *names = "";
    for (int k = 0; k < f->num_inputs && f->input_names; k++)
      names = ir_arena_printf(m->arena, "%s%s'%s'", names, k ? ", " : "", f->input_names[k]);
    diag_at(DIAG_ERROR, &loc, "-preprocess=%s: the model has no input '%s' (its inputs: %s)",
            p->input, p->input, f->num_inputs ? names : "none");
    return false;
  }
  IrValue *arg = f->body->args[i];
  IrType t = arg->type;
  char ty[128];
  if (t.elem != IR_F32 || t.rank != 4) {
    diag_at(DIAG_ERROR, &loc, "-preprocess=%s: input '%s' is %s; -preprocess takes an f32 image "
            "of rank 4 (N,C,H,W)", p->input, p->input, ir_type_str(m, &t, ty, sizeof ty));
    return false;
  }
  if (t.dims[1].sym >= 0) {
    diag_at(DIAG_ERROR, &loc, "-preprocess=%s: input '%s' is %s, whose channel count (dim 1) "
            "is not static", p->input, p->input, ir_type_str(m, &t, ty, sizeof ty));
    return false;
  }
  int64_t C = t.dims[1].size;
  for (int k = 0; k < 2; k++) {
    int got = k ? p->num_std : p->num_mean;
    if (got != 1 && got != C) {
      diag_at(DIAG_ERROR, &loc, "-preprocess=%s: input '%s' has %lld channels but %s has %d "
              "values (give 1 or %lld)", p->input, p->input, (long long)C, k ? "std" : "mean",
              got, (long long)C);
      return false;
    }
  }
  float *a = malloc(sizeof(float) * 2 * (size_t)C);
  IR_ASSERT(a);
  affine(p, C, a, a + C);
  IrType ct = ir_type_tensor(IR_F32, 1, &C);
  IrValue *ops[3] = {arg, NULL, NULL};
  for (int k = 0; k < 2; k++) {
    char name[300];
    for (int u = 0;; u++) { /* x.preprocess_a, or x.preprocess_a1 ... when taken */
      int len = snprintf(name, sizeof name, "%s.preprocess_%s", p->input, k ? "b" : "a");
      if (u && len > 0 && (size_t)len < sizeof name)
        snprintf(name + len, sizeof name - (size_t)len, "%d", u);
      if (!ir_weight_find(m, name)) break;
    }
    ops[1 + k] = ir_weight_add(m, name, ct, a + k * C, (uint64_t)C * sizeof(float), true)->value;
  }
  free(a);
  /* the argument becomes the bytes; the op gives its uses the f32 image */
  IrType bytes = t;
  bytes.elem = IR_U8;
  if (p->nhwc) { /* [N,C,H,W] -> [N,H,W,C] */
    IrDim c = bytes.dims[1];
    bytes.dims[1] = bytes.dims[2], bytes.dims[2] = bytes.dims[3], bytes.dims[3] = c;
  }
  arg->type = bytes;
  IrBuilder bld = f->body->first ? ir_builder_before(m, f->body->first)
                                 : ir_builder_at_end(m, f->body);
  IrOp *op = ir_build(&bld, IR_OP_PREPROCESS, 3, ops, 1, &t);
  ir_attr_set_string(m, op, "layout", p->nhwc ? "nhwc" : "nchw");
  ir_replace_uses(f, arg, op->results[0]);
  ir_op_set_operand(m, op, 0, arg);
  /* what the header says of the input */
  if (!f->input_notes) f->input_notes = ir_arena_alloc(m->arena, sizeof(char *) * (size_t)f->num_inputs);
  f->input_notes[i] = ir_arena_printf(
      m->arena, "raw bytes (-preprocess, %s): the model sees (x * %.9g - mean[c]) / std[c], "
      "mean = {%s}, std = {%s}", p->nhwc ? "NHWC" : "NCHW", p->scale,
      fmt_list(m->arena, p->mean, p->num_mean), fmt_list(m->arena, p->std, p->num_std));
  return true;
}

bool preprocess_apply(IrModule *m, const PreprocessSpec *specs, int n) {
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < i; k++)
      if (!strcmp(specs[k].input, specs[i].input)) {
        IrLoc loc = {.file = m->source};
        diag_at(DIAG_ERROR, &loc, "-preprocess=%s: the input is given twice", specs[i].input);
        return false;
      }
    if (!apply_one(m, &specs[i])) return false;
  }
  return true;
}
