/* forksum.c — lockstep-forksum, the process the fork benchmark forks from.
 * fork's cost grows with the forking process's mappings and open files, so
 * the trees are forked here, in a small libc-only program like the course's
 * forksum, and not in the multithreaded worker with its 34 libraries.  The
 * fork plug-in (bench/fork.c) starts it once per repetition; the
 * command line and the one-line answer are described in forksum.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* close_range */
#endif
#include "forksum.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A subtree's result.  It travels from child to parent the way the course's
 * forksum sends it, as text lines through stdio on a pipe of its own, since
 * that work (a FILE and its buffer allocated, written and flushed in every
 * child, read back with getline in every parent, exit() running the stdio
 * clean-up) is part of what the course's forks/s measures. */
struct fs_msg {
    long long sum;
    long long forks;
    int what;  /* FS_* */
    int errnum;
};

/* A failure sent up as the count -(what * FS_CODE + errno). */
#define FS_CODE 1000000LL

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static int64_t s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void s_fail(struct fs_msg *m, int what, int errnum)
{
    if (m->what == FS_OK) {
        m->what = what;
        m->errnum = errnum;
    }
}

static void s_tree(long long start, long long end, struct fs_msg *m);

/* Fork a child that sums [start, end] and reports on a pipe of its own;
 * the read end, or -1 with the failure in *m. */
static int s_spawn(long long start, long long end, pid_t *pid, struct fs_msg *m)
{
    int fds[2];
    if (pipe(fds) < 0) {
        s_fail(m, FS_PIPE, errno);
        return -1;
    }
    *pid = fork();
    if (*pid < 0) {
        s_fail(m, FS_FORK, errno);
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (*pid == 0) {
        struct fs_msg mine;
        close(fds[0]);
        s_tree(start, end, &mine);
        FILE *out = fdopen(fds[1], "w");
        if (!out)
            _exit(1); /* the parent reads nothing: FS_LOST */
        /* the course's two numbers; a failure travels as a negative count */
        fprintf(out, "%lld\n%lld\n", mine.sum,
                mine.what == FS_OK ? mine.forks : -(mine.what * FS_CODE + (long long)mine.errnum));
        exit(0); /* flushes out, as the course's child does */
    }
    close(fds[1]);
    m->forks++;
    return fds[0];
}

/* One line holding one decimal number, parsed as the course's parseInt
 * does (strtol, not sscanf: its cost is part of every fork's). */
static int s_number(FILE *in, char **line, size_t *cap, long long *v)
{
    char *end;
    if (getline(line, cap, in) <= 0)
        return -1;
    errno = 0;
    *v = strtoll(*line, &end, 10);
    return errno || end == *line || (*end != '\n' && *end != '\0') ? -1 : 0;
}

/* Read a child's two lines from fd (and close it) into *m; -1 when they
 * are not there (the caller reports it once it knows how the child ended). */
static int s_collect(int fd, struct fs_msg *m)
{
    FILE *in = fdopen(fd, "r");
    if (!in) {
        s_fail(m, FS_LOST, errno);
        close(fd);
        return 0;
    }
    char *line = NULL;
    size_t cap = 0;
    long long sum, forks;
    int rc = 0;
    if (s_number(in, &line, &cap, &sum) < 0 || s_number(in, &line, &cap, &forks) < 0) {
        rc = -1;
    } else if (forks < 0) {
        s_fail(m, (int)(-forks / FS_CODE), (int)(-forks % FS_CODE));
    } else {
        m->sum += sum;
        m->forks += forks;
    }
    free(line);
    fclose(in);
    return rc;
}

/* Sum [start, end] into *m by forking a child per half.  Every child forked
 * here is reaped here, whatever fails. */
static void s_tree(long long start, long long end, struct fs_msg *m)
{
    *m = (struct fs_msg){.sum = 0, .forks = 0, .what = FS_OK};
    if (start >= end) {
        m->sum = start;
        return;
    }
    long long mid = start + (end - start) / 2;
    pid_t pids[2];
    int fds[2];
    fds[0] = s_spawn(start, mid, &pids[0], m);
    fds[1] = fds[0] < 0 ? -1 : s_spawn(mid + 1, end, &pids[1], m);
    int lost[2] = {0, 0};
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            lost[i] = s_collect(fds[i], m) < 0;
    for (int i = 0; i < 2; i++) {
        if (fds[i] < 0)
            continue;
        int status;
        pid_t w;
        while ((w = waitpid(pids[i], &status, 0)) < 0 && errno == EINTR)
            ;
        /* a child that sent nothing: say how it ended when that is known
         * (a signal from outside, say), else that it was lost */
        if (w < 0)
            s_fail(m, FS_LOST, errno);
        else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            s_fail(m, FS_STATUS, WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        else if (lost[i])
            s_fail(m, FS_LOST, 0);
    }
}

static int s_parse(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    long long start, end, time_ns, want_trees;
    if (argc != 5 || s_parse(argv[1], 1, 1000000000, &start) < 0 ||
        s_parse(argv[2], start, 1000000000, &end) < 0 ||
        s_parse(argv[3], 0, INT64_MAX, &time_ns) < 0 ||
        s_parse(argv[4], 0, INT64_MAX, &want_trees) < 0 || (time_ns == 0 && want_trees == 0)) {
        fprintf(stderr, "usage: %s START END TIME_NS TREES (start <= end, time or trees > 0)\n"
                        "The fork benchmark's helper: lockstep-worker starts it.\n", argv[0]);
        printf(FORKSUM_FORMAT, 0LL, 0LL, 0LL, 0LL, 0LL, FS_USAGE, 0);
        return 2;
    }
    /* Only stdin, stdout and stderr, as in a program started from a shell:
     * the fd table is copied by every fork. */
    (void)close_range(3, ~0U, 0);
    /* The tree ends with the worker thread that waits for it. */
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct sigaction sa = {.sa_handler = s_on_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    const long long want_sum = (start + end) * (end - start + 1) / 2;
    const long long want_forks = 2 * (end - start);
    long long trees = 0, forks = 0;
    struct fs_msg m = {.what = FS_OK};
    int wrong = 0;
    int64_t t0 = s_now_ns(), now = t0;
    for (;;) {
        if (want_trees > 0 && trees >= want_trees)
            break;
        if (time_ns > 0 && now - t0 >= time_ns)
            break;
        if (s_stop)
            break;
        s_tree(start, end, &m);
        now = s_now_ns();
        if (m.what != FS_OK)
            break;
        if (m.sum != want_sum || m.forks != want_forks) {
            wrong = 1;
            break;
        }
        trees++;
        forks += m.forks;
    }
    /* last_sum and last_forks are the wrong tree's, else what was expected */
    printf(FORKSUM_FORMAT, trees, forks, (long long)(now - t0), wrong ? m.sum : want_sum,
           wrong ? m.forks : want_forks, m.what, m.errnum);
    return m.what != FS_OK || wrong ? 1 : 0;
}
