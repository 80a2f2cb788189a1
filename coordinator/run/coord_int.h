/* coord_int.h — the coordinator's state, shared by the files of run/ only
 * (coord.c: the pump; listen.c: the sockets; admit.c: HELLO and closing
 * admission; results.c: READY, RESULT and their storing; sched.c,
 * sched_net.c, skew.c, progress.c, resume.c).  Everything outside run/ goes
 * through coord.h, the way libuv keeps uv-common.h to itself. */
#ifndef LOCKSTEP_COORD_INT_H
#define LOCKSTEP_COORD_INT_H

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "coord.h"
#include "decide.h"
#include "proto.h"
#include "spawn.h"
#include "ticker.h"

typedef enum {
    STEP_NONE = 0,
    STEP_PREPARED, /* PREPARE sent, waiting for READY */
    STEP_READY,    /* READY ok */
    STEP_NOTREADY, /* READY with an error: the repetition failed on this worker */
    STEP_GO,       /* in the GO set, waiting for RESULT */
    STEP_DONE,     /* RESULT stored */
} step_t;

struct cworker {
    char *name;
    int rank;
    char *platform, *hostname, *kernel, *cpu_model, *advertise;
    char *detected, *distro, *disk_model; /* host facts (NULL: not sent) */
    char **labels;               /* "KEY=VALUE", nlabels of them */
    size_t nlabels;
    char *coord_host;            /* HELLO: the host it reached us at (its route to our host) */
    int64_t cores, mem_bytes, pid;
    int64_t joined_at;           /* coordinator wall clock */
    int64_t last_seen;           /* monotonic */
    bool lost;
    /* Epochs: 1 at admission; a lost worker that comes back is admitted
     * again with the next one, and whatever it sends from an older epoch
     * (a result it finished while frozen, its spool) is refused. */
    int64_t epoch;
    bool rejoined;               /* came back after a loss (this run or before a resume) */
    int64_t told_rejoin;         /* monotonic: when it was last told to register again */
    bool synced;
    /* coordinator clock - worker clock and its +/- bound, as the worker last
     * measured it (Cristian, at admission and every ~10 s between
     * repetitions); clock_n counts its measurements, clock_dirty: not yet
     * in the database */
    int64_t offset_ns, offset_err_ns;
    int clock_n;
    bool clock_dirty;
    /* the repetition in progress */
    int phase, rep;
    step_t step;
    char *step_error;
    int64_t go_at;               /* start instant of its current repetition */
    char *serving;               /* as a server in a network phase: the client's name */
    char *endpoint;              /* as a server: where it listens, from READY */
    int64_t started_at;          /* coordinator clock, from RESULT */
    /* the last PREPARE sent to it, sent again when it registers again in
     * the middle of its repetition (its connection was replaced) */
    void *prepare;
    size_t prepare_len;
    int64_t lost_wall;           /* coordinator wall clock when last declared lost */
};

struct pending_ack;

/* A worker of the run being resumed, as the database has it. */
struct coord_prior {
    int64_t epoch;
    bool lost;
};

/* Start skew of a phase's lockstep repetitions, for the run's summary. */
struct phase_skew {
    int64_t *skew_ns;            /* one per repetition measured */
    size_t n, cap;
    size_t over;                 /* repetitions above the phase's skew_tolerance */
    int64_t err_ns;              /* the largest error bound */
    int64_t barrier_max_ns;      /* slowest PREPARE -> last READY */
};

#define COORD_PEERS 65536 /* fds whose peer address the monitor remembers */

struct coord {
    void *zctx, *router, *pub;
    char endpoint[256];          /* ROUTER, as bound (wildcard port resolved) */
    char pub_endpoint[256];
    char boot_id[64];            /* this kernel's (clock_boot_id), for WELCOME */
    store_t *store;
    const struct experiment *exp;
    int64_t run;                 /* id in the database */
    int64_t run_key;             /* on the wire: random, so that two databases'
                                    run 1 are never confused by a worker */
    struct cworker **workers;    /* admission order; ranks after sched_admit */
    size_t nworkers, capworkers;
    void *byname;                /* zhash_t: name -> struct cworker * */
    size_t nlive;
    /* admission */
    bool admitting;
    int expect_count;
    char *const *expect_names;
    size_t nexpect_names;
    bool own_expect_names;       /* expect_names are c's to free (a resume) */
    int64_t sync_nonce;
    void *expect_set;            /* zhash_t of expect_names, for admission */
    /* GO over the PUB socket (default), or, for measurement only
     * (LOCKSTEP_GO_MODE=router|naive), to each worker in turn over the
     * ROUTER: "router" with the same start instant, "naive" with none (each
     * starts when its GO arrives, as a tool without clock offsets would) */
    enum { GO_PUB = 0, GO_ROUTER, GO_NAIVE } go_mode;
    struct phase_skew *skew;     /* one per phase (skew.c) */
    /* group commit: the RESULTs of one coord_pump go into one transaction
     * and are acknowledged after its commit */
    bool batch_open;
    struct pending_ack *acks;
    size_t nacks, capacks;
    /* liveness: the experiment's settings, sent in WELCOME */
    int hb_ms, miss_beats;
    ticker_t hb_tick, sync_tick, live_tick; /* heartbeats, SYNC, liveness checks */
    /* The coordinator's own stalls (SIGSTOP, a paused VM, a suspend): while
     * it stood still nobody could reach it, so silence is judged from its
     * wake-up on, and every deadline moves by stalled_ns (their sum). */
    clock_stall_t stall;
    int64_t stalled_ns;
    /* what is running, for loss records */
    int cur_phase, cur_rep;
    /* whether a lost worker that comes back runs the remaining repetitions
     * (the experiment's `rejoin`) */
    bool rejoin;
    /* Resuming a run whose coordinator died: the phases up to resume_phase
     * were started before (-1: a fresh run), so results re-sent from
     * workers' spools for any of their repetitions are taken; prior holds
     * what the database knew of each worker (name -> struct coord_prior). */
    int resume_phase;
    void *prior;
    /* fewer workers came than expected, or a phase found nobody to run it:
     * the run cannot be complete */
    bool shortfall;
    /* a commit failed: the run cannot go on */
    bool store_failed;
    char store_err[512];
    int64_t dropped;             /* malformed or unexpected frames */
    volatile sig_atomic_t *interrupted;
    struct auth *auth;           /* CURVE admission (--keys), or NULL */
    int64_t mismatch_logged_at;  /* a key used under another name: last logged */
    int64_t admit_started_ns;    /* when admission opened (monotonic) */
    char mismatch_name[64];
    void *monitor;               /* the ROUTER's monitor (with --keys) */
    char (*peers)[64];           /* by connection fd: its peer's address */
    bool handshake_failed;
    struct refusal_log refusals; /* refused handshakes are logged once per 10 s */
    spawn_t *spawn;              /* --local workers, reaped between beats (not owned) */
    /* Platforms this run started (--platforms): whether an expected name's
     * instance is gone (failed to start, or its process ended) so admission
     * stops waiting for it, and the platform it was started as.  NULL when
     * nothing was launched. */
    coord_gone_fn launch_gone;
    coord_launched_as_fn launched_as;
    void *launch_ctx;
};

/* A copy of s, "" for NULL (HELLO and READY fields the schema made optional). */
static inline char *coord_strdup(const char *s) { return strdup(s ? s : ""); }

/* ---- coord.c ---- */
int coord_send(coord_t *c, const char *worker, void *data, size_t len); /* frees data */
int coord_publish(coord_t *c, void *data, size_t len);                  /* frees data */
/* Finish b and send it to worker (nothing when it cannot be encoded). */
void coord_send_msg(coord_t *c, const char *to, proto_builder_t *b);
void coord_reject(coord_t *c, const char *to, const char *reason);
void coord_mark_lost(coord_t *c, struct cworker *w, const char *reason);
/* GO for w's repetition (w->phase, w->rep, w->go_at) to w alone, over the
 * ROUTER: for a worker whose subscription is not proved (yet, or again). */
void coord_send_go(coord_t *c, struct cworker *w);
struct cworker *coord_worker(coord_t *c, const char *name);
/* Store the clock measurements workers reported since the last call (one
 * transaction; between barriers, never per message). */
void coord_flush_clocks(coord_t *c);
/* A commit failed: the run cannot go on (what, and the store's message). */
void coord_store_failed(coord_t *c, const char *what);

/* ---- listen.c ---- */
/* Open the ROUTER and the PUB (ROUTER port + 1), set their limits and
 * keepalives, CURVE when keys_dir is given, and bind them.  -1 with err. */
int coord_listen(coord_t *c, const char *endpoint, const char *keys_dir, char *err,
                 size_t errlen);
/* Take in the socket monitor's events (accepted peers, refused handshakes). */
void coord_monitor_drain(coord_t *c);
/* Log refused handshakes held back for want of an address once they have
 * waited a whole interval for one with an address (between polls), or at
 * once when the coordinator ends (final). */
void coord_refusals_due(coord_t *c, bool final);

/* ---- admit.c ---- */
/* HELLO from socket identity id: admit, welcome again, or refuse. */
void admit_hello(coord_t *c, const char *id, const proto_msg_t *m);
/* Tell a worker (w, or an unknown one when NULL) to register again; at
 * most once a beat per worker. */
void admit_tell_rejoin(coord_t *c, struct cworker *w, const char *to, const char *reason);
/* With --keys: does name speak with another worker's key?  Then the
 * message is refused (true). */
bool admit_key_mismatch(coord_t *c, const char *name, const char *key_owner);

/* ---- results.c ---- */
void results_ready(coord_t *c, struct cworker *w, const proto_msg_t *m);
void results_result(coord_t *c, struct cworker *w, const proto_msg_t *m);
/* Commit the results this pump stored, then acknowledge them. */
void results_batch_close(coord_t *c);
/* Store a failed/lost row for w's current repetition (headline metric, no value). */
int coord_store_unfinished(coord_t *c, struct cworker *w, const char *status, const char *error);

#endif
