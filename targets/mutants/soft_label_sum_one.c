/* mutant.soft_label_sum_one: the probability-row gradient written as O - y,
 * the shortcut valid only when the (weighted) target sums to 1; unnormalised
 * rows and class weights need O S - y. */
#include "mutant.h"
#include "mutants.h"

static double unit_mass(const xc_problem *p, size_t r)
{
    (void)p;
    (void)r;
    return 1;
}

int xc__mut_soft_label_sum_one_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops ops = {.mass = unit_mass};
    return mt_grad_ops(p, grad, &ops);
}
