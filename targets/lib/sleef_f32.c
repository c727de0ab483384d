/* The SLEEF targets' f32 problem semantics: the driver of targets/xent_impl.h
 * (labels, weights, ignore_index, reductions) around the vector kernel that
 * sleef.c chose, and the loss on SLEEF's scalar 1-ulp Sleef_expf_u10 / Sleef_logf_u10. */
#include <sleef.h>

#include "sleef_adapter.h"
#include "xent.h"

#define XT float
#define XT_DTYPE XC_F32
#define XT_EXP Sleef_expf_u10
#define XT_LOG Sleef_logf_u10
#define XT_SOFTMAX xc__softmax_f32_fn
#define XT_FN(f) f##_sleef_f32

#include "xent_impl.h"

int xc__sleef_grad_f32(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    return xc__xent_grad_sleef_f32(p, grad, xc__sleef_kernel_f32());
}

int xc__sleef_loss_f32(const xc_problem *p, double *loss, void *ctx)
{
    return xc__xent_loss_sleef_f32(p, loss, ctx);
}
