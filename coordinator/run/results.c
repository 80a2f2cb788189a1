/* results.c — what workers report back: READY (a barrier's answers, with
 * the worker's clock offset) and RESULT.  A RESULT is checked (this run,
 * a repetition the worker was asked to run, not stale: s_stale_reason),
 * turned into rows (a failed repetition is one row for the headline metric;
 * a network server's view becomes details of its client's row), stored in
 * the pump's group commit, and acknowledged only after that commit. */
#include "coord_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

#define COORD_MAX_CLOCK_NS (86400 * NS_PER_SEC)

void results_ready(coord_t *c, struct cworker *w, const proto_msg_t *m)
{
    if (proto_int(m, "epoch", 1) != w->epoch || proto_int(m, "run", -1) != c->run_key ||
        proto_int(m, "phase", -1) != w->phase || proto_int(m, "rep", -1) != w->rep ||
        w->step != STEP_PREPARED) {
        log_debug("%s: stale READY ignored", w->name);
        return;
    }
    int64_t off = proto_int(m, "offset_ns", 0), err = proto_int(m, "offset_err_ns", 0);
    /* a clock more than a day off, or an error bound outside a day, is
     * nonsense (or hostile): treat the offset as unknown */
    if (off < -COORD_MAX_CLOCK_NS || off > COORD_MAX_CLOCK_NS || err < 0 ||
        err > COORD_MAX_CLOCK_NS)
        off = err = 0;
    int n = (int)proto_int(m, "offset_n", 0);
    if (off != w->offset_ns || err != w->offset_err_ns || n != w->clock_n) {
        /* stored after the barrier, with everyone else's (coord_flush_clocks) */
        w->offset_ns = off;
        w->offset_err_ns = err;
        w->clock_n = n;
        w->clock_dirty = true;
    }
    free(w->endpoint);
    w->endpoint = proto_str(m, "endpoint") ? coord_strdup(proto_str(m, "endpoint")) : NULL;
    if (proto_bool(m, "ok", false)) {
        w->step = STEP_READY;
    } else {
        w->step = STEP_NOTREADY;
        free(w->step_error);
        w->step_error = coord_strdup(proto_str(m, "error") ? proto_str(m, "error") : "not ready");
    }
}

static void s_ack(coord_t *c, const char *to, int64_t run, int64_t phase, int64_t rep,
                  const char *refused)
{
    proto_builder_t *b = proto_begin(PROTO_ACK);
    proto_put_int(b, "run", run);
    proto_put_int(b, "phase", phase);
    proto_put_int(b, "rep", rep);
    if (refused)
        proto_put_str(b, "refused", refused);
    coord_send_msg(c, to, b);
}

/* A result that must not be stored (see s_stale_reason); the ACK tells the
 * worker to drop it from its spool. */
static void s_refuse_stale(coord_t *c, struct cworker *w, const proto_msg_t *m, const char *why)
{
    int64_t phase = proto_int(m, "phase", -1);
    log_warn("%s: refused its result of phase %s rep %" PRId64 ": %s", w->name,
             phase >= 0 && (size_t)phase < c->exp->nphases ? c->exp->phases[phase].name : "?",
             proto_int(m, "rep", -1), why);
    s_ack(c, w->name, proto_int(m, "run", -1), phase, proto_int(m, "rep", -1), why);
}

/* Epochs exist to refuse stale re-runs, not finished work.  A result from
 * an earlier epoch than the worker's (it finished after being declared
 * lost, or waited in its spool), or from a worker that is lost now, is kept
 * when it measured what it was asked to measure, undisturbed; it is refused
 * when
 *   - its epoch is one this coordinator never gave (newer than the worker's);
 *   - the worker itself stood still during the measurement for more than a
 *     heartbeat (SIGSTOP, a paused VM: its figure counts the freeze);
 *   - in a round-robin phase, it finished after the coordinator declared
 *     the worker lost and let the next one take its turn (the two
 *     measurements overlapped on what they share).
 * True, with the reason in why, when it is refused. */
static bool s_stale_reason(coord_t *c, struct cworker *w, const proto_msg_t *m, char *why,
                           size_t len)
{
    int64_t ep = proto_int(m, "epoch", 1), phase = proto_int(m, "phase", -1);
    if (ep > w->epoch) {
        snprintf(why, len, "from epoch %" PRId64 ", which %s was never given (it is in epoch %"
                 PRId64 ")", ep, w->name, w->epoch);
        return true;
    }
    if (ep == w->epoch && !w->lost)
        return false;
    int64_t stalled = proto_int(m, "stalled_ns", 0);
    if (stalled > (int64_t)c->hb_ms * NS_PER_MS) {
        snprintf(why, len, "from epoch %" PRId64 ", measured while %s was frozen for %.1f s", ep,
                 w->name, (double)stalled / NS_PER_SEC);
        return true;
    }
    if (phase >= 0 && (size_t)phase < c->exp->nphases &&
        c->exp->phases[phase].schedule == SCHED_ROUND_ROBIN && w->lost_wall &&
        proto_int(m, "finished_at", 0) > w->lost_wall) {
        snprintf(why, len, "from epoch %" PRId64 ", finished after %s was declared lost and the "
                 "next worker took its turn", ep, w->name);
        return true;
    }
    return false;
}

/* A result in the open batch: ACKed after the commit.  current: it ended
 * w's repetition in progress (undone if the commit fails). */
struct pending_ack {
    struct cworker *w;
    int64_t run, phase, rep;
    bool current;
};

/* Open the batch for this pump's results.  0, or the store's error. */
static int s_batch_open(coord_t *c)
{
    if (c->batch_open)
        return 0;
    int rc = store_batch_begin(c->store);
    c->batch_open = rc == 0;
    return rc;
}

/* Commit what this pump stored, then acknowledge it.  A busy database
 * acknowledges nothing: the workers send again, and the repetitions they
 * ended are waited for again. */
void results_batch_close(coord_t *c)
{
    if (!c->batch_open)
        return;
    c->batch_open = false;
    int rc = store_batch_commit(c->store);
    for (size_t i = 0; i < c->nacks; i++) {
        struct pending_ack *a = &c->acks[i];
        if (rc == 0) {
            s_ack(c, a->w->name, a->run, a->phase, a->rep, NULL);
        } else if (a->current && a->w->step == STEP_DONE) {
            a->w->step = STEP_GO;
            a->w->started_at = 0;
        }
    }
    if (rc == STORE_BUSY)
        log_warn("database busy: %zu results not stored yet (their workers send them again)",
                 c->nacks);
    else if (rc != 0) {
        coord_store_failed(c, "cannot store results");
    }
    c->nacks = 0;
}

/* Is w one of ph's servers (by name or platform)? */
static bool s_serves(const struct exp_phase *ph, const struct cworker *w)
{
    for (size_t i = 0; i < ph->nservers; i++)
        if (strcmp(ph->servers[i], w->name) == 0 || strcmp(ph->servers[i], w->platform) == 0)
            return true;
    return false;
}

/* Does this RESULT belong where w is?  The repetition in progress
 * (*current), or one this worker finished before (a re-send after a lost
 * ACK, or from its spool to the coordinator that resumed the run); never
 * one of another run, or one it has not been told to run (dropped), nor a
 * stale one (refused: the worker drops it from its spool). */
static bool s_result_belongs(coord_t *c, struct cworker *w, const proto_msg_t *m, bool *current)
{
    int64_t run = proto_int(m, "run", -1), phase = proto_int(m, "phase", -1),
            rep = proto_int(m, "rep", -1);
    const char *status = proto_str(m, "status");
    if (run != c->run_key || phase < 0 || (size_t)phase >= c->exp->nphases || rep < 1 ||
        rep > c->exp->phases[phase].reps || (strcmp(status, "ok") && strcmp(status, "failed"))) {
        c->dropped++;
        log_warn("%s: RESULT for run %" PRId64 " phase %" PRId64 " rep %" PRId64
                 " does not belong to this run; dropped",
                 w->name, run, phase, rep);
        return false;
    }
    char why[256];
    if (s_stale_reason(c, w, m, why, sizeof why)) {
        s_refuse_stale(c, w, m, why);
        return false;
    }
    *current = phase == w->phase && rep == w->rep && w->step == STEP_GO;
    bool earlier = phase < w->phase || (phase == w->phase && rep < w->rep) ||
                   (phase == w->phase && rep == w->rep &&
                    (w->step == STEP_DONE || w->step == STEP_NONE /* admitted again since */)) ||
                   phase <= c->resume_phase;
    if (!*current && !earlier) {
        c->dropped++;
        log_warn("%s: RESULT for phase %" PRId64 " rep %" PRId64 " it was not asked to run; dropped",
                 w->name, phase, rep);
        return false;
    }
    const struct exp_phase *ph = &c->exp->phases[phase];
    if (!*current && ph->nservers && s_serves(ph, w)) {
        /* a server's report that came after its client's result was
         * stored and the server released: nothing to keep it under */
        log_debug("%s: late server report of %s rep %" PRId64 " dropped", w->name, ph->name, rep);
        s_ack(c, w->name, run, phase, rep, NULL);
        return false;
    }
    return true;
}

/* A RESULT's rows, ready for the store. */
struct rows {
    struct bench_metric metrics[BENCH_MAX_METRICS];
    struct bench_detail details[BENCH_MAX_DETAILS];
    size_t nm, nd;
    const char *status;
};

/* Its metrics and details as sent; a failed repetition (or one without a
 * metric) is one row for the phase's headline metric.  A server's details
 * are prefixed "server." (as_server). */
static void s_rows(const proto_msg_t *m, const struct exp_phase *ph, bool as_server,
                   struct rows *r)
{
    r->status = proto_str(m, "status");
    for (size_t i = 0; i < proto_metrics_count(m, "metrics") && r->nm < BENCH_MAX_METRICS; i++) {
        proto_metric_t pm;
        if (proto_metrics_get(m, "metrics", i, &pm) == 0 && isfinite(pm.value)) {
            struct bench_metric *x = &r->metrics[r->nm++];
            snprintf(x->name, sizeof x->name, "%s", pm.name);
            snprintf(x->unit, sizeof x->unit, "%s", pm.unit);
            x->value = pm.value;
        }
    }
    if (!as_server && (r->nm == 0 || strcmp(r->status, "ok") != 0)) {
        snprintf(r->metrics[0].name, sizeof r->metrics[0].name, "%s", ph->bench->metric);
        snprintf(r->metrics[0].unit, sizeof r->metrics[0].unit, "%s", ph->bench->unit);
        r->metrics[0].value = 0;
        r->nm = 1;
        if (strcmp(r->status, "ok") == 0)
            r->status = "failed";
    }
    const char *prefix = as_server ? "server." : "";
    for (size_t i = 0; i < proto_strmap_count(m, "details") && r->nd < BENCH_MAX_DETAILS; i++) {
        const char *k, *v;
        if (proto_strmap_get(m, "details", i, &k, &v) == 0) {
            struct bench_detail *d = &r->details[r->nd++];
            snprintf(d->key, sizeof d->key, "%s%.40s", prefix, k);
            snprintf(d->value, sizeof d->value, "%s", v);
        }
    }
}

/* A server's view of a network test is stored as details of its client's
 * result ("server.received_Mbps", "server.worker", ...), not as rows of
 * its own: its metrics become details. */
static void s_server_rows(const struct cworker *w, const proto_msg_t *m, struct rows *r)
{
    const char *extra_k[] = { "server.worker", "server.status", "server.error" };
    const char *extra_v[] = { w->name, r->status, proto_str(m, "error") };
    for (size_t i = 0; i < r->nm && r->nd < BENCH_MAX_DETAILS; i++, r->nd++) {
        struct bench_detail *d = &r->details[r->nd];
        snprintf(d->key, sizeof d->key, "server.%.40s", r->metrics[i].name);
        snprintf(d->value, sizeof d->value, "%.17g", r->metrics[i].value);
    }
    for (size_t i = 0; i < 3 && r->nd < BENCH_MAX_DETAILS; i++) {
        if (!extra_v[i])
            continue;
        snprintf(r->details[r->nd].key, sizeof r->details[r->nd].key, "%s", extra_k[i]);
        snprintf(r->details[r->nd].value, sizeof r->details[r->nd].value, "%s", extra_v[i]);
        r->nd++;
    }
    r->nm = 0;
}

/* Store into the open batch and queue its ACK for after the commit. */
static void s_store(coord_t *c, struct cworker *w, const proto_msg_t *m, bool current,
                    const struct store_result *r)
{
    int64_t run = proto_int(m, "run", -1), phase = proto_int(m, "phase", -1),
            rep = proto_int(m, "rep", -1);
    int src = s_batch_open(c);
    if (src == 0)
        src = store_result_put(c->store, c->run, r);
    if (src == STORE_BUSY) {
        /* another writer holds the database: no ACK, the worker re-sends */
        log_warn("%s: database busy, result of %s rep %" PRId64 " not stored yet", w->name,
                 c->exp->phases[phase].name, rep);
        return;
    }
    if (src != 0) {
        /* not acknowledged: the worker keeps it in its spool */
        coord_store_failed(c, "cannot store result");
        return;
    }
    if (c->nacks == c->capacks) {
        c->capacks = c->capacks ? 2 * c->capacks : 64;
        c->acks = realloc(c->acks, c->capacks * sizeof *c->acks);
    }
    c->acks[c->nacks++] = (struct pending_ack){ w, run, phase, rep, current };
    if (current) {
        w->step = STEP_DONE;
        w->started_at = r->started_at;
    }
}

void results_result(coord_t *c, struct cworker *w, const proto_msg_t *m)
{
    bool current = false;
    if (!s_result_belongs(c, w, m, &current))
        return;
    int64_t phase = proto_int(m, "phase", -1);
    const struct exp_phase *ph = &c->exp->phases[phase];
    bool as_server = w->serving && current;
    struct rows rows = { .nm = 0 };
    s_rows(m, ph, as_server, &rows);
    /* times far from the GO instant are a broken clock: keep them unknown */
    int64_t started = proto_int(m, "started_at", 0), finished = proto_int(m, "finished_at", 0);
    if (w->go_at && (started < w->go_at - COORD_MAX_CLOCK_NS ||
                     started > w->go_at + COORD_MAX_CLOCK_NS || finished < started ||
                     finished > started + COORD_MAX_CLOCK_NS))
        started = finished = 0;
    if (as_server)
        s_server_rows(w, m, &rows);
    struct store_result r = {
        .phase = (int)phase,
        .rep = (int)proto_int(m, "rep", -1),
        .worker = as_server ? w->serving : w->name,
        .status = rows.status,
        .error = as_server ? NULL : proto_str(m, "error"),
        .scheduled_at = current ? w->go_at : 0,
        .started_at = started,
        .finished_at = finished,
        .metrics = rows.metrics,
        .nmetrics = rows.nm,
        .details = rows.details,
        .ndetails = rows.nd,
    };
    s_store(c, w, m, current, &r);
}

int coord_store_unfinished(coord_t *c, struct cworker *w, const char *status, const char *error)
{
    const struct exp_phase *ph = &c->exp->phases[w->phase];
    struct bench_metric m = { .value = 0 };
    snprintf(m.name, sizeof m.name, "%s", ph->bench->metric);
    snprintf(m.unit, sizeof m.unit, "%s", ph->bench->unit);
    struct store_result r = {
        .phase = w->phase, .rep = w->rep, .worker = w->name, .status = status,
        .error = error, .metrics = &m, .nmetrics = 1,
    };
    w->step = STEP_DONE;
    int rc;
    /* nobody will re-send this row: wait out a concurrent writer (bounded) */
    for (int i = 0; (rc = store_result_put(c->store, c->run, &r)) == STORE_BUSY && i < 20; i++)
        ;
    if (rc != 0) {
        coord_store_failed(c, "cannot store result");
        return -1;
    }
    return 0;
}

