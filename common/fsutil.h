/* fsutil.h — file-system chores shared by the coordinator and the worker.
 * One way to delete a tree: the docker context, the launchers' state
 * directories and the run's spool all go through fs_rmtree. */
#ifndef LOCKSTEP_FSUTIL_H
#define LOCKSTEP_FSUTIL_H

/* Remove DIR and everything below it, depth first, without following
 * symbolic links or crossing into another mounted file system.  A path that
 * is already gone is not an error.  Returns 0, or -1 with errno set to the
 * first failure (the walk goes on and removes what it can). */
int fs_rmtree(const char *dir);

#endif
