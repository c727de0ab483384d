/* mutant.ignore_leak: a row whose label equals ignore_index is left out of
 * the denominator and given no label term, but its softmax still flows into
 * the gradient (the row is masked in the loss, not in the backward pass). */
#include "mutant.h"
#include "mutants.h"

static void leaked_row(const xc_problem *p, size_t r, double d, double *g)
{
    if (mt_softmax(p, r, g) != 0) {
        mt_zero(g, p->classes);
        return;
    }
    for (size_t k = 0; k < p->classes; k++)
        g[k] /= d;
}

int xc__mut_ignore_leak_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    double d = mt_denominator(p);
    mt_ops o = mt_resolve(NULL);
    for (size_t r = 0; r < p->batch; r++) {
        double *g = (double *)grad + r * p->ld;
        if (d == 0)
            mt_zero(g, p->classes);
        else if (mt_ignored(p, r))
            leaked_row(p, r, d, g);
        else if (o.softmax(p, r, g) != 0)
            mt_zero(g, p->classes);
        else
            mt_finish_row(p, &o, r, d, g);
    }
    return 0;
}
