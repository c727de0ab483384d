/* mutant.writes_padding: clears each gradient row over its full stride ld
 * (a memset of the row pitch) before computing it, overwriting the padding
 * [H, ld) that belongs to the caller. */
#include "mutant.h"
#include "mutants.h"

int xc__mut_writes_padding_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    for (size_t r = 0; r < p->batch; r++)
        mt_zero((double *)grad + r * p->ld, p->ld);
    return mt_grad_ops(p, grad, NULL);
}
