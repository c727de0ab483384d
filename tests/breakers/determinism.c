/* breaker.determinism: a static call counter leaks into the result: every
 * other call flips the last bit of the first gradient element (its sign
 * bit when it is zero, so that a zero stays a zero for the other
 * properties). */
#include <string.h>

#include "common.h"

static unsigned long calls;

static int grad(const xc_problem *p, void *out, void *ctx)
{
    int rc = bk_grad(p, out, ctx);
    if (calls++ % 2 == 1) {
        uint64_t bits;
        memcpy(&bits, out, sizeof bits);
        bits ^= *(double *)out == 0 ? (uint64_t)1 << 63 : 1u;
        memcpy(out, &bits, sizeof bits);
    }
    return rc;
}

static const xc_target table[] = {
    BK_TARGET("determinism", "hidden state: every other call flips the last "
              "bit of grad[0]", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
