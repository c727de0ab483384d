/* The comparison kernels (harness/compare_kernel.c):
 *   - every verdict is certain: an element called clear has, computed
 *     exactly with MPFR, E = |x - (hi + lo)| <= b - 2 (R s + R_a), and one
 *     called over has a non-finite x or E > b;
 *   - the kernels decide what is plain: E <= b / 2 - 2 R_k is clear, E >= 2b
 *     (b >= 2^-1000) is over, and undecided elements are only those near
 *     the bound;
 *   - the AVX2 kernel gives the portable one's bits (verdicts, the worst
 *     ratio and where it is, the worst scaled error);
 *   - the worst is the largest ratio, the first on ties, a non-finite
 *     value's above every finite one.
 * The elements reach every branch: errors at and around the bound and the
 * band below it, vacuous, subnormal and DBL_MAX bounds, scales far above
 * the value (cancellation), pairs below double's normal range and near
 * its top, NaN and infinite computed values, errors that overflow.
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

#include "../harness/compare_kernel.h"
#include "../harness/pcg32.h"
#include "../harness/reference.h"

#define EXACT_PREC 2300 /* any difference of doubles, exactly */

/* The fast reference's R and the MPFR one's at 192 bits (2^-63 + 32 2^-192
 * rounded up in long double). */
static const long double rel_errs[] = {0x1p-58L, 0x1p-63L + 0x1p-126L};

typedef struct element {
    double x, b, s;
    xc__dd g;
} element;

static double unit(xc__pcg32 *g)
{
    return xc__pcg32_next(g) / 4294967296.0;
}

/* A reference value: normal, tiny, subnormal, zero or huge, with a low
 * part (the pair of a long double). */
static xc__dd draw_pair(xc__pcg32 *g)
{
    static const int exps[] = {0, -3, -30, -500, -1000, -1030, -1070, 900, 1023};
    int e = exps[xc__pcg32_below(g, 9)];
    if (xc__pcg32_below(g, 16) == 0)
        return (xc__dd){0.0, 0.0};
    long double v = ldexpl((long double)unit(g) + 0x1p-40L * unit(g), e);
    return xc__dd_of_ld(xc__pcg32_next(g) & 1 ? -v : v);
}

/* An element whose error is a chosen multiple of its bound, or one of the
 * special cases. */
static element draw_element(xc__pcg32 *g, double u)
{
    static const double at[] = {0, 0.25, 0.5, 1 - 0x1p-30, 1 - 0x1p-45, 1,
                                1 + 0x1p-45, 1 + 0x1p-30, 2, 1e6};
    element el = {.g = draw_pair(g)};
    double mag = fabs(el.g.hi);
    el.s = mag * (1 + unit(g)) + (mag == 0 ? 0x1p-1074 * xc__pcg32_below(g, 4) : 0);
    if (xc__pcg32_below(g, 4) == 0) /* cancellation: |g| far below its scale */
        el.s = fmin(ldexp(el.s + 0x1p-1000, (int)xc__pcg32_below(g, 40)), DBL_MAX);
    double beta = ldexp(1 + unit(g), (int)xc__pcg32_below(g, 12));
    el.b = u * beta * el.s + 0x1p-1074 * xc__pcg32_below(g, 3) + 0x1p-1022 *
           (xc__pcg32_below(g, 4) == 0);
    switch (xc__pcg32_below(g, 16)) {
    case 0: el.b = INFINITY; break;
    case 1: el.b = ldexp(unit(g), -1040); break; /* subnormal */
    case 2: el.b = DBL_MAX; break;
    default: break;
    }
    double frac = at[xc__pcg32_below(g, 10)];
    double dir = xc__pcg32_next(g) & 1 ? 1 : -1;
    double off = isinf(el.b) ? el.s * unit(g) : frac * el.b;
    el.x = el.g.hi + dir * off;
    switch (xc__pcg32_below(g, 24)) {
    case 0: el.x = NAN; break;
    case 1: el.x = dir * INFINITY; break;
    case 2: el.x = dir * DBL_MAX; break; /* an error that may overflow */
    case 3: el.x = -copysign(ldexp(1 + unit(g), 1022), el.g.hi); break; /* overflows */
    default: break;
    }
    return el;
}

/* A row of four whose class J is EL and the rest exact answers, so that the
 * row's verdict is EL's, on either kernel. */
static void row_around(const element *el, size_t j, double *x, xc__dd *gp, double *b,
                       double *s)
{
    for (size_t i = 0; i < 4; i++) {
        gp[i] = i == j ? el->g : (xc__dd){0.5, 0x1p-60};
        x[i] = i == j ? el->x : 0.5;
        b[i] = i == j ? el->b : 0x1p-40;
        s[i] = i == j ? el->s : 1.0;
    }
}

/* E - LIMIT's sign, exactly, with LIMIT = b - 2 (R s + R_a) when BAND,
 * else b. */
static int sign_against(const element *el, long double r, int band)
{
    mpfr_t e, lim, t;
    mpfr_inits2(EXACT_PREC, e, lim, t, (mpfr_ptr)0);
    mpfr_set_d(e, el->x, MPFR_RNDN);
    mpfr_sub_d(e, e, el->g.hi, MPFR_RNDN);
    mpfr_sub_d(e, e, el->g.lo, MPFR_RNDN);
    mpfr_abs(e, e, MPFR_RNDN);
    mpfr_set_d(lim, el->b, MPFR_RNDN);
    if (band) {
        mpfr_set_ld(t, r, MPFR_RNDN);
        mpfr_mul_d(t, t, el->s, MPFR_RNDN);
        mpfr_add_d(t, t, XC__REF_ABS_ERR, MPFR_RNDN);
        mpfr_mul_ui(t, t, 2, MPFR_RNDN);
        mpfr_sub(lim, lim, t, MPFR_RNDN);
    }
    int sign = mpfr_cmp(e, lim);
    mpfr_clears(e, lim, t, (mpfr_ptr)0);
    return sign;
}

/* E against b / 2 - 2 R_k and 2 b, for the plain cases. */
static int plainly(const element *el, long double r, int over)
{
    element half = *el;
    if (over) {
        half.b = 2 * el->b;
        return isfinite(half.b) && el->b >= 0x1p-1000 && sign_against(&half, r, 0) >= 0;
    }
    half.b = el->b / 2;
    return isfinite(el->b) && el->b / 2 * 2 == el->b && sign_against(&half, r, 1) <= 0;
}

typedef struct tally {
    size_t clear, over, undecided, plain;
} tally;

static void check_verdict(int use_vector, const element *el, long double r, double u,
                          tally *t)
{
    double x[4], b[4], s[4];
    xc__dd gp[4];
    size_t j = (size_t)(t->clear + t->over + t->undecided) % 4;
    row_around(el, j, x, gp, b, s);
    xc__cmp_row row = {.x = x, .g = gp, .b = b, .s = s, .n = 4};
    xc__cmp_consts k = xc__cmp_consts_of(r, u, u == 0x1p-53 ? 0x1p-1022 : 0x1p-126);
    xc__cmp_scan acc;
    xc__cmp_scan_init(&acc);
    xc__cmp_scan_row_with(use_vector, &k, &row, 0, &acc);
    int clear = xc__cmp_row_clear_with(use_vector, &k, &row);
    int finite = fabs(el->x) <= DBL_MAX;
    ck_assert_msg(clear + acc.over + acc.undecided == 1,
                  "x %a g %a%+a b %a s %a: clear %d over %d undecided %d", el->x,
                  el->g.hi, el->g.lo, el->b, el->s, clear, acc.over, acc.undecided);
    if (clear)
        ck_assert_msg(finite && (isinf(el->b) || sign_against(el, r, 1) <= 0),
                      "called clear: x %a g %a%+a b %a s %a", el->x, el->g.hi, el->g.lo,
                      el->b, el->s);
    if (acc.over)
        ck_assert_msg(!finite || (isfinite(el->b) && sign_against(el, r, 0) > 0),
                      "called over: x %a g %a%+a b %a s %a", el->x, el->g.hi, el->g.lo,
                      el->b, el->s);
    if (finite && (plainly(el, r, 0) || plainly(el, r, 1) || isinf(el->b))) {
        t->plain++;
        ck_assert_msg(!acc.undecided, "a plain case undecided: x %a g %a%+a b %a s %a",
                      el->x, el->g.hi, el->g.lo, el->b, el->s);
    }
    t->clear += (size_t)clear;
    t->over += (size_t)acc.over;
    t->undecided += (size_t)acc.undecided;
}

/* An error whose x - hi overflows to +inf while E is exactly DBL_MAX, the
 * bound: not over (E <= b); random draws do not land on this tie. */
static void overflow_at_the_bound(int use_vector, tally *t)
{
    element el = {.x = 3 * 0x1p970, .g = {-(DBL_MAX - 0x1p971), 0x1p970}, /* 2^1024 - 2^972 */
                  .b = DBL_MAX, .s = 0x1p1023};
    check_verdict(use_vector, &el, rel_errs[0], 0x1p-53, t);
}

static void verdicts(int use_vector)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, 31, 5);
    tally t = {0};
    overflow_at_the_bound(use_vector, &t);
    for (int n = 0; n < 40000; n++) {
        double u = n % 2 ? 0x1p-53 : 0x1p-24;
        element el = draw_element(&g, u);
        check_verdict(use_vector, &el, rel_errs[n % 4 == 0], u, &t);
    }
    printf("verdicts (%s kernel): %zu clear, %zu over, %zu undecided; %zu plain\n",
           use_vector ? "AVX2" : "portable", t.clear, t.over, t.undecided, t.plain);
    ck_assert(t.clear > 5000 && t.over > 5000 && t.undecided > 50 && t.plain > 10000);
}

START_TEST(portable_verdicts_are_certain)
{
    verdicts(0);
}
END_TEST

START_TEST(vector_verdicts_are_certain)
{
    if (!xc__cmp_has_vector()) {
        printf("vector_verdicts_are_certain: this processor has no AVX2/FMA; only the "
               "portable kernel runs here\n");
        return;
    }
    verdicts(1);
}
END_TEST

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Rows of 1-37 drawn elements, scanned row after row on both kernels. */
START_TEST(kernels_agree_bitwise)
{
    if (!xc__cmp_has_vector()) {
        printf("kernels_agree_bitwise: this processor has no AVX2/FMA; only the "
               "portable kernel runs here, so there is nothing to compare\n");
        return;
    }
    xc__pcg32 g;
    xc__pcg32_seed(&g, 32, 6);
    for (int n = 0; n < 3000; n++) {
        double u = n % 2 ? 0x1p-53 : 0x1p-24;
        xc__cmp_consts k = xc__cmp_consts_of(rel_errs[n % 3 == 0], u, 0x1p-126);
        xc__cmp_scan av, ap;
        xc__cmp_scan_init(&av);
        xc__cmp_scan_init(&ap);
        for (size_t r = 0; r < 3; r++) {
            size_t h = 1 + xc__pcg32_below(&g, 37);
            double x[37], b[37], s[37];
            xc__dd gp[37];
            int ties = xc__pcg32_below(&g, 4) == 0; /* every element the same */
            element first = draw_element(&g, u);
            for (size_t i = 0; i < h; i++) {
                element el = ties ? first : draw_element(&g, u);
                x[i] = el.x;
                gp[i] = el.g;
                b[i] = el.b;
                s[i] = el.s;
            }
            xc__cmp_row row = {.x = x, .g = gp, .b = b, .s = s, .n = h};
            xc__cmp_scan_row_with(1, &k, &row, r, &av);
            xc__cmp_scan_row_with(0, &k, &row, r, &ap);
            ck_assert_int_eq(xc__cmp_row_clear_with(1, &k, &row),
                             xc__cmp_row_clear_with(0, &k, &row));
        }
        ck_assert_msg(av.elements == ap.elements && av.over == ap.over &&
                          av.undecided == ap.undecided && same_bits(av.ratio, ap.ratio) &&
                          av.row == ap.row && av.col == ap.col &&
                          same_bits(av.scaled, ap.scaled),
                      "draw %d: vector ratio %a at %zu,%zu scaled %a over %d und %d; "
                      "portable ratio %a at %zu,%zu scaled %a over %d und %d",
                      n, av.ratio, av.row, av.col, av.scaled, av.over, av.undecided,
                      ap.ratio, ap.row, ap.col, ap.scaled, ap.over, ap.undecided);
    }
}
END_TEST

/* The worst element: the largest ratio, the first of equal ones, a NaN
 * above every finite ratio; the scaled error's floor at min_normal. */
static void worst_of_known_row(int use_vector)
{
    enum { N = 13 };
    double x[N], b[N], s[N];
    xc__dd gp[N];
    for (size_t i = 0; i < N; i++) {
        gp[i] = (xc__dd){1.0, 0.0};
        x[i] = 1.0 + 0x1p-50 * (double)(i % 3); /* ratios 0, 1/8, 1/4 */
        b[i] = 0x1p-47;
        s[i] = 1.0;
    }
    xc__cmp_consts k = xc__cmp_consts_of(0x1p-58L, 0x1p-53, 0x1p-1022);
    xc__cmp_row row = {.x = x, .g = gp, .b = b, .s = s, .n = N};
    xc__cmp_scan acc;
    xc__cmp_scan_init(&acc);
    xc__cmp_scan_row_with(use_vector, &k, &row, 4, &acc);
    ck_assert(acc.ratio == 0.25 && acc.row == 4 && acc.col == 2 && !acc.over &&
              !acc.undecided && acc.elements == N);
    ck_assert(acc.scaled == 16.0); /* 2^-49 / 2^-53 */
    /* A scale below min_normal is floored there: an error of 2^-1074 on a
     * scale of 2^-1070 is 2 u of min_normal (2^49 u of the scale). */
    double tx = 0x1p-1070 + 0x1p-1074, tb = 0x1p-1060, ts = 0x1p-1070;
    xc__dd tg = {0x1p-1070, 0.0};
    xc__cmp_row tiny = {.x = &tx, .g = &tg, .b = &tb, .s = &ts, .n = 1};
    xc__cmp_scan_init(&acc);
    xc__cmp_scan_row_with(use_vector, &k, &tiny, 0, &acc);
    ck_assert(acc.scaled == 2.0);
    x[9] = NAN;
    x[11] = NAN;
    xc__cmp_scan_init(&acc);
    xc__cmp_scan_row_with(use_vector, &k, &row, 0, &acc);
    ck_assert(isinf(acc.ratio) && acc.col == 9 && acc.over && isinf(acc.scaled));
    ck_assert_int_eq(xc__cmp_row_clear_with(use_vector, &k, &row), 0);
}

START_TEST(worst_of_known_row_portable)
{
    worst_of_known_row(0);
}
END_TEST

START_TEST(worst_of_known_row_vector)
{
    if (!xc__cmp_has_vector()) {
        printf("worst_of_known_row_vector: this processor has no AVX2/FMA\n");
        return;
    }
    worst_of_known_row(1);
}
END_TEST

static Suite *compare_kernel_suite(void)
{
    Suite *s = suite_create("compare_kernel");
    TCase *t = tcase_create("kernels");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, portable_verdicts_are_certain);
    tcase_add_test(t, vector_verdicts_are_certain);
    tcase_add_test(t, kernels_agree_bitwise);
    tcase_add_test(t, worst_of_known_row_portable);
    tcase_add_test(t, worst_of_known_row_vector);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(compare_kernel_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    mpfr_free_cache();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
