/* export.c — results out of the database in the long format, one row per
 * (run, phase, rep, worker, metric): CSV with the fixed header
 * run,phase,bench,rep,worker,platform,metric,unit,value,status — or JSON
 * (platform: what the worker was launched as, as the report groups it);
 * and the course's wide CSV, one row per worker and repetition. */
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "export.h"
#include "store.h"
#include "store_int.h"

static const char *s_query =
    "SELECT r.run, p.name, p.bench, r.rep, r.worker, " EXPORT_PLATFORM_LABEL("w") ","
    " r.metric, r.unit, r.value,"
    " r.status, r.error, r.started_at, r.finished_at"
    " FROM results r"
    " JOIN phases p ON p.run = r.run AND p.idx = r.phase"
    " LEFT JOIN workers w ON w.run = r.run AND w.name = r.worker"
    " WHERE (?1 <= 0 OR r.run = ?1)"
    " ORDER BY r.run, r.phase, r.rep, w.rank, r.worker, r.metric";

void export_csv_field(FILE *out, const char *v)
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

void export_json_str(FILE *out, const char *v)
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
static void s_double(FILE *out, double v)
{
    char buf[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, out);
}

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
    s_double(out, v);
}

/* The long format's fields, in s_query's column order: i int64, n int,
 * t text, v value; the CSV has the first ten, JSON all. */
static const struct {
    const char *name;
    char type;
} s_fields[] = {
    { "run", 'i' },    { "phase", 't' },  { "bench", 't' },      { "rep", 'n' },
    { "worker", 't' }, { "platform", 't' }, { "metric", 't' },   { "unit", 't' },
    { "value", 'v' },  { "status", 't' },  { "error", 't' },      { "started_at", 'i' },
    { "finished_at", 'i' },
};
#define CSV_NFIELDS 10
#define JSON_NFIELDS (sizeof s_fields / sizeof s_fields[0])

/* One row: CSV fields, or a JSON object's members. */
static void s_row(FILE *out, sqlite3_stmt *st, export_format_t fmt)
{
    bool csv = fmt == EXPORT_CSV;
    size_t n = csv ? CSV_NFIELDS : JSON_NFIELDS;
    for (size_t i = 0; i < n; i++) {
        const char *t = (const char *)sqlite3_column_text(st, (int)i);
        if (csv && i)
            fputc(',', out);
        else if (!csv)
            fprintf(out, "%s\"%s\": ", i ? ", " : "{", s_fields[i].name);
        switch (s_fields[i].type) {
        case 'i':
            fprintf(out, "%" PRId64, (int64_t)sqlite3_column_int64(st, (int)i));
            break;
        case 'n':
            fprintf(out, "%d", sqlite3_column_int(st, (int)i));
            break;
        case 'v':
            s_value(out, st, (int)i, csv ? "" : "null");
            break;
        default:
            (csv ? export_csv_field : export_json_str)(out, t);
        }
    }
    fputs(csv ? "\n" : "}", out);
}

int store_export(store_t *s, int64_t run, export_format_t fmt, FILE *out, char *err,
                 size_t errlen)
{
    sqlite3_stmt *st = store_query(s, s_query, "i", run);
    if (!st) {
        snprintf(err, errlen, "%s: %s", store_path(s), store_errmsg(s));
        return -1;
    }
    for (size_t i = 0; fmt == EXPORT_CSV && i < CSV_NFIELDS; i++)
        fprintf(out, "%s%s", s_fields[i].name, i + 1 < CSV_NFIELDS ? "," : "\n");
    if (fmt == EXPORT_JSON)
        fputs("[", out);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (fmt == EXPORT_JSON)
            fputs(n ? ",\n  " : "\n  ", out);
        s_row(out, st, fmt);
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
    /* a phase whose headline was unknown when it ran (metric NULL) has no line */
    if (sqlite3_prepare_v2(db, "SELECT idx, name, bench, headline_metric FROM phases WHERE run=?"
                           " AND headline_metric IS NOT NULL ORDER BY idx", -1, &ph, NULL) != SQLITE_OK ||
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
        const char *metric = (const char *)sqlite3_column_text(ph, 3);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int(st, 2, sqlite3_column_int(ph, 0));
        sqlite3_bind_text(st, 3, metric, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            fprintf(out, "  %-20s %-8s %-16s %-16s %4d %14.6g %s", pname, bname, metric,
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

int export_platform_cmp(const char *a, const char *b)
{
    static const char *const known[] = { "native", "docker", "kvm", "qemu" };
    int ra = 4, rb = 4;
    for (int i = 0; i < 4; i++) {
        if (a && strcmp(a, known[i]) == 0)
            ra = i;
        if (b && strcmp(b, known[i]) == 0)
            rb = i;
    }
    if (ra != rb)
        return ra - rb;
    return strcmp(a ? a : "", b ? b : "");
}

int export_phase_metric(store_t *s, int64_t run, int phase, char *buf, size_t len)
{
    /* the headline as stored with the phase (schema 6; NULL: unknown when
     * it ran), and the metrics in the order they were first stored, with
     * how many values */
    sqlite3_stmt *st = store_query(
        s, "SELECT r.metric, COUNT(r.value), r.metric = p.headline_metric FROM results r"
           " LEFT JOIN phases p ON p.run = r.run AND p.idx = r.phase"
           " WHERE r.run=? AND r.phase=? GROUP BY r.metric ORDER BY MIN(r.rowid)",
        "in", run, phase);
    if (!st)
        return -1;
    /* best first: the headline with values, another metric with values (exec's
     * own name; its failures are stored under the headline), the headline
     * without values, anything */
    int best = 5;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        bool values = sqlite3_column_int64(st, 1) > 0;
        bool headline = sqlite3_column_int(st, 2) == 1;
        int rank = headline && values ? 1 : values && m && strcmp(m, "time_s") != 0 ? 2
                   : headline ? 3 : 4;
        if (m && rank < best) {
            best = rank;
            snprintf(buf, len, "%s", m);
        }
    }
    sqlite3_finalize(st);
    return best < 5 ? 0 : -1;
}

/* The course's columns and the benchmark each stands for. */
static const struct {
    const char *col, *bench;
} s_wide_cols[] = {
    { "cpu", "cpu" },         { "mem", "mem" },   { "diskRand", "disk_rand" },
    { "diskSeq", "disk_seq" }, { "fork", "fork" }, { "uplink", "iperf" },
};
#define WIDE_NCOLS (sizeof s_wide_cols / sizeof s_wide_cols[0])

struct wide_phase {
    int idx;
    char name[129], bench[64];
};

/* Which phase fills column c: the one of that name (exactly, else ignoring
 * case), else the only phase of the column's benchmark whose name is not
 * another column's.  -1 when none or ambiguous. */
static int s_wide_phase(const struct wide_phase *ph, size_t n, size_t c)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ph[i].name, s_wide_cols[c].col) == 0)
            return (int)i;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(ph[i].name, s_wide_cols[c].col) == 0)
            return (int)i;
    int found = -1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ph[i].bench, s_wide_cols[c].bench) != 0)
            continue;
        bool other = false;
        for (size_t k = 0; k < WIDE_NCOLS; k++)
            other |= k != c && strcasecmp(ph[i].name, s_wide_cols[k].col) == 0;
        if (other)
            continue;
        if (found >= 0)
            return -1;
        found = (int)i;
    }
    return found;
}

static void s_wide_row(FILE *out, const char *platform, int64_t first, const double *v,
                       const bool *has)
{
    export_csv_field(out, platform ? platform : "");
    fputc(',', out);
    if (first > 0) {
        time_t t = (time_t)(first / 1000000000);
        struct tm tm;
        char when[32];
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        fputs(when, out);
    }
    for (size_t c = 0; c < WIDE_NCOLS; c++) {
        fputc(',', out);
        if (has[c])
            s_double(out, v[c]);
    }
    fputc('\n', out);
}

/* The run's phases, for choosing the columns: 0 or -1. */
static int s_wide_phases(store_t *s, int64_t run, struct wide_phase **ph_p, size_t *n_p)
{
    sqlite3_stmt *st = store_query(s, "SELECT idx, name, bench FROM phases WHERE run=?"
                                      " ORDER BY idx", "i", run);
    if (!st)
        return -1;
    struct wide_phase *ph = NULL;
    size_t nph = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct wide_phase *p = realloc(ph, (nph + 1) * sizeof *ph);
        if (!p)
            break;
        ph = p;
        ph[nph].idx = sqlite3_column_int(st, 0);
        snprintf(ph[nph].name, sizeof ph[nph].name, "%s", sqlite3_column_text(st, 1));
        snprintf(ph[nph].bench, sizeof ph[nph].bench, "%s", sqlite3_column_text(st, 2));
        nph++;
    }
    sqlite3_finalize(st);
    *ph_p = ph;
    *n_p = nph;
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Which phase and metric fill each column (colphase -1: none). */
struct wide_cols {
    int colphase[WIDE_NCOLS];
    char metric[WIDE_NCOLS][48];
};

/* One query over every (phase, metric) that fills a column, ordered so
 * that a worker's repetition is consecutive rows. */
static sqlite3_stmt *s_wide_query(store_t *s, int64_t run, const struct wide_phase *ph,
                                  size_t nph, struct wide_cols *wc)
{
    char sql[2048];
    size_t off = (size_t)snprintf(
        sql, sizeof sql,
        "SELECT r.worker, " EXPORT_PLATFORM_LABEL("w") ", r.rep, r.phase, r.value,"
        " r.started_at FROM results r"
        " LEFT JOIN workers w ON w.run = r.run AND w.name = r.worker WHERE r.run = ?1 AND (0");
    for (size_t c = 0; c < WIDE_NCOLS; c++) {
        int i = s_wide_phase(ph, nph, c);
        wc->colphase[c] = -1;
        if (i < 0 ||
            export_phase_metric(s, run, ph[i].idx, wc->metric[c], sizeof wc->metric[c]) != 0)
            continue;
        wc->colphase[c] = ph[i].idx;
        off += (size_t)snprintf(sql + off, sizeof sql - off,
                                " OR (r.phase = %d AND r.metric = ?%zu)", ph[i].idx, c + 2);
    }
    snprintf(sql + off, sizeof sql - off,
             ") ORDER BY " EXPORT_PLATFORM_ORDER(EXPORT_PLATFORM_KIND("w")) ", "
             EXPORT_PLATFORM_LABEL("w") ", w.rank, r.worker, r.rep");
    sqlite3_stmt *st = store_query(s, sql, "i", run);
    for (size_t c = 0; st && c < WIDE_NCOLS; c++)
        if (wc->colphase[c] >= 0)
            sqlite3_bind_text(st, (int)c + 2, wc->metric[c], -1, SQLITE_STATIC);
    return st;
}

/* The rows: one per worker and repetition, a column per phase. */
static int s_wide_rows(FILE *out, sqlite3_stmt *st, const struct wide_cols *wc)
{
    char worker[256] = "", platform[256] = "";
    int rep = -1;
    bool open_row = false, has[WIDE_NCOLS] = { false };
    double v[WIDE_NCOLS] = { 0 };
    int64_t first = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *w = (const char *)sqlite3_column_text(st, 0);
        const char *p = (const char *)sqlite3_column_text(st, 1);
        int r = sqlite3_column_int(st, 2), phase = sqlite3_column_int(st, 3);
        if (!open_row || r != rep || strcmp(w ? w : "", worker) != 0) {
            if (open_row)
                s_wide_row(out, platform, first, v, has);
            snprintf(worker, sizeof worker, "%s", w ? w : "");
            snprintf(platform, sizeof platform, "%s", p ? p : "");
            rep = r;
            first = 0;
            memset(has, 0, sizeof has);
            open_row = true;
        }
        int64_t started = sqlite3_column_int64(st, 5);
        if (started > 0 && (first == 0 || started < first))
            first = started;
        for (size_t c = 0; c < WIDE_NCOLS; c++) {
            if (wc->colphase[c] != phase || sqlite3_column_type(st, 4) == SQLITE_NULL)
                continue;
            v[c] = sqlite3_column_double(st, 4);
            has[c] = isfinite(v[c]);
        }
    }
    if (open_row)
        s_wide_row(out, platform, first, v, has);
    return step == SQLITE_DONE ? 0 : -1;
}

int store_export_wide(store_t *s, int64_t run, FILE *out, char *err, size_t errlen)
{
    struct wide_phase *ph = NULL;
    size_t nph = 0;
    struct wide_cols wc;
    sqlite3_stmt *st = NULL;
    fputs("platform,time", out);
    for (size_t c = 0; c < WIDE_NCOLS; c++)
        fprintf(out, ",%s", s_wide_cols[c].col);
    fputc('\n', out);
    int rc = s_wide_phases(s, run, &ph, &nph);
    if (rc == 0)
        st = s_wide_query(s, run, ph, nph, &wc);
    if (rc == 0)
        rc = st ? s_wide_rows(out, st, &wc) : -1;
    if (rc)
        snprintf(err, errlen, "%s: %s", store_path(s), store_errmsg(s));
    sqlite3_finalize(st);
    free(ph);
    return rc;
}
