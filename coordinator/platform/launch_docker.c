/* launch_docker.c — the docker platform: this build's lockstep-worker in a
 * container on Docker's default bridge (its NAT is part of what is measured).
 * The image is image_docker.c's, made from the worker and the shared
 * libraries it loads, so no registry is needed; it is tagged by a hash of
 * its content and reused.
 * Everything goes through the docker CLI, each call bounded in time. */
#define _GNU_SOURCE
#include "launch.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "image_docker.h"
#include "log.h"

/* Bounds of the CLI calls.  An engine that is up answers `version` at once;
 * a build FROM a base image may first pull it. */
enum {
    S_CHECK_MS = 10000,
    S_QUERY_MS = 30000,
    S_BUILD_MS = 600000,
    S_RUNNING_MS = 60000, /* `docker run` until the container runs */
    S_GONE_MS = 10000,    /* a removal already in progress until it is done */
};

#define S_ROOT IMAGE_DOCKER_ROOT
#define S_FALLBACK_GW "172.17.0.1"

struct s_priv {
    bool spawned;                /* `docker run` started: a container may exist */
    char spool_host[PATH_MAX];   /* with a volume: the worker's spool, host side */
};

/* The CLI: $LOCKSTEP_DOCKER (tests put a wrapper there), else docker. */
static const char *s_docker(void)
{
    const char *d = getenv("LOCKSTEP_DOCKER");
    return d && *d ? d : "docker";
}

static int s_cli(char **argv, char *out, size_t outlen, int timeout_ms,
                 volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    argv[0] = (char *)s_docker();
    return launch_run(argv, out, outlen, timeout_ms, stop, err, errlen);
}

/* The first non-blank line of text, trimmed; or (last) the line that says
 * what went wrong: the CLI ends its errors with "Run 'docker run --help' for
 * more information", and prefixes them with "docker: ". */
static void s_line(const char *text, bool last, char *buf, size_t len)
{
    buf[0] = '\0';
    for (const char *p = text; *p; p += strspn(p, "\r\n")) {
        size_t n = strcspn(p, "\r\n"), skip = strspn(p, " \t");
        const char *q = p + (skip < n ? skip : n);
        size_t m = n - (size_t)(q - p);
        p += n;
        while (m && (q[m - 1] == ' ' || q[m - 1] == '\t'))
            m--;
        if (!m || (last && (strncmp(q, "Run '", 5) == 0 || strncmp(q, "See '", 5) == 0)))
            continue;
        if (last && m > 8 && strncmp(q, "docker: ", 8) == 0) {
            q += 8;
            m -= 8;
        }
        snprintf(buf, len, "%.*s", (int)m, q);
        if (!last)
            return;
    }
}

/* The last 4 KiB of a log, for s_line. */
static void s_log_end(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)len - 1 ? end - ((off_t)len - 1) : 0;
    ssize_t n = pread(fd, buf, len - 1, from);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
}

static bool s_engine_down(const char *text)
{
    return strstr(text, "Cannot connect to the Docker daemon") ||
           strstr(text, "Is the docker daemon running") || strstr(text, "error during connect");
}

/* Message for a CLI call that failed: rc < 0 (could not run, timed out,
 * interrupted: err says which) or the last line of its output. */
static void s_cli_error(char *msg, size_t len, const char *what, int rc, const char *out,
                        const char *err)
{
    char line[512];
    if (rc < 0) {
        snprintf(msg, len, "%s: %s", what, err);
        return;
    }
    s_line(out, true, line, sizeof line);
    snprintf(msg, len, "%s%s: %s", what, s_engine_down(out) ? ": engine stopped" : " failed",
             line[0] ? line : "no output");
}

/* Is cmd a program we can run (a path, or a name found in PATH)? */
static int s_find_cli(const char *cmd, char *why, size_t len)
{
    if (strchr(cmd, '/')) {
        if (access(cmd, X_OK) == 0)
            return 0;
        snprintf(why, len, "docker CLI %s%s: %s", cmd,
                 getenv("LOCKSTEP_DOCKER") ? " ($LOCKSTEP_DOCKER)" : "", strerror(errno));
        return -1;
    }
    const char *path = getenv("PATH");
    char dirs[4096], full[PATH_MAX];
    snprintf(dirs, sizeof dirs, "%s", path && *path ? path : "/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(full, sizeof full, "%s/%s", d, cmd);
        if (access(full, X_OK) == 0)
            return 0;
    }
    snprintf(why, len, "docker CLI not found: no '%s' in PATH", cmd);
    return -1;
}

static int s_check(const struct launch_env *env, const struct launch_spec *spec, char *why,
                   size_t len)
{
    (void)spec;
    if (access(env->worker_bin, X_OK) != 0) {
        snprintf(why, len, "%s: %s", env->worker_bin, strerror(errno));
        return -1;
    }
    if (s_find_cli(s_docker(), why, len) != 0)
        return -1;
    char out[1024], err[256], line[512];
    char *argv[] = { NULL, "version", "--format", "{{.Server.Version}}", NULL };
    int rc = s_cli(argv, out, sizeof out, S_CHECK_MS, env->stop, err, sizeof err);
    if (rc < 0) {
        snprintf(why, len, "docker engine not answering (%s)", err);
        return -1;
    }
    if (rc != 0) {
        s_line(out, false, line, sizeof line);
        snprintf(why, len, "docker engine not running (%s)", line[0] ? line : "no output");
        return -1;
    }
    s_line(out, false, line, sizeof line);
    if (!line[0]) {
        snprintf(why, len, "docker engine not running (`docker version` names no server)");
        return -1;
    }
    return 0;
}

/* ---- the image ---- */

static void s_rm_tree(const char *dir)
{
    if (fs_rmtree(dir) != 0)
        log_warn("cannot remove %s: %s", dir, strerror(errno));
}

static void s_prune_dangling(void)
{
    char out[1024], err[256];
    char *argv[] = { NULL, "image", "prune", "--force", "--filter", "label=lockstep=1", NULL };
    (void)s_cli(argv, out, sizeof out, S_QUERY_MS, NULL, err, sizeof err);
}

/* Build the image in a context under state_dir, then remove the context. */
static int s_image_build(const struct launch_env *env, const struct launch_spec *spec,
                         const struct image_docker *im, char *err, size_t errlen)
{
    char ctx[PATH_MAX];
    snprintf(ctx, sizeof ctx, "%s/docker-context-%s", env->state_dir, spec->name);
    s_rm_tree(ctx);
    int rc = image_docker_context(env, im, ctx, err, errlen);
    if (rc == 0) {
        log_info("docker: building image %s from %s%s%s", im->tag, env->worker_bin,
                 spec->image ? " on " : "", spec->image ? spec->image : "");
        int64_t t0 = clock_mono_ns();
        char out[16384], e[256];
        char *argv[] = { NULL, "build", "--quiet", "--force-rm", "--tag", (char *)im->tag, ctx,
                         NULL };
        int st = s_cli(argv, out, sizeof out, S_BUILD_MS, env->stop, e, sizeof e);
        if (st < 0 && env->stop && *env->stop) {
            snprintf(err, errlen, "docker build interrupted after %.1f s",
                     (double)(clock_mono_ns() - t0) / NS_PER_SEC);
            s_prune_dangling();
            rc = -1;
        } else if (st != 0) {
            char what[320];
            snprintf(what, sizeof what, "docker build%s%.200s", spec->image ? " FROM " : "",
                     spec->image ? spec->image : "");
            s_cli_error(err, errlen, what, st, out, e);
            s_prune_dangling();
            rc = -1;
        } else {
            log_info("docker: built %s in %.1f s", im->tag,
                     (double)(clock_mono_ns() - t0) / NS_PER_SEC);
        }
    }
    s_rm_tree(ctx);
    return rc;
}

/* Find the image for this build's worker, or make it. */
static int s_image(const struct launch_env *env, const struct launch_spec *spec,
                   struct image_docker *im, char *err, size_t errlen)
{
    if (image_docker_plan(env, spec, im, err, errlen) != 0)
        return -1;
    char out[1024], e[256];
    char *argv[] = { NULL, "image", "inspect", "--format", "{{.Id}}", im->tag, NULL };
    int rc = s_cli(argv, out, sizeof out, S_QUERY_MS, env->stop, e, sizeof e);
    if (rc == 0) {
        log_debug("docker: reusing image %s", im->tag);
        return 0;
    }
    if (rc < 0 || !strstr(out, "No such image")) {
        s_cli_error(err, errlen, "docker image inspect", rc, out, e);
        return -1;
    }
    return s_image_build(env, spec, im, err, errlen);
}

/* ---- the container ---- */

/* The default bridge's gateway: the coordinator listens there.  IPAM
 * often leaves Gateway out for the default bridge (engine 20.10 does), so
 * then the bridge interface's own address, and only then Docker's default. */
static int s_gateway(const struct launch_env *env, char *gw, size_t len, char *err, size_t errlen)
{
    char out[1024], e[256];
    char *argv[] = { NULL, "network", "inspect", "bridge", "--format",
                     "{{range .IPAM.Config}}{{.Gateway}} {{end}}|"
                     "{{index .Options \"com.docker.network.bridge.name\"}}",
                     NULL };
    int rc = s_cli(argv, out, sizeof out, S_QUERY_MS, env->stop, e, sizeof e);
    if (rc != 0) {
        s_cli_error(err, errlen, "docker network inspect bridge", rc, out, e);
        return -1;
    }
    char *bar = strchr(out, '|');
    if (bar)
        *bar++ = '\0';
    struct in_addr a;
    for (char *save = NULL, *t = strtok_r(out, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
        if (inet_pton(AF_INET, t, &a) == 1) {
            snprintf(gw, len, "%s", t);
            return 0;
        }
    char ifname[64] = "";
    if (bar)
        snprintf(ifname, sizeof ifname, "%.*s", (int)strcspn(bar, " \r\n"), bar);
    struct ifaddrs *ifs = NULL;
    if (ifname[0] && getifaddrs(&ifs) == 0) {
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next)
            if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
                strcmp(i->ifa_name, ifname) == 0 &&
                inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, gw,
                          (socklen_t)len)) {
                freeifaddrs(ifs);
                return 0;
            }
        freeifaddrs(ifs);
    }
    log_warn("docker: the bridge network names no gateway and no interface with an address; "
             "assuming %s", S_FALLBACK_GW);
    snprintf(gw, len, S_FALLBACK_GW);
    return 0;
}

/* Container names: [a-zA-Z0-9][a-zA-Z0-9_.-]*, as Docker wants them. */
static bool s_name_ok(const char *n)
{
    if (!isalnum((unsigned char)n[0]))
        return false;
    for (; *n; n++)
        if (!isalnum((unsigned char)*n) && !strchr("_.-", *n))
            return false;
    return true;
}

/* Remove the container, bounded; it is fine if it is gone already. */
static void s_rm_container(const char *id)
{
    char out[1024], e[256], msg[768];
    char *argv[] = { NULL, "rm", "--force", (char *)id, NULL };
    int rc = s_cli(argv, out, sizeof out, S_QUERY_MS, NULL, e, sizeof e);
    if (rc == 0 || (rc > 0 && strstr(out, "No such container")))
        return;
    if (rc > 0 && strstr(out, "already in progress")) {
        /* --rm got there first: wait until it is done */
        int64_t end = clock_mono_ns() + S_GONE_MS * NS_PER_MS;
        char *insp[] = { NULL, "container", "inspect", "--format", "{{.Id}}", (char *)id, NULL };
        while (clock_mono_ns() < end) {
            rc = s_cli(insp, out, sizeof out, S_QUERY_MS, NULL, e, sizeof e);
            if (rc > 0 && strstr(out, "No such"))
                return;
            usleep(100000);
        }
    }
    s_cli_error(msg, sizeof msg, "docker rm", rc, out, e);
    log_warn("container %s may be left behind (%s); the next run removes it", id, msg);
}

/* Wait until the container runs, or the CLI has given up. */
static int s_wait_running(const struct launch_env *env, struct launch *l, char *err, size_t len)
{
    int64_t end = clock_mono_ns() + S_RUNNING_MS * NS_PER_MS;
    char out[4096], e[256], tail[512];
    char *argv[] = { NULL, "container", "inspect", "--format", "{{.State.Running}}", l->id,
                     NULL };
    for (;;) {
        if (launch_reap(l)) {
            s_log_end(l->log, out, sizeof out);
            s_line(out, true, tail, sizeof tail);
            int code = WIFEXITED(l->status) ? WEXITSTATUS(l->status) : 128 + WTERMSIG(l->status);
            if (s_engine_down(out))
                snprintf(err, len, "docker run: engine stopped: %s", tail);
            else
                snprintf(err, len, "docker run failed (exit %d): %s", code,
                         tail[0] ? tail : "no output");
            return -1;
        }
        int rc = s_cli(argv, out, sizeof out, S_QUERY_MS, env->stop, e, sizeof e);
        if (rc == 0 && strncmp(out, "true", 4) == 0)
            return 0;
        if (rc < 0 || (rc > 0 && !strstr(out, "No such"))) {
            s_cli_error(err, len, "docker container inspect", rc, out, e);
            return -1;
        }
        if (env->stop && *env->stop) {
            snprintf(err, len, "docker run interrupted");
            return -1;
        }
        if (clock_mono_ns() > end) {
            snprintf(err, len, "container %s not running %d s after `docker run`", l->id,
                     S_RUNNING_MS / 1000);
            return -1;
        }
        usleep(50000);
    }
}

/* With a volume: mounted at /data (volume: "HOST:/data"), the worker's
 * spool in a directory of its own there (two containers may share it). */
static int s_volume(struct launch *l, char *volume, size_t vlen, char *spool, size_t slen,
                    char *err, size_t len)
{
    const struct launch_spec *spec = l->spec;
    struct s_priv *p = l->priv;
    if (!spec->volume)
        return 0;
    struct stat st;
    if (stat(spec->volume, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, len, "volume %s: %s", spec->volume,
                 access(spec->volume, F_OK) != 0 ? strerror(errno) : "not a directory");
        return -1;
    }
    if (strchr(spec->volume, ':')) {
        snprintf(err, len, "volume %s: a ':' in the path cannot be passed to docker -v",
                 spec->volume);
        return -1;
    }
    snprintf(volume, vlen, "%s:/data", spec->volume);
    snprintf(spool, slen, "/data/%s", l->id);
    snprintf(p->spool_host, sizeof p->spool_host, "%s/%s", spec->volume, l->id);
    return 0;
}

/* The conditions the container runs under (its CPUs in l->cond). */
static int s_conditions(struct launch *l, const char *gw, char *err, size_t len)
{
    const struct launch_spec *spec = l->spec;
    launch_cpuset_t set;
    if (launch_cpus(spec, &set, &l->cond, err, len) != 0)
        return -1;
    l->cond.memory = launch_memory_of(spec);
    if (spec->volume) {
        char fs[32];
        launch_fs_name(spec->volume, fs, sizeof fs);
        snprintf(l->cond.disk, sizeof l->cond.disk, "volume %.140s (host %.20s)", spec->volume, fs);
    } else {
        snprintf(l->cond.disk, sizeof l->cond.disk, "container file system (overlay2)");
    }
    snprintf(l->cond.network, sizeof l->cond.network, "bridge NAT (docker0, host at %s)", gw);
    return 0;
}

static void s_stop(const struct launch_env *env, struct launch *l, int grace_ms);

static int s_start(const struct launch_env *env, struct launch *l, char *err, size_t len)
{
    const struct launch_spec *spec = l->spec;
    assert(env->bind_also);
    snprintf(l->id, sizeof l->id, "lockstep-%s-%s", env->key_hex, spec->name);
    snprintf(l->log, sizeof l->log, "%s/%s.log", env->state_dir, spec->name);
    if (!s_name_ok(spec->name)) {
        snprintf(err, len, "'%s' cannot name a container: use letters, digits, '_', '.', '-'",
                 spec->name);
        return -1;
    }
    struct s_priv *p = calloc(1, sizeof *p);
    struct image_docker *im = calloc(1, sizeof *im);
    if (!p || !im) {
        snprintf(err, len, "out of memory");
        free(p);
        free(im);
        return -1;
    }
    l->priv = p;
    char volume[PATH_MAX + 8] = "", spool[256] = "/var/tmp/lockstep", gw[64], connect[128];
    if (s_volume(l, volume, sizeof volume, spool, sizeof spool, err, len) != 0 ||
        s_image(env, spec, im, err, len) != 0 || s_gateway(env, gw, sizeof gw, err, len) != 0)
        goto fail;
    char berr[256];
    if (env->bind_also(env->bind_ctx, gw, berr, sizeof berr) != 0) {
        snprintf(err, len, "the coordinator cannot listen on the docker bridge %s: %s", gw, berr);
        goto fail;
    }
    snprintf(connect, sizeof connect, "tcp://%s:%d", gw, env->port);
    char label[160], cpus[32], memory[32];
    if (s_conditions(l, gw, err, len) != 0)
        goto fail;
    snprintf(label, sizeof label, LAUNCH_LABEL "=%s", env->key_hex);
    /* CURVE: the worker's secret and the coordinator's public certificate,
     * mounted read-only */
    char cert[PATH_MAX], server_cert[PATH_MAX], mcert[PATH_MAX + 64], mserver[PATH_MAX + 64];
    int curve = launch_certs(env, spec->name, cert, server_cert, sizeof cert, err, len);
    if (curve < 0)
        goto fail;
    snprintf(mcert, sizeof mcert, "%s:" S_ROOT "/keys/worker.cert_secret:ro", cert);
    snprintf(mserver, sizeof mserver, "%s:" S_ROOT "/keys/coordinator.cert:ro", server_cert);
    char *argv[48];
    int n = 0;
    argv[n++] = (char *)s_docker();
    argv[n++] = "run";
    argv[n++] = "--rm";
    argv[n++] = "--name";
    argv[n++] = l->id;
    argv[n++] = "--label";
    argv[n++] = label;
    argv[n++] = "--hostname";
    argv[n++] = spec->name;
    argv[n++] = "--network";
    argv[n++] = "bridge";
    /* the worker's control thread raises its priority (rt.h: in a
     * container's cgroup that is nice -15, not a real-time policy) so that
     * heartbeats keep flowing while a benchmark loads every CPU; without
     * CAP_SYS_NICE a busy container misses heartbeats and is declared lost */
    argv[n++] = "--cap-add";
    argv[n++] = "SYS_NICE";
    /* the same CPUs as every other instance of the run, and no more time
     * on them than that many CPUs' worth */
    argv[n++] = "--cpuset-cpus";
    argv[n++] = l->cond.cpu_list;
    snprintf(cpus, sizeof cpus, "%d", l->cond.cpus);
    argv[n++] = "--cpus";
    argv[n++] = cpus;
    snprintf(memory, sizeof memory, "%" PRId64, l->cond.memory);
    argv[n++] = "--memory";
    argv[n++] = memory;
    if (volume[0]) {
        argv[n++] = "--volume";
        argv[n++] = volume;
    }
    if (curve == 0) {
        argv[n++] = "--volume";
        argv[n++] = mcert;
        argv[n++] = "--volume";
        argv[n++] = mserver;
    }
    argv[n++] = im->tag;
    launch_worker_args(argv, n, env, connect, spec->name, spool,
                       curve == 0 ? S_ROOT "/keys/worker.cert_secret" : NULL,
                       S_ROOT "/keys/coordinator.cert");
    if (launch_spawn(argv, l->log, &l->pid, err, len) != 0)
        goto fail;
    p->spawned = true;
    l->exited = false;
    if (s_wait_running(env, l, err, len) != 0)
        goto fail;
    snprintf(l->what, sizeof l->what, "container %.100s (image %.40s, coordinator at %.60s)", l->id,
             im->tag, connect);
    free(im);
    return 0;
fail:
    free(im);
    s_stop(env, l, 0);
    return -1;
}

static void s_stop(const struct launch_env *env, struct launch *l, int grace_ms)
{
    (void)env;
    struct s_priv *p = l->priv;
    if (!p)
        return; /* never started, or stopped already */
    int64_t end = clock_mono_ns() + (int64_t)grace_ms * NS_PER_MS;
    while (!launch_reap(l) && clock_mono_ns() < end)
        usleep(20000);
    if (p->spawned)
        s_rm_container(l->id);
    /* once the container is gone, the attached CLI ends by itself */
    launch_terminate(l, 5000);
    if (p->spool_host[0])
        s_rm_tree(p->spool_host);
    free(p);
    l->priv = NULL;
}

/* Containers of runs whose coordinator is gone; then the half-made images
 * of interrupted builds.  Quiet when there is no CLI or no engine. */
static void s_sweep(bool (*alive)(const char *key_hex))
{
    char why[256], out[65536], e[256];
    if (s_find_cli(s_docker(), why, sizeof why) != 0)
        return;
    char *argv[] = { NULL, "ps", "--all", "--filter", "label=" LAUNCH_LABEL, "--format",
                     "{{.Names}}\t{{.Label \"" LAUNCH_LABEL "\"}}", NULL };
    int rc = s_cli(argv, out, sizeof out, S_CHECK_MS, NULL, e, sizeof e);
    if (rc != 0) {
        log_debug("docker sweep skipped: %s", rc < 0 ? e : "engine not answering");
        return;
    }
    bool any = false;
    for (char *save = NULL, *ln = strtok_r(out, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(ln, '\t');
        if (!tab)
            continue;
        *tab++ = '\0';
        if (strlen(tab) != 16 || alive(tab))
            continue;
        log_info("removing container %s, left by a run whose coordinator is gone", ln);
        s_rm_container(ln);
        any = true;
    }
    if (any)
        s_prune_dangling();
}

const struct launch_ops launch_docker_ops = {
    .kind = "docker",
    .check = s_check,
    .start = s_start,
    .stop = s_stop,
    .sweep = s_sweep,
};
