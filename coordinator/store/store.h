/* store.h — the results database (SQLite, WAL, synchronous=FULL).
 *
 * A result is acknowledged to its worker only after store_result_put has
 * committed it.  Inserts are idempotent on (run, phase, rep, worker, metric):
 * a re-sent result is not a duplicate.  The schema is defined once, in store.c.
 */
#ifndef LOCKSTEP_STORE_H
#define LOCKSTEP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench.h"

typedef struct store store_t;

struct store_worker {
    const char *name;
    int rank;
    const char *platform, *hostname, *kernel, *cpu_model, *advertise;
    int64_t cores, mem_bytes, pid;
    int64_t clock_offset_ns, clock_err_ns;
    int64_t joined_at;
    const char *launched_as;      /* the launcher's platform, NULL when not launched */
    int64_t epoch;                /* 1, or more after it came back from a loss */
    const char *detected, *distro, *disk_model; /* host facts; NULL: unknown */
    const char *const *labels;    /* "KEY=VALUE", nlabels of them */
    size_t nlabels;
};

struct store_result {
    int phase, rep;               /* phase index (0-based), rep (1-based) */
    const char *worker;
    const char *status;           /* ok | failed | lost */
    const char *error;            /* NULL when ok */
    int64_t scheduled_at, started_at, finished_at; /* coordinator clock ns; 0 = unknown */
    const struct bench_metric *metrics;
    size_t nmetrics;
    const struct bench_detail *details;
    size_t ndetails;
};

/* Open (creating the schema).  NULL with a message naming the path on error. */
store_t *store_open(const char *path, char *err, size_t errlen);
/* Open for reading only (report, export): the file and its directory are
 * never written, even to migrate an older schema (that happens in a copy
 * in memory), and a file that is not a lockstep database is left as it is.
 * NULL with a message; *foreign then says the file is no lockstep
 * database (bad input) rather than unreadable. */
store_t *store_open_readonly(const char *path, char *err, size_t errlen, bool *foreign);
void store_destroy(store_t **store_p);
const char *store_path(const store_t *store);
/* Last SQLite error text, for messages. */
const char *store_errmsg(const store_t *store);

/* A new run; *key_p receives its random wire key (positive, 62 bits).
 * coordinator: who owns it ("HOST PID STARTTIME"), see store_run_resume. */
int64_t store_run_begin(store_t *s, const char *experiment, const char *file, const char *source,
                        int64_t started_at, const char *coordinator, int64_t *key_p);
int store_run_end(store_t *s, int64_t run, const char *status, int64_t finished_at);
/* reference_for: for a calibration phase, the built-in phase it checks
 * (NULL otherwise). */
int store_phase_put(store_t *s, int64_t run, int idx, const char *name, const char *bench,
                    const char *schedule, int reps, const char *params_json,
                    const char *reference_for);
int store_worker_put(store_t *s, int64_t run, const struct store_worker *w);
/* A platform instance of `--platforms`: status started | skipped | failed,
 * detail = why (skipped, failed) or NULL, what = the launcher's description. */
int store_platform_put(store_t *s, int64_t run, const char *name, const char *kind,
                       const char *status, const char *detail, const char *what);
/* The conditions a platform instance ran under (see the schema in store.c);
 * 0 and NULL fields are stored as NULL (unknown, or no limit). */
struct store_conditions {
    int64_t cpus;           /* how many CPUs it could use */
    const char *cpu_list;   /* which ("0-1", "0") */
    int64_t memory;         /* limit in bytes; 0 = none */
    const char *disk;       /* what backs the benchmarks' directory */
    const char *network;    /* the path to the coordinator's host */
    const char *unenforced; /* what was asked and not enforced, and why */
};
int store_platform_conditions(store_t *s, int64_t run, const char *name,
                              const struct store_conditions *k);
/* The order workers took their turns in one round-robin repetition. */
int store_rep_order(store_t *s, int64_t run, int phase, int rep, const char *workers);
int store_worker_clock(store_t *s, int64_t run, const char *name, int64_t offset_ns,
                       int64_t err_ns);
int store_worker_lost(store_t *s, int64_t run, const char *name, int64_t at, const char *reason,
                      const char *phase);
/* An expected worker that never arrived: a row with status 'absent' and
 * why (lost_at, lost_reason), so that the run says whom it missed. */
int store_worker_absent(store_t *s, int64_t run, const char *name, int64_t at, const char *reason);
/* A lost worker came back with a new epoch (its loss stays recorded). */
int store_worker_rejoined(store_t *s, int64_t run, const char *name, int64_t epoch, int64_t at);

/* ---- resuming a run whose coordinator died (store_run.c) ---- */
struct store_run_info {
    int64_t id, key, resumes;
    char *experiment, *file, *source, *status, *coordinator; /* malloc'd */
};
/* Run `run`, or the newest run of `experiment` still marked running: 0 and
 * *ri (free with store_run_info_free), 1 when there is none, -1 on error. */
int store_run_get(store_t *s, int64_t run, struct store_run_info *ri);
int store_run_unfinished(store_t *s, const char *experiment, struct store_run_info *ri);
void store_run_info_free(struct store_run_info *ri);
/* Mark run running again under coordinator, counting the resume. */
int store_run_resume(store_t *s, int64_t run, const char *coordinator);
/* fn for every worker of run: its name, epoch, and whether it is lost.
 * Returns how many, or -1. */
int store_run_workers(store_t *s, int64_t run,
                      void (*fn)(const char *name, int64_t epoch, bool lost, void *arg), void *arg);
/* The highest phase index the run started (-1: none; -2: error). */
int store_run_last_phase(store_t *s, int64_t run);
/* fn for every worker with a row (ok, failed or lost) for (phase, rep).
 * Returns how many, or -1. */
int store_rep_workers(store_t *s, int64_t run, int phase, int rep,
                      void (*fn)(const char *name, void *arg), void *arg);
#define STORE_BUSY (-2) /* another writer holds the database; try again later */
/* One transaction: every metric row and detail row.  0 after COMMIT,
 * STORE_BUSY when another process holds the write lock, -1 on failure. */
int store_result_put(store_t *s, int64_t run, const struct store_result *r);
/* Group commit: between these, store_result_put only adds to one open
 * transaction (a result's rows still all or none), and nothing is durable
 * until store_batch_commit returns 0 — acknowledge only then.  One fsync for
 * a burst of results instead of one each.  Both return 0, STORE_BUSY or -1;
 * after a failed commit nothing of the batch is stored. */
int store_batch_begin(store_t *s);
int store_batch_commit(store_t *s);
int store_rep_timing(store_t *s, int64_t run, int phase, int rep, int64_t go_at, int64_t skew_ns,
                     int64_t skew_err_ns);
/* What a lockstep repetition cost the coordinator, and its skew tolerance
 * (0: none; over_tolerance then stays NULL).  Updates the rep_timing row. */
struct store_rep_cost {
    int64_t barrier_ns, go_send_ns, collect_ns, coord_cpu_ns;
    int64_t skew_tolerance_ns;
    bool over_tolerance;
};
int store_rep_cost(store_t *s, int64_t run, int phase, int rep, const struct store_rep_cost *rc);
/* Clock-offset measurements reported by workers, in one transaction: each
 * becomes the worker's latest and a row of its history.  0, STORE_BUSY, -1. */
struct store_clock {
    const char *worker;
    int64_t n, at, offset_ns, err_ns; /* n: the worker's count; at: coordinator clock */
};
int store_clocks_put(store_t *s, int64_t run, const struct store_clock *v, size_t n);
/* Counts for the end-of-run summary. */
int store_run_counts(store_t *s, int64_t run, int64_t *ok, int64_t *failed, int64_t *lost);
/* Per phase and worker: repetitions and the mean of the headline metric. */
int store_summary(store_t *s, int64_t run, FILE *out);
/* What results are grouped and labelled by in reports and exports (the
 * label EXPORT_PLATFORM_LABEL in store_int.h reads): "platform" (default: the platform a
 * worker was launched as, else the one it declares), "worker" (its name),
 * "host" (its host name) or "label:KEY" (its --label KEY=VALUE).  0, or -1
 * with a message for anything else. */
int store_group_by(store_t *s, const char *by, char *err, size_t errlen);
/* Most recent run id, or 0. */
int64_t store_last_run(store_t *s);

typedef enum { EXPORT_CSV, EXPORT_JSON } export_format_t;
/* Rows of one run (run <= 0: every run) in the long format
 * run,phase,bench,rep,worker,platform,metric,unit,value,status. */
int store_export(store_t *s, int64_t run, export_format_t fmt, FILE *out, char *err,
                 size_t errlen);

#endif
