/* mutant.label_int16: labels narrowed to a signed 16-bit index (the
 * int64 -> int32 truncation class, at the width the harness's class counts
 * reach): labels of 32768 and above wrap to negative numbers and match no
 * class. */
#include "mutant.h"
#include "mutants.h"

static double narrowed_target(const xc_problem *p, size_t r, size_t k)
{
    if (p->labels == NULL)
        return mt_target(p, r, k);
    int16_t label = (int16_t)(uint16_t)p->labels[r];
    return label == (int64_t)k ? 1 : 0;
}

int xc__mut_label_int16_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops ops = {.target = narrowed_target};
    return mt_grad_ops(p, grad, &ops);
}
