/* export_details.c — result details out of the database (see
 * export_details.h): long CSV, one row per detail, or JSON with each
 * result's metrics and details nested in one object. */
#include "export_details.h"

#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "store_int.h"

static const char *s_col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int s_csv_details(store_t *s, int64_t run, FILE *out)
{
    sqlite3_stmt *st = store_query(s, "SELECT d.run, p.name, p.bench, d.rep, d.worker,"
                                      " w.platform, d.key, d.value FROM result_details d"
                                      " JOIN phases p ON p.run = d.run AND p.idx = d.phase"
                                      " LEFT JOIN workers w ON w.run = d.run"
                                      " AND w.name = d.worker WHERE (?1 <= 0 OR d.run = ?1)"
                                      " ORDER BY d.run, d.phase, d.rep, w.rank, d.worker, d.key",
                                   "i", run);
    if (!st)
        return -1;
    fputs("run,phase,bench,rep,worker,platform,key,value\n", out);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fprintf(out, "%" PRId64 ",", (int64_t)sqlite3_column_int64(st, 0));
        export_csv_field(out, s_col(st, 1));
        fputc(',', out);
        export_csv_field(out, s_col(st, 2));
        fprintf(out, ",%d,", sqlite3_column_int(st, 3));
        for (int i = 4; i < 8; i++) {
            export_csv_field(out, s_col(st, i));
            fputc(i < 7 ? ',' : '\n', out);
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* JSON: walk the results (one per run, phase, rep, worker), each with its
 * metrics, then its details. */
static int s_json_details(store_t *s, int64_t run, FILE *out)
{
    sqlite3 *db = store_handle(s);
    sqlite3_stmt *keys = NULL, *mets = NULL, *dets = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db,
                           "SELECT k.run, k.phase, p.name, p.bench, k.rep, k.worker, w.platform,"
                           " (SELECT MIN(status) FROM results r WHERE r.run = k.run AND"
                           "  r.phase = k.phase AND r.rep = k.rep AND r.worker = k.worker),"
                           " (SELECT MAX(error) FROM results r WHERE r.run = k.run AND"
                           "  r.phase = k.phase AND r.rep = k.rep AND r.worker = k.worker)"
                           " FROM (SELECT run, phase, rep, worker FROM results"
                           "       UNION SELECT run, phase, rep, worker FROM result_details) k"
                           " JOIN phases p ON p.run = k.run AND p.idx = k.phase"
                           " LEFT JOIN workers w ON w.run = k.run AND w.name = k.worker"
                           " WHERE (?1 <= 0 OR k.run = ?1)"
                           " ORDER BY k.run, k.phase, k.rep, w.rank, k.worker",
                           -1, &keys, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT metric, unit, value FROM results WHERE run = ? AND phase = ?"
                           " AND rep = ? AND worker = ? ORDER BY metric",
                           -1, &mets, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT key, value FROM result_details WHERE run = ? AND phase = ?"
                           " AND rep = ? AND worker = ? ORDER BY key",
                           -1, &dets, NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_int64(keys, 1, run);
    fputs("[", out);
    int n = 0, krc;
    while ((krc = sqlite3_step(keys)) == SQLITE_ROW) {
        fprintf(out, "%s\n  {\"run\": %" PRId64 ", \"phase\": ", n++ ? "," : "",
                (int64_t)sqlite3_column_int64(keys, 0));
        export_json_str(out, s_col(keys, 2));
        fputs(", \"bench\": ", out);
        export_json_str(out, s_col(keys, 3));
        fprintf(out, ", \"rep\": %d, \"worker\": ", sqlite3_column_int(keys, 4));
        export_json_str(out, s_col(keys, 5));
        fputs(", \"platform\": ", out);
        export_json_str(out, s_col(keys, 6));
        fputs(", \"status\": ", out);
        export_json_str(out, s_col(keys, 7));
        fputs(", \"error\": ", out);
        export_json_str(out, s_col(keys, 8));
        sqlite3_stmt *sub[2] = { mets, dets };
        for (int k = 0; k < 2; k++) {
            sqlite3_reset(sub[k]);
            sqlite3_bind_int64(sub[k], 1, sqlite3_column_int64(keys, 0));
            sqlite3_bind_int(sub[k], 2, sqlite3_column_int(keys, 1));
            sqlite3_bind_int(sub[k], 3, sqlite3_column_int(keys, 4));
            sqlite3_bind_text(sub[k], 4, s_col(keys, 5), -1, SQLITE_TRANSIENT);
        }
        /* metrics, then their units, in one pass each */
        for (int pass = 0; pass < 2; pass++) {
            fputs(pass ? ", \"units\": {" : ", \"metrics\": {", out);
            sqlite3_reset(mets);
            int m = 0;
            while (sqlite3_step(mets) == SQLITE_ROW) {
                fputs(m++ ? ", " : "", out);
                export_json_str(out, s_col(mets, 0));
                fputs(": ", out);
                if (pass)
                    export_json_str(out, s_col(mets, 1));
                else if (sqlite3_column_type(mets, 2) == SQLITE_NULL ||
                         !isfinite(sqlite3_column_double(mets, 2)))
                    fputs("null", out);
                else
                    fprintf(out, "%.17g", sqlite3_column_double(mets, 2));
            }
            fputs("}", out);
        }
        fputs(", \"details\": {", out);
        int d = 0;
        while (sqlite3_step(dets) == SQLITE_ROW) {
            fputs(d++ ? ", " : "", out);
            export_json_str(out, s_col(dets, 0));
            fputs(": ", out);
            export_json_str(out, s_col(dets, 1));
        }
        fputs("}}", out);
    }
    fputs(n ? "\n]\n" : "]\n", out);
    rc = krc == SQLITE_DONE ? 0 : -1;
done:
    sqlite3_finalize(keys);
    sqlite3_finalize(mets);
    sqlite3_finalize(dets);
    return rc;
}

int store_export_details(store_t *s, int64_t run, export_format_t fmt, FILE *out, char *err,
                         size_t errlen)
{
    int rc = fmt == EXPORT_CSV ? s_csv_details(s, run, out) : s_json_details(s, run, out);
    if (rc)
        snprintf(err, errlen, "%s: %s", store_path(s), store_errmsg(s));
    return rc;
}
