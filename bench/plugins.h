/* plugins.h — the built-in benchmark plug-ins, one const bench_ops each.
 * Only registry.c (and tests that want a plug-in directly) should need these;
 * everyone else looks plug-ins up by name with bench_find().
 */
#ifndef LOCKSTEP_BENCH_PLUGINS_H
#define LOCKSTEP_BENCH_PLUGINS_H

#include "bench.h"

extern const struct bench_ops bench_null, bench_cpu, bench_fork, bench_mem, bench_disk_seq,
    bench_disk_rand, bench_exec, bench_iperf;

#endif
