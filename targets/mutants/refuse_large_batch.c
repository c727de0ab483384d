/* mutant.refuse_large_batch: returns an error for batches above 64 rows (a
 * launch configuration or workspace sized for 64), although the target
 * declares batch support without a limit. */
#include "mutant.h"
#include "mutants.h"

#define MAX_ROWS 64

int xc__mut_refuse_large_batch_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    if (p->batch > MAX_ROWS)
        return -1;
    return mt_grad_ops(p, grad, NULL);
}
