/* clock.c — wall and monotonic clocks, precise waits, and Cristian's offset
 * estimator (the sample with the smallest round trip bounds the error best). */
#include "clock.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

static int64_t s_now(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t clock_wall_ns(void) { return s_now(CLOCK_REALTIME); }
int64_t clock_mono_ns(void) { return s_now(CLOCK_MONOTONIC); }

int64_t clock_stalled(clock_stall_t *s, int64_t max_gap_ns)
{
    int64_t mono = s_now(CLOCK_MONOTONIC), bmm = s_now(CLOCK_BOOTTIME) - mono;
    int64_t stalled = 0;
    if (s->mono) {
        int64_t gap = mono - s->mono, slept = bmm - s->boot_minus_mono;
        if (slept > 0)
            gap += slept; /* suspended: the monotonic clock did not count it */
        if (gap > max_gap_ns)
            stalled = gap;
    }
    s->mono = mono;
    s->boot_minus_mono = bmm;
    return stalled;
}

int clock_wait_wall(int64_t t_ns, volatile sig_atomic_t *stop)
{
    /* An absolute sleep on CLOCK_REALTIME wakes within the timer slack of the
     * instant (50 us by default, more under load): take the slack down to
     * 1 ns for this thread, sleep to within spin_ns, and spin the rest.  A
     * spinning thread holds its core, but at real-time priority the others
     * waiting for the same instant could not start before it anyway: on a
     * core they start one after another, a context switch apart. */
    int64_t spin_ns = 30 * 1000;
    /* Many waiters for one instant on one machine (a swarm, --local N):
     * woken all in one timer interrupt, 30 us before it, they were still
     * being woken at the instant (64 on 2 cores: the first start 50-100 us
     * late).  Each wakes a random 0..CLOCK_WAKE_SPREAD_NS earlier and spins
     * from there: the first start is on time, the rest follow one context
     * switch apart as before. */
    unsigned seed = (unsigned)clock_mono_ns() ^ (unsigned)(uintptr_t)&seed;
    spin_ns += (int64_t)(rand_r(&seed) % (CLOCK_WAKE_SPREAD_NS / 1000)) * 1000;
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    for (;;) {
        int64_t now = clock_wall_ns(), left = t_ns - now;
        if (left <= spin_ns)
            break;
        if (stop && *stop)
            return -1;
        /* wake every 10 ms to look at stop; the last nap ends at t - spin */
        int64_t until = left - spin_ns > 10 * NS_PER_MS ? now + 10 * NS_PER_MS : t_ns - spin_ns;
        struct timespec ts = { .tv_sec = until / NS_PER_SEC, .tv_nsec = until % NS_PER_SEC };
        int rc;
        while ((rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL)) == EINTR)
            ;
        if (rc != 0)
            break; /* cannot sleep: spin */
    }
    while (clock_wall_ns() < t_ns)
        if (stop && *stop)
            return -1;
    return 0;
}

int clock_ms_until(int64_t deadline_mono_ns)
{
    int64_t left = deadline_mono_ns - clock_mono_ns();
    if (left <= 0)
        return 0;
    int64_t ms = (left + NS_PER_MS - 1) / NS_PER_MS;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

void clock_est_init(clock_est_t *e)
{
    e->offset_ns = 0;
    e->err_ns = INT64_MAX;
    e->best_rtt_ns = INT64_MAX;
    e->samples = 0;
}

void clock_est_add(clock_est_t *e, int64_t t0, int64_t tr, int64_t t1)
{
    int64_t rtt, mid, off;
    /* a negative round trip means the local clock stepped; an overflow means
     * a hostile or broken peer: either way the sample means nothing */
    if (__builtin_sub_overflow(t1, t0, &rtt) || rtt < 0 ||
        __builtin_add_overflow(t0, rtt / 2, &mid) || __builtin_sub_overflow(tr, mid, &off))
        return;
    e->samples++;
    if (rtt < e->best_rtt_ns) {
        e->best_rtt_ns = rtt;
        /* the remote read tr somewhere in [t0, t1]: assume the middle */
        e->offset_ns = off;
        e->err_ns = rtt / 2 + 1;
    }
}

int clock_to_local(const clock_est_t *e, int64_t remote_ns, int64_t *out)
{
    /* offset = remote - local */
    int64_t off = e->samples ? e->offset_ns : 0, v;
    if (__builtin_sub_overflow(remote_ns, off, &v))
        return -1;
    *out = v;
    return 0;
}

int clock_to_remote(const clock_est_t *e, int64_t local_ns, int64_t *out)
{
    int64_t off = e->samples ? e->offset_ns : 0, v;
    if (__builtin_add_overflow(local_ns, off, &v))
        return -1;
    *out = v;
    return 0;
}

bool clock_est_prefer(const clock_est_t *old, int64_t age_ns, const clock_est_t *fresh)
{
    if (fresh->samples == 0)
        return false;
    if (old->samples == 0 || age_ns < 0)
        return true;
    /* the old bound as it stands now: plus the worst drift since */
    int64_t grown = old->err_ns + age_ns / 1000000 * CLOCK_DRIFT_PPM;
    return fresh->err_ns <= grown;
}

void clock_boot_id(char *out, size_t len)
{
    if (len == 0)
        return;
    out[0] = '\0';
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    if (!f)
        return;
    if (!fgets(out, (int)len, f))
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

void clock_est_same(clock_est_t *e)
{
    e->offset_ns = 0;
    e->err_ns = 1;
    e->best_rtt_ns = 0;
    e->samples = 1;
}
