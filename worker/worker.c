/* worker.c — one worker's event loop.  The main thread owns both sockets
 * (DEALER for requests and results, SUB for SYNC/GO/heartbeats) and never
 * blocks on a benchmark: prepare and run happen in a job thread that signals
 * completion through a pipe polled beside the sockets, so heartbeats keep
 * flowing during a 60 s phase.  The sockets' setup is conn.c's, the clock
 * offset's measurement clocksync.c's (worker_int.h joins them).
 */
#define _GNU_SOURCE /* pipe2 */
#include "worker.h"
#include "worker_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bench.h"
#include "clock.h"
#include "log.h"
#include "platform.h"
#include "proto.h"
#include "rt.h"
#include "spool.h"
#include "ticker.h"

#define RESEND_NS (3 * NS_PER_SEC)
#define MAX_START_AHEAD_NS (3600 * NS_PER_SEC) /* a GO further ahead is broken */

int wk_send(struct wk *w, proto_builder_t *b)
{
    void *data;
    size_t len;
    if (proto_finish(&b, &data, &len) != 0)
        return -1;
    int rc = zmq_send(w->dealer, data, len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
    if (rc)
        log_debug("send failed: %s", zmq_strerror(zmq_errno()));
    free(data);
    return rc;
}

static int s_send_hello(struct wk *w)
{
    proto_builder_t *b = proto_begin_version(PROTO_HELLO, w->o->proto_version);
    proto_put_str(b, "name", w->o->name);
    proto_put_str(b, "platform", w->facts.platform);
    proto_put_str(b, "hostname", w->facts.hostname);
    proto_put_str(b, "kernel", w->facts.kernel);
    proto_put_str(b, "cpu_model", w->facts.cpu_model);
    proto_put_int(b, "cores", w->facts.cores);
    proto_put_int(b, "mem_bytes", w->facts.mem_bytes);
    proto_put_int(b, "pid", getpid());
    proto_put_str(b, "detected", w->facts.detected);
    if (w->facts.distro[0])
        proto_put_str(b, "distro", w->facts.distro);
    if (w->facts.disk_model[0])
        proto_put_str(b, "disk_model", w->facts.disk_model);
    if (w->o->nlabels)
        proto_put_strarray(b, "labels", w->o->labels, w->o->nlabels);
    if (w->epoch)
        proto_put_int(b, "epoch", w->epoch);
    if (w->advertise[0])
        proto_put_str(b, "advertise", w->advertise);
    if (w->coord_host[0])
        proto_put_str(b, "coord_host", w->coord_host);
    const char *caps[64];
    size_t n = 0;
    for (const struct bench_ops *const *p = bench_all(); *p && n < 64; p++)
        caps[n++] = (*p)->name;
    proto_put_strarray(b, "caps", caps, n);
    return wk_send(w, b);
}

/* ---- the job thread ---- */

static void *s_job_prepare(void *arg)
{
    struct job *j = arg;
    rt_bench_enter();
    j->rc = j->ops->prepare ? j->ops->prepare(&j->ctx) : 0;
    char b = 'p';
    (void)!write(j->pipe_w, &b, 1);
    return NULL;
}

static void *s_job_run(void *arg)
{
    struct job *j = arg;
    rt_bench_enter();
    /* Wait for the start instant at the control thread's real-time priority,
     * so that a loaded machine wakes us on time, then run the benchmark at
     * ordinary priority like any program (rt.h). */
    struct sched_param rtp = { .sched_priority = 1 }, normal = { .sched_priority = 0 };
    bool raised = j->rt && pthread_setschedparam(pthread_self(), SCHED_RR, &rtp) == 0;
    if (clock_wait_wall(j->start_local, &j->stop) != 0)
        snprintf(j->ctx.err, sizeof j->ctx.err, "stopped before the start instant");
    j->started = clock_wall_ns();
    if (raised)
        pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal);
    j->rc = j->stop ? -1 : j->ops->run(&j->ctx);
    j->finished = clock_wall_ns();
    if (j->stop && j->rc == 0)
        snprintf(j->ctx.err, sizeof j->ctx.err, "stopped");
    if (j->ops->cleanup)
        j->ops->cleanup(&j->ctx);
    char b = 'r';
    (void)!write(j->pipe_w, &b, 1);
    return NULL;
}

static void s_job_join(struct job *j)
{
    if (j->thread_live) {
        pthread_join(j->thread, NULL);
        j->thread_live = false;
    }
}

/* Give a prepared job up without running it: the plug-in contract is that
 * cleanup follows every successful prepare. */
static void s_job_abandon(struct job *j)
{
    j->stop = 1;
    s_job_join(j);
    if (j->ops && (j->state == JOB_PREPARED || (j->state == JOB_PREPARING && j->rc == 0)) &&
        j->ops->cleanup)
        j->ops->cleanup(&j->ctx);
    j->state = JOB_IDLE;
}

static void s_job_reset(struct job *j)
{
    s_job_join(j);
    if (j->opts)
        bench_opts_destroy(j->ops, &j->opts);
    j->state = JOB_IDLE;
    j->ops = NULL;
}

/* ---- messages ---- */

static void s_ready_ep(struct wk *w, int64_t run, int64_t phase, int64_t rep, const char *error,
                       const char *endpoint)
{
    proto_builder_t *b = proto_begin(PROTO_READY);
    proto_put_int(b, "run", run);
    proto_put_int(b, "phase", phase);
    proto_put_int(b, "rep", rep);
    proto_put_bool(b, "ok", error == NULL);
    if (error)
        proto_put_str(b, "error", error);
    proto_put_int(b, "offset_ns", w->clk.samples ? w->clk.offset_ns : 0);
    proto_put_int(b, "offset_err_ns", w->clk.samples ? w->clk.err_ns : 0);
    proto_put_int(b, "offset_n", w->clk_n);
    if (endpoint)
        proto_put_str(b, "endpoint", endpoint);
    proto_put_int(b, "epoch", w->epoch);
    wk_send(w, b);
}

static void s_ready(struct wk *w, int64_t run, int64_t phase, int64_t rep, const char *error)
{
    s_ready_ep(w, run, phase, rep, error, NULL);
}

static void s_on_prepare(struct wk *w, const proto_msg_t *m)
{
    int64_t run = proto_int(m, "run", 0), phase = proto_int(m, "phase", 0),
            rep = proto_int(m, "rep", 0);
    struct job *j = &w->job;
    /* the same PREPARE again (we registered again: the coordinator cannot
     * know whether the first one arrived): answered as the first one was */
    if (j->state != JOB_IDLE && j->run == run && j->phase == phase && j->rep == rep &&
        j->epoch == w->epoch) {
        /* preparing: its READY follows; running: its RESULT will; a
         * prepared server is prepared again below (its READY names where
         * it listens) */
        if (j->state == JOB_PREPARED && !j->ctx.endpoint[0])
            s_ready(w, run, phase, rep, NULL);
        if (j->state != JOB_PREPARED || !j->ctx.endpoint[0])
            return;
    }
    if (j->state == JOB_RUNNING || j->state == JOB_PREPARING) {
        s_ready(w, run, phase, rep, "busy with another repetition");
        return;
    }
    s_job_abandon(j); /* prepared for a GO that never came */
    s_job_reset(j);
    const char *name = proto_str(m, "bench");
    const struct bench_ops *ops = bench_find(name);
    if (!ops) {
        char why[128];
        snprintf(why, sizeof why, "this worker has no benchmark '%s'", name);
        s_ready(w, run, phase, rep, why);
        return;
    }
    size_t n = proto_strmap_count(m, "params");
    const char **keys = calloc(n + 1, sizeof *keys), **vals = calloc(n + 1, sizeof *vals);
    for (size_t i = 0; i < n; i++)
        proto_strmap_get(m, "params", i, &keys[i], &vals[i]);
    /* a server behind a port forward listens on the forwarded port */
    char fwd[16];
    const char *role = proto_str(m, "role");
    if (w->o->fwd_guest && role && strcmp(role, "server") == 0) {
        snprintf(fwd, sizeof fwd, "%d", w->o->fwd_guest);
        for (size_t i = 0; i < n; i++)
            if (strcmp(keys[i], "port") == 0 && strcmp(vals[i], "0") == 0)
                vals[i] = fwd;
    }
    char err[256];
    void *opts = NULL;
    int rc = bench_opts_parse(ops, keys, vals, n, &opts, err, sizeof err);
    free(keys);
    free(vals);
    if (rc != 0) {
        s_ready(w, run, phase, rep, err);
        return;
    }
    memset(j, 0, sizeof *j);
    j->ops = ops;
    j->opts = opts;
    j->run = run;
    j->phase = (int)phase;
    j->rep = (int)rep;
    j->epoch = w->epoch;
    j->pipe_w = w->pipe_w;
    j->ctx.opts = opts;
    j->ctx.workdir = w->workdir;
    j->ctx.stop = &j->stop;
    j->ctx.res = &j->res;
    if (!ops->prepare) { /* nothing to prepare (null, cpu, fork): ready at once */
        j->state = JOB_PREPARED;
        s_ready(w, run, phase, rep, NULL);
        return;
    }
    j->state = JOB_PREPARING;
    pthread_attr_t attr;
    rt_bench_attr(&attr);
    int prc = pthread_create(&j->thread, &attr, s_job_prepare, j);
    pthread_attr_destroy(&attr);
    if (prc != 0) {
        s_ready(w, run, phase, rep, "cannot start a thread");
        s_job_reset(j);
        return;
    }
    j->thread_live = true;
}

static void s_send_result(struct wk *w)
{
    struct job *j = &w->job;
    bool ok = j->rc == 0 && !j->stop;
    bench_result_params(&j->res, j->ops, j->opts);
    int64_t started = 0, finished = 0; /* on the coordinator's clock */
    clock_to_remote(&w->clk, j->started, &started);
    clock_to_remote(&w->clk, j->finished, &finished);
    proto_builder_t *b = proto_begin(PROTO_RESULT);
    proto_put_int(b, "run", j->run);
    proto_put_int(b, "phase", j->phase);
    proto_put_int(b, "rep", j->rep);
    proto_put_str(b, "status", ok ? "ok" : "failed");
    if (!ok)
        proto_put_str(b, "error", j->ctx.err[0] ? j->ctx.err : "benchmark failed");
    proto_put_int(b, "started_at", started);
    proto_put_int(b, "finished_at", finished);
    proto_put_int(b, "epoch", j->epoch);
    if (j->stalled_ns)
        proto_put_int(b, "stalled_ns", j->stalled_ns);
    proto_metric_t pm[BENCH_MAX_METRICS];
    for (size_t i = 0; i < j->res.nmetrics; i++)
        pm[i] = (proto_metric_t){ j->res.metrics[i].name, j->res.metrics[i].unit,
                                  j->res.metrics[i].value };
    proto_put_metrics(b, "metrics", pm, j->res.nmetrics);
    const char *dk[BENCH_MAX_DETAILS], *dv[BENCH_MAX_DETAILS];
    for (size_t i = 0; i < j->res.ndetails; i++) {
        dk[i] = j->res.details[i].key;
        dv[i] = j->res.details[i].value;
    }
    proto_put_strmap(b, "details", dk, dv, j->res.ndetails);
    void *data;
    size_t len;
    if (proto_finish(&b, &data, &len) != 0)
        return;
    char err[512];
    /* on disk before on the wire: the result survives our crash */
    if (spool_put(w->o->spool, j->run, j->phase, j->rep, data, len, err, sizeof err) != 0)
        log_error("cannot spool the result (sending it anyway): %s", err);
    zmq_send(w->dealer, data, len, ZMQ_DONTWAIT);
    free(data);
    log_info("%s rep %d: %s", j->ops->name, j->rep, ok ? "done" : j->ctx.err);
}

static void s_on_job_event(struct wk *w)
{
    char b;
    if (read(w->pipe_r, &b, 1) != 1)
        return;
    struct job *j = &w->job;
    s_job_join(j);
    if (b == 'p') {
        if (j->rc != 0) {
            if (j->ops->cleanup)
                j->ops->cleanup(&j->ctx);
            s_ready(w, j->run, j->phase, j->rep, j->ctx.err[0] ? j->ctx.err : "prepare failed");
            s_job_reset(j);
        } else {
            j->state = JOB_PREPARED;
            /* a server tells where it listens; ":port" means at our address */
            char ep[sizeof w->advertise + sizeof j->ctx.endpoint + 4];
            const char *e = j->ctx.endpoint[0] ? ep : NULL;
            if (j->ctx.endpoint[0] == ':' && w->o->fwd_guest &&
                atoi(j->ctx.endpoint + 1) == w->o->fwd_guest)
                /* "@": on the coordinator's host, each client at its own route */
                snprintf(ep, sizeof ep, "@:%d", w->o->fwd_host);
            else if (j->ctx.endpoint[0] == ':')
                snprintf(ep, sizeof ep, "%s%s%s%s", strchr(w->advertise, ':') ? "[" : "",
                         w->advertise, strchr(w->advertise, ':') ? "]" : "", j->ctx.endpoint);
            else
                snprintf(ep, sizeof ep, "%s", j->ctx.endpoint);
            s_ready_ep(w, j->run, j->phase, j->rep, NULL, e);
        }
    } else {
        s_send_result(w);
        s_job_reset(j);
    }
}

static void s_on_go(struct wk *w, const proto_msg_t *m)
{
    struct job *j = &w->job;
    if (j->state != JOB_PREPARED || proto_int(m, "run", -1) != j->run ||
        proto_int(m, "phase", -1) != j->phase || proto_int(m, "rep", -1) != j->rep)
        return; /* a GO for someone else (round-robin) */
    int64_t now = clock_wall_ns();
    if (clock_to_local(&w->clk, proto_int(m, "start_at", 0), &j->start_local) != 0 ||
        j->start_local > now + MAX_START_AHEAD_NS)
        j->start_local = now; /* nonsense start instant: start now, the skew will show it */
    j->state = JOB_RUNNING;
    j->rt = w->rt;
    pthread_attr_t attr;
    rt_bench_attr(&attr);
    int prc = pthread_create(&j->thread, &attr, s_job_run, j);
    pthread_attr_destroy(&attr);
    if (prc != 0) {
        snprintf(j->ctx.err, sizeof j->ctx.err, "cannot start a thread");
        j->rc = -1;
        j->state = JOB_PREPARED;
        s_job_abandon(j);
        s_send_result(w);
        s_job_reset(j);
        return;
    }
    j->thread_live = true;
}

static void s_resend_one(const void *data, size_t len, void *arg)
{
    struct wk *w = arg;
    zmq_send(w->dealer, data, len, ZMQ_DONTWAIT);
}

/* New connections for both sockets.  After a partition either end may
 * still believe in a connection the other has closed (the coordinator's
 * kernel gives up on unacknowledged data after 5 s; ours retransmits for
 * many minutes, or has nothing to send and never learns): only a new one
 * is sure to reach the coordinator's current socket, and to carry its
 * answer back. */
static void s_reconnect(struct wk *w)
{
    w->last_reconnect = clock_mono_ns();
    if (w->sub) {
        zmq_close(w->sub);
        w->sub = NULL;
        w->sub_endpoint[0] = '\0';
    }
    if (wk_dealer_open(w) != 0) {
        w->exit_code = 2;
        w->done = true;
    }
}

/* Register with the coordinator again (HELLO with our epoch): it has not
 * been heard from for too long (reconnect: over new connections), or it
 * says it does not know us as we are (we were declared lost, or it
 * restarted).  A job in progress goes on meanwhile (s_periodic). */
static void s_register_again(struct wk *w, const char *why, bool reconnect)
{
    log_warn("%s; registering again%s", why, reconnect ? " over a new connection" : "");
    w->welcomed = false;
    w->hello_backoff = 250 * NS_PER_MS;
    w->hello_next = w->hello_first = clock_mono_ns();
    w->hellos = 0;
    w->last_reconnect = w->hello_first; /* the clock of s_periodic's new connection */
    if (reconnect)
        s_reconnect(w);
}

/* The coordinator's liveness settings, from its WELCOME (NULL: the
 * defaults, till one comes): our heartbeat follows its beat, and its
 * silence is judged by its own patience (proto_liveness). */
static void s_liveness(struct wk *w, const proto_msg_t *welcome)
{
    proto_liveness(welcome, &w->live);
    int64_t last = w->hb.last_ns;
    ticker_init(&w->hb, (int64_t)w->live.hb_ms * NS_PER_MS);
    ticker_touch(&w->hb, last);
    if (welcome)
        log_debug("liveness: a beat every %d ms; the coordinator gives up after %d silent "
                  "beats, this worker after %.1f s", w->live.hb_ms, w->live.missed_beats,
                  (double)w->live.silence_ns / NS_PER_SEC);
}

static void s_on_dealer(struct wk *w, const proto_msg_t *m)
{
    switch (proto_msg_type(m)) {
    case PROTO_WELCOME:
        if (!w->welcomed || proto_int(m, "run", 0) != w->run) {
            int64_t ep = proto_int(m, "epoch", 1);
            if (w->epoch && ep != w->epoch && proto_int(m, "run", 0) == w->run) {
                log_warn("admitted again with epoch %" PRId64 " (was %" PRId64 ")", ep, w->epoch);
                /* the GO this job waits for belongs to the old epoch */
                if (w->job.state == JOB_PREPARED) {
                    s_job_abandon(&w->job);
                    s_job_reset(&w->job);
                }
            }
            w->epoch = ep;
            w->run = proto_int(m, "run", 0);
            s_liveness(w, m);
            log_info("welcomed to run %" PRId64 " by %s", w->run, w->o->connect);
            clock_est_init(&w->clk);
            w->clk_n = w->clk_tries = 0;
            wk_clock_welcome(w, m);
            spool_each(w->o->spool, w->run, s_resend_one, w);
        }
        w->welcomed = true;
        w->wait_ival = 0; /* a later registration says its own waiting again */
        w->hellos = 0;
        wk_sub_connect(w, proto_str(m, "pub"));
        break;
    case PROTO_REJECT:
        log_error("rejected by the coordinator: %s", proto_str(m, "reason"));
        w->exit_code = 2;
        w->done = true;
        break;
    case PROTO_PONG:
        wk_clock_pong(w, m);
        break;
    case PROTO_GO: /* sent to us alone: the coordinator's measurement-only GO modes */
        s_on_go(w, m);
        break;
    case PROTO_PREPARE:
        s_on_prepare(w, m);
        break;
    case PROTO_ACK:
        /* stored, or refused for good: either way not ours to keep */
        if (proto_str(m, "refused"))
            log_warn("the coordinator refused our result of phase %" PRId64 " rep %" PRId64
                     ": %s; dropped",
                     proto_int(m, "phase", 0), proto_int(m, "rep", 0), proto_str(m, "refused"));
        spool_del(w->o->spool, proto_int(m, "run", 0), (int)proto_int(m, "phase", 0),
                  (int)proto_int(m, "rep", 0));
        break;
    case PROTO_STOP:
        /* our part of a repetition is no longer needed (a server whose
         * client has reported): end it; its RESULT says "stopped" */
        if ((w->job.state == JOB_RUNNING || w->job.state == JOB_PREPARED) &&
            proto_int(m, "run", -1) == w->job.run && proto_int(m, "phase", -1) == w->job.phase &&
            proto_int(m, "rep", -1) == w->job.rep) {
            log_info("stop: phase %d rep %d is no longer needed", w->job.phase, w->job.rep);
            if (w->job.state == JOB_RUNNING) {
                w->job.stop = 1;
            } else {
                s_job_abandon(&w->job);
                s_job_reset(&w->job);
            }
        }
        break;
    case PROTO_QUIT:
        if (proto_bool(m, "rejoin", false)) {
            if (w->welcomed)
                s_register_again(w, proto_str(m, "reason") ? proto_str(m, "reason")
                                                           : "the coordinator asks", false);
            break;
        }
        log_info("coordinator says quit: %s", proto_str(m, "reason") ? proto_str(m, "reason") : "");
        w->done = true;
        break;
    default:
        log_debug("unexpected %s ignored", proto_type_name(proto_msg_type(m)));
    }
}

/* Our heartbeat.  Sent as the answer to the coordinator's own (at most
 * one a half beat), so that all its workers' beats reach it together, once a
 * beat, and it wakes once for them all instead of once for each; on our
 * own timer, a beat after the last one, when its heartbeats do not come. */
static void s_heartbeat(struct wk *w, int64_t now)
{
    ticker_touch(&w->hb, now);
    proto_builder_t *b = proto_begin(PROTO_HEARTBEAT);
    proto_put_int(b, "t", clock_wall_ns());
    wk_send(w, b);
}

static void s_on_sub(struct wk *w, const proto_msg_t *m)
{
    int64_t now;
    switch (proto_msg_type(m)) {
    case PROTO_HEARTBEAT:
        now = clock_mono_ns();
        if (w->welcomed && proto_int(m, "run", -1) == w->run &&
            now - w->hb.last_ns >= w->hb.period_ns / 2)
            s_heartbeat(w, now);
        break;
    case PROTO_SYNC:
        if (proto_int(m, "run", -1) == w->run) {
            proto_builder_t *b = proto_begin(PROTO_SYNC_OK);
            proto_put_int(b, "nonce", proto_int(m, "nonce", 0));
            wk_send(w, b);
        }
        break;
    case PROTO_GO:
        s_on_go(w, m);
        break;
    default:
        break;
    }
}

static void s_recv(struct wk *w, void *sock, bool from_sub)
{
    for (int i = 0; i < 256; i++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        char err[256];
        proto_msg_t *m = NULL;
        int rc = proto_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &m, err, sizeof err);
        if (rc == 0) {
            /* silence is judged by our coordinator only: after it dies, the
             * SUB may well reconnect to the next coordinator on the same port */
            if (!from_sub || (w->welcomed && proto_int(m, "run", -1) == w->run))
                w->last_heard = clock_mono_ns();
            if (from_sub)
                s_on_sub(w, m);
            else
                s_on_dealer(w, m);
        } else {
            log_warn("dropped a %s frame: %s", from_sub ? "broadcast" : "direct", err);
        }
        proto_msg_destroy(&m);
        zmq_msg_close(&msg);
        if (w->done)
            return;
    }
}

static void s_periodic(struct wk *w)
{
    int64_t now = clock_mono_ns();
    if (!w->welcomed) {
        /* Registered before, and no WELCOME for two beats: the connection
         * may be one the coordinator no longer has (see s_reconnect), or
         * one its ROUTER parked: without ROUTER_HANDOVER a connection under
         * a name its old connection still holds is set aside, unread, for
         * as long as it lives.  Two beats, so that a new one is in place
         * well before the coordinator's patience (three) runs out. */
        if (w->run && now - w->last_reconnect > 2LL * w->live.hb_ms * NS_PER_MS) {
            log_debug("no WELCOME for %.1f s: a new connection",
                      (double)(now - w->last_reconnect) / NS_PER_SEC);
            s_reconnect(w);
            if (w->done)
                return;
        }
        /* A benchmark in progress ends before we register again: the
         * coordinator that answers may be another one, with a PREPARE of
         * its own.  Meanwhile our heartbeats (on the new connection) keep
         * us alive for a coordinator that knows us, one that stood still
         * for a while, say; its result goes out under the epoch it ran in
         * and the coordinator decides whether to keep it.  A prepared job
         * waits for the WELCOME: the same epoch, its GO may still come. */
        if (w->job.state == JOB_RUNNING || w->job.state == JOB_PREPARING) {
            if (w->run && ticker_ready(&w->hb, now))
                s_heartbeat(w, now);
            return;
        }
        if (now >= w->hello_next) {
            /* Not connected yet (ZMQ_IMMEDIATE drops the HELLO): try again
             * soon without backing off; a thousand workers connecting at
             * once must not wait seconds for nothing.  Counted for the
             * warning, which is about silence, not about its cause. */
            if (s_send_hello(w) != 0) {
                wk_still_waiting(w, now, false);
                w->hello_next = now + 20 * NS_PER_MS;
                if (now - w->hello_first > 2 * NS_PER_SEC && w->hellos < 3)
                    w->hellos = 3;
                if (w->hellos == 3) {
                    w->hellos++;
                    if (!w->refused[0]) /* else we reached it, and were refused */
                        log_warn("cannot reach %s: is the coordinator up?", w->o->connect);
                }
                return;
            }
            wk_still_waiting(w, now, true);
            if (++w->hellos == 4)
                log_warn("no answer from %s after %d HELLOs: is the coordinator up, and is no "
                         "other worker connected under the name '%s'?",
                         w->o->connect, w->hellos - 1, w->o->name);
            /* jittered: workers started together do not retry together */
            w->hello_next = now + w->hello_backoff + (int64_t)(rand_r(&w->rnd) % 100) * NS_PER_MS;
            /* once admitted to a run, a beat at most: the coordinator
             * judges our silence in beats */
            int64_t cap = w->run ? (int64_t)w->live.hb_ms * NS_PER_MS : 8 * NS_PER_SEC;
            w->hello_backoff = w->hello_backoff * 2 > cap ? cap : w->hello_backoff * 2;
        }
        return;
    }
    if (ticker_ready(&w->hb, now))
        s_heartbeat(w, now);
    if (ticker_due(&w->resend, now))
        spool_each(w->o->spool, w->run, s_resend_one, w);
    wk_clock_periodic(w, now);
    if (now - w->last_heard > w->live.silence_ns) {
        char why[96];
        snprintf(why, sizeof why, "coordinator silent for %.1f s",
                 (double)(now - w->last_heard) / NS_PER_SEC);
        s_register_again(w, why, true);
    }
}

/* Did we stand still (SIGSTOP, a paused VM, a suspend) longer than the
 * loop ever waits, and a beat?  Then the coordinator's silence meanwhile
 * was ours: it is judged from now on; and a benchmark that was running
 * measured the freeze too: its RESULT says for how long (the coordinator
 * refuses such a result from an epoch it has since left). */
static void s_check_stall(struct wk *w, int timeout_ms)
{
    int64_t stalled = clock_stalled(&w->stall, ((int64_t)timeout_ms + w->live.hb_ms) * NS_PER_MS);
    if (!stalled)
        return;
    log_warn("this worker stood still for %.1f s (stopped, paused or asleep)%s",
             (double)stalled / NS_PER_SEC,
             w->job.state == JOB_RUNNING ? "; the running benchmark measured it too" : "");
    if (w->job.state == JOB_RUNNING)
        w->job.stalled_ns += stalled;
    w->last_heard = clock_mono_ns();
}

int worker_run(const struct worker_opts *o)
{
    struct wk w = { .o = o, .exit_code = 0 };
    s_liveness(&w, NULL);
    ticker_init(&w.resend, RESEND_NS);
    char err[512];
    host_facts_get(&w.facts);
    wk_detect_advertise(&w);
    if (o->platform && strcmp(o->platform, "auto") != 0)
        snprintf(w.facts.platform, sizeof w.facts.platform, "%s", o->platform);
    log_info("%s: platform %s (%s), %" PRId64 " cores", o->name, w.facts.platform, w.facts.why,
             w.facts.cores);
    snprintf(w.workdir, sizeof w.workdir, "%s/work", o->spool);
    if (spool_init(o->spool, err, sizeof err) != 0 || spool_init(w.workdir, err, sizeof err) != 0) {
        log_error("%s", err);
        return 1;
    }
    host_disk_model(w.workdir, w.facts.disk_model, sizeof w.facts.disk_model);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        log_error("pipe: %s", strerror(errno));
        return 1;
    }
    w.pipe_r = fds[0];
    w.pipe_w = fds[1];
    /* workers started together must not measure their clocks together */
    w.rnd = (unsigned)getpid() ^ (unsigned)clock_mono_ns() ^ (unsigned)(uintptr_t)&w;
    w.remeasure_ns = REMEASURE_NS * 8 / 10 + (int64_t)(rand_r(&w.rnd) % 400) * REMEASURE_NS / 1000;
    if (o->zctx) {
        w.zctx = o->zctx; /* its owner set its threads' priority */
        w.rt = rt_raise_self();
    } else {
        w.zctx = zmq_ctx_new();
        if ((w.rt = rt_raise_self()))
            rt_zmq_ctx(w.zctx);
        else
            log_debug("no real-time priority for the control thread; heartbeats may lag under "
                      "load");
    }
    if (wk_dealer_open(&w) != 0) {
        w.exit_code = 2;
        goto out;
    }
    w.hello_backoff = 250 * NS_PER_MS;
    w.hello_next = w.hello_first = clock_mono_ns();
    w.last_heard = clock_mono_ns();
    while (!w.done && !(o->interrupted && *o->interrupted)) {
        zmq_pollitem_t items[3] = {
            { .socket = w.dealer, .events = ZMQ_POLLIN },
            { .socket = NULL, .fd = w.pipe_r, .events = ZMQ_POLLIN },
            { .socket = w.sub, .events = ZMQ_POLLIN },
        };
        /* everything that arrives wakes the poll; the timeout only serves
         * the periodic duties: a quarter of a second when idle and welcomed
         * (heartbeats, spool re-sends), 50 ms while registering or measuring */
        const ticker_t *duties[] = { w.welcomed ? &w.hb : NULL, w.welcomed ? &w.resend : NULL };
        int timeout = ticker_wait_ms(clock_mono_ns(), w.welcomed && !w.ping_want ? 250 : 50,
                                     duties, 2);
        if (w.ping_next) { /* the next ping of a measurement is due sooner */
            int64_t left = (w.ping_next - clock_mono_ns()) / NS_PER_MS;
            timeout = left < 0 ? 0 : left < timeout ? (int)left : timeout;
        }
        int n = zmq_poll(items, w.sub ? 3 : 2, timeout);
        if (n < 0 && zmq_errno() != EINTR)
            break;
        s_check_stall(&w, timeout);
        wk_monitor_drain(&w);
        if (n > 0) {
            if (items[0].revents & ZMQ_POLLIN)
                s_recv(&w, w.dealer, false);
            if (items[1].revents & ZMQ_POLLIN)
                s_on_job_event(&w);
            if (w.sub && (items[2].revents & ZMQ_POLLIN))
                s_recv(&w, w.sub, true);
        }
        if (!w.done)
            s_periodic(&w);
    }
out:
    /* a running job's thread cleans up after itself; a prepared one is ours */
    if (w.job.state != JOB_RUNNING)
        s_job_abandon(&w.job);
    w.job.stop = 1;
    s_job_reset(&w.job);
    if (w.sub)
        zmq_close(w.sub);
    wk_monitor_close(&w);
    zmq_close(w.dealer);
    if (!o->zctx)
        zmq_ctx_term(w.zctx);
    close(w.pipe_r);
    close(w.pipe_w);
    return w.exit_code;
}
