/* Shrinking (see shrink.h). */
#include "shrink.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "props.h"

typedef struct shrinker {
    const xc__shrink_config *cfg;
    size_t max_calls;
    double deadline;
    xc__shrink_pred pred;
    void *ctx;
    xc__shrink_stats st;
    xc__case *best;         /* owned: the smallest failing case so far */
    int oom;
} shrinker;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int budget_left(shrinker *s)
{
    if (s->oom || s->st.timed_out || s->st.out_of_calls)
        return 0;
    if (s->st.calls >= s->max_calls)
        s->st.out_of_calls = 1;
    else if (now_seconds() >= s->deadline)
        s->st.timed_out = 1;
    return !s->st.timed_out && !s->st.out_of_calls;
}

static int within_caps(const shrinker *s, const xc__case *c)
{
    if (xc__case_required_caps(c) & ~s->cfg->caps)
        return 0;
    return !s->cfg->max_classes || c->classes <= s->cfg->max_classes;
}

/* Ask the predicate about CAND (owned: kept as the new best or freed).
 * Returns 1 when CAND still fails. A NULL CAND is an allocation failure. */
static int try_candidate(shrinker *s, xc__case *cand)
{
    if (!cand) {
        s->oom = 1;
        return 0;
    }
    if (!within_caps(s, cand) || !budget_left(s)) {
        xc__case_free(cand);
        return 0;
    }
    s->st.calls++;
    if (!s->pred(s->ctx, cand)) {
        xc__case_free(cand);
        return 0;
    }
    s->st.accepted++;
    xc__case_free(s->best);
    s->best = cand;
    return 1;
}

/* --- structure: rows, classes, shape flags -------------------------------- */

/* C without rows [FIRST, FIRST + COUNT). */
static xc__case *without_rows(const xc__case *c, size_t first, size_t count)
{
    xc__case *d = xc__case_new(c->dtype, c->batch - count, c->classes, c->ld,
                               c->label_kind, c->weights != NULL);
    if (!d)
        return NULL;
    for (size_t r = 0, o = 0; r < c->batch; r++) {
        if (r >= first && r < first + count)
            continue;
        memcpy(d->logits + o * d->ld, c->logits + r * c->ld, c->ld * sizeof(double));
        if (c->probs)
            memcpy(d->probs + o * d->ld, c->probs + r * c->ld, c->ld * sizeof(double));
        if (c->labels)
            d->labels[o] = c->labels[r];
        o++;
    }
    if (c->weights)
        memcpy(d->weights, c->weights, c->classes * sizeof(double));
    xc__case_copy_settings(d, c);
    return d;
}

static int pass_rows(shrinker *s)
{
    int progress = 0;
    for (size_t chunk = s->best->batch / 2; chunk >= 1; chunk /= 2) {
        size_t first = 0;
        while (first < s->best->batch && s->best->batch > 1 && budget_left(s)) {
            size_t n = s->best->batch - first < chunk ? s->best->batch - first : chunk;
            if (n == s->best->batch)
                break;
            if (try_candidate(s, without_rows(s->best, first, n)))
                progress = 1;
            else
                first += n;
        }
    }
    return progress;
}

/* Some row's index label names class K: K must stay. */
static int is_label_class(const xc__case *c, size_t k)
{
    for (size_t r = 0; c->labels && r < c->batch; r++)
        if (!xc__case_row_ignored(c, r) && c->labels[r] == (int64_t)k)
            return 1;
    return 0;
}

static void normalise_rows(xc__case *c)
{
    for (size_t r = 0; r < c->batch; r++) {
        double *y = c->probs + r * c->ld;
        long double sum = 0;
        for (size_t k = 0; k < c->classes; k++)
            sum += y[k];
        for (size_t k = 0; k < c->classes && sum > 0; k++)
            y[k] = (double)(y[k] / sum);
    }
    xc__case_round_to_dtype(c);
}

static void copy_kept_classes(const xc__case *c, xc__case *d, const unsigned char *drop)
{
    for (size_t r = 0; r < c->batch; r++)
        for (size_t k = 0, o = 0; k < c->classes; k++) {
            if (drop[k])
                continue;
            d->logits[r * d->ld + o] = c->logits[r * c->ld + k];
            if (c->probs)
                d->probs[r * d->ld + o] = c->probs[r * c->ld + k];
            o++;
        }
    for (size_t k = 0, o = 0; c->weights && k < c->classes; k++)
        if (!drop[k])
            d->weights[o++] = c->weights[k];
}

/* Index labels after the classes in DROP are gone. */
static void remap_labels(const xc__case *c, xc__case *d, const unsigned char *drop)
{
    for (size_t r = 0; c->labels && r < c->batch; r++) {
        d->labels[r] = c->labels[r];
        if (xc__case_row_ignored(c, r))
            continue;
        int64_t below = 0;
        for (int64_t k = 0; k < c->labels[r]; k++)
            below += drop[k];
        d->labels[r] -= below;
    }
}

/* C without the classes marked in DROP (never a label class). */
static xc__case *without_classes(const xc__case *c, const unsigned char *drop,
                                 size_t ndrop)
{
    size_t h = c->classes - ndrop;
    size_t ld = c->ld == c->classes ? h : c->ld - ndrop;
    xc__case *d = xc__case_new(c->dtype, c->batch, h, ld, c->label_kind,
                               c->weights != NULL);
    if (!d)
        return NULL;
    copy_kept_classes(c, d, drop);
    remap_labels(c, d, drop);
    xc__case_copy_settings(d, c);
    return d;
}

/* Try dropping the non-label classes among [FIRST, FIRST + COUNT).
 * Probability rows are kept as they are when the caps allow, and
 * renormalised when they must be or when that alone keeps the failure. */
static int try_drop_classes(shrinker *s, size_t first, size_t count)
{
    const xc__case *c = s->best;
    unsigned char *drop = calloc(c->classes, 1);
    size_t ndrop = 0;
    int ok = 0;
    if (!drop)
        return s->oom = 1, 0;
    for (size_t k = first; k < first + count; k++)
        ndrop += drop[k] = !is_label_class(c, k);
    if (ndrop > 0 && ndrop < c->classes) {
        int has_probs = c->probs != NULL;
        xc__case *raw = without_classes(c, drop, ndrop);
        int renormalised = raw && has_probs && !within_caps(s, raw);
        if (renormalised)
            normalise_rows(raw);
        ok = try_candidate(s, raw);
        if (!ok && has_probs && !renormalised && !s->oom) {
            xc__case *norm = without_classes(s->best, drop, ndrop);
            if (norm)
                normalise_rows(norm);
            ok = try_candidate(s, norm);
        }
    }
    free(drop);
    return ok;
}

static int pass_classes(shrinker *s)
{
    int progress = 0;
    for (size_t chunk = s->best->classes / 2; chunk >= 1; chunk /= 2) {
        size_t first = 0;
        while (first < s->best->classes && s->best->classes > 1 && budget_left(s)) {
            size_t n = s->best->classes - first < chunk ? s->best->classes - first : chunk;
            if (try_drop_classes(s, first, n))
                progress = 1;
            else
                first += n;
        }
    }
    return progress;
}

/* C with rows LD apart (LD >= H). */
static xc__case *with_ld(const xc__case *c, size_t ld)
{
    xc__case *d = xc__case_new(c->dtype, c->batch, c->classes, ld, c->label_kind,
                               c->weights != NULL);
    if (!d)
        return NULL;
    for (size_t r = 0; r < c->batch; r++) {
        memcpy(d->logits + r * ld, c->logits + r * c->ld, c->classes * sizeof(double));
        if (c->probs)
            memcpy(d->probs + r * ld, c->probs + r * c->ld, c->classes * sizeof(double));
    }
    if (c->labels)
        memcpy(d->labels, c->labels, c->batch * sizeof *c->labels);
    if (c->weights)
        memcpy(d->weights, c->weights, c->classes * sizeof(double));
    xc__case_copy_settings(d, c);
    return d;
}

static void drop_weights(xc__case *d)
{
    xc__case_drop_weights(d);
}

static void drop_ignore_index(xc__case *d)
{
    for (size_t r = 0; r < d->batch; r++)
        if (xc__case_row_ignored(d, r))
            d->labels[r] = 0;
    d->has_ignore_index = 0;
}

/* ld -> H, no class weights, no ignore_index, sum instead of mean. */
static int pass_shape(shrinker *s)
{
    int progress = 0;
    if (s->best->ld > s->best->classes && budget_left(s))
        progress |= try_candidate(s, with_ld(s->best, s->best->classes));
    if (s->best->weights && budget_left(s)) {
        xc__case *d = xc__case_clone(s->best);
        if (d)
            drop_weights(d);
        progress |= try_candidate(s, d);
    }
    if (s->best->has_ignore_index && budget_left(s)) {
        xc__case *d = xc__case_clone(s->best);
        if (d)
            drop_ignore_index(d);
        progress |= try_candidate(s, d);
    }
    if (s->best->reduction == XC_REDUCE_MEAN && budget_left(s)) {
        xc__case *d = xc__case_clone(s->best);
        if (d)
            d->reduction = XC_REDUCE_SUM;
        progress |= try_candidate(s, d);
    }
    return progress;
}

/* --- values ------------------------------------------------------------- */

enum { ARR_LOGITS, ARR_WEIGHTS, ARR_PROBS, ARR_COUNT, MAX_CANDS = 96 };

static size_t array_len(const xc__case *c, int arr)
{
    if (arr == ARR_WEIGHTS)
        return c->weights ? c->classes : 0;
    if (arr == ARR_PROBS && !c->probs)
        return 0;
    return c->batch * c->classes;
}

/* Element I of array ARR (row-major over the H used columns). */
static double *slot(const xc__case *c, int arr, size_t i)
{
    if (arr == ARR_WEIGHTS)
        return c->weights + i;
    double *base = arr == ARR_LOGITS ? c->logits : c->probs;
    return base + (i / c->classes) * c->ld + i % c->classes;
}

static int significant_bits(double m)
{
    int bits = 0;
    while (m != 0 && bits < 64) {
        m *= 2;
        m -= floor(m);
        bits++;
    }
    return bits;
}

/* Lower is simpler: 0, then short significands near 1, negatives after
 * positives, non-finite values last. */
static double complexity(double v)
{
    if (isnan(v))
        return 3e6;
    if (isinf(v))
        return 2e6 + (v < 0);
    if (v == 0)
        return signbit(v) ? 1 : 0;
    int e;
    double m = frexp(fabs(v), &e);
    return 64.0 * significant_bits(m) + 2.0 * abs(e - 1) + (v < 0) + 2;
}

typedef struct cands {
    double v[MAX_CANDS];
    size_t n;
    xc_dtype dtype;
    int nonneg;
} cands;

static void add(cands *cs, double v)
{
    if (cs->n == MAX_CANDS || isnan(v) || isinf(v))
        return;
    if (cs->nonneg && !(v >= 0))
        return;
    if (cs->dtype == XC_F32 && fabs(v) > 0x1.fffffep127)
        return;
    cs->v[cs->n++] = cs->dtype == XC_F32 ? (double)(float)v : v;
}

/* Integers made of the top K bits of |X| rounded, K = 1, 2, ... */
static void add_fewer_bits(cands *cs, double x)
{
    double a = fabs(rint(x));
    if (a < 1 || a >= 0x1p53)
        return;
    int e;
    frexp(a, &e);
    for (int k = 1; k < e && k < 12; k++) {
        double unit = ldexp(1, e - k);
        add(cs, copysign(floor(a / unit) * unit, x));
    }
}

/* X with its significand cut to K = 1..12 bits. */
static void add_short_significands(cands *cs, double x)
{
    int e;
    double m = frexp(x, &e);
    for (int k = 1; k <= 12; k++)
        add(cs, ldexp(trunc(ldexp(m, k)), e - k));
}

/* Powers of two of X's sign up to |X| (at most 24 of them, spread). */
static void add_powers(cands *cs, double x)
{
    int e = ilogb(x);
    int step = e > 24 ? e / 24 + 1 : 1;
    for (int j = 1; j <= e; j += step)
        add(cs, copysign(ldexp(1, j), x));
}

static void value_candidates(const xc__case *c, int arr, size_t i, double x, cands *cs)
{
    static const double fixed[] = {0, 1, -1, 2, -2, 0.5, 3, -3, 4, -4, 8, -16, -128, -1024};
    *cs = (cands){.n = 0, .dtype = c->dtype, .nonneg = arr != ARR_LOGITS};
    for (size_t j = 0; j < sizeof fixed / sizeof fixed[0]; j++)
        add(cs, fixed[j]);
    if (isfinite(x)) {
        add(cs, rint(x));
        add_fewer_bits(cs, x);
        if (x != 0) {
            add_powers(cs, x);
            add_short_significands(cs, x);
        }
    }
    size_t row = arr == ARR_WEIGHTS ? 0 : (i / c->classes) * c->classes;
    for (size_t j = row; j < i; j++)   /* fewer distinct values in the row */
        add(cs, *slot(c, arr, j));
}

static int by_complexity(const void *a, const void *b)
{
    double x = complexity(*(const double *)a), y = complexity(*(const double *)b);
    if (x != y)
        return (x > y) - (x < y);
    double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

/* Replace element I of ARR by the simplest candidate that still fails. */
static int simplify_value(shrinker *s, int arr, size_t i)
{
    double x = *slot(s->best, arr, i);
    double cx = complexity(x);
    cands cs;
    value_candidates(s->best, arr, i, x, &cs);
    qsort(cs.v, cs.n, sizeof cs.v[0], by_complexity);
    for (size_t j = 0; j < cs.n && budget_left(s); j++) {
        if (complexity(cs.v[j]) >= cx || (j > 0 && cs.v[j] == cs.v[j - 1]))
            continue;
        xc__case *d = xc__case_clone(s->best);
        if (d)
            *slot(d, arr, i) = cs.v[j];
        if (try_candidate(s, d))
            return 1;
    }
    return 0;
}

/* Probability rows as one-hot rows at their largest entry. */
static int pass_one_hot(shrinker *s)
{
    int progress = 0;
    for (size_t r = 0; s->best->probs && r < s->best->batch && budget_left(s); r++) {
        const double *y = s->best->probs + r * s->best->ld;
        size_t top = 0, nonzero = 0;
        for (size_t k = 0; k < s->best->classes; k++) {
            nonzero += y[k] != 0;
            top = y[k] > y[top] ? k : top;
        }
        if (nonzero <= 1)
            continue;
        xc__case *d = xc__case_clone(s->best);
        for (size_t k = 0; d && k < d->classes; k++)
            d->probs[r * d->ld + k] = k == top;
        progress |= try_candidate(s, d);
    }
    return progress;
}

static int pass_values(shrinker *s)
{
    int progress = pass_one_hot(s);
    for (int arr = 0; arr < ARR_COUNT; arr++)
        for (size_t i = 0; i < array_len(s->best, arr) && budget_left(s); i++)
            progress |= simplify_value(s, arr, i);
    return progress;
}

/* --- driver ------------------------------------------------------------- */

xc__case *xc__shrink(const xc__case *c, const xc__shrink_config *cfg,
                     xc__shrink_pred pred, void *pred_ctx,
                     xc__shrink_stats *stats)
{
    double limit = cfg->time_limit_s > 0 ? cfg->time_limit_s : XC__SHRINK_DEFAULT_TIME;
    shrinker s = {.cfg = cfg, .pred = pred, .ctx = pred_ctx,
                  .max_calls = cfg->max_calls ? cfg->max_calls : XC__SHRINK_DEFAULT_CALLS,
                  .deadline = now_seconds() + limit, .best = xc__case_clone(c)};
    int progress = s.best != NULL;
    while (progress && budget_left(&s)) {
        progress = pass_rows(&s);
        progress |= pass_classes(&s);
        progress |= pass_shape(&s);
        progress |= pass_values(&s);
    }
    if (stats)
        *stats = s.st;
    if (s.oom) {
        xc__case_free(s.best);
        return NULL;
    }
    return s.best;
}

/* --- the checker's predicate --------------------------------------------- */

typedef struct recorder {
    xc__shrink_props *p;
    xc__prop_env *env;
    int hit;
} recorder;

static void record_fail(void *ctx, const char *property, const xc__case *c,
                        const char *message)
{
    recorder *rec = ctx;
    (void)c;
    if (strcmp(property, XC__P_HANG) == 0)
        rec->env->stop = 1;   /* no more calls into a hung target */
    if (rec->hit || strcmp(property, rec->p->property) != 0)
        return;
    rec->hit = 1;
    snprintf(rec->p->message, sizeof rec->p->message, "%s", message);
}

int xc__shrink_props_pred(void *ctx, const xc__case *c)
{
    xc__shrink_props *p = ctx;
    xc__prop_env env = {.target = p->target, .exec = p->exec,
                        .tol_factor = p->tol_factor > 0 ? p->tol_factor : 1};
    recorder rec = {.p = p, .env = &env, .hit = 0};
    env.sink = (xc__prop_sink){.fail = record_fail, .ctx = &rec};
    xc__props_run_case(&env, c);
    return rec.hit && !env.harness_error;
}
