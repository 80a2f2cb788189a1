/* cpu.c — sysbench's cpu test, so our events/s can be set beside
 * `sysbench cpu --cpu-max-prime=N` numbers: one event is a trial-division
 * prime search up to max_prime, run by `threads` threads until a time limit
 * or an event count.
 */
#include "plugins.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

struct cpu_opts {
    int64_t max_prime;
    int64_t threads;
    int64_t time_ns;
    int64_t events; /* 0 = unlimited */
};

static const struct opt_def s_options[] = {
    {.name = "max_prime", .type = OPT_INT, .offset = offsetof(struct cpu_opts, max_prime),
     .def = "10000", .min = 3, .max = 1e9,
     .help = "search primes below this number in each event (sysbench --cpu-max-prime)"},
    {.name = "threads", .type = OPT_INT, .offset = offsetof(struct cpu_opts, threads),
     .def = "1", .min = 1, .max = 1024, .help = "threads running events at once"},
    {.name = "time", .type = OPT_DURATION, .offset = offsetof(struct cpu_opts, time_ns),
     .def = "10s", .min = 0, .max = 24 * 3600, .help = "time limit; 0 = none (needs events)"},
    {.name = "events", .type = OPT_INT, .offset = offsetof(struct cpu_opts, events),
     .def = "0", .min = 0, .max = 1e12, .help = "stop after this many events; 0 = no limit"},
    {.name = NULL},
};

/* Shared by the threads of one run(); lives on run()'s stack. */
struct cpu_run {
    const struct cpu_opts *o;
    volatile sig_atomic_t *stop;
    int64_t deadline_ns;        /* monotonic; 0 = no time limit */
    atomic_int_least64_t claimed; /* events handed out, against o->events */
    atomic_bool quit;           /* set when a thread could not be started */
};

struct cpu_thread {
    struct cpu_run *run;
    pthread_t tid;
    int64_t events;
    uint64_t primes; /* found by the last event */
};

/* One event, exactly sysbench's cpu_execute_event() (src/tests/cpu/sb_cpu.c),
 * same types included, so that the work per event is the same instruction mix.
 * Like sysbench the loop starts at 3, so 2 is not counted here. */
static uint64_t s_event(unsigned long long max_prime)
{
    unsigned long long c;
    unsigned long long l;
    double t;
    unsigned long long n = 0;

    for (c = 3; c < max_prime; c++) {
        t = sqrt((double)c);
        for (l = 2; l <= t; l++)
            if (c % l == 0)
                break;
        if (l > t)
            n++;
    }
    return n;
}

static bool s_should_end(struct cpu_run *r)
{
    if (r->stop && *r->stop)
        return true;
    if (atomic_load_explicit(&r->quit, memory_order_relaxed))
        return true;
    return r->deadline_ns && clock_mono_ns() >= r->deadline_ns;
}

static void *s_thread(void *arg)
{
    struct cpu_thread *th = arg;
    struct cpu_run *r = th->run;
    const struct cpu_opts *o = r->o;

    while (!s_should_end(r)) {
        if (o->events > 0 &&
            atomic_fetch_add_explicit(&r->claimed, 1, memory_order_relaxed) >= o->events)
            break;
        th->primes = s_event((unsigned long long)o->max_prime);
        th->events++;
    }
    return NULL;
}

static int s_validate(const void *opts, char *err, size_t errlen)
{
    const struct cpu_opts *o = opts;
    return bench_check_bounded(o->time_ns, o->events, err, errlen);
}

static int64_t s_expected_ns(const void *opts)
{
    return ((const struct cpu_opts *)opts)->time_ns;
}

static int s_run(struct bench_ctx *ctx)
{
    const struct cpu_opts *o = ctx->opts;
    struct cpu_run r = {.o = o, .stop = ctx->stop};
    atomic_init(&r.claimed, 0);
    atomic_init(&r.quit, false);

    size_t n = (size_t)o->threads;
    struct cpu_thread *th = calloc(n, sizeof *th);
    if (!th) {
        snprintf(ctx->err, sizeof ctx->err, "cpu: out of memory for %zu threads", n);
        return -1;
    }

    int64_t t0 = clock_mono_ns();
    if (o->time_ns > 0)
        r.deadline_ns = t0 + o->time_ns;
    size_t started = 0;
    int rc = 0;
    for (; started < n; started++) {
        th[started].run = &r;
        int e = pthread_create(&th[started].tid, NULL, s_thread, &th[started]);
        if (e != 0) {
            snprintf(ctx->err, sizeof ctx->err, "cpu: could not start thread %zu of %zu: %s",
                     started + 1, n, strerror(e));
            atomic_store(&r.quit, true);
            rc = -1;
            break;
        }
    }
    int64_t events = 0;
    uint64_t primes = 0;
    for (size_t i = 0; i < started; i++) {
        pthread_join(th[i].tid, NULL);
        events += th[i].events;
        if (th[i].events)
            primes = th[i].primes;
    }
    double secs = (double)(clock_mono_ns() - t0) / NS_PER_SEC;
    free(th);
    if (rc < 0)
        return rc;

    double eps = secs > 0 ? (double)events / secs : 0;
    bench_result_metric(ctx->res, "events_per_sec", "events/s", eps);
    bench_result_metric(ctx->res, "events", "count", (double)events);
    bench_result_metric(ctx->res, "time_s", "s", secs);
    /* + 1 for the prime 2, which sysbench's loop skips: the detail is then
     * the familiar pi(max_prime - 1), 1229 below 10000. */
    if (events)
        bench_result_detail(ctx->res, "primes_per_event", "%llu",
                            (unsigned long long)primes + 1);
    bench_result_detail(ctx->res, "threads", "%lld", (long long)o->threads);
    return 0;
}

const struct bench_ops bench_cpu = {
    .name = "cpu",
    .version = BENCH_API_VERSION,
    .flags = BENCH_F_NONE,
    .help = "prime search by trial division, as sysbench cpu",
    .metric = "events_per_sec",
    .unit = "events/s",
    .options = s_options,
    .opts_size = sizeof(struct cpu_opts),
    .validate = s_validate,
    .expected_ns = s_expected_ns,
    .run = BENCH_IMPL(s_run),
};
