/* platform.h — what the worker runs on: native, a container, or a VM (KVM or
 * plain QEMU), plus the host facts stored with every worker. */
#ifndef LOCKSTEP_PLATFORM_H
#define LOCKSTEP_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The evidence detection looks at; platform_probe_self fills it from this
 * machine, tests fill it by hand (root points at a fake file tree). */
struct platform_probe {
    const char *root;   /* prefix for /.dockerenv, /proc/1/cgroup, /sys/class/dmi/... ("" = /) */
    bool hypervisor;    /* CPUID.1:ECX bit 31 */
    char signature[13]; /* CPUID 0x40000000 vendor signature, NUL-terminated */
};

struct host_facts {
    char platform[16];
    char why[160];      /* the evidence that decided the platform */
    char hostname[256];
    char kernel[128];
    char cpu_model[128];
    int64_t cores;
    int64_t mem_bytes;
    char distro[128];     /* /etc/os-release PRETTY_NAME, "" when unknown */
    char disk_model[128]; /* the block device under the spool directory, "" when unknown */
    char detected[16];    /* what platform_detect found (platform may be declared) */
};

void platform_probe_self(struct platform_probe *p);
/* "native", "docker", "kvm", "qemu" or "vm" (another hypervisor); why says how. */
const char *platform_detect(const struct platform_probe *p, char *why, size_t whylen);
void host_facts_get(struct host_facts *f);
/* The model of the disk holding dir (sysfs: vendor and model of the block
 * device, or its driver, e.g. "virtio"), "" when it cannot tell. */
void host_disk_model(const char *dir, char *buf, size_t len);

#endif
