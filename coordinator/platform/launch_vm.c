/* launch_vm.c — the qemu (TCG) and kvm launchers: one small VM per worker,
 * booted from image_vm.c's kernel and initramfs (lockstep-worker,
 * lockstep-vm-init as /init, their shared libraries and the virtio
 * modules), with a fresh ext4 virtio-blk disk for the worker's spool.
 * The guest reaches the coordinator through QEMU's user networking
 * (10.0.2.2 is the host's loopback). */
#define _GNU_SOURCE /* strverscmp, O_DIRECT */
#include "launch.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/kvm.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_vm.h"
#include "fsutil.h"
#include "log.h"

#define VM_QEMU "qemu-system-x86_64"
#define VM_DEFAULT_MEMORY (1LL << 30)
#define VM_DEFAULT_DISK (1LL << 30)
#define VM_MIN_MEMORY (256LL << 20) /* the initramfs is ~30 MiB, unpacked in RAM */
#define VM_MIN_DISK (64LL << 20)
#define VM_KVM_PROBE_MS 20000
/* QEMU user networking: the host's loopback as the guest sees it */
#define VM_HOST_ADDR "10.0.2.2"
/* The guest port a VM's iperf server listens on, forwarded from a free
 * host port (tcp and udp), so that a VM can serve network phases. */
#define VM_SERVE_PORT 5201

/* A host port free for both TCP and UDP on every address, or 0. */
static int s_host_port(void)
{
    for (int tries = 0; tries < 20; tries++) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
        socklen_t al = sizeof a;
        int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = 0;
        if (t >= 0 && bind(t, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(t, (struct sockaddr *)&a, &al) == 0)
            port = ntohs(a.sin_port);
        if (t >= 0)
            close(t);
        if (port <= 0)
            return 0;
        int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        bool free_udp = u >= 0 && bind(u, (struct sockaddr *)&a, sizeof a) == 0;
        if (u >= 0)
            close(u);
        if (free_udp)
            return port;
    }
    return 0;
}


/* What one started VM leaves on disk, removed by stop(). */
struct vm_priv {
    char disk[320];
    char pidfile[320];
};

/* ---- small helpers ---- */

/* "1 GiB", "512 MiB" */
static void s_size(int64_t bytes, char *buf, size_t len)
{
    if (bytes % (1LL << 30) == 0)
        snprintf(buf, len, "%" PRId64 " GiB", bytes >> 30);
    else
        snprintf(buf, len, "%" PRId64 " MiB", bytes >> 20);
}

static const char *s_accel(const struct launch_spec *spec, const char *kind)
{
    if (spec->accel && spec->accel[0])
        return spec->accel;
    return strcmp(kind, "kvm") == 0 ? "kvm" : "tcg";
}

static int64_t s_memory(const struct launch_spec *s) { return s->memory > 0 ? s->memory : VM_DEFAULT_MEMORY; }
static int64_t s_disk_size(const struct launch_spec *s) { return s->disk > 0 ? s->disk : VM_DEFAULT_DISK; }
static int s_cpus(const struct launch_spec *s) { return s->cpus > 0 ? s->cpus : 1; }

/* state_dir/initramfs-<ver>-<hash>.cpio, built once per run: instances
 * with the same tools (and no certificate of their own) share one. */
static int s_initramfs(const struct launch_env *env, const struct image_vm_kernel *k,
                       const char *init_bin, const char *tools, const char *cert,
                       const char *server_cert, char *out, size_t outlen, char *err,
                       size_t errlen)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *t = tools; *t; t++)
        h = (h ^ (unsigned char)*t) * 0x100000001b3ULL;
    for (const char *t = cert ? cert : ""; *t; t++)
        h = (h ^ (unsigned char)*t) * 0x100000001b3ULL;
    snprintf(out, outlen, "%s/initramfs-%s-%08" PRIx64 ".cpio", env->state_dir, k->ver,
             h & 0xffffffffu);
    if (access(out, R_OK) == 0)
        return 0;
    struct image_vm_content c = { .worker = env->worker_bin, .init = init_bin, .tools = tools,
                                  .cert = cert, .server_cert = server_cert, .kernel = k };
    return image_vm_initramfs(out, &c, err, errlen);
}

/* ---- the disk ---- */

/* A sparse raw image formatted ext4, fully initialised now so that no lazy
 * inode table initialisation writes behind the disk benchmarks' back.
 * *direct: whether O_DIRECT works on it (qemu's cache=none). */
static int s_disk(const struct launch_env *env, const char *path, int64_t size, bool *direct,
                  char *err, size_t errlen)
{
    char mkfs[PATH_MAX];
    if (launch_which("mkfs.ext4", mkfs, sizeof mkfs) != 0) {
        snprintf(err, errlen, "mkfs.ext4 missing (package e2fsprogs)");
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, size) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(path);
        return -1;
    }
    close(fd);
    char out[1024];
    char *argv[] = { mkfs, "-q", "-F", "-L", "lockstep", "-E",
                     "lazy_itable_init=0,lazy_journal_init=0", (char *)path, NULL };
    int rc = launch_run(argv, out, sizeof out, 120000, env->stop, err, errlen);
    if (rc != 0) {
        if (rc > 0)
            snprintf(err, errlen, "mkfs.ext4 %s: %.*s", path, (int)strcspn(out, "\n"), out);
        unlink(path);
        return -1;
    }
    fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
    *direct = fd >= 0;
    if (fd >= 0)
        close(fd);
    return 0;
}

/* ---- kvm ---- */

/* Boot the kernel under -accel kvm without an initramfs: it must reach its
 * "cannot mount root" panic (panic=-1 and -no-reboot then end qemu).  A host
 * whose /dev/kvm opens but cannot run a guest (nested virtualization turned
 * off, a broken hypervisor) fails here rather than in the middle of a run.
 * The verdict is cached in state_dir: probed once per run. */
static int s_kvm_probe(const struct launch_env *env, const struct image_vm_kernel *k, const char *qemu,
                       const char *accel, char *why, size_t len)
{
    char cache[320], console[320];
    snprintf(cache, sizeof cache, "%s/kvm-probe", env->state_dir);
    snprintf(console, sizeof console, "%s/kvm-probe.log", env->state_dir);
    char verdict[640] = "";
    FILE *f = fopen(cache, "re");
    if (f) {
        if (!fgets(verdict, sizeof verdict, f))
            verdict[0] = '\0';
        fclose(f);
        verdict[strcspn(verdict, "\n")] = '\0';
    }
    if (!verdict[0]) {
        char name[128], serial[340];
        snprintf(name, sizeof name, "lockstep-%s-kvm-probe", env->key_hex);
        snprintf(serial, sizeof serial, "file:%s", console);
        char *argv[] = { (char *)qemu, "-name", name, "-nodefaults", "-nographic", "-no-reboot",
                         "-machine", "q35", "-accel", (char *)accel,
                         "-cpu", strcmp(accel, "kvm") == 0 ? "host" : "max", "-m", "256",
                         "-kernel", (char *)k->vmlinuz,
                         "-append", "console=ttyS0 panic=-1 quiet rdinit=/nonexistent",
                         "-serial", serial, NULL };
        char out[2048], err[256];
        unlink(console);
        int rc = launch_run(argv, out, sizeof out, VM_KVM_PROBE_MS, env->stop, err, sizeof err);
        if (env->stop && *env->stop) {
            snprintf(why, len, "interrupted while probing kvm");
            unlink(console);
            return -1;
        }
        char *log = fs_slurp(console, NULL);
        char tail[256];
        launch_log_tail(console, tail, sizeof tail);
        if (log && strstr(log, "Kernel panic"))
            snprintf(verdict, sizeof verdict, "ok");
        else if (rc < 0)
            snprintf(verdict, sizeof verdict, "no: %s%s%s", err,
                     tail[0] ? "; console: " : ", no console output", tail);
        else
            snprintf(verdict, sizeof verdict, "no: qemu exited with status %d: %.*s", rc,
                     (int)strcspn(out, "\n"), out[0] ? out : tail[0] ? tail : "no output");
        free(log);
        unlink(console);
        f = fopen(cache, "we");
        if (f) {
            fprintf(f, "%s\n", verdict);
            fclose(f);
        }
    }
    if (strcmp(verdict, "ok") == 0)
        return 0;
    snprintf(why, len,
             "/dev/kvm present but a guest cannot start under it (nested virtualization?): %s",
             strncmp(verdict, "no: ", 4) == 0 ? verdict + 4 : verdict);
    return -1;
}

/* LOCKSTEP_KVM_DEV names another device to check (tests: a missing path);
 * LOCKSTEP_KVM_TEST=tcg, for tests only, skips the device and probes and
 * runs "kvm" VMs under TCG, so the probe path runs on a machine without
 * /dev/kvm. */
static bool s_kvm_pretend(void)
{
    const char *t = getenv("LOCKSTEP_KVM_TEST");
    return t && strcmp(t, "tcg") == 0;
}

static int s_kvm_device(char *why, size_t len)
{
    if (s_kvm_pretend())
        return 0;
    const char *dev = getenv("LOCKSTEP_KVM_DEV");
    if (!dev || !dev[0])
        dev = "/dev/kvm";
    if (access(dev, F_OK) != 0) {
        snprintf(why, len, "%s absent", dev);
        return -1;
    }
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, len, "%s not usable: %s", dev, strerror(errno));
        return -1;
    }
    int v = ioctl(fd, KVM_GET_API_VERSION, 0);
    int e = errno;
    close(fd);
    if (v != KVM_API_VERSION) {
        if (v < 0)
            snprintf(why, len, "%s not usable: %s", dev, strerror(e));
        else
            snprintf(why, len, "%s not usable: KVM API version %d, expected %d", dev, v,
                     KVM_API_VERSION);
        return -1;
    }
    return 0;
}

/* ---- the launcher ---- */

static int s_check(const struct launch_env *env, const struct launch_spec *spec, const char *kind,
                   char *why, size_t len)
{
    const char *accel = s_accel(spec, kind);
    if (strcmp(accel, "tcg") != 0 && strcmp(accel, "kvm") != 0) {
        snprintf(why, len, "accel '%s': expected tcg or kvm", accel);
        return -1;
    }
    for (const char *p = spec->name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-", *p)) {
            snprintf(why, len, "name '%s': a VM's name may hold letters, digits, '.', '_', '-'",
                     spec->name);
            return -1;
        }
    if (s_memory(spec) < VM_MIN_MEMORY || s_disk_size(spec) < VM_MIN_DISK || s_cpus(spec) > 255) {
        snprintf(why, len, "a VM needs memory >= 256 MiB, disk >= 64 MiB and at most 255 CPUs");
        return -1;
    }
    if (strcmp(accel, "kvm") == 0 && s_kvm_device(why, len) != 0)
        return -1;
    char path[PATH_MAX];
    if (launch_which(VM_QEMU, path, sizeof path) != 0) {
        snprintf(why, len, VM_QEMU " not installed (package qemu-system-x86)");
        return -1;
    }
    char mkfs[PATH_MAX];
    if (launch_which("mkfs.ext4", mkfs, sizeof mkfs) != 0) {
        snprintf(why, len, "mkfs.ext4 missing (package e2fsprogs)");
        return -1;
    }
    if (image_vm_find_init(env->worker_bin, mkfs, sizeof mkfs, why, len) != 0)
        return -1;
    struct image_vm_kernel k;
    if (image_vm_kernel_find(spec->kernel, &k, why, len) != 0 || image_vm_kernel_modules(&k, why, len) != 0)
        return -1;
    int rc = 0;
    if (strcmp(accel, "kvm") == 0)
        rc = s_kvm_probe(env, &k, path, s_kvm_pretend() ? "tcg" : "kvm", why, len);
    image_vm_kernel_free(&k);
    return rc;
}

static int s_qemu_check(const struct launch_env *env, const struct launch_spec *spec, char *why,
                        size_t len)
{
    return s_check(env, spec, "qemu", why, len);
}

static int s_kvm_check(const struct launch_env *env, const struct launch_spec *spec, char *why,
                       size_t len)
{
    return s_check(env, spec, "kvm", why, len);
}

static void s_stop(const struct launch_env *env, struct launch *l, int grace_ms)
{
    (void)env;
    /* the worker got QUIT and /init powers the VM off: qemu ends by itself */
    launch_terminate(l, grace_ms);
    struct vm_priv *p = l->priv;
    if (p) {
        unlink(p->disk);
        unlink(p->pidfile);
        free(p);
        l->priv = NULL;
    }
}

/* What one VM boots with. */
struct s_boot {
    char qemu[PATH_MAX], vmlinuz[PATH_MAX], initrd[PATH_MAX];
    const char *accel;
    bool pretend; /* LOCKSTEP_KVM_TEST=tcg: "kvm" under TCG */
    bool direct;  /* the disk takes O_DIRECT: cache=none */
    int fwd;      /* the host port forwarded to the guest's VM_SERVE_PORT, or 0 */
    char mem[32], cpus[16], append[512], drive[400], serial[400], netdev[128];
};

/* qemu, the kernel, and the initramfs of this instance's tools and
 * certificates; its CPUs in *set. */
static int s_prepare(const struct launch_env *env, struct launch *l, struct s_boot *b,
                     launch_cpuset_t *set, char *err, size_t len)
{
    const struct launch_spec *spec = l->spec;
    b->accel = s_accel(spec, l->ops->kind);
    b->pretend = strcmp(b->accel, "kvm") == 0 && s_kvm_pretend();
    char init_bin[PATH_MAX];
    if (launch_which(VM_QEMU, b->qemu, sizeof b->qemu) != 0) {
        snprintf(err, len, VM_QEMU " not installed (package qemu-system-x86)");
        return -1;
    }
    if (image_vm_find_init(env->worker_bin, init_bin, sizeof init_bin, err, len) != 0)
        return -1;
    char tools[8192], cert[PATH_MAX], server_cert[PATH_MAX];
    int curve;
    if (launch_cpus(spec, set, &l->cond, err, len) != 0 ||
        launch_tools(env, spec, tools, sizeof tools, err, len) != 0 ||
        (curve = launch_certs(env, spec->name, cert, server_cert, sizeof cert, err, len)) < 0)
        return -1;
    struct image_vm_kernel k;
    if (image_vm_kernel_find(spec->kernel, &k, err, len) != 0 ||
        image_vm_kernel_modules(&k, err, len) != 0)
        return -1;
    snprintf(b->vmlinuz, sizeof b->vmlinuz, "%s", k.vmlinuz);
    int rc = s_initramfs(env, &k, init_bin, tools, curve == 0 ? cert : NULL, server_cert,
                         b->initrd, sizeof b->initrd, err, len);
    image_vm_kernel_free(&k);
    return rc;
}

/* qemu's command line in argv (room for 48). */
static void s_argv(const struct launch_env *env, const struct launch *l, const struct vm_priv *p,
                   struct s_boot *b, const char **argv)
{
    const struct launch_spec *spec = l->spec;
    snprintf(b->netdev, sizeof b->netdev, "user,id=n0");
    if (b->fwd)
        snprintf(b->netdev, sizeof b->netdev, "user,id=n0,hostfwd=tcp::%d-:%d,hostfwd=udp::%d-:%d",
                 b->fwd, VM_SERVE_PORT, b->fwd, VM_SERVE_PORT);
    snprintf(b->mem, sizeof b->mem, "%" PRId64, s_memory(spec) >> 20);
    snprintf(b->cpus, sizeof b->cpus, "%d", s_cpus(spec));
    snprintf(b->append, sizeof b->append,
             "console=ttyS0 panic=-1 quiet lockstep.connect=tcp://" VM_HOST_ADDR
             ":%d lockstep.name=%s%s",
             env->port, spec->name, env->verbose ? " lockstep.verbose=1" : "");
    if (b->fwd)
        snprintf(b->append + strlen(b->append), sizeof b->append - strlen(b->append),
                 " lockstep.forwarded=%d:%d", VM_SERVE_PORT, b->fwd);
    snprintf(b->drive, sizeof b->drive, "file=%s,if=virtio,format=raw,cache=%s", p->disk,
             b->direct ? "none" : "writeback");
    /* the console appends to the log qemu's own messages go to */
    snprintf(b->serial, sizeof b->serial, "file,id=console,path=%s,append=on", l->log);
    int n = 0;
    const char *head[] = { b->qemu, "-name", l->id, "-nodefaults", "-nographic", "-no-reboot",
                           "-machine", "q35", "-accel", b->pretend ? "tcg" : b->accel };
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        argv[n++] = head[i];
    if (strcmp(b->accel, "kvm") == 0 && !b->pretend) {
        argv[n++] = "-cpu";
        argv[n++] = "host";
    }
    const char *tail[] = { "-m", b->mem, "-smp", b->cpus, "-kernel", b->vmlinuz,
                           "-initrd", b->initrd, "-append", b->append, "-chardev", b->serial,
                           "-serial", "chardev:console", "-pidfile", p->pidfile,
                           "-drive", b->drive, "-netdev", b->netdev,
                           /* no iPXE: we boot -kernel */
                           "-device", "virtio-net-pci,netdev=n0,romfile=",
                           "-device", "virtio-rng-pci" };
    for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
        argv[n++] = tail[i];
    argv[n] = NULL;
}

/* The conditions it runs under and the words that name it. */
static void s_describe(const struct launch_env *env, struct launch *l, const struct s_boot *b)
{
    const struct launch_spec *spec = l->spec;
    char fs[32];
    launch_fs_name(env->state_dir, fs, sizeof fs);
    l->cond.memory = s_memory(spec);
    snprintf(l->cond.disk, sizeof l->cond.disk, "virtio-blk raw ext4 image cache=%s (host %s)",
             b->direct ? "none" : "writeback", fs);
    if (b->fwd)
        snprintf(l->cond.network, sizeof l->cond.network,
                 "user-mode NAT (slirp, host at " VM_HOST_ADDR "; host port %d forwarded to "
                 "its %d)", b->fwd, VM_SERVE_PORT);
    else
        snprintf(l->cond.network, sizeof l->cond.network,
                 "user-mode NAT (slirp, host at " VM_HOST_ADDR ")");
    if (!b->direct)
        launch_unenforced(&l->cond, "disk: O_DIRECT refused on %.100s, the host page cache "
                          "is between the guest and the disk", env->state_dir);
    char m[32], d[32];
    s_size(s_memory(spec), m, sizeof m);
    s_size(s_disk_size(spec), d, sizeof d);
    char what[640];
    snprintf(what, sizeof what, "VM %s (%s, %d CPU%s, %s, disk %s virtio-blk cache=%s%s)",
             l->id, b->pretend ? "tcg pretending kvm" : b->accel, s_cpus(spec),
             s_cpus(spec) == 1 ? "" : "s", m, d, b->direct ? "none" : "writeback",
             b->direct ? "" : ": O_DIRECT refused on the state directory");
    /* a long name shortens only the message */
    size_t wl = strlen(what) < sizeof l->what ? strlen(what) : sizeof l->what - 1;
    memcpy(l->what, what, wl);
    l->what[wl] = '\0';
}

static int s_start(const struct launch_env *env, struct launch *l, char *err, size_t len)
{
    const struct launch_spec *spec = l->spec;
    launch_cpuset_t set;
    struct s_boot *b = calloc(1, sizeof *b);
    struct vm_priv *p = calloc(1, sizeof *p);
    if (!b || !p || s_prepare(env, l, b, &set, err, len) != 0) {
        if (!b || !p)
            snprintf(err, len, "out of memory");
        free(b);
        free(p);
        return -1;
    }
    l->priv = p;
    snprintf(l->id, sizeof l->id, "lockstep-%s-%s", env->key_hex, spec->name);
    snprintf(l->log, sizeof l->log, "%s/%s.log", env->state_dir, spec->name);
    snprintf(p->disk, sizeof p->disk, "%s/%s.img", env->state_dir, spec->name);
    snprintf(p->pidfile, sizeof p->pidfile, "%s/%s.pid", env->state_dir, spec->name);
    int rc = s_disk(env, p->disk, s_disk_size(spec), &b->direct, err, len);
    /* a forward into the guest, so that it can serve (racy like any free
     * port: qemu fails to start if someone takes it meanwhile) */
    b->fwd = s_host_port();
    const char *argv[48];
    s_argv(env, l, p, b, argv);
    /* qemu, its vCPU threads and its I/O threads all on the run's CPUs */
    if (rc == 0)
        rc = launch_spawn_in((char *const *)argv, l->log, &set, NULL, &l->pid, err, len);
    if (rc == 0)
        s_describe(env, l, b);
    else
        s_stop(env, l, 0);
    free(b);
    return rc;
}

/* qemu processes of dead runs: "-name lockstep-<key hex>-<name>". */
static void s_sweep(bool (*alive)(const char *key_hex))
{
    DIR *d = opendir("/proc");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        char buf[8192];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        const char *base = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
        if (strncmp(base, "qemu-system", 11) != 0)
            continue;
        for (char *a = buf; a < buf + n; a += strlen(a) + 1) {
            if (strcmp(a, "-name") != 0 || a + strlen(a) + 1 >= buf + n)
                continue;
            const char *v = a + strlen(a) + 1;
            char key[17];
            if (strncmp(v, "lockstep-", 9) != 0 || strlen(v) < 9 + 17 || v[9 + 16] != '-')
                break;
            snprintf(key, sizeof key, "%.16s", v + 9);
            if (strspn(key, "0123456789abcdef") != 16 || alive(key))
                break;
            pid_t pid = (pid_t)atoi(e->d_name);
            log_info("killing qemu %d (%s), left by a run whose coordinator is gone", (int)pid, v);
            kill(pid, SIGKILL);
            break;
        }
    }
    closedir(d);
}

const struct launch_ops launch_qemu_ops = {
    .kind = "qemu",
    .check = s_qemu_check,
    .start = s_start,
    .stop = s_stop,
    .sweep = s_sweep,
};

const struct launch_ops launch_kvm_ops = {
    .kind = "kvm",
    .check = s_kvm_check,
    .start = s_start,
    .stop = s_stop,
    .sweep = NULL, /* launch_qemu_ops' sweep kills kvm VMs too: same name, same binary */
};
