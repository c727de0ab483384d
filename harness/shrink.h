/* Shrinking: turn a failing case into a small one that fails the same way.
 *
 * The shrinker knows nothing of properties: it proposes smaller candidates
 * and asks a predicate whether each still fails. Passes, repeated while any
 * of them makes progress: fewer rows (chunks, halving), fewer classes (never
 * a class some row's index label names; probability rows are kept as they
 * are when the target accepts unnormalised rows, else renormalised), ld ->
 * H, no class weights, no ignore_index, mean -> sum, then simpler values
 * (0, +-1, small integers, integers with fewer bits, powers of two, values
 * already in the row), which also removes -inf, +inf and NaN unless the
 * failure needs them. A candidate is only proposed when the target's caps
 * and max_classes accept it.
 *
 * Deterministic: the same case, predicate and budget give the same result,
 * unless the time limit cuts the search short (stats.timed_out says so).
 * The case keeps its seed and index, so the properties draw the same
 * random numbers on every candidate (they seed from (seed, index)).
 */
#ifndef XC_HARNESS_SHRINK_H
#define XC_HARNESS_SHRINK_H

#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "exec.h"
#include "xentcheck/target.h"

/* Does candidate C still fail? 1 yes, 0 no. C is borrowed for the call. */
typedef int (*xc__shrink_pred)(void *ctx, const xc__case *c);

typedef struct xc__shrink_config {
    uint32_t caps;          /* the target's caps: candidates stay within */
    size_t max_classes;     /* the target's limit; 0 = none */
    size_t max_calls;       /* predicate calls; 0 = XC__SHRINK_DEFAULT_CALLS */
    double time_limit_s;    /* 0 = XC__SHRINK_DEFAULT_TIME */
} xc__shrink_config;

#define XC__SHRINK_DEFAULT_CALLS 400
#define XC__SHRINK_DEFAULT_TIME 2.0

typedef struct xc__shrink_stats {
    size_t calls;           /* predicate calls made */
    size_t accepted;        /* candidates that still failed */
    int timed_out;          /* the time limit ended the search */
    int out_of_calls;       /* the call budget ended the search */
} xc__shrink_stats;

/* Shrink C (which must fail PRED). Returns a new case the caller frees:
 * the smallest failing candidate found, a copy of C when none was. NULL on
 * out of memory. STATS may be NULL. */
xc__case *xc__shrink(const xc__case *c, const xc__shrink_config *cfg,
                     xc__shrink_pred pred, void *pred_ctx,
                     xc__shrink_stats *stats);

/* The predicate the checker uses: run every property on the candidate with
 * TARGET through EXEC and report whether PROPERTY failed. Its own sink
 * records nothing else, so candidates never reach a report. MESSAGE keeps
 * the message of the last candidate that failed PROPERTY. */
typedef struct xc__shrink_props {
    const xc_target *target;
    xc__exec *exec;         /* borrowed; the same executor as the run */
    double tol_factor;
    const char *property;
    char message[2048];
} xc__shrink_props;

int xc__shrink_props_pred(void *ctx, const xc__case *c);

#endif
