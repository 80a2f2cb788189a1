/* decide.c — the coordinator's pure decisions (decide.h). */
#include "decide.h"

#include <string.h>

const char *run_status_name(run_status_t st)
{
    return st == RUN_COMPLETE ? "complete" : st == RUN_PARTIAL ? "partial" : "failed";
}

/* Is the worker named in list, by name or by platform? */
static bool s_in_list(char *const *list, size_t n, const char *name, const char *platform)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0 || (platform && strcmp(list[i], platform) == 0))
            return true;
    return false;
}

bool decide_serves(const struct exp_phase *ph, const char *name, const char *platform)
{
    return ph->nservers && s_in_list(ph->servers, ph->nservers, name, platform);
}

/* Was it launched from a `platforms:` entry with role: server? */
static bool s_serve_only(const struct experiment *exp, const char *name)
{
    for (size_t i = 0; i < exp->nplatforms; i++)
        if (exp->platforms[i].role == LAUNCH_ROLE_SERVER && !strcmp(exp->platforms[i].name, name))
            return true;
    return false;
}

bool decide_selected(const struct experiment *exp, const struct exp_phase *ph, const char *name,
                     const char *platform)
{
    if (decide_serves(ph, name, platform) || s_serve_only(exp, name))
        return false;
    return !ph->workers || s_in_list(ph->workers, ph->nworkers, name, platform);
}

bool decide_takes_part(const struct experiment *exp, const struct exp_phase *ph,
                       const struct decide_worker *w, bool rejoin)
{
    return !w->lost && !(w->rejoined && !rejoin) && decide_selected(exp, ph, w->name, w->platform);
}

struct resume_plan decide_resume(const struct exp_phase *ph, const struct decide_worker *w,
                                 const bool *done, size_t n, size_t stored, size_t *keep)
{
    struct resume_plan p = { 0 };
    for (size_t i = 0; i < n; i++) {
        if (done[i])
            continue;
        keep[p.nkeep++] = i;
        p.measurers += !decide_serves(ph, w[i].name, w[i].platform);
    }
    p.skip = stored > 0 && p.measurers == 0;
    return p;
}

run_status_t decide_run_status(const struct run_counts *k)
{
    if (k->stopped || k->ok == 0)
        return RUN_FAILED;
    if (k->failed || k->lost || k->shortfall || k->uncovered)
        return RUN_PARTIAL;
    return RUN_COMPLETE;
}

/* The line is written now: what was held back goes with it. */
static int64_t s_refusal_logged(struct refusal_log *r, int64_t now)
{
    int64_t held = r->held;
    r->logged_at = now;
    r->unknown_since = 0;
    r->held = 0;
    return held;
}

bool decide_refusal_may_log(const struct refusal_log *r, int64_t now, int64_t interval_ns)
{
    return !r->logged_at || now - r->logged_at >= interval_ns;
}

int64_t decide_refusal(struct refusal_log *r, int64_t now, bool known, int64_t interval_ns)
{
    if (!decide_refusal_may_log(r, now, interval_ns)) {
        r->held++;
        return -1;
    }
    if (!known) {
        if (!r->unknown_since)
            r->unknown_since = now;
        if (now - r->unknown_since < interval_ns) {
            r->held++;
            return -1;
        }
    }
    return s_refusal_logged(r, now);
}

int64_t decide_refusal_due(struct refusal_log *r, int64_t now, int64_t interval_ns, bool final)
{
    if (!r->unknown_since || (!final && now - r->unknown_since < interval_ns))
        return -1;
    /* the one held back is logged itself: the others were held with it */
    int64_t held = s_refusal_logged(r, now);
    return held > 0 ? held - 1 : 0;
}
