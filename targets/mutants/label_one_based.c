/* mutant.label_one_based: labels read as 1-based class numbers (a port from
 * Lua Torch or Fortran): label L puts its -1 on class L - 1, and label 0
 * puts it nowhere. */
#include "mutant.h"
#include "mutants.h"

static double one_based_target(const xc_problem *p, size_t r, size_t k)
{
    if (p->labels == NULL)
        return mt_target(p, r, k);
    return p->labels[r] - 1 == (int64_t)k ? 1 : 0;
}

int xc__mut_label_one_based_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops ops = {.target = one_based_target};
    return mt_grad_ops(p, grad, &ops);
}
