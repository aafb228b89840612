/*
 * riscv64-f16.c — the half-precision conversions LLVM calls on rv64gc
 * (no Zfh) but Debian's GCC 12 libgcc for riscv64 lacks (GCC 13 has them):
 * __extendhfsf2 and __truncsfhf2.  LLVM passes a half in the low 16 bits
 * of an FP register, so in C they take and return a float whose bit pattern
 * carries the half.  Link this file next to the runtime when a model casts
 * to or from float16 on riscv64 (`tcc run` does).
 */
#include <stdint.h>
#include <string.h>

float __extendhfsf2(float h);
float __truncsfhf2(float f);

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
