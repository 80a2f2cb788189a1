/* clock.h — time helpers.  Timestamps that cross the wire are CLOCK_REALTIME
 * nanoseconds (comparable across hosts once corrected by the measured
 * offset); intervals and deadlines are CLOCK_MONOTONIC nanoseconds. */
#ifndef LOCKSTEP_CLOCK_H
#define LOCKSTEP_CLOCK_H

#include <signal.h>
#include <stdint.h>

#define NS_PER_MS 1000000LL
#define NS_PER_SEC 1000000000LL

int64_t clock_wall_ns(void);   /* CLOCK_REALTIME */
int64_t clock_mono_ns(void);   /* CLOCK_MONOTONIC */
/* Sleep until the wall clock reaches t (sleeps, then spins the last 200 us).
 * Returns early, with -1, when *stop becomes non-zero (stop may be NULL). */
int clock_wait_wall(int64_t t_ns, volatile sig_atomic_t *stop);
/* Milliseconds from now (monotonic) to deadline, clamped to [0, INT32_MAX]. */
int clock_ms_until(int64_t deadline_mono_ns);

/* Cristian's method: keep the ping-pong sample with the smallest round trip. */
typedef struct {
    int64_t offset_ns;   /* remote - local */
    int64_t err_ns;      /* +/- bound: half the best round trip */
    int64_t best_rtt_ns;
    int samples;
} clock_est_t;

void clock_est_init(clock_est_t *e);
/* t0: local send, tr: remote clock at reply, t1: local receive (all ns). */
void clock_est_add(clock_est_t *e, int64_t t0, int64_t tr, int64_t t1);

#endif
