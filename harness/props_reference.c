/* reference_grad, finite, row_sum and bounds on the base gradient. */
#include "props.h"

#include <math.h>

/* finite: finite (or -inf masked) logits give a finite gradient. */
static int check_finite(xc__prop_base *b)
{
    const xc__case *c = b->c;
    xc__prop_ran(b, XC__P_FINITE);
    for (size_t r = 0; r < c->batch; r++)
        for (size_t k = 0; k < c->classes; k++) {
            double x = b->grad[r * c->ld + k];
            if (isfinite(x) || b->ref.rows[r].kind != XC__ROW_FINITE)
                continue;
            char got[96], z[96];
            xc__fmt_value(got, sizeof got, x, c->dtype);
            xc__fmt_value(z, sizeof z, c->logits[r * c->ld + k], c->dtype);
            xc__prop_fail(b, XC__P_FINITE,
                          "non-finite gradient for finite input: row %zu, class %zu "
                          "is %s (logit %s)", r, k, got, z);
            return 0;
        }
    return 1;
}

/* row_sum: sum_k g_k = A_r sum O - sum t = 0 exactly, so the computed sum
 * is within the sum of the elements' bounds (plus our long double sum's
 * rounding, H u_L sum |g|). */
static void check_row_sums(xc__prop_base *b)
{
    const xc__case *c = b->c;
    xc__prop_ran(b, XC__P_ROW_SUM);
    for (size_t r = 0; r < c->batch; r++) {
        if (b->ref.rows[r].kind != XC__ROW_FINITE)
            continue;
        long double sum = 0, mag = 0, allowed = 0;
        for (size_t k = 0; k < c->classes; k++) {
            sum += b->grad[r * c->ld + k];
            mag += fabsl((long double)b->grad[r * c->ld + k]);
            allowed += b->bounds.grad[r * c->classes + k];
        }
        allowed += mag * (long double)c->classes * 0x1p-63L;
        if (fabsl(sum) <= allowed)
            continue;
        xc__prop_fail(b, XC__P_ROW_SUM,
                      "row %zu: gradient sums to %La (%.6Lg), expected 0 within %.3Lg "
                      "(sum of |g| %.6Lg)", r, sum, sum, allowed, mag);
        return;
    }
}

/* bounds: |g_k| <= max(|A_r| O_k, |t_k|) <= max(|A_r|, |t_k|): the
 * a-priori magnitude of a softmax-minus-target gradient, plus the
 * element's error bound. */
static void check_bounds(xc__prop_base *b)
{
    const xc__case *c = b->c;
    xc__prop_ran(b, XC__P_BOUNDS);
    for (size_t r = 0; r < c->batch; r++) {
        const xc__ref_row *row = &b->ref.rows[r];
        if (row->kind != XC__ROW_FINITE)
            continue;
        long double a = fabsl(row->A);
        for (size_t k = 0; k < c->classes; k++) {
            size_t i = r * c->classes + k;
            long double t = fabsl(xc__ref_target(c, &b->ref, r, k));
            long double limit = (a >= t || isnan(t) ? a : t) + b->bounds.grad[i];
            long double x = fabsl((long double)b->grad[r * c->ld + k]);
            if (x <= limit)
                continue;
            xc__prop_fail(b, XC__P_BOUNDS,
                          "row %zu, class %zu: |g| = %.6Lg exceeds the a-priori bound "
                          "%.6Lg = max(|A_r|, |t_k|) + error bound", r, k, x, limit);
            return;
        }
    }
}

/* An ignored row (label == ignore_index) has weight 0: its gradient row is
 * exactly zero, whatever its logits. */
static void check_ignored_rows(xc__prop_base *b)
{
    const xc__case *c = b->c;
    for (size_t r = 0; r < c->batch; r++) {
        if (b->ref.rows[r].kind != XC__ROW_IGNORED)
            continue;
        for (size_t k = 0; k < c->classes; k++) {
            double x = b->grad[r * c->ld + k];
            if (x == 0)
                continue;
            char got[96];
            xc__fmt_value(got, sizeof got, x, c->dtype);
            xc__prop_fail(b, XC__P_REFERENCE_GRAD,
                          "row %zu has label %lld == ignore_index but its gradient at "
                          "class %zu is %s, expected 0", r, (long long)c->labels[r], k, got);
            return;
        }
    }
}

/* row_sum and bounds hold without their passes when every element is
 * clearly within its bound: |g^_k - g_k| <= b_k - 2 R s_k, with the
 * reference's own error |ref_k - g_k| <= R s_k (reference.h), gives
 * |g^_k - g_k| <= b_k - R s_k against the exact g_k. Then
 *   row_sum: |sum_k g^_k| = |sum_k (g^_k - g_k)| <= sum_k b_k, since
 *            sum_k g_k = 0 exactly, and check_row_sums allows at least that;
 *   bounds:  |g^_k| <= |g_k| + b_k <= s_k + b_k <= max(|A_r|, |t_k|) + b_k,
 *            as |g_k| <= s_k = max(|A_r| O_k, |t_k|).
 * A target that violates either is therefore never clearly within, and
 * both passes run on it to name the property. */
static void implied_by_reference(xc__prop_base *b)
{
    xc__prop_ran(b, XC__P_ROW_SUM);
    xc__prop_ran(b, XC__P_BOUNDS);
}

void xc__prop_reference(xc__prop_base *b)
{
    check_ignored_rows(b);
    b->grad_ok = check_finite(b);
    if (!b->grad_ok)
        return;
    xc__prop_ran(b, XC__P_REFERENCE_GRAD);
    if (xc__prop_compare(b, b->c, &b->ref, &b->bounds, b->grad, NULL, XC__P_REFERENCE_GRAD,
                         "gradient differs from the exact reference") == 2) {
        implied_by_reference(b);
        return;
    }
    check_row_sums(b);
    check_bounds(b);
}
