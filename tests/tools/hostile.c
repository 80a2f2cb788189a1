/* hostile.c — a misbehaving peer for integration tests: speaks valid ZMTP
 * but sends frames the coordinator must drop (allocation bombs, random bytes,
 * multi-frame messages, wrong field types, messages before HELLO), for a
 * bounded number of rounds.  usage: hostile ENDPOINT ROUNDS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "proto.h"

static void s_send(void *sock, const void *data, size_t len)
{
    zmq_send(sock, data, len, ZMQ_DONTWAIT);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: hostile ENDPOINT ROUNDS\n");
        return 2;
    }
    int rounds = atoi(argv[2]);
    void *ctx = zmq_ctx_new();
    srand(12345);
    for (int r = 0; r < rounds; r++) {
        void *s = zmq_socket(ctx, ZMQ_DEALER);
        char id[32];
        snprintf(id, sizeof id, "hostile-%d", r);
        if (r % 3 != 2) /* sometimes no identity at all */
            zmq_setsockopt(s, ZMQ_ROUTING_ID, id, strlen(id));
        int linger = 200;
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
        if (zmq_connect(s, argv[1]) != 0) {
            fprintf(stderr, "connect %s: %s\n", argv[1], zmq_strerror(zmq_errno()));
            return 1;
        }
        static const unsigned char bomb_array[] = { 0xdd, 0x0f, 0xff, 0xff, 0xff };
        static const unsigned char bomb_map[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
        static const unsigned char bomb_str[] = { 0xdb, 0xff, 0xff, 0xff, 0xff };
        s_send(s, bomb_array, sizeof bomb_array);
        s_send(s, bomb_map, sizeof bomb_map);
        s_send(s, bomb_str, sizeof bomb_str);
        unsigned char junk[512];
        for (int i = 0; i < 20; i++) {
            size_t n = 1 + (size_t)rand() % sizeof junk;
            for (size_t k = 0; k < n; k++)
                junk[k] = (unsigned char)rand();
            s_send(s, junk, n);
        }
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
    zmq_ctx_term(ctx);
    return 0;
}
