/* Finite differences: exact steps, the proven bound holding on the
 * reference loss (the oracle's self-check), and catching a loss that is
 * not the gradient's. */
#include <check.h>
#include <math.h>
#include <mpfr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/fd.h"
#include "../harness/gen.h"
#include "../harness/pcg32.h"
#include "../harness/reference.h"
#include "../harness/tolerance.h"

START_TEST(exact_steps)
{
    ck_assert(xc__fd_exact_step(XC_F32, 1.0, 0x1p-10));
    ck_assert(!xc__fd_exact_step(XC_F32, 1.0, 0x1p-30));      /* below ulp(1) */
    ck_assert(xc__fd_exact_step(XC_F64, 1.0, 0x1p-30));
    ck_assert(!xc__fd_exact_step(XC_F64, 0x1p60, 0x1p-2));    /* lost in 2^60 */
    ck_assert(!xc__fd_exact_step(XC_F32, 3.4028235e38, 0x1p104)); /* overflows */
    ck_assert(xc__fd_exact_step(XC_F32, 0.0, 0x1p-12));
    ck_assert(xc__fd_exact_step(XC_F64, -0x1p-3, 0x1p-3));   /* z - d = 2z: exact */
    ck_assert(!xc__fd_exact_step(XC_F64, 0x1p-60, 0x1p-3));   /* |z| < d, lost in d */
    ck_assert(!xc__fd_exact_step(XC_F64, INFINITY, 0x1p-3));
    ck_assert(!xc__fd_exact_step(XC_F64, NAN, 0x1p-3));
}
END_TEST

/* An independent decision of whether z + d is exact in the dtype: the
 * sum in MPFR at 2200 bits (exact for any two doubles) against its
 * rounding to the dtype's precision and range. */
static int exact_in(xc_dtype t, double z, double d)
{
    mpfr_t x, r;
    mpfr_inits2(2200, x, r, (mpfr_ptr)0);
    mpfr_set_d(x, z, MPFR_RNDN);
    mpfr_add_d(x, x, d, MPFR_RNDN);
    double s = t == XC_F32 ? (double)mpfr_get_flt(x, MPFR_RNDN) : mpfr_get_d(x, MPFR_RNDN);
    mpfr_set_d(r, s, MPFR_RNDN);
    int exact = isfinite(s) && mpfr_equal_p(x, r);
    mpfr_clears(x, r, (mpfr_ptr)0);
    return exact;
}

/* xc__fd_exact_step against exact_in on both sides (+-d) over logits of
 * every magnitude relative to the step (below, near and far above it,
 * subnormal, near the dtype's largest value) and steps 2^-40 .. 1. */
START_TEST(exact_steps_match_exact_arithmetic)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, 2026, 12);
    size_t agree = 0, exact = 0;
    for (int i = 0; i < 20000; i++) {
        xc_dtype t = i % 2 ? XC_F32 : XC_F64;
        double d = ldexp(1.0, -(int)xc__pcg32_below(&g, 41));
        int e = (int)xc__pcg32_below(&g, 120) - 90;
        double z = ldexp(1.0 + xc__pcg32_below(&g, 1u << 20) / 1048576.0, e);
        if (i % 7 == 0) /* a few significant bits: steps often exact */
            z = ldexp((double)xc__pcg32_below(&g, 64), e);
        if (i % 11 == 0)
            z = (t == XC_F32 ? 0x1p-140 : 0x1p-1070) * xc__pcg32_below(&g, 8);
        if (i % 13 == 0)
            z = t == XC_F32 ? 3.4028235e38 : 1.7976931348623157e308;
        z = xc__pcg32_below(&g, 2) ? -z : z;
        if (t == XC_F32)
            z = (double)(float)z;
        int want = exact_in(t, z, d) && exact_in(t, z, -d);
        int got = xc__fd_exact_step(t, z, d);
        ck_assert_msg(got == want, "%s z=%a d=%a: %d, exact arithmetic says %d",
                      t == XC_F32 ? "f32" : "f64", z, d, got, want);
        agree++;
        exact += (size_t)want;
    }
    /* both answers common enough to matter */
    ck_assert_uint_gt(exact, agree / 10);
    ck_assert_uint_lt(exact, agree - agree / 10);
}
END_TEST

/* The loss as a target computes it: the exact reference loss, rounded to
 * the dtype, optionally scaled (a loss inconsistent with its gradient). */
typedef struct ref_loss {
    double scale;
    int calls;
} ref_loss;

static int reference_loss_at(void *ctx, const xc__case *c, double *loss)
{
    ref_loss *l = ctx;
    xc__ref r;
    if (xc__reference(c, &r) != 0)
        return -1;
    double v = (double)(r.loss * l->scale);
    *loss = c->dtype == XC_F32 ? (double)(float)v : v;
    l->calls++;
    xc__ref_free(&r);
    return 0;
}

typedef struct fd_stats {
    int evaluated, held, informative, richardson;
} fd_stats;

static void run_one(const xc__case *c, double scale, fd_stats *st)
{
    xc__ref ref;
    xc__bounds b;
    ck_assert_int_eq(xc__reference(c, &ref), 0);
    ck_assert_int_eq(xc__bounds_compute(c, &ref, 1, &b), 0);
    size_t n = c->batch * c->ld;
    double *grad = calloc(n, sizeof *grad);
    signed char *sign = calloc(n, 1);
    for (size_t r = 0; r < c->batch; r++)
        for (size_t k = 0; k < c->classes; k++) {
            long double g = xc__ld_of_dd(ref.grad[r * c->classes + k]);
            grad[r * c->ld + k] = c->dtype == XC_F32 ? (double)(float)g : (double)g;
            sign[r * c->ld + k] = (r + 3 * k) % 2 ? 1 : -1;
        }
    ref_loss l = {scale, 0};
    xc__fd_result res;
    int loss_ok = isfinite((double)ref.loss) && fabsl(ref.loss_scale) < 1e30L;
    if (loss_ok && xc__fd_directional(c, &ref, &b, 1, grad, sign, reference_loss_at,
                                      &l, &res) == 0 && res.evaluated) {
        st->evaluated++;
        st->held += xc__fd_holds(&res);
        st->informative += res.informative;
        st->richardson += res.richardson;
    }
    free(sign);
    free(grad);
    xc__bounds_free(&b);
    xc__ref_free(&ref);
}

static void sweep(xc_dtype t, double scale, fd_stats *st)
{
    xc__gen_config cfg = {.dtype = t, .caps = XC_CAPS_ALL_V1, .max_classes = 512,
                          .max_elements = 4096};
    memset(st, 0, sizeof *st);
    for (uint64_t i = 0; i < 400; i++) {
        xc__case *c = xc__gen_case(&cfg, 11, i);
        run_one(c, scale, st);
        xc__case_free(c);
    }
}

/* Oracle self-check: finite differences of the reference loss agree with
 * the reference gradient within the proven bound, every time; and the
 * bound is informative (tighter than the derivative) in most cases. */
START_TEST(reference_loss_consistent)
{
    fd_stats st;
    sweep(_i ? XC_F64 : XC_F32, 1.0, &st);
    fprintf(stderr, "%s: evaluated %d held %d informative %d richardson %d\n",
            _i ? "f64" : "f32", st.evaluated, st.held, st.informative, st.richardson);
    ck_assert_int_gt(st.evaluated, 200);
    ck_assert_int_eq(st.held, st.evaluated);
    ck_assert_int_gt(st.informative, st.evaluated / 2);
}
END_TEST

/* A loss 1% off its gradient (a temperature bug) is caught wherever the
 * check is informative. */
START_TEST(inconsistent_loss_caught)
{
    fd_stats st;
    sweep(_i ? XC_F64 : XC_F32, 1.01, &st);
    fprintf(stderr, "%s, loss 1%% off: evaluated %d held %d informative %d richardson %d\n",
            _i ? "f64" : "f32", st.evaluated, st.held, st.informative, st.richardson);
    ck_assert_int_gt(st.evaluated, 200);
    /* f64 losses are accurate enough to see 1% almost everywhere; an f32
     * loss's proven error bound hides it in many cases. */
    ck_assert_int_lt(st.held, _i ? st.evaluated / 10 : st.evaluated * 3 / 4);
}
END_TEST

/* Where the central bound is too loose to see a 1% error, Richardson
 * extrapolation (its own proven bound, from the fifth cumulant) catches
 * some of what the central difference cannot. */
START_TEST(richardson_catches_what_central_cannot)
{
    fd_stats st;
    sweep(XC_F32, 1.01, &st);
    ck_assert_int_gt(st.richardson, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fd");
    TCase *tc = tcase_create("fd");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, exact_steps);
    tcase_add_test(tc, exact_steps_match_exact_arithmetic);
    tcase_add_loop_test(tc, reference_loss_consistent, 0, 2);
    tcase_add_loop_test(tc, inconsistent_loss_caught, 0, 2);
    tcase_add_test(tc, richardson_catches_what_central_cannot);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
