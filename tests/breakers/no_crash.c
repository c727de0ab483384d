/* breaker.no_crash: dies of SIGSEGV for problems of more than 1000 elements
 * or a single class. */
#include <signal.h>

#include "common.h"

static int grad(const xc_problem *p, void *out, void *ctx)
{
    if (p->batch * p->classes > 1000 || p->classes == 1) {
        /* The default action, not a wild pointer: sanitizer runtimes turn
         * a real fault into exit(1), and the harness must see a crash. */
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    return bk_grad(p, out, ctx);
}

static const xc_target table[] = {
    BK_TARGET("no_crash", "crash: SIGSEGV for more than 1000 elements or "
              "one class", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
