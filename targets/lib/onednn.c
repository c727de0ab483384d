/* oneDNN 2.6 target: the log-softmax primitive (softmax v2,
 * dnnl_softmax_log) forward, then its backward with diff_dst = -t, where
 * t_k = c_r v_k y_k is row r's weighted, reduction-scaled target; the
 * backward computes diff_dst - exp(dst) sum(diff_dst) = O (sum_j t_j) - t,
 * the gradient of every variant in include/xentcheck/target.h. This file
 * builds t (labels, class weights, ignore_index, the mean's denominator)
 * and the loss -sum_k t_k dst_k from the forward output; oneDNN does the
 * softmax, exp and log. Rows without a softmax (every logit -inf) and
 * ignored rows get the documented zero gradient. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "libs.h"
#include "onednn_prim.h"

static xc__dnnl_shape shape_of(const xc_problem *p)
{
    return (xc__dnnl_shape){ p->batch, p->classes, p->ld };
}

static int problem_ok(const xc_problem *p)
{
    if (p->dtype != XC_F32 || (p->labels == NULL) == (p->probs == NULL))
        return 0;
    for (size_t r = 0; p->labels && r < p->batch; r++) {
        int64_t l = p->labels[r];
        if (l != p->ignore_index && (l < 0 || (uint64_t)l >= p->classes))
            return 0;
    }
    return 1;
}

static float class_weight(const xc_problem *p, size_t k)
{
    return p->weights ? ((const float *)p->weights)[k] : 1.0f;
}

/* Index labels: w[label], 0 when ignored. Probability rows: 1. */
static float row_weight(const xc_problem *p, size_t r)
{
    if (p->labels == NULL)
        return 1.0f;
    if (p->labels[r] == p->ignore_index)
        return 0.0f;
    return class_weight(p, (size_t)p->labels[r]);
}

static float denominator(const xc_problem *p)
{
    float d = 0;
    if (p->reduction != XC_REDUCE_MEAN)
        return 1.0f;
    if (p->labels == NULL)
        return (float)p->batch;
    for (size_t r = 0; r < p->batch; r++)
        d += row_weight(p, r);
    return d;
}

/* T = row R's weighted target t_k = c_r v_k y_k, D the denominator. */
static void target_row(const xc_problem *p, size_t r, float d, float *t)
{
    float c = d == 0 ? 0.0f : row_weight(p, r) / d;
    for (size_t k = 0; k < p->classes; k++)
        t[k] = 0.0f;
    if (p->labels != NULL && p->labels[r] != p->ignore_index)
        t[p->labels[r]] = c;
    for (size_t k = 0; p->probs != NULL && k < p->classes; k++)
        t[k] = class_weight(p, k) * ((const float *)p->probs)[r * p->ld + k] / d;
}

static int row_has_softmax(const xc_problem *p, size_t r)
{
    const float *z = (const float *)p->logits + r * p->ld;
    for (size_t k = 0; k < p->classes; k++)
        if (z[k] != -INFINITY)
            return 1;
    return 0;
}

static void zero_dead_rows(const xc_problem *p, float d, float *g)
{
    for (size_t r = 0; r < p->batch; r++)
        if (d == 0 || row_weight(p, r) == 0 || !row_has_softmax(p, r))
            for (size_t k = 0; k < p->classes; k++)
                g[r * p->ld + k] = 0.0f;
}

static int onednn_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    xc__dnnl_shape s = shape_of(p);
    float d = denominator(p);
    float *dst = calloc(p->batch * p->ld, sizeof *dst);
    float *diff_dst = calloc(p->batch * p->ld, sizeof *diff_dst);
    int rc = problem_ok(p) && dst && diff_dst ? 0 : -1;
    if (rc == 0)
        rc = xc__dnnl_logsoftmax_fwd(&s, p->logits, dst);
    for (size_t r = 0; rc == 0 && r < p->batch; r++) {
        float *t = diff_dst + r * p->ld;
        target_row(p, r, d, t);
        for (size_t k = 0; k < p->classes; k++)
            t[k] = -t[k];
    }
    if (rc == 0)
        rc = xc__dnnl_logsoftmax_bwd(&s, dst, diff_dst, grad);
    if (rc == 0)
        zero_dead_rows(p, d, grad);
    free(diff_dst);
    free(dst);
    return rc;
}

/* -sum_k v_k y_k log O_k of row R (weighted by w[label] for index labels),
 * terms with v_k y_k == 0 skipped: 0 * -inf never enters. */
static float row_loss(const xc_problem *p, size_t r, const float *logo, float *t)
{
    float acc = 0;
    target_row(p, r, 1.0f, t);
    for (size_t k = 0; k < p->classes; k++)
        if (t[k] != 0)
            acc -= t[k] * logo[k];
    return acc;
}

static int onednn_loss(const xc_problem *p, double *loss, void *ctx)
{
    (void)ctx;
    xc__dnnl_shape s = shape_of(p);
    float *dst = calloc(p->batch * p->ld, sizeof *dst);
    float *t = calloc(p->classes, sizeof *t);
    float total = 0, d = denominator(p);
    int rc = problem_ok(p) && dst && t ? 0 : -1;
    if (rc == 0)
        rc = xc__dnnl_logsoftmax_fwd(&s, p->logits, dst);
    for (size_t r = 0; rc == 0 && r < p->batch; r++)
        total += row_loss(p, r, dst + r * p->ld, t);
    if (p->reduction == XC_REDUCE_MEAN)
        total = d == 0 ? NAN : total / d;
    *loss = total;
    free(t);
    free(dst);
    return rc;
}

static char summary[160];

static xc_target targets[] = {
    {
        .abi_version = XC_ABI_VERSION,
        .name = "onednn.f32.logsoftmax",
        .summary = summary,
        .dtype = XC_F32,
        .caps = XC_CAPS_ALL_V1,
        .grad = onednn_grad,
        .loss = onednn_loss,
    },
};

const xc_target *xc__onednn_targets(size_t *count)
{
    snprintf(summary, sizeof summary, "oneDNN %s softmax v2 dnnl_softmax_log "
             "forward + backward with diff_dst = -y (O sum y - y), f32 CPU JIT; "
             "loss from the log-softmax output", xc__dnnl_version());
    *count = sizeof targets / sizeof targets[0];
    return targets;
}
