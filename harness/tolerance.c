/* Tolerances from the forward error analysis of softmax cross-entropy.
 *
 * Notation: u unit roundoff of the dtype, e = XC__EXP_ULPS, n = finite
 * logits of the row, d_k = M - z_k >= 0, L = ln sum_i exp(z_i - M) in
 * [0, ln n]. Leading-order relative error of O_k, per algorithm:
 *  (a) shifted softmax exp(z_k - M) / s (Blanchard, Higham & Higham, IMA J.
 *      Numer. Anal. 41(4) 2021, Thm 4.3, here per component): the rounding
 *      of z_k - M is amplified by exp into d_k u; exp adds e; each summand
 *      carries (d_i + e) u but weighs exp(-d_i) <= 1/(e d_i) of the sum
 *      (s >= 1), so the terms add n/e + e; recursive summation of n positive
 *      terms adds (n - 1) (any order; pairwise and blocked sums less); the
 *      division 1. Total d_k + 2e + 1.37 n + 1.
 *  (b) division-free exp(z_k - lse) with lse = M + ln s (their Thm 3.4):
 *      lse is rounded (|M + L|), carries the log's e L and the sum's
 *      1.37 n + e; z_k - lse is rounded (d_k + L); exp adds e.
 *      A shifted log-space variant exp((z_k - M) - L) instead rounds twice
 *      (2 d_k + L). Both are below 2 d_k + 2 L + |M + L| + e L + 1.37 n + 2e.
 *  (c) online softmax (running max, rescaled sum): each rescaling by
 *      exp(m_old - m_new) rounds its argument and result ((e + 2) u per
 *      rescale, at most n rescales), and the propagated rounding of the
 *      arguments sums to at most n u (the rescale arguments telescope under
 *      exp(-(M - m)) weights). Total d_k + (e + 4.4) n + 2e + 1.
 *      A log accurate only in absolute terms near 1 (vectorised kernels)
 *      adds XC__LOG_ABS_U to both forms.
 *  (d) base-2 forms (FlashAttention/Triton style): logits pre-scaled by
 *      log2(e) and exponentiated with exp2, alone or online; rounding
 *      z_k log2(e) and M log2(e) separately costs (|z_k| + |M|) u
 *      <= (2 |M| + d_k) u on top of (a) or (c).
 * The bound takes the sum of the terms of (a)-(d), which dominates each:
 *     beta_O = 2 d_k + 2 L + |M + L| + |M| + e L + a + (e + 4.4) n + 2 e + 1
 * with a = XC__LOG_ABS_U.
 * Not accepted: a streaming log-sum-exp (lse = m + log1p(exp(-|delta|)) one
 * logit at a time), whose lse carries (n - 1) |M| u: it loses accuracy as
 * H grows and is reported (tests/test_tolerance.c keeps it flagged).
 * Assembling g_k = A_r O_k - t_k adds: A_r O_k and c_r v_k y_k (2), the
 * subtraction (1), the mean's 1/N or reciprocal multiplication (1); the
 * weighted mean's denominator sum_r w_r over N rows (N); a probability
 * row's Y_r = sum_j v_j y_j over H classes (H + 1).
 * The factor 1 / (1 - u beta) turns the leading-order term into a bound
 * (Higham, Accuracy and Stability, Lemma 3.1: gamma_n = n u / (1 - n u));
 * when u beta >= 1/2 the bound carries no information and is +inf.
 * Flush-to-zero and denormals-are-zero (SIMD code) move each of O_k, the
 * products, the subtraction and a subnormal y_k by at most min_normal:
 * a_r = min_normal (|A_r| + |c_r| max_k v_k + 3).
 * This is a worst-case bound: measured errors of correct f32
 * implementations sit one to two orders of magnitude below it (README),
 * and a bug must exceed it in some case to be caught; the generators make
 * sure small rows, where the bound is a few tens of u, come often.
 */
#include "tolerance.h"

#include <math.h>
#include <string.h>
#include <stdlib.h>

#include "bounds_upward.h"

static long double finite_count(const xc__ref *ref, size_t r)
{
    return (long double)ref->rows[r].n_finite;
}

static long double assembly_beta(const xc__case *c)
{
    long double beta = 4;
    int weighted_index_mean = c->label_kind == XC__LABELS_INDEX &&
                              c->reduction == XC_REDUCE_MEAN &&
                              (c->weights || c->has_ignore_index);
    if (weighted_index_mean)
        beta += (long double)c->batch;
    if (c->label_kind == XC__LABELS_PROB)
        beta += (long double)c->classes + 1;
    return beta;
}

/* beta_O without its 2 d_k term: the same for every class of row R. */
static long double softmax_beta_row(const xc__ref *ref, size_t r)
{
    const long double e = XC__EXP_ULPS;
    const xc__ref_row *row = &ref->rows[r];
    long double L = row->log_sum;
    return 2 * L + fabsl(row->max + L) + fabsl(row->max) + e * L + XC__LOG_ABS_U +
           (e + 4.4L) * finite_count(ref, r) + 2 * e + 1;
}

/* beta_k = 2 d_k + ROW_BETA, ROW_BETA the row's constant part. */
static long double class_beta(const xc__ref_row *row, double z, long double row_beta)
{
    long double d = z == -INFINITY ? 0.0L : row->max - (long double)z;
    return 2 * d + row_beta;
}

long double xc__grad_beta(const xc__case *c, const xc__ref *ref, size_t r,
                          size_t k)
{
    long double row_beta = softmax_beta_row(ref, r) + assembly_beta(c);
    return class_beta(&ref->rows[r], c->logits[r * c->ld + k], row_beta);
}

static long double max_class_weight(const xc__case *c)
{
    long double m = 1;
    if (c->weights && c->label_kind == XC__LABELS_PROB) {
        m = 0;
        for (size_t k = 0; k < c->classes; k++)
            m = fmaxl(m, fabsl((long double)c->weights[k]));
    }
    return m;
}

/* u beta s / (1 - u beta), +inf when the bound is vacuous. */
static long double relative_term(long double u, long double beta, long double s)
{
    if (s == 0)
        return 0;
    if (!(u * beta < 0.5L))
        return INFINITY;
    return u * beta * s / (1 - u * beta);
}

/* The inputs of a row's bounds (xc__row_inputs), each at least its exact
 * value: B, the row's constant part of beta, and a, the allowance, are
 * sums and products of non-negative long doubles (|M + L| taken after its
 * rounding), a dozen operations at 2^-64 relative each, so the long double
 * values are within 2^-60 below exact at worst; times (1 + 2^-59) and
 * rounded up to double they are above it. F and u are doubles already; R
 * too for the fast reference (2^-58), not for the MPFR one, hence its
 * rounding up. Computed here, rounding to nearest; only the per-class pass
 * rounds upward (bounds_upward.c). */
static xc__row_inputs row_inputs_of(const xc__case *c, const xc__ref *ref, size_t r,
                                long double factor, long double max_weight,
                                const xc__bounds *out)
{
    const xc__ref_row *row = &ref->rows[r];
    const long double above = 1 + 0x1p-59L;
    long double allowance = out->min_normal *
        (fabsl(row->A) + fabsl(row->coef) * max_weight + 3);
    return (xc__row_inputs){
        .m = (double)row->max,
        .row_beta = xc__round_up_double((softmax_beta_row(ref, r) + assembly_beta(c)) * above),
        .allowance = xc__round_up_double(allowance * above),
        .factor = (double)factor,
        .u = out->u,
        .rel_err = xc__round_up_double(ref->rel_err),
        .abs_err = XC__REF_ABS_ERR,
    };
}

/* Rows at most this many at a time: their inputs are computed first
 * (rounding to nearest), then one switch of the rounding mode serves them
 * all (bounds_upward.h). */
#define ROWS_PER_SWITCH 64

/* The bounds of rows FIRST .. FIRST+COUNT-1 of C: the finite rows' by the
 * upward pass, the others' 0. */
static void bounds_rows(const xc__case *c, const xc__ref *ref, size_t first,
                        size_t count, long double factor, long double max_weight,
                        xc__bounds *out)
{
    xc__row_inputs in[ROWS_PER_SWITCH];
    unsigned char finite[ROWS_PER_SWITCH];
    for (size_t i = 0; i < count; i++) {
        finite[i] = ref->rows[first + i].kind == XC__ROW_FINITE;
        if (finite[i])
            in[i] = row_inputs_of(c, ref, first + i, factor, max_weight, out);
        else
            memset(out->grad + (first + i) * c->classes, 0, c->classes * sizeof *out->grad);
    }
    xc__bounds_upward_rows(&(xc__upward_rows){
        .z = c->logits + first * c->ld, .ld = c->ld, .s = ref->scale + first * c->classes,
        .b = out->grad + first * c->classes, .h = c->classes, .count = count, .in = in,
        .finite = finite});
}

/* Loss error of row r in units of u (before the 1/(1 - u beta) factor):
 * lse carries lambda = 2 |M| + L + e L + a + 1.37 n + e + 1 (|M + L| plus a
 * base-2 form's separate rounding of M log2(e)); Y (lse) the
 * rounding of Y (H + 3); the linear part sum v y z is a sum of H products
 * (H + 2). The per-class log-space form -sum v y (z - lse) is covered by the
 * same terms. MAX_WEIGHT is max_class_weight(c). In long double: with
 * |M| near DBL_MAX the terms exceed double's range. */
static long double loss_row_terms(const xc__case *c, const xc__ref *ref,
                                  size_t r, long double slack, long double max_weight)
{
    const long double e = XC__EXP_ULPS;
    const xc__ref_row *row = &ref->rows[r];
    long double H = (long double)c->classes;
    long double M = fabsl(row->max) + slack, L = row->log_sum + slack;
    long double lambda = 2 * M + L + e * L + XC__LOG_ABS_U +
                         1.37L * finite_count(ref, r) + e + 1;
    long double Y = fabsl(row->Y);
    long double lin = 0;
    const double *z = c->logits + r * c->ld;
    int64_t label = c->labels ? c->labels[r] : -1;
    if (c->label_kind == XC__LABELS_INDEX && label >= 0 && (uint64_t)label < c->classes)
        lin = fabsl((long double)z[label]) + slack; /* the one term, y = 1 */
    for (size_t k = 0; k < c->classes && c->label_kind == XC__LABELS_PROB; k++) {
        long double y = c->probs[r * c->ld + k];
        if (y != 0)
            lin += fabsl(y) * (fabsl((long double)z[k]) + slack);
    }
    lin *= max_weight;
    return fabsl(row->coef) * (Y * (lambda + (H + 3) * (M + L)) + (H + 2) * lin);
}

long double xc__loss_bound(const xc__case *c, const xc__ref *ref, double factor,
                           double slack)
{
    long double u = xc__dtype_unit_roundoff(c->dtype);
    long double min_normal = xc__dtype_min_normal(c->dtype);
    long double max_weight = max_class_weight(c);
    if (!(factor > 0))
        factor = 1;
    long double terms = 0, total = 0;
    for (size_t r = 0; r < c->batch; r++) {
        if (ref->rows[r].kind != XC__ROW_FINITE)
            continue;
        terms += loss_row_terms(c, ref, r, slack, max_weight);
        total += fabsl(ref->rows[r].loss);
    }
    long double N = (long double)c->batch;
    long double beta_reduce = N + 3; /* row sum, c_r, final rounding */
    long double rel = relative_term(u, 1, terms) +
                      relative_term(u, beta_reduce, total);
    return factor * (rel + N * min_normal) + ref->rel_err * (ref->loss_scale + total);
}

int xc__bounds_compute(const xc__case *c, const xc__ref *ref, double factor,
                       xc__bounds *out)
{
    return xc__bounds_compute_in(c, ref, factor, NULL, out);
}

int xc__bounds_compute_in(const xc__case *c, const xc__ref *ref, double factor,
                          xc__pool *pool, xc__bounds *out)
{
    *out = (xc__bounds){.pool = pool};
    out->u = xc__dtype_unit_roundoff(c->dtype);
    out->min_normal = xc__dtype_min_normal(c->dtype);
    out->grad = xc__pool_get(pool, c->batch * c->classes * sizeof *out->grad);
    if (!out->grad)
        return -1;
    long double f = factor > 0 ? factor : 1, max_weight = max_class_weight(c);
    for (size_t first = 0; first < c->batch; first += ROWS_PER_SWITCH) {
        size_t count = c->batch - first < ROWS_PER_SWITCH ? c->batch - first
                                                           : ROWS_PER_SWITCH;
        bounds_rows(c, ref, first, count, f, max_weight, out);
    }
    return 0;
}

void xc__bounds_free(xc__bounds *b)
{
    if (!b)
        return;
    xc__pool_put(b->pool, b->grad);
    b->grad = NULL;
}

double xc__scaled_error(const xc__ref *ref, const xc__bounds *b, size_t r,
                        size_t k, double computed)
{
    size_t i = r * ref->classes + k;
    long double scale = ref->scale[i];
    if (!(scale >= b->min_normal)) /* fmaxl's choice: a NaN scale gives the floor */
        scale = b->min_normal;
    return (double)(fabsl((long double)computed - xc__ld_of_dd(ref->grad[i])) /
                    (b->u * scale));
}
