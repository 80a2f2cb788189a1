/* endpoint.c — strict reading of --bind; see endpoint.h. */
#include "endpoint.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define S_EXPECTED "expected tcp://ADDRESS:PORT, e.g. tcp://127.0.0.1:5555, tcp://[::1]:5555, " \
                   "tcp://*:5555 or tcp://lab-head:5555"

static int s_port(const char *s, int *port, char *err, size_t errlen)
{
    if (strcmp(s, "*") == 0 || strcmp(s, "0") == 0) {
        *port = 0;
        return 0;
    }
    size_t n = strspn(s, "0123456789");
    if (n == 0 || s[n] != '\0' || n > 5) {
        snprintf(err, errlen, "'%s' is not a port (a number from 1 to 65534, or * for any)", s);
        return -1;
    }
    long v = strtol(s, NULL, 10);
    if (v < 1 || v > 65534) {
        snprintf(err, errlen, "port %ld is out of range: 1 to 65534 (the PUB socket takes the "
                 "next port, %ld)", v, v + 1);
        return -1;
    }
    *port = (int)v;
    return 0;
}

/* A literal address, or a host name resolved to its first address. */
static int s_host(const char *h, bool bracketed, struct endpoint *ep, char *err, size_t errlen)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcmp(h, "*") == 0 && !bracketed) {
        snprintf(ep->host, sizeof ep->host, "*");
        ep->loopback = false;
        return 0;
    }
    if (!bracketed && inet_pton(AF_INET, h, &a4) == 1) {
        snprintf(ep->host, sizeof ep->host, "%.15s", h);
        ep->loopback = (ntohl(a4.s_addr) >> 24) == 127;
        return 0;
    }
    if (bracketed) {
        if (inet_pton(AF_INET6, h, &a6) != 1) {
            snprintf(err, errlen, "'[%s]' is not an IPv6 address", h);
            return -1;
        }
        char num[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &a6, num, sizeof num);
        snprintf(ep->host, sizeof ep->host, "[%s]", num);
        ep->loopback = IN6_IS_ADDR_LOOPBACK(&a6);
        return 0;
    }
    if (strchr(h, ':')) {
        snprintf(err, errlen, "an IPv6 address goes in brackets: tcp://[%s]:PORT", h);
        return -1;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    int rc = getaddrinfo(h, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "host name '%s' does not resolve (%s)", h, gai_strerror(rc));
        return -1;
    }
    /* IPv4 first: the workers' side resolves the same name */
    const struct addrinfo *pick = res;
    for (const struct addrinfo *r = res; r; r = r->ai_next)
        if (r->ai_family == AF_INET) {
            pick = r;
            break;
        }
    char num[INET6_ADDRSTRLEN];
    if (pick->ai_family == AF_INET) {
        const struct sockaddr_in *sa = (const void *)pick->ai_addr;
        inet_ntop(AF_INET, &sa->sin_addr, num, sizeof num);
        snprintf(ep->host, sizeof ep->host, "%s", num);
        ep->loopback = (ntohl(sa->sin_addr.s_addr) >> 24) == 127;
    } else {
        const struct sockaddr_in6 *sa = (const void *)pick->ai_addr;
        inet_ntop(AF_INET6, &sa->sin6_addr, num, sizeof num);
        snprintf(ep->host, sizeof ep->host, "[%s]", num);
        ep->loopback = IN6_IS_ADDR_LOOPBACK(&sa->sin6_addr);
    }
    freeaddrinfo(res);
    return 0;
}

int endpoint_parse(const char *arg, struct endpoint *ep, char *err, size_t errlen)
{
    memset(ep, 0, sizeof *ep);
    if (strncmp(arg, "tcp://", 6) != 0) {
        snprintf(err, errlen, "only TCP endpoints can be bound (%s)", S_EXPECTED);
        return -1;
    }
    const char *h = arg + 6, *colon;
    char host[128];
    bool bracketed = h[0] == '[';
    if (bracketed) {
        const char *close = strchr(h, ']');
        if (!close || close[1] != ':') {
            snprintf(err, errlen, "an IPv6 address needs its closing bracket and a port (%s)",
                     S_EXPECTED);
            return -1;
        }
        snprintf(host, sizeof host, "%.*s", (int)(close - h - 1), h + 1);
        colon = close + 1;
    } else {
        colon = strrchr(h, ':');
        if (!colon) {
            snprintf(err, errlen, "no port (%s)", S_EXPECTED);
            return -1;
        }
        snprintf(host, sizeof host, "%.*s", (int)(colon - h), h);
    }
    if (!host[0]) {
        snprintf(err, errlen, "no address before the port (%s)", S_EXPECTED);
        return -1;
    }
    if (s_port(colon + 1, &ep->port, err, errlen) != 0 ||
        s_host(host, bracketed, ep, err, errlen) != 0)
        return -1;
    if (ep->port)
        snprintf(ep->canon, sizeof ep->canon, "tcp://%s:%d", ep->host, ep->port);
    else
        snprintf(ep->canon, sizeof ep->canon, "tcp://%s:*", ep->host);
    return 0;
}
