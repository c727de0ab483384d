/* mutant.masked_row_div0: renormalises the target over the unmasked classes
 * (t_k * S / S_unmasked, an exact no-op whenever the target is unmasked).
 * A row whose every logit is -inf has S_unmasked = 0: S / 0 = +inf, and its
 * gradient becomes -inf instead of the documented NaN, 0 or -c t_k. */
#include "mutant.h"
#include "mutants.h"

static double unmasked_mass(const xc_problem *p, size_t r)
{
    const double *z = mt_row(p->logits, p, r);
    double s = 0;
    for (size_t k = 0; k < p->classes; k++)
        if (z[k] != -INFINITY)
            s += mt_target(p, r, k);
    return s;
}

/* The softmax, taken as 0 for a row without one. */
static void softmax_or_zero(const xc_problem *p, size_t r, double *g)
{
    if (mt_softmax(p, r, g) != 0)
        mt_zero(g, p->classes);
}

static void renormalised_row(const xc_problem *p, size_t r, double d, double *g)
{
    double s = mt_mass(p, r), c = mt_coef(p, r, d);
    double scale = s == 0 ? 1 : s / unmasked_mass(p, r);
    softmax_or_zero(p, r, g);
    for (size_t k = 0; k < p->classes; k++)
        g[k] = c * (s * g[k] - mt_target(p, r, k) * scale);
}

int xc__mut_masked_row_div0_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    double d = mt_denominator(p);
    for (size_t r = 0; r < p->batch; r++) {
        double *g = (double *)grad + r * p->ld;
        if (d == 0 || mt_ignored(p, r))
            mt_zero(g, p->classes);
        else
            renormalised_row(p, r, d, g);
    }
    return 0;
}
