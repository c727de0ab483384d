/* mutant.crash_large_h: a fixed scratch buffer of 1024 floats (a stack array
 * or a GPU block's shared memory) holds the exponentials; more classes
 * overrun it. The overrun is modelled by an explicit crash above 1024, so
 * that the bug is deterministic and stays inside the harness's worker. */
#include "mutant.h"
#include "mutants.h"

#include <math.h>

#define SCRATCH 1024

static int softmax_scratch(const float *z, size_t n, float *out)
{
    if (n > SCRATCH)
        mt_crash();
    float e[SCRATCH], s = 0, m = xc__row_max_f32(z, n);
    if (m == -INFINITY)
        return 1;
    for (size_t k = 0; k < n; k++) {
        e[k] = expf(z[k] - m);
        s += e[k];
    }
    for (size_t k = 0; k < n; k++)
        out[k] = e[k] / s;
    return 0;
}

int xc__mut_crash_large_h_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    return xc__xent_grad_f32(p, grad, softmax_scratch);
}
