/* fork.c — the course's "forksum": sum the integers of [start, end] by
 * splitting the range in half and forking a child per half, recursively, so
 * that process creation dominates.  One tree of processes is one event.
 *
 * The worker is multithreaded, so a forked child may only make
 * async-signal-safe calls: it uses pipe2/fork/read/write/waitpid/close/_exit,
 * nothing that allocates or takes a lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif
#include "plugins.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

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

/* What went wrong in a tree, passed up from child to parent. */
enum { FS_OK = 0, FS_PIPE, FS_FORK, FS_LOST, FS_STATUS };

/* What a child writes to its parent: one write of 24 bytes, under PIPE_BUF,
 * so it arrives whole even though both children share one pipe. */
struct fs_msg {
    int64_t sum;
    int64_t forks;
    int32_t what;  /* FS_* */
    int32_t errnum;
};

/* Read exactly len bytes; 0, or -1 on EOF or error.  Async-signal-safe. */
static int s_read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void s_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the parent sees a short message and reports FS_LOST */
        p += n;
        len -= (size_t)n;
    }
}

static void s_fail(struct fs_msg *m, int what, int errnum)
{
    if (m->what == FS_OK) {
        m->what = what;
        m->errnum = errnum;
    }
}

/* Sum [start, end] into *m by forking a child per half.  Runs in the worker
 * thread at the top and in every child below it.  parent_fd is the write end
 * the calling process reports on (-1 at the top): children close it, so that
 * a parent's read sees EOF as soon as its own children are gone.  Every
 * child forked here is reaped here, whatever fails. */
static void s_tree(int64_t start, int64_t end, int parent_fd, struct fs_msg *m)
{
    *m = (struct fs_msg){.sum = 0, .forks = 0, .what = FS_OK};
    if (start == end) {
        m->sum = start;
        return;
    }
    int64_t mid = start + (end - start) / 2;
    int64_t lo[2] = {start, mid + 1}, hi[2] = {mid, end};
    int fds[2];
    /* O_CLOEXEC: other worker threads may fork+exec meanwhile. */
    if (pipe2(fds, O_CLOEXEC) < 0) {
        s_fail(m, FS_PIPE, errno);
        return;
    }
    pid_t pids[2];
    int nchild = 0;
    for (int i = 0; i < 2; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            s_fail(m, FS_FORK, errno);
            break;
        }
        if (pid == 0) {
            struct fs_msg mine;
            close(fds[0]);
            if (parent_fd >= 0)
                close(parent_fd);
            s_tree(lo[i], hi[i], fds[1], &mine);
            s_write_all(fds[1], &mine, sizeof mine);
            _exit(0);
        }
        pids[nchild++] = pid;
        m->forks++;
    }
    close(fds[1]);
    for (int i = 0; i < nchild; i++) {
        struct fs_msg got;
        if (s_read_all(fds[0], &got, sizeof got) < 0) {
            s_fail(m, FS_LOST, 0);
            break;
        }
        m->sum += got.sum;
        m->forks += got.forks;
        if (got.what != FS_OK)
            s_fail(m, got.what, got.errnum);
    }
    close(fds[0]);
    for (int i = 0; i < nchild; i++) {
        int status;
        pid_t w;
        while ((w = waitpid(pids[i], &status, 0)) < 0 && errno == EINTR)
            ;
        /* ECHILD: someone else's waitpid(-1) reaped it; the pipe told us all. */
        if (w < 0 && errno != ECHILD)
            s_fail(m, FS_LOST, errno);
        else if (w > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            s_fail(m, FS_STATUS, WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    }
}

static void s_explain(const struct fs_msg *m, char *err, size_t len)
{
    switch (m->what) {
    case FS_PIPE:
        snprintf(err, len, "fork: pipe failed in the process tree: %s", strerror(m->errnum));
        break;
    case FS_FORK:
        snprintf(err, len, "fork: fork failed in the process tree: %s (process limit? see "
                           "ulimit -u and pids.max)", strerror(m->errnum));
        break;
    case FS_LOST:
        snprintf(err, len, "fork: a child ended without reporting its sum%s%s",
                 m->errnum ? ": " : "", m->errnum ? strerror(m->errnum) : "");
        break;
    case FS_STATUS:
        snprintf(err, len, "fork: a child ended abnormally (status or signal %d)",
                 (int)m->errnum);
        break;
    default:
        snprintf(err, len, "fork: unknown failure %d", (int)m->what);
        break;
    }
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
    const int64_t want_sum = (o->start + o->end) * (o->end - o->start + 1) / 2;
    const int64_t want_forks = 2 * (o->end - o->start);
    int64_t trees = 0, forks = 0;
    int64_t t0 = clock_mono_ns(), now = t0;

    for (;;) {
        if (o->events > 0 && trees >= o->events)
            break;
        if (o->time_ns > 0 && now - t0 >= o->time_ns)
            break;
        if (ctx->stop && *ctx->stop)
            break;
        struct fs_msg m;
        s_tree(o->start, o->end, -1, &m);
        now = clock_mono_ns();
        if (m.what != FS_OK) {
            s_explain(&m, ctx->err, sizeof ctx->err);
            return -1;
        }
        if (m.sum != want_sum || m.forks != want_forks) {
            snprintf(ctx->err, sizeof ctx->err,
                     "fork: tree %lld over %lld..%lld gave sum %lld with %lld forks "
                     "(expected %lld with %lld forks)",
                     (long long)trees + 1, (long long)o->start, (long long)o->end,
                     (long long)m.sum, (long long)m.forks, (long long)want_sum,
                     (long long)want_forks);
            return -1;
        }
        trees++;
        forks += m.forks;
    }
    double secs = (double)(now - t0) / NS_PER_SEC;

    bench_result_metric(ctx->res, "forks_per_sec", "forks/s", secs > 0 ? (double)forks / secs : 0);
    bench_result_metric(ctx->res, "trees", "count", (double)trees);
    bench_result_metric(ctx->res, "time_s", "s", secs);
    bench_result_detail(ctx->res, "sum", "%lld", (long long)want_sum);
    bench_result_detail(ctx->res, "forks_per_tree", "%lld", (long long)want_forks);
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
    .run = s_run,
};
