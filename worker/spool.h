/* spool.h — results kept on the worker's disk until the coordinator has
 * acknowledged them: written and fsynced before they are sent, deleted only
 * after the ACK, re-sent after a reconnect. */
#ifndef LOCKSTEP_SPOOL_H
#define LOCKSTEP_SPOOL_H

#include <stddef.h>
#include <stdint.h>

/* Create dir (and parents).  0 or -1 with a message. */
int spool_init(const char *dir, char *err, size_t errlen);
int spool_put(const char *dir, int64_t run, int phase, int rep, const void *data, size_t len,
              char *err, size_t errlen);
int spool_del(const char *dir, int64_t run, int phase, int rep);
/* Call fn for every spooled result of run (the run's wire key), in
 * phase/rep order; returns how many.  Results of other runs stay on disk
 * for the coordinator that owns them. */
int spool_each(const char *dir, int64_t run, void (*fn)(const void *data, size_t len, void *arg),
               void *arg);

#endif
