/* Property orchestration and the helpers the properties share. */
#include "props.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

const char *const xc__property_names[] = {
    XC__P_REFERENCE_GRAD, XC__P_REFERENCE_LOSS, XC__P_FD, XC__P_SHIFT,
    XC__P_ROW_SUM, XC__P_BOUNDS, XC__P_FINITE, XC__P_PERMUTATION, XC__P_BATCH,
    XC__P_DETERMINISM, XC__P_INPUTS, XC__P_POISON, XC__P_PADDING, XC__P_GUARD,
    XC__P_NONFINITE, XC__P_MASKED, XC__P_RETURN, XC__P_CRASH, XC__P_HANG, NULL};

enum { PURPOSE_PROPS = 0x70726f70u };

void xc__prop_fail(xc__prop_base *b, const char *property, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    b->failures++;
    b->env->sink.fail(b->env->sink.ctx, property, b->c, msg);
}

void xc__prop_ran(xc__prop_base *b, const char *property)
{
    if (b->env->sink.ran)
        b->env->sink.ran(b->env->sink.ctx, property);
}

void xc__fmt_value(char *buf, size_t len, long double v, xc_dtype t)
{
    if (t == XC_F32 && (long double)(float)v == v)
        snprintf(buf, len, "%a (%.9g)", (double)(float)v, (double)v);
    else if ((long double)(double)v == v || isnan(v))
        snprintf(buf, len, "%a (%.17g)", (double)v, (double)v);
    else
        snprintf(buf, len, "%La (%.21Lg)", v, v);
}

void xc__case_describe(const xc__case *c, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s N=%zu H=%zu ld=%zu %s labels, %s",
                     xc__dtype_name(c->dtype), c->batch, c->classes, c->ld,
                     c->label_kind == XC__LABELS_INDEX ? "index" : "probability",
                     c->reduction == XC_REDUCE_MEAN ? "mean" : "sum");
    if (n > 0 && (size_t)n < len && c->weights)
        n += snprintf(buf + n, len - (size_t)n, ", weights");
    if (n > 0 && (size_t)n < len && c->has_ignore_index)
        snprintf(buf + n, len - (size_t)n, ", ignore_index=%lld",
                 (long long)c->ignore_index);
}

static const char *status_property(xc__call_status s)
{
    switch (s) {
    case XC__CALL_RETURNED_ERROR: return XC__P_RETURN;
    case XC__CALL_CRASHED:
    case XC__CALL_EXITED: return XC__P_CRASH;
    case XC__CALL_HUNG: return XC__P_HANG;
    case XC__CALL_WROTE_INPUT: return XC__P_INPUTS;
    case XC__CALL_WROTE_PADDING: return XC__P_PADDING;
    case XC__CALL_WROTE_OUTSIDE: return XC__P_GUARD;
    default: return NULL;
    }
}

static int call_failed(xc__prop_base *b, const xc__case *v,
                       const xc__call_result *res, const char *fn, const char *during)
{
    if (res->status == XC__CALL_OK)
        return 0;
    const char *prop = status_property(res->status);
    if (!prop) {
        b->env->harness_error = 1;
        return -1;
    }
    char desc[256];
    xc__case_describe(v, desc, sizeof desc);
    xc__prop_fail(b, prop, "%s() %s (code %d) on %s, while checking %s: %s", fn,
                  xc__call_status_str(res->status), res->code, desc, during,
                  res->detail);
    return -1;
}

int xc__prop_call_grad(xc__prop_base *b, const xc__case *v, uint32_t poison,
                       double *out, const char *during)
{
    xc__call_result res;
    if (b->env->stop)
        return -1;
    xc__exec_grad(b->env->exec, v, poison, out, &res);
    return call_failed(b, v, &res, "grad", during);
}

int xc__prop_call_loss(xc__prop_base *b, const xc__case *v, double *out,
                       const char *during)
{
    xc__call_result res;
    if (b->env->stop)
        return -1;
    xc__exec_loss(b->env->exec, v, out, &res);
    return call_failed(b, v, &res, "loss", during);
}

static int base_setup(xc__prop_base *b, xc__prop_env *env, const xc__case *c)
{
    memset(b, 0, sizeof *b);
    b->env = env;
    b->c = c;
    b->pool = xc__exec_pool(env->exec);
    b->grad = xc__pool_get(b->pool, c->batch * c->ld * sizeof *b->grad);
    if (!b->grad || xc__reference_in(c, b->pool, &b->ref) != 0 ||
        xc__bounds_compute_in(c, &b->ref, env->tol_factor, b->pool, &b->bounds) != 0) {
        env->harness_error = 1;
        return -1;
    }
    return 0;
}

static void base_teardown(xc__prop_base *b)
{
    xc__bounds_free(&b->bounds);
    xc__ref_free(&b->ref);
    xc__pool_put(b->pool, b->grad);
}

/* The properties that make calls of their own beyond the base grad and the
 * loss, one group each. Each draws from its own stream of the case's
 * randomness, so a group run alone (xc__props_run_part) draws exactly what
 * it draws in the full run, and a failure found either way replays. */
typedef void (*prop_group)(xc__prop_base *b);
static const prop_group groups[XC__PROP_PARTS] = {
    xc__prop_memory, xc__prop_fd, xc__prop_metamorphic,
    xc__prop_batch, xc__prop_nonfinite, xc__prop_masked};

static void run_group(xc__prop_base *b, unsigned g)
{
    xc__gen_stream(&b->rng, b->c->seed, b->c->index, PURPOSE_PROPS + g);
    groups[g](b);
}

/* The base call, the properties that need no call beyond it and the loss,
 * then group ONLY (or every group when ONLY >= XC__PROP_PARTS). */
static size_t run_case(xc__prop_env *env, const xc__case *c, unsigned only)
{
    xc__prop_base b;
    if (base_setup(&b, env, c) == 0 &&
        xc__prop_call_grad(&b, c, XC__POISON_A, b.grad, XC__P_REFERENCE_GRAD) == 0) {
        xc__prop_reference(&b);
        xc__prop_loss(&b);
        for (unsigned g = 0; g < XC__PROP_PARTS; g++)
            if (only >= XC__PROP_PARTS || g == only)
                run_group(&b, g);
    }
    base_teardown(&b);
    return b.failures;
}

size_t xc__props_run_case(xc__prop_env *env, const xc__case *c)
{
    return run_case(env, c, XC__PROP_PARTS);
}

size_t xc__props_run_part(xc__prop_env *env, const xc__case *c, unsigned part)
{
    return run_case(env, c, part % XC__PROP_PARTS);
}

uint64_t xc__props_turn(const xc__case *c)
{
    return c->index + (c->seed >> 11);
}
