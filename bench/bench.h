/* bench.h — the benchmark plug-in interface (fio's ioengine_ops, sysbench's
 * sb_test_t), shared by the worker, which runs plug-ins, and the coordinator,
 * which validates their options and lists them.  Implementations live in
 * bench/, one file each, named in bench/list.h.
 *
 * No plug-in state in globals: the core allocates the plug-in's options
 * struct (opts_size bytes, filled from the options table) and passes a
 * context; a plug-in keeps run state in ctx->priv.
 */
#ifndef LOCKSTEP_BENCH_H
#define LOCKSTEP_BENCH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "options.h"

#define BENCH_API_VERSION 1
#define BENCH_MAX_METRICS 16
#define BENCH_MAX_DETAILS 64

enum {
    BENCH_F_NONE = 0,
    BENCH_F_NEEDS_DIR = 1 << 0, /* uses ctx->workdir for files */
    BENCH_F_PAIRED = 1 << 1,    /* a network test: clients need servers or targets; the
                                   coordinator sets the options "role", "peers", "port" */
};

struct bench_metric {
    char name[48];
    char unit[24];
    double value;
};

struct bench_detail {
    char key[48];
    char value[208];
};

struct bench_result {
    struct bench_metric metrics[BENCH_MAX_METRICS];
    size_t nmetrics;
    struct bench_detail details[BENCH_MAX_DETAILS];
    size_t ndetails;
};

struct bench_ctx {
    const void *opts;                 /* the plug-in's options struct */
    void *priv;                       /* plug-in private state, prepare..cleanup */
    const char *workdir;              /* scratch directory (exists) */
    volatile sig_atomic_t *stop;      /* set non-zero to ask run() to end early; may be NULL */
    struct bench_result *res;
    char err[256];                    /* reason when a hook returns < 0 */
    /* Set by a server-role prepare(): "host:port" where clients reach it
     * (host may be empty: the worker fills in its advertised address).
     * Travels to the coordinator in READY, which hands it to the clients. */
    char endpoint[128];
};

struct bench_ops {
    const char *name;
    int version;                      /* BENCH_API_VERSION */
    unsigned flags;
    const char *help;                 /* one line */
    const char *metric;               /* headline metric name, e.g. "events_per_sec" */
    const char *unit;                 /* its unit, e.g. "events/s" */
    const struct opt_def *options;    /* NULL-name terminated */
    size_t opts_size;
    /* Cross-option checks after parsing (optional). 0 or -1 with err. */
    int (*validate)(const void *opts, char *err, size_t errlen);
    /* How long run() will take with these options (ns), for deadlines; 0 = unknown. */
    int64_t (*expected_ns)(const void *opts);
    /* A paired (network) client's bound on run() when it may try
     * ncandidates servers in turn (failover, busy retries): the coordinator's
     * deadline for its result counts this instead of expected_ns (optional). */
    int64_t (*bound_ns)(const void *opts, size_t ncandidates);
    /* The hooks, each given through BENCH_IMPL() (below). */
    int (*prepare)(struct bench_ctx *ctx);  /* optional; not timed */
    int (*run)(struct bench_ctx *ctx);      /* required (NULL in the descriptors); timed */
    void (*cleanup)(struct bench_ctx *ctx); /* optional; always called after prepare */
};

/* Each benchmark is compiled twice from its one file: in full for the worker
 * (library lsbench), and with BENCH_DESCRIPTOR_ONLY defined for the
 * coordinator (lsbench_desc), which validates and lists but never runs, and
 * so must not link what the runs need (libiperf, liburing).  A descriptor
 * names its hooks as .run = BENCH_IMPL(s_run): in the descriptor build that
 * is NULL, so nothing reaches the hooks or what only they use, and the
 * linker drops that code (-ffunction-sections, --gc-sections: at -O0 the
 * compiler keeps unreferenced static functions).  Naming the function still
 * marks it used, so the descriptor build warns no more than the full one. */
#ifdef BENCH_DESCRIPTOR_ONLY
#define BENCH_IMPL(fn) (0 ? (fn) : NULL)
#define BENCH_HAS_HOOKS 0
#else
#define BENCH_IMPL(fn) (fn)
#define BENCH_HAS_HOOKS 1
#endif

/* Registry (bench/registry.c), in the order of bench/list.h. */
const struct bench_ops *bench_find(const char *name);
const struct bench_ops *const *bench_all(void); /* NULL-terminated */

/* Core helpers (bench/core.c). */
/* Allocate an options struct with defaults applied. */
void *bench_opts_new(const struct bench_ops *ops);
void bench_opts_destroy(const struct bench_ops *ops, void **opts_p);
/* Parse n key/value pairs into a fresh options struct, then run validate().
 * 0, or -1 with the first problem in err.  *opts_p is set on success only. */
int bench_opts_parse(const struct bench_ops *ops, const char *const *keys,
                     const char *const *vals, size_t n, void **opts_p, char *err, size_t errlen);
/* The shared check of benchmarks bounded by a time and/or an event count:
 * 0, or -1 with a message when both are 0 (the run would never end). */
int bench_check_bounded(int64_t time_ns, int64_t events, char *err, size_t errlen);
void bench_result_metric(struct bench_result *res, const char *name, const char *unit, double value);
void bench_result_detail(struct bench_result *res, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Record every option's canonical value as a detail "opt.<name>". */
void bench_result_params(struct bench_result *res, const struct bench_ops *ops, const void *opts);

#endif
