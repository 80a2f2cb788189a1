/* store_int.h — what the store's source files share (store.c: schema,
 * results, batches; store_run.c: runs and workers, resuming; export*.c and
 * report_query.c: reading back).  Not for the rest of the coordinator, which
 * goes through store.h and report_query.h: SQL stays under store/. */
#ifndef LOCKSTEP_STORE_INT_H
#define LOCKSTEP_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "store.h"

struct store {
    sqlite3 *db;
    char *path;
    bool batch;       /* inside store_batch_begin .. store_batch_commit */
    char errbuf[512]; /* store_errmsg's */
};

/* The SQLite handle, for the store's own files (and the tests). */
sqlite3 *store_handle(store_t *s);
/* A prepared statement, or NULL (the error is in store_errmsg). */
sqlite3_stmt *store_prepare(store_t *s, const char *sql);
/* Bind text, or SQL NULL for a NULL pointer. */
void store_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Prepare sql and bind values by types, one letter a value: i int64_t,
 * n int, t text (NULL binds SQL NULL), d double, z int64_t with 0 bound as
 * SQL NULL.  The statement, or NULL. */
sqlite3_stmt *store_query(store_t *s, const char *sql, const char *types, ...);
/* The same for a statement that returns no row, stepped and finalized:
 * 0, or -1 (store_errmsg says why). */
int store_exec(store_t *s, const char *sql, const char *types, ...);
/* Remember the current SQLite error (with errno's text) for store_errmsg. */
void store_note_error(store_t *s);
/* Step a statement that returns no row, and finalize it: 0 or -1. */
int store_step_done(store_t *s, sqlite3_stmt *st);

/* ---- the SQL of grouping and platform order (store.c, export*.c, report_query.c) ---- */

/* SQL ordering of a platform column: the course's Native, Docker, KVM, QEMU
 * first, then any other by name. */
#define EXPORT_PLATFORM_ORDER(col)                                                           \
    "CASE " col " WHEN 'native' THEN 0 WHEN 'docker' THEN 1 WHEN 'kvm' THEN 2"               \
    " WHEN 'qemu' THEN 3 ELSE 4 END, " col

/* The platform a worker's results are grouped and labelled by, as SQL over
 * a workers row w: for a worker `--platforms` launched, the platform
 * entry's name (the worker's name; launched_as holds its kind); for one
 * that joined by itself, the platform it declares.  Its own detection
 * (w.platform) never merges two launched platforms. */
#define EXPORT_PLATFORM_LABEL(w)                                                             \
    "(SELECT g.label FROM temp.lockstep_group g WHERE g.run = " w ".run AND g.name = " w ".name)"
/* That label by default (--by platform); store_group_by chooses another. */
#define EXPORT_PLATFORM_DEFAULT(w)                                                           \
    "(CASE WHEN " w ".launched_as IS NOT NULL AND " w ".launched_as <> '' THEN " w ".name"   \
    " ELSE " w ".platform END)"
/* Its kind (native, docker, kvm, qemu, …): what it was launched as, else declared. */
#define EXPORT_PLATFORM_KIND(w) "COALESCE(NULLIF(" w ".launched_as, ''), " w ".platform)"

#endif
