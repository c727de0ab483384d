/* mutant.hang_block8: a blocked max loop (8 lanes) that finds the start of
 * the last block as (H - 1) / 8 * 8 but takes its width as H % 8, which is 0
 * when H is a multiple of 8: the tail loop then advances by 0 forever. */
#include "mutant.h"
#include "mutants.h"

#define LANES 8

static double blocked_max(const double *z, size_t n)
{
    size_t last = (n - 1) / LANES * LANES;
    size_t width = n % LANES;
    double m = mt_max(z, last);
    for (volatile size_t k = last; k < n; k += width) {
        double b = mt_max(z + k, width);
        if (b > m)
            m = b;
    }
    return m;
}

static int softmax_blocked(const xc_problem *p, size_t r, double *out)
{
    const double *z = mt_row(p->logits, p, r);
    return mt_softmax_of(z, p->classes, blocked_max(z, p->classes), out);
}

int xc__mut_hang_block8_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops ops = {.softmax = softmax_blocked};
    return mt_grad_ops(p, grad, &ops);
}
