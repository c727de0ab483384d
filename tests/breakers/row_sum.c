/* breaker.row_sum: half-done label smoothing for index labels: the
 * gradient gains 0.001 (times the row's scale) on every class without the
 * matching reduction at the label, so rows no longer sum to zero. */
#include "common.h"

static int grad(const xc_problem *p, void *out, void *ctx)
{
    int rc = bk_grad(p, out, ctx);
    if (p->labels == NULL)
        return rc;
    double d = bk_denominator(p);
    for (size_t r = 0; r < p->batch; r++) {
        double *g = (double *)out + r * p->ld;
        if (d == 0 || bk_max(bk_row(p->logits, p, r), p->classes) == -INFINITY)
            continue;  /* keep the all-masked policy: one violation only */
        double c = bk_row_coef(p, r, d);
        for (size_t k = 0; k < p->classes; k++)
            g[k] += 0.001 * c;
    }
    return rc;
}

static const xc_target table[] = {
    BK_TARGET("row_sum", "label-smoothing bug: +0.001 on every class of "
              "index-labelled rows, rows no longer sum to 0", BK_CAPS, grad,
              bk_loss),
};
BK_EXPORT(table)
