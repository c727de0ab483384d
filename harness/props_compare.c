/* Comparing a computed gradient with the reference, element by element.
 *
 * Every bound already includes the fast reference's proven error R_k
 * (tolerance.h), so an error above the bound is a violation for certain.
 * The fast reference cannot decide an error within 2 R_k below the bound
 * (the exact error might exceed the exact bound there); only such cases are
 * recomputed with MPFR, whose error is far smaller. */
#include "props.h"

#include <math.h>
#include <stdio.h>

/* MPFR precision for re-deciding a violation: far beyond long double. */
#define ARBITER_PRECISION 192

typedef struct worst {
    int found;              /* a violation */
    int undecided;          /* an error within 2 R_k below its bound */
    size_t r, k;
    long double ratio;      /* error / bound of the worst element */
    double scaled;          /* worst scaled error, u */
    size_t elements;
} worst;

static int row_selected(const xc__ref *ref, const unsigned char *mask, size_t r)
{
    return ref->rows[r].kind == XC__ROW_FINITE && (!mask || mask[r]);
}

static void scan(const xc__case *v, const xc__ref *ref, const xc__bounds *bd,
                 const double *g, const unsigned char *mask, worst *w)
{
    *w = (worst){0};
    for (size_t r = 0; r < v->batch; r++) {
        if (!row_selected(ref, mask, r))
            continue;
        for (size_t k = 0; k < v->classes; k++) {
            double x = g[r * v->ld + k];
            size_t i = r * v->classes + k;
            long double err = fabsl((long double)x - ref->grad[i]);
            long double ratio = !isfinite(x) || isnan(err) ? INFINITY
                                : err == 0 ? 0.0L : err / bd->grad[i];
            double scaled = xc__scaled_error(ref, bd, r, k, x);
            w->elements++;
            if (ratio <= 1 && err > bd->grad[i] - 2 * ref->rel_err * ref->scale[i])
                w->undecided = 1;
            if (scaled > w->scaled || isnan(scaled))
                w->scaled = isnan(scaled) ? INFINITY : scaled;
            if (ratio > w->ratio || w->elements == 1) {
                w->ratio = ratio;
                w->r = r;
                w->k = k;
            }
        }
    }
    w->found = w->ratio > 1;
}

/* Re-decide an undecided comparison with the MPFR reference. */
static int violated_by_mpfr(const xc__case *v, double factor, const double *g,
                             const unsigned char *mask, worst *w)
{
    xc__ref exact;
    xc__bounds bd;
    if (xc__reference_mpfr(v, &exact, ARBITER_PRECISION) != 0)
        return 0; /* out of memory: no violation is called without proof */
    int still = 0;
    if (xc__bounds_compute(v, &exact, factor, &bd) == 0) {
        scan(v, &exact, &bd, g, mask, w);
        still = w->found;
        xc__bounds_free(&bd);
    }
    xc__ref_free(&exact);
    return still;
}

static void describe_violation(xc__prop_base *b, const xc__case *v,
                               const xc__ref *ref, const xc__bounds *bd,
                               const double *g, const worst *w,
                               const char *property, const char *what)
{
    size_t i = w->r * v->classes + w->k;
    char exp_s[96], got_s[96], z_s[96], m_s[96], desc[256];
    xc__fmt_value(exp_s, sizeof exp_s, ref->grad[i], v->dtype);
    xc__fmt_value(got_s, sizeof got_s, g[w->r * v->ld + w->k], v->dtype);
    xc__fmt_value(z_s, sizeof z_s, v->logits[w->r * v->ld + w->k], v->dtype);
    xc__fmt_value(m_s, sizeof m_s, ref->rows[w->r].max, v->dtype);
    xc__case_describe(v, desc, sizeof desc);
    long double err = fabsl((long double)g[w->r * v->ld + w->k] - ref->grad[i]);
    xc__prop_fail(b, property,
                  "%s: %s\n  row %zu, class %zu: expected %s\n  got %s\n"
                  "  |error| %.3Lg = %.4g u of scale %.3Lg; bound %.3Lg (error/bound %.3Lg)\n"
                  "  logit %s, row max %s, %s",
                  what, desc, w->r, w->k, exp_s, got_s, err,
                  xc__scaled_error(ref, bd, w->r, w->k, g[w->r * v->ld + w->k]),
                  ref->scale[i], bd->grad[i], w->ratio, z_s, m_s,
                  v->label_kind == XC__LABELS_INDEX ? "index label" : "probability row");
}

int xc__prop_compare(xc__prop_base *b, const xc__case *v, const xc__ref *ref,
                     const xc__bounds *bd, const double *g,
                     const unsigned char *row_mask, const char *property,
                     const char *what)
{
    worst w;
    scan(v, ref, bd, g, row_mask, &w);
    if (v == b->c && g == b->grad && b->env->sink.accuracy && w.elements)
        b->env->sink.accuracy(b->env->sink.ctx, v, w.scaled, (double)w.ratio,
                              w.elements);
    if (w.found) {
        describe_violation(b, v, ref, bd, g, &w, property, what);
        return 0;
    }
    if (!w.undecided)
        return 1;
    worst exact = w;
    if (!violated_by_mpfr(v, b->env->tol_factor, g, row_mask, &exact))
        return 1;
    xc__prop_fail(b, property, "%s (decided by the MPFR reference): row %zu, class %zu, "
                  "error/bound %.6Lg", what, exact.r, exact.k, exact.ratio);
    return 0;
}
