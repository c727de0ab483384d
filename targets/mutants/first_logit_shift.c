/* mutant.first_logit_shift: shifts by the first logit instead of the max
 * ("any constant works mathematically"). exp(z_k - z_0) overflows as soon
 * as some logit exceeds z_0 by 88.7, and a masked z_0 = -inf makes every
 * shifted value +inf or NaN. */
#include "mutants.h"

#include <math.h>

static int softmax_first_shift(const float *z, size_t n, float *out)
{
    float s = 0;
    for (size_t k = 0; k < n; k++) {
        out[k] = expf(z[k] - z[0]);
        s += out[k];
    }
    for (size_t k = 0; k < n; k++)
        out[k] /= s;
    return 0;
}

int xc__mut_first_logit_shift_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    return xc__xent_grad_f32(p, grad, softmax_first_shift);
}
