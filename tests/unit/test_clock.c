/* test_clock.c — Cristian's offset estimator against a simulated remote
 * clock with a known offset and random one-way delays, the rule that keeps
 * a quiet old measurement over a noisy new one, and the conversion of a
 * coordinator start instant to the worker's clock and back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"

#define US 1000LL

/* One ping-pong: local send at t0 (local clock), the request takes `out`,
 * the remote reads its clock (local + offset), the reply takes `back`. */
static void s_pingpong(clock_est_t *e, int64_t *now, int64_t offset, int64_t out, int64_t back)
{
    int64_t t0 = *now;
    int64_t tr = t0 + out + offset;
    int64_t t1 = t0 + out + back;
    clock_est_add(e, t0, tr, t1);
    *now = t1 + 1000 * US;
}

/* Jittered delays: 20..520 us each way, independently (asymmetric). */
static int64_t s_delay(unsigned *seed) { return 20 * US + (int64_t)(rand_r(seed) % 500) * US; }

static void test_known_offset_with_jitter(void **state)
{
    (void)state;
    const int64_t offsets[] = { 0, 1234567, -987654321, 3600LL * NS_PER_SEC };
    unsigned seed = 42;
    for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
        for (int trial = 0; trial < 200; trial++) {
            clock_est_t e;
            clock_est_init(&e);
            int64_t now = 1700000000LL * NS_PER_SEC;
            int64_t best_rtt = INT64_MAX;
            for (int i = 0; i < 8; i++) {
                int64_t out = s_delay(&seed), back = s_delay(&seed);
                best_rtt = out + back < best_rtt ? out + back : best_rtt;
                s_pingpong(&e, &now, offsets[k], out, back);
            }
            assert_int_equal(e.samples, 8);
            assert_int_equal(e.best_rtt_ns, best_rtt);
            assert_int_equal(e.err_ns, best_rtt / 2 + 1);
            /* the guarantee: the true offset lies within the bound */
            int64_t miss = e.offset_ns - offsets[k];
            assert_true(miss <= e.err_ns && miss >= -e.err_ns);
        }
    }
}

static void test_symmetric_sample_is_exact(void **state)
{
    (void)state;
    clock_est_t e;
    clock_est_init(&e);
    int64_t now = 1000 * NS_PER_SEC;
    s_pingpong(&e, &now, 5000 * US, 400 * US, 100 * US); /* asymmetric: off by 150 us */
    assert_int_equal(e.offset_ns, 5000 * US + 150 * US);
    s_pingpong(&e, &now, 5000 * US, 30 * US, 30 * US);   /* quiet and symmetric: exact */
    assert_int_equal(e.offset_ns, 5000 * US);
    assert_int_equal(e.err_ns, 30 * US + 1);
    s_pingpong(&e, &now, 5000 * US, 900 * US, 10 * US);  /* slower: ignored */
    assert_int_equal(e.offset_ns, 5000 * US);
    assert_int_equal(e.samples, 3);
}

static void test_bad_samples_ignored(void **state)
{
    (void)state;
    clock_est_t e;
    clock_est_init(&e);
    clock_est_add(&e, 1000, 5000, 900);            /* the local clock stepped back */
    clock_est_add(&e, INT64_MIN, 0, INT64_MAX);    /* overflowing round trip */
    clock_est_add(&e, 0, INT64_MIN, 10);           /* overflowing offset */
    assert_int_equal(e.samples, 0);
    assert_int_equal(e.err_ns, INT64_MAX);
}

/* A new measurement replaces the one in use unless the old one, grown by
 * the drift since, is still the tighter bound. */
static void test_prefer(void **state)
{
    (void)state;
    clock_est_t none, quiet, noisy;
    clock_est_init(&none);
    clock_est_init(&quiet);
    clock_est_init(&noisy);
    int64_t now = 0;
    s_pingpong(&quiet, &now, 0, 20 * US, 20 * US); /* +/- 20 us */
    s_pingpong(&noisy, &now, 0, 900 * US, 100 * US); /* +/- 500 us */
    assert_true(clock_est_prefer(&none, 0, &noisy));
    assert_false(clock_est_prefer(&quiet, 0, &none));
    assert_false(clock_est_prefer(&quiet, NS_PER_SEC, &noisy));
    /* 20 ppm: after 30 s the quiet bound has grown by 600 us, past 500 */
    assert_true(clock_est_prefer(&quiet, 30 * NS_PER_SEC, &noisy));
    assert_true(clock_est_prefer(&noisy, 0, &quiet));
}

/* GO's start instant (coordinator clock) on the worker's clock and the
 * worker's start back on the coordinator's: a round trip is exact. */
static void test_conversion(void **state)
{
    (void)state;
    clock_est_t e;
    clock_est_init(&e);
    int64_t local = 0;
    /* no sample yet: the clocks are taken as equal */
    assert_int_equal(clock_to_local(&e, 123456789, &local), 0);
    assert_int_equal(local, 123456789);
    int64_t now = 5 * NS_PER_SEC;
    s_pingpong(&e, &now, 2500 * US, 50 * US, 50 * US); /* coordinator 2.5 ms ahead */
    assert_int_equal(e.offset_ns, 2500 * US);
    int64_t start_at = 1700000000LL * NS_PER_SEC;
    assert_int_equal(clock_to_local(&e, start_at, &local), 0);
    assert_int_equal(local, start_at - 2500 * US);
    int64_t back = 0;
    assert_int_equal(clock_to_remote(&e, local, &back), 0);
    assert_int_equal(back, start_at);
    /* nonsense that would overflow is refused, the output left alone */
    e.offset_ns = -10;
    local = 77;
    assert_int_equal(clock_to_local(&e, INT64_MAX - 5, &local), -1);
    assert_int_equal(local, 77);
    e.offset_ns = 10;
    assert_int_equal(clock_to_remote(&e, INT64_MAX - 5, &local), -1);
}

/* The wait ends at the instant, not before, and promptly after. */
static void test_wait_wall(void **state)
{
    (void)state;
    int64_t t = clock_wall_ns() + 20 * NS_PER_MS;
    assert_int_equal(clock_wait_wall(t, NULL), 0);
    int64_t late = clock_wall_ns() - t;
    assert_true(late >= 0);
    assert_true(late < 50 * NS_PER_MS); /* generous: a loaded test machine */
    volatile sig_atomic_t stop = 1;
    assert_int_equal(clock_wait_wall(clock_wall_ns() + NS_PER_SEC, &stop), -1);
}

/* One kernel, one boot id (read twice, the same); its clock is the
 * coordinator's: offset 0 within 1 ns, and conversions are the identity. */
static void test_same_clock(void **state)
{
    (void)state;
    char a[64], b[64];
    clock_boot_id(a, sizeof a);
    clock_boot_id(b, sizeof b);
    assert_string_equal(a, b);
    assert_true(strlen(a) > 0); /* Linux with /proc */
    clock_est_t e;
    clock_est_same(&e);
    assert_int_equal(e.offset_ns, 0);
    assert_int_equal(e.err_ns, 1);
    int64_t out = 0;
    assert_int_equal(clock_to_local(&e, 1700000000LL * NS_PER_SEC, &out), 0);
    assert_int_equal(out, 1700000000LL * NS_PER_SEC);
    /* a measurement made later never beats an exact one, whatever its age */
    clock_est_t m;
    clock_est_init(&m);
    clock_est_add(&m, 0, 50 * US, 100 * US);
    assert_false(clock_est_prefer(&e, 0, &m));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_offset_with_jitter),
        cmocka_unit_test(test_symmetric_sample_is_exact),
        cmocka_unit_test(test_bad_samples_ignored),
        cmocka_unit_test(test_prefer),
        cmocka_unit_test(test_conversion),
        cmocka_unit_test(test_wait_wall),
        cmocka_unit_test(test_same_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
