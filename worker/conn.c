/* conn.c — the worker's sockets: the DEALER to the coordinator's ROUTER
 * (with a monitor that makes its TCP connection a thin stream and says why
 * a handshake was refused), the SUB to its PUB, reconnection settings for
 * partitions, and the address at which other workers reach this one. */
#include "worker_int.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include "curve.h"
#include "log.h"
#include "monitor.h"

/* Connection setup shared by the DEALER and the SUB: after a partition the
 * kernel backs its SYN retries off to many seconds, so a connect gives up
 * after one and libzmq tries again within a second of the network's return. */
static void s_reconnect_opts(void *sock)
{
    int ivl = 100, ivl_max = 1000, tmo = 1000;
    zmq_setsockopt(sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
    zmq_setsockopt(sock, ZMQ_CONNECT_TIMEOUT, &tmo, sizeof tmo);
}

/* TCP backs its retransmissions off exponentially: after an outage of 2 s
 * its next try may come 1.6 s later, and the coordinator, which judges
 * silence in beats (3), hears our heartbeats 3 s late and declares us
 * lost.  Heartbeats are a thin stream: Linux retransmits one at a linear
 * timeout for its first six tries (TCP_THIN_LINEAR_TIMEOUTS).  libzmq does
 * not expose its TCP sockets; its monitor's CONNECTED event names the
 * descriptor. */
void wk_monitor_close(struct wk *w)
{
    if (!w->mon)
        return;
    zmq_socket_monitor(w->dealer, NULL, 0);
    zmq_close(w->mon);
    w->mon = NULL;
}

static void s_monitor_open(struct wk *w)
{
    char ep[96];
    snprintf(ep, sizeof ep, "inproc://lockstep-worker-%p-%u", (void *)w, w->mon_seq++);
    if (zmq_socket_monitor(w->dealer, ep,
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0)
        return;
    w->mon = zmq_socket(w->zctx, ZMQ_PAIR);
    if (zmq_connect(w->mon, ep) != 0) {
        zmq_close(w->mon);
        w->mon = NULL;
    }
}

/* The monitor's word on a handshake: a refusal is said at once (and when
 * its reason changes), and repeated by the "still waiting" lines. */
static void s_handshake_event(struct wk *w, uint16_t ev, uint32_t val)
{
    char why[sizeof w->refused];
    if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        w->refused[0] = '\0';
        return;
    }
    if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        snprintf(why, sizeof why, "the coordinator refused this worker's CURVE key (status %u): "
                 "its public key is not in the coordinator's allowed/ directory (lockstep keygen "
                 "DIR --workers %s, then restart the coordinator with --keys DIR)",
                 (unsigned)val, w->o->name);
    else if (w->o->cert)
        snprintf(why, sizeof why, "the CURVE handshake with the coordinator failed: it runs "
                 "without --keys, or --server-cert is not its coordinator.cert");
    else
        snprintf(why, sizeof why, "the coordinator wants CURVE (it runs with --keys): give "
                 "--cert NAME.cert_secret and --server-cert coordinator.cert");
    if (strcmp(why, w->refused) != 0)
        log_error("not admitted: %s", why);
    snprintf(w->refused, sizeof w->refused, "%s", why);
}

/* Not welcomed yet: say so again at growing intervals (2 s, 4 s, ... 1 min),
 * with how long it has been and the reason we know. */
void wk_still_waiting(struct wk *w, int64_t now, bool reached)
{
    if (!w->wait_ival) {
        w->wait_ival = 2 * NS_PER_SEC;
        w->wait_next = w->hello_first + w->wait_ival;
    }
    if (now < w->wait_next)
        return;
    log_warn("still not admitted by %s after %.0f s: %s", w->o->connect,
             (double)(now - w->hello_first) / NS_PER_SEC,
             w->refused[0] ? w->refused
             : reached     ? "no answer (is the coordinator up, and is no other worker "
                             "connected under this name?)"
                           : "cannot reach it (is the coordinator up, its ports open?)");
    w->wait_ival = w->wait_ival * 2 > 60 * NS_PER_SEC ? 60 * NS_PER_SEC : w->wait_ival * 2;
    w->wait_next = now + w->wait_ival;
}

void wk_monitor_drain(struct wk *w)
{
    uint16_t ev;
    uint32_t fd;
    for (int i = 0; w->mon && i < 16 && monitor_next(w->mon, &ev, &fd); i++) {
        int one = 1;
        if (ev == ZMQ_EVENT_CONNECTED &&
            setsockopt((int)fd, IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, &one, sizeof one) != 0)
            log_debug("TCP_THIN_LINEAR_TIMEOUTS: %s", strerror(errno));
        else if (ev != ZMQ_EVENT_CONNECTED)
            s_handshake_event(w, ev, fd);
    }
}

/* The DEALER, new (the old one, if any, closed: LINGER 0 drops what it
 * queued; the spool still has every result).  0, or -1 with the reason
 * logged. */
int wk_dealer_open(struct wk *w)
{
    wk_monitor_close(w);
    if (w->dealer)
        zmq_close(w->dealer);
    w->dealer = zmq_socket(w->zctx, ZMQ_DEALER);
    int64_t maxmsg = PROTO_MAX_FRAME;
    int one = 1, zero = 0;
    zmq_setsockopt(w->dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(w->dealer, ZMQ_ROUTING_ID, w->o->name, strlen(w->o->name));
    /* queue nothing for a coordinator that is not there: HELLOs would pile up */
    zmq_setsockopt(w->dealer, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt(w->dealer, ZMQ_LINGER, &zero, sizeof zero);
    s_reconnect_opts(w->dealer);
    /* CURVE: a coordinator that does not know our key refuses us in the
     * handshake; we only see silence (the HELLO warning says so) */
    char cerr[512];
    if (w->o->cert &&
        curve_client(w->dealer, w->o->cert, w->o->server_cert, cerr, sizeof cerr) != 0) {
        log_error("%s", cerr);
        return -1;
    }
    s_monitor_open(w);
    if (zmq_connect(w->dealer, w->o->connect) != 0) {
        log_error("cannot connect to %s: %s", w->o->connect, zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

/* The SUB connects to the coordinator's PUB port on the host we connect to:
 * the coordinator may have bound a wildcard address it cannot name for us. */
int wk_sub_connect(struct wk *w, const char *pub)
{
    char ep[512];
    const char *pcolon = strrchr(pub, ':'), *ccolon = strrchr(w->o->connect, ':');
    if (strncmp(pub, "tcp://", 6) == 0 && strncmp(w->o->connect, "tcp://", 6) == 0 && pcolon &&
        ccolon)
        snprintf(ep, sizeof ep, "%.*s%s", (int)(ccolon - w->o->connect), w->o->connect, pcolon);
    else
        snprintf(ep, sizeof ep, "%s", pub);
    if (w->sub && strcmp(ep, w->sub_endpoint) == 0)
        return 0;
    if (w->sub)
        zmq_close(w->sub);
    w->sub = zmq_socket(w->zctx, ZMQ_SUB);
    if (!w->sub) { /* EMFILE: the context's socket limit (--swarm sizes it) */
        log_error("cannot make a SUB socket: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    int64_t maxmsg = PROTO_MAX_FRAME;
    zmq_setsockopt(w->sub, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    int zero = 0;
    zmq_setsockopt(w->sub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(w->sub, ZMQ_SUBSCRIBE, "", 0);
    s_reconnect_opts(w->sub);
    char err[512];
    if (w->o->cert && curve_client(w->sub, w->o->cert, w->o->server_cert, err, sizeof err) != 0) {
        log_error("%s", err);
        return -1;
    }
    if (zmq_connect(w->sub, ep) != 0) {
        log_error("cannot connect SUB to %s: %s", ep, zmq_strerror(zmq_errno()));
        return -1;
    }
    snprintf(w->sub_endpoint, sizeof w->sub_endpoint, "%s", ep);
    return 0;
}

/* The address at which others reach us: the one our route to the
 * coordinator leaves from (a UDP connect sends nothing; it only picks the
 * route), unless --advertise says otherwise. */
void wk_detect_advertise(struct wk *w)
{
    if (w->o->advertise)
        snprintf(w->advertise, sizeof w->advertise, "%s", w->o->advertise);
    const char *ep = w->o->connect;
    if (strncmp(ep, "tcp://", 6) != 0)
        return;
    char host[256], port[16];
    const char *h = ep + 6, *colon = strrchr(h, ':');
    if (!colon)
        return;
    size_t hl = (size_t)(colon - h);
    if (*h == '[' && hl >= 2) { /* [v6] */
        h++;
        hl -= 2;
    }
    if (hl >= sizeof host)
        return;
    memcpy(host, h, hl);
    host[hl] = '\0';
    /* how we reach the coordinator's host: a server there is ours at it */
    if (hl < sizeof w->coord_host)
        snprintf(w->coord_host, sizeof w->coord_host, "%s", host);
    if (w->o->advertise)
        return;
    snprintf(port, sizeof port, "%s", colon + 1);
    struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
        return;
    int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage me;
    socklen_t len = sizeof me;
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0 &&
        getsockname(fd, (struct sockaddr *)&me, &len) == 0)
        getnameinfo((struct sockaddr *)&me, len, w->advertise, sizeof w->advertise, NULL, 0,
                    NI_NUMERICHOST);
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
}
