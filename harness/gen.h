/* Case generation: a case is a pure function of (seed, index) and of the
 * target's dtype, caps and size limits.
 *
 * Each case draws a shape (N from 1, H from 1 to max_classes with small rows
 * most often, ld > H sometimes), a label form (index labels including 0 and
 * H - 1; one-hot, smoothed, random and sparse probability rows; unnormalised
 * sums 0, 0.7, 1.3...; class weights with zeros and large ratios;
 * ignore_index with some or all rows ignored) and a logit family (normal at
 * scales 1e-3...1e3, ties, one dominant class, tiny differences, subnormals,
 * mixed magnitudes, random bit patterns), optionally shifted near and far
 * beyond the exp overflow threshold of the dtype, with -inf masked classes
 * (never the label, never a whole row). Every tenth case takes the next of a
 * table of edge shapes (H = 1, SIMD widths, 257 and 32769 classes with the
 * label last, batches over 64, the full feature combination), so rare
 * shapes come early in every run. Non-finite and all-masked rows are
 * made by the properties that need them, not here.
 */
#ifndef XC_HARNESS_GEN_H
#define XC_HARNESS_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "pcg32.h"

typedef struct xc__gen_config {
    xc_dtype dtype;
    uint32_t caps;            /* target caps: only what it supports is drawn */
    size_t max_classes;       /* largest H drawn (>= 1) */
    size_t max_elements;      /* largest N * ld drawn (>= max_classes) */
} xc__gen_config;

/* The case of index INDEX in the run seeded SEED; NULL on out of memory. */
xc__case *xc__gen_case(const xc__gen_config *cfg, uint64_t seed, uint64_t index);

/* The generator stream of a case: every random choice of case (SEED, INDEX)
 * comes from it; the properties use a second, independent stream. */
void xc__gen_stream(xc__pcg32 *g, uint64_t seed, uint64_t index, uint64_t purpose);

/* Largest finite argument of exp for the dtype: ~88.72 (f32), ~709.78 (f64). */
double xc__gen_exp_overflow(xc_dtype t);

#endif
