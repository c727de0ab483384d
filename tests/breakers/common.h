/* A correct f64 softmax cross-entropy target, the base of every breaker.
 *
 * Each tests/breakers/<property>.c is a plugin exporting one target
 * "breaker.<property>": this implementation plus exactly one deliberate
 * violation aimed at that property, so that a property test can show its
 * property catches the bug. Header-only (static inline) so that every
 * breaker is one self-contained shared object.
 *
 * Semantics as include/xentcheck/target.h states them: per row r the
 * gradient is c_r (Y_r O_k - v_k y_k), with v_k = w_k (1 without weights),
 * Y_r = sum_j v_j y_j, c_r = row weight / D for index labels and 1 / D for
 * probability rows; D = 1 for sum, for mean N (probability rows) or the sum
 * of the non-ignored row weights (index labels). A row with no softmax
 * (every logit -inf) gets zeros; an ignored row gets zeros.
 */
#ifndef XC_TESTS_BREAKERS_COMMON_H
#define XC_TESTS_BREAKERS_COMMON_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "xentcheck/target.h"

/* The caps every breaker declares unless its violation needs fewer. */
#define BK_CAPS XC_CAPS_ALL_V1

/* Per-row softmax of row R of P into OUT: 0, or -1 when the row has none. */
typedef int (*bk_softmax_fn)(const xc_problem *p, size_t r, double *out);

static inline const double *bk_row(const void *base, const xc_problem *p, size_t r)
{
    return (const double *)base + r * p->ld;
}

static inline int bk_ignored(const xc_problem *p, size_t r)
{
    return p->labels != NULL && p->labels[r] == p->ignore_index;
}

static inline double bk_row_weight(const xc_problem *p, size_t r)
{
    if (bk_ignored(p, r))
        return 0;
    return p->weights ? ((const double *)p->weights)[p->labels[r]] : 1;
}

static inline double bk_class_weight(const xc_problem *p, size_t k)
{
    return p->weights ? ((const double *)p->weights)[k] : 1;
}

static inline double bk_denominator(const xc_problem *p)
{
    if (p->reduction != XC_REDUCE_MEAN)
        return 1;
    if (p->labels == NULL)
        return (double)p->batch;
    double d = 0;
    for (size_t r = 0; r < p->batch; r++)
        d += bk_row_weight(p, r);
    return d;
}

/* Multiplier c_r of row R (see above); 0 for ignored rows. */
static inline double bk_row_coef(const xc_problem *p, size_t r, double d)
{
    double w = p->labels != NULL ? bk_row_weight(p, r) : 1;
    return w == 0 ? 0 : w / d;
}

/* Target mass v_k y_k of class K in row R (one-hot for index labels). */
static inline double bk_target(const xc_problem *p, size_t r, size_t k)
{
    if (p->labels != NULL)
        return (size_t)p->labels[r] == k ? 1 : 0;
    return bk_class_weight(p, k) * bk_row(p->probs, p, r)[k];
}

static inline double bk_max(const double *z, size_t n)
{
    double m = -INFINITY;
    for (size_t k = 0; k < n; k++)
        if (z[k] > m)
            m = z[k];
    return m;
}

/* OUT_k = exp(z_k - M); returns their sum. */
static inline double bk_exp_shifted(const double *z, size_t n, double m, double *out)
{
    double s = 0;
    for (size_t k = 0; k < n; k++) {
        out[k] = exp(z[k] - m);
        s += out[k];
    }
    return s;
}

static inline void bk_scale(double *out, size_t n, double s)
{
    for (size_t k = 0; k < n; k++)
        out[k] /= s;
}

/* ln sum_k exp(z_k - M). */
static inline double bk_log_sum(const double *z, size_t n, double m)
{
    double s = 0;
    for (size_t k = 0; k < n; k++)
        s += exp(z[k] - m);
    return log(s);
}

/* The correct kernel: shifted by the row max. */
static inline int bk_softmax_max(const xc_problem *p, size_t r, double *out)
{
    const double *z = bk_row(p->logits, p, r);
    double m = bk_max(z, p->classes);
    if (m == -INFINITY)
        return -1;
    bk_scale(out, p->classes, bk_exp_shifted(z, p->classes, m, out));
    return 0;
}

static inline void bk_zero(double *g, size_t n)
{
    for (size_t k = 0; k < n; k++)
        g[k] = 0;
}

/* G holds O on entry; leaves the gradient row. */
static inline void bk_finish_row(const xc_problem *p, size_t r, double d, double *g)
{
    double c = bk_row_coef(p, r, d);
    double mass = 0;
    for (size_t k = 0; k < p->classes; k++)
        mass += bk_target(p, r, k);
    for (size_t k = 0; k < p->classes; k++)
        g[k] = c * (mass * g[k] - bk_target(p, r, k));
}

static inline int bk_grad_with(const xc_problem *p, void *grad, bk_softmax_fn softmax)
{
    double d = bk_denominator(p);
    for (size_t r = 0; r < p->batch; r++) {
        double *g = (double *)grad + r * p->ld;
        if (d == 0 || bk_ignored(p, r) || softmax(p, r, g) != 0)
            bk_zero(g, p->classes);
        else
            bk_finish_row(p, r, d, g);
    }
    return 0;
}

static inline int bk_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    return bk_grad_with(p, grad, bk_softmax_max);
}

/* Loss of row R with every logit multiplied by SCALE (1 = the true loss). */
static inline double bk_row_loss(const xc_problem *p, size_t r, double scale)
{
    double w = p->labels != NULL ? bk_row_weight(p, r) : 1;
    if (w == 0)
        return 0;
    const double *z = bk_row(p->logits, p, r);
    double m = scale * bk_max(z, p->classes);
    double s = 0, acc = 0;
    for (size_t k = 0; k < p->classes; k++)
        s += exp(scale * z[k] - m);
    for (size_t k = 0; k < p->classes; k++) {
        double t = bk_target(p, r, k);
        if (t != 0)  /* never 0 * -inf at a masked class */
            acc += t * ((m - scale * z[k]) + log(s));
    }
    return w * acc;
}

static inline int bk_loss_with(const xc_problem *p, double *loss, double scale,
                               int divide_mean)
{
    double total = 0;
    for (size_t r = 0; r < p->batch; r++)
        total += bk_row_loss(p, r, scale);
    if (divide_mean && p->reduction == XC_REDUCE_MEAN) {
        double d = bk_denominator(p);
        total = d == 0 ? NAN : total / d;
    }
    *loss = total;
    return 0;
}

static inline int bk_loss(const xc_problem *p, double *loss, void *ctx)
{
    (void)ctx;
    return bk_loss_with(p, loss, 1.0, 1);
}

/* The descriptor of breaker NAME with GRAD, LOSS and CAPS. */
#define BK_TARGET(NAME, SUMMARY, CAPS, GRAD, LOSS) \
    {                                              \
        .abi_version = XC_ABI_VERSION,             \
        .name = "breaker." NAME,                   \
        .summary = SUMMARY,                        \
        .dtype = XC_F64,                           \
        .caps = (CAPS),                            \
        .max_classes = 0,                          \
        .grad = (GRAD),                            \
        .loss = (LOSS),                            \
        .ctx = NULL,                               \
    }

/* Every breaker exports its one-entry table through this. */
#define BK_EXPORT(TABLE)                                   \
    const xc_target *xentcheck_targets(size_t *count)      \
    {                                                      \
        *count = sizeof(TABLE) / sizeof((TABLE)[0]);       \
        return (TABLE);                                    \
    }

#endif
