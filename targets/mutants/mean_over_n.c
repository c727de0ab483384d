/* mutant.mean_over_n: the mean divides by the batch size N even for index
 * labels with class weights or ignored rows, where PyTorch's convention
 * divides by the sum of the non-ignored row weights. */
#include "mutant.h"
#include "mutants.h"

static double batch_size(const xc_problem *p)
{
    return p->reduction == XC_REDUCE_MEAN ? (double)p->batch : 1;
}

int xc__mut_mean_over_n_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops ops = {.denominator = batch_size};
    return mt_grad_ops(p, grad, &ops);
}
