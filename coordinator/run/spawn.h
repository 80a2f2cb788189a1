/* spawn.h — local workers started by the coordinator (`--local N`), like
 * mpirun's ranks: forked and exec'd, watched, and reaped at the end. */
#ifndef LOCKSTEP_SPAWN_H
#define LOCKSTEP_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

typedef struct spawn spawn_t;

spawn_t *spawn_new(void);
/* Where lockstep-worker is: $LOCKSTEP_WORKER, else beside this executable,
 * else "lockstep-worker" from PATH. */
const char *spawn_worker_path(char *buf, size_t len);
/* Start argv (argv[0] = program).  0, or -1 with a message. */
int spawn_start(spawn_t *s, const char *name, char *const argv[], char *err, size_t errlen);
/* Collect children that exited, logging how. */
void spawn_reap(spawn_t *s);
/* Wait up to grace_ms for every child to end, then SIGTERM, then SIGKILL. */
void spawn_stop_all(spawn_t *s, int grace_ms);
size_t spawn_running(const spawn_t *s);
void spawn_destroy(spawn_t **s_p);

#endif
