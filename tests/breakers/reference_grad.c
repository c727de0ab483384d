/* breaker.reference_grad: gradient elements whose probability exceeds 0.1
 * come out 1 ppm too large, a precision bug only the exact reference sees. */
#include "common.h"

static void inflate_row(const xc_problem *p, size_t r, double *g)
{
    const double *z = bk_row(p->logits, p, r);
    double m = bk_max(z, p->classes);
    if (m == -INFINITY)
        return;
    double ls = bk_log_sum(z, p->classes, m);
    for (size_t k = 0; k < p->classes; k++)
        if (exp(z[k] - m - ls) > 0.1)
            g[k] *= 1 + 1e-6;
}

static int grad(const xc_problem *p, void *out, void *ctx)
{
    int rc = bk_grad(p, out, ctx);
    for (size_t r = 0; r < p->batch; r++)
        if (!bk_ignored(p, r))
            inflate_row(p, r, (double *)out + r * p->ld);
    return rc;
}

static const xc_target table[] = {
    BK_TARGET("reference_grad", "precision bug: gradient 1e-6 relative too "
              "large where the probability exceeds 0.1", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
