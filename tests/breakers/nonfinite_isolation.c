/* breaker.nonfinite_isolation: a batch-wide input check: one NaN or +inf
 * logit anywhere poisons the whole output with NaN, where only its own row
 * may be affected. Finite and masked (-inf) inputs are handled correctly. */
#include "common.h"

static int batch_has_nonfinite(const xc_problem *p)
{
    for (size_t r = 0; r < p->batch; r++) {
        const double *z = bk_row(p->logits, p, r);
        for (size_t k = 0; k < p->classes; k++)
            if (isnan(z[k]) || z[k] == INFINITY)
                return 1;
    }
    return 0;
}

static int grad(const xc_problem *p, void *out, void *ctx)
{
    if (!batch_has_nonfinite(p))
        return bk_grad(p, out, ctx);
    for (size_t r = 0; r < p->batch; r++) {
        double *g = (double *)out + r * p->ld;
        for (size_t k = 0; k < p->classes; k++)
            g[k] = NAN;
    }
    return 0;
}

static const xc_target table[] = {
    BK_TARGET("nonfinite_isolation", "isolation bug: a NaN or +inf logit in "
              "one row turns the whole batch into NaN", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
