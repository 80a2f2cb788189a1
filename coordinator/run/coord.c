/* coord.c — the coordinator's sockets.  Every frame from a worker arrives on
 * the ROUTER as [identity][payload]; the payload is decoded with the bounded
 * decoder and handed to the file that owns its kind (admit.c: HELLO;
 * results.c: READY and RESULT).  A malformed or hostile frame is dropped and
 * logged (rate-limited), never fatal.  The periodic duties (heartbeats, SYNC,
 * liveness) run between polls on tickers.  Opening and binding the sockets
 * (limits, keepalives, CURVE) is listen.c's.
 */
#include "coord_int.h"

#include <czmq.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "auth.h"
#include "clock.h"
#include "log.h"
#include "proto.h"
#include "ticker.h"

#define COORD_SYNC_MS 100 /* SYNC while a subscription is not proved */

/* The configuration's part that is not about sockets. */
static void s_configure(coord_t *c, const struct coord_config *cfg)
{
    c->store = cfg->store;
    c->exp = cfg->exp;
    c->interrupted = cfg->interrupted;
    c->expect_count = cfg->expect_count;
    c->expect_names = cfg->expect_names;
    c->nexpect_names = cfg->nexpect_names;
    c->hb_ms = PROTO_HEARTBEAT_MS;
    c->miss_beats = PROTO_MISSED_BEATS;
    c->rejoin = true;
    if (cfg->exp) {
        c->hb_ms = (int)(cfg->exp->heartbeat_ns / NS_PER_MS);
        c->miss_beats = cfg->exp->missed_beats;
        c->rejoin = cfg->exp->rejoin;
    }
    ticker_init(&c->hb_tick, (int64_t)c->hb_ms * NS_PER_MS);
    ticker_init(&c->sync_tick, COORD_SYNC_MS * NS_PER_MS);
    ticker_init(&c->live_tick, (int64_t)c->hb_ms * NS_PER_MS / 4);
    c->cur_phase = c->cur_rep = -1;
    c->resume_phase = -1;
    const char *gm = getenv("LOCKSTEP_GO_MODE");
    c->go_mode = !gm                         ? GO_PUB
                 : strcmp(gm, "naive") == 0  ? GO_NAIVE
                 : strcmp(gm, "router") == 0 ? GO_ROUTER
                                             : GO_PUB;
}

coord_t *coord_new(const struct coord_config *cfg, char *err, size_t errlen)
{
    coord_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s_configure(c, cfg);
    c->byname = zhash_new();
    clock_boot_id(c->boot_id, sizeof c->boot_id);
    if (coord_listen(c, cfg->endpoint, cfg->keys_dir, err, errlen) != 0)
        coord_destroy(&c);
    return c;
}

static void s_worker_free(struct cworker *w)
{
    free(w->name);
    free(w->platform);
    free(w->hostname);
    free(w->kernel);
    free(w->cpu_model);
    free(w->advertise);
    free(w->detected);
    free(w->distro);
    free(w->disk_model);
    for (size_t i = 0; i < w->nlabels; i++)
        free(w->labels[i]);
    free(w->labels);
    free(w->coord_host);
    free(w->step_error);
    free(w->serving);
    free(w->endpoint);
    free(w->prepare);
    free(w);
}

void coord_destroy(coord_t **c_p)
{
    coord_t *c = *c_p;
    if (!c)
        return;
    if (c->monitor)
        coord_refusals_due(c, true);
    for (size_t i = 0; i < c->nworkers; i++)
        s_worker_free(c->workers[i]);
    free(c->workers);
    for (size_t i = 0; c->skew && i < c->exp->nphases; i++)
        free(c->skew[i].skew_ns);
    free(c->skew);
    free(c->acks);
    zhash_t *h = c->byname;
    zhash_destroy(&h);
    h = c->expect_set;
    zhash_destroy(&h);
    h = c->prior; /* its items are freed with it (zhash_freefn) */
    zhash_destroy(&h);
    for (size_t i = 0; c->own_expect_names && i < c->nexpect_names; i++)
        free(c->expect_names[i]);
    if (c->own_expect_names)
        free((char **)c->expect_names);
    if (c->router)
        zmq_close(c->router);
    if (c->pub)
        zmq_close(c->pub);
    auth_destroy(&c->auth);
    if (c->monitor)
        zmq_close(c->monitor);
    free(c->peers);
    if (c->zctx)
        zmq_ctx_term(c->zctx);
    free(c);
    *c_p = NULL;
}

struct cworker *coord_worker(coord_t *c, const char *name) { return zhash_lookup(c->byname, name); }

int coord_send(coord_t *c, const char *worker, void *data, size_t len)
{
    int rc = -1;
    if (zmq_send(c->router, worker, strlen(worker), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0 &&
        zmq_send(c->router, data, len, ZMQ_DONTWAIT) >= 0)
        rc = 0;
    else
        log_debug("send to %s failed: %s", worker, zmq_strerror(zmq_errno()));
    free(data);
    return rc;
}

int coord_publish(coord_t *c, void *data, size_t len)
{
    int rc = zmq_send(c->pub, data, len, ZMQ_DONTWAIT) >= 0 ? 0 : -1;
    free(data);
    return rc;
}

void coord_send_msg(coord_t *c, const char *to, proto_builder_t *b)
{
    void *data;
    size_t len;
    if (proto_finish(&b, &data, &len) == 0)
        coord_send(c, to, data, len);
}

void coord_reject(coord_t *c, const char *to, const char *reason)
{
    log_warn("rejected %s: %s", to, reason);
    proto_builder_t *b = proto_begin(PROTO_REJECT);
    proto_put_str(b, "reason", reason);
    coord_send_msg(c, to, b);
}

void coord_send_go(coord_t *c, struct cworker *w)
{
    proto_builder_t *b = proto_begin(PROTO_GO);
    proto_put_int(b, "run", c->run_key);
    proto_put_int(b, "phase", w->phase);
    proto_put_int(b, "rep", w->rep);
    proto_put_int(b, "start_at", c->go_mode == GO_NAIVE ? 0 : w->go_at);
    coord_send_msg(c, w->name, b);
}

static void s_on_frame(coord_t *c, const char *id, const void *data, size_t len)
{
    char err[256];
    proto_msg_t *m = NULL;
    int rc = proto_decode(data, len, &m, err, sizeof err);
    if (rc == PROTO_E_VERSION) {
        char why[256];
        snprintf(why, sizeof why, "protocol version %" PRId64 " not supported (coordinator speaks %d)",
                 proto_msg_version(m), PROTO_VERSION);
        coord_reject(c, id, why);
        proto_msg_destroy(&m);
        return;
    }
    if (rc != 0) {
        c->dropped++;
        if (c->dropped <= 50 || c->dropped % 1000 == 0)
            log_warn("dropped a frame from '%s' (%zu bytes): %s", id, len, err);
        return;
    }
    proto_type_t t = proto_msg_type(m);
    struct cworker *w = coord_worker(c, id);
    if (t == PROTO_HELLO) {
        admit_hello(c, id, m);
    } else if (!w) {
        c->dropped++;
        log_debug("%s from unknown peer '%s' dropped", proto_type_name(t), id);
        /* a worker of a coordinator that died (or of this run before it
         * was resumed) heartbeats to the next one on its port: ask it to
         * register, rather than leave it waiting for a silence that the
         * new coordinator's heartbeats never let it hear */
        if (t == PROTO_HEARTBEAT || t == PROTO_RESULT || t == PROTO_READY)
            admit_tell_rejoin(c, NULL, id, "not registered with this coordinator");
    } else if (w->lost) {
        /* finished work is kept even from a worker declared lost meanwhile
         * (results_result says which results are refused) */
        if (t == PROTO_RESULT)
            results_result(c, w, m);
        admit_tell_rejoin(c, w, id, "declared lost in this run");
    } else {
        w->last_seen = clock_mono_ns();
        switch (t) {
        case PROTO_SYNC_OK:
            if (proto_int(m, "nonce", -1) == c->sync_nonce)
                w->synced = true;
            break;
        case PROTO_PING: {
            proto_builder_t *b = proto_begin(PROTO_PONG);
            proto_put_int(b, "seq", proto_int(m, "seq", 0));
            proto_put_int(b, "t0", proto_int(m, "t0", 0));
            proto_put_int(b, "tc", clock_wall_ns());
            coord_send_msg(c, id, b);
            break;
        }
        case PROTO_READY:
            results_ready(c, w, m);
            break;
        case PROTO_RESULT:
            results_result(c, w, m);
            break;
        case PROTO_HEARTBEAT:
            break;
        default:
            c->dropped++;
            log_warn("unexpected %s from %s dropped", proto_type_name(t), id);
        }
    }
    proto_msg_destroy(&m);
}

/* Read one [identity][payload] message; extra frames are drained and
 * dropped.  False when there was none. */
static bool s_recv_one(coord_t *c)
{
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    if (zmq_msg_recv(&id, c->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&id);
        return false;
    }
    zmq_msg_init(&body);
    int more = zmq_msg_more(&id);
    int nframes = 1;
    bool ok = more && zmq_msg_recv(&body, c->router, 0) >= 0;
    if (ok) {
        nframes++;
        while (zmq_msg_more(&body)) { /* a worker sends exactly one payload frame */
            zmq_msg_t extra;
            zmq_msg_init(&extra);
            zmq_msg_recv(&extra, c->router, 0);
            nframes++;
            ok = false;
            int m2 = zmq_msg_more(&extra);
            zmq_msg_close(&extra);
            if (!m2)
                break;
        }
    }
    char name[256];
    size_t idlen = zmq_msg_size(&id);
    if (idlen >= sizeof name)
        idlen = sizeof name - 1;
    memcpy(name, zmq_msg_data(&id), idlen);
    name[idlen] = '\0';
    if (ok && idlen > 0 && strlen(name) == idlen &&
        !admit_key_mismatch(c, name, c->auth ? zmq_msg_gets(&body, "User-Id") : NULL))
        s_on_frame(c, name, zmq_msg_data(&body), zmq_msg_size(&body));
    else if (ok && idlen > 0 && strlen(name) == idlen) {
        c->dropped++;
    } else {
        c->dropped++;
        if (c->dropped <= 50 || c->dropped % 1000 == 0)
            log_warn("dropped a message of %d frames from %s", nframes,
                     ok ? "a peer without a usable name" : "a peer");
    }
    zmq_msg_close(&body);
    zmq_msg_close(&id);
    return true;
}

void coord_flush_clocks(coord_t *c)
{
    struct store_clock *v = NULL;
    size_t n = 0;
    int64_t now = clock_wall_ns();
    for (size_t i = 0; i < c->nworkers; i++) {
        struct cworker *w = c->workers[i];
        if (!w->clock_dirty || w->rank < 0)
            continue;
        if (!v)
            v = calloc(c->nworkers, sizeof *v);
        v[n++] = (struct store_clock){ .worker = w->name, .n = w->clock_n, .at = now,
                                       .offset_ns = w->offset_ns, .err_ns = w->offset_err_ns };
    }
    /* busy: keep them dirty, the next flush tries again */
    if (n && store_clocks_put(c->store, c->run, v, n) == 0)
        for (size_t i = 0; i < c->nworkers; i++)
            if (c->workers[i]->rank >= 0)
                c->workers[i]->clock_dirty = false;
    free(v);
}

void coord_mark_lost(coord_t *c, struct cworker *w, const char *reason)
{
    if (w->lost)
        return;
    w->lost = true;
    w->lost_wall = clock_wall_ns();
    c->nlive--;
    const char *phase = c->cur_phase >= 0 ? c->exp->phases[c->cur_phase].name : NULL;
    log_warn("worker %s lost%s%s: %s", w->name, phase ? " in phase " : "", phase ? phase : "",
             reason);
    if (w->rank >= 0)
        store_worker_lost(c->store, c->run, w->name, clock_wall_ns(), reason, phase);
    if (w->phase >= 0 && (w->step == STEP_PREPARED || w->step == STEP_READY || w->step == STEP_GO))
        coord_store_unfinished(c, w, "lost", reason);
    w->told_rejoin = 0;
    admit_tell_rejoin(c, w, w->name, "declared lost in this run");
}

static void s_publish_msg(coord_t *c, proto_builder_t *b)
{
    void *data;
    size_t len;
    if (proto_finish(&b, &data, &len) == 0)
        coord_publish(c, data, len);
}

/* Has an admitted worker not proved its SUB receives yet? */
static bool s_need_sync(const coord_t *c)
{
    for (size_t i = 0; i < c->nworkers; i++)
        if (!c->workers[i]->lost && !c->workers[i]->synced)
            return true;
    return false;
}

/* Declare lost every worker silent for longer than missed beats. */
static void s_check_liveness(coord_t *c, int64_t now)
{
    int64_t limit = (int64_t)c->miss_beats * c->hb_ms * NS_PER_MS;
    for (size_t i = 0; i < c->nworkers; i++) {
        struct cworker *w = c->workers[i];
        if (!w->lost && now - w->last_seen > limit) {
            char why[128];
            snprintf(why, sizeof why, "no message for %.1f s (%d missed heartbeats)",
                     (double)(now - w->last_seen) / NS_PER_SEC, c->miss_beats);
            coord_mark_lost(c, w, why);
        }
    }
}

static void s_periodic(coord_t *c)
{
    int64_t now = clock_mono_ns();
    if (ticker_due(&c->hb_tick, now)) {
        proto_builder_t *b = proto_begin(PROTO_HEARTBEAT);
        proto_put_int(b, "t", clock_wall_ns());
        proto_put_int(b, "run", c->run_key);
        s_publish_msg(c, b);
    }
    /* SYNC until every admitted worker has proved its SUB receives */
    if (ticker_ready(&c->sync_tick, now) && s_need_sync(c)) {
        ticker_touch(&c->sync_tick, now);
        proto_builder_t *b = proto_begin(PROTO_SYNC);
        proto_put_int(b, "run", c->run_key);
        proto_put_int(b, "nonce", c->sync_nonce);
        s_publish_msg(c, b);
    }
    if (ticker_due(&c->live_tick, now)) {
        s_check_liveness(c, now);
        if (c->spawn)
            spawn_reap(c->spawn);
        if (c->monitor)
            coord_refusals_due(c, false);
    }
}

/* Milliseconds until s_periodic has something to do: the pump sleeps that
 * long at most, and no longer wakes 20 times a second for nothing. */
static int s_ms_to_duty(const coord_t *c)
{
    const ticker_t *duties[] = { &c->hb_tick, &c->live_tick,
                                 s_need_sync(c) ? &c->sync_tick : NULL };
    return ticker_wait_ms(clock_mono_ns(), INT_MAX, duties, 3);
}

/* Did the coordinator stand still since the last look (gap_ns: the longest
 * it may legitimately have been away)?  Then whatever its workers sent
 * meanwhile is still in its sockets, unread: take it in, and judge silence
 * from now on, as if every live worker had just spoken.  Every deadline
 * moves by the stall (sched_wait in sched.c). */
static void s_check_stall(coord_t *c, int64_t gap_ns)
{
    int64_t stalled = clock_stalled(&c->stall, gap_ns);
    if (!stalled)
        return;
    c->stalled_ns += stalled;
    log_warn("the coordinator stood still for %.1f s (stopped, paused or asleep): nobody is "
             "judged for that silence; liveness clocks and deadlines restart from now",
             (double)stalled / NS_PER_SEC);
    /* libzmq's I/O thread woke with us and is reading the kernel's buffers:
     * give it a moment, then drain, before anyone is judged */
    zmq_pollitem_t item = { .socket = c->router, .events = ZMQ_POLLIN };
    for (int i = 0; i < 16 && zmq_poll(&item, 1, i ? 0 : 50) > 0; i++) {
        for (int k = 0; k < 4096 && s_recv_one(c); k++)
            ;
        results_batch_close(c);
    }
    int64_t now = clock_mono_ns();
    for (size_t i = 0; i < c->nworkers; i++)
        if (!c->workers[i]->lost)
            c->workers[i]->last_seen = now;
    ticker_touch(&c->live_tick, now);
    clock_stalled(&c->stall, gap_ns); /* the drain is not a stall */
}

void coord_pump(coord_t *c, int timeout_ms)
{
    /* between two pumps the scheduler works (a commit's fsync): a beat */
    s_check_stall(c, (int64_t)c->hb_ms * NS_PER_MS);
    int due = s_ms_to_duty(c);
    timeout_ms = timeout_ms < 0 || due < timeout_ms ? due : timeout_ms;
    zmq_pollitem_t items[3] = { { .socket = c->router, .events = ZMQ_POLLIN },
                                { .socket = c->auth ? auth_socket(c->auth) : NULL,
                                  .events = ZMQ_POLLIN },
                                { .socket = c->monitor, .events = ZMQ_POLLIN } };
    int polled = zmq_poll(items, c->auth ? (c->monitor ? 3 : 2) : 1, timeout_ms);
    /* stopped in the poll: its timeout, and a beat */
    s_check_stall(c, (int64_t)timeout_ms * NS_PER_MS + (int64_t)c->hb_ms * NS_PER_MS);
    if (polled > 0) {
        if (c->auth && (items[1].revents & ZMQ_POLLIN))
            auth_handle(c->auth);
        if (c->monitor && (items[2].revents & ZMQ_POLLIN))
            coord_monitor_drain(c);
        /* bounded batch so periodic duties still run under a flood; no
         * ZMQ_EVENTS before each message: it costs two syscalls (libzmq
         * checks its command mailbox), a non-blocking receive costs none */
        for (int i = 0; i < 4096 && s_recv_one(c); i++)
            ;
        results_batch_close(c);
    }
    s_periodic(c);
}


/* ---- configuring and reading (coord.h) ---- */

void coord_set_run(coord_t *c, int64_t run, int64_t run_key)
{
    c->run = run;
    c->run_key = run_key;
}

void coord_resume(coord_t *c, int64_t run, int64_t run_key, int last_phase)
{
    coord_set_run(c, run, run_key);
    c->resume_phase = last_phase;
    if (!c->prior)
        c->prior = zhash_new();
}

void coord_resume_worker(coord_t *c, const char *name, int64_t epoch, bool lost)
{
    struct coord_prior *p = calloc(1, sizeof *p);
    if (!p)
        return;
    if (!c->prior)
        c->prior = zhash_new();
    p->epoch = epoch > 0 ? epoch : 1;
    p->lost = lost;
    zhash_insert(c->prior, name, p);
    zhash_freefn(c->prior, name, free);
    /* expected again, unless the command line says whom to expect */
    if (c->expect_count || (c->nexpect_names && !c->own_expect_names))
        return;
    char **names = realloc((char **)c->expect_names, (c->nexpect_names + 1) * sizeof *names);
    if (!names)
        return;
    names[c->nexpect_names++] = strdup(name);
    c->expect_names = names;
    c->own_expect_names = true;
}

void coord_expect_names(coord_t *c, char *const *names, size_t n)
{
    c->expect_names = names;
    c->nexpect_names = n;
    c->expect_count = (int)n;
}

void coord_set_launcher(coord_t *c, coord_gone_fn gone, coord_launched_as_fn as, void *ctx)
{
    c->launch_gone = gone;
    c->launched_as = as;
    c->launch_ctx = ctx;
}

void coord_set_spawn(coord_t *c, struct spawn *spawn) { c->spawn = spawn; }
void coord_set_shortfall(coord_t *c) { c->shortfall = true; }
const char *coord_endpoint(const coord_t *c) { return c->endpoint; }
const char *coord_pub_endpoint(const coord_t *c) { return c->pub_endpoint; }
int64_t coord_run(const coord_t *c) { return c->run; }
int64_t coord_run_key(const coord_t *c) { return c->run_key; }
store_t *coord_store(const coord_t *c) { return c->store; }
bool coord_expects_someone(const coord_t *c) { return c->expect_count || c->nexpect_names; }
const char *coord_store_error(const coord_t *c) { return c->store_failed ? c->store_err : NULL; }

void coord_store_failed(coord_t *c, const char *what)
{
    c->store_failed = true;
    snprintf(c->store_err, sizeof c->store_err, "%s: %s: %s", store_path(c->store), what,
             store_errmsg(c->store));
}

void coord_tally(const coord_t *c, struct coord_tally *t)
{
    *t = (struct coord_tally){ .workers = c->nworkers };
    for (size_t i = 0; i < c->nworkers; i++) {
        t->lost += c->workers[i]->lost;
        t->back += c->workers[i]->rejoined;
    }
}

const char *coord_worker_platform(const coord_t *c, const char *name)
{
    const struct cworker *w = zhash_lookup(c->byname, name);
    return !w ? NULL : w->platform ? w->platform : "";
}
