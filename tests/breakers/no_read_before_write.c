/* breaker.no_read_before_write: accumulates into GRAD (grad += value), as if
 * the caller had zeroed it, instead of assigning. */
#include <stdlib.h>

#include "common.h"

static int grad(const xc_problem *p, void *out, void *ctx)
{
    size_t n = (p->batch - 1) * p->ld + p->classes;
    double *fresh = malloc(n * sizeof *fresh);
    if (fresh == NULL)
        return -1;
    int rc = bk_grad(p, fresh, ctx);
    for (size_t r = 0; r < p->batch; r++) {
        double *g = (double *)out + r * p->ld;
        for (size_t k = 0; k < p->classes; k++)
            g[k] += fresh[r * p->ld + k];
    }
    free(fresh);
    return rc;
}

static const xc_target table[] = {
    BK_TARGET("no_read_before_write", "accumulation bug: grad += value "
              "instead of grad = value", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
