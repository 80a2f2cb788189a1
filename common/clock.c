/* clock.c — wall and monotonic clocks, precise waits, and Cristian's offset
 * estimator (the sample with the smallest round trip bounds the error best). */
#include "clock.h"

#include <errno.h>
#include <limits.h>
#include <time.h>

static int64_t s_now(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t clock_wall_ns(void) { return s_now(CLOCK_REALTIME); }
int64_t clock_mono_ns(void) { return s_now(CLOCK_MONOTONIC); }

int clock_wait_wall(int64_t t_ns, volatile sig_atomic_t *stop)
{
    /* Sleep to within 200 us of the instant, then spin: nanosleep alone
     * overshoots by the scheduler's timer slack (50 us default, more under load). */
    const int64_t spin_ns = 200 * 1000;
    for (;;) {
        int64_t left = t_ns - clock_wall_ns();
        if (left <= spin_ns)
            break;
        if (stop && *stop)
            return -1;
        int64_t nap = left - spin_ns;
        if (nap > 10 * NS_PER_MS)
            nap = 10 * NS_PER_MS; /* look at stop now and then */
        struct timespec ts = { .tv_sec = nap / NS_PER_SEC, .tv_nsec = nap % NS_PER_SEC };
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
            ;
    }
    while (clock_wall_ns() < t_ns)
        ;
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
