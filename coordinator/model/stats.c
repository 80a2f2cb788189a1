/* stats.c — mean, spread, quartiles and a Student-t confidence interval of a
 * small sample.  Benchmarks are repeated 5 to 10 times, so the interval uses
 * t with n - 1 degrees of freedom, never the normal approximation. */
#include "stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* t(0.975, df) for df = 1..30 (standard tables, 9 decimals). */
static const double s_t975[30] = {
    12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851,
    2.364624252,  2.306004135, 2.262157163, 2.228138852, 2.200985160, 2.178812830,
    2.160368656,  2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.100922040,
    2.093024054,  2.085963447, 2.079613845, 2.073873068, 2.068657610, 2.063898562,
    2.059538553,  2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
};

double stats_t975(size_t df)
{
    if (df < 1)
        return NAN;
    if (df <= 30)
        return s_t975[df - 1];
    /* Cornish–Fisher expansion of t around the normal quantile z */
    const double z = 1.959963984540054, v = (double)df;
    const double z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
    double g1 = (z3 + z) / 4;
    double g2 = (5 * z5 + 16 * z3 + 3 * z) / 96;
    double g3 = (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / 384;
    double g4 = (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / 92160;
    return z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v);
}

double stats_quantile_sorted(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return NAN;
    if (p <= 0)
        return sorted[0];
    if (p >= 1)
        return sorted[n - 1];
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

void stats_compute(const double *x, size_t n, struct stats *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    if (n == 0) {
        out->mean = out->stddev = out->median = out->min = out->max = NAN;
        out->q1 = out->q3 = out->cv = out->ci_lo = out->ci_hi = NAN;
        return;
    }
    double *s = malloc(n * sizeof *s);
    if (!s) {
        stats_compute(NULL, 0, out);
        return;
    }
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, s_cmp);
    /* Welford: no cancellation when the values are large and close together
     * (throughputs of 1e9 differing in the fourth digit) */
    double mean = 0, m2 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = s[i] - mean;
        mean += d / (double)(i + 1);
        m2 += d * (s[i] - mean);
    }
    out->mean = mean;
    out->min = s[0];
    out->max = s[n - 1];
    out->median = stats_quantile_sorted(s, n, 0.5);
    out->q1 = stats_quantile_sorted(s, n, 0.25);
    out->q3 = stats_quantile_sorted(s, n, 0.75);
    if (n >= 2) {
        out->stddev = sqrt(m2 / (double)(n - 1));
        out->cv = mean != 0 ? out->stddev / fabs(mean) : NAN;
        double half = stats_t975(n - 1) * out->stddev / sqrt((double)n);
        out->ci_lo = mean - half;
        out->ci_hi = mean + half;
    } else {
        out->stddev = 0;
        out->cv = NAN;
        out->ci_lo = out->ci_hi = mean;
    }
    free(s);
}

void stats_format(double v, char *buf, size_t len)
{
    double a = fabs(v);
    if (isnan(v))
        snprintf(buf, len, "-");
    else if (a == 0)
        snprintf(buf, len, "0");
    else if (a >= 1000 && a < 1e7)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%.4g", v);
}
