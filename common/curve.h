/* curve.h — CURVE security for the coordinator's and workers' sockets
 * (ZeroMQ's CurveZMQ, certificates in CZMQ's zcert format).
 *
 * `lockstep keygen DIR` lays the files out as
 *   DIR/coordinator.cert, DIR/coordinator.cert_secret   the coordinator's
 *   DIR/workers/NAME.cert, DIR/workers/NAME.cert_secret one per worker
 *   DIR/allowed/NAME.cert                                public keys the
 *                                                        coordinator admits
 * The coordinator needs DIR (its secret and allowed/); a worker needs
 * coordinator.cert and its own NAME.cert_secret — nothing else. */
#ifndef LOCKSTEP_CURVE_H
#define LOCKSTEP_CURVE_H

#include <stddef.h>

#define CURVE_ZAP_DOMAIN "lockstep"

/* Create the layout above for the named workers (a new coordinator key
 * only when DIR has none, so that adding workers keeps the deployed ones).
 * Refuses to overwrite an existing worker's certificate.  0, or -1 with a
 * message naming the file. */
int curve_keygen(const char *dir, char *const *names, size_t n, char *err, size_t errlen);

/* A socket that accepts CURVE clients (ROUTER, PUB): the coordinator's
 * secret certificate from secret_cert_path, ZAP domain CURVE_ZAP_DOMAIN.
 * Set before bind.  0, or -1 with a message. */
int curve_server(void *sock, const char *secret_cert_path, char *err, size_t errlen);
/* A socket that connects to a CURVE server (DEALER, SUB): our own secret
 * certificate and the server's public one.  Set before connect. */
int curve_client(void *sock, const char *secret_cert_path, const char *server_cert_path,
                 char *err, size_t errlen);

#endif
