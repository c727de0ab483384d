/* The reference oracle: the long double fast path (xc__reference) against
 * MPFR (xc__reference_mpfr) on random and extreme cases, MPFR against closed
 * forms and against itself at other precisions, and central differences of
 * the MPFR loss against the MPFR gradient.
 *
 * Agreement criterion, from the two bounds of reference.h: both results are
 * within their rel_err of the exact value relative to scale_k, so
 *     |g_fast - g_mpfr| <= (rel_fast + rel_mpfr) scale_k + floor.
 * scale_k is taken from MPFR, itself within rel_mpfr of the exact scale, so
 * it is inflated by (1 + 2 rel_mpfr). floor = (1 + |A_r|) LDBL_MIN covers
 * results below long double's normal range, where each rounding is absolute
 * (at most LDBL_TRUE_MIN / 2, so far fewer than 2^63 of them fit); both
 * references state their bound relative to scale plus that floor.
 */
#include <check.h>
#ifndef CHECK_MAJOR_VERSION
#error "<check.h> is not Check's: a project header shadows it on the include path"
#endif
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpfr.h>

#include "../harness/case.h"
#include "../harness/pcg32.h"
#include "../harness/reference.h"
#include "../harness/reference_exp.h"
#include "../harness/row_extent.h"

#define PREC 256
#define MSG_LEN 1024

/* Worst agreement seen, as |fast - mpfr| / scale (printed at the end). */
typedef struct agreement {
    long double grad, loss;
} agreement;

static agreement worst;

/* ---- comparison --------------------------------------------------------- */

static long double tol_rel(const xc__ref *f, const xc__ref *m)
{
    return (f->rel_err + m->rel_err) * (1 + 2 * m->rel_err);
}

static void note_worst(long double *w, long double diff, long double scale)
{
    if (scale > 0 && diff / scale > *w)
        *w = diff / scale;
}

/* |A - B| for two pairs, within 2^-63 of itself (the high parts' difference
 * is exact in long double when they are close, the rest rounds twice). */
static long double pair_diff(xc__dd a, xc__dd b)
{
    return fabsl(((long double)a.hi - b.hi) + ((long double)a.lo - b.lo));
}

/* One finite element: gradient and scale. */
static int compare_element(const xc__ref *f, const xc__ref *m, size_t r,
                           size_t k, char *msg, agreement *st)
{
    size_t i = r * m->classes + k;
    long double rel = tol_rel(f, m);
    /* both pairs' storage error below double's range (reference.h) */
    long double floor = (1 + fabsl(m->rows[r].A)) * LDBL_MIN + 2 * XC__REF_ABS_ERR;
    long double dg = pair_diff(f->grad[i], m->grad[i]) * (1 - 0x1p-63L);
    long double ds = fabsl(f->scale[i] - m->scale[i]);
    /* the relative error beyond the pairs' absolute storage error */
    note_worst(&st->grad, fmaxl(dg - 2 * XC__REF_ABS_ERR, 0), m->scale[i]);
    /* Both scales are rounded up to double, x <= up(x) <= x (1 + 2^-52) +
     * 2^-1074: that much further apart at most than the references. */
    if (dg <= rel * m->scale[i] + floor &&
        ds <= (rel + 0x1p-52L) * m->scale[i] + floor + 0x1p-1074L)
        return 0;
    snprintf(msg, MSG_LEN,
             "row %zu class %zu: grad fast %La mpfr %La, "
             "scale fast %a mpfr %a; |dg|/scale %Lg, tolerance %Lg",
             r, k, xc__ld_of_dd(f->grad[i]), xc__ld_of_dd(m->grad[i]), f->scale[i],
             m->scale[i], m->scale[i] > 0 ? dg / m->scale[i] : dg, rel);
    return 1;
}

static int close_rel(long double a, long double b, long double rel)
{
    if (isnan(b))
        return isnan(a);
    if (isinf(b))
        return a == b;
    return fabsl(a - b) <= rel * fabsl(b) + LDBL_MIN;
}

/* Row kind and coefficients; the elements of finite rows; zero rows. */
static int compare_row(const xc__ref *f, const xc__ref *m, size_t r, char *msg,
                       agreement *st)
{
    const xc__ref_row *fr = &f->rows[r], *mr = &m->rows[r];
    long double rel = tol_rel(f, m);
    if (fr->kind != mr->kind || fr->n_finite != mr->n_finite ||
        !close_rel(fr->coef, mr->coef, rel) || !close_rel(fr->Y, mr->Y, rel) ||
        !close_rel(fr->A, mr->A, rel)) {
        snprintf(msg, MSG_LEN,
                 "row %zu: kind %d/%d n_finite %zu/%zu coef %La/%La Y %La/%La A %La/%La",
                 r, fr->kind, mr->kind, fr->n_finite, mr->n_finite, fr->coef,
                 mr->coef, fr->Y, mr->Y, fr->A, mr->A);
        return 1;
    }
    for (size_t k = 0; k < m->classes; k++) {
        size_t i = r * m->classes + k;
        if (mr->kind == XC__ROW_FINITE) {
            if (compare_element(f, m, r, k, msg, st))
                return 1;
        } else if (mr->kind == XC__ROW_IGNORED &&
                   (xc__ld_of_dd(f->grad[i]) != 0 || xc__ld_of_dd(m->grad[i]) != 0)) {
            snprintf(msg, MSG_LEN, "ignored row %zu class %zu: grad %La / %La", r,
                     k, xc__ld_of_dd(f->grad[i]), xc__ld_of_dd(m->grad[i]));
            return 1;
        }
    }
    return 0;
}

static int compare_loss(const xc__ref *f, const xc__ref *m, char *msg,
                        agreement *st)
{
    long double d = fabsl(f->loss - m->loss);
    int ok;
    if (isnan(m->loss) || isinf(m->loss))
        ok = isnan(m->loss) ? isnan(f->loss) : f->loss == m->loss;
    else
        ok = d <= tol_rel(f, m) * m->loss_scale + LDBL_MIN;
    /* loss_scale is a magnitude the error measure divides by: it must be
     * right too, and never NaN. */
    ok = ok && close_rel(f->loss_scale, m->loss_scale, tol_rel(f, m));
    if (!isnan(d) && !isinf(d))
        note_worst(&st->loss, d, m->loss_scale);
    if (ok)
        return 0;
    snprintf(msg, MSG_LEN,
             "loss fast %La mpfr %La, loss_scale %La / %La, denom %La / %La",
             f->loss, m->loss, f->loss_scale, m->loss_scale, f->denom, m->denom);
    return 1;
}

/* 0 when F agrees with M within both bounds, else 1 and a message. */
static int compare_refs(const xc__ref *f, const xc__ref *m, char *msg,
                        agreement *st)
{
    if (f->batch != m->batch || f->classes != m->classes) {
        snprintf(msg, MSG_LEN, "shape differs");
        return 1;
    }
    if (!close_rel(f->denom, m->denom, tol_rel(f, m))) {
        snprintf(msg, MSG_LEN, "denom fast %La mpfr %La", f->denom, m->denom);
        return 1;
    }
    for (size_t r = 0; r < m->batch; r++)
        if (compare_row(f, m, r, msg, st))
            return 1;
    return compare_loss(f, m, msg, st);
}

/* ---- case construction -------------------------------------------------- */

static xc__case *new_case(xc_dtype t, size_t n, size_t h, size_t ld,
                          xc__label_kind kind, int weights)
{
    xc__case *c = xc__case_new(t, n, h, ld, kind, weights);
    ck_assert_ptr_nonnull(c);
    return c;
}

static void print_values(FILE *out, const char *name, const double *v, size_t n)
{
    fprintf(out, "  %s:", name);
    for (size_t i = 0; i < n && i < 16; i++)
        fprintf(out, " %a", v[i]);
    fprintf(out, n > 16 ? " ...\n" : "\n");
}

/* Enough of a failing case to rebuild it by hand (hex values). */
static void dump_case(const xc__case *c)
{
    fprintf(stderr, "case seed %llu index %llu: %s N=%zu H=%zu ld=%zu %s %s%s",
            (unsigned long long)c->seed, (unsigned long long)c->index,
            xc__dtype_name(c->dtype), c->batch, c->classes, c->ld,
            c->reduction == XC_REDUCE_MEAN ? "mean" : "sum",
            c->label_kind == XC__LABELS_INDEX ? "index" : "prob",
            c->has_ignore_index ? " ignore_index" : "");
    fprintf(stderr, "\n");
    for (size_t r = 0; r < c->batch && r < 4; r++) {
        print_values(stderr, "logits", c->logits + r * c->ld, c->classes);
        if (c->labels)
            fprintf(stderr, "  label: %lld\n", (long long)c->labels[r]);
        else
            print_values(stderr, "probs", c->probs + r * c->ld, c->classes);
    }
    if (c->weights)
        print_values(stderr, "weights", c->weights, c->classes);
}

/* Both references of C agree. Takes C and frees everything before
 * asserting, so a failure leaks nothing even without fork mode. */
static void check_case(xc__case *c)
{
    xc__ref f, m;
    char msg[MSG_LEN] = "out of memory";
    int bad = 1;
    if (xc__reference(c, &f) == 0) {
        if (xc__reference_mpfr(c, &m, PREC) == 0) {
            bad = compare_refs(&f, &m, msg, &worst);
            xc__ref_free(&m);
        }
        xc__ref_free(&f);
    }
    if (bad)
        dump_case(c);
    xc__case_free(c);
    ck_assert_msg(!bad, "%s", msg);
}

/* ---- random cases ------------------------------------------------------- */

enum pattern {
    P_RANDOM, P_SHIFTED, P_TIES, P_DOMINANT, P_ULPS, P_SUBNORMAL, P_MASKED,
    P_BITS, P_UNIFORM, P_ALL_MASKED, P_NONFINITE, P_COUNT
};

static double log_uniform(xc__pcg32 *g, double lo_exp10, double hi_exp10)
{
    return pow(10.0, xc__pcg32_uniform(g, lo_exp10, hi_exp10));
}

static double random_shift(xc__pcg32 *g, xc_dtype t)
{
    static const double shifts[] = {88.7, 709.8, 1e4, 1e30, 1e300};
    size_t n = t == XC_F32 ? 4 : 5; /* 1e300 is inf in f32 */
    double s = shifts[xc__pcg32_below(g, (uint32_t)n)];
    return xc__pcg32_below(g, 2) ? s : -s;
}

static void row_random(xc__pcg32 *g, double *z, size_t h, double scale)
{
    for (size_t k = 0; k < h; k++)
        z[k] = scale * xc__pcg32_normal(g);
}

/* Neighbouring values of X, a few units in the last place of the dtype. */
static void row_ulps(xc__pcg32 *g, double *z, size_t h, xc_dtype t)
{
    double x = log_uniform(g, -3, 3) * (xc__pcg32_below(g, 2) ? 1 : -1);
    for (size_t k = 0; k < h; k++) {
        int steps = (int)xc__pcg32_below(g, 5) - 2;
        double v = t == XC_F32 ? (float)x : x;
        for (int i = 0; i < abs(steps); i++)
            v = t == XC_F32 ? nextafterf((float)v, steps > 0 ? INFINITY : -INFINITY)
                            : nextafter(v, steps > 0 ? INFINITY : -INFINITY);
        z[k] = v;
    }
}

static void row_subnormal(xc__pcg32 *g, double *z, size_t h, xc_dtype t)
{
    int emin = t == XC_F32 ? -126 : -1022, digits = t == XC_F32 ? 23 : 52;
    for (size_t k = 0; k < h; k++) {
        int e = emin - (int)xc__pcg32_below(g, (uint32_t)digits);
        double v = ldexp(xc__pcg32_unit(g), e);
        z[k] = xc__pcg32_below(g, 4) == 0 ? 0.0 : xc__pcg32_below(g, 2) ? v : -v;
    }
}

/* Random sign, exponent over the dtype's whole finite range, significand. */
static void row_bits(xc__pcg32 *g, double *z, size_t h, xc_dtype t)
{
    int emax = t == XC_F32 ? 127 : 1023, emin = t == XC_F32 ? -149 : -1074;
    for (size_t k = 0; k < h; k++) {
        int e = emin + (int)xc__pcg32_below(g, (uint32_t)(emax - emin + 1));
        double v = ldexp(1.0 + xc__pcg32_unit(g), e);
        if (!isfinite(t == XC_F32 ? (float)v : v))
            v = ldexp(1.0, e);
        z[k] = xc__pcg32_below(g, 2) ? v : -v;
    }
}

static void row_masked(xc__pcg32 *g, double *z, size_t h)
{
    row_random(g, z, h, log_uniform(g, -3, 3));
    size_t keep = xc__pcg32_below(g, (uint32_t)h);
    for (size_t k = 0; k < h; k++)
        if (k != keep && xc__pcg32_below(g, 3) == 0)
            z[k] = -INFINITY;
}

static void row_ties(xc__pcg32 *g, double *z, size_t h)
{
    double v = log_uniform(g, -3, 3) * (xc__pcg32_below(g, 2) ? 1 : -1);
    row_random(g, z, h, fabs(v));
    int all = xc__pcg32_below(g, 2);
    for (size_t k = 0; k < h; k++)
        if (all || xc__pcg32_below(g, 2))
            z[k] = 4 * fabs(v) + 1;
}

static void fill_logits(xc__pcg32 *g, double *z, size_t h, xc_dtype t, int p)
{
    switch (p) {
    case P_SHIFTED: {
        double s = random_shift(g, t);
        row_random(g, z, h, log_uniform(g, -3, 1));
        for (size_t k = 0; k < h; k++)
            z[k] += s;
        break;
    }
    case P_TIES: row_ties(g, z, h); break;
    case P_DOMINANT:
        row_random(g, z, h, log_uniform(g, -3, 1));
        z[xc__pcg32_below(g, (uint32_t)h)] = log_uniform(g, 1, 3);
        break;
    case P_ULPS: row_ulps(g, z, h, t); break;
    case P_SUBNORMAL: row_subnormal(g, z, h, t); break;
    case P_MASKED: row_masked(g, z, h); break;
    case P_BITS: row_bits(g, z, h, t); break;
    case P_UNIFORM: for (size_t k = 0; k < h; k++) z[k] = 0; break;
    case P_ALL_MASKED: for (size_t k = 0; k < h; k++) z[k] = -INFINITY; break;
    case P_NONFINITE:
        row_random(g, z, h, 1);
        z[xc__pcg32_below(g, (uint32_t)h)] = xc__pcg32_below(g, 2) ? NAN : INFINITY;
        break;
    default: row_random(g, z, h, log_uniform(g, -3, 3)); break;
    }
}

/* A probability row: one-hot, smoothed, random, or unnormalised with sum 0,
 * 0.7 or 1.3. Masked classes get y = 0 (the loss stays finite). */
static void fill_probs(xc__pcg32 *g, double *y, const double *z, size_t h)
{
    static const double sums[] = {1.0, 1.0, 0.0, 0.7, 1.3};
    double target = sums[xc__pcg32_below(g, 5)], total = 0;
    uint32_t mode = xc__pcg32_below(g, 3);
    size_t hot = xc__pcg32_below(g, (uint32_t)h);
    for (size_t k = 0; k < h; k++) {
        y[k] = mode == 0 ? (k == hot) : mode == 1 ? 0.1 / (double)h + 0.9 * (k == hot)
                                                  : xc__pcg32_unit(g);
        if (z[k] == -INFINITY)
            y[k] = 0;
        total += y[k];
    }
    for (size_t k = 0; k < h; k++)
        y[k] = total > 0 ? y[k] * target / total : 0;
}

static void fill_weights(xc__pcg32 *g, double *w, size_t h)
{
    uint32_t mode = xc__pcg32_below(g, 3);
    for (size_t k = 0; k < h; k++) {
        double u = xc__pcg32_unit(g);
        if (mode == 0)
            w[k] = 2 * u;
        else if (mode == 1)
            w[k] = xc__pcg32_below(g, 3) == 0 ? 0.0 : 2 * u;
        else /* ratios up to about 1e6 */
            w[k] = xc__pcg32_below(g, 2) ? 1e-3 * (1 + u) : 1e3 * (1 + u);
    }
}

static void fill_labels(xc__pcg32 *g, xc__case *c)
{
    int all_ignored = c->has_ignore_index && xc__pcg32_below(g, 6) == 0;
    for (size_t r = 0; r < c->batch; r++) {
        int ignore = c->has_ignore_index && (all_ignored || xc__pcg32_below(g, 3) == 0);
        c->labels[r] = ignore ? c->ignore_index
                              : (int64_t)xc__pcg32_below(g, (uint32_t)c->classes);
    }
}

static size_t random_classes(xc__pcg32 *g)
{
    static const size_t sizes[] = {1, 2, 3, 4, 7, 16, 33, 100, 257, 1000, 5000};
    uint32_t n = sizeof sizes / sizeof *sizes;
    /* Large H less often: the MPFR oracle costs microseconds per element. */
    uint32_t i = xc__pcg32_below(g, n);
    if (i >= n - 2 && xc__pcg32_below(g, 3) != 0)
        i = xc__pcg32_below(g, n - 2);
    return sizes[i];
}

static xc__case *random_case(uint64_t seed, uint64_t index)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, seed, index);
    xc_dtype t = xc__pcg32_below(&g, 2) ? XC_F32 : XC_F64;
    size_t h = random_classes(&g);
    size_t n = h >= 1000 ? 1 : 1 + xc__pcg32_below(&g, 4);
    size_t ld = h + xc__pcg32_below(&g, 3);
    xc__label_kind kind = xc__pcg32_below(&g, 2) ? XC__LABELS_PROB : XC__LABELS_INDEX;
    xc__case *c = new_case(t, n, h, ld, kind, xc__pcg32_below(&g, 3) == 0);
    c->seed = seed;
    c->index = index;
    c->reduction = xc__pcg32_below(&g, 2) ? XC_REDUCE_MEAN : XC_REDUCE_SUM;
    for (size_t r = 0; r < n; r++) {
        double *z = c->logits + r * ld;
        fill_logits(&g, z, h, t, (int)xc__pcg32_below(&g, P_COUNT));
        if (c->probs)
            fill_probs(&g, c->probs + r * ld, z, h);
    }
    if (c->weights)
        fill_weights(&g, c->weights, h);
    if (kind == XC__LABELS_INDEX) {
        c->has_ignore_index = xc__pcg32_below(&g, 3) == 0;
        c->ignore_index = -100;
        fill_labels(&g, c);
    }
    xc__case_round_to_dtype(c);
    return c;
}

#define RANDOM_SEED 20240611u
#define CASES_PER_LOOP 400

START_TEST(fast_matches_mpfr_random)
{
    for (int i = 0; i < CASES_PER_LOOP; i++) {
        xc__case *c = random_case(RANDOM_SEED, (uint64_t)(_i * CASES_PER_LOOP + i));
        check_case(c);
    }
    fprintf(stderr, "reference loop %d: worst (|fast - mpfr| - 2^-1073) / scale: grad %Lg "
            "(%.2Lf x 2^-64), loss %Lg\n",
            _i, worst.grad, worst.grad / 0x1p-64L, worst.loss);
    mpfr_free_cache();
}
END_TEST

/* ---- hand-made extremes -------------------------------------------------- */

/* Every row pattern at H = 5000 (and one at 4999 with ld padding), both
 * dtypes, both label kinds. */
START_TEST(fast_matches_mpfr_large_h)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, RANDOM_SEED, 777);
    for (int p = 0; p < P_COUNT; p++) {
        size_t h = p == 0 ? 4999 : 5000;
        xc_dtype t = p & 1 ? XC_F32 : XC_F64;
        xc__label_kind kind = p & 2 ? XC__LABELS_PROB : XC__LABELS_INDEX;
        xc__case *c = new_case(t, 1, h, h + 3, kind, p % 3 == 0);
        c->index = (uint64_t)p;
        c->reduction = p & 4 ? XC_REDUCE_MEAN : XC_REDUCE_SUM;
        fill_logits(&g, c->logits, h, t, p);
        if (c->probs)
            fill_probs(&g, c->probs, c->logits, h);
        else
            c->labels[0] = (int64_t)xc__pcg32_below(&g, (uint32_t)h);
        if (c->weights)
            fill_weights(&g, c->weights, h);
        xc__case_round_to_dtype(c);
        check_case(c);
    }
    mpfr_free_cache();
}
END_TEST

/* A one-row f64 case with index label LABEL over logits Z. */
static xc__case *index_row(const double *z, size_t h, int64_t label)
{
    xc__case *c = new_case(XC_F64, 1, h, h, XC__LABELS_INDEX, 0);
    memcpy(c->logits, z, h * sizeof *z);
    c->labels[0] = label;
    return c;
}

/* One row, index labels: the fast path agrees with MPFR. */
static void check_index_row(const double *z, size_t h, int64_t label)
{
    check_case(index_row(z, h, label));
}

START_TEST(fast_matches_mpfr_extremes)
{
    static const double one_ulp[] = {1.0, 0x1.0000000000001p0, 1.0};
    static const double huge[] = {1e300, -1e300, 1e300};
    static const double mixed[] = {0x1p-1074, -0x1p-1074, 0.0, -0.0};
    static const double far[] = {0.0, -11355.0, -11400.0, -20000.0, -1e300};
    static const double masked_label[] = {1.0, -INFINITY, 2.0};
    /* M = DBL_MAX and a logit 1.3e306: TwoSum of z - M overflowed in its
     * intermediate and made the row NaN (found by xentcheck-fuzz on
     * mutant.refuse_large_batch) */
    static const double near_max[] = {DBL_MAX, -0x1.ba7217f7d1cf8p-477,
                                      0x1.d1cf87d1cf8cp+1016, -0.0};
    check_index_row(near_max, 4, 0);
    check_index_row(near_max, 4, 2);
    check_index_row(one_ulp, 3, 1);
    check_index_row(huge, 3, 1);
    check_index_row(mixed, 4, 3);
    check_index_row(far, 5, 2);
    check_index_row(far, 5, 4);
    check_index_row(masked_label, 3, 1); /* loss +inf, gradient finite */
    double z1 = 42.0;
    check_index_row(&z1, 1, 0);          /* H = 1: O = 1, g = 0, loss 0 */
    mpfr_free_cache();
}
END_TEST

/* loss = log1p(sum of the others) when the label holds the maximum: for a
 * neighbour e^-50 below, L ~ 2e-22 sits under long double's 2^-63 spacing
 * at 1, so ln(1 + s') loses all of it while log1p(s') keeps it. */
START_TEST(fast_matches_mpfr_small_loss)
{
    static const double near[] = {0.0, -50.0};
    static const double far[] = {0.0, -11355.0, -11400.0, -20000.0, -1e300};
    check_index_row(near, 2, 0);
    check_index_row(far, 5, 0);
}
END_TEST

/* A prob row whose labelled class is masked but has weight 0: v_k y_k = 0,
 * so the term contributes nothing (DESIGN.md: 0 * -inf never reaches the
 * result); the loss stays finite. */
START_TEST(fast_matches_mpfr_zero_weight_masked)
{
    xc__case *c = new_case(XC_F64, 1, 3, 3, XC__LABELS_PROB, 1);
    const double z[] = {1.0, -INFINITY, 0.5}, y[] = {0.5, 0.5, 0.0},
                 w[] = {1.0, 0.0, 2.0};
    memcpy(c->logits, z, sizeof z);
    memcpy(c->probs, y, sizeof y);
    memcpy(c->weights, w, sizeof w);
    xc__ref m;
    ck_assert_int_eq(xc__reference_mpfr(c, &m, PREC), 0);
    ck_assert(isfinite(m.loss));
    xc__ref_free(&m);
    check_case(c);
}
END_TEST

/* Index label of weight 0 on a masked class: c_r = 0, the row adds 0. */
START_TEST(fast_matches_mpfr_zero_weight_label)
{
    xc__case *c = new_case(XC_F64, 2, 3, 3, XC__LABELS_INDEX, 1);
    const double z[] = {1.0, -INFINITY, 0.5, 0.25, 3.0, -1.0}, w[] = {1.0, 0.0, 2.0};
    memcpy(c->logits, z, sizeof z);
    memcpy(c->weights, w, sizeof w);
    c->labels[0] = 1;
    c->labels[1] = 2;
    xc__ref m;
    ck_assert_int_eq(xc__reference_mpfr(c, &m, PREC), 0);
    ck_assert(isfinite(m.loss) && isfinite(m.loss_scale));
    xc__ref_free(&m);
    check_case(c);
}
END_TEST

/* Every row ignored under mean: D = 0, loss NaN, all gradients 0. */
START_TEST(all_rows_ignored)
{
    xc__case *c = new_case(XC_F32, 3, 4, 5, XC__LABELS_INDEX, 0);
    c->reduction = XC_REDUCE_MEAN;
    c->has_ignore_index = 1;
    c->ignore_index = -100;
    for (size_t r = 0; r < 3; r++)
        c->labels[r] = -100;
    xc__ref m;
    ck_assert_int_eq(xc__reference_mpfr(c, &m, PREC), 0);
    ck_assert(isnan(m.loss));
    ck_assert(m.denom == 0);
    for (size_t i = 0; i < 12; i++)
        ck_assert(xc__ld_of_dd(m.grad[i]) == 0 && m.scale[i] == 0);
    for (size_t r = 0; r < 3; r++)
        ck_assert_int_eq(m.rows[r].kind, XC__ROW_IGNORED);
    xc__ref_free(&m);
    check_case(c);
}
END_TEST

/* Row kinds: NaN and +inf rows, all-masked rows, ignored rows. */
START_TEST(mpfr_row_kinds)
{
    xc__case *c = new_case(XC_F64, 4, 3, 3, XC__LABELS_INDEX, 0);
    const double z[] = {1, NAN, 2, 1, INFINITY, 2, -INFINITY, -INFINITY,
                        -INFINITY, NAN, 0, 0};
    memcpy(c->logits, z, sizeof z);
    c->has_ignore_index = 1;
    c->ignore_index = -1;
    c->labels[3] = -1;
    xc__ref m;
    ck_assert_int_eq(xc__reference_mpfr(c, &m, PREC), 0);
    ck_assert_int_eq(m.rows[0].kind, XC__ROW_NONFINITE);
    ck_assert_int_eq(m.rows[1].kind, XC__ROW_NONFINITE);
    ck_assert_int_eq(m.rows[2].kind, XC__ROW_ALL_MASKED);
    ck_assert_int_eq(m.rows[3].kind, XC__ROW_IGNORED);
    ck_assert(isnan(m.grad[0].hi) && isnan(m.grad[8].hi) && xc__ld_of_dd(m.grad[9]) == 0);
    ck_assert(isnan(m.loss));
    xc__ref_free(&m);
    check_case(c);
}
END_TEST

/* ---- the row extent ------------------------------------------------------ */

/* Both kernels of xc__row_extent_of against the definition: the first
 * strictly largest finite logit, the smallest (a zero as +0), the count of
 * finite logits, whether a NaN or +inf occurs; rows of ties, signed zeros,
 * infinities and NaN. */
START_TEST(row_extent_matches_definition)
{
    static const double specials[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1.0, -1.0,
                                      0x1p-1074, -DBL_MAX};
    xc__pcg32 g;
    xc__pcg32_seed(&g, 61, 4);
    for (int n = 0; n < 20000; n++) {
        size_t h = 1 + xc__pcg32_below(&g, 23);
        double z[23];
        int dense = (int)xc__pcg32_below(&g, 3); /* 0: mostly specials */
        for (size_t k = 0; k < h; k++)
            z[k] = xc__pcg32_below(&g, 4) < (uint32_t)dense + 1
                       ? (double)xc__pcg32_below(&g, 5) - 2.0
                       : specials[xc__pcg32_below(&g, 9)];
        double m = -INFINITY, lo = INFINITY;
        size_t at = h, nf = 0;
        int bad = 0;
        for (size_t k = 0; k < h; k++) {
            if (isnan(z[k]) || z[k] == INFINITY) {
                bad = 1;
            } else if (z[k] != -INFINITY) {
                nf++;
                if (z[k] > m) {
                    m = z[k];
                    at = k;
                }
                lo = z[k] < lo ? z[k] : lo;
            }
        }
        lo += 0.0;
        for (int v = 0; v <= xc__row_extent_has_vector(); v++) {
            xc__row_extent e;
            xc__row_extent_with(v, z, h, &e);
            ck_assert_msg(memcmp(&e.max, &m, sizeof m) == 0 &&
                              memcmp(&e.min, &lo, sizeof lo) == 0 && e.argmax == at &&
                              e.n_finite == nf && e.nonfinite == bad,
                          "%s kernel, row %d of %zu: max %a at %zu (want %a at %zu), min %a "
                          "(%a), finite %zu (%zu), nonfinite %d (%d)",
                          v ? "vector" : "portable", n, h, e.max, e.argmax, m, at, e.min,
                          lo, e.n_finite, nf, e.nonfinite, bad);
        }
    }
}
END_TEST

/* ---- the comparison has teeth ---------------------------------------------- */

START_TEST(comparison_rejects_perturbation)
{
    static const double z[] = {0.5, -1.25, 3.0, 2.0};
    xc__case *c = index_row(z, 4, 2);
    xc__ref f, m;
    char msg[MSG_LEN];
    agreement st = {0, 0};
    ck_assert_int_eq(xc__reference(c, &f), 0);
    ck_assert_int_eq(xc__reference_mpfr(c, &m, PREC), 0);
    ck_assert_int_eq(compare_refs(&f, &m, msg, &st), 0);
    long double step = 4 * tol_rel(&f, &m);
    for (size_t k = 1; k < 3; k++) {
        xc__dd saved = f.grad[k];
        f.grad[k] = xc__dd_of_ld(xc__ld_of_dd(saved) + step * m.scale[k]);
        ck_assert_int_eq(compare_refs(&f, &m, msg, &st), 1);
        f.grad[k] = saved;
    }
    long double saved_loss = f.loss;
    f.loss += step * m.loss_scale;
    ck_assert_int_eq(compare_refs(&f, &m, msg, &st), 1);
    f.loss = saved_loss;
    f.rows[0].kind = XC__ROW_NONFINITE;
    ck_assert_int_eq(compare_refs(&f, &m, msg, &st), 1);
    xc__ref_free(&f);
    xc__ref_free(&m);
    xc__case_free(c);
}
END_TEST

/* ---- MPFR against closed forms -------------------------------------------- */

/* |X - EXACT| <= REL |EXACT| + ABS, with EXACT computed at 512 bits. */
static void assert_near(long double x, mpfr_t exact, long double rel, long double abs)
{
    long double e = mpfr_get_ld(exact, MPFR_RNDN);
    /* e itself is within 2^-64 |e| of EXACT. */
    ck_assert_msg(fabsl(x - e) <= (rel + 0x1p-64L) * fabsl(e) + abs,
                  "%La vs exact %La", x, e);
}

/* The same for a gradient's pair, whose rounding to long double adds
 * another 2^-64 |x|. */
static void assert_near_pair(xc__dd x, mpfr_t exact, long double rel, long double abs)
{
    assert_near(xc__ld_of_dd(x), exact, rel + 0x1p-64L, abs);
}

/* H = 2, z = [0, ln 3]: O = [1/4, 3/4] up to the rounding of ln 3 to a
 * double (|dz| <= 2^-53 ln 3 < 2^-52, dO/dz = O(1 - O) = 3/16, so within
 * 2^-55); exactly, O_0 = 1 / (1 + e^z1) for the stored z1. */
START_TEST(mpfr_closed_form_ln3)
{
    const double z[] = {0.0, log(3.0)};
    xc__case *c = index_row(z, 2, 1);
    xc__ref m;
    ck_assert_int_eq(xc__reference_mpfr(c, &m, PREC), 0);
    /* g_0 = O_0 - 0, g_1 = O_1 - 1 (label 1). */
    ck_assert(fabsl(xc__ld_of_dd(m.grad[0]) - 0.25L) <= 0x1p-55L + m.rel_err);
    ck_assert(fabsl(xc__ld_of_dd(m.grad[1]) + 0.25L) <= 0x1p-55L + m.rel_err);
    mpfr_t o;
    mpfr_init2(o, 512);
    mpfr_set_d(o, z[1], MPFR_RNDN);
    mpfr_exp(o, o, MPFR_RNDN);
    mpfr_add_ui(o, o, 1, MPFR_RNDN);
    mpfr_ui_div(o, 1, o, MPFR_RNDN);
    assert_near_pair(m.grad[0], o, m.rel_err, 0); /* g_0 = O_0 - 0 */
    mpfr_neg(o, o, MPFR_RNDN);                  /* g_1 = O_1 - 1 = -O_0 */
    assert_near_pair(m.grad[1], o, m.rel_err, 0);
    mpfr_clear(o);
    xc__ref_free(&m);
    xc__case_free(c);
    mpfr_free_cache();
}
END_TEST

/* A uniform row (any common value): O_k = 1/H (correctly rounded in long
 * double), loss with a one-hot label = ln H. */
START_TEST(mpfr_closed_form_uniform)
{
    static const size_t hs[] = {1, 2, 3, 7, 10, 1000};
    mpfr_t lnh;
    mpfr_init2(lnh, 512);
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++) {
        size_t h = hs[i];
        xc__case *c = new_case(XC_F64, 1, h, h, XC__LABELS_INDEX, 0);
        for (size_t k = 0; k < h; k++)
            c->logits[k] = 5.5;
        c->labels[0] = (int64_t)(h - 1);
        xc__ref m;
        ck_assert_int_eq(xc__reference_mpfr(c, &m, PREC), 0);
        for (size_t k = 0; k + 1 < h; k++) /* g_k = O_k off the label */
            ck_assert(xc__ld_of_dd(m.grad[k]) == 1.0L / (long double)h);
        /* g = 1/H - 1 at the label, rounded once from the exact value. */
        mpfr_set_ui(lnh, (unsigned long)h, MPFR_RNDN);
        mpfr_ui_div(lnh, 1, lnh, MPFR_RNDN);
        mpfr_sub_ui(lnh, lnh, 1, MPFR_RNDN);
        assert_near_pair(m.grad[h - 1], lnh, m.rel_err, 0);
        mpfr_set_ui(lnh, (unsigned long)h, MPFR_RNDN);
        mpfr_log(lnh, lnh, MPFR_RNDN);
        assert_near(m.loss, lnh, m.rel_err, 0);
        xc__ref_free(&m);
        xc__case_free(c);
    }
    mpfr_clear(lnh);
    mpfr_free_cache();
}
END_TEST

/* z = [0, -1000], label 0: loss = log1p(e^-1000), about e^-1000 (2^-1443),
 * which must survive relative to itself, not be absorbed by 1 + s. */
START_TEST(mpfr_closed_form_tiny_loss)
{
    static const double z[] = {0.0, -1000.0};
    xc__case *c = index_row(z, 2, 0);
    xc__ref m;
    ck_assert_int_eq(xc__reference_mpfr(c, &m, PREC), 0);
    mpfr_t l;
    mpfr_init2(l, 512);
    mpfr_set_si(l, -1000, MPFR_RNDN);
    mpfr_exp(l, l, MPFR_RNDN);
    mpfr_log1p(l, l, MPFR_RNDN);
    ck_assert(m.loss > 0);
    assert_near(m.loss, l, m.rel_err, 0);
    mpfr_clear(l);
    xc__ref_free(&m);
    xc__case_free(c);
    mpfr_free_cache();
}
END_TEST

/* The bound is honest at low precision: MPFR at 64 and 1024 bits agree
 * within rel_err(64) + rel_err(1024), the 64-bit one dominated by 32 * 2^-64. */
START_TEST(mpfr_precisions_agree)
{
    char msg[MSG_LEN];
    agreement st = {0, 0};
    for (uint64_t i = 0; i < 60; i++) {
        xc__case *c = random_case(RANDOM_SEED + 1, i);
        xc__ref lo, hi;
        ck_assert_int_eq(xc__reference_mpfr(c, &lo, 64), 0);
        ck_assert_int_eq(xc__reference_mpfr(c, &hi, 1024), 0);
        ck_assert_msg(compare_refs(&lo, &hi, msg, &st) == 0, "case %llu: %s",
                      (unsigned long long)i, msg);
        xc__ref_free(&lo);
        xc__ref_free(&hi);
        xc__case_free(c);
    }
    mpfr_free_cache();
}
END_TEST

/* ---- finite differences of the MPFR loss ---------------------------------- */

/* Central difference of the MPFR loss along logit (R, K) with step H, and
 * its error bound (see fd_self_check). */
static long double mpfr_loss_at(xc__case *c, size_t i, double v, long double *scale)
{
    xc__ref m;
    double saved = c->logits[i];
    c->logits[i] = v;
    ck_assert_int_eq(xc__reference_mpfr(c, &m, PREC), 0);
    c->logits[i] = saved;
    long double loss = m.loss;
    *scale = m.loss_scale;
    xc__ref_free(&m);
    return loss;
}

/* Central differences D_h = (f(z + h) - f(z - h)) / 2h of the MPFR loss
 * against the MPFR gradient, per coordinate, on f64 cases.
 * Truncation: D_h - f' = h^2 (f'''(a) + f'''(b)) / 12 for some a, b in
 * [z - h, z + h] (Taylor with Lagrange remainders). Along z_k only row r's
 * term depends on z_k, and there f''' = c_r Y_r O(1 - O)(1 - 2 O), whose
 * modulus is at most c_r Y_r / (6 sqrt 3) < 0.0962 |c_r Y_r|; so the
 * truncation error is <= h^2 0.0962 |c_r Y_r| / 6.
 * Rounding: each loss is within rel_err loss_scale of exact; their
 * difference, formed in long double, adds 2^-64 of itself; dividing by 2h
 * (a power of 2) is exact. So |D_h - g_k| <= h^2 0.0962 |c_r Y_r| / 6 +
 * (rel_err (ls+ + ls-) + 2^-64 |f+ - f-|) / 2h + rel_err scale_k.
 * With h = 2^-20 and losses of order 1 this is about 1e-13, far below any
 * error worth catching (a wrong gradient is off by 1e-9 or more). */
static void fd_check_case(xc__case *c)
{
    const long double h = 0x1p-20L;
    xc__ref m;
    ck_assert_int_eq(xc__reference_mpfr(c, &m, PREC), 0);
    for (size_t r = 0; r < c->batch; r++) {
        for (size_t k = 0; k < c->classes; k++) {
            size_t i = r * c->ld + k;
            double z = c->logits[i];
            ck_assert((z + (double)h) - z == (double)h); /* steps exact */
            long double sp, sm;
            long double fp = mpfr_loss_at(c, i, z + (double)h, &sp);
            long double fm = mpfr_loss_at(c, i, z - (double)h, &sm);
            long double d = (fp - fm) / (2 * h);
            long double g = xc__ld_of_dd(m.grad[r * c->classes + k]);
            long double trunc = h * h * 0.0962L * fabsl(m.rows[r].A) / 6;
            long double diff_err = m.rel_err * (sp + sm) + 0x1p-64L * fabsl(fp - fm);
            long double round = diff_err / (2 * h) +
                                m.rel_err * m.scale[r * c->classes + k];
            long double tol = trunc + round;
            ck_assert_msg(fabsl(d - g) <= tol,
                          "row %zu class %zu: fd %La grad %La tol %Lg", r, k, d, g, tol);
            ck_assert(tol < 1e-10L); /* a gradient off by 1e-10 would fail */
        }
    }
    xc__ref_free(&m);
}

START_TEST(fd_self_check)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, 99, 1);
    for (int variant = 0; variant < 4; variant++) {
        int prob = variant & 1, weights = variant >> 1;
        xc__case *c = new_case(XC_F64, 2, 5, 6, prob ? XC__LABELS_PROB : XC__LABELS_INDEX,
                               weights);
        c->reduction = variant == 3 ? XC_REDUCE_MEAN : XC_REDUCE_SUM;
        for (size_t r = 0; r < 2; r++) {
            row_random(&g, c->logits + r * c->ld, 5, 2.0);
            if (prob)
                fill_probs(&g, c->probs + r * c->ld, c->logits + r * c->ld, 5);
            else
                c->labels[r] = (int64_t)xc__pcg32_below(&g, 5);
        }
        if (weights)
            for (size_t k = 0; k < 5; k++)
                c->weights[k] = 0.5 + xc__pcg32_unit(&g);
        fd_check_case(c);
        xc__case_free(c);
    }
    mpfr_free_cache();
}
END_TEST

/* ---- the table-driven exp of the fast path (reference_exp.h) ----------- */

/* Every 2^(j/64) is long double's correctly rounded value. */
START_TEST(exp_table_correctly_rounded)
{
    mpfr_t x;
    mpfr_init2(x, PREC);
    for (int j = 0; j < 64; j++) {
        mpfr_set_si(x, j, MPFR_RNDN);
        mpfr_div_ui(x, x, 64, MPFR_RNDN); /* exact */
        mpfr_exp2(x, x, MPFR_RNDN);
        long double want = mpfr_get_ld(x, MPFR_RNDN);
        ck_assert_msg(xc__exp_table[j] == want, "2^(%d/64): table %La, MPFR %La", j,
                      xc__exp_table[j], want);
    }
    mpfr_clear(x);
    mpfr_free_cache();
}
END_TEST

/* |xc__exp_pair(hi, lo) - exp(hi + lo)| / exp(hi + lo), in u_L. */
static long double exp_pair_error(double hi, double lo, mpfr_t x)
{
    mpfr_set_d(x, hi, MPFR_RNDN);
    mpfr_add_d(x, x, lo, MPFR_RNDN); /* exact at PREC bits */
    mpfr_exp(x, x, MPFR_RNDN);
    long double got = xc__exp_pair(hi, lo);
    mpfr_t d;
    mpfr_init2(d, PREC);
    mpfr_set_ld(d, got, MPFR_RNDN);
    mpfr_sub(d, d, x, MPFR_RNDN);
    mpfr_div(d, d, x, MPFR_RNDN);
    long double rel = fabsl(mpfr_get_ld(d, MPFR_RNDN)) / (LDBL_EPSILON / 2);
    mpfr_clear(d);
    return rel;
}

/* An argument of the kind exp_diff() passes: hi <= 0, |lo| <= 2^-53 |hi|. */
static void draw_pair(xc__pcg32 *g, int form, double *hi, double *lo)
{
    static const double spans[] = {1e-6, 0.006, 1, 30, 745, 11350};
    double span = spans[form % 6];
    *hi = -span * xc__pcg32_unit(g);
    if (form % 7 == 3) /* next to a multiple of ln2/64: the rounding of n */
        *hi = -(double)xc__pcg32_below(g, 1 << 20) * 0x1.62e42fefa39efp-7 * 0.5 *
                  (span / 11350) + 1e-12 * (xc__pcg32_unit(g) - 0.5);
    if (*hi > 0)
        *hi = -*hi;
    *lo = ldexp(*hi, -53) * (2 * xc__pcg32_unit(g) - 1);
}

/* The fast exp against MPFR: within the 3.4 u_L of reference_exp.h (the
 * reference's analysis allots 4), on random arguments over its whole range
 * and on the edges. */
START_TEST(exp_pair_matches_mpfr)
{
    static const double edges[] = {0.0, -0x1p-1074, -1e-300, -0x1.62e42fefa39efp-8,
                                   -0x1.62e42fefa39efp-7, -0.5, -1, -700, -745.2,
                                   -11349.99, -11350, -11350.01, -11354};
    mpfr_t x;
    mpfr_init2(x, PREC);
    long double worst_u = 0;
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        long double e = exp_pair_error(edges[i], 0, x);
        ck_assert_msg(e <= 3.4L, "exp(%a): %Lg u_L", edges[i], e);
        worst_u = fmaxl(worst_u, e);
    }
    xc__pcg32 g;
    xc__pcg32_seed(&g, 77, 3);
    for (int i = 0; i < 60000; i++) {
        double hi, lo;
        draw_pair(&g, i, &hi, &lo);
        long double e = exp_pair_error(hi, lo, x);
        ck_assert_msg(e <= 3.4L, "exp(%a + %a): %Lg u_L", hi, lo, e);
        worst_u = fmaxl(worst_u, e);
    }
    printf("xc__exp_pair: worst error %.3Lg u_L (bound 3.4)\n", worst_u);
    mpfr_clear(x);
    mpfr_free_cache();
}
END_TEST

/* ---- suite ----------------------------------------------------------------- */

static Suite *reference_suite(void)
{
    Suite *s = suite_create("reference");
    TCase *mp = tcase_create("mpfr");
    tcase_set_timeout(mp, 120);
    tcase_add_test(mp, mpfr_closed_form_ln3);
    tcase_add_test(mp, mpfr_closed_form_uniform);
    tcase_add_test(mp, mpfr_closed_form_tiny_loss);
    tcase_add_test(mp, mpfr_precisions_agree);
    tcase_add_test(mp, mpfr_row_kinds);
    tcase_add_test(mp, row_extent_matches_definition);
    tcase_add_test(mp, fd_self_check);
    tcase_add_test(mp, exp_table_correctly_rounded);
    tcase_add_test(mp, exp_pair_matches_mpfr);
    suite_add_tcase(s, mp);
    TCase *fm = tcase_create("fast_vs_mpfr");
    tcase_set_timeout(fm, 300);
    tcase_add_test(fm, comparison_rejects_perturbation);
    tcase_add_test(fm, fast_matches_mpfr_extremes);
    tcase_add_test(fm, fast_matches_mpfr_large_h);
    tcase_add_test(fm, fast_matches_mpfr_small_loss);
    tcase_add_test(fm, fast_matches_mpfr_zero_weight_masked);
    tcase_add_test(fm, fast_matches_mpfr_zero_weight_label);
    tcase_add_test(fm, all_rows_ignored);
    tcase_add_loop_test(fm, fast_matches_mpfr_random, 0, 8);
    suite_add_tcase(s, fm);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reference_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
