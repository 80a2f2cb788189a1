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

static const char *s_num(double v, char *buf, size_t len)
{
    stats_format(v, buf, len);
    return buf;
}

static const char *s_cv(double cv, char *buf, size_t len)
{
    if (isnan(cv))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.1f%%", 100 * cv);
    return buf;
}

static const char *s_ratio(double r, char *buf, size_t len)
{
    if (isnan(r))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.3f", r);
    return buf;
}

static const char *s_ci(const struct stats *st, char *buf, size_t len)
{
    char a[32], b[32];
    if (st->n < 2)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "[%s, %s]", s_num(st->ci_lo, a, sizeof a),
                 s_num(st->ci_hi, b, sizeof b));
    return buf;
}

/* The cells of one statistics row, as both tables print them. */
struct rowcells {
    char mean[32], sd[32], median[32], min[32], max[32], cv[32], ci[80], ratio[32];
};

static const struct rowcells *s_cells(const struct rgroup *gr, struct rowcells *rc)
{
    const struct stats *st = &gr->st;
    s_num(st->mean, rc->mean, sizeof rc->mean);
    s_num(st->stddev, rc->sd, sizeof rc->sd);
    s_num(st->median, rc->median, sizeof rc->median);
    s_num(st->min, rc->min, sizeof rc->min);
    s_num(st->max, rc->max, sizeof rc->max);
    s_cv(st->cv, rc->cv, sizeof rc->cv);
    s_ci(st, rc->ci, sizeof rc->ci);
    s_ratio(gr->ratio, rc->ratio, sizeof rc->ratio);
    return rc;
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

void report_print(const report_t *r, FILE *out)
{
    char head[512], a[32], b[32], c[32], k[32];
    report_headline(r, head, sizeof head);
    fprintf(out, "lockstep report: %s\n", head);
    fprintf(out, "database %s; ratio = median / median of %s%s\n", r->db, r->baseline,
            r->baseline_present ? "" : " (not in this run: no ratios)");
    report_conditions_print(r, out);
    report_systems_print(r, out);
    for (size_t i = 0; i < r->nphases; i++) {
        const struct rphase *ph = &r->phases[i];
        char what[512];
        fprintf(out, "\n%s: %s\n", ph->name, s_phase_what(ph, what, sizeof what));
        if (!ph->ngroups) {
            fprintf(out, "  no results\n");
            continue;
        }
        fprintf(out, "  %-10s %4s %10s %10s %10s %10s %10s %7s %-23s %7s\n", report_by(r), "n",
                "mean", "stddev", "median", "min", "max", "CV", "95% CI of the mean", "ratio");
        for (size_t j = 0; j < ph->ngroups; j++) {
            const struct rgroup *gr = &ph->groups[j];
            struct rowcells rc;
            s_cells(gr, &rc);
            fprintf(out, "  %-10s %4zu %10s %10s %10s %10s %10s %7s %-23s %7s\n", gr->platform,
                    gr->st.n, rc.mean, rc.sd, rc.median, rc.min, rc.max, rc.cv, rc.ci, rc.ratio);
        }
        char miss[512];
        s_missing(ph, miss, sizeof miss);
        if (miss[0])
            fprintf(out, "  without a value: %s\n", miss);
        s_mismatch(ph, out, false);
    }
    report_calibration_print(r, out);
    if (r->nexpects || r->expect_note) {
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
    if (r->nlvp) {
        char sum[1024];
        fprintf(out, "\nlocal vs public (medians):\n  %-10s %12s %12s %8s  %s\n", "platform",
                "local", "public", "pub/loc", "bottleneck");
        for (size_t i = 0; i < r->nlvp; i++) {
            const struct rlvp *l = &r->lvp[i];
            char v[256];
            report_lvp_verdict(l, v, sizeof v);
            fprintf(out, "  %-10s %12s %12s %8s  %s\n", l->platform,
                    s_num(l->local.median, a, sizeof a), s_num(l->pub.median, b, sizeof b),
                    s_ratio(l->ratio, c, sizeof c), v);
        }
        report_lvp_summary(r, sum, sizeof sum);
        fprintf(out, "  %s\n", sum);
    }
    fprintf(out, "\nlockstep: start skew per phase (spread of the start instants of one "
                 "repetition)\n  %-20s %-12s %5s %12s %12s %14s\n",
            "phase", "schedule", "reps", "median µs", "max µs", "clock error µs");
    for (size_t i = 0; i < r->nphases; i++) {
        const struct rphase *ph = &r->phases[i];
        if (ph->nskew)
            fprintf(out, "  %-20s %-12s %5zu %12s %12s %14s\n", ph->name, ph->schedule, ph->nskew,
                    s_num(ph->skew_median_us, a, sizeof a), s_num(ph->skew_max_us, b, sizeof b),
                    s_num(ph->skew_err_us, k, sizeof k));
        else
            fprintf(out, "  %-20s %-12s %5s %s\n", ph->name, ph->schedule, "-",
                    strcmp(ph->schedule, "lockstep") == 0 ? "no repetition measured"
                                                          : "one worker at a time: no skew");
    }
    size_t nlost = 0;
    for (size_t i = 0; i < r->nworkers; i++)
        nlost += strcmp(r->workers[i].status, "lost") == 0;
    fprintf(out, "lost workers:%s\n", nlost ? "" : " none");
    for (size_t i = 0; i < r->nworkers; i++) {
        const struct rworker *w = &r->workers[i];
        if (strcmp(w->status, "lost") != 0)
            continue;
        char when[40];
        report_time(w->lost_at, when, sizeof when);
        fprintf(out, "  %s (%s) in phase %s at %s: %s\n", w->name, w->label,
                w->lost_phase ? w->lost_phase : "-", when, w->lost_reason ? w->lost_reason : "-");
    }    /* expected by name, never arrived: the run was short of them */
    for (size_t i = 0; i < r->nworkers; i++) {
        const struct rworker *w = &r->workers[i];
        if (strcmp(w->status, "absent") == 0)
            fprintf(out, "absent: %s: %s\n", w->name, w->lost_reason ? w->lost_reason : "-");
    }
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

static void s_md_workers(const report_t *r, FILE *out)
{
    fprintf(out, "## Workers\n\n| worker | platform | detected | host | kernel | CPU | cores | "
                 "status |\n| --- | --- | --- | --- | --- | --- | ---: | --- |\n");
    for (size_t i = 0; i < r->nworkers; i++) {
        const struct rworker *w = &r->workers[i];
        fputs("| ", out);
        report_esc_md(out, w->name);
        fputs(" | ", out);
        report_esc_md(out, w->label);
        fputs(" | ", out);
        bool off = w->launched_as && strcmp(w->launched_as, w->platform) != 0;
        fputs(off ? "**" : "", out);
        report_esc_md(out, w->platform);
        fputs(off ? " MISMATCH** | " : " | ", out);
        report_esc_md(out, w->hostname);
        fputs(" | ", out);
        report_esc_md(out, w->kernel);
        fputs(" | ", out);
        report_esc_md(out, w->cpu_model);
        fprintf(out, " | %" PRId64 " | %s |\n", w->cores, w->status);
    }
}

void report_markdown(const report_t *r, FILE *out, bool with_plots)
{
    char head[512], a[32], b[32], c[32];
    report_headline(r, head, sizeof head);
    fprintf(out, "# lockstep report: %s\n\n", r->experiment);
    if (r->description)
        fprintf(out, "%s\n\n", r->description);
    fprintf(out, "%s. Database `%s`. Ratio: median over the median of **%s**%s.\n\n", head,
            r->db, r->baseline, r->baseline_present ? "" : " (not in this run)");
    report_conditions_markdown(r, out);
    report_systems_markdown(r, out);
    s_md_workers(r, out);
    fprintf(out, "\n## Results\n");
    for (size_t i = 0; i < r->nphases; i++) {
        const struct rphase *ph = &r->phases[i];
        char what[512], file[160];
        fprintf(out, "\n### %s\n\n%s\n\n", ph->name, s_phase_what(ph, what, sizeof what));
        if (!ph->ngroups) {
            fprintf(out, "No results.\n");
            continue;
        }
        if (with_plots) {
            snprintf(file, sizeof file, "plot-%s.svg", ph->name);
            fprintf(out, "![%s: %s by platform](%s)\n\n", ph->name, ph->metric, file);
        }
        fprintf(out, "| %s | n | mean | stddev | median | min | max | CV | 95%% CI | ", report_by(r));
        fprintf(out, "ratio |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | "
                     "---: |\n");
        for (size_t j = 0; j < ph->ngroups; j++) {
            const struct rgroup *gr = &ph->groups[j];
            struct rowcells rc;
            s_cells(gr, &rc);
            fprintf(out, "| %s | %zu | %s | %s | %s | %s | %s | %s | %s | %s |\n", gr->platform,
                    gr->st.n, rc.mean, rc.sd, rc.median, rc.min, rc.max, rc.cv, rc.ci, rc.ratio);
        }
        char miss[512];
        s_missing(ph, miss, sizeof miss);
        if (miss[0])
            fprintf(out, "\nWithout a value: %s.\n", miss);
        s_mismatch(ph, out, true);
    }
    report_calibration_markdown(r, out);
    if (r->nexpects || r->expect_note) {
        fprintf(out, "\n## Expectations\n\nChecked against the medians.\n\n");
        if (r->expect_note)
            fprintf(out, "%s.\n\n", r->expect_note);
        if (r->nexpects)
            fprintf(out, "| expectation | verdict | numbers |\n| --- | --- | --- |\n");
        for (size_t i = 0; i < r->nexpects; i++) {
            const struct rexpect *x = &r->expects[i];
            fputs("| ", out);
            report_esc_md(out, x->canon ? x->canon : x->text);
            fprintf(out, " | **%s** | ", x->bad ? "malformed" : expect_verdict_name(x->verdict));
            report_esc_md(out, x->why);
            fputs(" |\n", out);
        }
    }
    if (r->nlvp) {
        char sum[1024];
        fprintf(out, "\n## Local vs public\n\n| platform | local median | public median | "
                     "public/local | bottleneck |\n| --- | ---: | ---: | ---: | --- |\n");
        for (size_t i = 0; i < r->nlvp; i++) {
            const struct rlvp *l = &r->lvp[i];
            char v[256];
            report_lvp_verdict(l, v, sizeof v);
            fprintf(out, "| %s | %s | %s | %s | %s |\n", l->platform,
                    s_num(l->local.median, a, sizeof a), s_num(l->pub.median, b, sizeof b),
                    s_ratio(l->ratio, c, sizeof c), v);
        }
        report_lvp_summary(r, sum, sizeof sum);
        fprintf(out, "\n%s\n", sum);
    }
    fprintf(out, "\n## Lockstep\n\nStart skew: the spread of the start instants of the workers "
                 "of one lockstep repetition, in µs (round-robin phases run one worker at a "
                 "time).\n\n| phase | schedule | repetitions | median | max | clock error |\n"
                 "| --- | --- | ---: | ---: | ---: | ---: |\n");
    for (size_t i = 0; i < r->nphases; i++) {
        const struct rphase *ph = &r->phases[i];
        if (ph->nskew)
            fprintf(out, "| %s | %s | %zu | %s | %s | ± %s |\n", ph->name, ph->schedule,
                    ph->nskew, s_num(ph->skew_median_us, a, sizeof a),
                    s_num(ph->skew_max_us, b, sizeof b), s_num(ph->skew_err_us, c, sizeof c));
        else
            fprintf(out, "| %s | %s | - | - | - | - |\n", ph->name, ph->schedule);
    }
    size_t nlost = 0;
    for (size_t i = 0; i < r->nworkers; i++)
        nlost += strcmp(r->workers[i].status, "lost") == 0;
    fprintf(out, "\nLost workers: %s\n", nlost ? "" : "none.");
    for (size_t i = 0; i < r->nworkers; i++) {
        const struct rworker *w = &r->workers[i];
        if (strcmp(w->status, "lost") != 0)
            continue;
        char when[40];
        report_time(w->lost_at, when, sizeof when);
        fprintf(out, "\n- %s (%s), in phase %s at %s: ", w->name, w->label,
                w->lost_phase ? w->lost_phase : "-", when);
        report_esc_md(out, w->lost_reason ? w->lost_reason : "-");
        fputc('\n', out);
    }
}
