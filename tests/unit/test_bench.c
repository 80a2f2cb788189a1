/* test_bench.c — the plug-in core and the built-in null, cpu and fork
 * benchmarks (fork through its helper lockstep-forksum, found beside this
 * test in build/bin): registry, option parsing through the tables, results, and that
 * each benchmark computes what its reference tool computes.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
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
#include "bench_list.h"
#include "plugins.h"
#include "bench_util.h"

/* Parse "k=v" pairs for a benchmark by name; on failure the message goes to err. */
static int s_parse(const char *bench, const char *const *kv, size_t n, void **opts, char *err,
                   size_t errlen)
{
    const struct bench_ops *ops = bench_find(bench);
    assert_non_null(ops);
    return ut_parse(ops, kv, n, opts, err, errlen);
}

/* Parse, run and clean up one benchmark; returns run()'s result. */
static int s_run(const char *bench, const char *const *kv, size_t n, struct bench_result *res,
                 char *err, size_t errlen)
{
    const struct bench_ops *ops = bench_find(bench);
    void *opts = NULL;
    char perr[256] = "";
    if (s_parse(bench, kv, n, &opts, perr, sizeof perr) != 0)
        fail_msg("%s: %s", bench, perr);
    memset(res, 0, sizeof *res);
    struct bench_ctx ctx = {.opts = opts, .workdir = "/tmp", .res = res};
    int rc = 0;
    if (ops->prepare)
        rc = ops->prepare(&ctx);
    if (rc == 0)
        rc = ops->run(&ctx);
    if (ops->prepare && ops->cleanup)
        ops->cleanup(&ctx);
    snprintf(err, errlen, "%s", ctx.err);
    bench_opts_destroy(ops, &opts);
    assert_null(opts);
    return rc;
}

static void test_registry(void **state)
{
    (void)state;
    bench_check_list(true);
    assert_ptr_equal(bench_find("cpu"), &bench_cpu);
    assert_null(bench_find("CPU"));
    assert_null(bench_find("nope"));
    assert_null(bench_find(NULL));
}

static void test_opts_defaults(void **state)
{
    (void)state;
    void *opts = bench_opts_new(&bench_cpu);
    assert_non_null(opts);
    struct bench_result res = {0};
    bench_result_params(&res, &bench_cpu, opts);
    assert_int_equal(res.ndetails, 4);
    assert_string_equal(ut_detail_must(&res, "opt.max_prime"), "10000");
    assert_string_equal(ut_detail_must(&res, "opt.threads"), "1");
    assert_string_equal(ut_detail_must(&res, "opt.time"), "10");
    assert_string_equal(ut_detail_must(&res, "opt.events"), "0");
    assert_int_equal(bench_cpu.expected_ns(opts), 10000000000LL);
    bench_opts_destroy(&bench_cpu, &opts);
    assert_null(opts);
    bench_opts_destroy(&bench_cpu, &opts); /* NULL is fine */
}

static void test_opts_parse(void **state)
{
    (void)state;
    char err[256] = "";
    void *opts = NULL;
    const char *good[] = {"max_prime=20000", "threads=2", "time=1.5s"};
    assert_int_equal(s_parse("cpu", good, 3, &opts, err, sizeof err), 0);
    assert_non_null(opts);
    struct bench_result res = {0};
    bench_result_params(&res, &bench_cpu, opts);
    assert_string_equal(ut_detail_must(&res, "opt.max_prime"), "20000");
    assert_string_equal(ut_detail_must(&res, "opt.threads"), "2");
    assert_string_equal(ut_detail_must(&res, "opt.time"), "1.5");
    assert_int_equal(bench_cpu.expected_ns(opts), 1500000000LL);
    bench_opts_destroy(&bench_cpu, &opts);

    static const struct {
        const char *bench;
        const char *kv[3];
        size_t n;
        const char *msg;
    } bad[] = {
        {"cpu", {"foo=1"}, 1,
         "unknown option 'foo' for benchmark cpu (known: max_prime, threads, time, events)"},
        {"cpu", {"threads=0"}, 1, "threads: 0 is out of range (allowed 1..1024)"},
        {"cpu", {"max_prime=1"}, 1, "max_prime: 1 is out of range (allowed 3..1000000000)"},
        {"cpu", {"time=soon"}, 1,
         "time: 'soon' is not a duration (seconds, or a number with an ns, us, ms, s, m or h "
         "suffix)"},
        {"cpu", {"time=0"}, 1,
         "time and events are both 0: the run would never end (set a time limit, an event "
         "count or both)"},
        {"cpu", {"threads=2", "threads=3"}, 2, "option 'threads' for benchmark cpu is given twice"},
        {"fork", {"start=10", "end=9"}, 2, "start (10) is greater than end (9)"},
        {"fork", {"start=1", "end=1000001"}, 2,
         "end - start is 1000000: it must be below 1000000, since each tree forks "
         "2 * (end - start) processes"},
        {"fork", {"time=0", "events=0"}, 2,
         "time and events are both 0: the run would never end (set a time limit, an event "
         "count or both)"},
        {"null", {"sleep=2h"}, 1, "sleep: 2h is out of range (allowed 0s..1h)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        opts = (void *)&err; /* must stay untouched on failure */
        err[0] = '\0';
        assert_int_equal(s_parse(bad[i].bench, bad[i].kv, bad[i].n, &opts, err, sizeof err), -1);
        assert_string_equal(err, bad[i].msg);
        assert_ptr_equal(opts, (void *)&err);
    }

    /* time=0 alone is fine once events bounds the run */
    const char *bounded[] = {"time=0", "events=3"};
    assert_int_equal(s_parse("cpu", bounded, 2, &opts, err, sizeof err), 0);
    assert_int_equal(bench_cpu.expected_ns(opts), 0);
    bench_opts_destroy(&bench_cpu, &opts);
}

static void test_result_helpers(void **state)
{
    (void)state;
    struct bench_result res = {0};
    bench_result_metric(&res, "x", "s", 1.0);
    bench_result_metric(&res, "y", "count", 2.0);
    bench_result_metric(&res, "x", "s", 3.0); /* same name replaces */
    assert_int_equal(res.nmetrics, 2);
    assert_true(ut_metric(&res, "x")->value == 3.0);
    assert_string_equal(ut_metric(&res, "y")->unit, "count");
    bench_result_detail(&res, "k", "%d-%s", 7, "z");
    assert_string_equal(ut_detail_must(&res, "k"), "7-z");
    bench_result_detail(&res, "k", "%s", "again");
    assert_int_equal(res.ndetails, 1);
    assert_string_equal(ut_detail_must(&res, "k"), "again");
}

/* A few events at small max_prime: the count of primes is sysbench's n + 1. */
static void s_cpu_primes(const char *max_prime, const char *want)
{
    char arg[64], err[256];
    snprintf(arg, sizeof arg, "max_prime=%s", max_prime);
    const char *kv[] = {arg, "time=0", "events=5", "threads=2"};
    struct bench_result res;
    assert_int_equal(s_run("cpu", kv, 4, &res, err, sizeof err), 0);
    assert_string_equal(ut_detail_must(&res, "primes_per_event"), want);
    assert_string_equal(ut_detail_must(&res, "threads"), "2");
    assert_true(ut_metric(&res, "events")->value == 5);
    assert_true(ut_metric(&res, "events_per_sec")->value > 0);
}

static void test_cpu_counts_primes(void **state)
{
    (void)state;
    s_cpu_primes("10000", "1229");
    s_cpu_primes("100", "25");
    s_cpu_primes("3", "1");  /* just the prime 2 */
    s_cpu_primes("12", "5"); /* 2 3 5 7 11 */
}

static void test_cpu_timed(void **state)
{
    (void)state;
    const char *kv[] = {"time=0.3s", "max_prime=10000"};
    struct bench_result res;
    char err[256];
    double t0 = ut_now();
    assert_int_equal(s_run("cpu", kv, 2, &res, err, sizeof err), 0);
    /* the lower bound is the point; the upper one only catches a run that
     * ignores its time (default 10 s) and stays loose for loaded CI machines */
    double wall = ut_now() - t0;
    if (wall < 0.25 || wall > 5.0)
        fail_msg("cpu time=0.3s took %.3f s", wall);
    double t = ut_metric(&res, "time_s")->value;
    assert_true(t >= 0.3 && t <= wall);
    const struct bench_metric *eps = ut_metric(&res, "events_per_sec");
    assert_string_equal(eps->unit, "events/s");
    assert_true(eps->value > 0);
    double events = ut_metric(&res, "events")->value;
    assert_true(events >= 1);
    /* the headline is exactly events / measured seconds */
    assert_true(eps->value > events / t * 0.999 && eps->value < events / t * 1.001);
    print_message("cpu max_prime=10000 threads=1: %.1f events/s\n", eps->value);
}

static void test_cpu_stop(void **state)
{
    (void)state;
    const struct bench_ops *ops = &bench_cpu;
    void *opts = bench_opts_new(ops); /* 10 s by default */
    volatile sig_atomic_t stop = 1;
    struct bench_result res = {0};
    struct bench_ctx ctx = {.opts = opts, .stop = &stop, .res = &res};
    double t0 = ut_now();
    assert_int_equal(ops->run(&ctx), 0);
    assert_true(ut_now() - t0 < 1.0);
    assert_true(ut_metric(&res, "events")->value == 0);
    bench_opts_destroy(ops, &opts);
}

static void s_assert_no_children(void)
{
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_fork_sums(void **state)
{
    (void)state;
    struct bench_result res;
    char err[256] = "";

    const char *range[] = {"start=1", "end=200", "events=2", "time=0"};
    int rc = s_run("fork", range, 4, &res, err, sizeof err);
    if (rc != 0)
        fail_msg("fork run failed: %s", err);
    assert_string_equal(ut_detail_must(&res, "sum"), "20100");
    assert_string_equal(ut_detail_must(&res, "forks_per_tree"), "398");
    assert_true(ut_metric(&res, "trees")->value == 2);
    assert_true(ut_metric(&res, "forks_per_sec")->value > 0);
    assert_string_equal(ut_metric(&res, "forks_per_sec")->unit, "forks/s");
    s_assert_no_children();

    const char *single[] = {"start=5", "end=5", "events=3", "time=0"};
    assert_int_equal(s_run("fork", single, 4, &res, err, sizeof err), 0);
    assert_string_equal(ut_detail_must(&res, "sum"), "5");
    assert_string_equal(ut_detail_must(&res, "forks_per_tree"), "0");
    assert_true(ut_metric(&res, "trees")->value == 3);
    s_assert_no_children();

    const char *odd[] = {"start=1000", "end=1006", "events=1", "time=0"}; /* uneven halves */
    assert_int_equal(s_run("fork", odd, 4, &res, err, sizeof err), 0);
    assert_string_equal(ut_detail_must(&res, "sum"), "7021");
    assert_string_equal(ut_detail_must(&res, "forks_per_tree"), "12");
    s_assert_no_children();
}

/* When fork() fails part-way down the tree, run() must fail with the reason
 * and leave no child behind.  A process limit makes fork() fail; root ignores
 * RLIMIT_NPROC, so the helper process first becomes nobody. */
static void test_fork_failure(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* our own uid's process count is unknown, so no safe limit */
    pid_t helper = fork();
    assert_true(helper >= 0);
    if (helper == 0) {
        struct rlimit lim = {.rlim_cur = 16, .rlim_max = 16};
        if (setgid(65534) < 0 || setuid(65534) < 0 || setrlimit(RLIMIT_NPROC, &lim) < 0)
            _exit(10);
        void *opts = NULL;
        char err[256] = "";
        const char *const keys[] = {"start", "end", "events", "time"};
        const char *const vals[] = {"1", "200", "1", "0"};
        if (bench_opts_parse(&bench_fork, keys, vals, 4, &opts, err, sizeof err) < 0)
            _exit(11);
        struct bench_result res = {0};
        struct bench_ctx ctx = {.opts = opts, .res = &res};
        int rc = bench_fork.run(&ctx);
        if (rc != -1)
            _exit(12);
        if (strncmp(ctx.err, "fork: fork failed in the process tree: ", 39) != 0)
            _exit(13);
        errno = 0;
        if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
            _exit(14);
        bench_opts_destroy(&bench_fork, &opts);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(helper, &status, 0), helper);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    s_assert_no_children();
}

static void test_fork_timed(void **state)
{
    (void)state;
    const char *kv[] = {"start=1", "end=64", "time=0.2"};
    struct bench_result res;
    char err[256] = "";
    double t0 = ut_now();
    int rc = s_run("fork", kv, 3, &res, err, sizeof err);
    if (rc != 0)
        fail_msg("fork run failed: %s", err);
    double wall = ut_now() - t0;
    assert_true(wall >= 0.2 && wall < 8.0);
    double trees = ut_metric(&res, "trees")->value;
    double t = ut_metric(&res, "time_s")->value;
    assert_true(trees >= 1);
    assert_true(t >= 0.2);
    double fps = ut_metric(&res, "forks_per_sec")->value;
    assert_true(fps > trees * 126 / t * 0.999 && fps < trees * 126 / t * 1.001);
    s_assert_no_children();
    print_message("fork 1..64: %.0f forks/s\n", fps);
}

/* A stop request reaches the helper, which reports the trees done so far. */

static void test_fork_stop(void **state)
{
    (void)state;
    void *opts = NULL;
    char err[256] = "";
    assert_int_equal(s_parse("fork", (const char *[]){"start=1", "end=64", "time=30s"}, 3, &opts,
                             err, sizeof err), 0);
    volatile sig_atomic_t stop = 0;
    struct bench_result res = {0};
    struct bench_ctx ctx = {.opts = opts, .stop = &stop, .res = &res};
    pthread_t th;
    struct ut_stopper stopper = { &stop, 300 };
    assert_int_equal(pthread_create(&th, NULL, ut_stop_later, &stopper), 0);
    double t0 = ut_now();
    int rc = bench_fork.run(&ctx);
    double wall = ut_now() - t0;
    pthread_join(th, NULL);
    if (rc != 0)
        fail_msg("fork run failed: %s", ctx.err);
    if (wall > 10.0)
        fail_msg("a stopped fork run took %.1f s", wall);
    assert_true(ut_metric(&res, "time_s")->value < 10.0);
    assert_true(ut_metric(&res, "trees")->value >= 0);
    s_assert_no_children();
    bench_opts_destroy(&bench_fork, &opts);
}

/* Without its helper the run fails and says where it looked. */
static void test_fork_helper_missing(void **state)
{
    (void)state;
    struct bench_result res;
    char err[256] = "";
    setenv("LOCKSTEP_FORKSUM", "/nonexistent/lockstep-forksum", 1);
    const char *kv[] = {"start=1", "end=8", "events=1", "time=0"};
    int rc = s_run("fork", kv, 4, &res, err, sizeof err);
    unsetenv("LOCKSTEP_FORKSUM");
    assert_int_equal(rc, -1);
    assert_string_equal(err, "fork: the helper LOCKSTEP_FORKSUM=/nonexistent/lockstep-forksum "
                             "cannot be run: No such file or directory");
    s_assert_no_children();
}

static void test_null(void **state)
{
    (void)state;
    struct bench_result res;
    char err[256];
    double t0 = ut_now();
    assert_int_equal(s_run("null", NULL, 0, &res, err, sizeof err), 0);
    assert_true(ut_now() - t0 < 0.05);
    assert_int_equal(res.nmetrics, 1);
    assert_string_equal(res.metrics[0].name, "ok");
    assert_string_equal(res.metrics[0].unit, "bool");
    assert_true(res.metrics[0].value == 1);

    const char *kv[] = {"sleep=200ms"};
    t0 = ut_now();
    assert_int_equal(s_run("null", kv, 1, &res, err, sizeof err), 0);
    double wall = ut_now() - t0;
    if (wall < 0.2 || wall > 5.0)
        fail_msg("null sleep=200ms took %.3f s", wall);

    /* a stop request cuts the sleep short */
    void *opts = NULL;
    assert_int_equal(s_parse("null", (const char *[]){"sleep=10s"}, 1, &opts, err, sizeof err), 0);
    assert_int_equal(bench_null.expected_ns(opts), 10000000000LL);
    volatile sig_atomic_t stop = 1;
    struct bench_ctx ctx = {.opts = opts, .stop = &stop, .res = &res};
    t0 = ut_now();
    assert_int_equal(bench_null.run(&ctx), 0);
    assert_true(ut_now() - t0 < 0.1);
    bench_opts_destroy(&bench_null, &opts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_opts_defaults),
        cmocka_unit_test(test_opts_parse),
        cmocka_unit_test(test_result_helpers),
        cmocka_unit_test(test_cpu_counts_primes),
        cmocka_unit_test(test_cpu_timed),
        cmocka_unit_test(test_cpu_stop),
        cmocka_unit_test(test_fork_sums),
        cmocka_unit_test(test_fork_failure),
        cmocka_unit_test(test_fork_timed),
        cmocka_unit_test(test_fork_stop),
        cmocka_unit_test(test_fork_helper_missing),
        cmocka_unit_test(test_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
