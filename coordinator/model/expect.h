/* expect.h — expectations an experiment states about its results, such as
 * "cpu: qemu < 0.5 * native" or "diskRand: kvm ≈ native ± 10%", parsed when
 * the experiment is loaded and checked by `lockstep report` against the
 * medians of each phase per platform.  The syntax is documented in
 * docs/experiment-format.md ("Expectations").  Pure code, no I/O. */
#ifndef LOCKSTEP_EXPECT_H
#define LOCKSTEP_EXPECT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { EXPECT_LT, EXPECT_LE, EXPECT_GT, EXPECT_GE, EXPECT_APPROX } expect_op_t;

/* One side: factor * (median of platform), or a constant when platform is "". */
struct expect_side {
    char platform[64];
    double factor;
};

struct expectation {
    char phase[129];              /* the phase whose headline metric is compared */
    struct expect_side lhs, rhs;
    expect_op_t op;
    double tol;                   /* EXPECT_APPROX: allowed difference */
    bool tol_percent;             /* tol is a percentage of the right side */
};

/* Parse "PHASE: SIDE OP SIDE" (see the header comment).  0, or -1 with a
 * message in err and *errcol set to the 0-based character (not byte) offset
 * in text where the problem is. */
int expect_parse(const char *text, struct expectation *e, char *err, size_t errlen,
                 size_t *errcol);

/* The expectation written back in canonical form ("cpu: qemu < 0.5 × native"). */
void expect_format(const struct expectation *e, char *buf, size_t len);

typedef enum { EXPECT_CONFIRMED, EXPECT_REFUTED, EXPECT_NO_DATA } expect_verdict_t;

const char *expect_verdict_name(expect_verdict_t v); /* "confirmed", "refuted", "no data" */

/* The median of phase on platform: true and *median, or false when there is
 * no such result. */
typedef bool (*expect_lookup_fn)(void *ctx, const char *phase, const char *platform,
                                 double *median);

/* Evaluate e with the medians lookup gives; why receives the numbers behind
 * the verdict ("qemu 131 < 0.5 × native 1510 = 755; qemu/native = 0.087"). */
expect_verdict_t expect_eval(const struct expectation *e, expect_lookup_fn lookup, void *ctx,
                             char *why, size_t whylen);

#endif
