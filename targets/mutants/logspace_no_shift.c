/* mutant.logspace_no_shift: log-space softmax O_k = exp(z_k - lse) with
 * lse = log(sum exp(z_i)) computed without the max-shift: the log-softmax
 * is "stable", but its lse is not; it overflows to +inf above z = 709.8
 * (every O_k becomes 0) and to -inf below -745 (NaN). */
#include "mutants.h"

#include <math.h>

static int softmax_log_unshifted(const double *z, size_t n, double *out)
{
    double s = 0;
    for (size_t k = 0; k < n; k++)
        s += exp(z[k]);
    double lse = log(s);
    for (size_t k = 0; k < n; k++)
        out[k] = exp(z[k] - lse);
    return 0;
}

int xc__mut_logspace_no_shift_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    return xc__xent_grad_f64(p, grad, softmax_log_unshifted);
}
