/* progress.h — what `lockstep run` shows while it runs.  On a terminal, one
 * live status line on stderr (phase i/N, repetition r/R, workers done k/M,
 * elapsed, ETA, lost workers), redrawn in place; otherwise one plain log
 * line per phase.  Like the log, it is process-wide: one run, one stderr.
 * sched.c calls the hooks; they do nothing until progress_begin. */
#ifndef LOCKSTEP_PROGRESS_H
#define LOCKSTEP_PROGRESS_H

#include <stddef.h>

#include "coord.h"

struct cworker; /* coord_int.h */

typedef enum {
    PROGRESS_NORMAL,  /* live line on a terminal, a log line per phase elsewhere */
    PROGRESS_QUIET,   /* nothing (errors and the summary only) */
    PROGRESS_VERBOSE, /* as normal, plus a log line per repetition */
} progress_mode_t;

/* Start showing the progress of c's phases (after admission: the workers
 * are known).  The ETA is the experiment's expected durations, scaled by
 * the pace actually measured. */
void progress_begin(const coord_t *c, progress_mode_t mode);
/* Phase idx starts: its log line ("phase 2/6 mem (mem, round-robin, 10 reps)"). */
void progress_phase(const coord_t *c, size_t idx);
/* A repetition starts with these participants (copied). */
void progress_rep(int rep, struct cworker *const *set, size_t n);
/* Redraw the live line if it is due; cheap, called from every wait. */
void progress_tick(void);
/* Clear the live line for good (before the summary). */
void progress_end(void);

/* The status text itself, for tests and the log: "phase 2/6 mem | rep 3/10 |
 * workers 1/4 | 0:42 elapsed | ETA 3:10 | 0 lost". */
void progress_format(char *buf, size_t len);

#endif
