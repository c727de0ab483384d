/* Finite differences of a loss along a direction, with a proven error bound.
 *
 * phi(t) = L(z + t D), where D has entries in {-h, 0, +h} (h a power of
 * two) on coordinates where z_k +- h (and +- h/2) are exact in the dtype, so
 * the perturbed logits are exactly what the analysis assumes. Central
 * difference: (phi(1) - phi(-1)) / 2 = phi'(0) + (phi'''(xi1) + phi'''(xi2)) / 12.
 * For one row, d^j/dt^j of Y logsumexp(z + tD) is Y times the j-th cumulant
 * of D_K with K ~ softmax(z + tD); for a variable in an interval of width w,
 * |kappa_3| <= w^3 / (6 sqrt 3) (the two-point extremum, DESIGN.md) and
 * |kappa_5| <= |mu_5| + 10 |mu_3| mu_2 <= (1/4 + 10/16) w^5. The loss's
 * linear part has no higher derivatives. With E the bound on the target's
 * loss error (tolerance.h) and B_k the gradient bounds:
 *   central:    |(phi(1) - phi(-1))/2 - g.D| <= K 0.0962 w^3 / 6 + E + sum B_k |D_k|
 *   Richardson: R = (4 D(1/2) - D(1)) / 3 with D(s) = (phi(s) - phi(-s)) / 2s,
 *               |R - g.D| <= K 0.875 w^5 / 288 + 3 E + sum B_k |D_k|
 * where K = sum over perturbed rows of |A_r| (reference.h). Steps minimise
 * the bound: h = (E / 0.256 K)^(1/3) (central), (7.72 E / K)^(1/5)
 * (Richardson, used when the central bound is too loose to see a 1% error).
 */
#ifndef XC_HARNESS_FD_H
#define XC_HARNESS_FD_H

#include <stddef.h>

#include "case.h"
#include "fd_kernel.h" /* xc__fd_exact_step */
#include "reference.h"
#include "tolerance.h"

/* Evaluates the loss at case C (same shape as the base case, perturbed
 * logits). Returns 0 on success; non-zero stops the check (the callback
 * records why). */
typedef int (*xc__loss_at_fn)(void *ctx, const xc__case *c, double *loss);

typedef struct xc__fd_result {
    int evaluated;          /* 0: empty direction or a failed call */
    int richardson;         /* 1 when Richardson extrapolation was used */
    int informative;        /* bound < |predicted|: the check could see an error of the gradient's size */
    double h;
    size_t coords;          /* perturbed coordinates */
    long double measured;   /* finite-difference estimate of g.D */
    long double predicted;  /* g^.D from the target's gradient */
    long double bound;      /* allowed |measured - predicted| */
    double loss_plus, loss_minus;
} xc__fd_result;

/* SIGN: batch * ld entries in {-1, 0, 1} choosing the direction's pattern;
 * GRAD: the target's gradient (batch * ld). Returns 0, or the callback's
 * non-zero value, or -1 on out of memory. */
int xc__fd_directional(const xc__case *c, const xc__ref *ref, const xc__bounds *b,
                       double factor, const double *grad, const signed char *sign,
                       xc__loss_at_fn loss_at, void *ctx, xc__fd_result *out);
/* The same with scratch arrays from POOL. A Richardson pass reuses the
 * central pass's losses at points both measure (the same perturbed case). */
int xc__fd_directional_in(const xc__case *c, const xc__ref *ref,
                          const xc__bounds *b, double factor, const double *grad,
                          const signed char *sign, xc__loss_at_fn loss_at,
                          void *ctx, xc__pool *pool, xc__fd_result *out);

/* 1 when the estimate agrees with the prediction within the bound (also
 * when nothing was evaluated). NaN never holds. */
int xc__fd_holds(const xc__fd_result *r);

#endif
