/* mutant.sum_f32_in_f64: an f64 softmax whose sum of exponentials lives in
 * a float accumulator (a single-precision reduction buffer reused for both
 * dtypes): every probability carries a relative error near 2^-24 instead of
 * 2^-53. */
#include "mutants.h"

#include <math.h>

static int softmax_float_sum(const double *z, size_t n, double *out)
{
    double m = xc__row_max_f64(z, n);
    if (m == -INFINITY)
        return 1;
    float s = 0;
    for (size_t k = 0; k < n; k++) {
        out[k] = exp(z[k] - m);
        s += (float)out[k];
    }
    for (size_t k = 0; k < n; k++)
        out[k] /= (double)s;
    return 0;
}

int xc__mut_sum_f32_in_f64_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    return xc__xent_grad_f64(p, grad, softmax_float_sum);
}
