/* closure.c — a program's ELF interpreter (read from its program headers)
 * and its shared libraries (as the host's ldd resolves them), for the
 * launchers and `lockstep image` that ship programs into other roots. */
#define _GNU_SOURCE
#include "closure.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"

int closure_ldd(const char *bin, char *buf, size_t len, char *err, size_t errlen)
{
    char out[16384];
    char *argv[] = { "ldd", (char *)bin, NULL };
    int rc = launch_run(argv, out, sizeof out, 10000, NULL, err, errlen);
    if (rc < 0)
        return -1;
    if (rc != 0) {
        snprintf(err, errlen, "ldd %s: %.*s", bin, (int)strcspn(out, "\n"), out);
        return -1;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (char *save = NULL, *ln = strtok_r(out, "\n", &save); ln;
         ln = strtok_r(NULL, "\n", &save)) {
        /* "\tlibzmq.so.5 => /lib/x86_64-linux-gnu/libzmq.so.5 (0x…)",
         * "\t/lib64/ld-linux-x86-64.so.2 (0x…)", "\tlinux-vdso.so.1 (0x…)" */
        if (strstr(ln, "not found")) {
            snprintf(err, errlen, "%s needs a library that is not installed: %s", bin,
                     ln + strspn(ln, " \t"));
            return -1;
        }
        char *arrow = strstr(ln, "=> ");
        char *path = arrow ? arrow + 3 : ln + strspn(ln, " \t");
        if (*path != '/')
            continue; /* the vDSO */
        size_t n = strcspn(path, " (");
        if (used + n + 2 > len) {
            snprintf(err, errlen, "ldd %s: too many libraries", bin);
            return -1;
        }
        memcpy(buf + used, path, n);
        used += n;
        buf[used++] = '\n';
        buf[used] = '\0';
    }
    return 0;
}

/* The program interpreter the binary names (PT_INTERP), "" when static. */
int closure_interp(const char *bin, char *buf, size_t len, char *err, size_t errlen)
{
    buf[0] = '\0';
    int fd = open(bin, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", bin, strerror(errno));
        return -1;
    }
    Elf64_Ehdr eh;
    int rc = -1;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
        snprintf(err, errlen, "%s: not a 64-bit ELF executable", bin);
        goto out;
    }
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        off_t at = (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize);
        if (pread(fd, &ph, sizeof ph, at) != (ssize_t)sizeof ph)
            break;
        if (ph.p_type != PT_INTERP)
            continue;
        if (ph.p_filesz < 2 || ph.p_filesz > len ||
            pread(fd, buf, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz) {
            snprintf(err, errlen, "%s: unreadable program interpreter", bin);
            buf[0] = '\0';
            goto out;
        }
        buf[ph.p_filesz - 1] = '\0';
        break;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

/* Shared libraries of bin (ldd's paths, the interpreter included) appended
 * to libs as lines, without duplicates. */
int closure_add(const char *bin, char *libs, size_t len, char *err, size_t errlen)
{
    char interp[PATH_MAX];
    if (closure_interp(bin, interp, sizeof interp, err, errlen) != 0)
        return -1;
    if (!interp[0])
        return 0; /* static: nothing to ship */
    char mine[16384];
    if (closure_ldd(bin, mine, sizeof mine, err, errlen) != 0)
        return -1;
    size_t used = strlen(libs);
    for (char *save = NULL, *ln = strtok_r(mine, "\n", &save); ln;
         ln = strtok_r(NULL, "\n", &save)) {
        bool seen = false;
        for (const char *p = libs; *p && !seen; p += strcspn(p, "\n") + 1)
            seen = strncmp(p, ln, strcspn(p, "\n")) == 0 && strlen(ln) == strcspn(p, "\n");
        if (seen)
            continue;
        if (used + strlen(ln) + 2 > len) {
            snprintf(err, errlen, "%s: too many shared libraries", bin);
            return -1;
        }
        used += (size_t)sprintf(libs + used, "%s\n", ln);
    }
    return 0;
}

