/* test_ticker.c — the event loops' periodic-duty timer (common/ticker.c):
 * when a duty is due, and how long a poll may sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clock.h"
#include "ticker.h"

#define MS NS_PER_MS

static void test_due(void **state)
{
    (void)state;
    ticker_t t;
    ticker_init(&t, 1000 * MS);
    int64_t now = 5000 * MS;
    assert_true(ticker_due(&t, now)); /* due at once */
    assert_false(ticker_due(&t, now)); /* done: not again */
    assert_false(ticker_due(&t, now + 999 * MS));
    assert_true(ticker_ready(&t, now + 1000 * MS));
    assert_true(ticker_ready(&t, now + 1000 * MS)); /* ready does not rearm */
    assert_true(ticker_due(&t, now + 1000 * MS));
    assert_int_equal(ticker_next(&t), now + 2000 * MS);
    /* done off schedule: the next one is a period from then */
    ticker_touch(&t, now + 1500 * MS);
    assert_false(ticker_due(&t, now + 2000 * MS));
    assert_true(ticker_due(&t, now + 2500 * MS));
}

static void test_wait(void **state)
{
    (void)state;
    ticker_t hb, sync;
    ticker_init(&hb, 1000 * MS);
    ticker_init(&sync, 100 * MS);
    int64_t now = 10000 * MS;
    ticker_touch(&hb, now);
    ticker_touch(&sync, now - 40 * MS);
    const ticker_t *both[] = { &hb, &sync };
    assert_int_equal(ticker_wait_ms(now, 250, both, 2), 60);  /* the SYNC first */
    const ticker_t *hb_only[] = { &hb, NULL };                 /* no SYNC to do */
    assert_int_equal(ticker_wait_ms(now, 250, hb_only, 2), 250); /* the cap */
    assert_int_equal(ticker_wait_ms(now, 5000, hb_only, 2), 1000);
    /* rounded up: a poll that wakes 0.5 ms early finds nothing due */
    assert_int_equal(ticker_wait_ms(now + MS / 2, 5000, hb_only, 2), 1000);
    assert_int_equal(ticker_wait_ms(now + 3000 * MS, 250, hb_only, 2), 0); /* overdue */
    assert_int_equal(ticker_wait_ms(now, 250, NULL, 0), 250);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due),
        cmocka_unit_test(test_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
