/* The gradient bounds' upward-rounded pass (bounds_upward.h). */
#include "bounds_upward.h"

#include <fenv.h>
#include <math.h>

#ifdef __clang__
#pragma STDC FENV_ACCESS ON /* bounds_row rounds upward */
#endif

/* b_k = F (rel_k + a) + R s_k,  rel_k = u beta_k s_k / (1 - u beta_k),
 * beta_k = 2 d_k + B,  d_k = M - z_k (0 at -inf), in double arithmetic
 * rounded upward (the caller sets the mode). Every operand is non-negative,
 * so every operation is monotone in its operands and, rounded upward, gives
 * at least its exact result (below the normal range at least the smallest
 * subnormal, never 0), with one exception: the denominator is computed as
 * -(u beta_k - 1), whose upward rounding makes it at most 1 - u beta_k.
 * With inputs at least exact (xc__row_inputs), b_k is at least the exact
 * bound. rel_k is +inf when u beta_k >= 1/2 (the bound carries no
 * information, tolerance.c relative_term's rule; d_k overflowing to +inf
 * lands here too) and 0 when s_k = 0. Not inlined: the compiler cannot
 * move these operations across the caller's fesetround calls, which gcc
 * may do to visible code even with -frounding-math (its bug 34678). */
__attribute__((noinline)) static void bounds_row(const double *z, const double *s,
                                                 size_t h, const xc__row_inputs *in,
                                                 double *b)
{
    double fa = in->factor * in->allowance;
    for (size_t k = 0; k < h; k++) {
        double d = z[k] == -INFINITY ? 0.0 : in->m - z[k];
        double x = in->u * (2 * d + in->row_beta);
        double rel = s[k] == 0 ? 0.0 : x < 0.5 ? x * s[k] / -(x - 1) : INFINITY;
        b[k] = in->factor * rel + fa + in->rel_err * s[k];
    }
}

void xc__bounds_upward_rows(const xc__upward_rows *rows)
{
    int mode = fegetround();
    fesetround(FE_UPWARD);
    for (size_t i = 0; i < rows->count; i++)
        if (rows->finite[i])
            bounds_row(rows->z + i * rows->ld, rows->s + i * rows->h, rows->h, &rows->in[i],
                       rows->b + i * rows->h);
    fesetround(mode);
}
