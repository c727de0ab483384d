/* mutant.prob_mean_weight_sum: the index-label rule applied to probability
 * rows: the weighted mean divides by the total weighted target mass
 * sum_r sum_k w_k y_rk instead of N (PyTorch divides probability rows by N
 * whatever the weights, a documented asymmetry that ports get wrong). */
#include "mutant.h"
#include "mutants.h"

static double weighted_mass(const xc_problem *p)
{
    if (p->reduction != XC_REDUCE_MEAN)
        return 1;
    if (p->labels != NULL || p->weights == NULL)
        return mt_denominator(p);
    double d = 0;
    for (size_t r = 0; r < p->batch; r++)
        d += mt_mass(p, r);
    return d;
}

int xc__mut_prob_mean_weight_sum_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops ops = {.denominator = weighted_mass};
    return mt_grad_ops(p, grad, &ops);
}
