/* xc.f64.shifted: max-shifted softmax in f64, O_k = exp(z_k - M) / s. */
#include "xent.h"

#include <math.h>

/* Shifting by the row max M keeps every exponent <= 0: no overflow, and the
 * largest term is exactly 1 so s >= 1 never underflows. */
static int softmax_shifted(const double *z, size_t n, double *out)
{
    double m = xc__row_max_f64(z, n);
    if (m == -INFINITY)
        return 1;
    double s = 0;
    for (size_t k = 0; k < n; k++) {
        out[k] = exp(z[k] - m);
        s += out[k];
    }
    for (size_t k = 0; k < n; k++)
        out[k] /= s;
    return 0;
}

int xc__f64_shifted_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    return xc__xent_grad_f64(p, grad, softmax_shifted);
}
