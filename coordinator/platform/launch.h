/* launch.h — platform launchers: start one lockstep-worker on this host in a
 * given platform (a native child process, a Docker container, a QEMU or KVM
 * virtual machine), watch it, and make sure nothing is left behind.
 *
 * One module per platform kind (launch.c: native and the shared helpers;
 * launch_docker.c; launch_vm.c for qemu and kvm), one interface.  What
 * they ship is made by one module per image (image_docker.c: the build
 * context; image_vm.c: the kernel and the initramfs), which `lockstep
 * image` exposes too, with closure.c for a program's libraries.  Every
 * container and VM is named after the run (lockstep-<run key hex>-<name>),
 * and every run keeps its files in a state directory owned by the
 * coordinator's pid, so that a later run can clean up after a crash
 * (launch_sweep).
 */
#ifndef LOCKSTEP_LAUNCH_H
#define LOCKSTEP_LAUNCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* Where state directories live: LAUNCH_STATE_ROOT/<run key hex>/.  On disk,
 * not tmpfs: VM disk images are made there. */
#define LAUNCH_STATE_ROOT "/var/tmp/lockstep-platforms"
/* Label (docker) / name prefix (containers, VMs) of everything we start. */
#define LAUNCH_LABEL "lockstep.run"

/* struct launch_spec: the experiment model's description of a platform
 * instance (model/platform_spec.h), which the launchers start. */
#include "model/platform_spec.h"

/* What the launchers of one run share. */
struct launch_env {
    uint64_t run_key;
    char key_hex[20];          /* "%016" PRIx64 of run_key */
    const char *worker_bin;    /* the lockstep-worker to run / ship */
    char state_dir[256];       /* LAUNCH_STATE_ROOT/<key_hex>, created by launch_env_init */
    int port;                  /* coordinator ROUTER port on every bound address
                                  (the worker learns the PUB port from WELCOME) */
    bool verbose;              /* pass -v to workers */
    /* CURVE (NULL: none): the directory laid out by lockstep keygen, holding
     * coordinator.cert and workers/NAME.cert_secret for every instance;
     * each worker gets its own secret and the coordinator's public cert */
    const char *keys_dir;
    volatile sig_atomic_t *stop; /* set on Ctrl-C: abandon long steps */
    /* Make the coordinator also listen on host (e.g. the docker0 gateway),
     * same ports.  0, or -1 with a message. */
    int (*bind_also)(void *ctx, const char *host, char *err, size_t errlen);
    void *bind_ctx;
};

/* The conditions an instance runs under, as its launcher set them up;
 * stored with the run (store_platform_conditions) and shown by the report. */
struct launch_cond {
    int cpus;              /* how many CPUs it may use */
    char cpu_list[64];     /* which ("0", "0-1") */
    int64_t memory;        /* its memory limit in bytes; 0 = none */
    char disk[192];        /* what backs the benchmarks' directory */
    char network[128];     /* its path to the coordinator's host */
    char unenforced[320];  /* what was asked and could not be enforced, and why */
};

/* A set of CPUs, laid out as glibc's cpu_set_t (1024 bits), which needs
 * _GNU_SOURCE before the first system header of every includer. */
typedef struct { unsigned long bits[1024 / (8 * sizeof(unsigned long))]; } launch_cpuset_t;

/* Default memory of every kind, so that the instances of a run are equal
 * unless the experiment says otherwise (CPUs default to 1 likewise). */
#define LAUNCH_DEFAULT_MEMORY ((int64_t)1 << 30)

/* One started instance. */
struct launch {
    const struct launch_ops *ops;
    const struct launch_spec *spec;
    pid_t pid;            /* the process holding the worker: the worker itself,
                             `docker run` (attached), or qemu; 0 once reaped */
    int status;           /* its wait status once reaped */
    bool exited;          /* reaped */
    char id[128];         /* container / VM name: lockstep-<key_hex>-<name> */
    char log[320];        /* its output / console log (state_dir/<name>.log) */
    char what[256];       /* for messages: "container lockstep-…-docker (image …)" */
    struct launch_cond cond; /* filled by start() */
    void *priv;           /* the launcher's own */
};

struct launch_ops {
    const char *kind;
    /* What this platform needs, checked before anything is started.  0, or
     * -1 with exactly what is missing ("docker engine not running (cannot
     * connect to /var/run/docker.sock)", "/dev/kvm absent", "no kernel
     * package: …").  The platform is then skipped with that reason. */
    int (*check)(const struct launch_env *env, const struct launch_spec *spec, char *why,
                 size_t len);
    /* Build what is needed (images are cached in state_dir or by content
     * hash) and start the instance; fill l->pid, l->id, l->log, l->what.
     * Returns 0, or -1 with a message — having removed anything it made. */
    int (*start)(const struct launch_env *env, struct launch *l, char *err, size_t len);
    /* Stop it: wait up to grace_ms for the process to end by itself (the
     * worker got QUIT), then terminate it, then remove every container, VM,
     * image file and process it made.  Idempotent; safe after a failed or
     * partial start. */
    void (*stop)(const struct launch_env *env, struct launch *l, int grace_ms);
    /* Remove leftovers of runs whose coordinator is dead (crash, kill -9):
     * alive(key_hex) says whether a run is still owned by a live process.
     * NULL when the kind leaves nothing outside state directories. */
    void (*sweep)(bool (*alive)(const char *key_hex));
};

extern const struct launch_ops launch_native_ops, launch_docker_ops, launch_qemu_ops,
    launch_kvm_ops;

/* The ops for a kind name; NULL when unknown. */
const struct launch_ops *launch_find(const char *kind);
/* "native, docker, qemu, kvm" */
const char *launch_kinds(void);

/* Fill key_hex and state_dir and create state_dir with an `owner` file (our
 * pid and process start time).  0, or -1 with a message. */
int launch_env_init(struct launch_env *env, uint64_t run_key, char *err, size_t errlen);
/* Remove state_dir and everything in it. */
void launch_env_cleanup(struct launch_env *env);
/* Clean up after dead runs: every launcher's sweep, then the state
 * directories whose owner is gone.  Logs what it removed. */
void launch_sweep(void);
/* Is the run with this key still owned by a live coordinator? */
bool launch_run_alive(const char *key_hex);
/* When process pid started (field 22 of /proc/PID/stat, clock ticks since
 * boot), 0 if there is no such process: with the pid it names a process. */
unsigned long long launch_proc_start(pid_t pid);

/* ---- helpers for the launchers ---- */

/* fork and exec argv: stdin from /dev/null, stdout and stderr to out_fd
 * (inherited when out_fd < 0), SIGTERM when the coordinator dies
 * (PDEATHSIG), default signal dispositions.  0 and *pid, or -1 with a
 * message (exec failures included: a CLOEXEC pipe carries errno back). */
int launch_fork_exec(char *const argv[], int out_fd, pid_t *pid, char *err, size_t errlen);
/* Start argv with stdout and stderr appended to log_path (NULL: /dev/null),
 * stdin from /dev/null, SIGTERM when the coordinator dies (PDEATHSIG).
 * 0 and *pid, or -1 with a message (exec failures included). */
int launch_spawn(char *const argv[], const char *log_path, pid_t *pid, char *err, size_t errlen);
/* Run argv to completion, at most timeout_ms (then SIGKILL), giving up early
 * when *stop is set.  Output (stdout + stderr, at most outlen - 1 bytes
 * kept) goes to out when out != NULL.  Returns the exit status (0..255),
 * -1 with a message when it could not run, timed out or was stopped. */
int launch_run(char *const argv[], char *out, size_t outlen, int timeout_ms,
               volatile sig_atomic_t *stop, char *err, size_t errlen);
/* Has l's process ended?  Reaps it (fills status, exited) without blocking. */
bool launch_reap(struct launch *l);
/* Wait up to grace_ms for l's process to end, then SIGTERM, 2 s later
 * SIGKILL; reaps it. */
void launch_terminate(struct launch *l, int grace_ms);
/* Append a worker's own arguments to argv[n..] — --connect, --name,
 * --spool, --cert CERT and --server-cert SERVER_CERT when cert is not NULL,
 * and -v when env->verbose — and the NULL; returns the new n.  argv needs
 * room for 12 more. */
int launch_worker_args(char **argv, int n, const struct launch_env *env, const char *connect,
                       const char *name, const char *spool, const char *cert,
                       const char *server_cert);
/* The host paths of instance name's certificates under env->keys_dir:
 * 0 (or 1 when there is no keys_dir: no CURVE), -1 when a file is missing,
 * with what to run to make it. */
int launch_certs(const struct launch_env *env, const char *name, char *cert, char *server_cert,
                 size_t len, char *err, size_t errlen);
/* fork and exec argv like launch_spawn, the child first pinned to cpus
 * (NULL: as the coordinator) and moved into the cgroup directory cgroup
 * (NULL: none), so that everything it starts inherits both. */
int launch_spawn_in(char *const argv[], const char *log_path, const launch_cpuset_t *cpus,
                    const char *cgroup, pid_t *pid, char *err, size_t errlen);

/* ---- resources and tools (launch_res.c) ---- */

/* spec's CPU count (default 1) and memory (default LAUNCH_DEFAULT_MEMORY). */
int launch_cpus_of(const struct launch_spec *spec);
int64_t launch_memory_of(const struct launch_spec *spec);
/* The CPUs an instance gets: the first launch_cpus_of(spec) of those this
 * process may use, the same for every instance of a run.  Fills *set,
 * cond->cpus and cond->cpu_list; 0, or -1 when the host has fewer. */
int launch_cpus(const struct launch_spec *spec, launch_cpuset_t *set, struct launch_cond *cond,
                char *err, size_t errlen);
/* Append to cond->unenforced ("; " between items). */
void launch_unenforced(struct launch_cond *cond, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A memory cgroup limited to bytes, named after the run and instance
 * (cgroup v1's memory controller, or v2): its directory in path.  0, or -1
 * with why (path then ""). */
int launch_cgroup_make(const struct launch_env *env, const char *name, int64_t bytes,
                       char *path, size_t plen, char *why, size_t wlen);
/* Remove it once its processes are gone (no-op for ""). */
void launch_cgroup_remove(const char *path);
/* Remove the cgroups of runs whose coordinator is gone. */
void launch_cgroup_sweep(bool (*alive)(const char *key_hex));
/* "ext4", "overlay", "tmpfs", … of the file system holding dir. */
void launch_fs_name(const char *dir, char *buf, size_t len);
/* The host programs to ship beside the worker, one absolute path a line:
 * the worker's companions found beside it (lockstep-forksum), then spec's
 * tools, each an absolute path or a name looked up beside the worker, then
 * in PATH.  0, or -1 naming a tool that is not there. */
int launch_tools(const struct launch_env *env, const struct launch_spec *spec, char *buf,
                 size_t len, char *err, size_t errlen);

/* An executable by name in $PATH, then the sbin directories a user's PATH
 * often lacks (mkfs.ext4); a name with a '/' as it is.  0 and its path, or
 * -1. */
int launch_which(const char *name, char *out, size_t len);

/* The last non-empty line of a log file, for messages ("" when none). */
void launch_log_tail(const char *path, char *buf, size_t len);
#endif
