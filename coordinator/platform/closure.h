/* closure.h — what a program needs to run on another root file system (a
 * container built FROM scratch, a VM's initramfs): its ELF program
 * interpreter and the shared libraries the host's loader resolves for it.
 * One helper, so that the docker image and the VM initramfs ship the same
 * closure of the worker, its companions and the tools. */
#ifndef LOCKSTEP_CLOSURE_H
#define LOCKSTEP_CLOSURE_H

#include <stddef.h>

/* The program interpreter bin names (PT_INTERP) in buf, "" when it is
 * statically linked.  0, or -1 when it is no readable 64-bit ELF file. */
int closure_interp(const char *bin, char *buf, size_t len, char *err, size_t errlen);
/* The shared libraries a dynamically linked binary needs (resolved paths,
 * as ldd prints them, plus the program interpreter), one per line in buf.
 * 0, or -1 with a message (a library the host lacks is named). */
int closure_ldd(const char *bin, char *buf, size_t len, char *err, size_t errlen);
/* The shared libraries of bin (closure_ldd's lines) appended to libs, each
 * line once; nothing for a static binary.  0, or -1 with a message. */
int closure_add(const char *bin, char *libs, size_t len, char *err, size_t errlen);

#endif
