/* hostile.c — a misbehaving peer for integration tests: speaks valid ZMTP
 * but sends what the coordinator must drop, and says what became of it.
 *
 *   hostile ENDPOINT ROUNDS
 *     ROUNDS connections to the ROUTER port as a DEALER, each sending
 *     allocation bombs, random frames, a multi-frame message, wrong field
 *     types and messages before HELLO.
 *   hostile --heavy [--pub] [--part-bytes N] [--sub-bytes N] ENDPOINT
 *     issue 7, scenario 5, one connection per attack: a 64 MiB frame (the
 *     peer must close the connection: ZMQ_MAXMSGSIZE), a message of 10 000
 *     frames of N bytes (default 100), then the 5-byte bomb dd 0f ff ff ff
 *     and random frames.  --pub: ENDPOINT is the PUB port and we are an XSUB,
 *     the one socket type that may send a PUB arbitrary frames.
 *     --sub-bytes N (with --pub): also one subscription of N bytes; a PUB
 *     keeps subscriptions in a trie, a node per byte (so does our XSUB:
 *     keep N well under 1 MiB, or its teardown may overflow its stack).
 *
 * Each attack prints one line "hostile: <attack>: <outcome>" on stdout.
 * Exit 0 when every attack could be sent, whatever the peer did with it;
 * 1 when a connection could not be made. */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "proto.h"

#define HOSTILE_BIG_FRAME (64u * 1024 * 1024)
#define HOSTILE_NPARTS 10000
#define HOSTILE_HANDSHAKE_MS 5000
#define HOSTILE_DROP_WAIT_MS 5000 /* how long a dropped connection may take */

static const unsigned char s_bomb_array[] = { 0xdd, 0x0f, 0xff, 0xff, 0xff };
static const unsigned char s_bomb_map[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
static const unsigned char s_bomb_str[] = { 0xdb, 0xff, 0xff, 0xff, 0xff };

static void s_send(void *sock, const void *data, size_t len)
{
    zmq_send(sock, data, len, ZMQ_DONTWAIT);
}

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_random_frames(void *s, int n)
{
    unsigned char junk[512];
    for (int i = 0; i < n; i++) {
        size_t len = 1 + (size_t)rand() % sizeof junk;
        for (size_t k = 0; k < len; k++)
            junk[k] = (unsigned char)rand();
        s_send(s, junk, len);
    }
}

/* The original rounds: many short connections, many kinds of garbage. */
static int s_rounds(void *ctx, const char *ep, int rounds)
{
    for (int r = 0; r < rounds; r++) {
        void *s = zmq_socket(ctx, ZMQ_DEALER);
        char id[32];
        snprintf(id, sizeof id, "hostile-%d", r);
        if (r % 3 != 2) /* sometimes no identity at all */
            zmq_setsockopt(s, ZMQ_ROUTING_ID, id, strlen(id));
        int linger = 200;
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
        if (zmq_connect(s, ep) != 0) {
            fprintf(stderr, "connect %s: %s\n", ep, zmq_strerror(zmq_errno()));
            zmq_close(s);
            return 1;
        }
        s_send(s, s_bomb_array, sizeof s_bomb_array);
        s_send(s, s_bomb_map, sizeof s_bomb_map);
        s_send(s, s_bomb_str, sizeof s_bomb_str);
        s_random_frames(s, 20);
        /* three frames in one message */
        zmq_send(s, "a", 1, ZMQ_SNDMORE);
        zmq_send(s, "b", 1, ZMQ_SNDMORE);
        zmq_send(s, "c", 1, 0);
        /* well-formed messages with wrong types or out of order */
        proto_builder_t *b = proto_begin(PROTO_HELLO);
        proto_put_str(b, "name", id);
        proto_put_str(b, "cores", "many"); /* wrong type, missing fields */
        void *data;
        size_t len;
        if (proto_finish(&b, &data, &len) == 0) {
            s_send(s, data, len);
            free(data);
        }
        b = proto_begin(PROTO_RESULT);
        proto_put_int(b, "run", 1);
        proto_put_int(b, "phase", 0);
        proto_put_int(b, "rep", 1);
        proto_put_str(b, "status", "ok");
        proto_put_int(b, "started_at", 1);
        proto_put_int(b, "finished_at", 2);
        proto_put_metrics(b, "metrics", NULL, 0);
        proto_put_strmap(b, "details", NULL, NULL, 0);
        if (proto_finish(&b, &data, &len) == 0) {
            s_send(s, data, len); /* a RESULT from a stranger */
            free(data);
        }
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        zmq_close(s);
    }
    return 0;
}

/* One connection of the heavy attacks, watched by a socket monitor so that
 * a connection the peer closes is seen. */
struct conn {
    void *sock;
    void *mon;
};

/* The next monitor event in mask within timeout_ms: its number, or 0. */
static int s_event(struct conn *c, int mask, int timeout_ms)
{
    int64_t end = s_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = end - s_now_ms();
        if (left <= 0)
            return 0;
        zmq_pollitem_t it = { c->mon, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&it, 1, (long)left) <= 0)
            continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, c->mon, 0) < 0) {
            zmq_msg_close(&m);
            return 0;
        }
        uint16_t ev = 0;
        if (zmq_msg_size(&m) >= 2)
            memcpy(&ev, zmq_msg_data(&m), 2);
        while (zmq_msg_more(&m)) { /* the endpoint frame */
            zmq_msg_close(&m);
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, c->mon, 0) < 0)
                break;
        }
        zmq_msg_close(&m);
        if (ev & mask)
            return ev;
    }
}

/* Connect and wait for the ZMTP handshake, so that what follows is sent on
 * a connection the peer has accepted. */
static int s_open(void *ctx, struct conn *c, const char *ep, bool pub, const char *id)
{
    static int seq;
    char monep[64];
    snprintf(monep, sizeof monep, "inproc://hostile-monitor-%d", seq++);
    c->sock = zmq_socket(ctx, pub ? ZMQ_XSUB : ZMQ_DEALER);
    int v = -1; /* a dropped connection stays dropped: nothing is re-sent */
    zmq_setsockopt(c->sock, ZMQ_RECONNECT_IVL, &v, sizeof v);
    v = 0; /* queue the whole 10 000-frame message */
    zmq_setsockopt(c->sock, ZMQ_SNDHWM, &v, sizeof v);
    v = 5000; /* closing flushes what is queued, bounded */
    zmq_setsockopt(c->sock, ZMQ_LINGER, &v, sizeof v);
    if (!pub)
        zmq_setsockopt(c->sock, ZMQ_ROUTING_ID, id, strlen(id));
    zmq_socket_monitor(c->sock, monep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED);
    c->mon = zmq_socket(ctx, ZMQ_PAIR);
    zmq_connect(c->mon, monep);
    if (zmq_connect(c->sock, ep) != 0) {
        fprintf(stderr, "hostile: connect %s: %s\n", ep, zmq_strerror(zmq_errno()));
        return -1;
    }
    if (s_event(c, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, HOSTILE_HANDSHAKE_MS) == 0) {
        fprintf(stderr, "hostile: no ZMTP handshake with %s within %d ms\n", ep,
                HOSTILE_HANDSHAKE_MS);
        return -1;
    }
    return 0;
}

static void s_close(struct conn *c)
{
    if (c->sock) {
        zmq_socket_monitor(c->sock, NULL, 0);
        zmq_close(c->sock);
    }
    if (c->mon)
        zmq_close(c->mon);
    c->sock = c->mon = NULL;
}

/* A frame the peer must refuse to receive: it should close the connection
 * as soon as it has read the frame's size. */
static int s_big_frame(void *ctx, const char *ep, bool pub)
{
    struct conn c = { 0 };
    if (s_open(ctx, &c, ep, pub, "hostile-big") != 0) {
        s_close(&c);
        return -1;
    }
    /* left as malloc gives it (untouched pages read as zeros, and cost no
     * time to fill on a machine the benchmarks keep busy); the first byte
     * an array header, or on the PUB port anything but a subscription
     * (first byte 1), which our own XSUB would keep in a trie of 64 M nodes */
    zmq_msg_t m;
    zmq_msg_init_size(&m, HOSTILE_BIG_FRAME);
    *(unsigned char *)zmq_msg_data(&m) = pub ? 2 : 0xdd;
    int64_t t0 = s_now_ms();
    zmq_msg_send(&m, c.sock, 0);
    zmq_msg_close(&m);
    if (s_event(&c, ZMQ_EVENT_DISCONNECTED, HOSTILE_DROP_WAIT_MS))
        printf("hostile: 64 MiB frame: dropped by the peer after %lld ms\n",
               (long long)(s_now_ms() - t0));
    else
        printf("hostile: 64 MiB frame: NOT dropped, still connected after %d ms\n",
               HOSTILE_DROP_WAIT_MS);
    int v = 0; /* what was not sent is not worth waiting for */
    zmq_setsockopt(c.sock, ZMQ_LINGER, &v, sizeof v);
    s_close(&c);
    return 0;
}

/* One message of HOSTILE_NPARTS frames: every frame is under the size
 * limit; only the application sees that it is one message too many. */
static int s_many_frames(void *ctx, const char *ep, bool pub, size_t part_bytes)
{
    struct conn c = { 0 };
    if (s_open(ctx, &c, ep, pub, "hostile-frames") != 0) {
        s_close(&c);
        return -1;
    }
    unsigned char *part = malloc(part_bytes + 1);
    memset(part, 0x5a, part_bytes + 1);
    for (int i = 0; i < HOSTILE_NPARTS; i++)
        zmq_send(c.sock, part, part_bytes, i < HOSTILE_NPARTS - 1 ? ZMQ_SNDMORE : 0);
    free(part);
    bool dropped = s_event(&c, ZMQ_EVENT_DISCONNECTED, 300) != 0;
    printf("hostile: a message of %d frames of %zu bytes: sent, connection %s\n", HOSTILE_NPARTS,
           part_bytes, dropped ? "dropped by the peer" : "kept");
    s_close(&c); /* lingers until the message is out */
    return 0;
}

/* The allocation bombs and random frames, and (--sub-bytes) one long
 * subscription. */
static int s_small(void *ctx, const char *ep, bool pub, size_t sub_bytes)
{
    struct conn c = { 0 };
    if (s_open(ctx, &c, ep, pub, "hostile-heavy") != 0) {
        s_close(&c);
        return -1;
    }
    s_send(c.sock, s_bomb_array, sizeof s_bomb_array);
    s_send(c.sock, s_bomb_map, sizeof s_bomb_map);
    s_send(c.sock, s_bomb_str, sizeof s_bomb_str);
    s_random_frames(c.sock, 8);
    if (pub && sub_bytes > 0) {
        unsigned char *sub = malloc(sub_bytes);
        sub[0] = 1;
        for (size_t k = 1; k < sub_bytes; k++)
            sub[k] = (unsigned char)rand();
        s_send(c.sock, sub, sub_bytes);
        free(sub);
    }
    bool dropped = s_event(&c, ZMQ_EVENT_DISCONNECTED, 300) != 0;
    printf("hostile: allocation bombs and random frames%s: sent, connection %s\n",
           pub && sub_bytes ? " and a long subscription" : "",
           dropped ? "dropped by the peer" : "kept");
    s_close(&c);
    return 0;
}

static int s_heavy(void *ctx, const char *ep, bool pub, size_t part_bytes, size_t sub_bytes)
{
    if (s_big_frame(ctx, ep, pub) != 0 || s_many_frames(ctx, ep, pub, part_bytes) != 0 ||
        s_small(ctx, ep, pub, sub_bytes) != 0)
        return 1;
    return 0;
}

static void s_usage(FILE *f)
{
    fprintf(f, "usage: hostile ENDPOINT ROUNDS\n"
               "       hostile --heavy [--pub] [--part-bytes N] [--sub-bytes N] ENDPOINT\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "heavy", no_argument, NULL, 'H' },
        { "pub", no_argument, NULL, 'p' },
        { "part-bytes", required_argument, NULL, 'b' },
        { "sub-bytes", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool heavy = false, pub = false;
    size_t part_bytes = 100, sub_bytes = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "Hpb:s:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'H': heavy = true; break;
        case 'p': pub = true; break;
        case 'b': part_bytes = strtoul(optarg, NULL, 10); break;
        case 's': sub_bytes = strtoul(optarg, NULL, 10); break;
        case 'h': s_usage(stdout); return 0;
        default: s_usage(stderr); return 2;
        }
    }
    if (heavy ? argc - optind != 1 : (pub || argc - optind != 2)) {
        s_usage(stderr);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    void *ctx = zmq_ctx_new();
    srand(12345);
    int rc = heavy ? s_heavy(ctx, argv[optind], pub, part_bytes, sub_bytes)
                   : s_rounds(ctx, argv[optind], atoi(argv[optind + 1]));
    zmq_ctx_term(ctx);
    return rc;
}
