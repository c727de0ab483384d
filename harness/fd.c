/* Finite differences with proven bounds (derivation in fd.h). */
#include "fd.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fd_kernel.h"

#define KAPPA3_MAX 0.0962250448649376L  /* 1 / (6 sqrt 3) */
#define KAPPA5_MAX 0.875L

static double pow2_floor(long double x)
{
    if (!(x > 0))
        return 0x1p-30;
    int e;
    frexpl(x, &e);
    double h = ldexp(1.0, e - 1);
    return h > 1.0 ? 1.0 : h < 0x1p-40 ? 0x1p-40 : h;
}

typedef struct fd_dir {
    double *delta;      /* batch * ld realised perturbation at t = 1 */
    size_t coords;
    long double K;      /* sum |A_r| over perturbed rows */
    long double width;  /* max over rows of (max D - min D) */
} fd_dir;

static void row_direction(const xc__case *c, const xc__ref *ref, size_t r,
                          const signed char *sign, double h, int halves, fd_dir *d)
{
    size_t i0 = r * c->ld;
    xc__fd_row row = {.dtype = c->dtype, .z = c->logits + i0, .sign = sign + i0,
                      .n = c->classes, .h = h, .halves = halves};
    int down = 0, up = 0;
    size_t moved = xc__fd_row_direction(&row, d->delta + i0, &down, &up);
    if (moved > 0) {
        d->coords += moved;
        d->K += fabsl(ref->rows[r].A);
        d->width = fmaxl(d->width, (up ? h : 0.0) - (down ? -h : 0.0));
    }
}

static void build_direction(const xc__case *c, const xc__ref *ref,
                            const signed char *sign, double h, int halves, fd_dir *d)
{
    d->coords = 0;
    d->K = 0;
    d->width = 0;
    memset(d->delta, 0, c->batch * c->ld * sizeof *d->delta);
    for (size_t r = 0; r < c->batch; r++)
        if (ref->rows[r].kind == XC__ROW_FINITE)
            row_direction(c, ref, r, sign, h, halves, d);
}

/* The three sums in long double, one class at a time: where the
 * double-double lanes overflow (terms near DBL_MAX, whose sum long double's
 * range still holds) or a term is not finite. */
static void sums_long_double(const xc__case *c, const xc__bounds *b, const double *grad,
                             const fd_dir *d, long double v[XC__FD_SUMS])
{
    v[XC__FD_DOT] = v[XC__FD_MAG] = v[XC__FD_BOUND] = 0;
    for (size_t r = 0; r < c->batch; r++)
        for (size_t k = 0; k < c->classes; k++) {
            double dk = d->delta[r * c->ld + k];
            if (dk == 0)
                continue;
            long double g = grad[r * c->ld + k];
            v[XC__FD_DOT] += dk > 0 ? g : -g;
            v[XC__FD_MAG] += fabsl(g);
            v[XC__FD_BOUND] += b->grad[r * c->classes + k];
        }
}

/* sum g_k d_k over the moved coordinates, and in *SLACK the bounds' and
 * the sum's share of the error. Every moved coordinate moves by +-H, a
 * power of two in [2^-40, 1]: the sums run over +-g_k, |g_k| and b_k
 * (fd_kernel.h, in double-double: at least long double's accuracy; in
 * long double when those overflow) and are scaled by H after, in long
 * double (exact: a power of two, nothing near long double's range
 * limits). */
static long double predicted_and_slack(const xc__case *c, const xc__bounds *b,
                                       const double *grad, const fd_dir *d, double h,
                                       long double *slack)
{
    xc__fd_sums acc;
    long double v[XC__FD_SUMS];
    memset(&acc, 0, sizeof acc);
    for (size_t r = 0; r < c->batch; r++)
        xc__fd_sums_row(grad + r * c->ld, b->grad + r * c->classes, d->delta + r * c->ld,
                        c->classes, &acc);
    int finite = 1;
    for (int w = 0; w < XC__FD_SUMS; w++) {
        v[w] = xc__fd_sums_value(&acc, w);
        finite &= isfinite(v[w]) != 0;
    }
    if (!finite)
        sums_long_double(c, b, grad, d, v);
    long double lh = h;
    *slack = lh * v[XC__FD_BOUND] +
             lh * v[XC__FD_MAG] * (long double)(c->classes * c->batch) * LDBL_EPSILON;
    return lh * v[XC__FD_DOT];
}

/* The loss where the central scheme measured it, phi(+-1) along DIR: the
 * Richardson scheme's step is often twice the central one, and then its
 * phi(+-1/2) are the same points. A target's loss is deterministic (the
 * ABI's contract), so a point measured once is not measured again. */
typedef struct fd_memo {
    const fd_dir *dir;      /* NULL: nothing measured */
    double plus, minus;     /* phi(+1), phi(-1) along DIR */
} fd_memo;

/* 1 when z + T D is z + S M->dir, element by element: the same case. */
static int same_point(const xc__case *c, const fd_dir *d, double t,
                      const fd_dir *m, double s)
{
    size_t n = c->batch * c->ld;
    for (size_t i = 0; i < n; i++)
        if (t * d->delta[i] != s * m->delta[i])
            return 0;
    return 1;
}

static int memo_lookup(const xc__case *c, const fd_dir *d, double t,
                       const fd_memo *m, double *out)
{
    if (!m || !m->dir)
        return 0;
    if (same_point(c, d, t, m->dir, 1))
        *out = m->plus;
    else if (same_point(c, d, t, m->dir, -1))
        *out = m->minus;
    else
        return 0;
    return 1;
}

/* phi(t): the loss at z + t D. */
static int eval_at(const xc__case *c, const fd_dir *d, double t, xc__case *work,
                   const fd_memo *memo, xc__loss_at_fn loss_at, void *ctx,
                   double *out)
{
    if (memo_lookup(c, d, t, memo, out))
        return 0;
    size_t n = c->batch * c->ld;
    for (size_t i = 0; i < n; i++)
        work->logits[i] = d->delta[i] != 0 ? c->logits[i] + t * d->delta[i] : c->logits[i];
    return loss_at(ctx, work, out);
}

static int central(const xc__case *c, const fd_dir *d, xc__case *work,
                   xc__loss_at_fn loss_at, void *ctx, xc__fd_result *out)
{
    int rc = eval_at(c, d, 1, work, NULL, loss_at, ctx, &out->loss_plus);
    if (rc == 0)
        rc = eval_at(c, d, -1, work, NULL, loss_at, ctx, &out->loss_minus);
    out->measured = ((long double)out->loss_plus - out->loss_minus) / 2;
    return rc;
}

static int richardson(const xc__case *c, const fd_dir *d, xc__case *work,
                      const fd_memo *memo, xc__loss_at_fn loss_at, void *ctx,
                      xc__fd_result *out)
{
    double p1 = 0, m1 = 0, p2 = 0, m2 = 0;
    int rc = eval_at(c, d, 1, work, memo, loss_at, ctx, &p1);
    if (rc == 0) rc = eval_at(c, d, -1, work, memo, loss_at, ctx, &m1);
    if (rc == 0) rc = eval_at(c, d, 0.5, work, memo, loss_at, ctx, &p2);
    if (rc == 0) rc = eval_at(c, d, -0.5, work, memo, loss_at, ctx, &m2);
    long double d1 = ((long double)p1 - m1) / 2;
    long double d2 = (long double)p2 - m2;
    out->measured = (4 * d2 - d1) / 3;
    out->loss_plus = p1;
    out->loss_minus = m1;
    return rc;
}

static long double central_bound(const fd_dir *d, long double E)
{
    long double w = d->width;
    return d->K * KAPPA3_MAX * w * w * w / 6 + E;
}

static long double richardson_bound(const fd_dir *d, long double E)
{
    long double w = d->width;
    return d->K * KAPPA5_MAX * w * w * w * w * w / 288 + 3 * E;
}

static int run_scheme(const xc__case *c, const xc__ref *ref, const xc__bounds *b,
                      double factor, const double *grad, const signed char *sign,
                      int use_richardson, fd_dir *d, xc__case *work,
                      const fd_memo *memo, xc__loss_at_fn loss_at, void *ctx,
                      xc__fd_result *out)
{
    long double E0 = xc__loss_bound(c, ref, factor, 1.0);
    long double K = 0;
    for (size_t r = 0; r < c->batch; r++)
        K += fabsl(ref->rows[r].A);
    long double ratio = K > 0 ? E0 / K : 1;
    double h = use_richardson ? pow2_floor(powl(7.72L * ratio, 0.2L))
                              : pow2_floor(cbrtl(ratio / 0.256L));
    build_direction(c, ref, sign, h, use_richardson, d);
    *out = (xc__fd_result){.h = h, .coords = d->coords, .richardson = use_richardson};
    if (d->coords == 0)
        return 0;
    long double E = xc__loss_bound(c, ref, factor, h);
    long double slack;
    out->predicted = predicted_and_slack(c, b, grad, d, h, &slack);
    out->bound = (use_richardson ? richardson_bound(d, E) : central_bound(d, E)) + slack;
    int rc = use_richardson ? richardson(c, d, work, memo, loss_at, ctx, out)
                            : central(c, d, work, loss_at, ctx, out);
    out->evaluated = rc == 0;
    out->informative = out->bound < fabsl(out->predicted);
    return rc;
}

int xc__fd_holds(const xc__fd_result *r)
{
    return !r->evaluated || fabsl(r->measured - r->predicted) <= r->bound;
}

int xc__fd_directional(const xc__case *c, const xc__ref *ref, const xc__bounds *b,
                       double factor, const double *grad, const signed char *sign,
                       xc__loss_at_fn loss_at, void *ctx, xc__fd_result *out)
{
    return xc__fd_directional_in(c, ref, b, factor, grad, sign, loss_at, ctx,
                                 NULL, out);
}

int xc__fd_directional_in(const xc__case *c, const xc__ref *ref,
                          const xc__bounds *b, double factor, const double *grad,
                          const signed char *sign, xc__loss_at_fn loss_at,
                          void *ctx, xc__pool *pool, xc__fd_result *out)
{
    size_t bytes = c->batch * c->ld * sizeof(double);
    fd_dir d = {0}, dr = {0};
    d.delta = xc__pool_get(pool, bytes);
    dr.delta = xc__pool_get(pool, bytes);
    xc__case *work = xc__case_clone_in(c, pool);
    int rc = -1;
    if (!d.delta || !dr.delta || !work)
        goto done;
    rc = run_scheme(c, ref, b, factor, grad, sign, 0, &d, work, NULL, loss_at, ctx, out);
    /* Both schemes are rigorous: a violation of either is a failure; when
     * both hold, keep the tighter. */
    if (rc == 0 && out->evaluated && xc__fd_holds(out) &&
        out->bound > 0.01L * fabsl(out->predicted)) {
        xc__fd_result rich;
        fd_memo memo = {&d, out->loss_plus, out->loss_minus};
        rc = run_scheme(c, ref, b, factor, grad, sign, 1, &dr, work, &memo, loss_at,
                        ctx, &rich);
        if (rc == 0 && rich.evaluated && (!xc__fd_holds(&rich) || rich.bound < out->bound))
            *out = rich;
    }
done:
    xc__case_free(work);
    xc__pool_put(pool, dr.delta);
    xc__pool_put(pool, d.delta);
    return rc;
}
