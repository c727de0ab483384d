/* breaker.return_code: computes the right gradient, then reports failure
 * (returns 1) for rows of more than 50 classes, as a leftover size limit
 * that the descriptor's max_classes does not declare. */
#include "common.h"

static int grad(const xc_problem *p, void *out, void *ctx)
{
    int rc = bk_grad(p, out, ctx);
    return p->classes > 50 ? 1 : rc;
}

static const xc_target table[] = {
    BK_TARGET("return_code", "undeclared limit: returns 1 for more than 50 "
              "classes", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
