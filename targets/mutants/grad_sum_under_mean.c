/* mutant.grad_sum_under_mean: the mean is applied to the loss but not to
 * the gradient (the backward pass of the sum): loss and gradient disagree
 * by the factor D. */
#include "mutant.h"
#include "mutants.h"

int xc__mut_grad_sum_under_mean_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    xc_problem summed = *p;
    summed.reduction = XC_REDUCE_SUM;
    return mt_grad_ops(&summed, grad, NULL);
}
