/* xc.f32.shifted: max-shifted softmax in f32, O_k = expf(z_k - M) / s. */
#include "xent.h"

#include <math.h>

/* As the f64 kernel, every operation in float: the error the harness
 * measures is that of a genuine f32 implementation. */
static int softmax_shifted(const float *z, size_t n, float *out)
{
    float m = xc__row_max_f32(z, n);
    if (m == -INFINITY)
        return 1;
    float s = 0;
    for (size_t k = 0; k < n; k++) {
        out[k] = expf(z[k] - m);
        s += out[k];
    }
    for (size_t k = 0; k < n; k++)
        out[k] /= s;
    return 0;
}

int xc__f32_shifted_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    return xc__xent_grad_f32(p, grad, softmax_shifted);
}
