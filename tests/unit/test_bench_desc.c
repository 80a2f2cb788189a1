/* test_bench_desc.c — the benchmarks as the coordinator sees them: the
 * descriptor build (lsbench_desc, which lockstep links instead of the
 * worker's lsbench) lists every benchmark of bench/list.h in its order,
 * without hooks, and still parses, validates and times their options,
 * iperf's too, without libiperf.  Linked with lsbench_desc alone (not
 * through lockstep_unit, whose lsworker brings lsbench).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bench.h"
#include "bench_list.h"
#include "plugins.h"

static void test_list(void **state)
{
    (void)state;
    bench_check_list(false);
    assert_null(bench_find("nope"));
}

/* Parse keys[i]=vals[i]; 0 or -1 with err. */
static int s_parse(const char *bench, const char *const *keys, const char *const *vals, size_t n,
                   void **opts, char *err, size_t errlen)
{
    const struct bench_ops *ops = bench_find(bench);
    assert_non_null(ops);
    return bench_opts_parse(ops, keys, vals, n, opts, err, errlen);
}

static void test_options(void **state)
{
    (void)state;
    const struct bench_ops *cpu = bench_find("cpu");
    void *opts = NULL;
    char err[256] = "";
    const char *k[] = {"max_prime", "time"}, *v[] = {"20000", "3s"};
    assert_int_equal(s_parse("cpu", k, v, 2, &opts, err, sizeof err), 0);
    assert_int_equal(cpu->expected_ns(opts), 3000000000LL);
    bench_opts_destroy(cpu, &opts);
    /* the cross-option check (validate) is there */
    const char *k0[] = {"time", "events"}, *v0[] = {"0", "0"};
    assert_int_equal(s_parse("cpu", k0, v0, 2, &opts, err, sizeof err), -1);
    assert_non_null(strstr(err, "would never end"));
    assert_null(opts);
    const char *kb[] = {"frobs"}, *vb[] = {"1"};
    assert_int_equal(s_parse("disk_rand", kb, vb, 1, &opts, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown option 'frobs' for benchmark disk_rand"));
}

static void test_iperf(void **state)
{
    (void)state;
#ifdef LOCKSTEP_WITH_IPERF
    const struct bench_ops *ops = bench_find("iperf");
    assert_non_null(ops);
    assert_true(ops->flags & BENCH_F_PAIRED);
    assert_non_null(ops->bound_ns);
    void *opts = NULL;
    char err[256] = "";
    const char *k[] = {"streams", "time", "peers"}, *v[] = {"4", "3s", "h:5201,[::1]:5202"};
    assert_int_equal(s_parse("iperf", k, v, 3, &opts, err, sizeof err), 0);
    assert_int_equal(ops->expected_ns(opts), 5000000000LL);
    assert_true(ops->bound_ns(opts, 2) > ops->bound_ns(opts, 1));
    bench_opts_destroy(ops, &opts);
    const char *kt[] = {"time"}, *vt[] = {"1.5s"};
    assert_int_equal(s_parse("iperf", kt, vt, 1, &opts, err, sizeof err), -1);
    assert_non_null(strstr(err, "whole seconds"));
    const char *kr[] = {"bitrate"}, *vr[] = {"fast"};
    assert_int_equal(s_parse("iperf", kr, vr, 1, &opts, err, sizeof err), -1);
    assert_non_null(strstr(err, "'fast' is not a bit rate"));
    assert_null(opts);
#else
    assert_null(bench_find("iperf"));
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_iperf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
