/* The row extent kernels (row_extent.h). Only comparisons and selections:
 * no rounding, so nothing for a compiler to contract. */
#include "row_extent.h"

#include <math.h>
#include <string.h>

#include "reference_dd.h" /* xc__softmax_has_fma: AVX2 and FMA */

/* The first index from K on whose logit equals X (N when none). */
static size_t first_equal(const double *z, size_t k, size_t n, double x)
{
    while (k < n && !(z[k] == x))
        k++;
    return k;
}

/* Both kernels end here, with the first index of the largest value AT
 * (N: none): the first maximal logit's own bits (a -0 and a +0 compare
 * equal: the first of them is the max, as a scan keeping the first
 * strictly larger value gives), a zero minimum as +0. */
static void settle(const double *z, size_t n, size_t at, double lo, xc__row_extent *out)
{
    out->argmax = at;
    out->max = at < n ? z[at] : -INFINITY;
    out->min = lo + 0.0;
}

/* The classes K.. of the row into *M, *LO and OUT's counts, after the
 * vector kernel's classes (or all of them). */
static void extent_tail(const double *z, size_t k, size_t n, double *m, double *lo,
                        xc__row_extent *out)
{
    for (; k < n; k++) {
        if (isnan(z[k]) || z[k] == INFINITY)
            out->nonfinite = 1;
        else if (z[k] != -INFINITY) {
            out->n_finite++;
            *m = z[k] > *m ? z[k] : *m;
            *lo = z[k] < *lo ? z[k] : *lo;
        }
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_VECTOR_KERNEL 1
#include <immintrin.h>

__attribute__((target("avx2"))) static size_t first_avx2(const double *z, size_t n,
                                                         double x)
{
    const __m256d vx = _mm256_set1_pd(x);
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        int eq = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(z + k), vx, _CMP_EQ_OQ));
        if (eq)
            return k + (size_t)__builtin_ctz((unsigned)eq);
    }
    return first_equal(z, k, n, x);
}

__attribute__((target("avx2"))) static void extent_avx2(const double *z, size_t n,
                                                        xc__row_extent *out)
{
    const __m256d ninf = _mm256_set1_pd(-INFINITY), pinf = _mm256_set1_pd(INFINITY);
    __m256d vmax = ninf, vmin = pinf;
    int bad = 0;
    size_t k = 0, nf = 0;
    for (; k + 4 <= n; k += 4) {
        __m256d v = _mm256_loadu_pd(z + k);
        __m256d fin = _mm256_and_pd(_mm256_cmp_pd(v, ninf, _CMP_GT_OQ),
                                    _mm256_cmp_pd(v, pinf, _CMP_LT_OQ));
        /* NaN or +inf: not finite and not -inf */
        bad |= _mm256_movemask_pd(_mm256_cmp_pd(v, ninf, _CMP_NEQ_UQ)) &
               ~_mm256_movemask_pd(fin);
        nf += (size_t)__builtin_popcount((unsigned)_mm256_movemask_pd(fin));
        vmax = _mm256_max_pd(vmax, _mm256_blendv_pd(ninf, v, fin));
        vmin = _mm256_min_pd(vmin, _mm256_blendv_pd(pinf, v, fin));
    }
    double mx[4], mn[4], m = -INFINITY, lo = INFINITY;
    _mm256_storeu_pd(mx, vmax);
    _mm256_storeu_pd(mn, vmin);
    for (int j = 0; j < 4; j++) {
        m = mx[j] > m ? mx[j] : m;
        lo = mn[j] < lo ? mn[j] : lo;
    }
    out->nonfinite = bad != 0;
    out->n_finite = nf;
    extent_tail(z, k, n, &m, &lo, out);
    settle(z, n, m == -INFINITY ? n : first_avx2(z, n, m), lo, out);
}
#else
#define HAVE_VECTOR_KERNEL 0
#endif

int xc__row_extent_has_vector(void)
{
#if HAVE_VECTOR_KERNEL
    return xc__softmax_has_fma();
#else
    return 0;
#endif
}

void xc__row_extent_with(int use_vector, const double *z, size_t n, xc__row_extent *out)
{
    memset(out, 0, sizeof *out);
#if HAVE_VECTOR_KERNEL
    if (use_vector) {
        extent_avx2(z, n, out);
        return;
    }
#else
    (void)use_vector;
#endif
    double m = -INFINITY, lo = INFINITY;
    extent_tail(z, 0, n, &m, &lo, out);
    settle(z, n, m == -INFINITY ? n : first_equal(z, 0, n, m), lo, out);
}

void xc__row_extent_of(const double *z, size_t n, xc__row_extent *out)
{
    xc__row_extent_with(xc__row_extent_has_vector(), z, n, out);
}
