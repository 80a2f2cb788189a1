/* platforms.c — one worker per platform instance on this host, through the
 * launchers; see platforms.h. */
#include "platforms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>
#include <stdlib.h>
#include <string.h>

#include "curve.h"
#include "platform/launch.h"
#include "log.h"

struct inst {
    struct launch_spec spec;
    struct launch l;
    const char *status;  /* pending | skipped | failed | started | ran */
    char reason[768];
    bool started;
};

struct platforms {
    struct inst *v;
    size_t n;
    struct launch_env env;
    bool have_env;
    char **names;        /* started instances, for coord's expect_names */
    size_t nnames;
    char bound[4][64];   /* extra hosts the coordinator listens on */
    char keys_dir[320];  /* CURVE keys of the instances ("" : none) */
    struct launch_env keys_env; /* where minted keys live, swept after a crash */
    bool have_keys_env;
    size_t nbound;
    coord_t *c;
};

static char *s_dup(const char *s) { return s ? strdup(s) : NULL; }

/* A copy of s, given also the experiment's own tools (each once). */
static void s_copy_spec(struct launch_spec *d, const struct launch_spec *s,
                        const struct experiment *exp)
{
    *d = *s;
    d->name = s_dup(s->name);
    d->kind = s_dup(s->kind);
    d->image = s_dup(s->image);
    d->kernel = s_dup(s->kernel);
    d->accel = s_dup(s->accel);
    d->volume = s_dup(s->volume);
    d->ntools = 0;
    d->tools = calloc(s->ntools + exp->ntools + 1, sizeof *d->tools);
    for (size_t i = 0; d->tools && i < exp->ntools + s->ntools; i++) {
        const char *t = i < exp->ntools ? exp->tools[i] : s->tools[i - exp->ntools];
        bool seen = false;
        for (size_t j = 0; j < d->ntools && !seen; j++)
            seen = strcmp(d->tools[j], t) == 0;
        if (!seen)
            d->tools[d->ntools++] = strdup(t);
    }
}

static struct inst *s_find(platforms_t *p, const char *name);

platforms_t *platforms_new(const struct experiment *exp, const char *list, char *err,
                           size_t errlen)
{
    platforms_t *p = calloc(1, sizeof *p);
    size_t cap = exp->nplatforms + 8;
    if (list)
        for (const char *q = list; *q; q++)
            cap += *q == ',';
    if (!p || !(p->v = calloc(cap, sizeof *p->v))) {
        snprintf(err, errlen, "out of memory");
        free(p);
        return NULL;
    }
    if (!list) {
        for (size_t i = 0; i < exp->nplatforms; i++)
            s_copy_spec(&p->v[p->n++].spec, &exp->platforms[i], exp);
        return p;
    }
    char *copy = strdup(list);
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        tok += strspn(tok, " ");
        tok[strcspn(tok, " ")] = '\0';
        if (!*tok)
            continue;
        for (size_t i = 0; i < p->n; i++)
            if (strcmp(p->v[i].spec.name, tok) == 0) {
                snprintf(err, errlen, "--platforms: '%s' is listed twice", tok);
                goto fail;
            }
        const struct launch_spec *found = NULL;
        for (size_t i = 0; i < exp->nplatforms; i++)
            if (strcmp(exp->platforms[i].name, tok) == 0)
                found = &exp->platforms[i];
        struct launch_spec *sp = &p->v[p->n].spec;
        if (found) {
            s_copy_spec(sp, found, exp);
        } else if (launch_find(tok)) {
            struct launch_spec plain = { .name = tok, .kind = tok };
            s_copy_spec(sp, &plain, exp);
        } else {
            snprintf(err, errlen, "--platforms: '%s' is neither a platform kind (%s) nor a "
                     "platform named in %s", tok, launch_kinds(), exp->path ? exp->path : "the "
                     "experiment");
            goto fail;
        }
        p->n++;
    }
    free(copy);
    /* a platform that only serves (role: server) is part of the set-up, not
     * a platform compared: it comes along with whichever are picked */
    for (size_t i = 0; p->n && i < exp->nplatforms; i++)
        if (exp->platforms[i].role == LAUNCH_ROLE_SERVER && !s_find(p, exp->platforms[i].name))
            s_copy_spec(&p->v[p->n++].spec, &exp->platforms[i], exp);
    if (p->n == 0) {
        snprintf(err, errlen, "--platforms: no platform named (expected e.g. native,docker)");
        platforms_destroy(&p);
    }
    return p;
fail:
    free(copy);
    platforms_destroy(&p);
    return NULL;
}

size_t platforms_count(const platforms_t *p) { return p ? p->n : 0; }

static struct inst *s_find(platforms_t *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].spec.name, name) == 0)
            return &p->v[i];
    return NULL;
}

static void s_record(platforms_t *p, struct inst *in, const char *status)
{
    in->status = status;
    store_t *store = p->c ? coord_store(p->c) : NULL;
    if (store && coord_run(p->c) > 0 &&
        store_platform_put(store, coord_run(p->c), in->spec.name, in->spec.kind, status,
                           in->reason[0] ? in->reason : NULL, in->l.what[0] ? in->l.what : NULL))
        log_warn("%s: cannot record platform %s: %s", store_path(store), in->spec.name,
                 store_errmsg(store));
}

/* What the instance runs under, as its launcher set it up. */
static void s_record_conditions(platforms_t *p, struct inst *in)
{
    store_t *store = p->c ? coord_store(p->c) : NULL;
    const struct launch_cond *k = &in->l.cond;
    struct store_conditions sc = {
        .cpus = k->cpus,
        .cpu_list = k->cpu_list[0] ? k->cpu_list : NULL,
        .memory = k->memory,
        .disk = k->disk[0] ? k->disk : NULL,
        .network = k->network[0] ? k->network : NULL,
        .unenforced = k->unenforced[0] ? k->unenforced : NULL,
    };
    if (store && coord_run(p->c) > 0 &&
        store_platform_conditions(store, coord_run(p->c), in->spec.name, &sc) != 0)
        log_warn("%s: cannot record the conditions of platform %s: %s", store_path(store),
                 in->spec.name, store_errmsg(store));
}

/* env->bind_also: once per host */
static int s_bind_also(void *ctx, const char *host, char *err, size_t errlen)
{
    platforms_t *p = ctx;
    for (size_t i = 0; i < p->nbound; i++)
        if (strcmp(p->bound[i], host) == 0)
            return 0;
    if (p->nbound == sizeof p->bound / sizeof p->bound[0]) {
        snprintf(err, errlen, "too many addresses to listen on");
        return -1;
    }
    if (coord_bind_also(p->c, host, err, errlen) != 0)
        return -1;
    snprintf(p->bound[p->nbound++], sizeof p->bound[0], "%s", host);
    return 0;
}

static bool s_gone(void *ctx, const char *name)
{
    struct inst *in = s_find(ctx, name);
    return !in || !in->started || launch_reap(&in->l);
}

static const char *s_launched_as(void *ctx, const char *name)
{
    struct inst *in = s_find(ctx, name);
    return in ? in->spec.kind : NULL;
}

int platforms_start(platforms_t *p, coord_t *c, const char *worker_bin, bool require_all,
                    bool verbose, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    p->c = c;
    launch_sweep();
    const char *colon = strrchr(coord_endpoint(c), ':');
    if (strncmp(coord_endpoint(c), "tcp://", 6) != 0 || !colon) {
        snprintf(err, errlen, "--platforms needs a tcp:// coordinator endpoint, not %s",
                 coord_endpoint(c));
        return -1;
    }
    if (launch_env_init(&p->env, (uint64_t)coord_run_key(c), err, errlen) != 0)
        return -1;
    p->have_env = true;
    p->env.worker_bin = worker_bin;
    p->env.port = atoi(colon + 1);
    p->env.verbose = verbose;
    p->env.stop = stop;
    p->env.bind_also = s_bind_also;
    p->env.keys_dir = p->keys_dir[0] ? p->keys_dir : NULL;
    p->env.bind_ctx = p;
    if (!(p->names = calloc(p->n, sizeof *p->names))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < p->n && !*stop; i++) {
        struct inst *in = &p->v[i];
        const struct launch_ops *ops = launch_find(in->spec.kind);
        in->l.ops = ops;
        in->l.spec = &in->spec;
        char why[sizeof in->reason];
        if (ops->check(&p->env, &in->spec, why, sizeof why) != 0) {
            snprintf(in->reason, sizeof in->reason, "%s", why);
            log_warn("platform %s skipped: %s", in->spec.name, in->reason);
            s_record(p, in, "skipped");
            continue;
        }
        log_info("platform %s: starting (%s)", in->spec.name, in->spec.kind);
        if (ops->start(&p->env, &in->l, why, sizeof why) != 0) {
            snprintf(in->reason, sizeof in->reason, "%s", why);
            log_warn("platform %s failed to start: %s", in->spec.name, in->reason);
            ops->stop(&p->env, &in->l, 0);
            s_record(p, in, "failed");
            coord_set_shortfall(c); /* unlike a skip, a failure leaves the run partial */
            continue;
        }
        in->started = true;
        p->names[p->nnames++] = in->spec.name;
        log_info("platform %s: %s", in->spec.name, in->l.what);
        if (in->l.cond.unenforced[0])
            log_warn("platform %s: not enforced: %s", in->spec.name, in->l.cond.unenforced);
        s_record(p, in, "started");
        s_record_conditions(p, in);
    }
    if (*stop) {
        snprintf(err, errlen, "interrupted while starting platforms");
        return -1;
    }
    if (require_all && p->nnames < p->n) {
        for (size_t i = 0; i < p->n; i++)
            if (!p->v[i].started) {
                snprintf(err, errlen, "platform %s could not start (--require-all): %s",
                         p->v[i].spec.name, p->v[i].reason);
                break;
            }
        return -1;
    }
    coord_expect_names(c, p->names, p->nnames);
    coord_set_launcher(c, s_gone, s_launched_as, p);
    return (int)p->nnames;
}

size_t platforms_admitted(platforms_t *p, coord_t *c)
{
    size_t missing = 0;
    for (size_t i = 0; i < p->n; i++) {
        struct inst *in = &p->v[i];
        if (!in->started)
            continue;
        const char *wp = coord_worker_platform(c, in->spec.name);
        if (!wp) {
            char tail[256];
            launch_log_tail(in->l.log, tail, sizeof tail);
            char how[64] = "";
            if (launch_reap(&in->l))
                snprintf(how, sizeof how, " (it exited, status %d)",
                         WIFEXITED(in->l.status) ? WEXITSTATUS(in->l.status)
                                                 : 128 + WTERMSIG(in->l.status));
            snprintf(in->reason, sizeof in->reason,
                     "started, but its worker never registered%s; last line of %s: %s", how,
                     in->l.log, tail[0] ? tail : "(empty)");
            log_warn("platform %s failed: %s", in->spec.name, in->reason);
            s_record(p, in, "failed");
            missing++;
            continue;
        }
        if (wp && strcmp(wp, in->spec.kind) != 0) {
            snprintf(in->reason, sizeof in->reason,
                     "launched as %s, but the worker detects itself as %s", in->spec.kind,
                     wp);
            log_warn("platform %s: %s", in->spec.name, in->reason);
        }
        s_record(p, in, "ran");
    }
    return missing;
}

void platforms_stop(platforms_t *p, int grace_ms)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        struct inst *in = &p->v[i];
        if (in->started) {
            in->l.ops->stop(&p->env, &in->l, grace_ms);
            in->started = false;
        }
    }
    if (p->have_env) {
        launch_env_cleanup(&p->env);
        p->have_env = false;
    }
    if (p->have_keys_env) {
        launch_env_cleanup(&p->keys_env);
        p->have_keys_env = false;
    }
}

void platforms_use_keys(platforms_t *p, const char *dir)
{
    snprintf(p->keys_dir, sizeof p->keys_dir, "%s", dir);
}

const char *platforms_mint_keys(platforms_t *p, char *err, size_t errlen)
{
    uint64_t key;
    if (getrandom(&key, sizeof key, 0) != (ssize_t)sizeof key) {
        snprintf(err, errlen, "no random bytes for a key directory: %s", strerror(errno));
        return NULL;
    }
    /* a state directory of its own (owner file: swept if we crash) */
    if (launch_env_init(&p->keys_env, key >> 1, err, errlen) != 0)
        return NULL;
    p->have_keys_env = true;
    char **names = calloc(p->n ? p->n : 1, sizeof *names);
    if (!names) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < p->n; i++)
        names[i] = p->v[i].spec.name;
    snprintf(p->keys_dir, sizeof p->keys_dir, "%s/keys", p->keys_env.state_dir);
    int rc = curve_keygen(p->keys_dir, names, p->n, err, errlen);
    free(names);
    if (rc != 0) {
        p->keys_dir[0] = '\0';
        return NULL;
    }
    log_info("CURVE: a key pair for each of the %zu platform workers (in %s, removed at the end)",
             p->n, p->keys_dir);
    return p->keys_dir;
}

void platforms_summary(const platforms_t *p, const coord_t *c, FILE *out)
{
    if (!p || !p->n)
        return;
    fprintf(out, "platforms:\n");
    for (size_t i = 0; i < p->n; i++) {
        const struct inst *in = &p->v[i];
        const char *wp = coord_worker_platform(c, in->spec.name);
        const char *st = in->status ? in->status : "pending";
        if (wp && strcmp(st, "ran") == 0)
            fprintf(out, "  %-12s %-8s detected %s%s%s\n", in->spec.name, st,
                    wp ? wp : "?",
                    wp && strcmp(wp, in->spec.kind) ? " — MISMATCH: launched as "
                                                                       : "",
                    wp && strcmp(wp, in->spec.kind) ? in->spec.kind : "");
        else
            fprintf(out, "  %-12s %-8s %s\n", in->spec.name, st, in->reason);
    }
}

void platforms_destroy(platforms_t **p_p)
{
    platforms_t *p = *p_p;
    if (!p)
        return;
    platforms_stop(p, 0);
    for (size_t i = 0; i < p->n; i++)
        launch_spec_free(&p->v[i].spec);
    free(p->v);
    free(p->names);
    free(p);
    *p_p = NULL;
}
