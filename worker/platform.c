/* platform.c — platform detection from the marks each platform leaves:
 * containers leave /.dockerenv and cgroup/mount paths; VMs set the CPUID
 * hypervisor bit, and the hypervisor leaf names KVM ("KVMKVMKVM") or QEMU's
 * TCG ("TCGTCGTCGTCG"); the DMI vendor "QEMU" with no KVM signature means
 * plain emulation. */
#include "platform.h"

#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

static bool s_exists(const char *root, const char *path)
{
    char full[4096];
    snprintf(full, sizeof full, "%s%s", root, path);
    return access(full, F_OK) == 0;
}

/* Does the file contain any of the needles?  Reads at most 64 KiB. */
static bool s_file_has(const char *root, const char *path, const char *const *needles)
{
    char full[4096], buf[65536];
    snprintf(full, sizeof full, "%s%s", root, path);
    FILE *f = fopen(full, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (; *needles; needles++)
        if (strstr(buf, *needles))
            return true;
    return false;
}

static void s_first_line(const char *root, const char *path, char *out, size_t len)
{
    char full[4096];
    snprintf(full, sizeof full, "%s%s", root, path);
    out[0] = '\0';
    FILE *f = fopen(full, "r");
    if (!f)
        return;
    if (fgets(out, (int)len, f))
        out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

void platform_probe_self(struct platform_probe *p)
{
    memset(p, 0, sizeof *p);
    p->root = "";
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d))
        p->hypervisor = (c >> 31) & 1;
    if (p->hypervisor) {
        __cpuid(0x40000000, a, b, c, d);
        memcpy(p->signature, &b, 4);
        memcpy(p->signature + 4, &c, 4);
        memcpy(p->signature + 8, &d, 4);
        p->signature[12] = '\0';
    }
}

const char *platform_detect(const struct platform_probe *p, char *why, size_t whylen)
{
    static const char *const container_marks[] = { "docker", "containerd", "kubepods", "libpod",
                                                   NULL };
    static const char *const mount_marks[] = { "/docker/containers/", NULL };
    const char *root = p->root ? p->root : "";
    if (s_exists(root, "/.dockerenv")) {
        snprintf(why, whylen, "/.dockerenv present");
        return "docker";
    }
    if (s_file_has(root, "/proc/1/cgroup", container_marks)) {
        snprintf(why, whylen, "container cgroup in /proc/1/cgroup");
        return "docker";
    }
    if (s_file_has(root, "/proc/self/mountinfo", mount_marks)) {
        snprintf(why, whylen, "Docker container mounts in /proc/self/mountinfo");
        return "docker";
    }
    char vendor[128];
    s_first_line(root, "/sys/class/dmi/id/sys_vendor", vendor, sizeof vendor);
    if (p->hypervisor && strncmp(p->signature, "KVMKVMKVM", 9) == 0) {
        snprintf(why, whylen, "CPUID hypervisor signature KVMKVMKVM");
        return "kvm";
    }
    if (p->hypervisor && strcmp(p->signature, "TCGTCGTCGTCG") == 0) {
        snprintf(why, whylen, "CPUID hypervisor signature TCGTCGTCGTCG");
        return "qemu";
    }
    if (strcmp(vendor, "QEMU") == 0) {
        snprintf(why, whylen, "DMI vendor QEMU without a KVM signature");
        return "qemu";
    }
    if (p->hypervisor) {
        snprintf(why, whylen, "CPUID hypervisor bit, signature '%s', DMI vendor '%s'",
                 p->signature, vendor);
        return "vm";
    }
    snprintf(why, whylen, "no hypervisor bit, no container marks");
    return "native";
}

void host_facts_get(struct host_facts *f)
{
    memset(f, 0, sizeof *f);
    struct platform_probe p;
    platform_probe_self(&p);
    snprintf(f->platform, sizeof f->platform, "%s", platform_detect(&p, f->why, sizeof f->why));
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(f->hostname, sizeof f->hostname, "%s", u.nodename);
        snprintf(f->kernel, sizeof f->kernel, "%.20s %.100s", u.sysname, u.release);
    }
    FILE *cpu = fopen("/proc/cpuinfo", "r");
    if (cpu) {
        char line[512];
        while (fgets(line, sizeof line, cpu)) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *v = strchr(line, ':');
                if (v) {
                    v++;
                    while (*v == ' ' || *v == '\t')
                        v++;
                    snprintf(f->cpu_model, sizeof f->cpu_model, "%s", v);
                    f->cpu_model[strcspn(f->cpu_model, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(cpu);
    }
    f->cores = sysconf(_SC_NPROCESSORS_ONLN);
    f->mem_bytes = (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
    snprintf(f->detected, sizeof f->detected, "%s", f->platform);
    FILE *os = fopen("/etc/os-release", "r");
    if (os) {
        char line[256];
        while (fgets(line, sizeof line, os))
            if (strncmp(line, "PRETTY_NAME=", 12) == 0) {
                char *v = line + 12;
                v[strcspn(v, "\n")] = '\0';
                size_t n = strlen(v);
                if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
                    v[n - 1] = '\0';
                    v++;
                }
                snprintf(f->distro, sizeof f->distro, "%.127s", v);
                break;
            }
        fclose(os);
    }
}

/* Trim a sysfs value in place. */
static void s_trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        s[--n] = '\0';
}

void host_disk_model(const char *dir, char *buf, size_t len)
{
    buf[0] = '\0';
    struct stat st;
    if (stat(dir, &st) != 0 || major(st.st_dev) == 0)
        return; /* tmpfs, overlay: no block device of its own */
    char base[96], path[600], vendor[128] = "", model[128] = "", real[512];
    snprintf(base, sizeof base, "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
    /* a partition's device is its parent's */
    snprintf(path, sizeof path, "%s/partition", base);
    if (access(path, F_OK) == 0)
        snprintf(path, sizeof path, "%s/../device", base);
    else
        snprintf(path, sizeof path, "%s/device", base);
    if (!realpath(path, real))
        return;
    char file[640];
    snprintf(file, sizeof file, "%s/vendor", real);
    s_first_line("", file, vendor, sizeof vendor);
    snprintf(file, sizeof file, "%s/model", real);
    s_first_line("", file, model, sizeof model);
    s_trim(vendor);
    s_trim(model);
    if (model[0]) {
        snprintf(buf, len, "%s%s%s", vendor[0] && strncmp(vendor, "0x", 2) ? vendor : "",
                 vendor[0] && strncmp(vendor, "0x", 2) ? " " : "", model);
        return;
    }
    /* virtio and NVMe name their driver, not a model, in some places */
    snprintf(file, sizeof file, "%s/driver", real);
    char drv[512];
    if (realpath(file, drv) && strrchr(drv, '/'))
        snprintf(buf, len, "%s", strrchr(drv, '/') + 1);
}
