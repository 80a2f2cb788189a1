/* test_vm.c — the qemu/kvm launchers without booting anything: what check()
 * says is missing, the initramfs start() writes (read back as cpio newc),
 * qemu's command line, the disk image, stop() and sweep().  A fabricated
 * kernel tree stands in for Debian's package, and this test binary stands
 * in for qemu (run under the name qemu-system-x86_64 it records its
 * arguments and waits for a signal).  The certificates' cpio that
 * `lockstep image certs` writes is read back the same way. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "platform/image_vm.h"
#include "platform/launch.h"
#include "log.h"

/* launch.c lists every launcher; docker is not under test here */
const struct launch_ops launch_docker_ops = { .kind = "docker" };

#define VER "9.9.9-test"

static char s_root[256];  /* the test's scratch tree */
static char s_self[PATH_MAX];
static char s_vmlinuz[300];
static char s_path0[8192]; /* PATH at start */

/* modules.order of the fake kernel: ours in a scrambled order, plus one the
 * VM does not need */
static const char *const s_order[] = {
    "kernel/fs/xfs/xfs.ko",
    "kernel/drivers/block/virtio_blk.ko",
    "kernel/drivers/net/virtio_net.ko",
    "kernel/drivers/virtio/virtio_pci.ko",
    "kernel/drivers/virtio/virtio_ring.ko",
    "kernel/drivers/virtio/virtio.ko",
    "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
    "kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
    "kernel/net/core/failover.ko",
    "kernel/drivers/net/net_failover.ko",
    "kernel/drivers/char/hw_random/virtio-rng.ko",
};
/* what the guest must load, in this order */
static const char s_expected[] =
    "/lib/modules/" VER "/kernel/drivers/virtio/virtio_ring.ko\n"
    "/lib/modules/" VER "/kernel/drivers/virtio/virtio.ko\n"
    "/lib/modules/" VER "/kernel/drivers/virtio/virtio_pci_legacy_dev.ko\n"
    "/lib/modules/" VER "/kernel/drivers/virtio/virtio_pci_modern_dev.ko\n"
    "/lib/modules/" VER "/kernel/drivers/virtio/virtio_pci.ko\n"
    "/lib/modules/" VER "/kernel/net/core/failover.ko\n"
    "/lib/modules/" VER "/kernel/drivers/net/net_failover.ko\n"
    "/lib/modules/" VER "/kernel/drivers/net/virtio_net.ko\n"
    "/lib/modules/" VER "/kernel/drivers/block/virtio_blk.ko\n"
    "/lib/modules/" VER "/kernel/drivers/char/hw_random/virtio-rng.ko\n";

static void s_write(const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_root, rel);
    for (char *p = path + strlen(s_root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void s_write_order(bool with_blk)
{
    char order[4096] = "";
    for (size_t i = 0; i < sizeof s_order / sizeof s_order[0]; i++)
        if (with_blk || !strstr(s_order[i], "virtio_blk")) {
            strcat(order, s_order[i]);
            strcat(order, "\n");
        }
    s_write("k/lib/modules/" VER "/modules.order", order);
}

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_root, sizeof s_root, "/tmp/lockstep-vm-XXXXXX");
    assert_non_null(mkdtemp(s_root));
    s_write("k/boot/vmlinuz-" VER, "not really a kernel\n");
    snprintf(s_vmlinuz, sizeof s_vmlinuz, "%s/k/boot/vmlinuz-" VER, s_root);
    for (size_t i = 0; i < sizeof s_order / sizeof s_order[0]; i++) {
        char rel[512];
        snprintf(rel, sizeof rel, "k/lib/modules/" VER "/%s", s_order[i]);
        s_write(rel, s_order[i]);
    }
    s_write_order(true);
    s_write("k/lib/modules/" VER "/modules.builtin", "kernel/crypto/rng.ko\n");
    /* this binary as qemu, first in PATH */
    char dir[512], link[600];
    snprintf(dir, sizeof dir, "%s/bin", s_root);
    mkdir(dir, 0755);
    snprintf(link, sizeof link, "%s/qemu-system-x86_64", dir);
    assert_int_equal(symlink(s_self, link), 0);
    char path[sizeof s_path0 + 600];
    snprintf(path, sizeof path, "%s:%s", dir, s_path0);
    setenv("PATH", path, 1);
    char args[600];
    snprintf(args, sizeof args, "%s/qemu.args", s_root);
    setenv("LOCKSTEP_TEST_QEMU_ARGS", args, 1);
    setenv("LOCKSTEP_VM_INIT", s_self, 1);
    unsetenv("LOCKSTEP_KERNEL");
    unsetenv("LOCKSTEP_KVM_DEV");
    unsetenv("LOCKSTEP_KVM_TEST");
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_root);
    assert_int_equal(system(cmd), 0);
    setenv("PATH", s_path0, 1);
    return 0;
}

static void s_env(struct launch_env *env)
{
    static volatile sig_atomic_t stop;
    memset(env, 0, sizeof *env);
    env->worker_bin = s_self;
    env->port = 45678;
    env->stop = &stop;
    char err[256];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t key = ((uint64_t)ts.tv_nsec << 24) ^ ((uint64_t)getpid() << 1) ^ 0x5eed;
    assert_int_equal(launch_env_init(env, key, err, sizeof err), 0);
}

static int s_check(const struct launch_ops *ops, struct launch_spec *spec, char *why, size_t len)
{
    struct launch_env env;
    s_env(&env);
    why[0] = '\0';
    int rc = ops->check(&env, spec, why, len);
    launch_env_cleanup(&env);
    return rc;
}

static void test_check(void **state)
{
    (void)state;
    struct launch_spec spec = { .name = "vm", .kind = "qemu", .kernel = s_vmlinuz };
    char why[512];
    assert_int_equal(s_check(&launch_qemu_ops, &spec, why, sizeof why), 0);

    /* the kernel's version comes from its file name */
    char odd[600];
    snprintf(odd, sizeof odd, "%s/k/boot/config-" VER, s_root);
    s_write("k/boot/config-" VER, "x\n");
    spec.kernel = odd;
    assert_int_equal(s_check(&launch_qemu_ops, &spec, why, sizeof why), -1);
    assert_non_null(strstr(why, "cannot tell its version"));
    spec.kernel = NULL;
    setenv("LOCKSTEP_KERNEL", "/nonexistent/vmlinuz-1", 1);
    assert_int_equal(s_check(&launch_qemu_ops, &spec, why, sizeof why), -1);
    assert_string_equal(why, "no kernel: $LOCKSTEP_KERNEL /nonexistent/vmlinuz-1: No such file "
                             "or directory");
    setenv("LOCKSTEP_KERNEL", s_vmlinuz, 1);
    assert_int_equal(s_check(&launch_qemu_ops, &spec, why, sizeof why), 0);

    /* a device module missing, then built in */
    s_write_order(false);
    assert_int_equal(s_check(&launch_qemu_ops, &spec, why, sizeof why), -1);
    assert_non_null(strstr(why, "modules for " VER " missing: virtio_blk is neither a module"));
    s_write("k/lib/modules/" VER "/modules.builtin", "kernel/drivers/block/virtio_blk.ko\n");
    assert_int_equal(s_check(&launch_qemu_ops, &spec, why, sizeof why), 0);

    setenv("LOCKSTEP_VM_INIT", "/nonexistent/init", 1);
    assert_int_equal(s_check(&launch_qemu_ops, &spec, why, sizeof why), -1);
    assert_non_null(strstr(why, "lockstep-vm-init not found"));
    setenv("LOCKSTEP_VM_INIT", s_self, 1);

    /* (the state directory's removal needs rm from PATH) */
    struct launch_env env;
    s_env(&env);
    const char *path = getenv("PATH");
    char *saved = strdup(path);
    setenv("PATH", "/nonexistent", 1);
    int rc = launch_qemu_ops.check(&env, &spec, why, sizeof why);
    setenv("PATH", saved, 1);
    free(saved);
    launch_env_cleanup(&env);
    assert_int_equal(rc, -1);
    assert_string_equal(why, "qemu-system-x86_64 not installed (package qemu-system-x86)");
}

static void test_check_spec(void **state)
{
    (void)state;
    struct launch_spec spec = { .name = "vm", .kind = "qemu", .kernel = s_vmlinuz, .accel = "xen" };
    char why[512];
    assert_int_equal(s_check(&launch_qemu_ops, &spec, why, sizeof why), -1);
    assert_string_equal(why, "accel 'xen': expected tcg or kvm");
    spec.accel = NULL;
    spec.memory = 64LL << 20;
    assert_int_equal(s_check(&launch_qemu_ops, &spec, why, sizeof why), -1);
    assert_non_null(strstr(why, "memory >= 256 MiB"));
    spec.memory = 0;
    spec.name = "a b";
    assert_int_equal(s_check(&launch_qemu_ops, &spec, why, sizeof why), -1);
    assert_non_null(strstr(why, "name 'a b'"));
}

static void test_check_kvm(void **state)
{
    (void)state;
    struct launch_spec spec = { .name = "vm", .kind = "kvm", .kernel = s_vmlinuz };
    char why[512];
    setenv("LOCKSTEP_KVM_DEV", "/nonexistent/kvm", 1);
    assert_int_equal(s_check(&launch_kvm_ops, &spec, why, sizeof why), -1);
    assert_string_equal(why, "/nonexistent/kvm absent");
    setenv("LOCKSTEP_KVM_DEV", "/dev/null", 1);
    assert_int_equal(s_check(&launch_kvm_ops, &spec, why, sizeof why), -1);
    assert_string_equal(why, "/dev/null not usable: Inappropriate ioctl for device");
    /* qemu's kind with accel kvm is checked as kvm; kvm's with tcg is not */
    spec.kind = "qemu";
    spec.accel = "kvm";
    assert_int_equal(s_check(&launch_qemu_ops, &spec, why, sizeof why), -1);
    assert_string_equal(why, "/dev/null not usable: Inappropriate ioctl for device");
    spec.accel = "tcg";
    assert_int_equal(s_check(&launch_kvm_ops, &spec, why, sizeof why), 0);
}

/* ---- reading the archive back ---- */

struct entry {
    char name[256];
    unsigned mode, size, rmajor, rminor;
    const char *data;
};

static size_t s_align4(size_t n) { return (n + 3) & ~(size_t)3; }

static size_t s_read_cpio(const char *buf, size_t len, struct entry *e, size_t max)
{
    size_t off = 0, n = 0;
    for (;;) {
        assert_true(off + 110 <= len);
        assert_int_equal(off % 4, 0);
        assert_memory_equal(buf + off, "070701", 6);
        unsigned f[13];
        for (int i = 0; i < 13; i++) {
            char hex[9];
            memcpy(hex, buf + off + 6 + 8 * i, 8);
            hex[8] = '\0';
            f[i] = (unsigned)strtoul(hex, NULL, 16);
        }
        unsigned namesize = f[11];
        assert_true(namesize > 1 && namesize < sizeof e->name);
        assert_int_equal(buf[off + 110 + namesize - 1], '\0');
        const char *name = buf + off + 110;
        size_t data = s_align4(off + 110 + namesize);
        off = s_align4(data + f[6]);
        assert_true(off <= len);
        if (strcmp(name, "TRAILER!!!") == 0) {
            assert_int_equal(off, len);
            return n;
        }
        assert_true(n < max);
        snprintf(e[n].name, sizeof e[n].name, "%s", name);
        e[n].mode = f[1];
        e[n].size = f[6];
        e[n].rmajor = f[9];
        e[n].rminor = f[10];
        e[n].data = buf + data;
        n++;
    }
}

static const struct entry *s_find(const struct entry *e, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(e[i].name, name) == 0)
            return &e[i];
    fail_msg("%s not in the initramfs", name);
    return NULL;
}

static char *s_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void test_start_stop(void **state)
{
    (void)state;
    struct launch_env env;
    s_env(&env);
    /* a tool to ship: found in PATH, copied to /bin with its libraries */
    char *tools[] = { "true" };
    struct launch_spec spec = { .name = "vm-unit", .kind = "qemu", .kernel = s_vmlinuz,
                                .cpus = 2, .memory = 512LL << 20, .disk = 96LL << 20,
                                .tools = tools, .ntools = 1 };
    struct launch l = { .ops = &launch_qemu_ops, .spec = &spec };
    char err[512] = "";
    int rc = launch_qemu_ops.start(&env, &l, err, sizeof err);
    if (rc != 0)
        fail_msg("start: %s", err);
    assert_true(l.pid > 0);
    char id[128];
    snprintf(id, sizeof id, "lockstep-%s-vm-unit", env.key_hex);
    assert_string_equal(l.id, id);
    assert_non_null(strstr(l.what, "(tcg, 2 CPUs, 512 MiB, disk 96 MiB virtio-blk cache="));
    /* the conditions it runs under, for the run's record */
    assert_int_equal(l.cond.cpus, 2);
    assert_string_equal(l.cond.cpu_list, "0-1");
    assert_int_equal(l.cond.memory, 512LL << 20);
    assert_non_null(strstr(l.cond.disk, "virtio-blk raw ext4 image cache="));
    assert_non_null(strstr(l.cond.network, "user-mode NAT"));

    /* qemu's arguments, once the fake has written them */
    char args_path[600];
    snprintf(args_path, sizeof args_path, "%s/qemu.args", s_root);
    for (int i = 0; i < 500 && access(args_path, F_OK) != 0; i++)
        usleep(10000);
    size_t alen;
    char *args = s_slurp(args_path, &alen);
    char want[600];
    snprintf(want, sizeof want, "-name\n%s\n", id);
    assert_non_null(strstr(args, want));
    assert_non_null(strstr(args, "-no-reboot\n"));
    assert_non_null(strstr(args, "-accel\ntcg\n"));
    assert_null(strstr(args, "-cpu\nhost"));
    assert_non_null(strstr(args, "-m\n512\n-smp\n2\n"));
    snprintf(want, sizeof want,
             "-append\nconsole=ttyS0 panic=-1 quiet lockstep.connect=tcp://10.0.2.2:45678 "
             "lockstep.name=vm-unit lockstep.forwarded=5201:");
    assert_non_null(strstr(args, want));
    /* the guest's iperf port, forwarded from the host port the worker is told */
    int fwd = atoi(strstr(args, want) + strlen(want));
    assert_true(fwd > 0 && fwd < 65536);
    snprintf(want, sizeof want, "-netdev\nuser,id=n0,hostfwd=tcp::%d-:5201,hostfwd=udp::%d-:5201\n",
             fwd, fwd);
    assert_non_null(strstr(args, want));
    snprintf(want, sizeof want, "-drive\nfile=%s/vm-unit.img,if=virtio,format=raw,cache=",
             env.state_dir);
    assert_non_null(strstr(args, want));
    snprintf(want, sizeof want, "-kernel\n%s\n", s_vmlinuz);
    assert_non_null(strstr(args, want));
    free(args);

    /* the disk: sparse, the size asked for, ext4 (superblock magic) */
    char disk[400];
    snprintf(disk, sizeof disk, "%s/vm-unit.img", env.state_dir);
    struct stat st;
    assert_int_equal(stat(disk, &st), 0);
    assert_int_equal(st.st_size, 96LL << 20);
    assert_true((int64_t)st.st_blocks * 512 < st.st_size);
    int fd = open(disk, O_RDONLY);
    unsigned char magic[2];
    assert_int_equal(pread(fd, magic, 2, 1024 + 56), 2);
    close(fd);
    assert_int_equal(magic[0] | magic[1] << 8, 0xEF53);

    /* the initramfs */
    char pattern[400];
    snprintf(pattern, sizeof pattern, "%s/initramfs-" VER "-*.cpio", env.state_dir);
    glob_t g;
    assert_int_equal(glob(pattern, 0, NULL, &g), 0);
    assert_int_equal(g.gl_pathc, 1);
    char cpio[400];
    snprintf(cpio, sizeof cpio, "%s", g.gl_pathv[0]);
    globfree(&g);
    size_t len;
    char *buf = s_slurp(cpio, &len);
    static struct entry e[256];
    size_t n = s_read_cpio(buf, len, e, 256);
    struct stat self;
    assert_int_equal(stat(s_self, &self), 0);
    const struct entry *init = s_find(e, n, "init");
    assert_int_equal(init->mode, S_IFREG | 0755);
    assert_int_equal(init->size, (unsigned)self.st_size);
    assert_int_equal(s_find(e, n, "bin/lockstep-worker")->size, (unsigned)self.st_size);
    const struct entry *console = s_find(e, n, "dev/console");
    assert_int_equal(console->mode, S_IFCHR | 0600);
    assert_int_equal(console->rmajor, 5);
    assert_int_equal(console->rminor, 1);
    assert_true(S_ISREG(s_find(e, n, "lib64/ld-linux-x86-64.so.2")->mode));
    assert_true(S_ISREG(s_find(e, n, "bin/true")->mode));
    assert_true(S_ISREG(s_find(e, n, "lib/x86_64-linux-gnu/libc.so.6")->mode));
    const struct entry *mods = s_find(e, n, "etc/lockstep/modules");
    assert_int_equal(mods->size, strlen(s_expected));
    assert_memory_equal(mods->data, s_expected, strlen(s_expected));
    const struct entry *envf = s_find(e, n, "etc/lockstep/env");
    assert_memory_equal(envf->data, "LD_LIBRARY_PATH=/", 17);
    /* every module the list names is there; xfs is not */
    size_t nko = 0;
    for (size_t i = 0; i < n; i++) {
        if (strstr(e[i].name, ".ko")) {
            nko++;
            char line[sizeof e[i].name + 2];
            snprintf(line, sizeof line, "/%.250s\n", e[i].name);
            assert_non_null(strstr(s_expected, line));
        }
        /* a directory before anything in it */
        char parent[sizeof e[i].name];
        memcpy(parent, e[i].name, sizeof parent);
        char *slash = strrchr(parent, '/');
        if (slash) {
            *slash = '\0';
            const struct entry *p = s_find(e, n, parent);
            assert_true(p < &e[i]);
            assert_true(S_ISDIR(p->mode));
        }
    }
    assert_int_equal(nko, 10);
    free(buf);

    /* stop: the fake qemu is terminated, the disk and pidfile go; twice is fine */
    launch_qemu_ops.stop(&env, &l, 100);
    assert_true(l.exited);
    assert_int_equal(access(disk, F_OK), -1);
    launch_qemu_ops.stop(&env, &l, 100);
    launch_env_cleanup(&env);
    assert_int_equal(access(env.state_dir, F_OK), -1);
}

/* A VM's certificates alone, to append to the shared initramfs: root's
 * only, where lockstep-vm-init looks; a missing one is named and nothing
 * is left behind. */
static void test_certs(void **state)
{
    (void)state;
    s_write("keys/w.cert_secret", "secret key\n");
    s_write("keys/coordinator.cert", "public key of the coordinator\n");
    char cert[400], server[400], out[400], tmp[420], err[512] = "";
    snprintf(cert, sizeof cert, "%s/keys/w.cert_secret", s_root);
    snprintf(server, sizeof server, "%s/keys/coordinator.cert", s_root);
    snprintf(out, sizeof out, "%s/certs.cpio", s_root);
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    if (image_vm_certs(out, cert, server, err, sizeof err) != 0)
        fail_msg("image_vm_certs: %s", err);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    size_t len;
    char *buf = s_slurp(out, &len);
    struct entry e[8];
    size_t n = s_read_cpio(buf, len, e, 8);
    assert_int_equal(n, 4);
    static const char *const names[] = { "etc", "etc/lockstep", "etc/lockstep/coordinator.cert",
                                         "etc/lockstep/worker.cert_secret" };
    static const unsigned modes[] = { S_IFDIR | 0755, S_IFDIR | 0755, S_IFREG | 0644,
                                      S_IFREG | 0600 };
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(e[i].name, names[i]);
        assert_int_equal(e[i].mode, modes[i]);
    }
    assert_int_equal(e[3].size, strlen("secret key\n"));
    assert_memory_equal(e[3].data, "secret key\n", e[3].size);
    assert_memory_equal(e[2].data, "public key of the coordinator\n", e[2].size);
    free(buf);
    /* the same inputs, the same bytes */
    char *again = NULL;
    assert_int_equal(image_vm_certs(out, cert, server, err, sizeof err), 0);
    size_t len2;
    again = s_slurp(out, &len2);
    buf = s_slurp(out, &len);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, again, len);
    free(buf);
    free(again);
    unlink(out);
    snprintf(cert, sizeof cert, "%s/keys/none.cert_secret", s_root);
    assert_int_equal(image_vm_certs(out, cert, server, err, sizeof err), -1);
    assert_non_null(strstr(err, "none.cert_secret: No such file or directory"));
    assert_int_equal(access(out, F_OK), -1);
    assert_int_equal(access(tmp, F_OK), -1);
}

/* An initramfs that cannot be made leaves nothing half written. */
static void test_initramfs_fails(void **state)
{
    (void)state;
    struct image_vm_kernel k;
    char why[512], out[400], tmp[420];
    assert_int_equal(image_vm_kernel_find(s_vmlinuz, &k, why, sizeof why), 0);
    assert_int_equal(image_vm_kernel_modules(&k, why, sizeof why), 0);
    snprintf(out, sizeof out, "%s/initramfs.cpio", s_root);
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    struct image_vm_content c = { .worker = s_self, .init = "/nonexistent/lockstep-vm-init",
                                  .tools = "", .kernel = &k };
    assert_int_equal(image_vm_initramfs(out, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "/nonexistent/lockstep-vm-init"));
    assert_int_equal(access(out, F_OK), -1);
    assert_int_equal(access(tmp, F_OK), -1);
    c.init = s_self;
    assert_int_equal(image_vm_initramfs(out, &c, why, sizeof why), 0);
    size_t len;
    char *buf = s_slurp(out, &len);
    static struct entry e[256];
    size_t n = s_read_cpio(buf, len, e, 256);
    assert_int_equal(s_find(e, n, "init")->size, s_find(e, n, "bin/lockstep-worker")->size);
    free(buf);
    image_vm_kernel_free(&k);
}

/* ---- sweep ---- */

static const char *s_dead_key = "00000000deadbeef";
static bool s_alive(const char *key) { return strcmp(key, s_dead_key) != 0; }

static pid_t s_fake_vm(const char *name)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[] = { "qemu-system-x86_64", "-name", (char *)name, NULL };
        unsetenv("LOCKSTEP_TEST_QEMU_ARGS");
        execv(s_self, argv);
        _exit(127);
    }
    /* until it runs under its new name */
    char path[64], buf[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    for (int i = 0; i < 500; i++) {
        FILE *f = fopen(path, "r");
        size_t r = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[r] = '\0';
        if (strcmp(buf, "qemu-system-x86_64") == 0)
            break;
        usleep(10000);
    }
    return pid;
}

static void test_sweep(void **state)
{
    (void)state;
    char dead[64], live[64];
    snprintf(dead, sizeof dead, "lockstep-%s-vm", s_dead_key);
    snprintf(live, sizeof live, "lockstep-%s-vm", "0123456789abcdef");
    pid_t a = s_fake_vm(dead), b = s_fake_vm(live);
    launch_qemu_ops.sweep(s_alive);
    int st;
    assert_int_equal(waitpid(a, &st, 0), a);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    assert_int_equal(waitpid(b, &st, WNOHANG), 0); /* its run is alive: left alone */
    kill(b, SIGTERM);
    assert_int_equal(waitpid(b, &st, 0), b);
}

/* Under the name qemu-system-x86_64: record the arguments, write the
 * pidfile, and wait to be terminated, as qemu would. */
static int s_fake_qemu(int argc, char **argv)
{
    const char *out = getenv("LOCKSTEP_TEST_QEMU_ARGS");
    if (out) {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s.tmp", out);
        FILE *f = fopen(tmp, "w");
        for (int i = 1; f && i < argc; i++)
            fprintf(f, "%s\n", argv[i]);
        if (f && fclose(f) == 0)
            rename(tmp, out);
    }
    for (;;)
        pause();
    return 0;
}

int main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    if (strcmp(base, "qemu-system-x86_64") == 0)
        return s_fake_qemu(argc, argv);
    log_init("test_vm", LOGL_WARN);
    assert_non_null(realpath("/proc/self/exe", s_self));
    snprintf(s_path0, sizeof s_path0, "%s", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_check, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_check_spec, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_check_kvm, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_start_stop, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_certs, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_initramfs_fails, s_setup, s_teardown),
        cmocka_unit_test(test_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
