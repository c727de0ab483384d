/* Accuracy statistics derived from a target's per-case samples: the
 * percentiles the reports print, overall and per band of class counts H.
 *
 * Everything here is a pure function of the samples, so a report read back
 * from JSON, or merged from shards, yields the same numbers as the run that
 * measured them.
 */
#ifndef XC_HARNESS_REPORT_STATS_H
#define XC_HARNESS_REPORT_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

/* A band of class counts: MIN_CLASSES <= H <= MAX_CLASSES. */
typedef struct xc__h_band {
    const char *name;        /* "1-16", "17-256", "257-4096", "4097+" */
    uint32_t min_classes;
    uint32_t max_classes;    /* UINT32_MAX for the open band */
} xc__h_band;

#define XC__NBANDS 4
extern const xc__h_band xc__h_bands[XC__NBANDS];

/* Distribution of the per-case worst scaled error over a set of samples. */
typedef struct xc__sample_stats {
    size_t count;            /* samples (cases) in the set */
    double p50, p90, p99;    /* nearest-rank percentiles, u */
    double max;              /* worst scaled error, u */
    double max_ratio;        /* worst error / bound */
} xc__sample_stats;

/* Statistics of the samples of T whose H lies in BAND (NULL: all of them).
 * 0 on success, -1 out of memory. */
int xc__sample_stats_of(const xc__target_report *t, const xc__h_band *band,
                        xc__sample_stats *out);

/* Nearest-rank percentile P (0 < P <= 1) of the N sorted values V; 0 when
 * N is 0. The check loop uses the same definition. */
double xc__percentile(const double *v, size_t n, double p);

/* Set T's accuracy.p50/p90/p99 from its samples (what the check loop does
 * at the end of a target). -1 out of memory. */
int xc__accuracy_set_percentiles(xc__target_report *t);

/* The verdict as the reports print it: "pass", "fail", or "expected
 * failure" when T failed exactly the properties of its known finding. */
const char *xc__verdict_text(const xc__target_report *t);

/* Set T->expected_ok: T has a known finding, failed, and the properties it
 * failed are exactly the expected ones (the check loop at the end of a
 * target, and `report merge`, which alone sees every shard's failures). */
void xc__finding_settle(xc__target_report *t);

/* Position of property NAME in xc__property_names; names this build does
 * not know come last. The order of properties and failures in reports. */
int xc__property_rank(const char *name);

/* Order T's failures (one per property) by the case they were found in,
 * then by property in xc__property_names order: the check loop's report
 * and a merge of shards list them alike. */
void xc__failures_sort(xc__target_report *t);

/* Whether T holds for the exit status: a target without a known finding
 * passes; one with a finding fails exactly as expected (one that starts
 * passing, or fails differently, does not hold). */
int xc__target_holds(const xc__target_report *t);

/* A JSON number for the float V: the shortest "%.Ng" (N = 6..9) that reads
 * back as the same float. BUF holds at least 32 bytes. */
void xc__format_float(char *buf, size_t len, float v);

#endif
