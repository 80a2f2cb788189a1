/* core.c — what every plug-in shares: options structs built from the
 * plug-in's table (defaults, parsing, cross-checks) and the result record
 * that run() fills with metrics and details.
 */
#include "bench.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *bench_opts_new(const struct bench_ops *ops)
{
    assert(ops);
    /* calloc: options without a default start as 0 / false / NULL. */
    void *opts = calloc(1, ops->opts_size ? ops->opts_size : 1);
    if (!opts)
        return NULL;
    char err[256];
    if (opt_set_defaults(ops->options, opts, err, sizeof err) < 0) {
        /* A programmer error in the plug-in's table: stop here, in release
         * builds too, rather than run with a half-filled options struct. */
        fprintf(stderr, "%s:%d: benchmark %s: %s\n", __FILE__, __LINE__, ops->name, err);
        abort();
    }
    return opts;
}

void bench_opts_destroy(const struct bench_ops *ops, void **opts_p)
{
    assert(ops && opts_p);
    if (!*opts_p)
        return;
    opt_free(ops->options, *opts_p);
    free(*opts_p);
    *opts_p = NULL;
}

/* "max_prime, threads, time, events" — for the unknown-option message. */
static void s_known(const struct bench_ops *ops, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const struct opt_def *d = ops->options; d && d->name; d++) {
        int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", d->name);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    if (!used)
        snprintf(buf, len, "none");
}

int bench_opts_parse(const struct bench_ops *ops, const char *const *keys,
                     const char *const *vals, size_t n, void **opts_p, char *err, size_t errlen)
{
    assert(ops && opts_p && (n == 0 || (keys && vals)));
    void *opts = bench_opts_new(ops);
    if (!opts) {
        snprintf(err, errlen, "benchmark %s: out of memory", ops->name);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct opt_def *def = opt_find(ops->options, keys[i]);
        if (!def) {
            char known[160];
            s_known(ops, known, sizeof known);
            snprintf(err, errlen, "unknown option '%s' for benchmark %s (known: %s)", keys[i],
                     ops->name, known);
            goto fail;
        }
        /* A repeated key would silently drop one of two values the user wrote. */
        for (size_t j = 0; j < i; j++) {
            if (strcmp(keys[j], keys[i]) == 0) {
                snprintf(err, errlen, "option '%s' for benchmark %s is given twice", keys[i],
                         ops->name);
                goto fail;
            }
        }
        if (opt_parse(def, opts, vals[i], err, errlen) < 0)
            goto fail;
    }
    if (ops->validate && ops->validate(opts, err, errlen) < 0)
        goto fail;
    *opts_p = opts;
    return 0;
fail:
    bench_opts_destroy(ops, &opts);
    return -1;
}

void bench_result_metric(struct bench_result *res, const char *name, const char *unit, double value)
{
    assert(res && name && unit);
    size_t i;
    for (i = 0; i < res->nmetrics; i++)
        if (strcmp(res->metrics[i].name, name) == 0)
            break;
    assert(i < BENCH_MAX_METRICS && "a plug-in records more than BENCH_MAX_METRICS metrics");
    if (i >= BENCH_MAX_METRICS)
        return;
    struct bench_metric *m = &res->metrics[i];
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->unit, sizeof m->unit, "%s", unit);
    m->value = value;
    if (i == res->nmetrics)
        res->nmetrics++;
}

void bench_result_detail(struct bench_result *res, const char *key, const char *fmt, ...)
{
    assert(res && key && fmt);
    size_t i;
    for (i = 0; i < res->ndetails; i++)
        if (strcmp(res->details[i].key, key) == 0)
            break;
    assert(i < BENCH_MAX_DETAILS && "a plug-in records more than BENCH_MAX_DETAILS details");
    if (i >= BENCH_MAX_DETAILS)
        return;
    struct bench_detail *d = &res->details[i];
    snprintf(d->key, sizeof d->key, "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->value, sizeof d->value, fmt, ap);
    va_end(ap);
    if (i == res->ndetails)
        res->ndetails++;
}

void bench_result_params(struct bench_result *res, const struct bench_ops *ops, const void *opts)
{
    assert(res && ops && opts);
    for (const struct opt_def *d = ops->options; d && d->name; d++) {
        char key[sizeof res->details[0].key];
        char val[sizeof res->details[0].value];
        snprintf(key, sizeof key, "opt.%s", d->name);
        if (opt_format(d, opts, val, sizeof val) < 0)
            snprintf(val, sizeof val, "(too long to record)");
        bench_result_detail(res, key, "%s", val);
    }
}

int bench_check_bounded(int64_t time_ns, int64_t events, char *err, size_t errlen)
{
    if (time_ns == 0 && events == 0) {
        snprintf(err, errlen, "time and events are both 0: the run would never end "
                              "(set a time limit, an event count or both)");
        return -1;
    }
    return 0;
}
