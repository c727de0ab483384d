/* mutant.tiny_prob_zero: skips classes whose probability is below 1e-10 (a
 * sparse-gradient shortcut) and leaves 0 there, although the gradient of
 * such a class is -t_k when it carries target mass: a confidently wrong
 * prediction of the label gets no gradient at the label. */
#include "mutant.h"
#include "mutants.h"

#define NEGLIGIBLE 1e-10

static void sparse_row(const xc_problem *p, size_t r, double d, double *g)
{
    double c = mt_coef(p, r, d), s = mt_mass(p, r);
    for (size_t k = 0; k < p->classes; k++)
        g[k] = g[k] < NEGLIGIBLE ? 0 : c * (s * g[k] - mt_target(p, r, k));
}

int xc__mut_tiny_prob_zero_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    double d = mt_denominator(p);
    for (size_t r = 0; r < p->batch; r++) {
        double *g = (double *)grad + r * p->ld;
        if (d == 0 || mt_ignored(p, r) || mt_softmax(p, r, g) != 0)
            mt_zero(g, p->classes);
        else
            sparse_row(p, r, d, g);
    }
    return 0;
}
