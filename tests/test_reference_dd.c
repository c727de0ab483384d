/* The double-double softmax numerators of the fast reference
 * (harness/reference_dd.c) against MPFR, and its two kernels against each
 * other.
 *
 * Each test holds the code to the bound its proof states: exp_dd within
 * 0.25 u_L, every e_k within 1.25 u_L (4 u_L below XC__EXP_DD_MIN), the
 * sum within 8 u_L; and the AVX2/FMA kernel gives the portable kernel's
 * bits (no contraction, the same lanes).
 */
#include <check.h>
#ifndef CHECK_MAJOR_VERSION
#error "<check.h> is not Check's: a project header shadows it on the include path"
#endif
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpfr.h>

#include "../harness/pcg32.h"
#include "../harness/reference_dd.h"

#define PREC 256
#define U_L (LDBL_EPSILON / 2)

/* |got - x| / x in u_L, for X > 0 held in MPFR. */
static long double rel_error_u(mpfr_t got, mpfr_t x)
{
    mpfr_t d;
    mpfr_init2(d, PREC);
    mpfr_sub(d, got, x, MPFR_RNDN);
    mpfr_div(d, d, x, MPFR_RNDN);
    long double rel = fabsl(mpfr_get_ld(d, MPFR_RNDN)) / U_L;
    mpfr_clear(d);
    return rel;
}

/* Both halves of every 2^(j/64) are rounded to nearest. */
START_TEST(dd_table_correctly_rounded)
{
    mpfr_t x;
    mpfr_init2(x, PREC);
    for (int j = 0; j < 64; j++) {
        mpfr_set_si(x, j, MPFR_RNDN);
        mpfr_div_ui(x, x, 64, MPFR_RNDN);
        mpfr_exp2(x, x, MPFR_RNDN);
        double hi = mpfr_get_d(x, MPFR_RNDN);
        mpfr_sub_d(x, x, hi, MPFR_RNDN); /* exact at PREC bits */
        double lo = mpfr_get_d(x, MPFR_RNDN);
        ck_assert_msg(xc__exp2_dd_table[j].hi == hi && xc__exp2_dd_table[j].lo == lo,
                      "2^(%d/64): table (%a, %a), MPFR (%a, %a)", j,
                      xc__exp2_dd_table[j].hi, xc__exp2_dd_table[j].lo, hi, lo);
    }
    mpfr_clear(x);
    mpfr_free_cache();
}
END_TEST

/* |eh + el - exp(hi + lo)| / exp(hi + lo), in u_L. */
static long double exp_dd_error(double hi, double lo)
{
    mpfr_t x, got;
    mpfr_inits2(PREC, x, got, (mpfr_ptr)0);
    mpfr_set_d(x, hi, MPFR_RNDN);
    mpfr_add_d(x, x, lo, MPFR_RNDN);
    mpfr_exp(x, x, MPFR_RNDN);
    xc__dd e = xc__exp_dd(hi, lo);
    mpfr_set_d(got, e.hi, MPFR_RNDN);
    mpfr_add_d(got, got, e.lo, MPFR_RNDN);
    long double rel = rel_error_u(got, x);
    mpfr_clears(x, got, (mpfr_ptr)0);
    return rel;
}

/* hi in [XC__EXP_DD_MIN, 0], |lo| <= 2^-53 |hi|: the pairs TwoSum gives;
 * every seventh next to a multiple of ln2/64 (where n rounds). */
static void draw_pair(xc__pcg32 *g, int form, double *hi, double *lo)
{
    static const double spans[] = {1e-6, 0.006, 1, 30, 300, 660};
    double span = spans[form % 6];
    *hi = -span * xc__pcg32_unit(g);
    if (form % 7 == 3)
        *hi = -(double)xc__pcg32_below(g, 60000) * 0x1.62e42fefa39efp-7 * 0.5 *
                  (span / 660) + 1e-12 * (xc__pcg32_unit(g) - 0.5);
    if (*hi > 0)
        *hi = -*hi;
    if (*hi < XC__EXP_DD_MIN)
        *hi = XC__EXP_DD_MIN;
    *lo = ldexp(*hi, -53) * (2 * xc__pcg32_unit(g) - 1);
}

START_TEST(exp_dd_matches_mpfr)
{
    static const double edges[] = {0.0, -0x1p-1074, -1e-300, -0x1.62e42fefa39efp-8,
                                   -0x1.62e42fefa39efp-7, -0.5, -1, -600, -659.99,
                                   XC__EXP_DD_MIN};
    long double worst_u = 0;
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        long double e = exp_dd_error(edges[i], 0);
        ck_assert_msg(e <= 0.25L, "exp(%a): %Lg u_L", edges[i], e);
        worst_u = fmaxl(worst_u, e);
    }
    xc__pcg32 g;
    xc__pcg32_seed(&g, 78, 4);
    for (int i = 0; i < 60000; i++) {
        double hi, lo;
        draw_pair(&g, i, &hi, &lo);
        long double e = exp_dd_error(hi, lo);
        ck_assert_msg(e <= 0.25L, "exp(%a + %a): %Lg u_L", hi, lo, e);
        worst_u = fmaxl(worst_u, e);
    }
    printf("xc__exp_dd: worst error %.3Lg u_L (bound 0.25)\n", worst_u);
    mpfr_free_cache();
}
END_TEST

/* A row of N logits of kind FORM below its max *M (drawn in [-50, 50], so
 * that z - m rounds and its TwoSum low part is exercised): spread over 40
 * below, over 2000 below (many under XC__EXP_DD_MIN), with -inf entries,
 * or only the max within XC__EXP_DD_MIN (a sum made of deep terms alone).
 * The max sits at *SKIP. */
static double *draw_row(xc__pcg32 *g, int form, size_t n, size_t *skip, double *m)
{
    double *z = malloc(n * sizeof *z);
    ck_assert_ptr_nonnull(z);
    static const double widths[] = {40, 2000, 40, 2000};
    *m = 100 * xc__pcg32_unit(g) - 50;
    for (size_t k = 0; k < n; k++) {
        z[k] = *m - widths[form % 4] * xc__pcg32_unit(g);
        if (form % 4 == 2 && xc__pcg32_below(g, 5) == 0)
            z[k] = -INFINITY;
        if (form % 4 == 3)
            z[k] = *m + XC__EXP_DD_MIN - 1 - 1000 * xc__pcg32_unit(g);
    }
    *skip = xc__pcg32_below(g, (uint32_t)n);
    z[*skip] = *m;
    return z;
}

/* Every e_k and the sum against MPFR, on rows of every kind and of sizes
 * around the lanes (4) and the renormalisation (1024 per lane). */
START_TEST(numerators_match_mpfr)
{
    static const size_t sizes[] = {1, 2, 3, 5, 17, 1000, 4097, 9000};
    mpfr_t x, sum, got;
    mpfr_inits2(PREC, x, sum, got, (mpfr_ptr)0);
    xc__pcg32 g;
    xc__pcg32_seed(&g, 79, 5);
    long double worst_e = 0, worst_s = 0, worst_t = 0;
    for (int form = 0; form < 4; form++)
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            size_t n = sizes[si], skip;
            double m;
            double *z = draw_row(&g, form, n, &skip, &m);
            long double *e = malloc(n * sizeof *e);
            ck_assert_ptr_nonnull(e);
            xc__dd total;
            long double others = xc__softmax_numerators(z, n, m, skip, e, &total);
            mpfr_set_zero(sum, 1);
            for (size_t k = 0; k < n; k++) {
                long double ek = xc__numerator_value(&e[k], z[k], m);
                if (z[k] == -INFINITY) {
                    ck_assert_msg(ek == 0, "e(-inf) = %La", ek);
                    continue;
                }
                mpfr_set_d(x, z[k], MPFR_RNDN);
                mpfr_sub_d(x, x, m, MPFR_RNDN); /* exact at PREC bits */
                mpfr_exp(x, x, MPFR_RNDN);
                if (k != skip)
                    mpfr_add(sum, sum, x, MPFR_RNDN);
                mpfr_set_ld(got, ek, MPFR_RNDN);
                long double err = rel_error_u(got, x);
                int in_dd = z[k] - m >= XC__EXP_DD_MIN;
                ck_assert_msg(err <= (in_dd ? 1.25L : 4.0L),
                              "form %d n %zu: e(%a - %a) off by %Lg u_L", form, n, z[k],
                              m, err);
                worst_e = fmaxl(worst_e, in_dd ? err : 0);
            }
            if (mpfr_zero_p(sum)) {
                ck_assert_msg(others == 0, "empty sum gave %La", others);
            } else {
                mpfr_set_ld(got, others, MPFR_RNDN);
                long double err = rel_error_u(got, sum);
                ck_assert_msg(err <= 8.0L, "form %d n %zu: sum off by %Lg u_L", form,
                              n, err);
                worst_s = fmaxl(worst_s, err);
            }
            /* The whole sum T = 1 + others, as a pair: within 1 u_L. */
            mpfr_add_ui(sum, sum, 1, MPFR_RNDN);
            mpfr_set_d(got, total.hi, MPFR_RNDN);
            mpfr_add_d(got, got, total.lo, MPFR_RNDN);
            long double err_t = rel_error_u(got, sum);
            ck_assert_msg(err_t <= 1.0L, "form %d n %zu: T off by %Lg u_L", form, n,
                          err_t);
            worst_t = fmaxl(worst_t, err_t);
            free(e);
            free(z);
        }
    printf("numerators: worst e_k %.3Lg u_L (bound 1.25), sum %.3Lg u_L (bound 8), "
           "T %.3Lg u_L (bound 1)\n", worst_e, worst_s, worst_t);
    mpfr_clears(x, sum, got, (mpfr_ptr)0);
    mpfr_free_cache();
}
END_TEST

/* The bytes a slot's value takes: a pair's 16, a long double's 10. */
static size_t slot_bytes(double z, double m)
{
    return z - m >= XC__EXP_DD_MIN ? sizeof(xc__dd) : 10;
}

/* The AVX2/FMA kernel and the portable one give the same bits: the
 * reference, and so every report, is the same on every x86-64 machine. */
START_TEST(kernels_agree_bitwise)
{
    if (!xc__softmax_has_fma()) {
        printf("kernels_agree_bitwise: this processor has no AVX2/FMA; only the "
               "portable kernel runs here, so there is nothing to compare\n");
        return;
    }
    static const size_t sizes[] = {1, 3, 4, 7, 64, 1023, 1024, 1025, 4099, 10000};
    xc__pcg32 g;
    xc__pcg32_seed(&g, 80, 6);
    for (int form = 0; form < 4; form++)
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            size_t n = sizes[si], skip;
            double m;
            double *z = draw_row(&g, form, n, &skip, &m);
            long double *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
            ck_assert(a && b);
            xc__dd ta, tb;
            long double sa = xc__softmax_numerators_with(1, z, n, m, skip, a, &ta);
            long double sb = xc__softmax_numerators_with(0, z, n, m, skip, b, &tb);
            ck_assert_msg(memcmp(&sa, &sb, 10) == 0 && memcmp(&ta, &tb, sizeof ta) == 0,
                          "form %d n %zu: sums %La, %La", form, n, sa, sb);
            for (size_t k = 0; k < n; k++)
                ck_assert_msg(memcmp(&a[k], &b[k], slot_bytes(z[k], m)) == 0,
                              "form %d n %zu: e[%zu] %La, %La", form, n, k,
                              xc__numerator_value(&a[k], z[k], m),
                              xc__numerator_value(&b[k], z[k], m));
            free(a);
            free(b);
            free(z);
        }
}
END_TEST

static Suite *reference_dd_suite(void)
{
    Suite *s = suite_create("reference_dd");
    TCase *t = tcase_create("dd");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, dd_table_correctly_rounded);
    tcase_add_test(t, exp_dd_matches_mpfr);
    tcase_add_test(t, numerators_match_mpfr);
    tcase_add_test(t, kernels_agree_bitwise);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reference_dd_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
