/* report_calib.c — calibration: a phase that runs a reference tool (an
 * `exec` of sysbench, fio, iperf3, forksum, …) names in phases.reference_for
 * the built-in phase it checks (schema 5).  Per platform, the built-in's
 * headline metric is divided by the reference's metric repetition by
 * repetition (paired by worker and repetition number, which interleaved
 * repetitions keep close in time); the ratios are summarised by their
 * geometric mean with a 95 % t-interval on the logarithms (min–max below 3
 * pairs), and a pair outside 1 ± CAL_TOLERANCE is flagged OFF. */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/export.h"
#include "report.h"

static const struct rphase *s_phase_named(const report_t *r, const char *name)
{
    for (size_t i = 0; i < r->nphases; i++)
        if (strcmp(r->phases[i].name, name) == 0)
            return &r->phases[i];
    /* else the only phase of that benchmark */
    const struct rphase *found = NULL;
    for (size_t i = 0; i < r->nphases; i++)
        if (strcmp(r->phases[i].bench, name) == 0) {
            if (found)
                return NULL;
            found = &r->phases[i];
        }
    return found;
}

static const struct rphase *s_phase_idx(const report_t *r, int idx)
{
    for (size_t i = 0; i < r->nphases; i++)
        if (r->phases[i].idx == idx)
            return &r->phases[i];
    return NULL;
}

static struct rcal *s_cal(report_t *r, const struct rphase *b, const struct rphase *x,
                          const char *platform)
{
    struct rcal *c = realloc(r->cals, (r->ncals + 1) * sizeof *c);
    if (!c)
        return NULL;
    r->cals = c;
    c = &r->cals[r->ncals++];
    memset(c, 0, sizeof *c);
    c->platform = strdup(platform);
    c->builtin = strdup(b->name);
    c->reference = strdup(x->name);
    c->bmetric = strdup(b->metric);
    c->rmetric = strdup(x->metric);
    c->bunit = strdup(b->unit);
    c->runit = strdup(x->unit);
    c->units_differ = b->unit[0] && x->unit[0] && strcmp(b->unit, x->unit) != 0;
    c->gmean = c->lo = c->hi = NAN;
    for (size_t g = 0; g < b->ngroups; g++)
        if (strcmp(b->groups[g].platform, platform) == 0)
            c->b = b->groups[g].st;
    stats_compute(NULL, 0, &c->r);
    for (size_t g = 0; g < x->ngroups; g++)
        if (strcmp(x->groups[g].platform, platform) == 0)
            c->r = x->groups[g].st;
    return c;
}

/* The geometric mean of the ratios and its spread. */
static void s_summarise(struct rcal *c, const double *ratio, size_t n)
{
    c->n = n;
    if (n == 0 || c->units_differ)
        return;
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        sum += log(ratio[i]);
        lo = ratio[i] < lo ? ratio[i] : lo;
        hi = ratio[i] > hi ? ratio[i] : hi;
    }
    double m = sum / (double)n;
    c->gmean = exp(m);
    if (n < 3) {
        c->lo = lo;
        c->hi = hi;
        return;
    }
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (log(ratio[i]) - m) * (log(ratio[i]) - m);
    double half = stats_t975(n - 1) * sqrt(ss / (double)(n - 1)) / sqrt((double)n);
    c->lo = exp(m - half);
    c->hi = exp(m + half);
    c->t_interval = true;
}

static void s_off(struct rcal *c, const char *worker, int rep, double ratio)
{
    struct rcal_off *o = realloc(c->off, (c->noff + 1) * sizeof *o);
    if (!o)
        return;
    c->off = o;
    o = &c->off[c->noff++];
    o->worker = strdup(worker);
    o->rep = rep;
    o->ratio = ratio;
}

/* Every platform of the built-in phase b against reference phase x. */
static int s_pairs(store_t *s, report_t *r, const struct rphase *b, const struct rphase *x)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(
            store_handle(s),
            "SELECT b.worker, b.rep, b.value, x.value FROM results b"
            " JOIN results x ON x.run = b.run AND x.worker = b.worker AND x.rep = b.rep"
            " AND x.phase = ?4 AND x.metric = ?5 AND x.status = 'ok' AND x.value IS NOT NULL"
            " LEFT JOIN workers w ON w.run = b.run AND w.name = b.worker"
            " WHERE b.run = ?1 AND b.phase = ?2 AND b.metric = ?3 AND b.status = 'ok'"
            " AND b.value IS NOT NULL"
            " AND COALESCE(" EXPORT_PLATFORM_LABEL("w") ", 'unknown') = ?6"
            " ORDER BY w.rank, b.worker, b.rep",
            -1, &st, NULL) != SQLITE_OK)
        return -1;
    for (size_t g = 0; g < b->ngroups; g++) {
        struct rcal *c = s_cal(r, b, x, b->groups[g].platform);
        if (!c)
            break;
        double *ratio = malloc(sizeof *ratio * (b->groups[g].n + 1));
        size_t n = 0;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, r->run);
        sqlite3_bind_int(st, 2, b->idx);
        sqlite3_bind_text(st, 3, b->metric, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, x->idx);
        sqlite3_bind_text(st, 5, x->metric, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, c->platform, -1, SQLITE_STATIC);
        while (ratio && sqlite3_step(st) == SQLITE_ROW && n <= b->groups[g].n) {
            double bv = sqlite3_column_double(st, 2), xv = sqlite3_column_double(st, 3);
            if (!(bv > 0 && xv > 0 && isfinite(bv / xv)))
                continue; /* no ratio to take a logarithm of */
            ratio[n++] = bv / xv;
            if (!c->units_differ && fabs(bv / xv - 1) > CAL_TOLERANCE)
                s_off(c, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1),
                      bv / xv);
        }
        s_summarise(c, ratio, n);
        free(ratio);
    }
    sqlite3_finalize(st);
    return 0;
}

int report_load_calibration(store_t *s, report_t *r)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store_handle(s),
                           "SELECT idx, reference_for FROM phases WHERE run=?"
                           " AND reference_for IS NOT NULL AND reference_for <> '' ORDER BY idx",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, r->run);
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const struct rphase *x = s_phase_idx(r, sqlite3_column_int(st, 0));
        const struct rphase *b = s_phase_named(r, (const char *)sqlite3_column_text(st, 1));
        if (!x || !b || b == x || !x->metric[0] || !b->metric[0])
            continue; /* nothing to compare: the phases show it */
        rc = s_pairs(s, r, b, x);
    }
    sqlite3_finalize(st);
    return rc;
}

void report_calibration_free(report_t *r)
{
    for (size_t i = 0; i < r->ncals; i++) {
        struct rcal *c = &r->cals[i];
        free(c->platform);
        free(c->builtin);
        free(c->reference);
        free(c->bmetric);
        free(c->rmetric);
        free(c->bunit);
        free(c->runit);
        for (size_t k = 0; k < c->noff; k++)
            free(c->off[k].worker);
        free(c->off);
    }
    free(r->cals);
}

/* The cells of one calibration row. */
struct calcells {
    char bmed[32], rmed[32], ratio[96], spread[96], check[64];
};

static void s_cells(const struct rcal *c, struct calcells *cc)
{
    stats_format(c->b.median, cc->bmed, sizeof cc->bmed);
    stats_format(c->r.median, cc->rmed, sizeof cc->rmed);
    if (c->units_differ) {
        snprintf(cc->ratio, sizeof cc->ratio, "-");
        snprintf(cc->spread, sizeof cc->spread, "units differ: %s vs %s", c->bunit, c->runit);
        snprintf(cc->check, sizeof cc->check, "not divided");
        return;
    }
    if (c->n == 0) {
        snprintf(cc->ratio, sizeof cc->ratio, "-");
        snprintf(cc->spread, sizeof cc->spread, "no pair");
        snprintf(cc->check, sizeof cc->check, "-");
        return;
    }
    snprintf(cc->ratio, sizeof cc->ratio, "%.3f", c->gmean);
    snprintf(cc->spread, sizeof cc->spread, "%.3f-%.3f (%s)", c->lo, c->hi,
             c->t_interval ? "95% CI" : "min-max");
    if (c->noff)
        snprintf(cc->check, sizeof cc->check, "OFF %zu of %zu", c->noff, c->n);
    else
        snprintf(cc->check, sizeof cc->check, "ok");
}

static const char *s_cal_note =
    "the built-in's headline metric over the reference tool's, paired by worker and "
    "repetition; ratio: geometric mean of the pairs; OFF: a pair outside 0.95..1.05";

void report_calibration_print(const report_t *r, FILE *out)
{
    if (!r->ncals)
        return;
    fprintf(out, "\ncalibration (%s):\n  %-10s %-12s %-16s %10s %10s %7s %-26s %3s  %s\n",
            s_cal_note, "platform", "built-in", "reference", "median", "ref median", "ratio",
            "spread", "n", "check");
    for (size_t i = 0; i < r->ncals; i++) {
        const struct rcal *c = &r->cals[i];
        struct calcells cc;
        s_cells(c, &cc);
        fprintf(out, "  %-10s %-12s %-16s %10s %10s %7s %-26s %3zu  %s\n", c->platform,
                c->builtin, c->reference, cc.bmed, cc.rmed, cc.ratio, cc.spread, c->n, cc.check);
        for (size_t k = 0; k < c->noff; k++)
            fprintf(out, "    OFF %s rep %d (worker %s): %s/%s = %.3f\n", c->platform,
                    c->off[k].rep, c->off[k].worker, c->builtin, c->reference, c->off[k].ratio);
    }
}

void report_calibration_markdown(const report_t *r, FILE *out)
{
    if (!r->ncals)
        return;
    fprintf(out, "\n## Calibration\n\nEach built-in against the reference tool that checks it: "
                 "%s.\n\n| platform | built-in | reference | median | "
                 "reference median | ratio | spread | n | check |\n| --- | --- | --- | ---: | "
                 "---: | ---: | --- | ---: | --- |\n",
            s_cal_note);
    for (size_t i = 0; i < r->ncals; i++) {
        const struct rcal *c = &r->cals[i];
        struct calcells cc;
        s_cells(c, &cc);
        fputs("| ", out);
        report_esc_md(out, c->platform);
        fputs(" | ", out);
        report_esc_md(out, c->builtin);
        fputs(" | ", out);
        report_esc_md(out, c->reference);
        fprintf(out, " | %s | %s | %s | %s | %zu | %s%s%s |\n", cc.bmed, cc.rmed, cc.ratio,
                cc.spread, c->n, c->noff ? "**" : "", cc.check, c->noff ? "**" : "");
    }
    bool first = true;
    for (size_t i = 0; i < r->ncals; i++)
        for (size_t k = 0; k < r->cals[i].noff; k++) {
            const struct rcal *c = &r->cals[i];
            fputs(first ? "\n" : "", out);
            first = false;
            fputs("- **OFF** ", out);
            report_esc_md(out, c->platform);
            fprintf(out, " rep %d (worker ", c->off[k].rep);
            report_esc_md(out, c->off[k].worker);
            fputs("): ", out);
            report_esc_md(out, c->builtin);
            fputc('/', out);
            report_esc_md(out, c->reference);
            fprintf(out, " = %.3f\n", c->off[k].ratio);
        }
}

static void s_td(FILE *out, const char *cls, const char *s)
{
    fprintf(out, "<td class=\"%s\">", cls);
    report_esc_html(out, s);
    fputs("</td>", out);
}

void report_calibration_html(const report_t *r, FILE *out)
{
    if (!r->ncals)
        return;
    fputs("<h2 id=\"calibration\">Calibration</h2>\n<p>Each built-in against the reference tool "
          "that checks it: ",
          out);
    report_esc_html(out, s_cal_note);
    fputs(".</p>\n<table><tr><th>platform</th><th>built-in</th><th>reference</th><th>median</th>"
          "<th>reference median</th><th>ratio</th><th>spread</th><th>n</th><th>check</th></tr>\n",
          out);
    for (size_t i = 0; i < r->ncals; i++) {
        const struct rcal *c = &r->cals[i];
        struct calcells cc;
        char n[32];
        s_cells(c, &cc);
        snprintf(n, sizeof n, "%zu", c->n);
        fprintf(out, "<tr%s>", c->noff ? " class=\"off\"" : "");
        s_td(out, "l", c->platform);
        s_td(out, "l", c->builtin);
        s_td(out, "l", c->reference);
        s_td(out, "", cc.bmed);
        s_td(out, "", cc.rmed);
        s_td(out, "", cc.ratio);
        s_td(out, "l", cc.spread);
        s_td(out, "", n);
        s_td(out, c->noff ? "l refuted" : c->n && !c->units_differ ? "l confirmed" : "l", cc.check);
        fputs("</tr>\n", out);
        for (size_t k = 0; k < c->noff; k++) {
            char what[512];
            snprintf(what, sizeof what, "OFF %s rep %d (worker %s): %s/%s = %.3f", c->platform,
                     c->off[k].rep, c->off[k].worker, c->builtin, c->reference, c->off[k].ratio);
            fputs("<tr class=\"off\">", out);
            fputs("<td class=\"l refuted\" colspan=\"9\">", out);
            report_esc_html(out, what);
            fputs("</td></tr>\n", out);
        }
    }
    fputs("</table>\n", out);
}
