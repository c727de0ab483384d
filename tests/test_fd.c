/* Finite differences: exact steps, the direction and sum kernels (the AVX2
 * ones give the portable ones' bits, both the definitions'), the proven
 * bound holding on the reference loss (the oracle's self-check), and
 * catching a loss that is not the gradient's. */
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

/* A logit for the direction kernels: ordinary, huge (steps lost), tiny,
 * zero, infinite or NaN; rounded to float for f32. */
static double direction_logit(xc__pcg32 *g, xc_dtype t)
{
    static const double specials[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 0x1p60,
                                      -0x1p30, 0x1p-60, 3.4028235e38};
    double z = xc__pcg32_below(g, 5) == 0
                   ? specials[xc__pcg32_below(g, 9)]
                   : ldexp(xc__pcg32_next(g) / 4294967296.0 - 0.5,
                           (int)xc__pcg32_below(g, 40) - 10);
    return t == XC_F32 ? (double)(float)z : z;
}

/* Both direction kernels against the definition (fd_kernel.h). */
START_TEST(direction_kernels_match_definition)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, 44, 2);
    size_t moved_total = 0, still = 0;
    for (int n = 0; n < 4000; n++) {
        xc_dtype t = n % 2 ? XC_F32 : XC_F64;
        double z[37], delta[37];
        signed char sign[37];
        size_t h = 1 + xc__pcg32_below(&g, 37);
        for (size_t k = 0; k < h; k++) {
            z[k] = direction_logit(&g, t);
            sign[k] = (signed char)((int)xc__pcg32_below(&g, 3) - 1);
        }
        xc__fd_row row = {.dtype = t, .z = z, .sign = sign, .n = h,
                          .h = ldexp(1, -(int)xc__pcg32_below(&g, 41)),
                          .halves = (int)xc__pcg32_below(&g, 2)};
        for (int v = 0; v <= xc__fd_has_vector(); v++) {
            int down = 0, up = 0, want_down = 0, want_up = 0;
            size_t moved = xc__fd_row_direction_with(v, &row, delta, &down, &up), want = 0;
            for (size_t k = 0; k < h; k++) {
                int m = sign[k] != 0 && xc__fd_exact_step(t, z[k], row.h) &&
                        (!row.halves || xc__fd_exact_step(t, z[k], row.h / 2));
                double d = m ? (sign[k] > 0 ? row.h : -row.h) : 0.0;
                ck_assert_msg(memcmp(&d, &delta[k], sizeof d) == 0,
                              "%s kernel, %s z %a sign %d h %a halves %d: delta %a, "
                              "want %a", v ? "vector" : "portable",
                              t == XC_F32 ? "f32" : "f64", z[k], sign[k], row.h,
                              row.halves, delta[k], d);
                want += (size_t)m;
                want_down |= m && sign[k] < 0;
                want_up |= m && sign[k] > 0;
            }
            ck_assert(moved == want && down == want_down && up == want_up);
            moved_total += moved;
            still += h - moved;
        }
    }
    ck_assert(moved_total > 10000 && still > 10000);
}
END_TEST

/* Both sum kernels give the same bits, within 2 (n + 4) u^2 of each sum's
 * own terms' magnitudes of its exact value (MPFR), plus the final rounding
 * to long double: far tighter than a double sum, and than a long double
 * one of these terms (spread over 2^120, with cancellation). */
START_TEST(sum_kernels_agree_and_are_accurate)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, 45, 3);
    mpfr_t exact[XC__FD_SUMS], mag[XC__FD_SUMS], term;
    for (int w = 0; w < XC__FD_SUMS; w++) {
        mpfr_init2(exact[w], 2300);
        mpfr_init2(mag[w], 2300);
    }
    mpfr_init2(term, 2300);
    for (int n = 0; n < 500; n++) {
        xc__fd_sums acc[2];
        memset(acc, 0, sizeof acc);
        for (int w = 0; w < XC__FD_SUMS; w++) {
            mpfr_set_ui(exact[w], 0, MPFR_RNDN);
            mpfr_set_ui(mag[w], 0, MPFR_RNDN);
        }
        size_t terms = 0;
        for (int r = 0; r < 3; r++) {
            double gr[41], b[41], delta[41];
            size_t h = 1 + xc__pcg32_below(&g, 41);
            for (size_t k = 0; k < h; k++) {
                gr[k] = ldexp(xc__pcg32_next(&g) / 4294967296.0 - 0.5,
                              (int)xc__pcg32_below(&g, 120) - 60);
                b[k] = ldexp(xc__pcg32_next(&g) / 4294967296.0, -(int)xc__pcg32_below(&g, 60));
                delta[k] = (double)((int)xc__pcg32_below(&g, 3) - 1) * 0x1p-12;
                if (delta[k] == 0)
                    continue;
                double v[XC__FD_SUMS] = {delta[k] > 0 ? gr[k] : -gr[k], fabs(gr[k]), b[k]};
                for (int w = 0; w < XC__FD_SUMS; w++) {
                    mpfr_add_d(exact[w], exact[w], v[w], MPFR_RNDN);
                    mpfr_add_d(mag[w], mag[w], fabs(v[w]), MPFR_RNDN);
                }
                terms++;
            }
            for (int v = 0; v <= xc__fd_has_vector(); v++)
                xc__fd_sums_row_with(v, gr, b, delta, h, &acc[v]);
        }
        if (xc__fd_has_vector())
            ck_assert(memcmp(&acc[0], &acc[1], sizeof acc[0]) == 0);
        for (int w = 0; w < XC__FD_SUMS; w++) {
            mpfr_set_ld(term, xc__fd_sums_value(&acc[0], w), MPFR_RNDN);
            mpfr_sub(term, exact[w], term, MPFR_RNDN);
            long double err = fabsl(mpfr_get_ld(term, MPFR_RNDN));
            long double tol = 2.0L * (long double)(terms + 4) * 0x1p-106L *
                                  mpfr_get_ld(mag[w], MPFR_RNDU) +
                              0x1p-63L * fabsl(mpfr_get_ld(exact[w], MPFR_RNDU));
            ck_assert_msg(err <= tol, "sum %d of %zu terms off by %Lg (tolerance %Lg)", w,
                          terms, err, tol);
        }
    }
    /* A vacuous bound (+inf) makes its sum +inf, a NaN gradient its sums NaN,
     * as long double sums would. */
    for (int v = 0; v <= xc__fd_has_vector(); v++) {
        double gr[6] = {1, 2, 3, NAN, 5, 6}, b[6] = {1, INFINITY, 1, 1, 1, 1},
               delta[6] = {0x1p-3, -0x1p-3, 0x1p-3, 0x1p-3, 0x1p-3, 0x1p-3};
        xc__fd_sums acc;
        memset(&acc, 0, sizeof acc);
        xc__fd_sums_row_with(v, gr, b, delta, 6, &acc);
        ck_assert(xc__fd_sums_value(&acc, XC__FD_BOUND) == INFINITY);
        ck_assert(isnan(xc__fd_sums_value(&acc, XC__FD_DOT)));
        ck_assert(isnan(xc__fd_sums_value(&acc, XC__FD_MAG)));
    }
    for (int w = 0; w < XC__FD_SUMS; w++) {
        mpfr_clear(exact[w]);
        mpfr_clear(mag[w]);
    }
    mpfr_clear(term);
    mpfr_free_cache();
}
END_TEST

/* Gradient values near DBL_MAX whose sums overflow double but not long
 * double: the prediction and the bound are the long double sums', finite
 * (before, the double-double lanes made them NaN and the check failed). */
START_TEST(huge_gradient_sums_stay_finite)
{
    xc__case *c = xc__case_new(XC_F64, 1, 4, 4, XC__LABELS_INDEX, 0);
    const double z[4] = {0.125, 0.25, 0.375, 0.5};
    memcpy(c->logits, z, sizeof z);
    c->labels[0] = 2;
    c->reduction = XC_REDUCE_SUM;
    xc__ref ref;
    xc__bounds b;
    ck_assert_int_eq(xc__reference(c, &ref), 0);
    ck_assert_int_eq(xc__bounds_compute(c, &ref, 1, &b), 0);
    double grad[4] = {1e308, 1e308, -1e308, -1e308};
    signed char sign[4] = {1, 1, 1, 1};
    ref_loss l = {1.0, 0};
    xc__fd_result res;
    ck_assert_int_eq(xc__fd_directional(c, &ref, &b, 1, grad, sign, reference_loss_at, &l,
                                        &res), 0);
    ck_assert(res.evaluated && res.predicted == 0 && isfinite(res.bound) && res.bound > 0);
    ck_assert(xc__fd_holds(&res));
    xc__bounds_free(&b);
    xc__ref_free(&ref);
    xc__case_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fd");
    TCase *tc = tcase_create("fd");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, exact_steps);
    tcase_add_test(tc, exact_steps_match_exact_arithmetic);
    tcase_add_test(tc, direction_kernels_match_definition);
    tcase_add_test(tc, sum_kernels_agree_and_are_accurate);
    tcase_add_test(tc, huge_gradient_sums_stay_finite);
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
