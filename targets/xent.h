/* Internal to targets/: the cross-entropy driver shared by the built-in
 * targets.
 *
 * A built-in target is a per-row softmax kernel (the algorithm under test)
 * wrapped by one driver per dtype that implements the problem semantics of
 * include/xentcheck/target.h: index or probability labels, class weights,
 * ignore_index, sum or mean reduction, padding and masked rows. Keeping the
 * semantics in one place means the targets differ only where their
 * algorithms do.
 */
#ifndef XC_TARGETS_XENT_H
#define XC_TARGETS_XENT_H

#include <stddef.h>

#include "xentcheck/target.h"

/* Softmax of the N logits Z into OUT (N values). Returns 0, or non-zero when
 * the row has no softmax (no logit above -inf); OUT is then unspecified and
 * the driver writes the row's documented policy (zeros). */
typedef int (*xc__softmax_f64_fn)(const double *z, size_t n, double *out);
typedef int (*xc__softmax_f32_fn)(const float *z, size_t n, float *out);

/* Gradient of P's reduced loss into GRAD, each row's softmax from SOFTMAX.
 * Returns 0, or -1 when P is malformed (wrong dtype, both or neither label
 * kind, a label outside [0, H) that is not ignore_index). */
int xc__xent_grad_f64(const xc_problem *p, void *grad, xc__softmax_f64_fn softmax);
int xc__xent_grad_f32(const xc_problem *p, void *grad, xc__softmax_f32_fn softmax);

/* Reduced loss of P, computed in the dtype from each row's max-shifted
 * log-sum-exp; a loss callback as the ABI defines it (CTX unused). */
int xc__xent_loss_f64(const xc_problem *p, double *loss, void *ctx);
int xc__xent_loss_f32(const xc_problem *p, double *loss, void *ctx);

/* Largest of the N logits Z, NaN ignored; -inf when none is above -inf. */
double xc__row_max_f64(const double *z, size_t n);
float xc__row_max_f32(const float *z, size_t n);

/* The built-in targets' callbacks, listed in targets/builtin.c. */
int xc__f64_shifted_grad(const xc_problem *p, void *grad, void *ctx);
int xc__f32_shifted_grad(const xc_problem *p, void *grad, void *ctx);
int xc__f32_logsoftmax_grad(const xc_problem *p, void *grad, void *ctx);

#endif
