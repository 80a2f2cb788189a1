/* launch.c — what every platform launcher shares (child processes bounded
 * in time, the run's state directory, sweeping up after dead runs), and the
 * native launcher: a worker as a child process of the coordinator. */
#define _GNU_SOURCE /* pipe2 */
#include "launch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "log.h"

static const struct launch_ops *const s_ops[] = {
    &launch_native_ops, &launch_docker_ops, &launch_qemu_ops, &launch_kvm_ops, NULL,
};

const struct launch_ops *launch_find(const char *kind)
{
    for (size_t i = 0; kind && s_ops[i]; i++)
        if (strcmp(s_ops[i]->kind, kind) == 0)
            return s_ops[i];
    return NULL;
}

const char *launch_kinds(void) { return "native, docker, qemu, kvm"; }

/* ---- child processes ---- */

/* Where a child goes before exec (launch_spawn_in); async-signal-safe
 * to apply between fork and exec. */
struct s_place {
    const launch_cpuset_t *cpus;
    const char *cgroup;
};

/* In the child: pinned and in its cgroup (place), stdin from /dev/null,
 * stdout+stderr to out_fd (kept when out_fd < 0), die with the
 * coordinator, exec.  Reports errno on report_fd when exec or the placing
 * fails. */
static void s_child(char *const argv[], int out_fd, int report_fd, pid_t parent,
                    const struct s_place *place)
{
    if (place && place->cpus &&
        sched_setaffinity(0, sizeof(cpu_set_t), (const cpu_set_t *)place->cpus) != 0)
        goto failed;
    if (place && place->cgroup) {
        char path[PATH_MAX], num[24];
        size_t n = strlen(place->cgroup), k = sizeof num;
        if (n + sizeof "/cgroup.procs" > sizeof path)
            goto failed;
        memcpy(path, place->cgroup, n);
        memcpy(path + n, "/cgroup.procs", sizeof "/cgroup.procs");
        num[--k] = '\0';
        for (unsigned long v = (unsigned long)getpid(); v || k == sizeof num - 1; v /= 10)
            num[--k] = (char)('0' + v % 10);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, num + k, sizeof num - 1 - k) < 0)
            goto failed;
        close(fd);
    }
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0) {
        dup2(nul, STDIN_FILENO);
        close(nul);
    }
    if (out_fd >= 0) {
        dup2(out_fd, STDOUT_FILENO);
        dup2(out_fd, STDERR_FILENO);
        if (out_fd > STDERR_FILENO)
            close(out_fd);
    }
    /* a platform instance does not outlive its coordinator */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(127);
    /* the coordinator ignores SIGPIPE and runs control threads with a
     * real-time policy; children start from the defaults */
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execvp(argv[0], argv);
failed:;
    int e = errno;
    (void)!write(report_fd, &e, sizeof e);
    _exit(127);
}

/* fork + exec with a CLOEXEC pipe that carries exec's errno back. */
static int s_fork_exec(char *const argv[], int out_fd, const struct s_place *place, pid_t *pid_p,
                       char *err, size_t errlen)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        s_child(argv, out_fd, fds[1], parent, place);
    }
    close(fds[1]);
    int e = 0;
    ssize_t n;
    do
        n = read(fds[0], &e, sizeof e);
    while (n < 0 && errno == EINTR);
    close(fds[0]);
    if (n == (ssize_t)sizeof e) {
        waitpid(pid, NULL, 0);
        snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(e));
        return -1;
    }
    *pid_p = pid;
    return 0;
}

int launch_fork_exec(char *const argv[], int out_fd, pid_t *pid_p, char *err, size_t errlen)
{
    return s_fork_exec(argv, out_fd, NULL, pid_p, err, errlen);
}

int launch_spawn_in(char *const argv[], const char *log_path, const launch_cpuset_t *cpus,
                    const char *cgroup, pid_t *pid, char *err, size_t errlen)
{
    int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                  0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", log_path ? log_path : "/dev/null", strerror(errno));
        return -1;
    }
    struct s_place place = { .cpus = cpus, .cgroup = cgroup && cgroup[0] ? cgroup : NULL };
    int rc = s_fork_exec(argv, fd, &place, pid, err, errlen);
    close(fd);
    return rc;
}

int launch_spawn(char *const argv[], const char *log_path, pid_t *pid, char *err, size_t errlen)
{
    return launch_spawn_in(argv, log_path, NULL, NULL, pid, err, errlen);
}

int launch_run(char *const argv[], char *out, size_t outlen, int timeout_ms,
               volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid;
    if (launch_fork_exec(argv, p[1], &pid, err, errlen) != 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    close(p[1]);
    size_t used = 0;
    if (out && outlen)
        out[0] = '\0';
    int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
    const char *why = NULL;
    for (;;) {
        if (stop && *stop) {
            why = "interrupted";
            break;
        }
        int64_t left = deadline - clock_mono_ns();
        if (left <= 0) {
            why = "timed out";
            break;
        }
        struct pollfd pfd = { .fd = p[0], .events = POLLIN };
        int wait_ms = (int)(left / NS_PER_MS) + 1;
        int r = poll(&pfd, 1, wait_ms < 100 ? wait_ms : 100);
        if (r < 0 && errno != EINTR) {
            why = "poll failed";
            break;
        }
        if (r <= 0)
            continue;
        char buf[4096];
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* EOF: the child (and whatever inherited its output) is done */
        if (out && used + 1 < outlen) {
            size_t k = (size_t)n < outlen - 1 - used ? (size_t)n : outlen - 1 - used;
            memcpy(out + used, buf, k);
            used += k;
            out[used] = '\0';
        }
    }
    close(p[0]);
    int status = 0;
    if (why) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        snprintf(err, errlen, "%s %s after %.1f s", argv[0], why,
                 (double)(clock_mono_ns() - deadline + (int64_t)timeout_ms * NS_PER_MS) /
                     NS_PER_SEC);
        return -1;
    }
    /* EOF came; the child may still be exiting (bounded by the deadline) */
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            snprintf(err, errlen, "waitpid %s: %s", argv[0], strerror(errno));
            return -1;
        }
        if (clock_mono_ns() > deadline || (stop && *stop)) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(err, errlen, "%s did not exit in time", argv[0]);
            return -1;
        }
        usleep(10000);
    }
    if (WIFSIGNALED(status)) {
        snprintf(err, errlen, "%s killed by signal %d", argv[0], WTERMSIG(status));
        return -1;
    }
    return WEXITSTATUS(status);
}

bool launch_reap(struct launch *l)
{
    if (l->exited || l->pid <= 0)
        return true;
    int st;
    pid_t r = waitpid(l->pid, &st, WNOHANG);
    if (r == l->pid || (r < 0 && errno == ECHILD)) {
        l->status = r == l->pid ? st : 0;
        l->exited = true;
        l->pid = 0;
        return true;
    }
    return false;
}

static bool s_wait_exit(struct launch *l, int ms)
{
    int64_t end = clock_mono_ns() + (int64_t)ms * NS_PER_MS;
    while (!launch_reap(l)) {
        if (clock_mono_ns() >= end)
            return false;
        usleep(20000);
    }
    return true;
}

void launch_terminate(struct launch *l, int grace_ms)
{
    if (l->exited || l->pid <= 0)
        return;
    if (s_wait_exit(l, grace_ms))
        return;
    kill(l->pid, SIGTERM);
    if (s_wait_exit(l, 2000))
        return;
    log_warn("%s: did not end on SIGTERM; killing it", l->id[0] ? l->id : "child");
    kill(l->pid, SIGKILL);
    s_wait_exit(l, 5000);
}

int launch_worker_args(char **argv, int n, const struct launch_env *env, const char *connect,
                       const char *name, const char *spool, const char *cert,
                       const char *server_cert)
{
    argv[n++] = "--connect";
    argv[n++] = (char *)connect;
    argv[n++] = "--name";
    argv[n++] = (char *)name;
    argv[n++] = "--spool";
    argv[n++] = (char *)spool;
    if (cert) {
        argv[n++] = "--cert";
        argv[n++] = (char *)cert;
        argv[n++] = "--server-cert";
        argv[n++] = (char *)server_cert;
    }
    if (env->verbose)
        argv[n++] = "-v";
    argv[n] = NULL;
    return n;
}

int launch_certs(const struct launch_env *env, const char *name, char *cert, char *server_cert,
                 size_t len, char *err, size_t errlen)
{
    if (!env->keys_dir)
        return 1;
    snprintf(cert, len, "%s/workers/%s.cert_secret", env->keys_dir, name);
    snprintf(server_cert, len, "%s/coordinator.cert", env->keys_dir);
    const char *missing = access(cert, R_OK) != 0 ? cert : access(server_cert, R_OK) != 0 ? server_cert : NULL;
    if (missing) {
        snprintf(err, errlen, "no CURVE certificate %s (%s): lockstep keygen %s --workers %s "
                 "makes it", missing, strerror(errno), env->keys_dir, name);
        return -1;
    }
    return 0;
}

void launch_log_tail(const char *path, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fseek(f, -4096, SEEK_END) != 0)
        rewind(f);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        /* strip a console's escape sequences and trailing blanks */
        while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = '\0';
        if (n)
            snprintf(buf, len, "%s", line);
    }
    fclose(f);
}

/* ---- state directories and sweeping ---- */

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks
 * since boot.  With the pid it names a process uniquely (pids are reused). */
unsigned long long launch_proc_start(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return 0;
    unsigned long long start = 0;
    /* after ")": state is field 3; starttime is field 22 */
    if (sscanf(p + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
               &start) != 1)
        return 0;
    return start;
}

int launch_env_init(struct launch_env *env, uint64_t run_key, char *err, size_t errlen)
{
    env->run_key = run_key;
    snprintf(env->key_hex, sizeof env->key_hex, "%016" PRIx64, run_key);
    if (mkdir(LAUNCH_STATE_ROOT, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", LAUNCH_STATE_ROOT, strerror(errno));
        return -1;
    }
    snprintf(env->state_dir, sizeof env->state_dir, "%s/%s", LAUNCH_STATE_ROOT, env->key_hex);
    if (mkdir(env->state_dir, 0700) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", env->state_dir, strerror(errno));
        return -1;
    }
    char path[320];
    snprintf(path, sizeof path, "%s/owner", env->state_dir);
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%d %llu\n", (int)getpid(), launch_proc_start(getpid())) < 0 ||
        fclose(f) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void s_rm_rf(const char *dir)
{
    if (fs_rmtree(dir) != 0)
        log_warn("could not remove %s: %s", dir, strerror(errno));
}

void launch_env_cleanup(struct launch_env *env)
{
    if (env->state_dir[0])
        s_rm_rf(env->state_dir);
}

bool launch_run_alive(const char *key_hex)
{
    char path[320];
    snprintf(path, sizeof path, "%s/%s/owner", LAUNCH_STATE_ROOT, key_hex);
    FILE *f = fopen(path, "r");
    if (!f)
        return false; /* no state directory: nobody owns that run any more */
    int pid = 0;
    unsigned long long start = 0;
    int n = fscanf(f, "%d %llu", &pid, &start);
    fclose(f);
    if (n != 2 || pid <= 0)
        return false;
    return launch_proc_start(pid) == start && start != 0;
}

void launch_sweep(void)
{
    for (size_t i = 0; s_ops[i]; i++)
        if (s_ops[i]->sweep)
            s_ops[i]->sweep(launch_run_alive);
    DIR *d = opendir(LAUNCH_STATE_ROOT);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strlen(e->d_name) != 16)
            continue;
        if (launch_run_alive(e->d_name))
            continue;
        char dir[320];
        snprintf(dir, sizeof dir, "%s/%s", LAUNCH_STATE_ROOT, e->d_name);
        log_info("removing %s, left by a run whose coordinator is gone", dir);
        s_rm_rf(dir);
    }
    closedir(d);
}

/* ---- native: a child process ---- */

static int s_native_check(const struct launch_env *env, const struct launch_spec *spec,
                          char *why, size_t len)
{
    (void)spec;
    if (access(env->worker_bin, X_OK) != 0) {
        snprintf(why, len, "%s: %s", env->worker_bin, strerror(errno));
        return -1;
    }
    return 0;
}

/* A native worker runs on the same CPUs as every other instance of the
 * run (affinity, inherited by everything it forks) and, where the host has
 * a memory cgroup we may write, under the same memory limit. */
static int s_native_start(const struct launch_env *env, struct launch *l, char *err, size_t len)
{
    char connect[64], spool[320], fs[32];
    snprintf(connect, sizeof connect, "tcp://127.0.0.1:%d", env->port);
    snprintf(spool, sizeof spool, "%s/%s-spool", env->state_dir, l->spec->name);
    snprintf(l->log, sizeof l->log, "%s/%s.log", env->state_dir, l->spec->name);
    snprintf(l->id, sizeof l->id, "lockstep-%s-%s", env->key_hex, l->spec->name);
    launch_cpuset_t cpus;
    if (launch_cpus(l->spec, &cpus, &l->cond, err, len) != 0)
        return -1;
    char *cgroup = calloc(1, PATH_MAX), why[256];
    if (!cgroup) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    l->priv = cgroup;
    int64_t mem = launch_memory_of(l->spec);
    if (launch_cgroup_make(env, l->spec->name, mem, cgroup, PATH_MAX, why, sizeof why) == 0)
        l->cond.memory = mem;
    else
        launch_unenforced(&l->cond, "memory %lld MiB: %s", (long long)(mem >> 20), why);
    launch_fs_name(env->state_dir, fs, sizeof fs);
    snprintf(l->cond.disk, sizeof l->cond.disk, "host %s (%.150s)", fs, env->state_dir);
    snprintf(l->cond.network, sizeof l->cond.network, "loopback (127.0.0.1)");
    /* tools run from where they are: their directories lead PATH (env
     * execs the worker in its place: same pid, affinity and cgroup) */
    char tools[8192], path[8192 + 64] = "PATH=";
    if (launch_tools(env, l->spec, tools, sizeof tools, err, len) != 0)
        return -1;
    for (const char *p = tools; *p; p += strcspn(p, "\n") + 1) {
        char dir[PATH_MAX + 1];
        snprintf(dir, sizeof dir, "%.*s", (int)strcspn(p, "\n"), p);
        strcpy(strrchr(dir, '/'), ":");
        if (!strstr(path, dir) && strlen(path) + strlen(dir) < sizeof path - 1024)
            strcat(path, dir);
    }
    const char *old = getenv("PATH");
    snprintf(path + strlen(path), sizeof path - strlen(path), "%s",
             old && *old ? old : "/usr/local/bin:/usr/bin:/bin");
    char cert[PATH_MAX], server_cert[PATH_MAX];
    int curve = launch_certs(env, l->spec->name, cert, server_cert, sizeof cert, err, len);
    if (curve < 0)
        return -1;
    char *argv[20] = { "env", path, (char *)env->worker_bin };
    launch_worker_args(argv, 3, env, connect, l->spec->name, spool, curve == 0 ? cert : NULL,
                       server_cert);
    if (launch_spawn_in(argv, l->log, &cpus, cgroup, &l->pid, err, len) != 0)
        return -1;
    snprintf(l->what, sizeof l->what, "process %d (%s) on CPUs %s", (int)l->pid, env->worker_bin,
             l->cond.cpu_list);
    return 0;
}

static void s_native_stop(const struct launch_env *env, struct launch *l, int grace_ms)
{
    (void)env;
    launch_terminate(l, grace_ms);
    if (l->priv) {
        launch_cgroup_remove(l->priv);
        free(l->priv);
        l->priv = NULL;
    }
}

const struct launch_ops launch_native_ops = {
    .kind = "native",
    .check = s_native_check,
    .start = s_native_start,
    .stop = s_native_stop,
    /* PDEATHSIG: a native worker dies with its coordinator; its cgroup stays */
    .sweep = launch_cgroup_sweep,
};
