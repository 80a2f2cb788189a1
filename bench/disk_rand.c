/* disk_rand.c — random block reads/writes with a queue of requests in
 * flight, as `fio --rw=randread --bs=4k --iodepth=64 --direct=1
 * --ioengine=libaio`: IOPS and the latency of each request, kept in a
 * fixed-size log-linear histogram.  Three ways to keep the queue full:
 * io_uring (liburing), Linux native AIO (the syscalls fio's libaio engine
 * makes, without the library) and psync (one pread/pwrite at a time, the
 * last resort, where iodepth is 1).  The test file is disk.c's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "disk.h"

#include <errno.h>
#include <linux/aio_abi.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef LOCKSTEP_WITH_URING
#include <liburing.h>
#endif

#include "clock.h"
#include "plugins.h"

enum { ENGINE_AUTO, ENGINE_URING, ENGINE_LIBAIO, ENGINE_PSYNC };

struct rand_opts {
    struct disk_common c;
    int64_t rwmixread;
    int64_t iodepth;
    int64_t batch_submit;   /* 0 = all that are ready */
    int64_t batch_complete; /* 0 = all that are there */
    int engine;
    int64_t seed;         /* 0 = pick one */
};

static const char *const s_ops[] = {"read", "write", "mixed", NULL};
static const char *const s_engines[] = {"auto", "io_uring", "libaio", "psync", NULL};
static const char *const s_engine_names[] = {"auto", "io_uring", "libaio", "psync"};

static const struct opt_def s_options[] = {
    DISK_FILE_ROWS(struct rand_opts),
    {.name = "block_size", .type = OPT_SIZE, .offset = offsetof(struct rand_opts, c.block_size),
     .def = "4K", .min = 512, .max = 16 << 20,
     .help = "bytes per request, also the alignment of the random offsets (fio --bs)"},
    {.name = "operation", .type = OPT_ENUM, .offset = offsetof(struct rand_opts, c.operation),
     .def = "read", .choices = s_ops,
     .help = "read, write or mixed (fio randread, randwrite, randrw); offsets uniform over "
             "the file"},
    {.name = "rwmixread", .type = OPT_INT, .offset = offsetof(struct rand_opts, rwmixread),
     .def = "50", .min = 0, .max = 100,
     .help = "mixed only: percent of requests that are reads (fio --rwmixread, default 50)"},
    {.name = "iodepth", .type = OPT_INT, .offset = offsetof(struct rand_opts, iodepth),
     .def = "64", .min = 1, .max = 1024,
     .help = "requests kept in flight (fio --iodepth); 1 with the psync engine"},
    {.name = "batch_submit", .type = OPT_INT,
     .offset = offsetof(struct rand_opts, batch_submit), .def = "1", .min = 0, .max = 1024,
     .help = "requests per submit call, as fio --iodepth_batch_submit (default 1, as fio); "
             "0 = all that are ready at once"},
    {.name = "batch_complete", .type = OPT_INT,
     .offset = offsetof(struct rand_opts, batch_complete), .def = "1", .min = 0, .max = 1024,
     .help = "completions taken per wait, as fio --iodepth_batch_complete_max (default 1, as "
             "fio); 0 = all there are.  Batching saves system calls, which are dear in VMs: "
             "IOPS then exceed what fio shows with its defaults"},
    {.name = "engine", .type = OPT_ENUM, .offset = offsetof(struct rand_opts, engine),
     .def = "auto", .choices = s_engines,
     .help = "auto = io_uring, else libaio (containers' seccomp often refuses io_uring), "
             "else psync; naming one fails where it is unavailable; libaio is the engine of "
             "the fio reference command"},
    {.name = "time", .type = OPT_DURATION, .offset = offsetof(struct rand_opts, c.time_ns),
     .def = "10s", .min = 0, .max = 24 * 3600,
     .help = "how long to issue requests; 0 = file_size/block_size requests"},
    {.name = "seed", .type = OPT_INT, .offset = offsetof(struct rand_opts, seed), .def = "0",
     .min = 0, .max = 9e18,
     .help = "seed of the offsets (xoshiro256**); 0 = a new one, recorded as detail seed"},
    {.name = NULL},
};

/* ---- latency histogram: fio's log-linear "plat" buckets ----
 * Values below 128 ns have a bucket each; above, every power of two is cut
 * into 64 equal buckets, so a bucket's middle is within 0.8 % of its values.
 * 32 groups reach 2^37 ns (137 s); anything slower lands in the last bucket.
 * 16 KiB however long the run. */
#define LAT_BITS 6
#define LAT_VAL (1u << LAT_BITS)
#define LAT_NR (32u * LAT_VAL)

struct lat_hist {
    uint64_t n[LAT_NR];
    uint64_t count, sum_ns, max_ns;
};

static inline void s_lat_add(struct lat_hist *h, int64_t ns)
{
    uint64_t v = ns > 0 ? (uint64_t)ns : 0;
    unsigned idx;
    if (v < 2 * LAT_VAL) {
        idx = (unsigned)v;
    } else {
        unsigned msb = 63u - (unsigned)__builtin_clzll(v);
        unsigned err_bits = msb - LAT_BITS;
        idx = ((err_bits + 1) << LAT_BITS) + (unsigned)((v >> err_bits) & (LAT_VAL - 1));
        if (idx >= LAT_NR)
            idx = LAT_NR - 1;
    }
    h->n[idx]++;
    h->count++;
    h->sum_ns += v;
    if (v > h->max_ns)
        h->max_ns = v;
}

/* The middle of bucket idx, in ns. */
static double s_lat_mid(unsigned idx)
{
    if (idx < 2 * LAT_VAL)
        return idx;
    unsigned err_bits = (idx >> LAT_BITS) - 1;
    double base = ldexp(1.0, (int)(err_bits + LAT_BITS));
    return base + ((double)(idx % LAT_VAL) + 0.5) * ldexp(1.0, (int)err_bits);
}

/* The p-th quantile (0 < p < 1) in ns: the bucket holding the
 * ceil(p * count)-th value, never above the largest value seen. */
static double s_lat_pct(const struct lat_hist *h, double p)
{
    if (!h->count)
        return 0;
    uint64_t rank = (uint64_t)ceil(p * (double)h->count);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    unsigned i = 0;
    for (; i < LAT_NR - 1; i++) {
        seen += h->n[i];
        if (seen >= rank)
            break;
    }
    double v = s_lat_mid(i);
    return v > (double)h->max_ns ? (double)h->max_ns : v;
}

/* ---- what every engine shares ---- */

/* One run, on run()'s stack. */
struct rand_run {
    const struct rand_opts *o;
    struct bench_ctx *ctx;
    int fd;
    struct disk_rng rng;
    uint64_t blocks;  /* offsets are bs * [0, blocks) */
    size_t bs;
    unsigned depth;
    unsigned batch;   /* requests per submit call; 0 = all ready */
    unsigned reap;    /* completions per wait, 1..depth */
    int64_t t0;       /* monotonic, when the first request went out */
    int64_t deadline; /* monotonic; 0 = none, count requests instead */
    uint64_t limit;   /* requests to issue when there is no deadline */
    uint64_t issued, reads, writes;
    struct lat_hist *lat;
    char *bufs;       /* depth buffers of bs bytes; slot i uses the i-th */
    bool keep_bufs;   /* requests may still land in bufs: leak rather than free */
    int err;          /* first failure, -errno (-ENODATA: short transfer) */
    bool err_io;      /* of a request (else of the engine): */
    uint64_t err_off; /* its offset */
    bool err_write;
};

/* The clock starts when an engine is set up, just before its first request. */
static int64_t s_start(struct rand_run *r)
{
    r->t0 = clock_mono_ns();
    r->deadline = r->o->c.time_ns > 0 ? r->t0 + r->o->c.time_ns : 0;
    return r->t0;
}

static inline bool s_may_issue(const struct rand_run *r, int64_t now)
{
    if (r->err || (r->ctx->stop && *r->ctx->stop))
        return false;
    return r->deadline ? now < r->deadline : r->issued < r->limit;
}

/* The next request: its offset, and whether it writes. */
static inline uint64_t s_next(struct rand_run *r, bool *write)
{
    int op = r->o->c.operation;
    *write = op == DISK_OP_WRITE ||
             (op == DISK_OP_MIXED && (int64_t)disk_rng_below(&r->rng, 100) >= r->o->rwmixread);
    r->issued++;
    return disk_rng_below(&r->rng, r->blocks) * r->bs;
}

/* A request came back with res (bytes or -errno) after ns. */
static inline void s_done(struct rand_run *r, bool write, uint64_t off, long res, int64_t ns)
{
    if (res != (long)r->bs) {
        if (!r->err) {
            r->err = res < 0 ? (int)res : -ENODATA;
            r->err_io = true;
            r->err_off = off;
            r->err_write = write;
        }
        return;
    }
    if (write)
        r->writes++;
    else
        r->reads++;
    s_lat_add(r->lat, ns);
}

/* What a queued engine remembers about a request in flight. */
struct slot {
    uint64_t off;
    int64_t t_issue;
    bool write;
};

/* ---- psync: one request at a time ---- */

static void s_psync(struct rand_run *r)
{
    int64_t now = s_start(r);
    while (s_may_issue(r, now)) {
        bool w;
        uint64_t off = s_next(r, &w);
        ssize_t n = w ? pwrite(r->fd, r->bufs, r->bs, (off_t)off)
                      : pread(r->fd, r->bufs, r->bs, (off_t)off);
        long res = n < 0 ? -errno : (long)n;
        int64_t t1 = clock_mono_ns();
        if (res == -EINTR) {
            r->issued--;
        } else {
            s_done(r, w, off, res, t1 - now);
        }
        now = t1;
    }
}

/* ---- libaio: Linux native AIO through its system calls ---- */

/* The requests of one libaio run. */
struct aio_queue {
    aio_context_t actx;
    struct iocb *cbs;   /* one per slot, aio_data = slot */
    struct iocb **pend; /* prepared, not yet submitted */
    struct slot *sl;
    unsigned npend, inflight;
};

/* Submit what is pending.  Requests the kernel did not take (after a
 * failure, recorded in r->err) no longer count as in flight. */
static void s_aio_flush(struct aio_queue *q, struct rand_run *r)
{
    unsigned done = 0;
    while (done < q->npend) {
        long k = syscall(SYS_io_submit, q->actx, (long)(q->npend - done), q->pend + done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (!r->err)
                r->err = k < 0 ? -errno : -EIO;
            break;
        }
        done += (unsigned)k;
    }
    q->inflight -= q->npend - done;
    q->npend = 0;
}

/* Prepare the next request in slot i; submit every batch requests. */
static void s_aio_queue(struct aio_queue *q, struct rand_run *r, unsigned i, int64_t now)
{
    struct slot *sl = &q->sl[i];
    sl->off = s_next(r, &sl->write);
    sl->t_issue = now;
    q->cbs[i].aio_lio_opcode = sl->write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
    q->cbs[i].aio_offset = (int64_t)sl->off;
    q->pend[q->npend++] = &q->cbs[i];
    q->inflight++;
    if (r->batch && q->npend == r->batch)
        s_aio_flush(q, r);
}

/* Keep depth requests in flight as fio's libaio engine does: submit batch
 * at a time, wait for at least one completion, take up to reap of them,
 * refill the freed slots.  With fio's defaults (1 and 1) that is two
 * system calls per request, as fio makes.  0, or -errno when AIO cannot be
 * set up. */
static int s_libaio(struct rand_run *r)
{
    struct aio_queue q = {0};
    if (syscall(SYS_io_setup, r->depth, &q.actx) < 0)
        return -errno;
    q.cbs = calloc(r->depth, sizeof *q.cbs);
    q.pend = calloc(r->depth, sizeof *q.pend);
    q.sl = calloc(r->depth, sizeof *q.sl);
    struct io_event *ev = calloc(r->depth, sizeof *ev);
    int rc = 0;
    if (!q.cbs || !q.pend || !q.sl || !ev) {
        rc = -ENOMEM;
        goto out;
    }
    for (unsigned i = 0; i < r->depth; i++) {
        q.cbs[i].aio_data = i;
        q.cbs[i].aio_fildes = (uint32_t)r->fd;
        q.cbs[i].aio_buf = (uint64_t)(uintptr_t)(r->bufs + (size_t)i * r->bs);
        q.cbs[i].aio_nbytes = r->bs;
    }
    int64_t now = s_start(r);
    for (unsigned i = 0; i < r->depth && s_may_issue(r, now); i++)
        s_aio_queue(&q, r, i, now);
    s_aio_flush(&q, r);
    while (q.inflight > 0) {
        long k = syscall(SYS_io_getevents, q.actx, 1L, (long)r->reap, ev, NULL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            if (!r->err)
                r->err = -errno;
            break; /* io_destroy() below cancels or waits for what is out */
        }
        now = clock_mono_ns();
        for (long j = 0; j < k; j++) {
            unsigned i = (unsigned)ev[j].data;
            q.inflight--;
            s_done(r, q.sl[i].write, q.sl[i].off, (long)ev[j].res, now - q.sl[i].t_issue);
            if (s_may_issue(r, now))
                s_aio_queue(&q, r, i, now);
        }
        s_aio_flush(&q, r);
    }
out:
    syscall(SYS_io_destroy, q.actx);
    free(q.cbs);
    free(q.pend);
    free(q.sl);
    free(ev);
    return rc;
}

/* ---- io_uring ---- */

#ifdef LOCKSTEP_WITH_URING
/* fd: the file, or -1 for registered file 0. */
static void s_uring_queue(struct io_uring *ring, int fd, struct rand_run *r, struct slot *sl,
                          unsigned i, int64_t now)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    if (!sqe) { /* not while at most depth are out of a ring of depth entries */
        io_uring_submit(ring);
        sqe = io_uring_get_sqe(ring);
    }
    sl[i].off = s_next(r, &sl[i].write);
    sl[i].t_issue = now;
    char *buf = r->bufs + (size_t)i * r->bs;
    if (sl[i].write)
        io_uring_prep_write(sqe, fd < 0 ? 0 : fd, buf, (unsigned)r->bs, sl[i].off);
    else
        io_uring_prep_read(sqe, fd < 0 ? 0 : fd, buf, (unsigned)r->bs, sl[i].off);
    if (fd < 0)
        sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(sqe, i);
}

/* Submit what is queued once there are batch requests (batch 0: only when
 * forced, before waiting).  false after a failure (in r->err): what the
 * kernel did not take no longer counts as in flight, and nothing more may
 * be submitted. */
static bool s_uring_submit(struct io_uring *ring, struct rand_run *r, unsigned *inflight,
                           bool force)
{
    unsigned ready = io_uring_sq_ready(ring);
    if (!ready || (!force && (!r->batch || ready < r->batch)))
        return true;
    int e = io_uring_submit(ring);
    if (e >= 0 || e == -EINTR || e == -EAGAIN || e == -EBUSY)
        return true;
    if (!r->err)
        r->err = e;
    *inflight -= io_uring_sq_ready(ring);
    return false;
}

/* The same loop as s_libaio, with fio's io_uring engine's economy: the
 * completion ring is read without a system call while it has entries, so
 * fio's defaults make one system call per request.  0, or -errno when
 * io_uring cannot be set up (old kernel, or refused: Docker's default
 * seccomp profile does). */
static int s_uring(struct rand_run *r)
{
    struct io_uring ring;
    int e = io_uring_queue_init(r->depth, &ring, 0);
    if (e < 0)
        return e;
    /* A registered file saves a file lookup per request; not essential. */
    int fd = r->fd;
    if (io_uring_register_files(&ring, &fd, 1) == 0)
        fd = -1;
    struct slot *sl = calloc(r->depth, sizeof *sl);
    if (!sl) {
        io_uring_queue_exit(&ring);
        return -ENOMEM;
    }
    unsigned inflight = 0;
    bool live = true; /* submitting still works */
    int64_t now = s_start(r);
    for (unsigned i = 0; i < r->depth && s_may_issue(r, now); i++) {
        s_uring_queue(&ring, fd, r, sl, i, now);
        inflight++;
        if (live)
            live = s_uring_submit(&ring, r, &inflight, false);
    }
    for (;;) {
        if (live)
            live = s_uring_submit(&ring, r, &inflight, true);
        if (!inflight)
            break;
        struct io_uring_cqe *cqe;
        e = io_uring_wait_cqe(&ring, &cqe);
        if (e == -EINTR || e == -EAGAIN || e == -EBUSY)
            continue;
        if (e < 0) {
            if (!r->err)
                r->err = e;
            /* The ring's teardown finishes what is out in the background,
             * into these buffers: keep them. */
            r->keep_bufs = true;
            break;
        }
        now = clock_mono_ns();
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe)
        {
            unsigned i = (unsigned)io_uring_cqe_get_data64(cqe);
            inflight--;
            s_done(r, sl[i].write, sl[i].off, cqe->res, now - sl[i].t_issue);
            if (s_may_issue(r, now)) {
                s_uring_queue(&ring, fd, r, sl, i, now);
                inflight++;
                if (live)
                    live = s_uring_submit(&ring, r, &inflight, false);
            }
            if (++seen == r->reap)
                break;
        }
        io_uring_cq_advance(&ring, seen);
    }
    io_uring_queue_exit(&ring);
    free(sl);
    return 0;
}
#endif

/* Run the engine asked for, or in auto the first that can be set up.
 * Returns the engine used, or -1 with ctx->err; note says why auto went
 * down the list. */
static int s_engine(struct rand_run *r, char *note, size_t notelen)
{
    int want = r->o->engine;
    char why[128] = "";
    if (want == ENGINE_AUTO || want == ENGINE_URING) {
#ifdef LOCKSTEP_WITH_URING
        int e = s_uring(r);
        if (e == 0)
            return ENGINE_URING;
        snprintf(why, sizeof why, "io_uring unavailable (%s)", strerror(-e));
#else
        snprintf(why, sizeof why, "built without liburing");
#endif
        if (want == ENGINE_URING) {
            disk_err(r->ctx, "disk_rand: engine io_uring: %s; engine auto falls back to libaio "
                             "or psync",
                     why);
            return -1;
        }
    }
    if (want == ENGINE_AUTO || want == ENGINE_LIBAIO) {
        int e = s_libaio(r);
        if (e == 0) {
            if (why[0])
                snprintf(note, notelen, "%s: libaio instead", why);
            return ENGINE_LIBAIO;
        }
        if (want == ENGINE_LIBAIO) {
            disk_err(r->ctx, "disk_rand: engine libaio: io_setup: %s", strerror(-e));
            return -1;
        }
        snprintf(note, notelen, "%s, libaio unavailable (io_setup: %s): psync, one request at "
                                "a time, so iodepth is 1",
                 why, strerror(-e));
    }
    s_psync(r);
    return ENGINE_PSYNC;
}

/* ---- the plug-in ---- */

static int s_validate(const void *opts, char *err, size_t errlen)
{
    return disk_validate(&((const struct rand_opts *)opts)->c, err, errlen);
}

static int s_prepare(struct bench_ctx *ctx)
{
    return disk_prepare(ctx, "disk_rand");
}

static void s_report(struct bench_ctx *ctx, const struct rand_run *r, double secs)
{
    uint64_t ios = r->reads + r->writes;
    const struct lat_hist *h = r->lat;
    bench_result_metric(ctx->res, "iops", "IO/s", secs > 0 ? (double)ios / secs : 0);
    bench_result_metric(ctx->res, "MiB_per_sec", "MiB/s",
                        secs > 0 ? (double)ios * (double)r->bs / (1 << 20) / secs : 0);
    bench_result_metric(ctx->res, "lat_mean_us", "us",
                        h->count ? (double)h->sum_ns / (double)h->count / 1e3 : 0);
    bench_result_metric(ctx->res, "lat_p50_us", "us", s_lat_pct(h, 0.50) / 1e3);
    bench_result_metric(ctx->res, "lat_p99_us", "us", s_lat_pct(h, 0.99) / 1e3);
    bench_result_metric(ctx->res, "lat_p999_us", "us", s_lat_pct(h, 0.999) / 1e3);
    bench_result_metric(ctx->res, "lat_max_us", "us", (double)h->max_ns / 1e3);
    bench_result_metric(ctx->res, "ios", "count", (double)ios);
    if (r->o->c.operation == DISK_OP_MIXED) {
        bench_result_metric(ctx->res, "read_ios", "count", (double)r->reads);
        bench_result_metric(ctx->res, "write_ios", "count", (double)r->writes);
    }
    bench_result_metric(ctx->res, "time_s", "s", secs);
    bench_result_detail(ctx->res, "latency",
                        "issue to completion, as fio's lat; log-linear buckets, within 0.8%%");
    bench_result_detail(ctx->res, "offsets", "uniform over %llu blocks, xoshiro256**",
                        (unsigned long long)r->blocks);
    disk_file_details(ctx);
}

static int s_run(struct bench_ctx *ctx)
{
    const struct rand_opts *o = ctx->opts;
    const struct disk_state *st = ctx->priv;
    struct rand_run r = {.o = o, .ctx = ctx, .fd = st->fd};
    r.bs = (size_t)o->c.block_size;
    r.blocks = o->c.file_size / r.bs;
    r.limit = r.blocks;
    r.depth = (unsigned)o->iodepth;
    r.batch = (unsigned)o->batch_submit;
    r.reap = o->batch_complete && o->batch_complete < o->iodepth ? (unsigned)o->batch_complete
                                                                   : r.depth;
    /* 62 bits, so the seed reads back through the option's range */
    uint64_t seed = o->seed ? (uint64_t)o->seed
                            : ((uint64_t)clock_wall_ns() ^ ((uint64_t)getpid() << 32)) &
                                  ((1ULL << 62) - 1);
    if (!seed)
        seed = 1;
    r.lat = calloc(1, sizeof *r.lat);
    if (!r.lat || posix_memalign((void **)&r.bufs, DISK_ALIGN, r.depth * r.bs) != 0) {
        free(r.lat);
        disk_err(ctx, "disk_rand: out of memory for %u buffers of %zu bytes", r.depth, r.bs);
        return -1;
    }
    disk_rng_seed(&r.rng, ~seed);
    disk_fill(&r.rng, r.bufs, r.depth * r.bs); /* what writes write */
    disk_rng_seed(&r.rng, seed);               /* the requests depend on the seed alone */

    char note[256] = "";
    int engine = s_engine(&r, note, sizeof note);
    double secs = (double)(clock_mono_ns() - r.t0) / NS_PER_SEC;
    int rc = -1;
    if (engine < 0) {
        /* ctx->err says why */
    } else if (r.err && r.err_io) {
        disk_err(ctx, "disk_rand: %s %s at offset %llu: %s", r.err_write ? "writing" : "reading",
                 st->path, (unsigned long long)r.err_off,
                 r.err == -ENODATA ? "short transfer" : strerror(-r.err));
    } else if (r.err) {
        disk_err(ctx, "disk_rand: %s: %s", s_engine_names[engine], strerror(-r.err));
    } else {
        s_report(ctx, &r, secs);
        bench_result_detail(ctx->res, "engine", "%s", s_engine_names[engine]);
        bench_result_detail(ctx->res, "iodepth", "%u", engine == ENGINE_PSYNC ? 1 : r.depth);
        if (note[0])
            bench_result_detail(ctx->res, "engine_note", "%s", note);
        bench_result_detail(ctx->res, "seed", "%llu", (unsigned long long)seed);
        rc = 0;
    }
    if (!r.keep_bufs)
        free(r.bufs);
    free(r.lat);
    return rc;
}

const struct bench_ops bench_disk_rand = {
    .name = "disk_rand",
    .version = BENCH_API_VERSION,
    .flags = BENCH_F_NEEDS_DIR,
    .help = "O_DIRECT random reads/writes with a queue depth (io_uring or libaio): IOPS and "
            "latency percentiles, as fio --rw=randread --bs=4k --iodepth=64 --direct=1",
    .metric = "iops",
    .unit = "IO/s",
    .options = s_options,
    .opts_size = sizeof(struct rand_opts),
    .validate = s_validate,
    .expected_ns = disk_expected_ns,
    .prepare = BENCH_IMPL(s_prepare),
    .run = BENCH_IMPL(s_run),
    .cleanup = BENCH_IMPL(disk_cleanup),
};
