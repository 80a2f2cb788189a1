/* ticker.c — periodic duties of the event loops (ticker.h). */
#include "ticker.h"

#include "clock.h"

void ticker_init(ticker_t *t, int64_t period_ns)
{
    t->period_ns = period_ns;
    t->last_ns = 0;
}

bool ticker_ready(const ticker_t *t, int64_t now) { return now - t->last_ns >= t->period_ns; }

bool ticker_due(ticker_t *t, int64_t now)
{
    if (!ticker_ready(t, now))
        return false;
    t->last_ns = now;
    return true;
}

void ticker_touch(ticker_t *t, int64_t now) { t->last_ns = now; }

int64_t ticker_next(const ticker_t *t) { return t->last_ns + t->period_ns; }

int ticker_wait_ms(int64_t now, int cap_ms, const ticker_t *const *t, size_t n)
{
    int64_t wait = (int64_t)cap_ms * NS_PER_MS;
    for (size_t i = 0; i < n; i++) {
        if (!t[i])
            continue;
        int64_t left = ticker_next(t[i]) - now;
        if (left < wait)
            wait = left;
    }
    if (wait <= 0)
        return 0;
    return (int)((wait + NS_PER_MS - 1) / NS_PER_MS); /* never wake just short of it */
}
