/* Neumaier's compensated sum in long double, for the fast reference.
 *
 * Error: 2 u_L |sum| + O(n u_L^2) for n terms of one sign (Higham,
 * Accuracy and Stability, section 4.3), u_L = LDBL_EPSILON / 2.
 */
#ifndef XC_HARNESS_KSUM_H
#define XC_HARNESS_KSUM_H

#include <math.h>

typedef struct xc__ksum {
    long double sum, comp;
} xc__ksum;

static inline void xc__ksum_add(xc__ksum *k, long double x)
{
    long double t = k->sum + x;
    if (!isfinite(t)) { /* inf or NaN: compensation would turn it into NaN */
        k->sum = t;
        return;
    }
    if (fabsl(k->sum) >= fabsl(x))
        k->comp += (k->sum - t) + x;
    else
        k->comp += (x - t) + k->sum;
    k->sum = t;
}

/* xc__ksum_add for a finite term X >= 0 and a sum that stays finite (the
 * softmax's terms, each <= 1): the same operations without the checks. */
static inline void xc__ksum_add_pos(xc__ksum *k, long double x)
{
    long double t = k->sum + x;
    if (k->sum >= x)
        k->comp += (k->sum - t) + x;
    else
        k->comp += (x - t) + k->sum;
    k->sum = t;
}

static inline long double xc__ksum_value(const xc__ksum *k)
{
    return isfinite(k->sum) ? k->sum + k->comp : k->sum;
}

#endif
