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

#include "compare_kernel.h"

/* MPFR precision for re-deciding a violation: far beyond long double. */
#define ARBITER_PRECISION 192

typedef struct worst {
    int found;              /* a violation, for certain */
    int undecided;          /* an error within 2 R_k below its bound */
    size_t r, k;
    double ratio;           /* error / bound of the worst element */
    double scaled;          /* worst scaled error, u */
    size_t elements;
} worst;

static int row_selected(const xc__ref *ref, const unsigned char *mask, size_t r)
{
    return ref->rows[r].kind == XC__ROW_FINITE && (!mask || mask[r]);
}

static xc__cmp_row row_of(const xc__case *v, const xc__ref *ref, const xc__bounds *bd,
                          const double *g, size_t r)
{
    size_t i0 = r * v->classes;
    return (xc__cmp_row){.x = g + r * v->ld, .g = ref->grad + i0, .b = bd->grad + i0,
                         .s = ref->scale + i0, .n = v->classes};
}

/* Every selected element's verdict and the worst of them
 * (compare_kernel.h). */
static void scan(const xc__case *v, const xc__ref *ref, const xc__bounds *bd,
                 const double *g, const unsigned char *mask, worst *w)
{
    xc__cmp_consts k = xc__cmp_consts_of(ref->rel_err, bd->u, bd->min_normal);
    xc__cmp_scan acc;
    xc__cmp_scan_init(&acc);
    for (size_t r = 0; r < v->batch; r++)
        if (row_selected(ref, mask, r)) {
            xc__cmp_row row = row_of(v, ref, bd, g, r);
            xc__cmp_scan_row(&k, &row, r, &acc);
        }
    *w = (worst){.found = acc.over, .undecided = acc.undecided && !acc.over,
                 .r = acc.row, .k = acc.col, .ratio = acc.ratio, .scaled = acc.scaled,
                 .elements = acc.elements};
}

/* 1 when every selected element is clear (compare_kernel.h): then scan()
 * finds no violation and nothing undecided. Without the worst-element
 * bookkeeping, for comparisons whose worst values are only reported on a
 * failure. */
int xc__prop_clearly_within(const xc__case *v, const xc__ref *ref,
                            const xc__bounds *bd, const double *g,
                            const unsigned char *mask)
{
    xc__cmp_consts k = xc__cmp_consts_of(ref->rel_err, bd->u, bd->min_normal);
    for (size_t r = 0; r < v->batch; r++) {
        if (!row_selected(ref, mask, r))
            continue;
        xc__cmp_row row = row_of(v, ref, bd, g, r);
        if (!xc__cmp_row_clear(&k, &row))
            return 0;
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
    long double expected = xc__ld_of_dd(ref->grad[i]);
    xc__fmt_value(exp_s, sizeof exp_s, expected, v->dtype);
    xc__fmt_value(got_s, sizeof got_s, g[w->r * v->ld + w->k], v->dtype);
    xc__fmt_value(z_s, sizeof z_s, v->logits[w->r * v->ld + w->k], v->dtype);
    xc__fmt_value(m_s, sizeof m_s, ref->rows[w->r].max, v->dtype);
    xc__case_describe(v, desc, sizeof desc);
    long double err = fabsl((long double)g[w->r * v->ld + w->k] - expected);
    xc__prop_fail(b, property,
                  "%s: %s\n  row %zu, class %zu: expected %s\n  got %s\n"
                  "  |error| %.3Lg = %.4g u of scale %.3g; bound %.3g (error/bound %.3g)\n"
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
                      "error/bound %.6g", what, exact.r, exact.k, exact.ratio);
    return 0;
}
