/* null.c — a benchmark that does nothing (or only sleeps), so that the
 * scheduling, barriers, deadlines and result plumbing can be tested without
 * waiting for a real measurement.
 */
#include "plugins.h"

#include <stddef.h>
#include <time.h>

#include "clock.h"

struct null_opts {
    int64_t sleep_ns;
};

static const struct opt_def s_options[] = {
    {.name = "sleep", .type = OPT_DURATION, .offset = offsetof(struct null_opts, sleep_ns),
     .def = "0", .min = 0, .max = 3600, .help = "how long run() sleeps before it reports"},
    {.name = NULL},
};

static int64_t s_expected_ns(const void *opts)
{
    return ((const struct null_opts *)opts)->sleep_ns;
}

static int s_run(struct bench_ctx *ctx)
{
    const struct null_opts *o = ctx->opts;
    /* Sleep in short slices so that a stop request ends the run promptly. */
    const int64_t slice_ns = 10 * NS_PER_MS;
    int64_t end = clock_mono_ns() + o->sleep_ns;
    for (int64_t left; (left = end - clock_mono_ns()) > 0;) {
        if (ctx->stop && *ctx->stop)
            break;
        int64_t ns = left < slice_ns ? left : slice_ns;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ns};
        nanosleep(&ts, NULL);
    }
    bench_result_metric(ctx->res, "ok", "bool", 1);
    return 0;
}

const struct bench_ops bench_null = {
    .name = "null",
    .version = BENCH_API_VERSION,
    .flags = BENCH_F_NONE,
    .help = "does nothing (optionally sleeps); for testing the machinery",
    .metric = "ok",
    .unit = "bool",
    .options = s_options,
    .opts_size = sizeof(struct null_opts),
    .expected_ns = s_expected_ns,
    .run = BENCH_IMPL(s_run),
};
