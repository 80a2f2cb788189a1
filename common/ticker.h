/* ticker.h — periodic duties (heartbeats, SYNC, liveness checks, spool
 * re-sends) for the coordinator's and the worker's event loops.  Both loops
 * poll their sockets with a timeout and then do whatever duty is due; one
 * small timer type says when a duty is due and how long the poll may sleep,
 * instead of each loop keeping its own "last done" clocks and arithmetic.
 * Times are monotonic nanoseconds (clock_mono_ns). */
#ifndef LOCKSTEP_TICKER_H
#define LOCKSTEP_TICKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ticker {
    int64_t period_ns;
    int64_t last_ns; /* when the duty was last done; 0: never, so due at once */
} ticker_t;

/* A duty every period_ns, due at once. */
void ticker_init(ticker_t *t, int64_t period_ns);
/* Is the duty due at now?  Then it counts as done now (the next one is a
 * period later). */
bool ticker_due(ticker_t *t, int64_t now);
/* Would it be due at now (nothing changes)? */
bool ticker_ready(const ticker_t *t, int64_t now);
/* The duty was done off schedule at now (a heartbeat sent as an answer):
 * the next one is a period from now. */
void ticker_touch(ticker_t *t, int64_t now);
/* When the duty is next due. */
int64_t ticker_next(const ticker_t *t);
/* How long a poll at now may sleep, in ms: until the first of the n
 * tickers is due (NULL entries are duties with nothing to do), at most
 * cap_ms; 0 when one is due already. */
int ticker_wait_ms(int64_t now, int cap_ms, const ticker_t *const *t, size_t n);

#endif
