/* image_vm.c — the worker VMs' image: the kernel and the modules they load,
 * and the initramfs, written as a cpio "newc" archive by libarchive.  The
 * qemu/kvm launchers and `lockstep image vm` both make it here, so the
 * Ansible role boots what lockstep's own platforms boot. */
#define _GNU_SOURCE /* strverscmp */
#include "image_vm.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "closure.h"
#include "fsutil.h"
#include "launch.h"

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

void image_vm_kernel_free(struct image_vm_kernel *k)
{
    for (size_t i = 0; i < k->nmodules; i++)
        free(k->modules[i]);
    k->nmodules = 0;
}

/* lockstep-vm-init: $LOCKSTEP_VM_INIT, else beside the worker (a build
 * tree), else ../lib/lockstep/ from it (an install). */
int image_vm_find_init(const char *worker_bin, char *out, size_t len, char *why, size_t wlen)
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
    if (launch_which(worker_bin, worker, sizeof worker) != 0 || !realpath(worker, real)) {
        snprintf(why, wlen, "lockstep-vm-init not found: cannot locate the worker %s",
                 worker_bin);
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

/* ---- the kernel and its modules ---- */

/* spec->kernel, $LOCKSTEP_KERNEL, else the newest unpacked package under
 * IMAGE_VM_KERNEL_CACHE; the version from its name, the modules beside it. */
int image_vm_kernel_find(const char *kernel, struct image_vm_kernel *k, char *why, size_t len)
{
    memset(k, 0, sizeof *k);
    const char *path = kernel && kernel[0] ? kernel : getenv("LOCKSTEP_KERNEL");
    const char *from = kernel && kernel[0] ? "kernel:" : "$LOCKSTEP_KERNEL";
    if (path && path[0]) {
        if (access(path, R_OK) != 0) {
            snprintf(why, len, "no kernel: %s %s: %s", from, path, strerror(errno));
            return -1;
        }
        snprintf(k->vmlinuz, sizeof k->vmlinuz, "%s", path);
    } else {
        glob_t g;
        if (glob(IMAGE_VM_KERNEL_CACHE "/*/boot/vmlinuz-*", 0, NULL, &g) != 0 || g.gl_pathc == 0) {
            snprintf(why, len,
                     "no kernel package: run scripts/fetch-kernel.sh, or `apt-get download "
                     "linux-image-cloud-amd64` and its linux-image-*-cloud-amd64 dependency and "
                     "`dpkg -x` it into " IMAGE_VM_KERNEL_CACHE "/<version>/, or set `kernel:` "
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
int image_vm_kernel_modules(struct image_vm_kernel *k, char *why, size_t len)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/modules.order", k->moddir);
    char *order = fs_slurp(path, NULL);
    if (!order) {
        snprintf(path, sizeof path, "%s/modules.dep", k->moddir);
        order = fs_slurp(path, NULL);
    }
    if (!order) {
        snprintf(why, len,
                 "modules for %s missing: no %s/modules.order (unpack the whole kernel package "
                 "beside the vmlinuz: <root>/boot/vmlinuz-%s, <root>/lib/modules/%s)",
                 k->ver, k->moddir, k->ver, k->ver);
        return -1;
    }
    snprintf(path, sizeof path, "%s/modules.builtin", k->moddir);
    char *builtin = fs_slurp(path, NULL);
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
        } else if (k->nmodules < IMAGE_VM_MAX_MODULES) {
            k->modules[k->nmodules++] = strdup(path + strlen(k->moddir) + 1);
        }
    }
    free(order);
    free(builtin);
    if (rc != 0)
        image_vm_kernel_free(k);
    return rc;
}

/* ---- the archive ---- */

/* A newc archive being written: libarchive does the format; we number the
 * inodes (the kernel takes entries sharing one, nlink > 1, for hard links)
 * and write every directory once, before anything in it. */
struct s_ar {
    struct archive *a;
    struct archive_entry *e;
    unsigned ino;
    char **dirs; /* directories written so far */
    size_t ndirs;
    char *err;
    size_t errlen;
};

static int s_ar_fail(struct s_ar *w, const char *what)
{
    snprintf(w->err, w->errlen, "writing the initramfs (%s): %s", what,
             archive_error_string(w->a) ? archive_error_string(w->a) : strerror(errno));
    return -1;
}

static int s_ar_header(struct s_ar *w, const char *name, mode_t mode, int64_t size,
                       unsigned rmajor, unsigned rminor)
{
    if (size > UINT32_MAX) {
        snprintf(w->err, w->errlen, "%s: too large for a cpio archive", name);
        return -1;
    }
    archive_entry_clear(w->e);
    archive_entry_set_pathname(w->e, name);
    archive_entry_set_mode(w->e, mode);
    archive_entry_set_size(w->e, size);
    archive_entry_set_ino(w->e, ++w->ino);
    archive_entry_set_nlink(w->e, S_ISDIR(mode) ? 2 : 1);
    archive_entry_set_rdevmajor(w->e, rmajor);
    archive_entry_set_rdevminor(w->e, rminor);
    archive_entry_set_uid(w->e, 0);
    archive_entry_set_gid(w->e, 0);
    archive_entry_set_mtime(w->e, 0, 0);
    if (archive_write_header(w->a, w->e) != ARCHIVE_OK)
        return s_ar_fail(w, name);
    return 0;
}

/* name: inside the archive, without a leading '/'.  Every parent first. */
static int s_ar_dir(struct s_ar *w, const char *name)
{
    for (size_t i = 0; i < w->ndirs; i++)
        if (strcmp(w->dirs[i], name) == 0)
            return 0;
    const char *slash = strrchr(name, '/');
    if (slash) {
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%.*s", (int)(slash - name), name);
        if (s_ar_dir(w, parent) != 0)
            return -1;
    }
    char **nd = realloc(w->dirs, (w->ndirs + 1) * sizeof *nd);
    if (!nd || !(nd[w->ndirs] = strdup(name))) {
        if (nd)
            w->dirs = nd;
        snprintf(w->err, w->errlen, "out of memory");
        return -1;
    }
    w->dirs = nd;
    w->ndirs++;
    return s_ar_header(w, name, S_IFDIR | 0755, 0, 0, 0);
}

static int s_ar_parent(struct s_ar *w, const char *name)
{
    const char *slash = strrchr(name, '/');
    if (!slash)
        return 0;
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%.*s", (int)(slash - name), name);
    return s_ar_dir(w, parent);
}

static int s_ar_data(struct s_ar *w, const char *name, const void *data, size_t size,
                     mode_t perm)
{
    if (s_ar_parent(w, name) != 0 || s_ar_header(w, name, S_IFREG | perm, (int64_t)size, 0, 0) != 0)
        return -1;
    if (size && archive_write_data(w->a, data, size) != (la_ssize_t)size)
        return s_ar_fail(w, name);
    return 0;
}

/* A host file's content (symbolic links followed) under name. */
static int s_ar_file(struct s_ar *w, const char *name, const char *src, mode_t perm)
{
    int fd = open(src, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(w->err, w->errlen, "%s: %s", src, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (s_ar_parent(w, name) != 0 || s_ar_header(w, name, S_IFREG | perm, st.st_size, 0, 0) != 0) {
        close(fd);
        return -1;
    }
    char buf[65536];
    int64_t left = st.st_size;
    int rc = 0;
    while (left > 0 && rc == 0) {
        ssize_t r = read(fd, buf, left < (int64_t)sizeof buf ? (size_t)left : sizeof buf);
        if (r <= 0) {
            snprintf(w->err, w->errlen, "%s: %s", src, r < 0 ? strerror(errno) : "changed while read");
            rc = -1;
        } else if (archive_write_data(w->a, buf, (size_t)r) != r) {
            rc = s_ar_fail(w, name);
        } else {
            left -= r;
        }
    }
    close(fd);
    return rc;
}

/* Start an archive at tmp, uncompressed: the guest kernel needs no
 * decompressor for it and a TCG guest does not spend its boot inflating it. */
static int s_ar_open(struct s_ar *w, const char *tmp, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->err = err;
    w->errlen = errlen;
    w->a = archive_write_new();
    w->e = archive_entry_new();
    if (!w->a || !w->e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* no padding after the trailer: what is appended to it (a VM's own
     * certificates) follows at once */
    if (archive_write_set_format_cpio_newc(w->a) != ARCHIVE_OK ||
        archive_write_add_filter_none(w->a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
        archive_write_open_filename(w->a, tmp) != ARCHIVE_OK) {
        snprintf(err, errlen, "%s: %s", tmp, archive_error_string(w->a));
        return -1;
    }
    return 0;
}

/* Finish (the trailer), free, and move path.tmp to path when rc == 0;
 * otherwise remove it.  Returns the outcome. */
static int s_ar_close(struct s_ar *w, int rc, const char *tmp, const char *path)
{
    if (w->a && archive_write_close(w->a) != ARCHIVE_OK && rc == 0) {
        snprintf(w->err, w->errlen, "writing %s: %s", tmp, archive_error_string(w->a));
        rc = -1;
    }
    if (w->a)
        archive_write_free(w->a);
    if (w->e)
        archive_entry_free(w->e);
    for (size_t i = 0; i < w->ndirs; i++)
        free(w->dirs[i]);
    free(w->dirs);
    if (rc == 0 && rename(tmp, path) != 0) {
        snprintf(w->err, w->errlen, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        unlink(tmp);
    return rc;
}

/* CURVE: vminit passes them to the worker (--cert, --server-cert) */
static int s_ar_certs(struct s_ar *w, const char *cert, const char *server_cert)
{
    if (s_ar_file(w, "etc/lockstep/coordinator.cert", server_cert, 0644) != 0)
        return -1;
    return s_ar_file(w, "etc/lockstep/worker.cert_secret", cert, 0600);
}

/* ---- the initramfs ---- */

/* The libraries of everything that runs in the guest, one path a line. */
static int s_libs(const struct image_vm_content *c, char *libs, size_t len, char *err,
                  size_t errlen)
{
    libs[0] = '\0';
    if (closure_add(c->worker, libs, len, err, errlen) != 0 ||
        closure_add(c->init, libs, len, err, errlen) != 0)
        return -1;
    for (const char *p = c->tools; *p; p += strcspn(p, "\n") + 1) {
        char tool[PATH_MAX];
        snprintf(tool, sizeof tool, "%.*s", (int)strcspn(p, "\n"), p);
        if (closure_add(tool, libs, len, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* The programs: /init, the worker, and companions and tools in /bin, the
 * guest's PATH. */
static int s_programs(struct s_ar *w, const struct image_vm_content *c)
{
    static const char *const dirs[] = { "dev", "proc", "sys", "tmp", "data", "root", "bin" };
    int rc = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && rc == 0; i++)
        rc = s_ar_dir(w, dirs[i]);
    /* fds 0-2 of /init, opened by the kernel before devtmpfs is mounted */
    if (rc == 0)
        rc = s_ar_header(w, "dev/console", S_IFCHR | 0600, 0, 5, 1);
    if (rc == 0)
        rc = s_ar_file(w, "init", c->init, 0755);
    if (rc == 0)
        rc = s_ar_file(w, "bin/lockstep-worker", c->worker, 0755);
    for (const char *p = c->tools; *p && rc == 0; p += strcspn(p, "\n") + 1) {
        char tool[PATH_MAX], name[PATH_MAX + 8];
        snprintf(tool, sizeof tool, "%.*s", (int)strcspn(p, "\n"), p);
        snprintf(name, sizeof name, "bin/%s", strrchr(tool, '/') + 1);
        rc = s_ar_file(w, name, tool, 0755);
    }
    return rc;
}

/* Libraries where ldd found them, and LD_LIBRARY_PATH naming their
 * directories for those the guest's loader would not search. */
static int s_libraries(struct s_ar *w, const char *libs)
{
    char ldpath[4096] = "LD_LIBRARY_PATH=";
    int rc = 0;
    for (const char *p = libs; *p && rc == 0; p += strcspn(p, "\n") + 1) {
        char lib[PATH_MAX];
        snprintf(lib, sizeof lib, "%.*s", (int)strcspn(p, "\n"), p);
        rc = s_ar_file(w, lib + 1, lib, 0755);
        *strrchr(lib, '/') = '\0';
        char item[PATH_MAX + 2];
        snprintf(item, sizeof item, "%s:", lib);
        if (!strstr(ldpath, item) && strlen(ldpath) + strlen(item) < sizeof ldpath)
            strcat(ldpath, item);
    }
    ldpath[strlen(ldpath) - 1] = '\n';
    return rc == 0 ? s_ar_data(w, "etc/lockstep/env", ldpath, strlen(ldpath), 0644) : rc;
}

/* The modules, and /etc/lockstep/modules listing them in load order. */
static int s_modules_of(struct s_ar *w, const struct image_vm_kernel *k)
{
    char order[IMAGE_VM_MAX_MODULES * 160] = "";
    int rc = 0;
    for (size_t i = 0; i < k->nmodules && rc == 0; i++) {
        char src[PATH_MAX + 200], name[PATH_MAX + 200];
        snprintf(src, sizeof src, "%s/%s", k->moddir, k->modules[i]);
        snprintf(name, sizeof name, "lib/modules/%s/%s", k->ver, k->modules[i]);
        rc = s_ar_file(w, name, src, 0644);
        size_t used = strlen(order);
        snprintf(order + used, sizeof order - used, "/%s\n", name);
    }
    return rc == 0 ? s_ar_data(w, "etc/lockstep/modules", order, strlen(order), 0644) : rc;
}

int image_vm_initramfs(const char *path, const struct image_vm_content *c, char *err,
                       size_t errlen)
{
    char libs[16384], tmp[PATH_MAX + 8];
    if (s_libs(c, libs, sizeof libs, err, errlen) != 0)
        return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    struct s_ar w;
    int rc = s_ar_open(&w, tmp, err, errlen);
    if (rc == 0)
        rc = s_programs(&w, c);
    if (rc == 0)
        rc = s_libraries(&w, libs);
    if (rc == 0 && c->cert)
        rc = s_ar_certs(&w, c->cert, c->server_cert);
    if (rc == 0)
        rc = s_modules_of(&w, c->kernel);
    return s_ar_close(&w, rc, tmp, path);
}

int image_vm_certs(const char *path, const char *cert, const char *server_cert, char *err,
                   size_t errlen)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    /* the secret's copy is root's only from the start */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    close(fd);
    struct s_ar w;
    int rc = s_ar_open(&w, tmp, err, errlen);
    if (rc == 0)
        rc = s_ar_certs(&w, cert, server_cert);
    return s_ar_close(&w, rc, tmp, path);
}
