/* A variant of the base case (shifted, permuted, one row, non-finite rows):
 * its reference, bounds and the target's gradient on it. */
#ifndef XC_HARNESS_PROPS_VARIANT_H
#define XC_HARNESS_PROPS_VARIANT_H

#include "props.h"

typedef struct xc__variant {
    xc__case *c;
    xc__ref ref;
    xc__bounds bounds;
    double *grad;
    xc__pool *pool;     /* grad's pool */
} xc__variant;

/* Takes ownership of V. Calls the target (calls that fail are reported
 * under their own properties) and, when WITH_REFERENCE, computes V's own
 * reference and bounds. Returns 0 when the gradient is available. */
int xc__variant_eval(xc__prop_base *b, xc__variant *out, xc__case *v,
                     int with_reference, const char *property);
void xc__variant_free(xc__variant *v);

/* Compare X (row RX of base layout) with FACTOR * Y (row RY of the variant)
 * element-wise through the map K -> PERM[K] (NULL = identity), within the sum
 * of both bounds; reports the first violation under PROPERTY, introduced
 * by WHAT_FMT and its arguments (printf; formatted only then). */
int xc__variant_match(xc__prop_base *b, const xc__variant *v, size_t rx,
                      size_t ry, const size_t *perm, long double factor,
                      const char *property, const char *what_fmt, ...)
    __attribute__((format(printf, 8, 9)));

#endif
