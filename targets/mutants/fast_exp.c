/* mutant.fast_exp: a "fast" expf, 2^n times a degree-4 Taylor polynomial on
 * |r| <= ln2 / 2: relative error up to 4.3e-5 (about 700 ulps), in the range
 * of the hand-rolled approximations of fast-math kernels. Max-shifted, so
 * it never overflows: only its accuracy is wrong. */
#include "mutants.h"

#include <math.h>

static float poly_expf(float x)
{
    if (isnan(x) || x > 88.0f)
        return isnan(x) ? x : INFINITY;
    if (x < -104.0f)
        return 0.0f;
    float n = nearbyintf(x * 1.44269504f);
    float r = x - n * 0.693147181f;
    float q = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24))));
    return ldexpf(q, (int)n);
}

static int softmax_fast_exp(const float *z, size_t n, float *out)
{
    float m = xc__row_max_f32(z, n);
    if (m == -INFINITY)
        return 1;
    float s = 0;
    for (size_t k = 0; k < n; k++) {
        out[k] = poly_expf(z[k] - m);
        s += out[k];
    }
    for (size_t k = 0; k < n; k++)
        out[k] /= s;
    return 0;
}

int xc__mut_fast_exp_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    return xc__xent_grad_f32(p, grad, softmax_fast_exp);
}
