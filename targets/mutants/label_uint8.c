/* mutant.label_uint8: labels narrowed to 8 bits (class maps stored as uint8
 * images, then used with more than 256 classes): label 300 selects class 44. */
#include "mutant.h"
#include "mutants.h"

static double narrowed_target(const xc_problem *p, size_t r, size_t k)
{
    if (p->labels == NULL)
        return mt_target(p, r, k);
    return (size_t)(uint8_t)p->labels[r] == k ? 1 : 0;
}

int xc__mut_label_uint8_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops ops = {.target = narrowed_target};
    return mt_grad_ops(p, grad, &ops);
}
