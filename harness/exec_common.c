/* The public executor calls, dispatched to a flavour, and the conversions
 * between a case and the dtype buffers a target sees. */
#include "exec_common.h"

#include <string.h>

xc__exec *xc__exec_new(const xc_target *target, const xc__exec_config *cfg)
{
    if (!target || !target->grad ||
        (target->dtype != XC_F32 && target->dtype != XC_F64))
        return NULL;
    double timeout = cfg && cfg->timeout_s > 0 ? cfg->timeout_s
                                               : XC__EXEC_DEFAULT_TIMEOUT;
    if (cfg && cfg->inline_mode)
        return xc__exec_inline_new(target, timeout);
    return xc__exec_isolated_new(target, timeout);
}

void xc__exec_free(xc__exec *ex)
{
    if (!ex)
        return;
    xc__pool_free(ex->pool);
    ex->ops->destroy(ex);
}

xc__pool *xc__exec_pool(xc__exec *ex)
{
    if (!ex->pool)
        ex->pool = xc__pool_new();
    return ex->pool;
}

xc__call_status xc__exec_grad(xc__exec *ex, const xc__case *c, uint32_t poison,
                              double *grad_out, xc__call_result *res)
{
    xc__call_result scratch;
    if (!res)
        res = &scratch;
    memset(res, 0, sizeof *res);
    return ex->ops->grad(ex, c, poison, grad_out, res);
}

xc__call_status xc__exec_loss(xc__exec *ex, const xc__case *c, double *loss_out,
                              xc__call_result *res)
{
    xc__call_result scratch;
    if (!res)
        res = &scratch;
    memset(res, 0, sizeof *res);
    if (!ex->target->loss)
        return xc__exec_result(res, XC__CALL_HARNESS_ERROR, 0,
                               "target %s provides no loss()",
                               ex->target->name ? ex->target->name : "?");
    return ex->ops->loss(ex, c, loss_out, res);
}

size_t xc__exec_restarts(const xc__exec *ex)
{
    return ex->restarts;
}

size_t xc__exec_extent(const xc__case *c)
{
    return (c->batch - 1) * c->ld + c->classes;
}

size_t xc__exec_logits_bytes(const xc__case *c, xc_dtype t)
{
    return xc__exec_extent(c) * xc__dtype_size(t);
}

size_t xc__exec_labels_bytes(const xc__case *c)
{
    return c->labels ? c->batch * sizeof(int64_t) : 0;
}

size_t xc__exec_probs_bytes(const xc__case *c, xc_dtype t)
{
    return c->probs ? xc__exec_logits_bytes(c, t) : 0;
}

size_t xc__exec_weights_bytes(const xc__case *c, xc_dtype t)
{
    return c->weights ? c->classes * xc__dtype_size(t) : 0;
}

static void store_values(void *dst, const double *src, size_t n, xc_dtype t)
{
    if (t == XC_F64) {
        memcpy(dst, src, n * sizeof(double));
        return;
    }
    float *d = dst;
    for (size_t i = 0; i < n; i++)
        d[i] = (float)src[i];
}

void xc__exec_fill_inputs(const xc__case *c, xc_dtype t,
                          const xc__exec_inputs *in)
{
    size_t n = xc__exec_extent(c);
    store_values(in->logits, c->logits, n, t);
    if (c->labels)
        memcpy(in->labels, c->labels, c->batch * sizeof(int64_t));
    if (c->probs)
        store_values(in->probs, c->probs, n, t);
    if (c->weights)
        store_values(in->weights, c->weights, c->classes, t);
}

/* The first of N elements of DST that is not SRC's stored as T (bit for
 * bit), or N. Whole-array tests first: a check's calls leave their inputs
 * alone, and the search for the element runs only when one did not. */
static size_t values_first_change(const void *dst, const double *src, size_t n,
                                  xc_dtype t)
{
    size_t i = 0;
    if (t == XC_F64) {
        if (memcmp(dst, src, n * sizeof(double)) == 0)
            return n;
        while (memcmp((const double *)dst + i, src + i, sizeof(double)) == 0)
            i++;
        return i;
    }
    const float *d = dst;
    uint32_t any = 0;
    for (size_t k = 0; k < n; k++) {
        float f = (float)src[k];
        uint32_t a, b;
        memcpy(&a, &d[k], sizeof a);
        memcpy(&b, &f, sizeof b);
        any |= a ^ b;
    }
    while (any && i < n) {
        float f = (float)src[i];
        if (memcmp(&d[i], &f, sizeof f) != 0)
            break;
        i++;
    }
    return any ? i : n;
}

static size_t labels_first_change(const int64_t *dst, const int64_t *src, size_t n)
{
    size_t i = 0;
    while (i < n && dst[i] == src[i])
        i++;
    return i;
}

int xc__exec_inputs_intact(const xc__case *c, xc_dtype t, const xc__exec_inputs *in,
                           int *which, size_t *element)
{
    size_t n = xc__exec_extent(c), at[4] = {n, c->batch, n, c->classes};
    size_t first[4] = {
        values_first_change(in->logits, c->logits, n, t),
        c->labels ? labels_first_change(in->labels, c->labels, c->batch) : c->batch,
        c->probs ? values_first_change(in->probs, c->probs, n, t) : n,
        c->weights ? values_first_change(in->weights, c->weights, c->classes, t)
                   : c->classes};
    for (int i = 0; i < 4; i++)
        if (first[i] < at[i]) {
            *which = i;
            *element = first[i];
            return 0;
        }
    return 1;
}

void xc__exec_build_problem(const xc__case *c, xc_dtype t,
                            const xc__exec_inputs *in, xc_problem *p)
{
    memset(p, 0, sizeof *p);
    p->dtype = t;
    p->batch = c->batch;
    p->classes = c->classes;
    p->ld = c->ld;
    p->logits = in->logits;
    p->labels = c->labels ? in->labels : NULL;
    p->probs = c->probs ? in->probs : NULL;
    p->reduction = c->reduction;
    p->weights = c->weights ? in->weights : NULL;
    /* PyTorch's default: a value no valid label takes. */
    p->ignore_index = c->has_ignore_index ? c->ignore_index : -100;
}

void xc__exec_poison_fill(void *buf, size_t bytes, uint32_t poison)
{
    unsigned char *b = buf;
    size_t words = bytes / 4, done = words ? 1 : 0;
    if (words)
        memcpy(b, &poison, 4);
    /* Doubling copies: memcpy's speed for megabytes of poison. */
    while (done < words) {
        size_t n = done < words - done ? done : words - done;
        memcpy(b + done * 4, b, n * 4);
        done += n;
    }
}

size_t xc__exec_poison_first_bad(const void *buf, size_t bytes,
                                 uint32_t poison)
{
    const unsigned char *b = buf;
    size_t i = 0;
    for (; i + 4 <= bytes; i += 4) {
        uint32_t word;
        memcpy(&word, b + i, sizeof word); /* a load: no call per word */
        if (word != poison)
            break;
    }
    return i / 4;
}

int xc__exec_check_padding(const xc__case *c, xc_dtype t, const void *grad,
                           uint32_t poison, xc__call_result *res)
{
    size_t es = xc__dtype_size(t), pad = c->ld - c->classes;
    const unsigned char *g = grad;
    /* The last row ends the buffer: it has no padding to check. */
    for (size_t r = 0; pad && r + 1 < c->batch; r++) {
        const unsigned char *row = g + (r * c->ld + c->classes) * es;
        size_t bad = xc__exec_poison_first_bad(row, pad * es, poison);
        if (bad < pad * es / 4) {
            xc__exec_result(res, XC__CALL_WROTE_PADDING, 0,
                            "wrote the padding of grad row %zu at class %zu "
                            "(classes %zu, ld %zu)",
                            r, c->classes + bad * 4 / es, c->classes, c->ld);
            return 1;
        }
    }
    return 0;
}

void xc__exec_grad_to_double(const xc__case *c, xc_dtype t, const void *grad,
                             double *out)
{
    size_t h = c->classes, pad = c->ld - c->classes;
    for (size_t r = 0; r < c->batch; r++) {
        double *o = out + r * c->ld;
        if (t == XC_F64) {
            memcpy(o, (const double *)grad + r * c->ld, h * sizeof *o);
        } else {
            const float *g = (const float *)grad + r * c->ld;
            for (size_t k = 0; k < h; k++)
                o[k] = g[k];
        }
        memset(o + h, 0, pad * sizeof *o);
    }
}
