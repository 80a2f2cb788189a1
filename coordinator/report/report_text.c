/* report_text.c — the report as a terminal table (stdout) and as Markdown
 * (report.md): per phase and platform the statistics of the headline metric,
 * after the conditions the platforms ran under (report_cond.c), then the
 * calibration against reference tools (report_calib.c), the expectations
 * with their verdicts, local vs public, and how well the lockstep held
 * (start skew, lost workers). */
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "report_table.h"

void report_time(int64_t ns, char *buf, size_t len)
{
    if (ns <= 0) {
        snprintf(buf, len, "-");
        return;
    }
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

void report_headline(const report_t *r, char *buf, size_t len)
{
    char when[40];
    report_time(r->started_at, when, sizeof when);
    int n = snprintf(buf, len, "run %" PRId64 " of %s (%s), %zu workers, %zu phases, started %s",
                     r->run, r->experiment, r->status, r->nworkers, r->nphases, when);
    if (n > 0 && (size_t)n < len && r->finished_at > r->started_at && r->started_at > 0)
        snprintf(buf + n, len - (size_t)n, ", took %.1f s",
                 (double)(r->finished_at - r->started_at) / 1e9);
}

/* "3 failed, 1 lost" of the groups that have either, or "". */
static void s_missing(const struct rphase *ph, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t g = 0; g < ph->ngroups && off < len; g++) {
        const struct rgroup *gr = &ph->groups[g];
        if (!gr->nfailed && !gr->nlost)
            continue;
        off += (size_t)snprintf(buf + off, len - off, "%s%s: ", off ? "; " : "", gr->platform);
        if (gr->nfailed && off < len)
            off += (size_t)snprintf(buf + off, len - off, "%zu failed%s", gr->nfailed,
                                    gr->nlost ? ", " : "");
        if (gr->nlost && off < len)
            off += (size_t)snprintf(buf + off, len - off, "%zu lost", gr->nlost);
    }
}

/* A worker that detected itself as another kind than it was launched as:
 * shown under the table, never pooled with that other platform. */
static void s_mismatch(const struct rphase *ph, FILE *out, bool md)
{
    for (size_t g = 0; g < ph->ngroups; g++) {
        const struct rgroup *gr = &ph->groups[g];
        if (!gr->mismatch)
            continue;
        fprintf(out, md ? "\n**Detection MISMATCH**: %s was launched as %s, its worker detected "
                          "itself as %s (its results stay under %s).\n"
                        : "  detection MISMATCH: %s was launched as %s, its worker detected "
                          "itself as %s (its results stay under %s)\n",
                gr->platform, gr->kind, gr->detected, gr->platform);
    }
}

static const char *s_phase_what(const struct rphase *ph, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s, %s (%s), %s, %d repetition%s", ph->bench, ph->metric,
                     ph->unit, ph->schedule, ph->reps, ph->reps == 1 ? "" : "s");
    if (ph->net && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ", against %s %s",
                 ph->net == RNET_LOCAL ? "local server" : "public", ph->peers);
    return buf;
}

/* One phase: what ran, its statistics, what has no value, mismatches. */
static void s_phase(const report_t *r, const struct rphase *ph, rfmt_t fmt, bool with_plots,
                    FILE *out)
{
    bool md = fmt == RFMT_MD;
    char what[512], miss[512];
    s_phase_what(ph, what, sizeof what);
    fprintf(out, md ? "\n### %s\n\n%s\n\n" : "\n%s: %s\n", ph->name, what);
    if (!ph->ngroups) {
        fputs(md ? "No results.\n" : "  no results\n", out);
        return;
    }
    if (with_plots)
        fprintf(out, "![%s: %s by platform](plot-%s.svg)\n\n", ph->name, ph->metric, ph->name);
    report_table_out(report_stats_table(r, ph, fmt), fmt, out);
    s_missing(ph, miss, sizeof miss);
    if (miss[0])
        fprintf(out, md ? "\nWithout a value: %s.\n" : "  without a value: %s\n", miss);
    s_mismatch(ph, out, md);
}

/* Lost workers, and on the terminal those expected by name that never
 * arrived. */
static void s_lost(const report_t *r, bool md, FILE *out)
{
    size_t nlost = 0;
    for (size_t i = 0; i < r->nworkers; i++)
        nlost += strcmp(r->workers[i].status, "lost") == 0;
    fprintf(out, md ? "\nLost workers: %s\n" : "lost workers:%s\n",
            nlost ? "" : md ? "none." : " none");
    for (size_t i = 0; i < r->nworkers; i++) {
        const struct rworker *w = &r->workers[i];
        if (strcmp(w->status, "lost") != 0)
            continue;
        char when[40];
        const char *why = w->lost_reason ? w->lost_reason : "-";
        report_time(w->lost_at, when, sizeof when);
        fprintf(out, md ? "\n- %s (%s), in phase %s at %s: " : "  %s (%s) in phase %s at %s: ",
                w->name, w->label, w->lost_phase ? w->lost_phase : "-", when);
        if (md)
            report_esc_md(out, why);
        else
            fputs(why, out);
        fputc('\n', out);
    }
    /* expected by name, never arrived: the run was short of them */
    for (size_t i = 0; !md && i < r->nworkers; i++) {
        const struct rworker *w = &r->workers[i];
        if (strcmp(w->status, "absent") == 0)
            fprintf(out, "absent: %s: %s\n", w->name, w->lost_reason ? w->lost_reason : "-");
    }
}

/* Local vs public and the start skew: a heading, a table, for both. */
static void s_tail(const report_t *r, rfmt_t fmt, FILE *out)
{
    bool md = fmt == RFMT_MD;
    if (r->nlvp) {
        char sum[1024];
        fputs(md ? "\n## Local vs public\n\n" : "\nlocal vs public (medians):\n", out);
        report_table_out(report_lvp_table(r, fmt), fmt, out);
        report_lvp_summary(r, sum, sizeof sum);
        fprintf(out, md ? "\n%s\n" : "  %s\n", sum);
    }
    fputs(md ? "\n## Lockstep\n\nStart skew: the spread of the start instants of the workers "
               "of one lockstep repetition, in µs (round-robin phases run one worker at a "
               "time).\n\n"
             : "\nlockstep: start skew per phase (spread of the start instants of one "
               "repetition)\n",
          out);
    report_table_out(report_skew_table(r, fmt), fmt, out);
    s_lost(r, md, out);
}

static void s_expect_print(const report_t *r, FILE *out)
{
    if (!r->nexpects && !r->expect_note)
        return;
    fprintf(out, "\nexpectations (checked against the medians):\n");
    if (r->expect_note)
        fprintf(out, "  %s\n", r->expect_note);
    for (size_t i = 0; i < r->nexpects; i++) {
        const struct rexpect *x = &r->expects[i];
        fprintf(out, "  %-10s %s\n  %10s %s\n",
                x->bad ? "malformed" : expect_verdict_name(x->verdict),
                x->canon ? x->canon : x->text, "", x->why);
    }
}

void report_print(const report_t *r, FILE *out)
{
    char head[512];
    report_headline(r, head, sizeof head);
    fprintf(out, "lockstep report: %s\n", head);
    fprintf(out, "database %s; ratio = median / median of %s%s\n", r->db, r->baseline,
            r->baseline_present ? "" : " (not in this run: no ratios)");
    report_conditions_print(r, out);
    report_systems_print(r, out);
    for (size_t i = 0; i < r->nphases; i++)
        s_phase(r, &r->phases[i], RFMT_TEXT, false, out);
    report_calibration_print(r, out);
    s_expect_print(r, out);
    s_tail(r, RFMT_TEXT, out);
}

/* Markdown table cells: a '|' would end the cell. */
void report_esc_md(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputc('\\', out);
        fputc(*s == '\n' ? ' ' : *s, out);
    }
}

static void s_expect_md(const report_t *r, FILE *out)
{
    if (!r->nexpects && !r->expect_note)
        return;
    fprintf(out, "\n## Expectations\n\nChecked against the medians.\n\n");
    if (r->expect_note)
        fprintf(out, "%s.\n\n", r->expect_note);
    if (r->nexpects)
        report_table_out(report_expect_table(r, RFMT_MD), RFMT_MD, out);
}

void report_markdown(const report_t *r, FILE *out, bool with_plots)
{
    char head[512];
    report_headline(r, head, sizeof head);
    fprintf(out, "# lockstep report: %s\n\n", r->experiment);
    if (r->description)
        fprintf(out, "%s\n\n", r->description);
    fprintf(out, "%s. Database `%s`. Ratio: median over the median of **%s**%s.\n\n", head,
            r->db, r->baseline, r->baseline_present ? "" : " (not in this run)");
    report_conditions_markdown(r, out);
    report_systems_markdown(r, out);
    fprintf(out, "## Workers\n\n");
    report_table_out(report_workers_table(r, RFMT_MD), RFMT_MD, out);
    fprintf(out, "\n## Results\n");
    for (size_t i = 0; i < r->nphases; i++)
        s_phase(r, &r->phases[i], RFMT_MD, with_plots, out);
    report_calibration_markdown(r, out);
    s_expect_md(r, out);
    s_tail(r, RFMT_MD, out);
}
