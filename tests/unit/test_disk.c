/* test_disk.c — the disk_seq and disk_rand plug-ins: their option tables,
 * small real runs on a disk-backed directory, and the ways a run must fail
 * cleanly (O_DIRECT on tmpfs or ramfs, a full disk, a directory that cannot
 * hold files) without leaving a test file behind.  Timing bounds are loose.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <dirent.h>
#include <errno.h>
#include <linux/magic.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench.h"
#include "disk.h" /* struct disk_state: the test file's path */
#include "plugins.h"
#include "bench_util.h"

/* ---- helpers ---- */

/* What a run came to: which hook failed (0 = none) and why. */
struct outcome {
    int failed_in; /* 0, 'p' (prepare) or 'r' (run) */
    char err[256];
    double secs;   /* prepare + run + cleanup */
};

/* The worker's sequence: prepare, run if prepared, cleanup either way.
 * With stop, *stop is raised between prepare and run. */
static struct outcome s_go(const struct bench_ops *ops, const char *const *kv, size_t n,
                           const char *workdir, volatile sig_atomic_t *stop,
                           struct bench_result *res)
{
    struct outcome out = {0};
    void *opts = NULL;
    char perr[256] = "";
    if (ut_parse(ops, kv, n, &opts, perr, sizeof perr) != 0)
        fail_msg("%s: %s", ops->name, perr);
    memset(res, 0, sizeof *res);
    struct bench_ctx ctx = {.opts = opts, .workdir = workdir, .stop = stop, .res = res};
    double t0 = ut_now();
    if (ops->prepare(&ctx) != 0) {
        out.failed_in = 'p';
    } else {
        if (stop)
            *stop = 1;
        if (ops->run(&ctx) != 0)
            out.failed_in = 'r';
    }
    ops->cleanup(&ctx);
    out.secs = ut_now() - t0;
    assert_null(ctx.priv);
    snprintf(out.err, sizeof out.err, "%s", ctx.err);
    /* as the worker does: every option recorded, within the detail limit */
    bench_result_params(res, ops, opts);
    bench_opts_destroy(ops, &opts);
    return out;
}

static int s_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static bool s_is_memory_fs(const char *dir)
{
    struct statfs sf;
    return statfs(dir, &sf) == 0 && (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC);
}

/* A fresh directory on a file system with a disk under it (O_DIRECT means
 * something there): /var/tmp, else the current directory.  NULL = none. */
static char *s_disk_dir(void)
{
    const char *bases[] = {"/var/tmp", "."};
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        if (s_is_memory_fs(bases[i]))
            continue;
        char tmpl[4096];
        snprintf(tmpl, sizeof tmpl, "%s/lockstep-test-disk-XXXXXX", bases[i]);
        if (mkdtemp(tmpl))
            return strdup(tmpl);
    }
    return NULL;
}

static void s_rmdir(char **dir_p)
{
    if (*dir_p) {
        assert_int_equal(s_entries(*dir_p), 0); /* the plug-in left nothing */
        rmdir(*dir_p);
        free(*dir_p);
        *dir_p = NULL;
    }
}

static char *s_need_disk_dir(void)
{
    char *dir = s_disk_dir();
    if (!dir) {
        print_message("skipped: no disk-backed directory (/var/tmp and . are tmpfs)\n");
        skip();
    }
    return dir;
}

/* A new directory with a file system of type fstype mounted on it (root
 * only); skips the test when that cannot be done here. */
static char *s_mount_dir(const char *fstype, const char *data)
{
    char tmpl[] = "/var/tmp/lockstep-test-mnt-XXXXXX";
    if (!mkdtemp(tmpl)) {
        print_message("skipped: mkdtemp: %s\n", strerror(errno));
        skip();
    }
    if (mount(fstype, tmpl, fstype, 0, data) != 0) {
        print_message("skipped: cannot mount %s on %s: %s\n", fstype, tmpl, strerror(errno));
        rmdir(tmpl);
        skip();
    }
    return strdup(tmpl);
}

static void s_unmount(char **dir_p)
{
    assert_int_equal(s_entries(*dir_p), 0);
    umount(*dir_p);
    rmdir(*dir_p);
    free(*dir_p);
    *dir_p = NULL;
}

/* ---- options ---- */

static void test_defaults(void **state)
{
    (void)state;
    struct bench_result res = {0};
    void *opts = bench_opts_new(&bench_disk_seq);
    bench_result_params(&res, &bench_disk_seq, opts);
    assert_string_equal(ut_detail(&res, "opt.file_size"), "1073741824");
    assert_string_equal(ut_detail(&res, "opt.block_size"), "1048576");
    assert_string_equal(ut_detail(&res, "opt.operation"), "read");
    assert_string_equal(ut_detail(&res, "opt.direct"), "true");
    assert_string_equal(ut_detail(&res, "opt.direct_fallback"), "false");
    assert_string_equal(ut_detail(&res, "opt.fsync"), "true");
    assert_string_equal(ut_detail(&res, "opt.dir"), "");
    assert_int_equal(bench_disk_seq.expected_ns(opts), 0); /* one pass: unknown */
    bench_opts_destroy(&bench_disk_seq, &opts);

    memset(&res, 0, sizeof res);
    opts = bench_opts_new(&bench_disk_rand);
    bench_result_params(&res, &bench_disk_rand, opts);
    assert_string_equal(ut_detail(&res, "opt.file_size"), "1073741824");
    assert_string_equal(ut_detail(&res, "opt.block_size"), "4096");
    assert_string_equal(ut_detail(&res, "opt.operation"), "read");
    assert_string_equal(ut_detail(&res, "opt.iodepth"), "64");
    assert_string_equal(ut_detail(&res, "opt.rwmixread"), "50");
    assert_string_equal(ut_detail(&res, "opt.engine"), "auto");
    assert_int_equal(bench_disk_rand.expected_ns(opts), 10000000000LL);
    bench_opts_destroy(&bench_disk_rand, &opts);

    assert_string_equal(bench_disk_seq.metric, "MiB_per_sec");
    assert_string_equal(bench_disk_rand.metric, "iops");
    assert_ptr_equal(bench_find("disk_seq"), &bench_disk_seq);
    assert_ptr_equal(bench_find("disk_rand"), &bench_disk_rand);
}

static void s_bad(const struct bench_ops *ops, const char *const *kv, size_t n,
                  const char *want)
{
    void *opts = NULL;
    char err[256] = "";
    assert_int_equal(ut_parse(ops, kv, n, &opts, err, sizeof err), -1);
    assert_null(opts);
    if (!strstr(err, want))
        fail_msg("%s: expected '%s' in '%s'", ops->name, want, err);
}

static void s_good(const struct bench_ops *ops, const char *const *kv, size_t n)
{
    void *opts = NULL;
    char err[256] = "";
    if (ut_parse(ops, kv, n, &opts, err, sizeof err) != 0)
        fail_msg("%s: %s", ops->name, err);
    bench_opts_destroy(ops, &opts);
}

static void test_validation(void **state)
{
    (void)state;
    const struct bench_ops *seq = &bench_disk_seq, *rnd = &bench_disk_rand;
    s_bad(seq, (const char *[]){"block_size=4Q"}, 1,
          "block_size: '4Q' is not a size (a number with an optional K, M, G or T suffix)");
    s_bad(rnd, (const char *[]){"block_size=4Q"}, 1, "block_size: '4Q' is not a size");
    s_bad(rnd, (const char *[]){"iodepth=0"}, 1, "iodepth: 0 is out of range (allowed 1..1024)");
    s_bad(rnd, (const char *[]){"iodepth=1025"}, 1, "iodepth: 1025 is out of range");
    s_good(rnd, (const char *[]){"iodepth=1"}, 1);
    s_good(rnd, (const char *[]){"iodepth=1024"}, 1);
    s_bad(rnd, (const char *[]){"rwmixread=101"}, 1, "rwmixread: 101 is out of range");
    s_bad(seq, (const char *[]){"operation=mixed"}, 1,
          "operation: 'mixed' is not one of read, write");
    s_good(rnd, (const char *[]){"operation=mixed", "rwmixread=70"}, 2);
    s_bad(rnd, (const char *[]){"engine=spdk"}, 1, "is not one of auto, io_uring, libaio, psync");
    s_bad(rnd, (const char *[]){"batch_submit=1025"}, 1, "batch_submit: 1025 is out of range");
    s_good(rnd, (const char *[]){"batch_submit=0", "engine=libaio"}, 2);
    s_bad(seq, (const char *[]){"file_size=1M", "block_size=2M"}, 2,
          "file_size (1048576 bytes) is smaller than block_size (2097152 bytes)");
    s_bad(rnd, (const char *[]){"block_size=1000"}, 1, "not a multiple of 512");
    s_good(rnd, (const char *[]){"block_size=1000", "direct=false"}, 2);
    s_bad(seq, (const char *[]){"direct=maybe"}, 1, "direct: 'maybe' is not a boolean");
    s_bad(seq, (const char *[]){"time=-1"}, 1, "time:");
    s_bad(seq, (const char *[]){"bs=4K"}, 1, "unknown option 'bs' for benchmark disk_seq");

    void *opts = NULL;
    char err[256];
    assert_int_equal(ut_parse(seq, (const char *[]){"time=2s"}, 1, &opts, err, sizeof err), 0);
    assert_int_equal(seq->expected_ns(opts), 2000000000LL);
    bench_opts_destroy(seq, &opts);
}

/* ---- real runs ---- */

static void test_seq_write_read(void **state)
{
    (void)state;
    char *dir = s_need_disk_dir();
    char dirkv[160];
    snprintf(dirkv, sizeof dirkv, "dir=%s", dir);
    struct bench_result res;
    const char *ops[] = {"write", "read"};
    for (int i = 0; i < 2; i++) {
        char opkv[32];
        snprintf(opkv, sizeof opkv, "operation=%s", ops[i]);
        struct outcome o = s_go(&bench_disk_seq,
                                (const char *[]){"file_size=8M", "block_size=1M", opkv, dirkv},
                                4, "/nonexistent", NULL, &res);
        if (o.failed_in)
            fail_msg("disk_seq %s failed in %c: %s", ops[i], o.failed_in, o.err);
        assert_true(ut_metric(&res, "MiB_per_sec")->value > 0);
        assert_int_equal((int)ut_metric(&res, "ios")->value, 8); /* one pass of 8 x 1M */
        assert_true(ut_metric(&res, "MiB")->value == 8);
        assert_string_equal(ut_detail(&res, "io"), "direct");
        assert_null(ut_detail(&res, "fallback"));
        assert_non_null(strstr(ut_detail(&res, "file"), dir));
        assert_true(o.secs < 30);
        assert_int_equal(s_entries(dir), 0);
    }
    s_rmdir(&dir);
}

static void test_seq_timed_buffered(void **state)
{
    (void)state;
    char *dir = s_need_disk_dir();
    struct bench_result res;
    /* dir empty: the worker's scratch directory is used */
    struct outcome o = s_go(&bench_disk_seq,
                            (const char *[]){"file_size=4M", "block_size=64K", "time=200ms",
                                             "direct=false"},
                            4, dir, NULL, &res);
    if (o.failed_in)
        fail_msg("disk_seq failed in %c: %s", o.failed_in, o.err);
    double t = ut_metric(&res, "time_s")->value;
    assert_true(t >= 0.2 && t < 10);
    assert_true(ut_metric(&res, "ios")->value >= 64); /* at least one pass of 4M / 64K */
    assert_string_equal(ut_detail(&res, "io"), "buffered");
    assert_int_equal(s_entries(dir), 0);
    s_rmdir(&dir);
}

static void test_rand_read(void **state)
{
    (void)state;
    char *dir = s_need_disk_dir();
    struct bench_result res;
    struct outcome o = s_go(&bench_disk_rand,
                            (const char *[]){"file_size=8M", "time=0.3s", "iodepth=16"}, 3, dir,
                            NULL, &res);
    if (o.failed_in)
        fail_msg("disk_rand failed in %c: %s", o.failed_in, o.err);
    double iops = ut_metric(&res, "iops")->value;
    double p50 = ut_metric(&res, "lat_p50_us")->value, p99 = ut_metric(&res, "lat_p99_us")->value,
           p999 = ut_metric(&res, "lat_p999_us")->value, max = ut_metric(&res, "lat_max_us")->value;
    double t = ut_metric(&res, "time_s")->value, ios = ut_metric(&res, "ios")->value;
    assert_true(iops > 0);
    assert_true(ios > 0);
    assert_true(t >= 0.3 && t < 10);
    assert_true(p50 > 0 && p50 <= p99 && p99 <= p999 && p999 <= max);
    assert_true(ut_metric(&res, "lat_mean_us")->value <= max);
    const char *engine = ut_detail(&res, "engine");
    assert_non_null(engine);
    /* auto: the first of io_uring, libaio, psync that works here, and why not the others */
    if (strcmp(engine, "io_uring") == 0) {
        assert_string_equal(ut_detail(&res, "iodepth"), "16");
        assert_null(ut_detail(&res, "engine_note"));
    } else {
        assert_true(strcmp(engine, "libaio") == 0 || strcmp(engine, "psync") == 0);
        assert_string_equal(ut_detail(&res, "iodepth"), strcmp(engine, "psync") ? "16" : "1");
        assert_non_null(ut_detail(&res, "engine_note"));
        print_message("note: io_uring not used here: %s\n", ut_detail(&res, "engine_note"));
    }
    assert_non_null(ut_detail(&res, "seed"));
    assert_string_equal(ut_detail(&res, "io"), "direct");
    s_rmdir(&dir);
}

/* Each engine by name, one request per submit and per wait (fio's way) and
 * all at once; io_uring may be refused here (seccomp), which is then its error. */
static void test_rand_engines(void **state)
{
    (void)state;
    char *dir = s_need_disk_dir();
    const char *engines[] = {"io_uring", "libaio", "psync"};
    for (int e = 0; e < 3; e++) {
        for (int batch = 0; batch <= 1; batch++) {
            char ekv[32], bkv[32], ckv[32];
            snprintf(ekv, sizeof ekv, "engine=%s", engines[e]);
            snprintf(bkv, sizeof bkv, "batch_submit=%d", batch);
            snprintf(ckv, sizeof ckv, "batch_complete=%d", batch);
            struct bench_result res;
            struct outcome o = s_go(&bench_disk_rand,
                                    (const char *[]){"file_size=8M", "time=0.2s", "iodepth=16",
                                                     ekv, bkv, ckv},
                                    6, dir, NULL, &res);
            if (o.failed_in == 'r' && e == 0 && strstr(o.err, "engine io_uring:")) {
                print_message("note: %s\n", o.err);
                continue;
            }
            if (o.failed_in)
                fail_msg("disk_rand %s %s %s failed in %c: %s", ekv, bkv, ckv, o.failed_in, o.err);
            assert_string_equal(ut_detail(&res, "engine"), engines[e]);
            assert_string_equal(ut_detail(&res, "iodepth"), e == 2 ? "1" : "16");
            assert_null(ut_detail(&res, "engine_note"));
            assert_true(ut_metric(&res, "iops")->value > 0);
            assert_true(ut_metric(&res, "lat_p50_us")->value <= ut_metric(&res, "lat_p999_us")->value);
        }
    }
    s_rmdir(&dir);
}

/* time 0: exactly file_size / block_size requests, split by rwmixread. */
static void test_rand_counted_mixed(void **state)
{
    (void)state;
    char *dir = s_need_disk_dir();
    char dirkv[160];
    snprintf(dirkv, sizeof dirkv, "dir=%s", dir);
    struct bench_result res;
    const char *engines[] = {"engine=psync", "engine=auto", "engine=libaio"};
    for (int i = 0; i < 3; i++) {
        struct outcome o = s_go(&bench_disk_rand,
                                (const char *[]){"file_size=8M", "time=0", "operation=mixed",
                                                 "rwmixread=70", "iodepth=8", engines[i], dirkv,
                                                 "seed=42"},
                                8, "/nonexistent", NULL, &res);
        if (o.failed_in)
            fail_msg("disk_rand %s failed in %c: %s", engines[i], o.failed_in, o.err);
        double ios = ut_metric(&res, "ios")->value, r = ut_metric(&res, "read_ios")->value,
               w = ut_metric(&res, "write_ios")->value;
        assert_true(ios == 2048); /* 8M / 4K */
        assert_true(r + w == ios);
        assert_true(r > 0.6 * ios && r < 0.8 * ios);
        assert_string_equal(ut_detail(&res, "seed"), "42");
        if (i == 0) {
            assert_string_equal(ut_detail(&res, "engine"), "psync");
            assert_string_equal(ut_detail(&res, "iodepth"), "1");
        }
    }
    /* all writes */
    struct outcome o = s_go(&bench_disk_rand,
                            (const char *[]){"file_size=4M", "time=0", "operation=write", dirkv},
                            4, "/nonexistent", NULL, &res);
    if (o.failed_in)
        fail_msg("disk_rand write failed in %c: %s", o.failed_in, o.err);
    assert_true(ut_metric(&res, "ios")->value == 1024);
    assert_true(ut_metric(&res, "iops")->value > 0);
    s_rmdir(&dir);
}

/* Asked to stop: run() ends at once, prepare() gives up with "stopped". */
static void test_stop(void **state)
{
    (void)state;
    char *dir = s_need_disk_dir();
    volatile sig_atomic_t stop = 0;
    struct bench_result res;
    struct outcome o = s_go(&bench_disk_rand, (const char *[]){"file_size=1M", "time=20s"}, 2,
                            dir, &stop, &res);
    if (o.failed_in)
        fail_msg("disk_rand failed in %c: %s", o.failed_in, o.err);
    assert_true(o.secs < 10);
    assert_true(ut_metric(&res, "ios")->value <= 1024);
    stop = 0;
    o = s_go(&bench_disk_seq, (const char *[]){"file_size=1M", "time=20s", "block_size=4K"}, 3,
             dir, &stop, &res);
    if (o.failed_in)
        fail_msg("disk_seq failed in %c: %s", o.failed_in, o.err);
    assert_true(o.secs < 10);
    assert_true(ut_metric(&res, "ios")->value <= 256);

    /* stop already up during prepare */
    void *opts = NULL;
    char err[256];
    assert_int_equal(ut_parse(&bench_disk_seq, (const char *[]){"file_size=1M"}, 1, &opts, err,
                             sizeof err),
                     0);
    struct bench_ctx ctx = {.opts = opts, .workdir = dir, .stop = &stop, .res = &res};
    assert_int_equal(bench_disk_seq.prepare(&ctx), -1);
    assert_non_null(strstr(ctx.err, "stopped"));
    bench_disk_seq.cleanup(&ctx);
    bench_opts_destroy(&bench_disk_seq, &opts);
    s_rmdir(&dir);
}

/* ---- failures ---- */

static void s_expect_prepare_error(const struct bench_ops *ops, const char *const *kv, size_t n,
                                   const char *dir, const char *want1, const char *want2)
{
    struct bench_result res;
    struct outcome o = s_go(ops, kv, n, dir, NULL, &res);
    assert_int_equal(o.failed_in, 'p');
    if (!strstr(o.err, want1) || (want2 && !strstr(o.err, want2)))
        fail_msg("%s: expected '%s' and '%s' in '%s'", ops->name, want1, want2 ? want2 : "",
                 o.err);
}

static void test_direct_on_tmpfs(void **state)
{
    (void)state;
    if (!s_is_memory_fs("/dev/shm")) {
        print_message("skipped: /dev/shm is not tmpfs here\n");
        skip();
    }
    char tmpl[] = "/dev/shm/lockstep-test-disk-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char want[256];
    snprintf(want, sizeof want, "O_DIRECT not supported by the file system at %s (tmpfs", tmpl);
    s_expect_prepare_error(&bench_disk_seq, (const char *[]){"file_size=1M"}, 1, tmpl, want,
                           "set direct: false");
    s_expect_prepare_error(&bench_disk_rand, (const char *[]){"file_size=1M"}, 1, tmpl, want,
                           NULL);
    assert_int_equal(s_entries(tmpl), 0);

    struct bench_result res;
    struct outcome o = s_go(&bench_disk_rand,
                            (const char *[]){"file_size=1M", "time=0", "direct_fallback=true"}, 3,
                            tmpl, NULL, &res);
    if (o.failed_in)
        fail_msg("disk_rand with fallback failed in %c: %s", o.failed_in, o.err);
    assert_string_equal(ut_detail(&res, "fallback"), "buffered");
    assert_string_equal(ut_detail(&res, "io"), "buffered");
    assert_non_null(strstr(ut_detail(&res, "fallback_reason"), "tmpfs"));
    assert_true(ut_metric(&res, "ios")->value == 256);
    o = s_go(&bench_disk_seq, (const char *[]){"file_size=1M", "direct_fallback=true",
                                               "operation=write"},
             3, tmpl, NULL, &res);
    if (o.failed_in)
        fail_msg("disk_seq with fallback failed in %c: %s", o.failed_in, o.err);
    assert_string_equal(ut_detail(&res, "fallback"), "buffered");
    assert_true(ut_metric(&res, "MiB_per_sec")->value > 0);
    assert_int_equal(s_entries(tmpl), 0);
    rmdir(tmpl);
}

/* ramfs refuses O_DIRECT opens outright (EINVAL): the other way to find out. */
static void test_direct_refused(void **state)
{
    (void)state;
    char *mnt = s_mount_dir("ramfs", NULL);
    char want[256];
    snprintf(want, sizeof want, "O_DIRECT not supported by the file system at %s", mnt);
    s_expect_prepare_error(&bench_disk_seq, (const char *[]){"file_size=1M"}, 1, mnt, want,
                           NULL);
    struct bench_result res;
    struct outcome o = s_go(&bench_disk_seq,
                            (const char *[]){"file_size=1M", "direct_fallback=yes"}, 2, mnt, NULL,
                            &res);
    if (o.failed_in)
        fail_msg("disk_seq with fallback failed in %c: %s", o.failed_in, o.err);
    assert_string_equal(ut_detail(&res, "fallback"), "buffered");
    s_unmount(&mnt);
}

static void test_disk_full(void **state)
{
    (void)state;
    char *mnt = s_mount_dir("tmpfs", "size=1M");
    /* buffered, so that the tmpfs check does not come first */
    s_expect_prepare_error(&bench_disk_seq, (const char *[]){"file_size=8M", "direct=false"}, 2,
                           mnt, "No space left on device", mnt);
    s_expect_prepare_error(&bench_disk_rand, (const char *[]){"file_size=8M", "direct=false"}, 2,
                           mnt, "No space left on device", mnt);
    assert_int_equal(s_entries(mnt), 0);
    s_unmount(&mnt);
}

static void test_unusable_dir(void **state)
{
    (void)state;
    /* a regular file where the directory should be */
    char tmpl[] = "/var/tmp/lockstep-test-notdir-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    close(fd);
    s_expect_prepare_error(&bench_disk_seq, (const char *[]){"file_size=1M"}, 1, tmpl,
                           "cannot create a test file in", "Not a directory");
    unlink(tmpl);
    /* sysfs takes no new files, not even from root (read-only in containers) */
    s_expect_prepare_error(&bench_disk_rand, (const char *[]){"file_size=1M", "dir=/sys"}, 2,
                           "/nonexistent", "cannot create a test file in /sys", NULL);
    s_expect_prepare_error(&bench_disk_rand, (const char *[]){"file_size=1M"}, 1,
                           "/nonexistent/dir", "cannot create a test file in /nonexistent/dir: "
                                               "No such file or directory", NULL);
}

/* The file shrinks between prepare and run: run() fails, naming the file. */
static void test_run_error(void **state)
{
    (void)state;
    char *dir = s_need_disk_dir();
    const struct bench_ops *all[] = {&bench_disk_seq, &bench_disk_rand};
    const char *want[] = {"the file ended early", "short transfer"};
    for (int i = 0; i < 2; i++) {
        void *opts = NULL;
        char err[256];
        assert_int_equal(ut_parse(all[i], (const char *[]){"file_size=1M", "time=0"}, 2, &opts,
                                 err, sizeof err),
                         0);
        struct bench_result res = {0};
        struct bench_ctx ctx = {.opts = opts, .workdir = dir, .res = &res};
        assert_int_equal(all[i]->prepare(&ctx), 0);
        const struct disk_state *st = ctx.priv;
        char path[sizeof st->path];
        snprintf(path, sizeof path, "%s", st->path);
        assert_int_equal(truncate(path, 0), 0);
        assert_int_equal(all[i]->run(&ctx), -1);
        if (!strstr(ctx.err, want[i]) || !strstr(ctx.err, path))
            fail_msg("%s: expected '%s' and the path in '%s'", all[i]->name, want[i], ctx.err);
        all[i]->cleanup(&ctx);
        assert_null(ctx.priv);
        bench_opts_destroy(all[i], &opts);
    }
    s_rmdir(&dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_seq_write_read),
        cmocka_unit_test(test_seq_timed_buffered),
        cmocka_unit_test(test_rand_read),
        cmocka_unit_test(test_rand_engines),
        cmocka_unit_test(test_rand_counted_mixed),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_direct_on_tmpfs),
        cmocka_unit_test(test_direct_refused),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_unusable_dir),
        cmocka_unit_test(test_run_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
