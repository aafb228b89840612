/*
 * timer.h — `--time-passes`: wall time, CPU time (every thread's) and the
 * peak resident memory of each compile stage (load, each pass, the steps
 * of code generation, writing the object), like GCC's -ftime-report.
 *
 * Stages follow each other: stage_begin ends the open one.  The peak is
 * the stage's own: the kernel's high-water mark is reset when a stage
 * begins (/proc/self/clear_refs); where that is not allowed, the figure
 * is the process's peak so far, and the report says so.  Only the main
 * thread calls these; all are no-ops until stage_timer_enable(true).
 * A listener (the CLI's progress line) hears of every stage either way.
 */
#ifndef TCC_TIMER_H
#define TCC_TIMER_H

#include <stdbool.h>
#include <stdio.h>

void stage_timer_enable(bool on);
bool stage_timer_enabled(void);
void stage_begin(const char *name); /* name is copied */
void stage_end(void);
/* Prints the table (to out) and forgets the stages. */
void stage_report(FILE *out);
/* fn(user, name) at each stage_begin, fn(user, NULL) at stage_end; this
 * thread's stages only.  NULL: none. */
typedef void (*StageListener)(void *user, const char *stage);
void stage_listen(StageListener fn, void *user);

#endif
