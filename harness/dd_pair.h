/* The double-double pair: the unevaluated sum hi + lo of two doubles.
 * Apart from dd_ops.h's arithmetic, for the structures that store pairs
 * (reference.h). */
#ifndef XC_HARNESS_DD_PAIR_H
#define XC_HARNESS_DD_PAIR_H

/* hi + lo, |lo| <= ulp(hi) / 2 (normalised) unless stated. */
typedef struct xc__dd {
    double hi, lo;
} xc__dd;

#endif
