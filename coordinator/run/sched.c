/* sched.c — the lockstep itself.  Per phase and repetition: PREPARE to the
 * participants, wait for READY (a barrier with a deadline), broadcast GO with
 * a start instant a little in the future, wait for every RESULT.  Schedule
 * `lockstep` does that once for all participants; `round-robin` once per
 * worker in rank order, so co-located platforms do not disturb each other.
 * Every wait has a deadline; a worker that misses it is lost and the run goes
 * on without it. */
#include "schedule.h"

#include "coord_int.h"
#include "decide.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <czmq.h>

#include "clock.h"
#include "log.h"
#include "model/pairing.h"
#include "progress.h"
#include "proto.h"

#define PAIR_ATTEMPTS 8 /* candidates per client in a network phase */

typedef bool (*cond_fn)(coord_t *c, void *arg);

/* The run is being abandoned (interrupt, failed commit): nobody is to blame
 * for a missed deadline then. */
static bool s_stopping(const coord_t *c)
{
    return c->store_failed || (c->interrupted && *c->interrupted);
}

/* Pump until cond holds, the deadline passes, the run is interrupted or a
 * commit failed.  True when cond holds.  The deadline moves by however long
 * the coordinator itself stood still meanwhile (coord.c notices): nobody
 * misses a deadline while the one who keeps it is asleep. */
static bool s_wait(coord_t *c, cond_fn cond, void *arg, int64_t deadline)
{
    int64_t stalled0 = c->stalled_ns;
    for (;;) {
        if (cond(c, arg))
            return true;
        if (s_stopping(c))
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

static bool s_all_admitted(coord_t *c, void *arg)
{
    (void)arg;
    if (c->nexpect_names && c->launch_gone) {
        /* every launched platform is here, or will never come */
        for (size_t i = 0; i < c->nexpect_names; i++)
            if (!coord_worker(c, c->expect_names[i]) &&
                !c->launch_gone(c->launch_ctx, c->expect_names[i]))
                return false;
        return true;
    }
    if (c->nexpect_names)
        return c->nworkers == c->nexpect_names;
    return c->expect_count > 0 && (int)c->nworkers >= c->expect_count;
}

/* arg: a cursor.  Confirmation and loss are for good, so a worker found
 * done is never looked at again: a barrier of N costs O(N) in all, not O(N)
 * per message. */
static bool s_all_synced(coord_t *c, void *arg)
{
    size_t *next = arg;
    while (*next < c->nworkers && (c->workers[*next]->lost || c->workers[*next]->synced))
        (*next)++;
    return *next == c->nworkers;
}

static int s_by_name(const void *a, const void *b)
{
    return strcmp((*(struct cworker *const *)a)->name, (*(struct cworker *const *)b)->name);
}

/* Admission closed short: say who never came (stored as absent) — or, when
 * only a count was expected, how many. */
static void s_name_absent(coord_t *c, size_t want)
{
    if (!c->nexpect_names) {
        log_warn("%zu of %zu expected workers arrived before the deadline; %zu never did "
                 "(--expect NAMES would name them); going on with those here",
                 c->nworkers, want, want - c->nworkers);
        return;
    }
    char missing[1024] = "", reason[128];
    size_t used = 0;
    snprintf(reason, sizeof reason, "never arrived: admission closed after %.0f s",
             (double)(clock_mono_ns() - c->admit_started_ns) / NS_PER_SEC);
    for (size_t i = 0; i < c->nexpect_names; i++) {
        const char *name = c->expect_names[i];
        if (coord_worker(c, name) || (c->prior && zhash_lookup(c->prior, name)))
            continue; /* a resumed run's absentees are recorded as lost below */
        int k = snprintf(missing + used, sizeof missing - used, "%s%s", used ? ", " : "", name);
        used = k > 0 && used + (size_t)k < sizeof missing ? used + (size_t)k : used;
        if (store_worker_absent(c->store, c->run, name, clock_wall_ns(), reason) != 0)
            log_warn("%s: cannot record that %s never arrived: %s", store_path(c->store), name,
                     store_errmsg(c->store));
    }
    log_warn("%zu of %zu expected workers arrived before the deadline; never arrived: %s; "
             "going on with those here", c->nworkers, want, missing[0] ? missing : "(none new)");
}

int sched_admit(coord_t *c, int64_t admit_deadline, int64_t barrier_timeout_ns)
{
    c->admit_started_ns = clock_mono_ns();
    c->admitting = true;
    s_wait(c, s_all_admitted, NULL, admit_deadline);
    c->admitting = false;
    if (c->nexpect_names || c->expect_count) {
        size_t want = c->nexpect_names ? c->nexpect_names : (size_t)c->expect_count;
        if (c->nworkers < want) {
            c->shortfall = true;
            s_name_absent(c, want);
        }
    }
    if (c->nworkers > 1)
        qsort(c->workers, c->nworkers, sizeof *c->workers, s_by_name);
    /* one transaction (one fsync) for all the workers, not one each */
    bool batch = store_batch_begin(c->store) == 0;
    for (size_t i = 0; i < c->nworkers; i++) {
        struct cworker *w = c->workers[i];
        w->rank = (int)i;
        struct store_worker sw = {
            .name = w->name, .rank = w->rank, .platform = w->platform, .hostname = w->hostname,
            .kernel = w->kernel, .cpu_model = w->cpu_model, .advertise = w->advertise,
            .cores = w->cores, .mem_bytes = w->mem_bytes, .pid = w->pid,
            .clock_offset_ns = w->offset_ns, .clock_err_ns = w->offset_err_ns,
            .joined_at = w->joined_at,
            .launched_as = c->launched_as ? c->launched_as(c->launch_ctx, w->name) : NULL,
            .epoch = w->epoch,
            .detected = w->detected, .distro = w->distro, .disk_model = w->disk_model,
            .labels = (const char *const *)w->labels, .nlabels = w->nlabels,
        };
        if (store_worker_put(c->store, c->run, &sw) != 0) {
            if (batch)
                store_batch_commit(c->store);
            coord_store_failed(c, "cannot store worker");
            return 0;
        }
        if (w->lost)
            store_worker_lost(c->store, c->run, w->name, clock_wall_ns(), "lost during admission",
                              NULL);
        else if (w->rejoined) /* lost before the run was resumed, back now */
            store_worker_rejoined(c->store, c->run, w->name, w->epoch, clock_wall_ns());
    }
    /* a worker of the resumed run that did not come back is lost now */
    if (c->prior) {
        zlist_t *names = zhash_keys(c->prior);
        for (const char *k = zlist_first(names); k; k = zlist_next(names))
            if (!coord_worker(c, k)) {
                c->shortfall = true;
                store_worker_lost(c->store, c->run, k, clock_wall_ns(),
                                  "did not come back when the run was resumed", NULL);
            }
        zlist_destroy(&names);
    }
    if (batch && store_batch_commit(c->store) != 0) {
        coord_store_failed(c, "cannot store workers");
        return 0;
    }
    size_t cursor = 0;
    if (!s_wait(c, s_all_synced, &cursor, clock_mono_ns() + barrier_timeout_ns) &&
        !s_stopping(c)) {
        for (size_t i = 0; i < c->nworkers; i++)
            if (!c->workers[i]->lost && !c->workers[i]->synced)
                coord_mark_lost(c, c->workers[i], "never confirmed its subscription (SYNC)");
    }
    return (int)c->nworkers;
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

/* What one repetition cost: filled in by s_step / s_go. */
struct repcost {
    int64_t t0_mono, cpu0;       /* when the first PREPARE went out */
    int64_t barrier_ns;          /* first PREPARE -> last READY */
};

/* PREPARE with the phase's params plus nx extra ones (role, peers, port
 * of a network phase). */
static void s_send_prepare(coord_t *c, struct cworker *w, int pidx, int rep, int64_t timeout_ns,
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
static int64_t s_result_window(const struct experiment *exp, const struct exp_phase *ph)
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
static size_t s_barrier(coord_t *c, struct cworker **set, size_t n, int64_t barrier_timeout_ns)
{
    const struct exp_phase *ph = &c->exp->phases[set[0]->phase];
    struct stepset ss = { set, n, STEP_PREPARED, 0 };
    if (!s_wait(c, s_none_in, &ss, clock_mono_ns() + barrier_timeout_ns) && !s_stopping(c)) {
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

/* The start skew of a lockstep repetition: in the database, the log and the
 * phase's summary; flagged when over the phase's tolerance. */
static void s_record_skew(coord_t *c, int pidx, int rep, int64_t go_at, int64_t skew,
                          int64_t err, const struct store_rep_cost *cost,
                          const struct cworker *first, const struct cworker *last)
{
    const struct exp_phase *ph = &c->exp->phases[pidx];
    store_rep_timing(c->store, c->run, pidx, rep, go_at, skew, err);
    store_rep_cost(c->store, c->run, pidx, rep, cost);
    if (!c->skew)
        c->skew = calloc(c->exp->nphases, sizeof *c->skew);
    struct phase_skew *ps = &c->skew[pidx];
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 16;
        ps->skew_ns = realloc(ps->skew_ns, ps->cap * sizeof *ps->skew_ns);
    }
    ps->skew_ns[ps->n++] = skew;
    ps->err_ns = err > ps->err_ns ? err : ps->err_ns;
    ps->over += cost->over_tolerance;
    if (cost->barrier_ns > ps->barrier_max_ns)
        ps->barrier_max_ns = cost->barrier_ns;
    if (cost->over_tolerance)
        log_warn("%s rep %d: start skew %.1f us (+/- %.1f us) exceeds the tolerance of %.1f us: "
                 "%s started last, %.1f us after %s and %.1f us after the start instant",
                 ph->name, rep, skew / 1e3, err / 1e3, cost->skew_tolerance_ns / 1e3,
                 last ? last->name : "?", skew / 1e3, first ? first->name : "?",
                 last ? (double)(last->started_at - go_at) / 1e3 : 0.0);
    else
        log_debug("%s rep %d: start skew %.1f us (+/- %.1f us), barrier %.2f ms, GO sent in "
                  "%.3f ms, results in %.2f ms", ph->name, rep, skew / 1e3, err / 1e3,
                  cost->barrier_ns / 1e6, cost->go_send_ns / 1e6, cost->collect_ns / 1e6);
}

/* The pairs of a network wave being waited for: clients[i] measures
 * against servers[i] (NULL: a public target). */
struct netpairs {
    struct cworker **clients, **servers;
    size_t n;
    int64_t window_ns;     /* the wave's result deadline after its start instant */
    int64_t *done_at;      /* monotonic: when clients[i] was seen finished */
    int64_t *stop_at;      /* monotonic: when servers[i] was sent STOP */
    int pidx, rep;
};

/* A server waits this long for its own report once its client has
 * reported (an iperf3 server ends a moment after its client), then is told
 * to STOP, and is released (without blame) this long after that. */
#define SERVER_AFTER_CLIENT_NS (2 * NS_PER_SEC)
#define SERVER_AFTER_STOP_NS (4 * NS_PER_SEC)

static void s_send_stop(coord_t *c, struct cworker *w, int pidx, int rep)
{
    proto_builder_t *b = proto_begin(PROTO_STOP);
    proto_put_int(b, "run", c->run_key);
    proto_put_int(b, "phase", pidx);
    proto_put_int(b, "rep", rep);
    void *data;
    size_t len;
    if (proto_finish(&b, &data, &len) == 0)
        coord_send(c, w->name, data, len);
}

/* Release the servers whose clients have reported: STOP a server that has
 * not reported SERVER_AFTER_CLIENT_NS after its client, stop waiting for
 * it SERVER_AFTER_STOP_NS later.  True when every pair is done. */
static bool s_net_done(coord_t *c, void *arg)
{
    struct netpairs *np = arg;
    int64_t now = clock_mono_ns();
    bool all = true;
    for (size_t i = 0; i < np->n; i++) {
        struct cworker *cl = np->clients[i], *sv = np->servers ? np->servers[i] : NULL;
        bool client_done = cl->lost || cl->step != STEP_GO;
        bool server_done = !sv || sv->lost || sv->step != STEP_GO;
        if (!client_done) {
            all = false;
            continue;
        }
        if (server_done)
            continue;
        if (!np->done_at[i])
            np->done_at[i] = now;
        if (!np->stop_at[i] && now - np->done_at[i] >= SERVER_AFTER_CLIENT_NS) {
            log_info("%s: its client %s has reported; stopping it", sv->name, cl->name);
            s_send_stop(c, sv, np->pidx, np->rep);
            np->stop_at[i] = now;
        }
        if (np->stop_at[i] && now - np->stop_at[i] >= SERVER_AFTER_STOP_NS) {
            log_warn("%s: no report %.0f s after STOP; released (it is not lost: its client "
                     "has reported)", sv->name, SERVER_AFTER_STOP_NS / 1e9);
            sv->step = STEP_DONE;
            continue;
        }
        all = false;
    }
    return all;
}

/* GO for set[0..n-1] (all READY), wait for their results, store the start
 * skew of a lockstep repetition.  np: a network wave (servers released as
 * their clients report, never lost for a pair's failure). */
static void s_go(coord_t *c, int pidx, int rep, struct cworker **set, size_t n,
                 const struct repcost *rc, struct netpairs *np)
{
    const struct exp_phase *ph = &c->exp->phases[pidx];
    if (n == 0 || s_stopping(c))
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
                     (np && np->window_ns > 0 ? np->window_ns : s_result_window(c->exp, ph));
    bool all = np ? s_wait(c, s_net_done, np, clock_mono_ns() + window)
                  : s_wait(c, s_none_in, &gs, clock_mono_ns() + window);
    if (!all && !s_stopping(c)) {
        for (size_t i = 0; i < n; i++) {
            if (set[i]->lost || set[i]->step != STEP_GO)
                continue;
            if (set[i]->serving) {
                /* a server waits for its client: that is no fault of its own */
                log_warn("%s: still serving %s at the phase deadline; stopped and released",
                         set[i]->name, set[i]->serving);
                s_send_stop(c, set[i], pidx, rep);
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
            s_record_skew(c, pidx, rep, go_at, hi - lo, 2 * err, &cost, first, last);
        }
    }
}

/* One PREPARE -> READY -> GO -> RESULT step over `set`. */
static void s_step(coord_t *c, int pidx, int rep, struct cworker **set, size_t n,
                   int64_t barrier_timeout_ns)
{
    struct repcost rc = { .t0_mono = clock_mono_ns(), .cpu0 = s_cpu_ns() };
    for (size_t i = 0; i < n; i++)
        s_send_prepare(c, set[i], pidx, rep, barrier_timeout_ns, NULL, NULL, 0);
    size_t nready = s_barrier(c, set, n, barrier_timeout_ns);
    rc.barrier_ns = clock_mono_ns() - rc.t0_mono;
    s_go(c, pidx, rep, set, nready, &rc, NULL);
}

/* Is w on the coordinator's host (pairing.h)? */
static bool s_on_coord_host(const struct cworker *w)
{
    return pair_on_coord_host(w->coord_host, w->advertise, w->endpoint);
}

/* Where client cl reaches server sv: a server on the coordinator's host
 * listens on every address and is reached at the client's own route to
 * that host (127.0.0.1, a docker bridge gateway, qemu's 10.0.2.2); any
 * other server where it says.  malloc'd. */
static char *s_endpoint_for(const struct cworker *sv, const struct cworker *cl)
{
    return pair_endpoint(sv->endpoint, s_on_coord_host(sv), cl->coord_host);
}

/* The host a worker runs on, for telling whether pairs share one: the
 * coordinator's host ("") for workers there or launched by this run. */
static const char *s_host_of(coord_t *c, const struct cworker *w)
{
    if (s_on_coord_host(w) || (c->launched_as && c->launched_as(c->launch_ctx, w->name)))
        return "";
    return w->hostname ? w->hostname : "";
}

/* Pairs of one wave that run at once on one host disturb each other: say
 * so, and store it as the detail "shared_host" of each such client. */
static void s_note_shared(coord_t *c, int pidx, int rep, struct cworker **clients,
                          struct cworker **servers, size_t n)
{
    const struct exp_phase *ph = &c->exp->phases[pidx];
    for (size_t i = 0; i < n; i++) {
        char note[sizeof ((struct bench_detail *)0)->value] = "";
        size_t used = 0;
        const char *hc = s_host_of(c, clients[i]), *hs = servers ? s_host_of(c, servers[i]) : NULL;
        for (size_t j = 0; j < n; j++) {
            if (j == i)
                continue;
            const char *oc = s_host_of(c, clients[j]), *os = servers ? s_host_of(c, servers[j]) : NULL;
            const char *at = !strcmp(hc, oc) ? hc : hs && !strcmp(hs, oc) ? hs
                             : os && !strcmp(hc, os) ? hc : hs && os && !strcmp(hs, os) ? hs : NULL;
            if (!at)
                continue;
            int k = snprintf(note + used, sizeof note - used, "%s%s%s%s on %s", used ? "; " : "",
                             clients[j]->name, servers ? "->" : "", servers ? servers[j]->name : "",
                             *at ? at : "the coordinator's host");
            used = k > 0 && used + (size_t)k < sizeof note ? used + (size_t)k : used;
        }
        if (!used)
            continue;
        log_warn("phase %s rep %d: %s measured at the same time as %s (one host: the pairs "
                 "compete; round-robin runs one pair at a time)", ph->name, rep,
                 clients[i]->name, note);
        struct bench_detail d;
        snprintf(d.key, sizeof d.key, "shared_host");
        snprintf(d.value, sizeof d.value, "%s", note);
        struct store_result r = { .phase = pidx, .rep = rep, .worker = clients[i]->name,
                                  .status = "ok", .details = &d, .ndetails = 1 };
        if (store_result_put(c->store, c->run, &r) != 0)
            log_warn("%s: cannot store a shared_host note: %s", store_path(c->store),
                     store_errmsg(c->store));
    }
}

/* How many candidates a peers list "h:p,h:p" holds. */
static size_t s_count_peers(const char *peers)
{
    size_t n = 1;
    for (const char *p = peers; p && *p; p++)
        n += *p == ',';
    return n;
}

/* The result deadline of a network wave (after its start instant): what
 * the client with the most candidates may take, failing over and retrying
 * busy servers as the phase allows, plus grace.  An explicit timeout wins. */
static int64_t s_net_window(const struct experiment *exp, const struct exp_phase *ph,
                            size_t ncand)
{
    if (ph->timeout_ns > 0 || !ph->bench->bound_ns)
        return s_result_window(exp, ph);
    return ph->bench->bound_ns(ph->opts, ncand ? ncand : 1) + exp->grace_ns;
}

/* One wave of a network phase: clients[i] measures against servers[i] (a
 * local server worker, which listens first and reports its endpoint) or
 * against its candidate list peers[i] (public targets). */
static void s_net_wave(coord_t *c, int pidx, int rep, struct cworker **clients,
                       struct cworker **servers, char **peers, size_t n,
                       int64_t barrier_timeout_ns)
{
    const struct exp_phase *ph = &c->exp->phases[pidx];
    struct cworker **set = calloc(2 * n + 1, sizeof *set);
    char **eps = calloc(n + 1, sizeof *eps);
    int64_t *marks = calloc(2 * n + 1, sizeof *marks);
    size_t maxcand = 1;
    if (servers) {
        static const char *const sk[] = { "role", "port" };
        static const char *const sv[] = { "server", "0" };
        size_t ns = 0;
        for (size_t i = 0; i < n; i++) {
            free(servers[i]->serving);
            servers[i]->serving = strdup(clients[i]->name);
            s_send_prepare(c, servers[i], pidx, rep, barrier_timeout_ns, sk, sv, 2);
            set[ns++] = servers[i];
        }
        s_barrier(c, set, ns, barrier_timeout_ns);
        for (size_t i = 0; i < n; i++) {
            struct cworker *sw = servers[i];
            if (!sw->lost && sw->step == STEP_READY && sw->endpoint) {
                eps[i] = s_endpoint_for(sw, clients[i]);
                log_debug("phase %s rep %d: %s -> %s at %s", ph->name, rep, clients[i]->name,
                          sw->name, eps[i]);
                continue;
            }
            /* the client cannot measure: say why, under the client's name */
            char why[512];
            snprintf(why, sizeof why, "server %s %s%s", sw->name,
                     sw->lost ? "lost" : sw->step == STEP_READY ? "reported no endpoint"
                                                               : "not ready: ",
                     !sw->lost && sw->step != STEP_READY && sw->step_error ? sw->step_error : "");
            clients[i]->phase = pidx;
            clients[i]->rep = rep;
            coord_store_unfinished(c, clients[i], "failed", why);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            eps[i] = strdup(peers[i]);
            size_t k = s_count_peers(peers[i]);
            maxcand = k > maxcand ? k : maxcand;
        }
    }
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!eps[i] || clients[i]->lost)
            continue;
        const char *ck[] = { "role", "peers" };
        const char *cv[] = { "client", eps[i] };
        s_send_prepare(c, clients[i], pidx, rep, barrier_timeout_ns, ck, cv, 2);
        set[nc++] = clients[i];
    }
    size_t ngo = nc ? s_barrier(c, set, nc, barrier_timeout_ns) : 0;
    /* servers whose client is ready join the GO; the others are released */
    for (size_t i = 0; servers && i < n; i++) {
        if (servers[i]->lost || servers[i]->step != STEP_READY)
            continue;
        bool client_ready = false;
        for (size_t k = 0; k < ngo; k++)
            client_ready |= set[k] == clients[i];
        if (client_ready)
            set[ngo++] = servers[i];
        else
            servers[i]->step = STEP_DONE; /* its next PREPARE makes it clean up */
    }
    struct netpairs np = { clients, servers, n, s_net_window(c->exp, ph, maxcand), marks,
                           marks + n, pidx, rep };
    s_go(c, pidx, rep, set, ngo, NULL, &np);
    if (ngo > 1 && !s_stopping(c))
        s_note_shared(c, pidx, rep, clients, servers, n);
    for (size_t i = 0; servers && i < n; i++) {
        free(servers[i]->serving);
        servers[i]->serving = NULL;
    }
    for (size_t i = 0; i < n; i++)
        free(eps[i]);
    free(eps);
    free(marks);
    free(set);
}

/* A repetition of a network phase: plan the waves, run them in turn. */
static void s_net_rep(coord_t *c, int pidx, int rep, struct cworker **clients, size_t nc,
                      int64_t barrier_timeout_ns)
{
    const struct exp_phase *ph = &c->exp->phases[pidx];
    struct cworker **servers = NULL;
    size_t nsrv = 0;
    if (ph->nservers) {
        servers = calloc(c->nworkers + 1, sizeof *servers);
        for (size_t i = 0; i < c->nworkers; i++)
            if (!c->workers[i]->lost && decide_serves(ph, c->workers[i]->name, c->workers[i]->platform))
                servers[nsrv++] = c->workers[i];
        if (nsrv == 0) {
            log_warn("phase %s: none of its servers is alive", ph->name);
            for (size_t i = 0; i < nc; i++) {
                clients[i]->phase = pidx;
                clients[i]->rep = rep;
                coord_store_unfinished(c, clients[i], "failed", "no live server for this phase");
            }
            free(servers);
            c->shortfall = true;
            return;
        }
    }
    size_t wave_max = ph->schedule == SCHED_ROUND_ROBIN ? 1 : 0;
    struct pair_slot *slots = calloc(nc + 1, sizeof *slots);
    /* local servers rotate from one repetition to the next, so that every
     * server serves and no client always gets the same one */
    int nwaves = servers ? pair_plan_local(nsrv, nc, wave_max, (size_t)(rep - 1), slots)
                         : pair_plan_public(ph->targets, ph->ntargets, nc, wave_max,
                                            PAIR_ATTEMPTS, slots);
    struct cworker **wc = calloc(nc + 1, sizeof *wc), **ws = calloc(nc + 1, sizeof *ws);
    char **wp = calloc(nc + 1, sizeof *wp);
    for (int wave = 0; wave < nwaves && !s_stopping(c); wave++) {
        size_t n = 0;
        for (size_t i = 0; i < nc; i++) {
            if (slots[i].wave != wave || clients[i]->lost)
                continue;
            wc[n] = clients[i];
            ws[n] = servers ? servers[slots[i].server] : NULL;
            wp[n] = slots[i].peers;
            n++;
        }
        if (n)
            s_net_wave(c, pidx, rep, wc, servers ? ws : NULL, wp, n, barrier_timeout_ns);
    }
    pair_slots_free(slots, nc);
    free(slots);
    free(wc);
    free(ws);
    free(wp);
    free(servers);
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

static int s_cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Median and max of a phase's skews (sorts them). */
static void s_skew_stats(struct phase_skew *ps, int64_t *median, int64_t *max)
{
    qsort(ps->skew_ns, ps->n, sizeof *ps->skew_ns, s_cmp64);
    *median = ps->n % 2 ? ps->skew_ns[ps->n / 2]
                        : (ps->skew_ns[ps->n / 2 - 1] + ps->skew_ns[ps->n / 2]) / 2;
    *max = ps->skew_ns[ps->n - 1];
}

static void s_log_phase_skew(coord_t *c, size_t p)
{
    struct phase_skew *ps = c->skew ? &c->skew[p] : NULL;
    if (!ps || ps->n == 0)
        return;
    int64_t med, max;
    s_skew_stats(ps, &med, &max);
    log_info("phase %s: start skew median %.1f us, max %.1f us (+/- %.1f us) over %zu "
             "repetitions%s",
             c->exp->phases[p].name, med / 1e3, max / 1e3, ps->err_ns / 1e3, ps->n,
             ps->over ? ", some over the tolerance" : "");
}

void sched_skew_summary(coord_t *c, FILE *out)
{
    bool any = false;
    for (size_t p = 0; c->skew && p < c->exp->nphases; p++)
        any |= c->skew[p].n > 0;
    if (!any)
        return;
    fprintf(out, "start skew (max - min start of a repetition, coordinator clock):\n");
    fprintf(out, "  %-20s %5s %12s %12s %12s %10s\n", "phase", "reps", "median us", "max us",
            "+/- us", "tolerance");
    for (size_t p = 0; p < c->exp->nphases; p++) {
        struct phase_skew *ps = &c->skew[p];
        if (ps->n == 0)
            continue;
        const struct exp_phase *ph = &c->exp->phases[p];
        int64_t med, max;
        s_skew_stats(ps, &med, &max);
        char tol[48];
        if (ph->skew_tolerance_ns <= 0)
            snprintf(tol, sizeof tol, "-");
        else if (ps->over)
            snprintf(tol, sizeof tol, "EXCEEDED %zu/%zu (%.0f us)", ps->over, ps->n,
                     ph->skew_tolerance_ns / 1e3);
        else
            snprintf(tol, sizeof tol, "ok (%.0f us)", ph->skew_tolerance_ns / 1e3);
        fprintf(out, "  %-20s %5zu %12.1f %12.1f %12.1f %10s\n", ph->name, ps->n, med / 1e3,
                max / 1e3, ps->err_ns / 1e3, tol);
    }
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
        s_net_rep(c, (int)p, rep, set, n, barrier_timeout_ns);
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
    for (int rep = 1; rep <= maxreps && gone && !s_stopping(c); rep++) {
        for (size_t p = 0; p < exp->nphases && !s_stopping(c); p++) {
            if (gone[p] || rep > exp->phases[p].reps)
                continue;
            c->cur_phase = (int)p;
            progress_phase(c, p);
            /* every phase was started at once: any may have rows already */
            gone[p] = !s_rep(c, p, rep, set, c->resume_phase >= 0, barrier_timeout_ns);
        }
    }
    for (size_t p = 0; p < exp->nphases; p++)
        s_log_phase_skew(c, p);
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
                s_stopping(c))
                break;
        }
        s_log_phase_skew(c, p);
        if (s_stopping(c))
            break;
    }
    coord_flush_clocks(c);
    c->cur_phase = c->cur_rep = -1;
    free(set);
    struct run_counts k = { .stopped = s_stopping(c), .shortfall = c->shortfall };
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
