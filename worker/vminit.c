/* vminit.c — /init (pid 1) of the qemu and kvm launchers' initramfs.  It
 * does what a distribution's init would do for one program: file systems,
 * the virtio modules, a static network and the virtio disk, then runs
 * lockstep-worker with the arguments from the kernel command line, and
 * powers the VM off when the worker ends.  Any failure is one console line
 * "lockstep-vm-init: <what failed>: <why>" and a power-off, so that qemu
 * (run with -no-reboot) exits and the coordinator sees why in the log. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What the host-side launcher (coordinator/platform/launch_vm.c) puts in the image. */
#define VM_WORKER "/bin/lockstep-worker"
#define VM_MODULES "/etc/lockstep/modules" /* module paths, in load order */
#define VM_ENV "/etc/lockstep/env"         /* KEY=VALUE lines for the worker */
#define VM_DISK "/dev/vda"
#define VM_NIC "eth0"
#define VM_DATA "/data"
#define VM_SPOOL "/data/spool"
/* QEMU user networking: the guest's address and the host's (gateway) */
#define VM_ADDR "10.0.2.15"
#define VM_MASK "255.255.255.0"
#define VM_GW "10.0.2.2"
/* virtio devices appear asynchronously once their module is loaded */
#define VM_DEVICE_WAIT_MS 10000

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

struct vm_args {
    char connect[256];
    char name[128];
    char forwarded[24]; /* GUEST:HOST, the host's port forward into us */
    bool verbose;
};

static void s_poweroff(void)
{
    sync();
    reboot(RB_POWER_OFF);
    /* not pid 1 (a test run) or refused: the kernel panics when pid 1
     * exits, and panic=-1 with qemu's -no-reboot ends the VM either way */
    _exit(1);
}

static void s_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void s_say(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    dprintf(STDERR_FILENO, "lockstep-vm-init: %s\n", line);
}

/* The one failure line, then off. */
static void s_fail(const char *what, const char *why)
{
    s_say("%s: %s", what, why);
    s_poweroff();
}

static double s_uptime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void s_mount(const char *src, const char *dir, const char *type, unsigned long flags,
                    const char *data)
{
    mkdir(dir, 0755);
    if (mount(src, dir, type, flags, data) != 0 && errno != EBUSY) {
        char what[128];
        snprintf(what, sizeof what, "mounting %s on %s", type, dir);
        s_fail(what, strerror(errno));
    }
}

/* When the initramfs had no /dev/console the kernel opened nothing for us;
 * devtmpfs has one. */
static void s_console(void)
{
    if (fcntl(STDERR_FILENO, F_GETFD) >= 0)
        return;
    int fd = open("/dev/console", O_RDWR | O_NOCTTY);
    if (fd < 0)
        return; /* nowhere to say anything; carry on */
    for (int i = 0; i < 3; i++)
        if (fd != i)
            dup2(fd, i);
    if (fd > 2)
        close(fd);
}

/* lockstep.connect=, lockstep.name=, lockstep.verbose=, lockstep.forwarded= from
 * /proc/cmdline.
 * The kernel keeps parameters with a dot for a module "lockstep" that does
 * not exist, so they reach us only here, not in argv or the environment. */
static void s_args(struct vm_args *a)
{
    char buf[4096];
    int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        s_fail("reading /proc/cmdline", strerror(errno));
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        s_fail("reading /proc/cmdline", strerror(errno));
    buf[n] = '\0';
    for (char *save = NULL, *w = strtok_r(buf, " \t\n", &save); w;
         w = strtok_r(NULL, " \t\n", &save)) {
        if (strncmp(w, "lockstep.connect=", 17) == 0)
            snprintf(a->connect, sizeof a->connect, "%s", w + 17);
        else if (strncmp(w, "lockstep.name=", 14) == 0)
            snprintf(a->name, sizeof a->name, "%s", w + 14);
        else if (strncmp(w, "lockstep.verbose=", 17) == 0)
            a->verbose = strcmp(w + 17, "0") != 0;
        else if (strncmp(w, "lockstep.forwarded=", 19) == 0)
            snprintf(a->forwarded, sizeof a->forwarded, "%s", w + 19);
    }
    if (!a->connect[0])
        s_fail("kernel command line", "no lockstep.connect=ENDPOINT");
    if (!a->name[0])
        s_fail("kernel command line", "no lockstep.name=NAME");
}

static void s_load_modules(void)
{
    FILE *f = fopen(VM_MODULES, "re");
    if (!f)
        s_fail("reading " VM_MODULES, strerror(errno));
    char path[512];
    while (fgets(path, sizeof path, f)) {
        path[strcspn(path, "\r\n")] = '\0';
        if (!path[0])
            continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            s_fail(path, strerror(errno));
        size_t n = strlen(path);
        int flags = (n > 3 && strcmp(path + n - 3, ".ko") == 0) ? 0 : MODULE_INIT_COMPRESSED_FILE;
        if (syscall(SYS_finit_module, fd, "", flags) != 0 && errno != EEXIST) {
            char what[600];
            snprintf(what, sizeof what, "loading module %s", path);
            s_fail(what, strerror(errno));
        }
        close(fd);
    }
    fclose(f);
}

static void s_wait_for(const char *path, const char *what)
{
    for (int ms = 0; access(path, F_OK) != 0; ms += 10) {
        if (ms >= VM_DEVICE_WAIT_MS) {
            char why[128];
            snprintf(why, sizeof why, "%s did not appear within %d s", path,
                     VM_DEVICE_WAIT_MS / 1000);
            s_fail(what, why);
        }
        usleep(10000);
    }
}

static void s_ifreq_addr(struct ifreq *r, const char *ip)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)&r->ifr_addr;
    memset(sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &sin->sin_addr);
}

static void s_if_up(int s, const char *ifname)
{
    struct ifreq r = { 0 };
    snprintf(r.ifr_name, sizeof r.ifr_name, "%s", ifname);
    char what[64];
    snprintf(what, sizeof what, "bringing %s up", ifname);
    if (ioctl(s, SIOCGIFFLAGS, &r) != 0)
        s_fail(what, strerror(errno));
    r.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &r) != 0)
        s_fail(what, strerror(errno));
}

static void s_network(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        s_fail("network socket", strerror(errno));
    s_if_up(s, "lo");
    struct ifreq r = { 0 };
    snprintf(r.ifr_name, sizeof r.ifr_name, "%s", VM_NIC);
    s_ifreq_addr(&r, VM_ADDR);
    if (ioctl(s, SIOCSIFADDR, &r) != 0)
        s_fail("setting " VM_NIC " address " VM_ADDR, strerror(errno));
    s_ifreq_addr(&r, VM_MASK);
    if (ioctl(s, SIOCSIFNETMASK, &r) != 0)
        s_fail("setting " VM_NIC " netmask " VM_MASK, strerror(errno));
    s_if_up(s, VM_NIC);
    struct rtentry rt = { 0 };
    struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
    struct sockaddr_in *gw = (struct sockaddr_in *)&rt.rt_gateway;
    struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;
    dst->sin_family = gw->sin_family = mask->sin_family = AF_INET;
    inet_pton(AF_INET, VM_GW, &gw->sin_addr);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    if (ioctl(s, SIOCADDRT, &rt) != 0 && errno != EEXIST)
        s_fail("adding the default route via " VM_GW, strerror(errno));
    close(s);
}

/* KEY=VALUE lines the launcher wrote (LD_LIBRARY_PATH for libraries from
 * unusual places), after a minimal environment of our own. */
static char **s_environment(void)
{
    static char *env[32];
    static char lines[4096];
    size_t n = 0;
    env[n++] = "PATH=/bin:/usr/bin:/sbin:/usr/sbin";
    env[n++] = "HOME=/";
    env[n++] = "TERM=dumb";
    FILE *f = fopen(VM_ENV, "re");
    if (f) {
        size_t used = 0;
        while (n + 1 < sizeof env / sizeof env[0] && used + 1 < sizeof lines &&
               fgets(lines + used, (int)(sizeof lines - used), f)) {
            char *ln = lines + used;
            size_t len = strcspn(ln, "\r\n");
            ln[len] = '\0';
            used += len + 1;
            if (strchr(ln, '='))
                env[n++] = ln;
        }
        fclose(f);
    }
    env[n] = NULL;
    return env;
}

/* The VM's CURVE certificates, when the launcher put them in the
 * initramfs: this worker's secret one and the coordinator's public one. */
#define VM_CERT "/etc/lockstep/worker.cert_secret"
#define VM_SERVER_CERT "/etc/lockstep/coordinator.cert"

static pid_t s_start_worker(const struct vm_args *a)
{
    char *argv[20] = { VM_WORKER, "--connect", (char *)a->connect, "--name", (char *)a->name,
                       "--spool", VM_SPOOL, NULL };
    int n = 7;
    if (access(VM_CERT, R_OK) == 0 && access(VM_SERVER_CERT, R_OK) == 0) {
        argv[n++] = "--cert";
        argv[n++] = VM_CERT;
        argv[n++] = "--server-cert";
        argv[n++] = VM_SERVER_CERT;
    }
    if (a->forwarded[0]) {
        argv[n++] = "--forwarded";
        argv[n++] = (char *)a->forwarded;
    }
    if (a->verbose)
        argv[n++] = "-v";
    argv[n] = NULL;
    char **envp = s_environment();
    pid_t pid = fork();
    if (pid < 0)
        s_fail("starting " VM_WORKER, strerror(errno));
    if (pid == 0) {
        setsid();
        execve(VM_WORKER, argv, envp);
        s_say("starting " VM_WORKER ": %s", strerror(errno));
        _exit(127);
    }
    return pid;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (getpid() != 1) {
        fprintf(stderr, "lockstep-vm-init %s: this is /init of a lockstep worker VM; "
                        "the qemu and kvm launchers run it, not you\n",
                LOCKSTEP_VERSION);
        return 2;
    }
    umask(022);
    s_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    s_console();
    s_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    s_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    s_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");

    struct vm_args a = { 0 };
    s_args(&a);
    if (sethostname(a.name, strlen(a.name)) != 0)
        s_fail("setting the host name", strerror(errno));
    s_load_modules();

    s_wait_for("/sys/class/net/" VM_NIC, "network device " VM_NIC);
    s_network();
    s_wait_for(VM_DISK, "disk " VM_DISK);
    mkdir(VM_DATA, 0755);
    if (mount(VM_DISK, VM_DATA, "ext4", MS_NOATIME, NULL) != 0)
        s_fail("mounting " VM_DISK " (ext4) on " VM_DATA, strerror(errno));
    if (mkdir(VM_SPOOL, 0700) != 0 && errno != EEXIST)
        s_fail("creating " VM_SPOOL, strerror(errno));

    s_say("starting the worker %s after %.2f s", a.name, s_uptime());
    pid_t worker = s_start_worker(&a);
    int st = 0;
    for (;;) {
        /* as pid 1 we also reap whatever the worker orphaned */
        pid_t r = waitpid(-1, &st, 0);
        if (r == worker)
            break;
        if (r < 0 && errno != EINTR)
            s_fail("waiting for the worker", strerror(errno));
    }
    if (WIFSIGNALED(st))
        s_say("worker killed by signal %d; powering off", WTERMSIG(st));
    else
        s_say("worker exited with status %d; powering off", WEXITSTATUS(st));
    sync();
    if (umount(VM_DATA) != 0)
        s_say("unmounting " VM_DATA ": %s", strerror(errno));
    s_poweroff();
    return 0;
}
