/* breaker.reference_loss: the mean reduction of the loss forgets its 1/D
 * (the gradient is right). */
#include "common.h"

static int loss(const xc_problem *p, double *out, void *ctx)
{
    (void)ctx;
    return bk_loss_with(p, out, 1.0, 0);
}

static const xc_target table[] = {
    BK_TARGET("reference_loss", "reduction bug: mean loss not divided by the "
              "batch size (or weight sum)", BK_CAPS, bk_grad, loss),
};
BK_EXPORT(table)
