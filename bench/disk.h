/* disk.h — what the two disk plug-ins share, inside bench/ only:
 * the options both have, the test file's life (disk.c: created and laid out
 * by prepare, removed by cleanup) and the random numbers that fill buffers
 * and pick offsets (disk.c).  The plug-ins are disk_seq.c and disk_rand.c.
 */
#ifndef LOCKSTEP_BENCH_DISK_H
#define LOCKSTEP_BENCH_DISK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench.h"

#define DISK_ALIGN 4096 /* buffer alignment that O_DIRECT accepts everywhere */

enum { DISK_OP_READ, DISK_OP_WRITE, DISK_OP_MIXED };

/* First member of each disk plug-in's options struct, so that the file
 * handling serves both. */
struct disk_common {
    uint64_t file_size;
    uint64_t block_size;
    int operation;
    bool direct;
    bool direct_fallback;
    char *dir; /* NULL or "" = ctx->workdir */
    int64_t time_ns;
};

/* Option rows both tables have, for an options struct T whose first member
 * c is a struct disk_common. */
#define DISK_FILE_ROWS(T)                                                                       \
    {.name = "file_size", .type = OPT_SIZE, .offset = offsetof(T, c.file_size), .def = "1G",    \
     .min = 4096, .max = 1099511627776.0,                                                       \
     .help = "size of the test file, laid out with real data before the run (not timed)"},      \
    {.name = "direct", .type = OPT_BOOL, .offset = offsetof(T, c.direct), .def = "true",        \
     .help = "O_DIRECT: bypass the page cache (fio --direct=1); with false the file is "       \
             "dropped from the cache before the run, like fio's invalidate=1"},                 \
    {.name = "direct_fallback", .type = OPT_BOOL, .offset = offsetof(T, c.direct_fallback),     \
     .def = "false",                                                                            \
     .help = "where O_DIRECT is refused or meaningless (tmpfs, ramfs, some shared folders) "   \
             "use buffered I/O and record fallback=buffered instead of failing"},               \
    {.name = "dir", .type = OPT_STR, .offset = offsetof(T, c.dir), .def = NULL,                 \
     .help = "directory for the test file; empty = the worker's scratch directory"}

/* The test file, in ctx->priv from prepare to cleanup. */
struct disk_state {
    char path[PATH_MAX]; /* "" once removed */
    int fd;              /* what run() uses: O_DIRECT unless st->direct is false */
    bool direct;         /* O_DIRECT in effect */
    char fallback[160];  /* why buffered although direct was asked; "" = it was not */
};

/* Checks both plug-ins need after parsing. 0 or -1 with err. */
int disk_validate(const struct disk_common *c, char *err, size_t errlen);
/* time, or 0 (unknown) when the run is counted in requests. */
int64_t disk_expected_ns(const void *opts);
/* Create the test file in dir (or ctx->workdir), lay it out with real data,
 * flush it and drop it from the cache; ctx->opts starts with a disk_common.
 * On failure ctx->err names the path and nothing is left behind. 0 or -1. */
int disk_prepare(struct bench_ctx *ctx, const char *bench);
/* Close and remove the test file; safe after a failed prepare, and twice. */
void disk_cleanup(struct bench_ctx *ctx);
/* Write all of buf at off; 0 or -errno (-EIO for a write that makes no progress). */
int disk_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
/* Read all of buf at off; 0, -errno, or -ENODATA when the file ends first. */
int disk_pread_all(int fd, void *buf, size_t len, uint64_t off);
/* Details file, io (direct/buffered) and, after a fallback, why. */
void disk_file_details(struct bench_ctx *ctx);
void disk_err(struct bench_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. */
struct disk_rng {
    uint64_t s[4];
};

void disk_rng_seed(struct disk_rng *r, uint64_t seed);
/* Fill buf (len a multiple of 8) with incompressible data: some devices
 * compress or deduplicate. */
void disk_fill(struct disk_rng *r, void *buf, size_t len);

static inline uint64_t disk_rng_next(struct disk_rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t out = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return out;
}

/* Uniform in [0, n), by multiplication (Lemire): no division, bias < n / 2^64. */
static inline uint64_t disk_rng_below(struct disk_rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)disk_rng_next(r) * n) >> 64);
}

#endif
