/* launch_res.c — the resources and tools a platform instance gets, shared
 * by the launchers: which CPUs (the same list for every kind, so that a
 * comparison is like for like), a memory limit (a cgroup for native
 * workers), the host programs shipped beside the worker, and the words that
 * describe its disk, for the conditions stored with each run.
 */
#define _GNU_SOURCE /* cpu_set_t, sched_getaffinity */
#include "launch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"

int launch_cpus_of(const struct launch_spec *spec) { return spec->cpus > 0 ? spec->cpus : 1; }

int64_t launch_memory_of(const struct launch_spec *spec)
{
    return spec->memory > 0 ? spec->memory : LAUNCH_DEFAULT_MEMORY;
}

/* "0-1,3" for the CPUs of set. */
static void s_cpu_list(const cpu_set_t *set, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, set))
            continue;
        int e = c;
        while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, set))
            e++;
        int k = e > c ? snprintf(buf + used, len - used, "%s%d-%d", used ? "," : "", c, e)
                      : snprintf(buf + used, len - used, "%s%d", used ? "," : "", c);
        if (k < 0 || used + (size_t)k >= len)
            break;
        used += (size_t)k;
        c = e;
    }
}

_Static_assert(sizeof(launch_cpuset_t) == sizeof(cpu_set_t), "launch_cpuset_t is a cpu_set_t");

int launch_cpus(const struct launch_spec *spec, launch_cpuset_t *out, struct launch_cond *cond,
                char *err, size_t errlen)
{
    cpu_set_t setv, *set = &setv;
    cpu_set_t mine;
    CPU_ZERO(&mine);
    if (sched_getaffinity(0, sizeof mine, &mine) != 0) {
        snprintf(err, errlen, "cannot read this process's CPUs: %s", strerror(errno));
        return -1;
    }
    int want = launch_cpus_of(spec), have = CPU_COUNT(&mine);
    if (want > have) {
        char list[64];
        s_cpu_list(&mine, list, sizeof list);
        snprintf(err, errlen, "cpus: %d asked, but this host lets lockstep use %d (CPUs %s)", want,
                 have, list);
        return -1;
    }
    /* the first `want` of ours: every instance of a run gets the same ones,
     * and round-robin keeps them from running at once */
    CPU_ZERO(set);
    for (int c = 0, k = 0; c < CPU_SETSIZE && k < want; c++)
        if (CPU_ISSET(c, &mine)) {
            CPU_SET(c, set);
            k++;
        }
    cond->cpus = want;
    s_cpu_list(set, cond->cpu_list, sizeof cond->cpu_list);
    memcpy(out, set, sizeof *out);
    return 0;
}

void launch_unenforced(struct launch_cond *cond, const char *fmt, ...)
{
    size_t used = strlen(cond->unenforced);
    if (used && used + 2 < sizeof cond->unenforced) {
        memcpy(cond->unenforced + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cond->unenforced + used, sizeof cond->unenforced - used, fmt, ap);
    va_end(ap);
}

/* ---- memory: a cgroup of its own (v1 memory controller or v2) ---- */

#define S_CG_V1 "/sys/fs/cgroup/memory"
#define S_CG_V2 "/sys/fs/cgroup"

static int s_write(const char *dir, const char *file, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static bool s_v2_memory(void)
{
    char buf[512] = "";
    FILE *f = fopen(S_CG_V2 "/cgroup.controllers", "re");
    if (!f)
        return false;
    bool yes = fgets(buf, sizeof buf, f) && strstr(buf, "memory");
    fclose(f);
    return yes;
}

int launch_cgroup_make(const struct launch_env *env, const char *name, int64_t bytes,
                       char *path, size_t plen, char *why, size_t wlen)
{
    char limit[32];
    snprintf(limit, sizeof limit, "%lld", (long long)bytes);
    const char *root, *file;
    if (access(S_CG_V1 "/memory.limit_in_bytes", F_OK) == 0) {
        root = S_CG_V1;
        file = "memory.limit_in_bytes";
    } else if (s_v2_memory()) {
        root = S_CG_V2;
        file = "memory.max";
        /* children of the root get the controller only when it is enabled
         * for them; failing that, mkdir succeeds and memory.max is missing */
        s_write(S_CG_V2, "cgroup.subtree_control", "+memory");
    } else {
        snprintf(why, wlen, "no memory cgroup controller on this host");
        return -1;
    }
    snprintf(path, plen, "%s/" LAUNCH_LABEL "-%s-%s", root, env->key_hex, name);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(why, wlen, "cannot make cgroup %s: %s", path, strerror(errno));
        path[0] = '\0';
        return -1;
    }
    if (s_write(path, file, limit) != 0) {
        snprintf(why, wlen, "cannot set %s/%s: %s", path, file, strerror(errno));
        rmdir(path);
        path[0] = '\0';
        return -1;
    }
    return 0;
}

void launch_cgroup_remove(const char *path)
{
    if (!path || !path[0])
        return;
    /* the processes are gone; the kernel may take a moment to say so */
    for (int i = 0; i < 50 && rmdir(path) != 0 && errno == EBUSY; i++)
        usleep(20000);
}

void launch_cgroup_sweep(bool (*alive)(const char *key_hex))
{
    static const char *const roots[] = { S_CG_V1, S_CG_V2 };
    const size_t plen = strlen(LAUNCH_LABEL "-");
    for (size_t r = 0; r < sizeof roots / sizeof roots[0]; r++) {
        DIR *d = opendir(roots[r]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            char key[20];
            if (strncmp(e->d_name, LAUNCH_LABEL "-", plen) != 0 ||
                strlen(e->d_name + plen) < 17 || e->d_name[plen + 16] != '-')
                continue;
            snprintf(key, sizeof key, "%.16s", e->d_name + plen);
            if (alive(key))
                continue;
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", roots[r], e->d_name);
            if (rmdir(path) == 0)
                log_info("removed cgroup %s of a dead run", path);
        }
        if (d)
            closedir(d);
    }
}

/* ---- disk ---- */

void launch_fs_name(const char *dir, char *buf, size_t len)
{
    static const struct { unsigned long magic; const char *name; } known[] = {
        { 0xEF53, "ext4" },      { 0x58465342, "xfs" },  { 0x9123683E, "btrfs" },
        { 0x794c7630, "overlay" }, { 0x01021994, "tmpfs" }, { 0x2fc12fc1, "zfs" },
        { 0x6969, "nfs" },       { 0x65735546, "fuse" },
    };
    struct statfs st;
    if (statfs(dir, &st) != 0) {
        snprintf(buf, len, "unknown");
        return;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if ((unsigned long)st.f_type == known[i].magic) {
            snprintf(buf, len, "%s", known[i].name);
            return;
        }
    snprintf(buf, len, "fs 0x%lx", (unsigned long)st.f_type);
}

/* ---- files and programs ---- */

int launch_which(const char *name, char *out, size_t len)
{
    if (strchr(name, '/')) {
        snprintf(out, len, "%s", name);
        return access(name, X_OK) == 0 ? 0 : -1;
    }
    const char *env = getenv("PATH");
    char path[4096];
    snprintf(path, sizeof path, "%s:/usr/local/sbin:/usr/sbin:/sbin", env ? env : "/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, len, "%s/%s", d, name);
        if (access(out, X_OK) == 0)
            return 0;
    }
    return -1;
}

/* ---- tools ---- */

/* Companions of the worker that benchmarks start (fork's minimal helper):
 * shipped whenever they are beside the worker. */
static const char *const s_companions[] = { "lockstep-forksum", NULL };

static void s_dirname(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, len, ".");
    else
        snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

/* name beside the worker, else in PATH; an absolute path as it is. */
static int s_resolve(const char *name, const char *bindir, char *out, size_t len)
{
    if (name[0] == '/') {
        snprintf(out, len, "%s", name);
        return access(out, X_OK);
    }
    if (snprintf(out, len, "%s/%s", bindir, name) < (int)len && access(out, X_OK) == 0)
        return 0;
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        if (snprintf(out, len, "%s/%s", d, name) < (int)len && access(out, X_OK) == 0)
            return 0;
    }
    return -1;
}

int launch_tools(const struct launch_env *env, const struct launch_spec *spec, char *buf,
                 size_t len, char *err, size_t errlen)
{
    char bindir[PATH_MAX], path[PATH_MAX];
    size_t used = 0;
    buf[0] = '\0';
    s_dirname(env->worker_bin, bindir, sizeof bindir);
    size_t ncomp = 0;
    while (s_companions[ncomp])
        ncomp++;
    for (size_t i = 0; i < ncomp + spec->ntools; i++) {
        bool companion = i < ncomp;
        const char *name = companion ? s_companions[i] : spec->tools[i - ncomp];
        if (companion) {
            if (snprintf(path, sizeof path, "%s/%s", bindir, name) >= (int)sizeof path ||
                access(path, X_OK) != 0) {
                log_debug("%s not beside %s: fork phases will say so", name, env->worker_bin);
                continue;
            }
        } else if (s_resolve(name, bindir, path, sizeof path) != 0) {
            snprintf(err, errlen, "tools: '%s' is %s", name,
                     name[0] == '/' ? "not an executable file on this host"
                                    : "neither beside the worker nor in PATH");
            return -1;
        }
        /* the same base name twice would overwrite one with the other */
        const char *base = strrchr(path, '/') + 1;
        for (const char *p = buf; *p; p += strcspn(p, "\n") + 1) {
            size_t n = strcspn(p, "\n");
            const char *pb = memrchr(p, '/', n);
            if (pb && (size_t)(p + n - pb - 1) == strlen(base) && !strncmp(pb + 1, base, strlen(base))) {
                snprintf(err, errlen, "tools: two programs are called %s (%.*s and %s)", base,
                         (int)n, p, path);
                return -1;
            }
        }
        int k = snprintf(buf + used, len - used, "%s\n", path);
        if (k < 0 || used + (size_t)k >= len) {
            snprintf(err, errlen, "tools: too many");
            return -1;
        }
        used += (size_t)k;
    }
    return 0;
}
