/* mutant.no_max_shift: the textbook softmax exp(z_k) / sum exp(z_i) with no
 * max-shift. expf overflows to +inf for z > 88.7 (inf / inf = NaN) and every
 * exp underflows to 0 for rows below -103 (0 / 0 = NaN): the most common
 * softmax bug in hand-written kernels. */
#include "mutants.h"

#include <math.h>

static int softmax_unshifted(const float *z, size_t n, float *out)
{
    float s = 0;
    for (size_t k = 0; k < n; k++) {
        out[k] = expf(z[k]);
        s += out[k];
    }
    for (size_t k = 0; k < n; k++)
        out[k] /= s;
    return 0;
}

int xc__mut_no_max_shift_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    return xc__xent_grad_f32(p, grad, softmax_unshifted);
}
