/* export.c — results out of the database in the long format, one row per
 * (run, phase, rep, worker, metric): CSV with the fixed header
 * run,phase,bench,rep,worker,platform,metric,unit,value,status — or JSON. */
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static const char *s_query =
    "SELECT r.run, p.name, p.bench, r.rep, r.worker, w.platform, r.metric, r.unit, r.value,"
    " r.status, r.error, r.started_at, r.finished_at"
    " FROM results r"
    " JOIN phases p ON p.run = r.run AND p.idx = r.phase"
    " LEFT JOIN workers w ON w.run = r.run AND w.name = r.worker"
    " WHERE (?1 <= 0 OR r.run = ?1)"
    " ORDER BY r.run, r.phase, r.rep, w.rank, r.worker, r.metric";

/* RFC 4180: quote a field only when it holds a comma, quote or line break. */
static void s_csv_field(FILE *out, const char *v)
{
    if (!v)
        return;
    if (!strpbrk(v, ",\"\r\n")) {
        fputs(v, out);
        return;
    }
    fputc('"', out);
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

static void s_json_str(FILE *out, const char *v)
{
    if (!v) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* The shortest text that reads back as the same double. */
static void s_value(FILE *out, sqlite3_stmt *st, int col, const char *null_text)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        fputs(null_text, out);
        return;
    }
    double v = sqlite3_column_double(st, col);
    if (!isfinite(v)) {
        fputs(null_text, out);
        return;
    }
    char buf[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, out);
}

int store_export(store_t *s, int64_t run, export_format_t fmt, FILE *out, char *err,
                 size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store_handle(s), s_query, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", store_path(s), store_errmsg(s));
        return -1;
    }
    sqlite3_bind_int64(st, 1, run);
    if (fmt == EXPORT_CSV)
        fputs("run,phase,bench,rep,worker,platform,metric,unit,value,status\n", out);
    else
        fputs("[", out);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t[13];
        for (int i = 0; i < 13; i++)
            t[i] = (const char *)sqlite3_column_text(st, i);
        if (fmt == EXPORT_CSV) {
            fprintf(out, "%" PRId64 ",", (int64_t)sqlite3_column_int64(st, 0));
            s_csv_field(out, t[1]);
            fputc(',', out);
            s_csv_field(out, t[2]);
            fprintf(out, ",%d,", sqlite3_column_int(st, 3));
            s_csv_field(out, t[4]);
            fputc(',', out);
            s_csv_field(out, t[5]);
            fputc(',', out);
            s_csv_field(out, t[6]);
            fputc(',', out);
            s_csv_field(out, t[7]);
            fputc(',', out);
            s_value(out, st, 8, "");
            fputc(',', out);
            s_csv_field(out, t[9]);
            fputc('\n', out);
        } else {
            fprintf(out, "%s\n  {\"run\": %" PRId64 ", \"phase\": ", n ? "," : "",
                    (int64_t)sqlite3_column_int64(st, 0));
            s_json_str(out, t[1]);
            fputs(", \"bench\": ", out);
            s_json_str(out, t[2]);
            fprintf(out, ", \"rep\": %d, \"worker\": ", sqlite3_column_int(st, 3));
            s_json_str(out, t[4]);
            fputs(", \"platform\": ", out);
            s_json_str(out, t[5]);
            fputs(", \"metric\": ", out);
            s_json_str(out, t[6]);
            fputs(", \"unit\": ", out);
            s_json_str(out, t[7]);
            fputs(", \"value\": ", out);
            s_value(out, st, 8, "null");
            fputs(", \"status\": ", out);
            s_json_str(out, t[9]);
            fputs(", \"error\": ", out);
            s_json_str(out, t[10]);
            fprintf(out, ", \"started_at\": %" PRId64 ", \"finished_at\": %" PRId64 "}",
                    (int64_t)sqlite3_column_int64(st, 11), (int64_t)sqlite3_column_int64(st, 12));
        }
        n++;
    }
    if (fmt == EXPORT_JSON)
        fputs(n ? "\n]\n" : "]\n", out);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: %s", store_path(s), store_errmsg(s));
        return -1;
    }
    return 0;
}

int store_summary(store_t *s, int64_t run, FILE *out)
{
    sqlite3 *db = store_handle(s);
    sqlite3_stmt *ph = NULL, *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT idx, name, bench FROM phases WHERE run=? ORDER BY idx", -1,
                           &ph, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT r.worker, COUNT(r.value), AVG(r.value), r.unit,"
                           " SUM(r.status != 'ok') FROM results r"
                           " LEFT JOIN workers w ON w.run = r.run AND w.name = r.worker"
                           " WHERE r.run=? AND r.phase=? AND r.metric=?"
                           " GROUP BY r.worker ORDER BY w.rank, r.worker",
                           -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(ph);
        return -1;
    }
    sqlite3_bind_int64(ph, 1, run);
    fprintf(out, "  %-20s %-8s %-16s %-16s %4s %14s\n", "phase", "bench", "metric", "worker", "n",
            "mean");
    while (sqlite3_step(ph) == SQLITE_ROW) {
        const char *pname = (const char *)sqlite3_column_text(ph, 1);
        const char *bname = (const char *)sqlite3_column_text(ph, 2);
        const struct bench_ops *ops = bench_find(bname ? bname : "");
        if (!ops)
            continue;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int(st, 2, sqlite3_column_int(ph, 0));
        sqlite3_bind_text(st, 3, ops->metric, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            fprintf(out, "  %-20s %-8s %-16s %-16s %4d %14.6g %s", pname, bname, ops->metric,
                    (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1),
                    sqlite3_column_double(st, 2), (const char *)sqlite3_column_text(st, 3));
            int bad = sqlite3_column_int(st, 4);
            if (bad)
                fprintf(out, " (%d not ok)", bad);
            fputc('\n', out);
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(ph);
    return 0;
}
