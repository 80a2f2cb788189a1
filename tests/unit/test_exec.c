/* test_exec.c — the exec benchmark: a command's number read by a regex or a
 * JSON pointer (the JSON reader fed hostile text too), every way a command
 * can fail reported as a reason, and nothing left behind — no process of the
 * command's group, no zombie, no descriptor — after a timeout, a stop or a
 * command that leaves children running.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench.h"
#include "plugins.h"
#include "bench_util.h"

/* Timing bounds are loose on purpose: CI machines are loaded. */
#define SLACK 5.0

static char s_dir[64]; /* the work directory of every run */

struct run {
    int rc;
    char err[256];
    struct bench_result res;
    double wall; /* seconds run() took */
};

/* kv: key, value, key, value, ..., NULL. */
static int s_parse(const char *const *kv, void **opts, char *err, size_t errlen)
{
    const char *keys[16], *vals[16];
    size_t n = 0;
    for (; kv[2 * n]; n++) {
        assert_true(n < 16);
        keys[n] = kv[2 * n];
        vals[n] = kv[2 * n + 1];
    }
    return bench_opts_parse(&bench_exec, keys, vals, n, opts, err, errlen);
}

/* Parse, prepare, run and clean up, as the worker does. */
static void s_exec_in(struct run *r, const char *dir, volatile sig_atomic_t *stop,
                      const char *const *kv)
{
    void *opts = NULL;
    char perr[256] = "";
    if (s_parse(kv, &opts, perr, sizeof perr) != 0)
        fail_msg("exec options rejected: %s", perr);
    memset(r, 0, sizeof *r);
    struct bench_ctx ctx = {.opts = opts, .workdir = dir, .stop = stop, .res = &r->res};
    double t0 = ut_now();
    r->rc = bench_exec.prepare(&ctx);
    if (r->rc == 0)
        r->rc = bench_exec.run(&ctx);
    bench_exec.cleanup(&ctx);
    r->wall = ut_now() - t0;
    assert_null(ctx.priv);
    snprintf(r->err, sizeof r->err, "%s", ctx.err);
    bench_opts_destroy(&bench_exec, &opts);
}

static void s_exec(struct run *r, const char *const *kv)
{
    s_exec_in(r, s_dir, NULL, kv);
}

/* Expect success: the run's value of metric. */
static double s_ok(const char *const *kv, const char *metric)
{
    struct run r;
    s_exec(&r, kv);
    if (r.rc != 0)
        fail_msg("exec failed: %s", r.err);
    for (size_t i = 0; i < r.res.nmetrics; i++)
        if (strcmp(r.res.metrics[i].name, metric) == 0)
            return r.res.metrics[i].value;
    fail_msg("no metric %s", metric);
    return 0;
}

/* Expect failure with exactly this reason. */
static void s_fails(const char *const *kv, const char *want)
{
    struct run r;
    s_exec(&r, kv);
    if (r.rc == 0 || strcmp(r.err, want) != 0)
        print_message("got rc %d, '%s'\nwant '%s'\n", r.rc, r.err, want);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err, want);
}

static void s_invalid(const char *const *kv, const char *want)
{
    void *opts = NULL;
    char err[256] = "";
    int rc = s_parse(kv, &opts, err, sizeof err);
    if (rc != -1)
        print_message("accepted, expected '%s'\n", want);
    assert_int_equal(rc, -1);
    assert_null(opts);
    if (strcmp(err, want) != 0)
        print_message("got  '%s'\nwant '%s'\n", err, want);
    assert_string_equal(err, want);
}

static const char *s_detail(const struct bench_result *res, const char *key)
{
    for (size_t i = 0; i < res->ndetails; i++)
        if (strcmp(res->details[i].key, key) == 0)
            return res->details[i].value;
    return NULL;
}

static void s_write(const char *name, const void *data, size_t len, mode_t mode)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static pid_t s_read_pid(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/pid", s_dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long pid = 0;
    assert_int_equal(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    unlink(path);
    assert_true(pid > 1);
    return (pid_t)pid;
}

/* Nothing of the group is left: no process (not even a zombie: kill() finds
 * those), and no child of ours at all. */
static void s_assert_gone(pid_t pgid)
{
    errno = 0;
    assert_int_equal(kill(-pgid, 0), -1);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static int s_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* --- options ------------------------------------------------------------- */

static void test_options(void **state)
{
    (void)state;
    void *opts = NULL;
    char err[256] = "";
    const char *const kv[] = {"command", "[\"true\"]", NULL};
    assert_int_equal(s_parse(kv, &opts, err, sizeof err), 0);
    assert_int_equal(bench_exec.expected_ns(opts), 60000000000LL); /* the timeout */
    struct bench_result res = {0};
    bench_result_params(&res, &bench_exec, opts);
    assert_string_equal(s_detail(&res, "opt.command"), "[\"true\"]");
    assert_string_equal(s_detail(&res, "opt.timeout"), "60");
    assert_string_equal(s_detail(&res, "opt.metric"), "value");
    assert_string_equal(s_detail(&res, "opt.regex"), "");
    bench_opts_destroy(&bench_exec, &opts);
    assert_string_equal(bench_exec.metric, "value");

    s_invalid((const char *const[]){"timeout", "5s", NULL},
              "command: missing; give the program and its arguments, e.g. command: "
              "[sh, -c, \"echo 42\"]");
    s_invalid((const char *const[]){"command", "[]", NULL},
              "command: the list is empty; give the program and its arguments, e.g. command: "
              "[sh, -c, \"echo 42\"]");
    s_invalid((const char *const[]){"command", "[\"\", \"x\"]", NULL},
              "command: the program (the first entry) is empty");
    s_invalid((const char *const[]){"command", "sh -c 'echo 1'", NULL},
              "command: 'sh -c 'echo 1'' is not a list of strings (write a JSON array, e.g. "
              "[\"sh\", \"-c\", \"echo hi\"])");
    s_invalid((const char *const[]){"command", "[\"x\"]", "timeout", "0", NULL},
              "timeout: 0s is out of range (allowed 1ms..24h)");
    s_invalid((const char *const[]){"command", "[\"x\"]", "metric", "events per s", NULL},
              "metric: 'events per s' is not a valid metric name (1 to 47 letters, digits, '_', "
              "'.' or '-')");
    s_invalid((const char *const[]){"command", "[\"x\"]", "unit", "furlongs per fortnight!!",
                                    NULL},
              "unit: 'furlongs per fortnight!!' is longer than 23 bytes");
    s_invalid((const char *const[]){"command", "[\"x\"]", "regex", "([0-9]+)", "json", "/a", NULL},
              "regex and json are both given: choose one way to read the metric");
    s_invalid((const char *const[]){"command", "[\"x\"]", "regex", "([0-9]+)", "metric",
                                    "time_s", NULL},
              "metric: time_s is the wall time, which exec records itself; choose another name");
}

static void test_bad_regex_and_pointer(void **state)
{
    (void)state;
    s_invalid((const char *const[]){"command", "[\"x\"]", "regex", "events: [0-9.]+", NULL},
              "regex: 'events: [0-9.]+' has 0 capture groups; it needs exactly one, around the "
              "number (e.g. 'events per second: *([0-9.]+)')");
    s_invalid((const char *const[]){"command", "[\"x\"]", "regex", "(a|b): ([0-9]+)", NULL},
              "regex: '(a|b): ([0-9]+)' has 2 capture groups; it needs exactly one, around the "
              "number (e.g. 'events per second: *([0-9.]+)')");
    void *opts = NULL;
    char err[256] = "";
    const char *const bad[] = {"command", "[\"x\"]", "regex", "([0-9]+", NULL};
    assert_int_equal(s_parse(bad, &opts, err, sizeof err), -1);
    assert_true(strncmp(err, "regex: '([0-9]+' is not a valid POSIX extended regular "
                             "expression: ", 66) == 0);
    static const char *const ptrs[] = {"a/b", "/a~2", "/a~", "~0"};
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) {
        char want[256];
        snprintf(want, sizeof want, "json: '%s' is not a JSON pointer (RFC 6901: empty for the "
                 "whole document, or /key/0/... with ~0 for ~ and ~1 for /, at most 1024 bytes "
                 "and 64 steps)", ptrs[i]);
        s_invalid((const char *const[]){"command", "[\"x\"]", "json", ptrs[i], NULL}, want);
    }
    char deep[64 * 2 + 3];
    for (int i = 0; i < 65; i++)
        memcpy(deep + 2 * i, "/a", 2);
    deep[130] = '\0';
    const char *const kv[] = {"command", "[\"x\"]", "json", deep, NULL};
    assert_int_equal(s_parse(kv, &opts, err, sizeof err), -1);
    deep[128] = '\0'; /* 64 steps are fine */
    assert_int_equal(s_parse(kv, &opts, err, sizeof err), 0);
    bench_opts_destroy(&bench_exec, &opts);
}

/* --- metrics ------------------------------------------------------------- */

static void test_regex(void **state)
{
    (void)state;
    struct run r;
    const char *const kv[] = {"command", "[\"sh\",\"-c\",\"echo 'events per second: 1234.5'\"]",
                              "regex", "events per second: *([0-9.]+)", NULL};
    s_exec(&r, kv);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.res.nmetrics, 2);
    assert_string_equal(r.res.metrics[0].name, "time_s");
    assert_string_equal(r.res.metrics[1].name, "value");
    assert_string_equal(r.res.metrics[1].unit, "");
    assert_true(r.res.metrics[1].value == 1234.5);
    assert_string_equal(s_detail(&r.res, "extracted"), "1234.5");
    assert_string_equal(s_detail(&r.res, "exit_status"), "0");
    assert_string_equal(s_detail(&r.res, "stdout_bytes"), "26");
    assert_string_equal(s_detail(&r.res, "stderr_bytes"), "0");
    assert_null(s_detail(&r.res, "stderr_tail"));
    assert_string_equal(s_detail(&r.res, "command"),
                        "[\"sh\",\"-c\",\"echo 'events per second: 1234.5'\"]");

    /* the first match; ^ and $ work per line; name and unit as given */
    assert_true(s_ok((const char *const[]){"command", "[\"printf\", \"x: 1\\nx: 2\\n\"]", "regex",
                                           "x: ([0-9]+)", NULL}, "value") == 1);
    assert_true(s_ok((const char *const[]){"command",
                                           "[\"printf\", \"a total: 5\\ntotal: -7e1 \\n\"]",
                                           "regex", "^total: ([-0-9e.]+)", "metric", "total",
                                           "unit", "ops", NULL}, "total") == -70);
    /* argv goes to the program as it is: no shell expands $((2+3)) */
    assert_true(s_ok((const char *const[]){"command", "[\"echo\", \"$((2+3))\"]", "regex",
                                           "([0-9]+)", NULL}, "value") == 2);
    assert_true(s_ok((const char *const[]){"command", "[\"expr\", \"2\", \"+\", \"3\"]", "regex",
                                           "([0-9]+)", NULL}, "value") == 5);
    /* output with a NUL before the number */
    assert_true(s_ok((const char *const[]){"command", "[\"printf\", \"a\\\\0b n=42\"]", "regex",
                                           "n=([0-9]+)", NULL}, "value") == 42);

    s_fails((const char *const[]){"command", "[\"echo\", \"hello\"]", "regex", "n=([0-9]+)",
                                  NULL},
            "exec: regex 'n=([0-9]+)' matched nothing in 6 bytes of output");
    s_fails((const char *const[]){"command", "[\"echo\", \"n=abc\"]", "regex", "n=(.*)", NULL},
            "exec: regex 'n=(.*)' captured 'abc', which is not a number");
    s_fails((const char *const[]){"command", "[\"echo\", \"n=0x10\"]", "regex", "n=(.*)", NULL},
            "exec: regex 'n=(.*)' captured '0x10', which is not a number");
    s_fails((const char *const[]){"command", "[\"echo\", \"n=\"]", "regex", "n=(x)?", NULL},
            "exec: regex 'n=(x)?' matched, but its group took no part in the match");
    s_fails((const char *const[]){"command", "[\"true\"]", "regex", "n=([0-9]+)", NULL},
            "exec: the command printed nothing, so regex 'n=([0-9]+)' found no number");
    s_fails((const char *const[]){"command", "[\"true\"]", "json", "/a", NULL},
            "exec: the command printed nothing, so json pointer '/a' found no number");
}

static void test_wall_time(void **state)
{
    (void)state;
    struct run r;
    s_exec(&r, (const char *const[]){"command", "[\"sleep\", \"0.2\"]", NULL});
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.res.nmetrics, 2);
    assert_string_equal(r.res.metrics[1].name, "value");
    assert_string_equal(r.res.metrics[1].unit, "s");
    assert_true(r.res.metrics[1].value >= 0.2 && r.res.metrics[1].value < 0.2 + SLACK);
    assert_true(r.res.metrics[0].value == r.res.metrics[1].value);
    double t = s_ok((const char *const[]){"command", "[\"true\"]", "metric", "elapsed", NULL},
                    "elapsed");
    assert_true(t > 0 && t < SLACK);
}

static void test_json(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"jobs\": [{\"jobname\": \"a\", \"read\": {\"iops\": 1234.5, \"bw\": 10}}],\n"
        " \"a/b\": {\"m~n\": 7}, \"\": {\"x\": 3}, \"arr\": [[1, 2], [3, [4, 5e2]]],\n"
        " \"dup\": 1, \"dup\": 2, \"esc\\u0041pe\\/\": 9, \"s\": \"12\", \"neg\": -0.5e-3,\n"
        " \"t\": true, \"n\": null, \"\\ud83d\\ude00\": 11, \"deep\": {\"e\": []}}\n";
    s_write("doc.json", doc, strlen(doc), 0644);
    static const struct {
        const char *ptr;
        double want;
    } ok[] = {
        {"/jobs/0/read/iops", 1234.5}, {"/jobs/0/read/bw", 10}, {"/a~1b/m~0n", 7},
        {"//x", 3}, {"/arr/1/1/1", 500}, {"/arr/0/0", 1}, {"/dup", 1},
        {"/neg", -0.0005}, {"/\xf0\x9f\x98\x80", 11}, {"/escApe~1", 9},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double v = s_ok((const char *const[]){"command", "[\"cat\", \"doc.json\"]", "json",
                                              ok[i].ptr, NULL}, "value");
        if (v != ok[i].want)
            fail_msg("%s: got %g, want %g", ok[i].ptr, v, ok[i].want);
    }
    static const struct {
        const char *ptr, *why;
    } missing[] = {
        {"/jobs/1", "'/jobs' is an array without an element '1'"},
        {"/jobs/-", "'/jobs' is an array without an element '-'"},
        {"/arr/01", "'/arr' is an array without an element '01'"},
        {"/jobs/0/write", "'/jobs/0' has no member 'write'"},
        {"/jobs/0/jobname/x", "'/jobs/0/jobname' is a string, not an object or array"},
        {"/deep/e/0", "'/deep/e' is an array without an element '0'"},
        {"/nope/x", "the document has no member 'nope'"},
        {"/n/x", "'/n' is null, not an object or array"},
    };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        char want[256];
        snprintf(want, sizeof want, "exec: json pointer '%s' found nothing in %zu bytes of "
                 "output: %s", missing[i].ptr, strlen(doc), missing[i].why);
        s_fails((const char *const[]){"command", "[\"cat\", \"doc.json\"]", "json",
                                      missing[i].ptr, NULL}, want);
    }
    s_fails((const char *const[]){"command", "[\"cat\", \"doc.json\"]", "json", "/s", NULL},
            "exec: json pointer '/s' points at a string, not a number");
    s_fails((const char *const[]){"command", "[\"cat\", \"doc.json\"]", "json", "/t", NULL},
            "exec: json pointer '/t' points at true, not a number");
    s_fails((const char *const[]){"command", "[\"cat\", \"doc.json\"]", "json", "", NULL},
            "exec: json pointer '' points at an object, not a number");
    /* the empty pointer is the whole document */
    assert_true(s_ok((const char *const[]){"command", "[\"echo\", \" 42 \"]", "json", "",
                                           NULL}, "value") == 42);
}

/* Run the JSON reader over text through the whole plug-in; the reason. */
static void s_json_reason(const char *text, size_t len, const char *ptr, char *err, size_t errlen)
{
    struct run r;
    s_write("in.json", text, len, 0644);
    s_exec(&r, (const char *const[]){"command", "[\"cat\", \"in.json\"]", "json", ptr, NULL});
    snprintf(err, errlen, "%s", r.rc == 0 ? "(ok)" : r.err);
}

static void s_json_bad(const char *text, size_t len, const char *want)
{
    char err[256];
    s_json_reason(text, len, "/0", err, sizeof err);
    if (strcmp(err, want) != 0)
        print_message("input '%.60s'\ngot  '%s'\nwant '%s'\n", text, err, want);
    assert_string_equal(err, want);
}

static void test_json_hostile(void **state)
{
    (void)state;
    char want[256];
    size_t n = 10000;
    char *text = malloc(6 * n + 1);
    assert_non_null(text);

    /* deep nesting is an error, not a crash: no recursion in the reader */
    memset(text, '[', n);
    s_json_bad(text, n, "exec: stdout is not JSON: containers nested too deeply at byte 513 of "
                        "10000 bytes of output");
    for (size_t i = 0; i < n; i++)
        memcpy(text + 5 * i, "{\"a\":", 5);
    s_json_bad(text, 5 * n, "exec: stdout is not JSON: containers nested too deeply at byte 2561 "
                            "of 50000 bytes of output");
    /* 512 levels are read */
    memset(text, '[', 512);
    text[512] = '1';
    memset(text + 513, ']', 512);
    char err[256];
    s_json_reason(text, 1025, "/0", err, sizeof err);
    assert_string_equal(err, "exec: json pointer '/0' points at an array, not a number");

    static const struct {
        const char *text, *why;
        size_t at;
    } bad[] = {
        {"[1, 2", "the text ends early", 6},
        {"{\"a\": [1, {\"b\": ", "the text ends early", 17},
        {"{\"a\": \"x", "a string is not closed", 7},
        {"[1] x", "more text after the JSON value", 5},
        {"[1][2]", "more text after the JSON value", 4},
        {"[01]", "expected ',' or ']'", 3},
        {"[1,]", "expected a value", 4},
        {"[,1]", "expected a value", 2},
        {"{\"a\" 1}", "expected ':'", 6},
        {"{1: 2}", "expected a string key", 2},
        {"{\"a\": 1,}", "expected a string key", 9},
        {"{\"a\": 1]", "expected ',' or '}'", 8},
        {"[1}", "expected ',' or ']'", 3},
        {"[\"\x01\"]", "a control character inside a string", 3},
        {"[\"a\nb\"]", "a control character inside a string", 4},
        {"[\"\\q\"]", "an unknown escape in a string", 3},
        {"[\"\\u12\"]", "\\u without four hex digits", 3},
        {"[\"\\u12", "\\u without four hex digits", 3},
        {"[\"\\", "a string is not closed", 2},
        {"[NaN]", "expected a value", 2},
        {"[Infinity]", "expected a value", 2},
        {"[-]", "a number without digits", 2},
        {"[1.]", "a number without digits after '.'", 4},
        {"[.5]", "expected a value", 2},
        {"[1e]", "a number without digits in its exponent", 4},
        {"[+1]", "expected a value", 2},
        {"[tru]", "expected a value", 2},
        {"[nul", "expected a value", 2},
        {"   \n", "there is no JSON value", 5},
        {"\xef\xbb\xbf[1]", "expected a value", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i].text);
        snprintf(want, sizeof want, "exec: stdout is not JSON: %s at byte %zu of %zu bytes of "
                 "output", bad[i].why, bad[i].at, len);
        s_json_bad(bad[i].text, len, want);
    }
    /* a NUL byte is not a blank */
    s_json_bad("[1,\0 2]", 7, "exec: stdout is not JSON: expected a value at byte 4 of 7 bytes of "
                              "output");
    /* valid JSON with odd but legal corners */
    static const char odd[] = "[\"\\ud800\", {\"\\udc00x\": 0}, -0, 1E+2]";
    s_json_reason(odd, strlen(odd), "/3", err, sizeof err);
    assert_string_equal(err, "(ok)");
    /* a number too long or too large to read */
    memset(text, '1', 300);
    s_json_reason(text, 300, "", err, sizeof err);
    assert_true(strncmp(err, "exec: the number at json pointer '' (1111", 40) == 0);
    s_json_reason("[1e999]", 7, "/0", err, sizeof err);
    assert_string_equal(err, "exec: the number at json pointer '/0' (1e999) cannot be read as a "
                             "double (too long or too large)");
    /* a key longer than any pointer token, and a pointer into it */
    memcpy(text, "{\"", 2);
    memset(text + 2, 'k', 3000);
    memcpy(text + 3002, "\": 1, \"k\": 2}", 13);
    s_json_reason(text, 3015, "/k", err, sizeof err);
    assert_string_equal(err, "(ok)");

    /* random mixtures of JSON's own characters: a reason or a value, never a crash */
    static const char alphabet[] = "[]{}\",:0123456789-+.eE tfnrulas\\u";
    unsigned seed = 12345;
    for (int i = 0; i < 60; i++) {
        size_t len = 1 + (size_t)(rand_r(&seed) % 120);
        for (size_t k = 0; k < len; k++)
            text[k] = alphabet[(size_t)rand_r(&seed) % (sizeof alphabet - 1)];
        s_json_reason(text, len, i % 2 ? "/0" : "", err, sizeof err);
        assert_true(strcmp(err, "(ok)") == 0 || strncmp(err, "exec: ", 6) == 0);
    }
    free(text);
}

static void test_large_output(void **state)
{
    (void)state;
    struct run r;
    /* 3 MB on stdout and on stderr: both drained, both kept bounded */
    s_exec(&r, (const char *const[]){"command",
                                     "[\"sh\", \"-c\", \"head -c 3000000 /dev/zero | tr '\\\\0' a; "
                                     "echo; echo 'n: 5'; head -c 3000000 /dev/zero >&2\"]",
                                     "regex", "n: ([0-9]+)", NULL});
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err, "exec: regex 'n: ([0-9]+)' matched nothing in the first 1048576 "
                               "of 3000006 bytes of output");
    assert_string_equal(s_detail(&r.res, "stdout_bytes"), "3000006");
    assert_string_equal(s_detail(&r.res, "stderr_bytes"), "3000000");
    /* a document cut at 1 MiB says so */
    s_exec(&r, (const char *const[]){"command",
                                     "[\"sh\", \"-c\", \"printf '['; head -c 2000000 /dev/zero | "
                                     "tr '\\\\0' ' '; printf '1]'\"]",
                                     "json", "/0", NULL});
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err, "exec: stdout is not JSON: the text ends early at byte 1048577 of "
                               "the first 1048576 of 2000003 bytes of output (output beyond 1 MiB "
                               "is not kept)");
}

/* --- failures ------------------------------------------------------------ */

static void test_not_found(void **state)
{
    (void)state;
    s_fails((const char *const[]){"command", "[\"frobnicate\", \"--now\"]", NULL},
            "exec: 'frobnicate': No such file or directory");
    s_fails((const char *const[]){"command", "[\"./frobnicate\"]", NULL},
            "exec: './frobnicate': No such file or directory");
    s_write("noexec.sh", "#!/bin/sh\necho 1\n", 17, 0644);
    s_fails((const char *const[]){"command", "[\"./noexec.sh\"]", NULL},
            "exec: './noexec.sh': Permission denied");
    s_write("junk", "\x01\x02\x03\x04 not a program\n", 20, 0755);
    s_fails((const char *const[]){"command", "[\"./junk\"]", NULL},
            "exec: './junk': Exec format error");
    /* a relative program is found in the work directory */
    s_write("prog.sh", "#!/bin/sh\necho \"n=$1\"\n", 22, 0755);
    assert_true(s_ok((const char *const[]){"command", "[\"./prog.sh\", \"17\"]", "regex",
                                           "n=([0-9]+)", NULL}, "value") == 17);
    struct run r;
    s_exec_in(&r, "/nonexistent/dir", NULL, (const char *const[]){"command", "[\"true\"]", NULL});
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err, "exec: cannot enter the work directory '/nonexistent/dir': No such "
                               "file or directory");
    /* the command runs in the work directory */
    char real[PATH_MAX], want[PATH_MAX + 64];
    assert_non_null(realpath(s_dir, real));
    snprintf(want, sizeof want, "[\"sh\", \"-c\", \"test \\\"$(pwd -P)\\\" = '%s'\"]", real);
    s_ok((const char *const[]){"command", want, NULL}, "time_s");
}

static void test_exit_status(void **state)
{
    (void)state;
    struct run r;
    s_exec(&r, (const char *const[]){"command", "[\"sh\", \"-c\", \"echo out; echo oops >&2; "
                                                "printf 'more\\\\n\\\\n' >&2; exit 3\"]", NULL});
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err, "exec: exited with status 3; stderr: oops | more");
    assert_string_equal(s_detail(&r.res, "exit_status"), "3");
    assert_string_equal(s_detail(&r.res, "stderr_tail"), "oops | more");
    assert_string_equal(s_detail(&r.res, "stdout_bytes"), "4");
    s_fails((const char *const[]){"command", "[\"sh\", \"-c\", \"exit 4\"]", NULL},
            "exec: exited with status 4; nothing on stderr");
    s_fails((const char *const[]){"command", "[\"sh\", \"-c\", \"kill -USR1 $$\"]", NULL},
            "exec: killed by signal 10 (SIGUSR1); nothing on stderr");
    /* a long stderr: its end, cut to fit, marked as cut */
    s_exec(&r, (const char *const[]){"command", "[\"sh\", \"-c\", \"i=0; while [ $i -lt 1000 ]; "
                                                "do echo line $i >&2; i=$((i+1)); done; exit 1\"]",
                                     NULL});
    assert_int_equal(r.rc, -1);
    size_t len = strlen(r.err);
    assert_true(len > 200 && len < sizeof r.err);
    assert_true(strncmp(r.err, "exec: exited with status 1; stderr: ...", 39) == 0);
    assert_string_equal(r.err + len - 19, "line 998 | line 999");
    const char *tail = s_detail(&r.res, "stderr_tail");
    assert_true(strncmp(tail, "...", 3) == 0);
    assert_true(strlen(tail) < sizeof r.res.details[0].value);
    assert_string_equal(s_detail(&r.res, "stderr_bytes"), "8890");
}

/* The command starts as from a shell, whatever the worker does with signals
 * and descriptors. */
static void test_clean_start(void **state)
{
    (void)state;
    /* the worker ignores SIGPIPE; the command must not inherit that, or
     * `yes | head` complains about a broken pipe instead of ending quietly */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    /* a blocked signal stays blocked across exec: it must not */
    sigset_t block, oldmask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &oldmask);
    /* a descriptor opened without O_CLOEXEC */
    int leak = open("/dev/null", O_RDONLY);
    assert_true(leak > 2);

    struct run r;
    s_exec(&r, (const char *const[]){"command", "[\"sh\", \"-c\", \"yes | head -c 2 >/dev/null\"]",
                                     NULL});
    assert_int_equal(r.rc, 0);
    assert_string_equal(s_detail(&r.res, "stderr_bytes"), "0");
    double t0 = ut_now();
    s_fails((const char *const[]){"command", "[\"sh\", \"-c\", \"kill -TERM $$; sleep 10\"]",
                                  NULL},
            "exec: killed by signal 15 (SIGTERM); nothing on stderr");
    assert_true(ut_now() - t0 < SLACK);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "[\"sh\", \"-c\", \"test ! -e /dev/fd/%d\"]", leak);
    s_ok((const char *const[]){"command", cmd, NULL}, "time_s");
    /* stdin is /dev/null: a command reading it ends */
    s_ok((const char *const[]){"command", "[\"cat\"]", NULL}, "time_s");

    close(leak);
    pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
    sigaction(SIGPIPE, &old, NULL);
}

/* --- nothing left behind ------------------------------------------------- */

static void test_timeout(void **state)
{
    (void)state;
    int fds = s_count_fds();
    struct run r;
    /* a shell and a background sleep in its group: both must go */
    s_exec(&r, (const char *const[]){"command", "[\"sh\", \"-c\", \"echo $$ > pid; echo started "
                                                ">&2; sleep 30 & sleep 30\"]",
                                     "timeout", "500ms", NULL});
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err, "exec: timed out after 0.5s; stderr: started");
    assert_true(r.wall >= 0.5 && r.wall < 0.5 + SLACK);
    assert_string_equal(s_detail(&r.res, "exit_status"), "signal 15");
    assert_true(r.res.metrics[0].value >= 0.5);
    s_assert_gone(s_read_pid());

    /* SIGTERM ignored: SIGKILL 2 s later */
    s_exec(&r, (const char *const[]){"command", "[\"sh\", \"-c\", \"trap '' TERM; echo $$ > pid; "
                                                "sleep 30 & wait\"]",
                                     "timeout", "300ms", NULL});
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err, "exec: timed out after 0.3s (killed: SIGTERM was not enough); "
                               "nothing on stderr");
    assert_true(r.wall >= 2.3 && r.wall < 2.3 + SLACK);
    assert_string_equal(s_detail(&r.res, "exit_status"), "signal 9");
    s_assert_gone(s_read_pid());
    assert_int_equal(s_count_fds(), fds);
}

static void test_leftovers(void **state)
{
    (void)state;
    int fds = s_count_fds();
    struct run r;
    /* the command ends but leaves a child running that holds its stdout:
     * the run ends with the command, and the child is killed */
    s_exec(&r, (const char *const[]){"command", "[\"sh\", \"-c\", \"echo $$ > pid; sleep 30 & "
                                                "echo n=3\"]",
                                     "regex", "n=([0-9])", NULL});
    assert_int_equal(r.rc, 0);
    assert_true(r.res.metrics[1].value == 3);
    assert_true(r.wall < SLACK);
    s_assert_gone(s_read_pid());
    /* the same with the child's output sent elsewhere */
    s_exec(&r, (const char *const[]){"command", "[\"sh\", \"-c\", \"echo $$ > pid; sleep 30 "
                                                ">/dev/null 2>&1 &\"]", NULL});
    assert_int_equal(r.rc, 0);
    assert_true(r.wall < SLACK);
    s_assert_gone(s_read_pid());
    assert_int_equal(s_count_fds(), fds);
}

/* The stop flag, set from a timer's signal handler as the worker's main
 * thread would set it.  (No pthread.h here: the test's include path holds
 * coordinator/run/sched.h, which shadows the system's <sched.h>.) */
static volatile sig_atomic_t s_stop_flag;

static void s_on_alarm(int sig)
{
    (void)sig;
    s_stop_flag = 1;
}

static void test_stop(void **state)
{
    (void)state;
    struct sigaction sa = {.sa_handler = s_on_alarm}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, &old);
    struct itimerval it = {.it_value = {.tv_sec = 0, .tv_usec = 300000}};
    s_stop_flag = 0;
    setitimer(ITIMER_REAL, &it, NULL);
    struct run r;
    const char *const kv[] = {"command", "[\"sh\", \"-c\", \"echo $$ > pid; sleep 30 & sleep 30\"]",
                              NULL};
    s_exec_in(&r, s_dir, &s_stop_flag, kv);
    sigaction(SIGALRM, &old, NULL);
    assert_int_equal(r.rc, -1);
    assert_true(strncmp(r.err, "exec: stopped after 0.", 22) == 0);
    assert_non_null(strstr(r.err, "s; the command and all it started were killed"));
    assert_true(r.wall >= 0.3 && r.wall < 0.3 + SLACK);
    s_assert_gone(s_read_pid());

    /* asked to stop before it started: ends at once */
    s_stop_flag = 1;
    s_exec_in(&r, s_dir, &s_stop_flag, (const char *const[]){"command", "[\"sleep\", \"30\"]",
                                                             NULL});
    assert_int_equal(r.rc, -1);
    assert_true(strncmp(r.err, "exec: stopped after ", 20) == 0);
    assert_true(r.wall < SLACK);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

/* --- fixture ------------------------------------------------------------- */

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/lockstep-test-exec-XXXXXX");
    if (!mkdtemp(s_dir))
        return -1;
    /* Orphans of a command's group come to us, as they would to a worker
     * that is PID 1 in a container, so that "no zombie" can be checked. */
    return prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    static const char *const files[] = {"doc.json", "in.json", "noexec.sh", "junk", "prog.sh",
                                        "pid"};
    char path[128];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", s_dir, files[i]);
        unlink(path);
    }
    return rmdir(s_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_bad_regex_and_pointer),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_wall_time),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_hostile),
        cmocka_unit_test(test_large_output),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_exit_status),
        cmocka_unit_test(test_clean_start),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_leftovers),
        cmocka_unit_test(test_stop),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
