/* disk_seq.c — reads or writes the disk plug-ins' test file (disk.c) from
 * start to end one request at a time, as
 * `fio --rw=read|write --bs=1M --direct=1 --ioengine=psync`.
 */
#include "disk.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clock.h"
#include "plugins.h"

struct seq_opts {
    struct disk_common c;
    bool fsync;
};

static const char *const s_seq_ops[] = {"read", "write", NULL};

static const struct opt_def s_seq_options[] = {
    DISK_FILE_ROWS(struct seq_opts),
    {.name = "block_size", .type = OPT_SIZE, .offset = offsetof(struct seq_opts, c.block_size),
     .def = "1M", .min = 512, .max = 64 << 20, .help = "bytes per request (fio --bs)"},
    {.name = "operation", .type = OPT_ENUM, .offset = offsetof(struct seq_opts, c.operation),
     .def = "read", .choices = s_seq_ops, .help = "read or write the file from start to end"},
    {.name = "time", .type = OPT_DURATION, .offset = offsetof(struct seq_opts, c.time_ns),
     .def = "0", .min = 0, .max = 24 * 3600,
     .help = "0 = one pass over the file; else go round the file until this time "
             "(fio --time_based --runtime)"},
    {.name = "fsync", .type = OPT_BOOL, .offset = offsetof(struct seq_opts, fsync),
     .def = "true",
     .help = "write only: fdatasync once after the last write, inside the timing, as fio "
             "--end_fsync=1 (plain fio --rw=write does not: set false to compare with it)"},
    {.name = NULL},
};

static int s_seq_validate(const void *opts, char *err, size_t errlen)
{
    return disk_validate(&((const struct seq_opts *)opts)->c, err, errlen);
}

static int s_seq_prepare(struct bench_ctx *ctx)
{
    return disk_prepare(ctx, "disk_seq");
}

static int s_seq_run(struct bench_ctx *ctx)
{
    const struct seq_opts *o = ctx->opts;
    struct disk_state *st = ctx->priv;
    size_t bs = (size_t)o->c.block_size;
    uint64_t blocks = o->c.file_size / bs; /* a tail shorter than a block is not read */
    bool writing = o->c.operation == DISK_OP_WRITE;
    /* A fresh mapping each run, left untouched for reads, as fio's buffer
     * is: in a VM each physically separate page of a request can cost a
     * segment of its own, so throughput follows where the buffer's pages
     * land (fio's own runs vary with it), and a buffer reused from run to
     * run would keep one run's luck for all of them. */
    void *buf = mmap(NULL, bs, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        disk_err(ctx, "disk_seq: no memory for a %zu-byte buffer: %s", bs, strerror(errno));
        return -1;
    }
    if (writing) {
        struct disk_rng r;
        disk_rng_seed(&r, (uint64_t)clock_mono_ns());
        disk_fill(&r, buf, bs);
    }

    int64_t t0 = clock_mono_ns();
    int64_t deadline = o->c.time_ns > 0 ? t0 + o->c.time_ns : 0;
    uint64_t ios = 0, b = 0;
    int e = 0;
    for (;;) {
        uint64_t off = b * bs;
        e = writing ? disk_pwrite_all(st->fd, buf, bs, off) : disk_pread_all(st->fd, buf, bs, off);
        if (e < 0)
            break;
        ios++;
        if (++b == blocks) {
            if (!deadline)
                break;
            b = 0;
        }
        if (ctx->stop && *ctx->stop)
            break;
        if (deadline && clock_mono_ns() >= deadline)
            break;
    }
    if (e < 0) {
        disk_err(ctx, "disk_seq: %s %s at offset %llu: %s", writing ? "writing" : "reading",
                 st->path, (unsigned long long)(b * bs),
                 e == -ENODATA ? "the file ended early" : strerror(-e));
    } else if (writing && o->fsync && fdatasync(st->fd) != 0) {
        e = -errno;
        disk_err(ctx, "disk_seq: fdatasync %s: %s", st->path, strerror(-e));
    }
    double secs = (double)(clock_mono_ns() - t0) / NS_PER_SEC;
    munmap(buf, bs);
    if (e < 0)
        return -1;

    double mib = (double)ios * (double)bs / (1 << 20);
    bench_result_metric(ctx->res, "MiB_per_sec", "MiB/s", secs > 0 ? mib / secs : 0);
    bench_result_metric(ctx->res, "MiB", "MiB", mib);
    bench_result_metric(ctx->res, "ios", "count", (double)ios);
    bench_result_metric(ctx->res, "time_s", "s", secs);
    bench_result_detail(ctx->res, "passes", "%.3f", (double)ios / (double)blocks);
    bench_result_detail(ctx->res, "engine", "psync");
    disk_file_details(ctx);
    return 0;
}

const struct bench_ops bench_disk_seq = {
    .name = "disk_seq",
    .version = BENCH_API_VERSION,
    .flags = BENCH_F_NEEDS_DIR,
    .help = "O_DIRECT sequential read or write of a file, as fio --rw=read|write --direct=1",
    .metric = "MiB_per_sec",
    .unit = "MiB/s",
    .options = s_seq_options,
    .opts_size = sizeof(struct seq_opts),
    .validate = s_seq_validate,
    .expected_ns = disk_expected_ns,
    .prepare = BENCH_IMPL(s_seq_prepare),
    .run = BENCH_IMPL(s_seq_run),
    .cleanup = BENCH_IMPL(disk_cleanup),
};
