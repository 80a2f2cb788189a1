/* pairing.c — wave and candidate planning for network phases; pure
 * functions, no sockets (see pairing.h for the rules). */
#include "pairing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_port(const char *s, const char *end, int *out)
{
    if (s == end || end - s > 5)
        return -1;
    int v = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 0;
}

int pair_parse_target(const char *text, struct pair_target *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    const char *host = text, *hend, *ports;
    if (*text == '[') { /* [v6]:port */
        hend = strchr(text, ']');
        if (!hend || hend[1] != ':') {
            snprintf(err, errlen, "'%s': expected [address]:port", text);
            return -1;
        }
        host = text + 1;
        ports = hend + 2;
    } else {
        hend = strrchr(text, ':');
        if (!hend) {
            snprintf(err, errlen, "'%s': expected host:port or host:first-last", text);
            return -1;
        }
        if (memchr(text, ':', (size_t)(hend - text))) {
            snprintf(err, errlen, "'%s': write an IPv6 address in brackets: [addr]:port", text);
            return -1;
        }
        ports = hend + 1;
    }
    size_t hlen = (size_t)(hend - host);
    if (hlen == 0 || hlen >= sizeof t->host) {
        snprintf(err, errlen, "'%s': %s host name", text, hlen ? "overlong" : "missing");
        return -1;
    }
    memcpy(t->host, host, hlen);
    const char *dash = strchr(ports, '-');
    const char *pend = ports + strlen(ports);
    if (s_port(ports, dash ? dash : pend, &t->first) != 0 ||
        (dash && s_port(dash + 1, pend, &t->last) != 0)) {
        snprintf(err, errlen, "'%s': '%s' is not a port or a port range first-last", text, ports);
        return -1;
    }
    if (!dash)
        t->last = t->first;
    if (t->first < 1 || t->first > 65535 || t->last < 1 || t->last > 65535) {
        snprintf(err, errlen, "'%s': port %d is out of range 1..65535", text,
                 (t->first < 1 || t->first > 65535) ? t->first : t->last);
        return -1;
    }
    if (t->first > t->last) {
        snprintf(err, errlen, "'%s': range %d-%d runs backwards", text, t->first, t->last);
        return -1;
    }
    return 0;
}

static size_t s_wave_size(size_t capacity, size_t nclients, size_t wave_max)
{
    size_t w = capacity < nclients ? capacity : nclients;
    if (wave_max && w > wave_max)
        w = wave_max;
    return w ? w : 1;
}

int pair_plan_public(const struct pair_target *targets, size_t ntargets, size_t nclients,
                     size_t wave_max, size_t attempt_limit, struct pair_slot *slots)
{
    size_t nend = 0;
    for (size_t i = 0; i < ntargets; i++)
        nend += (size_t)(targets[i].last - targets[i].first + 1);
    if (nend == 0)
        return -1;
    size_t w = s_wave_size(nend, nclients, wave_max);
    if (attempt_limit == 0)
        attempt_limit = 1;
    for (size_t c = 0; c < nclients; c++) {
        size_t wave = c / w, k = c % w; /* position inside its wave */
        size_t inwave = nclients - wave * w < w ? nclients - wave * w : w; /* last wave: fewer */
        slots[c].wave = (int)wave;
        slots[c].server = -1;
        /* candidates k, k+n, k+2n, ... of the host-major endpoint list, n the
         * clients in this wave: disjoint from the other clients of the wave */
        size_t cap = 0, len = 0, taken = 0;
        char *peers = NULL;
        for (size_t e = k; e < nend && taken < attempt_limit; e += inwave, taken++) {
            size_t idx = e, t = 0;
            while (idx >= (size_t)(targets[t].last - targets[t].first + 1)) {
                idx -= (size_t)(targets[t].last - targets[t].first + 1);
                t++;
            }
            const char *h = targets[t].host;
            int v6 = strchr(h, ':') != NULL;
            size_t need = strlen(h) + 10;
            if (len + need + 1 > cap) {
                cap = (len + need + 1) * 2;
                peers = realloc(peers, cap);
            }
            len += (size_t)snprintf(peers + len, cap - len, "%s%s%s%s:%zu", len ? "," : "",
                                    v6 ? "[" : "", h, v6 ? "]" : "",
                                    (size_t)targets[t].first + idx);
        }
        slots[c].peers = peers;
    }
    return (int)((nclients + w - 1) / w);
}

int pair_plan_local(size_t nservers, size_t nclients, size_t wave_max, size_t rotation,
                    struct pair_slot *slots)
{
    size_t w = s_wave_size(nservers, nclients, wave_max);
    for (size_t c = 0; c < nclients; c++) {
        slots[c].wave = (int)(c / w);
        /* w consecutive clients: distinct residues, so distinct servers */
        slots[c].server = nservers ? (int)((c + rotation) % nservers) : 0;
        slots[c].peers = NULL;
    }
    return nclients ? (int)((nclients + w - 1) / w) : 0;
}

void pair_slots_free(struct pair_slot *slots, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(slots[i].peers);
        slots[i].peers = NULL;
    }
}

bool pair_on_coord_host(const char *route, const char *advertise, const char *endpoint)
{
    if (endpoint && endpoint[0] == '@')
        return true; /* serves through a port forward on the coordinator's host */
    if (!route || !*route)
        return false;
    if (strncmp(route, "127.", 4) == 0 || strcmp(route, "::1") == 0 ||
        strcmp(route, "localhost") == 0)
        return true;
    return advertise && strcmp(advertise, route) == 0;
}

char *pair_endpoint(const char *endpoint, bool server_on_coord_host, const char *client_route)
{
    const char *colon = strrchr(endpoint, ':');
    const char *host = client_route && *client_route ? client_route : NULL;
    if (colon && endpoint[0] == '@' && !host)
        host = "127.0.0.1"; /* a client that does not say: on this host */
    if (!colon || !server_on_coord_host || !host)
        return strdup(endpoint);
    bool v6 = strchr(host, ':') != NULL;
    size_t len = strlen(host) + strlen(colon) + 3;
    char *ep = malloc(len);
    if (ep)
        snprintf(ep, len, "%s%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "", colon);
    return ep;
}
