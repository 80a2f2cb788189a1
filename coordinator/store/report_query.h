/* report_query.h — what `lockstep report` reads back from the results
 * database, as plain C rows handed to a callback one at a time, so that the
 * report builds its model without SQL or SQLite (the SQL stays under
 * store/).  Strings in a row are valid during the callback only; NULL is
 * SQL NULL (unknown) unless said otherwise.  Each reader returns how many
 * rows it handed over, or -1 (store_errmsg says why). */
#ifndef LOCKSTEP_REPORT_QUERY_H
#define LOCKSTEP_REPORT_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The run itself: 1 and fn called once, 0 when there is no such run. */
struct store_run_row {
    const char *experiment, *file, *source, *status;
    int64_t started_at, finished_at;
};
int store_read_run(store_t *s, int64_t run, void (*fn)(const struct store_run_row *, void *),
                   void *arg);

/* Its phases in order, with the headline stored with each (schema 6). */
struct store_phase_row {
    int idx, reps;
    const char *name, *bench, *schedule;
    const char *metric, *unit;    /* NULL: the benchmark was unknown when it ran */
    bool paired;                  /* a network benchmark: clients and servers */
    const char *reference_for;    /* a calibration's built-in phase; NULL or "" otherwise */
};
int store_read_phases(store_t *s, int64_t run, void (*fn)(const struct store_phase_row *, void *),
                      void *arg);

/* Every row of metric in phase, by worker rank and repetition, with the
 * group it counts under (store_group_by): label, kind and detected are
 * "unknown" for a worker without a row. */
struct store_value_row {
    const char *label, *kind, *detected, *status, *unit;
    bool has_value;               /* the value is not NULL */
    double value;
};
int store_read_values(store_t *s, int64_t run, int phase, const char *metric,
                      void (*fn)(const struct store_value_row *, void *), void *arg);

/* The measured start skews of a phase's lockstep repetitions (rep_timing). */
struct store_skew_row {
    int64_t skew_ns, err_ns;
};
int store_read_skews(store_t *s, int64_t run, int phase,
                     void (*fn)(const struct store_skew_row *, void *), void *arg);

/* The peers of a network phase: the local servers' workers (detail
 * server.worker) and the public targets (detail target), each distinct
 * value once, comma-separated; malloc'd, NULL when none.  0 or -1. */
int store_read_peers(store_t *s, int64_t run, int phase, char **servers, char **targets);

/* The numeric values of detail key over a phase's results of group label:
 * *v malloc'd (free it), *n of them.  0 or -1. */
int store_read_detail_reals(store_t *s, int64_t run, int phase, const char *label,
                            const char *key, double **v, size_t *n);

/* The workers of the run, by rank; label is the group they count under
 * ("unknown" without one), labels their --label KEY=VALUE as "k=v, k2=v2". */
struct store_worker_row {
    const char *name, *platform, *hostname, *kernel, *cpu_model, *status;
    int64_t cores, mem_bytes, lost_at;
    const char *lost_phase, *lost_reason, *label;
    const char *launched_as;      /* NULL also when stored empty */
    const char *detected, *distro, *disk_model, *labels;
};
int store_read_workers(store_t *s, int64_t run,
                       void (*fn)(const struct store_worker_row *, void *), void *arg);

/* The platforms row of a launched platform (schema 5): 1 and fn, or 0. */
struct store_platform_row {
    const char *kind;
    int64_t cpus;                 /* -1: NULL */
    int64_t memory;               /* -1: NULL */
    const char *cpu_list, *disk, *network, *unenforced;
    bool recorded;                /* some condition is not NULL */
};
int store_read_platform(store_t *s, int64_t run, const char *name,
                        void (*fn)(const struct store_platform_row *, void *), void *arg);

/* The platforms `--platforms` asked for that did not run (skipped or
 * failed), by name; detail "" when none was stored. */
struct store_not_run_row {
    const char *name, *status, *detail;
};
int store_read_not_run(store_t *s, int64_t run,
                       void (*fn)(const struct store_not_run_row *, void *), void *arg);

/* A calibration: the ok values of a built-in phase's metric beside the
 * reference phase's, paired by worker and repetition, for one group label,
 * by worker rank and repetition. */
struct store_pair_query {
    int bphase, xphase;
    const char *bmetric, *xmetric, *label;
};
struct store_pair_row {
    const char *worker;
    int rep;
    double b, x;
};
int store_read_pairs(store_t *s, int64_t run, const struct store_pair_query *q,
                     void (*fn)(const struct store_pair_row *, void *), void *arg);

#endif
