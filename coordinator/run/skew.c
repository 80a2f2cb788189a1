/* skew.c — the start skew of lockstep repetitions (the spread of the
 * workers' start instants): stored per repetition, logged per phase, and
 * summarised at the end of a run with each phase's tolerance. */
#include "schedule.h"
#include "sched_int.h"

#include <stdlib.h>

#include "log.h"

void sched_record_skew(coord_t *c, int pidx, int rep, int64_t go_at, int64_t skew,
                       int64_t err, const struct store_rep_cost *cost,
                       const struct cworker *first, const struct cworker *last)
{
    const struct exp_phase *ph = &c->exp->phases[pidx];
    store_rep_timing(c->store, c->run, pidx, rep, go_at, skew, err);
    store_rep_cost(c->store, c->run, pidx, rep, cost);
    if (!c->skew)
        c->skew = calloc(c->exp->nphases, sizeof *c->skew);
    struct phase_skew *ps = &c->skew[pidx];
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 16;
        ps->skew_ns = realloc(ps->skew_ns, ps->cap * sizeof *ps->skew_ns);
    }
    ps->skew_ns[ps->n++] = skew;
    ps->err_ns = err > ps->err_ns ? err : ps->err_ns;
    ps->over += cost->over_tolerance;
    if (cost->barrier_ns > ps->barrier_max_ns)
        ps->barrier_max_ns = cost->barrier_ns;
    if (cost->over_tolerance)
        log_warn("%s rep %d: start skew %.1f us (+/- %.1f us) exceeds the tolerance of %.1f us: "
                 "%s started last, %.1f us after %s and %.1f us after the start instant",
                 ph->name, rep, skew / 1e3, err / 1e3, cost->skew_tolerance_ns / 1e3,
                 last ? last->name : "?", skew / 1e3, first ? first->name : "?",
                 last ? (double)(last->started_at - go_at) / 1e3 : 0.0);
    else
        log_debug("%s rep %d: start skew %.1f us (+/- %.1f us), barrier %.2f ms, GO sent in "
                  "%.3f ms, results in %.2f ms", ph->name, rep, skew / 1e3, err / 1e3,
                  cost->barrier_ns / 1e6, cost->go_send_ns / 1e6, cost->collect_ns / 1e6);
}


static int s_cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Median and max of a phase's skews (sorts them). */
static void s_skew_stats(struct phase_skew *ps, int64_t *median, int64_t *max)
{
    qsort(ps->skew_ns, ps->n, sizeof *ps->skew_ns, s_cmp64);
    *median = ps->n % 2 ? ps->skew_ns[ps->n / 2]
                        : (ps->skew_ns[ps->n / 2 - 1] + ps->skew_ns[ps->n / 2]) / 2;
    *max = ps->skew_ns[ps->n - 1];
}

void sched_log_phase_skew(coord_t *c, size_t p)
{
    struct phase_skew *ps = c->skew ? &c->skew[p] : NULL;
    if (!ps || ps->n == 0)
        return;
    int64_t med, max;
    s_skew_stats(ps, &med, &max);
    log_info("phase %s: start skew median %.1f us, max %.1f us (+/- %.1f us) over %zu "
             "repetitions%s",
             c->exp->phases[p].name, med / 1e3, max / 1e3, ps->err_ns / 1e3, ps->n,
             ps->over ? ", some over the tolerance" : "");
}

void sched_skew_summary(coord_t *c, FILE *out)
{
    bool any = false;
    for (size_t p = 0; c->skew && p < c->exp->nphases; p++)
        any |= c->skew[p].n > 0;
    if (!any)
        return;
    fprintf(out, "start skew (max - min start of a repetition, coordinator clock):\n");
    fprintf(out, "  %-20s %5s %12s %12s %12s %10s\n", "phase", "reps", "median us", "max us",
            "+/- us", "tolerance");
    for (size_t p = 0; p < c->exp->nphases; p++) {
        struct phase_skew *ps = &c->skew[p];
        if (ps->n == 0)
            continue;
        const struct exp_phase *ph = &c->exp->phases[p];
        int64_t med, max;
        s_skew_stats(ps, &med, &max);
        char tol[48];
        if (ph->skew_tolerance_ns <= 0)
            snprintf(tol, sizeof tol, "-");
        else if (ps->over)
            snprintf(tol, sizeof tol, "EXCEEDED %zu/%zu (%.0f us)", ps->over, ps->n,
                     ph->skew_tolerance_ns / 1e3);
        else
            snprintf(tol, sizeof tol, "ok (%.0f us)", ph->skew_tolerance_ns / 1e3);
        fprintf(out, "  %-20s %5zu %12.1f %12.1f %12.1f %10s\n", ph->name, ps->n, med / 1e3,
                max / 1e3, ps->err_ns / 1e3, tol);
    }
}
