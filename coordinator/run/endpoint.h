/* endpoint.h — the coordinator's --bind argument, read strictly: what the
 * user typed either names one TCP address and port, or is refused with the
 * reason, before anything is bound.  ZeroMQ's own parsing is lenient in
 * ways that bind something else than was asked (a port of 99999 wraps, a
 * trailing "x" is ignored, a host name is taken for an interface). */
#ifndef LOCKSTEP_ENDPOINT_H
#define LOCKSTEP_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

struct endpoint {
    char canon[128];  /* "tcp://127.0.0.1:5555", "tcp://[::1]:5555", "tcp://0.0.0.0:5555" */
    char host[80];    /* the numeric address, "*" for all of them */
    int port;         /* 1..65534, or 0 for any free port */
    bool loopback;    /* only this machine can connect */
};

/* Parse "tcp://HOST:PORT": HOST an IPv4 address, [IPv6], '*' (every
 * address) or a host name (resolved here to its first address); PORT
 * 1..65534 (the PUB socket takes PORT + 1) or '*' / 0 for free ports.
 * 0, or -1 with a message saying what is wrong and what is expected. */
int endpoint_parse(const char *arg, struct endpoint *ep, char *err, size_t errlen);

#endif
