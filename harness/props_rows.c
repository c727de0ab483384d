/* nonfinite_isolation and masked_rows: rows without a softmax.
 *
 * Policy (documented in README): a row holding NaN or +inf may produce
 * anything in its own gradient row, but the call must not crash or hang
 * and every other row must still match its reference. A row whose logits
 * are all -inf has no softmax: each of its gradient elements may be NaN,
 * 0, or -t_k (the softmax taken as 0, so g_k = -c_r v_k y_k); +-inf or any
 * other value is a failure; other rows must match their reference. */
#include "props.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare_kernel.h"
#include "props_variant.h"

static void poison_row(xc__prop_base *b, xc__case *v, size_t j)
{
    double *z = v->logits + j * v->ld;
    uint32_t form = xc__pcg32_below(&b->rng, 3);
    size_t k = xc__pcg32_below64(&b->rng, v->classes);
    if (form == 0)
        z[k] = NAN;
    else if (form == 1)
        z[k] = INFINITY;
    else
        for (size_t i = 0; i < v->classes; i++)
            z[i] = (const double[]){NAN, INFINITY, -INFINITY, z[i]}[xc__pcg32_below(&b->rng, 4)];
    z[k] = form == 1 ? INFINITY : NAN; /* at least one NaN or +inf */
}

/* 1 when the base call got row R within its bounds (or R has no softmax
 * to compare). Only such a row can be disturbed by another: a row the
 * target gets wrong on its own is reference_grad's failure, and blaming it
 * on the disturbed row would misname the defect. */
static int base_row_within(const xc__prop_base *b, size_t r)
{
    const xc__case *c = b->c;
    if (b->ref.rows[r].kind != XC__ROW_FINITE)
        return 1;
    size_t i0 = r * c->classes;
    xc__cmp_row row = {.x = b->grad + r * c->ld, .g = b->ref.grad + i0,
                       .b = b->bounds.grad + i0, .s = b->ref.scale + i0,
                       .n = c->classes};
    xc__cmp_consts k = xc__cmp_consts_of(b->ref.rel_err, b->bounds.u, b->bounds.min_normal);
    xc__cmp_scan acc;
    xc__cmp_scan_init(&acc);
    xc__cmp_scan_row(&k, &row, r, &acc);
    return !acc.over; /* a violation for certain: the row's own failure */
}

/* Rows other than J keep their logits, labels and coefficients (D does not
 * depend on logits), so the base reference and bounds hold for them; rows
 * the base call already got wrong are left out (base_row_within). */
static void compare_other_rows(xc__prop_base *b, const xc__variant *var, size_t j,
                               const char *property, const char *what_of_row)
{
    unsigned char *mask = malloc(b->c->batch);
    if (!mask) {
        b->env->harness_error = 1;
        return;
    }
    for (size_t r = 0; r < b->c->batch; r++)
        mask[r] = r != j && base_row_within(b, r);
    xc__prop_compare(b, var->c, &b->ref, &b->bounds, var->grad, mask, property,
                     what_of_row, j);
    free(mask);
}

/* Needs a second row to isolate: with one row, the call would only probe
 * that the target survives a NaN or +inf logit, which this property does
 * on every case of two rows or more (most generated cases). */
void xc__prop_nonfinite(xc__prop_base *b)
{
    if (b->c->batch < 2)
        return;
    xc__case *v = xc__case_clone_in(b->c, b->pool);
    size_t j = xc__pcg32_below64(&b->rng, b->c->batch);
    if (v)
        poison_row(b, v, j);
    xc__variant var;
    xc__prop_ran(b, XC__P_NONFINITE);
    if (xc__variant_eval(b, &var, v, 0, XC__P_NONFINITE) == 0)
        compare_other_rows(b, &var, j, XC__P_NONFINITE,
                           "NaN/+inf logits in row %zu disturbed another row's gradient");
    xc__variant_free(&var);
}

static int masked_value_ok(long double x, long double t, long double u,
                           long double min_normal)
{
    return isfinite(x) && fabsl(x + t) <= 4 * u * fabsl(t) + min_normal;
}

static void check_masked_row(xc__prop_base *b, const xc__variant *var, size_t j)
{
    const xc__case *c = var->c;
    long double coef = b->ref.rows[j].coef;
    long double u = xc__dtype_unit_roundoff(c->dtype);
    long double min_normal = xc__dtype_min_normal(c->dtype);
    for (size_t k = 0; k < c->classes; k++) {
        double x = var->grad[j * c->ld + k];
        if (isnan(x) || x == 0) /* accepted whatever the target value */
            continue;
        long double y = c->label_kind == XC__LABELS_PROB ? c->probs[j * c->ld + k]
                        : c->labels[j] == (int64_t)k;
        long double v = c->weights && c->probs ? c->weights[k] : 1.0;
        if (masked_value_ok(x, coef * v * y, u, min_normal))
            continue;
        char got[96], desc[256];
        xc__fmt_value(got, sizeof got, x, c->dtype);
        xc__case_describe(c, desc, sizeof desc);
        xc__prop_fail(b, XC__P_MASKED,
                      "row %zu has every logit -inf (no softmax) and its gradient at "
                      "class %zu is %s; accepted: NaN, 0 or -c*y (softmax taken as 0): %s",
                      j, k, got, desc);
        return;
    }
}

void xc__prop_masked(xc__prop_base *b)
{
    xc__case *v = xc__case_clone_in(b->c, b->pool);
    size_t j = xc__pcg32_below64(&b->rng, b->c->batch);
    for (size_t k = 0; v && k < v->classes; k++)
        v->logits[j * v->ld + k] = -INFINITY;
    xc__variant var;
    xc__prop_ran(b, XC__P_MASKED);
    if (xc__variant_eval(b, &var, v, 0, XC__P_MASKED) == 0) {
        if (!xc__case_row_ignored(b->c, j))
            check_masked_row(b, &var, j);
        compare_other_rows(b, &var, j, XC__P_MASKED,
                           "the all -inf row %zu disturbed another row's gradient");
    }
    xc__variant_free(&var);
}
