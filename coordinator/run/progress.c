/* progress.c — the live status line of `lockstep run` and its plain-log
 * fallback.  The line is redrawn at most five times a second with "\r",
 * clear-to-end, text, "\r": the cursor stays at its start, so a log record
 * printed meanwhile overwrites it and the next redraw appears below. */
#include "progress.h"

#include "coord_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define REDRAW_NS (200 * NS_PER_MS)
#define STEP_OVERHEAD_NS (100 * NS_PER_MS) /* PREPARE, READY, commit: per step */

static struct {
    bool on, live;
    progress_mode_t mode;
    const coord_t *c;
    int64_t t0, last_draw;
    double *weight;          /* expected ns of each phase, all repetitions */
    double total;
    size_t phase;
    int rep;
    struct cworker **set;
    size_t nset;
    bool drawn;
} s_p;

/* As sched.c selects: an entry names a worker or its platform. */
static bool s_names(const char *entry, const struct cworker *w)
{
    return strcmp(entry, w->name) == 0 || strcmp(entry, w->platform) == 0;
}

static size_t s_participants(const coord_t *c, const struct exp_phase *ph)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nworkers; i++) {
        const struct cworker *w = c->workers[i];
        bool named = !ph->workers, server = false;
        for (size_t k = 0; ph->workers && k < ph->nworkers; k++)
            named |= s_names(ph->workers[k], w);
        for (size_t k = 0; k < ph->nservers; k++)
            server |= s_names(ph->servers[k], w);
        n += named && !server;
    }
    return n;
}

void progress_begin(const coord_t *c, progress_mode_t mode)
{
    free(s_p.weight);
    free(s_p.set);
    memset(&s_p, 0, sizeof s_p);
    s_p.mode = mode;
    s_p.c = c;
    s_p.t0 = clock_mono_ns();
    if (mode == PROGRESS_QUIET)
        return;
    const char *term = getenv("TERM");
    s_p.live = isatty(STDERR_FILENO) && !(term && strcmp(term, "dumb") == 0);
    s_p.on = true;
    const struct experiment *exp = c->exp;
    s_p.weight = calloc(exp->nphases + 1, sizeof *s_p.weight);
    for (size_t p = 0; s_p.weight && p < exp->nphases; p++) {
        const struct exp_phase *ph = &exp->phases[p];
        /* 0 is "unknown" or instant (null): only the overheads count then;
         * the measured pace corrects the rest */
        int64_t run = ph->bench->expected_ns ? ph->bench->expected_ns(ph->opts) : 0;
        if (run < 0)
            run = 0;
        size_t n = s_participants(c, ph);
        /* round-robin and network phases take turns; lockstep runs them together */
        size_t steps = ph->schedule == SCHED_ROUND_ROBIN || ph->nservers || ph->ntargets
                           ? (n ? n : 1) : 1;
        s_p.weight[p] = (double)ph->reps * (double)steps *
                        (double)(run + exp->start_delay_ns + STEP_OVERHEAD_NS);
        s_p.total += s_p.weight[p];
    }
}

static size_t s_done(void)
{
    size_t k = 0;
    for (size_t i = 0; i < s_p.nset; i++) {
        const struct cworker *w = s_p.set[i];
        k += !w->lost && w->phase == (int)s_p.phase && w->rep == s_p.rep && w->step == STEP_DONE;
    }
    return k;
}

static size_t s_lost(void)
{
    size_t n = 0;
    for (size_t i = 0; s_p.c && i < s_p.c->nworkers; i++)
        n += s_p.c->workers[i]->lost;
    return n;
}

static void s_clock(int64_t ns, char *buf, size_t len)
{
    int64_t s = ns / NS_PER_SEC;
    if (s >= 3600)
        snprintf(buf, len, "%d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
    else
        snprintf(buf, len, "%d:%02d", (int)(s / 60), (int)(s % 60));
}

/* Remaining time: the expected durations left, scaled by the pace so far
 * once enough is done to measure it. */
static int64_t s_eta(int64_t elapsed)
{
    if (!s_p.weight || s_p.total <= 0)
        return -1;
    const struct experiment *exp = s_p.c->exp;
    double done = 0;
    for (size_t p = 0; p < s_p.phase && p < exp->nphases; p++)
        done += s_p.weight[p];
    if (s_p.phase < exp->nphases && s_p.rep > 0) {
        double reps = exp->phases[s_p.phase].reps;
        double part = s_p.nset ? (double)s_done() / (double)s_p.nset : 0;
        done += s_p.weight[s_p.phase] * ((s_p.rep - 1) + part) / reps;
    }
    if (done >= 0.05 * s_p.total)
        return (int64_t)((double)elapsed * (s_p.total - done) / done);
    double left = s_p.total - (double)elapsed;
    return left > 0 ? (int64_t)left : 0;
}

void progress_format(char *buf, size_t len)
{
    if (!s_p.c || !s_p.c->exp) {
        snprintf(buf, len, "starting");
        return;
    }
    const struct experiment *exp = s_p.c->exp;
    int64_t elapsed = clock_mono_ns() - s_p.t0;
    char el[32], eta[32] = "?";
    s_clock(elapsed, el, sizeof el);
    int64_t left = s_eta(elapsed);
    if (left >= 0)
        s_clock(left, eta, sizeof eta);
    size_t p = s_p.phase < exp->nphases ? s_p.phase : exp->nphases - 1;
    snprintf(buf, len, "phase %zu/%zu %s | rep %d/%d | workers %zu/%zu done | %s elapsed, ETA %s "
                       "| %zu lost",
             p + 1, exp->nphases, exp->phases[p].name, s_p.rep, exp->phases[p].reps, s_done(),
             s_p.nset, el, eta, s_lost());
}

static void s_clear(void)
{
    if (s_p.live && s_p.drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        s_p.drawn = false;
    }
}

static void s_draw(void)
{
    char line[512];
    progress_format(line, sizeof line);
    /* never wrap: a wrapped line cannot be redrawn in place */
    struct winsize ws;
    size_t width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 ? ws.ws_col : 80;
    if (strlen(line) >= width)
        line[width - 1] = '\0';
    fprintf(stderr, "\r\033[K%s\r", line);
    fflush(stderr);
    s_p.drawn = true;
    s_p.last_draw = clock_mono_ns();
}

void progress_phase(const coord_t *c, size_t idx)
{
    const struct experiment *exp = c->exp;
    const struct exp_phase *ph = &exp->phases[idx];
    s_p.phase = idx;
    s_p.rep = 0;
    s_p.nset = 0;
    if (!s_p.on) {
        log_info("phase %zu/%zu %s (%s, %s, %d reps)", idx + 1, exp->nphases, ph->name,
                 ph->bench->name, sched_name(ph->schedule), ph->reps);
        return;
    }
    char el[32], eta[32] = "?";
    int64_t elapsed = clock_mono_ns() - s_p.t0, left = s_eta(elapsed);
    s_clock(elapsed, el, sizeof el);
    if (left >= 0)
        s_clock(left, eta, sizeof eta);
    s_clear();
    log_info("phase %zu/%zu %s (%s, %s, %d reps): %s elapsed, ETA %s, %zu lost", idx + 1,
             exp->nphases, ph->name, ph->bench->name, sched_name(ph->schedule), ph->reps, el, eta,
             s_lost());
    /* the line is drawn when the first repetition starts */
}

void progress_rep(int rep, struct cworker *const *set, size_t n)
{
    s_p.rep = rep;
    if (!s_p.on)
        return;
    struct cworker **copy = realloc(s_p.set, (n ? n : 1) * sizeof *copy);
    if (copy) {
        memcpy(copy, set, n * sizeof *copy);
        s_p.set = copy;
        s_p.nset = n;
    }
    if (s_p.mode == PROGRESS_VERBOSE) {
        s_clear();
        log_info("%s rep %d/%d: %zu workers", s_p.c->exp->phases[s_p.phase].name, rep,
                 s_p.c->exp->phases[s_p.phase].reps, n);
    }
    if (s_p.live)
        s_draw();
}

void progress_tick(void)
{
    if (s_p.on && s_p.live && clock_mono_ns() - s_p.last_draw >= REDRAW_NS)
        s_draw();
}

void progress_end(void)
{
    s_clear();
    free(s_p.weight);
    free(s_p.set);
    memset(&s_p, 0, sizeof s_p);
}
