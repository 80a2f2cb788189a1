/* test_mem.c — the mem benchmark (sysbench's memory test): its options and
 * their cross-checks, that timed, size-bounded and counted runs stop where
 * they should and report MiB/s consistent with their own event count, that a
 * stop request ends a run early, and that a failed allocation says so.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench.h"
#include "plugins.h"
#include "bench_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define S_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_ASAN 1
#endif
#endif

/* Parse, prepare, run and clean up; returns run()'s result (or prepare's). */
static int s_run(const char *const *kv, size_t n, volatile sig_atomic_t *stop,
                 struct bench_result *res, char *err, size_t errlen)
{
    void *opts = NULL;
    char perr[256] = "";
    if (ut_parse(&bench_mem, kv, n, &opts, perr, sizeof perr) != 0)
        fail_msg("mem: %s", perr);
    memset(res, 0, sizeof *res);
    struct bench_ctx ctx = {.opts = opts, .workdir = "/tmp", .stop = stop, .res = res};
    int rc = bench_mem.prepare(&ctx);
    if (rc == 0) {
        rc = bench_mem.run(&ctx);
        bench_mem.cleanup(&ctx);
    }
    assert_null(ctx.priv);
    snprintf(err, errlen, "%s", ctx.err);
    bench_opts_destroy(&bench_mem, &opts);
    return rc;
}

/* MiB/s is events * block / 2^20 / time, as sysbench computes it. */
static void s_assert_consistent(const struct bench_result *res, double block)
{
    double events = ut_metric(res, "events")->value, secs = ut_metric(res, "time_s")->value;
    assert_true(secs > 0);
    double want = events * block / (1024.0 * 1024.0) / secs;
    double got = ut_metric(res, "MiB_per_sec")->value;
    assert_true(got >= want * (1 - 1e-9) && got <= want * (1 + 1e-9));
    double eps = ut_metric(res, "events_per_sec")->value;
    assert_true(eps >= events / secs * (1 - 1e-9) && eps <= events / secs * (1 + 1e-9));
}

static void test_registered_and_defaults(void **state)
{
    (void)state;
    assert_ptr_equal(bench_find("mem"), &bench_mem);
    assert_int_equal(bench_mem.version, BENCH_API_VERSION);
    assert_string_equal(bench_mem.metric, "MiB_per_sec");
    assert_string_equal(bench_mem.unit, "MiB/s");

    void *opts = bench_opts_new(&bench_mem);
    assert_non_null(opts);
    struct bench_result res = {0};
    bench_result_params(&res, &bench_mem, opts);
    assert_int_equal(res.ndetails, 8);
    assert_string_equal(ut_detail_must(&res, "opt.block_size"), "4096");
    assert_string_equal(ut_detail_must(&res, "opt.total_size"), "107374182400"); /* 100G */
    assert_string_equal(ut_detail_must(&res, "opt.operation"), "write");
    assert_string_equal(ut_detail_must(&res, "opt.access"), "seq");
    assert_string_equal(ut_detail_must(&res, "opt.scope"), "global");
    assert_string_equal(ut_detail_must(&res, "opt.threads"), "1");
    assert_string_equal(ut_detail_must(&res, "opt.time"), "10");
    assert_string_equal(ut_detail_must(&res, "opt.events"), "0");
    assert_int_equal(bench_mem.expected_ns(opts), 10000000000LL);
    char err[256] = "";
    assert_int_equal(bench_mem.validate(opts, err, sizeof err), 0);
    bench_opts_destroy(&bench_mem, &opts);
    assert_null(opts);
}

static void test_options_accepted(void **state)
{
    (void)state;
    char err[256] = "";
    void *opts = NULL;
    const char *kv[] = {"block_size=1M", "total_size=100T", "operation=read",
                        "access=rnd",    "scope=local",     "threads=4",
                        "time=0",        "events=10"};
    assert_int_equal(ut_parse(&bench_mem, kv, 8, &opts, err, sizeof err), 0);
    struct bench_result res = {0};
    bench_result_params(&res, &bench_mem, opts);
    assert_string_equal(ut_detail_must(&res, "opt.block_size"), "1048576");
    assert_string_equal(ut_detail_must(&res, "opt.operation"), "read");
    assert_string_equal(ut_detail_must(&res, "opt.access"), "rnd");
    assert_string_equal(ut_detail_must(&res, "opt.scope"), "local");
    /* only events bound it: no deadline to expect */
    assert_int_equal(bench_mem.expected_ns(opts), 0);
    bench_opts_destroy(&bench_mem, &opts);

    /* the smallest block sysbench takes, and no total size when a time is set */
    const char *small[] = {"block_size=8", "total_size=0"};
    assert_int_equal(ut_parse(&bench_mem, small, 2, &opts, err, sizeof err), 0);
    bench_opts_destroy(&bench_mem, &opts);
}

static void test_options_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *kv[3];
        size_t n;
        const char *msg[2]; /* substrings the message must hold */
    } bad[] = {
        {{"block_size=4Q"}, 1, {"block_size", "'4Q' is not a size"}},
        {{"block_size=1028"}, 1, {"block_size", "not a multiple of 8"}},
        {{"block_size=24"}, 1, {"block_size", "not a power of two"}},
        {{"block_size=4"}, 1, {"block_size", "out of range"}},
        {{"block_size=2G"}, 1, {"block_size", "out of range"}},
        {{"operation=copy"}, 1, {"operation", "read, write, none"}},
        {{"access=random"}, 1, {"access", "seq, rnd"}},
        {{"scope=shared"}, 1, {"scope", "global, local"}},
        {{"threads=0"}, 1, {"threads", "out of range"}},
        {{"time=-1"}, 1, {"time", "not a duration"}},
        {{"time=0", "total_size=0"}, 2, {"never end", "time"}},
        {{"block_size=1M", "total_size=1M", "threads=2"}, 3, {"total_size", "one block"}},
        {{"size=4K"}, 1, {"unknown option 'size'", "block_size"}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        void *opts = NULL;
        assert_int_equal(ut_parse(&bench_mem, bad[i].kv, bad[i].n, &opts, err, sizeof err), -1);
        assert_null(opts);
        for (size_t j = 0; j < 2; j++)
            if (!strstr(err, bad[i].msg[j]))
                fail_msg("%s: message '%s' lacks '%s'", bad[i].kv[0], err, bad[i].msg[j]);
    }
}

static void test_write_timed(void **state)
{
    (void)state;
    struct bench_result res;
    char err[256];
    const char *kv[] = {"block_size=4K", "total_size=100T", "time=0.2s"};
    double t0 = ut_now();
    assert_int_equal(s_run(kv, 3, NULL, &res, err, sizeof err), 0);
    double wall = ut_now() - t0;
    assert_true(wall >= 0.2);
    assert_true(wall < 5); /* loose: the CI machine is loaded */
    assert_true(ut_metric(&res, "time_s")->value >= 0.2);
    assert_true(ut_metric(&res, "events")->value > 0);
    assert_true(ut_metric(&res, "MiB_per_sec")->value > 0);
    s_assert_consistent(&res, 4096);
    assert_string_equal(ut_detail_must(&res, "ended_by"), "time");
    assert_string_equal(ut_detail_must(&res, "threads"), "1");
    assert_string_equal(ut_detail_must(&res, "block_size"), "4096");
    assert_non_null(strstr(ut_detail_must(&res, "scope"), "global"));
    assert_non_null(strstr(ut_detail_must(&res, "engine"), "store"));
    assert_true(atof(ut_detail_must(&res, "latency_min_ms")) > 0);
    assert_true(atof(ut_detail_must(&res, "latency_max_ms")) >= atof(ut_detail_must(&res, "latency_avg_ms")));
    assert_true(atof(ut_detail_must(&res, "latency_p95_ms")) > 0);
}

static void test_read_timed(void **state)
{
    (void)state;
    struct bench_result res;
    char err[256];
    const char *kv[] = {"operation=read", "block_size=1M", "time=0.2s", "threads=2",
                        "scope=local"};
    assert_int_equal(s_run(kv, 5, NULL, &res, err, sizeof err), 0);
    assert_true(ut_metric(&res, "time_s")->value >= 0.2);
    assert_true(ut_metric(&res, "events")->value > 0);
    assert_true(ut_metric(&res, "MiB_per_sec")->value > 0);
    s_assert_consistent(&res, 1024 * 1024);
    assert_non_null(strstr(ut_detail_must(&res, "engine"), "load"));
    assert_non_null(strstr(ut_detail_must(&res, "scope"), "local"));
    assert_string_equal(ut_detail_must(&res, "threads"), "2");
}

/* total_size bounds the run at exactly total_size / block_size events. */
static void test_total_size_bound(void **state)
{
    (void)state;
    struct bench_result res;
    char err[256];
    const char *kv[] = {"block_size=4K", "total_size=40M", "time=0"};
    assert_int_equal(s_run(kv, 3, NULL, &res, err, sizeof err), 0);
    assert_true(ut_metric(&res, "events")->value == 40.0 * 1024 * 1024 / 4096);
    assert_string_equal(ut_detail_must(&res, "ended_by"), "total_size");
    assert_string_equal(ut_detail_must(&res, "MiB_transferred"), "40.00");
    s_assert_consistent(&res, 4096);

    /* Split between threads as sysbench splits it: total/block/threads each,
     * the remainder (10240 % 3 = 1 event) left undone. */
    const char *kv3[] = {"block_size=4K", "total_size=40M", "time=0", "threads=3",
                         "scope=local"};
    assert_int_equal(s_run(kv3, 5, NULL, &res, err, sizeof err), 0);
    assert_true(ut_metric(&res, "events")->value == 3 * 3413);
    assert_string_equal(ut_detail_must(&res, "events_per_thread_limit"), "3413");
}

/* Every mode runs, and an event count is exact across threads. */
static void test_modes_counted(void **state)
{
    (void)state;
    static const char *const ops[] = {"operation=read", "operation=write", "operation=none"};
    static const char *const acc[] = {"access=seq", "access=rnd"};
    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < 2; j++) {
            struct bench_result res;
            char err[256];
            const char *kv[] = {ops[i], acc[j], "events=1000", "time=0", "total_size=0",
                                "threads=2"};
            assert_int_equal(s_run(kv, 6, NULL, &res, err, sizeof err), 0);
            assert_true(ut_metric(&res, "events")->value == 1000);
            assert_string_equal(ut_detail_must(&res, "ended_by"), "events");
            s_assert_consistent(&res, 4096);
            if (i == 2)
                assert_non_null(strstr(ut_detail_must(&res, "note"), "none"));
        }
    }
}

static void test_stop(void **state)
{
    (void)state;
    struct bench_result res;
    char err[256];
    /* a stop request during the run ends a 60 s run early, all threads */
    volatile sig_atomic_t stop = 0;
    pthread_t tid;
    struct ut_stopper stopper = { &stop, 100 };
    assert_int_equal(pthread_create(&tid, NULL, ut_stop_later, &stopper), 0);
    const char *kv[] = {"time=60s", "threads=2"};
    double t0 = ut_now();
    assert_int_equal(s_run(kv, 2, &stop, &res, err, sizeof err), 0);
    double wall = ut_now() - t0;
    pthread_join(tid, NULL);
    assert_true(wall >= 0.1);
    assert_true(wall < 5);
    assert_true(ut_metric(&res, "events")->value > 0);
    assert_string_equal(ut_detail_must(&res, "ended_by"), "stop");

    /* already stopped: no event at all */
    stop = 1;
    assert_int_equal(s_run(kv, 2, &stop, &res, err, sizeof err), 0);
    assert_true(ut_metric(&res, "events")->value == 0);
    assert_true(ut_metric(&res, "MiB_per_sec")->value == 0);
}

/* A block that cannot be had fails prepare with a message, not a crash.  An
 * address-space limit in a child makes the allocation fail; ASan maps its
 * shadow memory up front, so there the limit cannot be set. */
static void test_alloc_failure(void **state)
{
    (void)state;
#ifdef S_ASAN
    skip();
#else
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit lim = {.rlim_cur = 256u << 20, .rlim_max = 256u << 20};
        if (setrlimit(RLIMIT_AS, &lim) < 0)
            _exit(3);
        const char *kv[] = {"block_size=1G"};
        void *opts = NULL;
        char err[256];
        if (ut_parse(&bench_mem, kv, 1, &opts, err, sizeof err) != 0)
            _exit(4);
        struct bench_result res = {0};
        struct bench_ctx ctx = {.opts = opts, .res = &res};
        if (bench_mem.prepare(&ctx) != -1)
            _exit(5);
        if (!strstr(ctx.err, "cannot allocate") || !strstr(ctx.err, "1073741824"))
            _exit(6);
        if (ctx.priv != NULL)
            _exit(7);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered_and_defaults),
        cmocka_unit_test(test_options_accepted),
        cmocka_unit_test(test_options_rejected),
        cmocka_unit_test(test_write_timed),
        cmocka_unit_test(test_read_timed),
        cmocka_unit_test(test_total_size_bound),
        cmocka_unit_test(test_modes_counted),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
