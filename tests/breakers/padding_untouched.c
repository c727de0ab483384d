/* breaker.padding_untouched: clears the whole gradient matrix, row stride
 * ld, before writing it, so the padding [H, ld) of every row but the last
 * is overwritten; nothing outside the buffer is touched. */
#include <string.h>

#include "common.h"

static int grad(const xc_problem *p, void *out, void *ctx)
{
    memset(out, 0, ((p->batch - 1) * p->ld + p->classes) * sizeof(double));
    return bk_grad(p, out, ctx);
}

static const xc_target table[] = {
    BK_TARGET("padding_untouched", "stride bug: clears the whole ld-strided "
              "matrix, padding included", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
