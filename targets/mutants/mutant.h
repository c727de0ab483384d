/* Internal to targets/mutants/: a correct f64 softmax cross-entropy, built
 * from small replaceable pieces, that the mutants break one piece at a time.
 *
 * Semantics as include/xentcheck/target.h states them. Per row r the
 * gradient is c_r (S_r O_k - t_k) with t_k = v_k y_k the target mass of
 * class k (one-hot for index labels; v_k = w_k for weighted probability
 * rows, else 1), S_r = sum_k t_k, c_r = w[label] / D for index labels and
 * 1 / D for probability rows. D = 1 for sum; for mean, N with probability
 * rows, else the sum of the non-ignored row weights. An ignored row, and a
 * row with no softmax (every logit -inf), gets zeros.
 *
 * A mutant either passes an mt_ops with one piece replaced to mt_grad_ops(),
 * rewrites the problem it hands to the correct code (a problem without its
 * weights, a sum instead of a mean), or writes its own loop from the pieces.
 * Header-only (static inline): each mutant file stays self-contained, and the
 * correct pieces are the same ones every mutant starts from. The test suite
 * checks that mt_grad_ops() with no piece replaced passes, so that every
 * mutant is caught for its own bug.
 */
#ifndef XC_TARGETS_MUTANTS_MUTANT_H
#define XC_TARGETS_MUTANTS_MUTANT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "xentcheck/target.h"

/* The replaceable pieces; a NULL member means the correct one. */
typedef struct mt_ops {
    /* Softmax of row R into OUT (H values): 0, or non-zero when the row has
     * none (every logit -inf). */
    int (*softmax)(const xc_problem *p, size_t r, double *out);
    /* Mean denominator D (1 for sum). */
    double (*denominator)(const xc_problem *p);
    /* Target mass t_k of class K in row R. */
    double (*target)(const xc_problem *p, size_t r, size_t k);
    /* Mass S_r multiplying the softmax in row R. */
    double (*mass)(const xc_problem *p, size_t r);
} mt_ops;

static inline const double *mt_row(const void *base, const xc_problem *p, size_t r)
{
    return (const double *)base + r * p->ld;
}

static inline int mt_ignored(const xc_problem *p, size_t r)
{
    return p->labels != NULL && p->labels[r] == p->ignore_index;
}

/* Weight of an index-labelled row: 0 when ignored, w[label] or 1. */
static inline double mt_row_weight(const xc_problem *p, size_t r)
{
    if (mt_ignored(p, r))
        return 0;
    return p->weights ? ((const double *)p->weights)[p->labels[r]] : 1;
}

static inline double mt_class_weight(const xc_problem *p, size_t k)
{
    return p->weights ? ((const double *)p->weights)[k] : 1;
}

static inline double mt_denominator(const xc_problem *p)
{
    if (p->reduction != XC_REDUCE_MEAN)
        return 1;
    if (p->labels == NULL)
        return (double)p->batch;
    double d = 0;
    for (size_t r = 0; r < p->batch; r++)
        d += mt_row_weight(p, r);
    return d;
}

/* c_r: row weight / D for index labels, 1 / D for probability rows. */
static inline double mt_coef(const xc_problem *p, size_t r, double d)
{
    return (p->labels != NULL ? mt_row_weight(p, r) : 1) / d;
}

static inline double mt_target(const xc_problem *p, size_t r, size_t k)
{
    if (p->labels != NULL)
        return (size_t)p->labels[r] == k ? 1 : 0;
    return mt_class_weight(p, k) * mt_row(p->probs, p, r)[k];
}

static inline double mt_mass(const xc_problem *p, size_t r)
{
    double s = 0;
    for (size_t k = 0; k < p->classes; k++)
        s += mt_target(p, r, k);
    return s;
}

static inline double mt_max(const double *z, size_t n)
{
    double m = -INFINITY;
    for (size_t k = 0; k < n; k++)
        if (z[k] > m)
            m = z[k];
    return m;
}

/* OUT_k = exp(z_k - M) / sum; -1 when the row has no finite logit. */
static inline int mt_softmax_of(const double *z, size_t n, double m, double *out)
{
    if (m == -INFINITY)
        return -1;
    double s = 0;
    for (size_t k = 0; k < n; k++) {
        out[k] = exp(z[k] - m);
        s += out[k];
    }
    for (size_t k = 0; k < n; k++)
        out[k] /= s;
    return 0;
}

static inline int mt_softmax(const xc_problem *p, size_t r, double *out)
{
    const double *z = mt_row(p->logits, p, r);
    return mt_softmax_of(z, p->classes, mt_max(z, p->classes), out);
}

static inline void mt_zero(double *g, size_t n)
{
    for (size_t k = 0; k < n; k++)
        g[k] = 0;
}

static inline mt_ops mt_resolve(const mt_ops *ops)
{
    mt_ops o = ops ? *ops : (mt_ops){0};
    if (!o.softmax)
        o.softmax = mt_softmax;
    if (!o.denominator)
        o.denominator = mt_denominator;
    if (!o.target)
        o.target = mt_target;
    if (!o.mass)
        o.mass = mt_mass;
    return o;
}

/* G holds O on entry; leaves c_r (S_r O_k - t_k). */
static inline void mt_finish_row(const xc_problem *p, const mt_ops *o, size_t r,
                                 double d, double *g)
{
    double c = mt_coef(p, r, d);
    double s = o->mass(p, r);
    for (size_t k = 0; k < p->classes; k++)
        g[k] = c * (s * g[k] - o->target(p, r, k));
}

static inline int mt_grad_ops(const xc_problem *p, void *grad, const mt_ops *ops)
{
    mt_ops o = mt_resolve(ops);
    double d = o.denominator(p);
    for (size_t r = 0; r < p->batch; r++) {
        double *g = (double *)grad + r * p->ld;
        if (d == 0 || mt_ignored(p, r) || o.softmax(p, r, g) != 0)
            mt_zero(g, p->classes);
        else
            mt_finish_row(p, &o, r, d, g);
    }
    return 0;
}

/* The correct gradient: a grad callback as the ABI defines it. */
static inline int mt_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    return mt_grad_ops(p, grad, NULL);
}

/* Loss of row R before the reduction: each term (M - z_k) + ln s has no
 * cancellation; terms with no target mass are skipped (never 0 * -inf). */
static inline double mt_row_loss(const xc_problem *p, size_t r)
{
    double w = p->labels != NULL ? mt_row_weight(p, r) : 1;
    if (w == 0)
        return 0;
    const double *z = mt_row(p->logits, p, r);
    double m = mt_max(z, p->classes), s = 0, acc = 0;
    for (size_t k = 0; k < p->classes; k++)
        s += exp(z[k] - m);
    for (size_t k = 0; k < p->classes; k++) {
        double t = mt_target(p, r, k);
        if (t != 0)
            acc += t * ((m - z[k]) + log(s));
    }
    return w * acc;
}

/* The correct reduced loss: a loss callback as the ABI defines it. */
static inline int mt_loss(const xc_problem *p, double *loss, void *ctx)
{
    (void)ctx;
    double total = 0;
    for (size_t r = 0; r < p->batch; r++)
        total += mt_row_loss(p, r);
    if (p->reduction == XC_REDUCE_MEAN) {
        double d = mt_denominator(p);
        total = d == 0 ? NAN : total / d;
    }
    *loss = total;
    return 0;
}

/* A crash at an exact spot, standing for the undefined behaviour a real
 * implementation has there (a stack or scratch buffer overrun). The store
 * goes through a volatile null pointer so that no compiler removes it; the
 * harness only ever runs mutants in its isolated worker. */
static inline void mt_crash(void)
{
    volatile int *nowhere = NULL;
    *nowhere = 1;
}

#endif
