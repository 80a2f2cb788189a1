/* plugins.h — the built-in benchmark plug-ins, one const bench_ops each,
 * declared from the list (list.h).  Only registry.c (and tests that want a
 * plug-in directly) should need these; everyone else looks plug-ins up by
 * name with bench_find().
 */
#ifndef LOCKSTEP_BENCH_PLUGINS_H
#define LOCKSTEP_BENCH_PLUGINS_H

#include "bench.h"

#define BENCH(name) extern const struct bench_ops bench_##name;
#include "list.h"
#undef BENCH

#endif
