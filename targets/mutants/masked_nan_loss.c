/* mutant.masked_nan_loss: the loss as -sum_k y_k log O_k over every class,
 * without skipping y_k = 0. A masked class (z_k = -inf) has log O_k = -inf,
 * and 0 * -inf = NaN poisons the loss of any row with a mask (attention and
 * vocabulary masks in soft-label losses). The gradient is correct. */
#include "mutant.h"
#include "mutants.h"

static double row_loss_all_terms(const xc_problem *p, size_t r)
{
    double w = p->labels != NULL ? mt_row_weight(p, r) : 1;
    if (w == 0)
        return 0;
    const double *z = mt_row(p->logits, p, r);
    double m = mt_max(z, p->classes), s = 0, acc = 0;
    for (size_t k = 0; k < p->classes; k++)
        s += exp(z[k] - m);
    double lse = m + log(s);
    for (size_t k = 0; k < p->classes; k++)
        acc -= mt_target(p, r, k) * (z[k] - lse);
    return w * acc;
}

int xc__mut_masked_nan_loss_loss(const xc_problem *p, double *loss, void *ctx)
{
    (void)ctx;
    double total = 0;
    for (size_t r = 0; r < p->batch; r++)
        total += row_loss_all_terms(p, r);
    if (p->reduction == XC_REDUCE_MEAN)
        total /= mt_denominator(p);
    *loss = total;
    return 0;
}
