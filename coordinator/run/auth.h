/* auth.h — the coordinator's ZAP handler (ZeroMQ RFC 27): admits a CURVE
 * client only when its public key is in the allowed directory (public
 * certificates, `lockstep keygen` writes DIR/allowed/), never any key.  A
 * refusal happens in the handshake, before any application message is
 * read, and is logged with the peer's address. */
#ifndef LOCKSTEP_AUTH_H
#define LOCKSTEP_AUTH_H

#include <stddef.h>
#include <stdint.h>

typedef struct auth auth_t;

/* Bind the ZAP endpoint in zctx (before any CURVE socket binds) and load
 * every *.cert in allowed_dir.  NULL with a message when the directory
 * cannot be read or holds no key. */
auth_t *auth_new(void *zctx, const char *allowed_dir, char *err, size_t errlen);
/* The REP socket to poll for ZAP requests. */
void *auth_socket(auth_t *a);
/* Answer every ZAP request waiting (non-blocking). */
void auth_handle(auth_t *a);
size_t auth_keys(const auth_t *a);
int64_t auth_refused(const auth_t *a);
void auth_destroy(auth_t **a_p);

#endif
