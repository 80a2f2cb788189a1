/* resume.h — finishing a run whose coordinator died: which run, with which
 * experiment and workers, and where its local workers kept their spools.
 * See docs/guarantees.md for what a resumed run promises. */
#ifndef LOCKSTEP_RESUME_H
#define LOCKSTEP_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "coord.h"
#include "model/experiment.h"
#include "store/store.h"

/* "HOST PID STARTTIME" of this process: who owns a run it begins. */
void resume_owner(char *buf, size_t len);

/* What resume_find decided, or why it could not. */
typedef enum {
    RESUME_NEW = 0,        /* a new run */
    RESUME_RUN = 1,        /* go on with the run found */
    RESUME_E_INVALID = -1, /* the caller's mistake (no such run, a complete one) */
    RESUME_E_FAIL = -2,    /* it cannot be done (the run is in progress, its
                              experiment no longer loads, the database failed) */
} resume_t;

/* Which run `lockstep run` goes on with.  resume_id > 0 (--resume RUN): that
 * run, which must not be finished or owned by a live coordinator.  Else,
 * unless fresh (--new), the newest run of exp that is still marked running
 * and whose coordinator is gone, when its experiment text is exp's.  On
 * RESUME_RUN *run_p is set (store_run_info_free it) and *exp_p replaced by
 * the run's own experiment (its problems, if it no longer loads, go to
 * diag); an error has its message in err.  exp may be NULL with resume_id
 * (no FILE given). */
resume_t resume_find(store_t *store, int64_t resume_id, bool fresh, struct experiment **exp_p,
                     struct store_run_info *run_p, FILE *diag, char *err, size_t errlen);

/* Set c up to continue run: its id and wire key, the phases already
 * started, the workers it had (they are expected again unless the command
 * line says whom to expect).  0, or -1 with a message. */
int resume_apply(coord_t *c, const struct store_run_info *run, char *err, size_t errlen);

#endif
