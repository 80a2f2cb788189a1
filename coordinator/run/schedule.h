/* schedule.h — (named so, not sched.h, to leave <sched.h> to libc) runs an experiment over an admitted set of workers. */
#ifndef LOCKSTEP_SCHED_H
#define LOCKSTEP_SCHED_H

#include <stdint.h>
#include <stdio.h>

#include "coord.h"
#include "decide.h"

/* Wait for the expected workers until admit_deadline (monotonic ns), close
 * admission, assign ranks by name, confirm subscriptions.  Returns the number
 * of workers admitted (0: nobody came). */
int sched_admit(coord_t *c, int64_t admit_deadline, int64_t barrier_timeout_ns);
/* Run every phase x repetition.  barrier_timeout_ns bounds every wait for
 * READY.  Returns the run's status (decide_run_status). */
run_status_t sched_phases(coord_t *c, int64_t barrier_timeout_ns);
/* Per phase with lockstep repetitions: the start skew's median and max,
 * its error bound, and whether it kept to skew_tolerance.  Nothing when no
 * repetition measured a skew. */
void sched_skew_summary(coord_t *c, FILE *out);
/* Tell every worker the run is over. */
void sched_quit(coord_t *c, const char *reason);

#endif
