/* test_stats.c — the report's statistics against values computed elsewhere
 * (Python's statistics module, published t tables): mean, sample standard
 * deviation, median and quartiles (type 7), CV and the Student-t interval. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/stats.h"

#define EPS 1e-9
/* cmocka 1.1.5 (Debian 12) compares floats only */
#define assert_double_equal(a, b, eps)                                                       \
    do {                                                                                     \
        double a_ = (a), b_ = (b);                                                           \
        if (!(fabs(a_ - b_) <= (eps)))                                                       \
            fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                              \
    } while (0)

/* What stats_compute must give for a sample, from the reference. */
struct want {
    double mean, stddev, median, q1, q3, cv, ci_lo, ci_hi;
};

static void s_check(const double *x, size_t n, const struct want *w, struct stats *s)
{
    stats_compute(x, n, s);
    assert_int_equal(s->n, n);
    assert_double_equal(s->mean, w->mean, EPS);
    assert_double_equal(s->stddev, w->stddev, EPS);
    assert_double_equal(s->median, w->median, EPS);
    assert_double_equal(s->q1, w->q1, EPS);
    assert_double_equal(s->q3, w->q3, EPS);
    assert_double_equal(s->cv, w->cv, EPS);
    assert_double_equal(s->ci_lo, w->ci_lo, 1e-8);
    assert_double_equal(s->ci_hi, w->ci_hi, 1e-8);
}

static void test_textbook(void **state)
{
    (void)state;
    /* unsorted on purpose; stats_compute must not care */
    const double x[] = { 9, 4, 2, 5, 4, 7, 4, 5 };
    const struct want w = { 5, 2.138089935299395, 4.5, 4.0, 5.5, 0.427617987059879,
                            3.212512081455964, 6.787487918544036 };
    struct stats s;
    s_check(x, 8, &w, &s);
    assert_double_equal(s.min, 2, EPS);
    assert_double_equal(s.max, 9, EPS);
    assert_double_equal(x[0], 9, 0); /* input untouched */
}

/* The course report's QEMU uplink against bouygues.iperf.fr, Mbit/s. */
static void test_course_sample(void **state)
{
    (void)state;
    const double x[] = { 94.1, 94.2, 94.4, 94.3, 94.4, 94.2, 92.9, 91.4, 91.6, 92.7 };
    const struct want w = { 93.42, 1.1811482172492629, 94.15, 92.75, 94.275,
                            0.012643419152743127, 92.57505746574043, 94.26494253425957 };
    struct stats s;
    s_check(x, 10, &w, &s);
}

/* Large values close together: a naive sum of squares would lose them. */
static void test_no_cancellation(void **state)
{
    (void)state;
    const double x[] = { 1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16 };
    struct stats s;
    stats_compute(x, 4, &s);
    assert_double_equal(s.mean, 1e9 + 10, 1e-6);
    assert_double_equal(s.stddev, sqrt(30), 1e-6); /* as for 4, 7, 13, 16 */
}

static void test_small_and_empty(void **state)
{
    (void)state;
    struct stats s;
    const double one = 42;
    stats_compute(&one, 1, &s);
    assert_int_equal(s.n, 1);
    assert_double_equal(s.mean, 42, 0);
    assert_double_equal(s.median, 42, 0);
    assert_double_equal(s.stddev, 0, 0);
    assert_true(isnan(s.cv));
    assert_double_equal(s.ci_lo, 42, 0);
    assert_double_equal(s.ci_hi, 42, 0);
    stats_compute(NULL, 0, &s);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.mean) && isnan(s.median) && isnan(s.stddev));
    const double zero[] = { -1, 1 };
    stats_compute(zero, 2, &s);
    assert_true(isnan(s.cv)); /* mean 0 */
    /* two values: t(1) = 12.706 */
    const double two[] = { 10, 12 };
    stats_compute(two, 2, &s);
    assert_double_equal(s.ci_hi - s.mean, 12.706204736, 1e-8); /* sd sqrt 2, n 2 */
}

static void test_t_table(void **state)
{
    (void)state;
    assert_true(isnan(stats_t975(0)));
    assert_double_equal(stats_t975(1), 12.706204736, 1e-9);
    assert_double_equal(stats_t975(4), 2.776445105, 1e-9);
    assert_double_equal(stats_t975(9), 2.262157163, 1e-9);
    assert_double_equal(stats_t975(30), 2.042272456, 1e-9);
    /* beyond the table: published values to 1e-6 */
    assert_double_equal(stats_t975(31), 2.039513446, 1e-6);
    assert_double_equal(stats_t975(40), 2.021075390, 1e-6);
    assert_double_equal(stats_t975(60), 2.000297822, 1e-6);
    assert_double_equal(stats_t975(120), 1.979930405, 1e-6);
    assert_double_equal(stats_t975(1000000), 1.959966357, 1e-6);
}

static void test_quantile(void **state)
{
    (void)state;
    const double s[] = { 1, 2, 3, 4 };
    assert_double_equal(stats_quantile_sorted(s, 4, 0), 1, 0);
    assert_double_equal(stats_quantile_sorted(s, 4, 1), 4, 0);
    assert_double_equal(stats_quantile_sorted(s, 4, 0.5), 2.5, EPS);
    assert_double_equal(stats_quantile_sorted(s, 4, 0.25), 1.75, EPS);
    assert_double_equal(stats_quantile_sorted(s, 1, 0.9), 1, 0);
    assert_true(isnan(stats_quantile_sorted(s, 0, 0.5)));
}

static void test_format(void **state)
{
    (void)state;
    char b[32];
    stats_format(1510.4, b, sizeof b);
    assert_string_equal(b, "1510");
    stats_format(131.24, b, sizeof b);
    assert_string_equal(b, "131.2");
    stats_format(0.08712, b, sizeof b);
    assert_string_equal(b, "0.08712");
    stats_format(2.5e9, b, sizeof b);
    assert_string_equal(b, "2.5e+09");
    stats_format(NAN, b, sizeof b);
    assert_string_equal(b, "-");
    stats_format(0, b, sizeof b);
    assert_string_equal(b, "0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_textbook),       cmocka_unit_test(test_course_sample),
        cmocka_unit_test(test_no_cancellation), cmocka_unit_test(test_small_and_empty),
        cmocka_unit_test(test_t_table),        cmocka_unit_test(test_quantile),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
