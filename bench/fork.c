/* fork.c — the course's "forksum": sum the integers of [start, end] by
 * splitting the range in half and forking a child per half, recursively, so
 * that process creation dominates.  One tree of processes is one event.
 *
 * The trees are not forked here: fork's cost grows with the forking
 * process's mappings, and the worker (libzmq, czmq, krb5 … 34 libraries,
 * several threads) forks ~5x slower than the course's small forksum.  Each
 * repetition starts lockstep-forksum (bench/forksum.c, libc only), found
 * beside the running worker or at $LOCKSTEP_FORKSUM, which forks and times
 * the trees and answers with one line (forksum.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif
#include "plugins.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "forksum.h"

extern char **environ;

struct fork_opts {
    int64_t start, end;
    int64_t time_ns;
    int64_t events; /* trees; 0 = unlimited */
};

/* end - start bounds the processes of one tree (about 2 * (end - start)). */
#define FORK_MAX_SPAN 1000000

static const struct opt_def s_options[] = {
    {.name = "start", .type = OPT_INT, .offset = offsetof(struct fork_opts, start),
     .def = "1", .min = 1, .max = 1e9, .help = "first integer of the range"},
    {.name = "end", .type = OPT_INT, .offset = offsetof(struct fork_opts, end),
     .def = "2000", .min = 1, .max = 1e9,
     .help = "last integer of the range; each tree forks 2 * (end - start) processes"},
    {.name = "time", .type = OPT_DURATION, .offset = offsetof(struct fork_opts, time_ns),
     .def = "10s", .min = 0, .max = 24 * 3600,
     .help = "repeat trees until this much time has passed; 0 = no limit (needs events)"},
    {.name = "events", .type = OPT_INT, .offset = offsetof(struct fork_opts, events),
     .def = "0", .min = 0, .max = 1e12, .help = "stop after this many trees; 0 = no limit"},
    {.name = NULL},
};

/* vsnprintf behind a format check: a message naming a long path is cut to
 * its buffer on purpose, so snprintf's truncation warnings do not apply. */
__attribute__((format(printf, 3, 4))) static void s_msg(char *buf, size_t len, const char *fmt,
                                                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* The helper's answer (forksum.h). */
struct fs_answer {
    long long trees, forks, ns, last_sum, last_forks;
    int what, errnum;
};

static void s_explain(const struct fs_answer *m, const char *helper, char *err, size_t len)
{
    switch (m->what) {
    case FS_PIPE:
        s_msg(err, len, "fork: pipe failed in the process tree: %s", strerror(m->errnum));
        break;
    case FS_FORK:
        s_msg(err, len, "fork: fork failed in the process tree: %s (process limit? see "
                           "ulimit -u and pids.max)", strerror(m->errnum));
        break;
    case FS_LOST:
        s_msg(err, len, "fork: a child ended without reporting its sum%s%s",
                 m->errnum ? ": " : "", m->errnum ? strerror(m->errnum) : "");
        break;
    case FS_STATUS:
        s_msg(err, len, "fork: a child ended abnormally (status or signal %d)",
                 (int)m->errnum);
        break;
    case FS_USAGE:
        s_msg(err, len, "fork: the helper %s refused its arguments (a different version "
                           "from the worker's?)", helper);
        break;
    default:
        s_msg(err, len, "fork: unknown failure %d", (int)m->what);
        break;
    }
}

/* How this program was started: normally by the kernel from /proc/self/exe;
 * but the docker image's ENTRYPOINT runs `ld-linux-x86-64.so.2
 * --library-path /opt/lockstep/lib /opt/lockstep/bin/lockstep-worker`, and
 * then /proc/self/exe is the loader (no interpreter was mapped: AT_BASE is
 * 0), the program is argv[0], and a dynamic helper has to be started through
 * the same loader and libraries, since /lib64 may not exist there. */
struct s_self {
    char dir[PATH_MAX];    /* where the running program is */
    char loader[PATH_MAX]; /* "" unless started through an explicit loader */
    char libdir[PATH_MAX]; /* that loader's libc directory */
};

static int s_libc_dir(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    const char *base = strrchr(info->dlpi_name, '/');
    if (!base || strncmp(base + 1, "libc.so", 7) != 0)
        return 0;
    snprintf(data, PATH_MAX, "%.*s", (int)(base - info->dlpi_name), info->dlpi_name);
    return 1;
}

static int s_whoami(struct s_self *me, char *err, size_t errlen)
{
    char exe[PATH_MAX], prog[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0) {
        s_msg(err, errlen, "fork: cannot find the helper %s: readlink /proc/self/exe: %s "
                           "(set %s to its path)", FORKSUM_HELPER, strerror(errno), FORKSUM_ENV);
        return -1;
    }
    exe[n] = '\0';
    me->loader[0] = me->libdir[0] = '\0';
    const char *path = exe;
    if (getauxval(AT_BASE) == 0 && realpath(program_invocation_name, prog) &&
        strcmp(prog, exe) != 0) {
        snprintf(me->loader, sizeof me->loader, "%s", exe);
        dl_iterate_phdr(s_libc_dir, me->libdir);
        path = prog;
    }
    const char *slash = strrchr(path, '/');
    snprintf(me->dir, sizeof me->dir, "%.*s", slash ? (int)(slash - path) : 1,
             slash ? path : ".");
    return 0;
}

/* Where lockstep-forksum is: $LOCKSTEP_FORKSUM, else beside the running
 * program (build/bin, bin/ of the .deb, /opt/lockstep/bin in the image, /bin
 * in the VM).  0, or -1 with the places looked at in err. */
static int s_helper_path(const struct s_self *me, char *path, size_t len, char *err,
                         size_t errlen)
{
    const char *env = getenv(FORKSUM_ENV);
    if (env && *env) {
        int plen = snprintf(path, len, "%s", env);
        if (plen >= 0 && (size_t)plen < len && access(path, X_OK) == 0)
            return 0;
        s_msg(err, errlen, "fork: the helper %s=%s cannot be run: %s", FORKSUM_ENV, env,
              strerror(errno));
        return -1;
    }
    int plen = snprintf(path, len, "%s/%s", me->dir, FORKSUM_HELPER);
    if (plen >= 0 && (size_t)plen < len && access(path, X_OK) == 0)
        return 0;
    s_msg(err, errlen, "fork: the helper %s is missing: looked for %s (beside this program; "
                       "install it there or set %s to its path): %s",
          FORKSUM_HELPER, path, FORKSUM_ENV, strerror(errno));
    return -1;
}

/* Start the helper with its stdout on a pipe: plain signal dispositions and
 * mask (the worker ignores SIGPIPE, its threads block signals), no other
 * descriptor (they are all close-on-exec, and the helper closes any left). */
static int s_spawn(const struct s_self *me, const char *helper, const struct fork_opts *o,
                   pid_t *pid, int *rfd, char *err, size_t errlen)
{
    char a_start[24], a_end[24], a_time[24], a_trees[24];
    snprintf(a_start, sizeof a_start, "%lld", (long long)o->start);
    snprintf(a_end, sizeof a_end, "%lld", (long long)o->end);
    snprintf(a_time, sizeof a_time, "%lld", (long long)o->time_ns);
    snprintf(a_trees, sizeof a_trees, "%lld", (long long)o->events);
    /* through the worker's own loader when it was started through one */
    char *args[10];
    int k = 0;
    if (me->loader[0]) {
        args[k++] = (char *)me->loader;
        if (me->libdir[0]) {
            args[k++] = (char *)"--library-path";
            args[k++] = (char *)me->libdir;
        }
        args[k++] = (char *)helper;
    } else {
        args[k++] = (char *)FORKSUM_HELPER;
    }
    args[k++] = a_start;
    args[k++] = a_end;
    args[k++] = a_time;
    args[k++] = a_trees;
    args[k] = NULL;
    const char *exe = me->loader[0] ? me->loader : helper;

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        s_msg(err, errlen, "fork: pipe for the helper failed: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawnattr_init(&at);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawn(pid, exe, &fa, &at, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        s_msg(err, errlen, "fork: cannot start the helper %s: %s", helper, strerror(rc));
        return -1;
    }
    *rfd = fds[0];
    return 0;
}

/* Read the helper's answer until it closes its stdout; on *stop, ask it to
 * end after the tree in hand (SIGTERM), and kill it if it has not within
 * 10 s.  Then reap it.  The number of bytes read, or -1. */
static ssize_t s_collect(pid_t pid, int rfd, volatile sig_atomic_t *stop, char *buf, size_t len,
                         int *status)
{
    size_t got = 0;
    int64_t kill_at = 0;
    for (;;) {
        struct pollfd pfd = {.fd = rfd, .events = POLLIN};
        int pr = poll(&pfd, 1, 100);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr > 0) {
            ssize_t n = read(rfd, buf + got, len - 1 - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
            if (got == len - 1)
                break;
        }
        if (stop && *stop && kill_at == 0) {
            kill(pid, SIGTERM);
            kill_at = clock_mono_ns() + 10 * NS_PER_SEC;
        } else if (kill_at && clock_mono_ns() > kill_at) {
            kill(pid, SIGKILL);
            kill_at = INT64_MAX;
        }
    }
    buf[got] = '\0';
    close(rfd);
    pid_t w;
    *status = 0;
    while ((w = waitpid(pid, status, 0)) < 0 && errno == EINTR)
        ;
    if (w < 0)
        *status = -1; /* ECHILD: someone's waitpid(-1) reaped it; the line tells */
    return (ssize_t)got;
}

static int s_validate(const void *opts, char *err, size_t errlen)
{
    const struct fork_opts *o = opts;
    if (o->start > o->end) {
        snprintf(err, errlen, "start (%lld) is greater than end (%lld)", (long long)o->start,
                 (long long)o->end);
        return -1;
    }
    if (o->end - o->start >= FORK_MAX_SPAN) {
        snprintf(err, errlen, "end - start is %lld: it must be below %d, since each tree "
                              "forks 2 * (end - start) processes",
                 (long long)(o->end - o->start), FORK_MAX_SPAN);
        return -1;
    }
    return bench_check_bounded(o->time_ns, o->events, err, errlen);
}

static int64_t s_expected_ns(const void *opts)
{
    return ((const struct fork_opts *)opts)->time_ns;
}

static int s_run(struct bench_ctx *ctx)
{
    const struct fork_opts *o = ctx->opts;
    const long long want_sum = (long long)((o->start + o->end) * (o->end - o->start + 1) / 2);
    const long long want_forks = (long long)(2 * (o->end - o->start));
    struct s_self me;
    char helper[PATH_MAX];
    if (s_whoami(&me, ctx->err, sizeof ctx->err) < 0 ||
        s_helper_path(&me, helper, sizeof helper, ctx->err, sizeof ctx->err) < 0)
        return -1;
    pid_t pid;
    int rfd, status;
    if (s_spawn(&me, helper, o, &pid, &rfd, ctx->err, sizeof ctx->err) < 0)
        return -1;
    char line[256];
    s_collect(pid, rfd, ctx->stop, line, sizeof line, &status);

    struct fs_answer m;
    if (sscanf(line, FORKSUM_FORMAT, &m.trees, &m.forks, &m.ns, &m.last_sum, &m.last_forks,
               &m.what, &m.errnum) != 7) {
        if (status != -1 && WIFSIGNALED(status))
            s_msg(ctx->err, sizeof ctx->err, "fork: the helper %s was killed by signal %d "
                     "before it answered", helper, WTERMSIG(status));
        else
            s_msg(ctx->err, sizeof ctx->err, "fork: the helper %s ended (status %d) without "
                     "its answer", helper, status != -1 && WIFEXITED(status) ?
                     WEXITSTATUS(status) : -1);
        return -1;
    }
    if (m.what != FS_OK) {
        s_explain(&m, helper, ctx->err, sizeof ctx->err);
        return -1;
    }
    if (m.last_sum != want_sum || m.last_forks != want_forks) {
        s_msg(ctx->err, sizeof ctx->err,
                 "fork: tree %lld over %lld..%lld gave sum %lld with %lld forks "
                 "(expected %lld with %lld forks)",
                 m.trees + 1, (long long)o->start, (long long)o->end, m.last_sum, m.last_forks,
                 want_sum, want_forks);
        return -1;
    }
    double secs = (double)m.ns / NS_PER_SEC;

    bench_result_metric(ctx->res, "forks_per_sec", "forks/s",
                        secs > 0 ? (double)m.forks / secs : 0);
    bench_result_metric(ctx->res, "trees", "count", (double)m.trees);
    bench_result_metric(ctx->res, "time_s", "s", secs);
    bench_result_detail(ctx->res, "sum", "%lld", want_sum);
    bench_result_detail(ctx->res, "forks_per_tree", "%lld", want_forks);
    return 0;
}

const struct bench_ops bench_fork = {
    .name = "fork",
    .version = BENCH_API_VERSION,
    .flags = BENCH_F_NONE,
    .help = "recursive fork-and-sum over a range (the course's forksum)",
    .metric = "forks_per_sec",
    .unit = "forks/s",
    .options = s_options,
    .opts_size = sizeof(struct fork_opts),
    .validate = s_validate,
    .expected_ns = s_expected_ns,
    .run = BENCH_IMPL(s_run),
};
