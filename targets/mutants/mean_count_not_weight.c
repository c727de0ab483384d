/* mutant.mean_count_not_weight: the weighted mean over index labels divides
 * by the number of non-ignored rows instead of the sum of their weights
 * w[label]: ignore_index is handled, the class weights are forgotten in the
 * denominator only. */
#include "mutant.h"
#include "mutants.h"

static double kept_rows(const xc_problem *p)
{
    if (p->reduction != XC_REDUCE_MEAN)
        return 1;
    if (p->labels == NULL)
        return (double)p->batch;
    double n = 0;
    for (size_t r = 0; r < p->batch; r++)
        n += !mt_ignored(p, r);
    return n;
}

int xc__mut_mean_count_not_weight_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops ops = {.denominator = kept_rows};
    return mt_grad_ops(p, grad, &ops);
}
