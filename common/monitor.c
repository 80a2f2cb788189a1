/* monitor.c — see monitor.h. */
#include "monitor.h"

#include "fsutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int monitor_next(void *mon, uint16_t *event, uint32_t *value)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, mon, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return 0;
    }
    *event = 0;
    *value = 0;
    if (zmq_msg_size(&m) >= 6) {
        memcpy(event, zmq_msg_data(&m), 2);
        memcpy(value, (char *)zmq_msg_data(&m) + 2, 4);
    }
    while (zmq_msg_more(&m)) { /* the endpoint frame */
        zmq_msg_close(&m);
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, mon, 0) < 0)
            break;
    }
    zmq_msg_close(&m);
    return 1;
}

/* TCP states in the kernel's tables (include/net/tcp_states.h) of a socket
 * whose own side closed first. */
enum { TCP_FIN_WAIT1_ = 4, TCP_FIN_WAIT2_ = 5, TCP_TIME_WAIT_ = 6, TCP_CLOSING_ = 11 };

/* hex as the kernel prints an address: 32-bit words in host order */
static int s_addr(const char *hex, int v6, char *out, size_t len)
{
    struct in6_addr a6;
    size_t words = v6 ? 4 : 1;
    if (strlen(hex) != words * 8)
        return -1;
    uint32_t w[4];
    for (size_t i = 0; i < words; i++) {
        char part[9];
        memcpy(part, hex + 8 * i, 8);
        part[8] = '\0';
        w[i] = (uint32_t)strtoul(part, NULL, 16);
    }
    if (!v6) {
        struct in_addr a4;
        memcpy(&a4.s_addr, &w[0], 4);
        return inet_ntop(AF_INET, &a4, out, (socklen_t)len) ? 0 : -1;
    }
    memcpy(&a6, w, 16);
    if (IN6_IS_ADDR_V4MAPPED(&a6)) /* a dual-stack socket's IPv4 peer */
        return inet_ntop(AF_INET, &a6.s6_addr[12], out, (socklen_t)len) ? 0 : -1;
    return inet_ntop(AF_INET6, &a6, out, (socklen_t)len) ? 0 : -1;
}

int monitor_closed_peer_in(const char *table, int v6, unsigned port, char *out, size_t len,
                           long long *best)
{
    int found = 0;
    const char *next;
    for (const char *line = table; line && *line; line = next) {
        const char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        char local[40], remote[40];
        unsigned lport, rport, st, tr;
        unsigned long when;
        if (sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*x:%*x %x:%lx", local,
                   &lport, remote, &rport, &st, &tr, &when) != 7 || lport != port)
            continue;
        /* the latest closed: a FIN still in flight, else the TIME_WAIT
         * with the most of its wait left */
        long long rank;
        if (st == TCP_FIN_WAIT1_ || st == TCP_FIN_WAIT2_ || st == TCP_CLOSING_)
            rank = 1LL << 40;
        else if (st == TCP_TIME_WAIT_)
            rank = (long long)(when & 0xffffffffUL);
        else
            continue;
        char addr[64];
        if (rank <= *best || s_addr(remote, v6, addr, sizeof addr) != 0)
            continue;
        *best = rank;
        snprintf(out, len, "%s", addr);
        found = 1;
    }
    return found;
}

int monitor_closed_peer(unsigned port, char *out, size_t len)
{
    static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
    long long best = -1;
    int found = 0;
    for (int v6 = 0; v6 < 2; v6++) {
        char *text = fs_slurp(tables[v6], NULL);
        found |= text && monitor_closed_peer_in(text, v6, port, out, len, &best);
        free(text);
    }
    return found;
}
