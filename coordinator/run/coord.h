/* coord.h — the coordinator's sockets and its view of the workers (internal
 * to the lockstep binary).  coord.c owns the ROUTER and PUB sockets and turns
 * incoming frames into worker state changes; sched.c drives the run by
 * waiting on those states with deadlines. */
#ifndef LOCKSTEP_COORD_H
#define LOCKSTEP_COORD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "model/experiment.h"
#include "store/store.h"

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

struct spawn;
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

typedef struct coord {
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
    char **expect_names;
    size_t nexpect_names;
    bool own_expect_names;       /* expect_names are c's to free (a resume) */
    int64_t sync_nonce;
    int64_t last_sync_pub;       /* monotonic */
    void *expect_set;            /* zhash_t of expect_names, for admission */
    /* GO over the PUB socket (default), or, for measurement only
     * (LOCKSTEP_GO_MODE=router|naive), to each worker in turn over the
     * ROUTER: "router" with the same start instant, "naive" with none (each
     * starts when its GO arrives, as a tool without clock offsets would) */
    enum { GO_PUB = 0, GO_ROUTER, GO_NAIVE } go_mode;
    struct phase_skew *skew;     /* one per phase (sched.c) */
    /* group commit: the RESULTs of one coord_pump go into one transaction
     * and are acknowledged after its commit */
    bool batch_open;
    struct pending_ack *acks;
    size_t nacks, capacks;
    /* liveness */
    int hb_ms, miss_beats;
    int64_t last_hb_pub, last_liveness;
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
    int64_t refusal_logged_at;   /* monotonic; refusals are logged once per 10 s */
    int64_t refusals_quiet;
    struct spawn *spawn;
    /* Platforms this run started (--platforms): whether an expected name's
     * instance is gone (failed to start, or its process ended) so admission
     * stops waiting for it, and the platform it was started as.  NULL when
     * nothing was launched. */
    bool (*launch_gone)(void *ctx, const char *name);
    const char *(*launched_as)(void *ctx, const char *name);
    void *launch_ctx;
} coord_t;

/* Bind ROUTER to endpoint and PUB next to it (port + 1, or a wildcard port
 * when the ROUTER's is one).  With keys_dir (`lockstep keygen`'s DIR) both
 * are CURVE servers that admit only the keys in keys_dir/allowed.  NULL
 * with a message ("tcp://...:5555: Address already in use") on error. */
coord_t *coord_new(const char *endpoint, const char *keys_dir, char *err, size_t errlen);
void coord_destroy(coord_t **c_p);
/* Listen on host too (e.g. the docker0 gateway), with the ROUTER and PUB
 * ports already bound.  0, or -1 with a message. */
int coord_bind_also(coord_t *c, const char *host, char *err, size_t errlen);

/* Poll up to timeout_ms, handle every frame that arrived, then do periodic
 * duties: heartbeat and SYNC publishing, liveness checks, reaping children. */
void coord_pump(coord_t *c, int timeout_ms);

int coord_send(coord_t *c, const char *worker, void *data, size_t len); /* frees data */
int coord_publish(coord_t *c, void *data, size_t len);                  /* frees data */
void coord_mark_lost(coord_t *c, struct cworker *w, const char *reason);
/* GO for w's repetition (w->phase, w->rep, w->go_at) to w alone, over the
 * ROUTER: for a worker whose subscription is not proved (yet, or again). */
void coord_send_go(coord_t *c, struct cworker *w);
struct cworker *coord_worker(coord_t *c, const char *name);
/* Store the clock measurements workers reported since the last call (one
 * transaction; between barriers, never per message). */
void coord_flush_clocks(coord_t *c);
/* Store a failed/lost row for w's current repetition (headline metric, no value). */
int coord_store_unfinished(coord_t *c, struct cworker *w, const char *status, const char *error);

#endif
