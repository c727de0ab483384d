/* The certified reference: the quantities of reference.h computed with MPFR
 * at PREC bits, then rounded once to long double (the gradient to the
 * nearest pair of doubles, reference.h).
 *
 * Error bound (u = 2^-PREC; every MPFR operation is correctly rounded, so
 * each contributes a factor (1 + delta), |delta| <= u):
 *   d_k = z_k - M is exact: both are doubles, so |d_k| < 2^1025 and d_k is
 *     a multiple of 2^-1074, which fits in 2099 < EXACT_PREC bits.
 *   e_k = exp(d_k): 1 rounding. e_max = exp(0) = 1 exactly.
 *   s' = sum_{k != kmax} e_k by mpfr_sum (correctly rounded): the e_k carry
 *     u each and have one sign, so s' carries 2u (to first order).
 *   L = log1p(s'): log1p's condition number x / ((1 + x) log1p(x)) is <= 1
 *     for x >= 0, so L carries 3u relative. log1p rather than log(1 + s')
 *     keeps L relatively accurate when the other classes are negligible.
 *   s = 1 + s': 3u; O_k = e_k / s: u + 3u + u = 5u relative.
 *   D is summed exactly (doubles, EXACT_SUM_PREC bits), N is exact; c_r =
 *     w / D: u. Y_r = mpfr_sum of exact products v_j y_j: u. A_r = c_r Y_r:
 *     3u. t_k = c_r (v_k y_k), the product exact: 2u.
 *   g_k = fms(A, O_k, t_k), rounded once: |A~ O~ - A O| <= 8u |A| O_k and
 *     |t~ - t| <= 2u |t_k|, both <= 10u scale_k; the fused rounding adds
 *     u |g~| <= 2u scale_k (|g_k| <= |A| O_k + |t_k| <= 2 scale_k). So the
 *     MPFR value is within 12u scale_k (plus O(u^2)).
 *   Rounding to the nearest pair: hi within 2^-53 |g~|, lo the remainder
 *     within 2^-53 of it, so 2^-105 |g~| <= 2^-104 scale_k (1 + 12u), plus
 *     the absolute XC__REF_ABS_ERR below double's range (reference.h).
 *   Hence |g - g_exact| <= (2^-104 + 16u) scale_k for PREC >= 64; we state
 *   2^-63 + 32u, which the loss needs (below), rounded up once more because
 *   that sum is itself formed in long double. O_k carries 5u + 2^-64
 *   relative, within the same bound.
 *   The loss: M + L carries 4u (|M| + L), Y (M + L) 6u |Y| (|M| + L), the
 *   products v_k y_k z_k are exact (EXACT_PROD_PREC), the row's sum adds u
 *   of its terms, c_r 2u more, the correctly rounded sum over rows u: about
 *   10u relative to loss_scale, then 2^-64 for long double.
 *   Underflow: exp(d) below MPFR's emin (about 2^-2^30) and results below
 *   long double's subnormal range are absolute errors under 2^-16445, the
 *   negligible floor that reference.h's relative bound leaves aside.
 * Nothing depends on n = H: every sum is correctly rounded, and a sum of n
 * terms of one sign each within u of exact is itself within u.
 */
#include "reference.h"

#include <math.h>
#include <stdlib.h>

#include <mpfr.h>

/* Exact z_k - M for any two doubles (2099 bits needed). */
#define EXACT_PREC 2200
/* Exact sum of up to 2^64 doubles. */
#define EXACT_SUM_PREC (EXACT_PREC + 64)
/* Exact product of three doubles (3 * 53 = 159 bits). */
#define EXACT_PROD_PREC 160

typedef struct mp_work {
    size_t n;          /* classes */
    mpfr_t *e;         /* n: exp(d_k), then O_k */
    mpfr_t *term;      /* n + 1: exact products and the loss's terms */
    mpfr_ptr *ptr;     /* n + 1 (or batch): arguments of mpfr_sum */
    mpfr_t *row_loss;  /* batch */
    size_t batch;
    mpfr_t diff, denom, sum, L, coef, Y, A, t, a, g, tmp, mag;
} mp_work;

static void clear_array(mpfr_t *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        mpfr_clear(v[i]);
    free(v);
}

static mpfr_t *init_array(size_t n, mpfr_prec_t prec)
{
    mpfr_t *v = malloc(n * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++)
        mpfr_init2(v[i], prec);
    return v;
}

static void work_clear(mp_work *w)
{
    mpfr_clears(w->diff, w->denom, w->sum, w->L, w->coef, w->Y, w->A, w->t,
                w->a, w->g, w->tmp, w->mag, (mpfr_ptr)0);
    clear_array(w->row_loss, w->batch);
    clear_array(w->term, w->n + 1);
    clear_array(w->e, w->n);
    free(w->ptr);
}

static int work_init(mp_work *w, size_t n, size_t batch, mpfr_prec_t prec)
{
    mpfr_prec_t tprec = prec > EXACT_PROD_PREC ? prec : EXACT_PROD_PREC;
    size_t nptr = n + 1 > batch ? n + 1 : batch;
    w->n = n;
    w->batch = batch;
    mpfr_init2(w->diff, EXACT_PREC);
    mpfr_init2(w->denom, EXACT_SUM_PREC);
    mpfr_inits2(prec, w->sum, w->L, w->coef, w->Y, w->A, w->t, w->a, w->g,
                w->tmp, w->mag, (mpfr_ptr)0);
    w->e = init_array(n, prec);
    w->term = init_array(n + 1, tprec);
    w->row_loss = init_array(batch, prec);
    w->ptr = malloc(nptr * sizeof *w->ptr);
    if (!w->e || !w->term || !w->row_loss || !w->ptr) {
        work_clear(w);
        return -1;
    }
    return 0;
}

static const double *logits_row(const xc__case *c, size_t r)
{
    return c->logits + r * c->ld;
}

/* Kind of row R; *KMAX is the first finite logit equal to the maximum M. */
static xc__row_kind classify(const xc__case *c, size_t r, size_t *kmax,
                             size_t *n_finite)
{
    const double *z = logits_row(c, r);
    int nonfinite = 0;
    *kmax = 0;
    *n_finite = 0;
    for (size_t k = 0; k < c->classes; k++) {
        if (isnan(z[k]) || z[k] == INFINITY) {
            nonfinite = 1;
        } else if (z[k] != -INFINITY) {
            if (*n_finite == 0 || z[k] > z[*kmax])
                *kmax = k;
            ++*n_finite;
        }
    }
    if (xc__case_row_ignored(c, r))
        return XC__ROW_IGNORED;
    if (nonfinite)
        return XC__ROW_NONFINITE;
    return *n_finite == 0 ? XC__ROW_ALL_MASKED : XC__ROW_FINITE;
}

static int is_index(const xc__case *c)
{
    return c->label_kind == XC__LABELS_INDEX;
}

/* Row weight omega_r of an index-labelled row (0 when ignored). */
static double index_weight(const xc__case *c, size_t r)
{
    if (xc__case_row_ignored(c, r))
        return 0.0;
    return c->weights ? c->weights[c->labels[r]] : 1.0;
}

/* D, exactly: every addend is a double. */
static void denominator(const xc__case *c, mp_work *w)
{
    if (c->reduction == XC_REDUCE_SUM) {
        mpfr_set_ui(w->denom, 1, MPFR_RNDN);
        return;
    }
    if (!is_index(c)) {
        mpfr_set_d(w->denom, (double)c->batch, MPFR_RNDN);
        return;
    }
    mpfr_set_ui(w->denom, 0, MPFR_RNDN);
    for (size_t r = 0; r < c->batch; r++)
        mpfr_add_d(w->denom, w->denom, index_weight(c, r), MPFR_RNDN);
}

/* v_k y_k, exactly, into X. */
static void weighted_label(const xc__case *c, size_t r, size_t k, mpfr_t x)
{
    if (is_index(c)) {
        mpfr_set_ui(x, c->labels[r] == (int64_t)k, MPFR_RNDN);
        return;
    }
    mpfr_set_d(x, c->probs[r * c->ld + k], MPFR_RNDN);
    if (c->weights)
        mpfr_mul_d(x, x, c->weights[k], MPFR_RNDN);
}

/* c_r, Y_r and A_r = c_r Y_r. */
static void coefficients(const xc__case *c, size_t r, mp_work *w)
{
    if (mpfr_zero_p(w->denom) || xc__case_row_ignored(c, r))
        mpfr_set_ui(w->coef, 0, MPFR_RNDN);
    else if (is_index(c))
        mpfr_d_div(w->coef, index_weight(c, r), w->denom, MPFR_RNDN);
    else
        mpfr_ui_div(w->coef, 1, w->denom, MPFR_RNDN);
    if (is_index(c)) {
        mpfr_set_ui(w->Y, 1, MPFR_RNDN);
    } else {
        for (size_t k = 0; k < c->classes; k++) {
            weighted_label(c, r, k, w->term[k]);
            w->ptr[k] = w->term[k];
        }
        mpfr_sum(w->Y, w->ptr, c->classes, MPFR_RNDN);
    }
    mpfr_mul(w->A, w->coef, w->Y, MPFR_RNDN);
}

/* e[k] = O_k and L, for a finite row whose maximum is at KMAX. */
static void softmax(const xc__case *c, size_t r, size_t kmax, mp_work *w)
{
    const double *z = logits_row(c, r);
    size_t m = 0;
    for (size_t k = 0; k < c->classes; k++) {
        mpfr_set_d(w->diff, z[k], MPFR_RNDN);
        mpfr_sub_d(w->diff, w->diff, z[kmax], MPFR_RNDN); /* exact */
        mpfr_exp(w->e[k], w->diff, MPFR_RNDN);
        if (k != kmax)
            w->ptr[m++] = w->e[k];
    }
    mpfr_sum(w->sum, w->ptr, m, MPFR_RNDN);
    mpfr_log1p(w->L, w->sum, MPFR_RNDN);
    mpfr_add_ui(w->sum, w->sum, 1, MPFR_RNDN);
    for (size_t k = 0; k < c->classes; k++)
        mpfr_div(w->e[k], w->e[k], w->sum, MPFR_RNDN);
}

static long double to_ld(mpfr_t x)
{
    return mpfr_get_ld(x, MPFR_RNDN);
}

/* X as the nearest pair: hi = X rounded, lo = X - hi rounded (TMP, of
 * the exact difference's width, holds it).
 * MPFR rounds to subnormal doubles as to any other. */
static xc__dd to_pair(mpfr_t x, mpfr_t tmp)
{
    double hi = mpfr_get_d(x, MPFR_RNDN);
    if (isinf(hi) || isnan(hi))
        return (xc__dd){hi, 0.0};
    mpfr_sub_d(tmp, x, hi, MPFR_RNDN);
    return (xc__dd){hi, mpfr_get_d(tmp, MPFR_RNDN)};
}

/* g_k and scale_k of a finite row. */
static void gradient(const xc__case *c, size_t r, mp_work *w, xc__ref *out)
{
    size_t base = r * c->classes;
    mpfr_ptr vy = w->term[c->classes]; /* wide enough for v_k y_k exactly */
    for (size_t k = 0; k < c->classes; k++) {
        weighted_label(c, r, k, vy);
        mpfr_mul(w->t, vy, w->coef, MPFR_RNDN);
        mpfr_fms(w->g, w->A, w->e[k], w->t, MPFR_RNDN);
        mpfr_mul(w->a, w->A, w->e[k], MPFR_RNDN);
        mpfr_abs(w->a, w->a, MPFR_RNDN);
        mpfr_abs(w->t, w->t, MPFR_RNDN);
        out->grad[base + k] = to_pair(w->g, w->diff);
        out->scale[base + k] = mpfr_get_d(mpfr_greater_p(w->a, w->t) ? w->a : w->t,
                                          MPFR_RNDU);
    }
}

/* Terms of Y (M + L) - sum v_k y_k z_k into w->term (Y (M + L) first);
 * classes with v_k y_k == 0 contribute nothing, also when masked. Returns
 * the number of terms. */
static size_t loss_terms(const xc__case *c, size_t r, size_t kmax, mp_work *w)
{
    const double *z = logits_row(c, r);
    size_t m = 1;
    mpfr_add_d(w->tmp, w->L, z[kmax], MPFR_RNDN);
    mpfr_mul(w->term[0], w->tmp, w->Y, MPFR_RNDN);
    w->ptr[0] = w->term[0];
    for (size_t k = 0; k < c->classes; k++) {
        weighted_label(c, r, k, w->term[m]);
        if (mpfr_zero_p(w->term[m]))
            continue;
        mpfr_mul_d(w->term[m], w->term[m], -z[k], MPFR_RNDN); /* exact */
        w->ptr[m] = w->term[m];
        m++;
    }
    return m;
}

/* Adds this row's |c_r| (|Y_r| (|M| + L) + sum |v_k y_k z_k|) to w->mag;
 * uses the terms loss_terms() left. */
static void add_magnitude(const xc__case *c, size_t r, size_t kmax,
                          size_t nterms, mp_work *w)
{
    mpfr_set_d(w->tmp, fabs(logits_row(c, r)[kmax]), MPFR_RNDN);
    mpfr_add(w->tmp, w->tmp, w->L, MPFR_RNDN);
    mpfr_mul(w->tmp, w->tmp, w->Y, MPFR_RNDN);
    mpfr_abs(w->tmp, w->tmp, MPFR_RNDN);
    for (size_t i = 1; i < nterms; i++) {
        mpfr_abs(w->a, w->term[i], MPFR_RNDN);
        mpfr_add(w->tmp, w->tmp, w->a, MPFR_RNDN);
    }
    mpfr_abs(w->a, w->coef, MPFR_RNDN);
    mpfr_mul(w->tmp, w->tmp, w->a, MPFR_RNDN);
    mpfr_add(w->mag, w->mag, w->tmp, MPFR_RNDN);
}

/* c_r (Y (M + L) - sum v_k y_k z_k) into w->row_loss[r]. A zero c_r (a
 * zero-weight row) contributes 0 even when a labelled class is masked. */
static void row_loss(const xc__case *c, size_t r, size_t kmax, mp_work *w)
{
    size_t nterms = loss_terms(c, r, kmax, w);
    if (mpfr_zero_p(w->coef)) { /* also keeps 0 * inf out of the magnitude */
        mpfr_set_ui(w->row_loss[r], 0, MPFR_RNDN);
        return;
    }
    add_magnitude(c, r, kmax, nterms, w);
    mpfr_sum(w->tmp, w->ptr, nterms, MPFR_RNDN);
    mpfr_mul(w->row_loss[r], w->tmp, w->coef, MPFR_RNDN);
}

static void fill_row(xc__ref *out, size_t r, double v)
{
    for (size_t k = 0; k < out->classes; k++) {
        out->grad[r * out->classes + k] = (xc__dd){v, 0.0};
        out->scale[r * out->classes + k] = 0;
    }
}

/* The smallest finite logit of row R, +inf when there is none. */
static double smallest_finite(const xc__case *c, size_t r)
{
    const double *z = logits_row(c, r);
    double lo = INFINITY;
    for (size_t k = 0; k < c->classes; k++)
        if (isfinite(z[k]) && z[k] < lo)
            lo = z[k];
    return lo;
}

static void one_row(const xc__case *c, size_t r, mp_work *w, xc__ref *out)
{
    xc__ref_row *row = &out->rows[r];
    size_t kmax;
    row->kind = classify(c, r, &kmax, &row->n_finite);
    row->max = row->n_finite ? logits_row(c, r)[kmax] : -INFINITY;
    row->min = smallest_finite(c, r);
    coefficients(c, r, w);
    row->coef = to_ld(w->coef);
    row->Y = to_ld(w->Y);
    row->A = to_ld(w->A);
    if (row->kind != XC__ROW_FINITE) {
        int ignored = row->kind == XC__ROW_IGNORED;
        fill_row(out, r, ignored ? 0.0 : NAN);
        mpfr_set_d(w->row_loss[r], ignored ? 0.0 : NAN, MPFR_RNDN);
        row->loss = ignored ? 0.0L : (long double)NAN;
        return;
    }
    softmax(c, r, kmax, w);
    row->log_sum = to_ld(w->L);
    gradient(c, r, w, out);
    row_loss(c, r, kmax, w);
    row->loss = to_ld(w->row_loss[r]);
}

static void total_loss(const xc__case *c, mp_work *w, xc__ref *out)
{
    out->loss_scale = to_ld(w->mag);
    if (mpfr_zero_p(w->denom)) { /* every row ignored (or weighted 0) under mean */
        out->loss = NAN;
        return;
    }
    for (size_t r = 0; r < c->batch; r++)
        w->ptr[r] = w->row_loss[r];
    mpfr_sum(w->sum, w->ptr, c->batch, MPFR_RNDN);
    out->loss = to_ld(w->sum);
}

/* 2^-63 + 32 * 2^-PREC, rounded up (see the derivation above). */
static long double bound(long prec)
{
    long double b = 0x1p-63L + (prec > 16000 ? 0.0L : ldexpl(32.0L, (int)-prec));
    return nextafterl(b, INFINITY);
}

int xc__reference_mpfr(const xc__case *c, xc__ref *out, long prec)
{
    mp_work w;
    if (prec < 64 || prec > MPFR_PREC_MAX)
        return -1;
    if (xc__ref_alloc(c, NULL, out) != 0)
        return -1;
    if (work_init(&w, c->classes, c->batch, (mpfr_prec_t)prec) != 0) {
        xc__ref_free(out);
        return -1;
    }
    mpfr_set_ui(w.mag, 0, MPFR_RNDN);
    denominator(c, &w);
    out->denom = to_ld(w.denom);
    out->rel_err = bound(prec);
    for (size_t r = 0; r < c->batch; r++)
        one_row(c, r, &w, out);
    total_loss(c, &w, out);
    work_clear(&w);
    return 0;
}
