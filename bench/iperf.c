/* iperf.c — network throughput with libiperf, as `iperf3 -c HOST -P 5`.
 * A server role runs one iperf3 test on a port it reports as ctx->endpoint;
 * a client role tries the candidate servers the coordinator gives it, in
 * order, and records every attempt that failed and why (busy, refused, ...).
 *
 * libiperf keeps process-global state, may call exit() and does not ignore
 * SIGPIPE, so every iperf server or client runs in a forked child that shares
 * only a pipe with the worker and ends with _exit().  The child builds its
 * test with iperf_parse_arguments() from the very argv iperf3 would get, so
 * that defaults that only the command line applies (UDP block size, UDP's
 * 1 Mbit/s) are iperf3's own; the "command" detail records that argv.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, close_range */
#endif
#include "plugins.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h> /* before iperf_api.h, which uses uint64_t without it */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iperf_api.h>

#include "clock.h"
#include "json.h"

enum { ROLE_CLIENT, ROLE_SERVER };
enum { PROTO_TCP, PROTO_UDP };
enum { IPV_ANY, IPV_4, IPV_6 };

struct iperf_opts {
    int role;
    char *peers;
    int64_t port;
    int64_t streams;
    int64_t time_ns;
    int64_t omit_ns;
    bool reverse;
    int protocol;
    char *bitrate;
    int ipv;
    int64_t connect_timeout_ns;
    int64_t attempt_limit;
    int64_t busy_retry_ns;
};

static const char *const s_roles[] = {"client", "server", NULL};
static const char *const s_protocols[] = {"tcp", "udp", NULL};
static const char *const s_ipvs[] = {"any", "4", "6", NULL};

/* attempt_limit is bounded by the details a result can hold: 12 opt.* rows,
 * target, protocol, streams and command, and one row per failed attempt. */
#define IPERF_MAX_ATTEMPTS 16
#define IPERF_MAX_PEERS 64
/* Streams whose own figures are kept as details (stream.N.*); the sums
 * and the round trip count every stream. */
#define IPERF_MAX_STREAM_DETAILS 8

static const struct opt_def s_options[] = {
    {.name = "role", .type = OPT_ENUM, .offset = offsetof(struct iperf_opts, role),
     .def = "client", .choices = s_roles,
     .help = "client or server; set by the coordinator when it pairs workers"},
    {.name = "peers", .type = OPT_STR, .offset = offsetof(struct iperf_opts, peers),
     .help = "client: servers to try in order, \"host:port,[v6addr]:port\"; set by the "
             "coordinator"},
    {.name = "port", .type = OPT_INT, .offset = offsetof(struct iperf_opts, port),
     .def = "5201", .min = 0, .max = 65535,
     .help = "server: TCP port to listen on; 0 = any free port"},
    {.name = "streams", .type = OPT_INT, .offset = offsetof(struct iperf_opts, streams),
     .def = "5", .min = 1, .max = 128, .help = "parallel streams (iperf3 -P)"},
    {.name = "time", .type = OPT_DURATION, .offset = offsetof(struct iperf_opts, time_ns),
     .def = "10s", .min = 1, .max = 86400,
     .help = "seconds to transmit, whole seconds (iperf3 -t)"},
    {.name = "omit", .type = OPT_DURATION, .offset = offsetof(struct iperf_opts, omit_ns),
     .def = "0", .min = 0, .max = 60,
     .help = "seconds of slow start left out of the figures, whole seconds (iperf3 -O)"},
    {.name = "reverse", .type = OPT_BOOL, .offset = offsetof(struct iperf_opts, reverse),
     .def = "false", .help = "the server sends and the client receives (iperf3 -R)"},
    {.name = "protocol", .type = OPT_ENUM, .offset = offsetof(struct iperf_opts, protocol),
     .def = "tcp", .choices = s_protocols, .help = "tcp or udp (iperf3 -u)"},
    {.name = "bitrate", .type = OPT_STR, .offset = offsetof(struct iperf_opts, bitrate),
     .help = "target bits/s per stream, K/M/G/T = 1000-multiples, e.g. 100M; 0 = unlimited; "
             "unset = iperf3's default (1M for udp, unlimited for tcp) (iperf3 -b)"},
    {.name = "ipv", .type = OPT_ENUM, .offset = offsetof(struct iperf_opts, ipv),
     .def = "any", .choices = s_ipvs, .help = "IP version: any, 4 or 6 (iperf3 -4 / -6)"},
    {.name = "connect_timeout", .type = OPT_DURATION,
     .offset = offsetof(struct iperf_opts, connect_timeout_ns), .def = "5s", .min = 0,
     .max = 600,
     .help = "client: how long to retry a refused server (it may not listen yet) and to "
             "wait for a connection (iperf3 --connect-timeout)"},
    {.name = "attempt_limit", .type = OPT_INT, .offset = offsetof(struct iperf_opts, attempt_limit),
     .def = "8", .min = 1, .max = IPERF_MAX_ATTEMPTS,
     .help = "client: at most this many of the peers are tried"},
    {.name = "busy_retry", .type = OPT_DURATION, .offset = offsetof(struct iperf_opts, busy_retry_ns),
     .def = "10s", .min = 0, .max = 600,
     .help = "client: how long to keep trying a busy server (it serves one test at a time), "
             "backing off from 0.5s, before the next candidate; 0 = move on at once"},
    {.name = NULL},
};

/* ---- candidate servers: "host:port,[v6]:port" ---- */

struct target {
    char host[256];
    int port;
};

static int s_parse_target(const char *s, size_t n, struct target *t, char *err, size_t errlen)
{
    const char *colon;
    size_t hlen;
    const char *h = s;
    if (n > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (!rb || rb + 1 >= s + n || rb[1] != ':') {
            snprintf(err, errlen, "peers: '%.*s' is not [address]:port", (int)n, s);
            return -1;
        }
        h = s + 1;
        hlen = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = NULL;
        for (const char *p = s; p < s + n; p++)
            if (*p == ':')
                colon = p;
        if (!colon) {
            snprintf(err, errlen, "peers: '%.*s' has no port (expected host:port)", (int)n, s);
            return -1;
        }
        hlen = (size_t)(colon - s);
        if (memchr(s, ':', hlen)) {
            snprintf(err, errlen, "peers: '%.*s': write an IPv6 address in brackets, "
                                  "e.g. [::1]:5201", (int)n, s);
            return -1;
        }
    }
    if (hlen == 0 || hlen >= sizeof t->host) {
        snprintf(err, errlen, "peers: '%.*s' has %s host", (int)n, s,
                 hlen ? "too long a" : "an empty");
        return -1;
    }
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c <= ' ' || c >= 0x7f || c == '/' || c == '[' || c == ']') {
            snprintf(err, errlen, "peers: '%.*s': the host has a character a host name or "
                                  "address cannot have", (int)n, s);
            return -1;
        }
    }
    const char *ps = colon + 1, *pe = s + n;
    long port = 0;
    if (ps == pe || pe - ps > 5) {
        snprintf(err, errlen, "peers: '%.*s': %s", (int)n, s,
                 ps == pe ? "the port is missing" : "the port is out of range (1..65535)");
        return -1;
    }
    for (const char *p = ps; p < pe; p++) {
        if (*p < '0' || *p > '9') {
            snprintf(err, errlen, "peers: '%.*s': the port is not a number", (int)n, s);
            return -1;
        }
        port = port * 10 + (*p - '0');
    }
    if (port < 1 || port > 65535) {
        snprintf(err, errlen, "peers: '%.*s': the port is out of range (1..65535)", (int)n, s);
        return -1;
    }
    memcpy(t->host, h, hlen);
    t->host[hlen] = '\0';
    t->port = (int)port;
    return 0;
}

/* Parse the list into out[0..max-1] (out may be NULL to only check it). */
static int s_parse_peers(const char *peers, struct target *out, size_t max, size_t *count,
                         char *err, size_t errlen)
{
    size_t n = 0;
    if (!*peers) {
        snprintf(err, errlen, "peers: the list is empty (expected host:port[,host:port...])");
        return -1;
    }
    for (const char *p = peers;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        struct target t;
        if (len == 0) {
            snprintf(err, errlen, "peers: an empty entry in '%s'", peers);
            return -1;
        }
        if (s_parse_target(p, len, &t, err, errlen) < 0)
            return -1;
        if (n == max) {
            snprintf(err, errlen, "peers: more than %zu servers", max);
            return -1;
        }
        if (out)
            out[n] = t;
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    *count = n;
    return 0;
}

/* iperf3's -b: bits per second; K, M, G, T are 1000-multiples (units.c's
 * unit_atof_rate).  Its "/burst" suffix is not offered. */
static int s_parse_bitrate(const char *s, uint64_t *bps)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0)
        return -1;
    double mult = 1;
    switch (*end) {
    case 'k': case 'K': mult = 1e3; end++; break;
    case 'm': case 'M': mult = 1e6; end++; break;
    case 'g': case 'G': mult = 1e9; end++; break;
    case 't': case 'T': mult = 1e12; end++; break;
    default: break;
    }
    if (*end || v * mult > 1e14)
        return -1;
    *bps = (uint64_t)llround(v * mult);
    return 0;
}

static int s_validate(const void *opts, char *err, size_t errlen)
{
    const struct iperf_opts *o = opts;
    if (o->time_ns % NS_PER_SEC || o->omit_ns % NS_PER_SEC) {
        snprintf(err, errlen, "%s: iperf3 counts whole seconds (got %.3fs)",
                 o->time_ns % NS_PER_SEC ? "time" : "omit",
                 (double)(o->time_ns % NS_PER_SEC ? o->time_ns : o->omit_ns) / NS_PER_SEC);
        return -1;
    }
    uint64_t bps;
    if (o->bitrate && *o->bitrate && s_parse_bitrate(o->bitrate, &bps) < 0) {
        snprintf(err, errlen, "bitrate: '%s' is not a bit rate (a number of bits/s with an "
                              "optional K, M, G or T suffix, 1000-multiples as iperf3 -b)",
                 o->bitrate);
        return -1;
    }
    size_t n;
    /* peers unset is fine here: the coordinator validates experiments before
     * it pairs anyone; a client without peers fails in prepare(). */
    if (o->peers && s_parse_peers(o->peers, NULL, IPERF_MAX_PEERS, &n, err, errlen) < 0)
        return -1;
    return 0;
}

/* iperf3 spends about a second on the control connection, the parameter and
 * the results exchange around the transfer.  Failing over costs more: see
 * s_bound_ns. */
static int64_t s_expected_ns(const void *opts)
{
    const struct iperf_opts *o = opts;
    return o->time_ns + o->omit_ns + 2 * NS_PER_SEC;
}

/* How long one attempt (one child) may take before it is killed: the
 * connection, the test, and a few seconds of exchanges around it.  A
 * server that accepts and never answers costs exactly this. */
static int64_t s_child_budget_ns(const struct iperf_opts *o)
{
    return o->time_ns + o->omit_ns + o->connect_timeout_ns + 5 * NS_PER_SEC;
}

/* How long one candidate may take: its attempts, with refusals retried
 * for connect_timeout and busy answers for busy_retry. */
static int64_t s_candidate_ns(const struct iperf_opts *o)
{
    int64_t wait = o->connect_timeout_ns > o->busy_retry_ns ? o->connect_timeout_ns
                                                             : o->busy_retry_ns;
    return s_child_budget_ns(o) + wait + NS_PER_SEC;
}

/* The most a client's run may take with n candidates: each bounded, tried
 * in turn (the coordinator's deadline for the result counts this). */
static int64_t s_bound_ns(const void *opts, size_t n)
{
    const struct iperf_opts *o = opts;
    size_t tries = n < (size_t)o->attempt_limit ? n : (size_t)o->attempt_limit;
    return (int64_t)(tries ? tries : 1) * s_candidate_ns(o) + NS_PER_SEC;
}

/* ---- iperf's JSON report ----
 *
 * libiperf carries cJSON and this build exports its symbols, but no header
 * declares them and iperf's own cjson.h is not installed, so its report is
 * read back as text, through jansson (common/json.h).  JSON output is how
 * libiperf says what happened (iperf_run_client returns 0 even on failure),
 * so a report that does not parse is said as such, never taken for one that
 * lacks a figure. */

/* The report in text[0..len), or NULL with "iperf's report is not JSON: ..."
 * in why. */
static json_t *s_report(const char *text, size_t len, char *why, size_t whylen)
{
    char jerr[256];
    json_t *root = ljson_load(text, len, jerr, sizeof jerr);
    if (!root)
        snprintf(why, whylen, "iperf's report is not JSON: %.150s", jerr);
    return root;
}

/* ---- the forked child ---- */

/* What a child writes up its pipe: this header, then len bytes of text —
 * iperf's JSON (MSG_JSON) or a message (MSG_ERROR). */
enum { MSG_JSON = 1, MSG_ERROR = 2 };
struct child_msg {
    int32_t kind;
    int32_t ierr; /* libiperf's i_errno when the child finished */
    uint32_t len;
};
#define IPERF_MAX_OUTPUT (4u << 20)
/* Exit status of a child in which something called exit(). */
#define CHILD_CALLED_EXIT 3

/* An iperf3 command line, built in the parent before fork. */
struct iperf_argv {
    int argc;
    char *argv[32];
    char buf[1024];
    size_t used;
};

static void s_arg(struct iperf_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_arg(struct iperf_argv *a, const char *fmt, ...)
{
    if (a->argc + 1 >= (int)(sizeof a->argv / sizeof a->argv[0]))
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(a->buf + a->used, sizeof a->buf - a->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof a->buf - a->used)
        return; /* cannot happen with our bounded hosts; iperf would reject the line */
    a->argv[a->argc++] = a->buf + a->used;
    a->argv[a->argc] = NULL;
    a->used += (size_t)n + 1;
}

static void s_build_argv(const struct iperf_opts *o, const struct target *t, int port,
                         struct iperf_argv *a)
{
    a->argc = 0;
    a->used = 0;
    s_arg(a, "iperf3");
    if (t)
        s_arg(a, "-c"), s_arg(a, "%s", t->host);
    else
        s_arg(a, "-s"), s_arg(a, "-1");
    s_arg(a, "-p"), s_arg(a, "%d", t ? t->port : port);
    /* -i 0: no interval reports, so the JSON stays a few KB per stream
     * however long the test; the end figures are the same sums. */
    s_arg(a, "-i"), s_arg(a, "0");
    s_arg(a, "-J");
    if (o->ipv != IPV_ANY)
        s_arg(a, o->ipv == IPV_4 ? "-4" : "-6");
    if (!t)
        return;
    s_arg(a, "-P"), s_arg(a, "%lld", (long long)o->streams);
    s_arg(a, "-t"), s_arg(a, "%lld", (long long)(o->time_ns / NS_PER_SEC));
    if (o->omit_ns)
        s_arg(a, "-O"), s_arg(a, "%lld", (long long)(o->omit_ns / NS_PER_SEC));
    if (o->reverse)
        s_arg(a, "-R");
    if (o->protocol == PROTO_UDP)
        s_arg(a, "-u");
    uint64_t bps;
    if (o->bitrate && *o->bitrate && s_parse_bitrate(o->bitrate, &bps) == 0)
        s_arg(a, "-b"), s_arg(a, "%llu", (unsigned long long)bps);
    if (o->connect_timeout_ns >= NS_PER_MS)
        s_arg(a, "--connect-timeout"), s_arg(a, "%lld", (long long)(o->connect_timeout_ns / NS_PER_MS));
}

static void s_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the parent sees a short message and says so */
        p += n;
        len -= (size_t)n;
    }
}

static void s_child_report(int fd, int kind, const char *text)
{
    size_t len = strlen(text);
    if (len > IPERF_MAX_OUTPUT)
        len = IPERF_MAX_OUTPUT;
    struct child_msg m = {.kind = kind, .ierr = i_errno, .len = (uint32_t)len};
    s_write_all(fd, &m, sizeof m);
    s_write_all(fd, text, len);
}

static void s_child_atexit(void)
{
    _exit(CHILD_CALLED_EXIT);
}

/* The child: fd 3 becomes the pipe, fd 1 /dev/null, every other inherited
 * descriptor (ZeroMQ sockets, other jobs' files) is closed.
 *
 * The worker is multithreaded; only this thread exists in the child, and
 * locks other threads held at fork() stay held.  libiperf mallocs, uses
 * stdio and resolves names, as iperf3 itself does; that is safe here because
 * glibc's fork() takes the malloc arena locks, the stdio list lock and the
 * NSS database lock before forking and resets them (and every FILE lock and
 * the dynamic loader's lock) in the child — posix/fork.c since glibc 2.34,
 * Debian 12 has 2.36.  Nothing else the worker locks is touched here. */
static void s_child(struct iperf_argv *a, bool server, const struct target *t, int ipv,
                    int wfd) __attribute__((noreturn));
static void s_child(struct iperf_argv *a, bool server, const struct target *t, int ipv,
                    int wfd)
{
    /* The worker's handlers (SIGTERM sets a flag) must not outlive the fork:
     * the parent ends a child with SIGTERM/SIGKILL. */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGTERM, &dfl, NULL);
    sigaction(SIGINT, &dfl, NULL);
    sigaction(SIGHUP, &dfl, NULL);
    signal(SIGPIPE, SIG_IGN); /* a peer that goes away is an error, not a death */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (wfd <= 3) {
        int moved = fcntl(wfd, F_DUPFD, 10);
        if (moved < 0)
            _exit(1);
        wfd = moved;
    }
    int nul = open("/dev/null", O_WRONLY);
    if (nul >= 0 && nul != 1)
        dup2(nul, 1); /* iperf also prints its JSON; and stdout's inherited buffer is flushed there */
    if (dup2(wfd, 3) < 0)
        _exit(1);
    if (close_range(4, ~0U, 0) < 0)
        for (int fd = 4; fd < 4096; fd++)
            close(fd);

    /* libiperf calls exit() in a few places; exit() would run the worker's
     * atexit handlers (CZMQ's shutdown among them) in here.  Handlers run
     * last-registered first, so this one ends the child before them. */
    atexit(s_child_atexit);

    if (t) {
        /* Resolve here, not in the parent: a slow DNS is then under the
         * child's deadline, and its failure gets a message of its own. */
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                                 .ai_family = ipv == IPV_4 ? AF_INET
                                            : ipv == IPV_6 ? AF_INET6 : AF_UNSPEC};
        struct addrinfo *res = NULL;
        int g = getaddrinfo(t->host, NULL, &hints, &res);
        if (g != 0) {
            char msg[384];
            snprintf(msg, sizeof msg, "cannot resolve %s: %s", t->host, gai_strerror(g));
            s_child_report(3, MSG_ERROR, msg);
            _exit(0);
        }
        freeaddrinfo(res);
    }
    struct iperf_test *test = iperf_new_test();
    if (!test || iperf_defaults(test) < 0) {
        s_child_report(3, MSG_ERROR, "libiperf could not create a test (out of memory?)");
        _exit(0);
    }
    optind = 0; /* glibc: restart getopt; the worker's own parse left optind > 1 */
    if (iperf_parse_arguments(test, a->argc, a->argv) < 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "iperf3 refused the arguments: %s", iperf_strerror(i_errno));
        s_child_report(3, MSG_ERROR, msg);
        _exit(0);
    }
    /* With -J a failed client test still returns 0 and puts "error" in the
     * JSON; a failed server test returns < 0 without finishing its JSON. */
    int rc = server ? iperf_run_server(test) : iperf_run_client(test);
    char *json = iperf_get_test_json_output_string(test);
    if (json && (rc >= 0 || !server))
        s_child_report(3, MSG_JSON, json);
    else
        s_child_report(3, MSG_ERROR, iperf_strerror(i_errno));
    _exit(0);
}

struct child {
    pid_t pid;
    int fd; /* read end, non-blocking */
};

static int s_spawn(struct iperf_argv *a, bool server, const struct target *t, int ipv,
                   struct child *c, char *err, size_t errlen)
{
    int fds[2];
    /* O_CLOEXEC: other worker threads may fork and exec meanwhile. */
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "iperf: pipe: %s", strerror(errno));
        return -1;
    }
    /* The child's end blocks: a large report waits for the parent to read. */
    fcntl(fds[1], F_SETFL, 0);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "iperf: fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0)
        s_child(a, server, t, ipv, fds[1]);
    close(fds[1]);
    c->pid = pid;
    c->fd = fds[0];
    return 0;
}

/* Reap pid, waiting at most grace_ms; then SIGKILL and reap for sure.
 * Returns the wait status, or -1 when someone else reaped it. */
static int s_reap(pid_t pid, int grace_ms)
{
    int status;
    for (int waited = 0;; waited += 10) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            return status;
        if (w < 0 && errno != EINTR)
            return -1;
        if (waited >= grace_ms)
            break;
        poll(NULL, 0, 10);
    }
    kill(pid, SIGKILL);
    pid_t w;
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    return w == pid ? status : -1;
}

/* SIGTERM, a second to go, then SIGKILL; always reaped. */
static int s_kill(pid_t pid)
{
    kill(pid, SIGTERM);
    return s_reap(pid, 1000);
}

struct outcome {
    int kind;          /* MSG_*, or 0 when no whole message came */
    int ierr;
    char *text;        /* malloc'd, NUL-terminated; NULL without a message */
    size_t len;
    int status;        /* wait status, -1 unknown */
    bool killed;       /* past the deadline */
    bool stopped;      /* *stop was set */
    bool oversized;
};

static void s_outcome_free(struct outcome *o)
{
    free(o->text);
    o->text = NULL;
}

/* Collect a child's report and reap it: read its pipe until the whole
 * message is in, the child has gone, the deadline passes (kill) or *stop is
 * set (kill).  The pipe's write end may have leaked into a process another
 * thread forked, so EOF is not waited for: the header says how much comes. */
static void s_collect(struct child *c, int64_t deadline, volatile sig_atomic_t *stop,
                      struct outcome *o)
{
    *o = (struct outcome){.status = -1};
    struct child_msg m;
    size_t have = 0; /* header bytes, then payload bytes */
    bool got_header = false, reaped = false;
    for (;;) {
        if (stop && *stop) {
            o->stopped = true;
            break;
        }
        if (clock_mono_ns() >= deadline) {
            o->killed = true;
            break;
        }
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int ms = clock_ms_until(deadline);
        int pr = poll(&pfd, 1, ms < 100 ? ms : 100);
        if (pr < 0 && errno != EINTR)
            break;
        bool eof = false;
        for (;;) { /* drain what is there */
            ssize_t n;
            if (!got_header)
                n = read(c->fd, (char *)&m + have, sizeof m - have);
            else
                n = read(c->fd, o->text + have, o->len - have);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                eof = n == 0;
                break;
            }
            have += (size_t)n;
            if (!got_header && have == sizeof m) {
                if (m.len > IPERF_MAX_OUTPUT || (m.kind != MSG_JSON && m.kind != MSG_ERROR)) {
                    o->oversized = true;
                    break;
                }
                got_header = true;
                have = 0;
                o->len = m.len;
                o->text = malloc((size_t)m.len + 1);
                if (!o->text) {
                    o->oversized = true;
                    break;
                }
            }
            if (got_header && have == o->len)
                break;
        }
        if (o->oversized)
            break;
        if (got_header && have == o->len) {
            o->text[o->len] = '\0';
            o->kind = m.kind;
            o->ierr = m.ierr;
            break;
        }
        if (eof)
            break;
        if (reaped)
            break; /* it is gone, and what it wrote has been read */
        int st;
        if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
            o->status = st;
            reaped = true; /* one more pass drains what it wrote */
        }
    }
    close(c->fd);
    c->fd = -1;
    if (!o->kind) {
        free(o->text);
        o->text = NULL;
    }
    if (!reaped)
        o->status = o->killed || o->stopped || o->oversized ? s_kill(c->pid)
                                                            : s_reap(c->pid, 2000);
    c->pid = 0;
}

/* Why a child left no usable report, in words. */
static void s_no_report(const struct outcome *o, int64_t budget_ns, char *buf, size_t len)
{
    if (o->stopped)
        snprintf(buf, len, "stopped");
    else if (o->killed)
        snprintf(buf, len, "no result within %llds (killed)",
                 (long long)(budget_ns / NS_PER_SEC));
    else if (o->oversized)
        snprintf(buf, len, "iperf's report was malformed or over %u bytes", IPERF_MAX_OUTPUT);
    else if (o->status >= 0 && WIFEXITED(o->status) && WEXITSTATUS(o->status) == CHILD_CALLED_EXIT)
        snprintf(buf, len, "libiperf called exit() before reporting");
    else if (o->status >= 0 && WIFSIGNALED(o->status))
        snprintf(buf, len, "the iperf process died of signal %d", WTERMSIG(o->status));
    else
        snprintf(buf, len, "the iperf process ended without a report");
}

/* ---- server role ---- */

struct server {
    struct child c;
    int port;
};

/* A TCP port nothing uses now, also free for UDP (an iperf3 UDP test uses
 * the same number).  Racy by nature: between our close() here and the
 * child's bind() another process may take it; the child then fails to
 * listen and prepare() says so, and a retry picks another port. */
static int s_free_port(int ipv, char *err, size_t errlen)
{
    for (int tries = 0; tries < 20; tries++) {
        int fam = ipv == IPV_4 ? AF_INET : AF_INET6;
        int s = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 && ipv == IPV_ANY && errno == EAFNOSUPPORT)
            s = socket(fam = AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            snprintf(err, errlen, "iperf: socket: %s", strerror(errno));
            return -1;
        }
        struct sockaddr_storage ss = {0};
        socklen_t sl = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        ss.ss_family = (sa_family_t)fam;
        int port = -1;
        if (bind(s, (struct sockaddr *)&ss, sl) == 0 &&
            getsockname(s, (struct sockaddr *)&ss, &sl) == 0)
            port = ntohs(fam == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
        close(s);
        if (port <= 0) {
            snprintf(err, errlen, "iperf: no free port: %s", strerror(errno));
            return -1;
        }
        int u = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        bool udp_free = u >= 0 && bind(u, (struct sockaddr *)&ss, sl) == 0;
        if (u >= 0)
            close(u);
        if (udp_free)
            return port;
    }
    snprintf(err, errlen, "iperf: no port free for both TCP and UDP in 20 tries");
    return -1;
}

/* What /proc says about the TCP sockets pid holds: whether one listens on
 * port, and how many others it has (a client's connections).  known is
 * false when /proc cannot tell.  The tables are read from /proc/self: the
 * child shares our network namespace, and a child that has already exited
 * has no /proc/PID/net — that must read as "not listening", not "unknown". */
struct sockstate {
    bool known, listening;
    int others;
};

static void s_sockets(pid_t pid, int port, struct sockstate *st)
{
    *st = (struct sockstate){.known = false};
    unsigned long inodes[64];
    size_t ninodes = 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d)) && ninodes < 64) {
        char link[64], lpath[sizeof path + sizeof de->d_name + 1];
        snprintf(lpath, sizeof lpath, "%s/%s", path, de->d_name);
        ssize_t n = readlink(lpath, link, sizeof link - 1);
        if (n <= 0)
            continue;
        link[n] = '\0';
        if (sscanf(link, "socket:[%lu]", &inodes[ninodes]) == 1)
            ninodes++;
    }
    if (d)
        closedir(d);
    static const char *const tables[] = {"/proc/self/net/tcp", "/proc/self/net/tcp6"};
    for (size_t t = 0; t < 2; t++) {
        FILE *f = fopen(tables[t], "re");
        if (!f)
            continue;
        st->known = true;
        char line[512];
        while (fgets(line, sizeof line, f)) {
            unsigned lport, state;
            unsigned long inode;
            if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%X %*[0-9A-Fa-f]:%*X %X %*s %*s %*s %*u %*u %lu",
                       &lport, &state, &inode) != 3)
                continue;
            for (size_t i = 0; i < ninodes; i++) {
                if (inodes[i] != inode)
                    continue;
                if (state == 0x0A && (int)lport == port)
                    st->listening = true;
                else if (state != 0x0A)
                    st->others++;
            }
        }
        fclose(f);
    }
}

static int s_server_prepare(struct bench_ctx *ctx)
{
    const struct iperf_opts *o = ctx->opts;
    struct server *sv = calloc(1, sizeof *sv);
    if (!sv) {
        snprintf(ctx->err, sizeof ctx->err, "iperf: out of memory");
        return -1;
    }
    sv->c.fd = -1;
    ctx->priv = sv;
    sv->port = (int)o->port;
    if (sv->port == 0 && (sv->port = s_free_port(o->ipv, ctx->err, sizeof ctx->err)) < 0)
        return -1;
    struct iperf_argv a;
    s_build_argv(o, NULL, sv->port, &a);
    if (s_spawn(&a, true, NULL, o->ipv, &sv->c, ctx->err, sizeof ctx->err) < 0)
        return -1;

    /* iperf_run_server() binds inside its blocking call and offers no
     * callback, so watch /proc for the child's listening socket: a bind
     * failure is then reported here, before any client is sent to us. */
    int64_t limit = o->connect_timeout_ns > 2 * NS_PER_SEC ? o->connect_timeout_ns : 2 * NS_PER_SEC;
    int64_t until = clock_mono_ns() + limit;
    for (;;) {
        /* The pipe first: a child that failed has said so (or died) there. */
        struct pollfd pfd = {.fd = sv->c.fd, .events = POLLIN};
        bool reported = poll(&pfd, 1, 10) > 0;
        if (reported || clock_mono_ns() >= until || (ctx->stop && *ctx->stop)) {
            /* read what it said; a late or stopped one is killed at once */
            struct outcome out;
            s_collect(&sv->c, clock_mono_ns() + (reported ? 2 * NS_PER_SEC : 0), ctx->stop, &out);
            char why[256];
            if (out.kind == MSG_JSON) /* nobody knows our port yet */
                snprintf(why, sizeof why, "served a stray client before it was ready");
            else if (out.kind)
                snprintf(why, sizeof why, "%s", out.text);
            else if (out.stopped)
                snprintf(why, sizeof why, "stopped");
            else if (out.killed)
                snprintf(why, sizeof why, "not listening after %.1fs", (double)limit / NS_PER_SEC);
            else
                s_no_report(&out, 0, why, sizeof why);
            s_outcome_free(&out);
            snprintf(ctx->err, sizeof ctx->err, "iperf server on port %d: %.200s", sv->port, why);
            return -1;
        }
        struct sockstate st;
        s_sockets(sv->c.pid, sv->port, &st);
        if (st.listening || !st.known)
            break; /* listening; or /proc cannot say, and clients retry a refusal */
    }
    snprintf(ctx->endpoint, sizeof ctx->endpoint, ":%d", sv->port);
    return 0;
}

static int s_server_run(struct bench_ctx *ctx)
{
    const struct iperf_opts *o = ctx->opts;
    struct server *sv = ctx->priv;
    /* as long as its one client may take at it (refusals retried while we
     * start, then one attempt); the coordinator stops a server whose
     * client has reported sooner */
    int64_t budget = s_child_budget_ns(o) + o->connect_timeout_ns + 2 * NS_PER_SEC;
    int64_t deadline = clock_mono_ns() + budget;
    /* Past the deadline, look before killing: was a client there at all? */
    struct sockstate st = {.known = false};
    for (;;) {
        int64_t now = clock_mono_ns();
        if (now + 200 * NS_PER_MS >= deadline) {
            s_sockets(sv->c.pid, sv->port, &st);
            break;
        }
        struct pollfd pfd = {.fd = sv->c.fd, .events = POLLIN};
        int ms = clock_ms_until(deadline - 200 * NS_PER_MS);
        if (poll(&pfd, 1, ms < 100 ? ms : 100) > 0 || (ctx->stop && *ctx->stop))
            break;
    }
    struct outcome out;
    s_collect(&sv->c, deadline, ctx->stop, &out);
    int rc = -1;
    if (out.kind == MSG_ERROR) {
        snprintf(ctx->err, sizeof ctx->err, "iperf server on port %d: %s", sv->port, out.text);
    } else if (out.kind == MSG_JSON) {
        char why[240];
        json_t *rep = s_report(out.text, out.len, why, sizeof why);
        double bps, rev = 0;
        ljson_number(rep, "/start/test_start/reverse", &rev);
        const char *key = rev ? "sum_sent.bits_per_second" : "sum_received.bits_per_second";
        if (!rep) {
            snprintf(ctx->err, sizeof ctx->err, "iperf server on port %d: %.200s", sv->port, why);
        } else if (!ljson_number(rep, rev ? "/end/sum_sent/bits_per_second"
                                          : "/end/sum_received/bits_per_second", &bps)) {
            snprintf(ctx->err, sizeof ctx->err, "iperf server on port %d: no %s in iperf's "
                                                "report", sv->port, key);
        } else {
            /* the figure this end measured: received, or sent under -R */
            bench_result_metric(ctx->res, rev ? "sent_Mbps" : "received_Mbps", "Mbit/s", bps / 1e6);
            const char *host = ljson_string(rep, "/start/connected/0/remote_host");
            if (host)
                bench_result_detail(ctx->res, "client", "%s", host);
            bench_result_detail(ctx->res, "port", "%d", sv->port);
            rc = 0;
        }
        json_decref(rep);
    } else if (out.killed && st.known && !st.others) {
        snprintf(ctx->err, sizeof ctx->err, "iperf server on port %d: no client connected "
                                            "within %llds", sv->port,
                 (long long)(budget / NS_PER_SEC));
    } else {
        char why[160];
        s_no_report(&out, budget, why, sizeof why);
        snprintf(ctx->err, sizeof ctx->err, "iperf server on port %d: %s%s", sv->port, why,
                 out.killed && st.others ? " (a client had connected)" : "");
    }
    s_outcome_free(&out);
    return rc;
}

/* ---- client role ---- */

/* The short word for a failure, for the summary; NULL = use the message. */
static const char *s_classify(const char *msg, int ierr)
{
    if (ierr == IEACCESSDENIED || strstr(msg, "busy"))
        return "busy";
    if (strstr(msg, "Connection refused"))
        return "refused";
    if (strstr(msg, "timed out") || strstr(msg, "(killed)"))
        return "timed out";
    if (strstr(msg, "cannot resolve"))
        return "unresolvable";
    if (strstr(msg, "unreachable") || strstr(msg, "No route to host"))
        return "unreachable";
    return NULL;
}

/* Room left for details, keeping what bench_result_params adds after run()
 * (one opt.* row per option) and the attempt rows. */
static bool s_room(const struct bench_result *r, size_t want)
{
    size_t nopts = 0;
    for (const struct opt_def *d = s_options; d->name; d++)
        nopts++;
    return r->ndetails + want + nopts + 2 <= BENCH_MAX_DETAILS;
}

/* What iperf3 reports beside the bit rates, kept as details: round trip
 * (TCP_INFO of the sending end, per stream: min of the minima, mean of the
 * means, max of the maxima, in ms), CPU use of both ends, congestion
 * control, the addresses of the connection, and each stream's figures. */
static void s_details(struct bench_result *r, const json_t *rep, bool tcp)
{
    static const struct {
        const char *ptr, *name;
    } strs[] = {
        {"/start/connected/0/remote_host", "remote_host"},
        {"/start/connected/0/local_host", "local_host"},
    }, nums[] = {
        {"/end/cpu_utilization_percent/host_total", "cpu_local_pct"},
        {"/end/cpu_utilization_percent/remote_total", "cpu_remote_pct"},
    }, congestion[] = {
        {"/end/sender_tcp_congestion", "congestion_sender"},
        {"/end/receiver_tcp_congestion", "congestion_receiver"},
    };
    const char *v;
    double x;
    for (size_t i = 0; i < 2; i++)
        if ((v = ljson_string(rep, strs[i].ptr)) && s_room(r, 1))
            bench_result_detail(r, strs[i].name, "%s", v);
    for (size_t i = 0; i < 2; i++)
        if (ljson_number(rep, nums[i].ptr, &x) && s_room(r, 1))
            bench_result_detail(r, nums[i].name, "%.2f", x);
    for (size_t i = 0; i < 2; i++)
        if ((v = ljson_string(rep, congestion[i].ptr)) && s_room(r, 1))
            bench_result_detail(r, congestion[i].name, "%s", v);
    double rmin = INFINITY, rmax = -INFINITY, rsum = 0;
    int nrtt = 0;
    const json_t *streams = ljson_get(rep, "/end/streams");
    for (size_t i = 0; i < json_array_size(streams) && i < IPERF_MAX_STREAM_DETAILS * 16; i++) {
        const json_t *st = json_array_get(streams, i);
        char key[48];
        double bps;
        if (!ljson_number(st, "/receiver/bits_per_second", &bps))
            break;
        if (tcp) {
            double mn = 0, mean = 0, mx = 0;
            bool a = ljson_number(st, "/sender/min_rtt", &mn);
            bool b = ljson_number(st, "/sender/mean_rtt", &mean);
            bool c = ljson_number(st, "/sender/max_rtt", &mx);
            if (a && b && c && mean > 0) { /* microseconds; 0 when the sender is remote */
                rmin = mn < rmin ? mn : rmin;
                rmax = mx > rmax ? mx : rmax;
                rsum += mean;
                nrtt++;
            }
        }
        if (i >= IPERF_MAX_STREAM_DETAILS || !s_room(r, 2))
            continue;
        snprintf(key, sizeof key, "stream.%zu.received_Mbps", i + 1);
        bench_result_detail(r, key, "%.3f", bps / 1e6);
        if (tcp && ljson_number(st, "/sender/retransmits", &x)) {
            snprintf(key, sizeof key, "stream.%zu.retransmits", i + 1);
            bench_result_detail(r, key, "%.0f", x);
        }
    }
    if (nrtt && s_room(r, 3)) {
        bench_result_detail(r, "rtt_min_ms", "%.3f", rmin / 1e3);
        bench_result_detail(r, "rtt_mean_ms", "%.3f", rsum / nrtt / 1e3);
        bench_result_detail(r, "rtt_max_ms", "%.3f", rmax / 1e3);
    }
}

/* The figures of a client's report: its metrics and details.  0, or -1
 * with the reason in why (iperf's own "error", or the figure missing). */
static int s_client_figures(struct bench_ctx *ctx, const json_t *rep, const struct iperf_argv *a,
                            char *why, size_t whylen)
{
    const struct iperf_opts *o = ctx->opts;
    const char *error = ljson_string(rep, "/error");
    double sent, recvd, v;
    if (error) {
        snprintf(why, whylen, "%.180s", error);
        return -1;
    }
    if (!ljson_number(rep, "/end/sum_received/bits_per_second", &recvd) ||
        !ljson_number(rep, "/end/sum_sent/bits_per_second", &sent)) {
        snprintf(why, whylen, "no end.sum_received in iperf's report");
        return -1;
    }
    struct bench_result *r = ctx->res;
    bench_result_metric(r, "sent_Mbps", "Mbit/s", sent / 1e6);
    bench_result_metric(r, "received_Mbps", "Mbit/s", recvd / 1e6);
    if (o->protocol == PROTO_TCP && ljson_number(rep, "/end/sum_sent/retransmits", &v))
        bench_result_metric(r, "retransmits", "count", v);
    if (o->protocol == PROTO_UDP) {
        /* 3.12 has them in sum_received; older releases only in sum */
        if (ljson_number(rep, "/end/sum_received/jitter_ms", &v) ||
            ljson_number(rep, "/end/sum/jitter_ms", &v))
            bench_result_metric(r, "jitter_ms", "ms", v);
        if (ljson_number(rep, "/end/sum_received/lost_percent", &v) ||
            ljson_number(rep, "/end/sum/lost_percent", &v))
            bench_result_metric(r, "lost_percent", "%", v);
    }
    size_t used = 0;
    char cmd[sizeof r->details[0].value];
    for (int i = 0; i < a->argc && used < sizeof cmd; i++) {
        int n = snprintf(cmd + used, sizeof cmd - used, "%s%s", i ? " " : "", a->argv[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    bench_result_detail(r, "command", "%s", cmd);
    s_details(r, rep, o->protocol == PROTO_TCP);
    return 0;
}

/* One try at one candidate, killed after budget ns.  0 with metrics
 * recorded; -1 with the reason in why (and its short word in *cls, NULL if
 * none). */
static int s_attempt(struct bench_ctx *ctx, const struct target *t, int64_t budget, char *why,
                     size_t whylen, const char **cls)
{
    const struct iperf_opts *o = ctx->opts;
    struct iperf_argv a;
    s_build_argv(o, t, 0, &a);
    struct child c;
    *cls = NULL;
    if (s_spawn(&a, false, t, o->ipv, &c, why, whylen) < 0)
        return -1;
    struct outcome out;
    s_collect(&c, clock_mono_ns() + budget, ctx->stop, &out);
    int rc = -1;
    if (out.kind == MSG_ERROR) {
        snprintf(why, whylen, "%s", out.text);
    } else if (out.kind == MSG_JSON) {
        json_t *rep = s_report(out.text, out.len, why, whylen);
        if (rep) {
            rc = s_client_figures(ctx, rep, &a, why, whylen);
            json_decref(rep);
        }
    } else {
        s_no_report(&out, budget, why, whylen);
    }
    if (rc < 0)
        *cls = out.stopped ? "stopped" : s_classify(why, out.kind ? out.ierr : 0);
    s_outcome_free(&out);
    return rc;
}

static int s_client_prepare(struct bench_ctx *ctx)
{
    const struct iperf_opts *o = ctx->opts;
    if (!o->peers) {
        snprintf(ctx->err, sizeof ctx->err, "iperf client: no server to connect to (the "
                                            "coordinator pairs clients with servers; alone, "
                                            "give peers=HOST:PORT)");
        return -1;
    }
    return 0;
}

static void s_append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void s_append(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

static int s_client_run(struct bench_ctx *ctx)
{
    const struct iperf_opts *o = ctx->opts;
    struct target *ts = calloc(IPERF_MAX_PEERS, sizeof *ts);
    size_t n = 0;
    if (!ts) {
        snprintf(ctx->err, sizeof ctx->err, "iperf: out of memory");
        return -1;
    }
    if (s_client_prepare(ctx) < 0 ||
        s_parse_peers(o->peers, ts, IPERF_MAX_PEERS, &n, ctx->err, sizeof ctx->err) < 0) {
        free(ts);
        return -1;
    }
    size_t tries = n < (size_t)o->attempt_limit ? n : (size_t)o->attempt_limit;
    char summary[sizeof ctx->err] = "";
    bench_result_detail(ctx->res, "protocol", "%s", s_protocols[o->protocol]);
    bench_result_detail(ctx->res, "streams", "%lld", (long long)o->streams);
    /* every candidate within its own bound, so that the whole run keeps to
     * s_bound_ns, which the coordinator's deadline counts */
    int64_t busy_total = 0;
    int busy_retries = 0;
    for (size_t i = 0; i < tries; i++) {
        const struct target *t = &ts[i];
        bool v6 = strchr(t->host, ':') != NULL;
        char name[sizeof t->host + 16];
        snprintf(name, sizeof name, "%s%s%s:%d", v6 ? "[" : "", t->host, v6 ? "]" : "", t->port);
        char why[200];
        const char *cls;
        int64_t first = clock_mono_ns(), until = first + s_candidate_ns(o), busy_since = 0;
        int64_t backoff = 500 * NS_PER_MS;
        int busy_here = 0;
        for (;;) {
            int64_t budget = until - clock_mono_ns();
            if (budget > s_child_budget_ns(o))
                budget = s_child_budget_ns(o);
            if (s_attempt(ctx, t, budget, why, sizeof why, &cls) == 0) {
                bench_result_metric(ctx->res, "attempts", "count", (double)(i + 1));
                bench_result_detail(ctx->res, "target", "%s", name);
                if (busy_retries)
                    bench_result_detail(ctx->res, "busy_retries", "%d in %.1fs", busy_retries,
                                        (double)busy_total / NS_PER_SEC);
                free(ts);
                return 0;
            }
            int64_t now = clock_mono_ns();
            /* A refusal may only mean the server is not listening yet:
             * servers start inside a blocking call, at their own pace.  A
             * busy server serves someone else; it is free in a while. */
            bool refused = cls && strcmp(cls, "refused") == 0;
            bool busy = cls && strcmp(cls, "busy") == 0;
            int64_t pause = refused ? 200 * NS_PER_MS : backoff;
            if (busy && !busy_since)
                busy_since = now;
            bool again = (refused && now - first + pause < o->connect_timeout_ns) ||
                         (busy && now - busy_since + pause <= o->busy_retry_ns);
            if (!again || now + pause + NS_PER_SEC >= until || (ctx->stop && *ctx->stop))
                break;
            poll(NULL, 0, (int)(pause / NS_PER_MS));
            if (busy) {
                busy_retries++;
                busy_here++;
                busy_total += pause;
                backoff = backoff * 2 < 4 * NS_PER_SEC ? backoff * 2 : 4 * NS_PER_SEC;
            }
        }
        if (ctx->stop && *ctx->stop) {
            snprintf(ctx->err, sizeof ctx->err, "iperf client: stopped");
            free(ts);
            return -1;
        }
        char key[32];
        snprintf(key, sizeof key, "attempt.%zu", i + 1);
        char again[48] = "";
        if (busy_here)
            snprintf(again, sizeof again, ", %d retr%s", busy_here, busy_here == 1 ? "y" : "ies");
        if (cls && strcmp(why, cls) != 0)
            bench_result_detail(ctx->res, key, "%s: %s (%.150s%s)", name, cls, why, again);
        else
            bench_result_detail(ctx->res, key, "%s: %s%s", name, why, again);
        s_append(summary, sizeof summary, "%s%s %s", i ? "; " : "", name, cls ? cls : why);
    }
    bench_result_metric(ctx->res, "attempts", "count", (double)tries);
    snprintf(ctx->err, sizeof ctx->err, "all %zu target%s failed: %.200s", tries,
             tries == 1 ? "" : "s", summary);
    if (tries < n)
        s_append(ctx->err, sizeof ctx->err, " (%zu more not tried: attempt_limit)", n - tries);
    free(ts);
    return -1;
}

/* ---- hooks ---- */

static int s_prepare(struct bench_ctx *ctx)
{
    const struct iperf_opts *o = ctx->opts;
    return o->role == ROLE_SERVER ? s_server_prepare(ctx) : s_client_prepare(ctx);
}

static int s_run(struct bench_ctx *ctx)
{
    const struct iperf_opts *o = ctx->opts;
    if (o->role == ROLE_SERVER) {
        if (!ctx->priv || ((struct server *)ctx->priv)->c.pid <= 0) {
            snprintf(ctx->err, sizeof ctx->err, "iperf server: no server running (prepare "
                                                "failed or run twice)");
            return -1;
        }
        return s_server_run(ctx);
    }
    return s_client_run(ctx);
}

static void s_cleanup(struct bench_ctx *ctx)
{
    struct server *sv = ctx->priv;
    if (!sv)
        return;
    if (sv->c.fd >= 0)
        close(sv->c.fd);
    if (sv->c.pid > 0)
        s_kill(sv->c.pid);
    free(sv);
    ctx->priv = NULL;
}

const struct bench_ops bench_iperf = {
    .name = "iperf",
    .version = BENCH_API_VERSION,
    .flags = BENCH_F_PAIRED,
    .help = "network throughput with libiperf, as iperf3 -c HOST -P 5 (client and server)",
    .metric = "received_Mbps",
    .unit = "Mbit/s",
    .options = s_options,
    .opts_size = sizeof(struct iperf_opts),
    .validate = s_validate,
    .expected_ns = s_expected_ns,
    .bound_ns = s_bound_ns,
    .prepare = BENCH_IMPL(s_prepare),
    .run = BENCH_IMPL(s_run),
    .cleanup = BENCH_IMPL(s_cleanup),
};
