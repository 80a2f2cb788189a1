/* fsutil.h — file-system chores shared by the coordinator and the worker.
 * One way to delete a tree: the docker context, the launchers' state
 * directories and the run's spool all go through fs_rmtree; one way to read
 * a whole file (a VM's console log, the kernel's module lists and socket
 * tables): fs_slurp. */
#ifndef LOCKSTEP_FSUTIL_H
#define LOCKSTEP_FSUTIL_H

#include <stddef.h>

/* Remove DIR and everything below it, depth first, without following
 * symbolic links or crossing into another mounted file system.  A path that
 * is already gone is not an error.  Returns 0, or -1 with errno set to the
 * first failure (the walk goes on and removes what it can). */
int fs_rmtree(const char *dir);

/* A whole file, NUL-terminated (its length in *len_p when not NULL), to
 * free(); NULL when it cannot be read. */
char *fs_slurp(const char *path, size_t *len_p);

#endif
