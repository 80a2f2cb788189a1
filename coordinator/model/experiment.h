/* experiment.h — an experiment file (YAML), loaded and validated.
 *
 * The loader uses libyaml's document API so every node keeps its line and
 * column; every problem is reported as "FILE:LINE:COLUMN: message" (1-based)
 * on the diagnostics stream, and loading goes on to find the next problem.
 * The format is documented in docs/experiment-format.md.
 */
#ifndef LOCKSTEP_EXPERIMENT_H
#define LOCKSTEP_EXPERIMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench.h"
#include "pairing.h"
#include "platform_spec.h"

typedef enum { SCHED_LOCKSTEP = 0, SCHED_ROUND_ROBIN = 1 } sched_kind_t;

const char *sched_name(sched_kind_t kind); /* "lockstep", "round-robin" */

struct exp_phase {
    char *name;                   /* unique within the experiment */
    const struct bench_ops *bench;
    sched_kind_t schedule;
    bool schedule_set;            /* written on the phase or at the top level */
    int reps;                     /* repetitions, >= 1 */
    char **keys, **vals;          /* params as written (validated), nparams each */
    size_t nparams;
    void *opts;                   /* parsed options (bench_opts_parse) */
    int64_t timeout_ns;           /* deadline for one repetition's results;
                                     0 = derived (expected_ns + grace) */
    int64_t skew_tolerance_ns;    /* start skew above this flags a repetition; 0 = none */
    char **workers;               /* names or platforms this phase runs on; NULL = all */
    size_t nworkers;
    /* Network phases (a benchmark with a server role, iperf): the workers
     * that serve (names or platforms; they are not clients then), or public
     * targets; at most one of the two. */
    char **servers;
    size_t nservers;
    struct pair_target *targets;
    size_t ntargets;
    /* A calibration phase (an `exec` of a reference tool): the name of the
     * built-in phase it checks; the report sets the two side by side. */
    char *reference_for;
    int reference_line, reference_col;
    int line;                     /* where the phase starts, for messages */
};

struct experiment {
    char *path;                   /* as given */
    char *source;                 /* whole file text, stored with the run */
    char *name;
    char *description;            /* may be NULL */
    int expect_count;             /* workers to wait for; 0 = not said */
    char **expect_names;          /* or their names; NULL when not said */
    size_t nexpect_names;
    sched_kind_t schedule;        /* default for phases */
    bool schedule_set;            /* written at the top level */
    int reps;                     /* default repetitions for phases */
    int64_t start_delay_ns;       /* GO start_at = now + this (default 200ms) */
    int64_t grace_ns;             /* added to expected_ns for deadlines (default 10s) */
    int64_t skew_tolerance_ns;    /* default for phases; 0 = none */
    /* liveness: heartbeats both ways every heartbeat_ns; a worker silent for
     * missed_beats of them is lost (defaults 1 s and 3) */
    int64_t heartbeat_ns;
    int missed_beats;
    /* a lost worker that comes back (new epoch) takes part in the
     * repetitions still to run (default), or only waits for the end */
    bool rejoin;
    /* repetitions outermost: repetition 1 of every phase, then repetition 2
     * of every phase, ... — so that a built-in and its reference alternate
     * (default: every repetition of a phase, then the next phase) */
    bool interleave;
    /* `tools:`: host programs every platform gets beside its worker (each
     * platform may add its own) */
    char **tools;
    size_t ntools;
    struct exp_phase *phases;
    size_t nphases;
    /* `platforms:`: instances this host can start (lockstep run starts them
     * all, or those --platforms names) */
    struct launch_spec *platforms;
    size_t nplatforms;
    /* `expectations:` as written ("cpu: qemu < 0.5 * native"), each checked
     * with expect_parse and naming a phase of this file; `lockstep report`
     * evaluates them against the results. */
    char **expectations;
    size_t nexpectations;
};

/* Load and validate.  Returns 0 and an experiment, or the number of problems
 * (> 0) written to diag as "PATH:LINE:COL: message\n" lines (-1 when the file
 * cannot be read: "PATH: cannot read: <strerror>").  diag may be NULL. */
int experiment_load(const char *path, struct experiment **exp_p, FILE *diag);
/* Same from a string; name is used in messages in place of the path. */
int experiment_parse(const char *name, const char *text, size_t len, struct experiment **exp_p,
                     FILE *diag);
void experiment_destroy(struct experiment **exp_p);

#endif
