/* clocksync.c — the worker's clock offset to the coordinator: bursts of
 * ping-pongs (the smallest round trip wins, clock.h), at admission and again
 * as the offset drifts, never while a benchmark runs; none on the
 * coordinator's own kernel, where its clock is ours. */
#include "worker_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void wk_send_ping(struct wk *w)
{
    w->ping_sent = clock_wall_ns();
    proto_builder_t *b = proto_begin(PROTO_PING);
    proto_put_int(b, "seq", ++w->ping_seq);
    proto_put_int(b, "t0", w->ping_sent);
    wk_send(w, b);
}

/* Start a measurement of the clock offset: n ping-pongs, one at a time. */
void wk_measure_start(struct wk *w, int n)
{
    clock_est_init(&w->probe);
    w->ping_seq = 0;
    w->ping_want = n;
    wk_send_ping(w);
}

/* The burst is over: its best sample becomes the offset GO instants are
 * converted with, unless the one in use, aged by the drift since, is still
 * the better bound (clock_est_prefer). */
void wk_measure_end(struct wk *w)
{
    int64_t now = clock_mono_ns();
    w->ping_want = 0;
    w->ping_next = 0;
    w->clk_tries++;
    bool take = clock_est_prefer(&w->clk, now - w->clk_at, &w->probe);
    w->clk_at = now;
    if (!take)
        return; /* every PONG lost, or a worse sample than the drift allows */
    w->clk = w->probe;
    w->clk_n++;
    log_debug("clock offset %" PRId64 " ns +/- %" PRId64 " ns (measurement %d)", w->clk.offset_ns,
              w->clk.err_ns, w->clk_n);
}

/* A new coordinator: on its kernel we read its very clock (a container on
 * its host, a swarm or --local workers), and pings could only add their
 * error to the recorded starts; elsewhere, measure the offset. */
void wk_clock_welcome(struct wk *w, const proto_msg_t *m)
{
    char mine[64];
    const char *theirs = proto_str(m, "boot_id");
    clock_boot_id(mine, sizeof mine);
    w->same_clock = theirs && mine[0] && strcmp(theirs, mine) == 0;
    if (!w->same_clock) {
        wk_measure_start(w, PINGS);
        return;
    }
    w->ping_want = 0; /* a measurement for an earlier coordinator */
    w->ping_next = 0;
    clock_est_same(&w->clk);
    w->clk_n = 1;
    w->clk_at = clock_mono_ns();
    log_debug("same kernel as the coordinator (boot id %s): its clock, offset 0", mine);
}

/* A PONG of the burst in progress: a sample; the next ping after a
 * random gap, or the burst's end. */
void wk_clock_pong(struct wk *w, const proto_msg_t *m)
{
    if (!w->ping_want || proto_int(m, "seq", -1) != w->ping_seq)
        return;
    clock_est_add(&w->probe, proto_int(m, "t0", 0), proto_int(m, "tc", 0), clock_wall_ns());
    if (w->ping_seq < w->ping_want)
        w->ping_next = clock_mono_ns() + PING_GAP_MIN_NS +
                       (int64_t)(rand_r(&w->rnd) % (PING_GAP_RAND_NS / 1000)) * 1000;
    else
        wk_measure_end(w);
}

/* Between polls, once welcomed: the burst's next ping, a lost PONG given
 * up, a new measurement when the last one has aged. */
void wk_clock_periodic(struct wk *w, int64_t now)
{
    if (w->ping_next && now >= w->ping_next) {
        w->ping_next = 0;
        wk_send_ping(w);
    }
    /* a lost PONG must not stall the clock probe */
    if (w->ping_want && !w->ping_next && clock_wall_ns() - w->ping_sent > PONG_TIMEOUT_NS) {
        if (w->ping_seq < w->ping_want)
            wk_send_ping(w);
        else
            wk_measure_end(w);
    }
    /* measure again now and then, never while a benchmark runs; soon while
     * the bound is poor, but only a few times (a loaded coordinator or
     * network stays so: every 2 s from a thousand workers is a load too) */
    int64_t every = w->clk.samples && w->clk.err_ns > POOR_ERR_NS && w->clk_tries < POOR_TRIES
                        ? REMEASURE_POOR_NS
                        : w->remeasure_ns;
    if (!w->ping_want && !w->same_clock && w->job.state != JOB_RUNNING && now - w->clk_at >= every)
        wk_measure_start(w, REPINGS);
}
