/* breaker.no_hang: spins forever on rows of exactly 7 classes. */
#include "common.h"

static int grad(const xc_problem *p, void *out, void *ctx)
{
    /* volatile: an empty loop the optimiser could otherwise reason about. */
    volatile unsigned long spins = 0;
    while (p->classes == 7)
        spins++;
    return bk_grad(p, out, ctx);
}

static const xc_target table[] = {
    BK_TARGET("no_hang", "hang: infinite loop for exactly 7 classes", BK_CAPS,
              grad, bk_loss),
};
BK_EXPORT(table)
