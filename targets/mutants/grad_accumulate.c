/* mutant.grad_accumulate: adds into the gradient buffer (grad += ...), the
 * autograd accumulation convention, where the contract says the buffer is
 * output only: the result depends on whatever the buffer held. */
#include "mutant.h"
#include "mutants.h"

static double sum_exp(const double *z, size_t n, double m)
{
    double s = 0;
    for (size_t k = 0; k < n; k++)
        s += exp(z[k] - m);
    return s;
}

static void accumulate_row(const xc_problem *p, size_t r, double d, double *g)
{
    const double *z = mt_row(p->logits, p, r);
    double m = mt_max(z, p->classes);
    if (m == -INFINITY)
        return;
    double s = sum_exp(z, p->classes, m), c = mt_coef(p, r, d), y = mt_mass(p, r);
    for (size_t k = 0; k < p->classes; k++)
        g[k] += c * (y * (exp(z[k] - m) / s) - mt_target(p, r, k));
}

int xc__mut_grad_accumulate_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    double d = mt_denominator(p);
    for (size_t r = 0; r < p->batch; r++)
        if (d != 0 && !mt_ignored(p, r))
            accumulate_row(p, r, d, (double *)grad + r * p->ld);
    return 0;
}
