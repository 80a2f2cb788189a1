/* auth.c — ZAP handler for CURVE admission; see auth.h.  zauth does the
 * same in an actor, but it answers on CZMQ's global context; this handler
 * lives in the coordinator's own context and event loop, and can say which
 * address a refused key came from. */
#include "auth.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "curve.h"
#include "log.h"

struct key {
    uint8_t pub[32];
    char name[64];
};

struct auth {
    void *rep;
    char dir[512];
    struct key *keys;
    size_t n;
    int64_t refused;
};

static int s_load(auth_t *a, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".cert") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        zcert_t *c = zcert_load(path);
        if (!c) {
            log_warn("%s: not a CURVE certificate; ignored", path);
            continue;
        }
        if (a->n == cap) {
            cap = cap ? cap * 2 : 16;
            struct key *k = realloc(a->keys, cap * sizeof *k);
            if (!k) {
                zcert_destroy(&c);
                closedir(d);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            a->keys = k;
        }
        memcpy(a->keys[a->n].pub, zcert_public_key(c), 32);
        const char *name = zcert_meta(c, "name");
        snprintf(a->keys[a->n].name, sizeof a->keys[a->n].name, "%.*s",
                 name ? 63 : (int)(len - 5), name ? name : e->d_name);
        a->n++;
        zcert_destroy(&c);
    }
    closedir(d);
    if (a->n == 0) {
        snprintf(err, errlen, "%s: no worker certificate (*.cert) — nobody could be admitted "
                 "(lockstep keygen DIR --workers NAMES makes them)", dir);
        return -1;
    }
    return 0;
}

auth_t *auth_new(void *zctx, const char *allowed_dir, char *err, size_t errlen)
{
    auth_t *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(a->dir, sizeof a->dir, "%s", allowed_dir);
    if (s_load(a, allowed_dir, err, errlen) != 0)
        goto fail;
    a->rep = zmq_socket(zctx, ZMQ_REP);
    int linger = 0;
    zmq_setsockopt(a->rep, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(a->rep, "inproc://zeromq.zap.01") != 0) {
        snprintf(err, errlen, "cannot bind the ZAP handler: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    return a;
fail:
    auth_destroy(&a);
    return NULL;
}

void *auth_socket(auth_t *a) { return a->rep; }
size_t auth_keys(const auth_t *a) { return a->n; }
int64_t auth_refused(const auth_t *a) { return a->refused; }

/* Receive a request's frames: at most 8, each copied (bounded). */
static int s_recv_frames(void *sock, char frames[][256], size_t *lens, int max)
{
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&m);
            return n == 0 ? 0 : -1;
        }
        if (n < max) {
            size_t len = zmq_msg_size(&m) < 255 ? zmq_msg_size(&m) : 255;
            memcpy(frames[n], zmq_msg_data(&m), len);
            frames[n][len] = '\0';
            lens[n] = zmq_msg_size(&m);
        }
        n++;
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    return n;
}

static void s_reply(void *sock, const char *id, size_t idlen, const char *code, const char *text,
                    const char *user)
{
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, id, idlen, ZMQ_SNDMORE);
    zmq_send(sock, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

void auth_handle(auth_t *a)
{
    for (;;) {
        /* version, request id, domain, address, routing id, mechanism,
         * credentials... */
        char f[8][256];
        size_t len[8] = { 0 };
        int n = s_recv_frames(a->rep, f, len, 8);
        if (n == 0)
            return;
        if (n < 6 || strcmp(f[0], "1.0") != 0) {
            /* a REP socket must answer something */
            s_reply(a->rep, n > 1 ? f[1] : "", n > 1 && len[1] < 255 ? len[1] : 0, "500",
                    "malformed ZAP request", "");
            continue;
        }
        const char *id = f[1], *domain = f[2], *address = f[3], *mech = f[5];
        size_t idlen = len[1] < 255 ? len[1] : 255;
        if (strcmp(mech, "CURVE") != 0 || n < 7 || len[6] != 32 ||
            strcmp(domain, CURVE_ZAP_DOMAIN) != 0) {
            a->refused++;
            log_warn("refused a connection from %s: mechanism %s, domain '%s' (CURVE with a "
                     "worker key is required)", address, mech, domain);
            s_reply(a->rep, id, idlen, "400", "CURVE required", "");
            continue;
        }
        const struct key *k = NULL;
        for (size_t i = 0; i < a->n && !k; i++)
            if (memcmp(a->keys[i].pub, f[6], 32) == 0)
                k = &a->keys[i];
        if (!k) {
            char z85[41];
            zmq_z85_encode(z85, (const uint8_t *)f[6], 32);
            a->refused++;
            log_warn("refused a worker at %s: its CURVE key %s is not in %s", address, z85,
                     a->dir);
            s_reply(a->rep, id, idlen, "400", "key not allowed", "");
            continue;
        }
        log_debug("CURVE key of %s accepted from %s", k->name, address);
        s_reply(a->rep, id, idlen, "200", "OK", k->name);
    }
}

void auth_destroy(auth_t **a_p)
{
    auth_t *a = *a_p;
    if (!a)
        return;
    if (a->rep)
        zmq_close(a->rep);
    free(a->keys);
    free(a);
    *a_p = NULL;
}
