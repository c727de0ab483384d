/* Percentiles of the per-case worst scaled error, overall and per H band. */
#include "report_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Bands follow the regimes of the reference: a handful of classes, a
 * vocabulary slice, a typical classifier head, a language-model vocabulary. */
const xc__h_band xc__h_bands[XC__NBANDS] = {
    { "1-16", 1, 16 },
    { "17-256", 17, 256 },
    { "257-4096", 257, 4096 },
    { "4097+", 4097, UINT32_MAX },
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double xc__percentile(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)ceil(p * (double)n);
    return v[rank ? rank - 1 : 0];
}

static int in_band(const xc__sample *s, const xc__h_band *band)
{
    return !band || (s->classes >= band->min_classes &&
                     s->classes <= band->max_classes);
}

/* The worst scaled errors of the samples in BAND, sorted; *N their count. */
static double *sorted_errors(const xc__target_report *t, const xc__h_band *band,
                             size_t *n, double *max_ratio)
{
    double *v = malloc((t->nsamples ? t->nsamples : 1) * sizeof *v);
    *n = 0;
    *max_ratio = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < t->nsamples; i++) {
        const xc__sample *s = &t->samples[i];
        if (!in_band(s, band))
            continue;
        v[(*n)++] = s->worst_scaled;
        if (s->worst_ratio > *max_ratio || isnan(s->worst_ratio))
            *max_ratio = s->worst_ratio;
    }
    if (*n)
        qsort(v, *n, sizeof *v, cmp_double);
    return v;
}

int xc__sample_stats_of(const xc__target_report *t, const xc__h_band *band,
                        xc__sample_stats *out)
{
    size_t n = 0;
    double max_ratio = 0;
    double *v = sorted_errors(t, band, &n, &max_ratio);
    *out = (xc__sample_stats){ 0 };
    if (!v)
        return -1;
    *out = (xc__sample_stats){
        .count = n, .p50 = xc__percentile(v, n, 0.50),
        .p90 = xc__percentile(v, n, 0.90), .p99 = xc__percentile(v, n, 0.99),
        .max = n ? v[n - 1] : 0, .max_ratio = max_ratio,
    };
    free(v);
    return 0;
}

int xc__accuracy_set_percentiles(xc__target_report *t)
{
    xc__sample_stats s;
    if (xc__sample_stats_of(t, NULL, &s) != 0)
        return -1;
    t->accuracy.p50 = s.p50;
    t->accuracy.p90 = s.p90;
    t->accuracy.p99 = s.p99;
    return 0;
}

void xc__format_float(char *buf, size_t len, float v)
{
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, len, "%.*g", digits, (double)v);
        if (strtof(buf, NULL) == v)
            return;
    }
}

const char *xc__verdict_text(const xc__target_report *t)
{
    if (t->pass)
        return "pass";
    if ((t->finding || t->nexpected) && t->expected_ok)
        return "expected failure";
    return "fail";
}
