/* mutant.inplace_logits: subtracts the row max from the logits in place and
 * adds it back afterwards ("restored", though not always bit for bit): the
 * caller's input buffer is written, which breaks shared or read-only
 * inputs. */
#include "mutant.h"
#include "mutants.h"

static void shift_row(double *z, size_t n, double by)
{
    for (size_t k = 0; k < n; k++)
        z[k] -= by;
}

static int softmax_in_place(const xc_problem *p, size_t r, double *out)
{
    double *z = (double *)p->logits + r * p->ld;
    double m = mt_max(z, p->classes);
    if (m == -INFINITY)
        return -1;
    shift_row(z, p->classes, m);
    int rc = mt_softmax_of(z, p->classes, 0, out);
    shift_row(z, p->classes, -m);
    return rc;
}

int xc__mut_inplace_logits_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops ops = {.softmax = softmax_in_place};
    return mt_grad_ops(p, grad, &ops);
}
