/* The finite differences' per-class kernels (fd_kernel.h). */
#include "fd_kernel.h"

#if defined(__GNUC__) && !defined(__clang__) && !defined(XC_DD_NO_CONTRACT)
#error "fd_kernel.c needs -ffp-contract=off -DXC_DD_NO_CONTRACT (dd_ops.h)"
#endif

#include <float.h>
#include <math.h>
#include <string.h>

#include "dd_ops.h"
#include "reference_dd.h"

/* Where the compiler evaluates in wider registers (FLT_EVAL_METHOD != 0,
 * x87), the sum must be stored to be rounded to its type; with SSE it
 * already is, and the store would cost more than the rest of the test. */
#if FLT_EVAL_METHOD == 0
#define ROUNDED_SUM
#else
#define ROUNDED_SUM volatile
#endif

/* Whether a + b is exact in the dtype: s = a + b rounded, exact iff
 * s - a == b and s - b == a. If exact, both differences are representable
 * and come out exactly. If not, take |a| >= |b| (the other case is the
 * same with the roles swapped): by Dekker's Fast2Sum lemma s - a is then
 * computed exactly, so s - a == b would mean s = a + b. An infinite or NaN
 * operand or sum fails the test (inf - inf is NaN). Two independent
 * subtractions instead of TwoSum's chain of five operations, and bitwise
 * & rather than &&, with no branch per element. */
static int exact_sum_f32(float a, float b)
{
    ROUNDED_SUM float s = a + b;
    return (s - a == b) & (s - b == a);
}

static int exact_sum_f64(double a, double b)
{
    ROUNDED_SUM double s = a + b;
    return (s - a == b) & (s - b == a);
}

static inline int exact_step(xc_dtype t, double z, double delta)
{
    if (t == XC_F32)
        return exact_sum_f32((float)z, (float)delta) & exact_sum_f32((float)z, (float)-delta);
    return exact_sum_f64(z, delta) & exact_sum_f64(z, -delta);
}

int xc__fd_exact_step(xc_dtype t, double z, double delta)
{
    return exact_step(t, z, delta);
}

/* Class K of ROW: its delta, and the counts. */
static inline void direction_one(const xc__fd_row *row, size_t k, double *delta,
                                 size_t *moved, int *down, int *up)
{
    /* an infinite z_k fails exact_step (its sum is not finite), a NaN too */
    signed char sg = row->sign[k];
    int m = (sg != 0) & exact_step(row->dtype, row->z[k], row->h) &
            (!row->halves || exact_step(row->dtype, row->z[k], row->h / 2));
    delta[k] = m ? (sg > 0 ? row->h : -row->h) : 0;
    *moved += (size_t)m;
    *down |= m & (sg < 0);
    *up |= m & (sg > 0);
}

/* TwoSum of the lane's pair and X: the high part the rounded sum, the
 * error added to the low part. */
static inline void lane_add(xc__fd_sums *acc, int which, int lane, double x)
{
    xc__dd t = xc__two_sum(acc->hi[which][lane], x);
    acc->hi[which][lane] = t.hi;
    acc->lo[which][lane] = acc->lo[which][lane] + t.lo;
}

static inline void sums_one(const double *g, const double *b, const double *delta,
                            size_t k, xc__fd_sums *acc)
{
    int lane = (int)(k % 4);
    double dk = delta[k], gk = g[k];
    int moved = dk != 0;
    lane_add(acc, XC__FD_DOT, lane, moved ? (dk > 0 ? gk : -gk) : 0.0);
    lane_add(acc, XC__FD_MAG, lane, moved ? fabs(gk) : 0.0);
    lane_add(acc, XC__FD_BOUND, lane, moved ? b[k] : 0.0);
}

#if XC__HAVE_DD_VECTOR
#define HAVE_VECTOR_KERNEL 1

/* exact_step on four lanes, as masks. */
XC__VEC_FN xc__v4i exact_f64_v(xc__v4d z, double d)
{
    xc__v4d dp = xc__splat(d), dm = xc__splat(-d), sp = z + dp, sm = z + dm;
    return (sp - z == dp) & (sp - dp == z) & (sm - z == dm) & (sm - dm == z);
}

XC__VEC_FN xc__v4i exact_f32_v(xc__v4d z, double d)
{
    __m128 zf = _mm256_cvtpd_ps((__m256d)z), dp = _mm_set1_ps((float)d),
           dm = _mm_set1_ps((float)-d);
    __m128 sp = _mm_add_ps(zf, dp), sm = _mm_add_ps(zf, dm);
    __m128 ok = _mm_and_ps(_mm_and_ps(_mm_cmpeq_ps(_mm_sub_ps(sp, zf), dp),
                                      _mm_cmpeq_ps(_mm_sub_ps(sp, dp), zf)),
                           _mm_and_ps(_mm_cmpeq_ps(_mm_sub_ps(sm, zf), dm),
                                      _mm_cmpeq_ps(_mm_sub_ps(sm, dm), zf)));
    return (xc__v4i)_mm256_cvtepi32_epi64(_mm_castps_si128(ok));
}

XC__VEC_FN xc__v4i exact_v(xc_dtype t, xc__v4d z, double d)
{
    return t == XC_F32 ? exact_f32_v(z, d) : exact_f64_v(z, d);
}

__attribute__((target("avx2,fma"))) static size_t
direction_v(const xc__fd_row *row, double *delta, size_t *moved, int *down, int *up)
{
    size_t k = 0;
    xc__v4i any_down = {0, 0, 0, 0}, any_up = {0, 0, 0, 0};
    for (; k + 4 <= row->n; k += 4) {
        int32_t s4;
        memcpy(&s4, row->sign + k, sizeof s4);
        xc__v4i sg = (xc__v4i)_mm256_cvtepi8_epi64(_mm_cvtsi32_si128(s4));
        xc__v4d z = xc__load4(row->z + k);
        xc__v4i m = (sg != 0) & exact_v(row->dtype, z, row->h);
        if (row->halves)
            m &= exact_v(row->dtype, z, row->h / 2);
        xc__v4i neg = sg < 0;
        xc__v4d d = xc__select4(m, xc__select4(neg, xc__splat(-row->h), xc__splat(row->h)),
                            xc__splat(0.0));
        memcpy(delta + k, &d, sizeof d);
        *moved += (size_t)__builtin_popcount((unsigned)_mm256_movemask_pd((__m256d)m));
        any_down |= m & neg;
        any_up |= m & (sg > 0);
    }
    *down |= _mm256_movemask_pd((__m256d)any_down) != 0;
    *up |= _mm256_movemask_pd((__m256d)any_up) != 0;
    return k;
}

XC__VEC_FN void lanes_add(xc__v4d *hi, xc__v4d *lo, xc__v4d x)
{
    xc__v4d s, e;
    xc__two_sum_v(*hi, x, &s, &e);
    *hi = s;
    *lo = *lo + e;
}

__attribute__((target("avx2,fma"))) static size_t
sums_v(const double *g, const double *b, const double *delta, size_t n, xc__fd_sums *acc)
{
    xc__v4d hi[XC__FD_SUMS], lo[XC__FD_SUMS];
    for (int w = 0; w < XC__FD_SUMS; w++) {
        hi[w] = xc__load4(acc->hi[w]);
        lo[w] = xc__load4(acc->lo[w]);
    }
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        xc__v4d dk = xc__load4(delta + k), gk = xc__load4(g + k), zero = xc__splat(0.0);
        xc__v4i moved = dk != zero;
        xc__v4d dot = xc__select4(dk > zero, gk, -gk), bk = xc__load4(b + k);
        lanes_add(&hi[XC__FD_DOT], &lo[XC__FD_DOT], xc__select4(moved, dot, zero));
        lanes_add(&hi[XC__FD_MAG], &lo[XC__FD_MAG], xc__select4(moved, xc__abs4(gk), zero));
        lanes_add(&hi[XC__FD_BOUND], &lo[XC__FD_BOUND], xc__select4(moved, bk, zero));
    }
    for (int w = 0; w < XC__FD_SUMS; w++) {
        memcpy(acc->hi[w], &hi[w], sizeof hi[w]);
        memcpy(acc->lo[w], &lo[w], sizeof lo[w]);
    }
    return k;
}
#else
#define HAVE_VECTOR_KERNEL 0
#endif

int xc__fd_has_vector(void)
{
#if HAVE_VECTOR_KERNEL
    return xc__softmax_has_fma(); /* AVX2 and FMA */
#else
    return 0;
#endif
}

size_t xc__fd_row_direction_with(int use_vector, const xc__fd_row *row, double *delta,
                                 int *down, int *up)
{
    size_t k = 0, moved = 0;
#if HAVE_VECTOR_KERNEL
    if (use_vector)
        k = direction_v(row, delta, &moved, down, up);
#else
    (void)use_vector;
#endif
    for (; k < row->n; k++)
        direction_one(row, k, delta, &moved, down, up);
    return moved;
}

size_t xc__fd_row_direction(const xc__fd_row *row, double *delta, int *down, int *up)
{
    return xc__fd_row_direction_with(xc__fd_has_vector(), row, delta, down, up);
}

void xc__fd_sums_row_with(int use_vector, const double *g, const double *b,
                          const double *delta, size_t n, xc__fd_sums *acc)
{
    size_t k = 0;
#if HAVE_VECTOR_KERNEL
    if (use_vector)
        k = sums_v(g, b, delta, n, acc);
#else
    (void)use_vector;
#endif
    for (; k < n; k++)
        sums_one(g, b, delta, k, acc);
}

void xc__fd_sums_row(const double *g, const double *b, const double *delta, size_t n,
                     xc__fd_sums *acc)
{
    xc__fd_sums_row_with(xc__fd_has_vector(), g, b, delta, n, acc);
}

long double xc__fd_sums_value(const xc__fd_sums *acc, int which)
{
    /* A term +-inf or NaN makes its lane's high part so, and the low part
     * NaN (TwoSum's error of an infinite sum): the sum is then that of the
     * high parts, +-inf or NaN, as in any arithmetic. */
    long double plain = 0;
    for (int lane = 0; lane < 4; lane++)
        plain += acc->hi[which][lane];
    if (!isfinite(plain))
        return plain;
    xc__dd s = {0.0, 0.0};
    for (int lane = 0; lane < 4; lane++) {
        xc__dd t = xc__two_sum(s.hi, acc->hi[which][lane]);
        s = (xc__dd){t.hi, s.lo + (t.lo + acc->lo[which][lane])};
    }
    return (long double)s.hi + s.lo;
}
