/* sched_int.h — what the scheduler's files share (sched.c: the steps and the
 * phase loop; sched_net.c: network phases; skew.c: the start skew; admit.c:
 * closing admission).  Internal to run/, like coord_int.h. */
#ifndef LOCKSTEP_SCHED_INT_H
#define LOCKSTEP_SCHED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coord_int.h"
#include "store/store.h"

typedef bool (*sched_cond_fn)(coord_t *c, void *arg);

/* The run is being abandoned (interrupt, failed commit): nobody is to blame
 * for a missed deadline then. */
bool sched_stopping(const coord_t *c);
/* Pump until cond holds, the deadline (monotonic ns) passes, the run is
 * interrupted or a commit failed.  True when cond holds.  The deadline moves
 * by however long the coordinator itself stood still meanwhile. */
bool sched_wait(coord_t *c, sched_cond_fn cond, void *arg, int64_t deadline);

/* What one repetition cost: filled in by sched.c's step / sched_go. */
struct repcost {
    int64_t t0_mono, cpu0;       /* when the first PREPARE went out */
    int64_t barrier_ns;          /* first PREPARE -> last READY */
};

/* The pairs of a network wave being waited for: clients[i] measures
 * against servers[i] (NULL: a public target). */
struct netpairs {
    struct cworker **clients, **servers;
    size_t n;
    int64_t window_ns;     /* the wave's result deadline after its start instant */
    int64_t *done_at;      /* monotonic: when clients[i] was seen finished */
    int64_t *stop_at;      /* monotonic: when servers[i] was sent STOP */
    int pidx, rep;
};

/* PREPARE with the phase's params plus nx extra ones (role, peers, port
 * of a network phase). */
void sched_send_prepare(coord_t *c, struct cworker *w, int pidx, int rep, int64_t timeout_ns,
                        const char *const *xk, const char *const *xv, size_t nx);
/* Deadline for one repetition's results, after its start instant. */
int64_t sched_result_window(const struct experiment *exp, const struct exp_phase *ph);
/* Wait for READY from set[0..n-1]; compacts the ready ones to the front and
 * returns how many (the others are lost or have a failed row). */
size_t sched_barrier(coord_t *c, struct cworker **set, size_t n, int64_t barrier_timeout_ns);
/* GO for set[0..n-1] (all READY), wait for their results, record the start
 * skew.  rc: the repetition's cost so far (NULL for a network wave); np: a
 * network wave's pairs (NULL otherwise). */
void sched_go(coord_t *c, int pidx, int rep, struct cworker **set, size_t n,
              const struct repcost *rc, struct netpairs *np);

/* sched_net.c */
/* STOP to a server whose client is done. */
void sched_send_stop(coord_t *c, struct cworker *w, int pidx, int rep);
/* sched_wait's condition for a network wave (arg: struct netpairs). */
bool sched_net_done(coord_t *c, void *arg);
/* A repetition of a network phase over clients[0..nc-1]: plan the waves,
 * run them in turn. */
void sched_net_rep(coord_t *c, int pidx, int rep, struct cworker **clients, size_t nc,
                   int64_t barrier_timeout_ns);

/* skew.c */
/* The start skew of a lockstep repetition: in the database, the log and the
 * phase's summary; flagged when over the phase's tolerance. */
void sched_record_skew(coord_t *c, int pidx, int rep, int64_t go_at, int64_t skew,
                       int64_t err, const struct store_rep_cost *cost,
                       const struct cworker *first, const struct cworker *last);
/* One log line with phase p's skew median and max. */
void sched_log_phase_skew(coord_t *c, size_t p);

#endif
