/* arena.c — the bump allocator every IR object is cut from.  Chunks grow
 * geometrically; a big request gets a chunk of its own. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

typedef struct Chunk {
  struct Chunk *next;
  size_t size, used;
  _Alignas(64) unsigned char data[];
} Chunk;

struct IrArena {
  Chunk *head;
  size_t total;
};

IrArena *ir_arena_new(void) {
  IrArena *a = calloc(1, sizeof *a);
  if (!a) abort();
  return a;
}

void ir_arena_reset(IrArena *a) {
  for (Chunk *c = a->head, *n; c; c = n) {
    n = c->next;
    free(c);
  }
  a->head = NULL;
  a->total = 0;
}

void ir_arena_free(IrArena *a) {
  if (!a) return;
  ir_arena_reset(a);
  free(a);
}

void *ir_arena_alloc_aligned(IrArena *a, size_t size, size_t align) {
  Chunk *c = a->head;
  if (c) {
    size_t at = (c->used + align - 1) & ~(align - 1);
    if (at <= c->size && size <= c->size - at) {
      c->used = at + size;
      return memset(c->data + at, 0, size);
    }
  }
  size_t want = 64 * 1024;
  if (a->head && a->head->size < 16u << 20) want = a->head->size * 2;
  if (want < size + align) want = size + align;
  /* aligned_alloc: the data of a chunk starts 64-byte aligned, so aligned
   * requests inside it are aligned in memory, not only within the chunk. */
  size_t bytes = (sizeof *c + want + 63) / 64 * 64;
  c = aligned_alloc(64, bytes);
  if (!c) {
    fprintf(stderr, "tcc: out of memory (%zu bytes)\n", want);
    abort();
  }
  c->size = want;
  c->used = 0;
  /* A dedicated chunk for a big request keeps the current chunk in use. */
  if (a->head && size > want / 2) {
    c->next = a->head->next;
    a->head->next = c;
  } else {
    c->next = a->head;
    a->head = c;
  }
  a->total += want;
  size_t at = 0;
  c->used = size;
  return memset(c->data + at, 0, size);
}

void *ir_arena_alloc(IrArena *a, size_t size) {
  return ir_arena_alloc_aligned(a, size ? size : 1, 16);
}

char *ir_arena_strndup(IrArena *a, const char *s, size_t n) {
  char *d = ir_arena_alloc(a, n + 1);
  memcpy(d, s, n);
  d[n] = 0;
  return d;
}

char *ir_arena_strdup(IrArena *a, const char *s) {
  return s ? ir_arena_strndup(a, s, strlen(s)) : NULL;
}

char *ir_arena_printf(IrArena *a, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *d = ir_arena_alloc(a, (size_t)n + 1);
  vsnprintf(d, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return d;
}

size_t ir_arena_bytes(const IrArena *a) { return a->total; }

uint64_t ir_hash(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}
