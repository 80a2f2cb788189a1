/* platforms.h — `lockstep run --platforms native,docker,qemu,kvm`: one worker
 * per platform instance on this host, started through the launchers
 * (launch.h), admitted like any worker, stopped and removed at the end. */
#ifndef LOCKSTEP_PLATFORMS_H
#define LOCKSTEP_PLATFORMS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "coord.h"
#include "model/experiment.h"

typedef struct platforms platforms_t;

/* The instances to start: the comma-separated names in list, each an entry
 * of the experiment's `platforms:` or a kind with its default settings; or,
 * with list NULL, every entry of `platforms:`.  NULL with a message naming
 * the bad name. */
platforms_t *platforms_new(const struct experiment *exp, const char *list, char *err,
                           size_t errlen);
size_t platforms_count(const platforms_t *p);

/* CURVE for the launched workers: certificates of every instance in dir
 * (lockstep keygen DIR --workers NAMES laid it out: --keys DIR) ... */
void platforms_use_keys(platforms_t *p, const char *dir);
/* ... or a key pair minted now for the coordinator and each instance, in a
 * directory removed by platforms_stop (or swept after a crash).  The
 * directory for coord_new's keys_dir, or NULL with a message. */
const char *platforms_mint_keys(platforms_t *p, char *err, size_t errlen);

/* Clean up after dead runs, then check and start every instance; ones
 * whose check or start fails are skipped with the reason (logged and
 * stored).  Points c's expected names and launch callbacks at the
 * instances.  Returns how many started; -1 when require_all and one could
 * not (those started are stopped again), or on a local failure (message in
 * err). */
int platforms_start(platforms_t *p, coord_t *c, const char *worker_bin, bool require_all,
                    bool verbose, volatile sig_atomic_t *stop, char *err, size_t errlen);
/* After admission: instances whose worker never registered are recorded as
 * failed with what their log says; a worker whose own detection differs
 * from the platform it was started as is reported.  Returns how many are
 * missing. */
size_t platforms_admitted(platforms_t *p, coord_t *c);
/* Stop and remove every instance (waiting up to grace_ms for each to end by
 * itself after QUIT), then the run's state directory.  Idempotent. */
void platforms_stop(platforms_t *p, int grace_ms);
/* "platforms:" lines for the end-of-run summary. */
void platforms_summary(const platforms_t *p, const coord_t *c, FILE *out);
void platforms_destroy(platforms_t **p_p);

#endif
