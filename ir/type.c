/* type.c — element types and types: names, sizes, ONNX mapping, printing. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ir.h"

/* ORDER ELEM */
static const struct {
  const char *name;
  size_t size;
  int onnx;
} elems[IR_ELEM_COUNT] = {
    [IR_ELEM_NONE] = {"none", 0, 0},  [IR_F32] = {"f32", 4, 1},
    [IR_F64] = {"f64", 8, 11},        [IR_F16] = {"f16", 2, 10},
    [IR_BF16] = {"bf16", 2, 16},      [IR_I8] = {"i8", 1, 3},
    [IR_I16] = {"i16", 2, 5},         [IR_I32] = {"i32", 4, 6},
    [IR_I64] = {"i64", 8, 7},         [IR_U8] = {"u8", 1, 2},
    [IR_U16] = {"u16", 2, 4},         [IR_U32] = {"u32", 4, 12},
    [IR_U64] = {"u64", 8, 13},        [IR_BOOL] = {"bool", 1, 9},
    [IR_INDEX] = {"index", 8, 0},
    [IR_F8E4M3FN] = {"f8e4m3fn", 1, 17}, [IR_F8E4M3FNUZ] = {"f8e4m3fnuz", 1, 18},
    [IR_F8E5M2] = {"f8e5m2", 1, 19},     [IR_F8E5M2FNUZ] = {"f8e5m2fnuz", 1, 20},
    [IR_F8E8M0] = {"f8e8m0", 1, 24},
    [IR_I4] = {"i4", 1, 22},             [IR_U4] = {"u4", 1, 21},
    [IR_I2] = {"i2", 1, 26},             [IR_U2] = {"u2", 1, 25},
    [IR_F4E2M1] = {"f4e2m1", 1, 23},
};

const char *ir_elem_name(IrElem e) { return elems[e].name; }
size_t ir_elem_size(IrElem e) { return elems[e].size; }

IrElem ir_elem_from_name(const char *s, size_t n) {
  for (int e = 1; e < IR_ELEM_COUNT; e++)
    if (strlen(elems[e].name) == n && !memcmp(elems[e].name, s, n))
      return (IrElem)e;
  return IR_ELEM_NONE;
}

bool ir_elem_is_float(IrElem e) {
  return e == IR_F32 || e == IR_F64 || e == IR_F16 || e == IR_BF16;
}
bool ir_elem_is_int(IrElem e) {
  return (e >= IR_I8 && e <= IR_U64) || e == IR_INDEX;
}
bool ir_elem_is_signed(IrElem e) {
  return (e >= IR_I8 && e <= IR_I64) || e == IR_INDEX;
}

bool ir_elem_is_f8(IrElem e) { return e >= IR_F8E4M3FN && e <= IR_F8E8M0; }
bool ir_elem_is_narrow_float(IrElem e) { return ir_elem_is_f8(e) || e == IR_F4E2M1; }
bool ir_elem_is_subbyte(IrElem e) { return e >= IR_I4 && e <= IR_F4E2M1; }
bool ir_elem_is_subbyte_int(IrElem e) { return e >= IR_I4 && e <= IR_U2; }

int ir_elem_bits(IrElem e) {
  if (e == IR_I2 || e == IR_U2) return 2;
  if (ir_elem_is_subbyte(e)) return 4;
  return 8 * (int)ir_elem_size(e);
}

uint64_t ir_elem_packed_bytes(IrElem e, uint64_t n) {
  if (!ir_elem_is_subbyte(e)) return n * ir_elem_size(e);
  uint64_t per = 8u / (unsigned)ir_elem_bits(e); /* elements per byte */
  return n / per + (n % per != 0);
}

void ir_subbyte_pack(IrElem e, const uint8_t *src, uint64_t n, uint8_t *dst) {
  unsigned bits = (unsigned)ir_elem_bits(e), per = 8u / bits, mask = (1u << bits) - 1;
  memset(dst, 0, (size_t)ir_elem_packed_bytes(e, n));
  for (uint64_t i = 0; i < n; i++)
    dst[i / per] |= (uint8_t)((src[i] & mask) << (i % per * bits));
}

void ir_subbyte_unpack(IrElem e, const uint8_t *src, uint64_t n, uint8_t *dst) {
  unsigned bits = (unsigned)ir_elem_bits(e), per = 8u / bits, mask = (1u << bits) - 1;
  unsigned half = e == IR_I4 || e == IR_I2 ? 1u << (bits - 1) : 0;
  for (uint64_t i = 0; i < n; i++) {
    unsigned v = (src[i / per] >> (i % per * bits)) & mask;
    dst[i] = (uint8_t)((v ^ half) - half); /* i4/i2: sign-extended */
  }
}

/* A value wrapped into a sub-byte integer type (its low bits, sign-extended
 * for i4/i2), as one byte. */
static uint8_t subbyte_wrap(IrElem e, int64_t x) {
  unsigned bits = (unsigned)ir_elem_bits(e), mask = (1u << bits) - 1;
  unsigned half = e == IR_I4 || e == IR_I2 ? 1u << (bits - 1) : 0;
  return (uint8_t)((((unsigned)x & mask) ^ half) - half);
}

const IrF8Format *ir_f8_format(IrElem e) {
  static const IrF8Format formats[] = {
      {3, 7, 0x7e, 0x7f, 0, false, 0x80},  /* e4m3fn: no inf, 0x7f/0xff NaN */
      {3, 8, 0x7f, 0x80, 0, true, 0x80},   /* e4m3fnuz */
      {2, 15, 0x7b, 0x7f, 0x7c, false, 0x80}, /* e5m2: IEEE-like */
      {2, 16, 0x7f, 0x80, 0, true, 0x80},  /* e5m2fnuz */
  };
  static const IrF8Format e2m1 = {1, 1, 0x7, 0x8, 0, false, 0x08}; /* no inf, no NaN */
  if (e == IR_F4E2M1) return &e2m1;
  return ir_elem_is_f8(e) && e != IR_F8E8M0 ? &formats[e - IR_F8E4M3FN] : NULL;
}

/* lw_e8m0_from_f32 (ir/lower.c) emits the same steps as loop-level IR. */
uint8_t ir_e8m0_from_f32(float x, bool saturate, IrE8m0Round mode) {
  uint32_t u;
  memcpy(&u, &x, 4);
  uint32_t ex = (u >> 23) & 0xffu, man = u & 0x7fffffu, inc = 0;
  if (ex == 0xff) return 0xff;
  if (mode == IR_E8M0_UP) inc = man != 0;
  else if (mode == IR_E8M0_NEAREST) inc = (man & 0x400000u) && ((man & 0x3fffffu) || ex > 0);
  if (saturate && ex == 0xfe) inc = 0;
  return (uint8_t)(ex + inc);
}

float ir_f8_to_f32(IrElem e, uint8_t b) {
  if (e == IR_F8E8M0) return b == 0xff ? NAN : ldexpf(1.0f, (int)b - 127);
  const IrF8Format *f = ir_f8_format(e);
  unsigned mag = b & (f->sign - 1);
  bool neg = (b & f->sign) != 0;
  if (f->uz ? b == 0x80 : mag > f->max_code && mag != f->inf_code) return NAN;
  if (f->inf_code && mag == f->inf_code) return neg ? -INFINITY : INFINITY;
  unsigned ex = mag >> f->mbits, man = mag & ((1u << f->mbits) - 1);
  float v = ex ? ldexpf((float)(man | (1u << f->mbits)), (int)ex - f->bias - f->mbits)
               : ldexpf((float)man, 1 - f->bias - f->mbits);
  return neg ? -v : v;
}

/* lw_f8_from_f32 (ir/lower.c) emits the same steps as loop-level IR. */
uint8_t ir_f8_from_f32(IrElem e, float x, bool saturate) {
  if (e == IR_F8E8M0) return ir_e8m0_from_f32(x, saturate, IR_E8M0_UP);
  const IrF8Format *f = ir_f8_format(e);
  uint32_t u;
  memcpy(&u, &x, 4);
  uint32_t sign = (u >> 31) * f->sign, a = u & 0x7fffffffu, code;
  if (e == IR_F4E2M1) saturate = true; /* no inf, no NaN: overflow saturates */
  unsigned over = saturate ? f->max_code : f->inf_code ? f->inf_code : f->nan_code;
  if (a > 0x7f800000u) return (uint8_t)(f->uz ? f->nan_code : sign ^ f->nan_code);
  if (a == 0x7f800000u) {
    code = over;
  } else if (a >= (uint32_t)(128 - f->bias) << 23) { /* a normal of the format */
    int sh = 23 - f->mbits;
    code = ((a + (1u << (sh - 1)) - 1 + ((a >> sh) & 1)) >> sh) -
           ((uint32_t)(127 - f->bias) << f->mbits);
    if (code > f->max_code) code = over;
  } else { /* a subnormal: exact scaling, then round to nearest even */
    float ax;
    memcpy(&ax, &a, 4);
    code = (uint32_t)nearbyintf(ldexpf(ax, f->bias - 1 + f->mbits));
  }
  if (f->uz && (code == 0 || code == f->nan_code)) return (uint8_t)code;
  return (uint8_t)(sign | code);
}

IrElem ir_elem_from_onnx(int dt) {
  if (dt <= 0) return IR_ELEM_NONE; /* 0 is UNDEFINED, not IR-only index */
  for (int e = 1; e < IR_ELEM_COUNT; e++)
    if (elems[e].onnx == dt) return (IrElem)e;
  return IR_ELEM_NONE;
}
int ir_elem_to_onnx(IrElem e) { return elems[e].onnx; }

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31,
           man = h & 1023u, bits;
  if (exp == 0) {
    float f = ldexpf((float)man, -24);
    return sign ? -f : f;
  }
  if (exp == 31)
    bits = sign | 0x7f800000u | (man << 13);
  else
    bits = sign | ((exp + 112) << 23) | (man << 13);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static uint16_t float_to_half(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = (int32_t)((x >> 23) & 255) - 127 + 15;
  uint32_t man = x & 0x7fffffu;
  if (((x >> 23) & 255) == 255) /* inf/nan */
    return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
  if (exp >= 31) return (uint16_t)(sign | 0x7c00u);
  if (exp <= 0) {
    if (exp < -10) return (uint16_t)sign;
    man |= 0x800000u;
    uint32_t shift = (uint32_t)(14 - exp);
    uint32_t h = man >> shift, rem = man & ((1u << shift) - 1),
             halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (h & 1))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = sign | ((uint32_t)exp << 10) | (man >> 13);
  uint32_t rem = man & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;
  return (uint16_t)h;
}

static float bf16_to_float(uint16_t b) {
  uint32_t x = (uint32_t)b << 16;
  float f;
  memcpy(&f, &x, 4);
  return f;
}

static uint16_t float_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 64);
  x += 0x7fffu + ((x >> 16) & 1); /* round to nearest even */
  return (uint16_t)(x >> 16);
}

#define LOAD(T) \
  do { T v; memcpy(&v, (const char *)base + i * sizeof v, sizeof v); return v; } while (0)

double ir_elem_load_f64(IrElem e, const void *base, size_t i) {
  switch (e) {
  case IR_F32: LOAD(float);
  case IR_F64: LOAD(double);
  case IR_F16: { uint16_t h; memcpy(&h, (const char *)base + 2 * i, 2); return half_to_float(h); }
  case IR_BF16: { uint16_t h; memcpy(&h, (const char *)base + 2 * i, 2); return bf16_to_float(h); }
  case IR_U64: LOAD(uint64_t);
  case IR_F8E4M3FN: case IR_F8E4M3FNUZ: case IR_F8E5M2: case IR_F8E5M2FNUZ: case IR_F8E8M0:
  case IR_F4E2M1:
    return ir_f8_to_f32(e, ((const uint8_t *)base)[i]);
  default: return (double)ir_elem_load_i64(e, base, i);
  }
}

int64_t ir_elem_load_i64(IrElem e, const void *base, size_t i) {
  switch (e) {
  case IR_I8: LOAD(int8_t);
  case IR_I16: LOAD(int16_t);
  case IR_I32: LOAD(int32_t);
  case IR_I64: case IR_INDEX: LOAD(int64_t);
  case IR_U8: case IR_BOOL: LOAD(uint8_t);
  case IR_F8E4M3FN: case IR_F8E4M3FNUZ: case IR_F8E5M2: case IR_F8E5M2FNUZ: case IR_F8E8M0: LOAD(uint8_t);
  case IR_F4E2M1: case IR_U4: case IR_U2: LOAD(uint8_t);
  case IR_I4: case IR_I2: LOAD(int8_t);
  case IR_U16: LOAD(uint16_t);
  case IR_U32: LOAD(uint32_t);
  case IR_U64: LOAD(uint64_t);
  default: return (int64_t)ir_elem_load_f64(e, base, i);
  }
}
#undef LOAD

#define STORE(T, x) \
  do { T v = (T)(x); memcpy((char *)base + i * sizeof v, &v, sizeof v); } while (0)

void ir_elem_store_f64(IrElem e, void *base, size_t i, double x) {
  switch (e) {
  case IR_F32: STORE(float, x); break;
  case IR_F64: STORE(double, x); break;
  case IR_F16: STORE(uint16_t, float_to_half((float)x)); break;
  case IR_BF16: STORE(uint16_t, float_to_bf16((float)x)); break;
  case IR_BOOL: STORE(uint8_t, x != 0); break;
  case IR_U64: STORE(uint64_t, x); break;
  case IR_F8E4M3FN: case IR_F8E4M3FNUZ: case IR_F8E5M2: case IR_F8E5M2FNUZ: case IR_F8E8M0:
  case IR_F4E2M1:
    STORE(uint8_t, ir_f8_from_f32(e, (float)x, true));
    break;
  default: ir_elem_store_i64(e, base, i, (int64_t)x); break;
  }
}

void ir_elem_store_i64(IrElem e, void *base, size_t i, int64_t x) {
  switch (e) {
  case IR_I8: STORE(int8_t, x); break;
  case IR_I16: STORE(int16_t, x); break;
  case IR_I32: STORE(int32_t, x); break;
  case IR_I64: case IR_INDEX: STORE(int64_t, x); break;
  case IR_U8: STORE(uint8_t, x); break;
  case IR_F8E4M3FN: case IR_F8E4M3FNUZ: case IR_F8E5M2: case IR_F8E5M2FNUZ: case IR_F8E8M0:
  case IR_F4E2M1:
    STORE(uint8_t, x);
    break;
  case IR_I4: case IR_U4: case IR_I2: case IR_U2: STORE(uint8_t, subbyte_wrap(e, x)); break;
  case IR_BOOL: STORE(uint8_t, x != 0); break;
  case IR_U16: STORE(uint16_t, x); break;
  case IR_U32: STORE(uint32_t, x); break;
  case IR_U64: STORE(uint64_t, (uint64_t)x); break;
  default: ir_elem_store_f64(e, base, i, (double)x); break;
  }
}
#undef STORE

IrType ir_type_scalar(IrElem e) {
  IrType t = {.kind = IR_TYPE_SCALAR, .elem = e};
  return t;
}

IrType ir_type_vector(IrElem e, int lanes, bool scalable) {
  IrType t = {.kind = IR_TYPE_VECTOR, .elem = e, .lanes = lanes,
              .scalable = scalable};
  return t;
}

IrType ir_type_tensor(IrElem e, int rank, const int64_t *dims) {
  IR_ASSERT(rank >= 0 && rank <= IR_MAX_RANK);
  IrType t = {.kind = IR_TYPE_TENSOR, .elem = e, .rank = rank};
  for (int i = 0; i < rank; i++) t.dims[i] = (IrDim){dims[i], -1};
  return t;
}

IrType ir_type_buffer(IrElem e, int rank, const int64_t *dims) {
  IrType t = ir_type_tensor(e, rank, dims);
  t.kind = IR_TYPE_BUFFER;
  return t;
}

IrType ir_type_with_kind(IrType t, IrTypeKind kind) {
  t.kind = kind;
  return t;
}

bool ir_type_equal(const IrType *a, const IrType *b) {
  if (a->kind != b->kind || a->elem != b->elem) return false;
  if (a->kind == IR_TYPE_VECTOR)
    return a->lanes == b->lanes && a->scalable == b->scalable;
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++) {
    if (a->dims[i].sym != b->dims[i].sym) return false;
    if (a->dims[i].sym < 0 && a->dims[i].size != b->dims[i].size) return false;
  }
  return true;
}

bool ir_type_is_static(const IrType *t) {
  for (int i = 0; i < t->rank; i++)
    if (t->dims[i].sym >= 0) return false;
  return true;
}

bool ir_type_numel(const IrType *t, uint64_t *out) {
  uint64_t n = 1;
  for (int i = 0; i < t->rank; i++) {
    if (t->dims[i].sym >= 0 || t->dims[i].size < 0) return false;
    uint64_t d = (uint64_t)t->dims[i].size;
    if (d && n > UINT64_MAX / d) return false;
    n *= d;
  }
  *out = n;
  return true;
}

bool ir_type_nbytes(const IrType *t, uint64_t *out) {
  uint64_t n, sz = ir_elem_size(t->elem);
  if (!ir_type_numel(t, &n)) return false;
  if (sz && n > UINT64_MAX / sz) return false;
  *out = n * sz;
  return true;
}

int64_t ir_type_dim(const IrType *t, int i) {
  IR_ASSERT(i >= 0 && i < t->rank && t->dims[i].sym < 0);
  return t->dims[i].size;
}

bool ir_dim_is_dynamic(const IrModule *m, IrDim d) {
  return d.sym >= 0 && (!m || d.sym >= m->num_syms || m->syms[d.sym].value < 0);
}

bool ir_type_is_dynamic(const IrModule *m, const IrType *t) {
  if (t->kind != IR_TYPE_TENSOR && t->kind != IR_TYPE_BUFFER) return false;
  for (int i = 0; i < t->rank; i++)
    if (ir_dim_is_dynamic(m, t->dims[i])) return true;
  return false;
}

bool ir_module_is_dynamic(const IrModule *m) {
  for (int k = 0; k < m->num_syms; k++)
    if (m->syms[k].value < 0) return true;
  return false;
}

int64_t ir_dim_fixed(const IrModule *m, IrDim d) {
  if (d.sym < 0) return d.size;
  return ir_dim_is_dynamic(m, d) ? -1 : m->syms[d.sym].value;
}

bool ir_type_nbytes_bound(const IrModule *m, const IrType *t, uint64_t *out) {
  uint64_t n = ir_elem_size(t->elem);
  for (int i = 0; i < t->rank; i++) {
    IrDim d = t->dims[i];
    int64_t v = ir_dim_fixed(m, d);
    if (v < 0 && m && d.sym < m->num_syms) v = m->syms[d.sym].hi;
    if (v < 0 || (v && n > UINT64_MAX / (uint64_t)v)) return false;
    n *= (uint64_t)v;
  }
  *out = n;
  return true;
}

const char *ir_type_str(const IrModule *m, const IrType *t, char *buf,
                        size_t size) {
  size_t n = 0;
#define PUT(...) \
  n += (size_t)snprintf(buf + (n < size ? n : size), n < size ? size - n : 0, __VA_ARGS__)
  switch (t->kind) {
  case IR_TYPE_SCALAR: PUT("%s", ir_elem_name(t->elem)); break;
  case IR_TYPE_VECTOR:
    PUT("<%s%d x %s>", t->scalable ? "vscale x " : "", t->lanes,
        ir_elem_name(t->elem));
    break;
  case IR_TYPE_TENSOR:
  case IR_TYPE_BUFFER:
    PUT("%s%s[", t->kind == IR_TYPE_BUFFER ? "buf " : "", ir_elem_name(t->elem));
    for (int i = 0; i < t->rank; i++) {
      if (i) PUT(",");
      if (t->dims[i].sym >= 0 && m && t->dims[i].sym < m->num_syms)
        PUT("%s", m->syms[t->dims[i].sym].name);
      else if (t->dims[i].sym >= 0)
        PUT("?%d", t->dims[i].sym);
      else
        PUT("%lld", (long long)t->dims[i].size);
    }
    PUT("]");
    break;
  default: PUT("none"); break;
  }
#undef PUT
  return buf;
}
