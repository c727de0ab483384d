/* breaker.batch_consistency: the softmax normaliser is declared outside the
 * row loop and never reset, so row r is divided by the sums of rows 0..r:
 * a row alone is right, the same row inside a batch is not. */
#include "common.h"

static int grad(const xc_problem *p, void *out, void *ctx)
{
    (void)ctx;
    double d = bk_denominator(p);
    double s = 0;
    for (size_t r = 0; r < p->batch; r++) {
        const double *z = bk_row(p->logits, p, r);
        double *g = (double *)out + r * p->ld;
        double m = bk_max(z, p->classes);
        if (d == 0 || bk_ignored(p, r) || m == -INFINITY) {
            bk_zero(g, p->classes);
            continue;
        }
        s += bk_exp_shifted(z, p->classes, m, g);
        bk_scale(g, p->classes, s);
        bk_finish_row(p, r, d, g);
    }
    return 0;
}

static const xc_target table[] = {
    BK_TARGET("batch_consistency", "state bug: softmax normaliser carried "
              "over from one row to the next", BK_CAPS, grad, bk_loss),
};
BK_EXPORT(table)
