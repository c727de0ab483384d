/* breaker.nonfinite_isolation: shifts every row by one max over the whole
 * batch, found with a NaN-propagating comparison, so a NaN or +inf in one
 * row turns every row into NaN. */
#include "common.h"

static double batch_max(const xc_problem *p)
{
    double m = -INFINITY;
    for (size_t r = 0; r < p->batch; r++) {
        const double *z = bk_row(p->logits, p, r);
        for (size_t k = 0; k < p->classes; k++)
            if (isnan(z[k]) || z[k] > m)
                m = z[k];
    }
    return m;
}

static int grad(const xc_problem *p, void *out, void *ctx)
{
    (void)ctx;
    double d = bk_denominator(p), m = batch_max(p);
    for (size_t r = 0; r < p->batch; r++) {
        const double *z = bk_row(p->logits, p, r);
        double *g = (double *)out + r * p->ld;
        if (d == 0 || bk_ignored(p, r) || bk_max(z, p->classes) == -INFINITY) {
            bk_zero(g, p->classes);
            continue;
        }
        bk_scale(g, p->classes, bk_exp_shifted(z, p->classes, m, g));
        bk_finish_row(p, r, d, g);
    }
    return 0;
}

static const xc_target table[] = {
    BK_TARGET("nonfinite_isolation", "isolation bug: one NaN-propagating max "
              "over the whole batch shifts every row", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
