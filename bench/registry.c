/* registry.c — the table of built-in benchmarks (sysbench's test list,
 * fio's engine list), made from bench/list.h: a plug-in is added there and
 * nowhere else.  Compiled into both benchmark libraries: with the hooks for
 * the worker, as descriptors for the coordinator (bench.h, BENCH_IMPL).
 */
#include "plugins.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct bench_ops *const s_table[] = {
#define BENCH(name) &bench_##name,
#include "list.h"
#undef BENCH
    NULL,
};

/* A plug-in built against another version of bench.h would read or write
 * the context wrongly: refuse it outright, as fio refuses an engine.  This is
 * an assert that stays in release builds (which define NDEBUG). */
static const struct bench_ops *s_checked(const struct bench_ops *ops)
{
    if (ops->version != BENCH_API_VERSION || !ops->name || !ops->options ||
        (BENCH_HAS_HOOKS && !ops->run)) {
        fprintf(stderr, "%s:%d: benchmark plug-in '%s' has API version %d (expected %d) "
                        "or lacks a name, run() or options table\n",
                __FILE__, __LINE__, ops->name ? ops->name : "?", ops->version, BENCH_API_VERSION);
        abort();
    }
    /* A hook given without BENCH_IMPL() brings the implementation, and what
     * it links, into the coordinator. */
    if (!BENCH_HAS_HOOKS && (ops->prepare || ops->run || ops->cleanup)) {
        fprintf(stderr, "%s:%d: benchmark plug-in '%s' names a hook without BENCH_IMPL()\n",
                __FILE__, __LINE__, ops->name);
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
