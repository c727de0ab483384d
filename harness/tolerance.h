/* Error measure and tolerances, derived from a forward error analysis.
 *
 * The measure. For element k of row r the exact gradient is
 * g_k = A_r O_k - t_k (reference.h) and its scale is
 * scale_k = max(|A_r| O_k, |t_k|). The scaled error is
 *     e_k = |g^_k - g_k| / (u * max(scale_k, min_normal))
 * in units of the target dtype's unit roundoff u. Why this scale: a correct
 * algorithm computes O_k with a small *relative* error and then subtracts
 * t_k, so its error is a multiple of u |A_r| O_k plus the rounding of the
 * subtraction; dividing by |g_k| instead would blame the implementation for
 * the cancellation in O_k - y_k (condition number (|O| + |y|) / |O - y|),
 * and an absolute error would ignore tiny probabilities. The min_normal
 * floor keeps the measure finite where the scale is zero or subnormal.
 *
 * The bound. Every correct algorithm in the accepted family (below) satisfies
 *     |g^_k - g_k| <= F * (u beta_k scale_k / (1 - u beta_k) + a_r) + R_k
 * with F the user's --tol-factor (1 by default), R_k the reference's own
 * proven error (R scale_k, reference.c, plus the absolute XC__REF_ABS_ERR
 * of its storage, reference.h), a_r the flush-to-zero allowance, and beta_k
 * the leading-order coefficient derived in tolerance.c.
 */
#ifndef XC_HARNESS_TOLERANCE_H
#define XC_HARNESS_TOLERANCE_H

#include "case.h"
#include "reference.h"

/* Accuracy assumed of the target's exp and log, in ulps: glibc's expf, exp,
 * logf, log and SLEEF's u10 functions are within 1 ulp; vectorised
 * polynomial versions (fast-math, JIT kernels) within a few. */
#define XC__EXP_ULPS 4.0

/* Absolute accuracy assumed of the log in log-space kernels, in units of u:
 * vectorised logs are accurate in absolute, not relative, terms near 1
 * (where ln s -> 0). oneDNN 2.6's JIT log-softmax is measured 3.5e-6 off
 * for sums in [1, 2] (58 u in f32, docs/libraries.md); the issue's
 * calibration calls it correct. 64 u covers it; it adds 64 u to every
 * element's bound (a tenth of the bound at H = 100). */
#define XC__LOG_ABS_U 64.0

typedef struct xc__bounds {
    double *grad;           /* batch * classes absolute bounds, rounded up to
                               double (reference.h); +inf = vacuous */
    double u;               /* unit roundoff of the dtype */
    double min_normal;
    xc__pool *pool;         /* where grad came from (NULL: malloc) */
} xc__bounds;

/* Bounds for case C with reference REF. FACTOR scales them (--tol-factor).
 * Returns 0 or -1 (out of memory). */
int xc__bounds_compute(const xc__case *c, const xc__ref *ref, double factor,
                       xc__bounds *out);
/* The same with the array from POOL (xc__bounds_free gives it back). */
int xc__bounds_compute_in(const xc__case *c, const xc__ref *ref, double factor,
                          xc__pool *pool, xc__bounds *out);
void xc__bounds_free(xc__bounds *b);

/* Absolute bound on the target's error in the reduced loss of C, valid for
 * logits moved by at most SLACK from C's (finite differences); SLACK 0:
 * at C itself (reference_loss). Not part of xc__bounds: only the base
 * case's loss is checked, and its variants need their gradients' bounds
 * alone. */
long double xc__loss_bound(const xc__case *c, const xc__ref *ref, double factor,
                           double slack);

/* beta_k of the gradient bound, in units of u (exposed for tests). */
long double xc__grad_beta(const xc__case *c, const xc__ref *ref, size_t r,
                          size_t k);

/* Scaled error e_k (see above) of a computed value against the reference. */
double xc__scaled_error(const xc__ref *ref, const xc__bounds *b, size_t r,
                        size_t k, double computed);

#endif
