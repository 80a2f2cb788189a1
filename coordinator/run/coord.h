/* coord.h — the coordinator: its sockets and its view of the workers, as
 * one object (CZMQ's class shape: coord_new from a configuration, accessors,
 * coord_destroy).  What it holds stays in run/ (coord_int.h); the command
 * line, the platform launchers and resume only configure it and read it.
 * coord.c owns the ROUTER and PUB sockets and turns incoming frames into
 * worker state changes (admit.c, results.c); sched.c drives the run by
 * waiting on those states with deadlines. */
#ifndef LOCKSTEP_COORD_H
#define LOCKSTEP_COORD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/experiment.h"
#include "store/store.h"

typedef struct coord coord_t;
struct spawn;

struct coord_config {
    const char *endpoint;       /* ROUTER; PUB next to it (port + 1, or a
                                   wildcard port when the ROUTER's is one) */
    const char *keys_dir;       /* `lockstep keygen`'s DIR: CURVE servers that admit
                                   only the keys in DIR/allowed; NULL: none */
    store_t *store;             /* not owned */
    const struct experiment *exp; /* not owned: phases, heartbeat, missed_beats, rejoin */
    volatile sig_atomic_t *interrupted; /* set by a signal: the run stops */
    /* whom to wait for: a count, or names (not owned; neither: see
     * coord_expect_names, resume_apply) */
    int expect_count;
    char *const *expect_names;
    size_t nexpect_names;
};

/* Bind as cfg says.  NULL with a message ("tcp://...:5555: Address already
 * in use") on error. */
coord_t *coord_new(const struct coord_config *cfg, char *err, size_t errlen);
void coord_destroy(coord_t **c_p);
/* Listen on host too (e.g. the docker0 gateway), with the ROUTER and PUB
 * ports already bound.  0, or -1 with a message. */
int coord_bind_also(coord_t *c, const char *host, char *err, size_t errlen);

/* Poll up to timeout_ms, handle every frame that arrived, then do periodic
 * duties: heartbeat and SYNC publishing, liveness checks, reaping children. */
void coord_pump(coord_t *c, int timeout_ms);

/* ---- configuring, before admission ---- */
/* The run in the database, and its key on the wire. */
void coord_set_run(coord_t *c, int64_t run, int64_t run_key);
/* Resuming run: the phases up to last_phase were started before (results
 * re-sent from spools for them are taken). */
void coord_resume(coord_t *c, int64_t run, int64_t run_key, int last_phase);
/* A worker the resumed run had: it keeps its epoch when it comes back, or
 * gets the next one if the run had lost it; it is expected again unless
 * someone else is. */
void coord_resume_worker(coord_t *c, const char *name, int64_t epoch, bool lost);
/* Expect exactly these (started platforms; not owned, kept alive by the caller). */
void coord_expect_names(coord_t *c, char *const *names, size_t n);
/* Platforms this run started: whether an expected name's instance is gone
 * (admission stops waiting for it), and the platform it was started as. */
typedef bool (*coord_gone_fn)(void *ctx, const char *name);
typedef const char *(*coord_launched_as_fn)(void *ctx, const char *name);
void coord_set_launcher(coord_t *c, coord_gone_fn gone, coord_launched_as_fn as, void *ctx);
/* Local workers to reap between beats (not owned). */
void coord_set_spawn(coord_t *c, struct spawn *spawn);
/* Something the run needed did not come (a platform failed to start): it
 * cannot be complete. */
void coord_set_shortfall(coord_t *c);

/* ---- reading ---- */
const char *coord_endpoint(const coord_t *c);     /* ROUTER, as bound */
const char *coord_pub_endpoint(const coord_t *c);
int64_t coord_run(const coord_t *c);
int64_t coord_run_key(const coord_t *c);
store_t *coord_store(const coord_t *c);
/* Has anyone to wait for been said (a count, names)? */
bool coord_expects_someone(const coord_t *c);
/* Why the run's storing failed, or NULL when it did not. */
const char *coord_store_error(const coord_t *c);
struct coord_tally {
    size_t workers;  /* admitted */
    size_t lost;     /* lost now */
    size_t back;     /* lost, then admitted again */
};
void coord_tally(const coord_t *c, struct coord_tally *t);
/* The platform worker name detected itself as ("" when it did not say), or
 * NULL when no such worker was admitted. */
const char *coord_worker_platform(const coord_t *c, const char *name);

#endif
