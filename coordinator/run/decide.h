/* decide.h — the coordinator's decisions, as pure functions: who takes part
 * in a repetition, what a resumed run skips, the run's status, and when a
 * refused peer is logged.  sched.c and listen.c gather the facts (the
 * workers' states, the database's rows, the socket monitor's events) and ask
 * here; nothing here touches a socket or the store, so each rule is
 * unit-tested on its own (tests/unit/test_decide.c). */
#ifndef LOCKSTEP_DECIDE_H
#define LOCKSTEP_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/experiment.h"

/* How a run ended.  Not exit codes: the command line maps them. */
typedef enum { RUN_COMPLETE, RUN_PARTIAL, RUN_FAILED } run_status_t;

/* "complete", "partial", "failed" (as stored in runs.status) */
const char *run_status_name(run_status_t st);

/* A worker as the decisions see it. */
struct decide_worker {
    const char *name, *platform;
    bool lost;      /* lost now */
    bool rejoined;  /* lost once, admitted again */
};

/* Is the worker one of ph's servers (named, or its platform named)? */
bool decide_serves(const struct exp_phase *ph, const char *name, const char *platform);
/* Is it to measure in phase ph?  When the phase names it (or its
 * platform) or names nobody; a network phase's servers are not its clients,
 * and a platform started with role: server measures nothing. */
bool decide_selected(const struct experiment *exp, const struct exp_phase *ph, const char *name,
                     const char *platform);
/* Does it take part in ph's next repetition?  Selected, not lost, and not
 * back after a loss when the experiment says rejoin: false. */
bool decide_takes_part(const struct experiment *exp, const struct exp_phase *ph,
                       const struct decide_worker *w, bool rejoin);

/* Resuming: of the n workers about to run a repetition, done[i] says the
 * database already has worker i's row; stored: how many rows of the
 * repetition it has in all (a worker not here now may have left one).
 * keep[] receives the indexes of those still to run; skip: some row exists
 * and nobody who measures is left (servers have no rows of their own), so
 * the repetition was done. */
struct resume_plan {
    size_t nkeep;      /* entries of keep[] */
    size_t measurers;  /* of them, those who measure */
    bool skip;
};
struct resume_plan decide_resume(const struct exp_phase *ph, const struct decide_worker *w,
                                 const bool *done, size_t n, size_t stored, size_t *keep);

/* What a finished run's status rests on. */
struct run_counts {
    int64_t ok, failed, lost;  /* result rows by status */
    bool shortfall;            /* fewer workers came than expected, a platform
                                  failed, or a phase found nobody to run it */
    bool uncovered;            /* a worker lacks a row of a repetition it was to run */
    bool stopped;              /* interrupted, or a commit failed */
};
/* Complete: every repetition of everyone measured ok.  Partial: some
 * results, but something failed, was lost or is missing.  Failed: stopped,
 * or not one result ok.  What happened, not what was feared: a worker lost
 * for a while whose every repetition has its result leaves the run complete. */
run_status_t decide_run_status(const struct run_counts *k);

/* Refused handshakes are logged at most once per interval, with the peer's
 * address.  The address is read when the connection is accepted; a peer
 * refused at once may have closed before that (then it is unknown).  A
 * refusal without an address waits, up to an interval, for one with an
 * address to be logged in its place: a refused peer retries, and the log
 * should name it. */
struct refusal_log {
    int64_t logged_at;     /* monotonic ns of the last line; 0: none yet */
    int64_t unknown_since; /* the first refusal held back for want of an address; 0: none */
    int64_t held;          /* refusals not logged since the last line */
};
/* May a refusal at now be logged, or is a line of the last interval still
 * standing (then looking for its address is not worth it)? */
bool decide_refusal_may_log(const struct refusal_log *r, int64_t now, int64_t interval_ns);
/* A refusal at now (known: its address is known).  -1: not logged now (it
 * is counted); otherwise log it now: the value is how many others were held
 * back since the last line. */
int64_t decide_refusal(struct refusal_log *r, int64_t now, bool known, int64_t interval_ns);
/* No refusal at now: how many refusals without an address are due to be
 * logged (held back a whole interval, or any at all when final: the
 * coordinator ends), -1 when none. */
int64_t decide_refusal_due(struct refusal_log *r, int64_t now, int64_t interval_ns, bool final);

#endif
