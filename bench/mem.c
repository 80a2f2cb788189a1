/* mem.c — sysbench 1.0's memory test, so that our MiB/s can be set beside
 * `sysbench memory --memory-block-size=4K` numbers: one event is one pass of
 * stores (or loads) over a block of block_size bytes, one per size_t word,
 * run by `threads` threads until a time limit, a total size or an event count.
 */
#include "plugins.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

/* Index order of the choices below. */
enum { MEM_READ, MEM_WRITE, MEM_NONE };
enum { MEM_SEQ, MEM_RND };
enum { MEM_GLOBAL, MEM_LOCAL };

static const char *const s_operations[] = {"read", "write", "none", NULL};
static const char *const s_accesses[] = {"seq", "rnd", NULL};
static const char *const s_scopes[] = {"global", "local", NULL};

struct mem_opts {
    uint64_t block_size;
    uint64_t total_size; /* 0 = no limit */
    int operation;
    int access;
    int scope;
    int64_t threads;
    int64_t time_ns;
    int64_t events; /* 0 = no limit */
};

static const struct opt_def s_options[] = {
    {.name = "block_size", .type = OPT_SIZE, .offset = offsetof(struct mem_opts, block_size),
     .def = "4K", .min = 8, .max = 1024.0 * 1024 * 1024,
     .help = "bytes one event writes or reads; a power of two (sysbench --memory-block-size, "
             "whose own default is 1K)"},
    {.name = "total_size", .type = OPT_SIZE, .offset = offsetof(struct mem_opts, total_size),
     .def = "100G",
     .help = "stop after this many bytes, split evenly between threads; 0 = no limit "
             "(sysbench --memory-total-size)"},
    {.name = "operation", .type = OPT_ENUM, .offset = offsetof(struct mem_opts, operation),
     .def = "write", .choices = s_operations,
     .help = "store to, load from or only walk every word (sysbench --memory-oper)"},
    {.name = "access", .type = OPT_ENUM, .offset = offsetof(struct mem_opts, access),
     .def = "seq", .choices = s_accesses,
     .help = "words in order, or as many uniformly random words (sysbench --memory-access-mode)"},
    {.name = "scope", .type = OPT_ENUM, .offset = offsetof(struct mem_opts, scope),
     .def = "global", .choices = s_scopes,
     .help = "one block shared by all threads, or one each (sysbench --memory-scope)"},
    {.name = "threads", .type = OPT_INT, .offset = offsetof(struct mem_opts, threads),
     .def = "1", .min = 1, .max = 1024, .help = "threads running events at once"},
    {.name = "time", .type = OPT_DURATION, .offset = offsetof(struct mem_opts, time_ns),
     .def = "10s", .min = 0, .max = 24 * 3600, .help = "time limit; 0 = none"},
    {.name = "events", .type = OPT_INT, .offset = offsetof(struct mem_opts, events),
     .def = "0", .min = 0, .max = 1e12,
     .help = "stop after this many events in all; 0 = no limit (sysbench's memory test "
             "ignores --events)"},
    {.name = NULL},
};

/* sysbench's latency histogram: 1024 buckets, logarithmic from 1 us to 100 s,
 * kept in 16 copies ("slots") that events pick at random so that threads
 * seldom increment the same counter. */
#define HIST_SIZE 1024
#define HIST_SLOTS 16
#define HIST_MIN_NS 1e3
#define HIST_MAX_NS 1e11

/* Shared by the threads of one run(); lives on run()'s stack. */
struct mem_run {
    const struct mem_opts *o;
    volatile sig_atomic_t *stop;
    int64_t quota;                /* events per thread from total_size; -1 = none */
    atomic_int_least64_t claimed; /* events handed out, against o->events */
    atomic_bool quit;             /* a thread could not be started */
    double hist_deduct, hist_mult;
    _Atomic uint64_t (*hist)[HIST_SIZE]; /* HIST_SLOTS of them, shared by all threads */
    /* Start gate: the clock starts once every thread exists, as in sysbench. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool go;
    int64_t deadline_ns; /* monotonic; 0 = no time limit; written before go */
};

/* A thread's event timer, sysbench's sb_timer_t: taken under its spin lock
 * at the start and at the end of every event. */
struct mem_timer {
    atomic_bool lock;
    int64_t start_ns;
    int64_t events;
    int64_t min_ns, max_ns, sum_ns;
};

/* Per thread; cache-line aligned so that counters of two threads never share
 * a line (sysbench pads its per-thread timers the same way). */
struct mem_thread {
    _Alignas(64) struct mem_run *run;
    size_t *buf;
    pthread_t tid;
    uint64_t rng[2];
    struct mem_timer timer;
};

/* Between prepare and cleanup. */
struct mem_priv {
    size_t *global;            /* scope=global: the one block */
    struct mem_thread *thread; /* o->threads of them; buf set for each */
    size_t nthreads;
    _Atomic uint64_t (*hist)[HIST_SIZE];
};

typedef void (*mem_event_fn)(size_t *buf, size_t words, uint64_t rng[2]);

/* xoroshiro128+ and the [0, 1) double sysbench 1.0 draws from it
 * (src/xoroshiro128plus.h, sb_rand_uniform_double() in src/sb_rand.h). */
static inline uint64_t s_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t s_next(uint64_t s[2])
{
    const uint64_t s0 = s[0];
    uint64_t s1 = s[1];
    const uint64_t x = s0 + s1;
    s1 ^= s0;
    s[0] = s_rotl(s0, 55) ^ s1 ^ (s1 << 14);
    s[1] = s_rotl(s1, 36);
    return x;
}

static inline double s_uniform(uint64_t s[2])
{
    const union { uint64_t i; double d; } u = {.i = UINT64_C(0x3FF) << 52 | s_next(s) >> 12};
    return u.d - 1.0;
}

static uint64_t s_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* ConcurrencyKit's ck_pr_barrier(), ck_pr_load_64() and ck_pr_store_64(),
 * through which sysbench touches the block: one plain mov per word inside
 * an asm statement with a "memory" clobber.  So the compiler may neither
 * merge, widen nor drop an access, nor keep anything that lives in memory
 * (the generator state, in rnd) in a register across one; a volatile access
 * followed by a compiler barrier is held to the same. */
#define S_BARRIER() __asm__ __volatile__("" ::: "memory")

static inline size_t s_load(const size_t *p)
{
    size_t v = *(const volatile size_t *)p;
    S_BARRIER();
    return v;
}

static inline void s_store(size_t *p, size_t v)
{
    *(volatile size_t *)p = v;
    S_BARRIER();
}

/* The six events, each as sysbench 1.0's event_{seq,rnd}_{write,read,none}
 * (src/tests/memory/sb_memory.c).  Debian builds sysbench with
 * -funroll-loops, which unrolls the seq loops by 8 and leaves the rnd ones
 * (a branchy double-to-size_t conversion) as they are: the pragmas give ours
 * the same shapes, and with them the same loop overhead per word, under our
 * -O2. */
static void s_seq_write(size_t *buf, size_t words, uint64_t rng[2])
{
    (void)rng;
    size_t *end = buf + words;
#pragma GCC unroll 8
    for (size_t *p = buf; p < end; p++)
        s_store(p, (size_t)(end - p));
}

static void s_seq_read(size_t *buf, size_t words, uint64_t rng[2])
{
    (void)rng;
    size_t *end = buf + words;
#pragma GCC unroll 8
    for (size_t *p = buf; p < end; p++)
        (void)s_load(p);
}

static void s_seq_none(size_t *buf, size_t words, uint64_t rng[2])
{
    (void)rng;
    size_t *end = buf + words;
#pragma GCC unroll 8
    for (size_t *p = buf; p < end; p++)
        S_BARRIER(); /* walk, touch nothing */
}

/* rnd: as many uniformly drawn word offsets as the block has words, so some
 * words are hit twice and some not at all, as in sysbench. */
static void s_rnd_write(size_t *buf, size_t words, uint64_t rng[2])
{
    for (size_t i = 0; i < words; i++) {
        size_t off = (size_t)(s_uniform(rng) * (double)words);
        s_store(buf + off, i * sizeof(size_t)); /* sysbench stores its byte index */
    }
}

static void s_rnd_read(size_t *buf, size_t words, uint64_t rng[2])
{
    for (size_t i = 0; i < words; i++) {
        size_t off = (size_t)(s_uniform(rng) * (double)words);
        (void)s_load(buf + off);
    }
}

/* Draws the offsets and throws them away: the cost of the generator alone. */
static void s_rnd_none(size_t *buf, size_t words, uint64_t rng[2])
{
    (void)buf;
    for (size_t i = 0; i < words; i++) {
        size_t off = (size_t)(s_uniform(rng) * (double)words);
        (void)off;
    }
}

static mem_event_fn s_event_fn(const struct mem_opts *o)
{
    static const mem_event_fn fns[2][3] = {
        [MEM_SEQ] = {[MEM_READ] = s_seq_read, [MEM_WRITE] = s_seq_write, [MEM_NONE] = s_seq_none},
        [MEM_RND] = {[MEM_READ] = s_rnd_read, [MEM_WRITE] = s_rnd_write, [MEM_NONE] = s_rnd_none},
    };
    return fns[o->access][o->operation];
}

/* sysbench's bucket: the latency's logarithm, scaled and rounded. */
static size_t s_bucket(const struct mem_run *r, int64_t ns)
{
    double i = floor((log((double)(ns > 0 ? ns : 1)) - r->hist_deduct) * r->hist_mult + 0.5);
    if (i < 0)
        return 0;
    if (i >= HIST_SIZE)
        return HIST_SIZE - 1;
    return (size_t)i;
}

__attribute__((noinline)) static bool s_should_end(struct mem_run *r)
{
    if ((r->stop && *r->stop) || atomic_load_explicit(&r->quit, memory_order_relaxed))
        return true;
    return r->deadline_ns && clock_mono_ns() >= r->deadline_ns;
}

static void s_lock(atomic_bool *l)
{
    while (atomic_exchange_explicit(l, true, memory_order_acquire))
        ;
}

static void s_unlock(atomic_bool *l)
{
    atomic_store_explicit(l, false, memory_order_release);
}

/* memory_next_event() and sysbench's own event limit: whether this thread
 * has another event, against its quota (total_size) and the events left. */
__attribute__((noinline)) static bool s_next_event(struct mem_run *r, int64_t *left)
{
    if (*left >= 0 && (*left)-- == 0)
        return false;
    return !(r->o->events > 0 &&
             atomic_fetch_add_explicit(&r->claimed, 1, memory_order_relaxed) >= r->o->events);
}

/* sb_histogram_update(): a function of its own in sysbench too. */
__attribute__((noinline)) static void s_hist_update(struct mem_run *r, uint64_t rng[2], int64_t ns)
{
    atomic_fetch_add_explicit(&r->hist[s_next(rng) % HIST_SLOTS][s_bucket(r, ns)], 1,
                              memory_order_relaxed);
}

/* sb_event_start() and sb_event_stop() with sb_histogram_update().  The
 * locks are never contended (sysbench takes them for its report thread, off
 * by default); they are here because at 4K blocks an event lasts ~200 ns and
 * sysbench's MiB/s includes the cost of these three atomic operations per
 * event: without them ours read ~12% higher on the same machine. */
__attribute__((noinline)) static void s_event_start(struct mem_timer *t)
{
    s_lock(&t->lock);
    t->start_ns = clock_mono_ns();
    s_unlock(&t->lock);
}

__attribute__((noinline)) static void s_event_stop(struct mem_thread *th)
{
    struct mem_timer *t = &th->timer;
    s_lock(&t->lock);
    int64_t ns = clock_mono_ns() - t->start_ns;
    t->events++;
    t->sum_ns += ns;
    if (ns < t->min_ns)
        t->min_ns = ns;
    if (ns > t->max_ns)
        t->max_ns = ns;
    s_unlock(&t->lock);
    s_hist_update(th->run, th->rng, ns);
}

/* The loop of sysbench's thread_run(): the time limit is looked at before
 * every event, and every event is timed on its own for the latency
 * statistics, so ours reads the clock three times per event as sysbench
 * does; that is part of what its MiB/s measures. */
static void *s_thread(void *arg)
{
    struct mem_thread *th = arg;
    struct mem_run *r = th->run;
    const struct mem_opts *o = r->o;
    const mem_event_fn event = s_event_fn(o);
    const size_t words = (size_t)(o->block_size / sizeof(size_t));
    int64_t left = r->quota;

    pthread_mutex_lock(&r->mu);
    while (!r->go)
        pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);

    while (!s_should_end(r)) {
        if (!s_next_event(r, &left))
            break;
        s_event_start(&th->timer);
        event(th->buf, words, th->rng);
        s_event_stop(th);
    }
    return NULL;
}

static int s_validate(const void *opts, char *err, size_t errlen)
{
    const struct mem_opts *o = opts;
    if (o->block_size % sizeof(size_t) != 0) {
        snprintf(err, errlen, "block_size: %llu is not a multiple of %zu bytes (a machine word)",
                 (unsigned long long)o->block_size, sizeof(size_t));
        return -1;
    }
    if ((o->block_size & (o->block_size - 1)) != 0) {
        snprintf(err, errlen,
                 "block_size: %llu is not a power of two (as in sysbench: 4K, 8K, 1M, ...)",
                 (unsigned long long)o->block_size);
        return -1;
    }
    if (o->time_ns == 0 && o->total_size == 0 && o->events == 0) {
        snprintf(err, errlen, "time, total_size and events are all 0: the run would never end "
                              "(set a time limit, a total size or an event count)");
        return -1;
    }
    if (o->total_size > 0 && o->total_size / o->block_size / (uint64_t)o->threads == 0) {
        snprintf(err, errlen,
                 "total_size: %llu bytes is less than one block of %llu for each of %lld "
                 "threads (raise total_size, or set it to 0 for no limit)",
                 (unsigned long long)o->total_size, (unsigned long long)o->block_size,
                 (long long)o->threads);
        return -1;
    }
    return 0;
}

static int64_t s_expected_ns(const void *opts)
{
    return ((const struct mem_opts *)opts)->time_ns;
}

/* A zeroed, page-aligned block (sysbench: sb_memalign + memset), so that the
 * pages exist before the clock starts. */
static size_t *s_block(size_t bytes)
{
    long page = sysconf(_SC_PAGESIZE);
    void *p = NULL;
    if (posix_memalign(&p, page > 0 ? (size_t)page : 4096, bytes) != 0)
        return NULL;
    memset(p, 0, bytes);
    return p;
}

static void s_cleanup(struct bench_ctx *ctx)
{
    struct mem_priv *pv = ctx->priv;
    if (!pv)
        return;
    if (pv->thread)
        for (size_t i = 0; i < pv->nthreads; i++)
            if (pv->thread[i].buf != pv->global)
                free(pv->thread[i].buf);
    free(pv->global);
    free(pv->thread);
    free(pv->hist);
    free(pv);
    ctx->priv = NULL;
}

static int s_prepare(struct bench_ctx *ctx)
{
    const struct mem_opts *o = ctx->opts;
    size_t n = (size_t)o->threads;
    size_t bytes = (size_t)o->block_size;
    struct mem_priv *pv = calloc(1, sizeof *pv);
    void *th = NULL;
    if (!pv || posix_memalign(&th, 64, n * sizeof *pv->thread) != 0) {
        free(pv);
        snprintf(ctx->err, sizeof ctx->err, "mem: out of memory for the state of %zu threads", n);
        return -1;
    }
    memset(th, 0, n * sizeof *pv->thread);
    pv->thread = th;
    pv->nthreads = n;
    ctx->priv = pv;
    pv->hist = calloc(HIST_SLOTS, sizeof *pv->hist);
    if (!pv->hist) {
        snprintf(ctx->err, sizeof ctx->err, "mem: out of memory for the latency histogram");
        s_cleanup(ctx);
        return -1;
    }

    if (o->scope == MEM_GLOBAL) {
        pv->global = s_block(bytes);
        if (!pv->global) {
            snprintf(ctx->err, sizeof ctx->err,
                     "mem: cannot allocate the %zu-byte block: %s (lower block_size)", bytes,
                     strerror(ENOMEM));
            s_cleanup(ctx);
            return -1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        pv->thread[i].buf = o->scope == MEM_GLOBAL ? pv->global : s_block(bytes);
        if (!pv->thread[i].buf) {
            snprintf(ctx->err, sizeof ctx->err,
                     "mem: cannot allocate the %zu-byte block of thread %zu of %zu: %s "
                     "(lower block_size or threads, or use scope=global)",
                     bytes, i + 1, n, strerror(ENOMEM));
            s_cleanup(ctx);
            return -1;
        }
    }
    return 0;
}

static void s_report(struct bench_ctx *ctx, const struct mem_run *r, int64_t events,
                     double secs, const char *ended_by)
{
    const struct mem_opts *o = r->o;
    struct mem_priv *pv = ctx->priv;
    struct bench_result *res = ctx->res;
    double mib = (double)events * (double)o->block_size / (1024.0 * 1024.0);

    bench_result_metric(res, "MiB_per_sec", "MiB/s", secs > 0 ? mib / secs : 0);
    bench_result_metric(res, "events_per_sec", "events/s", secs > 0 ? (double)events / secs : 0);
    bench_result_metric(res, "events", "count", (double)events);
    bench_result_metric(res, "time_s", "s", secs);

    bench_result_detail(res, "engine",
                        "sysbench 1.0 memory test: per event, %s each size_t word of "
                        "the block%s; the time limit checked and the event timed around "
                        "each block, as sysbench's event loop does",
                        o->operation == MEM_WRITE  ? "a store to"
                        : o->operation == MEM_READ ? "a load from"
                                                   : "a visit (no access) to",
                        o->access == MEM_RND ? ", at uniformly random words (xoroshiro128+)"
                                             : ", in order");
    bench_result_detail(res, "threads", "%lld", (long long)o->threads);
    bench_result_detail(res, "block_size", "%llu", (unsigned long long)o->block_size);
    bench_result_detail(res, "scope", "%s",
                        o->scope == MEM_GLOBAL ? "global (one block shared by all threads)"
                                               : "local (one block per thread)");
    if (r->quota >= 0)
        bench_result_detail(res, "events_per_thread_limit", "%lld", (long long)r->quota);
    bench_result_detail(res, "ended_by", "%s", ended_by);
    bench_result_detail(res, "MiB_transferred", "%.2f", mib);
    if (o->operation == MEM_NONE)
        bench_result_detail(res, "note", "operation=none touches no memory: MiB_per_sec "
                                         "counts the blocks walked (sysbench prints no MiB/s)");

    if (events == 0)
        return;
    int64_t lmin = INT64_MAX, lmax = 0;
    double lsum = 0;
    for (size_t t = 0; t < pv->nthreads; t++) {
        const struct mem_timer *tm = &pv->thread[t].timer;
        if (!tm->events)
            continue;
        lmin = tm->min_ns < lmin ? tm->min_ns : lmin;
        lmax = tm->max_ns > lmax ? tm->max_ns : lmax;
        lsum += (double)tm->sum_ns;
    }
    /* sysbench's percentile: the first bucket at which the running count
     * reaches 95% of the events, given as that bucket's value. */
    uint64_t want = (uint64_t)floor((double)events * 95 / 100 + 0.5), have = 0;
    size_t i;
    for (i = 0; i < HIST_SIZE; i++) {
        for (size_t sl = 0; sl < HIST_SLOTS; sl++)
            have += atomic_load_explicit(&pv->hist[sl][i], memory_order_relaxed);
        if (have >= want)
            break;
    }
    /* in ms, as sysbench prints them */
    bench_result_detail(res, "latency_min_ms", "%.6f", (double)lmin / 1e6);
    bench_result_detail(res, "latency_avg_ms", "%.6f", lsum / (double)events / 1e6);
    bench_result_detail(res, "latency_max_ms", "%.6f", (double)lmax / 1e6);
    bench_result_detail(res, "latency_p95_ms", "%.6f",
                        exp((double)i / r->hist_mult + r->hist_deduct) / 1e6);
}

static int s_run(struct bench_ctx *ctx)
{
    const struct mem_opts *o = ctx->opts;
    struct mem_priv *pv = ctx->priv;
    if (!pv) {
        snprintf(ctx->err, sizeof ctx->err, "mem: run without prepare");
        return -1;
    }
    struct mem_run r = {
        .o = o,
        .stop = ctx->stop,
        .quota = -1,
        .hist_deduct = log(HIST_MIN_NS),
        .hist_mult = (HIST_SIZE - 1) / (log(HIST_MAX_NS) - log(HIST_MIN_NS)),
        .hist = pv->hist,
    };
    /* sysbench gives each thread total/block/threads events; with threads
     * that do not divide the blocks the remainder is not done, there too. */
    if (o->total_size > 0)
        r.quota = (int64_t)(o->total_size / o->block_size / (uint64_t)o->threads);
    atomic_init(&r.claimed, 0);
    atomic_init(&r.quit, false);
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);

    for (size_t sl = 0; sl < HIST_SLOTS; sl++)
        for (size_t i = 0; i < HIST_SIZE; i++)
            atomic_init(&pv->hist[sl][i], 0);
    size_t n = pv->nthreads;
    uint64_t seed = (uint64_t)clock_mono_ns();
    for (size_t i = 0; i < n; i++) {
        struct mem_thread *th = &pv->thread[i];
        th->run = &r;
        atomic_init(&th->timer.lock, false);
        th->timer.events = th->timer.sum_ns = th->timer.max_ns = 0;
        th->timer.min_ns = INT64_MAX;
        do {
            th->rng[0] = s_splitmix64(&seed);
            th->rng[1] = s_splitmix64(&seed);
        } while (th->rng[0] == 0 && th->rng[1] == 0);
    }

    size_t started = 0;
    int rc = 0;
    for (; started < n; started++) {
        int e = pthread_create(&pv->thread[started].tid, NULL, s_thread, &pv->thread[started]);
        if (e != 0) {
            snprintf(ctx->err, sizeof ctx->err, "mem: could not start thread %zu of %zu: %s",
                     started + 1, n, strerror(e));
            atomic_store(&r.quit, true);
            rc = -1;
            break;
        }
    }
    pthread_mutex_lock(&r.mu);
    int64_t t0 = clock_mono_ns();
    if (o->time_ns > 0)
        r.deadline_ns = t0 + o->time_ns;
    r.go = true;
    pthread_cond_broadcast(&r.cv);
    pthread_mutex_unlock(&r.mu);

    int64_t events = 0;
    for (size_t i = 0; i < started; i++) {
        pthread_join(pv->thread[i].tid, NULL);
        events += pv->thread[i].timer.events;
    }
    double secs = (double)(clock_mono_ns() - t0) / NS_PER_SEC;
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
    if (rc < 0)
        return rc;

    const char *ended_by = "time";
    if (r.stop && *r.stop)
        ended_by = "stop";
    else if (o->events > 0 && events >= o->events)
        ended_by = "events";
    else if (r.quota >= 0 && events >= r.quota * (int64_t)n)
        ended_by = "total_size";
    s_report(ctx, &r, events, secs, ended_by);
    return 0;
}

const struct bench_ops bench_mem = {
    .name = "mem",
    .version = BENCH_API_VERSION,
    .flags = BENCH_F_NONE,
    .help = "block writes/reads over a buffer, MiB/s, as sysbench memory",
    .metric = "MiB_per_sec",
    .unit = "MiB/s",
    .options = s_options,
    .opts_size = sizeof(struct mem_opts),
    .validate = s_validate,
    .expected_ns = s_expected_ns,
    .prepare = BENCH_IMPL(s_prepare),
    .run = BENCH_IMPL(s_run),
    .cleanup = BENCH_IMPL(s_cleanup),
};
