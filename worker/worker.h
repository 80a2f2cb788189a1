/* worker.h — the worker's life: register, confirm the subscription, measure
 * the clock offset, run what it is told, spool and send results. */
#ifndef LOCKSTEP_WORKER_H
#define LOCKSTEP_WORKER_H

#include <signal.h>
#include <stdint.h>

struct worker_opts {
    const char *connect;       /* coordinator ROUTER endpoint */
    const char *name;          /* identity; unique per run */
    const char *platform;      /* "auto" or a platform name */
    const char *spool;         /* spool directory */
    const char *advertise;     /* address others reach this worker at (may be NULL) */
    /* --forwarded GUEST:HOST: the coordinator's host forwards its port HOST
     * (tcp and udp, every address) to our port GUEST (a VM behind QEMU's
     * user networking): a server role listens on GUEST and tells clients
     * to come to the coordinator's host at HOST.  0: no forward. */
    int fwd_guest, fwd_host;
    int64_t proto_version;     /* PROTO_VERSION, except in tests */
    const char *cert;          /* CURVE: our NAME.cert_secret, or NULL (no CURVE) */
    const char *server_cert;   /* CURVE: the coordinator's coordinator.cert */
    /* --label KEY=VALUE: free labels sent with the host facts (the lab, the
     * rack, the disk type...), by which reports can group */
#define WORKER_MAX_LABELS 16
    const char *labels[WORKER_MAX_LABELS];
    size_t nlabels;
    void *zctx;                /* a ZeroMQ context to share (--swarm), or NULL
                                  for one of its own; not terminated here */
    volatile sig_atomic_t *interrupted;
};

/* Returns the process exit status: 0 after QUIT or a signal, 2 when the
 * coordinator rejected us, 1 on a local failure (spool unusable, ...). */
int worker_run(const struct worker_opts *opts);

#endif
