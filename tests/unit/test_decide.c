/* test_decide.c — the coordinator's decisions (coordinator/run/decide.c) on
 * their own, without sockets or a database: who takes part in a
 * repetition, what a resumed run skips, the run's status, and when a
 * refused peer is logged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/experiment.h"
#include "run/decide.h"

static struct experiment *s_load(const char *text)
{
    struct experiment *exp = NULL;
    if (experiment_parse("t.yaml", text, strlen(text), &exp, stderr) != 0)
        fail_msg("experiment did not load");
    return exp;
}

static const char *s_exp_text =
    "name: t\n"
    "platforms:\n"
    "  - name: srv\n"
    "    kind: native\n"
    "    role: server\n"
    "  - name: qemu-1\n"
    "    kind: qemu\n"
    "phases:\n"
    "  - name: all\n"
    "    bench: null\n"
    "  - name: some\n"
    "    bench: null\n"
    "    workers: [a, docker]\n"
    "  - name: net\n"
    "    bench: iperf\n"
    "    servers: [b]\n";

static void test_selected(void **state)
{
    (void)state;
    struct experiment *exp = s_load(s_exp_text);
    const struct exp_phase *all = &exp->phases[0], *some = &exp->phases[1], *net = &exp->phases[2];
    /* a phase that names nobody: everyone, except a serve-only platform */
    assert_true(decide_selected(exp, all, "a", "native"));
    assert_true(decide_selected(exp, all, "qemu-1", "qemu"));
    assert_false(decide_selected(exp, all, "srv", "native"));
    /* named by name or by platform */
    assert_true(decide_selected(exp, some, "a", "native"));
    assert_true(decide_selected(exp, some, "c", "docker"));
    assert_false(decide_selected(exp, some, "b", "native"));
    /* a network phase's servers are not its clients */
    assert_true(decide_serves(net, "b", "native"));
    assert_false(decide_selected(exp, net, "b", "native"));
    assert_true(decide_selected(exp, net, "a", "native"));
    assert_false(decide_serves(all, "b", "native"));
    experiment_destroy(&exp);
}

static void test_takes_part(void **state)
{
    (void)state;
    struct experiment *exp = s_load(s_exp_text);
    const struct exp_phase *all = &exp->phases[0];
    struct decide_worker w = { .name = "a", .platform = "native" };
    assert_true(decide_takes_part(exp, all, &w, true));
    w.lost = true; /* lost now: never */
    assert_false(decide_takes_part(exp, all, &w, true));
    w.lost = false;
    w.rejoined = true; /* back after a loss: as the experiment's rejoin says */
    assert_true(decide_takes_part(exp, all, &w, true));
    assert_false(decide_takes_part(exp, all, &w, false));
    experiment_destroy(&exp);
}

static void test_resume(void **state)
{
    (void)state;
    struct experiment *exp = s_load(s_exp_text);
    const struct exp_phase *all = &exp->phases[0], *net = &exp->phases[2];
    struct decide_worker w[] = { { .name = "a", .platform = "native" },
                                 { .name = "b", .platform = "native" },
                                 { .name = "c", .platform = "docker" } };
    size_t keep[3];
    /* nothing stored: everyone runs */
    bool none[] = { false, false, false };
    struct resume_plan p = decide_resume(all, w, none, 3, 0, keep);
    assert_false(p.skip);
    assert_int_equal(p.nkeep, 3);
    assert_int_equal(p.measurers, 3);
    /* a and c stored: b runs again alone */
    bool some[] = { true, false, true };
    p = decide_resume(all, w, some, 3, 2, keep);
    assert_false(p.skip);
    assert_int_equal(p.nkeep, 1);
    assert_int_equal(keep[0], 1);
    /* all stored: the repetition was done */
    bool all_done[] = { true, true, true };
    p = decide_resume(all, w, all_done, 3, 3, keep);
    assert_true(p.skip);
    assert_int_equal(p.nkeep, 0);
    /* a network phase: its server b has no row of its own; with the
     * clients' rows stored, the repetition was done */
    bool clients[] = { true, false, true };
    p = decide_resume(net, w, clients, 3, 2, keep);
    assert_true(p.skip);
    assert_int_equal(p.measurers, 0);
    /* nobody here, but rows of workers not here now: done */
    p = decide_resume(all, w, none, 0, 1, keep);
    assert_true(p.skip);
    /* nobody here and no rows: not a skip (the phase has nobody) */
    p = decide_resume(all, w, none, 0, 0, keep);
    assert_false(p.skip);
    experiment_destroy(&exp);
}

static void test_run_status(void **state)
{
    (void)state;
    struct run_counts k = { .ok = 10 };
    assert_int_equal(decide_run_status(&k), RUN_COMPLETE);
    k.failed = 1;
    assert_int_equal(decide_run_status(&k), RUN_PARTIAL);
    k = (struct run_counts){ .ok = 10, .lost = 1 };
    assert_int_equal(decide_run_status(&k), RUN_PARTIAL);
    k = (struct run_counts){ .ok = 10, .shortfall = true }; /* someone absent */
    assert_int_equal(decide_run_status(&k), RUN_PARTIAL);
    k = (struct run_counts){ .ok = 10, .uncovered = true };
    assert_int_equal(decide_run_status(&k), RUN_PARTIAL);
    k = (struct run_counts){ .ok = 0, .failed = 4 }; /* not one result ok */
    assert_int_equal(decide_run_status(&k), RUN_FAILED);
    k = (struct run_counts){ .ok = 10, .stopped = true }; /* interrupted */
    assert_int_equal(decide_run_status(&k), RUN_FAILED);
    /* statuses are not exit codes: the command line maps them */
    assert_string_equal(run_status_name(RUN_COMPLETE), "complete");
    assert_string_equal(run_status_name(RUN_PARTIAL), "partial");
    assert_string_equal(run_status_name(RUN_FAILED), "failed");
}

#define S 1000000000LL /* ns */

/* A refused peer retries: the log names it once per interval, and one
 * whose address was not read in time waits for one whose address was (CI
 * saw "refused a connection from ?" where the test wanted the address). */
static void test_refusal_log(void **state)
{
    (void)state;
    const int64_t ival = 10 * S, t0 = 1000 * S;
    struct refusal_log r = { 0 };
    /* the first with an address: logged at once, nothing held */
    assert_int_equal(decide_refusal(&r, t0, true, ival), 0);
    /* within the interval: held, whatever the address */
    assert_int_equal(decide_refusal(&r, t0 + 1 * S, true, ival), -1);
    assert_int_equal(decide_refusal(&r, t0 + 2 * S, false, ival), -1);
    /* after it: logged, with the two held back */
    assert_int_equal(decide_refusal(&r, t0 + 11 * S, true, ival), 2);

    /* no address: held, and the next with an address is logged in its place */
    r = (struct refusal_log){ 0 };
    assert_int_equal(decide_refusal(&r, t0, false, ival), -1);
    assert_int_equal(decide_refusal_due(&r, t0 + 5 * S, ival, false), -1);
    assert_int_equal(decide_refusal(&r, t0 + 1 * S, false, ival), -1);
    assert_int_equal(decide_refusal(&r, t0 + 2 * S, true, ival), 2);
    assert_int_equal(decide_refusal_due(&r, t0 + 30 * S, ival, false), -1); /* nothing left */
    assert_int_equal(decide_refusal(&r, t0 + 3 * S, false, ival), -1); /* rate limit */

    /* no address ever: logged when it has waited a whole interval, by the
     * next refusal or, with none, between polls */
    r = (struct refusal_log){ 0 };
    assert_int_equal(decide_refusal(&r, t0, false, ival), -1);
    assert_int_equal(decide_refusal(&r, t0 + 10 * S, false, ival), 1);
    assert_int_equal(decide_refusal(&r, t0 + 15 * S, false, ival), -1);
    r = (struct refusal_log){ 0 };
    assert_int_equal(decide_refusal(&r, t0, false, ival), -1);
    assert_int_equal(decide_refusal(&r, t0 + 1 * S, false, ival), -1);
    assert_int_equal(decide_refusal_due(&r, t0 + 9 * S, ival, false), -1);
    assert_int_equal(decide_refusal_due(&r, t0 + 10 * S, ival, false), 1); /* itself and 1 more */
    assert_int_equal(decide_refusal_due(&r, t0 + 30 * S, ival, false), -1);
    /* the coordinator ending: whatever is held back is logged at once */
    struct refusal_log f = { 0 };
    assert_int_equal(decide_refusal(&f, t0, false, ival), -1);
    assert_int_equal(decide_refusal_due(&f, t0 + 1 * S, ival, false), -1);
    assert_int_equal(decide_refusal_due(&f, t0 + 1 * S, ival, true), 0);
    assert_int_equal(decide_refusal_due(&f, t0 + 2 * S, ival, true), -1);
    assert_false(decide_refusal_may_log(&f, t0 + 2 * S, ival));
    assert_true(decide_refusal_may_log(&f, t0 + 11 * S, ival));
    /* and the rate limit holds from that line */
    assert_int_equal(decide_refusal(&r, t0 + 12 * S, true, ival), -1);
    assert_int_equal(decide_refusal(&r, t0 + 21 * S, true, ival), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selected),
        cmocka_unit_test(test_takes_part),
        cmocka_unit_test(test_resume),
        cmocka_unit_test(test_run_status),
        cmocka_unit_test(test_refusal_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
