/* test_expect.c — expectations: the forms the documentation promises parse
 * (≈ and ~=, ± and +-, factors on either side, constants), malformed ones
 * are refused with the column of the problem, and evaluation against a table
 * of medians confirms, refutes or finds no data, with the numbers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/expect.h"
#include "model/experiment.h"

static struct expectation s_ok(const char *text)
{
    struct expectation e;
    char err[256] = "";
    size_t col = 0;
    if (expect_parse(text, &e, err, sizeof err, &col) != 0)
        fail_msg("'%s': %s (column %zu)", text, err, col);
    return e;
}

static void s_bad(const char *text, size_t col, const char *msg)
{
    struct expectation e;
    char err[256] = "";
    size_t at = 999;
    assert_int_equal(expect_parse(text, &e, err, sizeof err, &at), -1);
    if (strcmp(err, msg) != 0)
        fail_msg("'%s': message '%s', expected '%s'", text, err, msg);
    if (at != col)
        fail_msg("'%s': column %zu, expected %zu (%s)", text, at, col, err);
}

static void s_canon(const char *text, const char *canon)
{
    struct expectation e = s_ok(text);
    char buf[256];
    expect_format(&e, buf, sizeof buf);
    assert_string_equal(buf, canon);
}

static void test_parse_forms(void **state)
{
    (void)state;
    struct expectation e = s_ok("cpu: qemu < 0.5 * native");
    assert_string_equal(e.phase, "cpu");
    assert_string_equal(e.lhs.platform, "qemu");
    assert_true(e.lhs.factor == 1);
    assert_int_equal(e.op, EXPECT_LT);
    assert_string_equal(e.rhs.platform, "native");
    assert_true(e.rhs.factor == 0.5);

    e = s_ok("diskRand: kvm ≈ native ± 10%");
    assert_int_equal(e.op, EXPECT_APPROX);
    assert_true(e.tol == 10 && e.tol_percent);
    e = s_ok("diskRand:kvm~=native+-10%");
    assert_int_equal(e.op, EXPECT_APPROX);
    assert_true(e.tol == 10 && e.tol_percent);
    e = s_ok("uplink: docker ≈ kvm ± 50");
    assert_true(e.tol == 50 && !e.tol_percent);

    s_canon("uplink: docker >= kvm", "uplink: docker ≥ kvm");
    s_canon("uplink:docker<=kvm", "uplink: docker ≤ kvm");
    s_canon("fork: qemu ≤ native × 0.5", "fork: qemu ≤ 0.5 × native");
    s_canon("fork: 2*qemu > native", "fork: 2 × qemu > native");
    s_canon("mem: native > 1e3", "mem: native > 1000");
    s_canon("mem: 500 < docker", "mem: 500 < docker");
    s_canon("  diskSeq :  kvm   ~=   native   +-   .5 %  ", "diskSeq: kvm ≈ native ± 0.5%");
    s_canon("sync.phase-1: native-1 > local_2", "sync.phase-1: native-1 > local_2");
}

static void test_parse_errors(void **state)
{
    (void)state;
    s_bad("", 0, "expected 'PHASE: PLATFORM OP PLATFORM', e.g. 'cpu: qemu < 0.5 * native', "
                 "found the end");
    s_bad("cpu qemu < native", 4, "expected ':' after the phase name, found 'qemu'");
    s_bad("cpu: qemu", 9, "expected a comparison (<, <=, >, >=, ≈ or ~=), found the end");
    s_bad("cpu: qemu = native", 10, "expected a comparison (<, <=, >, >=, ≈ or ~=), found '='");
    s_bad("cpu: qemu < ", 12, "expected a platform or a number, found the end");
    s_bad("cpu: qemu < 0.5 *", 17, "expected a platform after '*', found the end");
    s_bad("cpu: qemu * x < native", 12, "expected a number after '*', found 'x'");
    s_bad("cpu: qemu < -1 * native", 12, "expected a platform or a number, found '-1'");
    s_bad("cpu: qemu ≈ native", 18, "≈ needs a tolerance, e.g. '± 10%', found the end");
    s_bad("cpu: qemu < native ± 10%", 19, "a tolerance (±) goes with ≈ only");
    s_bad("cpu: qemu ~= native +- ten", 23,
          "expected a tolerance after '±' (a number, or a percentage like 10%), found 'ten'");
    s_bad("cpu: qemu < native extra", 19, "unexpected 'extra' after the expectation");
    s_bad("cpu: 1 < 2", 5,
          "the expectation names no platform (compare a platform with another or with a number)");
    /* columns count characters: ≈ is one, though three bytes */
    s_bad("cpu: qemu ≈ native ± 10% !", 25, "unexpected '!' after the expectation");
    s_bad("cpu: 0x10 < native", 6, "expected a comparison (<, <=, >, >=, ≈ or ~=), found 'x10'");
}

/* medians: native 1000, docker 990, kvm 950, qemu 100 — like the course's
 * cpu figure; "ghost" has no results */
static bool s_lookup(void *ctx, const char *phase, const char *platform, double *median)
{
    (void)ctx;
    static const struct { const char *p; double v; } t[] = {
        { "native", 1000 }, { "docker", 990 }, { "kvm", 950 }, { "qemu", 100 },
    };
    if (strcmp(phase, "cpu") != 0)
        return false;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].p, platform) == 0) {
            *median = t[i].v;
            return true;
        }
    return false;
}

static expect_verdict_t s_eval(const char *text, char *why, size_t len)
{
    struct expectation e = s_ok(text);
    return expect_eval(&e, s_lookup, NULL, why, len);
}

static void test_eval(void **state)
{
    (void)state;
    char why[512];
    assert_int_equal(s_eval("cpu: qemu < 0.5 * native", why, sizeof why), EXPECT_CONFIRMED);
    assert_string_equal(why, "qemu 100 < 0.5 × native 1000 = 500; qemu/native = 0.1");
    assert_int_equal(s_eval("cpu: qemu > 0.5 * native", why, sizeof why), EXPECT_REFUTED);
    assert_string_equal(why, "qemu 100 is not > 0.5 × native 1000 = 500; qemu/native = 0.1");
    assert_int_equal(s_eval("cpu: kvm ≈ native ± 10%", why, sizeof why), EXPECT_CONFIRMED);
    assert_string_equal(why, "kvm 950 ≈ native 1000 ± 10% (900 to 1100); differs by -5.0%");
    assert_int_equal(s_eval("cpu: kvm ~= native +- 4%", why, sizeof why), EXPECT_REFUTED);
    assert_string_equal(why,
                        "kvm 950 is not ≈ native 1000 ± 4% (960 to 1040); differs by -5.0%");
    assert_int_equal(s_eval("cpu: kvm ≈ docker ± 40", why, sizeof why), EXPECT_CONFIRMED);
    assert_int_equal(s_eval("cpu: kvm ≈ docker ± 39.9", why, sizeof why), EXPECT_REFUTED);
    /* boundaries: <= and >= include equality, < and > do not */
    assert_int_equal(s_eval("cpu: native <= 1000", why, sizeof why), EXPECT_CONFIRMED);
    assert_int_equal(s_eval("cpu: native < 1000", why, sizeof why), EXPECT_REFUTED);
    assert_int_equal(s_eval("cpu: 10 * qemu >= native", why, sizeof why), EXPECT_CONFIRMED);
    assert_string_equal(why, "10 × qemu 100 = 1000 ≥ native 1000; qemu/native = 0.1");
    assert_int_equal(s_eval("cpu: 10 * qemu > native", why, sizeof why), EXPECT_REFUTED);
    assert_int_equal(s_eval("cpu: docker >= kvm", why, sizeof why), EXPECT_CONFIRMED);
    /* missing data is neither confirmed nor refuted */
    assert_int_equal(s_eval("cpu: ghost > native", why, sizeof why), EXPECT_NO_DATA);
    assert_string_equal(why, "no result of phase cpu on platform ghost");
    assert_int_equal(s_eval("mem: docker > kvm", why, sizeof why), EXPECT_NO_DATA);
    assert_string_equal(why, "no result of phase mem on platform docker; "
                             "no result of phase mem on platform kvm");
    assert_string_equal(expect_verdict_name(EXPECT_REFUTED), "refuted");
}

/* In an experiment file: both YAML forms, and mistakes at FILE:LINE:COL. */
static char *s_load(const char *text, struct experiment **exp)
{
    char *diag = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&diag, &len);
    experiment_parse("e.yaml", text, strlen(text), exp, f);
    fclose(f);
    return diag;
}

static const char *s_phases = "name: t\n"
                              "phases:\n"
                              "  - {name: cpu, bench: cpu}\n"
                              "  - {name: diskRand, bench: null}\n";

static void test_in_experiment(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof text,
             "%sexpectations:\n"
             "  - \"cpu: qemu < 0.5 * native\"\n"
             "  - diskRand: kvm ≈ native ± 10%%\n"
             "  - 'cpu: docker >= kvm'\n",
             s_phases);
    struct experiment *exp = NULL;
    char *diag = s_load(text, &exp);
    assert_string_equal(diag, "");
    assert_non_null(exp);
    assert_int_equal(exp->nexpectations, 3);
    assert_string_equal(exp->expectations[0], "cpu: qemu < 0.5 * native");
    assert_string_equal(exp->expectations[1], "diskRand: kvm ≈ native ± 10%");
    assert_string_equal(exp->expectations[2], "cpu: docker >= kvm");
    experiment_destroy(&exp);
    free(diag);

    snprintf(text, sizeof text,
             "%sexpectations:\n"
             "  - \"cpu: qemu << native\"\n"  /* 6: the second '<', after the quote */
             "  - diskRand: kvm ≈ native\n"    /* 7: the end of the value */
             "  - mem: kvm > native\n"         /* 8: unknown phase, at the key */
             "  - cpux qemu < native\n"        /* 9: ':' missing */
             "  - [cpu, qemu]\n"               /* 10: not a string */
             "  - 'cpu:  docker >= kvm ~'\n",  /* 11: '~' (≈ counts one column) */
             s_phases);
    diag = s_load(text, &exp);
    assert_null(exp);
    const char *want =
        "e.yaml:6:17: expectation: expected a platform or a number, found '<'\n"
        "e.yaml:7:27: expectation: ≈ needs a tolerance, e.g. '± 10%', found the end\n"
        "e.yaml:8:5: expectation about phase 'mem', which this experiment does not have "
        "(phases: cpu, diskRand)\n"
        "e.yaml:9:10: expectation: expected ':' after the phase name, found 'qemu'\n"
        "e.yaml:10:5: each expectation must be a string like \"cpu: qemu < 0.5 * native\" "
        "(found a list)\n"
        "e.yaml:11:26: expectation: unexpected '~' after the expectation\n";
    if (strcmp(diag, want) != 0)
        fail_msg("got:\n%swant:\n%s", diag, want);
    free(diag);

    snprintf(text, sizeof text, "%sexpectations: \"cpu: qemu < native\"\n", s_phases);
    diag = s_load(text, &exp);
    assert_null(exp);
    assert_non_null(strstr(diag, "e.yaml:5:15: 'expectations' must be a list"));
    free(diag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_eval),
        cmocka_unit_test(test_in_experiment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
