/* clock.h — time helpers.  Timestamps that cross the wire are CLOCK_REALTIME
 * nanoseconds (comparable across hosts once corrected by the measured
 * offset); intervals and deadlines are CLOCK_MONOTONIC nanoseconds. */
#ifndef LOCKSTEP_CLOCK_H
#define LOCKSTEP_CLOCK_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_PER_MS 1000000LL
#define NS_PER_SEC 1000000000LL

int64_t clock_wall_ns(void);   /* CLOCK_REALTIME */
int64_t clock_mono_ns(void);   /* CLOCK_MONOTONIC */

/* A process can stop without knowing it: SIGSTOP / Ctrl-Z, a paused VM, a
 * laptop asleep.  Its loop then did not run for longer than it ever waits,
 * and (for a suspend, which CLOCK_MONOTONIC does not count) CLOCK_BOOTTIME
 * ran ahead of CLOCK_MONOTONIC.  A stall watch is fed once per loop
 * iteration; clock_stalled returns how long the process stood still beyond
 * max_gap_ns since the previous call (0 when it did not). */
typedef struct {
    int64_t mono;            /* CLOCK_MONOTONIC at the previous call, 0 = none */
    int64_t boot_minus_mono; /* CLOCK_BOOTTIME - CLOCK_MONOTONIC then */
} clock_stall_t;
int64_t clock_stalled(clock_stall_t *s, int64_t max_gap_ns);
/* Sleep until the wall clock reaches t: an absolute-time sleep with a 1 ns
 * timer slack to a random 30 us .. 30 us + CLOCK_WAKE_SPREAD_NS short of t,
 * then a spin.  Returns early, with -1, when *stop becomes non-zero (stop
 * may be NULL). */
int clock_wait_wall(int64_t t_ns, volatile sig_atomic_t *stop);
#define CLOCK_WAKE_SPREAD_NS (1000 * 1000)
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

/* This kernel's boot id (/proc/sys/kernel/random/boot_id), "" when it
 * cannot be read.  Two processes that read the same one run on the same
 * kernel and so read the same CLOCK_REALTIME (time namespaces offset only
 * the monotonic and boot clocks): a container and its host, two workers on
 * one machine.  Their offset is 0, exactly, with nothing to measure. */
void clock_boot_id(char *out, size_t len);
/* The estimate of a clock known to be the same one: offset 0, bound 1 ns
 * (the clock's resolution). */
void clock_est_same(clock_est_t *e);

/* Clocks drift apart between measurements; this bounds how fast (NTP keeps
 * a disciplined clock within ~15 ppm; a quartz without it, ~50 ppm). */
#define CLOCK_DRIFT_PPM 20
/* Should a new measurement replace the one in use, taken age_ns ago?  Yes
 * when the new one's error bound is no worse than the old one's grown by the
 * drift since (so a measurement made while the coordinator was flooded does
 * not replace a quiet one), or when the old one has no sample. */
bool clock_est_prefer(const clock_est_t *old, int64_t age_ns, const clock_est_t *fresh);

/* An instant of the remote (coordinator) clock on the local clock, and back,
 * with e's offset (0 while e has no sample).  0, or -1 when the result does
 * not fit in 64 bits (*out is then left alone). */
int clock_to_local(const clock_est_t *e, int64_t remote_ns, int64_t *out);
int clock_to_remote(const clock_est_t *e, int64_t local_ns, int64_t *out);

#endif
