/* The gradient pass of the fast reference (reference_grad.h).
 *
 * Error (u = 2^-53, u_L = 2^-64; dd_ops.h for the pair operations). The
 * inputs: a slot's pair e_k within 0.25 u_L of exp(z_k - m) and the pair T
 * within 1 u_L of the exact sum (reference_dd.c); A_r within 9 u_L and
 * t_k within 6 u_L (reference.c). On the pair path:
 *   - A_r and t_k are split exactly into pairs (a long double's 64 bits
 *     are a double and a remainder of at most 11 bits, which stays a
 *     normal double above 2^-900);
 *   - 1/T within 1 u_L + 2^-102, O_k = e_k (1/T) within 1.25 u_L + 2^-101
 *     and a = A_r O_k within 10.3 u_L of |A_r| O_k;
 *   - g = a - t_k within 3 u^2 (|a| + |t_k|) <= 7 u^2 scale_k, and its
 *     rounding to long double adds u_L |g| <= 2.1 u_L scale_k;
 * so |g~ - g| <= 19 u_L scale_k, within reference.c's stated 64 u_L.
 * Those bounds need the operands and the high-by-high products in the
 * range dd_ops.h states. An element takes the pair path only when |A_r|
 * and |t_k| lie in [2^-900, 2^1000] (or t_k = 0) and the computed O_k and
 * |a| are at least 2^-900: every high part and high-by-high product is
 * then above 2^-968 (the smallest, e_k's times 1/T's, is about O_k), the
 * exact errors of the products (multiples of 2^-1006 at least) are
 * doubles, and nothing comes near overflow (|g| <= 2^1001). A low part
 * that underflows (1/T's is 0 when T is a power of two, and e_k's or A_r's
 * low part times O_k can be subnormal) loses at most 2^-1075, below 2^-174
 * of |a|. Any other element, and any whose slot holds a long double
 * (z_k - m < XC__EXP_DD_MIN), takes the long double path, whose bound is
 * reference.c's.
 *
 * scale_k is max(|a|, |t_k|) of the computed values, rounded up to a
 * double, on either path.
 */
#include "reference_grad.h"

#if defined(__GNUC__) && !defined(__clang__) && !defined(XC_DD_NO_CONTRACT)
#error "reference_grad.c needs -ffp-contract=off -DXC_DD_NO_CONTRACT (dd_ops.h)"
#endif

#include <math.h>
#include <string.h>

#include "reference.h"
#include "reference_dd.h"

#define PAIR_MIN 0x1p-900
#define PAIR_MAX 0x1p1000

typedef struct pass {
    const xc__grad_row *row;
    xc__dd inv;            /* 1 / T */
    long double inv_ld;    /* 1 / T in long double: one division per row */
    xc__dd A;              /* A_r, when pair_ok */
    int pair_ok;           /* A_r != 0 and in the pair range */
} pass;

/* X as an exact pair when it is 0 or its magnitude is in the pair range;
 * returns whether it is. */
static int split_pair(long double x, xc__dd *p)
{
    long double ax = fabsl(x);
    if (!(x == 0 || (ax >= PAIR_MIN && ax <= PAIR_MAX)))
        return 0;
    p->hi = (double)x;
    p->lo = (double)(x - p->hi);
    return 1;
}

static pass pass_of(const xc__grad_row *row)
{
    pass p = {.row = row, .inv = xc__dd_inv(row->total),
              .inv_ld = 1.0L / row->total_ld};
    p.pair_ok = row->A != 0 && split_pair(row->A, &p.A);
    return p;
}

/* g_k and scale_k from the pair E and the pair T_K, or 0 when O_k or a
 * leaves the range the pair path's bound needs. */
XC__DD_INLINE int element_pairs(const pass *p, xc__dd e, xc__dd t, xc__dd *g,
                                double *scale)
{
    xc__dd o = xc__dd_mul(e, p->inv);
    xc__dd a = xc__dd_mul(p->A, o);
    if (!(o.hi >= PAIR_MIN && fabs(a.hi) >= PAIR_MIN))
        return 0;
    xc__dd d = xc__dd_sub(a, t);
    *g = (xc__dd){d.hi, d.lo + 0.0}; /* a zero low part +0 (group_v) */
    double sa = xc__dd_abs_up(a), st = xc__dd_abs_up(t);
    *scale = sa >= st ? sa : st;
    return 1;
}

/* Class K with t_k = T: its slot G becomes g_k, SCALE scale_k. Returns 1
 * when it took the pair path. Inlined into each kernel, so that the FMA
 * kernel's fma is an instruction. */
XC__DD_INLINE int element(const pass *p, size_t k, long double t, xc__dd *g,
                          double *scale)
{
    const xc__grad_row *row = p->row;
    long double e;
    if (row->z[k] - row->m >= XC__EXP_DD_MIN) {
        xc__dd ep = *g, tp;
        if (p->pair_ok && split_pair(t, &tp) && element_pairs(p, ep, tp, g, scale))
            return 1;
        e = (long double)ep.hi + (long double)ep.lo;
    } else {
        memcpy(&e, g, sizeof e); /* the slot holds a long double */
    }
    long double a = row->A * (e * p->inv_ld);
    long double fa = fabsl(a), ft = fabsl(t);
    xc__dd d = xc__dd_of_ld(a - t);
    *g = (xc__dd){d.hi, d.lo + 0.0};
    *scale = xc__round_up_double(fa >= ft ? fa : ft); /* no NaN in a finite row */
    return 0;
}

/* t_k = c_r v_k y_k: for an index label c_r * 1 * 1 at its class and
 * c_r * 1 * 0 (a signed zero) elsewhere. */
static long double t_of(const xc__grad_row *row, size_t k)
{
    if (!row->y)
        return row->coef * 1.0L * (k == row->label ? 1.0L : 0.0L);
    long double v = row->w ? (long double)row->w[k] : 1.0L;
    return row->coef * v * (long double)row->y[k];
}

/* Classes K .. END-1 one at a time; returns how many took the pair path. */
XC__DD_INLINE size_t span_portable(const pass *p, size_t k, size_t end,
                                   xc__dd *g, double *scale)
{
    size_t pairs = 0;
    for (; k < end; k++)
        pairs += (size_t)element(p, k, t_of(p->row, k), &g[k], &scale[k]);
    return pairs;
}

#if XC__HAVE_DD_VECTOR
#define HAVE_FMA_KERNEL 1

/* element_pairs on classes K .. K+3 of an index-label row, none of them
 * the label's, lane by lane in the same order, or one at a time (element)
 * unless all four take the pair path. Off the label t_k is a signed zero,
 * for which element_pairs gives g = a (a = TwoSum(ph, pl) is normalised,
 * so a.hi - 0 and the TwoSum renormalising a.lo give it back, but for a
 * zero low part, which may come back +0 and is stored +0 on both paths)
 * and scale_k = |a| rounded up (|t_k| rounds up to 0): that is what this
 * computes. Returns how many
 * took the pair path. */
XC__VEC_FN size_t group_v(const pass *p, size_t k, long double t_off, xc__dd *g,
                          double *scale)
{
    const xc__grad_row *row = p->row;
    xc__v4d z, eh, el, oh, ol, ah, al;
    memcpy(&z, row->z + k, sizeof z);
    xc__v4i in = (z - xc__splat(row->m)) >= xc__splat(XC__EXP_DD_MIN);
    if (_mm256_movemask_pd((__m256d)in) == 15) { /* every slot holds a pair */
        xc__load_pairs_v(g + k, &eh, &el);
        xc__dd_mul_v(eh, el, xc__splat(p->inv.hi), xc__splat(p->inv.lo), &oh, &ol);
        xc__dd_mul_v(xc__splat(p->A.hi), xc__splat(p->A.lo), oh, ol, &ah, &al);
        xc__v4d mag = (xc__v4d)((xc__v4u)ah & ~(xc__v4u)xc__splat(-0.0));
        in &= (oh >= xc__splat(PAIR_MIN)) & (mag >= xc__splat(PAIR_MIN));
    }
    if (_mm256_movemask_pd((__m256d)in) != 15) {
        size_t pairs = 0;
        for (size_t i = k; i < k + 4; i++)
            pairs += (size_t)element(p, i, t_off, &g[i], &scale[i]);
        return pairs;
    }
    xc__v4d s = xc__dd_abs_up_v(ah, al);
    memcpy(scale + k, &s, sizeof s);
    xc__store_pairs_v(g + k, ah, al + xc__splat(0.0));
    return 4;
}

__attribute__((target("avx2,fma"))) static size_t
row_fma(const pass *p, xc__dd *g, double *scale)
{
    const xc__grad_row *row = p->row;
    long double t_off = row->coef * 1.0L * 0.0L; /* t_of off the label */
    if (row->y || !p->pair_ok)
        return span_portable(p, 0, row->n, g, scale);
    size_t k = 0, pairs = 0;
    for (; k + 4 <= row->n; k += 4)
        pairs += row->label - k < 4 ? span_portable(p, k, k + 4, g, scale)
                                    : group_v(p, k, t_off, g, scale);
    return pairs + span_portable(p, k, row->n, g, scale);
}
#else
#define HAVE_FMA_KERNEL 0
#endif

size_t xc__gradient_row_with(int use_fma, const xc__grad_row *row, xc__dd *g,
                             double *scale)
{
    pass p = pass_of(row);
#if HAVE_FMA_KERNEL
    if (use_fma)
        return row_fma(&p, g, scale);
#else
    (void)use_fma;
#endif
    return span_portable(&p, 0, row->n, g, scale);
}

size_t xc__gradient_row(const xc__grad_row *row, xc__dd *g, double *scale)
{
    return xc__gradient_row_with(xc__softmax_has_fma(), row, g, scale);
}
