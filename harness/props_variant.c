/* Evaluating and matching variants of the base case. */
#include "props_variant.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void xc__variant_free(xc__variant *v)
{
    xc__bounds_free(&v->bounds);
    xc__ref_free(&v->ref);
    xc__pool_put(v->pool, v->grad);
    xc__case_free(v->c);
    v->c = NULL;
    v->grad = NULL;
}

int xc__variant_eval(xc__prop_base *b, xc__variant *out, xc__case *v,
                     int with_reference, const char *property)
{
    *out = (xc__variant){.c = v, .pool = b->pool};
    if (!v) {
        b->env->harness_error = 1;
        return -1;
    }
    out->grad = xc__pool_get(b->pool, v->batch * v->ld * sizeof *out->grad);
    if (!out->grad ||
        (with_reference && (xc__reference_in(v, b->pool, &out->ref) != 0 ||
                            xc__bounds_compute_in(v, &out->ref, b->env->tol_factor,
                                                  b->pool, &out->bounds) != 0))) {
        b->env->harness_error = 1;
        return -1;
    }
    return xc__prop_call_grad(b, v, XC__POISON_A, out->grad, property);
}

static void report_mismatch(xc__prop_base *b, const xc__variant *v, size_t rx,
                            size_t kx, size_t ry, size_t ky, long double x,
                            long double y, long double allowed,
                            const char *property, const char *what)
{
    char desc[256], xs[96], ys[96];
    xc__case_describe(b->c, desc, sizeof desc);
    xc__fmt_value(xs, sizeof xs, x, b->c->dtype);
    xc__fmt_value(ys, sizeof ys, y, v->c->dtype);
    xc__prop_fail(b, property,
                  "%s: %s\n  base row %zu, class %zu: %s\n  variant row %zu, class %zu "
                  "(scaled): %s\n  |difference| %.3Lg > allowed %.3Lg",
                  what, desc, rx, kx, xs, ry, ky, ys, fabsl(x - y), allowed);
}

int xc__variant_match(xc__prop_base *b, const xc__variant *v, size_t rx,
                      size_t ry, const size_t *perm, long double factor,
                      const char *property, const char *what_fmt, ...)
{
    const xc__case *c = b->c;
    for (size_t k = 0; k < c->classes; k++) {
        size_t ky = perm ? perm[k] : k;
        long double x = b->grad[rx * c->ld + k];
        long double y = factor * v->grad[ry * v->c->ld + ky];
        long double allowed = b->bounds.grad[rx * c->classes + k] +
                              fabsl(factor) * v->bounds.grad[ry * v->c->classes + ky] +
                              fabsl(y) * 0x1p-62L;
        if (fabsl(x - y) <= allowed)
            continue;
        char what[512];
        va_list ap;
        va_start(ap, what_fmt);
        vsnprintf(what, sizeof what, what_fmt, ap);
        va_end(ap);
        report_mismatch(b, v, rx, k, ry, ky, x, y, allowed, property, what);
        return 0;
    }
    return 1;
}
