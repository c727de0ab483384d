/* The exact reference: loss and gradient of a case, with a proven bound on
 * the reference's own error.
 *
 * Notation per row r (see include/xentcheck/target.h): M = largest finite
 * logit, L = ln sum_k exp(z_k - M), O_k = exp(z_k - M - L). The gradient is
 * written uniformly as
 *     g_k = A_r O_k - t_k
 * with A_r = c_r * Y_r and t_k = c_r * v_k * y_k, where
 *     index labels: y = one-hot(label), v_k = 1, Y_r = 1,
 *                   c_r = w[label] (1 without weights) / D
 *     prob rows:    v_k = w_k (1 without weights), Y_r = sum_j v_j y_j,
 *                   c_r = 1 / D
 *     D = 1 (sum), N (mean; prob rows or unweighted index labels), or
 *         sum of the row weights of non-ignored rows (mean, index labels,
 *         weights or ignore_index); an ignored row has c_r = 0.
 * The scale of element k, used by the error measure, is
 *     scale_k = max(|A_r| O_k, |t_k|)
 * so that |g_k| <= scale_k and the subtraction's cancellation does not
 * inflate the measure (tolerance.h explains the choice). It is a magnitude
 * for bounds and margins only, and is kept as a double rounded up: every
 * bound built on it stays a bound (looser by 2^-52 relative, or by one
 * subnormal, at most), and it costs half the memory of a long double and
 * far less to store and load.
 *
 * Two implementations:
 *   xc__reference()      double-double numerators and gradient (four
 *                        classes at a time with AVX2), long double (x87:
 *                        64-bit significand) with exact differences
 *                        z_k - M (TwoSum) and compensated sums for the
 *                        rest; fast, with the bound stated in reference.c.
 *   xc__reference_mpfr() MPFR at a given precision; the certified fallback
 *                        and the oracle the tests compare the fast path with.
 * Both fill the same structure; rel_err is a bound on |computed - exact| /
 * scale_k for every gradient element (and on the loss relative to
 * loss_scale), beyond the absolute XC__REF_ABS_ERR of the gradient's
 * storage below.
 *
 * The gradient is stored as normalised pairs of doubles, which the
 * comparisons (props_compare.c) read four at a time. A pair holds a value
 * to 2^-105 relative, which both paths' bounds include, but not below
 * double's range: a value under 2^-969 loses up to 2^-1075 absolutely (its
 * high part's rounding to a subnormal, or its low part's). Every bound
 * adds XC__REF_ABS_ERR for that (tolerance.c), and 2^-1074 is far below
 * any bound's flush allowance (a few times the dtype's smallest normal).
 */
#ifndef XC_HARNESS_REFERENCE_H
#define XC_HARNESS_REFERENCE_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "case.h"
#include "dd_pair.h"

/* The gradient's absolute storage error (above), stated generously. */
#define XC__REF_ABS_ERR 0x1p-1074

/* X >= 0 (or NaN, kept) rounded up to a double: for magnitudes that bound
 * something, where rounding to nearest could round them below it. When
 * the nearest double is below X it is finite and non-negative, and the
 * next one up is its bit pattern plus one; no branch, no libm call (half
 * of all values round down). */
static inline double xc__round_up_double(long double x)
{
#if FLT_EVAL_METHOD != 0
    volatile double stored = (double)x; /* no excess precision kept */
    double d = stored;
#else
    double d = (double)x;
#endif
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    bits += (uint64_t)(d < x);
    memcpy(&d, &bits, sizeof d);
    return d;
}

typedef enum xc__row_kind {
    XC__ROW_FINITE = 0,     /* every logit finite or -inf, at least one finite */
    XC__ROW_ALL_MASKED,     /* every logit -inf: no softmax (policy in props) */
    XC__ROW_NONFINITE,      /* a NaN or +inf logit: only isolation is checked */
    XC__ROW_IGNORED         /* index label == ignore_index: gradient row is 0 */
} xc__row_kind;

typedef struct xc__ref_row {
    xc__row_kind kind;
    long double max;        /* M, largest finite logit */
    long double min;        /* smallest finite logit (+inf: none) */
    long double log_sum;    /* L = ln sum exp(z_k - M), in [0, ln n] */
    long double A;          /* multiplier of O_k in g_k */
    long double coef;       /* c_r */
    long double Y;          /* Y_r */
    size_t n_finite;        /* logits that are finite (not -inf) */
    long double loss;       /* this row's contribution to the reduced loss */
} xc__ref_row;

typedef struct xc__ref {
    size_t batch, classes;
    xc__dd *grad;           /* batch * classes pairs, dense (no ld) */
    double *scale;          /* scale_k rounded up, batch * classes */
    xc__ref_row *rows;      /* batch */
    long double loss;       /* reduced loss; NaN when every row is ignored under mean */
    long double loss_scale; /* sum of |terms| of the loss (for its error measure) */
    long double denom;      /* D */
    long double rel_err;    /* bound on this reference's error, relative to scale */
    xc__pool *pool;         /* where the arrays came from (NULL: malloc) */
} xc__ref;

/* X as the pair nearest it: hi = X rounded, lo = the remainder rounded
 * (exact unless X is below 2^-969, reference.h's storage error). A value
 * beyond double's range keeps lo = 0: its scale, at least |X| for the
 * non-negative labels and weights that case files and the generators
 * allow, is then +inf and its bound vacuous. A NaN's pair is NaN. */
static inline xc__dd xc__dd_of_ld(long double x)
{
    double hi = (double)x;
    return (xc__dd){hi, isinf(hi) ? 0.0 : (double)(x - hi)};
}

/* The pair P as a long double, rounded once. */
static inline long double xc__ld_of_dd(xc__dd p)
{
    return (long double)p.hi + p.lo;
}

/* Fast path. Returns 0, or -1 on out of memory. */
int xc__reference(const xc__case *c, xc__ref *out);
/* The same with the arrays from POOL (xc__ref_free gives them back). */
int xc__reference_in(const xc__case *c, xc__pool *pool, xc__ref *out);
/* Certified path at PREC bits (>= 64). Returns 0, or -1 on out of memory. */
int xc__reference_mpfr(const xc__case *c, xc__ref *out, long prec);
void xc__ref_free(xc__ref *r);
/* t_k = c_r v_k y_k of row R, class K of C, whose reference is REF. */
long double xc__ref_target(const xc__case *c, const xc__ref *ref, size_t r, size_t k);
/* OUT for C with its arrays (one block from POOL; the rows zeroed, the
 * arrays not), for the paths above. Returns 0, or -1 on out of memory. */
int xc__ref_alloc(const xc__case *c, xc__pool *pool, xc__ref *out);

#endif
