/* Percentiles of the per-case worst scaled error, overall and per H band. */
#include "report_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "props.h"

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

static int failed(const xc__target_report *t, const char *property)
{
    for (size_t i = 0; i < t->nfailures; i++)
        if (t->failures[i].property && strcmp(t->failures[i].property, property) == 0)
            return 1;
    return 0;
}

static int expected(const xc__target_report *t, const char *property)
{
    for (size_t i = 0; i < t->nexpected; i++)
        if (t->expected[i] && strcmp(t->expected[i], property) == 0)
            return 1;
    return 0;
}

int xc__property_rank(const char *name)
{
    for (int i = 0; name && xc__property_names[i]; i++)
        if (strcmp(xc__property_names[i], name) == 0)
            return i;
    return 1 << 20;   /* names this build does not know: last */
}

static int failure_before(const xc__failure *a, const xc__failure *b)
{
    if (a->case_index != b->case_index)
        return a->case_index < b->case_index;
    return xc__property_rank(a->property) < xc__property_rank(b->property);
}

void xc__failures_sort(xc__target_report *t)
{
    for (size_t i = 1; i < t->nfailures; i++) {   /* few: insertion sort */
        xc__failure f = t->failures[i];
        size_t j = i;
        for (; j > 0 && failure_before(&f, &t->failures[j - 1]); j--)
            t->failures[j] = t->failures[j - 1];
        t->failures[j] = f;
    }
}

void xc__finding_settle(xc__target_report *t)
{
    int ok = !t->pass && t->nexpected > 0;
    for (size_t i = 0; ok && i < t->nfailures; i++)
        ok = t->failures[i].property && expected(t, t->failures[i].property);
    for (size_t i = 0; ok && i < t->nexpected; i++)
        ok = t->expected[i] && failed(t, t->expected[i]);
    t->expected_ok = ok;
}

int xc__target_holds(const xc__target_report *t)
{
    if (t->finding || t->nexpected)
        return t->expected_ok;
    return t->pass;
}

const char *xc__verdict_text(const xc__target_report *t)
{
    if (t->pass)
        return "pass";
    if ((t->finding || t->nexpected) && t->expected_ok)
        return "expected failure";
    return "fail";
}
