/* breaker.fd_consistency: loss() evaluates the loss of the logits times
 * 1.01 (a stray temperature) while grad() is right, so the two disagree. */
#include "common.h"

static int loss(const xc_problem *p, double *out, void *ctx)
{
    (void)ctx;
    return bk_loss_with(p, out, 1.01, 1);
}

static const xc_target table[] = {
    BK_TARGET("fd_consistency", "loss/gradient mismatch: loss applies a "
              "temperature of 1/1.01 that the gradient does not", BK_CAPS,
              bk_grad, loss),
};
BK_EXPORT(table)
