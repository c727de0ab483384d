/* The softmax numerators of the fast reference, in double-double.
 *
 * For a row with largest finite logit m, the reference needs every
 * e_k = exp(z_k - m) and their sum. The x87 path (reference_exp.h) did this
 * one long double at a time, and its 80-bit arithmetic was the largest cost
 * of a check on current processors. Here exp(z_k - m) is a pair of doubles
 * (hi + lo, within a quarter of u_L = 2^-64, proof in reference_dd.c),
 * and the sum is kept in double-double; the gradient pass
 * (reference_grad.h) goes on from the pairs.
 *
 * Where the processor has AVX2 and FMA a kernel computes four elements at a
 * time; elsewhere the portable kernel runs the same operations one at a
 * time, with libm's fma (exact either way). The file is compiled without
 * floating-point contraction, so both give the same bits.
 */
#ifndef XC_HARNESS_REFERENCE_DD_H
#define XC_HARNESS_REFERENCE_DD_H

#include <stddef.h>

#include "dd_ops.h"

/* A numerator's slot is a long double's 16 bytes: element k's holds the
 * pair (hi, lo) when z_k - m >= XC__EXP_DD_MIN (z_k - m rounded to
 * double), and the long double e_k otherwise (0 for -inf). The reference
 * keeps them in its gradient array, which its gradient pass
 * (reference_grad.h) then overwrites in place. */
_Static_assert(sizeof(long double) >= sizeof(xc__dd),
               "a numerator's slot holds a pair of doubles");

/* 2^(j/64), j = 0..63: hi and lo both rounded to nearest (tests check
 * them against MPFR). */
extern const xc__dd xc__exp2_dd_table[64];

/* Below this z - m the kernel leaves double-double (whose low part would
 * lose bits to gradual underflow) for the long double exp. */
#define XC__EXP_DD_MIN (-660.0)

/* For the row Z[0..N), every z_k finite or -inf, M its largest finite
 * logit and SKIP < N an index with z_SKIP = M: writes the slots E[k]
 * of e_k = exp(z_k - m) (above), returns the sum of the e_k but SKIP's
 * (which is exactly 1), rounded to long double, and writes *TOTAL, the
 * whole sum T = 1 + that, as a pair. Errors in reference_dd.c. */
long double xc__softmax_numerators(const double *z, size_t n, double m,
                                   size_t skip, long double *e, xc__dd *total);

/* The same, forcing the kernel compiled for FMA (USE_FMA = 1; only where
 * the processor has it) or the portable one (0); for the tests. */
long double xc__softmax_numerators_with(int use_fma, const double *z, size_t n,
                                        double m, size_t skip, long double *e,
                                        xc__dd *total);

/* The e_k that the SLOT of the logit Z (row max M) holds, in long double
 * (the pair rounded once). */
long double xc__numerator_value(const long double *slot, double z, double m);

/* Whether this processor runs the FMA kernel. */
int xc__softmax_has_fma(void);

/* exp(HI + LO) for XC__EXP_DD_MIN <= HI <= 0 and |LO| <= 2^-53 |HI| (a
 * TwoSum pair), as double-double; for the tests. */
xc__dd xc__exp_dd(double hi, double lo);

#endif
