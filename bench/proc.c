/* proc.c — run one program as a benchmark repetition, apart from what is
 * measured of it (proc.h): exec.c decides what the output means, this file
 * only starts the program, watches it to its end and keeps its output.
 *
 * The program runs in a session of its own, so that a timeout or a stop can
 * kill everything it started, and whatever it leaves running when it exits is
 * killed too: nothing outlives a repetition.  The worker is multithreaded, so
 * between fork() and execve() the child makes only async-signal-safe calls;
 * PATH is searched beforehand, in the parent.  Output is kept in bounded
 * buffers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, F_DUPFD_CLOEXEC */
#endif
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

extern char **environ;

#define PROC_KILL_GRACE_NS (2 * NS_PER_SEC) /* SIGTERM, then SIGKILL this much later */
#define PROC_DRAIN_NS (NS_PER_SEC)          /* output still read after the program ended */
#define PROC_SWEEP_NS (200 * 1000000LL)     /* waiting for adopted leftovers to die */

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* A name with a '/' is tried as it is, any other in each PATH directory in
 * turn (an empty entry is the current directory, which will be the
 * workdir). */
char **proc_candidates(const char *prog)
{
    bool direct = strchr(prog, '/') != NULL;
    const char *path = direct ? "" : getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin"; /* glibc's default */
    size_t n = 1, plen = strlen(prog);
    for (const char *c = path; *c; c++)
        n += *c == ':';
    char **cands = malloc((n + 1) * sizeof *cands + strlen(path) + n * (plen + 3));
    if (!cands)
        return NULL;
    char *w = (char *)(cands + n + 1);
    if (direct) {
        cands[0] = memcpy(w, prog, plen + 1);
        cands[1] = NULL;
        return cands;
    }
    size_t k = 0;
    for (const char *e = path;;) {
        const char *colon = strchr(e, ':');
        size_t elen = colon ? (size_t)(colon - e) : strlen(e);
        cands[k++] = w;
        if (elen == 0) {
            *w++ = '.';
        } else {
            memcpy(w, e, elen);
            w += elen;
        }
        *w++ = '/';
        memcpy(w, prog, plen + 1);
        w += plen + 1;
        if (!colon)
            break;
        e = colon + 1;
    }
    cands[k] = NULL;
    return cands;
}

/* ---- the child ---- */

/* Everything the child needs, made ready by the parent. */
struct spawn {
    char *const *argv;
    char *const *cands;
    const char *dir;
    int in, out, err, report;
    struct sigaction dfl;
    sigset_t empty;
};

/* Between fork and exec: async-signal-safe calls only. */
__attribute__((noreturn)) static void s_child(const struct spawn *sp)
{
    struct proc_report rep = {PROC_ST_SETSID, 0};
    /* its own session and process group, so that one kill(-pid) reaches all
     * it starts, and no terminal signal meant for the worker reaches it */
    if (setsid() < 0)
        goto fail;
    /* exec keeps ignored signals ignored (the worker ignores SIGPIPE) and
     * the signal mask: start the command as a shell would */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)sigaction(sig, &sp->dfl, NULL);
    (void)sigprocmask(SIG_SETMASK, &sp->empty, NULL);
    rep.stage = PROC_ST_CHDIR;
    if (sp->dir && chdir(sp->dir) < 0)
        goto fail;
    rep.stage = PROC_ST_DUP;
    if (dup2(sp->in, 0) < 0 || dup2(sp->out, 1) < 0 || dup2(sp->err, 2) < 0)
        goto fail;
#ifdef SYS_close_range
    /* descriptors some library opened without O_CLOEXEC stay with us */
    (void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
#endif
    rep.stage = PROC_ST_EXEC;
    bool eacces = false;
    errno = ENOENT;
    for (size_t i = 0; sp->cands[i]; i++) {
        execve(sp->cands[i], sp->argv, environ);
        /* as execvp: go on past directories where it is not (or not allowed) */
        if (errno == EACCES)
            eacces = true;
        else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV &&
                 errno != ETIMEDOUT)
            break;
    }
    if (eacces && (errno == ENOENT || errno == ENOTDIR || errno == ESTALE || errno == ENODEV ||
                   errno == ETIMEDOUT))
        errno = EACCES;
fail:
    rep.errnum = errno;
    (void)!write(sp->report, &rep, sizeof rep);
    _exit(127);
}

/* ---- the parent: watching the program ---- */

static void s_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The group, or the child alone if it has not made its group yet.  The
 * child is not reaped before the end, so its pid cannot have been reused. */
static void s_signal(struct proc *pr, int sig)
{
    if (kill(-pr->pid, sig) < 0 && errno == ESRCH)
        (void)kill(pr->pid, sig);
}

/* Keep fd off 0..2, where a dup2 in the child could overwrite it. */
static int s_above_stdio(int *fd)
{
    if (*fd > 2)
        return 0;
    int nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
    if (nfd < 0)
        return -1;
    close(*fd);
    *fd = nfd;
    return 0;
}

/* One read from a non-blocking *fd: the bytes read, or 0 when there is
 * nothing now (EAGAIN) or ever again (EOF or an error: *fd is closed). */
static size_t s_read_some(int *fd, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = read(*fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0) {
            s_close(fd);
            return 0;
        }
        return (size_t)n;
    }
}

static void s_read_out(struct proc *pr)
{
    for (int i = 0; i < 16 && pr->out_fd >= 0; i++) {
        char *dst = pr->scratch;
        size_t room = sizeof pr->scratch;
        if (pr->out_len < PROC_OUT_MAX && pr->out_len == pr->out_total) {
            if (pr->out_len == pr->out_cap) {
                size_t cap = pr->out_cap ? pr->out_cap * 2 : 65536;
                if (cap > PROC_OUT_MAX)
                    cap = PROC_OUT_MAX;
                char *b = realloc(pr->out, cap + 1);
                if (b) {
                    pr->out = b;
                    pr->out_cap = cap;
                }
            }
            /* out of memory: keep what we have, as when the limit is reached */
            if (pr->out_len < pr->out_cap) {
                dst = pr->out + pr->out_len;
                room = pr->out_cap - pr->out_len;
            }
        }
        size_t n = s_read_some(&pr->out_fd, dst, room);
        if (!n)
            return;
        if (dst != pr->scratch)
            pr->out_len += n;
        pr->out_total += n;
    }
}

static void s_read_err(struct proc *pr)
{
    for (int i = 0; i < 16 && pr->err_fd >= 0; i++) {
        size_t n = s_read_some(&pr->err_fd, pr->scratch, sizeof pr->scratch);
        if (!n)
            return;
        const char *src = pr->scratch;
        if (n > PROC_ERR_TAIL) {
            pr->err_total += n - PROC_ERR_TAIL;
            src += n - PROC_ERR_TAIL;
            n = PROC_ERR_TAIL;
        }
        for (size_t k = 0; k < n; k++)
            pr->err_ring[(pr->err_total + k) % PROC_ERR_TAIL] = src[k];
        pr->err_total += n;
    }
}

static void s_read_rep(struct proc *pr)
{
    while (pr->rep_fd >= 0) {
        size_t n = s_read_some(&pr->rep_fd, (char *)&pr->rep + pr->rep_len,
                               sizeof pr->rep - pr->rep_len);
        if (!n)
            return;
        if ((pr->rep_len += n) == sizeof pr->rep)
            s_close(&pr->rep_fd);
    }
}

/* Wait up to wait_ns for output or the end of the child; read what came. */
static void s_poll(struct proc *pr, int64_t wait_ns)
{
    struct pollfd fds[4];
    int *which[4];
    nfds_t n = 0;
    int *all[] = {&pr->out_fd, &pr->err_fd, &pr->rep_fd, &pr->pidfd};
    for (size_t i = 0; i < 4; i++) {
        if (*all[i] < 0 || (i == 3 && pr->exited))
            continue;
        fds[n] = (struct pollfd){.fd = *all[i], .events = POLLIN};
        which[n++] = all[i];
    }
    int ms = wait_ns <= 0 ? 0 : (int)((wait_ns + 999999) / 1000000);
    if (poll(fds, n, ms) <= 0)
        return;
    for (nfds_t i = 0; i < n; i++) {
        if (!fds[i].revents)
            continue;
        if (which[i] == &pr->out_fd)
            s_read_out(pr);
        else if (which[i] == &pr->err_fd)
            s_read_err(pr);
        else if (which[i] == &pr->rep_fd)
            s_read_rep(pr);
    }
}

/* Has the child ended?  Seen without reaping it (WNOWAIT), so that its pid,
 * which is also its group's id, stays reserved until the group is killed. */
static bool s_exited(struct proc *pr)
{
    if (pr->exited)
        return true;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)pr->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0) {
        if (si.si_pid == pr->pid)
            pr->exited = true;
    } else if (errno == ECHILD) {
        pr->exited = pr->lost = true;
    }
    return pr->exited;
}

static int s_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -1 : (int)fd;
#else
    (void)pid;
    return -1;
#endif
}

/* Pipes and fork.  0, or -1 with a message in err. */
static int s_start(struct proc *pr, const struct proc_spec *spec, char *err, size_t errlen)
{
    int outp[2] = {-1, -1}, errp[2] = {-1, -1}, repp[2] = {-1, -1};
    int devnull = -1;
    int rc = -1;
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(repp, O_CLOEXEC) < 0 ||
        (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 || s_above_stdio(&outp[1]) < 0 ||
        s_above_stdio(&errp[1]) < 0 || s_above_stdio(&repp[1]) < 0 ||
        s_above_stdio(&devnull) < 0 || fcntl(outp[0], F_SETFL, O_NONBLOCK) < 0 ||
        fcntl(errp[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(repp[0], F_SETFL, O_NONBLOCK) < 0) {
        snprintf(err, errlen, "cannot make pipes for the command: %s", strerror(errno));
        goto out;
    }
    struct spawn sp = {.argv = spec->argv, .cands = spec->cands, .dir = spec->dir,
                       .in = devnull, .out = outp[1], .err = errp[1], .report = repp[1]};
    sp.dfl.sa_handler = SIG_DFL;
    sigemptyset(&sp.dfl.sa_mask);
    sigemptyset(&sp.empty);

    pr->t0 = clock_mono_ns();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork failed: %s (process limit? see ulimit -u)", strerror(errno));
        goto out;
    }
    if (pid == 0)
        s_child(&sp);
    pr->pid = pid;
    pr->pidfd = s_pidfd_open(pid);
    pr->out_fd = outp[0];
    pr->err_fd = errp[0];
    pr->rep_fd = repp[0];
    outp[0] = errp[0] = repp[0] = -1;
    rc = 0;
out:
    s_close(&outp[0]);
    s_close(&outp[1]);
    s_close(&errp[0]);
    s_close(&errp[1]);
    s_close(&repp[0]);
    s_close(&repp[1]);
    s_close(&devnull);
    return rc;
}

/* Until the child ends: read its output, and on timeout or stop kill its
 * group (timeout: SIGTERM, then SIGKILL after PROC_KILL_GRACE_NS). */
static void s_watch(struct proc *pr, const struct proc_spec *spec)
{
    int64_t deadline = pr->t0 + spec->timeout_ns, term_at = 0;
    for (;;) {
        if (s_exited(pr)) {
            pr->t_end = clock_mono_ns();
            return;
        }
        int64_t now = clock_mono_ns();
        if (pr->ended_by == PROC_END_EXIT && spec->stop && *spec->stop) {
            pr->ended_by = PROC_END_STOP;
            s_signal(pr, SIGKILL);
            pr->hard = true;
        }
        if (pr->ended_by == PROC_END_EXIT && now >= deadline) {
            pr->ended_by = PROC_END_TIMEOUT;
            s_signal(pr, SIGTERM);
            s_signal(pr, SIGCONT); /* a stopped process acts on SIGTERM only when resumed */
            term_at = now;
        }
        if (pr->ended_by == PROC_END_TIMEOUT && !pr->hard && now >= term_at + PROC_KILL_GRACE_NS) {
            s_signal(pr, SIGKILL);
            pr->hard = true;
        }
        /* without a pidfd the end is seen by asking; with one, poll wakes up */
        bool pipes = pr->out_fd >= 0 || pr->err_fd >= 0 || pr->rep_fd >= 0;
        int64_t wait = pr->pidfd >= 0 ? 50000000 : pipes ? 5000000 : 1000000;
        if (pr->ended_by == PROC_END_EXIT && deadline - now < wait)
            wait = deadline - now;
        else if (pr->ended_by == PROC_END_TIMEOUT && !pr->hard &&
                 term_at + PROC_KILL_GRACE_NS - now < wait)
            wait = term_at + PROC_KILL_GRACE_NS - now;
        s_poll(pr, wait);
    }
}

/* The command has ended: kill what it left in its group, read the output
 * still buffered, reap it, and reap leftovers that were handed to us. */
static void s_finish(struct proc *pr)
{
    if (!pr->lost)
        s_signal(pr, SIGKILL);
    /* bounded: a process that left the group (setsid) may hold a pipe forever */
    int64_t until = clock_mono_ns() + PROC_DRAIN_NS;
    while (pr->out_fd >= 0 || pr->err_fd >= 0 || pr->rep_fd >= 0) {
        int64_t left = until - clock_mono_ns();
        if (left <= 0)
            break;
        s_poll(pr, left);
    }
    s_close(&pr->out_fd);
    s_close(&pr->err_fd);
    s_close(&pr->rep_fd);
    if (!pr->lost) {
        pid_t w;
        while ((w = waitpid(pr->pid, &pr->status, 0)) < 0 && errno == EINTR)
            ;
        if (w != pr->pid)
            pr->lost = true;
    }
    /* When the worker is PID 1 (a container) or a subreaper, orphans of the
     * group became our children: reap those the SIGKILL above ended. */
    int64_t sweep_until = clock_mono_ns() + PROC_SWEEP_NS;
    for (;;) {
        pid_t w = waitpid(-pr->pid, NULL, WNOHANG);
        if (w > 0)
            continue;
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 || clock_mono_ns() >= sweep_until)
            break;
        (void)poll(NULL, 0, 1);
    }
    s_close(&pr->pidfd);
}

int proc_run(struct proc *pr, const struct proc_spec *spec, char *err, size_t errlen)
{
    pr->pidfd = pr->out_fd = pr->err_fd = pr->rep_fd = -1;
    pr->ended_by = PROC_END_EXIT;
    if (s_start(pr, spec, err, errlen) < 0)
        return -1;
    s_watch(pr, spec);
    s_finish(pr);
    if (pr->out)
        pr->out[pr->out_len] = '\0';
    return 0;
}

/* ---- the output ---- */

const char *proc_err_tail(struct proc *pr, size_t len)
{
    char lin[PROC_ERR_TAIL];
    size_t n = pr->err_total < PROC_ERR_TAIL ? (size_t)pr->err_total : PROC_ERR_TAIL;
    size_t first = pr->err_total < PROC_ERR_TAIL ? 0 : (size_t)(pr->err_total % PROC_ERR_TAIL);
    for (size_t i = 0; i < n; i++)
        lin[i] = pr->err_ring[(first + i) % PROC_ERR_TAIL];
    while (n && (lin[n - 1] == '\n' || lin[n - 1] == '\r' || lin[n - 1] == ' ' ||
                 lin[n - 1] == '\t'))
        n--;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)lin[i];
        if (c == '\n') {
            memcpy(pr->tail + w, " | ", 3);
            w += 3;
        } else if (c == '\r') {
            continue;
        } else {
            pr->tail[w++] = (char)(c < 0x20 || c == 0x7f ? ' ' : c);
        }
    }
    pr->tail[w] = '\0';
    if (len > sizeof pr->shown)
        len = sizeof pr->shown;
    if (len < 8)
        return "";
    if (w + 1 <= len && pr->err_total <= PROC_ERR_TAIL)
        return pr->tail;
    /* keep the end, the part nearest the failure, and say it was cut */
    size_t keep = w < len - 4 ? w : len - 4;
    const char *src = pr->tail + w - keep;
    while (keep && ((unsigned char)*src & 0xC0) == 0x80)
        src++, keep--;
    memcpy(pr->shown, "...", 3);
    memcpy(pr->shown + 3, src, keep);
    pr->shown[3 + keep] = '\0';
    return pr->shown;
}
