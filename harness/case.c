/* Case allocation, copying and dtype facts. */
#include "case.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

static int mul_overflows(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 1;
    *out = a * b;
    return 0;
}

/* Bytes up to and past an array of COUNT elements of SIZE bytes that
 * starts at *AT, which moves to the next 16-byte boundary after it; -1 on
 * overflow. */
static int place_array(size_t *at, size_t count, size_t size)
{
    size_t bytes;
    if (mul_overflows(count, size, &bytes) || bytes > SIZE_MAX - *at - 15)
        return -1;
    *at = (*at + bytes + 15) / 16 * 16;
    return 0;
}

/* The case and its arrays in one zeroed block: one allocation per case
 * instead of four (the fuzzer decodes a case per input and builds
 * variants of it). Offsets of the arrays in OFF: logits, labels or probs,
 * weights. */
static xc__case *case_block(size_t values, size_t batch, size_t classes,
                            xc__label_kind kind, int with_weights, size_t off[3])
{
    size_t at = (sizeof(xc__case) + 15) / 16 * 16;
    off[0] = at;
    if (place_array(&at, values, sizeof(double)))
        return NULL;
    off[1] = at;
    if (kind == XC__LABELS_INDEX ? place_array(&at, batch, sizeof(int64_t))
                                 : place_array(&at, values, sizeof(double)))
        return NULL;
    off[2] = at;
    if (with_weights && place_array(&at, classes, sizeof(double)))
        return NULL;
    return calloc(1, at);
}

xc__case *xc__case_new(xc_dtype dtype, size_t batch, size_t classes, size_t ld,
                       xc__label_kind kind, int with_weights)
{
    size_t values, off[3];
    if (batch == 0 || classes == 0 || ld < classes)
        return NULL;
    if (mul_overflows(batch, ld, &values) || values > SIZE_MAX / sizeof(double))
        return NULL;
    xc__case *c = case_block(values, batch, classes, kind, with_weights, off);
    if (!c)
        return NULL;
    unsigned char *block = (unsigned char *)c;
    c->dtype = dtype;
    c->batch = batch;
    c->classes = classes;
    c->ld = ld;
    c->label_kind = kind;
    c->in_block = 1;
    c->logits = (double *)(void *)(block + off[0]);
    if (kind == XC__LABELS_INDEX)
        c->labels = (int64_t *)(void *)(block + off[1]);
    else
        c->probs = (double *)(void *)(block + off[1]);
    if (with_weights)
        c->weights = (double *)(void *)(block + off[2]);
    return c;
}

xc__case *xc__case_clone(const xc__case *c)
{
    return xc__case_clone_in(c, NULL);
}

/* The arrays of a clone of C from POOL; 0 or -1 (out of memory). */
static int pooled_arrays(xc__case *d, const xc__case *c, xc__pool *pool)
{
    size_t values = c->batch * c->ld * sizeof(double);
    d->pool = pool;
    d->logits = xc__pool_get(pool, values);
    if (c->labels)
        d->labels = xc__pool_get(pool, c->batch * sizeof(int64_t));
    if (c->probs)
        d->probs = xc__pool_get(pool, values);
    if (c->weights)
        d->weights = xc__pool_get(pool, c->classes * sizeof(double));
    return !d->logits || (c->labels && !d->labels) ||
           (c->probs && !d->probs) || (c->weights && !d->weights) ? -1 : 0;
}

xc__case *xc__case_clone_in(const xc__case *c, xc__pool *pool)
{
    xc__case *d;
    if (pool) {
        d = calloc(1, sizeof *d);
        if (d) {
            *d = (xc__case){.dtype = c->dtype, .batch = c->batch,
                            .classes = c->classes, .ld = c->ld,
                            .label_kind = c->label_kind};
            if (pooled_arrays(d, c, pool) != 0) {
                xc__case_free(d);
                d = NULL;
            }
        }
    } else {
        d = xc__case_new(c->dtype, c->batch, c->classes, c->ld, c->label_kind,
                         c->weights != NULL);
    }
    if (!d)
        return NULL;
    size_t values = c->batch * c->ld;
    memcpy(d->logits, c->logits, values * sizeof(double));
    if (c->labels)
        memcpy(d->labels, c->labels, c->batch * sizeof(int64_t));
    if (c->probs)
        memcpy(d->probs, c->probs, values * sizeof(double));
    if (c->weights)
        memcpy(d->weights, c->weights, c->classes * sizeof(double));
    xc__case_copy_settings(d, c);
    return d;
}

void xc__case_copy_settings(xc__case *dst, const xc__case *src)
{
    dst->reduction = src->reduction;
    dst->has_ignore_index = src->has_ignore_index;
    dst->ignore_index = src->ignore_index;
    dst->seed = src->seed;
    dst->index = src->index;
}

void xc__case_drop_weights(xc__case *c)
{
    if (!c->in_block)
        xc__pool_put(c->pool, c->weights);
    c->weights = NULL;
}

void xc__case_free(xc__case *c)
{
    if (!c)
        return;
    if (c->in_block) {
        free(c);
        return;
    }
    xc__pool_put(c->pool, c->weights);
    xc__pool_put(c->pool, c->probs);
    xc__pool_put(c->pool, c->labels);
    xc__pool_put(c->pool, c->logits);
    free(c);
}

static void round_array(double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (double)(float)v[i];
}

void xc__case_round_to_dtype(xc__case *c)
{
    if (c->dtype != XC_F32)
        return;
    size_t values = c->batch * c->ld;
    round_array(c->logits, values);
    if (c->probs)
        round_array(c->probs, values);
    if (c->weights)
        round_array(c->weights, c->classes);
}

uint32_t xc__case_required_caps(const xc__case *c)
{
    uint32_t caps = c->label_kind == XC__LABELS_INDEX ? XC_CAP_INDEX_LABELS
                                                      : XC_CAP_PROB_LABELS;
    if (c->batch > 1 || c->ld > c->classes)
        caps |= XC_CAP_BATCH;
    if (c->reduction == XC_REDUCE_MEAN)
        caps |= XC_CAP_MEAN;
    if (c->weights)
        caps |= XC_CAP_WEIGHTS;
    if (c->has_ignore_index)
        caps |= XC_CAP_IGNORE_INDEX;
    if (c->probs) {
        for (size_t r = 0; r < c->batch; r++) {
            long double s = 0;
            const double *row = c->probs + r * c->ld;
            for (size_t k = 0; k < c->classes; k++)
                s += row[k];
            /* A row is normalised when its sum is 1 up to the rounding of
             * its H elements to the dtype (H u relative) and of the sum. */
            long double slack = (long double)(c->classes + 2) *
                                xc__dtype_unit_roundoff(c->dtype);
            if (s < 1 - slack || s > 1 + slack) {
                caps |= XC_CAP_UNNORMALIZED;
                break;
            }
        }
    }
    return caps;
}

int xc__case_row_ignored(const xc__case *c, size_t r)
{
    return c->label_kind == XC__LABELS_INDEX && c->has_ignore_index &&
           c->labels[r] == c->ignore_index;
}

const char *xc__dtype_name(xc_dtype t)
{
    return t == XC_F32 ? "f32" : t == XC_F64 ? "f64" : "unknown";
}

size_t xc__dtype_size(xc_dtype t)
{
    return t == XC_F32 ? sizeof(float) : sizeof(double);
}

double xc__dtype_unit_roundoff(xc_dtype t)
{
    return t == XC_F32 ? FLT_EPSILON / 2 : DBL_EPSILON / 2;
}

double xc__dtype_min_normal(xc_dtype t)
{
    return t == XC_F32 ? FLT_MIN : DBL_MIN;
}
