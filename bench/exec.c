/* exec.c — run any command and take one number from what it prints: the way
 * in for tools lockstep has no built-in for (sysbench, fio, a script).  The
 * metric is the number a regex captures, the number at a JSON pointer, or,
 * with neither, the command's wall time.
 *
 * How the command is run and watched (its own session, timeout, stop, no
 * leftovers, bounded output) is proc.c's; this file decides what the output
 * means.  JSON output is read by common/json_scan.c, which never recurses
 * (json.h says why it is not jansson).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sigabbrev_np */
#endif
#include "plugins.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "clock.h"
#include "json.h"
#include "proc.h"

#define NUM_MAX_BYTES 127 /* the number extracted, as text */

/* vsnprintf behind a format check: messages are cut to their buffer on
 * purpose, so the truncation warnings of snprintf do not apply. */
__attribute__((format(printf, 3, 4))) static void s_fmt(char *buf, size_t len, const char *fmt,
                                                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}
#define s_fail(ctx, ...) s_fmt((ctx)->err, sizeof (ctx)->err, __VA_ARGS__)

struct exec_opts {
    char **command;
    int64_t timeout_ns;
    char *metric;
    char *unit;  /* NULL: "s" for the wall time, "" otherwise */
    char *regex; /* NULL: not given */
    char *json;  /* NULL: not given; "" is the whole document */
    double scale; /* the number is recorded times this */
};

static const struct opt_def s_options[] = {
    {.name = "command", .type = OPT_LIST, .offset = offsetof(struct exec_opts, command),
     .help = "program and arguments, e.g. [sysbench, cpu, run]; no shell unless you write "
             "[sh, -c, '...']"},
    {.name = "timeout", .type = OPT_DURATION, .offset = offsetof(struct exec_opts, timeout_ns),
     .def = "60s", .min = 0.001, .max = 24 * 3600,
     .help = "kill the command and all it started after this long (a failed run)"},
    {.name = "metric", .type = OPT_STR, .offset = offsetof(struct exec_opts, metric),
     .def = "value", .help = "name under which the number is recorded"},
    {.name = "unit", .type = OPT_STR, .offset = offsetof(struct exec_opts, unit),
     .help = "unit of the number; default s for the wall time, none otherwise"},
    {.name = "regex", .type = OPT_STR, .offset = offsetof(struct exec_opts, regex),
     .help = "POSIX extended regex with one group around the number, matched against stdout"},
    {.name = "json", .type = OPT_STR, .offset = offsetof(struct exec_opts, json),
     .help = "JSON pointer (RFC 6901) to the number in stdout parsed as JSON, e.g. "
             "/jobs/0/read/iops"},
    {.name = "scale", .type = OPT_DOUBLE, .offset = offsetof(struct exec_opts, scale),
     .def = "1", .min = 1e-12, .max = 1e12,
     .help = "multiply the number by this before recording it, to put it in the unit of the "
             "built-in it is compared with (fio's bw_bytes in bytes/s x 0.00000095367431640625 "
             "= MiB/s)"},
    {.name = NULL},
};

/* A decimal number filling text[0..len) (blanks around allowed); 0 or -1. */
static int s_decimal(const char *text, size_t len, double *out)
{
    char buf[NUM_MAX_BYTES + 1];
    while (len && (*text == ' ' || *text == '\t'))
        text++, len--;
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r'))
        len--;
    if (len == 0 || len > NUM_MAX_BYTES)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    /* strtod would also take hex, inf and nan: not numbers a tool prints */
    if (strspn(buf, "+-0123456789.eE") != len || !strpbrk(buf, "0123456789"))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* ---- options ---- */

static bool s_metric_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(((struct bench_metric *)0)->name))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
            return false;
    return true;
}

/* Compile o->regex; 0, or -1 with a message. */
static int s_regex_compile(const struct exec_opts *o, regex_t *re, char *err, size_t errlen)
{
    /* REG_NEWLINE: like grep -E over the output, '^' and '$' match at each
     * line and '.' stays within one. */
    int rc = regcomp(re, o->regex, REG_EXTENDED | REG_NEWLINE);
    if (rc != 0) {
        char why[128];
        regerror(rc, re, why, sizeof why);
        snprintf(err, errlen, "regex: '%.80s' is not a valid POSIX extended regular expression: %s",
                 o->regex, why);
        return -1;
    }
    if (re->re_nsub != 1) {
        snprintf(err, errlen, "regex: '%.80s' has %zu capture groups; it needs exactly one, around "
                              "the number (e.g. 'events per second: *([0-9.]+)')",
                 o->regex, (size_t)re->re_nsub);
        regfree(re);
        return -1;
    }
    return 0;
}

static int s_validate(const void *opts, char *err, size_t errlen)
{
    const struct exec_opts *o = opts;
    if (!o->command || !o->command[0]) {
        snprintf(err, errlen, "command: %s; give the program and its arguments, e.g. command: "
                              "[sh, -c, \"echo 42\"]",
                 o->command ? "the list is empty" : "missing");
        return -1;
    }
    if (!o->command[0][0]) {
        snprintf(err, errlen, "command: the program (the first entry) is empty");
        return -1;
    }
    if (!s_metric_name_ok(o->metric)) {
        snprintf(err, errlen, "metric: '%.60s' is not a valid metric name (1 to %zu letters, "
                              "digits, '_', '.' or '-')",
                 o->metric, sizeof(((struct bench_metric *)0)->name) - 1);
        return -1;
    }
    if (o->unit && strlen(o->unit) >= sizeof(((struct bench_metric *)0)->unit)) {
        snprintf(err, errlen, "unit: '%.60s' is longer than %zu bytes", o->unit,
                 sizeof(((struct bench_metric *)0)->unit) - 1);
        return -1;
    }
    if (o->regex && o->json) {
        snprintf(err, errlen, "regex and json are both given: choose one way to read the metric");
        return -1;
    }
    if ((o->regex || o->json) && strcmp(o->metric, "time_s") == 0) {
        snprintf(err, errlen, "metric: time_s is the wall time, which exec records itself; "
                              "choose another name");
        return -1;
    }
    if (o->regex) {
        regex_t re;
        if (s_regex_compile(o, &re, err, errlen) < 0)
            return -1;
        regfree(&re);
    }
    if (o->json) {
        struct ljson_ptr *p = malloc(sizeof *p);
        if (!p) {
            snprintf(err, errlen, "json: out of memory");
            return -1;
        }
        int rc = ljson_ptr_parse(o->json, p);
        free(p);
        if (rc < 0) {
            snprintf(err, errlen, "json: '%.80s' is not a JSON pointer (RFC 6901: empty for the "
                                  "whole document, or /key/0/... with ~0 for ~ and ~1 for /, at "
                                  "most %d bytes and %d steps)",
                     o->json, LJSON_PTR_MAX_BYTES, LJSON_PTR_MAX_TOKENS);
            return -1;
        }
    }
    return 0;
}

static int64_t s_expected_ns(const void *opts)
{
    /* the upper bound: exec cannot know how long the command takes */
    return ((const struct exec_opts *)opts)->timeout_ns;
}

/* ---- prepare: what run() needs, made before the clock starts ---- */

struct exec_state {
    regex_t re;
    bool have_re;
    struct ljson_ptr ptr;
    char **cands; /* paths to try with execve, NULL-terminated, one block */
    struct ljson_frame stack[LJSON_SCAN_DEPTH];
};

static void s_cleanup(struct bench_ctx *ctx)
{
    struct exec_state *st = ctx->priv;
    if (!st)
        return;
    if (st->have_re)
        regfree(&st->re);
    free(st->cands);
    free(st);
    ctx->priv = NULL;
}

static int s_prepare(struct bench_ctx *ctx)
{
    const struct exec_opts *o = ctx->opts;
    struct exec_state *st = calloc(1, sizeof *st);
    if (!st || !(st->cands = proc_candidates(o->command[0]))) {
        free(st);
        s_fail(ctx, "exec: out of memory");
        return -1;
    }
    ctx->priv = st;
    if (o->regex) {
        if (s_regex_compile(o, &st->re, ctx->err, sizeof ctx->err) < 0) {
            s_cleanup(ctx);
            return -1;
        }
        st->have_re = true;
    }
    if (o->json && ljson_ptr_parse(o->json, &st->ptr) < 0) {
        s_fail(ctx, "exec: json: '%.80s' is not a JSON pointer", o->json);
        s_cleanup(ctx);
        return -1;
    }
    return 0;
}

/* ---- the result ---- */

/* "; stderr: <tail>" or "; nothing on stderr", to fill err after msg. */
static void s_fail_with_stderr(struct bench_ctx *ctx, struct proc *pr, const char *msg)
{
    s_fail(ctx, "%s", msg);
    size_t used = strlen(ctx->err);
    if (!pr->err_total) {
        s_fmt(ctx->err + used, sizeof ctx->err - used, "; nothing on stderr");
        return;
    }
    const char *head = "; stderr: ";
    size_t room = sizeof ctx->err - used - strlen(head);
    if (used + strlen(head) + 8 < sizeof ctx->err)
        s_fmt(ctx->err + used, sizeof ctx->err - used, "%s%s", head, proc_err_tail(pr, room));
}

/* "2s", "0.5s", "1.25s". */
static void s_secs(int64_t ns, char *buf, size_t len)
{
    snprintf(buf, len, "%.9g", (double)ns / NS_PER_SEC);
    snprintf(buf + strlen(buf), len - strlen(buf), "s");
}

static const char *s_signame(int sig)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    const char *name = sigabbrev_np(sig);
    return name ? name : "?";
#else
    (void)sig;
    return "?";
#endif
}

/* The option text of a pointer up to its first `steps` tokens, for messages. */
static void s_jptr_prefix(const char *ptr, size_t steps, char *buf, size_t len)
{
    size_t n = 0, slashes = 0;
    if (steps == 0) {
        s_fmt(buf, len, "the document");
        return;
    }
    while (ptr[n] && !(ptr[n] == '/' && slashes++ == steps))
        n++;
    s_fmt(buf, len, "'%.*s'", (int)n, ptr);
}

/* The bytes of output the metric was looked for in, for messages. */
static void s_seen(const struct proc *pr, char *buf, size_t len)
{
    if (pr->out_total > pr->out_len)
        snprintf(buf, len, "the first %zu of %llu bytes of output", pr->out_len, pr->out_total);
    else
        snprintf(buf, len, "%zu bytes of output", pr->out_len);
}

static int s_extract_regex(struct bench_ctx *ctx, struct exec_state *st, struct proc *pr,
                           double *value)
{
    const struct exec_opts *o = ctx->opts;
    char seen[96];
    s_seen(pr, seen, sizeof seen);
    regmatch_t m[2];
    int flags = 0;
#ifdef REG_STARTEND
    /* bounds instead of the NUL: output may hold NUL bytes */
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)pr->out_len;
    flags |= REG_STARTEND;
#endif
    if (regexec(&st->re, pr->out, 2, m, flags) != 0) {
        s_fail(ctx, "exec: regex '%.80s' matched nothing in %s", o->regex, seen);
        return -1;
    }
    if (m[1].rm_so < 0) {
        s_fail(ctx, "exec: regex '%.80s' matched, but its group took no part in the match",
               o->regex);
        return -1;
    }
    const char *cap = pr->out + m[1].rm_so;
    size_t caplen = (size_t)(m[1].rm_eo - m[1].rm_so);
    bench_result_detail(ctx->res, "extracted", "%.*s", (int)(caplen > 200 ? 200 : caplen), cap);
    if (s_decimal(cap, caplen, value) < 0) {
        char shown[48];
        snprintf(shown, sizeof shown, "%.*s%s", (int)(caplen > 40 ? 40 : caplen), cap,
                 caplen > 40 ? "..." : "");
        for (char *c = shown; *c; c++)
            if ((unsigned char)*c < 0x20)
                *c = '?';
        s_fail(ctx, "exec: regex '%.80s' captured '%s', which is not a number", o->regex,
               shown);
        return -1;
    }
    return 0;
}

static int s_extract_json(struct bench_ctx *ctx, struct exec_state *st, struct proc *pr,
                          double *value)
{
    const struct exec_opts *o = ctx->opts;
    struct ljson_found f;
    char seen[96], where[96];
    s_seen(pr, seen, sizeof seen);
    if (ljson_scan(pr->out, pr->out_len, &st->ptr, st->stack, &f) < 0) {
        bool cut = pr->out_total > pr->out_len;
        s_fail(ctx, "exec: stdout is not JSON: %s at byte %zu of %s%s", f.why, f.at + 1, seen,
               cut ? " (output beyond 1 MiB is not kept)" : "");
        return -1;
    }
    if (!f.found) {
        const struct ljson_ptr *p = &st->ptr;
        char why[160];
        s_jptr_prefix(o->json, f.got, where, sizeof where);
        if (f.got_type == LJSON_OBJECT)
            s_fmt(why, sizeof why, "%s has no member '%.40s'", where, p->tok[f.got]);
        else if (f.got_type == LJSON_ARRAY)
            s_fmt(why, sizeof why, "%s is an array without an element '%.40s'", where,
                     p->tok[f.got]);
        else
            s_fmt(why, sizeof why, "%s is %s, not an object or array", where,
                     ljson_type_name(f.got_type));
        s_fail(ctx, "exec: json pointer '%.60s' found nothing in %s: %s", o->json, seen, why);
        return -1;
    }
    if (f.type != LJSON_NUMBER) {
        s_fail(ctx, "exec: json pointer '%.60s' points at %s, not a number", o->json,
               ljson_type_name(f.type));
        return -1;
    }
    bench_result_detail(ctx->res, "extracted", "%.*s", (int)(f.numlen > 200 ? 200 : f.numlen),
                        f.num);
    if (s_decimal(f.num, f.numlen, value) < 0) {
        s_fail(ctx, "exec: the number at json pointer '%.60s' (%.*s%s) cannot be read as a "
                    "double (too long or too large)",
               o->json, (int)(f.numlen > 40 ? 40 : f.numlen), f.num, f.numlen > 40 ? "..." : "");
        return -1;
    }
    return 0;
}

/* What every run records, whatever happened. */
static void s_record(struct bench_ctx *ctx, struct proc *pr)
{
    const struct exec_opts *o = ctx->opts;
    struct bench_result *res = ctx->res;
    size_t argc = 0;
    while (o->command[argc])
        argc++;
    char *cmd = opt_list_json((const char *const *)o->command, argc);
    if (cmd) {
        size_t room = sizeof res->details[0].value - 1;
        if (strlen(cmd) > room)
            bench_result_detail(res, "command", "%.*s...", (int)room - 3, cmd);
        else
            bench_result_detail(res, "command", "%s", cmd);
        free(cmd);
    }
    bench_result_detail(res, "stdout_bytes", "%llu", pr->out_total);
    bench_result_detail(res, "stderr_bytes", "%llu", pr->err_total);
    if (pr->err_total)
        bench_result_detail(res, "stderr_tail", "%s",
                            proc_err_tail(pr, sizeof res->details[0].value));
    if (!pr->lost && WIFEXITED(pr->status))
        bench_result_detail(res, "exit_status", "%d", WEXITSTATUS(pr->status));
    else if (!pr->lost && WIFSIGNALED(pr->status))
        bench_result_detail(res, "exit_status", "signal %d", WTERMSIG(pr->status));
}

/* Did the command run and end well?  0, or -1 with the reason in ctx->err. */
static int s_verdict(struct bench_ctx *ctx, struct proc *pr, double secs)
{
    const struct exec_opts *o = ctx->opts;
    char msg[192];
    if (pr->rep_len == sizeof pr->rep && pr->rep.stage != PROC_ST_OK) {
        const char *e = strerror(pr->rep.errnum);
        if (pr->rep.stage == PROC_ST_EXEC)
            s_fail(ctx, "exec: '%.100s': %s", o->command[0], e);
        else if (pr->rep.stage == PROC_ST_CHDIR)
            s_fail(ctx, "exec: cannot enter the work directory '%.100s': %s", ctx->workdir, e);
        else
            s_fail(ctx, "exec: cannot set up the command's process (%s): %s",
                   pr->rep.stage == PROC_ST_SETSID ? "setsid" : "dup2", e);
        return -1;
    }
    if (pr->ended_by == PROC_END_STOP) {
        s_fail(ctx, "exec: stopped after %.3fs; the command and all it started were killed",
               secs);
        return -1;
    }
    if (pr->ended_by == PROC_END_TIMEOUT) {
        char t[32];
        s_secs(o->timeout_ns, t, sizeof t);
        s_fmt(msg, sizeof msg, "exec: timed out after %s%s", t,
              pr->hard ? " (killed: SIGTERM was not enough)" : "");
        s_fail_with_stderr(ctx, pr, msg);
        return -1;
    }
    if (pr->lost) {
        s_fail(ctx, "exec: the command's exit status was lost (its process was reaped elsewhere "
                    "in the worker)");
        return -1;
    }
    if (WIFSIGNALED(pr->status)) {
        s_fmt(msg, sizeof msg, "exec: killed by signal %d (SIG%s)", WTERMSIG(pr->status),
              s_signame(WTERMSIG(pr->status)));
        s_fail_with_stderr(ctx, pr, msg);
        return -1;
    }
    if (WEXITSTATUS(pr->status) != 0) {
        s_fmt(msg, sizeof msg, "exec: exited with status %d", WEXITSTATUS(pr->status));
        s_fail_with_stderr(ctx, pr, msg);
        return -1;
    }
    return 0;
}

static int s_run(struct bench_ctx *ctx)
{
    const struct exec_opts *o = ctx->opts;
    struct exec_state *st = ctx->priv;
    struct proc *pr = st ? calloc(1, sizeof *pr) : NULL;
    if (!pr) {
        s_fail(ctx, st ? "exec: out of memory" : "exec: run without prepare");
        return -1;
    }
    struct proc_spec spec = {.argv = o->command, .cands = st->cands, .dir = ctx->workdir,
                             .timeout_ns = o->timeout_ns, .stop = ctx->stop};
    char why[160];
    if (proc_run(pr, &spec, why, sizeof why) < 0) {
        s_fail(ctx, "exec: %s", why);
        free(pr);
        return -1;
    }

    double secs = (double)(pr->t_end - pr->t0) / NS_PER_SEC, value = secs;
    bench_result_metric(ctx->res, "time_s", "s", secs);
    s_record(ctx, pr);
    int rc = s_verdict(ctx, pr, secs);
    if (rc == 0 && (o->regex || o->json) && pr->out_len == 0) {
        s_fail(ctx, "exec: the command printed nothing, so %s '%.80s' found no number",
               o->regex ? "regex" : "json pointer", o->regex ? o->regex : o->json);
        rc = -1;
    } else if (rc == 0 && o->regex) {
        rc = s_extract_regex(ctx, st, pr, &value);
    } else if (rc == 0 && o->json) {
        rc = s_extract_json(ctx, st, pr, &value);
    }
    if (rc == 0)
        bench_result_metric(ctx->res, o->metric,
                            o->unit ? o->unit : (o->regex || o->json) ? "" : "s",
                            value * o->scale);
    free(pr->out);
    free(pr);
    return rc;
}

const struct bench_ops bench_exec = {
    .name = "exec",
    .version = BENCH_API_VERSION,
    .flags = BENCH_F_NONE,
    .help = "run a command; the metric is a number from its output, or its wall time",
    .metric = "value",
    .unit = "",
    .options = s_options,
    .opts_size = sizeof(struct exec_opts),
    .validate = s_validate,
    .expected_ns = s_expected_ns,
    .prepare = BENCH_IMPL(s_prepare),
    .run = BENCH_IMPL(s_run),
    .cleanup = BENCH_IMPL(s_cleanup),
};
