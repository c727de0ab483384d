/* mutant.stride_uses_classes: reads row r of the logits at r * H instead of
 * r * ld: correct for dense rows, wrong for every row after the first when
 * rows are padded (a strided view of a larger tensor). */
#include "mutant.h"
#include "mutants.h"

static int softmax_dense_rows(const xc_problem *p, size_t r, double *out)
{
    const double *z = (const double *)p->logits + r * p->classes;
    return mt_softmax_of(z, p->classes, mt_max(z, p->classes), out);
}

int xc__mut_stride_uses_classes_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    mt_ops ops = {.softmax = softmax_dense_rows};
    return mt_grad_ops(p, grad, &ops);
}
