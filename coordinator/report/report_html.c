/* report_html.c — report.html: one self-contained page (CSS and SVG inline,
 * nothing fetched), so it can be mailed or opened offline.  The box plots
 * are drawn here, not by gnuplot, so the page needs no other file: per
 * platform a box from the first to the third quartile, the median, whiskers
 * to the furthest value within 1.5 IQR (Tukey) and the values beyond as dots. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_table.h"

void report_esc_html(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

static const char *s_num(double v, char *buf, size_t len)
{
    stats_format(v, buf, len);
    return buf;
}

const char *report_colour(const char *platform, size_t i)
{
    static const struct { const char *p, *c; } known[] = {
        { "native", "#4e79a7" },
        { "docker", "#f28e2b" },
        { "kvm", "#59a14f" },
        { "qemu", "#e15759" },
    };
    static const char *const others[] = { "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f" };
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        if (strcmp(known[k].p, platform) == 0)
            return known[k].c;
    return others[i % (sizeof others / sizeof others[0])];
}

/* A round axis maximum and tick step: 1, 2 or 5 times a power of ten. */
static double s_nice_step(double span)
{
    if (!(span > 0))
        return 1;
    double raw = span / 5, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define W 600
#define H 320
#define ML 72
#define MR 16
#define MT 16
#define MB 52

static void s_boxplot(const struct rphase *ph, FILE *out)
{
    double hi = 0;
    for (size_t g = 0; g < ph->ngroups; g++)
        if (ph->groups[g].n && ph->groups[g].st.max > hi)
            hi = ph->groups[g].st.max;
    double step = s_nice_step(hi * 1.05);
    double top = step * ceil(hi * 1.05 / step);
    if (!(top > 0))
        top = 1;
    const double pw = W - ML - MR, plot_h = H - MT - MB;
#define Y(v) (MT + plot_h * (1 - (v) / top))
    char a[32];
    fprintf(out, "<svg class=\"boxplot\" xmlns=\"http://www.w3.org/2000/svg\" "
                 "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"",
            W, H, W, H);
    report_esc_html(out, ph->name);
    fputs(" by platform\">\n", out);
    /* grid and y axis */
    for (double t = 0; t <= top * 1.0001; t += step) {
        fprintf(out, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
                     "<text class=\"tick\" x=\"%d\" y=\"%.1f\">%s</text>\n",
                ML, W - MR, Y(t), Y(t), ML - 6, Y(t) + 4, s_num(t, a, sizeof a));
    }
    fprintf(out, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>\n", ML, ML, MT,
            H - MB);
    fprintf(out, "<text class=\"ylabel\" transform=\"translate(14,%.1f) rotate(-90)\">",
            MT + plot_h / 2);
    report_esc_html(out, ph->unit[0] ? ph->unit : ph->metric);
    fputs("</text>\n", out);
    double bw = pw / (double)(ph->ngroups ? ph->ngroups : 1);
    double boxw = bw * 0.5 < 90 ? bw * 0.5 : 90;
    for (size_t g = 0; g < ph->ngroups; g++) {
        const struct rgroup *gr = &ph->groups[g];
        const struct stats *st = &gr->st;
        double cx = ML + bw * ((double)g + 0.5);
        fprintf(out, "<g class=\"platform\" data-platform=\"");
        report_esc_html(out, gr->platform);
        fputs("\">", out);
        fprintf(out, "<text class=\"xlabel\" x=\"%.1f\" y=\"%d\">", cx, H - MB + 18);
        report_esc_html(out, gr->platform);
        fprintf(out, "</text><text class=\"n\" x=\"%.1f\" y=\"%d\">n = %zu</text>\n", cx,
                H - MB + 34, gr->n);
        if (!gr->n) {
            fputs("</g>\n", out);
            continue;
        }
        double *s = malloc(gr->n * sizeof *s);
        if (!s) {
            fputs("</g>\n", out);
            continue;
        }
        memcpy(s, gr->values, gr->n * sizeof *s);
        qsort(s, gr->n, sizeof *s, s_cmp);
        double iqr = st->q3 - st->q1, wlo = st->q1, whi = st->q3;
        for (size_t i = 0; i < gr->n; i++) {
            if (s[i] >= st->q1 - 1.5 * iqr && s[i] < wlo)
                wlo = s[i];
            if (s[i] <= st->q3 + 1.5 * iqr && s[i] > whi)
                whi = s[i];
        }
        const char *col =
            report_colour(report_group(ph, gr->kind) == gr ? gr->kind : gr->platform, g);
        fprintf(out, "<line class=\"whisker\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                     "<line class=\"whisker\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                     "<line class=\"whisker\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                     "<line class=\"whisker\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
                cx, cx, Y(whi), Y(st->q3), cx, cx, Y(st->q1), Y(wlo), cx - boxw / 4,
                cx + boxw / 4, Y(whi), Y(whi), cx - boxw / 4, cx + boxw / 4, Y(wlo), Y(wlo));
        double bh = Y(st->q1) - Y(st->q3);
        fprintf(out, "<rect class=\"box\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                     "fill=\"%s\"><title>",
                cx - boxw / 2, Y(st->q3), boxw, bh < 1 ? 1 : bh, col);
        char m[32], q1[32], q3[32];
        report_esc_html(out, gr->platform);
        fprintf(out, ": median %s, quartiles %s to %s, n = %zu</title></rect>\n",
                s_num(st->median, m, sizeof m), s_num(st->q1, q1, sizeof q1),
                s_num(st->q3, q3, sizeof q3), gr->n);
        fprintf(out, "<line class=\"median\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
                cx - boxw / 2, cx + boxw / 2, Y(st->median), Y(st->median));
        for (size_t i = 0; i < gr->n; i++)
            if (s[i] < wlo || s[i] > whi)
                fprintf(out, "<circle class=\"outlier\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
                             "fill=\"%s\"/>\n",
                        cx, Y(s[i]), col);
        free(s);
        fputs("</g>\n", out);
    }
    fputs("</svg>\n", out);
#undef Y
}

static const char *s_css =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;"
    "max-width:1000px;margin:2em auto;padding:0 1em;background:#fff}"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:2px solid #ddd}"
    "h3{margin-bottom:.3em}.meta,.what{color:#555}"
    "table{border-collapse:collapse;margin:.6em 0;font-variant-numeric:tabular-nums}"
    "th,td{padding:.25em .7em;border-bottom:1px solid #e4e4e4;text-align:right}"
    "th{background:#f4f4f4}td:not(.l){white-space:nowrap}"
    "td:first-child,th:first-child,td.l{text-align:left}"
    ".confirmed{color:#1a7f37;font-weight:600}.refuted{color:#c62828;font-weight:600}"
    ".nodata,.malformed{color:#8a6d00;font-weight:600}"
    "svg.boxplot{display:block;margin:.4em 0;background:#fcfcfc;border:1px solid #eee}"
    "svg .grid{stroke:#e6e6e6}svg .axis{stroke:#888}"
    "svg .tick{font-size:11px;text-anchor:end;fill:#555}"
    "svg .xlabel{font-size:13px;text-anchor:middle;fill:#222}"
    "svg .n{font-size:11px;text-anchor:middle;fill:#777}"
    "svg .ylabel{font-size:12px;text-anchor:middle;fill:#555}"
    "svg .box{stroke:#333;fill-opacity:.75}svg .median{stroke:#111;stroke-width:2.5}"
    "svg .whisker{stroke:#444}svg .outlier{stroke:#333}"
    ".mismatch{color:#c62828;font-weight:700}tr.off td{background:#fdecea}"
    ".warning{margin:.8em 0;padding:.6em 1em;background:#fff4e5;border-left:4px solid #c62828}"
    ".verdict{margin:.8em 0;padding:.6em 1em;background:#f6f8fa;border-left:4px solid #4e79a7}";

/* A section's heading and the paragraph under it (text escaped). */
static void s_para(FILE *out, const char *cls, const char *text)
{
    fprintf(out, "<p%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    report_esc_html(out, text);
    fputs("</p>\n", out);
}

static void s_expectations(const report_t *r, FILE *out)
{
    if (!r->nexpects && !r->expect_note)
        return;
    fputs("<h2 id=\"expectations\">Expectations</h2>\n<p>Each is checked against the "
          "medians of the phase's headline metric.</p>\n",
          out);
    if (r->expect_note)
        s_para(out, "nodata", r->expect_note);
    if (r->nexpects)
        report_table_out(report_expect_table(r, RFMT_HTML), RFMT_HTML, out);
}

static void s_head(const report_t *r, FILE *out)
{
    char head[512];
    report_headline(r, head, sizeof head);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
          "lockstep report: ",
          out);
    report_esc_html(out, r->experiment);
    fprintf(out, "</title>\n<style>%s</style></head><body>\n<h1>lockstep report: ", s_css);
    report_esc_html(out, r->experiment);
    fputs("</h1>\n", out);
    if (r->description)
        s_para(out, NULL, r->description);
    fputs("<p class=\"meta\">", out);
    report_esc_html(out, head);
    fputs(". Database <code>", out);
    report_esc_html(out, r->db);
    fputs("</code>. Ratio: median over the median of <b>", out);
    report_esc_html(out, r->baseline);
    fprintf(out, "</b>%s.</p>\n", r->baseline_present ? "" : " (not in this run)");
}

static void s_phase(const report_t *r, const struct rphase *ph, FILE *out)
{
    fputs("<section class=\"phase\"><h3>", out);
    report_esc_html(out, ph->name);
    fputs("</h3>\n<p class=\"what\">", out);
    char what[512];
    snprintf(what, sizeof what, "%s — %s (%s), %s, %d repetition%s", ph->bench, ph->metric,
             ph->unit, ph->schedule, ph->reps, ph->reps == 1 ? "" : "s");
    report_esc_html(out, what);
    if (ph->net) {
        fputs(ph->net == RNET_LOCAL ? "; against local server " : "; against public ", out);
        report_esc_html(out, ph->peers);
    }
    fputs("</p>\n", out);
    if (!ph->ngroups) {
        fputs("<p>No results.</p></section>\n", out);
        return;
    }
    s_boxplot(ph, out);
    report_table_out(report_stats_table(r, ph, RFMT_HTML), RFMT_HTML, out);
    fputs("</section>\n", out);
}

static void s_lvp(const report_t *r, FILE *out)
{
    if (!r->nlvp)
        return;
    char sum[1024];
    fputs("<h2 id=\"local-vs-public\">Local vs public</h2>\n", out);
    report_table_out(report_lvp_table(r, RFMT_HTML), RFMT_HTML, out);
    report_lvp_summary(r, sum, sizeof sum);
    s_para(out, "verdict", sum);
}

void report_html(const report_t *r, FILE *out)
{
    s_head(r, out);
    report_conditions_html(r, out);
    report_systems_html(r, out);
    s_expectations(r, out);
    fputs("<h2 id=\"results\">Results</h2>\n", out);
    for (size_t i = 0; i < r->nphases; i++)
        s_phase(r, &r->phases[i], out);
    report_calibration_html(r, out);
    s_lvp(r, out);
    fputs("<h2 id=\"lockstep\">Lockstep</h2>\n<p>Start skew: the spread of the start instants "
          "of the workers of one lockstep repetition, in µs; round-robin phases run one worker "
          "at a time.</p>\n",
          out);
    report_table_out(report_skew_table(r, RFMT_HTML), RFMT_HTML, out);
    fputs("<h3>Workers</h3>\n", out);
    report_table_out(report_workers_table(r, RFMT_HTML), RFMT_HTML, out);
    fputs("</body></html>\n", out);
}
