/* mutant.label_smoothing_leak: index labels are smoothed with a default
 * epsilon of 0.1 that the caller never asked for (a training-time default
 * left on): the target is 0.9 one-hot + 0.1 / H everywhere. */
#include "mutant.h"
#include "mutants.h"

#define SMOOTHING 0.1

static double smoothed_target(const xc_problem *p, size_t r, size_t k)
{
    if (p->labels == NULL)
        return mt_target(p, r, k);
    return (1 - SMOOTHING) * mt_target(p, r, k) + SMOOTHING / (double)p->classes;
}

int xc__mut_label_smoothing_leak_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops ops = {.target = smoothed_target};
    return mt_grad_ops(p, grad, &ops);
}
