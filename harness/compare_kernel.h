/* The element-wise comparison of a computed gradient with the reference
 * (props_compare.c), in doubles, four classes at a time where the
 * processor has AVX2.
 *
 * Element k: the computed x, the reference's pair g~ (reference.h), the
 * bound b (+inf: vacuous) and the scale s. The exact error against the
 * stored pair is E = |x - g~|, which differs from the reference's exact
 * gradient by at most R_k = R s + R_a (reference.h). Each element gets one
 * verdict:
 *   clear      E <= b - 2 R_k: within the bound for certain, and so far
 *              inside that no exact reference could change it;
 *   over       x is not finite, or E > b: a violation for certain;
 *   undecided  neither: E lies within 2 R_k below the bound (or within the
 *              rounding of the tests themselves), which only a more exact
 *              reference (MPFR) can decide.
 * The tests are computed in rounded arithmetic and are sufficient
 * conditions (derivation in compare_kernel.c): an element they cannot
 * settle in doubles is settled in long double, and only one that this
 * cannot settle either is undecided.
 *
 * For the reports a scan also tracks the largest ratio E / b (0 for a
 * vacuous bound, +inf for a non-finite x; the first element on ties) and
 * the largest scaled error E / (u max(s, min_normal)) (tolerance.h), both
 * computed in doubles. Both kernels give the same bits: the same operations
 * per element, without contraction (the file is compiled as
 * reference_grad.c is), and the tracking's outcome does not depend on the
 * order in which elements are visited.
 */
#ifndef XC_HARNESS_COMPARE_KERNEL_H
#define XC_HARNESS_COMPARE_KERNEL_H

#include <stddef.h>

#include "dd_pair.h"

/* The constants of one comparison: from the reference's R and the bounds'
 * u and min_normal (xc__cmp_consts_of). */
typedef struct xc__cmp_consts {
    long double rel_err;    /* R */
    double two_r_up;        /* 2 R (1 + 2^-40) + 2^-90, rounded up (after a
                               long double rounding, which the margins
                               2^-40 and 2^-90 absorb: only 2 R (1 + u) +
                               2.03 u^2 is needed, compare_kernel.c) */
    double u, min_normal;
} xc__cmp_consts;

xc__cmp_consts xc__cmp_consts_of(long double rel_err, double u, double min_normal);

/* One row: N elements. */
typedef struct xc__cmp_row {
    const double *x;        /* the computed gradient */
    const xc__dd *g;        /* the reference's pairs */
    const double *b;        /* the bounds */
    const double *s;        /* the scales */
    size_t n;
} xc__cmp_row;

/* What a scan found so far, over the rows it was given in any order. */
typedef struct xc__cmp_scan {
    size_t elements;
    int over, undecided;    /* some element's verdict */
    double ratio;           /* largest E / b */
    size_t row, col;        /* where (the smallest index on ties) */
    double scaled;          /* largest scaled error */
} xc__cmp_scan;

/* Starts ACC empty. */
void xc__cmp_scan_init(xc__cmp_scan *acc);

/* Adds row R (ROW) to ACC. */
void xc__cmp_scan_row(const xc__cmp_consts *k, const xc__cmp_row *row, size_t r,
                      xc__cmp_scan *acc);

/* 1 when every element of ROW is clear. */
int xc__cmp_row_clear(const xc__cmp_consts *k, const xc__cmp_row *row);

/* The same with the AVX2 kernel (USE_VECTOR = 1; only where the processor
 * has it, xc__cmp_has_vector) or the portable one (0); for the tests. */
void xc__cmp_scan_row_with(int use_vector, const xc__cmp_consts *k,
                           const xc__cmp_row *row, size_t r, xc__cmp_scan *acc);
int xc__cmp_row_clear_with(int use_vector, const xc__cmp_consts *k,
                           const xc__cmp_row *row);
int xc__cmp_has_vector(void);

#endif
