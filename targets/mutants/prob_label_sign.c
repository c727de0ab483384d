/* mutant.prob_label_sign: the probability-row gradient adds the target term
 * instead of subtracting it (S O_k + y_k, a sign slip in the soft-label
 * branch); index labels are right. */
#include "mutant.h"
#include "mutants.h"

static double flipped_target(const xc_problem *p, size_t r, size_t k)
{
    double t = mt_target(p, r, k);
    return p->labels == NULL ? -t : t;
}

int xc__mut_prob_label_sign_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops ops = {.target = flipped_target};
    return mt_grad_ops(p, grad, &ops);
}
