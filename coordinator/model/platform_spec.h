/* platform_spec.h — a platform instance as an experiment (or --platforms)
 * describes it.  It belongs to the model, not to the launchers that start
 * it: loading and validating an experiment must not pull in how a container
 * or a VM is made, and platform/launch.h takes this type from here. */
#ifndef LOCKSTEP_PLATFORM_SPEC_H
#define LOCKSTEP_PLATFORM_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One platform instance to start, from --platforms or the experiment's
 * `platforms:` section.  0 / NULL = the launcher's default. */
struct launch_spec {
    char *name;      /* worker name, unique in the run: "native", "qemu-2cpu" */
    char *kind;      /* native | docker | qemu | kvm */
    int cpus;        /* docker: --cpus; VMs: -smp (default 1) */
    int64_t memory;  /* bytes. docker: --memory; VMs: -m (default 1 GiB) */
    int64_t disk;    /* bytes. VMs: virtio-blk image size (default 1 GiB) */
    char *image;     /* docker: a base image to put the worker on (default:
                        one built FROM scratch from this build's worker) */
    char *kernel;    /* VMs: vmlinuz of an unpacked linux-image-*-cloud-amd64
                        (default: search, see launch_vm.c) */
    char *accel;     /* VMs: tcg or kvm (default: qemu → tcg, kvm → kvm) */
    char *volume;    /* docker: host directory mounted as the disk benchmarks'
                        directory (default: the container's own file system) */
    char **tools;    /* host programs shipped beside the worker (names in PATH
                        or absolute paths), with their shared libraries, so
                        that exec phases run the same reference tool on every
                        platform */
    size_t ntools;
    int role;        /* LAUNCH_ROLE_MEASURED, or LAUNCH_ROLE_SERVER: it only serves
                        network phases (an iperf server on this host), is not
                        measured and takes no part in other phases */
    int line;        /* where it was written in the experiment (0: command line) */
};
enum { LAUNCH_ROLE_MEASURED = 0, LAUNCH_ROLE_SERVER = 1 };

/* Free a spec's strings (not the spec itself). */
static inline void launch_spec_free(struct launch_spec *spec)
{
    free(spec->name);
    free(spec->kind);
    free(spec->image);
    free(spec->kernel);
    free(spec->accel);
    free(spec->volume);
    for (size_t i = 0; i < spec->ntools; i++)
        free(spec->tools[i]);
    free(spec->tools);
    memset(spec, 0, sizeof *spec);
}

#endif
