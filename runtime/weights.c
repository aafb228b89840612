/* weights.c — the checks of a weights blob (--weights=external; the format
 * is in tcc/runtime.h).  A file of its own, so a program whose models
 * keep their weights in the object links none of it. */
#include "tcc/runtime.h"

/* Four bits at a time: a 64-byte table, small enough for any flash. */
uint32_t tcc_crc32(uint32_t crc, const void *data, size_t size) {
  static const uint32_t table[16] = {
      0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
      0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
      0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
  const unsigned char *p = data;
  crc = ~crc;
  for (size_t i = 0; i < size; i++) {
    crc ^= p[i];
    crc = (crc >> 4) ^ table[crc & 15];
    crc = (crc >> 4) ^ table[crc & 15];
  }
  return ~crc;
}

static uint64_t le(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* The header: this format, this code's blob, and size bytes cover it. */
static int check_header(const unsigned char *h, size_t size, uint64_t weights_id,
                        uint64_t data_size) {
  if (size < TCC_WEIGHTS_HEADER_SIZE || size - TCC_WEIGHTS_HEADER_SIZE < data_size)
    return TCC_ERR_WEIGHTS_MISMATCH;
  for (int i = 0; i < 8; i++)
    if (h[i] != (unsigned char)TCC_WEIGHTS_MAGIC[i]) return TCC_ERR_WEIGHTS_MISMATCH;
  if (le(h + 8, 4) != TCC_WEIGHTS_FORMAT || le(h + 12, 4) != TCC_WEIGHTS_HEADER_SIZE ||
      le(h + 16, 8) != weights_id || le(h + 24, 8) != data_size)
    return TCC_ERR_WEIGHTS_MISMATCH;
  return TCC_OK;
}

int tcc_weights_check(const void *blob, size_t size, uint64_t weights_id,
                      uint64_t data_size) {
  const unsigned char *h = blob;
  if (!h) return TCC_ERR_WEIGHTS_MISSING;
  if ((uintptr_t)h % TCC_WEIGHTS_ALIGN) return TCC_ERR_WEIGHTS_MISALIGNED;
  int st = check_header(h, size, weights_id, data_size);
  if (st) return st;
  uint32_t crc = tcc_crc32(0, h + TCC_WEIGHTS_HEADER_SIZE, (size_t)data_size);
  return crc == (uint32_t)le(h + 32, 4) ? TCC_OK : TCC_ERR_WEIGHTS_CHECKSUM;
}

int tcc_rt_check_weights(const tcc_ctx *ctx, uint64_t weights_id, uint64_t data_size) {
  const unsigned char *h = ctx->weights;
  if (!h) return TCC_ERR_WEIGHTS_MISSING;
  if ((uintptr_t)h % TCC_WEIGHTS_ALIGN) return TCC_ERR_WEIGHTS_MISALIGNED;
  return check_header(h, ctx->weights_size, weights_id, data_size);
}
