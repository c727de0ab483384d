/* Comparing a computed gradient with the reference, element by element.
 *
 * Every bound already includes the fast reference's proven error R_k
 * (tolerance.h), so an error above the bound is a violation for certain.
 * The fast reference cannot decide an error within 2 R_k below the bound
 * (the exact error might exceed the exact bound there); only such cases are
 * recomputed with MPFR, whose error is far smaller. */
#include "props.h"

#include <math.h>
#include <stdarg.h>
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

/* The worst elements so far, kept as undivided pairs (settle divides them
 * once), and the thresholds an element must pass to replace them: RHO, the
 * worst ratio err / bound, and SIGMA_U, the worst scaled error times u.
 * Testing err > rho b and err > sigma_u max(s, min normal) takes one
 * multiplication each per element; the thresholds are recomputed only when
 * the worst changes, which for elements in random order is O(log n) times.
 * They are rounded, so two elements whose ratios agree to within long
 * double's rounding may be ranked either way: only which of them is named
 * the worst can change, not whether there is a violation, which each
 * element's own err > b decides (scan's OVER). */
typedef struct tracker {
    int nonfinite;          /* the worst ratio is +inf */
    long double err, bound; /* worst ratio err / bound */
    long double s_err, s_den; /* worst scaled error s_err / s_den */
    long double rho, sigma_u;
} tracker;

static int row_selected(const xc__ref *ref, const unsigned char *mask, size_t r)
{
    return ref->rows[r].kind == XC__ROW_FINITE && (!mask || mask[r]);
}

/* err / bound for an error E >= 0 and a bound B > 0, possibly +inf: a
 * vacuous bound has ratio 0. */
static long double ratio_of(long double e, long double b)
{
    return isinf(b) ? 0.0L : e / b;
}

/* One element: ERR = |x - g_k| against bound B > 0, scale S (the scaled
 * error's denominator is u max(S, min normal)). A new worst ratio must
 * exceed the worst's: err > rho b, which a vacuous bound (b = +inf) never
 * passes (rho b is +inf, or NaN for rho = 0). */
static void track(worst *w, tracker *t, size_t r, size_t k, int nonfinite,
                  long double err, long double b, long double s, long double u,
                  long double mn)
{
    int first = w->elements++ == 0;
    if (first || (!t->nonfinite && (nonfinite || err > t->rho * b))) {
        t->nonfinite = nonfinite;
        t->err = err;
        t->bound = b;
        t->rho = ratio_of(err, b);
        w->r = r;
        w->k = k;
    }
    long double m = s >= mn ? s : mn;
    if ((nonfinite || first || err > t->sigma_u * m) && t->s_err != INFINITY) {
        /* a non-finite one stays the worst */
        t->s_err = nonfinite ? INFINITY : err;
        t->s_den = u * m;
        t->sigma_u = t->s_err / m;
    }
}

/* The tracked worst values, divided once: as the per-element formulas. */
static void settle(worst *w, const tracker *t)
{
    if (!w->elements)
        return;
    w->ratio = t->nonfinite ? INFINITY : t->err == 0 ? 0.0L : t->err / t->bound;
    double scaled = (double)(t->s_err / t->s_den);
    w->scaled = isnan(scaled) ? INFINITY : scaled;
    w->found = w->ratio > 1;
}

static void scan(const xc__case *v, const xc__ref *ref, const xc__bounds *bd,
                 const double *g, const unsigned char *mask, worst *w)
{
    tracker t = {0};
    long double two_r = 2 * ref->rel_err, u = bd->u, mn = bd->min_normal;
    int over = 0;
    *w = (worst){0};
    for (size_t r = 0; r < v->batch; r++) {
        if (!row_selected(ref, mask, r))
            continue;
        const double *gr = g + r * v->ld;
        size_t i0 = r * v->classes;
        for (size_t k = 0; k < v->classes; k++) {
            double x = gr[k];
            long double err = fabsl((long double)x - ref->grad[i0 + k]);
            long double b = bd->grad[i0 + k], s = ref->scale[i0 + k];
            int nonfinite = !isfinite(x) || isnan(err);
            over |= err > b;
            /* undecided: within 2 R_k below the bound, not above it */
            if (!nonfinite && err > b - two_r * s && !(err > b))
                w->undecided = 1;
            track(w, &t, r, k, nonfinite, err, b, s, u, mn);
        }
    }
    settle(w, &t);
    w->found |= over;
}

/* 1 when every selected element is finite and at least 2 R_k below its
 * bound: then scan() finds no violation and nothing undecided. Without the
 * worst-element bookkeeping, for comparisons whose worst values are only
 * reported on a failure. */
int xc__prop_clearly_within(const xc__case *v, const xc__ref *ref,
                            const xc__bounds *bd, const double *g,
                            const unsigned char *mask)
{
    long double two_r = 2 * ref->rel_err;
    for (size_t r = 0; r < v->batch; r++) {
        if (!row_selected(ref, mask, r))
            continue;
        const double *gr = g + r * v->ld;
        size_t i0 = r * v->classes;
        for (size_t k = 0; k < v->classes; k++) {
            long double err = fabsl((long double)gr[k] - ref->grad[i0 + k]);
            if (!isfinite(gr[k]) ||
                !(err <= bd->grad[i0 + k] - two_r * ref->scale[i0 + k]))
                return 0;
        }
    }
    return 1;
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
                  "  |error| %.3Lg = %.4g u of scale %.3g; bound %.3g (error/bound %.3Lg)\n"
                  "  logit %s, row max %s, %s",
                  what, desc, w->r, w->k, exp_s, got_s, err,
                  xc__scaled_error(ref, bd, w->r, w->k, g[w->r * v->ld + w->k]),
                  ref->scale[i], bd->grad[i], w->ratio, z_s, m_s,
                  v->label_kind == XC__LABELS_INDEX ? "index label" : "probability row");
}

int xc__prop_compare(xc__prop_base *b, const xc__case *v, const xc__ref *ref,
                     const xc__bounds *bd, const double *g,
                     const unsigned char *row_mask, const char *property,
                     const char *what_fmt, ...)
{
    worst w;
    int accuracy = v == b->c && g == b->grad && b->env->sink.accuracy;
    if (!accuracy && xc__prop_clearly_within(v, ref, bd, g, row_mask))
        return 2;
    scan(v, ref, bd, g, row_mask, &w);
    if (accuracy && w.elements)
        b->env->sink.accuracy(b->env->sink.ctx, v, w.scaled, (double)w.ratio,
                              w.elements);
    if (!w.found && !w.undecided)
        return 2;
    worst exact = w;
    if (!w.found && !violated_by_mpfr(v, b->env->tol_factor, g, row_mask, &exact))
        return 1;
    char what[512]; /* formatted only for a failure */
    va_list ap;
    va_start(ap, what_fmt);
    vsnprintf(what, sizeof what, what_fmt, ap);
    va_end(ap);
    if (w.found)
        describe_violation(b, v, ref, bd, g, &w, property, what);
    else
        xc__prop_fail(b, property, "%s (decided by the MPFR reference): row %zu, class %zu, "
                      "error/bound %.6Lg", what, exact.r, exact.k, exact.ratio);
    return 0;
}
