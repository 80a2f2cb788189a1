/* worker_int.h — the worker's state, shared by worker.c (the loop and the
 * messages), conn.c (the sockets and their monitor) and clocksync.c (the
 * clock offset's measurement); nothing outside worker/ sees it. */
#ifndef LOCKSTEP_WORKER_INT_H
#define LOCKSTEP_WORKER_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench.h"
#include "clock.h"
#include "platform.h"
#include "proto.h"
#include "ticker.h"
#include "worker.h"

#define PINGS 12                 /* ping-pongs of the measurement at admission */
#define REPINGS 4                /* ... of each later one */
/* The offset drifts (NTP slews, crystals differ by tens of ppm: 10 us in
 * 10 s at worst); measure again this often, between repetitions only ... */
#define REMEASURE_NS (10 * NS_PER_SEC)
/* ... or sooner while the bound is poor (the coordinator was busy, as it is
 * when a thousand workers arrive at once) */
#define REMEASURE_POOR_NS (2 * NS_PER_SEC)
#define POOR_ERR_NS (100 * 1000)
#define POOR_TRIES 4
#define PONG_TIMEOUT_NS (200 * NS_PER_MS)
/* Pings of a measurement are spread out, a random 1..16 ms apart: when a
 * thousand workers measure at once (admission), some of each one's samples
 * still find the coordinator idle, and the smallest round trip is kept. */
#define PING_GAP_MIN_NS (1 * NS_PER_MS)
#define PING_GAP_RAND_NS (15 * NS_PER_MS)

enum job_state { JOB_IDLE, JOB_PREPARING, JOB_PREPARED, JOB_RUNNING };

struct job {
    enum job_state state;
    pthread_t thread;
    bool thread_live;
    int64_t run;
    int phase, rep;
    int64_t epoch;              /* ours when it was prepared: its RESULT says so */
    const struct bench_ops *ops;
    void *opts;
    struct bench_ctx ctx;
    struct bench_result res;
    int rc;                     /* of the hook the thread ran */
    int64_t start_local;        /* when to start (worker wall clock) */
    int64_t started, finished;  /* worker wall clock */
    int64_t stalled_ns;         /* how long this process stood still while it ran */
    bool rt;                    /* wait for the start instant at real-time priority */
    volatile sig_atomic_t stop;
    int pipe_w;
};

struct wk {
    const struct worker_opts *o;
    struct host_facts facts;
    void *zctx, *dealer, *sub;
    char sub_endpoint[512];
    char workdir[4096];
    bool welcomed;
    int64_t run;
    int64_t epoch;              /* from WELCOME: 1, more after we were declared lost */
    /* the coordinator's liveness settings (its WELCOME's, or the defaults) */
    struct proto_liveness live;
    ticker_t hb, resend;        /* our heartbeats, spool re-sends */
    int64_t last_heard, hello_next, hello_backoff;
    int hellos;                 /* sent since the last WELCOME */
    int64_t hello_first;        /* monotonic: the first attempt since then */
    char advertise[128];        /* where other workers reach this one */
    char coord_host[256];       /* the host of --connect: our route to the coordinator's host */
    clock_est_t clk;            /* the latest complete measurement: GO uses it */
    clock_est_t probe;          /* the measurement in progress */
    int clk_n;                  /* measurements in use so far in this run */
    int clk_tries;              /* measurements made (kept or not) */
    int64_t clk_at;             /* monotonic, when clk was completed */
    int ping_seq, ping_want;    /* ping_want = 0: not measuring */
    int64_t ping_sent;          /* wall clock */
    int64_t ping_next;          /* monotonic: the next ping of the burst, 0 = none due */
    int64_t remeasure_ns;       /* REMEASURE_NS, jittered per worker */
    bool same_clock;            /* on the coordinator's kernel: offset 0, no pings */
    unsigned rnd;               /* rand_r state */
    bool rt;                    /* the control thread runs at real-time priority */
    int pipe_r, pipe_w;
    struct job job;
    clock_stall_t stall;        /* our own stalls (SIGSTOP, a paused VM, a suspend) */
    int64_t last_reconnect;     /* monotonic: sockets last replaced */
    void *mon;                  /* the DEALER's monitor (CONNECTED, handshake failures) */
    char refused[320];          /* why the coordinator's side refused our handshake, "" */
    int64_t wait_next, wait_ival; /* the next "still waiting" line, and the growing gap */
    unsigned mon_seq;
    int exit_code;
    bool done;
};

/* ---- worker.c ---- */
/* Finish b and send it on the DEALER (never blocks).  0, or -1. */
int wk_send(struct wk *w, proto_builder_t *b);

/* ---- conn.c ---- */
/* The DEALER, new (the old one, if any, closed), with its monitor.  0, or
 * -1 with the reason logged. */
int wk_dealer_open(struct wk *w);
/* The SUB, connected to the coordinator's PUB (pub: as its WELCOME names
 * it) on the host we connect to; kept when already there.  0 or -1. */
int wk_sub_connect(struct wk *w, const char *pub);
void wk_monitor_close(struct wk *w);
/* The DEALER monitor's events: thin-stream TCP on a new connection, a
 * refused handshake said. */
void wk_monitor_drain(struct wk *w);
/* Not welcomed yet (reached: a HELLO went out): say so at growing intervals. */
void wk_still_waiting(struct wk *w, int64_t now, bool reached);
/* Where others reach us (--advertise, or our route to the coordinator)
 * and how we reach the coordinator's host. */
void wk_detect_advertise(struct wk *w);

/* ---- clocksync.c ---- */
void wk_send_ping(struct wk *w);
/* Start a measurement of the clock offset: n ping-pongs, one at a time. */
void wk_measure_start(struct wk *w, int n);
/* The burst is over: keep its best sample if it is the better bound. */
void wk_measure_end(struct wk *w);
/* A new coordinator: the same kernel's clock, or a measurement. */
void wk_clock_welcome(struct wk *w, const proto_msg_t *m);
void wk_clock_pong(struct wk *w, const proto_msg_t *m);
void wk_clock_periodic(struct wk *w, int64_t now);

#endif
