/* Metamorphic properties: shift invariance, permutation equivariance and
 * batch consistency. Each evaluates the target on a transformed case and
 * holds the answer to that case's exact reference or relates it to the
 * base; shift and permutation share one call unless one of them fails
 * (xc__prop_metamorphic). */
#include "props.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gen.h"
#include "props_variant.h"

/* Offsets at, near and far beyond the exp overflow threshold. */
static double draw_offset(xc__prop_base *b)
{
    double ov = xc__gen_exp_overflow(b->c->dtype);
    static const double mult[] = {1.0, 1.01, 1.5, 3.0, 12.0, 100.0};
    double s = ov * mult[xc__pcg32_below(&b->rng, 6)];
    return (xc__pcg32_next(&b->rng) & 1) ? -s : s;
}

static double round_to(xc_dtype t, double x)
{
    return t == XC_F32 ? (double)(float)x : x;
}

static void shuffle(xc__pcg32 *g, size_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = i <= UINT32_MAX ? xc__pcg32_below(g, (uint32_t)i) /* as below64 */
                                   : xc__pcg32_below64(g, i);
        size_t t = p[i - 1];
        p[i - 1] = p[j];
        p[j] = t;
    }
}

static xc__case *permuted(const xc__case *c, const size_t *p, xc__pool *pool)
{
    xc__case *v = xc__case_clone_in(c, pool);
    if (!v)
        return NULL;
    for (size_t r = 0; r < c->batch; r++) {
        for (size_t k = 0; k < c->classes; k++) {
            v->logits[r * c->ld + p[k]] = c->logits[r * c->ld + k];
            if (c->probs)
                v->probs[r * c->ld + p[k]] = c->probs[r * c->ld + k];
        }
        if (c->labels && !xc__case_row_ignored(c, r))
            v->labels[r] = (int64_t)p[c->labels[r]];
    }
    for (size_t k = 0; k < c->classes && c->weights; k++)
        v->weights[p[k]] = c->weights[k];
    return v;
}

/* The permuted case's exact gradient is the base's, permuted: bring the
 * target's answer back to base order and hold it to the base reference. */
static void unpermute(const xc__case *c, const size_t *p, const double *in,
                      double *out)
{
    for (size_t r = 0; r < c->batch; r++)
        for (size_t k = 0; k < c->classes; k++)
            out[r * c->ld + k] = in[r * c->ld + p[k]];
}

/* V (owned) with OFFSET added to every finite logit, rounded to the
 * dtype: an elementwise change, the same whatever the order of classes. */
static xc__case *shift_logits(xc__case *v, double offset)
{
    for (size_t i = 0; v && i < v->batch * v->ld; i++)
        if (isfinite(v->logits[i]))
            v->logits[i] = round_to(v->dtype, v->logits[i] + offset);
    return v;
}

static xc__case *shifted(const xc__case *c, double offset, xc__pool *pool)
{
    return shift_logits(xc__case_clone_in(c, pool), offset);
}

/* shift_invariance alone: the shifted case against its own reference. */
static void check_shift(xc__prop_base *b, double offset)
{
    xc__variant var;
    if (xc__variant_eval(b, &var, shifted(b->c, offset, b->pool), 1, XC__P_SHIFT) == 0)
        xc__prop_compare(b, var.c, &var.ref, &var.bounds, var.grad, NULL, XC__P_SHIFT,
                         "gradient after adding %.17g to every logit differs from the "
                         "exact reference", offset);
    xc__variant_free(&var);
}

/* permutation alone: the permuted base case, brought back to base order and
 * held to the base reference. */
static void check_permutation(xc__prop_base *b, const size_t *p)
{
    const xc__case *c = b->c;
    double *back = xc__pool_get_zeroed(b->pool, c->batch * c->ld * sizeof *back);
    xc__variant var = {0};
    if (!back)
        b->env->harness_error = 1;
    else if (xc__variant_eval(b, &var, permuted(c, p, b->pool), 0, XC__P_PERMUTATION) == 0) {
        unpermute(c, p, var.grad, back);
        xc__prop_compare(b, c, &b->ref, &b->bounds, back, NULL, XC__P_PERMUTATION,
                         "permuting the classes did not permute the gradient "
                         "(values shown in the base order)");
    }
    xc__variant_free(&var);
    xc__pool_put(b->pool, back);
}

/* The compound case: C shifted by OFFSET, its classes permuted by P, with
 * its own reference and bounds, evaluated into V. The exact gradient is
 * permutation-equivariant, so this reference is the shifted case's,
 * permuted: the target's answer is held to it as it comes. Returns 1 when
 * the answer is clearly within the bounds or the call failed (reported
 * under its own property), 0 when it needs a closer look, -1 on a harness
 * error. */
static int compound_settled(xc__prop_base *b, double offset, const size_t *p,
                            xc__variant *v)
{
    size_t before = b->failures;
    xc__case *cp = shift_logits(permuted(b->c, p, b->pool), offset);
    int settled = 1;
    if (xc__variant_eval(b, v, cp, 1, XC__P_SHIFT) == 0)
        settled = xc__prop_clearly_within(v->c, &v->ref, &v->bounds, v->grad, NULL);
    if (b->env->harness_error)
        return -1;
    return settled || b->failures > before || b->env->stop;
}

/* Shift invariance and permutation equivariance with one call on the
 * common path: the base case shifted by a large offset (draw_offset), its
 * classes permuted. Either violation changes the compound's answer, so a
 * compound clearly within its bounds passes both. Otherwise each is
 * evaluated alone with the same offset and permutation, so that the report
 * names the property that fails (both when both do). When neither fails
 * alone, the compound is still a wrong answer on a valid input: it is
 * reported under shift_invariance, both transformations named. */
void xc__prop_metamorphic(xc__prop_base *b)
{
    const xc__case *c = b->c;
    double offset = draw_offset(b);
    size_t *p = xc__pool_get(b->pool, c->classes * sizeof *p);
    xc__variant v = {0};
    xc__prop_ran(b, XC__P_SHIFT);
    if (c->classes >= 2)
        xc__prop_ran(b, XC__P_PERMUTATION);
    if (!p) {
        b->env->harness_error = 1;
    } else {
        shuffle(&b->rng, p, c->classes);
        if (compound_settled(b, offset, p, &v) == 0) {
            size_t before = b->failures;
            check_shift(b, offset);
            if (c->classes >= 2)
                check_permutation(b, p);
            if (b->failures == before && !b->env->harness_error && !b->env->stop)
                xc__prop_compare(b, v.c, &v.ref, &v.bounds, v.grad, NULL, XC__P_SHIFT,
                                 "gradient after adding %.17g to every logit and permuting "
                                 "the classes differs from the exact reference (class k "
                                 "of the base case is class p(k) here)", offset);
        }
    }
    xc__variant_free(&v);
    xc__pool_put(b->pool, p);
}

/* Row R alone, as a batch of one with sum reduction. */
static xc__case *single_row(const xc__case *c, size_t r)
{
    xc__case *v = xc__case_new(c->dtype, 1, c->classes, c->classes, c->label_kind,
                               c->weights != NULL);
    if (!v)
        return NULL;
    for (size_t k = 0; k < c->classes; k++) {
        v->logits[k] = c->logits[r * c->ld + k];
        if (c->probs)
            v->probs[k] = c->probs[r * c->ld + k];
        if (c->weights)
            v->weights[k] = c->weights[k];
    }
    if (c->labels)
        v->labels[0] = c->labels[r];
    xc__case_copy_settings(v, c);
    v->reduction = XC_REDUCE_SUM; /* the row alone, summed */
    return v;
}

void xc__prop_batch(xc__prop_base *b)
{
    const xc__case *c = b->c;
    if (c->batch < 2 || !b->grad_ok)
        return;
    size_t r = xc__pcg32_below64(&b->rng, c->batch);
    if (b->ref.rows[r].kind != XC__ROW_FINITE || b->ref.rows[r].coef == 0)
        return;
    xc__variant var;
    xc__prop_ran(b, XC__P_BATCH);
    if (xc__variant_eval(b, &var, single_row(c, r), 1, XC__P_BATCH) == 0 &&
        var.ref.rows[0].coef != 0) {
        long double factor = b->ref.rows[r].coef / var.ref.rows[0].coef;
        xc__variant_match(b, &var, r, 0, NULL, factor, XC__P_BATCH,
                          "row %zu of the batch differs from the row checked alone times "
                          "%.6Lg (the reduction's scale)", r, factor);
    }
    xc__variant_free(&var);
}
