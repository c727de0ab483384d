/* breaker.inputs_unchanged: uses logits[0] as scratch space and restores it
 * afterwards: the caller's data is written, even if only for a moment. */
#include "common.h"

static int grad(const xc_problem *p, void *out, void *ctx)
{
    /* volatile: the compiler must not drop the store and its undo. */
    volatile double *scratch = (volatile double *)(uintptr_t)p->logits;
    double saved = scratch[0];
    scratch[0] = 0.0;
    scratch[0] = saved;
    return bk_grad(p, out, ctx);
}

static const xc_target table[] = {
    BK_TARGET("inputs_unchanged", "input-mutation bug: writes logits[0] as "
              "scratch and restores it", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
