/* test_iperf.c — the iperf benchmark on loopback: option checks (roles,
 * peers lists, bit rates, whole seconds), a server and a client of our own
 * measuring each other, fail-over from a busy server to the next candidate,
 * a refused port that fails with its reason, a server nobody comes to that
 * is killed at its deadline, and that no child process is ever left behind.
 * Timing bounds are loose: only "it ended, and not absurdly late".
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench.h"
#include "clock.h"
#include "bench_util.h"

/* Declared in bench/plugins.h once iperf is registered; repeated here so
 * the test does not depend on that. */
extern const struct bench_ops bench_iperf;

static double s_metric(const struct bench_result *res, const char *name)
{
    return ut_metric(res, name)->value;
}

/* Parse "k=v" pairs into an options struct; on failure the message is in err. */
static int s_parse(void **opts, char *err, size_t errlen, size_t n, ...)
{
    const char *kv[16];
    va_list ap;
    assert_true(n <= 16);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        kv[i] = va_arg(ap, const char *);
    va_end(ap);
    return ut_parse(&bench_iperf, kv, n, opts, err, errlen);
}

static void s_expect_bad(const char *kv, const char *why)
{
    void *opts = NULL;
    char err[256] = "";
    assert_int_equal(s_parse(&opts, err, sizeof err, 1, kv), -1);
    assert_null(opts);
    if (!strstr(err, why))
        fail_msg("%s: expected an error mentioning '%s', got '%s'", kv, why, err);
}

static void s_expect_good(const char *kv)
{
    void *opts = NULL;
    char err[256] = "";
    if (s_parse(&opts, err, sizeof err, 1, kv) != 0)
        fail_msg("%s: rejected: %s", kv, err);
    bench_opts_destroy(&bench_iperf, &opts);
}

/* No child of ours is left, running or unreaped. */
static void s_no_children(void)
{
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

/* A loopback TCP port nobody listens on (bound, read back, released). */
static int s_closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

/* One plug-in instance: options, context and result together. */
struct inst {
    void *opts;
    struct bench_result res;
    struct bench_ctx ctx;
    volatile sig_atomic_t stop;
    int rc;
};

static void s_inst(struct inst *in, size_t n, ...)
{
    const char *kv[16];
    va_list ap;
    assert_true(n <= 16);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        kv[i] = va_arg(ap, const char *);
    va_end(ap);
    memset(in, 0, sizeof *in);
    char err[256] = "";
    if (ut_parse(&bench_iperf, kv, n, &in->opts, err, sizeof err) != 0)
        fail_msg("options rejected: %s", err);
    in->ctx.opts = in->opts;
    in->ctx.res = &in->res;
    in->ctx.workdir = ".";
    in->ctx.stop = &in->stop;
}

static void s_inst_done(struct inst *in)
{
    bench_iperf.cleanup(&in->ctx);
    assert_null(in->ctx.priv);
    bench_opts_destroy(&bench_iperf, &in->opts);
}

/* A server on a free port; returns the port from its endpoint ":PORT". */
static int s_server(struct inst *sv, const char *time)
{
    s_inst(sv, 4, "role=server", "port=0", time, "connect_timeout=300ms");
    if (bench_iperf.prepare(&sv->ctx) != 0)
        fail_msg("server prepare: %s", sv->ctx.err);
    assert_int_equal(sv->ctx.endpoint[0], ':');
    int port = atoi(sv->ctx.endpoint + 1);
    assert_true(port > 0 && port < 65536);
    return port;
}

static void test_options(void **state)
{
    (void)state;
    s_expect_bad("role=referee", "role");
    s_expect_bad("streams=0", "streams");
    s_expect_bad("streams=129", "streams");
    s_expect_bad("peers=host:99999", "out of range");
    s_expect_bad("peers=host:", "port is missing");
    s_expect_bad("peers=", "empty");
    s_expect_bad("peers=a:5201,,b:5201", "empty entry");
    s_expect_bad("peers=host", "no port");
    s_expect_bad("peers=:5201", "empty host");
    s_expect_bad("peers=::1:5201", "brackets");
    s_expect_bad("peers=[::1]5201", "[address]:port");
    s_expect_bad("peers=a b:5201", "character");
    s_expect_bad("peers=host:52x1", "not a number");
    s_expect_bad("bitrate=10Q", "not a bit rate");
    s_expect_bad("bitrate=-5M", "not a bit rate");
    s_expect_bad("time=1500ms", "whole seconds");
    s_expect_bad("omit=500ms", "whole seconds");
    s_expect_bad("time=0", "time");
    s_expect_bad("attempt_limit=17", "attempt_limit");
    s_expect_bad("protocol=sctp", "protocol");
    s_expect_bad("ipv=5", "ipv");

    s_expect_good("peers=a.example:1,[::1]:5201,198.18.1.2:65535");
    s_expect_good("bitrate=100M");
    s_expect_good("bitrate=1.5G");
    s_expect_good("bitrate=0");
    s_expect_good("role=server");
    s_expect_good("port=0");

    /* defaults: client, 5 streams, 10 s; expected = time + omit + 2 s */
    void *opts = NULL;
    char err[256];
    assert_int_equal(s_parse(&opts, err, sizeof err, 0), 0);
    assert_int_equal(bench_iperf.expected_ns(opts), 12 * 1000000000LL);
    char buf[64];
    assert_int_equal(opt_format(opt_find(bench_iperf.options, "streams"), opts, buf, sizeof buf), 0);
    assert_string_equal(buf, "5");
    assert_int_equal(opt_format(opt_find(bench_iperf.options, "role"), opts, buf, sizeof buf), 0);
    assert_string_equal(buf, "client");
    bench_opts_destroy(&bench_iperf, &opts);
    assert_int_equal(s_parse(&opts, err, sizeof err, 2, "time=3", "omit=1"), 0);
    assert_int_equal(bench_iperf.expected_ns(opts), 6 * 1000000000LL);
    bench_opts_destroy(&bench_iperf, &opts);

    /* a client without peers fails in prepare, with a hint */
    struct inst cl;
    s_inst(&cl, 0);
    assert_int_equal(bench_iperf.prepare(&cl.ctx), -1);
    assert_non_null(strstr(cl.ctx.err, "peers="));
    s_inst_done(&cl);
}

/* The bound the coordinator's deadline counts: per candidate an attempt
 * (time + omit + connect_timeout + 5 s) plus the longer of connect_timeout
 * and busy_retry plus 1 s; candidates capped by attempt_limit. */
static void test_bound(void **state)
{
    (void)state;
    void *opts = NULL;
    char err[256];
    assert_non_null(bench_iperf.bound_ns);
    assert_int_equal(s_parse(&opts, err, sizeof err, 5, "time=2s", "omit=1s",
                             "connect_timeout=1s", "busy_retry=4s", "attempt_limit=3"), 0);
    int64_t cand = (2 + 1 + 1 + 5 + 4 + 1) * NS_PER_SEC;
    assert_int_equal(bench_iperf.bound_ns(opts, 1), cand + NS_PER_SEC);
    assert_int_equal(bench_iperf.bound_ns(opts, 2), 2 * cand + NS_PER_SEC);
    assert_int_equal(bench_iperf.bound_ns(opts, 8), 3 * cand + NS_PER_SEC); /* attempt_limit */
    assert_true(bench_iperf.bound_ns(opts, 1) > bench_iperf.expected_ns(opts));
    bench_opts_destroy(&bench_iperf, &opts);
}

static void test_loopback_pair(void **state)
{
    (void)state;
    struct inst sv, cl;
    int port = s_server(&sv, "time=1s");
    char peers[64];
    snprintf(peers, sizeof peers, "peers=127.0.0.1:%d", port);
    s_inst(&cl, 3, peers, "time=1s", "streams=2");
    assert_int_equal(bench_iperf.prepare(&cl.ctx), 0);
    double t0 = ut_now();
    if (bench_iperf.run(&cl.ctx) != 0)
        fail_msg("client run: %s", cl.ctx.err);
    double took = ut_now() - t0;
    assert_true(took >= 0.9 && took < 15);
    assert_true(s_metric(&cl.res, "received_Mbps") > 0);
    assert_true(s_metric(&cl.res, "sent_Mbps") > 0);
    assert_true(ut_metric(&cl.res, "retransmits") != NULL);
    assert_true(s_metric(&cl.res, "attempts") == 1);
    assert_string_equal(ut_metric(&cl.res, "received_Mbps")->unit, "Mbit/s");
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    assert_string_equal(ut_detail(&cl.res, "target"), target);
    assert_string_equal(ut_detail(&cl.res, "streams"), "2");
    assert_non_null(strstr(ut_detail(&cl.res, "command"), "-P 2 -t 1"));
    assert_null(ut_detail(&cl.res, "attempt.1"));
    /* what iperf3 reports beside the bit rates is kept */
    const char *keep[] = { "rtt_min_ms", "rtt_mean_ms", "rtt_max_ms", "cpu_local_pct",
                           "cpu_remote_pct", "congestion_sender", "remote_host",
                           "stream.1.received_Mbps", "stream.2.received_Mbps",
                           "stream.1.retransmits" };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (!ut_detail(&cl.res, keep[i]))
            fail_msg("no detail %s", keep[i]);
    assert_string_equal(ut_detail(&cl.res, "remote_host"), "127.0.0.1");
    assert_null(ut_detail(&cl.res, "stream.3.received_Mbps"));
    assert_true(atof(ut_detail(&cl.res, "rtt_min_ms")) <= atof(ut_detail(&cl.res, "rtt_mean_ms")));
    assert_true(atof(ut_detail(&cl.res, "rtt_mean_ms")) <= atof(ut_detail(&cl.res, "rtt_max_ms")));
    /* with bench_result_params' opt.* rows the result still fits */
    bench_result_params(&cl.res, &bench_iperf, cl.ctx.opts);
    assert_non_null(ut_detail(&cl.res, "opt.busy_retry"));

    /* the server saw the same test, from the receiving end */
    if (bench_iperf.run(&sv.ctx) != 0)
        fail_msg("server run: %s", sv.ctx.err);
    double srv = s_metric(&sv.res, "received_Mbps"), cli = s_metric(&cl.res, "received_Mbps");
    assert_true(srv > 0);
    assert_true(srv > 0.5 * cli && srv < 2 * cli); /* the same figure, give or take rounding */
    assert_string_equal(ut_detail(&sv.res, "client"), "127.0.0.1");
    s_inst_done(&cl);
    s_inst_done(&sv);
    s_no_children();
}

/* A client busy on server A for a while, in a thread. */
static void *s_hold(void *arg)
{
    struct inst *in = arg;
    in->rc = bench_iperf.run(&in->ctx);
    return NULL;
}

static void test_busy_falls_over(void **state)
{
    (void)state;
    struct inst a, b, holder, cl;
    int pa = s_server(&a, "time=3s"), pb = s_server(&b, "time=1s");
    char peers[96];
    snprintf(peers, sizeof peers, "peers=127.0.0.1:%d", pa);
    s_inst(&holder, 4, peers, "time=3s", "streams=1", "bitrate=10M");
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, s_hold, &holder), 0);
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 700 * 1000000L};
    nanosleep(&ts, NULL); /* the holder's test is under way */

    snprintf(peers, sizeof peers, "peers=127.0.0.1:%d,127.0.0.1:%d", pa, pb);
    s_inst(&cl, 4, peers, "time=1s", "streams=2", "busy_retry=0");
    if (bench_iperf.run(&cl.ctx) != 0)
        fail_msg("client run: %s", cl.ctx.err);
    assert_true(s_metric(&cl.res, "attempts") == 2);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", pb);
    assert_string_equal(ut_detail(&cl.res, "target"), want);
    const char *a1 = ut_detail(&cl.res, "attempt.1");
    assert_non_null(a1);
    snprintf(want, sizeof want, "127.0.0.1:%d: busy", pa);
    if (strncmp(a1, want, strlen(want)) != 0)
        fail_msg("attempt.1 is '%s', expected it to start with '%s'", a1, want);

    pthread_join(th, NULL);
    if (holder.rc != 0)
        fail_msg("holder: %s", holder.ctx.err);
    assert_int_equal(bench_iperf.run(&a.ctx), 0);
    assert_int_equal(bench_iperf.run(&b.ctx), 0);
    s_inst_done(&holder);
    s_inst_done(&cl);
    s_inst_done(&a);
    s_inst_done(&b);
    s_no_children();
}

static void test_refused(void **state)
{
    (void)state;
    struct inst cl;
    int p1 = s_closed_port(), p2 = s_closed_port();
    char peers[96];
    snprintf(peers, sizeof peers, "peers=127.0.0.1:%d,localhost:%d", p1, p2);
    s_inst(&cl, 3, peers, "connect_timeout=300ms", "time=1");
    double t0 = ut_now();
    assert_int_equal(bench_iperf.run(&cl.ctx), -1);
    double took = ut_now() - t0;
    /* each candidate is retried for connect_timeout, then given up */
    assert_true(took >= 0.2 && took < 10);
    if (!strstr(cl.ctx.err, "all 2 targets failed") || !strstr(cl.ctx.err, "refused"))
        fail_msg("unexpected error: %s", cl.ctx.err);
    const char *a1 = ut_detail(&cl.res, "attempt.1"), *a2 = ut_detail(&cl.res, "attempt.2");
    assert_non_null(a1);
    assert_non_null(a2);
    assert_non_null(strstr(a1, "refused"));
    assert_non_null(strstr(a2, "localhost:"));
    assert_true(s_metric(&cl.res, "attempts") == 2);
    s_inst_done(&cl);
    s_no_children();

    /* attempt_limit: later candidates are not tried, and the error says so */
    snprintf(peers, sizeof peers, "peers=127.0.0.1:%d,127.0.0.1:%d", p1, p2);
    s_inst(&cl, 4, peers, "connect_timeout=0", "time=1", "attempt_limit=1");
    assert_int_equal(bench_iperf.run(&cl.ctx), -1);
    assert_non_null(strstr(cl.ctx.err, "all 1 target failed"));
    assert_non_null(strstr(cl.ctx.err, "1 more not tried"));
    assert_null(ut_detail(&cl.res, "attempt.2"));
    s_inst_done(&cl);
    s_no_children();
}

static void test_server_nobody_came(void **state)
{
    (void)state;
    struct inst sv;
    s_server(&sv, "time=1s");
    double t0 = ut_now();
    assert_int_equal(bench_iperf.run(&sv.ctx), -1);
    double took = ut_now() - t0;
    /* the bound is an attempt's (time + omit + connect_timeout + 5 s) +
     * connect_timeout + 2 s = 8.6 s */
    assert_true(took >= 8 && took < 16);
    if (!strstr(sv.ctx.err, "no client connected within 8s"))
        fail_msg("unexpected error: %s", sv.ctx.err);
    s_inst_done(&sv);
    s_no_children();
}

static void test_server_stop_and_busy_port(void **state)
{
    (void)state;
    struct inst sv, again;
    int port = s_server(&sv, "time=1s");
    /* a second server on the same port fails in prepare, saying why */
    char p[32];
    snprintf(p, sizeof p, "port=%d", port);
    s_inst(&again, 2, "role=server", p);
    assert_int_equal(bench_iperf.prepare(&again.ctx), -1);
    if (!strstr(again.ctx.err, "in use"))
        fail_msg("unexpected error: %s", again.ctx.err);
    s_inst_done(&again);

    /* a stop request ends a waiting server at once */
    sv.stop = 1;
    double t0 = ut_now();
    assert_int_equal(bench_iperf.run(&sv.ctx), -1);
    assert_true(ut_now() - t0 < 3);
    assert_non_null(strstr(sv.ctx.err, "stopped"));
    s_inst_done(&sv);
    s_no_children();

    /* cleanup without run() still ends the server */
    s_server(&sv, "time=1s");
    s_inst_done(&sv);
    s_no_children();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_loopback_pair),
        cmocka_unit_test(test_busy_falls_over),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_server_nobody_came),
        cmocka_unit_test(test_server_stop_and_busy_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
