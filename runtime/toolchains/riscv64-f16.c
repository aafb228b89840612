/*
 * riscv64-f16.c — the half-precision conversions LLVM calls on rv64gc
 * (no Zfh) but Debian's GCC 12 libgcc for riscv64 lacks (GCC 13 has them):
 * __extendhfsf2, __truncsfhf2 and __truncdfhf2.  LLVM passes a half in the
 * low 16 bits of an FP register, so in C they take and return a float whose
 * bit pattern carries the half.  Link this file next to the runtime when a model casts
 * to or from float16 on riscv64 (`tcc run` does).
 */
#include <stdint.h>
#include <string.h>

float __extendhfsf2(float h);
float __truncsfhf2(float f);
float __truncdfhf2(double d);

static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static float from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

float __extendhfsf2(float h) {
  uint32_t x = bits(h) & 0xffff, sign = (x & 0x8000) << 16;
  uint32_t e = (x >> 10) & 0x1f, m = x & 0x3ff;
  if (e == 0x1f) return from_bits(sign | 0x7f800000 | m << 13); /* inf, NaN */
  if (e) return from_bits(sign | (e + 112) << 23 | m << 13);
  if (!m) return from_bits(sign);
  int shift = 0; /* subnormal half: normalize */
  while (!(m & 0x400)) m <<= 1, shift++;
  return from_bits(sign | (uint32_t)(113 - shift) << 23 | (m & 0x3ff) << 13);
}

/* Round to nearest, ties to even, like the hardware conversion. */
float __truncsfhf2(float f) {
  uint32_t x = bits(f), sign = (x >> 16) & 0x8000, h;
  uint32_t e = (x >> 23) & 0xff, m = x & 0x7fffff;
  if (e == 0xff) {
    h = sign | 0x7c00 | (m ? 0x200 | m >> 13 : 0);
  } else if (e > 142) {
    h = sign | 0x7c00; /* overflow: inf */
  } else if (e > 112) {
    uint32_t v = (e - 112) << 10 | m >> 13, rest = m & 0x1fff;
    v += rest > 0x1000 || (rest == 0x1000 && (v & 1));
    h = sign | v; /* a carry into the exponent is right, up to inf */
  } else if (e >= 102) {
    m |= 0x800000; /* subnormal half */
    uint32_t s = 126 - e, v = m >> s, rest = m & ((1u << s) - 1), half = 1u << (s - 1);
    v += rest > half || (rest == half && (v & 1));
    h = sign | v;
  } else {
    h = sign; /* underflow: zero */
  }
  return from_bits(0xffff0000u | h);
}

/* double -> half in one rounding (through float would round twice: a double
 * just above a half-way point can become the half-way point itself). */
float __truncdfhf2(double d) {
  uint64_t x;
  memcpy(&x, &d, 8);
  uint32_t sign = (uint32_t)(x >> 48) & 0x8000, e = (uint32_t)(x >> 52) & 0x7ff, h;
  uint64_t m = x & 0xfffffffffffffull;
  if (e == 0x7ff) {
    h = sign | 0x7c00 | (m ? 0x200 | (uint32_t)(m >> 42) : 0);
  } else if (e > 1038) {
    h = sign | 0x7c00; /* overflow: inf */
  } else if (e > 1008) {
    uint64_t rest = m & ((1ull << 42) - 1), half = 1ull << 41;
    uint32_t v = (e - 1008) << 10 | (uint32_t)(m >> 42);
    v += rest > half || (rest == half && (v & 1));
    h = sign | v; /* a carry into the exponent is right, up to inf */
  } else if (1051 - e <= 63) {
    m |= 1ull << 52; /* subnormal half: units of 2^-24 */
    uint32_t s = 1051 - e;
    uint64_t rest = m & ((1ull << s) - 1), half = 1ull << (s - 1);
    uint32_t v = (uint32_t)(m >> s);
    v += rest > half || (rest == half && (v & 1));
    h = sign | v;
  } else {
    h = sign; /* underflow: zero */
  }
  return from_bits(0xffff0000u | h);
}
