/*
 * progress.c — the progress line of long work on a terminal (docs/cli.md):
 * "tcc: <stage> (<seconds> s)" on stderr, redrawn in place while a compile
 * runs, shown only once the work has taken PROGRESS_DELAY_MS (so a quick
 * compile prints nothing) and never when stderr is not a terminal (a pipe,
 * a file, a CI log) or with -q.  The stages are the stage timer's
 * (timer.h); a ticker thread redraws the seconds.  Diagnostics clear the
 * line before they print (progress_clear), and it is gone when a stage
 * ends, so nothing else ever follows it on its line.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "session.h"
#include "timer.h"

#define PROGRESS_DELAY_MS 1000 /* TCC_PROGRESS_DELAY_MS overrides it (tests) */
#define PROGRESS_TICK_MS 250

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_t ticker;
static bool running, shown;
static char stage[64];  /* "" between stages: nothing to show */
static double start_s, delay_s;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void erase_locked(void) {
  if (!shown) return;
  fputs("\r\033[K", stderr);
  fflush(stderr);
  shown = false;
}

static void draw_locked(void) {
  double t = now_s() - start_s;
  if (!stage[0] || t < delay_s) return;
  fprintf(stderr, "\r\033[Ktcc: %s (%.0f s)", stage, t);
  fflush(stderr);
  shown = true;
}

static void *tick(void *arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  while (running) {
    draw_locked();
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += PROGRESS_TICK_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&wake, &lock, &until);
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

static void on_stage(void *user, const char *name) {
  (void)user;
  pthread_mutex_lock(&lock);
  snprintf(stage, sizeof stage, "%s", name ? name : "");
  if (name) draw_locked();
  else erase_locked();
  pthread_mutex_unlock(&lock);
}

void progress_begin(bool quiet) {
  const char *term = getenv("TERM");
  if (quiet || running || !isatty(STDERR_FILENO) || (term && !strcmp(term, "dumb"))) return;
  const char *delay = getenv("TCC_PROGRESS_DELAY_MS");
  delay_s = (delay && *delay ? atof(delay) : PROGRESS_DELAY_MS) / 1000.0;
  start_s = now_s();
  stage[0] = 0;
  running = true;
  if (pthread_create(&ticker, NULL, tick, NULL) != 0) {
    running = false; /* no progress line: nothing else changes */
    return;
  }
  stage_listen(on_stage, NULL);
}

void progress_clear(void) {
  pthread_mutex_lock(&lock);
  erase_locked();
  pthread_mutex_unlock(&lock);
}

void progress_end(void) {
  if (!running) return;
  stage_listen(NULL, NULL);
  pthread_mutex_lock(&lock);
  running = false;
  stage[0] = 0;
  erase_locked();
  pthread_cond_signal(&wake);
  pthread_mutex_unlock(&lock);
  pthread_join(ticker, NULL);
}
