/* A problem instance as the harness holds it: sizes, labels and values.
 *
 * Values are stored as doubles whatever the dtype: every f32 value is exactly
 * a double, so one representation serves both dtypes and the numerics never
 * branch on storage. xc__case_to_problem() produces the dtype buffers a
 * target sees. Ownership: a case owns all of its arrays; xc__case_free()
 * releases them.
 */
#ifndef XC_HARNESS_CASE_H
#define XC_HARNESS_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "case_pool.h"
#include "xentcheck/target.h"

typedef enum xc__label_kind {
    XC__LABELS_INDEX = 0, /* labels[r] in [0, H) or == ignore_index */
    XC__LABELS_PROB = 1   /* probs row r: H non-negative values */
} xc__label_kind;

typedef struct xc__case {
    xc_dtype dtype;
    size_t batch;
    size_t classes;
    size_t ld;
    xc_reduction reduction;
    xc__label_kind label_kind;
    double *logits;       /* batch * ld; padding entries are 0 */
    int64_t *labels;      /* batch, index labels only, else NULL */
    double *probs;        /* batch * ld, probability rows only, else NULL */
    double *weights;      /* classes, or NULL (no class weights) */
    int has_ignore_index; /* ignore_index is meaningful */
    int64_t ignore_index;
    /* Provenance: the case is a pure function of (seed, index). */
    uint64_t seed;
    uint64_t index;
    /* Where the arrays came from (xc__case_clone_in); NULL: malloc, in
     * the same block as the case itself when IN_BLOCK (xc__case_new). */
    xc__pool *pool;
    int in_block;
} xc__case;

/* Allocate a zero-filled case of the given shape; arrays for labels or probs
 * according to KIND, weights when WITH_WEIGHTS. Returns NULL on overflow or
 * out of memory. */
xc__case *xc__case_new(xc_dtype dtype, size_t batch, size_t classes, size_t ld,
                       xc__label_kind kind, int with_weights);
xc__case *xc__case_clone(const xc__case *c);
/* Remove C's class weights (freed with the case when they share its block). */
void xc__case_drop_weights(xc__case *c);
/* A clone whose arrays come from POOL (and go back there when freed). */
xc__case *xc__case_clone_in(const xc__case *c, xc__pool *pool);
void xc__case_free(xc__case *c);

/* Copy what is not an array: reduction, ignore_index and the provenance
 * (seed, index), which keeps the properties' random streams of SRC. */
void xc__case_copy_settings(xc__case *dst, const xc__case *src);

/* Round every stored value to the case's dtype (no-op for f64). Generators
 * compute in double and call this once, so a case always holds exactly what
 * the target will see. */
void xc__case_round_to_dtype(xc__case *c);

static inline double *xc__case_row(const xc__case *c, double *base, size_t r)
{
    return base + r * c->ld;
}

/* Capabilities a case needs from a target (XC_CAP_* bits). */
uint32_t xc__case_required_caps(const xc__case *c);

/* Row r is ignored (index labels equal to ignore_index). */
int xc__case_row_ignored(const xc__case *c, size_t r);

const char *xc__dtype_name(xc_dtype t);
size_t xc__dtype_size(xc_dtype t);
/* Unit roundoff u: 2^-24 (f32), 2^-53 (f64). */
double xc__dtype_unit_roundoff(xc_dtype t);
/* Smallest positive normal number of the dtype. */
double xc__dtype_min_normal(xc_dtype t);

#endif
