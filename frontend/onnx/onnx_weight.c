/* onnx_weight.c — initializers, Constant nodes and tensor attributes ->
 * module weights.
 *
 * Weight names must lex as [A-Za-z0-9_.]+ in the textual IR, so other
 * characters become '_' and a clash gets a numeric suffix.  Data stays where
 * it is when it can: raw_data that protobuf-c put at a 64-aligned address in
 * the module arena, or an external-data file mapped for the module's
 * lifetime; typed fields are narrowed into fresh arena memory.  External
 * locations must stay inside the model's folder: relative, no '..'
 * component, and (after symlinks) still under the folder. */
#define _DEFAULT_SOURCE /* strdup, strndup, realpath, mmap */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "onnx_int.h"

static const unsigned char empty_data[1];

/* -------------------------------------------------------------- names */
const char *onnx_weight_name(OnnxCtx *c, const char *hint) {
  size_t n = hint ? strlen(hint) : 0;
  char *s = ir_arena_alloc(c->m->arena, n + 24);
  for (size_t i = 0; i < n; i++) {
    char ch = hint[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '.';
    s[i] = ok ? ch : '_';
  }
  if (!n) s[n++] = '_';
  s[n] = 0;
  if (onnx_map_get(&c->wnames, s)) {
    /* "#base" remembers the next suffix so clashes stay linear */
    const char *key = ir_arena_printf(c->m->arena, "#%s", s);
    uintptr_t k = (uintptr_t)onnx_map_get(&c->wnames, key);
    if (!k) k = 1;
    do snprintf(s + n, 24, "_%lu", (unsigned long)k++);
    while (onnx_map_get(&c->wnames, s));
    onnx_map_put(&c->wnames, key, (void *)k);
  }
  onnx_map_put(&c->wnames, s, s);
  return s;
}

/* ------------------------------------------------------ external data */
static bool parse_u64(const char *s, uint64_t *out) {
  if (!s || !*s) return false;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  return true;
}

static bool location_ok(const char *loc_s, const IrLoc *loc,
                        const char *label) {
  if (loc_s[0] == '/' || loc_s[0] == '\\') {
    diag_at(DIAG_ERROR, loc, "%s: external data location '%s' is absolute; it "
            "must be relative to the model's folder", label, loc_s);
    return false;
  }
  for (const char *p = loc_s; *p;) {
    size_t n = strcspn(p, "/\\");
    if (n == 2 && p[0] == '.' && p[1] == '.') {
      diag_at(DIAG_ERROR, loc, "%s: external data location '%s' leaves the "
              "model's folder ('..' is not allowed)", label, loc_s);
      return false;
    }
    p += n;
    if (*p) p++;
  }
  return true;
}

/* Maps base_dir/location once per module; checks it stays in base_dir. */
static const OnnxMapped *map_external(OnnxCtx *c, const char *location,
                                      const IrLoc *loc, const char *label) {
  for (int i = 0; i < c->num_files; i++)
    if (!strcmp(c->files[i].location, location)) return &c->files[i];
  char *full = ir_arena_printf(c->m->arena, "%s/%s", c->base_dir, location);
  char rdir[PATH_MAX], rfile[PATH_MAX];
  if (!realpath(full, rfile)) {
    diag_at(DIAG_ERROR, loc, "%s: cannot open external data '%s': %s", label,
            full, strerror(errno));
    return NULL;
  }
  size_t dn = realpath(c->base_dir, rdir) ? strlen(rdir) : 0;
  if (!dn || strncmp(rfile, rdir, dn) || (rfile[dn] != '/' && dn > 1)) {
    diag_at(DIAG_ERROR, loc, "%s: external data location '%s' resolves "
            "outside the model's folder", label, location);
    return NULL;
  }
  OnnxFile f;
  char what[400];
  snprintf(what, sizeof what, "%s: external data", label);
  if (!onnx_file_map(full, loc, what, &f)) return NULL;
  if (f.base) ir_module_add_mapping(c->m, f.base, f.size);
  ir_module_add_data_file(c->m, rfile);
  if (c->num_files == c->cap_files) {
    int nc = c->cap_files ? 2 * c->cap_files : 4;
    OnnxMapped *nf = ir_arena_alloc(c->m->arena, sizeof *nf * (size_t)nc);
    if (c->num_files) memcpy(nf, c->files, sizeof *nf * (size_t)c->num_files);
    c->files = nf, c->cap_files = nc;
  }
  c->files[c->num_files] = (OnnxMapped){location, f.base, f.size};
  return &c->files[c->num_files++];
}

static const void *external_data(OnnxCtx *c, const Onnx__TensorProto *tp,
                                 const IrLoc *loc, const char *label,
                                 const OnnxTpInfo *info) {
  const char *location = NULL, *off_s = NULL, *len_s = NULL;
  for (size_t i = 0; i < tp->n_external_data; i++) {
    const char *k = tp->external_data[i]->key, *v = tp->external_data[i]->value;
    if (!k) continue;
    if (!strcmp(k, "location")) location = v;
    else if (!strcmp(k, "offset")) off_s = v ? v : "";
    else if (!strcmp(k, "length")) len_s = v ? v : "";
  }
  if (!location || !*location) {
    diag_at(DIAG_ERROR, loc, "%s: external data has no 'location'", label);
    return NULL;
  }
  if (!location_ok(location, loc, label)) return NULL;
  if (!c->base_dir) {
    diag_at(DIAG_ERROR, loc, "%s: uses external data, but the model was "
            "loaded from memory without a base directory", label);
    return NULL;
  }
  uint64_t off = 0, len = 0;
  if ((off_s && !parse_u64(off_s, &off)) || (len_s && !parse_u64(len_s, &len))) {
    diag_at(DIAG_ERROR, loc, "%s: external data offset/length is not a "
            "non-negative integer", label);
    return NULL;
  }
  const OnnxMapped *f = map_external(c, location, loc, label);
  if (!f) return NULL;
  if (!len_s) len = off <= f->size ? f->size - off : 0;
  if (off > f->size || len > f->size - off) {
    diag_at(DIAG_ERROR, loc, "%s: external data range [%llu, %llu) is beyond "
            "the end of '%s' (%zu bytes)", label, (unsigned long long)off,
            (unsigned long long)(off + len), location, f->size);
    return NULL;
  }
  if (len != info->stored) {
    char ts[256];
    diag_at(DIAG_ERROR, loc, "%s: %s needs %llu bytes of data, found %llu",
            label, ir_type_str(NULL, &info->type, ts, sizeof ts),
            (unsigned long long)info->stored, (unsigned long long)len);
    return NULL;
  }
  return f->base ? f->base + off : empty_data;
}

/* ------------------------------------------------------------ tensors */
IrWeight *onnx_weight_from_tensor(OnnxCtx *c, const Onnx__TensorProto *tp,
                                  const char *hint, const IrLoc *loc,
                                  const char *label) {
  OnnxTpInfo info;
  if (!onnx_tp_check(tp, loc, label, &info)) return NULL;
  const void *data = NULL;
  bool subbyte = ir_elem_is_subbyte(info.type.elem); /* stored packed: unpacked here */
  if (info.external) {
    data = external_data(c, tp, loc, label, &info);
    if (!data) return NULL;
    if (subbyte) {
      void *d = onnx_alloc64(c->m->arena, (size_t)info.nbytes);
      ir_subbyte_unpack(info.type.elem, data, info.numel, d);
      data = d;
    }
  } else {
    data = onnx_tp_raw(tp);
    if (!data || ((uintptr_t)data & 63) || subbyte) { /* typed, raw but unaligned, packed */
      void *d = onnx_alloc64(c->m->arena, (size_t)info.nbytes);
      onnx_tp_fill(tp, &info, d);
      data = d;
    }
  }
  return ir_weight_add(c->m, onnx_weight_name(c, hint), info.type, data,
                       info.nbytes, false);
}

bool onnx_weight_initializers(OnnxCtx *c) {
  const Onnx__GraphProto *g = c->g;
  IrLoc loc = onnx_file_loc(c);
  if (g->n_sparse_initializer) {
    diag_at(DIAG_ERROR, &loc, "sparse initializers are not supported");
    return false;
  }
  for (size_t i = 0; i < g->n_initializer; i++) {
    const Onnx__TensorProto *tp = g->initializer[i];
    if (!tp->name || !*tp->name) {
      diag_at(DIAG_ERROR, &loc, "initializer %zu has no name", i);
      return false;
    }
    if (onnx_map_get(&c->values, tp->name)) {
      diag_at(DIAG_ERROR, &loc, "initializer '%s' is defined twice", tp->name);
      return false;
    }
    const char *label = ir_arena_printf(c->m->arena, "initializer '%s'", tp->name);
    IrWeight *w = onnx_weight_from_tensor(c, tp, tp->name, &loc, label);
    if (!w) return false;
    w->value->name = tp->name;
    onnx_map_put(&c->values, tp->name, w->value);
  }
  return true;
}

/* ----------------------------------------------------------- Constant */
static IrValue *constant_list(OnnxCtx *c, const char *name, IrElem e, size_t n,
                              const void *src, bool scalar) {
  int64_t dims[1] = {(int64_t)n};
  IrType t = ir_type_tensor(e, scalar ? 0 : 1, dims);
  size_t nb = n * ir_elem_size(e);
  IrWeight *w = ir_weight_add(c->m, onnx_weight_name(c, name), t,
                              nb ? src : empty_data, nb, nb != 0);
  return w->value;
}

static bool attr_kind_is(const Onnx__AttributeProto *a,
                         Onnx__AttributeProto__AttributeType k) {
  return !a->has_type || a->type == k;
}

static IrValue *constant_value(OnnxCtx *c, const Onnx__NodeProto *n) {
  IrLoc loc = onnx_node_loc(c, n);
  if (n->n_output != 1 || !n->output[0] || !*n->output[0] ||
      n->n_attribute != 1) {
    diag_at(DIAG_ERROR, &loc, "Constant needs exactly one output and exactly "
            "one of the attributes value, value_float, value_floats, "
            "value_int, value_ints");
    return NULL;
  }
  const Onnx__AttributeProto *a = n->attribute[0];
  const char *an = a->name ? a->name : "";
  const char *out = n->output[0];
  if (!strcmp(an, "value") && a->t && attr_kind_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)) {
    IrWeight *w = onnx_weight_from_tensor(c, a->t, out, &loc, "attribute 'value'");
    return w ? w->value : NULL;
  }
  if (!strcmp(an, "value_float") && attr_kind_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT))
    return constant_list(c, out, IR_F32, 1, &a->f, true);
  if (!strcmp(an, "value_floats") && attr_kind_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS))
    return constant_list(c, out, IR_F32, a->n_floats, a->floats, false);
  if (!strcmp(an, "value_int") && attr_kind_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT))
    return constant_list(c, out, IR_I64, 1, &a->i, true);
  if (!strcmp(an, "value_ints") && attr_kind_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS))
    return constant_list(c, out, IR_I64, a->n_ints, a->ints, false);
  diag_at(DIAG_ERROR, &loc, "Constant attribute '%s' (of this kind) is not "
          "supported", an);
  return NULL;
}

IrValue *onnx_weight_constant(OnnxCtx *c, const Onnx__NodeProto *n) {
  IrValue *v = constant_value(c, n);
  if (v) v->weight->structural = true;
  return v;
}
