/* mutant.loss_sum_under_mean: the gradient is the mean's, the loss ignores
 * the reduction and returns the sum (a forward pass that forgot the
 * division its backward pass does). */
#include "mutant.h"
#include "mutants.h"

int xc__mut_loss_sum_under_mean_loss(const xc_problem *p, double *loss, void *ctx)
{
    xc_problem summed = *p;
    summed.reduction = XC_REDUCE_SUM;
    return mt_loss(&summed, loss, ctx);
}
