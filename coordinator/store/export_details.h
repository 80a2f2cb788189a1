/* export_details.h — `lockstep export --details`: what benchmarks reported
 * beside their metrics (result_details: iperf's target, attempts, round
 * trip, CPU use, congestion control, per-stream figures, a server's view,
 * every option's value), kept apart from export.c's long and wide formats. */
#ifndef LOCKSTEP_EXPORT_DETAILS_H
#define LOCKSTEP_EXPORT_DETAILS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

/* Run run (<= 0: every run) as
 *   CSV:  run,phase,bench,rep,worker,platform,key,value — one row a detail
 *   JSON: one object per (run, phase, rep, worker) result, its metrics and
 *         details nested: {"run", "phase", "bench", "rep", "worker",
 *         "platform", "status", "error", "metrics": {name: value},
 *         "units": {name: unit}, "details": {key: value}}
 * 0, or -1 with a message. */
int store_export_details(store_t *s, int64_t run, export_format_t fmt, FILE *out, char *err,
                         size_t errlen);

#endif
