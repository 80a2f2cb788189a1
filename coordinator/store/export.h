/* export.h — what export.c offers beyond the long format (declared in
 * store.h): the course's wide CSV and the helpers the report shares with it
 * (which metric stands for a phase, the order platforms are shown in).  The
 * SQL behind them stays in store_int.h. */
#ifndef LOCKSTEP_EXPORT_H
#define LOCKSTEP_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

/* A CSV field (RFC 4180: quoted only when it holds a comma, quote or line
 * break; nothing for NULL) and a JSON string (null for NULL). */
void export_csv_field(FILE *out, const char *v);
void export_json_str(FILE *out, const char *v);

/* The same order for C: negative, 0 or positive as strcmp. */
int export_platform_cmp(const char *a, const char *b);

/* The metric that stands for phase idx of run: its benchmark's headline
 * metric (as stored with the phase, schema 6) when the phase has rows of it, else (exec with its own `metric`)
 * the first metric other than time_s.  0 and the name in buf, or -1 when
 * the phase has no results. */
int export_phase_metric(store_t *s, int64_t run, int phase, char *buf, size_t len);

/* The course's wide CSV, one row per (worker, repetition):
 *   platform,time,cpu,mem,diskRand,diskSeq,fork,uplink
 * time is when the row's first benchmark started (UTC, ISO 8601); each
 * column holds the headline metric of the phase of that name — or, when no
 * phase has the name, of the only phase running the matching benchmark
 * (cpu, mem, disk_rand, disk_seq, fork, iperf).  A failed, lost or missing
 * value is an empty cell. */
int store_export_wide(store_t *s, int64_t run, FILE *out, char *err, size_t errlen);

#endif
