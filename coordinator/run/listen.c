/* listen.c — the coordinator's two sockets opened and bound: a ROUTER for
 * everything a worker sends and a PUB beside it (port + 1) for broadcasts,
 * their limits and keepalives, CURVE with the allowed keys, and the socket
 * monitor that names a refused peer's address. */
#include "coord_int.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <zmq.h>

#include "auth.h"
#include "clock.h"
#include "curve.h"
#include "decide.h"
#include "log.h"
#include "monitor.h"
#include "rt.h"

#define COORD_RCVHWM 100000 /* a barrier of 1024 workers must not be dropped */
/* A PUB receives only subscriptions and handshake commands (a CURVE
 * handshake's are the longest, a few hundred bytes).  libzmq keeps a
 * subscription as a tree of about 120 bytes per byte of it: a 1 MiB
 * subscription would cost 100 MiB, so a frame above this drops the peer. */
#define COORD_PUB_MAXMSG 1024
#define REFUSAL_LOG_NS (10 * NS_PER_SEC) /* refused handshakes: a line at most this often */

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

/* One refused handshake (peer: its address, "" when unknown): logged at
 * most once per REFUSAL_LOG_NS, preferring one whose address is known. */
static void s_refused(coord_t *c, const char *peer)
{
    int64_t now = clock_mono_ns();
    bool may_log = decide_refusal_may_log(&c->refusals, now, REFUSAL_LOG_NS);
    /* gone before getpeername could ask: the kernel still holds the socket
     * we closed on it (FIN_WAIT, TIME_WAIT), with its peer's address */
    const char *colon = strrchr(c->endpoint, ':');
    char closed[64];
    if (!peer[0] && may_log && colon &&
        monitor_closed_peer((unsigned)strtoul(colon + 1, NULL, 10), closed, sizeof closed))
        peer = closed;
    int64_t held = decide_refusal(&c->refusals, now, peer[0] != '\0', REFUSAL_LOG_NS);
    if (held < 0)
        return;
    log_warn("refused a connection from %s: it did not complete the CURVE handshake (no "
             "security, or not a lockstep worker)%s",
             peer[0] ? peer : "an unknown address (it closed before it was looked up)",
             held ? "; more such refusals in the last 10 s" : "");
}

void coord_refusals_due(coord_t *c, bool final)
{
    int64_t held = decide_refusal_due(&c->refusals, clock_mono_ns(), REFUSAL_LOG_NS, final);
    if (held >= 0)
        log_warn("refused a connection from an unknown address (it closed before it was "
                 "looked up): it did not complete the CURVE handshake (no security, or not a "
                 "lockstep worker)%s", held ? "; more such refusals in the last 10 s" : "");
}

/* Monitor events (ZMQ v1 format: 2-byte event, 4-byte value; then the
 * endpoint).  ACCEPTED's value is the connection's fd: remember its peer
 * (a peer refused at once may be gone before this looks: then it stays
 * unknown); a handshake failure is reported at that fd's DISCONNECTED. */
void coord_monitor_drain(coord_t *c)
{
    uint16_t ev;
    uint32_t val;
    while (monitor_next(c->monitor, &ev, &val)) {
        if (ev == ZMQ_EVENT_ACCEPTED && val < COORD_PEERS) {
            struct sockaddr_storage sa;
            socklen_t sl = sizeof sa;
            c->peers[val][0] = '\0';
            if (getpeername((int)val, (struct sockaddr *)&sa, &sl) != 0 ||
                getnameinfo((struct sockaddr *)&sa, sl, c->peers[val], sizeof c->peers[val],
                            NULL, 0, NI_NUMERICHOST) != 0)
                c->peers[val][0] = '\0';
        } else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                   ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
            c->handshake_failed = true;
        } else if (ev == ZMQ_EVENT_DISCONNECTED && val < COORD_PEERS) {
            /* a refused client reconnects with backoff: said once per 10 s */
            if (c->handshake_failed)
                s_refused(c, c->peers[val]);
            c->handshake_failed = false;
            c->peers[val][0] = '\0';
        }
    }
}

/* Limits and keepalives of both sockets (why each: below). */
static void s_sockopts(coord_t *c, const char *endpoint)
{
    int64_t maxmsg = PROTO_MAX_FRAME, pubmax = COORD_PUB_MAXMSG;
    zmq_setsockopt(c->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(c->pub, ZMQ_MAXMSGSIZE, &pubmax, sizeof pubmax);
    s_setopt_int(c->router, ZMQ_RCVHWM, COORD_RCVHWM);
    s_setopt_int(c->router, ZMQ_SNDHWM, COORD_RCVHWM);
    s_setopt_int(c->pub, ZMQ_SNDHWM, COORD_RCVHWM);
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
     * application heartbeats keep the kernel from ever probing a live one.
     * The same for the PUB: after a partition a worker subscribes again on
     * a new connection, and the old one (its unacknowledged broadcasts
     * retransmitted with an ever longer backoff) must not linger. */
    void *both[] = { c->router, c->pub };
    for (size_t i = 0; i < 2; i++) {
        s_setopt_int(both[i], ZMQ_LINGER, 1000);
        /* an IPv6 endpoint ([::1]) needs the option; IPv4 ones keep their
         * plain addresses without it */
        if (strchr(endpoint, '['))
            s_setopt_int(both[i], ZMQ_IPV6, 1);
        s_setopt_int(both[i], ZMQ_TCP_KEEPALIVE, 1);
        s_setopt_int(both[i], ZMQ_TCP_KEEPALIVE_IDLE, 2);
        s_setopt_int(both[i], ZMQ_TCP_KEEPALIVE_INTVL, 1);
        s_setopt_int(both[i], ZMQ_TCP_KEEPALIVE_CNT, 3);
        s_setopt_int(both[i], ZMQ_TCP_MAXRT, 5000);
    }
}

int coord_listen(coord_t *c, const char *endpoint, const char *keys_dir, char *err,
                 size_t errlen)
{
    s_raise_nofile();
    c->zctx = zmq_ctx_new();
    if (rt_raise_self())
        rt_zmq_ctx(c->zctx);
    c->router = zmq_socket(c->zctx, ZMQ_ROUTER);
    c->pub = zmq_socket(c->zctx, ZMQ_PUB);
    s_sockopts(c, endpoint);
    char pubep[256];
    if (keys_dir && (!(c->peers = calloc(COORD_PEERS, sizeof *c->peers)) ||
                     s_secure(c, keys_dir, err, errlen) != 0))
        return -1;
    if (s_bind(c->router, endpoint, c->endpoint, sizeof c->endpoint, err, errlen) != 0)
        return -1;
    /* from the endpoint asked for: a wildcard port gets a wildcard PUB port, not
     * the bound port + 1 (which another socket may hold) */
    s_pub_endpoint(endpoint, pubep, sizeof pubep);
    return s_bind(c->pub, pubep, c->pub_endpoint, sizeof c->pub_endpoint, err, errlen);
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

