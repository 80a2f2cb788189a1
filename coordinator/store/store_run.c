/* store_run.c — runs and their workers in the results database: a run's
 * beginning and end, who took part (with epochs and losses), and what a
 * coordinator resuming a run needs to know (store.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "store_int.h"

int64_t store_run_begin(store_t *s, const char *experiment, const char *file, const char *source,
                        int64_t started_at, const char *coordinator, int64_t *key_p)
{
    uint64_t key = 0;
    while (key == 0) {
        if (getrandom(&key, sizeof key, 0) != (ssize_t)sizeof key)
            sqlite3_randomness(sizeof key, &key);
        key &= (1ULL << 62) - 1;
    }
    *key_p = (int64_t)key;
    if (store_exec(s, "INSERT INTO runs(key, experiment, file, source, started_at, coordinator)"
                      " VALUES(?,?,?,?,?,?)",
                   "itttit", (int64_t)key, experiment, file, source, started_at, coordinator))
        return -1;
    return sqlite3_last_insert_rowid(s->db);
}

int store_run_end(store_t *s, int64_t run, const char *status, int64_t finished_at)
{
    return store_exec(s, "UPDATE runs SET status=?, finished_at=? WHERE id=?", "tii", status,
                      finished_at, run);
}

/* The worker's labels, replacing what an earlier admission stored. */
static int s_labels_put(store_t *s, int64_t run, const struct store_worker *w)
{
    if (store_exec(s, "DELETE FROM worker_labels WHERE run=? AND worker=?", "it", run, w->name))
        return -1;
    for (size_t i = 0; i < w->nlabels; i++) {
        const char *eq = strchr(w->labels[i], '=');
        if (!eq)
            continue;
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(eq - w->labels[i] < 63 ? eq - w->labels[i] : 63),
                 w->labels[i]);
        if (store_exec(s, "INSERT OR REPLACE INTO worker_labels VALUES(?,?,?,?)", "ittt", run,
                       w->name, key, eq + 1))
            return -1;
    }
    return 0;
}

int store_worker_put(store_t *s, int64_t run, const struct store_worker *w)
{
    if (s_labels_put(s, run, w) != 0)
        return -1;
    return store_exec(
        s, "INSERT INTO workers(run, name, rank, platform, hostname, kernel, cpu_model,"
           " cores, mem_bytes, pid, advertise, clock_offset_ns, clock_err_ns, joined_at,"
           " launched_as, epoch, detected, distro, disk_model)"
           " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
           /* a resumed run's worker: new facts, its history (status, loss,
            * when it first joined) kept */
           " ON CONFLICT(run, name) DO UPDATE SET rank=excluded.rank,"
           " platform=excluded.platform, hostname=excluded.hostname, kernel=excluded.kernel,"
           " cpu_model=excluded.cpu_model, cores=excluded.cores, mem_bytes=excluded.mem_bytes,"
           " pid=excluded.pid, advertise=excluded.advertise,"
           " clock_offset_ns=excluded.clock_offset_ns, clock_err_ns=excluded.clock_err_ns,"
           " launched_as=excluded.launched_as, epoch=excluded.epoch,"
           " detected=excluded.detected, distro=excluded.distro, disk_model=excluded.disk_model",
        "itnttttiiitiiitittt", run, w->name, w->rank, w->platform, w->hostname, w->kernel,
        w->cpu_model, w->cores, w->mem_bytes, w->pid, w->advertise, w->clock_offset_ns,
        w->clock_err_ns, w->joined_at, w->launched_as, w->epoch > 0 ? w->epoch : (int64_t)1,
        w->detected, w->distro, w->disk_model);
}

int store_worker_lost(store_t *s, int64_t run, const char *name, int64_t at, const char *reason,
                      const char *phase)
{
    return store_exec(s, "UPDATE workers SET status='lost', lost_at=?, lost_reason=?, lost_phase=?"
                         " WHERE run=? AND name=?",
                      "ittit", at, reason, phase, run, name);
}

int store_worker_absent(store_t *s, int64_t run, const char *name, int64_t at, const char *reason)
{
    return store_exec(s, "INSERT INTO workers(run, name, status, lost_at, lost_reason)"
                         " VALUES(?,?,'absent',?,?) ON CONFLICT(run, name) DO NOTHING",
                      "itit", run, name, at, reason);
}

int store_worker_rejoined(store_t *s, int64_t run, const char *name, int64_t epoch, int64_t at)
{
    return store_exec(s, "UPDATE workers SET status='rejoined', epoch=?, rejoined_at=?"
                         " WHERE run=? AND name=?",
                      "iiit", epoch, at, run, name);
}

static char *s_col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return strdup(t ? (const char *)t : "");
}

/* 0 and *ri filled from the first row of st (id, key, experiment, file,
 * source, status, coordinator, resumes), 1 without a row, -1 on error. */
static int s_run_row(sqlite3_stmt *st, struct store_run_info *ri)
{
    memset(ri, 0, sizeof *ri);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        ri->id = sqlite3_column_int64(st, 0);
        ri->key = sqlite3_column_int64(st, 1);
        ri->experiment = s_col_dup(st, 2);
        ri->file = s_col_dup(st, 3);
        ri->source = s_col_dup(st, 4);
        ri->status = s_col_dup(st, 5);
        ri->coordinator = s_col_dup(st, 6);
        ri->resumes = sqlite3_column_int64(st, 7);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return ri->experiment && ri->file && ri->source && ri->status && ri->coordinator ? 0 : -1;
    return rc == SQLITE_DONE ? 1 : -1;
}

#define RUN_COLUMNS "id, key, experiment, file, source, status, coordinator, resumes"

int store_run_get(store_t *s, int64_t run, struct store_run_info *ri)
{
    sqlite3_stmt *st = store_query(s, "SELECT " RUN_COLUMNS " FROM runs WHERE id=?", "i", run);
    return st ? s_run_row(st, ri) : -1;
}

int store_run_unfinished(store_t *s, const char *experiment, struct store_run_info *ri)
{
    sqlite3_stmt *st = store_query(s, "SELECT " RUN_COLUMNS " FROM runs WHERE experiment=? AND"
                                      " status='running' ORDER BY id DESC LIMIT 1",
                                   "t", experiment);
    return st ? s_run_row(st, ri) : -1;
}

void store_run_info_free(struct store_run_info *ri)
{
    free(ri->experiment);
    free(ri->file);
    free(ri->source);
    free(ri->status);
    free(ri->coordinator);
    memset(ri, 0, sizeof *ri);
}

int store_run_resume(store_t *s, int64_t run, const char *coordinator)
{
    return store_exec(s, "UPDATE runs SET status='running', finished_at=NULL, coordinator=?,"
                         " resumes=resumes+1 WHERE id=?",
                      "ti", coordinator, run);
}

int store_run_workers(store_t *s, int64_t run,
                      void (*fn)(const char *name, int64_t epoch, bool lost, void *arg), void *arg)
{
    sqlite3_stmt *st = store_query(s, "SELECT name, epoch, status FROM workers WHERE run=?"
                                      " ORDER BY name", "i", run);
    if (!st)
        return -1;
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(st, 2);
        fn((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
           status && strcmp(status, "lost") == 0, arg);
        n++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -1;
}

int store_run_last_phase(store_t *s, int64_t run)
{
    sqlite3_stmt *st = store_query(s, "SELECT MAX(idx) FROM phases WHERE run=?", "i", run);
    if (!st)
        return -2;
    int idx = -2;
    if (sqlite3_step(st) == SQLITE_ROW)
        idx = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return idx;
}

int store_rep_workers(store_t *s, int64_t run, int phase, int rep,
                      void (*fn)(const char *name, void *arg), void *arg)
{
    sqlite3_stmt *st = store_query(s, "SELECT DISTINCT worker FROM results WHERE run=? AND"
                                      " phase=? AND rep=?", "inn", run, phase, rep);
    if (!st)
        return -1;
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fn((const char *)sqlite3_column_text(st, 0), arg);
        n++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -1;
}
