/* breaker.shift_invariance: softmax without the max shift, exp(z) / sum
 * exp(z): right for small logits, inf/inf = NaN once a logit passes the exp
 * overflow threshold (about 709.8), 0/0 when all are below -745. */
#include "common.h"

static int softmax_unshifted(const xc_problem *p, size_t r, double *out)
{
    const double *z = bk_row(p->logits, p, r);
    if (bk_max(z, p->classes) == -INFINITY)
        return -1;
    bk_scale(out, p->classes, bk_exp_shifted(z, p->classes, 0.0, out));
    return 0;
}

static int grad(const xc_problem *p, void *out, void *ctx)
{
    (void)ctx;
    return bk_grad_with(p, out, softmax_unshifted);
}

static const xc_target table[] = {
    BK_TARGET("shift_invariance", "overflow bug: softmax not shifted by the "
              "row max (exp(z) / sum exp(z))", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
