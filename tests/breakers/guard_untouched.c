/* breaker.guard_untouched: an off-by-one end pointer: one element is
 * written just after the last row's H-th element. Declared without
 * XC_CAP_BATCH, so N = 1 and ld = H and that element lies past the end of
 * the gradient buffer, whatever padding the harness uses. */
#include "common.h"

static int grad(const xc_problem *p, void *out, void *ctx)
{
    int rc = bk_grad(p, out, ctx);
    ((double *)out)[(p->batch - 1) * p->ld + p->classes] = 0.0;
    return rc;
}

static const xc_target table[] = {
    BK_TARGET("guard_untouched", "off-by-one bug: writes one element past "
              "the end of the gradient", BK_CAPS & ~(uint32_t)XC_CAP_BATCH,
              grad, bk_loss),
};
BK_EXPORT(table)
