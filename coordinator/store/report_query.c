/* report_query.c — the report's queries (report_query.h): each reader
 * prepares one statement, turns every row into a plain C struct and hands
 * it to the caller, so that coordinator/report/ holds no SQL.  The grouping
 * label comes from the temp view store_group_by made (EXPORT_PLATFORM_LABEL). */
#include "report_query.h"

#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "store_int.h"

static const char *s_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* -1 for SQL NULL, else the integer. */
static int64_t s_int_or(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
}

/* Step st to its end, row(st, ctx) for each row, and finalize it: how many
 * rows, or -1 (a NULL st is a failed prepare, already noted). */
static int s_each(store_t *s, sqlite3_stmt *st, void (*row)(sqlite3_stmt *, void *), void *ctx)
{
    if (!st)
        return -1;
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row(st, ctx);
        n++;
    }
    if (rc != SQLITE_DONE)
        store_note_error(s);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -1;
}

/* The caller's callback and argument, passed through s_each to a row
 * converter (one struct per row type keeps the calls type-checked). */
#define CALLBACK(name, type)                                                                 \
    struct name {                                                                            \
        void (*fn)(const struct type *, void *);                                             \
        void *arg;                                                                           \
    }

CALLBACK(run_cb, store_run_row);
static void s_run(sqlite3_stmt *st, void *ctx)
{
    const struct run_cb *cb = ctx;
    struct store_run_row row = { s_text(st, 0), s_text(st, 1), s_text(st, 2), s_text(st, 3),
                                 sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5) };
    cb->fn(&row, cb->arg);
}

int store_read_run(store_t *s, int64_t run, void (*fn)(const struct store_run_row *, void *),
                   void *arg)
{
    struct run_cb cb = { fn, arg };
    return s_each(s, store_query(s, "SELECT experiment, file, source, status, started_at,"
                                    " finished_at FROM runs WHERE id=?", "i", run),
                  s_run, &cb);
}

CALLBACK(phase_cb, store_phase_row);
static void s_phase(sqlite3_stmt *st, void *ctx)
{
    const struct phase_cb *cb = ctx;
    struct store_phase_row row = {
        .idx = sqlite3_column_int(st, 0), .name = s_text(st, 1), .bench = s_text(st, 2),
        .schedule = s_text(st, 3), .reps = sqlite3_column_int(st, 4), .metric = s_text(st, 5),
        .unit = s_text(st, 6), .paired = sqlite3_column_int(st, 7) != 0,
        .reference_for = s_text(st, 8),
    };
    cb->fn(&row, cb->arg);
}

int store_read_phases(store_t *s, int64_t run, void (*fn)(const struct store_phase_row *, void *),
                      void *arg)
{
    struct phase_cb cb = { fn, arg };
    return s_each(s, store_query(s, "SELECT idx, name, bench, schedule, reps, headline_metric,"
                                    " headline_unit, paired, reference_for FROM phases"
                                    " WHERE run=? ORDER BY idx",
                                 "i", run),
                  s_phase, &cb);
}

CALLBACK(value_cb, store_value_row);
static void s_value(sqlite3_stmt *st, void *ctx)
{
    const struct value_cb *cb = ctx;
    struct store_value_row row = {
        .label = s_text(st, 0), .value = sqlite3_column_double(st, 1),
        .has_value = sqlite3_column_type(st, 1) != SQLITE_NULL, .status = s_text(st, 2),
        .unit = s_text(st, 3), .kind = s_text(st, 4), .detected = s_text(st, 5),
    };
    cb->fn(&row, cb->arg);
}

int store_read_values(store_t *s, int64_t run, int phase, const char *metric,
                      void (*fn)(const struct store_value_row *, void *), void *arg)
{
    struct value_cb cb = { fn, arg };
    return s_each(s, store_query(s, "SELECT COALESCE(" EXPORT_PLATFORM_LABEL("w") ", 'unknown'),"
                                    " r.value, r.status, r.unit,"
                                    " COALESCE(" EXPORT_PLATFORM_KIND("w") ", 'unknown'),"
                                    " COALESCE(w.platform, 'unknown')"
                                    " FROM results r LEFT JOIN workers w"
                                    " ON w.run = r.run AND w.name = r.worker"
                                    " WHERE r.run=? AND r.phase=? AND r.metric=?"
                                    " ORDER BY w.rank, r.worker, r.rep",
                                 "int", run, phase, metric),
                  s_value, &cb);
}

CALLBACK(skew_cb, store_skew_row);
static void s_skew(sqlite3_stmt *st, void *ctx)
{
    const struct skew_cb *cb = ctx;
    struct store_skew_row row = { sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1) };
    cb->fn(&row, cb->arg);
}

int store_read_skews(store_t *s, int64_t run, int phase,
                     void (*fn)(const struct store_skew_row *, void *), void *arg)
{
    struct skew_cb cb = { fn, arg };
    return s_each(s, store_query(s, "SELECT skew_ns, skew_err_ns FROM rep_timing"
                                    " WHERE run=? AND phase=? AND skew_ns IS NOT NULL",
                                 "in", run, phase),
                  s_skew, &cb);
}

struct peers {
    char **servers, **targets;
};
static void s_peer(sqlite3_stmt *st, void *ctx)
{
    const struct peers *p = ctx;
    const char *key = s_text(st, 0), *v = s_text(st, 1);
    char **to = key && strcmp(key, "server.worker") == 0 ? p->servers : p->targets;
    free(*to);
    *to = v ? strdup(v) : NULL;
}

int store_read_peers(store_t *s, int64_t run, int phase, char **servers, char **targets)
{
    struct peers p = { servers, targets };
    *servers = *targets = NULL;
    return s_each(s, store_query(s, "SELECT key, group_concat(DISTINCT value) FROM"
                                    " result_details WHERE run=? AND phase=?"
                                    " AND key IN ('server.worker', 'target') GROUP BY key",
                                 "in", run, phase),
                  s_peer, &p) < 0 ? -1 : 0;
}

struct reals {
    double *v;
    size_t n;
};
static void s_real(sqlite3_stmt *st, void *ctx)
{
    struct reals *r = ctx;
    double *p = realloc(r->v, (r->n + 1) * sizeof *p);
    if (!p)
        return;
    p[r->n++] = sqlite3_column_double(st, 0);
    r->v = p;
}

int store_read_detail_reals(store_t *s, int64_t run, int phase, const char *label,
                            const char *key, double **v, size_t *n)
{
    struct reals r = { NULL, 0 };
    int rc = s_each(s, store_query(s, "SELECT CAST(d.value AS REAL) FROM result_details d"
                                      " JOIN workers w ON w.run = d.run AND w.name = d.worker"
                                      " WHERE d.run = ?1 AND d.phase = ?2 AND d.key = ?3"
                                      " AND " EXPORT_PLATFORM_LABEL("w") " = ?4",
                                   "intt", run, phase, key, label),
                    s_real, &r);
    *v = r.v;
    *n = r.n;
    return rc < 0 ? -1 : 0;
}

CALLBACK(worker_cb, store_worker_row);
static void s_worker(sqlite3_stmt *st, void *ctx)
{
    const struct worker_cb *cb = ctx;
    struct store_worker_row row = {
        .name = s_text(st, 0), .platform = s_text(st, 1), .hostname = s_text(st, 2),
        .kernel = s_text(st, 3), .cpu_model = s_text(st, 4), .cores = sqlite3_column_int64(st, 5),
        .mem_bytes = sqlite3_column_int64(st, 6), .status = s_text(st, 7),
        .lost_phase = s_text(st, 8), .lost_reason = s_text(st, 9),
        .lost_at = sqlite3_column_int64(st, 10), .label = s_text(st, 11),
        .launched_as = s_text(st, 12), .detected = s_text(st, 13), .distro = s_text(st, 14),
        .disk_model = s_text(st, 15), .labels = s_text(st, 16),
    };
    cb->fn(&row, cb->arg);
}

int store_read_workers(store_t *s, int64_t run,
                       void (*fn)(const struct store_worker_row *, void *), void *arg)
{
    struct worker_cb cb = { fn, arg };
    return s_each(s, store_query(s, "SELECT name, platform, hostname, kernel, cpu_model, cores,"
                                    " mem_bytes, status, lost_phase, lost_reason, lost_at,"
                                    " COALESCE(" EXPORT_PLATFORM_LABEL("w") ", 'unknown'),"
                                    " NULLIF(launched_as, ''), detected, distro, disk_model,"
                                    " (SELECT group_concat(key || '=' || value, ', ') FROM"
                                    "  (SELECT key, value FROM worker_labels l WHERE"
                                    "   l.run = w.run AND l.worker = w.name ORDER BY key))"
                                    " FROM workers w WHERE run=? ORDER BY rank, name",
                                 "i", run),
                  s_worker, &cb);
}

CALLBACK(platform_cb, store_platform_row);
static void s_platform(sqlite3_stmt *st, void *ctx)
{
    const struct platform_cb *cb = ctx;
    struct store_platform_row row = {
        .kind = s_text(st, 0), .cpus = s_int_or(st, 1), .cpu_list = s_text(st, 2),
        .memory = s_int_or(st, 3), .disk = s_text(st, 4), .network = s_text(st, 5),
        .unenforced = s_text(st, 6), .recorded = sqlite3_column_int(st, 7) != 0,
    };
    cb->fn(&row, cb->arg);
}

int store_read_platform(store_t *s, int64_t run, const char *name,
                        void (*fn)(const struct store_platform_row *, void *), void *arg)
{
    struct platform_cb cb = { fn, arg };
    return s_each(s, store_query(s, "SELECT kind, cpus, cpu_list, memory, disk, network,"
                                    " unenforced, cpus IS NOT NULL OR cpu_list IS NOT NULL"
                                    " OR memory IS NOT NULL OR disk IS NOT NULL"
                                    " OR network IS NOT NULL OR unenforced IS NOT NULL"
                                    " FROM platforms WHERE run=? AND name=?",
                                 "it", run, name),
                  s_platform, &cb);
}

CALLBACK(not_run_cb, store_not_run_row);
static void s_not_run(sqlite3_stmt *st, void *ctx)
{
    const struct not_run_cb *cb = ctx;
    struct store_not_run_row row = { s_text(st, 0), s_text(st, 1), s_text(st, 2) };
    cb->fn(&row, cb->arg);
}

int store_read_not_run(store_t *s, int64_t run,
                       void (*fn)(const struct store_not_run_row *, void *), void *arg)
{
    struct not_run_cb cb = { fn, arg };
    return s_each(s, store_query(s, "SELECT name, status, COALESCE(detail, '') FROM platforms"
                                    " WHERE run=? AND status IN ('skipped', 'failed')"
                                    " ORDER BY name",
                                 "i", run),
                  s_not_run, &cb);
}

CALLBACK(pair_cb, store_pair_row);
static void s_pair(sqlite3_stmt *st, void *ctx)
{
    const struct pair_cb *cb = ctx;
    struct store_pair_row row = { s_text(st, 0), sqlite3_column_int(st, 1),
                                  sqlite3_column_double(st, 2), sqlite3_column_double(st, 3) };
    cb->fn(&row, cb->arg);
}

int store_read_pairs(store_t *s, int64_t run, const struct store_pair_query *q,
                     void (*fn)(const struct store_pair_row *, void *), void *arg)
{
    struct pair_cb cb = { fn, arg };
    return s_each(
        s, store_query(s, "SELECT b.worker, b.rep, b.value, x.value FROM results b"
                          " JOIN results x ON x.run = b.run AND x.worker = b.worker"
                          " AND x.rep = b.rep AND x.phase = ?4 AND x.metric = ?5"
                          " AND x.status = 'ok' AND x.value IS NOT NULL"
                          " LEFT JOIN workers w ON w.run = b.run AND w.name = b.worker"
                          " WHERE b.run = ?1 AND b.phase = ?2 AND b.metric = ?3"
                          " AND b.status = 'ok' AND b.value IS NOT NULL"
                          " AND COALESCE(" EXPORT_PLATFORM_LABEL("w") ", 'unknown') = ?6"
                          " ORDER BY w.rank, b.worker, b.rep",
                       "intntt", run, q->bphase, q->bmetric, q->xphase, q->xmetric, q->label),
        s_pair, &cb);
}
