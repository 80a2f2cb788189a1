/* store.c — the results database.  SQLite in WAL mode with synchronous=FULL:
 * when store_result_put returns 0 the result is on disk, and only then does
 * the coordinator ACK it.  The schema below is the one place it is defined.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export.h"
#include "store_int.h"


/* Schema, version 1.
 * runs     one row per `lockstep run`; status running|complete|partial|failed;
 *          key is the run's random identity on the wire (workers spool by it).
 * workers  admitted workers of a run with their host facts and clock offset;
 *          status admitted|lost|rejoined, and when/why/in which phase a loss
 *          happened; absent: expected by name, never arrived (lost_reason says
 *          how long admission waited);
 *          launched_as: the platform `--platforms` started it as (its own
 *          detection is in platform; a mismatch is shown, not hidden).
 * phases   the experiment's phases as run (params as JSON).
 * results  one row per (run, phase, rep, worker, metric); a failed or lost
 *          repetition has one row for the benchmark's headline metric with a
 *          NULL value and the reason in error.  Times are coordinator-clock ns.
 * result_details  what a benchmark reported beside its metrics (parameters
 *          actually used, engine, checks).
 * rep_timing  per lockstep repetition: the GO instant and the start skew
 *          (max - min start, coordinator clock) with its error bound; from
 *          schema 3 also what the coordinator spent on it (barrier_ns:
 *          PREPARE to the last READY; go_send_ns: sending GO; collect_ns:
 *          start instant to the last result stored; coord_cpu_ns: its own CPU
 *          time, all threads, from PREPARE to the last result) and the
 *          phase's skew_tolerance_ns with over_tolerance = 1 when exceeded.
 * clock_offsets  every clock-offset measurement a worker reported (n counts
 *          them per worker and run, 1 = at admission); workers.clock_offset_ns
 *          and clock_err_ns hold the latest.
 * platforms  the platform instances `--platforms` asked for: started, or
 *          skipped/failed with the reason; from schema 5 the conditions each
 *          ran under: cpus (how many) and cpu_list (which, "0-1"), memory
 *          (limit in bytes, NULL = none), disk (what backs the benchmarks'
 *          directory: "host ext4", "overlay2", "virtio-blk raw cache=none"),
 *          network (the path to the coordinator's host: "loopback",
 *          "bridge NAT", "user-mode NAT") and unenforced (what was asked but
 *          could not be enforced, and why; NULL when everything was).
 * rep_order  (schema 5) per round-robin repetition, the order the workers
 *          took their turns in (names, comma-separated): the order rotates
 *          from one repetition to the next so that no platform always runs
 *          first or last.
 * phases.reference_for  (schema 5) for a calibration phase (an `exec` of a
 *          reference tool), the name of the built-in phase it checks.
 * workers.detected, distro, disk_model  (schema 5) the worker's own platform
 *          detection (platform may be what it declares, --platform labA), its
 *          distribution and the disk under its spool directory.
 * worker_labels  (schema 5) --label KEY=VALUE of each worker of a run, by
 *          which reports group (--by label:KEY).
 * phases.headline_metric, headline_unit, paired  (schema 6) the benchmark's
 *          headline metric
 *          and its unit, and 1 for a paired (network) benchmark, as the
 *          coordinator that ran the phase knew them: readers (report,
 *          export) take them from here and never ask the benchmarks, so a
 *          build without a benchmark still reads its phases.  An older
 *          database gets them from this build's descriptors when migrated;
 *          NULL: the benchmark was unknown then. */
static const char *s_schema =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "INSERT OR IGNORE INTO meta VALUES('schema_version','1');"
    "CREATE TABLE IF NOT EXISTS runs("
    "  id INTEGER PRIMARY KEY, key INTEGER NOT NULL UNIQUE, experiment TEXT NOT NULL,"
    "  file TEXT, source TEXT,"
    "  started_at INTEGER, finished_at INTEGER, status TEXT NOT NULL DEFAULT 'running');"
    "CREATE TABLE IF NOT EXISTS workers("
    "  run INTEGER NOT NULL REFERENCES runs(id), name TEXT NOT NULL, rank INTEGER,"
    "  platform TEXT, hostname TEXT, kernel TEXT, cpu_model TEXT, cores INTEGER,"
    "  mem_bytes INTEGER, pid INTEGER, advertise TEXT, clock_offset_ns INTEGER,"
    "  clock_err_ns INTEGER, joined_at INTEGER, status TEXT NOT NULL DEFAULT 'admitted',"
    "  lost_at INTEGER, lost_reason TEXT, lost_phase TEXT, PRIMARY KEY(run, name));"
    "CREATE TABLE IF NOT EXISTS phases("
    "  run INTEGER NOT NULL REFERENCES runs(id), idx INTEGER NOT NULL, name TEXT NOT NULL,"
    "  bench TEXT NOT NULL, schedule TEXT NOT NULL, reps INTEGER NOT NULL, params TEXT,"
    "  PRIMARY KEY(run, idx));"
    "CREATE TABLE IF NOT EXISTS results("
    "  run INTEGER NOT NULL REFERENCES runs(id), phase INTEGER NOT NULL, rep INTEGER NOT NULL,"
    "  worker TEXT NOT NULL, metric TEXT NOT NULL, unit TEXT, value REAL,"
    "  status TEXT NOT NULL, error TEXT, scheduled_at INTEGER, started_at INTEGER,"
    "  finished_at INTEGER, PRIMARY KEY(run, phase, rep, worker, metric));"
    "CREATE TABLE IF NOT EXISTS result_details("
    "  run INTEGER NOT NULL, phase INTEGER NOT NULL, rep INTEGER NOT NULL,"
    "  worker TEXT NOT NULL, key TEXT NOT NULL, value TEXT,"
    "  PRIMARY KEY(run, phase, rep, worker, key));"
    "CREATE TABLE IF NOT EXISTS rep_timing("
    "  run INTEGER NOT NULL, phase INTEGER NOT NULL, rep INTEGER NOT NULL,"
    "  go_at INTEGER, skew_ns INTEGER, skew_err_ns INTEGER, PRIMARY KEY(run, phase, rep));"
    "CREATE TABLE IF NOT EXISTS platforms("
    "  run INTEGER NOT NULL REFERENCES runs(id), name TEXT NOT NULL, kind TEXT NOT NULL,"
    "  status TEXT NOT NULL, detail TEXT, what TEXT, PRIMARY KEY(run, name));"
    "CREATE TABLE IF NOT EXISTS clock_offsets("
    "  run INTEGER NOT NULL, worker TEXT NOT NULL, n INTEGER NOT NULL, at INTEGER,"
    "  offset_ns INTEGER, err_ns INTEGER, PRIMARY KEY(run, worker, n));"
    "CREATE TABLE IF NOT EXISTS worker_labels("
    "  run INTEGER NOT NULL, worker TEXT NOT NULL, key TEXT NOT NULL, value TEXT,"
    "  PRIMARY KEY(run, worker, key));"
    "CREATE TABLE IF NOT EXISTS rep_order("
    "  run INTEGER NOT NULL, phase INTEGER NOT NULL, rep INTEGER NOT NULL,"
    "  workers TEXT NOT NULL, PRIMARY KEY(run, phase, rep));";

/* Keep the message of a failure: the ROLLBACK that follows it would
 * replace SQLite's own with "cannot rollback - no transaction is active". */
void store_note_error(store_t *s)
{
    int e = sqlite3_system_errno(s->db), code = sqlite3_extended_errcode(s->db) & 0xff;
    const char *msg = sqlite3_errmsg(s->db), *why = NULL;
    /* SQLite says "disk I/O error" and often keeps no errno: try to create
     * a file beside the database and let the file system say what is wrong */
    char probe[4200];
    if ((code == SQLITE_IOERR || code == SQLITE_READONLY || code == SQLITE_FULL) &&
        snprintf(probe, sizeof probe, "%s.probe-XXXXXX", s->path) < (int)sizeof probe) {
        int fd = mkstemp(probe);
        if (fd >= 0) {
            if (write(fd, "x", 1) != 1 || fsync(fd) != 0)
                e = errno;
            close(fd);
            unlink(probe);
        } else {
            e = errno;
        }
        why = e == EROFS    ? "the file system holding it is read-only"
              : e == ENOSPC ? "the file system holding it is full"
                            : NULL;
    }
    if (!why && e && !strstr(msg, strerror(e)))
        why = strerror(e);
    if (why)
        snprintf(s->errbuf, sizeof s->errbuf, "%s (%s)", msg, why);
    else
        snprintf(s->errbuf, sizeof s->errbuf, "%s", msg);
}

static int s_exec(store_t *s, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    sqlite3_free(msg);
    if (rc != SQLITE_OK && strncmp(sql, "ROLLBACK", 8) != 0)
        store_note_error(s);
    return rc == SQLITE_OK ? 0 : -1;
}

/* Schema changes since version 1, applied in order to an older database in
 * the same transaction as s_schema (which only creates what is missing). */
static const struct {
    int version;
    const char *table, *column, *sql;
} s_migrations[] = {
    /* 2: the platform a launcher started a worker as (`--platforms`), beside
     * the worker's own detection */
    { 2, "workers", "launched_as", "ALTER TABLE workers ADD COLUMN launched_as TEXT" },
    /* 3: what a lockstep repetition cost the coordinator, and the skew
     * tolerance it was held to */
    { 3, "rep_timing", "barrier_ns",
      "ALTER TABLE rep_timing ADD COLUMN barrier_ns INTEGER" },
    { 3, "rep_timing", "go_send_ns",
      "ALTER TABLE rep_timing ADD COLUMN go_send_ns INTEGER" },
    { 3, "rep_timing", "collect_ns",
      "ALTER TABLE rep_timing ADD COLUMN collect_ns INTEGER" },
    { 3, "rep_timing", "coord_cpu_ns",
      "ALTER TABLE rep_timing ADD COLUMN coord_cpu_ns INTEGER" },
    { 3, "rep_timing", "skew_tolerance_ns",
      "ALTER TABLE rep_timing ADD COLUMN skew_tolerance_ns INTEGER" },
    { 3, "rep_timing", "over_tolerance",
      "ALTER TABLE rep_timing ADD COLUMN over_tolerance INTEGER" },
    /* 4: epochs of workers that came back after a loss, and which
     * coordinator process owns a run (so that a dead one's run is resumed,
     * a live one's never) */
    { 4, "workers", "epoch", "ALTER TABLE workers ADD COLUMN epoch INTEGER NOT NULL DEFAULT 1" },
    { 4, "workers", "rejoined_at", "ALTER TABLE workers ADD COLUMN rejoined_at INTEGER" },
    { 4, "runs", "coordinator", "ALTER TABLE runs ADD COLUMN coordinator TEXT" },
    { 4, "runs", "resumes", "ALTER TABLE runs ADD COLUMN resumes INTEGER NOT NULL DEFAULT 0" },
    /* 5: the conditions each platform ran under, and which phases are
     * reference tools checking a built-in (rep_order is a new table) */
    { 5, "platforms", "cpus", "ALTER TABLE platforms ADD COLUMN cpus INTEGER" },
    { 5, "platforms", "cpu_list", "ALTER TABLE platforms ADD COLUMN cpu_list TEXT" },
    { 5, "platforms", "memory", "ALTER TABLE platforms ADD COLUMN memory INTEGER" },
    { 5, "platforms", "disk", "ALTER TABLE platforms ADD COLUMN disk TEXT" },
    { 5, "platforms", "network", "ALTER TABLE platforms ADD COLUMN network TEXT" },
    { 5, "platforms", "unenforced", "ALTER TABLE platforms ADD COLUMN unenforced TEXT" },
    { 5, "phases", "reference_for", "ALTER TABLE phases ADD COLUMN reference_for TEXT" },
    { 5, "workers", "detected", "ALTER TABLE workers ADD COLUMN detected TEXT" },
    { 5, "workers", "distro", "ALTER TABLE workers ADD COLUMN distro TEXT" },
    { 5, "workers", "disk_model", "ALTER TABLE workers ADD COLUMN disk_model TEXT" },
    /* 6: the headline metric, its unit and pairing per phase, so that
     * readers need no benchmark descriptor */
    { 6, "phases", "headline_metric",
      "ALTER TABLE phases ADD COLUMN headline_metric TEXT" },
    { 6, "phases", "headline_unit", "ALTER TABLE phases ADD COLUMN headline_unit TEXT" },
    { 6, "phases", "paired", "ALTER TABLE phases ADD COLUMN paired INTEGER" },
};

static bool s_has_column(store_t *s, const char *table, const char *column)
{
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
    sqlite3_stmt *st = NULL;
    bool found = false;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return false;
    while (!found && sqlite3_step(st) == SQLITE_ROW)
        found = strcmp((const char *)sqlite3_column_text(st, 1), column) == 0;
    sqlite3_finalize(st);
    return found;
}

/* The schema version a database says it has (1 when it does not say). */
static int s_stored_version(store_t *s)
{
    sqlite3_stmt *st = NULL;
    int v = 1;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key='schema_version'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        v = atoi((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

/* What a phase of benchmark `bench` stores beside it (schema 6): from its
 * descriptor, the one place the writer asks the benchmarks; NULLs for a
 * benchmark this build does not have. */
static void s_bind_headline(sqlite3_stmt *st, int first, const char *bench)
{
    const struct bench_ops *ops = bench ? bench_find(bench) : NULL;
    store_bind_text(st, first, ops ? ops->metric : NULL);
    store_bind_text(st, first + 1, ops ? ops->unit : NULL);
    if (ops)
        sqlite3_bind_int(st, first + 2, (ops->flags & BENCH_F_PAIRED) != 0);
    else
        sqlite3_bind_null(st, first + 2);
}

/* Schema 6 for the phases an older coordinator stored: each benchmark's
 * headline metric, unit and pairing from this build's descriptors. */
static int s_fill_headlines(store_t *s)
{
    sqlite3_stmt *list = store_prepare(s, "SELECT DISTINCT bench FROM phases"
                                          " WHERE headline_metric IS NULL");
    sqlite3_stmt *up = store_prepare(s, "UPDATE phases SET headline_metric=?1,"
                                        " headline_unit=?2, paired=?3"
                                        " WHERE bench=?4 AND headline_metric IS NULL");
    int rc = list && up ? 0 : -1;
    while (rc == 0 && sqlite3_step(list) == SQLITE_ROW) {
        const char *bench = (const char *)sqlite3_column_text(list, 0);
        if (!bench || !bench_find(bench))
            continue; /* unknown here: left NULL */
        sqlite3_reset(up);
        s_bind_headline(up, 1, bench);
        store_bind_text(up, 4, bench);
        if (sqlite3_step(up) != SQLITE_DONE) {
            store_note_error(s);
            rc = -1;
        }
    }
    sqlite3_finalize(list);
    sqlite3_finalize(up);
    return rc;
}

static int s_migrate(store_t *s)
{
    int version = 1, was = s_stored_version(s);
    for (size_t i = 0; i < sizeof s_migrations / sizeof s_migrations[0]; i++) {
        if (!s_has_column(s, s_migrations[i].table, s_migrations[i].column) &&
            s_exec(s, s_migrations[i].sql) != 0)
            return -1;
        version = s_migrations[i].version;
    }
    if (was < 6 && s_fill_headlines(s) != 0)
        return -1;
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE meta SET value='%d' WHERE key='schema_version'", version);
    return s_exec(s, sql);
}


static store_t *s_grouped(store_t *s, char *err, size_t errlen);

/* Why a database cannot be opened or written, in the operating system's
 * words (SQLite says only "unable to open database file"): " (…)", or ""
 * when the file and its directory look fine. */
static void s_open_reason(const char *path, char *buf, size_t len)
{
    char dir[256];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (!dir[0])
        snprintf(dir, sizeof dir, "/");
    struct stat st;
    buf[0] = '\0';
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            snprintf(buf, len, " (it is a directory)");
        else if (access(path, R_OK | W_OK) != 0)
            snprintf(buf, len, " (the file: %s)", strerror(errno));
        else if (access(dir, W_OK) != 0)
            snprintf(buf, len, " (its directory %s: %s; SQLite keeps its journal beside it)",
                     dir, strerror(errno));
    } else if (stat(dir, &st) != 0) {
        snprintf(buf, len, " (directory %s: %s)", dir, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        snprintf(buf, len, " (%s is not a directory)", dir);
    } else if (access(dir, W_OK) != 0) {
        snprintf(buf, len, " (directory %s: %s)", dir, strerror(errno));
    }
}

store_t *store_open(const char *path, char *err, size_t errlen)
{
    store_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    s->path = strdup(path);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        char why[512];
        s_open_reason(path, why, sizeof why);
        snprintf(err, errlen, "%s: cannot open database: %s%s", path,
                 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), why);
        store_destroy(&s);
        return NULL;
    }
    /* short: the coordinator's event loop (heartbeats) waits while SQLite
     * does; a busy result is not acknowledged and comes again */
    sqlite3_busy_timeout(s->db, 250);
    /* journal_mode answers with a row; a read-only or foreign file fails here */
    if (s_exec(s, "PRAGMA journal_mode=WAL") || s_exec(s, "PRAGMA synchronous=FULL") ||
        s_exec(s, "PRAGMA foreign_keys=ON") || s_exec(s, "BEGIN") || s_exec(s, s_schema) ||
        s_migrate(s) || s_exec(s, "COMMIT")) {
        char why[512];
        s_open_reason(path, why, sizeof why);
        if (!why[0] && sqlite3_db_readonly(s->db, "main") == 1) {
            /* SQLite fell back to reading only: say what refused the write */
            int fd = open(path, O_RDWR | O_CLOEXEC);
            snprintf(why, sizeof why, " (SQLite could only open it read-only%s%s)",
                     fd < 0 ? ": " : "", fd < 0 ? strerror(errno) : "");
            if (fd >= 0)
                close(fd);
        }
        snprintf(err, errlen, "%s: cannot use database: %s%s", path, sqlite3_errmsg(s->db), why);
        s_exec(s, "ROLLBACK");
        store_destroy(&s);
        return NULL;
    }
    return s_grouped(s, err, errlen);
}

/* The schema version this build writes (the last migration's). */
static int s_current_version(void)
{
    return s_migrations[sizeof s_migrations / sizeof s_migrations[0] - 1].version;
}

/* "file:PATH?mode=ro[&immutable=1]" with PATH's URI specials escaped. */
static void s_ro_uri(const char *path, bool immutable, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "file:");
    for (const char *p = path; *p && used + 4 < len; p++) {
        if (*p == '%' || *p == '?' || *p == '#')
            used += (size_t)snprintf(buf + used, len - used, "%%%02X", (unsigned char)*p);
        else
            buf[used++] = *p;
    }
    snprintf(buf + used, len - used, "?mode=ro%s", immutable ? "&immutable=1" : "");
}

/* The schema version of a lockstep database; 0 when db is not one. */
static int s_lockstep_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = 0;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='schema_version'"
                               " AND EXISTS (SELECT 1 FROM sqlite_master WHERE type='table'"
                               " AND name='runs')", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = atoi((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

store_t *store_open_readonly(const char *path, char *err, size_t errlen, bool *foreign)
{
    *foreign = false;
    store_t *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(s);
        return NULL;
    }
    /* read-only; where even the WAL index cannot be opened (a read-only
     * file system, another user's directory) the file as it is on disk */
    int version = 0, rc = SQLITE_OK;
    for (int immutable = 0; immutable < 2 && version == 0; immutable++) {
        char uri[4200];
        s_ro_uri(path, immutable, uri, sizeof uri);
        if (s->db)
            sqlite3_close(s->db);
        s->db = NULL;
        rc = sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
        if (rc == SQLITE_OK)
            version = s_lockstep_version(s->db);
    }
    if (version == 0) {
        char why[512];
        s_open_reason(path, why, sizeof why);
        if (rc == SQLITE_OK && sqlite3_errcode(s->db) != SQLITE_NOTADB &&
            sqlite3_errcode(s->db) != SQLITE_CANTOPEN) {
            *foreign = true;
            snprintf(err, errlen, "%s: not a lockstep database (no runs, no schema version); "
                     "left as it was", path);
        } else {
            snprintf(err, errlen, "%s: cannot read database: %s%s", path,
                     s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), why);
            *foreign = s->db && sqlite3_errcode(s->db) == SQLITE_NOTADB;
        }
        store_destroy(&s);
        return NULL;
    }
    if (version < s_current_version()) {
        /* an older schema: read it through a copy in memory brought up to
         * date there, the file untouched */
        sqlite3 *mem = NULL;
        sqlite3_backup *b = NULL;
        if (sqlite3_open(":memory:", &mem) != SQLITE_OK ||
            !(b = sqlite3_backup_init(mem, "main", s->db, "main")) ||
            sqlite3_backup_step(b, -1) != SQLITE_DONE) {
            snprintf(err, errlen, "%s: cannot copy schema %d for reading: %s", path, version,
                     sqlite3_errmsg(mem ? mem : s->db));
            sqlite3_backup_finish(b);
            sqlite3_close(mem);
            store_destroy(&s);
            return NULL;
        }
        sqlite3_backup_finish(b);
        sqlite3_close(s->db);
        s->db = mem;
        if (s_exec(s, "BEGIN") || s_exec(s, s_schema) || s_migrate(s) || s_exec(s, "COMMIT")) {
            snprintf(err, errlen, "%s: cannot read schema %d: %s", path, version,
                     sqlite3_errmsg(s->db));
            store_destroy(&s);
            return NULL;
        }
    }
    return s_grouped(s, err, errlen);
}

int store_group_by(store_t *s, const char *by, char *err, size_t errlen)
{
    char expr[256];
    if (!by || strcmp(by, "platform") == 0) {
        snprintf(expr, sizeof expr, "%s", EXPORT_PLATFORM_DEFAULT("w"));
    } else if (strcmp(by, "worker") == 0) {
        snprintf(expr, sizeof expr, "w.name");
    } else if (strcmp(by, "host") == 0) {
        snprintf(expr, sizeof expr, "COALESCE(NULLIF(w.hostname, ''), w.name)");
    } else if (strncmp(by, "label:", 6) == 0 && by[6] && strlen(by + 6) <= 32 &&
               strspn(by + 6, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
                   strlen(by + 6)) {
        /* the key is checked above: it may stand in the SQL text */
        snprintf(expr, sizeof expr, "COALESCE((SELECT l.value FROM main.worker_labels l WHERE"
                 " l.run = w.run AND l.worker = w.name AND l.key = '%s'), '(no %s)')",
                 by + 6, by + 6);
    } else {
        snprintf(err, errlen, "--by '%s': expected platform, worker, host or label:KEY", by);
        return -1;
    }
    char sql[512];
    snprintf(sql, sizeof sql, "DROP VIEW IF EXISTS temp.lockstep_group;"
             "CREATE TEMP VIEW lockstep_group AS SELECT w.run AS run, w.name AS name, %s AS label"
             " FROM main.workers w", expr);
    if (s_exec(s, sql) != 0) {
        snprintf(err, errlen, "%s: cannot group by %s: %s", s->path, by, sqlite3_errmsg(s->db));
        return -1;
    }
    return 0;
}

/* Every connection reads labels through the default grouping until told. */
static store_t *s_grouped(store_t *s, char *err, size_t errlen)
{
    if (s && store_group_by(s, "platform", err, errlen) != 0)
        store_destroy(&s);
    return s;
}

void store_destroy(store_t **store_p)
{
    store_t *s = *store_p;
    if (!s)
        return;
    if (s->db)
        sqlite3_close(s->db);
    free(s->path);
    free(s);
    *store_p = NULL;
}

const char *store_path(const store_t *s) { return s->path; }
/* The last failure's message, with the operating system's reason when
 * there is one ("database or disk is full (No space left on device)"). */
const char *store_errmsg(const store_t *s)
{
    return s->errbuf[0] ? s->errbuf : sqlite3_errmsg(s->db);
}
sqlite3 *store_handle(store_t *s) { return s->db; }

/* Bind helpers (store_int.h): NULL text binds SQL NULL; ints of 0 stay 0. */
void store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

int store_step_done(store_t *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        store_note_error(s);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

sqlite3_stmt *store_prepare(store_t *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        store_note_error(s);
        return NULL;
    }
    return st;
}

/* Bind by a type string, one letter a value: i int64_t, n int, t text
 * (NULL binds SQL NULL), d double, z int64_t with 0 bound as SQL NULL. */
static void s_vbind(sqlite3_stmt *st, const char *types, va_list ap)
{
    for (int i = 1; *types; types++, i++) {
        switch (*types) {
        case 'i':
            sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
            break;
        case 'n':
            sqlite3_bind_int(st, i, va_arg(ap, int));
            break;
        case 't':
            store_bind_text(st, i, va_arg(ap, const char *));
            break;
        case 'd':
            sqlite3_bind_double(st, i, va_arg(ap, double));
            break;
        case 'z': {
            int64_t v = va_arg(ap, int64_t);
            if (v)
                sqlite3_bind_int64(st, i, v);
            else
                sqlite3_bind_null(st, i);
            break;
        }
        }
    }
}

sqlite3_stmt *store_query(store_t *s, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = store_prepare(s, sql);
    if (st) {
        va_list ap;
        va_start(ap, types);
        s_vbind(st, types, ap);
        va_end(ap);
    }
    return st;
}

int store_exec(store_t *s, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = store_prepare(s, sql);
    if (!st)
        return -1;
    va_list ap;
    va_start(ap, types);
    s_vbind(st, types, ap);
    va_end(ap);
    return store_step_done(s, st);
}

int store_phase_put(store_t *s, int64_t run, int idx, const char *name, const char *bench,
                    const char *schedule, int reps, const char *params_json,
                    const char *reference_for)
{
    sqlite3_stmt *st = store_query(s, "INSERT OR REPLACE INTO phases(run, idx, name, bench,"
                                      " schedule, reps, params, reference_for, headline_metric,"
                                      " headline_unit, paired) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                                   "intttntt", run, idx, name, bench, schedule, reps,
                                   params_json, reference_for);
    if (!st)
        return -1;
    s_bind_headline(st, 9, bench);
    return store_step_done(s, st);
}

int store_platform_conditions(store_t *s, int64_t run, const char *name,
                              const struct store_conditions *k)
{
    return store_exec(s, "UPDATE platforms SET cpus=?, cpu_list=?, memory=?, disk=?, network=?,"
                         " unenforced=? WHERE run=? AND name=?",
                      "ztzttt" "it", k->cpus, k->cpu_list, k->memory, k->disk, k->network,
                      k->unenforced, run, name);
}

int store_rep_order(store_t *s, int64_t run, int phase, int rep, const char *workers)
{
    return store_exec(s, "INSERT OR REPLACE INTO rep_order VALUES(?,?,?,?)", "innt", run, phase,
                      rep, workers);
}

int store_platform_put(store_t *s, int64_t run, const char *name, const char *kind,
                       const char *status, const char *detail, const char *what)
{
    /* an upsert: the conditions stored beside the status stay */
    return store_exec(s, "INSERT INTO platforms(run, name, kind, status, detail, what)"
                         " VALUES(?,?,?,?,?,?) ON CONFLICT(run, name) DO UPDATE SET"
                         " kind=excluded.kind, status=excluded.status, detail=excluded.detail,"
                         " what=excluded.what",
                      "ittttt", run, name, kind, status, detail, what);
}

int store_worker_clock(store_t *s, int64_t run, const char *name, int64_t offset_ns, int64_t err_ns)
{
    return store_exec(s, "UPDATE workers SET clock_offset_ns=?, clock_err_ns=? WHERE run=? AND name=?",
                      "iiit", offset_ns, err_ns, run, name);
}

static int s_result_rows(store_t *s, int64_t run, const struct store_result *r)
{
    /* A measured result supersedes the 'lost' row its worker got when it
     * was declared lost in the middle of that repetition (the result was
     * cut off by a partition, or waited in a stalled coordinator's socket);
     * the other rows of a repetition are never replaced. */
    if (strcmp(r->status, "lost") != 0 &&
        store_exec(s, "DELETE FROM results WHERE run=? AND phase=? AND rep=? AND worker=?"
                      " AND status='lost'", "iiit", run, (int64_t)r->phase, (int64_t)r->rep,
                   r->worker) != 0)
        return -1;
    sqlite3_stmt *st = store_prepare(
        s, "INSERT OR IGNORE INTO results VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st)
        return -1;
    for (size_t i = 0; i < r->nmetrics; i++) {
        const struct bench_metric *m = &r->metrics[i];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int(st, 2, r->phase);
        sqlite3_bind_int(st, 3, r->rep);
        store_bind_text(st, 4, r->worker);
        store_bind_text(st, 5, m->name);
        store_bind_text(st, 6, m->unit);
        if (strcmp(r->status, "ok") == 0)
            sqlite3_bind_double(st, 7, m->value);
        else
            sqlite3_bind_null(st, 7);
        store_bind_text(st, 8, r->status);
        store_bind_text(st, 9, r->error);
        sqlite3_bind_int64(st, 10, r->scheduled_at);
        sqlite3_bind_int64(st, 11, r->started_at);
        sqlite3_bind_int64(st, 12, r->finished_at);
        if (sqlite3_step(st) != SQLITE_DONE) {
            store_note_error(s);
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    st = store_prepare(s, "INSERT OR IGNORE INTO result_details VALUES(?,?,?,?,?,?)");
    if (!st)
        return -1;
    for (size_t i = 0; i < r->ndetails; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int(st, 2, r->phase);
        sqlite3_bind_int(st, 3, r->rep);
        store_bind_text(st, 4, r->worker);
        store_bind_text(st, 5, r->details[i].key);
        store_bind_text(st, 6, r->details[i].value);
        if (sqlite3_step(st) != SQLITE_DONE) {
            store_note_error(s);
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    return 0;
}

static bool s_busy(store_t *s)
{
    int e = sqlite3_errcode(s->db);
    return e == SQLITE_BUSY || e == SQLITE_LOCKED;
}

int store_batch_begin(store_t *s)
{
    if (s->batch)
        return 0;
    if (s_exec(s, "BEGIN IMMEDIATE"))
        return s_busy(s) ? STORE_BUSY : -1;
    s->batch = true;
    return 0;
}

int store_batch_commit(store_t *s)
{
    if (!s->batch)
        return 0;
    s->batch = false;
    if (s_exec(s, "COMMIT")) {
        bool busy = s_busy(s);
        s_exec(s, "ROLLBACK");
        return busy ? STORE_BUSY : -1;
    }
    return 0;
}

int store_result_put(store_t *s, int64_t run, const struct store_result *r)
{
    if (s->batch) { /* one result's rows: all or none, inside the batch */
        if (s_exec(s, "SAVEPOINT result"))
            return -1;
        if (s_result_rows(s, run, r)) {
            s_exec(s, "ROLLBACK TO result");
            s_exec(s, "RELEASE result");
            return -1;
        }
        return s_exec(s, "RELEASE result") ? -1 : 0;
    }
    if (s_exec(s, "BEGIN IMMEDIATE"))
        return s_busy(s) ? STORE_BUSY : -1;
    if (s_result_rows(s, run, r)) {
        bool busy = s_busy(s);
        s_exec(s, "ROLLBACK");
        return busy ? STORE_BUSY : -1;
    }
    if (s_exec(s, "COMMIT")) {
        bool busy = s_busy(s);
        s_exec(s, "ROLLBACK");
        return busy ? STORE_BUSY : -1;
    }
    return 0;
}

int store_rep_timing(store_t *s, int64_t run, int phase, int rep, int64_t go_at, int64_t skew_ns,
                     int64_t skew_err_ns)
{
    return store_exec(s, "INSERT OR REPLACE INTO rep_timing(run, phase, rep, go_at, skew_ns,"
                         " skew_err_ns) VALUES(?,?,?,?,?,?)",
                      "inniii", run, phase, rep, go_at, skew_ns, skew_err_ns);
}

int store_rep_cost(store_t *s, int64_t run, int phase, int rep, const struct store_rep_cost *rc)
{
    sqlite3_stmt *st = store_prepare(s, "UPDATE rep_timing SET barrier_ns=?, go_send_ns=?,"
                                    " collect_ns=?, coord_cpu_ns=?, skew_tolerance_ns=?,"
                                    " over_tolerance=? WHERE run=? AND phase=? AND rep=?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, rc->barrier_ns);
    sqlite3_bind_int64(st, 2, rc->go_send_ns);
    sqlite3_bind_int64(st, 3, rc->collect_ns);
    sqlite3_bind_int64(st, 4, rc->coord_cpu_ns);
    if (rc->skew_tolerance_ns > 0) {
        sqlite3_bind_int64(st, 5, rc->skew_tolerance_ns);
        sqlite3_bind_int(st, 6, rc->over_tolerance);
    } else {
        sqlite3_bind_null(st, 5);
        sqlite3_bind_null(st, 6);
    }
    sqlite3_bind_int64(st, 7, run);
    sqlite3_bind_int(st, 8, phase);
    sqlite3_bind_int(st, 9, rep);
    return store_step_done(s, st);
}

int store_clocks_put(store_t *s, int64_t run, const struct store_clock *v, size_t n)
{
    if (n == 0)
        return 0;
    if (s_exec(s, "BEGIN IMMEDIATE"))
        return s_busy(s) ? STORE_BUSY : -1;
    sqlite3_stmt *up = store_prepare(
        s, "UPDATE workers SET clock_offset_ns=?, clock_err_ns=? WHERE run=? AND name=?");
    sqlite3_stmt *ins = store_prepare(s, "INSERT OR REPLACE INTO clock_offsets VALUES(?,?,?,?,?,?)");
    int rc = up && ins ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        sqlite3_reset(up);
        sqlite3_bind_int64(up, 1, v[i].offset_ns);
        sqlite3_bind_int64(up, 2, v[i].err_ns);
        sqlite3_bind_int64(up, 3, run);
        store_bind_text(up, 4, v[i].worker);
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, run);
        store_bind_text(ins, 2, v[i].worker);
        sqlite3_bind_int64(ins, 3, v[i].n);
        sqlite3_bind_int64(ins, 4, v[i].at);
        sqlite3_bind_int64(ins, 5, v[i].offset_ns);
        sqlite3_bind_int64(ins, 6, v[i].err_ns);
        if (sqlite3_step(up) != SQLITE_DONE || sqlite3_step(ins) != SQLITE_DONE) {
            store_note_error(s);
            rc = -1;
        }
    }
    sqlite3_finalize(up);
    sqlite3_finalize(ins);
    if (rc != 0 || s_exec(s, "COMMIT")) {
        bool busy = s_busy(s);
        s_exec(s, "ROLLBACK");
        return busy ? STORE_BUSY : -1;
    }
    return 0;
}

int store_run_counts(store_t *s, int64_t run, int64_t *ok, int64_t *failed, int64_t *lost)
{
    /* counted per (phase, rep, worker), not per metric row */
    sqlite3_stmt *st = store_prepare(
        s, "SELECT status, COUNT(*) FROM (SELECT DISTINCT phase, rep, worker, status FROM results"
           " WHERE run=?) GROUP BY status");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, run);
    *ok = *failed = *lost = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(st, 0);
        int64_t n = sqlite3_column_int64(st, 1);
        if (status && strcmp(status, "ok") == 0)
            *ok = n;
        else if (status && strcmp(status, "failed") == 0)
            *failed = n;
        else
            *lost += n;
    }
    sqlite3_finalize(st);
    return 0;
}

int64_t store_last_run(store_t *s)
{
    sqlite3_stmt *st = store_prepare(s, "SELECT MAX(id) FROM runs");
    if (!st)
        return 0;
    int64_t id = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return id;
}
