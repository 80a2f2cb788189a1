/* curve.c — CURVE certificates and socket options; see curve.h. */
#include "curve.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static int s_mkdir(const char *path, mode_t mode, char *err, size_t errlen)
{
    if (mkdir(path, mode) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Save cert as base(.cert, .cert_secret) with the secret file 0600. */
static int s_save(zcert_t *cert, const char *base, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.cert", base);
    mode_t old = umask(077);
    int rc = zcert_save(cert, path);
    umask(old);
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    chmod(path, 0644); /* the public half may be read by anyone */
    return 0;
}

int curve_keygen(const char *dir, char *const *names, size_t n, char *err, size_t errlen)
{
    char path[4096];
    if (s_mkdir(dir, 0700, err, errlen) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/workers", dir);
    if (s_mkdir(path, 0700, err, errlen) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/allowed", dir);
    if (s_mkdir(path, 0755, err, errlen) != 0)
        return -1;
    /* refuse before writing anything */
    for (size_t i = 0; i < n; i++) {
        if (!names[i][0] || strchr(names[i], '/') || names[i][0] == '.') {
            snprintf(err, errlen, "'%s' is not a worker name for a file", names[i]);
            return -1;
        }
        snprintf(path, sizeof path, "%s/workers/%s.cert_secret", dir, names[i]);
        if (access(path, F_OK) == 0) {
            snprintf(err, errlen, "%s exists: a worker keeps its key (delete it to replace it)",
                     path);
            return -1;
        }
    }
    snprintf(path, sizeof path, "%s/coordinator.cert_secret", dir);
    if (access(path, F_OK) != 0) {
        zcert_t *c = zcert_new();
        if (!c) {
            snprintf(err, errlen, "cannot make a key pair (libsodium?)");
            return -1;
        }
        zcert_set_meta(c, "role", "coordinator");
        snprintf(path, sizeof path, "%s/coordinator", dir);
        int rc = s_save(c, path, err, errlen);
        zcert_destroy(&c);
        if (rc != 0)
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        zcert_t *c = zcert_new();
        if (!c) {
            snprintf(err, errlen, "cannot make a key pair (libsodium?)");
            return -1;
        }
        zcert_set_meta(c, "role", "worker");
        zcert_set_meta(c, "name", "%s", names[i]);
        snprintf(path, sizeof path, "%s/workers/%s", dir, names[i]);
        int rc = s_save(c, path, err, errlen);
        if (rc == 0) {
            /* the allowed directory holds public halves only */
            snprintf(path, sizeof path, "%s/allowed/%s.cert", dir, names[i]);
            if (zcert_save_public(c, path) != 0) {
                snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
                rc = -1;
            }
        }
        zcert_destroy(&c);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Load a certificate that must hold a secret key. */
static zcert_t *s_load_secret(const char *path, char *err, size_t errlen)
{
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    zcert_t *c = zcert_load(path);
    if (!c) {
        snprintf(err, errlen, "%s: not a CURVE certificate", path);
        return NULL;
    }
    static const char zero[41] = "0000000000000000000000000000000000000000";
    if (strcmp(zcert_secret_txt(c), zero) == 0) {
        snprintf(err, errlen, "%s: holds no secret key (give the .cert_secret file)", path);
        zcert_destroy(&c);
        return NULL;
    }
    return c;
}

int curve_server(void *sock, const char *secret_cert_path, char *err, size_t errlen)
{
    zcert_t *c = s_load_secret(secret_cert_path, err, errlen);
    if (!c)
        return -1;
    int one = 1;
    int rc = zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, CURVE_ZAP_DOMAIN, strlen(CURVE_ZAP_DOMAIN)) ||
             zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) ||
             zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, zcert_secret_key(c), 32);
    zcert_destroy(&c);
    if (rc) {
        snprintf(err, errlen, "CURVE server options: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

int curve_client(void *sock, const char *secret_cert_path, const char *server_cert_path,
                 char *err, size_t errlen)
{
    zcert_t *mine = s_load_secret(secret_cert_path, err, errlen);
    if (!mine)
        return -1;
    if (access(server_cert_path, R_OK) != 0) {
        snprintf(err, errlen, "%s: %s", server_cert_path, strerror(errno));
        zcert_destroy(&mine);
        return -1;
    }
    zcert_t *server = zcert_load(server_cert_path);
    if (!server) {
        snprintf(err, errlen, "%s: not a CURVE certificate", server_cert_path);
        zcert_destroy(&mine);
        return -1;
    }
    int rc = zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, zcert_public_key(server), 32) ||
             zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, zcert_public_key(mine), 32) ||
             zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, zcert_secret_key(mine), 32);
    zcert_destroy(&mine);
    zcert_destroy(&server);
    if (rc) {
        snprintf(err, errlen, "CURVE client options: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}
