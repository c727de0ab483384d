/* mutant.oob_past_last_row: clears the gradient with an inclusive loop bound
 * (r <= N), writing one row past the end of the buffer. */
#include "mutant.h"
#include "mutants.h"

int xc__mut_oob_past_last_row_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    for (size_t r = 0; r <= p->batch; r++)
        mt_zero((double *)grad + r * p->ld, p->classes);
    return mt_grad_ops(p, grad, NULL);
}
