/* sched.c — the lockstep itself.  Per phase and repetition: PREPARE to the
 * participants, wait for READY (a barrier with a deadline), broadcast GO with
 * a start instant a little in the future, wait for every RESULT.  Schedule
 * `lockstep` does that once for all participants; `round-robin` once per
 * worker in rank order, so co-located platforms do not disturb each other.
 * Every wait has a deadline; a worker that misses it is lost and the run goes
 * on without it.  Network phases are sched_net.c's, the start skew's record
 * skew.c's and closing admission admit.c's (sched_int.h joins them). */
#include "schedule.h"

#include "coord_int.h"
#include "decide.h"
#include "sched_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <czmq.h>

#include "clock.h"
#include "log.h"
#include "progress.h"
#include "proto.h"

/* The run is being abandoned (interrupt, failed commit): nobody is to blame
 * for a missed deadline then. */
bool sched_stopping(const coord_t *c)
{
    return c->store_failed || (c->interrupted && *c->interrupted);
}

/* Pump until cond holds, the deadline passes, the run is interrupted or a
 * commit failed.  True when cond holds.  The deadline moves by however long
 * the coordinator itself stood still meanwhile (coord.c notices): nobody
 * misses a deadline while the one who keeps it is asleep. */
bool sched_wait(coord_t *c, sched_cond_fn cond, void *arg, int64_t deadline)
{
    int64_t stalled0 = c->stalled_ns;
    for (;;) {
        if (cond(c, arg))
            return true;
        if (sched_stopping(c))
            return false;
        int ms = clock_ms_until(deadline + (c->stalled_ns - stalled0));
        if (ms <= 0) {
            /* past it: but first, were we asleep?  (a pump notices, and
             * takes in what arrived meanwhile) */
            int64_t before = c->stalled_ns;
            coord_pump(c, 0);
            if (c->stalled_ns != before)
                continue;
            return cond(c, arg);
        }
        /* the pump wakes sooner for its own duties (heartbeats, SYNC) */
        coord_pump(c, ms < 200 ? ms : 200);
        progress_tick();
    }
}

static struct decide_worker s_dw(const struct cworker *w)
{
    return (struct decide_worker){ .name = w->name, .platform = w->platform, .lost = w->lost,
                                   .rejoined = w->rejoined };
}

/* Is w to measure in phase ph (decide_selected)? */
static bool s_selected(const struct experiment *exp, const struct exp_phase *ph,
                       const struct cworker *w)
{
    return decide_selected(exp, ph, w->name, w->platform);
}

struct stepset {
    struct cworker **w;
    size_t n;
    step_t waiting; /* the step everyone must have left */
    size_t next;    /* w[0..next-1] have left it (a worker never comes back
                       to the step waited on while the wait lasts) */
};

static bool s_none_in(coord_t *c, void *arg)
{
    (void)c;
    struct stepset *set = arg;
    while (set->next < set->n &&
           (set->w[set->next]->lost || set->w[set->next]->step != set->waiting))
        set->next++;
    return set->next == set->n;
}

static int64_t s_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* PREPARE with the phase's params plus nx extra ones (role, peers, port
 * of a network phase). */
void sched_send_prepare(coord_t *c, struct cworker *w, int pidx, int rep, int64_t timeout_ns,
                        const char *const *xk, const char *const *xv, size_t nx)
{
    const struct exp_phase *ph = &c->exp->phases[pidx];
    w->phase = pidx;
    w->rep = rep;
    w->step = STEP_PREPARED;
    w->started_at = 0;
    w->go_at = 0;
    size_t n = ph->nparams + nx;
    const char **keys = calloc(n + 1, sizeof *keys), **vals = calloc(n + 1, sizeof *vals);
    for (size_t i = 0; i < ph->nparams; i++) {
        keys[i] = ph->keys[i];
        vals[i] = ph->vals[i];
    }
    for (size_t i = 0; i < nx; i++) {
        keys[ph->nparams + i] = xk[i];
        vals[ph->nparams + i] = xv[i];
    }
    proto_builder_t *b = proto_begin(PROTO_PREPARE);
    proto_put_int(b, "run", c->run_key);
    proto_put_int(b, "phase", pidx);
    proto_put_int(b, "rep", rep);
    proto_put_str(b, "bench", ph->bench->name);
    proto_put_strmap(b, "params", keys, vals, n);
    proto_put_int(b, "timeout_ms", timeout_ns / NS_PER_MS);
    if (nx)
        proto_put_str(b, "role", xv[0]);
    free(keys);
    free(vals);
    void *data;
    size_t len;
    if (proto_finish(&b, &data, &len) != 0)
        return;
    /* kept, for a worker that registers again before it answers */
    free(w->prepare);
    w->prepare = malloc(len);
    w->prepare_len = w->prepare ? len : 0;
    if (w->prepare)
        memcpy(w->prepare, data, len);
    coord_send(c, w->name, data, len);
}

/* Deadline for one repetition's results, after its start instant. */
int64_t sched_result_window(const struct experiment *exp, const struct exp_phase *ph)
{
    if (ph->timeout_ns > 0)
        return ph->timeout_ns;
    int64_t expected = ph->bench->expected_ns ? ph->bench->expected_ns(ph->opts) : 0;
    if (expected <= 0)
        expected = 60 * NS_PER_SEC; /* unknown duration: a generous minute */
    return expected + exp->grace_ns;
}

/* Wait for READY from set[0..n-1] (all PREPAREd).  Those that miss the
 * deadline are lost; those not ready get a failed row (under their own name,
 * or, for a server, under the client it was to serve).  Compacts the ready
 * ones to the front of set and returns how many. */
size_t sched_barrier(coord_t *c, struct cworker **set, size_t n, int64_t barrier_timeout_ns)
{
    const struct exp_phase *ph = &c->exp->phases[set[0]->phase];
    struct stepset ss = { set, n, STEP_PREPARED, 0 };
    bool all = sched_wait(c, s_none_in, &ss, clock_mono_ns() + barrier_timeout_ns);
    if (!all && !sched_stopping(c)) {
        for (size_t i = 0; i < n; i++)
            if (!set[i]->lost && set[i]->step == STEP_PREPARED)
                coord_mark_lost(c, set[i], "no READY before the barrier deadline");
    }
    size_t nready = 0;
    for (size_t i = 0; i < n; i++) {
        struct cworker *w = set[i];
        if (w->lost)
            continue;
        if (w->step == STEP_NOTREADY) {
            log_warn("%s: %s rep %d failed in prepare: %s", w->name, ph->name, w->rep,
                     w->step_error);
            if (!w->serving)
                coord_store_unfinished(c, w, "failed", w->step_error);
            w->step = STEP_DONE;
        } else if (w->step == STEP_READY) {
            set[nready++] = w;
        }
    }
    return nready;
}

/* Send GO: one broadcast on the PUB socket, or (LOCKSTEP_GO_MODE, for
 * measurement only) a message to each worker in turn over the ROUTER. */
static void s_send_go(coord_t *c, int pidx, int rep, int64_t start_at, struct cworker **set,
                      size_t n)
{
    proto_builder_t *b = proto_begin(PROTO_GO);
    proto_put_int(b, "run", c->run_key);
    proto_put_int(b, "phase", pidx);
    proto_put_int(b, "rep", rep);
    proto_put_int(b, "start_at", c->go_mode == GO_NAIVE ? 0 : start_at);
    void *data;
    size_t len;
    if (proto_finish(&b, &data, &len) != 0)
        return;
    if (c->go_mode == GO_PUB) {
        coord_publish(c, data, len);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        void *copy = malloc(len);
        memcpy(copy, data, len);
        coord_send(c, set[i]->name, copy, len);
    }
    free(data);
}


/* GO for set[0..n-1] (all READY), wait for their results, store the start
 * skew of a lockstep repetition.  np: a network wave (servers released as
 * their clients report, never lost for a pair's failure). */
void sched_go(coord_t *c, int pidx, int rep, struct cworker **set, size_t n,
              const struct repcost *rc, struct netpairs *np)
{
    const struct exp_phase *ph = &c->exp->phases[pidx];
    if (n == 0 || sched_stopping(c))
        return;
    int64_t send0 = clock_mono_ns();
    int64_t go_at = clock_wall_ns() + (c->go_mode == GO_NAIVE ? 0 : c->exp->start_delay_ns);
    for (size_t i = 0; i < n; i++) {
        if (set[i]->step != STEP_READY) /* lost and back since its READY: not in this one */
            continue;
        set[i]->step = STEP_GO;
        set[i]->go_at = go_at;
    }
    s_send_go(c, pidx, rep, go_at, set, n);
    /* a worker back from a silence may not receive broadcasts yet */
    for (size_t i = 0; c->go_mode == GO_PUB && i < n; i++)
        if (set[i]->step == STEP_GO && !set[i]->synced)
            coord_send_go(c, set[i]);
    int64_t go_send_ns = clock_mono_ns() - send0;
    /* the READYs carried any new clock measurements: store them in one
     * transaction while the workers wait for the start instant */
    coord_flush_clocks(c);
    struct stepset gs = { set, n, STEP_GO, 0 };
    int64_t window = c->exp->start_delay_ns +
                     (np && np->window_ns > 0 ? np->window_ns : sched_result_window(c->exp, ph));
    bool all = np ? sched_wait(c, sched_net_done, np, clock_mono_ns() + window)
                  : sched_wait(c, s_none_in, &gs, clock_mono_ns() + window);
    if (!all && !sched_stopping(c)) {
        for (size_t i = 0; i < n; i++) {
            if (set[i]->lost || set[i]->step != STEP_GO)
                continue;
            if (set[i]->serving) {
                /* a server waits for its client: that is no fault of its own */
                log_warn("%s: still serving %s at the phase deadline; stopped and released",
                         set[i]->name, set[i]->serving);
                sched_send_stop(c, set[i], pidx, rep);
                set[i]->step = STEP_DONE;
                continue;
            }
            coord_mark_lost(c, set[i], "no RESULT before the phase deadline");
        }
    }
    int64_t collect_ns = clock_wall_ns() - go_at;
    if (ph->schedule == SCHED_LOCKSTEP) {
        /* skew among the measuring workers (servers only wait for them) */
        int64_t lo = INT64_MAX, hi = INT64_MIN, err = 0;
        const struct cworker *first = NULL, *last = NULL;
        for (size_t i = 0; i < n; i++) {
            struct cworker *w = set[i];
            if (w->lost || w->started_at == 0 || w->serving)
                continue;
            if (w->started_at < lo) {
                lo = w->started_at;
                first = w;
            }
            if (w->started_at > hi) {
                hi = w->started_at;
                last = w;
            }
            err = w->offset_err_ns > err ? w->offset_err_ns : err;
        }
        /* results.c keeps started_at within a day of go_at and err within a
         * day, so neither difference nor double can overflow */
        if (lo <= hi) {
            struct store_rep_cost cost = {
                .barrier_ns = rc ? rc->barrier_ns : 0,
                .go_send_ns = go_send_ns,
                .collect_ns = collect_ns,
                .coord_cpu_ns = rc ? s_cpu_ns() - rc->cpu0 : 0,
                .skew_tolerance_ns = ph->skew_tolerance_ns,
                .over_tolerance = ph->skew_tolerance_ns > 0 && hi - lo > ph->skew_tolerance_ns,
            };
            sched_record_skew(c, pidx, rep, go_at, hi - lo, 2 * err, &cost, first, last);
        }
    }
}

/* One PREPARE -> READY -> GO -> RESULT step over `set`. */
static void s_step(coord_t *c, int pidx, int rep, struct cworker **set, size_t n,
                   int64_t barrier_timeout_ns)
{
    struct repcost rc = { .t0_mono = clock_mono_ns(), .cpu0 = s_cpu_ns() };
    for (size_t i = 0; i < n; i++)
        sched_send_prepare(c, set[i], pidx, rep, barrier_timeout_ns, NULL, NULL, 0);
    size_t nready = sched_barrier(c, set, n, barrier_timeout_ns);
    rc.barrier_ns = clock_mono_ns() - rc.t0_mono;
    sched_go(c, pidx, rep, set, nready, &rc, NULL);
}

static void s_params_json(const struct exp_phase *ph, char *buf, size_t len)
{
    size_t off = (size_t)snprintf(buf, len, "{");
    for (size_t i = 0; i < ph->nparams && off < len; i++) {
        off += (size_t)snprintf(buf + off, len - off, "%s\"%s\": \"", i ? ", " : "", ph->keys[i]);
        for (const char *p = ph->vals[i]; *p && off + 2 < len; p++) {
            if (*p == '"' || *p == '\\')
                buf[off++] = '\\';
            buf[off++] = *p;
        }
        off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "\"");
    }
    if (off < len)
        snprintf(buf + off, len - off, "}");
}

static void s_mark_done(const char *name, void *arg)
{
    zhash_insert(arg, name, (void *)1);
}

/* Resuming: take out of set the workers the database already has a row
 * for at (p, rep) — stored before the coordinator died, or re-sent from a
 * spool since (every spooled result arrives before its worker's SYNC_OK, so
 * all are in by now).  True when nobody who measures is left: the
 * repetition was done before. */
static bool s_resume_done(coord_t *c, const struct exp_phase *ph, int p, int rep,
                          struct cworker **set, size_t *n)
{
    zhash_t *done = zhash_new();
    if (store_rep_workers(c->store, c->run, p, rep, s_mark_done, done) < 0)
        log_warn("%s: cannot read what phase %s rep %d stored: %s", store_path(c->store),
                 ph->name, rep, store_errmsg(c->store));
    struct decide_worker *dw = calloc(*n ? *n : 1, sizeof *dw);
    bool *isdone = calloc(*n ? *n : 1, sizeof *isdone);
    size_t *keep = calloc(*n ? *n : 1, sizeof *keep);
    struct resume_plan plan = { .nkeep = *n };
    if (dw && isdone && keep) {
        for (size_t i = 0; i < *n; i++) {
            dw[i] = s_dw(set[i]);
            isdone[i] = zhash_lookup(done, set[i]->name) != NULL;
        }
        plan = decide_resume(ph, dw, isdone, *n, zhash_size(done), keep);
        for (size_t k = 0; k < plan.nkeep; k++)
            set[k] = set[keep[k]]; /* keep[k] >= k: an in-place compaction */
    }
    if (zhash_size(done) && !plan.skip)
        log_info("resumed: phase %s rep %d runs again for the %zu workers without a result",
                 ph->name, rep, plan.measurers);
    zhash_destroy(&done);
    free(dw);
    free(isdone);
    free(keep);
    *n = plan.nkeep;
    return plan.skip;
}

/* Store phase p as run; false (and the run is abandoned) when that fails. */
static bool s_phase_put(coord_t *c, size_t p)
{
    const struct exp_phase *ph = &c->exp->phases[p];
    char params[4096];
    s_params_json(ph, params, sizeof params);
    if (store_phase_put(c->store, c->run, (int)p, ph->name, ph->bench->name,
                        sched_name(ph->schedule), ph->reps, params, ph->reference_for) == 0)
        return true;
    coord_store_failed(c, "cannot store phase");
    return false;
}

/* Round-robin: the workers take turns in an order that rotates by one
 * from one repetition to the next, so that no platform always runs first
 * (on a cold machine) or last (on one warmed by the others); the order is
 * stored with the repetition. */
static void s_round_robin(coord_t *c, int p, int rep, struct cworker **set, size_t n,
                          int64_t barrier_timeout_ns)
{
    struct cworker **turn = calloc(n, sizeof *turn);
    char order[4096] = "";
    size_t used = 0;
    if (!turn) {
        log_warn("phase %s rep %d: out of memory", c->exp->phases[p].name, rep);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        turn[i] = set[(i + (size_t)(rep - 1)) % n];
        int k = snprintf(order + used, sizeof order - used, "%s%s", i ? "," : "", turn[i]->name);
        used = k > 0 && used + (size_t)k < sizeof order ? used + (size_t)k : used;
    }
    if (store_rep_order(c->store, c->run, p, rep, order) != 0)
        log_warn("%s: cannot store the order of phase %s rep %d: %s", store_path(c->store),
                 c->exp->phases[p].name, rep, store_errmsg(c->store));
    log_debug("phase %s rep %d: turns %s", c->exp->phases[p].name, rep, order);
    for (size_t i = 0; i < n && !c->store_failed; i++)
        if (!turn[i]->lost)
            s_step(c, p, rep, &turn[i], 1, barrier_timeout_ns);
    free(turn);
}

/* One repetition of phase p.  False when the phase has nobody left to run
 * it (its remaining repetitions are skipped). */
static bool s_rep(coord_t *c, size_t p, int rep, struct cworker **set, bool resumable,
                  int64_t barrier_timeout_ns)
{
    const struct exp_phase *ph = &c->exp->phases[p];
    c->cur_rep = rep;
    size_t n = 0;
    for (size_t i = 0; i < c->nworkers; i++) {
        struct cworker *w = c->workers[i];
        struct decide_worker dw = s_dw(w);
        if (decide_takes_part(c->exp, ph, &dw, c->rejoin))
            set[n++] = w;
    }
    if (resumable && s_resume_done(c, ph, (int)p, rep, set, &n))
        return true;
    progress_rep(rep, set, n);
    if (n == 0) {
        log_warn("phase %s: no live worker takes part", ph->name);
        c->shortfall = true;
        return false;
    }
    if (ph->nservers || ph->ntargets)
        sched_net_rep(c, (int)p, rep, set, n, barrier_timeout_ns);
    else if (ph->schedule == SCHED_LOCKSTEP)
        s_step(c, (int)p, rep, set, n, barrier_timeout_ns);
    else
        s_round_robin(c, (int)p, rep, set, n, barrier_timeout_ns);
    return true;
}

/* interleave: repetition 1 of every phase, then repetition 2, ... */
static void s_interleaved(coord_t *c, struct cworker **set, int64_t barrier_timeout_ns)
{
    const struct experiment *exp = c->exp;
    int maxreps = 0;
    for (size_t p = 0; p < exp->nphases; p++) {
        if (!s_phase_put(c, p))
            return;
        maxreps = exp->phases[p].reps > maxreps ? exp->phases[p].reps : maxreps;
    }
    bool *gone = calloc(exp->nphases, sizeof *gone);
    for (int rep = 1; rep <= maxreps && gone && !sched_stopping(c); rep++) {
        for (size_t p = 0; p < exp->nphases && !sched_stopping(c); p++) {
            if (gone[p] || rep > exp->phases[p].reps)
                continue;
            c->cur_phase = (int)p;
            progress_phase(c, p);
            /* every phase was started at once: any may have rows already */
            gone[p] = !s_rep(c, p, rep, set, c->resume_phase >= 0, barrier_timeout_ns);
        }
    }
    for (size_t p = 0; p < exp->nphases; p++)
        sched_log_phase_skew(c, p);
    free(gone);
}

/* Has every worker a row for every repetition of every phase it was to
 * run?  (A worker that was lost and missed repetitions has not.) */
static bool s_all_covered(coord_t *c)
{
    bool all = true;
    for (size_t p = 0; p < c->exp->nphases && all; p++) {
        const struct exp_phase *ph = &c->exp->phases[p];
        for (int rep = 1; rep <= ph->reps && all; rep++) {
            zhash_t *done = zhash_new();
            if (store_rep_workers(c->store, c->run, (int)p, rep, s_mark_done, done) < 0)
                all = false;
            for (size_t i = 0; i < c->nworkers && all; i++) {
                struct cworker *w = c->workers[i];
                if (w->rank >= 0 && s_selected(c->exp, ph, w) && !zhash_lookup(done, w->name))
                    all = false;
            }
            zhash_destroy(&done);
        }
    }
    return all;
}

run_status_t sched_phases(coord_t *c, int64_t barrier_timeout_ns)
{
    const struct experiment *exp = c->exp;
    struct cworker **set = calloc(c->nworkers ? c->nworkers : 1, sizeof *set);
    if (exp->interleave)
        s_interleaved(c, set, barrier_timeout_ns);
    for (size_t p = 0; p < exp->nphases && !exp->interleave; p++) {
        if (!s_phase_put(c, p))
            break;
        c->cur_phase = (int)p;
        progress_phase(c, p);
        for (int rep = 1; rep <= exp->phases[p].reps; rep++) {
            if (!s_rep(c, p, rep, set, (int)p <= c->resume_phase, barrier_timeout_ns) ||
                sched_stopping(c))
                break;
        }
        sched_log_phase_skew(c, p);
        if (sched_stopping(c))
            break;
    }
    coord_flush_clocks(c);
    c->cur_phase = c->cur_rep = -1;
    free(set);
    struct run_counts k = { .stopped = sched_stopping(c), .shortfall = c->shortfall };
    if (!k.stopped) {
        store_run_counts(c->store, c->run, &k.ok, &k.failed, &k.lost);
        k.uncovered = k.ok && !k.failed && !k.lost && !k.shortfall && !s_all_covered(c);
    }
    return decide_run_status(&k);
}

void sched_quit(coord_t *c, const char *reason)
{
    for (size_t i = 0; i < c->nworkers; i++) {
        proto_builder_t *b = proto_begin(PROTO_QUIT);
        proto_put_str(b, "reason", reason);
        void *data;
        size_t len;
        if (proto_finish(&b, &data, &len) == 0)
            coord_send(c, c->workers[i]->name, data, len);
    }
}
