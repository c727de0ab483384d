/* breaker.padding_untouched: clears each gradient row up to the leading
 * dimension, padding [H, ld) included, before writing it. */
#include <string.h>

#include "common.h"

static int grad(const xc_problem *p, void *out, void *ctx)
{
    for (size_t r = 0; r < p->batch; r++)
        memset((double *)out + r * p->ld, 0, p->ld * sizeof(double));
    return bk_grad(p, out, ctx);
}

static const xc_target table[] = {
    BK_TARGET("padding_untouched", "stride bug: zeroes whole rows of ld "
              "elements, padding included", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
