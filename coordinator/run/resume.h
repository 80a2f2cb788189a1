/* resume.h — finishing a run whose coordinator died: which run, with which
 * experiment and workers, and where its local workers kept their spools.
 * See docs/guarantees.md for what a resumed run promises. */
#ifndef LOCKSTEP_RESUME_H
#define LOCKSTEP_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coord.h"
#include "model/experiment.h"
#include "store/store.h"

/* "HOST PID STARTTIME" of this process: who owns a run it begins. */
void resume_owner(char *buf, size_t len);

/* Which run `lockstep run` goes on with.  resume_id > 0 (--resume RUN): that
 * run, which must not be finished or owned by a live coordinator.  Else,
 * unless fresh (--new), the newest run of exp that is still marked running
 * and whose coordinator is gone, when its experiment text is exp's.  On a
 * resume, 1 and *run_p set (store_run_info_free it) and *exp_p replaced by
 * the run's own experiment; 0 for a new run; or -(EXIT_* status) after
 * printing why.  exp may be NULL with resume_id (no FILE given). */
int resume_find(store_t *store, int64_t resume_id, bool fresh, struct experiment **exp_p,
                struct store_run_info *run_p);

/* Set c up to continue run: its id and wire key, the phases already
 * started, the workers it had (they are expected again unless the command
 * line says whom to expect).  0, or -1 with a message. */
int resume_apply(coord_t *c, const struct store_run_info *run, char *err, size_t errlen);

#endif
