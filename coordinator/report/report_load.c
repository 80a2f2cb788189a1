/* report_load.c — read one run back from the store into the report's model:
 * per phase, the headline metric grouped by platform with its statistics and
 * the ratio to the baseline; the start skew of lockstep repetitions; which
 * network phases ran against local servers and which against public ones;
 * the workers and their losses; the expectations, evaluated. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/experiment.h"
#include "store/export.h"
#include "store/report_query.h"
#include "report.h"

static char *s_dup(const char *s)
{
    return strdup(s ? s : "");
}

static char *s_dupn(const char *s)
{
    return s ? strdup(s) : NULL;
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

/* One row of the phase's headline metric into its platform's sample. */
static void s_value_row(const struct store_value_row *v, void *arg)
{
    struct rphase *ph = arg;
    struct rgroup *g = s_group(ph, v->label, v->kind);
    if (!g) {
        ph->oom = true;
        return;
    }
    s_detected(g, v->detected);
    if (!ph->unit && v->unit)
        ph->unit = s_dup(v->unit);
    if (v->has_value && isfinite(v->value) && v->status && strcmp(v->status, "ok") == 0)
        s_push(&g->values, &g->n, v->value);
    else if (v->status && strcmp(v->status, "lost") == 0)
        g->nlost++;
    else
        g->nfailed++;
}

/* The phase's sample per platform, its statistics and ratios. */
static int s_phase_values(store_t *s, report_t *r, struct rphase *ph)
{
    if (store_read_values(s, r->run, ph->idx, ph->metric, s_value_row, ph) < 0 || ph->oom)
        return -1;
    if (!ph->unit)
        ph->unit = strdup(ph->stored_unit ? ph->stored_unit : "");
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

struct skews {
    double *v, err;
    size_t n;
};

static void s_skew_row(const struct store_skew_row *k, void *arg)
{
    struct skews *sk = arg;
    s_push(&sk->v, &sk->n, (double)k->skew_ns / 1e3);
    double e = (double)k->err_ns / 1e3;
    sk->err = e > sk->err ? e : sk->err;
}

static void s_phase_skew(store_t *s, const report_t *r, struct rphase *ph)
{
    struct skews sk = { NULL, 0, 0 };
    store_read_skews(s, r->run, ph->idx, s_skew_row, &sk);
    struct stats k;
    stats_compute(sk.v, sk.n, &k);
    ph->nskew = sk.n;
    ph->skew_median_us = k.median;
    ph->skew_max_us = k.max;
    ph->skew_err_us = sk.err;
    free(sk.v);
}

/* A client of a local server has the server's view as details server.*;
 * a client of public targets has only the target it used. */
static void s_phase_net(store_t *s, const report_t *r, struct rphase *ph)
{
    char *target = NULL, *server = NULL;
    store_read_peers(s, r->run, ph->idx, &server, &target);
    if (server) {
        ph->net = RNET_LOCAL;
        ph->peers = server;
        free(target);
    } else if (target) {
        ph->net = RNET_PUBLIC;
        ph->peers = target;
    }
}

static void s_phase_row(const struct store_phase_row *row, void *arg)
{
    report_t *r = arg;
    struct rphase *p = realloc(r->phases, (r->nphases + 1) * sizeof *p);
    if (!p)
        return;
    r->phases = p;
    p = &r->phases[r->nphases++];
    memset(p, 0, sizeof *p);
    p->idx = row->idx;
    p->name = s_dup(row->name);
    p->bench = s_dup(row->bench);
    p->schedule = s_dup(row->schedule);
    p->reps = row->reps;
    p->paired = row->paired;
    p->stored_unit = s_dupn(row->unit);
    p->reference_for = row->reference_for && *row->reference_for ? strdup(row->reference_for)
                                                                  : NULL;
}

static int s_phases(store_t *s, report_t *r)
{
    if (store_read_phases(s, r->run, s_phase_row, r) < 0)
        return -1;
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
        if (ph->paired)
            s_phase_net(s, r, ph);
    }
    return 0;
}

static void s_worker_row(const struct store_worker_row *row, void *arg)
{
    report_t *r = arg;
    struct rworker *w = realloc(r->workers, (r->nworkers + 1) * sizeof *w);
    if (!w)
        return;
    r->workers = w;
    w = &r->workers[r->nworkers++];
    w->name = s_dup(row->name);
    w->platform = s_dup(row->platform);
    w->hostname = s_dup(row->hostname);
    w->kernel = s_dup(row->kernel);
    w->cpu_model = s_dup(row->cpu_model);
    w->cores = row->cores;
    w->mem_bytes = row->mem_bytes;
    w->status = s_dup(row->status);
    w->lost_phase = s_dupn(row->lost_phase);
    w->lost_reason = s_dupn(row->lost_reason);
    w->lost_at = row->lost_at;
    w->label = s_dup(row->label);
    w->launched_as = s_dupn(row->launched_as);
    w->detected = s_dupn(row->detected);
    w->distro = s_dupn(row->distro);
    w->disk_model = s_dupn(row->disk_model);
    w->labels = s_dupn(row->labels);
}

static int s_workers(store_t *s, report_t *r)
{
    return store_read_workers(s, r->run, s_worker_row, r) < 0 ? -1 : 0;
}

/* The median of detail key over phase idx's results of platform label
 * (NAN when none reported it). */
static double s_detail_median(store_t *s, const report_t *r, int idx, const char *label,
                              const char *key)
{
    double *v = NULL;
    size_t n = 0;
    if (store_read_detail_reals(s, r->run, idx, label, key, &v, &n) != 0) {
        free(v);
        return NAN;
    }
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

static void s_run_row(const struct store_run_row *row, void *arg)
{
    report_t *r = arg;
    r->experiment = s_dup(row->experiment);
    r->file = s_dupn(row->file);
    r->source = s_dupn(row->source);
    r->status = s_dup(row->status);
    r->started_at = row->started_at;
    r->finished_at = row->finished_at;
}

report_t *report_load(store_t *s, int64_t run, const char *baseline, char *err, size_t errlen)
{
    if (run <= 0)
        run = store_last_run(s);
    if (run <= 0) {
        snprintf(err, errlen, "%s: holds no run yet", store_path(s));
        return NULL;
    }
    report_t *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->run = run;
    int found = store_read_run(s, run, s_run_row, r);
    if (found <= 0) {
        if (found < 0)
            snprintf(err, errlen, "%s: %s", store_path(s), store_errmsg(s));
        else
            snprintf(err, errlen, "%s: no run %lld", store_path(s), (long long)run);
        report_destroy(&r);
        return NULL;
    }
    r->db = strdup(store_path(s));
    r->baseline = strdup(baseline ? baseline : "native");
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
        free(ph->stored_unit);
        free(ph->reference_for);
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
