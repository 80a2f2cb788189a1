/* test_experiment.c — the experiment loader: the shipped smoke experiment
 * loads, defaults are applied, and every kind of mistake is reported with the
 * exact line, column and wording a user will see.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/experiment.h"

#define MS 1000000LL
#define SEC 1000000000LL

/* Parse text as "t.yaml"; *diag gets everything written to diag. */
static int s_parse(const char *text, struct experiment **exp, char **diag)
{
    size_t len = 0;
    *diag = NULL;
    FILE *f = open_memstream(diag, &len);
    assert_non_null(f);
    int rc = experiment_parse("t.yaml", text, strlen(text), exp, f);
    fclose(f);
    return rc;
}

/* Parse text expecting exactly the problems in want (all lines, in order). */
static void s_expect(const char *text, int count, const char *want)
{
    struct experiment *exp = (struct experiment *)(uintptr_t)1;
    char *diag = NULL;
    int rc = s_parse(text, &exp, &diag);
    if (strcmp(diag, want) != 0)
        print_message("--- input:\n%s--- got:\n%s--- want:\n%s", text, diag, want);
    assert_string_equal(diag, want);
    assert_int_equal(rc, count);
    assert_null(exp);
    free(diag);
}

/* Parse text expecting success. */
static struct experiment *s_ok(const char *text)
{
    struct experiment *exp = NULL;
    char *diag = NULL;
    int rc = s_parse(text, &exp, &diag);
    if (rc != 0)
        print_message("--- input:\n%s--- problems:\n%s", text, diag);
    assert_int_equal(rc, 0);
    assert_string_equal(diag, "");
    assert_non_null(exp);
    free(diag);
    return exp;
}

/* The source tree, found from this file's own path. */
static char *s_source_path(const char *rel)
{
    const char *me = __FILE__, *tail = "tests/unit/test_experiment.c";
    size_t n = strlen(me), m = strlen(tail);
    if (n < m || strcmp(me + n - m, tail) != 0)
        fail_msg("cannot find the source tree from __FILE__ = %s", me);
    char *path = malloc(n - m + strlen(rel) + 1);
    assert_non_null(path);
    memcpy(path, me, n - m);
    strcpy(path + n - m, rel);
    return path;
}

/* "null, cpu, ..." — every registered benchmark, as the loader lists them,
 * so that adding a plug-in does not change what these tests expect. */
static const char *s_known(void)
{
    static char list[512];
    size_t used = 0;
    const struct bench_ops *const *all = bench_all();
    for (size_t i = 0; all[i]; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 all[i]->name);
    return list;
}

/* --- valid files --------------------------------------------------------- */

static void test_smoke_loads(void **state)
{
    (void)state;
    char *path = s_source_path("experiments/smoke.yaml");
    struct experiment *exp = NULL;
    char *diag = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&diag, &len);
    int rc = experiment_load(path, &exp, f);
    fclose(f);
    if (rc != 0)
        print_message("%s", diag);
    assert_int_equal(rc, 0);
    assert_string_equal(diag, "");
    free(diag);
    assert_non_null(exp);
    assert_string_equal(exp->path, path);
    assert_string_equal(exp->name, "smoke");
    assert_non_null(exp->description);
    assert_non_null(strstr(exp->source, "name: smoke"));
    assert_true(exp->nphases >= 3);

    /* Every plug-in, both schedules, some repeated phases; and a budget:
     * with 3 workers a round-robin repetition costs 3 runs. */
    int seen_null = 0, seen_cpu = 0, seen_fork = 0, seen_ls = 0, seen_rr = 0, seen_reps2 = 0;
    int64_t total = 0;
    for (size_t i = 0; i < exp->nphases; i++) {
        const struct exp_phase *ph = &exp->phases[i];
        assert_non_null(ph->name);
        assert_non_null(ph->bench);
        assert_non_null(ph->opts);
        assert_true(ph->line > 0);
        seen_null |= ph->bench == bench_find("null");
        seen_cpu |= ph->bench == bench_find("cpu");
        seen_fork |= ph->bench == bench_find("fork");
        seen_ls |= ph->schedule == SCHED_LOCKSTEP;
        seen_rr |= ph->schedule == SCHED_ROUND_ROBIN;
        seen_reps2 |= ph->reps == 2;
        for (size_t j = 0; j < ph->nparams; j++)
            if (ph->bench == bench_find("cpu") && strcmp(ph->keys[j], "max_prime") == 0)
                assert_string_equal(ph->vals[j], "10000");
        int64_t run = ph->bench->expected_ns ? ph->bench->expected_ns(ph->opts) : 0;
        assert_true(run > 0 && run <= SEC); /* every phase is time-bounded and short */
        int runs = ph->schedule == SCHED_ROUND_ROBIN ? 3 : 1;
        total += (int64_t)ph->reps * runs * (run + exp->start_delay_ns);
    }
    assert_true(seen_null && seen_cpu && seen_fork && seen_ls && seen_rr && seen_reps2);
    assert_true(total < 20 * SEC);
    experiment_destroy(&exp);
    assert_null(exp);
    free(path);
}

/* skew_tolerance: none by default, top level for every phase, a phase's own wins */
static void test_skew_tolerance(void **state)
{
    (void)state;
    struct experiment *exp = s_ok("name: t\n"
                                  "skew_tolerance: 1ms\n"
                                  "phases:\n"
                                  "  - name: a\n"
                                  "    bench: null\n"
                                  "  - name: b\n"
                                  "    bench: null\n"
                                  "    skew_tolerance: 250us\n");
    assert_int_equal(exp->skew_tolerance_ns, MS);
    assert_int_equal(exp->phases[0].skew_tolerance_ns, MS);
    assert_int_equal(exp->phases[1].skew_tolerance_ns, 250000);
    experiment_destroy(&exp);
    exp = s_ok("name: t\nphases:\n  - name: a\n    bench: null\n");
    assert_int_equal(exp->phases[0].skew_tolerance_ns, 0);
    experiment_destroy(&exp);
    s_expect("name: t\nskew_tolerance: 0s\nphases:\n  - name: a\n    bench: null\n", 1,
             "t.yaml:2:17: skew_tolerance: 0s is out of range (allowed 1us..60s)\n");
}

/* liveness settings: heartbeat, missed_beats, rejoin (issue 7) */
static void test_liveness(void **state)
{
    (void)state;
    struct experiment *exp = s_ok("name: t\nphases:\n  - name: a\n    bench: null\n");
    assert_int_equal(exp->heartbeat_ns, 1000 * MS);
    assert_int_equal(exp->missed_beats, 3);
    assert_true(exp->rejoin);
    experiment_destroy(&exp);
    exp = s_ok("name: t\nheartbeat: 250ms\nmissed_beats: 5\nrejoin: false\n"
               "phases:\n  - name: a\n    bench: null\n");
    assert_int_equal(exp->heartbeat_ns, 250 * MS);
    assert_int_equal(exp->missed_beats, 5);
    assert_false(exp->rejoin);
    experiment_destroy(&exp);
    s_expect("name: t\nheartbeat: 10ms\nmissed_beats: 0\nrejoin: maybe\n"
             "phases:\n  - name: a\n    bench: null\n",
             3,
             "t.yaml:2:12: heartbeat: 10ms is out of range (allowed 50ms..60s)\n"
             "t.yaml:3:15: missed_beats: 0 is out of range (allowed 1..100)\n"
             "t.yaml:4:9: rejoin: 'maybe' is not true or false\n");
}

/* One rule for booleans: an experiment's keys (rejoin, interleave) and a
 * benchmark's boolean option (disk_seq's fsync) take and refuse the same
 * words — `rejoin: 1` once was an error while `fsync: 1` was true. */
static void test_bool_rule(void **state)
{
    (void)state;
    static const struct { const char *text; int value; } in[] = {
        { "true", 1 }, { "yes", 1 }, { "on", 1 }, { "1", 1 }, { "TRUE", 1 }, { "Yes", 1 },
        { "false", 0 }, { "no", 0 }, { "off", 0 }, { "0", 0 }, { "False", 0 }, { "OFF", 0 },
        { "maybe", -1 }, { "2", -1 }, { "y", -1 }, { "truee", -1 },
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "name: t\nrejoin: %s\ninterleave: %s\nphases:\n  - name: a\n"
                 "    bench: disk_seq\n    params: {fsync: %s}\n",
                 in[i].text, in[i].text, in[i].text);
        struct experiment *exp = NULL;
        int rc = experiment_parse("t.yaml", text, strlen(text), &exp, NULL);
        if (in[i].value < 0) {
            /* refused by all three keys alike */
            if (rc != 3)
                fail_msg("'%s': %d problems, want 3 (rejoin, interleave, fsync)", in[i].text, rc);
            continue;
        }
        if (rc != 0)
            fail_msg("'%s' refused (%d problems)", in[i].text, rc);
        const struct exp_phase *ph = &exp->phases[0];
        const struct opt_def *def = opt_find(ph->bench->options, "fsync");
        assert_non_null(def);
        bool fsync = *(const bool *)((const char *)ph->opts + def->offset);
        assert_int_equal(exp->rejoin, in[i].value);
        assert_int_equal(exp->interleave, in[i].value);
        assert_int_equal(fsync, in[i].value);
        experiment_destroy(&exp);
    }
}

static void test_defaults(void **state)
{
    (void)state;
    const char *text = "name: t\n"
                       "phases:\n"
                       "  - name: a\n"
                       "    bench: null\n";
    struct experiment *exp = s_ok(text);
    assert_string_equal(exp->path, "t.yaml");
    assert_string_equal(exp->source, text);
    assert_string_equal(exp->name, "t");
    assert_null(exp->description);
    assert_int_equal(exp->expect_count, 0);
    assert_null(exp->expect_names);
    assert_int_equal(exp->schedule, SCHED_LOCKSTEP);
    assert_int_equal(exp->reps, 1);
    assert_int_equal(exp->start_delay_ns, 200 * MS);
    assert_int_equal(exp->grace_ns, 10 * SEC);
    assert_int_equal(exp->nphases, 1);
    const struct exp_phase *ph = &exp->phases[0];
    assert_string_equal(ph->name, "a");
    /* a plain `null` is the benchmark's name, not YAML's null */
    assert_ptr_equal(ph->bench, bench_find("null"));
    assert_int_equal(ph->schedule, SCHED_LOCKSTEP);
    assert_int_equal(ph->reps, 1);
    assert_int_equal(ph->nparams, 0);
    assert_non_null(ph->opts);
    assert_int_equal(ph->timeout_ns, 0);
    assert_null(ph->workers);
    assert_int_equal(ph->nworkers, 0);
    assert_int_equal(ph->line, 3);
    experiment_destroy(&exp);
    assert_null(exp);
    experiment_destroy(&exp); /* twice is harmless */
    experiment_destroy(NULL);
}

static void test_fields_and_overrides(void **state)
{
    (void)state;
    struct experiment *exp = s_ok("# a comment first\n"
                                  "name: t-1.x\n"
                                  "description: \"two: words\"\n"
                                  "schedule: round-robin\n"
                                  "repetitions: 3\n"
                                  "start_delay: 1s\n"
                                  "grace: 0s\n"
                                  "phases:\n"
                                  "  - name: inherit\n"
                                  "    bench: \"null\"\n"
                                  "  - name: own\n"
                                  "    bench: cpu\n"
                                  "    schedule: lockstep\n"
                                  "    repetitions: 5\n"
                                  "    timeout: 30s\n"
                                  "    workers: [alpha, native]\n"
                                  "    params: {max_prime: 2000, time: 250ms}\n");
    assert_string_equal(exp->name, "t-1.x");
    assert_string_equal(exp->description, "two: words");
    assert_int_equal(exp->schedule, SCHED_ROUND_ROBIN);
    assert_int_equal(exp->reps, 3);
    assert_int_equal(exp->start_delay_ns, SEC);
    assert_int_equal(exp->grace_ns, 0);
    assert_int_equal(exp->nphases, 2);

    const struct exp_phase *a = &exp->phases[0], *b = &exp->phases[1];
    assert_ptr_equal(a->bench, bench_find("null"));
    assert_int_equal(a->schedule, SCHED_ROUND_ROBIN);
    assert_int_equal(a->reps, 3);
    assert_int_equal(a->line, 9);

    assert_string_equal(b->name, "own");
    assert_ptr_equal(b->bench, bench_find("cpu"));
    assert_int_equal(b->schedule, SCHED_LOCKSTEP);
    assert_int_equal(b->reps, 5);
    assert_int_equal(b->timeout_ns, 30 * SEC);
    assert_int_equal(b->nworkers, 2);
    assert_string_equal(b->workers[0], "alpha");
    assert_string_equal(b->workers[1], "native");
    assert_int_equal(b->nparams, 2);
    assert_string_equal(b->keys[0], "max_prime");
    assert_string_equal(b->vals[0], "2000");
    assert_string_equal(b->keys[1], "time");
    assert_string_equal(b->vals[1], "250ms");
    assert_non_null(b->opts);
    assert_int_equal(b->bench->expected_ns(b->opts), 250 * MS);
    assert_int_equal(b->line, 11);
    experiment_destroy(&exp);
}

static void test_sched_name(void **state)
{
    (void)state;
    assert_string_equal(sched_name(SCHED_LOCKSTEP), "lockstep");
    assert_string_equal(sched_name(SCHED_ROUND_ROBIN), "round-robin");
}

static void test_workers_count_and_list(void **state)
{
    (void)state;
    struct experiment *exp = s_ok("name: t\n"
                                  "workers: 3\n"
                                  "phases: [{name: a, bench: null}]\n");
    assert_int_equal(exp->expect_count, 3);
    assert_null(exp->expect_names);
    assert_int_equal(exp->nexpect_names, 0);
    experiment_destroy(&exp);

    exp = s_ok("name: t\n"
               "workers:\n"
               "  - alpha\n"
               "  - beta.lab\n"
               "phases:\n"
               "  - name: a\n"
               "    bench: null\n"
               "    workers: [beta.lab, docker]\n");
    assert_int_equal(exp->expect_count, 2);
    assert_int_equal(exp->nexpect_names, 2);
    assert_string_equal(exp->expect_names[0], "alpha");
    assert_string_equal(exp->expect_names[1], "beta.lab");
    assert_int_equal(exp->phases[0].nworkers, 2);
    experiment_destroy(&exp);
}

static void test_workers_bad(void **state)
{
    (void)state;
    s_expect("name: t\nworkers: 0\nphases: [{name: a, bench: null}]\n", 1,
             "t.yaml:2:10: workers: 0 is out of range (allowed 1..4096)\n");
    s_expect("name: t\nworkers: 4097\nphases: [{name: a, bench: null}]\n", 1,
             "t.yaml:2:10: workers: 4097 is out of range (allowed 1..4096)\n");
    s_expect("name: t\nworkers: many\nphases: [{name: a, bench: null}]\n", 1,
             "t.yaml:2:10: workers: expected a count (1..4096) or a list of worker names "
             "(found 'many')\n");
    s_expect("name: t\nworkers: []\nphases: [{name: a, bench: null}]\n", 1,
             "t.yaml:2:10: workers: the list is empty\n");
    s_expect("name: t\nworkers: [a, b, a, {x: 1}]\nphases: [{name: a, bench: null}]\n", 2,
             "t.yaml:2:17: workers: 'a' is listed twice\n"
             "t.yaml:2:20: each entry of 'workers' must be a name (found a map)\n");
    /* a phase's subset must name a listed worker or a platform */
    s_expect("name: t\n"
             "workers: [alpha, beta]\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: null\n"
             "    workers: [alpha, gamma, kvm]\n",
             1,
             "t.yaml:6:22: workers: 'gamma' is neither a worker listed at the top level nor a "
             "platform (native, docker, kvm, qemu)\n");
    s_expect("name: t\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: null\n"
             "    workers: native\n",
             1,
             "t.yaml:5:14: 'workers' must be a list of worker names or platforms "
             "(found 'native')\n");
}

/* --- syntax and document shape ------------------------------------------- */

static void test_syntax_error(void **state)
{
    (void)state;
    s_expect("name: t\n"
             "phases: [a, b\n",
             1,
             "t.yaml:3:1: YAML syntax error: did not find expected ',' or ']' "
             "(while parsing a flow sequence at line 2, column 9)\n");
    s_expect("name: t\n"
             "phases:\n"
             "  - name: a\n"
             "     bench: null\n",
             1,
             "t.yaml:4:11: YAML syntax error: mapping values are not allowed in this context\n");
    s_expect("name: t\n"
             "phases:\n"
             "\t- name: a\n",
             1,
             "t.yaml:3:1: YAML syntax error: found character that cannot start any token "
             "(a tab: YAML indents with spaces only)\n");
    /* bytes that are not UTF-8: libyaml gives an offset, we give a position */
    s_expect("name: t\n"
             "description: caf\xff\n",
             1,
             "t.yaml:2:17: YAML syntax error: invalid leading UTF-8 octet (byte 0xFF)\n");
    /* a syntax error in a second document stops everything too */
    s_expect("name: t\nphases: []\n---\n[\n", 1,
             "t.yaml:5:1: YAML syntax error: did not find expected node content "
             "(while parsing a flow node at line 5, column 1)\n");
}

static void test_empty_and_documents(void **state)
{
    (void)state;
    s_expect("", 1,
             "t.yaml:1:1: the file holds no experiment (expected a map with at least 'name' "
             "and 'phases')\n");
    s_expect("# only a comment\n\n# and another\n", 1,
             "t.yaml:1:1: the file holds no experiment (expected a map with at least 'name' "
             "and 'phases')\n");
    s_expect("name: t\n"
             "phases: [{name: a, bench: null}]\n"
             "---\n"
             "name: u\n",
             1, "t.yaml:3:1: a second document starts here; an experiment file holds exactly one\n");
    s_expect("- name: t\n", 1,
             "t.yaml:1:1: an experiment must be a map of settings with at least 'name' and "
             "'phases' (found a list)\n");
    s_expect("smoke\n", 1,
             "t.yaml:1:1: an experiment must be a map of settings with at least 'name' and "
             "'phases' (found 'smoke')\n");
}

/* --- keys ---------------------------------------------------------------- */

static void test_unknown_top_key(void **state)
{
    (void)state;
    s_expect("name: t\n"
             "phazes:\n"
             "  - name: a\n"
             "    bench: null\n",
             2,
             "t.yaml:1:1: missing required key 'phases'\n"
             "t.yaml:2:1: unknown key 'phazes' (expected one of: name, description, workers, "
             "schedule, repetitions, start_delay, grace, phases, platforms, expectations, "
             "skew_tolerance, heartbeat, missed_beats, rejoin, interleave, tools)\n");
}

static void test_unknown_phase_key(void **state)
{
    (void)state;
    s_expect("name: t\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: null\n"
             "    repetition: 2\n",
             1,
             "t.yaml:5:5: unknown key 'repetition' (expected one of: name, bench, schedule, "
             "repetitions, timeout, workers, params, servers, targets, skew_tolerance, reference_for)\n");
}

static void test_missing_keys(void **state)
{
    (void)state;
    s_expect("# header\n"
             "name: t\n"
             "description: no phases\n",
             1, "t.yaml:2:1: missing required key 'phases'\n");
    s_expect("description: nothing\n", 2,
             "t.yaml:1:1: missing required key 'name'\n"
             "t.yaml:1:1: missing required key 'phases'\n");
    s_expect("name: t\n"
             "phases:\n"
             "  - name: a\n"
             "  - bench: null\n",
             2,
             "t.yaml:3:5: missing required key 'bench'\n"
             "t.yaml:4:5: missing required key 'name'\n");
    s_expect("name: t\nphases: []\n", 1, "t.yaml:2:9: 'phases' must hold at least one phase\n");
}

static void test_duplicates(void **state)
{
    (void)state;
    s_expect("name: t\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: null\n"
             "  - name: b\n"
             "    bench: null\n"
             "  - name: a\n"
             "    bench: cpu\n",
             1, "t.yaml:7:11: duplicate phase name 'a' (first at line 3)\n");
    s_expect("name: t\n"
             "name: u\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: null\n"
             "    bench: cpu\n",
             2,
             "t.yaml:2:1: duplicate key 'name' (first at line 1)\n"
             "t.yaml:6:5: duplicate key 'bench' (first at line 5)\n");
    s_expect("name: t\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: null\n"
             "    params:\n"
             "      sleep: 1ms\n"
             "      sleep: 2ms\n",
             1, "t.yaml:7:7: duplicate option 'sleep' (first at line 6)\n");
}

static void test_wrong_types(void **state)
{
    (void)state;
    s_expect("name: [t]\n"
             "description: {a: b}\n"
             "phases: {a: b}\n",
             3,
             "t.yaml:1:7: 'name' must be a string (found a list)\n"
             "t.yaml:2:14: 'description' must be a string (found a map)\n"
             "t.yaml:3:9: 'phases' must be a list of phases (found a map)\n");
    s_expect("name: t\n"
             "phases:\n"
             "  - warmup\n"
             "  - name: b\n"
             "    bench: null\n"
             "    params: [sleep]\n"
             "  - name: c\n"
             "    bench: null\n"
             "    params:\n"
             "      sleep: [1ms]\n",
             3,
             "t.yaml:3:5: each phase must be a map with at least 'name' and 'bench' "
             "(found 'warmup')\n"
             "t.yaml:6:13: 'params' must be a map of option: value (found a list)\n"
             "t.yaml:10:14: 'sleep' must be a single value (found a list)\n");
    s_expect("name: my experiment\n"
             "phases:\n"
             "  - name: a/b\n"
             "    bench:\n",
             3,
             "t.yaml:1:7: name: 'my experiment' is not a valid name (use 1 to 128 letters, "
             "digits, '_', '.' or '-')\n"
             "t.yaml:3:11: name: 'a/b' is not a valid name (use 1 to 128 letters, digits, "
             "'_', '.' or '-')\n"
             "t.yaml:4:11: 'bench' must be a benchmark name (found nothing)\n");
}

/* --- values -------------------------------------------------------------- */

static void test_bad_schedule(void **state)
{
    (void)state;
    s_expect("name: t\n"
             "schedule: roundrobin\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: null\n"
             "    schedule: [lockstep]\n",
             2,
             "t.yaml:2:11: schedule: 'roundrobin' is not a schedule (expected one of: lockstep, "
             "round-robin)\n"
             "t.yaml:6:15: 'schedule' must be lockstep or round-robin (found a list)\n");
}

static void test_bad_numbers_and_durations(void **state)
{
    (void)state;
    s_expect("name: t\n"
             "repetitions: 0\n"
             "start_delay: 90s\n"
             "grace: soon\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: null\n"
             "    repetitions: two\n"
             "    timeout: 0.5ms\n",
             5,
             "t.yaml:2:14: repetitions: 0 is out of range (allowed 1..100000)\n"
             "t.yaml:3:14: start_delay: 90s is out of range (allowed 1ms..60s)\n"
             "t.yaml:4:8: grace: 'soon' is not a duration (seconds, or a number with an ns, us, "
             "ms, s, m or h suffix)\n"
             "t.yaml:8:18: repetitions: 'two' is not an integer (allowed 1..100000)\n"
             "t.yaml:9:14: timeout: 0.5ms is out of range (allowed 1ms..168h)\n");
    s_expect("name: t\nrepetitions: 100001\nphases: [{name: a, bench: null}]\n", 1,
             "t.yaml:2:14: repetitions: 100001 is out of range (allowed 1..100000)\n");
    /* a deadline the benchmark cannot meet */
    s_expect("name: t\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: cpu\n"
             "    timeout: 1s\n"
             "    params: {time: 2s}\n",
             1,
             "t.yaml:5:14: timeout: 1s is not longer than the 2s the benchmark is expected to "
             "run; every repetition would time out\n");
}

#ifdef LOCKSTEP_WITH_IPERF
/* Network phases: servers or targets, written where they are wrong. */
static void test_network_phases(void **state)
{
    (void)state;
    struct experiment *exp = s_ok("name: t\n"
                                  "phases:\n"
                                  "  - name: local\n"
                                  "    bench: iperf\n"
                                  "    servers: [native]\n"
                                  "  - name: public\n"
                                  "    bench: iperf\n"
                                  "    targets: [\"bouygues.iperf.fr:5200-5209\", \"[::1]:5201\"]\n");
    assert_int_equal(exp->phases[0].nservers, 1);
    assert_string_equal(exp->phases[0].servers[0], "native");
    assert_int_equal(exp->phases[1].ntargets, 2);
    assert_string_equal(exp->phases[1].targets[0].host, "bouygues.iperf.fr");
    assert_int_equal(exp->phases[1].targets[0].last, 5209);
    experiment_destroy(&exp);
    /* unknown worker as server, when the workers are named */
    s_expect("name: t\nworkers: [a, b]\nphases:\n  - name: p\n    bench: iperf\n"
             "    servers: [c]\n",
             1, "t.yaml:6:15: servers: 'c' is neither a worker listed at the top level nor a "
                "platform (native, docker, kvm, qemu)\n");
    /* empty target list, malformed range, port over 65535 */
    s_expect("name: t\nphases:\n  - name: p\n    bench: iperf\n    targets: []\n", 1,
             "t.yaml:5:14: targets: the list is empty\n");
    s_expect("name: t\nphases:\n  - name: p\n    bench: iperf\n"
             "    targets: [\"h:5201-\", \"h:5201-70000\"]\n",
             2,
             "t.yaml:5:15: targets: 'h:5201-': '5201-' is not a port or a port range first-last\n"
             "t.yaml:5:26: targets: 'h:5201-70000': port 70000 is out of range 1..65535\n");
    /* neither, both, and coordinator-owned options */
    s_expect("name: t\nphases:\n  - name: p\n    bench: iperf\n", 1,
             "t.yaml:3:5: benchmark 'iperf' needs 'servers' (workers that run the servers) or "
             "'targets' (public servers as host:port or host:first-last)\n");
    s_expect("name: t\nphases:\n  - name: p\n    bench: iperf\n    servers: [a]\n"
             "    targets: [\"h:1\"]\n",
             1, "t.yaml:6:14: a phase has either 'servers' (workers that serve) or 'targets' "
                "(public host:port), not both\n");
    s_expect("name: t\nphases:\n  - name: p\n    bench: iperf\n    servers: [a]\n"
             "    params: {peers: \"x:1\"}\n",
             1, "t.yaml:6:14: 'peers' is set by the coordinator for each client and server; "
                "use 'servers' or 'targets'\n");
    s_expect("name: t\nphases:\n  - name: p\n    bench: cpu\n    servers: [a]\n", 1,
             "t.yaml:5:14: 'servers' applies only to network benchmarks (iperf), not to 'cpu'\n");
}
#endif

static void test_unknown_bench(void **state)
{
    (void)state;
    char want[600];
    snprintf(want, sizeof want, "t.yaml:4:12: unknown benchmark 'cpux' (known: %s)\n", s_known());
    s_expect("name: t\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: cpux\n"
             "    params:\n"
             "      max_prime: 100\n",
             1, want);
}

static void test_bad_option_value(void **state)
{
    (void)state;
    /* points at the value, with the allowed range */
    s_expect("name: t\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: cpu\n"
             "    params:\n"
             "      time: 1s\n"
             "      max_prime: 1\n",
             1, "t.yaml:7:18: max_prime: 1 is out of range (allowed 3..1000000000)\n");
}

static void test_bad_option_unit(void **state)
{
    (void)state;
    s_expect("name: t\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: cpu\n"
             "    params: {max_prime: 100, time: 4Q}\n",
             1,
             "t.yaml:5:36: time: '4Q' is not a duration (seconds, or a number with an ns, us, "
             "ms, s, m or h suffix)\n");
}

static void test_unknown_option(void **state)
{
    (void)state;
    /* points at the key */
    s_expect("name: t\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: fork\n"
             "    params:\n"
             "      start: 1\n"
             "      stop: 10\n",
             1,
             "t.yaml:7:7: unknown option 'stop' for benchmark fork (known: start, end, time, "
             "events)\n");
}

static void test_cross_option(void **state)
{
    (void)state;
    /* each value is fine alone; together they are not: points at the params map */
    s_expect("name: t\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: fork\n"
             "    params:\n"
             "      start: 50\n"
             "      end: 10\n",
             1, "t.yaml:6:7: start (50) is greater than end (10)\n");
}

static void test_many_errors_at_once(void **state)
{
    (void)state;
    const char *text = "name: t\n"
                       "schedule: sometimes\n"
                       "colour: blue\n"
                       "phases:\n"
                       "  - name: a\n"
                       "    bench: cpu\n"
                       "    params:\n"
                       "      max_prime: 1\n"
                       "      time: 4Q\n"
                       "      speed: 11\n"
                       "  - name: a\n"
                       "    bench: nope\n";
    char want[1200];
    snprintf(want, sizeof want,
             "t.yaml:2:11: schedule: 'sometimes' is not a schedule (expected one of: lockstep, "
             "round-robin)\n"
             "t.yaml:3:1: unknown key 'colour' (expected one of: name, description, workers, "
             "schedule, repetitions, start_delay, grace, phases, platforms, expectations, "
             "skew_tolerance, heartbeat, missed_beats, rejoin, interleave, tools)\n"
             "t.yaml:8:18: max_prime: 1 is out of range (allowed 3..1000000000)\n"
             "t.yaml:9:13: time: '4Q' is not a duration (seconds, or a number with an ns, us, "
             "ms, s, m or h suffix)\n"
             "t.yaml:10:7: unknown option 'speed' for benchmark cpu (known: max_prime, threads, "
             "time, events)\n"
             "t.yaml:11:11: duplicate phase name 'a' (first at line 5)\n"
             "t.yaml:12:12: unknown benchmark 'nope' (known: %s)\n", s_known());
    s_expect(text, 7, want);
    /* and without a diagnostics stream the count is the same */
    struct experiment *exp = NULL;
    assert_int_equal(experiment_parse("t.yaml", text, strlen(text), &exp, NULL), 7);
    assert_null(exp);
}

static void test_odd_yaml(void **state)
{
    (void)state;
    /* a self-referencing alias must not send the loader round in circles */
    s_expect("name: t\nphases: &a [*a]\n", 1,
             "t.yaml:2:9: each phase must be a map with at least 'name' and 'bench' "
             "(found a list)\n");
    /* an alias repeats the node it names, positions included */
    s_expect("name: t\nphases: [&p {name: a, bench: null}, *p]\n", 1,
             "t.yaml:2:20: duplicate phase name 'a' (first at line 2)\n");
    s_expect("? [a]\n: b\nname: t\nphases: [{name: a, bench: null}]\n", 1,
             "t.yaml:1:3: a key must be a plain string (found a list)\n");
    s_expect("name: \"a\\0b\"\nphases: [{name: a, bench: null}]\n", 1,
             "t.yaml:1:7: 'name' contains a NUL character\n");
    /* scalars are taken literally: ~ is not YAML's null here either */
    s_expect("name: t\nphases: [{name: a, bench: null, params: {sleep: ~}}]\n", 1,
             "t.yaml:2:49: sleep: '~' is not a duration (seconds, or a number with an ns, us, "
             "ms, s, m or h suffix)\n");
}

/* --- list-valued options ------------------------------------------------- */

static void test_list_params(void **state)
{
    (void)state;
    /* a YAML sequence, flow or block, becomes the JSON text options travel as */
    struct experiment *exp = s_ok("name: t\n"
                                  "phases:\n"
                                  "  - name: a\n"
                                  "    bench: exec\n"
                                  "    params:\n"
                                  "      command: [sh, -c, \"echo 'n: 1'\"]\n"
                                  "      regex: 'n: ([0-9]+)'\n"
                                  "  - name: b\n"
                                  "    bench: exec\n"
                                  "    params:\n"
                                  "      command:\n"
                                  "        - printf\n"
                                  "        - \"%s\\t\\\"q\\\"\\\\\\n\"\n"
                                  "        - ''\n"
                                  "        - caf\xc3\xa9\n"
                                  "  - name: c\n"
                                  "    bench: exec\n"
                                  "    params: {command: '[\"true\"]'}\n");
    const struct exp_phase *a = &exp->phases[0], *b = &exp->phases[1], *c = &exp->phases[2];
    assert_int_equal(a->nparams, 2);
    assert_string_equal(a->keys[0], "command");
    assert_string_equal(a->vals[0], "[\"sh\",\"-c\",\"echo 'n: 1'\"]");
    assert_string_equal(a->vals[1], "n: ([0-9]+)");
    assert_non_null(a->opts);
    assert_string_equal(b->vals[0], "[\"printf\",\"%s\\t\\\"q\\\"\\\\\\n\",\"\",\"caf\xc3\xa9\"]");
    /* a scalar holding a JSON array is taken as it is */
    assert_string_equal(c->vals[0], "[\"true\"]");
    /* what travels parses on the worker and prints back the same */
    char err[256], buf[256];
    void *opts = NULL;
    const char *key = "command";
    assert_int_equal(bench_opts_parse(b->bench, &key, (const char *const *)&b->vals[0], 1, &opts,
                                      err, sizeof err), 0);
    assert_int_equal(opt_format(opt_find(b->bench->options, "command"), opts, buf, sizeof buf), 0);
    assert_string_equal(buf, b->vals[0]);
    bench_opts_destroy(b->bench, &opts);
    experiment_destroy(&exp);
}

static void test_list_params_bad(void **state)
{
    (void)state;
    s_expect("name: t\n"
             "phases:\n"
             "  - name: a\n"
             "    bench: cpu\n"
             "    params:\n"
             "      max_prime: [100, 200]\n"
             "  - name: b\n"
             "    bench: exec\n"
             "    params:\n"
             "      command: {sh: x}\n"
             "  - name: c\n"
             "    bench: exec\n"
             "    params:\n"
             "      command: [sh, [-c], {x: y}]\n"
             "  - name: d\n"
             "    bench: exec\n"
             "    params:\n"
             "      command: sh -c 'echo 1'\n"
             "  - name: e\n"
             "    bench: exec\n"
             "    params:\n"
             "      command:\n"
             "  - name: f\n"
             "    bench: exec\n"
             "    params:\n"
             "      command: []\n",
             7,
             "t.yaml:6:18: 'max_prime' must be a single value (found a list)\n"
             "t.yaml:10:16: 'command' must be a list of strings (found a map)\n"
             "t.yaml:14:21: each entry of 'command' must be a string (found a list)\n"
             "t.yaml:14:27: each entry of 'command' must be a string (found a map)\n"
             "t.yaml:18:16: command: 'sh -c 'echo 1'' is not a list of strings (write a JSON "
             "array, e.g. [\"sh\", \"-c\", \"echo hi\"])\n"
             "t.yaml:22:15: 'command' must be a list of strings (found nothing)\n"
             "t.yaml:26:7: command: the list is empty; give the program and its arguments, e.g. "
             "command: [sh, -c, \"echo 42\"]\n");
    /* an exec phase needs a command at all */
    s_expect("name: t\nphases: [{name: a, bench: exec}]\n", 1,
             "t.yaml:2:10: command: missing; give the program and its arguments, e.g. command: "
             "[sh, -c, \"echo 42\"]\n");
}

static void test_load_missing_file(void **state)
{
    (void)state;
    struct experiment *exp = (struct experiment *)(uintptr_t)1;
    char *diag = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&diag, &len);
    int rc = experiment_load("/nonexistent/x.yaml", &exp, f);
    fclose(f);
    assert_int_equal(rc, -1);
    assert_null(exp);
    assert_string_equal(diag, "/nonexistent/x.yaml: cannot read: No such file or directory\n");
    free(diag);
}

/* `platforms:`: kinds, or maps of settings; each setting only where it applies. */
static void test_platforms(void **state)
{
    (void)state;
    struct experiment *exp = s_ok(
        "name: t\n"
        "platforms:\n"
        "  - native\n"
        "  - docker\n"
        "  - {name: vm2, kind: qemu, cpus: 2, memory: 2G, disk: 512M, accel: tcg}\n"
        "  - {name: box, kind: docker, volume: /srv/lockstep, image: debian:12}\n"
        "phases:\n"
        "  - {name: p, bench: null, workers: [vm2, docker]}\n");
    assert_int_equal(exp->nplatforms, 4);
    assert_string_equal(exp->platforms[0].name, "native");
    assert_string_equal(exp->platforms[0].kind, "native");
    assert_string_equal(exp->platforms[2].name, "vm2");
    assert_string_equal(exp->platforms[2].kind, "qemu");
    assert_int_equal(exp->platforms[2].cpus, 2);
    assert_int_equal(exp->platforms[2].memory, 2LL << 30);
    assert_int_equal(exp->platforms[2].disk, 512LL << 20);
    assert_string_equal(exp->platforms[2].accel, "tcg");
    assert_int_equal(exp->platforms[2].line, 5);
    assert_string_equal(exp->platforms[3].volume, "/srv/lockstep");
    assert_string_equal(exp->platforms[3].image, "debian:12");
    assert_false(exp->schedule_set);
    assert_false(exp->phases[0].schedule_set);
    assert_int_equal(exp->platforms[0].role, LAUNCH_ROLE_MEASURED);
    experiment_destroy(&exp);

    /* role: server — an unmeasured server for network phases */
    exp = s_ok("name: t\nplatforms:\n  - native\n  - {name: server, kind: native, role: server}\n"
               "  - {name: d, kind: docker, role: measured}\n"
               "phases:\n  - {name: up, bench: iperf, servers: [server]}\n");
    assert_int_equal(exp->platforms[1].role, LAUNCH_ROLE_SERVER);
    assert_int_equal(exp->platforms[2].role, LAUNCH_ROLE_MEASURED);
    experiment_destroy(&exp);
    s_expect("name: t\nplatforms:\n  - {name: s, kind: native, role: referee}\n"
             "phases: [{name: p, bench: null}]\n", 1,
             "t.yaml:3:35: role: 'referee' is not a role (expected measured, or server: it only "
             "serves network phases)\n");

    /* a platform named in a phase counts as known when workers are listed */
    exp = s_ok("name: t\nworkers: [a]\nplatforms: [{name: vm2, kind: qemu}]\nschedule: lockstep\n"
               "phases:\n  - {name: p, bench: null, workers: [vm2]}\n");
    assert_true(exp->schedule_set);
    assert_true(exp->phases[0].schedule_set);
    experiment_destroy(&exp);
}

static void test_platforms_bad(void **state)
{
    (void)state;
    s_expect("name: t\nplatforms: [native, xen]\nphases: [{name: p, bench: null}]\n", 1,
             "t.yaml:2:21: platform 'xen': unknown kind 'xen' (expected one of: native, docker, "
             "qemu, kvm; a name of your own needs 'kind')\n");
    s_expect("name: t\nplatforms:\n  - {name: q, kind: qemu, volume: /x, cpus: 0}\n"
             "phases: [{name: p, bench: null}]\n", 2,
             "t.yaml:3:35: 'volume' applies to docker platforms, not to 'q' (qemu)\n"
             "t.yaml:3:45: cpus: 0 is out of range (allowed 1..256)\n");
    s_expect("name: t\nplatforms:\n  - {name: d, kind: docker, disk: 1G, volume: rel}\n"
             "phases: [{name: p, bench: null}]\n", 2,
             "t.yaml:3:35: 'disk' applies to qemu and kvm platforms, not to 'd' (docker)\n"
             "t.yaml:3:47: volume: 'rel' must be an absolute path on this host\n");
    s_expect("name: t\nplatforms:\n  - {name: q, kind: kvm, memory: 10K, accel: hvf}\n"
             "phases: [{name: p, bench: null}]\n", 2,
             "t.yaml:3:34: memory: '10K' is not a size from 64M to 16T (a number with a K, M, G "
             "or T suffix)\n"
             "t.yaml:3:46: accel: 'hvf' is not an accelerator (expected tcg or kvm)\n");
    s_expect("name: t\nplatforms: [docker, {name: docker, kind: docker}]\n"
             "phases: [{name: p, bench: null}]\n", 1,
             "t.yaml:2:21: platforms: 'docker' is listed twice (first at line 2); give the second "
             "a name of its own and 'kind: docker'\n");
    s_expect("name: t\nplatforms: {native: 1}\nphases: [{name: p, bench: null}]\n", 1,
             "t.yaml:2:12: 'platforms' must be a list of platform kinds (native, docker, qemu, "
             "kvm) or maps of settings (found a map)\n");
    s_expect("name: t\nplatforms: [{kind: qemu}]\nphases: [{name: p, bench: null}]\n", 1,
             "t.yaml:2:13: a platform needs a 'name' (the worker's name)\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smoke_loads),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_skew_tolerance),
        cmocka_unit_test(test_liveness),
        cmocka_unit_test(test_bool_rule),
        cmocka_unit_test(test_fields_and_overrides),
        cmocka_unit_test(test_sched_name),
        cmocka_unit_test(test_workers_count_and_list),
        cmocka_unit_test(test_workers_bad),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_empty_and_documents),
        cmocka_unit_test(test_unknown_top_key),
        cmocka_unit_test(test_unknown_phase_key),
        cmocka_unit_test(test_missing_keys),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_bad_schedule),
        cmocka_unit_test(test_bad_numbers_and_durations),
        cmocka_unit_test(test_unknown_bench),
#ifdef LOCKSTEP_WITH_IPERF
        cmocka_unit_test(test_network_phases),
#endif
        cmocka_unit_test(test_bad_option_value),
        cmocka_unit_test(test_bad_option_unit),
        cmocka_unit_test(test_unknown_option),
        cmocka_unit_test(test_cross_option),
        cmocka_unit_test(test_many_errors_at_once),
        cmocka_unit_test(test_odd_yaml),
        cmocka_unit_test(test_list_params),
        cmocka_unit_test(test_list_params_bad),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_platforms),
        cmocka_unit_test(test_platforms_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
