/* fsutil.c — see fsutil.h. */
#define _GNU_SOURCE /* nftw: FTW_PHYS, FTW_MOUNT */
#include "fsutil.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* nftw passes no user pointer: the first failure of the walk in progress.
 * Trees are removed from one thread at a time (the launchers' and the run's
 * cleanup), so a file-scope variable is enough. */
static int s_first_errno;

static int s_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0 && errno != ENOENT && s_first_errno == 0)
        s_first_errno = errno;
    return 0; /* go on: remove what can be removed */
}

int fs_rmtree(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    s_first_errno = 0;
    if (nftw(dir, s_remove, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0 && s_first_errno == 0)
        s_first_errno = errno;
    /* FTW_MOUNT skips a mounted file system below DIR: its mount point stays,
     * and so does DIR; say so rather than pretend */
    if (s_first_errno == 0 && lstat(dir, &st) == 0)
        s_first_errno = ENOTEMPTY;
    if (s_first_errno != 0) {
        errno = s_first_errno;
        return -1;
    }
    return 0;
}

char *fs_slurp(const char *path, size_t *len_p)
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
