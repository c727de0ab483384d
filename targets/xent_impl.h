/* The cross-entropy driver, written once and instantiated per dtype.
 *
 * Included only by xent_f64.c and xent_f32.c, which define first:
 *   XT          the element type (double or float)
 *   XT_DTYPE    its xc_dtype
 *   XT_EXP      exp of that type (exp, expf)
 *   XT_LOG      log of that type (log, logf)
 *   XT_SOFTMAX  the kernel type (xc__softmax_f64_fn, ...)
 *   XT_FN(f)    the exported name of F for this dtype (f ## _f64, ...)
 * A template instead of two hand copies so that the f32 and f64 targets can
 * never drift apart in semantics; every operation stays in XT so that the
 * f32 targets really compute in f32.
 *
 * Semantics (see include/xentcheck/target.h): per row r the gradient is
 * c_r (Y_r O_k - v_k y_k) with v_k = w_k (1 without weights) and Y_r =
 * sum_j v_j y_j; index labels are one-hot rows with c_r = w[label] / D,
 * probability rows have c_r = 1 / D. D = 1 for sum; for mean, N with
 * probability rows, else the sum of the row weights of non-ignored rows
 * (N when nothing is weighted or ignored).
 */
#include <math.h>
#include <stdint.h>

static const XT *row_of(const void *base, const xc_problem *p, size_t r)
{
    return (const XT *)base + r * p->ld;
}

static int labels_ok(const xc_problem *p)
{
    for (size_t r = 0; r < p->batch; r++) {
        int64_t label = p->labels[r];
        if (label == p->ignore_index)
            continue;
        if (label < 0 || (uint64_t)label >= p->classes)
            return 0;
    }
    return 1;
}

/* Refuse what would make the driver read out of bounds or guess. */
static int problem_ok(const xc_problem *p)
{
    if (p == NULL || p->dtype != XT_DTYPE || p->logits == NULL)
        return 0;
    if (p->batch == 0 || p->classes == 0 || p->ld < p->classes)
        return 0;
    if (p->reduction != XC_REDUCE_SUM && p->reduction != XC_REDUCE_MEAN)
        return 0;
    if ((p->labels == NULL) == (p->probs == NULL))
        return 0;
    return p->labels == NULL || labels_ok(p);
}

static int row_ignored(const xc_problem *p, size_t r)
{
    return p->labels != NULL && p->labels[r] == p->ignore_index;
}

/* Weight of an index-labelled row: 0 when ignored, w[label] or 1. */
static XT row_weight(const xc_problem *p, size_t r)
{
    if (row_ignored(p, r))
        return 0;
    if (p->weights == NULL)
        return 1;
    return ((const XT *)p->weights)[p->labels[r]];
}

static XT class_weight(const xc_problem *p, size_t k)
{
    return p->weights == NULL ? 1 : ((const XT *)p->weights)[k];
}

static XT denominator(const xc_problem *p)
{
    if (p->reduction != XC_REDUCE_MEAN)
        return 1;
    if (p->labels == NULL)
        return (XT)p->batch;
    XT d = 0;
    for (size_t r = 0; r < p->batch; r++)
        d += row_weight(p, r);
    return d;
}

static void zero_row(XT *g, size_t n)
{
    for (size_t k = 0; k < n; k++)
        g[k] = 0;
}

/* G holds the softmax O on entry. O_k - 1 at the label is exact for
 * O_k >= 1/2 (Sterbenz), so the label element loses nothing to the
 * subtraction. */
static void grad_index_row(const xc_problem *p, size_t r, XT d, XT *g)
{
    XT c = row_weight(p, r) / d;
    size_t label = (size_t)p->labels[r];
    for (size_t k = 0; k < p->classes; k++)
        g[k] = c * (g[k] - (k == label ? (XT)1 : (XT)0));
}

static void grad_prob_row(const xc_problem *p, size_t r, XT d, XT *g)
{
    const XT *y = row_of(p->probs, p, r);
    XT mass = 0;
    for (size_t k = 0; k < p->classes; k++)
        mass += class_weight(p, k) * y[k];
    for (size_t k = 0; k < p->classes; k++)
        g[k] = (mass * g[k] - class_weight(p, k) * y[k]) / d;
}

int XT_FN(xc__xent_grad)(const xc_problem *p, void *grad, XT_SOFTMAX softmax)
{
    if (!problem_ok(p) || grad == NULL || softmax == NULL)
        return -1;
    XT d = denominator(p);
    for (size_t r = 0; r < p->batch; r++) {
        XT *g = (XT *)grad + r * p->ld;
        /* D == 0: every row weighs nothing, so every term is zero. */
        if (d == 0 || row_ignored(p, r) ||
            softmax(row_of(p->logits, p, r), p->classes, g) != 0) {
            zero_row(g, p->classes);
            continue;
        }
        if (p->labels != NULL)
            grad_index_row(p, r, d, g);
        else
            grad_prob_row(p, r, d, g);
    }
    return 0;
}

XT XT_FN(xc__row_max)(const XT *z, size_t n)
{
    XT m = -INFINITY;
    for (size_t k = 0; k < n; k++)
        if (z[k] > m)
            m = z[k];
    return m;
}

/* ln sum_k exp(z_k - M) for the row's max M (a value in [0, ln n]). */
static XT log_sum_shifted(const XT *z, size_t n, XT m)
{
    XT s = 0;
    for (size_t k = 0; k < n; k++)
        s += XT_EXP(z[k] - m);
    return XT_LOG(s);
}

static XT row_loss_prob(const xc_problem *p, size_t r, const XT *z, XT m, XT ls)
{
    const XT *y = row_of(p->probs, p, r);
    XT acc = 0;
    for (size_t k = 0; k < p->classes; k++) {
        XT wy = class_weight(p, k) * y[k];
        if (wy != 0)  /* never 0 * -inf at a masked class */
            acc += wy * ((m - z[k]) + ls);
    }
    return acc;
}

/* Each term is written (M - z_k) + ln s: both parts are non-negative, so
 * the sum has no cancellation, unlike S logsumexp - sum y_k z_k. A row with
 * no finite logit yields NaN (M - z_k = -inf - -inf): it has no loss. */
static XT row_loss(const xc_problem *p, size_t r)
{
    XT w = p->labels != NULL ? row_weight(p, r) : 1;
    if (w == 0)  /* ignored or weightless: contributes nothing */
        return 0;
    const XT *z = row_of(p->logits, p, r);
    XT m = XT_FN(xc__row_max)(z, p->classes);
    XT ls = m == -INFINITY ? 0 : log_sum_shifted(z, p->classes, m);
    if (p->labels == NULL)
        return row_loss_prob(p, r, z, m, ls);
    return w * ((m - z[p->labels[r]]) + ls);
}

int XT_FN(xc__xent_loss)(const xc_problem *p, double *loss, void *ctx)
{
    (void)ctx;
    if (!problem_ok(p) || loss == NULL)
        return -1;
    XT total = 0;
    for (size_t r = 0; r < p->batch; r++)
        total += row_loss(p, r);
    if (p->reduction == XC_REDUCE_MEAN) {
        XT d = denominator(p);
        /* Every row ignored or weightless: the mean is 0/0. */
        total = d == 0 ? (XT)NAN : total / d;
    }
    *loss = (double)total;
    return 0;
}
