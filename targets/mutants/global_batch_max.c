/* mutant.global_batch_max: shifts every row by the largest logit of the
 * whole batch (one reduction instead of one per row). A row whose logits
 * lie far below another row's underflows entirely: its sum is 0 and its
 * softmax 0 / 0. */
#include "mutant.h"
#include "mutants.h"

static double batch_max(const xc_problem *p)
{
    double m = -INFINITY;
    for (size_t r = 0; r < p->batch; r++) {
        double row = mt_max(mt_row(p->logits, p, r), p->classes);
        if (row > m)
            m = row;
    }
    return m;
}

/* Softmax of row R shifted by the batch max BM; -1 for an all -inf row. */
static int softmax_batch_shift(const xc_problem *p, size_t r, double bm, double *out)
{
    const double *z = mt_row(p->logits, p, r);
    if (mt_max(z, p->classes) == -INFINITY)
        return -1;
    return mt_softmax_of(z, p->classes, bm, out);
}

int xc__mut_global_batch_max_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops o = mt_resolve(NULL);
    double d = mt_denominator(p), bm = batch_max(p);
    for (size_t r = 0; r < p->batch; r++) {
        double *g = (double *)grad + r * p->ld;
        if (d == 0 || mt_ignored(p, r) || softmax_batch_shift(p, r, bm, g) != 0)
            mt_zero(g, p->classes);
        else
            mt_finish_row(p, &o, r, d, g);
    }
    return 0;
}
