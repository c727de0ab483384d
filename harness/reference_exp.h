/* exp(hi + lo) in long double for the fast reference, without libm's expl.
 *
 * glibc's x87 expl costs about ten times a double exp. The reference now
 * computes its numerators in double-double (reference_dd.h) and calls this
 * only for those below e^-660, out of double-double's range; the tests
 * still hold it to its bound over its whole range. This table-driven version has the
 * same accuracy class (proof below), so REF_REL_ERR (reference.c) is
 * unchanged. Only for x86-64's x87 long double (64-bit significand,
 * u_L = 2^-64, doubles rounded in SSE registers); elsewhere, and for arguments below -11350 (results below 2^-16370, far
 * under any dtype's resolution), it falls back to expl(hi) (1 + lo).
 *
 * Method: n = round(hi 64/ln2) (in double), x = hi + lo = n ln2/64 + r,
 * exp(x) = 2^(n div 64) T[n mod 64] p(r), T[j] = 2^(j/64) correctly rounded
 * (generated with 300-bit mpmath; tests/test_reference.c checks them against
 * MPFR), p(r) = 1 + (r + w) with w = r^2 (1/2 + r q(r)) the Taylor terms of
 * degree 2 to 7, small enough (|w| < 1.5e-5) to be computed in double.
 * Error, relative, in u_L, for hi <= 0, |lo| <= 2^-53 |hi| (a TwoSum pair):
 *   - n: t = fl(hi fl(64/ln2)) is within |t| 2^-52 <= 2.4e-10 of the exact
 *     product (|hi| <= 11350), so |hi - n ln2/64| <= (ln2/64)(1/2 + 2.4e-10)
 *     and |r| <= 0.005416 (lo adds at most 2^-39).
 *   - r = ((hi - n C1) - n C2) + lo, C1 + C2 = ln2/64 to 2^-112: C1 has 40
 *     bits, so n C1 (|n| < 2^21) is exact, and hi - n C1 is exact (both are
 *     multiples of 2^min(-46, e(hi) - 52) and the difference is below 2^-7,
 *     which needs at most 53 bits); n C2 (|n C2| < 2^-27) rounds by 2^-91,
 *     the two additions by u_L |r| each: |dr| <= 0.0109 u_L + 2^-90, which
 *     moves exp(r) by a relative 0.011 u_L.
 *   - p(r): truncation |r|^8 / 8! e^|r| < 2^-75 (2^-11 u_L). w is computed
 *     in double from its own r_d = ((hi - n D1) - n D2) + lo, D1 the 32
 *     leading bits of ln2/64 (n D1 exact, hi - n D1 exact by the argument
 *     above with 2^-38 for 2^-46), D2 the rest rounded to double: |r_d - r|
 *     <= 2^-52 |r| + 2^-70, which moves w = r^2 (1/2 + ...) by at most
 *     2 |r| |r_d - r| <= 2^-51 r^2 + 2^-76 < 1.4e-20; q by Horner with the
 *     coefficients 1/k! rounded to double, 1/2 + r q, r_d^2 and the product
 *     each add 2^-53 relative, 4 2^-53 |w| < 6.6e-21: |dw| < 0.37 u_L in
 *     all. Then r + w rounds by u_L |r| (0.0055 u_L) and 1 + (r + w) by u_L:
 *     <= 1.38 u_L.
 *   - T[j] <= u_L (correctly rounded), T[j] p one rounding u_L, the power
 *     of two exact (the product stays normal for hi >= -11350).
 * Total <= 3.4 u_L + O(u_L^2), within the 4 u_L that reference.c assigns
 * to e_k = expl(hi) (1 + lo) (e_L + 2 with e_L = 2). The double part runs
 * in SSE registers beside the x87 part, which is why it is split so.
 */
#ifndef XC_HARNESS_REFERENCE_EXP_H
#define XC_HARNESS_REFERENCE_EXP_H

#include <float.h>
#include <math.h>
#include <stdint.h>

#define XC__EXP_FAST_MIN (-11350.0)

#if LDBL_MANT_DIG == 64 && defined(__x86_64__)
#define XC__EXP_FAST 1
#else
#define XC__EXP_FAST 0
#endif

/* 2^(j/64), j = 0..63, correctly rounded to long double. */
extern const long double xc__exp_table[64];
/* 2^-k, k = 0..64 (exact): the common exponents of exp_pair's scaling, read
 * from a table rather than assembled in memory as 80 bits (a stall). */
extern const long double xc__pow2_neg_table[65];

/* 2^K for K in long double's normal range, built from its bits. */
static inline long double xc__pow2l(int k)
{
#if XC__EXP_FAST
    union {
        long double v;
        struct {
            uint64_t mant;
            uint16_t sign_exp;
        } bits;
    } u = {0};
    u.bits.mant = UINT64_C(0x8000000000000000);
    u.bits.sign_exp = (uint16_t)(k + 16383);
    return u.v;
#else
    return ldexpl(1.0L, k);
#endif
}

/* exp(R) for |R| <= 0.005416: 1 + (R + w), w in double from RD, R to
 * about 2^-52 (error above). */
static inline long double xc__exp_poly(long double r, double rd)
{
    double q = 1.0 / 6 + rd * (1.0 / 24 + rd * (1.0 / 120 + rd * (1.0 / 720 +
                                                                 rd * (1.0 / 5040))));
    double w = rd * rd * (0.5 + rd * q);
    return 1.0L + (r + (long double)w);
}

/* exp(HI + LO) for HI <= 0 (or NaN) and |LO| <= 2^-53 |HI|: within
 * 3.4 u_L (above). */
static inline long double xc__exp_pair(double hi, double lo)
{
    if (!XC__EXP_FAST || !(hi >= XC__EXP_FAST_MIN))
        return expl((long double)hi) * (1.0L + (long double)lo);
    const long double c1 = 0xB17217F7D2P-46L;
    const long double c2 = -0xC21950D871319FF0P-112L;
    double nd = (hi * 0x1.71547652b82fep+6 + 0x1.8p52) - 0x1.8p52;
    long n = (long)nd;
    long double nl = (long double)nd;
    long double r = (((long double)hi - nl * c1) - nl * c2) + (long double)lo;
    double rd = ((hi - nd * 0x1.62e42feep-7) - nd * 0x1.a39ef35793c76p-39) + lo;
    long j = n & 63;
    int k = (int)((n - j) / 64);
    long double scale = k >= -64 ? xc__pow2_neg_table[-k] : xc__pow2l(k);
    return xc__exp_table[j] * xc__exp_poly(r, rd) * scale;
}

#endif
