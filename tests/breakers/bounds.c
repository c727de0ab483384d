/* breaker.bounds: the target is subtracted twice (once in the kernel, once
 * by its caller): g_k = c (Y O_k - 2 v_k y_k), so at a one-hot label
 * |g| = c (2 - O) > c, outside the bound |g| <= c. */
#include "common.h"

static void subtract_again(const xc_problem *p, size_t r, double d, double *g)
{
    double c = bk_row_coef(p, r, d);
    for (size_t k = 0; k < p->classes; k++)
        g[k] -= c * bk_target(p, r, k);
}

static int grad(const xc_problem *p, void *out, void *ctx)
{
    int rc = bk_grad(p, out, ctx);
    double d = bk_denominator(p);
    for (size_t r = 0; r < p->batch; r++) {
        const double *z = bk_row(p->logits, p, r);
        if (d != 0 && !bk_ignored(p, r) && bk_max(z, p->classes) > -INFINITY)
            subtract_again(p, r, d, (double *)out + r * p->ld);
    }
    return rc;
}

static const xc_target table[] = {
    BK_TARGET("bounds", "double-subtraction bug: target subtracted twice, "
              "|g| exceeds 1 at the label", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
