/* report_load.c — read one run back from the store into the report's model:
 * per phase, the headline metric grouped by platform with its statistics and
 * the ratio to the baseline; the start skew of lockstep repetitions; which
 * network phases ran against local servers and which against public ones;
 * the workers and their losses; the expectations, evaluated. */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "model/experiment.h"
#include "store/export.h"
#include "report.h"

static char *s_dup(const unsigned char *s)
{
    return strdup(s ? (const char *)s : "");
}

static char *s_dupn(const unsigned char *s)
{
    return s ? strdup((const char *)s) : NULL;
}

static sqlite3_stmt *s_prep(store_t *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store_handle(s), sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    return st;
}

static struct rgroup *s_group(struct rphase *ph, const char *platform, const char *kind)
{
    for (size_t i = 0; i < ph->ngroups; i++)
        if (strcmp(ph->groups[i].platform, platform) == 0)
            return &ph->groups[i];
    struct rgroup *g = realloc(ph->groups, (ph->ngroups + 1) * sizeof *g);
    if (!g)
        return NULL;
    ph->groups = g;
    g = &ph->groups[ph->ngroups++];
    memset(g, 0, sizeof *g);
    g->platform = strdup(platform);
    g->kind = strdup(kind);
    g->detected = strdup("");
    g->ratio = NAN;
    return g;
}

/* Add a worker's own detection to the group's list (once) and flag it when
 * it is not the kind the group was launched as. */
static void s_detected(struct rgroup *g, const char *detected)
{
    if (strcmp(detected, g->kind) != 0)
        g->mismatch = true;
    size_t n = strlen(detected), len = strlen(g->detected);
    for (const char *p = g->detected; (p = strstr(p, detected)) != NULL; p += n)
        if ((p == g->detected || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return;
    char *d = realloc(g->detected, len + n + 2);
    if (!d)
        return;
    snprintf(d + len, n + 2, "%s%s", len ? "," : "", detected);
    g->detected = d;
}

static int s_push(double **v, size_t *n, double x)
{
    double *p = realloc(*v, (*n + 1) * sizeof *p);
    if (!p)
        return -1;
    p[(*n)++] = x;
    *v = p;
    return 0;
}

/* Platform order: by kind (native, docker, kvm, qemu, others), then name. */
static int s_group_cmp(const void *a, const void *b)
{
    const struct rgroup *x = a, *y = b;
    int c = export_platform_cmp(x->kind, y->kind);
    return c ? c : export_platform_cmp(x->platform, y->platform);
}

const struct rgroup *report_group(const struct rphase *ph, const char *name)
{
    const struct rgroup *kind = NULL;
    size_t nkind = 0;
    for (size_t i = 0; i < ph->ngroups; i++) {
        if (strcmp(ph->groups[i].platform, name) == 0)
            return &ph->groups[i];
        if (strcmp(ph->groups[i].kind, name) == 0) {
            kind = &ph->groups[i];
            nkind++;
        }
    }
    return nkind == 1 ? kind : NULL;
}

/* The phase's sample per platform, its statistics and ratios. */
static int s_phase_values(store_t *s, report_t *r, struct rphase *ph)
{
    sqlite3_stmt *st = s_prep(s, "SELECT COALESCE(" EXPORT_PLATFORM_LABEL("w") ", 'unknown'),"
                                 " r.value, r.status, r.unit,"
                                 " COALESCE(" EXPORT_PLATFORM_KIND("w") ", 'unknown'),"
                                 " COALESCE(w.platform, 'unknown')"
                                 " FROM results r LEFT JOIN workers w"
                                 " ON w.run = r.run AND w.name = r.worker"
                                 " WHERE r.run=? AND r.phase=? AND r.metric=?"
                                 " ORDER BY w.rank, r.worker, r.rep");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, r->run);
    sqlite3_bind_int(st, 2, ph->idx);
    sqlite3_bind_text(st, 3, ph->metric, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct rgroup *g = s_group(ph, (const char *)sqlite3_column_text(st, 0),
                                   (const char *)sqlite3_column_text(st, 4));
        if (!g) {
            sqlite3_finalize(st);
            return -1;
        }
        s_detected(g, (const char *)sqlite3_column_text(st, 5));
        const char *status = (const char *)sqlite3_column_text(st, 2);
        double v = sqlite3_column_double(st, 1);
        if (!ph->unit && sqlite3_column_text(st, 3))
            ph->unit = s_dup(sqlite3_column_text(st, 3));
        if (sqlite3_column_type(st, 1) != SQLITE_NULL && isfinite(v) && status &&
            strcmp(status, "ok") == 0)
            s_push(&g->values, &g->n, v);
        else if (status && strcmp(status, "lost") == 0)
            g->nlost++;
        else
            g->nfailed++;
    }
    sqlite3_finalize(st);
    if (!ph->unit)
        ph->unit = strdup("");
    if (ph->ngroups > 1)
        qsort(ph->groups, ph->ngroups, sizeof *ph->groups, s_group_cmp);
    double base = NAN;
    for (size_t i = 0; i < ph->ngroups; i++)
        stats_compute(ph->groups[i].values, ph->groups[i].n, &ph->groups[i].st);
    const struct rgroup *bg = report_group(ph, r->baseline);
    if (bg && bg->n) {
        base = bg->st.median;
        r->baseline_present = true;
    }
    for (size_t i = 0; i < ph->ngroups; i++)
        ph->groups[i].ratio = isfinite(base) && base != 0 ? ph->groups[i].st.median / base : NAN;
    return 0;
}

static void s_phase_skew(store_t *s, const report_t *r, struct rphase *ph)
{
    sqlite3_stmt *st = s_prep(s, "SELECT skew_ns, skew_err_ns FROM rep_timing"
                                 " WHERE run=? AND phase=? AND skew_ns IS NOT NULL");
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, r->run);
    sqlite3_bind_int(st, 2, ph->idx);
    double *v = NULL;
    size_t n = 0;
    double err = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        s_push(&v, &n, (double)sqlite3_column_int64(st, 0) / 1e3);
        double e = (double)sqlite3_column_int64(st, 1) / 1e3;
        err = e > err ? e : err;
    }
    sqlite3_finalize(st);
    struct stats k;
    stats_compute(v, n, &k);
    ph->nskew = n;
    ph->skew_median_us = k.median;
    ph->skew_max_us = k.max;
    ph->skew_err_us = err;
    free(v);
}

/* A client of a local server has the server's view as details server.*;
 * a client of public targets has only the target it used. */
static void s_phase_net(store_t *s, const report_t *r, struct rphase *ph)
{
    sqlite3_stmt *st = s_prep(
        s, "SELECT key, group_concat(DISTINCT value) FROM result_details"
           " WHERE run=? AND phase=? AND key IN ('server.worker', 'target') GROUP BY key");
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, r->run);
    sqlite3_bind_int(st, 2, ph->idx);
    char *target = NULL, *server = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        if (key && strcmp(key, "server.worker") == 0)
            server = s_dupn(sqlite3_column_text(st, 1));
        else
            target = s_dupn(sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    if (server) {
        ph->net = RNET_LOCAL;
        ph->peers = server;
        free(target);
    } else if (target) {
        ph->net = RNET_PUBLIC;
        ph->peers = target;
    }
}

static int s_phases(store_t *s, report_t *r)
{
    sqlite3_stmt *st =
        s_prep(s, "SELECT idx, name, bench, schedule, reps FROM phases WHERE run=? ORDER BY idx");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, r->run);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct rphase *p = realloc(r->phases, (r->nphases + 1) * sizeof *p);
        if (!p)
            break;
        r->phases = p;
        p = &r->phases[r->nphases++];
        memset(p, 0, sizeof *p);
        p->idx = sqlite3_column_int(st, 0);
        p->name = s_dup(sqlite3_column_text(st, 1));
        p->bench = s_dup(sqlite3_column_text(st, 2));
        p->schedule = s_dup(sqlite3_column_text(st, 3));
        p->reps = sqlite3_column_int(st, 4);
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < r->nphases; i++) {
        struct rphase *ph = &r->phases[i];
        char metric[64];
        if (export_phase_metric(s, r->run, ph->idx, metric, sizeof metric) != 0) {
            ph->metric = strdup("");
            ph->unit = strdup("");
            continue; /* no results: shown as such */
        }
        ph->metric = strdup(metric);
        if (s_phase_values(s, r, ph) != 0)
            return -1;
        s_phase_skew(s, r, ph);
        if (strcmp(ph->bench, "iperf") == 0)
            s_phase_net(s, r, ph);
    }
    return 0;
}

static int s_workers(store_t *s, report_t *r)
{
    sqlite3_stmt *st = s_prep(s, "SELECT name, platform, hostname, kernel, cpu_model, cores,"
                                 " mem_bytes, status, lost_phase, lost_reason, lost_at,"
                                 " COALESCE(" EXPORT_PLATFORM_LABEL("w") ", 'unknown'),"
                                 " NULLIF(launched_as, ''), detected, distro, disk_model,"
                                 " (SELECT group_concat(key || '=' || value, ', ') FROM"
                                 "  (SELECT key, value FROM worker_labels l WHERE l.run = w.run"
                                 "   AND l.worker = w.name ORDER BY key))"
                                 " FROM workers w WHERE run=? ORDER BY rank, name");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, r->run);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct rworker *w = realloc(r->workers, (r->nworkers + 1) * sizeof *w);
        if (!w)
            break;
        r->workers = w;
        w = &r->workers[r->nworkers++];
        w->name = s_dup(sqlite3_column_text(st, 0));
        w->platform = s_dup(sqlite3_column_text(st, 1));
        w->hostname = s_dup(sqlite3_column_text(st, 2));
        w->kernel = s_dup(sqlite3_column_text(st, 3));
        w->cpu_model = s_dup(sqlite3_column_text(st, 4));
        w->cores = sqlite3_column_int64(st, 5);
        w->mem_bytes = sqlite3_column_int64(st, 6);
        w->status = s_dup(sqlite3_column_text(st, 7));
        w->lost_phase = s_dupn(sqlite3_column_text(st, 8));
        w->lost_reason = s_dupn(sqlite3_column_text(st, 9));
        w->lost_at = sqlite3_column_int64(st, 10);
        w->label = s_dup(sqlite3_column_text(st, 11));
        w->launched_as = s_dupn(sqlite3_column_text(st, 12));
        w->detected = s_dupn(sqlite3_column_text(st, 13));
        w->distro = s_dupn(sqlite3_column_text(st, 14));
        w->disk_model = s_dupn(sqlite3_column_text(st, 15));
        w->labels = s_dupn(sqlite3_column_text(st, 16));
    }
    sqlite3_finalize(st);
    return 0;
}

/* The median of detail key over phase idx's results of platform label
 * (NAN when none reported it). */
static double s_detail_median(store_t *s, const report_t *r, int idx, const char *label,
                              const char *key)
{
    sqlite3_stmt *st = s_prep(s, "SELECT CAST(d.value AS REAL) FROM result_details d"
                                 " JOIN workers w ON w.run = d.run AND w.name = d.worker"
                                 " WHERE d.run = ?1 AND d.phase = ?2 AND d.key = ?3"
                                 " AND " EXPORT_PLATFORM_LABEL("w") " = ?4");
    double *v = NULL;
    size_t n = 0;
    if (!st)
        return NAN;
    sqlite3_bind_int64(st, 1, r->run);
    sqlite3_bind_int(st, 2, idx);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, label, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW)
        s_push(&v, &n, sqlite3_column_double(st, 0));
    sqlite3_finalize(st);
    struct stats x;
    stats_compute(v, n, &x);
    free(v);
    return n ? x.median : NAN;
}

/* The CPU and round-trip medians of a platform's local and public phases. */
static void s_lvp_evidence(store_t *s, const report_t *r, struct rlvp *l)
{
    l->cpu_local = l->cpu_pub = l->rtt_local = l->rtt_pub = NAN;
    for (size_t i = 0; i < r->nphases; i++) {
        const struct rphase *ph = &r->phases[i];
        if (!ph->net)
            continue;
        double cpu = s_detail_median(s, r, ph->idx, l->platform, "cpu_local_pct");
        double rtt = s_detail_median(s, r, ph->idx, l->platform, "rtt_mean_ms");
        double *c = ph->net == RNET_LOCAL ? &l->cpu_local : &l->cpu_pub;
        double *t = ph->net == RNET_LOCAL ? &l->rtt_local : &l->rtt_pub;
        if (!isnan(cpu))
            *c = cpu;
        if (!isnan(rtt))
            *t = rtt;
    }
}

/* Per client platform: every local-server value against every public one. */
static void s_lvp(store_t *s, report_t *r)
{
    bool local = false, pub = false;
    for (size_t i = 0; i < r->nphases; i++) {
        local |= r->phases[i].net == RNET_LOCAL;
        pub |= r->phases[i].net == RNET_PUBLIC;
    }
    if (!local || !pub)
        return;
    const char **plats = NULL;
    size_t np = 0;
    for (size_t i = 0; i < r->nphases; i++)
        for (size_t g = 0; r->phases[i].net && g < r->phases[i].ngroups; g++) {
            const char *p = r->phases[i].groups[g].platform;
            bool seen = false;
            for (size_t k = 0; k < np; k++)
                seen |= strcmp(plats[k], p) == 0;
            const char **q = seen ? plats : realloc(plats, (np + 1) * sizeof *q);
            if (!q)
                break;
            plats = q;
            if (!seen)
                plats[np++] = p;
        }
    r->lvp = calloc(np ? np : 1, sizeof *r->lvp);
    for (size_t k = 0; r->lvp && k < np; k++) {
        double *lv = NULL, *pv = NULL;
        size_t nl = 0, npub = 0;
        for (size_t i = 0; i < r->nphases; i++)
            for (size_t g = 0; r->phases[i].net && g < r->phases[i].ngroups; g++) {
                const struct rgroup *gr = &r->phases[i].groups[g];
                if (strcmp(gr->platform, plats[k]) != 0)
                    continue;
                for (size_t j = 0; j < gr->n; j++)
                    if (r->phases[i].net == RNET_LOCAL)
                        s_push(&lv, &nl, gr->values[j]);
                    else
                        s_push(&pv, &npub, gr->values[j]);
            }
        struct rlvp *l = &r->lvp[r->nlvp++];
        l->platform = strdup(plats[k]);
        stats_compute(lv, nl, &l->local);
        stats_compute(pv, npub, &l->pub);
        l->ratio = nl && npub && l->local.median != 0 ? l->pub.median / l->local.median : NAN;
        s_lvp_evidence(s, r, l);
        free(lv);
        free(pv);
    }
    free(plats);
    if (r->nlvp > 1) {
        /* platform order, like every other table */
        for (size_t i = 1; i < r->nlvp; i++)
            for (size_t j = i; j > 0 && export_platform_cmp(r->lvp[j - 1].platform,
                                                            r->lvp[j].platform) > 0; j--) {
                struct rlvp t = r->lvp[j];
                r->lvp[j] = r->lvp[j - 1];
                r->lvp[j - 1] = t;
            }
    }
}

/* Below this share of the local throughput, the public path is what limits. */
#define LVP_LIMIT 0.8

/* A sender this busy is what limits its throughput (iperf3's own CPU
 * utilisation figure, user + system of its process). */
#define LVP_CPU_BOUND 90.0

/* ", sender CPU 12% locally, 3% publicly, RTT 0.05 ms / 10.3 ms" */
static void s_lvp_evidence_text(const struct rlvp *l, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    if (!isnan(l->cpu_local) && !isnan(l->cpu_pub)) {
        int k = snprintf(buf, len, "; sender CPU %.0f%% locally, %.0f%% publicly", l->cpu_local,
                         l->cpu_pub);
        used = k > 0 && (size_t)k < len ? (size_t)k : used;
    }
    if (!isnan(l->rtt_local) && !isnan(l->rtt_pub))
        snprintf(buf + used, len - used, "; RTT %.2f ms locally, %.2f ms publicly", l->rtt_local,
                 l->rtt_pub);
}

void report_lvp_verdict(const struct rlvp *l, char *buf, size_t len)
{
    char ev[160];
    s_lvp_evidence_text(l, ev, sizeof ev);
    bool busy_pub = !isnan(l->cpu_pub) && l->cpu_pub >= LVP_CPU_BOUND;
    bool busy_local = !isnan(l->cpu_local) && l->cpu_local >= LVP_CPU_BOUND;
    if (!l->local.n || !l->pub.n)
        snprintf(buf, len, "%s", !l->local.n ? "no local result" : "no public result");
    else if (l->ratio < LVP_LIMIT && !busy_pub)
        snprintf(buf, len, "beyond the host: the public path carries %.0f%% of what %s reaches "
                           "locally, with its CPU to spare%s",
                 100 * l->ratio, l->platform, ev);
    else if (l->ratio < LVP_LIMIT)
        snprintf(buf, len, "the platform's CPU: its sender is saturated against the public "
                           "server (public %.0f%% of local)%s", 100 * l->ratio, ev);
    else if (busy_local || busy_pub)
        snprintf(buf, len, "the platform itself: its sender's CPU is saturated (public reaches "
                           "%.0f%% of local)%s", 100 * l->ratio, ev);
    else
        snprintf(buf, len, "the platform itself: public reaches %.0f%% of local%s",
                 100 * l->ratio, ev);
}

void report_lvp_summary(const report_t *r, char *buf, size_t len)
{
    size_t beyond = 0, n = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < r->nlvp; i++) {
        const struct rlvp *l = &r->lvp[i];
        if (!l->local.n || !l->pub.n)
            continue;
        n++;
        beyond += l->ratio < LVP_LIMIT;
        lo = l->pub.median < lo ? l->pub.median : lo;
        hi = l->pub.median > hi ? l->pub.median : hi;
    }
    if (n == 0) {
        snprintf(buf, len, "No platform has both local and public results.");
        return;
    }
    double spread = hi > 0 ? 100 * (hi - lo) / hi : 0;
    if (beyond == n)
        snprintf(buf, len,
                 "Every platform measured both ways is slower against the public server than "
                 "against the local one, and the public throughput %s (spread %.0f%%): the "
                 "bottleneck lies outside the host — the uplink or the public server — not in "
                 "the platforms.",
                 spread <= 10 ? "is the same on all of them" : "differs between them", spread);
    else if (beyond == 0)
        snprintf(buf, len, "Every platform measured both ways reaches about the same throughput "
                           "publicly as locally: the platforms themselves are the bottleneck, not "
                           "the path to the public server.");
    else
        snprintf(buf, len, "%zu of %zu platforms are limited by the public path; the others "
                           "by themselves.", beyond, n);
}

bool report_median(void *ctx, const char *phase, const char *platform, double *median)
{
    const report_t *r = ctx;
    for (size_t i = 0; i < r->nphases; i++) {
        const struct rphase *ph = &r->phases[i];
        if (strcmp(ph->name, phase) != 0)
            continue;
        const struct rgroup *g = report_group(ph, platform);
        if (!g || !g->n)
            return false;
        *median = g->st.median;
        return true;
    }
    return false;
}

static void s_add_expect(report_t *r, const char *text)
{
    struct rexpect *e = realloc(r->expects, (r->nexpects + 1) * sizeof *e);
    if (!e)
        return;
    r->expects = e;
    e = &r->expects[r->nexpects++];
    memset(e, 0, sizeof *e);
    e->text = strdup(text);
    struct expectation x;
    char buf[1024];
    size_t col = 0;
    if (expect_parse(text, &x, buf, sizeof buf, &col) != 0) {
        char why[1100];
        snprintf(why, sizeof why, "column %zu: %s", col + 1, buf);
        e->why = strdup(why);
        e->bad = true;
        e->verdict = EXPECT_NO_DATA;
        return;
    }
    expect_format(&x, buf, sizeof buf);
    e->canon = strdup(buf);
    e->verdict = expect_eval(&x, report_median, r, buf, sizeof buf);
    e->why = strdup(buf);
}

void report_expectations(report_t *r, const char *const *extra, size_t nextra)
{
    if (r->source && r->source[0]) {
        struct experiment *exp = NULL;
        if (experiment_parse(r->file ? r->file : "experiment", r->source, strlen(r->source),
                             &exp, NULL) == 0) {
            for (size_t i = 0; i < exp->nexpectations; i++)
                s_add_expect(r, exp->expectations[i]);
            experiment_destroy(&exp);
        } else {
            r->expect_note = strdup("the experiment stored with this run does not load any "
                                    "more (lockstep validate says why); its expectations are "
                                    "not checked");
        }
    }
    for (size_t i = 0; i < nextra; i++)
        s_add_expect(r, extra[i]);
}

report_t *report_load(store_t *s, int64_t run, const char *baseline, char *err, size_t errlen)
{
    if (run <= 0)
        run = store_last_run(s);
    if (run <= 0) {
        snprintf(err, errlen, "%s: holds no run yet", store_path(s));
        return NULL;
    }
    sqlite3_stmt *st = s_prep(s, "SELECT experiment, file, source, status, started_at,"
                                 " finished_at FROM runs WHERE id=?");
    if (!st) {
        snprintf(err, errlen, "%s: %s", store_path(s), store_errmsg(s));
        return NULL;
    }
    sqlite3_bind_int64(st, 1, run);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        snprintf(err, errlen, "%s: no run %lld", store_path(s), (long long)run);
        return NULL;
    }
    report_t *r = calloc(1, sizeof *r);
    if (!r) {
        sqlite3_finalize(st);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->run = run;
    r->db = strdup(store_path(s));
    r->baseline = strdup(baseline ? baseline : "native");
    r->experiment = s_dup(sqlite3_column_text(st, 0));
    r->file = s_dupn(sqlite3_column_text(st, 1));
    r->source = s_dupn(sqlite3_column_text(st, 2));
    r->status = s_dup(sqlite3_column_text(st, 3));
    r->started_at = sqlite3_column_int64(st, 4);
    r->finished_at = sqlite3_column_int64(st, 5);
    sqlite3_finalize(st);
    if (r->source) {
        /* the description, for the title; a file that no longer loads has none */
        struct experiment *exp = NULL;
        if (experiment_parse("x", r->source, strlen(r->source), &exp, NULL) == 0) {
            if (exp->description)
                r->description = strdup(exp->description);
            experiment_destroy(&exp);
        }
    }
    if (s_phases(s, r) != 0 || s_workers(s, r) != 0) {
        snprintf(err, errlen, "%s: %s", store_path(s), store_errmsg(s));
        report_destroy(&r);
        return NULL;
    }
    s_lvp(s, r);
    if (report_load_conditions(s, r) != 0 || report_load_calibration(s, r) != 0) {
        snprintf(err, errlen, "%s: %s", store_path(s), store_errmsg(s));
        report_destroy(&r);
        return NULL;
    }
    return r;
}

void report_destroy(report_t **r_p)
{
    report_t *r = *r_p;
    if (!r)
        return;
    for (size_t i = 0; i < r->nphases; i++) {
        struct rphase *ph = &r->phases[i];
        for (size_t g = 0; g < ph->ngroups; g++) {
            free(ph->groups[g].platform);
            free(ph->groups[g].kind);
            free(ph->groups[g].detected);
            free(ph->groups[g].values);
        }
        free(ph->groups);
        free(ph->name);
        free(ph->bench);
        free(ph->schedule);
        free(ph->metric);
        free(ph->unit);
        free(ph->peers);
    }
    free(r->phases);
    for (size_t i = 0; i < r->nworkers; i++) {
        struct rworker *w = &r->workers[i];
        free(w->name);
        free(w->platform);
        free(w->hostname);
        free(w->kernel);
        free(w->cpu_model);
        free(w->status);
        free(w->lost_phase);
        free(w->lost_reason);
        free(w->detected);
        free(w->distro);
        free(w->disk_model);
        free(w->labels);
        free(w->label);
        free(w->launched_as);
    }
    free(r->workers);
    for (size_t i = 0; i < r->nexpects; i++) {
        free(r->expects[i].text);
        free(r->expects[i].canon);
        free(r->expects[i].why);
    }
    free(r->expects);
    free(r->expect_note);
    for (size_t i = 0; i < r->nlvp; i++)
        free(r->lvp[i].platform);
    free(r->lvp);
    report_conditions_free(r);
    report_calibration_free(r);
    free(r->db);
    free(r->experiment);
    free(r->description);
    free(r->status);
    free(r->file);
    free(r->source);
    free(r->baseline);
    free(r);
    *r_p = NULL;
}
