/* spawn.c — local worker processes.  Children are exec'd, never share the
 * coordinator's ZeroMQ context, and are always reaped: at the end of a run
 * they are asked to QUIT, then terminated if they linger. */
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "platform/launch.h"
#include "log.h"

struct child {
    pid_t pid;
    char name[64];
};

struct spawn {
    struct child *kids;
    size_t n, cap;
};

spawn_t *spawn_new(void) { return calloc(1, sizeof(spawn_t)); }

const char *spawn_worker_path(char *buf, size_t len)
{
    const char *env = getenv("LOCKSTEP_WORKER");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return buf;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        snprintf(buf, len, "%s/lockstep-worker", dirname(self));
        if (access(buf, X_OK) == 0)
            return buf;
    }
    snprintf(buf, len, "lockstep-worker");
    return buf;
}

int spawn_start(spawn_t *s, const char *name, char *const argv[], char *err, size_t errlen)
{
    /* a local worker does not outlive its coordinator (mpirun's ranks do
     * not outlive mpirun): launch_fork_exec sets PDEATHSIG */
    pid_t pid;
    if (launch_fork_exec(argv, -1, &pid, err, errlen) != 0)
        return -1;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->kids = realloc(s->kids, s->cap * sizeof *s->kids);
    }
    s->kids[s->n].pid = pid;
    snprintf(s->kids[s->n].name, sizeof s->kids[s->n].name, "%s", name);
    s->n++;
    return 0;
}

static void s_report(const struct child *k, int status)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        log_debug("local worker %s (pid %d) exited", k->name, (int)k->pid);
    else if (WIFEXITED(status))
        log_warn("local worker %s (pid %d) exited with status %d", k->name, (int)k->pid,
                 WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        log_warn("local worker %s (pid %d) killed by signal %d", k->name, (int)k->pid,
                 WTERMSIG(status));
}

void spawn_reap(spawn_t *s)
{
    for (size_t i = 0; i < s->n;) {
        int status;
        pid_t r = waitpid(s->kids[i].pid, &status, WNOHANG);
        if (r == s->kids[i].pid || (r < 0 && errno == ECHILD)) {
            if (r > 0)
                s_report(&s->kids[i], status);
            s->kids[i] = s->kids[--s->n];
        } else {
            i++;
        }
    }
}

size_t spawn_running(const spawn_t *s) { return s->n; }

void spawn_stop_all(spawn_t *s, int grace_ms)
{
    int64_t deadline = clock_mono_ns() + (int64_t)grace_ms * NS_PER_MS;
    int stage = 0; /* 0: wait, 1: SIGTERM sent, 2: SIGKILL sent */
    while (s->n) {
        spawn_reap(s);
        if (!s->n)
            break;
        if (clock_mono_ns() >= deadline && stage < 2) {
            int sig = stage == 0 ? SIGTERM : SIGKILL;
            for (size_t i = 0; i < s->n; i++)
                kill(s->kids[i].pid, sig);
            stage++;
            deadline = clock_mono_ns() + 2 * NS_PER_SEC;
        }
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

void spawn_destroy(spawn_t **s_p)
{
    spawn_t *s = *s_p;
    if (!s)
        return;
    spawn_stop_all(s, 0);
    free(s->kids);
    free(s);
    *s_p = NULL;
}
