/* One pass over a row of logits: its largest and smallest finite values,
 * where the largest first occurs, how many are finite (not -inf) and
 * whether any is NaN or +inf. Four classes at a time where the processor
 * has AVX2; both kernels give the same results (tests/test_reference.c
 * holds them to the definition).
 */
#ifndef XC_HARNESS_ROW_EXTENT_H
#define XC_HARNESS_ROW_EXTENT_H

#include <stddef.h>

typedef struct xc__row_extent {
    double max;             /* largest finite logit, the first one's bits; -inf: none */
    double min;             /* smallest finite logit (a zero as +0); +inf: none */
    size_t argmax;          /* first index of max; N when there is none */
    size_t n_finite;        /* logits neither -inf nor NaN nor +inf... */
    int nonfinite;          /* ...and whether a NaN or +inf occurs */
} xc__row_extent;

void xc__row_extent_of(const double *z, size_t n, xc__row_extent *out);
void xc__row_extent_with(int use_vector, const double *z, size_t n, xc__row_extent *out);
int xc__row_extent_has_vector(void);

#endif
