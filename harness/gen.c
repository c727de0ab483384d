/* Case generation (see gen.h). */
#include "gen.h"

#include <float.h>
#include <math.h>
#include <string.h>

enum { PURPOSE_CASE = 0x63617365u };

void xc__gen_stream(xc__pcg32 *g, uint64_t seed, uint64_t index, uint64_t purpose)
{
    xc__pcg32_seed(g, seed ^ (purpose * 0x9e3779b97f4a7c15ULL), index);
}

double xc__gen_exp_overflow(xc_dtype t)
{
    return t == XC_F32 ? 88.72283935546875 : 709.782712893384;
}

static int chance(xc__pcg32 *g, double p)
{
    return xc__pcg32_unit(g) < p;
}

static double log_uniform(xc__pcg32 *g, double lo, double hi)
{
    return exp(xc__pcg32_uniform(g, log(lo), log(hi)));
}

static size_t draw_classes(xc__pcg32 *g, size_t max)
{
    double p = xc__pcg32_unit(g);
    size_t h;
    if (p < 0.50)
        h = 1 + xc__pcg32_below(g, 16);
    else if (p < 0.83)
        h = 17 + xc__pcg32_below(g, 240);
    else if (p < 0.985)
        h = 257 + xc__pcg32_below(g, 3840);
    else
        h = (size_t)log_uniform(g, 4097, (double)max + 1);
    return h > max ? 1 + xc__pcg32_below64(g, max) : h;
}

static size_t draw_batch(xc__pcg32 *g, uint32_t caps, size_t ld, size_t max_el)
{
    if (!(caps & XC_CAP_BATCH))
        return 1;
    double p = xc__pcg32_unit(g);
    size_t n = p < 0.3 ? 1 : p < 0.7 ? 2 + xc__pcg32_below(g, 3)
             : p < 0.95 ? 5 + xc__pcg32_below(g, 28) : 33 + xc__pcg32_below(g, 224);
    size_t limit = max_el / ld;
    return n > limit ? (limit ? limit : 1) : n;
}

static xc__label_kind draw_label_kind(xc__pcg32 *g, uint32_t caps)
{
    int idx = (caps & XC_CAP_INDEX_LABELS) != 0;
    int prob = (caps & XC_CAP_PROB_LABELS) != 0;
    if (idx && prob)
        return chance(g, 0.5) ? XC__LABELS_INDEX : XC__LABELS_PROB;
    return idx ? XC__LABELS_INDEX : XC__LABELS_PROB;
}

/* --- logits ------------------------------------------------------------ */

enum logit_family {
    FAM_NORMAL, FAM_UNIFORM, FAM_TIES, FAM_DOMINANT, FAM_TINY_DIFF,
    FAM_SUBNORMAL, FAM_MIXED, FAM_BITS, FAM_COUNT
};

static double random_bits_value(xc__pcg32 *g, xc_dtype t)
{
    for (;;) {
        double v;
        if (t == XC_F32) {
            uint32_t b = xc__pcg32_next(g);
            float f;
            memcpy(&f, &b, sizeof f);
            v = f;
        } else {
            uint64_t b = xc__pcg32_next64(g);
            memcpy(&v, &b, sizeof v);
        }
        if (isfinite(v))
            return v;
    }
}

static double subnormal_value(xc__pcg32 *g, xc_dtype t)
{
    double tiny = t == XC_F32 ? FLT_MIN : DBL_MIN;
    double v = xc__pcg32_unit(g) * tiny;
    return chance(g, 0.5) ? -v : v;
}

static double family_value(xc__pcg32 *g, enum logit_family f, xc_dtype t,
                           double scale, double base, size_t k)
{
    switch (f) {
    case FAM_NORMAL:
        return scale * xc__pcg32_normal(g);
    case FAM_UNIFORM:
        return xc__pcg32_uniform(g, -scale, scale);
    case FAM_TIES:
        return scale * (double)xc__pcg32_below(g, 3);
    case FAM_DOMINANT:
    case FAM_TINY_DIFF:
        return base + (double)xc__pcg32_below(g, 4) * nextafter(fabs(base) + 1, INFINITY) *
                          (t == XC_F32 ? FLT_EPSILON : DBL_EPSILON) * (double)(k % 3);
    case FAM_SUBNORMAL:
        return chance(g, 0.2) ? 0.0 : subnormal_value(g, t);
    case FAM_MIXED:
        return (chance(g, 0.5) ? -1 : 1) * log_uniform(g, 1e-30, scale * 10 + 1e-30);
    default:
        return random_bits_value(g, t);
    }
}

static void fill_row_logits(xc__pcg32 *g, const xc__case *c, double *z,
                            enum logit_family f, double scale)
{
    double base = scale * xc__pcg32_normal(g);
    for (size_t k = 0; k < c->classes; k++)
        z[k] = family_value(g, f, c->dtype, scale, base, k);
    if (f == FAM_DOMINANT && c->classes > 1) {
        size_t top = xc__pcg32_below64(g, c->classes);
        z[top] = base + log_uniform(g, 2, 1000);
    }
}

/* Offsets near and far beyond the overflow threshold of exp. */
static double draw_shift(xc__pcg32 *g, xc_dtype t)
{
    double ov = xc__gen_exp_overflow(t);
    static const double factors[] = {0.9, 1.0, 1.02, 1.5, 3.0, 12.0};
    double s;
    if (chance(g, 0.7))
        s = ov * factors[xc__pcg32_below(g, 6)];
    else
        s = log_uniform(g, 1e3, t == XC_F32 ? 1e5 : 1e7);
    return chance(g, 0.5) ? -s : s;
}

static void fill_logits(xc__pcg32 *g, xc__case *c)
{
    enum logit_family f = (enum logit_family)xc__pcg32_below(g, FAM_COUNT);
    double scale = log_uniform(g, 1e-3, 1e3);
    double shift = chance(g, 0.35) ? draw_shift(g, c->dtype) : 0.0;
    for (size_t r = 0; r < c->batch; r++) {
        double *z = c->logits + r * c->ld;
        fill_row_logits(g, c, z, f, scale);
        for (size_t k = 0; k < c->classes && shift != 0; k++)
            z[k] += shift;
    }
}

/* --- labels ------------------------------------------------------------ */

static int64_t draw_index_label(xc__pcg32 *g, const xc__case *c, size_t r)
{
    const double *z = c->logits + r * c->ld;
    size_t h = c->classes;
    double p = xc__pcg32_unit(g);
    if (p < 0.15)
        return 0;
    if (p < 0.30)
        return (int64_t)h - 1;
    if (p < 0.45) {
        size_t best = 0;
        for (size_t k = 1; k < h; k++)
            if (z[k] > z[best])
                best = k;
        return (int64_t)best;
    }
    return (int64_t)xc__pcg32_below64(g, h);
}

static void one_hot(double *y, size_t h, size_t k)
{
    for (size_t i = 0; i < h; i++)
        y[i] = i == k ? 1.0 : 0.0;
}

static void fill_prob_row(xc__pcg32 *g, double *y, size_t h)
{
    uint32_t form = xc__pcg32_below(g, 4);
    one_hot(y, h, xc__pcg32_below64(g, h));
    if (form == 0)
        return;
    if (form == 1) {
        double eps = log_uniform(g, 1e-4, 0.5);
        for (size_t k = 0; k < h; k++)
            y[k] = y[k] * (1 - eps) + eps / (double)h;
        return;
    }
    size_t kept = 0;
    for (size_t k = 0; k < h; k++) {
        int sparse_zero = form == 3 && chance(g, 0.7);
        y[k] = sparse_zero ? 0.0 : -log(1.0 - xc__pcg32_unit(g));
        kept += y[k] > 0;
    }
    if (kept == 0) /* a sparse row that lost every entry: keep one */
        y[xc__pcg32_below64(g, h)] = 1.0;
}

static void normalise_row(double *y, size_t h, double target_sum)
{
    long double s = 0;
    for (size_t k = 0; k < h; k++)
        s += y[k];
    for (size_t k = 0; k < h; k++)
        y[k] = s > 0 ? (double)(y[k] * target_sum / s) : 0.0;
}

static double draw_row_sum(xc__pcg32 *g, uint32_t caps)
{
    static const double sums[] = {0.0, 0.7, 1.3, 2.0};
    if (!(caps & XC_CAP_UNNORMALIZED) || !chance(g, 0.3))
        return 1.0;
    return chance(g, 0.6) ? sums[xc__pcg32_below(g, 4)] : xc__pcg32_uniform(g, 0, 3);
}

static void fill_weights(xc__pcg32 *g, xc__case *c)
{
    uint32_t form = xc__pcg32_below(g, 3);
    for (size_t k = 0; k < c->classes; k++) {
        if (form == 0)
            c->weights[k] = xc__pcg32_uniform(g, 0.1, 2.0);
        else if (form == 1)
            c->weights[k] = chance(g, 0.3) ? 0.0 : xc__pcg32_uniform(g, 0.5, 1.5);
        else
            c->weights[k] = log_uniform(g, 1e-3, 1e3);
    }
}

/* --- masks and ignored rows -------------------------------------------- */

static int is_label(const xc__case *c, size_t r, size_t k)
{
    if (c->label_kind == XC__LABELS_INDEX)
        return c->labels[r] == (int64_t)k;
    return c->probs[r * c->ld + k] != 0;
}

static void mask_classes(xc__pcg32 *g, xc__case *c)
{
    double p = log_uniform(g, 0.01, 0.9);
    for (size_t r = 0; r < c->batch; r++) {
        double *z = c->logits + r * c->ld;
        size_t kept = 0, first_kept = c->classes;
        for (size_t k = 0; k < c->classes; k++) {
            if (!is_label(c, r, k) && chance(g, p))
                z[k] = -INFINITY;
            else if (kept++ == 0)
                first_kept = k;
        }
        if (kept == 0 && first_kept == c->classes)
            z[0] = 0.0; /* never a whole row: unreachable with a label */
    }
}

static void draw_ignored(xc__pcg32 *g, xc__case *c)
{
    c->has_ignore_index = 1;
    c->ignore_index = chance(g, 0.7) ? -100 : -1 - (int64_t)xc__pcg32_below(g, 1000);
    double p = chance(g, 0.1) ? 1.0 : xc__pcg32_uniform(g, 0.1, 0.5);
    for (size_t r = 0; r < c->batch; r++)
        if (chance(g, p))
            c->labels[r] = c->ignore_index;
}

/* Weighted mean over index labels divides by sum of row weights: keep it
 * non-zero unless every row is ignored (the documented 0/0 case). */
static void keep_denominator(xc__case *c)
{
    if (!c->weights || c->label_kind != XC__LABELS_INDEX)
        return;
    for (size_t r = 0; r < c->batch; r++)
        if (!xc__case_row_ignored(c, r) && c->weights[c->labels[r]] == 0)
            c->weights[c->labels[r]] = 1.0;
}

static void fill_labels(xc__pcg32 *g, xc__case *c, uint32_t caps)
{
    for (size_t r = 0; r < c->batch; r++) {
        if (c->label_kind == XC__LABELS_INDEX) {
            c->labels[r] = draw_index_label(g, c, r);
            continue;
        }
        double *y = c->probs + r * c->ld;
        fill_prob_row(g, y, c->classes);
        normalise_row(y, c->classes, draw_row_sum(g, caps));
    }
    if (c->label_kind == XC__LABELS_INDEX && (caps & XC_CAP_IGNORE_INDEX) &&
        chance(g, 0.3))
        draw_ignored(g, c);
}

/* --- edge shapes ---------------------------------------------------------
 * Random sizes reach some shapes rarely (H = 1 about 3% of cases, H past
 * 2^15 well under 1%), yet bugs live there: label truncation to 8 or 16
 * bits, SIMD tails, batch limits, the full feature combination. Every tenth
 * case (from case 3 on) takes the next shape of this table, so a default run
 * visits each within its first few hundred cases, whatever the machine's
 * speed. */

typedef struct edge_shape {
    size_t classes;       /* 0 = max_classes */
    size_t batch;
    size_t pad;           /* ld = classes + pad */
    int label_last;       /* every label H - 1 */
    int full;             /* mean, weights, ignore_index when the caps allow */
} edge_shape;

static const edge_shape edges[] = {
    {1, 1, 0, 0, 0},      {2, 3, 1, 1, 0},      {8, 4, 0, 1, 0},
    {257, 1, 0, 1, 0},    {32769, 1, 0, 1, 0},  {16, 70, 0, 0, 0},
    {0, 1, 0, 1, 0},      {33, 5, 3, 0, 1},     {1, 9, 2, 0, 1},
    {65, 2, 0, 1, 0},     {256, 2, 0, 1, 1},    {3, 130, 0, 0, 1},
};
#define EDGE_COUNT (sizeof edges / sizeof *edges)
#define EDGE_PERIOD 10

static const edge_shape *edge_of(uint64_t index)
{
    if (index % EDGE_PERIOD != 3)
        return NULL;
    return &edges[(index / EDGE_PERIOD) % EDGE_COUNT];
}

static size_t clamp_size(size_t want, size_t max)
{
    return want == 0 || want > max ? max : want;
}

static xc__case *edge_shape_case(xc__pcg32 *g, const xc__gen_config *cfg,
                                 const edge_shape *e)
{
    size_t h = clamp_size(e->classes, cfg->max_classes);
    int batch = (cfg->caps & XC_CAP_BATCH) != 0;
    size_t ld = batch ? h + e->pad : h;
    size_t n = batch ? e->batch : 1;
    if (n * ld > cfg->max_elements)
        n = cfg->max_elements / ld ? cfg->max_elements / ld : 1;
    xc__label_kind kind = draw_label_kind(g, cfg->caps);
    if (e->label_last && (cfg->caps & XC_CAP_INDEX_LABELS))
        kind = XC__LABELS_INDEX; /* label truncation bugs need index labels */
    int weights = e->full && (cfg->caps & XC_CAP_WEIGHTS);
    xc__case *c = xc__case_new(cfg->dtype, n, h, ld, kind, weights);
    if (c && e->full && (cfg->caps & XC_CAP_MEAN))
        c->reduction = XC_REDUCE_MEAN;
    return c;
}

static xc__case *draw_shape(xc__pcg32 *g, const xc__gen_config *cfg)
{
    size_t h = draw_classes(g, cfg->max_classes);
    size_t ld = h;
    if ((cfg->caps & XC_CAP_BATCH) && chance(g, 0.3))
        ld = h + 1 + xc__pcg32_below(g, 17);
    size_t n = draw_batch(g, cfg->caps, ld, cfg->max_elements);
    xc__label_kind kind = draw_label_kind(g, cfg->caps);
    int weights = (cfg->caps & XC_CAP_WEIGHTS) && chance(g, 0.3);
    xc__case *c = xc__case_new(cfg->dtype, n, h, ld, kind, weights);
    if (c && (cfg->caps & XC_CAP_MEAN) && chance(g, 0.5))
        c->reduction = XC_REDUCE_MEAN;
    return c;
}

/* Edge shapes with label_last put every label (or the row's largest target
 * probability) on class H - 1. */
static void move_labels_last(xc__case *c)
{
    size_t last = c->classes - 1;
    for (size_t r = 0; r < c->batch; r++) {
        if (c->label_kind == XC__LABELS_INDEX) {
            if (!xc__case_row_ignored(c, r))
                c->labels[r] = (int64_t)last;
            continue;
        }
        double *y = c->probs + r * c->ld;
        size_t best = 0;
        for (size_t k = 1; k < c->classes; k++)
            if (y[k] > y[best])
                best = k;
        double t = y[best];
        y[best] = y[last];
        y[last] = t;
    }
}

/* The full combination: ignore_index on some rows when the caps allow. */
static void edge_ignore(xc__pcg32 *g, xc__case *c, uint32_t caps)
{
    if (c->label_kind != XC__LABELS_INDEX || !(caps & XC_CAP_IGNORE_INDEX))
        return;
    if (!c->has_ignore_index) { /* keep a value rows may already carry */
        c->has_ignore_index = 1;
        c->ignore_index = -100;
    }
    for (size_t r = 0; r < c->batch; r++)
        if (c->batch > 1 && chance(g, 0.3))
            c->labels[r] = c->ignore_index;
}

xc__case *xc__gen_case(const xc__gen_config *cfg, uint64_t seed, uint64_t index)
{
    xc__pcg32 g;
    xc__gen_stream(&g, seed, index, PURPOSE_CASE);
    const edge_shape *edge = edge_of(index);
    xc__case *c = edge ? edge_shape_case(&g, cfg, edge) : draw_shape(&g, cfg);
    if (!c)
        return NULL;
    c->seed = seed;
    c->index = index;
    fill_logits(&g, c);
    xc__case_round_to_dtype(c);
    fill_labels(&g, c, cfg->caps);
    if (edge && edge->label_last)
        move_labels_last(c);
    if (edge && edge->full)
        edge_ignore(&g, c, cfg->caps);
    if (c->weights)
        fill_weights(&g, c);
    if (chance(&g, 0.2))
        mask_classes(&g, c);
    keep_denominator(c);
    xc__case_round_to_dtype(c);
    return c;
}
