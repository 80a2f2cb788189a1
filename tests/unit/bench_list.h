/* bench_list.h — one check for the tests of both benchmark libraries
 * (test_bench: the worker's lsbench; test_bench_desc: lockstep's
 * lsbench_desc): the registry follows bench/list.h, name for name and in
 * order, each name the descriptor bench_NAME of bench/NAME.c; with hooks in
 * the worker's library, none in the descriptors.  Include after cmocka.h.
 */
#ifndef LOCKSTEP_TEST_BENCH_LIST_H
#define LOCKSTEP_TEST_BENCH_LIST_H

#include <stdbool.h>

#include "bench.h"
#include "plugins.h"

static void bench_check_list(bool hooks)
{
    static const char *const want[] = {
#define BENCH(name) #name,
#include "list.h"
#undef BENCH
    };
    static const struct bench_ops *const want_ops[] = {
#define BENCH(name) &bench_##name,
#include "list.h"
#undef BENCH
    };
    const size_t nwant = sizeof want / sizeof want[0];
    const struct bench_ops *const *all = bench_all();
    size_t n = 0;
    for (; all[n]; n++) {
        assert_true(n < nwant);
        assert_string_equal(all[n]->name, want[n]);
        assert_ptr_equal(all[n], want_ops[n]);
        assert_ptr_equal(bench_find(want[n]), all[n]);
        assert_int_equal(all[n]->version, BENCH_API_VERSION);
        assert_non_null(all[n]->options);
        assert_non_null(all[n]->help);
        assert_non_null(all[n]->metric);
        assert_non_null(all[n]->unit);
        assert_true(all[n]->opts_size > 0);
        if (hooks) {
            assert_non_null(all[n]->run);
        } else {
            assert_null(all[n]->prepare);
            assert_null(all[n]->run);
            assert_null(all[n]->cleanup);
        }
    }
    assert_int_equal(n, nwant);
}

#endif
