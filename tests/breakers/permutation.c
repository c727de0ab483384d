/* breaker.permutation: the normaliser starts from the first class's term
 * and then sums every class, so class 0 is counted twice: the result
 * depends on which class sits first. */
#include "common.h"

static int softmax_first_twice(const xc_problem *p, size_t r, double *out)
{
    const double *z = bk_row(p->logits, p, r);
    double m = bk_max(z, p->classes);
    if (m == -INFINITY)
        return -1;
    double s = exp(z[0] - m) + bk_exp_shifted(z, p->classes, m, out);
    bk_scale(out, p->classes, s);
    return 0;
}

static int grad(const xc_problem *p, void *out, void *ctx)
{
    (void)ctx;
    return bk_grad_with(p, out, softmax_first_twice);
}

static const xc_target table[] = {
    BK_TARGET("permutation", "off-by-one bug: the normaliser counts class 0 "
              "twice (position-dependent result)", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
