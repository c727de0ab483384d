/* The gradient bounds' upward-rounded pass (bounds_upward.h). */
#include "bounds_upward.h"

#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __clang__
#pragma STDC FENV_ACCESS ON /* bounds_row rounds upward */
#endif

/* b_k = F (rel_k + a) + R s_k + R_a,  rel_k = u beta_k s_k / (1 - u beta_k),
 * beta_k = 2 d_k + B,  d_k = M - z_k (0 at -inf), in double arithmetic
 * rounded upward (the caller sets the mode). Every operand is non-negative,
 * so every operation is monotone in its operands and, rounded upward, gives
 * at least its exact result (below the normal range at least the smallest
 * subnormal, never 0), with one exception: the denominator is computed as
 * -(u beta_k - 1), whose upward rounding makes it at most 1 - u beta_k.
 * With inputs at least exact (xc__row_inputs), b_k is at least the exact
 * bound. rel_k is +inf when u beta_k >= 1/2 (the bound carries no
 * information, tolerance.c relative_term's rule; d_k overflowing to +inf
 * lands here too) and 0 when s_k = 0. */
static inline __attribute__((always_inline)) double
bound_of(const xc__row_inputs *in, double fa, double z, double s)
{
    double d = z == -INFINITY ? 0.0 : in->m - z;
    double x = in->u * (2 * d + in->row_beta);
    double rel = s == 0 ? 0.0 : x < 0.5 ? x * s / -(x - 1) : INFINITY;
    return in->factor * rel + fa + in->rel_err * s;
}

/* Not inlined, nor the vector kernel: the compiler cannot move these
 * operations across the caller's fesetround calls, which gcc may do to
 * visible code even with -frounding-math (its bug 34678). */
__attribute__((noinline)) static void bounds_row(const double *z, const double *s,
                                                 size_t h, const xc__row_inputs *in,
                                                 double *b)
{
    double fa = in->factor * in->allowance + in->abs_err; /* F a + R_a */
    for (size_t k = 0; k < h; k++)
        b[k] = bound_of(in, fa, z[k], s[k]);
}

/* Vector types of our own rather than dd_ops.h's: its helpers are
 * compiled for AVX2 and FMA, and inlining them would give this kernel FMA,
 * into which the compiler may contract a product and a sum that the scalar
 * loop rounds twice (other bits; both still upper bounds). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_VECTOR_KERNEL 1
typedef double v4d __attribute__((vector_size(32)));
typedef int64_t v4i __attribute__((vector_size(32)));

#define VEC_FN static inline __attribute__((always_inline, target("avx2")))

VEC_FN v4d splat(double x)
{
    return (v4d){x, x, x, x};
}

/* X where KEEP is all ones, else Y, lane by lane (KEEP from a comparison). */
VEC_FN v4d select(v4i keep, v4d x, v4d y)
{
    return (v4d)(((v4i)x & keep) | ((v4i)y & ~keep));
}

/* bound_of on four classes: each lane the same operations in the same
 * order (division, multiplication and addition are correctly rounded per
 * lane in the current mode, as the scalar ones; no fma: the target has
 * none to contract to), the branches as selections, so the same bits. A
 * lane whose result is not selected (x >= 1/2, s = 0) may compute an inf
 * or NaN, which only raises a flag nobody reads. */
__attribute__((noinline, target("avx2"))) static void
bounds_row_avx2(const double *z, const double *s, size_t h, const xc__row_inputs *in,
                double *b)
{
    double fa = in->factor * in->allowance + in->abs_err; /* F a + R_a */
    size_t k = 0;
    for (; k + 4 <= h; k += 4) {
        v4d zk, sk;
        memcpy(&zk, z + k, sizeof zk);
        memcpy(&sk, s + k, sizeof sk);
        v4d d = select(zk == splat(-INFINITY), splat(0.0), splat(in->m) - zk);
        v4d x = splat(in->u) * (splat(2) * d + splat(in->row_beta));
        v4d q = x * sk / -(x - splat(1));
        v4d rel = select(sk == splat(0), splat(0.0),
                         select(x < splat(0.5), q, splat(INFINITY)));
        v4d bk = splat(in->factor) * rel + splat(fa) + splat(in->rel_err) * sk;
        memcpy(b + k, &bk, sizeof bk);
    }
    for (; k < h; k++)
        b[k] = bound_of(in, fa, z[k], s[k]);
}
#else
#define HAVE_VECTOR_KERNEL 0
#endif

int xc__bounds_have_vector(void)
{
#if HAVE_VECTOR_KERNEL
    return __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

void xc__bounds_upward_rows_with(int use_vector, const xc__upward_rows *rows)
{
    int mode = fegetround();
    fesetround(FE_UPWARD);
    for (size_t i = 0; i < rows->count; i++) {
        if (!rows->finite[i])
            continue;
        const double *z = rows->z + i * rows->ld, *s = rows->s + i * rows->h;
        double *b = rows->b + i * rows->h;
#if HAVE_VECTOR_KERNEL
        if (use_vector) {
            bounds_row_avx2(z, s, rows->h, &rows->in[i], b);
            continue;
        }
#else
        (void)use_vector;
#endif
        bounds_row(z, s, rows->h, &rows->in[i], b);
    }
    fesetround(mode);
}

void xc__bounds_upward_rows(const xc__upward_rows *rows)
{
    xc__bounds_upward_rows_with(xc__bounds_have_vector(), rows);
}
