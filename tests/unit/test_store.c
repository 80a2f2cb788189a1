/* test_store.c — the results database: idempotent inserts, failed and lost
 * rows, counts, export formats, refusal of unusable paths, the headline
 * stored with each phase (schema 6) and its migration from older databases,
 * and readers that never need a benchmark's descriptor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/export.h"
#include "store/store_int.h"
#include "report/report.h"

static char s_dir[64];
static char s_db[128];

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/lockstep-store-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    snprintf(s_db, sizeof s_db, "%s/t.db", s_dir);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd);
}

static int64_t s_count(store_t *s, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(store_handle(s), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* A run with one phase and two workers, a, b. */
static store_t *s_fixture(int64_t *run)
{
    char err[256];
    store_t *s = store_open(s_db, err, sizeof err);
    assert_non_null(s);
    int64_t key = 0;
    *run = store_run_begin(s, "exp", "exp.yaml", "name: exp\n", 1000, "test 1 1", &key);
    assert_true(key > 0);
    assert_true(*run > 0);
    assert_int_equal(store_phase_put(s, *run, 0, "p0", "cpu", "lockstep", 2, "{}", NULL), 0);
    struct store_worker w = { .name = "a", .rank = 0, .platform = "native" };
    assert_int_equal(store_worker_put(s, *run, &w), 0);
    w.name = "b,\"quoted\"";
    w.rank = 1;
    w.platform = "docker";
    assert_int_equal(store_worker_put(s, *run, &w), 0);
    return s;
}

/* The run exported in FMT, as text the caller frees. */
static char *s_export(store_t *s, int64_t run, int fmt)
{
    char *buf = NULL, err[256];
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    if (store_export(s, run, fmt, out, err, sizeof err) != 0)
        fail_msg("export: %s", err);
    fclose(out);
    return buf;
}

static void test_idempotent(void **state)
{
    (void)state;
    int64_t run;
    store_t *s = s_fixture(&run);
    struct bench_metric m[2] = { { "events_per_sec", "events/s", 1234.5 }, { "events", "count", 99 } };
    struct bench_detail d[1] = { { "opt.max_prime", "10000" } };
    struct store_result r = { .phase = 0, .rep = 1, .worker = "a", .status = "ok",
                              .started_at = 5, .finished_at = 6, .metrics = m, .nmetrics = 2,
                              .details = d, .ndetails = 1 };
    assert_int_equal(store_result_put(s, run, &r), 0);
    /* a re-sent result, even with another value, changes nothing */
    m[0].value = 1;
    assert_int_equal(store_result_put(s, run, &r), 0);
    assert_int_equal(s_count(s, "SELECT COUNT(*) FROM results"), 2);
    assert_int_equal(s_count(s, "SELECT COUNT(*) FROM result_details"), 1);
    assert_int_equal(s_count(s, "SELECT value FROM results WHERE metric='events_per_sec'"), 1234);
    store_destroy(&s);
    assert_null(s);
}

static void test_failed_and_lost(void **state)
{
    (void)state;
    int64_t run;
    store_t *s = s_fixture(&run);
    struct bench_metric m = { "events_per_sec", "events/s", 77 };
    struct store_result r = { .phase = 0, .rep = 1, .worker = "a", .status = "ok",
                              .metrics = &m, .nmetrics = 1 };
    assert_int_equal(store_result_put(s, run, &r), 0);
    r.worker = "b,\"quoted\"";
    r.status = "failed";
    r.error = "fork: Resource temporarily unavailable";
    assert_int_equal(store_result_put(s, run, &r), 0);
    r.rep = 2;
    r.status = "lost";
    r.error = "no RESULT before the phase deadline";
    assert_int_equal(store_result_put(s, run, &r), 0);
    assert_int_equal(store_worker_lost(s, run, "b,\"quoted\"", 42, "gone", "p0"), 0);
    /* only ok rows carry a value */
    assert_int_equal(s_count(s, "SELECT COUNT(*) FROM results WHERE value IS NULL"), 2);
    int64_t ok, failed, lost;
    assert_int_equal(store_run_counts(s, run, &ok, &failed, &lost), 0);
    assert_int_equal(ok, 1);
    assert_int_equal(failed, 1);
    assert_int_equal(lost, 1);
    assert_int_equal(s_count(s, "SELECT lost_at FROM workers WHERE status='lost'"), 42);

    /* CSV: exact header, RFC 4180 quoting, empty value for failed rows */
    char *buf = s_export(s, run, EXPORT_CSV);
    assert_string_equal(buf,
                        "run,phase,bench,rep,worker,platform,metric,unit,value,status\n"
                        "1,p0,cpu,1,a,native,events_per_sec,events/s,77,ok\n"
                        "1,p0,cpu,1,\"b,\"\"quoted\"\"\",docker,events_per_sec,events/s,,failed\n"
                        "1,p0,cpu,2,\"b,\"\"quoted\"\"\",docker,events_per_sec,events/s,,lost\n");
    free(buf);

    /* JSON: escaped strings, null values, the reason kept */
    buf = s_export(s, run, EXPORT_JSON);
    assert_non_null(strstr(buf, "\"worker\": \"b,\\\"quoted\\\"\""));
    assert_non_null(strstr(buf, "\"value\": null, \"status\": \"failed\", \"error\": \"fork: "));
    assert_non_null(strstr(buf, "\"value\": 77, \"status\": \"ok\", \"error\": null"));
    free(buf);
    store_destroy(&s);
}

static void test_value_text_round_trips(void **state)
{
    (void)state;
    int64_t run;
    store_t *s = s_fixture(&run);
    struct bench_metric m = { "x", "u", 0.1 + 0.2 };
    struct store_result r = { .phase = 0, .rep = 1, .worker = "a", .status = "ok",
                              .metrics = &m, .nmetrics = 1 };
    assert_int_equal(store_result_put(s, run, &r), 0);
    char *buf = s_export(s, run, EXPORT_CSV);
    assert_non_null(strstr(buf, ",0.30000000000000004,ok\n"));
    free(buf);
    store_destroy(&s);
}

static void test_reopen_keeps_runs(void **state)
{
    (void)state;
    int64_t run;
    store_t *s = s_fixture(&run);
    assert_int_equal(store_run_end(s, run, "complete", 2000), 0);
    store_destroy(&s);
    char err[256];
    s = store_open(s_db, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(store_last_run(s), run);
    int64_t key1 = s_count(s, "SELECT key FROM runs"), key2;
    assert_int_equal(store_run_begin(s, "exp", NULL, NULL, 3000, NULL, &key2), run + 1);
    assert_true(key2 > 0 && key2 != key1);
    assert_int_equal(s_count(s, "SELECT COUNT(*) FROM runs WHERE status='complete'"), 1);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(store_handle(s), "PRAGMA journal_mode", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    store_destroy(&s);
}

static void test_unusable_paths(void **state)
{
    (void)state;
    char err[256];
    assert_null(store_open("/nonexistent-dir/x.db", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/x.db: cannot open database"));
    assert_null(store_open(s_dir, err, sizeof err)); /* a directory */
    assert_non_null(strstr(err, s_dir));
    /* a file that is not a database is refused and left as it was */
    char junk[128];
    snprintf(junk, sizeof junk, "%s/junk.db", s_dir);
    FILE *f = fopen(junk, "w");
    fputs("this is not an SQLite database, and it is long enough to have a header\n", f);
    fclose(f);
    assert_null(store_open(junk, err, sizeof err));
    assert_non_null(strstr(err, "junk.db: cannot use database"));
    f = fopen(junk, "r");
    char line[128];
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "this is not an SQLite database, and it is long enough to have a header\n");
}

/* The headline metric, its unit and pairing stored with each phase. */
static void test_phase_headline(void **state)
{
    (void)state;
    int64_t run;
    store_t *s = s_fixture(&run);
    assert_int_equal(store_phase_put(s, run, 1, "net", "iperf", "lockstep", 1, "{}", NULL), 0);
    assert_int_equal(store_phase_put(s, run, 2, "fut", "futurebench", "lockstep", 1, "{}", NULL),
                     0);
    assert_int_equal(s_count(s, "SELECT COUNT(*) FROM phases WHERE idx=0 AND"
                                " headline_metric='events_per_sec' AND headline_unit='events/s' AND paired=0"), 1);
    assert_int_equal(s_count(s, "SELECT COUNT(*) FROM phases WHERE idx=1 AND"
                                " headline_metric='received_Mbps' AND headline_unit='Mbit/s' AND paired=1"), 1);
    /* a benchmark this build does not know: nothing made up */
    assert_int_equal(s_count(s, "SELECT COUNT(*) FROM phases WHERE idx=2 AND headline_metric IS NULL"
                                " AND headline_unit IS NULL AND paired IS NULL"), 1);
    assert_int_equal(s_count(s, "SELECT value FROM meta WHERE key='schema_version'"), 6);
    store_destroy(&s);
}

/* Turn the fixture's database into what a schema 5 coordinator wrote. */
static void s_make_schema5(void)
{
    int64_t run;
    store_t *s = s_fixture(&run);
    assert_int_equal(store_phase_put(s, run, 1, "net", "iperf", "lockstep", 1, "{}", NULL), 0);
    sqlite3 *db = store_handle(s);
    assert_int_equal(sqlite3_exec(db, "ALTER TABLE phases DROP COLUMN headline_metric;"
                                      "ALTER TABLE phases DROP COLUMN headline_unit;"
                                      "ALTER TABLE phases DROP COLUMN paired;"
                                      "UPDATE meta SET value='5' WHERE key='schema_version'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    store_destroy(&s);
}

/* An older database gets the columns, filled from the descriptors, when
 * opened for writing, and in the read-only reader's copy in memory (the
 * file itself left at schema 5). */
static void test_migrate_headline(void **state)
{
    (void)state;
    char err[256];
    bool foreign = true;
    s_make_schema5();
    store_t *s = store_open_readonly(s_db, err, sizeof err, &foreign);
    assert_non_null(s);
    assert_int_equal(s_count(s, "SELECT COUNT(*) FROM phases WHERE bench='iperf' AND paired=1"
                                " AND headline_metric='received_Mbps' AND headline_unit='Mbit/s'"), 1);
    assert_int_equal(s_count(s, "SELECT COUNT(*) FROM phases WHERE bench='cpu' AND paired=0"
                                " AND headline_metric='events_per_sec'"), 1);
    store_destroy(&s);
    s = store_open(s_db, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(s_count(s, "SELECT value FROM meta WHERE key='schema_version'"), 6);
    assert_int_equal(s_count(s, "SELECT COUNT(*) FROM phases WHERE headline_metric IS NOT NULL"
                                " AND headline_unit IS NOT NULL AND paired IS NOT NULL"), 2);
    store_destroy(&s);
}

/* A phase of a benchmark this build does not have (as iperf is to a build
 * without libiperf), with its headline stored by the coordinator that ran
 * it: the summary, the export and the report read it all the same, and the
 * headline is the stored one even where another metric has values. */
static void test_unknown_bench_read(void **state)
{
    (void)state;
    int64_t run;
    store_t *s = s_fixture(&run);
    assert_int_equal(store_phase_put(s, run, 1, "fut", "futurebench", "lockstep", 1, "{}", NULL),
                     0);
    assert_int_equal(sqlite3_exec(store_handle(s), "UPDATE phases SET headline_metric='widgets_per_sec',"
                                  " headline_unit='widgets/s', paired=0 WHERE idx=1", NULL, NULL, NULL),
                     SQLITE_OK);
    struct bench_metric m[2] = { { "gadgets", "count", 3 }, { "widgets_per_sec", "widgets/s", 42 } };
    struct store_result r = { .phase = 1, .rep = 1, .worker = "a", .status = "ok",
                              .metrics = m, .nmetrics = 2 };
    assert_int_equal(store_result_put(s, run, &r), 0);
    char *buf = NULL, err[256];
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(store_summary(s, run, out), 0);
    fclose(out);
    assert_non_null(strstr(buf, "fut                  futurebench widgets_per_sec  a"));
    free(buf);
    char metric[64];
    assert_int_equal(export_phase_metric(s, run, 1, metric, sizeof metric), 0);
    assert_string_equal(metric, "widgets_per_sec");
    buf = s_export(s, run, EXPORT_CSV);
    assert_non_null(strstr(buf, "1,fut,futurebench,1,a,native,widgets_per_sec,widgets/s,42,ok\n"));
    free(buf);
    report_t *rep = report_load(s, run, NULL, err, sizeof err);
    assert_non_null(rep);
    assert_int_equal(rep->nphases, 2);
    assert_string_equal(rep->phases[1].bench, "futurebench");
    assert_string_equal(rep->phases[1].metric, "widgets_per_sec");
    assert_string_equal(rep->phases[1].unit, "widgets/s");
    assert_int_equal(rep->phases[1].ngroups, 1);
    assert_true(rep->phases[1].groups[0].st.median == 42);
    report_destroy(&rep);
    store_destroy(&s);
}

/* A network phase is known by its stored pairing, not by its name: its
 * peers are read for any paired benchmark, and never for an unpaired one. */
static void test_paired_from_store(void **state)
{
    (void)state;
    int64_t run;
    store_t *s = s_fixture(&run);
    assert_int_equal(store_phase_put(s, run, 1, "up", "netbench", "lockstep", 1, "{}", NULL), 0);
    assert_int_equal(store_phase_put(s, run, 2, "up2", "iperf", "lockstep", 1, "{}", NULL), 0);
    assert_int_equal(sqlite3_exec(store_handle(s),
                                  "UPDATE phases SET headline_metric='mbps', headline_unit='Mbit/s', paired=1"
                                  " WHERE idx=1; UPDATE phases SET paired=0 WHERE idx=2",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    struct bench_metric m1 = { "mbps", "Mbit/s", 900 }, m2 = { "received_Mbps", "Mbit/s", 9 };
    struct bench_detail d = { "server.worker", "local-9" };
    struct store_result r = { .phase = 1, .rep = 1, .worker = "a", .status = "ok",
                              .metrics = &m1, .nmetrics = 1, .details = &d, .ndetails = 1 };
    assert_int_equal(store_result_put(s, run, &r), 0);
    r.phase = 2;
    r.metrics = &m2;
    assert_int_equal(store_result_put(s, run, &r), 0);
    char err[256];
    report_t *rep = report_load(s, run, NULL, err, sizeof err);
    assert_non_null(rep);
    assert_int_equal(rep->phases[1].net, RNET_LOCAL);
    assert_string_equal(rep->phases[1].peers, "local-9");
    assert_int_equal(rep->phases[2].net, RNET_NONE);
    report_destroy(&rep);
    store_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_idempotent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_failed_and_lost, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_value_text_round_trips, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_runs, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unusable_paths, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_phase_headline, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_headline, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_bench_read, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_paired_from_store, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
