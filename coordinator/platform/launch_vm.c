/* launch_vm.c — the qemu (TCG) and kvm launchers: one small VM per worker,
 * built from this build's output: Debian's cloud kernel, an initramfs with
 * lockstep-worker, lockstep-vm-init as /init, their shared libraries and the
 * virtio modules, and a fresh ext4 virtio-blk disk for the worker's spool.
 * The guest reaches the coordinator through QEMU's user networking
 * (10.0.2.2 is the host's loopback). */
#define _GNU_SOURCE /* strverscmp, O_DIRECT */
#include "launch.h"

#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
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

#include "log.h"

#define VM_QEMU "qemu-system-x86_64"
#define VM_KERNEL_CACHE "/var/cache/lockstep/kernel"
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

/* The modules the guest loads, in this order (each after those it needs),
 * from /lib/modules/<ver>/.  A kernel may have any of them built in; the
 * helpers may not exist at all in another version; the devices must be
 * there.  virtio_rng feeds the guest's entropy pool from the host, so that
 * nothing waits in getrandom() at boot. */
static const struct {
    const char *name;
    bool device;
} s_modules[] = {
    { "virtio_ring", false }, { "virtio", false },        { "virtio_pci_legacy_dev", false },
    { "virtio_pci_modern_dev", false }, { "virtio_pci", true }, { "failover", false },
    { "net_failover", false }, { "virtio_net", true },    { "virtio_blk", true },
    { "virtio_rng", false },
};
#define VM_NMODULES (sizeof s_modules / sizeof s_modules[0])
#define VM_MAX_MODULES 32

struct vm_kernel {
    char vmlinuz[PATH_MAX];
    char ver[128];
    char moddir[PATH_MAX];               /* <root>/lib/modules/<ver> */
    char *modules[VM_MAX_MODULES];       /* paths relative to moddir, load order */
    size_t nmodules;
};

/* What one started VM leaves on disk, removed by stop(). */
struct vm_priv {
    char disk[320];
    char pidfile[320];
};

/* ---- small helpers ---- */

static void s_kernel_free(struct vm_kernel *k)
{
    for (size_t i = 0; i < k->nmodules; i++)
        free(k->modules[i]);
    k->nmodules = 0;
}

/* An executable by name in $PATH, then the sbin directories a user's PATH
 * often lacks (mkfs.ext4).  0 and its path, or -1. */
static int s_which(const char *name, char *out, size_t len)
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

/* lockstep-vm-init: $LOCKSTEP_VM_INIT, else beside the worker (a build
 * tree), else ../lib/lockstep/ from it (an install). */
static int s_find_init(const struct launch_env *env, char *out, size_t len, char *why, size_t wlen)
{
    const char *o = getenv("LOCKSTEP_VM_INIT");
    if (o && o[0]) {
        snprintf(out, len, "%s", o);
        if (access(out, X_OK) == 0)
            return 0;
        snprintf(why, wlen, "lockstep-vm-init not found: $LOCKSTEP_VM_INIT=%s: %s", o,
                 strerror(errno));
        return -1;
    }
    char worker[PATH_MAX], real[PATH_MAX];
    if (s_which(env->worker_bin, worker, sizeof worker) != 0 || !realpath(worker, real)) {
        snprintf(why, wlen, "lockstep-vm-init not found: cannot locate the worker %s",
                 env->worker_bin);
        return -1;
    }
    char *slash = strrchr(real, '/');
    *slash = '\0';
    if (snprintf(out, len, "%s/lockstep-vm-init", real) < (int)len && access(out, X_OK) == 0)
        return 0;
    if (snprintf(out, len, "%s/../lib/lockstep/lockstep-vm-init", real) < (int)len &&
        access(out, X_OK) == 0)
        return 0;
    snprintf(why, wlen,
             "lockstep-vm-init not found (looked in %s and %s/../lib/lockstep; set "
             "$LOCKSTEP_VM_INIT)",
             real, real);
    return -1;
}

/* ---- the kernel and its modules ---- */

/* spec->kernel, $LOCKSTEP_KERNEL, else the newest unpacked package under
 * VM_KERNEL_CACHE; the version from its name, the modules beside it. */
static int s_kernel_find(const struct launch_spec *spec, struct vm_kernel *k, char *why,
                         size_t len)
{
    memset(k, 0, sizeof *k);
    const char *path = spec->kernel && spec->kernel[0] ? spec->kernel : getenv("LOCKSTEP_KERNEL");
    const char *from = spec->kernel && spec->kernel[0] ? "kernel:" : "$LOCKSTEP_KERNEL";
    if (path && path[0]) {
        if (access(path, R_OK) != 0) {
            snprintf(why, len, "no kernel: %s %s: %s", from, path, strerror(errno));
            return -1;
        }
        snprintf(k->vmlinuz, sizeof k->vmlinuz, "%s", path);
    } else {
        glob_t g;
        if (glob(VM_KERNEL_CACHE "/*/boot/vmlinuz-*", 0, NULL, &g) != 0 || g.gl_pathc == 0) {
            snprintf(why, len,
                     "no kernel package: run scripts/fetch-kernel.sh, or `apt-get download "
                     "linux-image-cloud-amd64` and its linux-image-*-cloud-amd64 dependency and "
                     "`dpkg -x` it into " VM_KERNEL_CACHE "/<version>/, or set `kernel:` "
                     "(or $LOCKSTEP_KERNEL) to a vmlinuz");
            return -1;
        }
        /* newest by the version in the file name */
        char *best = g.gl_pathv[0];
        for (size_t i = 1; i < g.gl_pathc; i++)
            if (strverscmp(strrchr(g.gl_pathv[i], '/') + 9, strrchr(best, '/') + 9) > 0)
                best = g.gl_pathv[i];
        snprintf(k->vmlinuz, sizeof k->vmlinuz, "%s", best);
        globfree(&g);
    }
    const char *base = strrchr(k->vmlinuz, '/') ? strrchr(k->vmlinuz, '/') + 1 : k->vmlinuz;
    if (strncmp(base, "vmlinuz-", 8) != 0 || !base[8]) {
        snprintf(why, len,
                 "kernel %s: cannot tell its version from the file name (expected "
                 ".../boot/vmlinuz-<version>)",
                 k->vmlinuz);
        return -1;
    }
    snprintf(k->ver, sizeof k->ver, "%s", base + 8);
    /* <root>/boot/vmlinuz-<ver> → <root>/lib/modules/<ver> */
    char root[PATH_MAX];
    snprintf(root, sizeof root, "%.*s", (int)(base - k->vmlinuz), k->vmlinuz);
    size_t n = strlen(root);
    if (n >= 6 && strcmp(root + n - 6, "/boot/") == 0)
        root[n - 5] = '\0';
    else if (n == 0)
        snprintf(root, sizeof root, "./");
    if (snprintf(k->moddir, sizeof k->moddir, "%slib/modules/%s", root, k->ver) >=
        (int)sizeof k->moddir) {
        snprintf(why, len, "kernel %s: path too long", k->vmlinuz);
        return -1;
    }
    return 0;
}

static char *s_slurp(const char *path, size_t *len_p)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 65536 + 1 > cap) {
            char *nb = realloc(buf, cap = len + 65536 + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    if (len_p)
        *len_p = len;
    return buf;
}

/* "kernel/drivers/net/virtio_net.ko.xz" names virtio_net */
static bool s_is_module(const char *path, size_t plen, const char *name)
{
    const char *b = path;
    for (size_t i = 0; i < plen; i++)
        if (path[i] == '/')
            b = path + i + 1;
    size_t nlen = strlen(name);
    if ((size_t)(path + plen - b) < nlen + 3)
        return false;
    for (size_t i = 0; i < nlen; i++)
        if ((b[i] == '-' ? '_' : b[i]) != name[i])
            return false;
    return strncmp(b + nlen, ".ko", 3) == 0;
}

/* The line of an index (modules.order, modules.builtin: one path a line)
 * that names module name, or NULL. */
static const char *s_index_line(const char *index, const char *name)
{
    for (const char *ln = index; ln && *ln;) {
        size_t plen = strcspn(ln, ":\n");
        if (s_is_module(ln, plen, name))
            return ln;
        ln += strcspn(ln, "\n");
        if (*ln)
            ln++;
    }
    return NULL;
}

/* Which module files the guest loads, in s_modules' order.  Found through
 * modules.order, which the Debian package ships (modules.dep is made by
 * depmod at installation, so an unpacked package has none). */
static int s_kernel_modules(struct vm_kernel *k, char *why, size_t len)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/modules.order", k->moddir);
    char *order = s_slurp(path, NULL);
    if (!order) {
        snprintf(path, sizeof path, "%s/modules.dep", k->moddir);
        order = s_slurp(path, NULL);
    }
    if (!order) {
        snprintf(why, len,
                 "modules for %s missing: no %s/modules.order (unpack the whole kernel package "
                 "beside the vmlinuz: <root>/boot/vmlinuz-%s, <root>/lib/modules/%s)",
                 k->ver, k->moddir, k->ver, k->ver);
        return -1;
    }
    snprintf(path, sizeof path, "%s/modules.builtin", k->moddir);
    char *builtin = s_slurp(path, NULL);
    int rc = 0;
    for (size_t i = 0; i < VM_NMODULES && rc == 0; i++) {
        const char *line = s_index_line(order, s_modules[i].name);
        if (!line) {
            if (s_modules[i].device && !s_index_line(builtin, s_modules[i].name)) {
                snprintf(why, len, "modules for %s missing: %s is neither a module in %s nor built in",
                         k->ver, s_modules[i].name, k->moddir);
                rc = -1;
            }
            continue; /* built in, or a helper this kernel does not have */
        }
        size_t plen = strcspn(line, ":\n");
        /* modules.order may name .ko where the files are compressed */
        static const char *const ext[] = { "", ".xz", ".zst", ".gz" };
        bool found = false;
        for (size_t e = 0; e < sizeof ext / sizeof ext[0] && !found; e++) {
            snprintf(path, sizeof path, "%s/%.*s%s", k->moddir, (int)plen, line, ext[e]);
            found = access(path, R_OK) == 0;
        }
        if (!found) {
            snprintf(why, len, "modules for %s missing: %s/%.*s: %s", k->ver, k->moddir, (int)plen,
                     line, strerror(ENOENT));
            rc = -1;
        } else if (k->nmodules < VM_MAX_MODULES) {
            k->modules[k->nmodules++] = strdup(path + strlen(k->moddir) + 1);
        }
    }
    free(order);
    free(builtin);
    if (rc != 0)
        s_kernel_free(k);
    return rc;
}

/* ---- the initramfs: an uncompressed cpio "newc" archive ---- */

struct cpio {
    FILE *f;
    uint32_t ino;
    char **dirs; /* directories written so far */
    size_t ndirs;
    char *err;
    size_t errlen;
};

static int s_cpio_header(struct cpio *c, const char *name, uint32_t mode, uint64_t size,
                         uint32_t rmajor, uint32_t rminor)
{
    if (size > UINT32_MAX) {
        snprintf(c->err, c->errlen, "%s: too large for a cpio archive", name);
        return -1;
    }
    size_t nlen = strlen(name) + 1;
    int n = fprintf(c->f,
                    "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08zX%08X", ++c->ino,
                    mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, 0u, (uint32_t)size, 0u, 0u, rmajor,
                    rminor, nlen, 0u);
    if (n != 110 || fwrite(name, 1, nlen, c->f) != nlen)
        goto fail;
    /* header + name, then data, each padded to 4 bytes */
    static const char zeros[4];
    size_t pad = (4 - (110 + nlen) % 4) % 4;
    if (fwrite(zeros, 1, pad, c->f) != pad)
        goto fail;
    return 0;
fail:
    snprintf(c->err, c->errlen, "writing the initramfs: %s", strerror(errno));
    return -1;
}

static int s_cpio_pad(struct cpio *c, uint64_t size)
{
    static const char zeros[4];
    size_t pad = (4 - size % 4) % 4;
    if (fwrite(zeros, 1, pad, c->f) != pad) {
        snprintf(c->err, c->errlen, "writing the initramfs: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* name: inside the archive, without a leading '/'.  Every parent first. */
static int s_cpio_dir(struct cpio *c, const char *name)
{
    for (size_t i = 0; i < c->ndirs; i++)
        if (strcmp(c->dirs[i], name) == 0)
            return 0;
    const char *slash = strrchr(name, '/');
    if (slash) {
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%.*s", (int)(slash - name), name);
        if (s_cpio_dir(c, parent) != 0)
            return -1;
    }
    char **nd = realloc(c->dirs, (c->ndirs + 1) * sizeof *nd);
    if (!nd || !(nd[c->ndirs] = strdup(name))) {
        if (nd)
            c->dirs = nd;
        snprintf(c->err, c->errlen, "out of memory");
        return -1;
    }
    c->dirs = nd;
    c->ndirs++;
    return s_cpio_header(c, name, S_IFDIR | 0755, 0, 0, 0);
}

static int s_cpio_parent(struct cpio *c, const char *name)
{
    const char *slash = strrchr(name, '/');
    if (!slash)
        return 0;
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%.*s", (int)(slash - name), name);
    return s_cpio_dir(c, parent);
}

static int s_cpio_data(struct cpio *c, const char *name, const void *data, size_t size,
                       uint32_t perm)
{
    if (s_cpio_parent(c, name) != 0 || s_cpio_header(c, name, S_IFREG | perm, size, 0, 0) != 0)
        return -1;
    if (fwrite(data, 1, size, c->f) != size) {
        snprintf(c->err, c->errlen, "writing the initramfs: %s", strerror(errno));
        return -1;
    }
    return s_cpio_pad(c, size);
}

/* A host file's content (symbolic links followed) under name. */
static int s_cpio_file(struct cpio *c, const char *name, const char *src, uint32_t perm)
{
    int fd = open(src, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(c->err, c->errlen, "%s: %s", src, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (s_cpio_parent(c, name) != 0 ||
        s_cpio_header(c, name, S_IFREG | perm, (uint64_t)st.st_size, 0, 0) != 0) {
        close(fd);
        return -1;
    }
    char buf[65536];
    uint64_t left = (uint64_t)st.st_size;
    while (left > 0) {
        ssize_t r = read(fd, buf, left < sizeof buf ? left : sizeof buf);
        if (r <= 0) {
            snprintf(c->err, c->errlen, "%s: %s", src, r < 0 ? strerror(errno) : "changed while read");
            close(fd);
            return -1;
        }
        if (fwrite(buf, 1, (size_t)r, c->f) != (size_t)r) {
            snprintf(c->err, c->errlen, "writing the initramfs: %s", strerror(errno));
            close(fd);
            return -1;
        }
        left -= (uint64_t)r;
    }
    close(fd);
    return s_cpio_pad(c, (uint64_t)st.st_size);
}

static int s_cpio_trailer(struct cpio *c)
{
    if (s_cpio_header(c, "TRAILER!!!", 0, 0, 0, 0) != 0)
        return -1;
    return 0;
}

/* state_dir/initramfs-<ver>.cpio, built once per run and shared by its VMs. */
static int s_initramfs(const struct launch_env *env, const struct vm_kernel *k,
                       const char *init_bin, const char *tools, const char *cert,
                       const char *server_cert, char *out, size_t outlen, char *err,
                       size_t errlen)
{
    /* instances with the same tools (and no certificate of their own)
     * share one */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *t = tools; *t; t++)
        h = (h ^ (unsigned char)*t) * 0x100000001b3ULL;
    for (const char *t = cert ? cert : ""; *t; t++)
        h = (h ^ (unsigned char)*t) * 0x100000001b3ULL;
    snprintf(out, outlen, "%s/initramfs-%s-%08" PRIx64 ".cpio", env->state_dir, k->ver,
             h & 0xffffffffu);
    if (access(out, R_OK) == 0)
        return 0;
    char libs[16384] = "";
    if (launch_add_libs(env->worker_bin, libs, sizeof libs, err, errlen) != 0 ||
        launch_add_libs(init_bin, libs, sizeof libs, err, errlen) != 0)
        return -1;
    for (const char *p = tools; *p; p += strcspn(p, "\n") + 1) {
        char tool[PATH_MAX];
        snprintf(tool, sizeof tool, "%.*s", (int)strcspn(p, "\n"), p);
        if (launch_add_libs(tool, libs, sizeof libs, err, errlen) != 0)
            return -1;
    }
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    struct cpio c = { .f = fopen(tmp, "we"), .err = err, .errlen = errlen };
    if (!c.f) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    static const char *const dirs[] = { "dev", "proc", "sys", "tmp", "data", "root", "bin" };
    int rc = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && rc == 0; i++)
        rc = s_cpio_dir(&c, dirs[i]);
    /* fds 0-2 of /init, opened by the kernel before devtmpfs is mounted */
    if (rc == 0)
        rc = s_cpio_header(&c, "dev/console", S_IFCHR | 0600, 0, 5, 1);
    if (rc == 0)
        rc = s_cpio_file(&c, "init", init_bin, 0755);
    if (rc == 0)
        rc = s_cpio_file(&c, "bin/lockstep-worker", env->worker_bin, 0755);
    /* companions and tools in /bin, the guest's PATH */
    for (const char *p = tools; *p && rc == 0; p += strcspn(p, "\n") + 1) {
        char tool[PATH_MAX], name[PATH_MAX + 8];
        snprintf(tool, sizeof tool, "%.*s", (int)strcspn(p, "\n"), p);
        snprintf(name, sizeof name, "bin/%s", strrchr(tool, '/') + 1);
        rc = s_cpio_file(&c, name, tool, 0755);
    }
    /* libraries where ldd found them, and LD_LIBRARY_PATH naming their
     * directories for those the guest's loader would not search */
    char ldpath[4096] = "LD_LIBRARY_PATH=";
    for (const char *p = libs; *p && rc == 0; p += strcspn(p, "\n") + 1) {
        char lib[PATH_MAX];
        snprintf(lib, sizeof lib, "%.*s", (int)strcspn(p, "\n"), p);
        rc = s_cpio_file(&c, lib + 1, lib, 0755);
        char *slash = strrchr(lib, '/');
        *slash = '\0';
        char item[PATH_MAX + 2];
        snprintf(item, sizeof item, "%s:", lib);
        if (!strstr(ldpath, item) && strlen(ldpath) + strlen(item) < sizeof ldpath)
            strcat(ldpath, item);
    }
    ldpath[strlen(ldpath) - 1] = '\n';
    if (rc == 0)
        rc = s_cpio_data(&c, "etc/lockstep/env", ldpath, strlen(ldpath), 0644);
    /* CURVE: vminit passes them to the worker (--cert, --server-cert) */
    if (rc == 0 && cert)
        rc = s_cpio_file(&c, "etc/lockstep/worker.cert_secret", cert, 0600);
    if (rc == 0 && cert)
        rc = s_cpio_file(&c, "etc/lockstep/coordinator.cert", server_cert, 0644);
    char order[VM_MAX_MODULES * 160] = "";
    for (size_t i = 0; i < k->nmodules && rc == 0; i++) {
        char src[PATH_MAX + 200], name[PATH_MAX + 200];
        snprintf(src, sizeof src, "%s/%s", k->moddir, k->modules[i]);
        snprintf(name, sizeof name, "lib/modules/%s/%s", k->ver, k->modules[i]);
        rc = s_cpio_file(&c, name, src, 0644);
        size_t used = strlen(order);
        snprintf(order + used, sizeof order - used, "/%s\n", name);
    }
    if (rc == 0)
        rc = s_cpio_data(&c, "etc/lockstep/modules", order, strlen(order), 0644);
    if (rc == 0)
        rc = s_cpio_trailer(&c);
    if (fclose(c.f) != 0 && rc == 0) {
        snprintf(err, errlen, "writing %s: %s", tmp, strerror(errno));
        rc = -1;
    }
    for (size_t i = 0; i < c.ndirs; i++)
        free(c.dirs[i]);
    free(c.dirs);
    if (rc == 0 && rename(tmp, out) != 0) {
        snprintf(err, errlen, "%s: %s", out, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        unlink(tmp);
    return rc;
}

/* ---- the disk ---- */

/* A sparse raw image formatted ext4, fully initialised now so that no lazy
 * inode table initialisation writes behind the disk benchmarks' back.
 * *direct: whether O_DIRECT works on it (qemu's cache=none). */
static int s_disk(const struct launch_env *env, const char *path, int64_t size, bool *direct,
                  char *err, size_t errlen)
{
    char mkfs[PATH_MAX];
    if (s_which("mkfs.ext4", mkfs, sizeof mkfs) != 0) {
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
static int s_kvm_probe(const struct launch_env *env, const struct vm_kernel *k, const char *qemu,
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
        char *log = s_slurp(console, NULL);
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
    if (s_which(VM_QEMU, path, sizeof path) != 0) {
        snprintf(why, len, VM_QEMU " not installed (package qemu-system-x86)");
        return -1;
    }
    char mkfs[PATH_MAX];
    if (s_which("mkfs.ext4", mkfs, sizeof mkfs) != 0) {
        snprintf(why, len, "mkfs.ext4 missing (package e2fsprogs)");
        return -1;
    }
    if (s_find_init(env, mkfs, sizeof mkfs, why, len) != 0)
        return -1;
    struct vm_kernel k;
    if (s_kernel_find(spec, &k, why, len) != 0 || s_kernel_modules(&k, why, len) != 0)
        return -1;
    int rc = 0;
    if (strcmp(accel, "kvm") == 0)
        rc = s_kvm_probe(env, &k, path, s_kvm_pretend() ? "tcg" : "kvm", why, len);
    s_kernel_free(&k);
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

static int s_start(const struct launch_env *env, struct launch *l, char *err, size_t len)
{
    const struct launch_spec *spec = l->spec;
    const char *accel = s_accel(spec, l->ops->kind);
    bool pretend = strcmp(accel, "kvm") == 0 && s_kvm_pretend();
    char qemu[PATH_MAX], init_bin[PATH_MAX], initrd[PATH_MAX];
    if (s_which(VM_QEMU, qemu, sizeof qemu) != 0) {
        snprintf(err, len, VM_QEMU " not installed (package qemu-system-x86)");
        return -1;
    }
    if (s_find_init(env, init_bin, sizeof init_bin, err, len) != 0)
        return -1;
    launch_cpuset_t set;
    char tools[8192], cert[PATH_MAX], server_cert[PATH_MAX];
    int curve;
    if (launch_cpus(spec, &set, &l->cond, err, len) != 0 ||
        launch_tools(env, spec, tools, sizeof tools, err, len) != 0 ||
        (curve = launch_certs(env, spec->name, cert, server_cert, sizeof cert, err, len)) < 0)
        return -1;
    struct vm_kernel k;
    if (s_kernel_find(spec, &k, err, len) != 0 || s_kernel_modules(&k, err, len) != 0)
        return -1;
    int rc = s_initramfs(env, &k, init_bin, tools, curve == 0 ? cert : NULL, server_cert, initrd,
                         sizeof initrd, err, len);
    s_kernel_free(&k);
    if (rc != 0)
        return -1;

    struct vm_priv *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    l->priv = p;
    snprintf(l->id, sizeof l->id, "lockstep-%s-%s", env->key_hex, spec->name);
    snprintf(l->log, sizeof l->log, "%s/%s.log", env->state_dir, spec->name);
    snprintf(p->disk, sizeof p->disk, "%s/%s.img", env->state_dir, spec->name);
    snprintf(p->pidfile, sizeof p->pidfile, "%s/%s.pid", env->state_dir, spec->name);
    bool direct = false;
    if (s_disk(env, p->disk, s_disk_size(spec), &direct, err, len) != 0) {
        s_stop(env, l, 0);
        return -1;
    }

    char mem[32], cpus[16], append[512], drive[400], serial[400], netdev[128] = "user,id=n0";
    /* a forward into the guest, so that it can serve (racy like any free
     * port: qemu fails to start if someone takes it meanwhile) */
    int fwd = s_host_port();
    if (fwd)
        snprintf(netdev, sizeof netdev, "user,id=n0,hostfwd=tcp::%d-:%d,hostfwd=udp::%d-:%d",
                 fwd, VM_SERVE_PORT, fwd, VM_SERVE_PORT);
    snprintf(mem, sizeof mem, "%" PRId64, s_memory(spec) >> 20);
    snprintf(cpus, sizeof cpus, "%d", s_cpus(spec));
    snprintf(append, sizeof append,
             "console=ttyS0 panic=-1 quiet lockstep.connect=tcp://" VM_HOST_ADDR
             ":%d lockstep.name=%s%s",
             env->port, spec->name, env->verbose ? " lockstep.verbose=1" : "");
    if (fwd)
        snprintf(append + strlen(append), sizeof append - strlen(append),
                 " lockstep.forwarded=%d:%d", VM_SERVE_PORT, fwd);
    snprintf(drive, sizeof drive, "file=%s,if=virtio,format=raw,cache=%s", p->disk,
             direct ? "none" : "writeback");
    /* the console appends to the log qemu's own messages go to */
    snprintf(serial, sizeof serial, "file,id=console,path=%s,append=on", l->log);
    const char *argv[48];
    int n = 0;
    argv[n++] = qemu;
    argv[n++] = "-name";
    argv[n++] = l->id;
    argv[n++] = "-nodefaults";
    argv[n++] = "-nographic";
    argv[n++] = "-no-reboot";
    argv[n++] = "-machine";
    argv[n++] = "q35";
    argv[n++] = "-accel";
    argv[n++] = pretend ? "tcg" : accel;
    if (strcmp(accel, "kvm") == 0 && !pretend) {
        argv[n++] = "-cpu";
        argv[n++] = "host";
    }
    argv[n++] = "-m";
    argv[n++] = mem;
    argv[n++] = "-smp";
    argv[n++] = cpus;
    argv[n++] = "-kernel";
    argv[n++] = k.vmlinuz;
    argv[n++] = "-initrd";
    argv[n++] = initrd;
    argv[n++] = "-append";
    argv[n++] = append;
    argv[n++] = "-chardev";
    argv[n++] = serial;
    argv[n++] = "-serial";
    argv[n++] = "chardev:console";
    argv[n++] = "-pidfile";
    argv[n++] = p->pidfile;
    argv[n++] = "-drive";
    argv[n++] = drive;
    argv[n++] = "-netdev";
    argv[n++] = netdev;
    argv[n++] = "-device";
    argv[n++] = "virtio-net-pci,netdev=n0,romfile="; /* no iPXE: we boot -kernel */
    argv[n++] = "-device";
    argv[n++] = "virtio-rng-pci";
    argv[n] = NULL;
    /* qemu, its vCPU threads and its I/O threads all on the run's CPUs */
    if (launch_spawn_in((char *const *)argv, l->log, &set, NULL, &l->pid, err, len) != 0) {
        s_stop(env, l, 0);
        return -1;
    }
    char fs[32];
    launch_fs_name(env->state_dir, fs, sizeof fs);
    l->cond.memory = s_memory(spec);
    snprintf(l->cond.disk, sizeof l->cond.disk, "virtio-blk raw ext4 image cache=%s (host %s)",
             direct ? "none" : "writeback", fs);
    if (fwd)
        snprintf(l->cond.network, sizeof l->cond.network,
                 "user-mode NAT (slirp, host at " VM_HOST_ADDR "; host port %d forwarded to "
                 "its %d)", fwd, VM_SERVE_PORT);
    else
        snprintf(l->cond.network, sizeof l->cond.network,
                 "user-mode NAT (slirp, host at " VM_HOST_ADDR ")");
    if (!direct)
        launch_unenforced(&l->cond, "disk: O_DIRECT refused on %.100s, the host page cache "
                          "is between the guest and the disk", env->state_dir);
    char m[32], d[32];
    s_size(s_memory(spec), m, sizeof m);
    s_size(s_disk_size(spec), d, sizeof d);
    char what[640];
    snprintf(what, sizeof what, "VM %s (%s, %d CPU%s, %s, disk %s virtio-blk cache=%s%s)",
             l->id, pretend ? "tcg pretending kvm" : accel, s_cpus(spec),
             s_cpus(spec) == 1 ? "" : "s", m, d, direct ? "none" : "writeback",
             direct ? "" : ": O_DIRECT refused on the state directory");
    /* a long name shortens only the message */
    size_t wl = strlen(what) < sizeof l->what ? strlen(what) : sizeof l->what - 1;
    memcpy(l->what, what, wl);
    l->what[wl] = '\0';
    return 0;
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
