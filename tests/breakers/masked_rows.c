/* breaker.masked_rows: a row whose logits are all -inf has no softmax; this
 * target answers +inf there instead of NaN or zeros. */
#include "common.h"

static int grad(const xc_problem *p, void *out, void *ctx)
{
    int rc = bk_grad(p, out, ctx);
    for (size_t r = 0; r < p->batch; r++) {
        const double *z = bk_row(p->logits, p, r);
        double *g = (double *)out + r * p->ld;
        if (bk_ignored(p, r) || bk_max(z, p->classes) > -INFINITY)
            continue;
        for (size_t k = 0; k < p->classes; k++)
            g[k] = INFINITY;
    }
    return rc;
}

static const xc_target table[] = {
    BK_TARGET("masked_rows", "masking bug: +inf gradient for rows whose "
              "logits are all -inf", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
