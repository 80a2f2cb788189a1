/* stats.h — descriptive statistics of one sample (the repetitions of one
 * benchmark on one platform), as `lockstep report` prints them.  Pure code,
 * no I/O: unit-tested against known values. */
#ifndef LOCKSTEP_STATS_H
#define LOCKSTEP_STATS_H

#include <stddef.h>

struct stats {
    size_t n;
    double mean;
    double stddev;      /* sample standard deviation (n - 1); 0 when n < 2 */
    double median;
    double min, max;
    double q1, q3;      /* quartiles, linear interpolation (R type 7, numpy's default) */
    double cv;          /* stddev / |mean|; NAN when the mean is 0 or n < 2 */
    double ci_lo, ci_hi; /* 95 % confidence interval of the mean (Student t, n - 1
                            degrees of freedom); both the mean when n < 2 */
};

/* Summarise x[0..n-1] (need not be sorted; not modified).  Non-finite values
 * must have been left out by the caller.  n == 0 gives n = 0 and NAN elsewhere. */
void stats_compute(const double *x, size_t n, struct stats *out);

/* Quantile p in [0, 1] of sorted[0..n-1], linear interpolation between
 * closest ranks (R type 7).  NAN when n == 0. */
double stats_quantile_sorted(const double *sorted, size_t n, double p);

/* Two-sided 95 % critical value of Student's t with df degrees of freedom
 * (the 0.975 quantile): exact table to 30, Cornish–Fisher expansion beyond
 * (error below 1e-5).  NAN when df < 1. */
double stats_t975(size_t df);

/* v with about four significant digits, without an exponent between 0.0001
 * and 10^7 ("1510", "131.2", "0.0871"); "-" for NAN. */
void stats_format(double v, char *buf, size_t len);

#endif
