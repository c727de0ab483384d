/* The SLEEF softmax kernel, written once and compiled per vector extension
 * and dtype.
 *
 * Included by sleef_sse2.c, sleef_avx2.c and sleef_avx512.c (each compiled
 * with its -m flags), once per dtype, after defining:
 *   SK_T      the element type (float, double)
 *   SK_V      a GCC vector of SK_T as wide as the extension (__m256, ...)
 *   SK_EXP    SLEEF's 1-ulp exp of that width for that extension
 *   SK_FN(f)  the name of F for this dtype and extension
 * The kernel: M = max_k z_k; e_k = exp(z_k - M) lane by lane; s = the sum
 * of the lane accumulators; O_k = e_k / s. A row's tail is padded with
 * -inf, whose exp is 0, so every element goes through the same vector exp.
 * The file undefines the four macros at its end.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "sleef_kernels.h"

#define SK_LANES (sizeof(SK_V) / sizeof(SK_T))

static SK_T SK_FN(row_max)(const SK_T *z, size_t n)
{
    SK_T m = -INFINITY;
    for (size_t k = 0; k < n; k++)
        if (z[k] > m)
            m = z[k];
    return m;
}

/* exp(z[0, LEN) - M) into OUT (LEN <= SK_LANES); the padded vector. */
static SK_V SK_FN(exp_block)(const SK_T *z, size_t len, SK_V vm, SK_T *out)
{
    SK_T buf[SK_LANES];
    SK_V v, e;
    for (size_t i = 0; i < SK_LANES; i++)
        buf[i] = i < len ? z[i] : -INFINITY;
    memcpy(&v, buf, sizeof v);
    e = SK_EXP(v - vm);
    memcpy(buf, &e, sizeof e);
    memcpy(out, buf, len * sizeof *out);
    return e;
}

int SK_FN(xc__sleef_softmax)(const SK_T *z, size_t n, SK_T *out)
{
    SK_T m = SK_FN(row_max)(z, n), s = 0, lane[SK_LANES];
    if (m == -INFINITY)
        return 1;
    SK_V vm = (SK_V){ 0 } + m, acc = { 0 };
    for (size_t k = 0; k < n; k += SK_LANES) {
        size_t len = n - k < SK_LANES ? n - k : SK_LANES;
        acc += SK_FN(exp_block)(z + k, len, vm, out + k);
    }
    memcpy(lane, &acc, sizeof acc);
    for (size_t i = 0; i < SK_LANES; i++)
        s += lane[i];
    for (size_t k = 0; k < n; k++)
        out[k] /= s;
    return 0;
}

#undef SK_LANES
#undef SK_T
#undef SK_V
#undef SK_EXP
#undef SK_FN
