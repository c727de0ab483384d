/* The comparison kernels (compare_kernel.h).
 *
 * Error of the computed error (u = 2^-53; a sum or difference of doubles
 * has no absolute rounding error, even below the normal range). With the
 * pair normalised, |lo| <= u |hi| and |hi| <= 2 s (1 + u)^2 (|g~| <=
 * |a| + |t| <= 2 s, reference.h), err = |(x - hi) - lo| satisfies
 *     |err - E| <= 2.02 u E + 2.03 u^2 s.
 * clear in doubles: finite x and (b = +inf, or err <= rhs with
 *     rhs = (b c1 - s c2) - 2^-1060, c1 = 1 - 2^-40, c2 >= 2 R (1 + 2^-40)
 *     + 2^-90). Each product may round by u relative and 2^-1075
 *     absolutely, each difference by u relative: rhs <= b c1 (1 + 5.1 u)
 *     - s c2 (1 - u) + 2^-1073.9 - 2^-1060, so E <= err (1 + 2.02 u) +
 *     2.03 u^2 s <= b - 2 R s - 2 R_a.
 * over in doubles: x not finite, or (2^-1000 <= b < DBL_MAX and
 *     err c1 > b + s 2^-90): then E >= err (1 - 2.02 u) - 2.03 u^2 s
 *     > (b + s 2^-90 - 2^-1075) (1 + 2^-41) - 2.03 u^2 s > b, for
 *     b 2^-41 > 2^-1074. Where x - hi overflows (err = +inf) the bound
 *     above does not apply, but then |x - hi| >= 2^1024 - 2^970 and
 *     |lo| <= 2^970, so E >= DBL_MAX > b.
 * Otherwise (within 2^-40 of the bound, or a bound below 2^-1000) the
 * element goes to near_verdict, in long double.
 */
#include "compare_kernel.h"

#if defined(__GNUC__) && !defined(__clang__) && !defined(XC_DD_NO_CONTRACT)
#error "compare_kernel.c needs -ffp-contract=off -DXC_DD_NO_CONTRACT (dd_ops.h)"
#endif

#include <float.h>
#include <math.h>
#include <string.h>

#include "dd_ops.h"
#include "reference.h"
#include "reference_dd.h"

#define C1 (1.0 - 0x1p-40)
#define C5 0x1p-90
#define ABS_SLACK 0x1p-1060
#define OVER_MIN 0x1p-1000

enum { CLEAR = 0, OVER = 1, UNDECIDED = 2, NEAR = 3 };

xc__cmp_consts xc__cmp_consts_of(long double rel_err, double u, double min_normal)
{
    return (xc__cmp_consts){
        .rel_err = rel_err,
        .two_r_up = xc__round_up_double(2 * rel_err * (1 + 0x1p-40L) + 0x1p-90L),
        .u = u,
        .min_normal = min_normal,
    };
}

void xc__cmp_scan_init(xc__cmp_scan *acc)
{
    *acc = (xc__cmp_scan){.ratio = -1.0, .scaled = -1.0};
}

/* An element the doubles left open, in long double: err_L = |(x - hi) -
 * lo| is within 2.1 u_L E + 2^-116 s of E (u_L = 2^-64; the first
 * difference rounds by u_L of |x - hi| <= E + |lo|). The margins below,
 * 2^-60 relative and 2^-110 s, exceed that and the roundings of the tests'
 * own right-hand sides, so each verdict is certain; the band of 2 R_k is
 * taken (1 + 2^-60) wide. */
static int near_verdict(const xc__cmp_consts *k, double x, xc__dd g, double b,
                        double s)
{
    long double err = fabsl(((long double)x - g.hi) - g.lo);
    long double ls = s;
    if (err * (1 - 0x1p-60L) > b + 0x1p-110L * ls)
        return OVER;
    long double band = 2 * (k->rel_err * ls + XC__REF_ABS_ERR) * (1 + 0x1p-60L) +
                       0x1p-110L * ls;
    return err * (1 + 0x1p-60L) <= b - band ? CLEAR : UNDECIDED;
}

/* The doubles' verdict of one element (CLEAR, OVER or NEAR), as above. */
XC__DD_INLINE int fast_verdict(const xc__cmp_consts *k, double x, double err,
                               double b, double s)
{
    int fin = fabs(x) <= DBL_MAX, vac = b == INFINITY;
    double rhs = (b * C1 - s * k->two_r_up) - ABS_SLACK;
    if (fin && (vac || err <= rhs))
        return CLEAR;
    if (!fin || (b >= OVER_MIN && b < DBL_MAX && err * C1 > b + s * C5))
        return OVER;
    return NEAR;
}

XC__DD_INLINE double ratio_of(double x, double err, double b)
{
    if (!(fabs(x) <= DBL_MAX))
        return INFINITY;
    if (b == INFINITY || err == 0)
        return 0.0;
    double q = err / b;
    return q < DBL_MAX ? q : DBL_MAX;
}

XC__DD_INLINE double scaled_of(const xc__cmp_consts *k, double x, double err, double s)
{
    double m = s >= k->min_normal ? s : k->min_normal;
    return fabs(x) <= DBL_MAX ? (err / m) * (1 / k->u) : INFINITY;
}

/* The worst of one row so far: ratio at class COL. */
typedef struct row_best {
    double ratio, scaled;
    size_t col;
    int over, undecided;
} row_best;

static void add_verdict(row_best *rb, int verdict)
{
    rb->over |= verdict == OVER;
    rb->undecided |= verdict == UNDECIDED;
}

/* Class I of ROW into RB, one element at a time. */
XC__DD_INLINE void scan_one(const xc__cmp_consts *k, const xc__cmp_row *row, size_t i,
                            row_best *rb)
{
    double x = row->x[i], b = row->b[i], s = row->s[i];
    xc__dd g = row->g[i];
    double err = fabs((x - g.hi) - g.lo);
    int v = fast_verdict(k, x, err, b, s);
    add_verdict(rb, v == NEAR ? near_verdict(k, x, g, b, s) : v);
    double ratio = ratio_of(x, err, b), scaled = scaled_of(k, x, err, s);
    if (ratio > rb->ratio) {
        rb->ratio = ratio;
        rb->col = i;
    }
    rb->scaled = scaled > rb->scaled ? scaled : rb->scaled;
}

XC__DD_INLINE int clear_one(const xc__cmp_consts *k, const xc__cmp_row *row, size_t i)
{
    double x = row->x[i], b = row->b[i], s = row->s[i];
    xc__dd g = row->g[i];
    int v = fast_verdict(k, x, fabs((x - g.hi) - g.lo), b, s);
    return v == CLEAR || (v == NEAR && near_verdict(k, x, g, b, s) == CLEAR);
}

#if XC__HAVE_DD_VECTOR
#define HAVE_VECTOR_KERNEL 1

/* fast_verdict, ratio_of and scaled_of on classes I .. I+3, lane by lane
 * the same operations; *CLEAR and *OVER are lane masks (NEAR: neither). */
typedef struct group {
    xc__v4d err, ratio, scaled;
    xc__v4i clear, over;
} group;

XC__VEC_FN group group_of(const xc__cmp_consts *k, const xc__cmp_row *row, size_t i)
{
    xc__v4d x = xc__load4(row->x + i), b = xc__load4(row->b + i),
            s = xc__load4(row->s + i), hi, lo;
    xc__load_pairs_v(row->g + i, &hi, &lo);
    group o;
    o.err = xc__abs4((x - hi) - lo);
    xc__v4i fin = xc__abs4(x) <= xc__splat(DBL_MAX), vac = b == xc__splat(INFINITY);
    xc__v4d rhs = (b * xc__splat(C1) - s * xc__splat(k->two_r_up)) - xc__splat(ABS_SLACK);
    o.clear = fin & (vac | (o.err <= rhs));
    o.over = ~o.clear & (~fin | ((b >= xc__splat(OVER_MIN)) & (b < xc__splat(DBL_MAX)) &
                                 (o.err * xc__splat(C1) > b + s * xc__splat(C5))));
    xc__v4d q = o.err / b;
    q = xc__select4(q < xc__splat(DBL_MAX), q, xc__splat(DBL_MAX));
    q = xc__select4(vac | (o.err == xc__splat(0.0)), xc__splat(0.0), q);
    o.ratio = xc__select4(fin, q, xc__splat(INFINITY));
    xc__v4d m = xc__select4(s >= xc__splat(k->min_normal), s, xc__splat(k->min_normal));
    o.scaled = xc__select4(fin, (o.err / m) * xc__splat(1 / k->u), xc__splat(INFINITY));
    return o;
}

XC__VEC_FN int mask_of(xc__v4i m)
{
    return _mm256_movemask_pd((__m256d)m);
}

/* The lanes in NEAR (a bit mask) of the group at I, in long double. */
static void near_lanes(const xc__cmp_consts *k, const xc__cmp_row *row, size_t i,
                       int near, row_best *rb)
{
    for (size_t j = 0; j < 4; j++)
        if (near >> j & 1)
            add_verdict(rb, near_verdict(k, row->x[i + j], row->g[i + j],
                                         row->b[i + j], row->s[i + j]));
}

__attribute__((target("avx2,fma"))) static size_t
scan_v(const xc__cmp_consts *k, const xc__cmp_row *row, row_best *rb)
{
    xc__v4d best = xc__splat(-1.0), worst_scaled = xc__splat(-1.0);
    xc__v4d at = xc__splat(0.0); /* class indices, exact in doubles */
    size_t i = 0;
    for (; i + 4 <= row->n; i += 4) {
        group o = group_of(k, row, i);
        rb->over |= mask_of(o.over) != 0;
        int near = ~(mask_of(o.clear) | mask_of(o.over)) & 15;
        if (near)
            near_lanes(k, row, i, near, rb);
        xc__v4i gt = o.ratio > best;
        best = xc__select4(gt, o.ratio, best);
        at = xc__select4(gt, xc__splat((double)i) + (xc__v4d){0, 1, 2, 3}, at);
        worst_scaled = xc__select4(o.scaled > worst_scaled, o.scaled, worst_scaled);
    }
    for (int j = 0; j < 4; j++) { /* the largest ratio, the smallest class on ties */
        size_t col = (size_t)at[j];
        if (best[j] > rb->ratio || (best[j] == rb->ratio && col < rb->col)) {
            rb->ratio = best[j];
            rb->col = col;
        }
        rb->scaled = worst_scaled[j] > rb->scaled ? worst_scaled[j] : rb->scaled;
    }
    return i;
}

__attribute__((target("avx2,fma"))) static size_t
clear_v(const xc__cmp_consts *k, const xc__cmp_row *row, int *all)
{
    size_t i = 0;
    for (; i + 4 <= row->n; i += 4) {
        group o = group_of(k, row, i);
        int clear = mask_of(o.clear);
        for (size_t j = 0; clear != 15 && j < 4; j++)
            if (!(clear >> j & 1) && !clear_one(k, row, i + j)) {
                *all = 0;
                return i;
            }
    }
    return i;
}
#else
#define HAVE_VECTOR_KERNEL 0
#endif

int xc__cmp_has_vector(void)
{
#if HAVE_VECTOR_KERNEL
    return xc__softmax_has_fma(); /* AVX2 and FMA */
#else
    return 0;
#endif
}

static void merge(const row_best *rb, size_t r, size_t n, xc__cmp_scan *acc)
{
    acc->over |= rb->over;
    acc->undecided |= rb->undecided;
    int earlier = r < acc->row || (r == acc->row && rb->col < acc->col);
    if (n && (rb->ratio > acc->ratio || (rb->ratio == acc->ratio && earlier))) {
        acc->ratio = rb->ratio;
        acc->row = r;
        acc->col = rb->col;
    }
    acc->scaled = rb->scaled > acc->scaled ? rb->scaled : acc->scaled;
    acc->elements += n;
}

void xc__cmp_scan_row_with(int use_vector, const xc__cmp_consts *k,
                           const xc__cmp_row *row, size_t r, xc__cmp_scan *acc)
{
    row_best rb = {.ratio = -1.0, .scaled = -1.0};
    size_t i = 0;
#if HAVE_VECTOR_KERNEL
    if (use_vector)
        i = scan_v(k, row, &rb);
#else
    (void)use_vector;
#endif
    for (; i < row->n; i++)
        scan_one(k, row, i, &rb);
    merge(&rb, r, row->n, acc);
}

int xc__cmp_row_clear_with(int use_vector, const xc__cmp_consts *k,
                           const xc__cmp_row *row)
{
    size_t i = 0;
    int all = 1;
#if HAVE_VECTOR_KERNEL
    if (use_vector)
        i = clear_v(k, row, &all);
#else
    (void)use_vector;
#endif
    for (; all && i < row->n; i++)
        all = clear_one(k, row, i);
    return all;
}

void xc__cmp_scan_row(const xc__cmp_consts *k, const xc__cmp_row *row, size_t r,
                      xc__cmp_scan *acc)
{
    xc__cmp_scan_row_with(xc__cmp_has_vector(), k, row, r, acc);
}

int xc__cmp_row_clear(const xc__cmp_consts *k, const xc__cmp_row *row)
{
    return xc__cmp_row_clear_with(xc__cmp_has_vector(), k, row);
}
