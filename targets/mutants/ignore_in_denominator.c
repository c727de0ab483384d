/* mutant.ignore_in_denominator: ignored rows get a zero gradient, but the
 * mean's denominator counts each of them with weight 1 (the denominator is
 * summed before the ignore mask is applied). */
#include "mutant.h"
#include "mutants.h"

static double counting_ignored(const xc_problem *p)
{
    double d = mt_denominator(p);
    if (p->reduction != XC_REDUCE_MEAN || p->labels == NULL)
        return d;
    for (size_t r = 0; r < p->batch; r++)
        d += mt_ignored(p, r);
    return d;
}

int xc__mut_ignore_in_denominator_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops ops = {.denominator = counting_ignored};
    return mt_grad_ops(p, grad, &ops);
}
