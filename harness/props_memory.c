/* determinism and no_read_before_write: repeat calls with other poison.
 *
 * The base call ran with poison A (a NaN pattern). A second call with
 * poison B (a large finite pattern) must give the same bits; if it does not,
 * a third call with poison B tells the two apart: equal to the second means
 * the result follows the buffer's prior content (read before write),
 * different means the target is not deterministic. */
#include "props.h"

#include <string.h>

static int first_difference(const xc__case *c, const double *x, const double *y,
                            size_t *r_out, size_t *k_out)
{
    for (size_t r = 0; r < c->batch; r++)
        for (size_t k = 0; k < c->classes; k++)
            if (memcmp(&x[r * c->ld + k], &y[r * c->ld + k], sizeof *x) != 0) {
                *r_out = r;
                *k_out = k;
                return 1;
            }
    return 0;
}

static void report(xc__prop_base *b, const char *prop, const double *x,
                   const double *y, size_t r, size_t k, const char *why)
{
    char a[96], bb[96], desc[256];
    xc__fmt_value(a, sizeof a, x[r * b->c->ld + k], b->c->dtype);
    xc__fmt_value(bb, sizeof bb, y[r * b->c->ld + k], b->c->dtype);
    xc__case_describe(b->c, desc, sizeof desc);
    xc__prop_fail(b, prop, "%s: %s\n  row %zu, class %zu: first call %s, repeat %s",
                  why, desc, r, k, a, bb);
}

/* The base and the poison-B call differ at (R, K): a third call with poison
 * B tells read-before-write from nondeterminism. */
static void tell_apart(xc__prop_base *b, const double *again, size_t r, size_t k)
{
    const xc__case *c = b->c;
    double *third = xc__pool_get(b->pool, c->batch * c->ld * sizeof *third);
    size_t r3, k3;
    if (!third)
        b->env->harness_error = 1;
    else if (xc__prop_call_grad(b, c, XC__POISON_B, third, XC__P_DETERMINISM) == 0) {
        if (!first_difference(c, again, third, &r3, &k3))
            report(b, XC__P_POISON, b->grad, again, r, k,
                   "the gradient depends on the buffer's prior content (read before write; "
                   "poison 0xffc0dead vs 0x4b5a5a5a)");
        else
            report(b, XC__P_DETERMINISM, again, third, r3, k3,
                   "two calls on the same input gave different bits");
    }
    xc__pool_put(b->pool, third);
}

void xc__prop_memory(xc__prop_base *b)
{
    const xc__case *c = b->c;
    double *again = xc__pool_get(b->pool, c->batch * c->ld * sizeof *again);
    size_t r, k;
    xc__prop_ran(b, XC__P_DETERMINISM);
    xc__prop_ran(b, XC__P_POISON);
    if (!again)
        b->env->harness_error = 1;
    else if (xc__prop_call_grad(b, c, XC__POISON_B, again, XC__P_POISON) == 0 &&
             first_difference(c, b->grad, again, &r, &k))
        tell_apart(b, again, r, k);
    xc__pool_put(b->pool, again);
}
