/* report_tables.c — the tables of the report's main sections (statistics
 * per phase, local vs public, start skew, expectations, workers) as table
 * models (report_table.h): each built here once for every format, and
 * written by report_text.c and report_html.c around their own prose. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "report.h"
#include "report_table.h"

static const char *s_num(double v, char *buf, size_t len)
{
    stats_format(v, buf, len);
    return buf;
}

static void s_ratio(struct rtable *t, double v)
{
    if (isnan(v))
        rtable_cell(t, "-", NULL, false);
    else
        rtable_cellf(t, "%.3f", v);
}

void report_table_out(struct rtable *t, rfmt_t fmt, FILE *out)
{
    rtable_write(t, fmt, out);
    rtable_destroy(&t);
}

/* The HTML notes under a platform's row: what has no value, a mismatch. */
static void s_stats_notes(struct rtable *t, const struct rgroup *gr)
{
    char what[512];
    if (gr->nfailed || gr->nlost) {
        snprintf(what, sizeof what, "%s: %zu failed, %zu lost (not in the sample)", gr->platform,
                 gr->nfailed, gr->nlost);
        rtable_note(t, RT_IN(RFMT_HTML), NULL, NULL, what);
    }
    if (gr->mismatch) {
        snprintf(what, sizeof what, "detection MISMATCH: %s was launched as %s, its worker "
                 "detected itself as %s (its results stay under %s)",
                 gr->platform, gr->kind, gr->detected, gr->platform);
        rtable_note(t, RT_IN(RFMT_HTML), NULL, "mismatch", what);
    }
}

struct rtable *report_stats_table(const report_t *r, const struct rphase *ph, rfmt_t fmt)
{
    /* the first column: what results are grouped by */
    const struct rcol cols[] = {
        { report_by(r), NULL, NULL, -10, 0, false, false },
        { "n", NULL, NULL, 4, 0, true, false },
        { "mean", NULL, NULL, 10, 0, true, false },
        { "stddev", NULL, NULL, 10, 0, true, false },
        { "median", NULL, NULL, 10, 0, true, false },
        { "min", NULL, NULL, 10, 0, true, false },
        { "max", NULL, NULL, 10, 0, true, false },
        { "CV", NULL, NULL, 7, 0, true, false },
        { "95% CI of the mean", "95% CI", NULL, -23, 0, true, true },
        { "ratio", NULL, NULL, 7, 0, true, false },
    };
    struct rtable *t = rtable_new(cols, sizeof cols / sizeof cols[0], false);
    for (size_t g = 0; t && g < ph->ngroups; g++) {
        const struct rgroup *gr = &ph->groups[g];
        const struct stats *st = &gr->st;
        char a[32], b[32];
        rtable_row(t, NULL);
        rtable_cell(t, gr->platform, NULL, false);
        rtable_cellf(t, "%zu", st->n);
        const double v[] = { st->mean, st->stddev, st->median, st->min, st->max };
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
            rtable_cell(t, s_num(v[k], a, sizeof a), NULL, false);
        if (isnan(st->cv))
            rtable_cell(t, "-", NULL, false);
        else
            rtable_cellf(t, "%.1f%%", 100 * st->cv);
        if (st->n < 2)
            rtable_cell(t, "-", NULL, false);
        else
            rtable_cellf(t, fmt == RFMT_HTML ? "%s … %s" : "[%s, %s]",
                         s_num(st->ci_lo, a, sizeof a), s_num(st->ci_hi, b, sizeof b));
        s_ratio(t, gr->ratio);
        s_stats_notes(t, gr);
    }
    return t;
}

static const struct rcol s_lvp_cols[] = {
    { "platform", NULL, NULL, -10, 0, false, false },
    { "local median", NULL, "local", 12, 0, true, false },
    { "public median", NULL, "public", 12, 0, true, false },
    { "public/local", NULL, "pub/loc", 8, 0, true, false },
    { "bottleneck", NULL, NULL, 0, 1, false, false },
};

struct rtable *report_lvp_table(const report_t *r, rfmt_t fmt)
{
    (void)fmt;
    struct rtable *t = rtable_new(s_lvp_cols, sizeof s_lvp_cols / sizeof s_lvp_cols[0], false);
    for (size_t i = 0; t && i < r->nlvp; i++) {
        const struct rlvp *l = &r->lvp[i];
        char v[256], a[32];
        report_lvp_verdict(l, v, sizeof v);
        rtable_row(t, NULL);
        rtable_cell(t, l->platform, NULL, false);
        rtable_cell(t, s_num(l->local.median, a, sizeof a), NULL, false);
        rtable_cell(t, s_num(l->pub.median, a, sizeof a), NULL, false);
        s_ratio(t, l->ratio);
        rtable_cell(t, v, NULL, false);
    }
    return t;
}

static const struct rcol s_skew_cols[] = {
    { "phase", NULL, NULL, -20, 0, false, false },
    { "schedule", NULL, NULL, -12, 0, false, false },
    { "repetitions", NULL, "reps", 5, 0, true, false },
    { "median", NULL, "median µs", 12, 0, true, false },
    { "max", NULL, "max µs", 12, 0, true, false },
    { "clock error", NULL, "clock error µs", 14, 0, true, false },
};

struct rtable *report_skew_table(const report_t *r, rfmt_t fmt)
{
    struct rtable *t = rtable_new(s_skew_cols, sizeof s_skew_cols / sizeof s_skew_cols[0], false);
    for (size_t i = 0; t && i < r->nphases; i++) {
        const struct rphase *ph = &r->phases[i];
        char a[32];
        rtable_row(t, NULL);
        rtable_cell(t, ph->name, NULL, false);
        rtable_cell(t, ph->schedule, NULL, false);
        if (ph->nskew) {
            rtable_cellf(t, "%zu", ph->nskew);
            rtable_cell(t, s_num(ph->skew_median_us, a, sizeof a), NULL, false);
            rtable_cell(t, s_num(ph->skew_max_us, a, sizeof a), NULL, false);
            rtable_cellf(t, "%s%s", fmt == RFMT_TEXT ? "" : "± ",
                         s_num(ph->skew_err_us, a, sizeof a));
        } else if (fmt == RFMT_TEXT) {
            rtable_cell(t, "-", NULL, false);
            rtable_cell(t, strcmp(ph->schedule, "lockstep") == 0
                               ? "no repetition measured"
                               : "one worker at a time: no skew", NULL, false);
        } else {
            for (int k = 0; k < 4; k++)
                rtable_cell(t, "-", NULL, false);
        }
    }
    return t;
}

static const struct rcol s_expect_cols[] = {
    { "expectation", NULL, NULL, 0, 0, false, false },
    { "verdict", NULL, NULL, 0, 0, false, false },
    { "numbers", NULL, NULL, 0, 0, false, false },
};

struct rtable *report_expect_table(const report_t *r, rfmt_t fmt)
{
    (void)fmt;
    struct rtable *t =
        rtable_new(s_expect_cols, sizeof s_expect_cols / sizeof s_expect_cols[0], false);
    for (size_t i = 0; t && i < r->nexpects; i++) {
        const struct rexpect *x = &r->expects[i];
        const char *cls = x->bad                           ? "malformed"
                          : x->verdict == EXPECT_CONFIRMED ? "confirmed"
                          : x->verdict == EXPECT_REFUTED   ? "refuted"
                                                           : "nodata";
        rtable_row(t, NULL);
        rtable_cell(t, x->canon ? x->canon : x->text, NULL, false);
        rtable_cell(t, x->bad ? "malformed" : expect_verdict_name(x->verdict), cls, true);
        rtable_cell(t, x->why, NULL, false);
    }
    return t;
}

static const struct rcol s_worker_cols[] = {
    { "worker", NULL, NULL, 0, 0, false, false },
    { "platform", NULL, NULL, 0, 0, false, false },
    { "detected", NULL, NULL, 0, 0, false, false },
    { "host", NULL, NULL, 0, 0, false, false },
    { "kernel", NULL, NULL, 0, 0, false, false },
    { "CPU", NULL, NULL, 0, 0, false, false },
    { "cores", NULL, NULL, 0, 0, true, false },
    { "status", NULL, NULL, 0, 0, false, false },
};

struct rtable *report_workers_table(const report_t *r, rfmt_t fmt)
{
    struct rtable *t =
        rtable_new(s_worker_cols, sizeof s_worker_cols / sizeof s_worker_cols[0], false);
    for (size_t i = 0; t && i < r->nworkers; i++) {
        const struct rworker *w = &r->workers[i];
        bool off = w->launched_as && strcmp(w->launched_as, w->platform) != 0;
        char what[1024];
        rtable_row(t, NULL);
        rtable_cell(t, w->name, NULL, false);
        rtable_cell(t, w->label, NULL, false);
        snprintf(what, sizeof what, "%s%s", w->platform, off ? " MISMATCH" : "");
        rtable_cell(t, what, off ? "mismatch" : NULL, off);
        rtable_cell(t, w->hostname, NULL, false);
        rtable_cell(t, w->kernel, NULL, false);
        rtable_cell(t, w->cpu_model, NULL, false);
        rtable_cellf(t, "%" PRId64, w->cores);
        if (fmt == RFMT_HTML && strcmp(w->status, "lost") == 0) {
            char when[40];
            report_time(w->lost_at, when, sizeof when);
            snprintf(what, sizeof what, "lost in phase %s at %s: %s",
                     w->lost_phase ? w->lost_phase : "-", when,
                     w->lost_reason ? w->lost_reason : "-");
            rtable_cell(t, what, "refuted", false);
        } else {
            rtable_cell(t, w->status, NULL, false);
        }
    }
    return t;
}
