/* breaker.finite: a bogus overflow guard returns NaN for every class whose
 * logit is finite but larger than 50 in magnitude. */
#include "common.h"

static int grad(const xc_problem *p, void *out, void *ctx)
{
    int rc = bk_grad(p, out, ctx);
    for (size_t r = 0; r < p->batch; r++) {
        const double *z = bk_row(p->logits, p, r);
        double *g = (double *)out + r * p->ld;
        for (size_t k = 0; k < p->classes; k++)
            if (isfinite(z[k]) && fabs(z[k]) > 50)
                g[k] = NAN;
    }
    return rc;
}

static const xc_target table[] = {
    BK_TARGET("finite", "bogus overflow guard: NaN for finite logits with "
              "|z| > 50", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
