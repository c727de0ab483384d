/* A minimal complete xentcheck plugin (README's plugin quick start): an f64
 * max-shifted softmax cross-entropy gradient for index labels, batched, sum
 * or mean. Build: cc -O2 -fPIC -shared good.c -o good.so -lm */
#include <math.h>
#include <stddef.h>

#include "xentcheck/target.h"

static int grad(const xc_problem *p, void *out, void *ctx)
{
    (void)ctx;
    double scale = p->reduction == XC_REDUCE_MEAN ? 1.0 / (double)p->batch : 1.0;
    for (size_t r = 0; r < p->batch; r++) {
        const double *z = (const double *)p->logits + r * p->ld;
        double *g = (double *)out + r * p->ld;
        size_t label = (size_t)p->labels[r];
        double m = -INFINITY, s = 0;
        for (size_t k = 0; k < p->classes; k++)
            m = z[k] > m ? z[k] : m;
        for (size_t k = 0; k < p->classes; k++) {
            g[k] = exp(z[k] - m);  /* written before it is read */
            s += g[k];
        }
        for (size_t k = 0; k < p->classes; k++)
            g[k] = scale * (g[k] / s - (k == label ? 1.0 : 0.0));
    }
    return 0;
}

static const xc_target targets[] = {
    {
        .abi_version = XC_ABI_VERSION,
        .name = "example.f64.shifted",
        .summary = "f64 max-shifted softmax, plain C, libm exp",
        .dtype = XC_F64,
        .caps = XC_CAP_INDEX_LABELS | XC_CAP_BATCH | XC_CAP_MEAN,
        .max_classes = 0,
        .grad = grad,
        .loss = NULL,
        .ctx = NULL,
    },
};

const xc_target *xentcheck_targets(size_t *count)
{
    *count = sizeof targets / sizeof targets[0];
    return targets;
}
