/* mutant.crash_h1: crashes on a single class. Stands for kernels that
 * process classes in pairs or divide by H - 1 (smoothing mass, variance) and
 * index a scratch buffer of H / 2 entries, which is empty for H = 1. */
#include "mutant.h"
#include "mutants.h"

int xc__mut_crash_h1_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    if (p->classes == 1)
        mt_crash();
    return mt_grad_ops(p, grad, NULL);
}
