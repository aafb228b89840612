/* onnx_tensor.c — TensorProto data <-> dense little-endian memory.
 *
 * ONNX stores tensor data in one of several fields: raw_data (already dense
 * little-endian), or a typed repeated field whose element type is wider than
 * the tensor's (int32_data holds int8/int16/uint8/uint16/bool and the bits of
 * float16/bfloat16; uint64_data holds uint32).  onnx_tp_check validates the
 * type, the dims and that the stored data has exactly the bytes the shape
 * needs, before anyone allocates; onnx_tp_fill then narrows into place.
 * The sub-byte types (INT4, UINT4, INT2, UINT2, FLOAT4E2M1) are stored
 * packed (first element in the low bits; int32_data holds one packed byte
 * per value) and unpacked here to one byte per element, the IR's form;
 * writing packs them again.  The same code reads the test data files (a
 * serialized TensorProto each). */
#define _DEFAULT_SOURCE /* strdup, strndup, realpath, mmap */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_int.h"

const char *onnx_dtype_name(int dtype) {
  static const char *const names[] = {
      "UNDEFINED", "FLOAT",  "UINT8",  "INT8",   "UINT16",    "INT16",
      "INT32",     "INT64",  "STRING", "BOOL",   "FLOAT16",   "DOUBLE",
      "UINT32",    "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
      "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4",
      "INT4", "FLOAT4E2M1", "FLOAT8E8M0", "UINT2", "INT2"};
  if (dtype >= 0 && dtype < (int)(sizeof names / sizeof *names))
    return names[dtype];
  return "unknown";
}

/* The typed field that holds elem's data, and its element count. */
typedef enum { F_FLOAT, F_INT32, F_INT64, F_DOUBLE, F_UINT64 } TpField;

static TpField tp_field(IrElem e) {
  switch (e) {
  case IR_F32: return F_FLOAT;
  case IR_F64: return F_DOUBLE;
  case IR_I64: return F_INT64;
  case IR_U32: case IR_U64: return F_UINT64;
  default: return F_INT32;
  }
}

static size_t tp_field_count(const Onnx__TensorProto *tp, TpField f) {
  switch (f) {
  case F_FLOAT: return tp->n_float_data;
  case F_INT32: return tp->n_int32_data;
  case F_INT64: return tp->n_int64_data;
  case F_DOUBLE: return tp->n_double_data;
  case F_UINT64: return tp->n_uint64_data;
  }
  return 0;
}

static const char *const field_names[] = {"float_data", "int32_data",
                                          "int64_data", "double_data",
                                          "uint64_data"};

static bool tp_check_type(const Onnx__TensorProto *tp, const IrLoc *loc,
                          const char *label, OnnxTpInfo *info) {
  IrElem e = onnx_elem(tp->data_type);
  if (e == IR_ELEM_NONE) {
    diag_at(DIAG_ERROR, loc, "%s: data type %s (%d) is not supported", label,
            onnx_dtype_name(tp->data_type), (int)tp->data_type);
    return false;
  }
  if (tp->n_dims > IR_MAX_RANK) {
    diag_at(DIAG_ERROR, loc, "%s: rank %zu exceeds tcc's maximum of %d",
            label, tp->n_dims, IR_MAX_RANK);
    return false;
  }
  for (size_t i = 0; i < tp->n_dims; i++)
    if (tp->dims[i] < 0) {
      diag_at(DIAG_ERROR, loc, "%s: dimension %zu is negative (%lld)", label,
              i, (long long)tp->dims[i]);
      return false;
    }
  info->type = ir_type_tensor(e, (int)tp->n_dims, tp->dims);
  if (!onnx_check_numel(&info->type, loc, label, &info->numel)) return false;
  info->nbytes = info->numel * ir_elem_size(e);
  info->stored = ir_elem_packed_bytes(e, info->numel);
  return true;
}

bool onnx_check_numel(const IrType *t, const IrLoc *loc, const char *label,
                      uint64_t *numel) {
  return onnx_check_numel_bound(NULL, t, loc, label, numel);
}

bool onnx_check_numel_bound(const IrModule *m, const IrType *t, const IrLoc *loc,
                            const char *label, uint64_t *numel) {
  uint64_t n = 1;
  bool bound = false;
  for (int i = 0; i < t->rank; i++) {
    int64_t v = t->dims[i].size;
    if (t->dims[i].sym >= 0) {
      /* A run-time dim counts at its upper bound: what memory must hold. */
      const IrSym *s = m && t->dims[i].sym < m->num_syms ? &m->syms[t->dims[i].sym] : NULL;
      v = !s ? -1 : s->value >= 0 ? s->value : s->hi;
      bound = bound || (s && s->value < 0);
    }
    if (v < 0) return true; /* not known */
    uint64_t d = (uint64_t)v;
    if (d && n > UINT64_MAX / d) {
      diag_at(DIAG_ERROR, loc, "%s: the element count of its shape overflows",
              label);
      return false;
    }
    n *= d;
  }
  if (n > ONNX_MAX_NUMEL) {
    diag_at(DIAG_ERROR, loc,
            "%s has %s%llu elements; tcc supports at most %llu (2^32-1) per "
            "tensor", label, bound ? "up to " : "", (unsigned long long)n,
            (unsigned long long)ONNX_MAX_NUMEL);
    return false;
  }
  if (numel) *numel = n;
  return true;
}

/* Bytes the tensor actually stores, in the dense form; false on a misuse. */
static bool tp_stored_bytes(const Onnx__TensorProto *tp, const IrLoc *loc,
                            const char *label, const OnnxTpInfo *info,
                            uint64_t *out) {
  IrElem e = info->type.elem;
  TpField want = tp_field(e);
  for (int f = F_FLOAT; f <= F_UINT64; f++)
    if (f != (int)want && tp_field_count(tp, (TpField)f)) {
      diag_at(DIAG_ERROR, loc, "%s: %s data is stored in %s (expected %s)",
              label, ir_elem_name(e), field_names[f], field_names[want]);
      return false;
    }
  if (tp->n_string_data) {
    diag_at(DIAG_ERROR, loc, "%s: has string_data but type %s", label,
            ir_elem_name(e));
    return false;
  }
  if (tp->has_raw_data && tp_field_count(tp, want)) {
    diag_at(DIAG_ERROR, loc, "%s: has both raw_data and %s", label,
            field_names[want]);
    return false;
  }
  if (tp->has_raw_data)
    *out = tp->raw_data.len;
  else /* int32_data holds one packed byte of a sub-byte type per value */
    *out = (uint64_t)tp_field_count(tp, want) * ir_elem_size(e);
  return true;
}

bool onnx_tp_check(const Onnx__TensorProto *tp, const IrLoc *loc,
                   const char *label, OnnxTpInfo *info) {
  memset(info, 0, sizeof *info);
  if (!tp_check_type(tp, loc, label, info)) return false;
  if (tp->segment) {
    diag_at(DIAG_ERROR, loc, "%s: segmented tensors are not supported", label);
    return false;
  }
  info->external = tp->has_data_location &&
                   tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  if (info->external) return true;
  uint64_t have;
  if (!tp_stored_bytes(tp, loc, label, info, &have)) return false;
  if (have != info->stored) {
    char ts[256];
    diag_at(DIAG_ERROR, loc, "%s: %s needs %llu bytes of data, found %llu",
            label, ir_type_str(NULL, &info->type, ts, sizeof ts),
            (unsigned long long)info->stored, (unsigned long long)have);
    return false;
  }
  return true;
}

const void *onnx_tp_raw(const Onnx__TensorProto *tp) {
  return tp->has_raw_data ? tp->raw_data.data : NULL;
}

/* The packed bytes of a sub-byte tensor's int32_data, unpacked. */
static void fill_subbyte_int32(const Onnx__TensorProto *tp, const OnnxTpInfo *info,
                               void *dst) {
  uint8_t *packed = malloc((size_t)info->stored);
  IR_ASSERT(packed);
  for (size_t i = 0; i < (size_t)info->stored; i++) packed[i] = (uint8_t)tp->int32_data[i];
  ir_subbyte_unpack(info->type.elem, packed, info->numel, dst);
  free(packed);
}

void onnx_tp_fill(const Onnx__TensorProto *tp, const OnnxTpInfo *info,
                  void *dst) {
  IrElem e = info->type.elem;
  size_t n = (size_t)info->numel;
  if (!info->nbytes) return;
  if (tp->has_raw_data && ir_elem_is_subbyte(e)) {
    ir_subbyte_unpack(e, tp->raw_data.data, info->numel, dst);
    return;
  }
  if (tp->has_raw_data) {
    memcpy(dst, tp->raw_data.data, (size_t)info->nbytes);
    return;
  }
  if (ir_elem_is_subbyte(e)) {
    fill_subbyte_int32(tp, info, dst);
    return;
  }
  switch (tp_field(e)) {
  case F_FLOAT: memcpy(dst, tp->float_data, n * 4); return;
  case F_DOUBLE: memcpy(dst, tp->double_data, n * 8); return;
  case F_INT64: memcpy(dst, tp->int64_data, n * 8); return;
  case F_UINT64:
    if (e == IR_U64) {
      memcpy(dst, tp->uint64_data, n * 8);
    } else {
      for (size_t i = 0; i < n; i++) ((uint32_t *)dst)[i] = (uint32_t)tp->uint64_data[i];
    }
    return;
  case F_INT32: break;
  }
  /* int32_data: narrow to the element size; bool normalizes to 0/1 */
  size_t sz = ir_elem_size(e);
  for (size_t i = 0; i < n; i++) {
    uint32_t v = (uint32_t)tp->int32_data[i];
    if (e == IR_BOOL) v = v != 0;
    if (sz == 1) ((uint8_t *)dst)[i] = (uint8_t)v;
    else if (sz == 2) ((uint16_t *)dst)[i] = (uint16_t)v;
    else ((uint32_t *)dst)[i] = v;
  }
}

/* ---------------------------------------------------------------- files */
bool onnx_file_map(const char *path, const IrLoc *at, const char *what,
                   OnnxFile *f) {
  IrLoc loc = at ? *at : (IrLoc){.file = path};
  char pre[1200] = "cannot open";
  if (at)
    snprintf(pre, sizeof pre, "%s%scannot open '%s'", what ? what : "",
             what ? ": " : "", path);
  f->base = NULL;
  f->size = 0;
  /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
   * writer; a regular file ignores it, and anything else is refused. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    diag_at(DIAG_ERROR, &loc, "%s: %s", pre, strerror(errno));
    if (fd >= 0) close(fd);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    const char *kind = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "another kind of file";
    diag_at(DIAG_ERROR, &loc, "%s: not a regular file (%s)", pre, kind);
    close(fd);
    return false;
  }
  f->size = (size_t)st.st_size;
  if (f->size) {
    void *p = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      diag_at(DIAG_ERROR, &loc, "%s: mmap failed: %s", pre, strerror(errno));
      close(fd);
      return false;
    }
    f->base = p;
  }
  close(fd);
  return true;
}

bool onnx_file_size_ok(const char *path, const OnnxFile *f) {
  if (f->size <= ONNX_MAX_PROTOBUF_BYTES) return true;
  IrLoc loc = {.file = path};
  diag_at(DIAG_ERROR, &loc, "the file is %zu bytes; a protobuf file holds at most %u "
          "(2 GiB - 1), and larger weights belong in external data files", f->size,
          ONNX_MAX_PROTOBUF_BYTES);
  return false;
}

void onnx_file_unmap(OnnxFile *f) {
  if (f->base) munmap((void *)f->base, f->size);
  f->base = NULL;
  f->size = 0;
}

/* -------------------------------------------------------- tensor files */
static bool tensor_from_proto(const Onnx__TensorProto *tp, const char *path,
                              OnnxTensor *t) {
  IrLoc loc = {.file = path};
  char label[300];
  snprintf(label, sizeof label, "tensor '%s'", tp->name ? tp->name : "");
  OnnxTpInfo info;
  if (!onnx_tp_check(tp, &loc, label, &info)) return false;
  if (info.external) {
    diag_at(DIAG_ERROR, &loc, "%s: external data is not supported in tensor "
            "files", label);
    return false;
  }
  t->data = malloc(info.nbytes ? (size_t)info.nbytes : 1);
  if (!t->data) {
    diag_at(DIAG_ERROR, &loc, "out of memory (%llu bytes)",
            (unsigned long long)info.nbytes);
    return false;
  }
  onnx_tp_fill(tp, &info, t->data);
  t->nbytes = (size_t)info.nbytes;
  t->elem = info.type.elem;
  t->rank = info.type.rank;
  for (int i = 0; i < t->rank; i++) t->dims[i] = info.type.dims[i].size;
  if (tp->name) t->name = strdup(tp->name);
  return true;
}

bool onnx_tensor_read_memory(const void *data, size_t size, const char *path,
                             OnnxTensor *t) {
  memset(t, 0, sizeof *t);
  IrLoc loc = {.file = path};
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, data);
  if (!tp) {
    diag_at(DIAG_ERROR, &loc, "not a valid TensorProto (protobuf parse "
            "failed; the file is truncated or not a tensor)");
    return false;
  }
  bool ok = tensor_from_proto(tp, path, t);
  onnx__tensor_proto__free_unpacked(tp, NULL);
  if (!ok) onnx_tensor_free(t);
  return ok;
}

bool onnx_tensor_read_file(const char *path, OnnxTensor *t) {
  OnnxFile f;
  memset(t, 0, sizeof *t);
  if (!onnx_file_map(path, NULL, NULL, &f)) return false;
  if (!onnx_file_size_ok(path, &f)) {
    onnx_file_unmap(&f);
    return false;
  }
  bool ok = onnx_tensor_read_memory(f.base ? (const void *)f.base : "", f.size,
                                    path, t);
  onnx_file_unmap(&f);
  return ok;
}

/* Writes only regular files: O_NONBLOCK keeps an existing FIFO from making
 * the open wait for a reader (it fails with ENXIO, or opens when one is
 * there and is refused by the type check). */
static bool write_all(const char *path, const uint8_t *buf, size_t n) {
  IrLoc loc = {.file = path};
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0666);
  struct stat st;
  if (fd < 0 && errno == ENXIO) {
    diag_at(DIAG_ERROR, &loc, "cannot write: not a regular file (a FIFO)");
    return false;
  }
  if (fd < 0 || fstat(fd, &st) != 0) {
    diag_at(DIAG_ERROR, &loc, "cannot write: %s", strerror(errno));
    if (fd >= 0) close(fd);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    diag_at(DIAG_ERROR, &loc, "cannot write: not a regular file");
    close(fd);
    return false;
  }
  bool ok = ftruncate(fd, 0) == 0;
  for (size_t done = 0; ok && done < n;) {
    ssize_t w = write(fd, buf + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    ok = w > 0;
    if (ok) done += (size_t)w;
  }
  ok = (close(fd) == 0) && ok;
  if (!ok) diag_at(DIAG_ERROR, &loc, "cannot write: %s", strerror(errno));
  return ok;
}

bool onnx_tensor_write_file(const char *path, const OnnxTensor *t) {
  IrLoc loc = {.file = path};
  int dt = t->elem > IR_ELEM_NONE && t->elem < IR_ELEM_COUNT
               ? ir_elem_to_onnx(t->elem) : 0;
  if (!dt || t->rank < 0 || t->rank > IR_MAX_RANK) {
    diag_at(DIAG_ERROR, &loc, "cannot write a tensor of element type %s and "
            "rank %d as ONNX", dt ? ir_elem_name(t->elem) : "none", t->rank);
    return false;
  }
  IrType ty = ir_type_tensor(t->elem, t->rank, t->dims);
  uint64_t want;
  if (!ir_type_nbytes(&ty, &want) || want != t->nbytes) {
    char ts[256];
    diag_at(DIAG_ERROR, &loc, "cannot write tensor: %s needs %llu bytes, "
            "given %zu", ir_type_str(NULL, &ty, ts, sizeof ts),
            (unsigned long long)want, t->nbytes);
    return false;
  }
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  int64_t dims[IR_MAX_RANK];
  memcpy(dims, t->dims, sizeof dims);
  tp.n_dims = (size_t)t->rank;
  tp.dims = dims;
  tp.has_data_type = true;
  tp.data_type = dt;
  tp.name = t->name;
  tp.has_raw_data = true;
  tp.raw_data.len = t->nbytes;
  tp.raw_data.data = t->data;
  uint8_t *packed = NULL; /* a sub-byte type's data in ONNX's packing */
  if (ir_elem_is_subbyte(t->elem)) {
    tp.raw_data.len = (size_t)ir_elem_packed_bytes(t->elem, t->nbytes);
    packed = malloc(tp.raw_data.len + 1);
    if (packed) ir_subbyte_pack(t->elem, t->data, t->nbytes, packed);
    tp.raw_data.data = packed;
  }
  size_t n = onnx__tensor_proto__get_packed_size(&tp);
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf || (ir_elem_is_subbyte(t->elem) && !packed)) {
    diag_at(DIAG_ERROR, &loc, "out of memory (%zu bytes)", n);
    free(buf);
    free(packed);
    return false;
  }
  onnx__tensor_proto__pack(&tp, buf);
  bool ok = write_all(path, buf, n);
  free(buf);
  free(packed);
  return ok;
}

void onnx_tensor_free(OnnxTensor *t) {
  if (!t) return;
  free(t->name);
  free(t->data);
  memset(t, 0, sizeof *t);
}
