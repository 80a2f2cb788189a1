/* registry.c — the explicit list of built-in benchmarks (sysbench's test
 * list, fio's engine list).  A plug-in is added here and nowhere else.
 */
#include "plugins.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct bench_ops *const s_table[] = {
    &bench_null,
    &bench_cpu,
    &bench_fork,
    &bench_mem,
    &bench_disk_seq,
    &bench_disk_rand,
    &bench_exec,
#ifdef LOCKSTEP_WITH_IPERF
    &bench_iperf,
#endif
    NULL,
};

/* A plug-in built against another version of bench.h would read or write
 * the context wrongly: refuse it outright, as fio refuses an engine.  This is
 * an assert that stays in release builds (which define NDEBUG). */
static const struct bench_ops *s_checked(const struct bench_ops *ops)
{
    if (ops->version != BENCH_API_VERSION || !ops->name || !ops->run || !ops->options) {
        fprintf(stderr, "%s:%d: benchmark plug-in '%s' has API version %d (expected %d) "
                        "or lacks a name, run() or options table\n",
                __FILE__, __LINE__, ops->name ? ops->name : "?", ops->version, BENCH_API_VERSION);
        abort();
    }
    return ops;
}

const struct bench_ops *bench_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; s_table[i]; i++)
        if (strcmp(s_table[i]->name, name) == 0)
            return s_checked(s_table[i]);
    return NULL;
}

const struct bench_ops *const *bench_all(void)
{
    for (size_t i = 0; s_table[i]; i++)
        s_checked(s_table[i]);
    return s_table;
}
