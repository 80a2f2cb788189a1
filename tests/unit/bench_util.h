/* bench_util.h — what the benchmark unit tests share: a clock, the lookup of
 * a metric or a detail in a result, options from "key=value" strings, and a
 * thread that raises a stop flag later.  Include after <cmocka.h> and
 * "bench.h".  Static inline: each test takes what it uses. */
#ifndef LOCKSTEP_TEST_BENCH_UTIL_H
#define LOCKSTEP_TEST_BENCH_UTIL_H

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static inline double ut_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The metric NAME of a result; the test fails if there is none. */
static inline const struct bench_metric *ut_metric(const struct bench_result *res, const char *name)
{
    for (size_t i = 0; i < res->nmetrics; i++)
        if (strcmp(res->metrics[i].name, name) == 0)
            return &res->metrics[i];
    fail_msg("no metric %s", name);
    return NULL;
}

/* The detail KEY of a result, or NULL. */
static inline const char *ut_detail(const struct bench_result *res, const char *key)
{
    for (size_t i = 0; i < res->ndetails; i++)
        if (strcmp(res->details[i].key, key) == 0)
            return res->details[i].value;
    return NULL;
}

/* The detail KEY of a result; the test fails if there is none. */
static inline const char *ut_detail_must(const struct bench_result *res, const char *key)
{
    const char *v = ut_detail(res, key);
    if (!v)
        fail_msg("no detail %s", key);
    return v;
}

/* Parse "key=value" strings into a fresh options struct of OPS, as the
 * worker parses what the coordinator sent. */
static inline int ut_parse(const struct bench_ops *ops, const char *const *kv, size_t n,
                           void **opts, char *err, size_t errlen)
{
    enum { MAX = 16 };
    const char *keys[MAX], *vals[MAX];
    char copy[MAX][256];
    assert_true(n <= MAX);
    for (size_t i = 0; i < n; i++) {
        snprintf(copy[i], sizeof copy[i], "%s", kv[i]);
        char *eq = strchr(copy[i], '=');
        assert_non_null(eq);
        *eq = '\0';
        keys[i] = copy[i];
        vals[i] = eq + 1;
    }
    return bench_opts_parse(ops, keys, vals, n, opts, err, errlen);
}

/* A pthread start routine: after ms milliseconds, raise *flag. */
struct ut_stopper {
    volatile sig_atomic_t *flag;
    long ms;
};

static inline void *ut_stop_later(void *arg)
{
    const struct ut_stopper *s = arg;
    struct timespec ts = { .tv_sec = s->ms / 1000, .tv_nsec = s->ms % 1000 * 1000000L };
    nanosleep(&ts, NULL);
    *s->flag = 1;
    return NULL;
}

#endif
