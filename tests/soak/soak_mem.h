/* soak_mem.h — what a soak measures: the resident set (from /proc) and the
 * bytes malloc has handed out and not taken back (mallinfo2).  Header-only,
 * shared by the two soak programs. */
#ifndef TCC_SOAK_MEM_H
#define TCC_SOAK_MEM_H

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct SoakMem {
  long rss_kib;  /* resident set */
  long heap_kib; /* malloc'd and not freed */
} SoakMem;

static inline SoakMem soak_mem(void) {
  SoakMem m = {0, 0};
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  m.rss_kib = resident * (sysconf(_SC_PAGESIZE) / 1024);
  m.heap_kib = (long)(mallinfo2().uordblks / 1024);
  return m;
}

/* Prints the figures; false when either grew by more than limit_kib. */
static inline bool soak_report(const char *what, long n, SoakMem a, SoakMem b,
                               long limit_kib) {
  long drss = b.rss_kib - a.rss_kib, dheap = b.heap_kib - a.heap_kib;
  printf("%s: %ld iterations; RSS %ld -> %ld KiB (%+ld), heap in use %ld -> %ld KiB (%+ld); "
         "limit %+ld KiB\n", what, n, a.rss_kib, b.rss_kib, drss, a.heap_kib, b.heap_kib,
         dheap, limit_kib);
  bool ok = drss <= limit_kib && dheap <= limit_kib;
  if (!ok) printf("FAIL: %s: memory grew by more than %ld KiB\n", what, limit_kib);
  return ok;
}

#endif
