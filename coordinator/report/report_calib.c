/* report_calib.c — calibration: a phase that runs a reference tool (an
 * `exec` of sysbench, fio, iperf3, forksum, …) names in phases.reference_for
 * the built-in phase it checks (schema 5).  Per platform, the built-in's
 * headline metric is divided by the reference's metric repetition by
 * repetition (paired by worker and repetition number, which interleaved
 * repetitions keep close in time); the ratios are summarised by their
 * geometric mean with a 95 % t-interval on the logarithms (min–max below 3
 * pairs), and a pair outside 1 ± CAL_TOLERANCE is flagged OFF. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/report_query.h"
#include "report.h"
#include "report_table.h"

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

/* The ratios of one platform's pairs, at most cap of them. */
struct pairs {
    struct rcal *c;
    double *ratio;
    size_t n, cap;
};

static void s_pair_row(const struct store_pair_row *row, void *arg)
{
    struct pairs *p = arg;
    double bv = row->b, xv = row->x;
    if (p->n >= p->cap || !(bv > 0 && xv > 0 && isfinite(bv / xv)))
        return; /* no room, or no ratio to take a logarithm of */
    p->ratio[p->n++] = bv / xv;
    if (!p->c->units_differ && fabs(bv / xv - 1) > CAL_TOLERANCE)
        s_off(p->c, row->worker, row->rep, bv / xv);
}

/* Every platform of the built-in phase b against reference phase x. */
static int s_pairs(store_t *s, report_t *r, const struct rphase *b, const struct rphase *x)
{
    for (size_t g = 0; g < b->ngroups; g++) {
        struct rcal *c = s_cal(r, b, x, b->groups[g].platform);
        if (!c)
            break;
        struct store_pair_query q = { b->idx, x->idx, b->metric, x->metric, c->platform };
        struct pairs p = { c, malloc(sizeof *p.ratio * (b->groups[g].n + 1)), 0,
                           b->groups[g].n + 1 };
        int rc = p.ratio ? store_read_pairs(s, r->run, &q, s_pair_row, &p) : 0;
        s_summarise(c, p.ratio, p.n);
        free(p.ratio);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int report_load_calibration(store_t *s, report_t *r)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->nphases; i++) {
        const struct rphase *x = &r->phases[i];
        const struct rphase *b = x->reference_for ? s_phase_named(r, x->reference_for) : NULL;
        if (!b || b == x || !x->metric[0] || !b->metric[0])
            continue; /* nothing to compare: the phases show it */
        rc = s_pairs(s, r, b, x);
    }
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

static const struct rcol s_cal_cols[] = {
    { "platform", NULL, NULL, -10, 0, false, false },
    { "built-in", NULL, NULL, -12, 0, false, false },
    { "reference", NULL, NULL, -16, 0, false, false },
    { "median", NULL, NULL, 10, 0, true, false },
    { "reference median", NULL, "ref median", 10, 0, true, false },
    { "ratio", NULL, NULL, 7, 0, true, false },
    { "spread", NULL, NULL, -26, 0, false, false },
    { "n", NULL, NULL, 3, 0, true, false },
    { "check", NULL, NULL, 0, 1, false, false },
};

/* One row per calibration, its OFF pairs under it (terminal and HTML). */
static struct rtable *s_table(const report_t *r)
{
    struct rtable *t = rtable_new(s_cal_cols, sizeof s_cal_cols / sizeof s_cal_cols[0], true);
    for (size_t i = 0; t && i < r->ncals; i++) {
        const struct rcal *c = &r->cals[i];
        struct calcells cc;
        s_cells(c, &cc);
        rtable_row(t, c->noff ? "off" : NULL);
        rtable_cell(t, c->platform, NULL, false);
        rtable_cell(t, c->builtin, NULL, false);
        rtable_cell(t, c->reference, NULL, false);
        rtable_cell(t, cc.bmed, NULL, false);
        rtable_cell(t, cc.rmed, NULL, false);
        rtable_cell(t, cc.ratio, NULL, false);
        rtable_cell(t, cc.spread, NULL, false);
        rtable_cellf(t, "%zu", c->n);
        rtable_cell(t, cc.check, c->noff ? "refuted" : c->n && !c->units_differ ? "confirmed" : NULL,
                    c->noff != 0);
        for (size_t k = 0; k < c->noff; k++) {
            char what[512];
            snprintf(what, sizeof what, "OFF %s rep %d (worker %s): %s/%s = %.3f", c->platform,
                     c->off[k].rep, c->off[k].worker, c->builtin, c->reference, c->off[k].ratio);
            rtable_note(t, RT_IN(RFMT_TEXT) | RT_IN(RFMT_HTML), "off", "refuted", what);
        }
    }
    return t;
}

void report_calibration_print(const report_t *r, FILE *out)
{
    if (!r->ncals)
        return;
    fprintf(out, "\ncalibration (%s):\n", s_cal_note);
    report_table_out(s_table(r), RFMT_TEXT, out);
}

/* Markdown has no row across the table: the OFF pairs as a list below it. */
static void s_off_list(const report_t *r, FILE *out)
{
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

void report_calibration_markdown(const report_t *r, FILE *out)
{
    if (!r->ncals)
        return;
    fprintf(out, "\n## Calibration\n\nEach built-in against the reference tool that checks it: "
                 "%s.\n\n", s_cal_note);
    report_table_out(s_table(r), RFMT_MD, out);
    s_off_list(r, out);
}

void report_calibration_html(const report_t *r, FILE *out)
{
    if (!r->ncals)
        return;
    fputs("<h2 id=\"calibration\">Calibration</h2>\n<p>Each built-in against the reference tool "
          "that checks it: ",
          out);
    report_esc_html(out, s_cal_note);
    fputs(".</p>\n", out);
    report_table_out(s_table(r), RFMT_HTML, out);
}
