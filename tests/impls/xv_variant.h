/* Independent softmax-cross-entropy implementations for tests/test_tolerance.c.
 *
 * One descriptor (xv_variant) selects the algorithm, the summation order,
 * the exp, the assembly of the gradient and, for the deliberately broken
 * ones, a single injected bug. The kernels live in xv_kernel.h, written once
 * and instantiated for float and double; every operation of an f32 variant
 * is done in float (except the "wide" one, which computes in double on
 * purpose). Nothing here is shared with targets/: these implementations are
 * written from the mathematics of include/xentcheck/target.h only, so that
 * they can disagree with the built-in ones.
 *
 * Included by tests/test_tolerance.c only.
 */
#ifndef XV_VARIANT_H
#define XV_VARIANT_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "xentcheck/target.h"

typedef enum xv_alg {
    XV_SHIFTED,   /* O = exp(z - M) / s */
    XV_ONLINE,    /* running max and rescaled sum (Milakov & Gimelshein) */
    XV_LOGSHIFT,  /* O = exp((z - M) - log s) */
    XV_LSE,       /* O = exp(z - lse), lse = M + log s */
    XV_LOGADDEXP  /* O = exp(z - lse), lse streamed one logit at a time:
                     lse = max(lse, z) + log1p(exp(-|lse - z|)) */
} xv_alg;

typedef enum xv_sum {
    XV_SUM_FWD, XV_SUM_REV, XV_SUM_LANES4, XV_SUM_LANES8, XV_SUM_PAIRWISE,
    XV_SUM_KAHAN
} xv_sum;

typedef enum xv_exp {
    XV_EXP_LIBM,    /* expf / exp */
    XV_EXP_POLY,    /* Cody-Waite reduction, Taylor polynomial (a few ulp) */
    XV_EXP_EXP2,    /* exp2(x log2(e)): the rounding of x log2(e) costs |x| u,
                       beyond XC__EXP_ULPS for |x| > ~4 */
    XV_EXP_POLY3,   /* broken: degree-3 polynomial, ~1e-3 relative error */
    XV_EXP_SCALED   /* broken: libm exp times (1 + 1e-3) */
} xv_exp;

typedef enum xv_bug {
    XV_OK = 0,
    XV_BUG_TOP_REL,      /* largest O_k scaled by (1 + bug_rel) */
    XV_BUG_HALF_SUM,     /* softmax sum rounded to 11 significant bits */
    XV_BUG_F32_ACC,      /* f64 target accumulating its sum in float */
    XV_BUG_MEAN_NM1,     /* mean divides by N - 1 */
    XV_BUG_W_LOSS_ONLY,  /* class weights in the loss, not the gradient */
    XV_BUG_S_DROPPED,    /* unweighted prob rows: O - y, as if sum y = 1 */
    XV_BUG_NO_SHIFT,     /* exp(z) / sum exp(z): no max shift */
    XV_BUG_BATCH_MAX,    /* one max over the whole batch, not per row */
    XV_BUG_SMOOTHING,    /* index labels smoothed by bug_rel: y = (1-e) 1 + e/H */
    XV_BUG_IGNORED_DENOM /* ignored rows still counted by the mean */
} xv_bug;

typedef struct xv_variant {
    xv_alg alg;
    xv_sum sum;
    xv_exp exp;
    int ftz;          /* flush subnormal inputs, intermediates and outputs */
    int fma_grad;     /* g = fma(O, A, -t) */
    int recip_mean;   /* mean as multiplication by a precomputed 1/D */
    int wide;         /* f32 only: compute in double, round the results */
    int masked_nan;   /* all -inf row: NaN row (else zeros) */
    xv_bug bug;
    double bug_rel;
} xv_variant;

/* 1/i! for the Taylor polynomials of exp (rounded to the dtype at use). */
static const double xv_inv_fact[14] = {
    1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
    1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800,
    1.0 / 479001600, 1.0 / 6227020800.0};

#define XV_LOG2E 1.4426950408889634

/* Taylor degrees of the accurate polynomial exp (XV_EXP_POLY): about 3 ulp
 * in f32 and 2.5 in f64, measured by tests/test_tolerance.c. */
#define XV_POLY_DEG_F32 6
#define XV_POLY_DEG_F64 12

/* x rounded to BITS significant bits (round to nearest even). */
static inline double xv_round_bits(double x, int bits)
{
    if (x == 0 || !isfinite(x))
        return x;
    int e;
    double m = frexp(x, &e);
    return ldexp(nearbyint(ldexp(m, bits)), e - bits);
}

#endif
