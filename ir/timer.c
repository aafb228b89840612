/* timer.c — the stage timer behind --time-passes (timer.h). */
#define _POSIX_C_SOURCE 200809L
#include "timer.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct Stage {
  char name[64];
  double wall, cpu;
  long peak_kib;
} Stage;

/* Per thread, like diagnostics: compiles on other threads keep their own. */
static _Thread_local bool enabled, open_stage, hwm_resets = true;
static _Thread_local Stage *stages;
static _Thread_local int num_stages, cap_stages;
static _Thread_local double wall0, cpu0;
static _Thread_local StageListener listener;
static _Thread_local void *listener_user;

void stage_listen(StageListener fn, void *user) {
  listener = fn;
  listener_user = user;
}

static double now(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The high-water mark of resident memory, in KiB: VmHWM, or the process's
 * peak from getrusage when /proc is not there. */
static long peak_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  long kib = -1;
  if (f) {
    char line[256];
    while (fgets(line, sizeof line, f))
      if (!strncmp(line, "VmHWM:", 6)) kib = strtol(line + 6, NULL, 10);
    fclose(f);
  }
  if (kib < 0) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    kib = ru.ru_maxrss;
  }
  return kib;
}

/* "5" resets VmHWM to the current resident size (proc(5)). */
static void reset_peak(void) {
  FILE *f = hwm_resets ? fopen("/proc/self/clear_refs", "w") : NULL;
  if (!f || fputs("5", f) < 0) hwm_resets = false;
  if (f && fclose(f) != 0) hwm_resets = false;
}

void stage_timer_enable(bool on) {
  enabled = on;
  num_stages = 0;
  open_stage = false;
}

bool stage_timer_enabled(void) { return enabled; }

static void close_stage(void) {
  if (!enabled || !open_stage) return;
  Stage *s = &stages[num_stages++];
  s->wall = now(CLOCK_MONOTONIC) - wall0;
  s->cpu = now(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  s->peak_kib = peak_kib();
  open_stage = false;
}

void stage_end(void) {
  if (listener) listener(listener_user, NULL);
  close_stage();
}

void stage_begin(const char *name) {
  if (listener) listener(listener_user, name);
  if (!enabled) return;
  close_stage();
  if (num_stages == cap_stages) {
    cap_stages = cap_stages ? 2 * cap_stages : 32;
    Stage *n = realloc(stages, sizeof *n * (size_t)cap_stages);
    if (!n) {
      enabled = false;
      return;
    }
    stages = n;
  }
  Stage *s = &stages[num_stages];
  snprintf(s->name, sizeof s->name, "%s", name);
  reset_peak();
  open_stage = true;
  wall0 = now(CLOCK_MONOTONIC);
  cpu0 = now(CLOCK_PROCESS_CPUTIME_ID);
}

void stage_report(FILE *out) {
  if (!enabled) return;
  close_stage();
  double wall = 0, cpu = 0;
  long peak = 0;
  fprintf(out, "time-passes: %-30s %9s %9s %10s%s\n", "stage", "wall s", "cpu s", "peak MiB",
          hwm_resets ? "" : " (peak of the process so far: /proc/self/clear_refs not writable)");
  for (int i = 0; i < num_stages; i++) {
    const Stage *s = &stages[i];
    fprintf(out, "  %-41s %9.3f %9.3f %10.1f\n", s->name, s->wall, s->cpu,
            (double)s->peak_kib / 1024.0);
    wall += s->wall;
    cpu += s->cpu;
    if (s->peak_kib > peak) peak = s->peak_kib;
  }
  fprintf(out, "  %-41s %9.3f %9.3f %10.1f\n", "total", wall, cpu, (double)peak / 1024.0);
  num_stages = 0;
  free(stages);
  stages = NULL;
  cap_stages = 0;
}
