/* forksum.h — what the fork plug-in (bench/fork.c) and its helper
 * process lockstep-forksum (bench/forksum.c) say to each other.  The helper
 * exists because fork's cost grows with the forking process's mappings: the
 * trees are forked from a small libc-only process, not from the worker.
 *
 * The plug-in runs   lockstep-forksum START END TIME_NS TREES
 * (TIME_NS 0 = no time limit, TREES 0 = no tree limit; one of them is set),
 * with the write end of a pipe as the helper's stdout.  SIGTERM asks the
 * helper to stop after the tree in hand.  On exit it writes one line:
 *
 *   forksum trees T forks F ns N last_sum S last_forks L what W errno E
 *
 * T trees completed and checked, F forks in them, N nanoseconds the trees
 * took (the helper's own CLOCK_MONOTONIC, its start-up not counted); S and L
 * are the sum and forks of a tree that came out wrong and ended the run (W is
 * FS_OK then), else the expected ones; W/E say what failed (FS_*) with its
 * errno or, for FS_STATUS, the child's exit status or signal. */
#ifndef LOCKSTEP_FORKSUM_H
#define LOCKSTEP_FORKSUM_H

#define FORKSUM_HELPER "lockstep-forksum"
#define FORKSUM_ENV "LOCKSTEP_FORKSUM"
#define FORKSUM_FORMAT "forksum trees %lld forks %lld ns %lld last_sum %lld last_forks %lld what %d errno %d\n"

/* What went wrong in a tree, passed up from child to parent and from the
 * helper to the plug-in. */
enum { FS_OK = 0, FS_PIPE, FS_FORK, FS_LOST, FS_STATUS, FS_USAGE };

#endif
