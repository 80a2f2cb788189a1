/* sched_net.c — network phases: iperf-style pairs, a local server worker
 * for each client (rotating from one repetition to the next) or a public
 * target list.  Pairs are run in waves (pairing.h plans them); a server is
 * released once its client has reported, and pairs that share a host are
 * noted in the results. */
#include "sched_int.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "decide.h"
#include "log.h"
#include "model/pairing.h"
#include "proto.h"

#define PAIR_ATTEMPTS 8 /* candidates per client in a network phase */

/* A server waits this long for its own report once its client has
 * reported (an iperf3 server ends a moment after its client), then is told
 * to STOP, and is released (without blame) this long after that. */
#define SERVER_AFTER_CLIENT_NS (2 * NS_PER_SEC)
#define SERVER_AFTER_STOP_NS (4 * NS_PER_SEC)

void sched_send_stop(coord_t *c, struct cworker *w, int pidx, int rep)
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
bool sched_net_done(coord_t *c, void *arg)
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
            sched_send_stop(c, sv, np->pidx, np->rep);
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
        return sched_result_window(exp, ph);
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
            sched_send_prepare(c, servers[i], pidx, rep, barrier_timeout_ns, sk, sv, 2);
            set[ns++] = servers[i];
        }
        sched_barrier(c, set, ns, barrier_timeout_ns);
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
        sched_send_prepare(c, clients[i], pidx, rep, barrier_timeout_ns, ck, cv, 2);
        set[nc++] = clients[i];
    }
    size_t ngo = nc ? sched_barrier(c, set, nc, barrier_timeout_ns) : 0;
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
    sched_go(c, pidx, rep, set, ngo, NULL, &np);
    if (ngo > 1 && !sched_stopping(c))
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
void sched_net_rep(coord_t *c, int pidx, int rep, struct cworker **clients, size_t nc,
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
    for (int wave = 0; wave < nwaves && !sched_stopping(c); wave++) {
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
