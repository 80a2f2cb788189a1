/* coord.c — the coordinator's sockets.  Every frame from a worker arrives on
 * the ROUTER as [identity][payload]; the payload is decoded with the bounded
 * decoder and turned into a state change of that worker.  A malformed or
 * hostile frame is dropped and logged (rate-limited), never fatal.
 */
#include "coord.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <zmq.h>

#include "auth.h"
#include "clock.h"
#include "curve.h"
#include "log.h"
#include "monitor.h"
#include "proto.h"
#include "rt.h"
#include "spawn.h"

#define COORD_RCVHWM 100000 /* a barrier of 1024 workers must not be dropped */
/* A PUB receives only subscriptions and handshake commands (a CURVE
 * handshake's are the longest, a few hundred bytes).  libzmq keeps a
 * subscription as a tree of about 120 bytes per byte of it: a 1 MiB
 * subscription would cost 100 MiB, so a frame above this drops the peer. */
#define COORD_PUB_MAXMSG 1024
#define COORD_MAX_CLOCK_NS (86400 * NS_PER_SEC)

static int s_setopt_int(void *sock, int opt, int v) { return zmq_setsockopt(sock, opt, &v, sizeof v); }

static int s_bind(void *sock, const char *ep, char *bound, size_t boundlen, char *err, size_t errlen)
{
    if (zmq_bind(sock, ep) != 0) {
        snprintf(err, errlen, "cannot bind %s: %s", ep, zmq_strerror(zmq_errno()));
        return -1;
    }
    size_t len = boundlen;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, bound, &len);
    return 0;
}

/* The PUB endpoint: same host, ROUTER port + 1 — or a wildcard port when the
 * ROUTER's was one.  Non-TCP transports (ipc://, inproc://) get a suffix. */
static void s_pub_endpoint(const char *ep, char *out, size_t len)
{
    const char *colon = strrchr(ep, ':');
    if (strncmp(ep, "tcp://", 6) != 0 || !colon) {
        snprintf(out, len, "%.200s-pub", ep);
        return;
    }
    const char *port = colon + 1;
    if (strcmp(port, "*") == 0 || strcmp(port, "0") == 0)
        snprintf(out, len, "%.*s:*", (int)(colon - ep), ep);
    else
        snprintf(out, len, "%.*s:%ld", (int)(colon - ep), ep, strtol(port, NULL, 10) + 1);
}

/* Two descriptors per worker (its ROUTER and its PUB connection) plus
 * SQLite, children's pipes and launchers: 1024 workers do not fit in the
 * usual soft limit of 1024. */
static void s_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rlim_t want = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_debug("cannot raise the descriptor limit: %s", strerror(errno));
    }
}

/* CURVE: the ZAP handler first (a handshake asks it), then both sockets as
 * servers with the coordinator's secret key. */
static int s_secure(coord_t *c, const char *keys_dir, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/allowed", keys_dir);
    if (!(c->auth = auth_new(c->zctx, path, err, errlen)))
        return -1;
    snprintf(path, sizeof path, "%s/coordinator.cert_secret", keys_dir);
    if (curve_server(c->router, path, err, errlen) != 0 ||
        curve_server(c->pub, path, err, errlen) != 0)
        return -1;
    /* A client without CURVE (or with another protocol) fails the
     * handshake before the ZAP handler is asked; the socket monitor tells,
     * and the connection's address is looked up when it is accepted. */
    if (zmq_socket_monitor(c->router, "inproc://lockstep-router-monitor",
                           ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) == 0) {
        c->monitor = zmq_socket(c->zctx, ZMQ_PAIR);
        if (zmq_connect(c->monitor, "inproc://lockstep-router-monitor") != 0) {
            zmq_close(c->monitor);
            c->monitor = NULL;
        }
    }
    log_info("CURVE: %zu worker key(s) allowed (%s/allowed)", auth_keys(c->auth), keys_dir);
    return 0;
}

/* Monitor events (ZMQ v1 format: 2-byte event, 4-byte value; then the
 * endpoint).  ACCEPTED's value is the connection's fd: remember its peer;
 * a handshake failure is reported at that fd's DISCONNECTED. */
static void s_monitor(coord_t *c)
{
    uint16_t ev;
    uint32_t val;
    while (monitor_next(c->monitor, &ev, &val)) {
        if (ev == ZMQ_EVENT_ACCEPTED && val < COORD_PEERS) {
            struct sockaddr_storage sa;
            socklen_t sl = sizeof sa;
            char host[64] = "?";
            if (getpeername((int)val, (struct sockaddr *)&sa, &sl) == 0)
                getnameinfo((struct sockaddr *)&sa, sl, host, sizeof host, NULL, 0,
                            NI_NUMERICHOST);
            snprintf(c->peers[val], sizeof c->peers[val], "%s", host);
        } else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                   ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
            c->handshake_failed = true;
        } else if (ev == ZMQ_EVENT_DISCONNECTED && val < COORD_PEERS) {
            /* a refused client reconnects with backoff: say it once per 10 s */
            int64_t now = clock_mono_ns();
            if (c->handshake_failed && now - c->refusal_logged_at < 10 * NS_PER_SEC) {
                c->refusals_quiet++;
            } else if (c->handshake_failed) {
                log_warn("refused a connection from %s: it did not complete the CURVE "
                         "handshake (no security, or not a lockstep worker)%s",
                         c->peers[val][0] ? c->peers[val] : "an unknown address",
                         c->refusals_quiet ? "; more such refusals in the last 10 s" : "");
                c->refusal_logged_at = now;
                c->refusals_quiet = 0;
            }
            c->handshake_failed = false;
            c->peers[val][0] = '\0';
        }
    }
}

coord_t *coord_new(const char *endpoint, const char *keys_dir, char *err, size_t errlen)
{
    s_raise_nofile();
    coord_t *c = calloc(1, sizeof *c);
    c->zctx = zmq_ctx_new();
    if (rt_raise_self())
        rt_zmq_ctx(c->zctx);
    c->router = zmq_socket(c->zctx, ZMQ_ROUTER);
    c->pub = zmq_socket(c->zctx, ZMQ_PUB);
    c->byname = zhash_new();
    clock_boot_id(c->boot_id, sizeof c->boot_id);
    c->hb_ms = 1000;
    c->miss_beats = 3;
    c->cur_phase = c->cur_rep = -1;
    c->resume_phase = -1;
    c->rejoin = true;
    const char *gm = getenv("LOCKSTEP_GO_MODE");
    c->go_mode = !gm                         ? GO_PUB
                 : strcmp(gm, "naive") == 0  ? GO_NAIVE
                 : strcmp(gm, "router") == 0 ? GO_ROUTER
                                             : GO_PUB;
    int64_t maxmsg = PROTO_MAX_FRAME, pubmax = COORD_PUB_MAXMSG;
    zmq_setsockopt(c->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(c->pub, ZMQ_MAXMSGSIZE, &pubmax, sizeof pubmax);
    s_setopt_int(c->router, ZMQ_RCVHWM, COORD_RCVHWM);
    s_setopt_int(c->router, ZMQ_SNDHWM, COORD_RCVHWM);
    s_setopt_int(c->pub, ZMQ_SNDHWM, COORD_RCVHWM);
    s_setopt_int(c->router, ZMQ_LINGER, 1000);
    s_setopt_int(c->pub, ZMQ_LINGER, 1000);
    /* an IPv6 endpoint ([::1]) needs the option; IPv4 ones keep their
     * plain addresses without it */
    if (strchr(endpoint, '[')) {
        s_setopt_int(c->router, ZMQ_IPV6, 1);
        s_setopt_int(c->pub, ZMQ_IPV6, 1);
    }
    /* No ROUTER_HANDOVER: a second connection under a name that is already
     * connected is refused, so a cloned VM with the same host name cannot
     * steal a live worker's identity (its worker says so after a few HELLOs).
     * A restarted worker gets its name back once the old connection closes,
     * at once on a process exit, within ~5 s (TCP keepalive, below) on a
     * host crash. */
    /* sending to a peer that is gone fails instead of vanishing silently */
    s_setopt_int(c->router, ZMQ_ROUTER_MANDATORY, 1);
    /* A dead worker host's connection is closed by the kernel after 5 s of
     * silence (keepalive probes from 2 s, 1 s apart; unacknowledged data
     * for 5 s), freeing its name for a restarted worker.  Not ZMTP
     * heartbeats: those cost a PING, a PONG and libzmq timer churn (linear
     * in the connections) per worker per second — measured, half the
     * coordinator's CPU in a long phase at 256 workers.  The workers'
     * application heartbeats keep the kernel from ever probing a live one. */
    s_setopt_int(c->router, ZMQ_TCP_KEEPALIVE, 1);
    s_setopt_int(c->router, ZMQ_TCP_KEEPALIVE_IDLE, 2);
    s_setopt_int(c->router, ZMQ_TCP_KEEPALIVE_INTVL, 1);
    s_setopt_int(c->router, ZMQ_TCP_KEEPALIVE_CNT, 3);
    s_setopt_int(c->router, ZMQ_TCP_MAXRT, 5000);
    /* The same for the PUB: after a partition a worker subscribes again on
     * a new connection, and the old one (its unacknowledged broadcasts
     * retransmitted with an ever longer backoff) must not linger. */
    s_setopt_int(c->pub, ZMQ_TCP_KEEPALIVE, 1);
    s_setopt_int(c->pub, ZMQ_TCP_KEEPALIVE_IDLE, 2);
    s_setopt_int(c->pub, ZMQ_TCP_KEEPALIVE_INTVL, 1);
    s_setopt_int(c->pub, ZMQ_TCP_KEEPALIVE_CNT, 3);
    s_setopt_int(c->pub, ZMQ_TCP_MAXRT, 5000);
    char pubep[256];
    if (keys_dir && (!(c->peers = calloc(COORD_PEERS, sizeof *c->peers)) ||
                     s_secure(c, keys_dir, err, errlen) != 0))
        goto fail;
    if (s_bind(c->router, endpoint, c->endpoint, sizeof c->endpoint, err, errlen) != 0)
        goto fail;
    /* from the endpoint asked for: a wildcard port gets a wildcard PUB port, not
     * the bound port + 1 (which another socket may hold) */
    s_pub_endpoint(endpoint, pubep, sizeof pubep);
    if (s_bind(c->pub, pubep, c->pub_endpoint, sizeof c->pub_endpoint, err, errlen) != 0)
        goto fail;
    return c;
fail:
    coord_destroy(&c);
    return NULL;
}

/* "tcp://127.0.0.1:5555" -> "tcp://HOST:5555" */
static int s_rehost(const char *ep, const char *host, char *out, size_t len)
{
    const char *colon = strrchr(ep, ':');
    if (strncmp(ep, "tcp://", 6) != 0 || !colon)
        return -1;
    bool v6 = strchr(host, ':') != NULL;
    snprintf(out, len, "tcp://%s%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "", colon);
    return 0;
}

int coord_bind_also(coord_t *c, const char *host, char *err, size_t errlen)
{
    char rep[300], pep[300], bound[256];
    if (s_rehost(c->endpoint, host, rep, sizeof rep) != 0 ||
        s_rehost(c->pub_endpoint, host, pep, sizeof pep) != 0) {
        snprintf(err, errlen, "%s: only a tcp:// coordinator can listen on %s too", c->endpoint,
                 host);
        return -1;
    }
    if (s_bind(c->router, rep, bound, sizeof bound, err, errlen) != 0 ||
        s_bind(c->pub, pep, bound, sizeof bound, err, errlen) != 0)
        return -1;
    log_info("also listening on %s (PUB %s)", rep, pep);
    return 0;
}

static void s_worker_free(struct cworker *w)
{
    free(w->name);
    free(w->platform);
    free(w->hostname);
    free(w->kernel);
    free(w->cpu_model);
    free(w->advertise);
    free(w->detected);
    free(w->distro);
    free(w->disk_model);
    for (size_t i = 0; i < w->nlabels; i++)
        free(w->labels[i]);
    free(w->labels);
    free(w->coord_host);
    free(w->step_error);
    free(w->serving);
    free(w->endpoint);
    free(w->prepare);
    free(w);
}

void coord_destroy(coord_t **c_p)
{
    coord_t *c = *c_p;
    if (!c)
        return;
    for (size_t i = 0; i < c->nworkers; i++)
        s_worker_free(c->workers[i]);
    free(c->workers);
    for (size_t i = 0; c->skew && i < c->exp->nphases; i++)
        free(c->skew[i].skew_ns);
    free(c->skew);
    free(c->acks);
    zhash_t *h = c->byname;
    zhash_destroy(&h);
    h = c->expect_set;
    zhash_destroy(&h);
    h = c->prior; /* its items are freed with it (zhash_freefn) */
    zhash_destroy(&h);
    for (size_t i = 0; c->own_expect_names && i < c->nexpect_names; i++)
        free(c->expect_names[i]);
    if (c->own_expect_names)
        free(c->expect_names);
    if (c->router)
        zmq_close(c->router);
    if (c->pub)
        zmq_close(c->pub);
    auth_destroy(&c->auth);
    if (c->monitor)
        zmq_close(c->monitor);
    free(c->peers);
    if (c->zctx)
        zmq_ctx_term(c->zctx);
    free(c);
    *c_p = NULL;
}

struct cworker *coord_worker(coord_t *c, const char *name) { return zhash_lookup(c->byname, name); }

int coord_send(coord_t *c, const char *worker, void *data, size_t len)
{
    int rc = -1;
    if (zmq_send(c->router, worker, strlen(worker), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0 &&
        zmq_send(c->router, data, len, ZMQ_DONTWAIT) >= 0)
        rc = 0;
    else
        log_debug("send to %s failed: %s", worker, zmq_strerror(zmq_errno()));
    free(data);
    return rc;
}

int coord_publish(coord_t *c, void *data, size_t len)
{
    int rc = zmq_send(c->pub, data, len, ZMQ_DONTWAIT) >= 0 ? 0 : -1;
    free(data);
    return rc;
}

static void s_send_msg(coord_t *c, const char *to, proto_builder_t *b)
{
    void *data;
    size_t len;
    if (proto_finish(&b, &data, &len) == 0)
        coord_send(c, to, data, len);
}

static void s_reject(coord_t *c, const char *to, const char *reason)
{
    log_warn("rejected %s: %s", to, reason);
    proto_builder_t *b = proto_begin(PROTO_REJECT);
    proto_put_str(b, "reason", reason);
    s_send_msg(c, to, b);
}

static char *s_dup(const char *s) { return strdup(s ? s : ""); }

/* HELLO's optional host facts and labels (an older worker sends none). */
static void s_host_facts(struct cworker *w, const proto_msg_t *m)
{
    const char *d = proto_str(m, "detected"), *o = proto_str(m, "distro"),
               *k = proto_str(m, "disk_model");
    w->detected = d ? strdup(d) : NULL;
    w->distro = o ? strdup(o) : NULL;
    w->disk_model = k ? strdup(k) : NULL;
    size_t n = proto_strarray_count(m, "labels");
    if (n > 16)
        n = 16; /* what a worker may send; more is not ours to keep */
    w->labels = n ? calloc(n, sizeof *w->labels) : NULL;
    for (size_t i = 0; w->labels && i < n; i++) {
        const char *l = proto_strarray_get(m, "labels", i);
        if (l && strchr(l, '=') && strlen(l) <= 128)
            w->labels[w->nlabels++] = strdup(l);
    }
}

/* Is name acceptable as a new worker now?  NULL, or the reason it is not. */
static const char *s_admissible(coord_t *c, const char *name, char *buf, size_t len)
{
    if (!c->admitting)
        return "the run has already started";
    if (c->nexpect_names) {
        if (!c->expect_set) { /* a lookup per HELLO, not a scan of the list */
            c->expect_set = zhash_new();
            for (size_t i = 0; i < c->nexpect_names; i++)
                zhash_insert(c->expect_set, c->expect_names[i], c->expect_names[i]);
        }
        if (zhash_lookup(c->expect_set, name))
            return NULL;
        snprintf(buf, len, "worker '%s' is not in this experiment's worker list", name);
        return buf;
    }
    if (c->expect_count > 0 && (int)c->nworkers >= c->expect_count) {
        snprintf(buf, len, "the run already has its %d workers", c->expect_count);
        return buf;
    }
    return NULL;
}

/* Tell a worker this coordinator does not know it as it is (declared lost,
 * or never registered here: the coordinator restarted) and that it should
 * register again.  At most once per heartbeat per worker. */
static void s_tell_rejoin(coord_t *c, struct cworker *w, const char *to, const char *reason)
{
    int64_t now = clock_mono_ns();
    if (w) {
        if (now - w->told_rejoin < (int64_t)c->hb_ms * NS_PER_MS)
            return;
        w->told_rejoin = now;
    }
    proto_builder_t *b = proto_begin(PROTO_QUIT);
    proto_put_str(b, "reason", reason);
    proto_put_bool(b, "rejoin", true);
    s_send_msg(c, to, b);
}

/* A lost worker is back: admit it again with the next epoch. */
static void s_rejoin(coord_t *c, struct cworker *w, const proto_msg_t *m)
{
    w->lost = false;
    w->rejoined = true;
    w->epoch++;
    w->step = STEP_NONE;
    /* its SUB may be a new connection (it reconnects after a silence):
     * SYNC until it proves it receives, GO goes to it directly till then */
    w->synced = false;
    w->pid = proto_int(m, "pid", w->pid);
    w->last_seen = clock_mono_ns();
    c->nlive++;
    log_warn("worker %s is back: admitted again with epoch %" PRId64 "%s", w->name, w->epoch,
             c->rejoin ? "; it takes part in the repetitions still to run"
                       : "; it sits out the rest of the run (rejoin: false)");
    if (w->rank >= 0 &&
        store_worker_rejoined(c->store, c->run, w->name, w->epoch, clock_wall_ns()) != 0)
        log_warn("%s: cannot record that %s rejoined: %s", store_path(c->store), w->name,
                 store_errmsg(c->store));
}

void coord_send_go(coord_t *c, struct cworker *w)
{
    proto_builder_t *b = proto_begin(PROTO_GO);
    proto_put_int(b, "run", c->run_key);
    proto_put_int(b, "phase", w->phase);
    proto_put_int(b, "rep", w->rep);
    proto_put_int(b, "start_at", c->go_mode == GO_NAIVE ? 0 : w->go_at);
    s_send_msg(c, w->name, b);
}

/* A live worker registered again in the middle of its repetition: it
 * replaced its connection after a silence, and what went out on the old
 * one may be lost.  Its PREPARE goes again (a worker answers a PREPARE it
 * already has with READY, and ignores one it is running), or its GO, if it
 * had one (it starts late, or ignores it when it has started); its SUB may
 * be new too, so it proves its subscription again. */
static void s_resume_step(coord_t *c, struct cworker *w)
{
    w->synced = false;
    if (w->step == STEP_PREPARED && w->prepare) {
        void *copy = malloc(w->prepare_len);
        if (copy) {
            memcpy(copy, w->prepare, w->prepare_len);
            coord_send(c, w->name, copy, w->prepare_len);
        }
    } else if (w->step == STEP_GO) {
        coord_send_go(c, w);
    }
}

static void s_on_hello(coord_t *c, const char *id, const proto_msg_t *m)
{
    const char *name = proto_str(m, "name");
    char why[256];
    bool again = false;
    if (strcmp(name, id) != 0) {
        snprintf(why, sizeof why, "name '%s' differs from socket identity '%s'", name, id);
        s_reject(c, id, why);
        return;
    }
    struct cworker *w = coord_worker(c, name);
    if (w) {
        if (w->lost) {
            s_rejoin(c, w, m);
            goto welcome;
        }
        /* Another process under a live worker's name (a cloned VM; the
         * transport let it in because the first connection dropped for a
         * moment): refuse it rather than let two processes share a slot. */
        int64_t pid = proto_int(m, "pid", 0);
        const char *host = proto_str(m, "hostname");
        bool same = pid == w->pid && host && strcmp(host, w->hostname) == 0;
        bool live = clock_mono_ns() - w->last_seen < (int64_t)c->miss_beats * c->hb_ms * NS_PER_MS;
        if (!same && live) {
            snprintf(why, sizeof why, "name '%s' is in use by pid %" PRId64 " on %s", name,
                     w->pid, w->hostname);
            s_reject(c, id, why);
            return;
        }
        /* a repeated HELLO (the WELCOME was lost, the worker replaced its
         * connection after a silence, or it restarted after its old
         * connection closed): welcome again, keep its place */
        w->last_seen = clock_mono_ns();
        w->pid = proto_int(m, "pid", w->pid);
        again = true;
    } else {
        const char *reason = s_admissible(c, name, why, sizeof why);
        if (reason) {
            s_reject(c, id, reason);
            return;
        }
        w = calloc(1, sizeof *w);
        w->name = s_dup(name);
        w->platform = s_dup(proto_str(m, "platform"));
        w->hostname = s_dup(proto_str(m, "hostname"));
        w->kernel = s_dup(proto_str(m, "kernel"));
        w->cpu_model = s_dup(proto_str(m, "cpu_model"));
        w->advertise = proto_str(m, "advertise") ? s_dup(proto_str(m, "advertise")) : NULL;
        s_host_facts(w, m);
        w->coord_host = proto_str(m, "coord_host") ? s_dup(proto_str(m, "coord_host")) : NULL;
        w->cores = proto_int(m, "cores", 0);
        w->mem_bytes = proto_int(m, "mem_bytes", 0);
        w->pid = proto_int(m, "pid", 0);
        w->joined_at = clock_wall_ns();
        w->last_seen = clock_mono_ns();
        w->rank = -1;
        w->phase = w->rep = -1;
        w->epoch = 1;
        /* a worker of the run being resumed keeps its epoch, or gets the
         * next one if that run had lost it */
        const struct coord_prior *pw = c->prior ? zhash_lookup(c->prior, name) : NULL;
        if (pw) {
            w->epoch = pw->epoch + (pw->lost ? 1 : 0);
            w->rejoined = pw->lost;
        }
        if (c->nworkers == c->capworkers) {
            c->capworkers = c->capworkers ? c->capworkers * 2 : 16;
            c->workers = realloc(c->workers, c->capworkers * sizeof *c->workers);
        }
        c->workers[c->nworkers++] = w;
        zhash_insert(c->byname, w->name, w);
        c->nlive++;
        log_info("admitted %s (%s, %s, %" PRId64 " cores)", w->name, w->platform, w->hostname,
                 w->cores);
    }
welcome:;
    proto_builder_t *b = proto_begin(PROTO_WELCOME);
    proto_put_int(b, "run", c->run_key);
    proto_put_int(b, "rank", w->rank);
    proto_put_str(b, "pub", c->pub_endpoint);
    proto_put_int(b, "hb_ms", c->hb_ms);
    proto_put_int(b, "epoch", w->epoch);
    if (c->boot_id[0])
        proto_put_str(b, "boot_id", c->boot_id);
    s_send_msg(c, id, b);
    if (again)
        s_resume_step(c, w);
}

static void s_on_ready(coord_t *c, struct cworker *w, const proto_msg_t *m)
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
    w->endpoint = proto_str(m, "endpoint") ? s_dup(proto_str(m, "endpoint")) : NULL;
    if (proto_bool(m, "ok", false)) {
        w->step = STEP_READY;
    } else {
        w->step = STEP_NOTREADY;
        free(w->step_error);
        w->step_error = s_dup(proto_str(m, "error") ? proto_str(m, "error") : "not ready");
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
    s_send_msg(c, to, b);
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
static void s_batch_close(coord_t *c)
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
        c->store_failed = true;
        snprintf(c->store_err, sizeof c->store_err, "%s: cannot store results: %s",
                 store_path(c->store), store_errmsg(c->store));
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

static void s_on_result(coord_t *c, struct cworker *w, const proto_msg_t *m)
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
        return;
    }
    char why[256];
    if (s_stale_reason(c, w, m, why, sizeof why)) {
        s_refuse_stale(c, w, m, why);
        return;
    }
    /* the repetition in progress, or one this worker finished before (a
     * re-send after a lost ACK, or from its spool to the coordinator that
     * resumed the run); never one it has not been told to run */
    bool current = phase == w->phase && rep == w->rep && w->step == STEP_GO;
    bool earlier = phase < w->phase || (phase == w->phase && rep < w->rep) ||
                   (phase == w->phase && rep == w->rep &&
                    (w->step == STEP_DONE || w->step == STEP_NONE /* admitted again since */)) ||
                   phase <= c->resume_phase;
    if (!current && !earlier) {
        c->dropped++;
        log_warn("%s: RESULT for phase %" PRId64 " rep %" PRId64 " it was not asked to run; dropped",
                 w->name, phase, rep);
        return;
    }
    const struct exp_phase *ph = &c->exp->phases[phase];
    if (!current && ph->nservers && s_serves(ph, w)) {
        /* a server's report that came after its client's result was
         * stored and the server released: nothing to keep it under */
        log_debug("%s: late server report of %s rep %" PRId64 " dropped", w->name, ph->name, rep);
        s_ack(c, w->name, run, phase, rep, NULL);
        return;
    }
    struct bench_metric metrics[BENCH_MAX_METRICS];
    struct bench_detail details[BENCH_MAX_DETAILS];
    size_t nm = 0, nd = 0;
    for (size_t i = 0; i < proto_metrics_count(m, "metrics") && nm < BENCH_MAX_METRICS; i++) {
        proto_metric_t pm;
        if (proto_metrics_get(m, "metrics", i, &pm) == 0 && isfinite(pm.value)) {
            snprintf(metrics[nm].name, sizeof metrics[nm].name, "%s", pm.name);
            snprintf(metrics[nm].unit, sizeof metrics[nm].unit, "%s", pm.unit);
            metrics[nm++].value = pm.value;
        }
    }
    /* a server's view of a network test is stored as details of its
     * client's result ("server.received_Mbps", ...), not as rows of its own */
    bool as_server = w->serving && current;
    const char *prefix = as_server ? "server." : "";
    if (!as_server && (nm == 0 || strcmp(status, "ok") != 0)) {
        /* a failed repetition is one row for the headline metric */
        snprintf(metrics[0].name, sizeof metrics[0].name, "%s", ph->bench->metric);
        snprintf(metrics[0].unit, sizeof metrics[0].unit, "%s", ph->bench->unit);
        metrics[0].value = 0;
        nm = 1;
        if (strcmp(status, "ok") == 0)
            status = "failed";
    }
    for (size_t i = 0; i < proto_strmap_count(m, "details") && nd < BENCH_MAX_DETAILS; i++) {
        const char *k, *v;
        if (proto_strmap_get(m, "details", i, &k, &v) == 0) {
            snprintf(details[nd].key, sizeof details[nd].key, "%s%.40s", prefix, k);
            snprintf(details[nd].value, sizeof details[nd].value, "%s", v);
            nd++;
        }
    }
    /* times far from the GO instant are a broken clock: keep them unknown */
    int64_t started = proto_int(m, "started_at", 0), finished = proto_int(m, "finished_at", 0);
    if (w->go_at && (started < w->go_at - COORD_MAX_CLOCK_NS ||
                     started > w->go_at + COORD_MAX_CLOCK_NS || finished < started ||
                     finished > started + COORD_MAX_CLOCK_NS))
        started = finished = 0;
    if (as_server) {
        const char *extra_k[] = { "server.worker", "server.status", "server.error" };
        const char *extra_v[] = { w->name, status, proto_str(m, "error") };
        for (size_t i = 0; i < nm && nd < BENCH_MAX_DETAILS; i++, nd++) {
            snprintf(details[nd].key, sizeof details[nd].key, "server.%.40s", metrics[i].name);
            snprintf(details[nd].value, sizeof details[nd].value, "%.17g", metrics[i].value);
        }
        for (size_t i = 0; i < 3 && nd < BENCH_MAX_DETAILS; i++) {
            if (!extra_v[i])
                continue;
            snprintf(details[nd].key, sizeof details[nd].key, "%s", extra_k[i]);
            snprintf(details[nd].value, sizeof details[nd].value, "%s", extra_v[i]);
            nd++;
        }
        nm = 0;
    }
    struct store_result r = {
        .phase = (int)phase,
        .rep = (int)rep,
        .worker = as_server ? w->serving : w->name,
        .status = status,
        .error = as_server ? NULL : proto_str(m, "error"),
        .scheduled_at = current ? w->go_at : 0,
        .started_at = started,
        .finished_at = finished,
        .metrics = metrics,
        .nmetrics = nm,
        .details = details,
        .ndetails = nd,
    };
    int src = s_batch_open(c);
    if (src == 0)
        src = store_result_put(c->store, c->run, &r);
    if (src == STORE_BUSY) {
        /* another writer holds the database: no ACK, the worker re-sends */
        log_warn("%s: database busy, result of %s rep %" PRId64 " not stored yet", w->name,
                 ph->name, rep);
        return;
    }
    if (src != 0) {
        /* not acknowledged: the worker keeps it in its spool */
        c->store_failed = true;
        snprintf(c->store_err, sizeof c->store_err, "%s: cannot store result: %s",
                 store_path(c->store), store_errmsg(c->store));
        return;
    }
    if (c->nacks == c->capacks) {
        c->capacks = c->capacks ? 2 * c->capacks : 64;
        c->acks = realloc(c->acks, c->capacks * sizeof *c->acks);
    }
    c->acks[c->nacks++] = (struct pending_ack){ w, run, phase, rep, current };
    if (current) {
        w->step = STEP_DONE;
        w->started_at = r.started_at;
    }
}

static void s_on_frame(coord_t *c, const char *id, const void *data, size_t len)
{
    char err[256];
    proto_msg_t *m = NULL;
    int rc = proto_decode(data, len, &m, err, sizeof err);
    if (rc == PROTO_E_VERSION) {
        char why[256];
        snprintf(why, sizeof why, "protocol version %" PRId64 " not supported (coordinator speaks %d)",
                 proto_msg_version(m), PROTO_VERSION);
        s_reject(c, id, why);
        proto_msg_destroy(&m);
        return;
    }
    if (rc != 0) {
        c->dropped++;
        if (c->dropped <= 50 || c->dropped % 1000 == 0)
            log_warn("dropped a frame from '%s' (%zu bytes): %s", id, len, err);
        return;
    }
    proto_type_t t = proto_msg_type(m);
    struct cworker *w = coord_worker(c, id);
    if (t == PROTO_HELLO) {
        s_on_hello(c, id, m);
    } else if (!w) {
        c->dropped++;
        log_debug("%s from unknown peer '%s' dropped", proto_type_name(t), id);
        /* a worker of a coordinator that died (or of this run before it
         * was resumed) heartbeats to the next one on its port: ask it to
         * register, rather than leave it waiting for a silence that the
         * new coordinator's heartbeats never let it hear */
        if (t == PROTO_HEARTBEAT || t == PROTO_RESULT || t == PROTO_READY)
            s_tell_rejoin(c, NULL, id, "not registered with this coordinator");
    } else if (w->lost) {
        /* finished work is kept even from a worker declared lost meanwhile
         * (s_on_result says which results are refused) */
        if (t == PROTO_RESULT)
            s_on_result(c, w, m);
        s_tell_rejoin(c, w, id, "declared lost in this run");
    } else {
        w->last_seen = clock_mono_ns();
        switch (t) {
        case PROTO_SYNC_OK:
            if (proto_int(m, "nonce", -1) == c->sync_nonce)
                w->synced = true;
            break;
        case PROTO_PING: {
            proto_builder_t *b = proto_begin(PROTO_PONG);
            proto_put_int(b, "seq", proto_int(m, "seq", 0));
            proto_put_int(b, "t0", proto_int(m, "t0", 0));
            proto_put_int(b, "tc", clock_wall_ns());
            s_send_msg(c, id, b);
            break;
        }
        case PROTO_READY:
            s_on_ready(c, w, m);
            break;
        case PROTO_RESULT:
            s_on_result(c, w, m);
            break;
        case PROTO_HEARTBEAT:
            break;
        default:
            c->dropped++;
            log_warn("unexpected %s from %s dropped", proto_type_name(t), id);
        }
    }
    proto_msg_destroy(&m);
}

/* With --keys a key is an identity: the ZAP handler named the key's owner
 * (User-Id, the name keygen wrote into the certificate), and a worker may
 * speak only under that name.  True when it does not: the message is
 * dropped and the peer told why (once per name and minute in the log). */
static bool s_key_mismatch(coord_t *c, const char *name, zmq_msg_t *body)
{
    if (!c->auth)
        return false;
    const char *owner = zmq_msg_gets(body, "User-Id");
    if (owner && strcmp(owner, name) == 0)
        return false;
    char why[512];
    snprintf(why, sizeof why, "the CURVE key this worker uses is %s%s%s's, not %s's: a key "
             "works only under the name it was made for (lockstep keygen DIR --workers %s "
             "makes %s's, to be passed with --cert)", owner ? "" : "(nobody", owner ? owner : "",
             owner ? "" : ")", name, name, name);
    int64_t now = clock_mono_ns();
    if (now - c->mismatch_logged_at > 60 * NS_PER_SEC || strcmp(c->mismatch_name, name) != 0) {
        log_warn("refused %s: %s", name, why);
        c->mismatch_logged_at = now;
        snprintf(c->mismatch_name, sizeof c->mismatch_name, "%s", name);
    }
    proto_builder_t *b = proto_begin(PROTO_REJECT);
    proto_put_str(b, "reason", why);
    s_send_msg(c, name, b);
    return true;
}

/* Read one [identity][payload] message; extra frames are drained and
 * dropped.  False when there was none. */
static bool s_recv_one(coord_t *c)
{
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    if (zmq_msg_recv(&id, c->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&id);
        return false;
    }
    zmq_msg_init(&body);
    int more = zmq_msg_more(&id);
    int nframes = 1;
    bool ok = more && zmq_msg_recv(&body, c->router, 0) >= 0;
    if (ok) {
        nframes++;
        while (zmq_msg_more(&body)) { /* a worker sends exactly one payload frame */
            zmq_msg_t extra;
            zmq_msg_init(&extra);
            zmq_msg_recv(&extra, c->router, 0);
            nframes++;
            ok = false;
            int m2 = zmq_msg_more(&extra);
            zmq_msg_close(&extra);
            if (!m2)
                break;
        }
    }
    char name[256];
    size_t idlen = zmq_msg_size(&id);
    if (idlen >= sizeof name)
        idlen = sizeof name - 1;
    memcpy(name, zmq_msg_data(&id), idlen);
    name[idlen] = '\0';
    if (ok && idlen > 0 && strlen(name) == idlen && !s_key_mismatch(c, name, &body))
        s_on_frame(c, name, zmq_msg_data(&body), zmq_msg_size(&body));
    else if (ok && idlen > 0 && strlen(name) == idlen) {
        c->dropped++;
    } else {
        c->dropped++;
        if (c->dropped <= 50 || c->dropped % 1000 == 0)
            log_warn("dropped a message of %d frames from %s", nframes,
                     ok ? "a peer without a usable name" : "a peer");
    }
    zmq_msg_close(&body);
    zmq_msg_close(&id);
    return true;
}

void coord_flush_clocks(coord_t *c)
{
    struct store_clock *v = NULL;
    size_t n = 0;
    int64_t now = clock_wall_ns();
    for (size_t i = 0; i < c->nworkers; i++) {
        struct cworker *w = c->workers[i];
        if (!w->clock_dirty || w->rank < 0)
            continue;
        if (!v)
            v = calloc(c->nworkers, sizeof *v);
        v[n++] = (struct store_clock){ .worker = w->name, .n = w->clock_n, .at = now,
                                       .offset_ns = w->offset_ns, .err_ns = w->offset_err_ns };
    }
    /* busy: keep them dirty, the next flush tries again */
    if (n && store_clocks_put(c->store, c->run, v, n) == 0)
        for (size_t i = 0; i < c->nworkers; i++)
            if (c->workers[i]->rank >= 0)
                c->workers[i]->clock_dirty = false;
    free(v);
}

void coord_mark_lost(coord_t *c, struct cworker *w, const char *reason)
{
    if (w->lost)
        return;
    w->lost = true;
    w->lost_wall = clock_wall_ns();
    c->nlive--;
    const char *phase = c->cur_phase >= 0 ? c->exp->phases[c->cur_phase].name : NULL;
    log_warn("worker %s lost%s%s: %s", w->name, phase ? " in phase " : "", phase ? phase : "",
             reason);
    if (w->rank >= 0)
        store_worker_lost(c->store, c->run, w->name, clock_wall_ns(), reason, phase);
    if (w->phase >= 0 && (w->step == STEP_PREPARED || w->step == STEP_READY || w->step == STEP_GO))
        coord_store_unfinished(c, w, "lost", reason);
    w->told_rejoin = 0;
    s_tell_rejoin(c, w, w->name, "declared lost in this run");
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
        c->store_failed = true;
        snprintf(c->store_err, sizeof c->store_err, "%s: cannot store result: %s",
                 store_path(c->store), store_errmsg(c->store));
        return -1;
    }
    return 0;
}

static void s_periodic(coord_t *c)
{
    int64_t now = clock_mono_ns();
    if (now - c->last_hb_pub >= c->hb_ms * NS_PER_MS) {
        c->last_hb_pub = now;
        proto_builder_t *b = proto_begin(PROTO_HEARTBEAT);
        proto_put_int(b, "t", clock_wall_ns());
        proto_put_int(b, "run", c->run_key);
        void *data;
        size_t len;
        if (proto_finish(&b, &data, &len) == 0)
            coord_publish(c, data, len);
    }
    /* SYNC until every admitted worker has proved its SUB receives */
    if (now - c->last_sync_pub >= 100 * NS_PER_MS) {
        bool need = false;
        for (size_t i = 0; i < c->nworkers && !need; i++)
            need = !c->workers[i]->lost && !c->workers[i]->synced;
        if (need) {
            c->last_sync_pub = now;
            proto_builder_t *b = proto_begin(PROTO_SYNC);
            proto_put_int(b, "run", c->run_key);
            proto_put_int(b, "nonce", c->sync_nonce);
            void *data;
            size_t len;
            if (proto_finish(&b, &data, &len) == 0)
                coord_publish(c, data, len);
        }
    }
    if (now - c->last_liveness >= c->hb_ms * NS_PER_MS / 4) {
        c->last_liveness = now;
        int64_t limit = (int64_t)c->miss_beats * c->hb_ms * NS_PER_MS;
        for (size_t i = 0; i < c->nworkers; i++) {
            struct cworker *w = c->workers[i];
            if (!w->lost && now - w->last_seen > limit) {
                char why[128];
                snprintf(why, sizeof why, "no message for %.1f s (%d missed heartbeats)",
                         (double)(now - w->last_seen) / NS_PER_SEC, c->miss_beats);
                coord_mark_lost(c, w, why);
            }
        }
        if (c->spawn)
            spawn_reap(c->spawn);
    }
}

/* Milliseconds until s_periodic has something to do: the pump sleeps that
 * long at most, and no longer wakes 20 times a second for nothing. */
static int s_ms_to_duty(const coord_t *c)
{
    int64_t next = c->last_hb_pub + c->hb_ms * NS_PER_MS;
    int64_t live = c->last_liveness + c->hb_ms * NS_PER_MS / 4;
    next = live < next ? live : next;
    for (size_t i = 0; i < c->nworkers; i++) {
        if (!c->workers[i]->lost && !c->workers[i]->synced) {
            int64_t sync = c->last_sync_pub + 100 * NS_PER_MS;
            next = sync < next ? sync : next;
            break;
        }
    }
    return clock_ms_until(next);
}

/* Did the coordinator stand still since the last look (gap_ns: the longest
 * it may legitimately have been away)?  Then whatever its workers sent
 * meanwhile is still in its sockets, unread: take it in, and judge silence
 * from now on, as if every live worker had just spoken.  Every deadline
 * moves by the stall (s_wait in sched.c). */
static void s_check_stall(coord_t *c, int64_t gap_ns)
{
    int64_t stalled = clock_stalled(&c->stall, gap_ns);
    if (!stalled)
        return;
    c->stalled_ns += stalled;
    log_warn("the coordinator stood still for %.1f s (stopped, paused or asleep): nobody is "
             "judged for that silence; liveness clocks and deadlines restart from now",
             (double)stalled / NS_PER_SEC);
    /* libzmq's I/O thread woke with us and is reading the kernel's buffers:
     * give it a moment, then drain, before anyone is judged */
    zmq_pollitem_t item = { .socket = c->router, .events = ZMQ_POLLIN };
    for (int i = 0; i < 16 && zmq_poll(&item, 1, i ? 0 : 50) > 0; i++) {
        for (int k = 0; k < 4096 && s_recv_one(c); k++)
            ;
        s_batch_close(c);
    }
    int64_t now = clock_mono_ns();
    for (size_t i = 0; i < c->nworkers; i++)
        if (!c->workers[i]->lost)
            c->workers[i]->last_seen = now;
    c->last_liveness = now;
    clock_stalled(&c->stall, gap_ns); /* the drain is not a stall */
}

void coord_pump(coord_t *c, int timeout_ms)
{
    /* between two pumps the scheduler works (a commit's fsync): a beat */
    s_check_stall(c, (int64_t)c->hb_ms * NS_PER_MS);
    int due = s_ms_to_duty(c);
    timeout_ms = timeout_ms < 0 || due < timeout_ms ? due : timeout_ms;
    zmq_pollitem_t items[3] = { { .socket = c->router, .events = ZMQ_POLLIN },
                                { .socket = c->auth ? auth_socket(c->auth) : NULL,
                                  .events = ZMQ_POLLIN },
                                { .socket = c->monitor, .events = ZMQ_POLLIN } };
    int polled = zmq_poll(items, c->auth ? (c->monitor ? 3 : 2) : 1, timeout_ms);
    /* stopped in the poll: its timeout, and a beat */
    s_check_stall(c, (int64_t)timeout_ms * NS_PER_MS + (int64_t)c->hb_ms * NS_PER_MS);
    if (polled > 0) {
        if (c->auth && (items[1].revents & ZMQ_POLLIN))
            auth_handle(c->auth);
        if (c->monitor && (items[2].revents & ZMQ_POLLIN))
            s_monitor(c);
        /* bounded batch so periodic duties still run under a flood; no
         * ZMQ_EVENTS before each message: it costs two syscalls (libzmq
         * checks its command mailbox), a non-blocking receive costs none */
        for (int i = 0; i < 4096 && s_recv_one(c); i++)
            ;
        s_batch_close(c);
    }
    s_periodic(c);
}
