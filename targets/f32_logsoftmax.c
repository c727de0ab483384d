/* xc.f32.logsoftmax: log-space softmax in f32, O_k = expf(z_k - lse) with
 * lse = M + logf(sum expf(z - M)). */
#include "xent.h"

#include <math.h>

/* Division-free: the rounding of lse is amplified by exp, which is why this
 * form is less accurate than the shifted one (Blanchard, Higham and Higham
 * 2021, Thm 3.4) and worth checking separately. */
static int softmax_log_space(const float *z, size_t n, float *out)
{
    float m = xc__row_max_f32(z, n);
    if (m == -INFINITY)
        return 1;
    float s = 0;
    for (size_t k = 0; k < n; k++)
        s += expf(z[k] - m);
    float lse = m + logf(s);
    for (size_t k = 0; k < n; k++)
        out[k] = expf(z[k] - lse);
    return 0;
}

int xc__f32_logsoftmax_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    return xc__xent_grad_f32(p, grad, softmax_log_space);
}
