/* A float-aware custom mutator for xentcheck-fuzz (libFuzzer only: AFL++'s
 * driver ignores these hooks, which is why the decoding itself is
 * float-aware too).
 *
 * Half of the mutations decode the input into a case (bytes_case.h), change
 * it the way numerical bugs are found (exponent jumps, sign flips, special
 * values, overflow thresholds, ties, one logit copied over its row, rows or
 * classes added and removed, the label moved to 0 or H - 1, flags) and
 * encode it back; the other half, and every case that does not encode
 * within MaxSize, go to libFuzzer's own byte mutations.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_decode.h"
#include "gen.h"
#include "pcg32.h"

/* Weak: AFL++'s driver and other engines may not provide it. */
__attribute__((weak)) size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static size_t engine_mutate(uint8_t *data, size_t size, size_t max_size)
{
    return LLVMFuzzerMutate ? LLVMFuzzerMutate(data, size, max_size) : size;
}

enum {
    OP_EXPONENT, OP_SIGN, OP_SPECIAL, OP_OVERFLOW, OP_TIE, OP_COPY, OP_SHIFT,
    OP_GROW_H, OP_SHRINK_H, OP_GROW_N, OP_SHRINK_N, OP_LABEL, OP_FLAGS, OP_COUNT
};

static double *any_logit(xc__pcg32 *g, const xc__case *c, size_t *row)
{
    *row = xc__pcg32_below64(g, c->batch);
    return c->logits + *row * c->ld + xc__pcg32_below64(g, c->classes);
}

static double jump_exponent(xc__pcg32 *g, double v)
{
    int e = (int)xc__pcg32_below(g, 17) - 8;
    return v == 0 || !isfinite(v) ? ldexp(1, e * 4) : ldexp(v, e * (1 + (int)xc__pcg32_below(g, 16)));
}

/* The overflow threshold of exp, its neighbours, and far beyond. */
static double near_overflow(xc__pcg32 *g, xc_dtype t)
{
    static const double f[] = {1.0, 1.0000001, 0.9999999, 2.0, 1.5, 8.0};
    double ov = xc__gen_exp_overflow(t) * f[xc__pcg32_below(g, 6)];
    return xc__pcg32_below(g, 2) ? -ov : ov;
}

static void fill_row(xc__case *c, size_t r, double v)
{
    for (size_t k = 0; k < c->classes; k++)
        c->logits[r * c->ld + k] = v;
}

static void shift_row(xc__pcg32 *g, xc__case *c, size_t r)
{
    double s = near_overflow(g, c->dtype);
    for (size_t k = 0; k < c->classes; k++)
        c->logits[r * c->ld + k] += s;
}

static void mutate_value(xc__pcg32 *g, xc__case *c, int op)
{
    size_t r;
    double *z = any_logit(g, c, &r);
    switch (op) {
    case OP_EXPONENT: *z = jump_exponent(g, *z); break;
    case OP_SIGN: *z = -*z; break;
    case OP_SPECIAL: *z = xc__bytes_special(c->dtype, xc__pcg32_below(g, 32)); break;
    case OP_OVERFLOW: *z = near_overflow(g, c->dtype); break;
    case OP_TIE: *z = c->logits[r * c->ld + xc__pcg32_below64(g, c->classes)]; break;
    case OP_COPY: fill_row(c, r, *z); break;
    default: shift_row(g, c, r); break;
    }
}

/* C resized to BATCH x CLASSES; new cells copy their neighbours. */
static xc__case *resized(const xc__case *c, size_t batch, size_t classes)
{
    size_t ld = classes + (c->ld - c->classes);
    xc__case *d = xc__case_new(c->dtype, batch, classes, ld, c->label_kind, c->weights != NULL);
    for (size_t r = 0; d && r < batch; r++) {
        size_t sr = r < c->batch ? r : c->batch - 1;
        for (size_t k = 0; k < classes; k++) {
            size_t sk = k < c->classes ? k : c->classes - 1;
            d->logits[r * ld + k] = c->logits[sr * c->ld + sk];
            if (c->probs)
                d->probs[r * ld + k] = c->probs[sr * c->ld + sk];
        }
        if (c->labels)
            d->labels[r] = xc__case_row_ignored(c, sr) ? c->labels[sr]
                                                      : c->labels[sr] % (int64_t)classes;
    }
    for (size_t k = 0; d && d->weights && k < classes; k++)
        d->weights[k] = c->weights[k < c->classes ? k : c->classes - 1];
    if (d) {
        d->reduction = c->reduction;
        d->has_ignore_index = c->has_ignore_index;
        d->ignore_index = c->ignore_index;
    }
    return d;
}

static xc__case *mutate_shape(xc__pcg32 *g, xc__case *c, int op)
{
    size_t n = c->batch, h = c->classes;
    if (op == OP_GROW_H)
        h += 1 + xc__pcg32_below64(g, h);
    else if (op == OP_SHRINK_H)
        h = h > 1 ? 1 + xc__pcg32_below64(g, h - 1) : h;
    else if (op == OP_GROW_N)
        n++;
    else
        n = n > 1 ? n - 1 : n;
    xc__case *d = resized(c, n, h);
    if (!d)
        return c;
    xc__case_free(c);
    return d;
}

static void move_label(xc__pcg32 *g, xc__case *c)
{
    size_t r = xc__pcg32_below64(g, c->batch);
    if (c->labels && !xc__case_row_ignored(c, r))
        c->labels[r] = xc__pcg32_below(g, 2) ? 0 : (int64_t)c->classes - 1;
}

static void flip_flags(xc__pcg32 *g, xc__case *c)
{
    if (xc__pcg32_below(g, 2))
        c->reduction = c->reduction == XC_REDUCE_MEAN ? XC_REDUCE_SUM : XC_REDUCE_MEAN;
    else
        move_label(g, c);
}

static xc__case *mutate_case(xc__pcg32 *g, xc__case *c)
{
    int op = (int)xc__pcg32_below(g, OP_COUNT);
    if (op <= OP_SHIFT)
        mutate_value(g, c, op);
    else if (op <= OP_SHRINK_N)
        c = mutate_shape(g, c, op);
    else if (op == OP_LABEL)
        move_label(g, c);
    else
        flip_flags(g, c);
    xc__case_round_to_dtype(c);
    return c;
}

/* Encode C into DATA when it fits; the new size, or 0. */
static size_t encode(const xc__case *c, uint8_t *data, size_t max_size)
{
    size_t n = xc__case_to_bytes(c, xc__fuzz_bytes_config(), data, max_size);
    return n <= max_size ? n : 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, seed, 0x6d7574u);
    if (xc__pcg32_below(&g, 2))
        return engine_mutate(data, size, max_size);
    xc__case *c = xc__bytes_to_case(data, size, xc__fuzz_bytes_config());
    size_t n = 0;
    for (uint32_t i = 0, times = 1 + xc__pcg32_below(&g, 3); c && i < times; i++)
        c = mutate_case(&g, c);
    if (c)
        n = encode(c, data, max_size);
    xc__case_free(c);
    return n ? n : engine_mutate(data, size, max_size);
}

/* Rows of case 1 with some rows (or leading logits) taken from case 2. */
static void cross_rows(xc__pcg32 *g, xc__case *a, const xc__case *b)
{
    size_t h = a->classes < b->classes ? a->classes : b->classes;
    for (size_t r = 0; r < a->batch; r++) {
        if (xc__pcg32_below(g, 2))
            continue;
        size_t br = r % b->batch;
        memcpy(a->logits + r * a->ld, b->logits + br * b->ld, h * sizeof(double));
    }
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,
                                 const uint8_t *data2, size_t size2,
                                 uint8_t *out, size_t max_out_size, unsigned int seed)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, seed, 0x63726fu);
    const xc__bytes_config *cfg = xc__fuzz_bytes_config();
    xc__case *a = xc__bytes_to_case(data1, size1, cfg);
    xc__case *b = xc__bytes_to_case(data2, size2, cfg);
    size_t n = 0;
    if (a && b) {
        cross_rows(&g, a, b);
        n = encode(a, out, max_out_size);
    }
    xc__case_free(a);
    xc__case_free(b);
    if (n == 0 && max_out_size > 0) {
        n = size1 < max_out_size ? size1 : max_out_size;
        memcpy(out, data1, n);
    }
    return n;
}
