/* Bytes -> case and back (layout in bytes_case.h). */
#include "bytes_case.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

enum {
    FLAG_PROB = 1 << 0, FLAG_MEAN = 1 << 1, FLAG_WEIGHTS = 1 << 2,
    FLAG_IGNORE = 1 << 3, FLAG_PAD = 1 << 4, FLAG_UNNORM = 1 << 5,
    HEADER = 4, TAG_SPECIAL = 0x00, TAG_INT = 0x40, TAG_STEP = 0x80,
    TAG_RAW = 0xc0, TAG_COMPACT = 0xe0, NSPECIAL = 32, DEFAULT_IGNORE = -100
};

typedef struct reader {
    const uint8_t *p;
    size_t n, pos;
} reader;

static uint8_t next(reader *r)
{
    return r->pos < r->n ? r->p[r->pos++] : 0;
}

static void fill_specials(xc_dtype dtype, double *table)
{
    int f = dtype == XC_F32;
    double ov = xc__gen_exp_overflow(dtype);
    double under = f ? -103.97207708 : -745.13321910194122;
    double tiny = f ? 0x1p-149 : 0x0.0000000000001p-1022;
    double big = f ? FLT_MAX : DBL_MAX;
    double eps = f ? FLT_EPSILON : DBL_EPSILON;
    double up = f ? nextafterf((float)ov, INFINITY) : nextafter(ov, INFINITY);
    const double values[NSPECIAL] = {
        0.0, -0.0, 1.0, -1.0, INFINITY, -INFINITY, NAN, ov,
        -ov, up, -up, under, -under, xc__dtype_min_normal(dtype),
        -xc__dtype_min_normal(dtype), tiny, -tiny, big, -big, 0.5,
        2.0, eps, 1.0 + eps, 1e-30, 1000.0, -1000.0, 1e4, 1e30,
        -1e30, 0.69314718055994531, 16.0, 2 * ov};
    memcpy(table, values, sizeof values);
}

static double to_dtype(xc_dtype t, double v)
{
    return t == XC_F32 ? (double)(float)v : v;
}

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/* The special values of a dtype, and the bits of each as the dtype rounds
 * it (what the encoder looks for). */
typedef struct specials {
    double value[NSPECIAL];
    uint64_t rounded_bits[NSPECIAL];
} specials;

/* The tables are built on first use (the fuzzer decodes and encodes every
 * input with them); the harness is single-threaded. */
static const specials *specials_of(xc_dtype dtype)
{
    static specials tables[2];
    static int built[2];
    int f = dtype == XC_F32;
    if (!built[f]) {
        fill_specials(dtype, tables[f].value);
        for (unsigned s = 0; s < NSPECIAL; s++)
            tables[f].rounded_bits[s] = bits_of(to_dtype(dtype, tables[f].value[s]));
        built[f] = 1;
    }
    return &tables[f];
}

double xc__bytes_special(xc_dtype dtype, unsigned slot)
{
    return specials_of(dtype)->value[slot % NSPECIAL];
}

static double step_ulps(xc_dtype t, double v, int steps)
{
    for (int i = 0; i < steps; i++)
        v = t == XC_F32 ? nextafterf((float)v, INFINITY) : nextafter(v, INFINITY);
    for (int i = 0; i > steps; i--)
        v = t == XC_F32 ? nextafterf((float)v, -INFINITY) : nextafter(v, -INFINITY);
    return v;
}

static double raw_value(reader *r, xc_dtype t)
{
    uint64_t bits = 0;
    size_t width = t == XC_F32 ? 4 : 8;
    for (size_t i = 0; i < width; i++)
        bits |= (uint64_t)next(r) << (8 * i);
    if (t == XC_F64) {
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    uint32_t b32 = (uint32_t)bits;
    float f;
    memcpy(&f, &b32, sizeof f);
    return f;
}

static double compact_value(reader *r)
{
    uint8_t e = next(r), m = next(r);
    double v = ldexp(1.0 + m / 256.0, (int)(e & 0x7f) - 64);
    return e & 0x80 ? -v : v;
}

static double decode_value(reader *r, xc_dtype t, double prev)
{
    uint8_t tag = next(r);
    if (tag < TAG_INT)
        return xc__bytes_special(t, tag);
    if (tag < TAG_STEP)
        return (double)((int)tag - 0x60);
    if (tag < TAG_RAW)
        return step_ulps(t, prev, (int)tag - 0xa0);
    if (tag < TAG_COMPACT)
        return raw_value(r, t);
    return to_dtype(t, compact_value(r));
}

/* --- header ------------------------------------------------------------- */

typedef struct shape {
    size_t batch, classes, ld;
    xc__label_kind kind;
    int mean, weights, ignore, unnorm;
    int64_t ignore_index;
} shape;

static size_t limit_h(const xc__bytes_config *cfg)
{
    size_t h = cfg->max_h ? cfg->max_h : XC__BYTES_MAX_H;
    return cfg->max_classes && cfg->max_classes < h ? cfg->max_classes : h;
}

static size_t limit_batch(const xc__bytes_config *cfg)
{
    if (!(cfg->caps & XC_CAP_BATCH))
        return 1;
    return cfg->max_batch ? cfg->max_batch : XC__BYTES_MAX_BATCH;
}

static xc__label_kind label_kind(uint32_t caps, int want_prob)
{
    if (!(caps & XC_CAP_INDEX_LABELS))
        return XC__LABELS_PROB;
    if (!(caps & XC_CAP_PROB_LABELS))
        return XC__LABELS_INDEX;
    return want_prob ? XC__LABELS_PROB : XC__LABELS_INDEX;
}

static shape read_header(reader *r, const xc__bytes_config *cfg)
{
    uint8_t bn = next(r), bh = next(r), fl = next(r), ex = next(r);
    uint32_t caps = cfg->caps;
    shape s = {.batch = 1 + bn % limit_batch(cfg), .classes = 1 + bh % limit_h(cfg)};
    s.kind = label_kind(caps, fl & FLAG_PROB);
    s.mean = (fl & FLAG_MEAN) && (caps & XC_CAP_MEAN);
    s.weights = (fl & FLAG_WEIGHTS) && (caps & XC_CAP_WEIGHTS);
    s.ignore = (fl & FLAG_IGNORE) && (caps & XC_CAP_IGNORE_INDEX) &&
               s.kind == XC__LABELS_INDEX;
    s.unnorm = (fl & FLAG_UNNORM) && (caps & XC_CAP_UNNORMALIZED) &&
               s.kind == XC__LABELS_PROB;
    s.ld = s.classes;
    if ((fl & FLAG_PAD) && (caps & XC_CAP_BATCH))
        s.ld += 1 + (ex & 7);
    s.ignore_index = (ex >> 3) ? -(int64_t)(ex >> 3) : DEFAULT_IGNORE;
    return s;
}

/* --- labels, weights, logits ------------------------------------------- */

static void read_index_labels(reader *r, xc__case *c, const shape *s)
{
    for (size_t i = 0; i < c->batch; i++) {
        uint8_t b = next(r);
        c->labels[i] = s->ignore && (b & 0x80) ? s->ignore_index
                                                : (int64_t)((b & 0x7f) % c->classes);
    }
}

static void read_prob_row(reader *r, const xc__case *c, const shape *s, double *y)
{
    double target = s->unnorm ? next(r) / 64.0 : 1.0;
    long double sum = 0;
    for (size_t k = 0; k < c->classes; k++) {
        y[k] = next(r);
        sum += y[k];
    }
    if (sum == 0 && !s->unnorm)
        y[0] = sum = 1;
    for (size_t k = 0; k < c->classes; k++)
        y[k] = sum > 0 ? to_dtype(c->dtype, (double)(y[k] * target / sum)) : 0.0;
}

static void read_labels(reader *r, xc__case *c, const shape *s)
{
    if (c->label_kind == XC__LABELS_INDEX) {
        read_index_labels(r, c, s);
        return;
    }
    for (size_t i = 0; i < c->batch; i++)
        read_prob_row(r, c, s, c->probs + i * c->ld);
}

static void read_weights(reader *r, xc__case *c)
{
    for (size_t k = 0; c->weights && k < c->classes; k++)
        c->weights[k] = next(r) / 32.0;
}

static void read_logits(reader *r, xc__case *c)
{
    double prev = 0.0;
    for (size_t i = 0; i < c->batch; i++)
        for (size_t k = 0; k < c->classes; k++) {
            double v = to_dtype(c->dtype, decode_value(r, c->dtype, prev));
            c->logits[i * c->ld + k] = v;
            prev = v;
        }
}

/* Class K of row R carries target mass (the label, or a positive prob). */
static int is_target(const xc__case *c, size_t r, size_t k)
{
    if (c->label_kind == XC__LABELS_INDEX)
        return !xc__case_row_ignored(c, r) && c->labels[r] == (int64_t)k;
    return c->probs[r * c->ld + k] != 0;
}

/* The domain `run` draws base cases from (gen.h): finite logits, and -inf
 * only on classes without target mass and never on a whole row. NaN and
 * +inf become the largest finite value of their sign; non-finite rows are
 * the nonfinite_isolation property's own variants. */
static void fit_domain(xc__case *c)
{
    double big = c->dtype == XC_F32 ? FLT_MAX : DBL_MAX;
    for (size_t r = 0; r < c->batch; r++) {
        double *z = c->logits + r * c->ld;
        size_t masked = 0;
        for (size_t k = 0; k < c->classes; k++) {
            if (isnan(z[k]) || z[k] == INFINITY)
                z[k] = signbit(z[k]) ? -big : big;
            else if (z[k] == -INFINITY && is_target(c, r, k))
                z[k] = -big;
            masked += z[k] == -INFINITY;
        }
        if (masked == c->classes)
            z[0] = 0.0;
    }
}

/* Weighted mean over index labels divides by the row weights: keep it
 * non-zero unless every row is ignored. */
static void keep_denominator(xc__case *c)
{
    if (!c->weights || c->label_kind != XC__LABELS_INDEX ||
        c->reduction != XC_REDUCE_MEAN)
        return;
    for (size_t i = 0; i < c->batch; i++)
        if (!xc__case_row_ignored(c, i) && c->weights[c->labels[i]] == 0)
            c->weights[c->labels[i]] = 1.0;
}

static uint64_t fnv1a(const uint8_t *data, size_t size)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3ULL;
    return h;
}

const xc__entry *xc__bytes_target(const xc__registry *reg, const char *name,
                                  const char *plugin)
{
    if (name && *name)
        return xc__registry_find(reg, name);
    for (size_t i = 0; plugin && *plugin && i < xc__registry_count(reg); i++) {
        const xc__entry *e = xc__registry_at(reg, i);
        if (e->origin && strcmp(e->origin, plugin) == 0)
            return e;
    }
    return xc__registry_find(reg, XC__BYTES_DEFAULT_TARGET);
}

xc__bytes_config xc__bytes_config_for(const xc_target *target)
{
    return (xc__bytes_config){.dtype = target->dtype, .caps = target->caps,
                              .max_classes = target->max_classes};
}

int xc__bytes_config_env(xc__bytes_config *cfg, char *err, size_t errlen)
{
    const char *v = getenv("XENTCHECK_FUZZ_MAX_H");
    if (!v)
        return 0;
    char *end;
    errno = 0;
    unsigned long h = strtoul(v, &end, 10);
    if (errno || end == v || *end || *v < '0' || *v > '9' || h < 1 ||
        h > XC__BYTES_MAX_H_LIMIT) {
        snprintf(err, errlen, "XENTCHECK_FUZZ_MAX_H='%s': expected a class count "
                 "from 1 to %d", v, XC__BYTES_MAX_H_LIMIT);
        return -1;
    }
    cfg->max_h = (size_t)h;
    return 0;
}

xc__case *xc__bytes_to_case(const uint8_t *data, size_t size,
                            const xc__bytes_config *cfg)
{
    reader r = {data, data ? size : 0, 0};
    shape s = read_header(&r, cfg);
    xc__case *c = xc__case_new(cfg->dtype, s.batch, s.classes, s.ld, s.kind, s.weights);
    if (!c)
        return NULL;
    c->reduction = s.mean ? XC_REDUCE_MEAN : XC_REDUCE_SUM;
    c->has_ignore_index = s.ignore;
    c->ignore_index = s.ignore ? s.ignore_index : 0;
    read_labels(&r, c, &s);
    read_weights(&r, c);
    read_logits(&r, c);
    fit_domain(c);
    keep_denominator(c);
    c->seed = fnv1a(r.p, r.n);
    c->index = 0;
    return c;
}

/* --- encoding ------------------------------------------------------------ */

typedef struct writer {
    uint8_t *p;
    size_t cap, len;
} writer;

static void put(writer *w, uint8_t b)
{
    if (w->len < w->cap)
        w->p[w->len] = b;
    w->len++;
}

/* The slot of the special value with V's bits (as the dtype rounds it), or
 * NSPECIAL. */
static unsigned special_slot(xc_dtype t, double v)
{
    const uint64_t *table = specials_of(t)->rounded_bits;
    uint64_t b = bits_of(v);
    unsigned s = 0;
    while (s < NSPECIAL && table[s] != b)
        s++;
    return s;
}

static void put_raw(writer *w, xc_dtype t, double v)
{
    uint64_t bits;
    size_t width = t == XC_F32 ? 4 : 8;
    if (t == XC_F32) {
        float f = (float)v;
        uint32_t b32;
        memcpy(&b32, &f, sizeof b32);
        bits = b32;
    } else {
        memcpy(&bits, &v, sizeof bits);
    }
    put(w, TAG_RAW);
    for (size_t i = 0; i < width; i++)
        put(w, (uint8_t)(bits >> (8 * i)));
}

static void put_value(writer *w, xc_dtype t, double v)
{
    if (v >= -32 && v <= 31 && v == rint(v) && !(v == 0 && signbit(v))) {
        put(w, (uint8_t)(TAG_INT + 0x20 + (int)v));
        return;
    }
    unsigned s = special_slot(t, v);
    if (s < NSPECIAL)
        put(w, (uint8_t)(TAG_SPECIAL + s));
    else
        put_raw(w, t, v);
}

static uint8_t quantise(double v, double scale)
{
    double q = rint(v * scale);
    return q >= 255 ? 255 : q <= 0 ? 0 : (uint8_t)q;
}

static uint8_t header_flags(const xc__case *c)
{
    uint8_t fl = 0;
    fl |= c->label_kind == XC__LABELS_PROB ? FLAG_PROB : 0;
    fl |= c->reduction == XC_REDUCE_MEAN ? FLAG_MEAN : 0;
    fl |= c->weights ? FLAG_WEIGHTS : 0;
    fl |= c->has_ignore_index ? FLAG_IGNORE : 0;
    fl |= c->ld > c->classes ? FLAG_PAD : 0;
    fl |= (xc__case_required_caps(c) & XC_CAP_UNNORMALIZED) ? FLAG_UNNORM : 0;
    return fl;
}

static void put_header(writer *w, const xc__case *c)
{
    int64_t ii = c->ignore_index;
    uint8_t k = c->has_ignore_index && ii <= -1 && ii >= -31 ? (uint8_t)-ii : 0;
    put(w, (uint8_t)(c->batch - 1));
    put(w, (uint8_t)(c->classes - 1));
    put(w, header_flags(c));
    put(w, (uint8_t)((k << 3) | ((c->ld - c->classes - (c->ld > c->classes)) & 7)));
}

static void put_prob_row(writer *w, const xc__case *c, const double *y, int unnorm)
{
    long double sum = 0;
    double top = 0;
    for (size_t k = 0; k < c->classes; k++) {
        sum += y[k];
        top = y[k] > top ? y[k] : top;
    }
    if (unnorm)
        put(w, quantise((double)sum, 64));
    for (size_t k = 0; k < c->classes; k++)
        put(w, top > 0 ? quantise(y[k] / top, 255) : 0);
}

static void put_labels(writer *w, const xc__case *c, int unnorm)
{
    for (size_t i = 0; i < c->batch; i++) {
        if (c->label_kind == XC__LABELS_PROB)
            put_prob_row(w, c, c->probs + i * c->ld, unnorm);
        else
            put(w, xc__case_row_ignored(c, i) ? 0x80 : (uint8_t)c->labels[i]);
    }
}

size_t xc__case_to_bytes(const xc__case *c, const xc__bytes_config *cfg,
                         uint8_t *out, size_t cap)
{
    if (c->batch > limit_batch(cfg) || c->classes > limit_h(cfg) ||
        c->classes > 128 || c->ld - c->classes > 8 || c->dtype != cfg->dtype)
        return 0;
    writer w = {out, out ? cap : 0, 0};
    put_header(&w, c);
    put_labels(&w, c, (header_flags(c) & FLAG_UNNORM) != 0);
    for (size_t k = 0; c->weights && k < c->classes; k++)
        put(&w, quantise(c->weights[k], 32));
    for (size_t i = 0; i < c->batch; i++)
        for (size_t k = 0; k < c->classes; k++)
            put_value(&w, c->dtype, c->logits[i * c->ld + k]);
    return w.len;
}
