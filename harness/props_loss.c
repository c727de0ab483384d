/* reference_loss and fd_consistency: the target's own loss. */
#include "props.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fd.h"

/* The loss's terms can exceed the dtype's range (logits near its maximum):
 * then a correct target overflows to +-inf, and finite differences of it
 * mean nothing. The terms' magnitude before the mean's division is
 * loss_scale * D; a sixteenth of the largest finite value leaves room for
 * the rounding of a sum of such terms. */
static long double largest_term(const xc__prop_base *b)
{
    long double big = 0;
    for (size_t r = 0; r < b->c->batch; r++) {
        const xc__ref_row *row = &b->ref.rows[r];
        if (row->kind != XC__ROW_FINITE)
            continue;
        /* the largest |z_k| of the row is |M| or |its smallest logit| */
        long double term = fabsl(row->max) + row->log_sum +
                           fmaxl(fabsl(row->max), fabsl(row->min));
        if (term > big)
            big = term;
    }
    return big;
}

/* Besides the terms' sum, a correct target forms lse - z_k before
 * multiplying by y_k (or Y lse and y_k z_k separately): those must be
 * representable too. */
static int loss_representable(const xc__prop_base *b)
{
    long double max = b->c->dtype == XC_F32 ? FLT_MAX : DBL_MAX;
    long double d = b->ref.denom > 1 ? b->ref.denom : 1;
    return b->ref.loss_scale * d < max / 16 && largest_term(b) < max / 16;
}

static int has_loss(const xc__prop_base *b)
{
    const xc_target *t = b->env->target;
    return (t->caps & XC_CAP_LOSS) && t->loss != NULL;
}

void xc__prop_loss(xc__prop_base *b)
{
    if (!has_loss(b))
        return;
    double loss;
    xc__prop_ran(b, XC__P_REFERENCE_LOSS);
    if (xc__prop_call_loss(b, b->c, &loss, XC__P_REFERENCE_LOSS) != 0)
        return;
    long double exact = b->ref.loss;
    if (isnan(exact) && (isnan(loss) || loss == 0))
        return; /* every row ignored under mean: 0/0, NaN or 0 accepted */
    long double err = fabsl((long double)loss - exact);
    long double bound = xc__loss_bound(b->c, &b->ref, b->env->tol_factor, 0);
    if (isfinite(loss) && err <= bound)
        return;
    if (isinf(loss) && !loss_representable(b) && (loss > 0) == (exact > 0))
        return; /* overflow of an unrepresentable loss, with the right sign */
    char desc[256], got[96], want[96];
    xc__case_describe(b->c, desc, sizeof desc);
    xc__fmt_value(got, sizeof got, loss, XC_F64);
    xc__fmt_value(want, sizeof want, exact, XC_F64);
    xc__prop_fail(b, XC__P_REFERENCE_LOSS,
                  "loss differs from the exact reference: %s\n  expected %s\n  got %s\n"
                  "  |error| %.3Lg, bound %.3Lg", desc, want, got, err, bound);
}

/* --- fd_consistency ----------------------------------------------------- */

typedef struct loss_ctx {
    xc__prop_base *b;
} loss_ctx;

static int loss_at(void *ctx, const xc__case *c, double *out)
{
    loss_ctx *l = ctx;
    return xc__prop_call_loss(l->b, c, out, XC__P_FD);
}

static size_t pick_row(xc__prop_base *b)
{
    size_t n = b->c->batch, start = xc__pcg32_below64(&b->rng, n);
    for (size_t i = 0; i < n; i++) {
        size_t r = (start + i) % n;
        if (b->ref.rows[r].kind == XC__ROW_FINITE && b->ref.rows[r].A != 0)
            return r;
    }
    return n;
}

/* One coordinate of row R: the label (or largest target probability), the
 * largest logit, or a random class, in turn over the cases that take a
 * coordinate direction (odd turns, xc__prop_fd). */
static size_t pick_class(xc__prop_base *b, size_t r)
{
    const xc__case *c = b->c;
    const double *z = c->logits + r * c->ld;
    uint32_t which = (uint32_t)(xc__props_turn(c) / 2 % 3);
    size_t best = 0;
    if (which == 0 && c->label_kind == XC__LABELS_INDEX)
        return (size_t)c->labels[r];
    const double *key = which == 0 ? c->probs + r * c->ld : z;
    if (which == 2)
        return xc__pcg32_below64(&b->rng, c->classes);
    for (size_t k = 1; k < c->classes; k++)
        if (key[k] > key[best])
            best = k;
    return best;
}

/* The direction of a check: every class (random signs), or the coordinate
 * (R, K). */
typedef struct fd_direction {
    int coordinate;
    size_t r, k;
} fd_direction;

static void report_fd(xc__prop_base *b, const xc__fd_result *res, fd_direction d)
{
    char desc[256], dir[96] = "a random direction of +-1 over every class";
    if (d.coordinate)
        snprintf(dir, sizeof dir, "the coordinate row %zu, class %zu", d.r, d.k);
    xc__case_describe(b->c, desc, sizeof desc);
    xc__prop_fail(b, XC__P_FD,
                  "loss and gradient disagree along %s: %s\n"
                  "  step h = %a over %zu coordinates (%s)\n"
                  "  loss(z + hD) = %a, loss(z - hD) = %a\n"
                  "  finite difference %.10Lg, gradient . D %.10Lg, |difference| %.3Lg > bound %.3Lg",
                  dir, desc, res->h, res->coords,
                  res->richardson ? "Richardson extrapolation" : "central difference",
                  res->loss_plus, res->loss_minus, res->measured, res->predicted,
                  fabsl(res->measured - res->predicted), res->bound);
}

static void run_direction(xc__prop_base *b, const signed char *sign, fd_direction dir)
{
    loss_ctx ctx = {b};
    xc__fd_result res;
    int rc = xc__fd_directional_in(b->c, &b->ref, &b->bounds, b->env->tol_factor,
                                   b->grad, sign, loss_at, &ctx, b->pool, &res);
    if (rc == 0 && !xc__fd_holds(&res))
        report_fd(b, &res, dir);
}

static void random_signs(xc__prop_base *b, signed char *sign)
{
    const xc__case *c = b->c;
    for (size_t r = 0; r < c->batch; r++)
        for (size_t k = 0; k < c->classes; k++)
            sign[r * c->ld + k] = (xc__pcg32_next(&b->rng) & 1) ? 1 : -1;
}

/* One direction per case, in turn: a random +-1 over every class (even
 * xc__props_turn), which weighs every gradient element, or one coordinate
 * (odd), which isolates a single element where the random direction's
 * bound is dominated by the other classes. A second direction on the same
 * case would double the loss calls for little: reference_grad and
 * reference_loss hold both sides to the exact values on every case; the
 * finite difference is the independent cross-check of the two, and over a
 * run every kind of direction is drawn. */
void xc__prop_fd(xc__prop_base *b)
{
    if (!has_loss(b) || !b->grad_ok || !isfinite(b->ref.loss) || !loss_representable(b))
        return;
    size_t r = pick_row(b);
    if (r == b->c->batch)
        return;
    size_t n = b->c->batch * b->c->ld;
    signed char *sign = xc__pool_get_zeroed(b->pool, n);
    if (!sign) {
        b->env->harness_error = 1;
        return;
    }
    xc__prop_ran(b, XC__P_FD);
    if (xc__props_turn(b->c) % 2 == 0) {
        random_signs(b, sign);
        run_direction(b, sign, (fd_direction){0, 0, 0});
    } else {
        size_t k = pick_class(b, r);
        sign[r * b->c->ld + k] = 1;
        run_direction(b, sign, (fd_direction){1, r, k});
    }
    xc__pool_put(b->pool, sign);
}
