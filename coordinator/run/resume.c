/* resume.c — finishing a run whose coordinator died (resume.h).
 *
 * A run is owned by the coordinator process that began or resumed it,
 * recorded as "HOST PID STARTTIME" in runs.coordinator; the pid with its
 * start time names one process even after pids are reused.  A run still
 * marked running whose owner is gone from this host was cut short by a
 * crash (SIGKILL, power, OOM): `lockstep run` on the same database takes it
 * up again under the same wire key, so that its workers' spooled results are
 * accepted, and sched.c skips every repetition already stored. */
#include "resume.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platform/launch.h"
#include "log.h"

void resume_owner(char *buf, size_t len)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    snprintf(buf, len, "%s %d %llu", host, (int)getpid(), launch_proc_start(getpid()));
}

/* 1: the owner is alive on this host; 0: gone; -1: another host's (or not
 * recorded), so this one cannot tell. */
static int s_owner_alive(const char *owner, int *pid_p)
{
    char host[256] = "", mine[256] = "";
    int pid = 0;
    unsigned long long start = 0;
    if (!owner || sscanf(owner, "%255s %d %llu", host, &pid, &start) != 3)
        return -1;
    *pid_p = pid;
    gethostname(mine, sizeof mine - 1);
    if (strcmp(host, mine) != 0)
        return -1;
    return start != 0 && launch_proc_start(pid) == start ? 1 : 0;
}

static int s_load(struct store_run_info *ri, struct experiment **exp_p, FILE *diag, char *err,
                  size_t errlen)
{
    char name[64];
    snprintf(name, sizeof name, "run %" PRId64 " (stored experiment)", ri->id);
    struct experiment *exp = NULL;
    if (experiment_parse(name, ri->source, strlen(ri->source), &exp, diag) != 0) {
        snprintf(err, errlen, "run %" PRId64 ": its stored experiment no longer loads; it "
                 "cannot be resumed", ri->id);
        return -1;
    }
    experiment_destroy(exp_p);
    *exp_p = exp;
    return 0;
}

/* --resume RUN: that run, unless it is complete or its coordinator lives. */
static resume_t s_find_id(store_t *store, int64_t id, struct experiment **exp_p,
                          struct store_run_info *ri, FILE *diag, char *err, size_t errlen)
{
    int pid = 0;
    int rc = store_run_get(store, id, ri);
    if (rc != 0) {
        snprintf(err, errlen, "--resume %" PRId64 ": %s", id,
                 rc > 0 ? "no such run in the database" : store_errmsg(store));
        return rc > 0 ? RESUME_E_INVALID : RESUME_E_FAIL;
    }
    resume_t bad = RESUME_RUN;
    if (strcmp(ri->status, "complete") == 0) {
        snprintf(err, errlen, "--resume %" PRId64 ": the run is complete; nothing to resume", id);
        bad = RESUME_E_INVALID;
    } else if (strcmp(ri->status, "running") == 0 &&
               s_owner_alive(ri->coordinator, &pid) == 1) {
        snprintf(err, errlen, "--resume %" PRId64 ": the run is in progress (coordinator pid "
                 "%d)", id, pid);
        bad = RESUME_E_FAIL;
    } else {
        if (*exp_p && strcmp((*exp_p)->source, ri->source) != 0)
            log_warn("run %" PRId64 " goes on with the experiment it began with, not with the "
                     "file given now", ri->id);
        if (s_load(ri, exp_p, diag, err, errlen) != 0)
            bad = RESUME_E_FAIL;
    }
    if (bad != RESUME_RUN)
        store_run_info_free(ri);
    return bad;
}

resume_t resume_find(store_t *store, int64_t resume_id, bool fresh, struct experiment **exp_p,
                     struct store_run_info *ri, FILE *diag, char *err, size_t errlen)
{
    int pid = 0, alive;
    if (resume_id > 0)
        return s_find_id(store, resume_id, exp_p, ri, diag, err, errlen);
    if (fresh || store_run_unfinished(store, (*exp_p)->name, ri) != 0)
        return RESUME_NEW;
    alive = s_owner_alive(ri->coordinator, &pid);
    if (alive != 0) {
        if (alive > 0)
            log_warn("run %" PRId64 " of %s is in progress (coordinator pid %d); this is a "
                     "new run beside it", ri->id, ri->experiment, pid);
        else
            log_warn("run %" PRId64 " of %s is marked running by %s%s; starting a new run "
                     "(--resume %" PRId64 " takes it over)", ri->id, ri->experiment,
                     ri->coordinator[0] ? "a coordinator on another host: " : "a coordinator "
                     "this lockstep cannot identify", ri->coordinator, ri->id);
        store_run_info_free(ri);
        return RESUME_NEW;
    }
    if (strcmp((*exp_p)->source, ri->source) != 0) {
        log_warn("run %" PRId64 " of %s was cut short, but %s has changed since; starting a "
                 "new run (--resume %" PRId64 " finishes the old one as it began)",
                 ri->id, ri->experiment, (*exp_p)->path, ri->id);
        store_run_info_free(ri);
        return RESUME_NEW;
    }
    log_warn("run %" PRId64 " of %s was cut short (its coordinator is gone): resuming it; "
             "--new starts a new run instead", ri->id, ri->experiment);
    if (s_load(ri, exp_p, diag, err, errlen) != 0) {
        store_run_info_free(ri);
        return RESUME_E_FAIL;
    }
    return RESUME_RUN;
}

static void s_prior(const char *name, int64_t epoch, bool lost, void *arg)
{
    coord_resume_worker(arg, name, epoch, lost);
}

int resume_apply(coord_t *c, const struct store_run_info *ri, char *err, size_t errlen)
{
    char owner[320];
    resume_owner(owner, sizeof owner);
    store_t *store = coord_store(c);
    int last = store_run_last_phase(store, ri->id);
    coord_resume(c, ri->id, ri->key, last);
    int n;
    if (last < -1 || (n = store_run_workers(store, ri->id, s_prior, c)) < 0 ||
        store_run_resume(store, ri->id, owner) != 0) {
        snprintf(err, errlen, "%s: cannot resume run %" PRId64 ": %s", store_path(store),
                 ri->id, store_errmsg(store));
        return -1;
    }
    log_info("run %" PRId64 ": resumed (phases 1..%d were started before; %d workers)", ri->id,
             last + 1, n);
    return 0;
}
