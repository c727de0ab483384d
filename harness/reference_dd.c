/* The softmax numerators in double-double (reference_dd.h).
 *
 * Notation: u = 2^-53 (double), u_L = 2^-64 (long double). Each element
 * with z - m >= XC__EXP_DD_MIN goes through exp_dd(hi, lo), hi + lo =
 * z - m exactly (TwoSum), hi in [-660, 0], |lo| <= u |hi|.
 *
 * Error of exp_dd, relative to exp(hi + lo):
 *   - n = round(hi 64/ln2) by the 1.5 2^52 shifter: fl(hi fl(64/ln2)) is
 *     within 2^-52 |hi 64/ln2| <= 1.4e-11 of hi 64/ln2, so
 *     |hi - n ln2/64| <= (ln2/64)(1/2 + 1.4e-11) < 0.005416 and
 *     |n| < 60940 < 2^16.
 *   - t = hi - n D1 is exact. D1 has 36 bits (a multiple of 2^-42), so
 *     n D1 has at most 52 and is exact. When n = 0, t = hi. Otherwise
 *     |hi| >= 0.0054 > 2^-8, hi = 2^e (1 + f) with -8 <= e <= 9, and both
 *     hi and n D1 are multiples of 2^(e-52); their difference is below
 *     0.005416 + 2^16 |D2| < 2^-7 and so has at most 45 - e <= 53 bits.
 *   - n D2 is the exact pair (ph, pl) (fma). |D1 + D2 - ln2/64| < 1.6e-30,
 *     so n (D1 + D2) is n ln2/64 within 2^16 1.6e-30 < 2^-83.
 *   - r = TwoSum(a.hi, (a.lo - pl) + lo) with a = TwoSum(t, -ph): the two
 *     TwoSums are exact and the two additions round values below
 *     |lo| + |a.lo| + |pl| < 2^-43.5, by 2^-96.5 each. So rh + rl is
 *     hi + lo - n ln2/64 within 2^-82.9, |rh| <= 0.00542, |rl| <= u |rh|.
 *   - exp(r) = 1 + r + w(r), w(r) = r^2/2 + ... + r^7/7! + tail. The tail
 *     is below r^8/8! e^r < 1.9e-23. w is evaluated in double from rh
 *     alone: dropping rl moves it by |w'| |rl| <= 0.00544 u 0.00542 <
 *     3.3e-21; Horner with the coefficients rounded to double, rh^2 and
 *     the products round by at most 3.1 u |w| < 5.1e-21 (|w| < 1.47e-5;
 *     the rounding of q weighs 0.1% of 1/2 + rh q). Then 1 + rh is split
 *     exactly (FastTwoSum), rl + w and its addition to the low part round
 *     by 2 u 1.47e-5 < 3.3e-21, and FastTwoSum renormalises exactly (the
 *     low part, below 1.5e-5, is smaller than the high, about 1).
 *     Total: (s.hi + s.lo) - exp(r) is below 1.2e-20 < 0.22 u_L exp(r)
 *     (exp(r) > 0.994), plus the 2^-82.9 of r.
 *   - The table (hi, lo) is 2^(j/64) within 2^-106; the product T s is
 *     the exact Th s.hi (fma) plus Th s.lo + Tl s.hi, whose terms are below
 *     2^-51 and round by 2^-102 relative; Tl s.lo < 2^-105 is dropped.
 *   - 2^k (k = (n - j)/64 >= -953) scales exactly: the high part stays
 *     normal (>= 2^-954); a subnormal low part loses at most 2^-1075,
 *     below 2^-121 of the high part.
 * So |eh + el - exp(hi + lo)| <= 0.22 u_L exp(hi + lo) + O(2^-82), stated
 * as 0.25 u_L, and |el| < 2^-50 |eh|. The slot keeps the pair; rounded
 * to long double (xc__numerator_value, the gradient pass's long double
 * path) it is within 1.25 u_L.
 *
 * Elements below XC__EXP_DD_MIN (e_k < 2^-952) use the long double exp of
 * reference_exp.h (within 4 u_L, reference.c) and are summed apart in long
 * double (ksum.h, 2 u_L), which keeps the relative accuracy of a sum made
 * only of such terms (a tiny loss).
 *
 * The sum of the double-double terms runs in four lanes (independent
 * chains), each a TwoSum of the high parts with the error and the low part
 * added to a running low word, renormalised every RENORM_EVERY terms. The
 * TwoSums are exact; a low word holds at most (1 + RENORM_EVERY) u S +
 * RENORM_EVERY 2^-50 S < 258 u S (S the sum of the terms) and its two
 * additions per term round by u times that: over the n / 256 + 4 lane
 * blocks, at most (2^9 n + 2^19) u^2 S, below 0.25 u_L S for n <= 2^31
 * classes. Merging the lanes rounds low words only (< 8 u^2 S). With the
 * terms' own 0.25 u_L, the two roundings to long double (u_L each) and the
 * separate sum's 4 + 2 u_L, the result is within 8 u_L of the exact sum
 * (O(u_L^2) aside), which reference.c takes as the sum's error.
 *
 * The whole sum T = 1 + others as a pair (*total): the lanes' pair is
 * within 0.5 u_L S + 8 u^2 S of the exact sum S of those exp(z_k - m)
 * (the terms' own 0.25 u_L and the lanes' 0.25 u_L); 1 is
 * added by an exact TwoSum, the low words and the deep terms' sum (below
 * n 2^-952, within 6 u_L of its own) by two roundings of u times values
 * below 2u T, and the renormalisation is exact (|1 + S| >= |low|): T is
 * within 1 u_L, which reference_grad.c takes.
 */
#include "reference_dd.h"

#if defined(__GNUC__) && !defined(__clang__) && !defined(XC_DD_NO_CONTRACT)
#error "reference_dd.c needs -ffp-contract=off -DXC_DD_NO_CONTRACT (dd_ops.h)"
#endif

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "dd_ops.h"
#include "ksum.h"
#include "reference_exp.h"

const xc__dd xc__exp2_dd_table[64] = {
    {0x1p+0, 0x0p+0},
    {0x1.02c9a3e778061p+0, -0x1.19083535b085dp-56},
    {0x1.059b0d3158574p+0, 0x1.d73e2a475b465p-55},
    {0x1.0874518759bc8p+0, 0x1.186be4bb284ffp-57},
    {0x1.0b5586cf9890fp+0, 0x1.8a62e4adc610bp-54},
    {0x1.0e3ec32d3d1a2p+0, 0x1.03a1727c57b53p-59},
    {0x1.11301d0125b51p+0, -0x1.6c51039449b3ap-54},
    {0x1.1429aaea92dep+0, -0x1.32fbf9af1369ep-54},
    {0x1.172b83c7d517bp+0, -0x1.19041b9d78a76p-55},
    {0x1.1a35beb6fcb75p+0, 0x1.e5b4c7b4968e4p-55},
    {0x1.1d4873168b9aap+0, 0x1.e016e00a2643cp-54},
    {0x1.2063b88628cd6p+0, 0x1.dc775814a8495p-55},
    {0x1.2387a6e756238p+0, 0x1.9b07eb6c70573p-54},
    {0x1.26b4565e27cddp+0, 0x1.2bd339940e9d9p-55},
    {0x1.29e9df51fdee1p+0, 0x1.612e8afad1255p-55},
    {0x1.2d285a6e4030bp+0, 0x1.0024754db41d5p-54},
    {0x1.306fe0a31b715p+0, 0x1.6f46ad23182e4p-55},
    {0x1.33c08b26416ffp+0, 0x1.32721843659a6p-54},
    {0x1.371a7373aa9cbp+0, -0x1.63aeabf42eae2p-54},
    {0x1.3a7db34e59ff7p+0, -0x1.5e436d661f5e3p-56},
    {0x1.3dea64c123422p+0, 0x1.ada0911f09ebcp-55},
    {0x1.4160a21f72e2ap+0, -0x1.ef3691c309278p-58},
    {0x1.44e086061892dp+0, 0x1.89b7a04ef80dp-59},
    {0x1.486a2b5c13cdp+0, 0x1.3c1a3b69062fp-56},
    {0x1.4bfdad5362a27p+0, 0x1.d4397afec42e2p-56},
    {0x1.4f9b2769d2ca7p+0, -0x1.4b309d25957e3p-54},
    {0x1.5342b569d4f82p+0, -0x1.07abe1db13cadp-55},
    {0x1.56f4736b527dap+0, 0x1.9bb2c011d93adp-54},
    {0x1.5ab07dd485429p+0, 0x1.6324c054647adp-54},
    {0x1.5e76f15ad2148p+0, 0x1.ba6f93080e65ep-54},
    {0x1.6247eb03a5585p+0, -0x1.383c17e40b497p-54},
    {0x1.6623882552225p+0, -0x1.bb60987591c34p-54},
    {0x1.6a09e667f3bcdp+0, -0x1.bdd3413b26456p-54},
    {0x1.6dfb23c651a2fp+0, -0x1.bbe3a683c88abp-57},
    {0x1.71f75e8ec5f74p+0, -0x1.16e4786887a99p-55},
    {0x1.75feb564267c9p+0, -0x1.0245957316dd3p-54},
    {0x1.7a11473eb0187p+0, -0x1.41577ee04992fp-55},
    {0x1.7e2f336cf4e62p+0, 0x1.05d02ba15797ep-56},
    {0x1.82589994cce13p+0, -0x1.d4c1dd41532d8p-54},
    {0x1.868d99b4492edp+0, -0x1.fc6f89bd4f6bap-54},
    {0x1.8ace5422aa0dbp+0, 0x1.6e9f156864b27p-54},
    {0x1.8f1ae99157736p+0, 0x1.5cc13a2e3976cp-55},
    {0x1.93737b0cdc5e5p+0, -0x1.75fc781b57ebcp-57},
    {0x1.97d829fde4e5p+0, -0x1.d185b7c1b85d1p-54},
    {0x1.9c49182a3f09p+0, 0x1.c7c46b071f2bep-56},
    {0x1.a0c667b5de565p+0, -0x1.359495d1cd533p-54},
    {0x1.a5503b23e255dp+0, -0x1.d2f6edb8d41e1p-54},
    {0x1.a9e6b5579fdbfp+0, 0x1.0fac90ef7fd31p-54},
    {0x1.ae89f995ad3adp+0, 0x1.7a1cd345dcc81p-54},
    {0x1.b33a2b84f15fbp+0, -0x1.2805e3084d708p-57},
    {0x1.b7f76f2fb5e47p+0, -0x1.5584f7e54ac3bp-56},
    {0x1.bcc1e904bc1d2p+0, 0x1.23dd07a2d9e84p-55},
    {0x1.c199bdd85529cp+0, 0x1.11065895048ddp-55},
    {0x1.c67f12e57d14bp+0, 0x1.2884dff483cadp-54},
    {0x1.cb720dcef9069p+0, 0x1.503cbd1e949dbp-56},
    {0x1.d072d4a07897cp+0, -0x1.cbc3743797a9cp-54},
    {0x1.d5818dcfba487p+0, 0x1.2ed02d75b3707p-55},
    {0x1.da9e603db3285p+0, 0x1.c2300696db532p-54},
    {0x1.dfc97337b9b5fp+0, -0x1.1a5cd4f184b5cp-54},
    {0x1.e502ee78b3ff6p+0, 0x1.39e8980a9cc8fp-55},
    {0x1.ea4afa2a490dap+0, -0x1.e9c23179c2893p-54},
    {0x1.efa1bee615a27p+0, 0x1.dc7f486a4b6bp-54},
    {0x1.f50765b6e454p+0, 0x1.9d3e12dd8a18bp-54},
    {0x1.fa7c1819e90d8p+0, 0x1.74853f3a5931ep-55}
};

#define INV_LN2_64 0x1.71547652b82fep+6     /* 64/ln2 rounded */
#define SHIFTER 0x1.8p52                    /* adding it rounds to an integer */
#define LN2_64_D1 0x1.62e42fefap-7          /* ln2/64: its 36 leading bits */
#define LN2_64_D2 0x1.cf79abc9e3b3ap-46     /* and the rest, rounded */

/* Below this z - m, exp(z - m) is under half of long double's smallest
 * subnormal (2^-16445 = e^-11399.5) whatever the rounding error lo adds
 * (|lo| <= 2^-53 |hi|): the exponential is exactly 0. */
#define EXP_DIFF_ZERO (-11400.0)

/* Terms per lane between renormalisations of its low word. */
#define RENORM_EVERY 256

#define ALWAYS_INLINE XC__DD_INLINE

/* 2^K for K in double's normal range. */
ALWAYS_INLINE double pow2(long k)
{
    uint64_t bits = (uint64_t)(k + 1023) << 52;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

ALWAYS_INLINE xc__dd exp_dd_body(double hi, double lo)
{
    double nd = (hi * INV_LN2_64 + SHIFTER) - SHIFTER;
    long n = (long)nd;
    double t = hi - nd * LN2_64_D1;
    double ph = nd * LN2_64_D2, pl = fma(nd, LN2_64_D2, -ph);
    xc__dd a = xc__two_sum(t, -ph);
    xc__dd r = xc__two_sum(a.hi, (a.lo - pl) + lo);
    double x = r.hi;
    double q = 1.0 / 6 + x * (1.0 / 24 + x * (1.0 / 120 + x * (1.0 / 720 +
                                                            x * (1.0 / 5040))));
    double w = x * x * (0.5 + x * q);
    xc__dd one = xc__fast_two_sum(1.0, x);
    xc__dd s = xc__fast_two_sum(one.hi, one.lo + (r.lo + w));
    long j = n & 63;
    xc__dd T = xc__exp2_dd_table[j];
    double eh = T.hi * s.hi;
    double el = fma(T.hi, s.hi, -eh) + (T.hi * s.lo + T.lo * s.hi);
    double scale = pow2((n - j) / 64);
    return (xc__dd){eh * scale, el * scale};
}

/* exp(z - m) for z < m + XC__EXP_DD_MIN, in long double. A difference
 * below EXP_DIFF_ZERO gives 0 before TwoSum: its intermediate hi - z is
 * about -m and can overflow when m is near DBL_MAX. */
static long double deep_exp(double z, double m, double hi)
{
    if (!(hi >= EXP_DIFF_ZERO))
        return 0.0L;
    xc__dd d = xc__two_sum(z, -m);
    return xc__exp_pair(d.hi, d.lo);
}

/* Element Z of the row: writes its slot E (reference_dd.h), returns the
 * double-double term to sum (0 when it is not SUMMED, is -inf, or goes to
 * DEEP). */
ALWAYS_INLINE xc__dd element(double z, double m, long double *e, xc__ksum *deep,
                             int summed)
{
    double hi = z - m;
    if (!(hi >= XC__EXP_DD_MIN)) { /* -inf, or below double-double's range */
        *e = z == -INFINITY ? 0.0L : deep_exp(z, m, hi);
        if (summed)
            xc__ksum_add_pos(deep, *e);
        return (xc__dd){0, 0};
    }
    /* exp_dd_body(0, 0) is (1, 0) exactly: the row's max (and its ties) */
    xc__dd v = {1.0, 0.0};
    if (hi != 0) {
        xc__dd d = xc__two_sum(z, -m);
        v = exp_dd_body(d.hi, d.lo);
    }
    memcpy(e, &v, sizeof v);
    return summed ? v : (xc__dd){0, 0};
}

/* Four running sums; element k goes to lane k mod 4 in both kernels. */
typedef struct lanes {
    double hi[4], lo[4];
} lanes;

ALWAYS_INLINE void lane_add(lanes *s, size_t l, xc__dd v)
{
    xc__dd t = xc__two_sum(s->hi[l], v.hi);
    s->hi[l] = t.hi;
    s->lo[l] += t.lo + v.lo;
}

ALWAYS_INLINE void lanes_renormalise(lanes *s)
{
    for (int l = 0; l < 4; l++) {
        xc__dd t = xc__two_sum(s->hi[l], s->lo[l]);
        s->hi[l] = t.hi;
        s->lo[l] = t.lo;
    }
}

/* The lanes' total rounded to long double, plus the deep terms' sum
 * (the others than the max's term), and 1 + that total as a pair, *TOTAL. */
ALWAYS_INLINE long double lanes_finish(const lanes *s, const xc__ksum *deep,
                                       xc__dd *total)
{
    xc__dd a = xc__two_sum(s->hi[0], s->hi[1]), b = xc__two_sum(s->hi[2], s->hi[3]);
    xc__dd t = xc__two_sum(a.hi, b.hi);
    double low = ((s->lo[0] + s->lo[1]) + (s->lo[2] + s->lo[3])) +
                 ((a.lo + b.lo) + t.lo);
    long double deep_sum = xc__ksum_value(deep);
    xc__dd one = xc__two_sum(1.0, t.hi);
    *total = xc__fast_two_sum(one.hi, one.lo + (low + (double)deep_sum));
    return ((long double)t.hi + (long double)low) + deep_sum;
}

/* Elements K .. END-1, one at a time. */
ALWAYS_INLINE void span_scalar(const double *z, size_t k, size_t end, double m,
                               size_t skip, long double *e, lanes *s,
                               xc__ksum *deep)
{
    for (; k < end; k++)
        lane_add(s, k & 3, element(z[k], m, &e[k], deep, k != skip));
}

static long double numerators_portable(const double *z, size_t n, double m,
                                       size_t skip, long double *e, xc__dd *total)
{
    lanes s = {{0, 0, 0, 0}, {0, 0, 0, 0}};
    xc__ksum deep = {0, 0};
    for (size_t k = 0; k < n; k += 4 * RENORM_EVERY) {
        size_t end = n - k > 4 * RENORM_EVERY ? k + 4 * RENORM_EVERY : n;
        span_scalar(z, k, end, m, skip, e, &s, &deep);
        lanes_renormalise(&s);
    }
    return lanes_finish(&s, &deep, total);
}

#if XC__HAVE_DD_VECTOR
#define HAVE_FMA_KERNEL 1

/* The same operations four elements at a time (AVX2 and FMA, dd_ops.h):
 * lane i of every vector computes what exp_dd_body and lane_add compute
 * for element k + i, in the same order, so the bits agree with the
 * portable kernel.
 *
 * exp_dd_body on four elements. n comes from the shifter's bits (AVX2 has
 * no double-to-int64 conversion); 2^k is built from (n - j) 2^46. */
XC__VEC_FN void exp_dd_v(xc__v4d hi, xc__v4d lo, xc__v4d *eh, xc__v4d *el)
{
    xc__v4d shifted = hi * xc__splat(INV_LN2_64) + xc__splat(SHIFTER);
    xc__v4d nd = shifted - xc__splat(SHIFTER);
    xc__v4i n = (xc__v4i)shifted - (xc__v4i)xc__splat(SHIFTER);
    xc__v4d t = hi - nd * xc__splat(LN2_64_D1);
    xc__v4d ph = nd * xc__splat(LN2_64_D2);
    xc__v4d pl = xc__vfma(nd, xc__splat(LN2_64_D2), -ph);
    xc__v4d ah, al, x, rl;
    xc__two_sum_v(t, -ph, &ah, &al);
    xc__two_sum_v(ah, (al - pl) + lo, &x, &rl);
    xc__v4d q = xc__splat(1.0 / 6) +
                x * (xc__splat(1.0 / 24) +
                     x * (xc__splat(1.0 / 120) +
                          x * (xc__splat(1.0 / 720) + x * xc__splat(1.0 / 5040))));
    xc__v4d w = x * x * (xc__splat(0.5) + x * q);
    xc__v4d oh, ol, sh, sl;
    xc__fast_two_sum_v(xc__splat(1.0), x, &oh, &ol);
    xc__fast_two_sum_v(oh, ol + (rl + w), &sh, &sl);
    xc__v4i j = n & 63;
    __m256i at = (__m256i)(j + j);
    xc__v4d th = (xc__v4d)_mm256_i64gather_pd(&xc__exp2_dd_table[0].hi, at, 8);
    xc__v4d tl = (xc__v4d)_mm256_i64gather_pd(&xc__exp2_dd_table[0].lo, at, 8);
    xc__v4d h = th * sh;
    xc__v4d l = xc__vfma(th, sh, -h) + (th * sl + tl * sh);
    xc__v4u bias = {1023ull << 52, 1023ull << 52, 1023ull << 52, 1023ull << 52};
    xc__v4d scale = (xc__v4d)(((xc__v4u)(n - j) << 46) + bias);
    *eh = h * scale;
    *el = l * scale;
}

/* Elements K .. K+3 when all are in double-double's range, otherwise one
 * at a time. SKIP's lane adds the pair (0, 0), as span_scalar's does. */
XC__VEC_FN void group_v(const double *z, size_t k, double m, size_t skip,
                        long double *e, lanes *s, xc__ksum *deep)
{
    xc__v4d zv, hi, lo, eh, el, sum_hi, sum_lo, err;
    memcpy(&zv, z + k, sizeof zv);
    xc__two_sum_v(zv, xc__splat(-m), &hi, &lo);
    int in_range = _mm256_movemask_pd(_mm256_cmp_pd((__m256d)hi,
                                                    (__m256d)xc__splat(XC__EXP_DD_MIN),
                                                    _CMP_GE_OQ)) == 15;
    if (!in_range) {
        span_scalar(z, k, k + 4, m, skip, e, s, deep);
        return;
    }
    exp_dd_v(hi, lo, &eh, &el);
    xc__store_pairs_v(e + k, eh, el);
    if (skip - k < 4) {
        eh[skip - k] = 0;
        el[skip - k] = 0;
    }
    memcpy(&sum_hi, s->hi, sizeof sum_hi);
    memcpy(&sum_lo, s->lo, sizeof sum_lo);
    xc__two_sum_v(sum_hi, eh, &sum_hi, &err);
    sum_lo += err + el;
    memcpy(s->hi, &sum_hi, sizeof sum_hi);
    memcpy(s->lo, &sum_lo, sizeof sum_lo);
}

__attribute__((target("avx2,fma"))) static long double
numerators_fma(const double *z, size_t n, double m, size_t skip, long double *e,
               xc__dd *total)
{
    lanes s = {{0, 0, 0, 0}, {0, 0, 0, 0}};
    xc__ksum deep = {0, 0};
    for (size_t k = 0; k < n;) {
        size_t end = n - k > 4 * RENORM_EVERY ? k + 4 * RENORM_EVERY : n;
        for (; k + 4 <= end; k += 4)
            group_v(z, k, m, skip, e, &s, &deep);
        span_scalar(z, k, end, m, skip, e, &s, &deep);
        k = end;
        lanes_renormalise(&s);
    }
    return lanes_finish(&s, &deep, total);
}
#else
#define HAVE_FMA_KERNEL 0
#endif

int xc__softmax_has_fma(void)
{
#if HAVE_FMA_KERNEL
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

long double xc__softmax_numerators_with(int use_fma, const double *z, size_t n,
                                        double m, size_t skip, long double *e,
                                        xc__dd *total)
{
#if HAVE_FMA_KERNEL
    if (use_fma)
        return numerators_fma(z, n, m, skip, e, total);
#else
    (void)use_fma;
#endif
    return numerators_portable(z, n, m, skip, e, total);
}

long double xc__softmax_numerators(const double *z, size_t n, double m,
                                   size_t skip, long double *e, xc__dd *total)
{
    return xc__softmax_numerators_with(xc__softmax_has_fma(), z, n, m, skip, e, total);
}

long double xc__numerator_value(const long double *slot, double z, double m)
{
    if (!(z - m >= XC__EXP_DD_MIN))
        return *slot;
    xc__dd v;
    memcpy(&v, slot, sizeof v);
    return (long double)v.hi + (long double)v.lo;
}

xc__dd xc__exp_dd(double hi, double lo)
{
    return exp_dd_body(hi, lo);
}
