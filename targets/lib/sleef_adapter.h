/* Internal to the SLEEF adapter (sleef.c, sleef_f32.c, sleef_f64.c). */
#ifndef XC_TARGETS_LIB_SLEEF_ADAPTER_H
#define XC_TARGETS_LIB_SLEEF_ADAPTER_H

#include "xent.h"

/* The kernels of the widest vector extension this CPU has (see sleef.c). */
xc__softmax_f32_fn xc__sleef_kernel_f32(void);
xc__softmax_f64_fn xc__sleef_kernel_f64(void);

/* The ABI callbacks of the two targets. */
int xc__sleef_grad_f32(const xc_problem *p, void *grad, void *ctx);
int xc__sleef_grad_f64(const xc_problem *p, void *grad, void *ctx);
int xc__sleef_loss_f32(const xc_problem *p, double *loss, void *ctx);
int xc__sleef_loss_f64(const xc_problem *p, double *loss, void *ctx);

/* The generic driver instantiated by sleef_f32.c and sleef_f64.c. */
int xc__xent_grad_sleef_f32(const xc_problem *p, void *grad, xc__softmax_f32_fn f);
int xc__xent_grad_sleef_f64(const xc_problem *p, void *grad, xc__softmax_f64_fn f);
int xc__xent_loss_sleef_f32(const xc_problem *p, double *loss, void *ctx);
int xc__xent_loss_sleef_f64(const xc_problem *p, double *loss, void *ctx);
float xc__row_max_sleef_f32(const float *z, size_t n);
double xc__row_max_sleef_f64(const double *z, size_t n);

#endif
