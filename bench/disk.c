/* disk.c — what the two disk plug-ins (disk_seq.c, disk_rand.c) share: the
 * test file (created and laid out with real data by prepare, not timed;
 * removed by cleanup, also after a failure), whole-buffer reads and writes,
 * the checks of the options both have and the random numbers that fill
 * buffers.  Not a benchmark itself: no line of its own in list.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_DIRECT, fallocate, mkostemp */
#endif
#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "clock.h"

#define DISK_LAYOUT_CHUNK (1 << 20) /* prepare() writes the file 1 MiB at a time */

/* ---- shared: random numbers ---- */

static uint64_t s_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void disk_rng_seed(struct disk_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = s_splitmix(&seed);
}

void disk_fill(struct disk_rng *r, void *buf, size_t len)
{
    uint64_t *p = buf;
    for (size_t i = 0; i < len / 8; i++)
        p[i] = disk_rng_next(r);
}

/* ---- shared: the test file ---- */

/* Through vsnprintf: paths can be long, and a message cut short at
 * sizeof ctx->err beats a truncation warning on every one of them. */
void disk_err(struct bench_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
    va_end(ap);
}

static const char *s_dir(const struct bench_ctx *ctx, const struct disk_common *c)
{
    return c->dir && c->dir[0] ? c->dir : ctx->workdir;
}

void disk_cleanup(struct bench_ctx *ctx)
{
    struct disk_state *st = ctx->priv;
    if (!st)
        return;
    if (st->fd >= 0)
        close(st->fd);
    if (st->path[0])
        unlink(st->path);
    free(st);
    ctx->priv = NULL;
}

int disk_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int disk_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -ENODATA;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* Where O_DIRECT means nothing: tmpfs accepts it since Linux 6.6, but there
 * is no disk under it and "direct" reads would time memory copies. */
static bool s_memory_fs(int fd)
{
    struct statfs sf;
    if (fstatfs(fd, &sf) != 0)
        return false;
    return sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC;
}

/* O_DIRECT is out: fail with the reason, or note the fallback. 0 or -1. */
static int s_no_direct(struct bench_ctx *ctx, const struct disk_common *c, const char *why)
{
    struct disk_state *st = ctx->priv;
    const char *dir = s_dir(ctx, c);
    if (!c->direct_fallback) {
        disk_err(ctx, "O_DIRECT not supported by the file system at %s (%s); set direct: false "
                      "(or direct_fallback: true)",
                 dir, why);
        return -1;
    }
    snprintf(st->fallback, sizeof st->fallback, "O_DIRECT refused at %s (%s)", dir, why);
    st->direct = false;
    return 0;
}

/* Lay the file out as fio does: real data (reading a sparse file measures
 * nothing), written through the cache so that writeback sends large
 * requests, then flushed and dropped from the cache (fio's invalidate=1),
 * so reads start cold with or without O_DIRECT.  Laid out with 1 MiB
 * O_DIRECT writes instead, the file read measurably slower than fio's on a
 * virtio disk.  0 or -1 with ctx->err. */
static int s_layout(struct bench_ctx *ctx, const struct disk_common *c, int bfd)
{
    struct disk_state *st = ctx->priv;
    uint64_t size = c->file_size;
    void *buf = NULL;
    if (posix_memalign(&buf, DISK_ALIGN, DISK_LAYOUT_CHUNK) != 0) {
        disk_err(ctx, "out of memory for a %d-byte buffer", DISK_LAYOUT_CHUNK);
        return -1;
    }
    struct disk_rng r;
    disk_rng_seed(&r, (uint64_t)clock_mono_ns());
    int rc = 0;
    for (uint64_t off = 0; off < size;) {
        if (ctx->stop && *ctx->stop) {
            disk_err(ctx, "stopped while writing %s", st->path);
            rc = -1;
            break;
        }
        uint64_t left = size - off;
        size_t len = left < DISK_LAYOUT_CHUNK ? (size_t)left : DISK_LAYOUT_CHUNK;
        disk_fill(&r, buf, len);
        int e = disk_pwrite_all(bfd, buf, len, off);
        if (e < 0) {
            disk_err(ctx, "writing %s (%llu of %llu bytes done): %s", st->path,
                     (unsigned long long)off, (unsigned long long)size, strerror(-e));
            rc = -1;
            break;
        }
        off += len;
    }
    if (rc == 0 && fdatasync(bfd) != 0) {
        disk_err(ctx, "fdatasync %s: %s", st->path, strerror(errno));
        rc = -1;
    }
    if (rc == 0)
        (void)posix_fadvise(bfd, 0, 0, POSIX_FADV_DONTNEED);
    /* Some file systems take O_DIRECT opens but not O_DIRECT transfers:
     * find out here rather than in the timed part. */
    if (rc == 0 && st->fd >= 0) {
        int e = disk_pread_all(st->fd, buf, DISK_ALIGN, 0);
        if (e == -EINVAL) {
            close(st->fd);
            st->fd = -1;
            rc = s_no_direct(ctx, c, "O_DIRECT read: Invalid argument");
        } else if (e < 0) {
            disk_err(ctx, "reading %s back: %s", st->path, strerror(-e));
            rc = -1;
        }
    }
    free(buf);
    return rc;
}

int disk_prepare(struct bench_ctx *ctx, const char *bench)
{
    const struct disk_common *c = ctx->opts;
    const char *dir = s_dir(ctx, c);
    if (!dir || !dir[0]) {
        disk_err(ctx, "%s: no directory for the test file (set dir)", bench);
        return -1;
    }
    int bfd = -1; /* buffered: layout, and the run when O_DIRECT is off */
    struct disk_state *st = calloc(1, sizeof *st);
    if (!st) {
        disk_err(ctx, "%s: out of memory", bench);
        return -1;
    }
    st->fd = -1;
    ctx->priv = st;
    int n = snprintf(st->path, sizeof st->path, "%s/lockstep-%s-XXXXXX", dir, bench);
    if (n < 0 || (size_t)n >= sizeof st->path) {
        st->path[0] = '\0';
        disk_err(ctx, "%s: directory name too long: %s", bench, dir);
        goto fail;
    }
    bfd = mkostemp(st->path, O_CLOEXEC);
    if (bfd < 0) {
        int e = errno;
        st->path[0] = '\0';
        disk_err(ctx, "%s: cannot create a test file in %s: %s", bench, dir, strerror(e));
        goto fail;
    }
    st->direct = c->direct;
    if (st->direct && s_memory_fs(bfd)) {
        if (s_no_direct(ctx, c, "tmpfs: no disk under it, O_DIRECT would time memory") < 0)
            goto fail;
    } else if (st->direct) {
        st->fd = open(st->path, O_RDWR | O_DIRECT | O_CLOEXEC);
        if (st->fd < 0 && errno != EINVAL) {
            disk_err(ctx, "%s: opening %s with O_DIRECT: %s", bench, st->path, strerror(errno));
            goto fail;
        }
        if (st->fd < 0 && s_no_direct(ctx, c, "tmpfs?") < 0)
            goto fail;
    }
    /* Ask for all the room first: a full disk is found at once, not after
     * writing most of the file, and the blocks come out contiguous. */
    if (fallocate(bfd, 0, 0, (off_t)c->file_size) != 0 && errno != EOPNOTSUPP &&
        errno != ENOSYS) {
        disk_err(ctx, "%s: making room for %llu bytes in %s: %s", bench,
                 (unsigned long long)c->file_size, st->path, strerror(errno));
        goto fail;
    }
    if (s_layout(ctx, c, bfd) < 0)
        goto fail;
    if (st->fd < 0) {
        st->fd = bfd;
    } else {
        close(bfd);
    }
    return 0;
fail:
    if (bfd >= 0)
        close(bfd);
    disk_cleanup(ctx);
    return -1;
}

void disk_file_details(struct bench_ctx *ctx)
{
    const struct disk_state *st = ctx->priv;
    bench_result_detail(ctx->res, "file", "%s", st->path);
    bench_result_detail(ctx->res, "io", "%s", st->direct ? "direct" : "buffered");
    if (st->fallback[0]) {
        bench_result_detail(ctx->res, "fallback", "buffered");
        bench_result_detail(ctx->res, "fallback_reason", "%s", st->fallback);
    }
}

int disk_validate(const struct disk_common *c, char *err, size_t errlen)
{
    if (c->file_size < c->block_size) {
        snprintf(err, errlen, "file_size (%llu bytes) is smaller than block_size (%llu bytes)",
                 (unsigned long long)c->file_size, (unsigned long long)c->block_size);
        return -1;
    }
    if (c->direct && c->block_size % 512 != 0) {
        snprintf(err, errlen,
                 "block_size: %llu is not a multiple of 512, which O_DIRECT needs "
                 "(use 4K, 1M, ... or set direct: false)",
                 (unsigned long long)c->block_size);
        return -1;
    }
    return 0;
}

int64_t disk_expected_ns(const void *opts)
{
    return ((const struct disk_common *)opts)->time_ns;
}
