/* admit.c — who may join a run, and under which epoch.  A HELLO is a new
 * worker (admitted while admission is open, if expected), a live worker's
 * repeated registration (welcomed again, its place kept), another process
 * under a live worker's name (refused), or a lost worker come back
 * (admitted again with the next epoch).  With --keys, a key is an identity.
 * The WELCOME carries the liveness settings (proto_put_liveness).  Then
 * sched_admit closes admission: it waits for whom the run expects, records
 * who never came, ranks the workers by name and confirms subscriptions. */
#include "coord_int.h"
#include "sched_int.h"
#include "schedule.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

/* HELLO's optional host facts and labels (an older worker sends none). */
static void s_host_facts(struct cworker *w, const proto_msg_t *m)
{
    const char *d = proto_str(m, "detected"), *o = proto_str(m, "distro"),
               *k = proto_str(m, "disk_model");
    w->detected = d ? strdup(d) : NULL;
    w->distro = o ? strdup(o) : NULL;
    w->disk_model = k ? strdup(k) : NULL;
    size_t n = proto_strarray_count(m, "labels");
    if (n > 16)
        n = 16; /* what a worker may send; more is not ours to keep */
    w->labels = n ? calloc(n, sizeof *w->labels) : NULL;
    for (size_t i = 0; w->labels && i < n; i++) {
        const char *l = proto_strarray_get(m, "labels", i);
        if (l && strchr(l, '=') && strlen(l) <= 128)
            w->labels[w->nlabels++] = strdup(l);
    }
}

/* Is name acceptable as a new worker now?  NULL, or the reason it is not. */
static const char *s_admissible(coord_t *c, const char *name, char *buf, size_t len)
{
    if (!c->admitting)
        return "the run has already started";
    if (c->nexpect_names) {
        if (!c->expect_set) { /* a lookup per HELLO, not a scan of the list */
            c->expect_set = zhash_new();
            for (size_t i = 0; i < c->nexpect_names; i++)
                zhash_insert(c->expect_set, c->expect_names[i], c->expect_names[i]);
        }
        if (zhash_lookup(c->expect_set, name))
            return NULL;
        snprintf(buf, len, "worker '%s' is not in this experiment's worker list", name);
        return buf;
    }
    if (c->expect_count > 0 && (int)c->nworkers >= c->expect_count) {
        snprintf(buf, len, "the run already has its %d workers", c->expect_count);
        return buf;
    }
    return NULL;
}

/* Tell a worker this coordinator does not know it as it is (declared lost,
 * or never registered here: the coordinator restarted) and that it should
 * register again.  At most once per heartbeat per worker. */
void admit_tell_rejoin(coord_t *c, struct cworker *w, const char *to, const char *reason)
{
    int64_t now = clock_mono_ns();
    if (w) {
        if (now - w->told_rejoin < (int64_t)c->hb_ms * NS_PER_MS)
            return;
        w->told_rejoin = now;
    }
    proto_builder_t *b = proto_begin(PROTO_QUIT);
    proto_put_str(b, "reason", reason);
    proto_put_bool(b, "rejoin", true);
    coord_send_msg(c, to, b);
}

/* A lost worker is back: admit it again with the next epoch. */
static void s_rejoin(coord_t *c, struct cworker *w, const proto_msg_t *m)
{
    w->lost = false;
    w->rejoined = true;
    w->epoch++;
    w->step = STEP_NONE;
    /* its SUB may be a new connection (it reconnects after a silence):
     * SYNC until it proves it receives, GO goes to it directly till then */
    w->synced = false;
    w->pid = proto_int(m, "pid", w->pid);
    w->last_seen = clock_mono_ns();
    c->nlive++;
    log_warn("worker %s is back: admitted again with epoch %" PRId64 "%s", w->name, w->epoch,
             c->rejoin ? "; it takes part in the repetitions still to run"
                       : "; it sits out the rest of the run (rejoin: false)");
    if (w->rank >= 0 &&
        store_worker_rejoined(c->store, c->run, w->name, w->epoch, clock_wall_ns()) != 0)
        log_warn("%s: cannot record that %s rejoined: %s", store_path(c->store), w->name,
                 store_errmsg(c->store));
}

/* A live worker registered again in the middle of its repetition: it
 * replaced its connection after a silence, and what went out on the old
 * one may be lost.  Its PREPARE goes again (a worker answers a PREPARE it
 * already has with READY, and ignores one it is running), or its GO, if it
 * had one (it starts late, or ignores it when it has started); its SUB may
 * be new too, so it proves its subscription again. */
static void s_resume_step(coord_t *c, struct cworker *w)
{
    w->synced = false;
    if (w->step == STEP_PREPARED && w->prepare) {
        void *copy = malloc(w->prepare_len);
        if (copy) {
            memcpy(copy, w->prepare, w->prepare_len);
            coord_send(c, w->name, copy, w->prepare_len);
        }
    } else if (w->step == STEP_GO) {
        coord_send_go(c, w);
    }
}

/* A name this coordinator has not seen: a new worker, when admissible. */
static struct cworker *s_admit_new(coord_t *c, const char *name, const proto_msg_t *m)
{
    char why[256];
    const char *reason = s_admissible(c, name, why, sizeof why);
    if (reason) {
        coord_reject(c, name, reason);
        return NULL;
    }
    struct cworker *w = calloc(1, sizeof *w);
    w->name = coord_strdup(name);
    w->platform = coord_strdup(proto_str(m, "platform"));
    w->hostname = coord_strdup(proto_str(m, "hostname"));
    w->kernel = coord_strdup(proto_str(m, "kernel"));
    w->cpu_model = coord_strdup(proto_str(m, "cpu_model"));
    w->advertise = proto_str(m, "advertise") ? coord_strdup(proto_str(m, "advertise")) : NULL;
    s_host_facts(w, m);
    w->coord_host = proto_str(m, "coord_host") ? coord_strdup(proto_str(m, "coord_host")) : NULL;
    w->cores = proto_int(m, "cores", 0);
    w->mem_bytes = proto_int(m, "mem_bytes", 0);
    w->pid = proto_int(m, "pid", 0);
    w->joined_at = clock_wall_ns();
    w->last_seen = clock_mono_ns();
    w->rank = -1;
    w->phase = w->rep = -1;
    w->epoch = 1;
    /* a worker of the run being resumed keeps its epoch, or gets the
     * next one if that run had lost it */
    const struct coord_prior *pw = c->prior ? zhash_lookup(c->prior, name) : NULL;
    if (pw) {
        w->epoch = pw->epoch + (pw->lost ? 1 : 0);
        w->rejoined = pw->lost;
    }
    if (c->nworkers == c->capworkers) {
        c->capworkers = c->capworkers ? c->capworkers * 2 : 16;
        c->workers = realloc(c->workers, c->capworkers * sizeof *c->workers);
    }
    c->workers[c->nworkers++] = w;
    zhash_insert(c->byname, w->name, w);
    c->nlive++;
    log_info("admitted %s (%s, %s, %" PRId64 " cores)", w->name, w->platform, w->hostname,
             w->cores);
    return w;
}

/* A HELLO under a live worker's name: the same worker registering again
 * (true), or another process (refused, false). */
static bool s_same_worker(coord_t *c, struct cworker *w, const proto_msg_t *m)
{
    /* Another process under a live worker's name (a cloned VM; the
     * transport let it in because the first connection dropped for a
     * moment): refuse it rather than let two processes share a slot. */
    int64_t pid = proto_int(m, "pid", 0);
    const char *host = proto_str(m, "hostname");
    bool same = pid == w->pid && host && strcmp(host, w->hostname) == 0;
    bool live = clock_mono_ns() - w->last_seen < (int64_t)c->miss_beats * c->hb_ms * NS_PER_MS;
    if (!same && live) {
        char why[256];
        snprintf(why, sizeof why, "name '%s' is in use by pid %" PRId64 " on %s", w->name,
                 w->pid, w->hostname);
        coord_reject(c, w->name, why);
        return false;
    }
    /* a repeated HELLO (the WELCOME was lost, the worker replaced its
     * connection after a silence, or it restarted after its old
     * connection closed): welcome again, keep its place */
    w->last_seen = clock_mono_ns();
    w->pid = proto_int(m, "pid", w->pid);
    return true;
}

void admit_hello(coord_t *c, const char *id, const proto_msg_t *m)
{
    const char *name = proto_str(m, "name");
    bool again = false;
    if (strcmp(name, id) != 0) {
        char why[256];
        snprintf(why, sizeof why, "name '%s' differs from socket identity '%s'", name, id);
        coord_reject(c, id, why);
        return;
    }
    struct cworker *w = coord_worker(c, name);
    if (w && w->lost) {
        s_rejoin(c, w, m);
    } else if (w) {
        if (!s_same_worker(c, w, m))
            return;
        again = true;
    } else if (!(w = s_admit_new(c, name, m))) {
        return;
    }
    proto_builder_t *b = proto_begin(PROTO_WELCOME);
    proto_put_int(b, "run", c->run_key);
    proto_put_int(b, "rank", w->rank);
    proto_put_str(b, "pub", c->pub_endpoint);
    proto_put_liveness(b, c->hb_ms, c->miss_beats);
    proto_put_int(b, "epoch", w->epoch);
    if (c->boot_id[0])
        proto_put_str(b, "boot_id", c->boot_id);
    coord_send_msg(c, id, b);
    if (again)
        s_resume_step(c, w);
}

/* With --keys a key is an identity: the ZAP handler named the key's owner
 * (User-Id, the name keygen wrote into the certificate), and a worker may
 * speak only under that name.  True when it does not: the message is
 * dropped and the peer told why (once per name and minute in the log). */
bool admit_key_mismatch(coord_t *c, const char *name, const char *owner)
{
    if (!c->auth)
        return false;
    if (owner && strcmp(owner, name) == 0)
        return false;
    char why[512];
    snprintf(why, sizeof why, "the CURVE key this worker uses is %s%s%s's, not %s's: a key "
             "works only under the name it was made for (lockstep keygen DIR --workers %s "
             "makes %s's, to be passed with --cert)", owner ? "" : "(nobody", owner ? owner : "",
             owner ? "" : ")", name, name, name);
    int64_t now = clock_mono_ns();
    if (now - c->mismatch_logged_at > 60 * NS_PER_SEC || strcmp(c->mismatch_name, name) != 0) {
        log_warn("refused %s: %s", name, why);
        c->mismatch_logged_at = now;
        snprintf(c->mismatch_name, sizeof c->mismatch_name, "%s", name);
    }
    proto_builder_t *b = proto_begin(PROTO_REJECT);
    proto_put_str(b, "reason", why);
    coord_send_msg(c, name, b);
    return true;
}


/* Closing admission (schedule.h's sched_admit) */

static bool s_all_admitted(coord_t *c, void *arg)
{
    (void)arg;
    if (c->nexpect_names && c->launch_gone) {
        /* every launched platform is here, or will never come */
        for (size_t i = 0; i < c->nexpect_names; i++)
            if (!coord_worker(c, c->expect_names[i]) &&
                !c->launch_gone(c->launch_ctx, c->expect_names[i]))
                return false;
        return true;
    }
    if (c->nexpect_names)
        return c->nworkers == c->nexpect_names;
    return c->expect_count > 0 && (int)c->nworkers >= c->expect_count;
}

/* arg: a cursor.  Confirmation and loss are for good, so a worker found
 * done is never looked at again: a barrier of N costs O(N) in all, not O(N)
 * per message. */
static bool s_all_synced(coord_t *c, void *arg)
{
    size_t *next = arg;
    while (*next < c->nworkers && (c->workers[*next]->lost || c->workers[*next]->synced))
        (*next)++;
    return *next == c->nworkers;
}

static int s_by_name(const void *a, const void *b)
{
    return strcmp((*(struct cworker *const *)a)->name, (*(struct cworker *const *)b)->name);
}

/* Admission closed short: say who never came (stored as absent) — or, when
 * only a count was expected, how many. */
static void s_name_absent(coord_t *c, size_t want)
{
    if (!c->nexpect_names) {
        log_warn("%zu of %zu expected workers arrived before the deadline; %zu never did "
                 "(--expect NAMES would name them); going on with those here",
                 c->nworkers, want, want - c->nworkers);
        return;
    }
    char missing[1024] = "", reason[128];
    size_t used = 0;
    snprintf(reason, sizeof reason, "never arrived: admission closed after %.0f s",
             (double)(clock_mono_ns() - c->admit_started_ns) / NS_PER_SEC);
    for (size_t i = 0; i < c->nexpect_names; i++) {
        const char *name = c->expect_names[i];
        if (coord_worker(c, name) || (c->prior && zhash_lookup(c->prior, name)))
            continue; /* a resumed run's absentees are recorded as lost below */
        int k = snprintf(missing + used, sizeof missing - used, "%s%s", used ? ", " : "", name);
        used = k > 0 && used + (size_t)k < sizeof missing ? used + (size_t)k : used;
        if (store_worker_absent(c->store, c->run, name, clock_wall_ns(), reason) != 0)
            log_warn("%s: cannot record that %s never arrived: %s", store_path(c->store), name,
                     store_errmsg(c->store));
    }
    log_warn("%zu of %zu expected workers arrived before the deadline; never arrived: %s; "
             "going on with those here", c->nworkers, want, missing[0] ? missing : "(none new)");
}

int sched_admit(coord_t *c, int64_t admit_deadline, int64_t barrier_timeout_ns)
{
    c->admit_started_ns = clock_mono_ns();
    c->admitting = true;
    sched_wait(c, s_all_admitted, NULL, admit_deadline);
    c->admitting = false;
    if (c->nexpect_names || c->expect_count) {
        size_t want = c->nexpect_names ? c->nexpect_names : (size_t)c->expect_count;
        if (c->nworkers < want) {
            c->shortfall = true;
            s_name_absent(c, want);
        }
    }
    if (c->nworkers > 1)
        qsort(c->workers, c->nworkers, sizeof *c->workers, s_by_name);
    /* one transaction (one fsync) for all the workers, not one each */
    bool batch = store_batch_begin(c->store) == 0;
    for (size_t i = 0; i < c->nworkers; i++) {
        struct cworker *w = c->workers[i];
        w->rank = (int)i;
        struct store_worker sw = {
            .name = w->name, .rank = w->rank, .platform = w->platform, .hostname = w->hostname,
            .kernel = w->kernel, .cpu_model = w->cpu_model, .advertise = w->advertise,
            .cores = w->cores, .mem_bytes = w->mem_bytes, .pid = w->pid,
            .clock_offset_ns = w->offset_ns, .clock_err_ns = w->offset_err_ns,
            .joined_at = w->joined_at,
            .launched_as = c->launched_as ? c->launched_as(c->launch_ctx, w->name) : NULL,
            .epoch = w->epoch,
            .detected = w->detected, .distro = w->distro, .disk_model = w->disk_model,
            .labels = (const char *const *)w->labels, .nlabels = w->nlabels,
        };
        if (store_worker_put(c->store, c->run, &sw) != 0) {
            if (batch)
                store_batch_commit(c->store);
            coord_store_failed(c, "cannot store worker");
            return 0;
        }
        if (w->lost)
            store_worker_lost(c->store, c->run, w->name, clock_wall_ns(), "lost during admission",
                              NULL);
        else if (w->rejoined) /* lost before the run was resumed, back now */
            store_worker_rejoined(c->store, c->run, w->name, w->epoch, clock_wall_ns());
    }
    /* a worker of the resumed run that did not come back is lost now */
    if (c->prior) {
        zlist_t *names = zhash_keys(c->prior);
        for (const char *k = zlist_first(names); k; k = zlist_next(names))
            if (!coord_worker(c, k)) {
                c->shortfall = true;
                store_worker_lost(c->store, c->run, k, clock_wall_ns(),
                                  "did not come back when the run was resumed", NULL);
            }
        zlist_destroy(&names);
    }
    if (batch && store_batch_commit(c->store) != 0) {
        coord_store_failed(c, "cannot store workers");
        return 0;
    }
    size_t cursor = 0;
    if (!sched_wait(c, s_all_synced, &cursor, clock_mono_ns() + barrier_timeout_ns) &&
        !sched_stopping(c)) {
        for (size_t i = 0; i < c->nworkers; i++)
            if (!c->workers[i]->lost && !c->workers[i]->synced)
                coord_mark_lost(c, c->workers[i], "never confirmed its subscription (SYNC)");
    }
    return (int)c->nworkers;
}
