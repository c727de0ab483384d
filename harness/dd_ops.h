/* Double-double arithmetic for the fast reference's kernels
 * (reference_dd.c, reference_grad.c): the scalar operations and, on x86-64,
 * the same operations four lanes at a time with AVX2 and FMA.
 *
 * Every vector operation performs, lane by lane, the scalar one's
 * operations in the same order. The files that use these operations
 * (reference_dd.c, reference_grad.c) are compiled without floating-point
 * contraction (CMakeLists.txt and fuzz/build.sh pass -ffp-contract=off and
 * define XC_DD_NO_CONTRACT, which those files require of gcc; clang
 * honours the pragma below), so a kernel built from the vector operations
 * gives the bits of its portable twin built from the scalar ones.
 *
 * u = 2^-53. Error of each operation, for finite operands whose high
 * parts and high-by-high products stay at least 2^-968 and below 2^1023
 * (so that fma's error term of a product is exact; the callers gate on
 * it). A low part may still be subnormal or zero: that loses at most
 * 2^-1075 absolutely, which the callers' range makes a relative 2^-170.
 *   two_sum, fast_two_sum (|a| >= |b|, or a = 0): exact.
 *   dd_mul: ph = fl(xh yh) with its error fma(xh, yh, -ph) exact; the
 *     roundings of xh yl, of xl yh (u^2 |xy| each), of their sum (2 u^2)
 *     and of its sum with the error (3 u^2), and the dropped xl yl (u^2);
 *     the final TwoSum is exact: within 8 u^2 = 2^-103 relative.
 *   dd_inv: q = fl(1 / Th) = (1 / Th)(1 + d), |d| <= u; 1 - q Th = -d is
 *     exactly a double and fma gives it exactly; with rho = 1 - qT,
 *     1/T = q (1 + rho + rho^2 / (1 - rho)), and q + q r is computed with
 *     r = fl(-d - fl(q Tl)): the roundings of q Tl (u^2), of r (2 u^2)
 *     and of q r (2 u^2 q) and the dropped q rho^2 / (1 - rho) (4.1 u^2 q)
 *     give 1/T within 9.2 u^2 < 2^-102.7 relative.
 *   dd_sub: a - t with the high parts' TwoSum exact, then al - tl (below
 *     u (|a| + |t|), rounding by u^2 (|a| + |t|)) added to the TwoSum's
 *     error (the sum below 2u (|a| + |t|), rounding by 2 u^2 (|a| + |t|)):
 *     within 3 u^2 (|a| + |t|) absolutely, renormalised exactly by a TwoSum.
 */
#ifndef XC_HARNESS_DD_OPS_H
#define XC_HARNESS_DD_OPS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "dd_pair.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif


#define XC__DD_INLINE static inline __attribute__((always_inline))

XC__DD_INLINE xc__dd xc__two_sum(double a, double b)
{
    double s = a + b, bb = s - a;
    return (xc__dd){s, (a - (s - bb)) + (b - bb)};
}

/* a + b exactly, for |a| >= |b| (or a = 0). */
XC__DD_INLINE xc__dd xc__fast_two_sum(double a, double b)
{
    double s = a + b;
    return (xc__dd){s, b - (s - a)};
}

XC__DD_INLINE xc__dd xc__dd_mul(xc__dd x, xc__dd y)
{
    double ph = x.hi * y.hi;
    double pl = fma(x.hi, y.hi, -ph) + (x.hi * y.lo + x.lo * y.hi);
    return xc__two_sum(ph, pl);
}

XC__DD_INLINE xc__dd xc__dd_sub(xc__dd a, xc__dd t)
{
    xc__dd s = xc__two_sum(a.hi, -t.hi);
    return xc__two_sum(s.hi, s.lo + (a.lo - t.lo));
}

XC__DD_INLINE xc__dd xc__dd_inv(xc__dd t)
{
    double q = 1.0 / t.hi;
    double r = fma(-q, t.hi, 1.0) - q * t.lo;
    return xc__fast_two_sum(q, q * r);
}

/* |x| rounded up to a double, for a normalised X: its high part's
 * magnitude, one ulp up when the low part adds to it (bit pattern plus
 * one: the magnitude is finite and non-negative). */
XC__DD_INLINE double xc__dd_abs_up(xc__dd x)
{
    double h = fabs(x.hi);
    uint64_t bits;
    memcpy(&bits, &h, sizeof bits);
    bits += (uint64_t)(x.hi < 0 ? x.lo < 0 : x.lo > 0);
    memcpy(&h, &bits, sizeof h);
    return h;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define XC__HAVE_DD_VECTOR 1
#include <immintrin.h>

typedef double xc__v4d __attribute__((vector_size(32)));
typedef int64_t xc__v4i __attribute__((vector_size(32)));
typedef uint64_t xc__v4u __attribute__((vector_size(32)));

#define XC__VEC_FN static inline __attribute__((always_inline, target("avx2,fma")))

XC__VEC_FN xc__v4d xc__splat(double x)
{
    return (xc__v4d){x, x, x, x};
}

/* Four doubles from P, unaligned. */
XC__VEC_FN xc__v4d xc__load4(const double *p)
{
    xc__v4d v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* X where KEEP is all ones, else Y, lane by lane (KEEP from a comparison). */
XC__VEC_FN xc__v4d xc__select4(xc__v4i keep, xc__v4d x, xc__v4d y)
{
    return (xc__v4d)((keep & (xc__v4i)x) | (~keep & (xc__v4i)y));
}

/* |X| lane by lane: the sign bit cleared, as fabs. */
XC__VEC_FN xc__v4d xc__abs4(xc__v4d x)
{
    return (xc__v4d)((xc__v4u)x & ~(xc__v4u)xc__splat(-0.0));
}

XC__VEC_FN xc__v4d xc__vfma(xc__v4d a, xc__v4d b, xc__v4d c)
{
    return (xc__v4d)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
}

XC__VEC_FN void xc__two_sum_v(xc__v4d a, xc__v4d b, xc__v4d *s, xc__v4d *err)
{
    xc__v4d t = a + b, bb = t - a;
    *err = (a - (t - bb)) + (b - bb);
    *s = t;
}

XC__VEC_FN void xc__fast_two_sum_v(xc__v4d a, xc__v4d b, xc__v4d *s, xc__v4d *err)
{
    xc__v4d t = a + b;
    *err = b - (t - a);
    *s = t;
}

/* xc__dd_mul lane by lane; (XH, XL) times (YH, YL) into (*H, *L). */
XC__VEC_FN void xc__dd_mul_v(xc__v4d xh, xc__v4d xl, xc__v4d yh, xc__v4d yl,
                             xc__v4d *h, xc__v4d *l)
{
    xc__v4d ph = xh * yh;
    xc__v4d pl = xc__vfma(xh, yh, -ph) + (xh * yl + xl * yh);
    xc__two_sum_v(ph, pl, h, l);
}

/* xc__dd_abs_up lane by lane. */
XC__VEC_FN xc__v4d xc__dd_abs_up_v(xc__v4d h, xc__v4d l)
{
    xc__v4d zero = xc__splat(0.0);
    xc__v4i neg = h < zero;
    xc__v4i up = (neg & (l < zero)) | (~neg & (l > zero)); /* -1 where true */
    xc__v4d mag = (xc__v4d)((xc__v4u)h & ~(xc__v4u)xc__splat(-0.0));
    return (xc__v4d)((xc__v4i)mag - up);
}

/* Four pairs stored as (h0, l0, h1, l1, h2, l2, h3, l3) at P, and back:
 * the numerators' slots, one long double each (reference_dd.h). */
_Static_assert(sizeof(long double) == 2 * sizeof(double),
               "the vector kernels step through slots of two doubles");
XC__VEC_FN void xc__store_pairs_v(void *p, xc__v4d h, xc__v4d l)
{
    __m256d a = _mm256_unpacklo_pd((__m256d)h, (__m256d)l); /* h0 l0 h2 l2 */
    __m256d b = _mm256_unpackhi_pd((__m256d)h, (__m256d)l); /* h1 l1 h3 l3 */
    _mm256_storeu_pd((double *)p, _mm256_permute2f128_pd(a, b, 0x20));
    _mm256_storeu_pd((double *)p + 4, _mm256_permute2f128_pd(a, b, 0x31));
}

XC__VEC_FN void xc__load_pairs_v(const void *p, xc__v4d *h, xc__v4d *l)
{
    __m256d a = _mm256_loadu_pd((const double *)p);     /* h0 l0 h1 l1 */
    __m256d b = _mm256_loadu_pd((const double *)p + 4); /* h2 l2 h3 l3 */
    *h = (xc__v4d)_mm256_permute4x64_pd(_mm256_unpacklo_pd(a, b), 0xd8);
    *l = (xc__v4d)_mm256_permute4x64_pd(_mm256_unpackhi_pd(a, b), 0xd8);
}
#else
#define XC__HAVE_DD_VECTOR 0
#endif

#endif
