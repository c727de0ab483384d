/* mutant.nondeterministic_order: the sum of exponentials is reduced in an
 * order that changes from call to call (a parallel reduction whose order
 * follows thread scheduling, modelled by a call counter): each result is
 * accurate, but two calls on the same input differ in the last bits. */
#include "mutant.h"
#include "mutants.h"

static unsigned long calls;

static double sum_in_order(const double *e, size_t n, int backwards)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += e[backwards ? n - 1 - i : i];
    return s;
}

static int softmax_varying(const xc_problem *p, size_t r, double *out)
{
    const double *z = mt_row(p->logits, p, r);
    double m = mt_max(z, p->classes);
    if (m == -INFINITY)
        return -1;
    for (size_t k = 0; k < p->classes; k++)
        out[k] = exp(z[k] - m);
    double s = sum_in_order(out, p->classes, (int)(calls & 1));
    for (size_t k = 0; k < p->classes; k++)
        out[k] /= s;
    return 0;
}

int xc__mut_nondeterministic_order_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops ops = {.softmax = softmax_varying};
    calls++;
    return mt_grad_ops(p, grad, &ops);
}
