/* image_vm.h — the VM image, one recipe: which kernel and modules boot the
 * worker VMs, and their initramfs (lockstep-vm-init as /init, the worker,
 * its companions and tools, their libraries, the virtio modules, and the
 * worker's CURVE certificates when it has some).  The qemu and kvm
 * launchers boot it; `lockstep image vm` writes it for the Ansible role. */
#ifndef LOCKSTEP_IMAGE_VM_H
#define LOCKSTEP_IMAGE_VM_H

#include <limits.h>
#include <stddef.h>

#define IMAGE_VM_KERNEL_CACHE "/var/cache/lockstep/kernel"
#define IMAGE_VM_MAX_MODULES 32

/* An unpacked kernel package: <root>/boot/vmlinuz-<ver> and
 * <root>/lib/modules/<ver>/. */
struct image_vm_kernel {
    char vmlinuz[PATH_MAX];
    char ver[128];
    char moddir[PATH_MAX];                  /* <root>/lib/modules/<ver> */
    char *modules[IMAGE_VM_MAX_MODULES];    /* paths relative to moddir, load order */
    size_t nmodules;
};

/* The kernel: path (an experiment's `kernel:`; NULL or "": none), else
 * $LOCKSTEP_KERNEL, else the newest package under IMAGE_VM_KERNEL_CACHE;
 * its version from the file name.  0, or -1 with what is missing. */
int image_vm_kernel_find(const char *path, struct image_vm_kernel *k, char *why, size_t len);
/* The modules the guest loads, in load order, found through the kernel's
 * modules.order.  0, or -1 with the module missing; then nothing to free. */
int image_vm_kernel_modules(struct image_vm_kernel *k, char *why, size_t len);
void image_vm_kernel_free(struct image_vm_kernel *k);

/* lockstep-vm-init: $LOCKSTEP_VM_INIT, else beside the worker (a build
 * tree), else ../lib/lockstep/ from it (an install).  0, or -1 saying
 * where it looked. */
int image_vm_find_init(const char *worker, char *out, size_t len, char *why, size_t wlen);

/* What goes into an initramfs.  tools: absolute paths, one a line (see
 * launch_tools), put in /bin; cert and server_cert: NULL for none. */
struct image_vm_content {
    const char *worker;
    const char *init;
    const char *tools;
    const char *cert;
    const char *server_cert;
    const struct image_vm_kernel *kernel; /* with its modules */
};

/* Write the initramfs, an uncompressed cpio "newc" archive, to path
 * (through path.tmp, renamed when complete).  The same inputs give the
 * same bytes: no time stamps, owned by root.  0, or -1 with a message. */
int image_vm_initramfs(const char *path, const struct image_vm_content *c, char *err,
                       size_t errlen);
/* Write a cpio holding only a worker's certificates, where
 * lockstep-vm-init looks for them, to append to a shared initramfs (Linux
 * unpacks concatenated archives in turn).  Mode 0600.  0, or -1. */
int image_vm_certs(const char *path, const char *cert, const char *server_cert, char *err,
                   size_t errlen);

#endif
