/* A complete xentcheck plugin: one target, an f64 softmax cross-entropy
 * with class-index labels and sum reduction, its gradient and its loss.
 * Both shift the logits by the row maximum, so exp never overflows. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <xentcheck/target.h>

/* Row maximum and sum_k exp(z_k - max): log-sum-exp is max + log(sum). */
static double row_max(const double *z, size_t h)
{
    double m = -INFINITY;
    for (size_t k = 0; k < h; k++)
        m = z[k] > m ? z[k] : m;
    return m;
}

static double row_sum_exp(const double *z, size_t h, double m)
{
    double s = 0;
    for (size_t k = 0; k < h; k++)
        s += exp(z[k] - m);
    return s;
}

/* Gradient of the summed loss: softmax(z) - onehot(label), row by row. */
static int grad(const xc_problem *p, void *out, void *ctx)
{
    (void)ctx;
    for (size_t r = 0; r < p->batch; r++) {
        const double *z = (const double *)p->logits + r * p->ld;
        double *g = (double *)out + r * p->ld;
        double m = row_max(z, p->classes);
        double s = row_sum_exp(z, p->classes, m);
        for (size_t k = 0; k < p->classes; k++)
            g[k] = exp(z[k] - m) / s - (k == (size_t)p->labels[r] ? 1.0 : 0.0);
    }
    return 0;
}

/* Summed loss: logsumexp(z) - z[label], row by row. */
static int loss(const xc_problem *p, double *out, void *ctx)
{
    (void)ctx;
    double total = 0;
    for (size_t r = 0; r < p->batch; r++) {
        const double *z = (const double *)p->logits + r * p->ld;
        double m = row_max(z, p->classes);
        total += m + log(row_sum_exp(z, p->classes, m)) - z[p->labels[r]];
    }
    *out = total;
    return 0;
}

static const xc_target targets[] = {
    {
        .abi_version = XC_ABI_VERSION,
        .name = "my_xent.f64",
        .summary = "f64 max-shifted softmax cross-entropy, plain C, libm exp/log",
        .dtype = XC_F64,
        .caps = XC_CAP_INDEX_LABELS | XC_CAP_LOSS,
        .max_classes = 0,
        .grad = grad,
        .loss = loss,
        .ctx = NULL,
    },
};

const xc_target *xentcheck_targets(size_t *count)
{
    *count = sizeof targets / sizeof targets[0];
    return targets;
}
