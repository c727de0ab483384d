/* The fast reference's gradient pass: from the numerators' slots
 * (reference_dd.h) to O_k = e_k / T, g_k = A_r O_k - t_k and scale_k
 * (reference.h's notation), in double-double where the values allow it.
 *
 * Where the processor has AVX2 and FMA, index-label rows go four classes
 * at a time; the portable kernel runs the same operations one class at a
 * time, and both give the same bits (the file is compiled without
 * contraction; tests/test_reference_grad.c compares them). Errors in
 * reference_grad.c.
 */
#ifndef XC_HARNESS_REFERENCE_GRAD_H
#define XC_HARNESS_REFERENCE_GRAD_H

#include <stddef.h>

#include "dd_ops.h"

/* One finite row of a case, as the pass needs it. */
typedef struct xc__grad_row {
    const double *z;       /* the row's logits */
    size_t n;              /* its classes */
    double m;              /* its largest finite logit */
    xc__dd total;          /* T = sum of the e_k, a pair (numerators) */
    long double total_ld;  /* T in long double */
    long double A;         /* A_r */
    long double coef;      /* c_r */
    const double *y;       /* the row's probabilities; NULL: an index label */
    const double *w;       /* class weights (probability rows); NULL: none */
    size_t label;          /* an index label's class; N: none in the row */
} xc__grad_row;

/* Overwrites the numerators' slots G[0..n) (each a pair or a long double,
 * reference_dd.h) with g_k as a normalised pair (a zero low part is +0)
 * and writes SCALE[0..n), each rounded up to a double. Returns how many
 * classes took the pair path (for the tests). */
size_t xc__gradient_row(const xc__grad_row *row, xc__dd *g, double *scale);

/* The same with the AVX2/FMA kernel (USE_FMA = 1; only where the
 * processor has it, xc__softmax_has_fma) or the portable one (0). */
size_t xc__gradient_row_with(int use_fma, const xc__grad_row *row, xc__dd *g,
                             double *scale);

#endif
