/* report.h — `lockstep report`: one run's results read back from the store
 * into a model (per phase and platform: the headline metric's sample and its
 * statistics), then written as a terminal table, Markdown, self-contained
 * HTML, gnuplot box plots and CSV.  report_load.c builds the model from the
 * store's readers (store/report_query.h: no SQL here); its tables are table
 * models (report_table.h) built once and written per format by
 * report_text.c / report_html.c; report_plot.c draws with gnuplot. */
#ifndef LOCKSTEP_REPORT_H
#define LOCKSTEP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/expect.h"
#include "model/stats.h"
#include "store/store.h"

/* One platform's sample in one phase.  A platform is what the worker was
 * launched as: the `--platforms` entry's name (which is the worker's name),
 * or for a worker that joined by itself the platform it declares. */
struct rgroup {
    char *platform;               /* the label: entry name or declared platform */
    char *kind;                   /* native, docker, kvm, qemu, … (launched_as or declared) */
    char *detected;               /* the workers' own detection, comma-separated */
    bool mismatch;                /* some worker detected itself as another kind */
    double *values;               /* ok values, by worker rank then repetition */
    size_t n;
    size_t nfailed, nlost;        /* repetitions without a value */
    struct stats st;
    double ratio;                 /* median / the baseline's median; NAN without one */
};

typedef enum { RNET_NONE = 0, RNET_LOCAL, RNET_PUBLIC } rnet_t;

struct rphase {
    int idx;
    char *name, *bench, *schedule, *metric, *unit;
    int reps;
    struct rgroup *groups;        /* in platform order (native, docker, kvm, qemu, others) */
    size_t ngroups;
    /* start skew of lockstep repetitions (rep_timing), microseconds */
    size_t nskew;
    double skew_median_us, skew_max_us, skew_err_us;
    /* network phases: against a local server worker or public targets, and
     * which ("local-0", "198.18.60.2:5201") */
    rnet_t net;
    char *peers;
    bool paired;                  /* a network benchmark (stored with the phase) */
    char *stored_unit;            /* the unit stored with the phase; NULL: unknown */
    char *reference_for;          /* a calibration's built-in phase, else NULL */
    bool oom;                     /* out of memory while loading */
};

struct rworker {
    char *name, *platform, *hostname, *kernel, *cpu_model, *status;
    char *label;                  /* the group its results are in (see struct rgroup) */
    char *launched_as;            /* NULL for a worker that joined by itself */
    int64_t cores, mem_bytes;
    char *lost_phase, *lost_reason;
    int64_t lost_at;              /* wall clock ns */
    char *detected, *distro, *disk_model; /* NULL: not reported (older workers) */
    char *labels;                 /* "k=v, k2=v2", NULL when none */
};

struct rexpect {
    char *text;                   /* as written */
    char *canon;                  /* expect_format, or NULL when it did not parse */
    expect_verdict_t verdict;
    char *why;                    /* the numbers, or the parse error */
    bool bad;                     /* did not parse: neither confirmed nor refuted */
};

/* Local vs public throughput of one client platform. */
struct rlvp {
    char *platform;
    struct stats local, pub;
    double ratio;                 /* public median / local median */
    /* what iperf3 said of each side (medians; NAN when not reported): the
     * sender's CPU utilisation and the round trip, locally and publicly */
    double cpu_local, cpu_pub, rtt_local, rtt_pub;
};

/* The conditions one platform ran under: its `platforms` row (schema 5) or,
 * for workers that joined by themselves, their host facts.  Integers are -1
 * when unknown. */
struct rcond {
    char *platform, *kind, *detected;
    bool mismatch;
    bool row;                     /* from the platforms table (else host facts) */
    bool recorded;                /* the row holds conditions (not an older run's) */
    int64_t cpus;                 /* row: CPUs given; host: cores */
    int64_t memory;               /* row: limit in bytes, 0 = none; host: total */
    char *cpu_list, *disk, *network, *unenforced;   /* NULL: unknown / none */
    char *workers, *cpu_model, *kernel;             /* host facts (joined workers) */
};

/* One repetition pair of a calibration whose ratio is outside ±5 %. */
struct rcal_off {
    char *worker;
    int rep;
    double ratio;
};

/* A built-in phase against the reference phase that checks it, on one
 * platform: the repetitions paired by worker and repetition number. */
struct rcal {
    char *platform, *builtin, *reference;   /* platform label, phase names */
    char *bmetric, *rmetric, *bunit, *runit;
    bool units_differ;            /* both units known and not the same: no ratio */
    struct stats b, r;            /* built-in and reference values */
    size_t n;                     /* pairs */
    double gmean, lo, hi;         /* geometric mean of the pair ratios and its spread */
    bool t_interval;              /* lo..hi: 95 % t-interval (n ≥ 3), else min–max */
    struct rcal_off *off;         /* pairs outside CAL_TOLERANCE */
    size_t noff;
};

/* A calibration pair is OFF when its ratio is outside 1 ± this. */
#define CAL_TOLERANCE 0.05

typedef struct report {
    int64_t run;
    char *db, *experiment, *description, *status, *file;
    char *source;                 /* the experiment file as run (its expectations) */
    int64_t started_at, finished_at; /* wall clock ns; 0 = unknown */
    char *baseline;
    bool baseline_present;        /* some phase has the baseline platform */
    const char *by;               /* what results are grouped by: "platform" (default),
                                     "worker", "host", "label:KEY" (store_group_by) */
    struct rphase *phases;
    size_t nphases;
    struct rworker *workers;      /* by rank */
    size_t nworkers;
    struct rexpect *expects;
    size_t nexpects;
    char *expect_note;            /* why the experiment's expectations could not be read */
    struct rlvp *lvp;             /* empty unless the run has both local and public iperf */
    size_t nlvp;
    struct rcond *conds;          /* per platform, in platform order */
    size_t nconds;
    bool conds_rows;              /* some platform has a platforms row (else host facts) */
    char *cond_warning;           /* unequal CPUs or memory between compared platforms */
    char *not_run;                /* platforms skipped or failed: "qemu (skipped: why)" */
    struct rcal *cals;            /* empty unless the run has calibration phases */
    size_t ncals;
} report_t;

/* Read run (0: the latest) from the store.  NULL with a message on error. */
report_t *report_load(store_t *s, int64_t run, const char *baseline, char *err, size_t errlen);
void report_destroy(report_t **r_p);

/* Evaluate the expectations of the run's experiment (from the source stored
 * with the run) and the extra ones given (the command line's). */
void report_expectations(report_t *r, const char *const *extra, size_t nextra);

/* The group of ph that name stands for: the platform of that label, else
 * the only one of that kind.  NULL when none or ambiguous. */
const struct rgroup *report_group(const struct rphase *ph, const char *name);

/* The median of phase on platform: an expect_lookup_fn with a report_t as ctx. */
bool report_median(void *ctx, const char *phase, const char *platform, double *median);

/* Local vs public: per client platform; the conclusion in one sentence. */
void report_lvp_verdict(const struct rlvp *l, char *buf, size_t len);
void report_lvp_summary(const report_t *r, char *buf, size_t len);

/* One colour per platform, the same in every figure ("#4e79a7"); i picks
 * among the others for platforms beyond the four of the course.  The
 * figures pass a platform's kind when it is the only one of its kind. */
const char *report_colour(const char *platform, size_t i);

/* Conditions (report_cond.c) and calibration (report_calib.c): read into r
 * by report_load; 0 or -1. */
int report_load_conditions(store_t *s, report_t *r);
int report_load_calibration(store_t *s, report_t *r);
void report_conditions_free(report_t *r);
void report_calibration_free(report_t *r);

/* Their sections, as text, Markdown and HTML. */
void report_conditions_print(const report_t *r, FILE *out);
void report_conditions_markdown(const report_t *r, FILE *out);
void report_conditions_html(const report_t *r, FILE *out);
/* report_systems.c: the host behind each worker, as text, Markdown, HTML. */
void report_systems_print(const report_t *r, FILE *out);
void report_systems_markdown(const report_t *r, FILE *out);
void report_systems_html(const report_t *r, FILE *out);
void report_calibration_print(const report_t *r, FILE *out);
void report_calibration_markdown(const report_t *r, FILE *out);
void report_calibration_html(const report_t *r, FILE *out);

/* Escaping: HTML text, a Markdown table cell. */
void report_esc_html(FILE *out, const char *s);
void report_esc_md(FILE *out, const char *s);
/* "1.5 GiB", "512 MiB" */
void report_bytes(int64_t bytes, char *buf, size_t len);

/* Writers (report_text.c, report_html.c, report_plot.c). */
/* The name of what results are grouped by, for table headings. */
static inline const char *report_by(const struct report *r)
{
    return r->by && *r->by ? r->by : "platform";
}
void report_print(const report_t *r, FILE *out);
void report_markdown(const report_t *r, FILE *out, bool with_plots);
void report_html(const report_t *r, FILE *out);
/* Box plots with gnuplot: plot-PHASE.svg and .png in dir, from plots.gp
 * written there.  0, 1 when gnuplot is not installed (plots.gp only), 2 when
 * no phase has a value to plot (nothing written), -1 with a message. */
int report_plots(const report_t *r, const char *dir, char *err, size_t errlen);
/* "2026-05-01 12:00:00 UTC" for a wall-clock instant in ns; "-" for 0. */
void report_time(int64_t ns, char *buf, size_t len);
/* The run in one line: "run 3 of quick (complete), 4 workers, 6 phases". */
void report_headline(const report_t *r, char *buf, size_t len);

#endif
