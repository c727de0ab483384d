/* The fast exact reference: double-double softmax numerators and gradient
 * where the values allow, long double with compensated sums for the rest.
 *
 * Error bound (u_L = LDBL_EPSILON / 2, 2^-64 on x86-64):
 *   The coefficients c_r, Y_r (Neumaier sums, ksum.h, and one division)
 *   carry <= 4 u_L, A_r = c_r Y_r <= 9 u_L; t_k = c_r v_k y_k <= 6 u_L.
 *   The gradient pass (reference_grad.c) takes them with the numerators'
 *   pairs (reference_dd.c) and stays within 17 u_L scale_k on its pair
 *   path. On its long double path, e_k = exp(z_k - M), with z_k - M taken
 *   exactly (TwoSum), is within 1.25 u_L, or 4 u_L for the e_k < 2^-952
 *   handed to the long double exp (reference_exp.h); the sum of the others
 *   than the max's term (exactly 1) is within 8 u_L, so s = 1 + others
 *   carries 9 u_L. O_k = e_k (1 / s) adds the rounding of the reciprocal
 *   and of the product (a division per row, not per class): <= 15 u_L.
 *   A_r O_k <= 25 u_L relative to |A_r| O_k; the final subtraction one
 *   more u_L of |g_k| <= 2 scale_k; its result is stored as the nearest
 *   pair, exactly unless it is below 2^-969. Hence |g~ - g| <= 33 u_L
 *   scale_k on either path, plus the storage's absolute XC__REF_ABS_ERR
 *   (reference.h); we state 64 u_L. Values below long double's normal
 *   range (exp(d) for d < -11355) are absolutely below 2^-16382, inside
 *   that absolute term. The loss terms are sums of products of inputs
 *   (each product rounded once) and of M + L, L = log1pl(others) (glibc's
 *   log1pl within a few ulp, others within 8 u_L relative and the log's
 *   condition others / ((1 + others) L) <= 1), summed by Neumaier, so
 *   their error is below the same 64 u_L relative to loss_scale.
 */
#include "reference.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ksum.h"
#include "reference_dd.h"
#include "reference_grad.h"
#include "row_extent.h"

#define REF_REL_ERR (64.0L * (LDBL_EPSILON / 2))

/* The row's kind, largest and smallest finite logits, the first index of
 * the largest (ARGMAX) and the count of finite logits. */
static xc__row_kind classify_row(const xc__case *c, size_t r, double *max,
                                 double *min, size_t *argmax, size_t *n_finite)
{
    xc__row_extent e;
    xc__row_extent_of(c->logits + r * c->ld, c->classes, &e);
    *max = e.max;
    *min = e.min;
    *argmax = e.argmax;
    *n_finite = e.n_finite;
    if (xc__case_row_ignored(c, r))
        return XC__ROW_IGNORED;
    if (e.nonfinite)
        return XC__ROW_NONFINITE;
    return e.n_finite ? XC__ROW_FINITE : XC__ROW_ALL_MASKED;
}

static long double row_weight(const xc__case *c, size_t r)
{
    if (c->label_kind != XC__LABELS_INDEX || xc__case_row_ignored(c, r))
        return c->label_kind == XC__LABELS_INDEX ? 0.0L : 1.0L;
    return c->weights ? (long double)c->weights[c->labels[r]] : 1.0L;
}

/* D of reference.h: the mean's denominator. */
static long double mean_denominator(const xc__case *c)
{
    if (c->reduction == XC_REDUCE_SUM)
        return 1.0L;
    if (c->label_kind == XC__LABELS_PROB)
        return (long double)c->batch;
    xc__ksum k = {0, 0};
    for (size_t r = 0; r < c->batch; r++)
        xc__ksum_add(&k, row_weight(c, r));
    return xc__ksum_value(&k);
}

static long double class_weight(const xc__case *c, size_t k)
{
    return c->weights ? (long double)c->weights[k] : 1.0L;
}

static long double y_at(const xc__case *c, size_t r, size_t k)
{
    if (c->label_kind == XC__LABELS_PROB)
        return c->probs[r * c->ld + k];
    return c->labels[r] == (int64_t)k ? 1.0L : 0.0L;
}

/* v_k y_k: the weight of class K's term in row R's loss. */
static long double target_mass(const xc__case *c, size_t r, size_t k)
{
    long double v = c->label_kind == XC__LABELS_PROB ? class_weight(c, k) : 1.0L;
    return v * y_at(c, r, k);
}

/* In the gradient pass's order (reference_grad.c t_of): (c_r v_k) y_k. */
long double xc__ref_target(const xc__case *c, const xc__ref *ref, size_t r, size_t k)
{
    long double v = c->label_kind == XC__LABELS_PROB ? class_weight(c, k) : 1.0L;
    return ref->rows[r].coef * v * y_at(c, r, k);
}

/* The classes [*FIRST, *END) of row R where y_k can be nonzero: an index
 * label's class alone (none when it is outside the row), or all. */
static void labelled_span(const xc__case *c, size_t r, size_t *first, size_t *end)
{
    *first = 0;
    *end = c->classes;
    if (c->label_kind == XC__LABELS_INDEX) {
        int64_t label = c->labels[r];
        int in_row = label >= 0 && (uint64_t)label < c->classes;
        *first = in_row ? (size_t)label : 0;
        *end = in_row ? *first + 1 : 0;
    }
}

/* Y_r and the loss's linear part sum_{y_k != 0} v_k y_k z_k. */
static void row_linear(const xc__case *c, size_t r, long double *Y,
                       long double *lin, long double *lin_abs)
{
    const double *z = c->logits + r * c->ld;
    xc__ksum ys = {0, 0}, ls = {0, 0}, la = {0, 0};
    size_t first, end;
    labelled_span(c, r, &first, &end);
    if (c->label_kind == XC__LABELS_INDEX) {
        /* One term at most, v y = 1: the sums below would give that term
         * (infinite or not), but for a -0 logit, which they make +0; lin
         * only enters Y lse - lin, with lse never -0, and lin_abs goes
         * through fabsl, so the sign of that zero shows nowhere. */
        *Y = 1.0L;
        *lin = end > first ? (long double)z[first] : 0.0L;
        *lin_abs = fabsl(*lin);
        return;
    }
    for (size_t k = first; k < end; k++) {
        long double y = y_at(c, r, k);
        if (y == 0)
            continue;
        long double v = c->label_kind == XC__LABELS_PROB ? class_weight(c, k) : 1.0L;
        if (v * y == 0)
            continue; /* a zero weight removes the term, even at z_k = -inf */
        xc__ksum_add(&ys, v * y);
        long double term = v * y * (long double)z[k];
        xc__ksum_add(&ls, term);
        xc__ksum_add(&la, fabsl(term));
    }
    *Y = c->label_kind == XC__LABELS_PROB ? xc__ksum_value(&ys) : 1.0L;
    *lin = xc__ksum_value(&ls);
    *lin_abs = xc__ksum_value(&la);
}

static void fill_nan_row(xc__ref *out, size_t r, double fill)
{
    for (size_t k = 0; k < out->classes; k++) {
        out->grad[r * out->classes + k] = (xc__dd){fill, 0.0};
        out->scale[r * out->classes + k] = 0;
    }
}

/* Writes the slots of the unnormalised e_k = exp(z_k - M) to the row of
 * GRAD (reference_dd.h) and returns their sum, a pair, in *TOTAL
 * (gradient_row divides). The max's own term is exactly 1: the others
 * are summed apart and L = log1p(others), so a tiny L (a loss near 0)
 * keeps its relative accuracy. */
static long double softmax_row(const xc__case *c, size_t r, size_t argmax,
                               xc__ref *out, xc__dd *total)
{
    xc__ref_row *row = &out->rows[r];
    long double others = xc__softmax_numerators(c->logits + r * c->ld, c->classes,
                                                (double)row->max, argmax,
                                                (long double *)(out->grad + r * c->classes),
                                                total);
    row->log_sum = others == 0 ? 0.0L : log1pl(others); /* log1pl(+0) is +0 */
    return 1.0L + others;
}

/* g_k = A_r e_k / T - t_k and scale_k over the slots (reference_grad.h). */
static void gradient_row(const xc__case *c, size_t r, xc__ref *out, xc__dd total,
                         long double total_ld)
{
    const xc__ref_row *row = &out->rows[r];
    int index = c->label_kind == XC__LABELS_INDEX;
    int64_t label = index ? c->labels[r] : -1;
    xc__grad_row g = {
        .z = c->logits + r * c->ld, .n = c->classes, .m = (double)row->max,
        .total = total, .total_ld = total_ld, .A = row->A, .coef = row->coef,
        .y = index ? NULL : c->probs + r * c->ld, .w = index ? NULL : c->weights,
        .label = label >= 0 && (uint64_t)label < c->classes ? (size_t)label : c->classes};
    xc__gradient_row(&g, out->grad + r * c->classes, out->scale + r * c->classes);
}

/* Row loss c_r (Y (M + L) - lin); +inf when a class with y_k > 0 is masked. */
static long double row_loss(const xc__case *c, size_t r, const xc__ref_row *row,
                            long double lin, long double *mag)
{
    const double *z = c->logits + r * c->ld;
    size_t first, end;
    labelled_span(c, r, &first, &end);
    for (size_t k = first; k < end; k++)
        if (z[k] == -INFINITY && target_mass(c, r, k) != 0 && row->coef != 0)
            return row->coef > 0 ? INFINITY : -INFINITY;
    long double lse = row->max + row->log_sum;
    *mag += fabsl(row->coef) * (fabsl(row->Y) * (fabsl(row->max) + row->log_sum));
    if (row->coef == 0)
        return 0.0L;
    return row->coef * (row->Y * lse - lin);
}

int xc__ref_alloc(const xc__case *c, xc__pool *pool, xc__ref *out)
{
    size_t n = c->batch * c->classes;
    *out = (xc__ref){.batch = c->batch, .classes = c->classes, .pool = pool};
    /* One block: the rows (zeroed), then grad, then scale. grad's slots
     * first hold the numerators, a long double or a pair each
     * (reference_dd.h): the rows' size is a multiple of a long double's,
     * and so aligned for one. */
    _Static_assert(sizeof(xc__dd) == sizeof(long double) &&
                       sizeof(xc__ref_row) % _Alignof(long double) == 0,
                   "a gradient slot holds a numerator's long double");
    size_t rows = c->batch * sizeof *out->rows, array = n * sizeof *out->grad;
    if (c->batch > SIZE_MAX / sizeof *out->rows || (c->batch && n / c->batch != c->classes) ||
        array / sizeof *out->grad != n || (SIZE_MAX - rows) / 2 < array)
        return -1;
    unsigned char *block = xc__pool_get(pool, rows + array + n * sizeof *out->scale);
    if (!block)
        return -1;
    memset(block, 0, rows);
    out->rows = (xc__ref_row *)block;
    out->grad = (xc__dd *)(block + rows);
    out->scale = (double *)(out->grad + n);
    return 0;
}

/* c_r = w_r / D, divided once per run of one weight: consecutive rows of
 * the same weight, sign of zero included (all rows, unweighted), get the
 * same quotient again. */
typedef struct coef_memo {
    long double w, coef;
    int valid;
} coef_memo;

static long double row_coef(const xc__case *c, size_t r, long double denom,
                            coef_memo *memo)
{
    if (denom == 0)
        return 0.0L;
    long double w = row_weight(c, r);
    if (!memo->valid || w != memo->w || signbit(w) != signbit(memo->w))
        *memo = (coef_memo){.w = w, .coef = w / denom, .valid = 1};
    return memo->coef;
}

static void reference_row(const xc__case *c, size_t r, xc__ref *out,
                          coef_memo *memo, xc__ksum *loss, long double *mag)
{
    xc__ref_row *row = &out->rows[r];
    double m, lo;
    size_t argmax;
    row->kind = classify_row(c, r, &m, &lo, &argmax, &row->n_finite);
    row->max = m;
    row->min = lo;
    long double lin, lin_abs;
    row_linear(c, r, &row->Y, &lin, &lin_abs);
    row->coef = row_coef(c, r, out->denom, memo);
    row->A = row->coef * row->Y;
    if (row->kind == XC__ROW_IGNORED) {
        fill_nan_row(out, r, 0.0);
        return;
    }
    if (row->kind != XC__ROW_FINITE) {
        fill_nan_row(out, r, NAN);
        row->loss = NAN;
        xc__ksum_add(loss, NAN);
        return;
    }
    xc__dd total;
    long double total_ld = softmax_row(c, r, argmax, out, &total);
    gradient_row(c, r, out, total, total_ld);
    if (row->coef != 0)
        *mag += fabsl(row->coef) * lin_abs;
    row->loss = row_loss(c, r, row, lin, mag);
    xc__ksum_add(loss, row->loss);
}

int xc__reference(const xc__case *c, xc__ref *out)
{
    return xc__reference_in(c, NULL, out);
}

int xc__reference_in(const xc__case *c, xc__pool *pool, xc__ref *out)
{
    if (xc__ref_alloc(c, pool, out) != 0)
        return -1;
    out->denom = mean_denominator(c);
    out->rel_err = REF_REL_ERR;
    xc__ksum loss = {0, 0};
    long double mag = 0;
    coef_memo memo = {0, 0, 0};
    for (size_t r = 0; r < c->batch; r++)
        reference_row(c, r, out, &memo, &loss, &mag);
    out->loss = out->denom == 0 ? NAN : xc__ksum_value(&loss);
    out->loss_scale = mag;
    return 0;
}

void xc__ref_free(xc__ref *r)
{
    if (!r)
        return;
    xc__pool_put(r->pool, r->rows);
    r->grad = NULL;
    r->scale = NULL;
    r->rows = NULL;
}
