/* The xv implementations as ABI callbacks: xv_grad_f32/_f64 and
 * xv_loss_f32/_f64, with the xv_variant as the target's ctx.
 * Included by tests/test_tolerance.c only. */
#ifndef XV_IMPLS_H
#define XV_IMPLS_H

#include "xv_variant.h"

#define XK_T float
#define XK_S(f) f##_f32
#define XK_DTYPE XC_F32
#define XK_EXP expf
#define XK_EXP2 exp2f
#define XK_LOG logf
#define XK_LOG1P log1pf
#define XK_FMA fmaf
#define XK_LDEXP ldexpf
#define XK_MIN FLT_MIN
#define XK_EXP_HI 88.72283935546875
#define XK_EXP_LO (-104.0)
#define XK_LN2_HI 0.693359375
#define XK_LN2_LO (-2.12194440e-4)
#define XK_POLY_DEG XV_POLY_DEG_F32
#include "xv_kernel.h"
#undef XK_T
#undef XK_S
#undef XK_DTYPE
#undef XK_EXP
#undef XK_EXP2
#undef XK_LOG
#undef XK_LOG1P
#undef XK_FMA
#undef XK_LDEXP
#undef XK_MIN
#undef XK_EXP_HI
#undef XK_EXP_LO
#undef XK_LN2_HI
#undef XK_LN2_LO
#undef XK_POLY_DEG

#define XK_T double
#define XK_S(f) f##_f64
#define XK_DTYPE XC_F64
#define XK_EXP exp
#define XK_EXP2 exp2
#define XK_LOG log
#define XK_LOG1P log1p
#define XK_FMA fma
#define XK_LDEXP ldexp
#define XK_MIN DBL_MIN
#define XK_EXP_HI 709.782712893384
#define XK_EXP_LO (-746.0)
#define XK_LN2_HI 6.93147180369123816490e-01
#define XK_LN2_LO 1.90821492927058770002e-10
#define XK_POLY_DEG XV_POLY_DEG_F64
#include "xv_kernel.h"

/* ---- the wide variant: an f32 problem computed in double ------------- */

typedef struct xv_wide {
    xc_problem p;       /* the f64 copy of the problem */
    double *buf;        /* logits, probs, weights, grad (one block) */
} xv_wide;

/* Rows of H values LD apart, converted; only [0, H) of each row is read
 * (the last row of an input ends at its H-th value). */
static void xv_widen(double *dst, const float *src, const xc_problem *p)
{
    for (size_t r = 0; r < p->batch; r++)
        for (size_t k = 0; k < p->classes; k++)
            dst[r * p->ld + k] = src[r * p->ld + k];
}

static int xv_wide_make(const xc_problem *p, xv_wide *w)
{
    size_t vals = p->batch * p->ld, nw = p->weights ? p->classes : 0;
    size_t np = p->probs ? vals : 0;
    w->buf = calloc(2 * vals + np + nw, sizeof *w->buf);
    if (w->buf == NULL)
        return -1;
    w->p = *p;
    w->p.dtype = XC_F64;
    xv_widen(w->buf, p->logits, p);
    w->p.logits = w->buf;
    if (p->probs) {
        xv_widen(w->buf + vals, p->probs, p);
        w->p.probs = w->buf + vals;
    }
    for (size_t k = 0; k < nw; k++)
        w->buf[vals + np + k] = ((const float *)p->weights)[k];
    if (p->weights)
        w->p.weights = w->buf + vals + np;
    return 0;
}

static int xv_wide_grad(const xc_problem *p, float *grad, const xv_variant *v)
{
    xv_wide w;
    if (p == NULL || p->dtype != XC_F32 || xv_wide_make(p, &w) != 0)
        return -1;
    size_t vals = p->batch * p->ld, nw = p->weights ? p->classes : 0;
    double *g = w.buf + vals + (p->probs ? vals : 0) + nw;
    int rc = xv_grad_f64(&w.p, g, v);
    for (size_t r = 0; rc == 0 && r < p->batch; r++)
        for (size_t k = 0; k < p->classes; k++)
            grad[r * p->ld + k] = (float)g[r * p->ld + k];
    free(w.buf);
    return rc;
}

static int xv_wide_loss(const xc_problem *p, double *loss, const xv_variant *v)
{
    xv_wide w;
    if (p == NULL || p->dtype != XC_F32 || xv_wide_make(p, &w) != 0)
        return -1;
    int rc = xv_loss_f64(&w.p, loss, v);
    if (rc == 0)
        *loss = (float)*loss;
    free(w.buf);
    return rc;
}

/* ---- ABI callbacks ----------------------------------------------------- */

static int xv_grad32(const xc_problem *p, void *grad, void *ctx)
{
    const xv_variant *v = ctx;
    return v->wide ? xv_wide_grad(p, grad, v) : xv_grad_f32(p, grad, v);
}

static int xv_loss32(const xc_problem *p, double *loss, void *ctx)
{
    const xv_variant *v = ctx;
    return v->wide ? xv_wide_loss(p, loss, v) : xv_loss_f32(p, loss, v);
}

static int xv_grad64(const xc_problem *p, void *grad, void *ctx)
{
    return xv_grad_f64(p, grad, ctx);
}

static int xv_loss64(const xc_problem *p, double *loss, void *ctx)
{
    return xv_loss_f64(p, loss, ctx);
}

#endif
