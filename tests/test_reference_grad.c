/* The fast reference's gradient pass (harness/reference_grad.c) against
 * MPFR, and its two kernels against each other.
 *
 * The rows reach every path: the pair path; elements that leave it
 * because O_k or A_r O_k falls below its range (A_r = 2^-899); rows that
 * never take it (A_r = 2^-1000, 2^1010, 0); slots that hold long doubles
 * (logits more than 660 below the max); -inf logits; index labels in and
 * out of the row; probability rows with and without class weights. With
 * A_r and c_r taken as exact, the pass's own error is below the one
 * reference_grad.c derives for the pair path once A_r's input error (9
 * u_L) is taken out: 1.25 u_L for O_k, 2 u_L for t_k's two roundings in
 * long double (the pair it stores is not rounded again); an element that must take
 * the pair path is held to 6 u_L of scale_k, and the pass must say it took
 * it. Every other g_k is held to 20 u_L, below reference.c's bound for the
 * long double path. Every scale_k must be at least the exact one less the
 * computed value's own error (a scale rounded to nearest instead of up
 * falls below it on most elements).
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
#include "../harness/reference.h"
#include "../harness/reference_dd.h"
#include "../harness/reference_grad.h"

#define PREC 256
#define U_L (LDBL_EPSILON / 2)
#define BOUND_U_L 20.0L
#define PAIR_BOUND_U_L 6.0L

/* A_r (c_r is A_r or A_r / 2): in the pair range with and without a low
 * part, at its lower edge, below it, above it, and 0. */
static const long double multipliers[] = {1.0L, -0.75L, 1.0L / 3, -2.0L / 3,
                                          0x1p-899L, 0x1p-1000L, 0x1p1010L, 3.0e5L,
                                          0.0L};

typedef struct test_row {
    double *z, *y, *w;
    size_t n, skip;
    double m;
    long double *slots;
    xc__grad_row row;
} test_row;

/* A row of N logits below a max in [-50, 50]: spread over 40 below, over
 * 2000 below (slots of both kinds), or over 40 with -inf entries; an
 * index label (sometimes none in the row) or probabilities, with or
 * without weights; A_r and c_r from the multipliers above. */
static void draw(xc__pcg32 *g, int form, size_t n, test_row *t)
{
    static const double widths[] = {40, 2000, 40};
    memset(t, 0, sizeof *t);
    t->n = n;
    t->z = malloc(n * sizeof *t->z);
    t->slots = calloc(n, sizeof *t->slots);
    ck_assert(t->z && t->slots);
    t->m = 100 * xc__pcg32_unit(g) - 50;
    for (size_t k = 0; k < n; k++) {
        t->z[k] = t->m - widths[form % 3] * xc__pcg32_unit(g);
        if (form % 3 == 2 && xc__pcg32_below(g, 5) == 0)
            t->z[k] = -INFINITY;
    }
    t->skip = xc__pcg32_below(g, (uint32_t)n);
    t->z[t->skip] = t->m;
    long double others = xc__softmax_numerators(t->z, n, t->m, t->skip, t->slots,
                                                &t->row.total);
    t->row.z = t->z;
    t->row.n = n;
    t->row.m = t->m;
    t->row.total_ld = 1.0L + others;
    long double a = multipliers[xc__pcg32_below(g, sizeof multipliers / sizeof *multipliers)];
    t->row.A = a;
    t->row.coef = (form / 3) % 2 ? a * 0.5L : a;
    if ((form / 6) % 2) {
        t->y = malloc(n * sizeof *t->y);
        ck_assert_ptr_nonnull(t->y);
        for (size_t k = 0; k < n; k++)
            t->y[k] = xc__pcg32_below(g, 3) ? xc__pcg32_unit(g) : 0.0;
        if (xc__pcg32_below(g, 2)) {
            t->w = malloc(n * sizeof *t->w);
            ck_assert_ptr_nonnull(t->w);
            for (size_t k = 0; k < n; k++)
                t->w[k] = 4 * xc__pcg32_unit(g);
        }
        t->row.label = n;
    } else {
        t->row.label = xc__pcg32_below(g, (uint32_t)(n + 1)); /* n: none */
    }
    t->row.y = t->y;
    t->row.w = t->w;
}

static void release(test_row *t)
{
    free(t->z);
    free(t->y);
    free(t->w);
    free(t->slots);
}

/* Exact g_k (A_r and c_r as given) into G, scale_k into S; O_k and t_k
 * rounded to long double into *O, *T. */
static void exact(const test_row *t, size_t k, mpfr_t total, mpfr_t g, mpfr_t s,
                  long double *o_out, long double *t_out)
{
    mpfr_t o, tk, a;
    mpfr_inits2(PREC, o, tk, a, (mpfr_ptr)0);
    if (t->z[k] == -INFINITY) {
        mpfr_set_zero(o, 1);
    } else {
        mpfr_set_d(o, t->z[k], MPFR_RNDN);
        mpfr_sub_d(o, o, t->m, MPFR_RNDN); /* exact at PREC bits */
        mpfr_exp(o, o, MPFR_RNDN);
        mpfr_div(o, o, total, MPFR_RNDN);
    }
    mpfr_set_ld(tk, t->row.coef, MPFR_RNDN);
    if (t->y) {
        mpfr_mul_d(tk, tk, t->y[k], MPFR_RNDN);
        if (t->w)
            mpfr_mul_d(tk, tk, t->w[k], MPFR_RNDN);
    } else if (k != t->row.label) {
        mpfr_set_zero(tk, 1);
    }
    *o_out = mpfr_get_ld(o, MPFR_RNDN);
    *t_out = mpfr_get_ld(tk, MPFR_RNDN);
    mpfr_set_ld(a, t->row.A, MPFR_RNDN);
    mpfr_mul(o, o, a, MPFR_RNDN);
    mpfr_sub(g, o, tk, MPFR_RNDN);
    mpfr_abs(o, o, MPFR_RNDN);
    mpfr_abs(tk, tk, MPFR_RNDN);
    mpfr_max(s, o, tk, MPFR_RNDN);
    mpfr_clears(o, tk, a, (mpfr_ptr)0);
}

/* Whether class K must take the pair path: its values inside the gates of
 * reference_grad.c with a margin of 2^1 (the computed values are within
 * 2^-50 relative of these), and its slot a pair. */
static int must_pair(const test_row *t, size_t k, long double o, long double tk)
{
    long double a = fabsl(t->row.A), at = fabsl(tk);
    return t->z[k] - t->m >= XC__EXP_DD_MIN + 10 && a >= 0x1p-899L && a <= 0x1p999L &&
           (tk == 0 || (at >= 0x1p-899L && at <= 0x1p999L)) && o >= 0x1p-899L &&
           a * o >= 0x1p-899L;
}

static void exact_total(const test_row *t, mpfr_t total)
{
    mpfr_t e;
    mpfr_init2(e, PREC);
    mpfr_set_zero(total, 1);
    for (size_t k = 0; k < t->n; k++) {
        if (t->z[k] == -INFINITY)
            continue;
        mpfr_set_d(e, t->z[k], MPFR_RNDN);
        mpfr_sub_d(e, e, t->m, MPFR_RNDN);
        mpfr_exp(e, e, MPFR_RNDN);
        mpfr_add(total, total, e, MPFR_RNDN);
    }
    mpfr_clear(e);
}

static long double to_ld(mpfr_t x)
{
    return mpfr_get_ld(x, MPFR_RNDN);
}

/* |P - G| for the pair P, in MPFR (TMP at PREC bits, wide enough for the
 * pair's sum), rounded once. */
static long double pair_err(xc__dd p, mpfr_t g, mpfr_t tmp)
{
    mpfr_set_d(tmp, p.hi, MPFR_RNDN);
    mpfr_add_d(tmp, tmp, p.lo, MPFR_RNDN);
    mpfr_sub(tmp, tmp, g, MPFR_RNDN);
    return fabsl(to_ld(tmp));
}

START_TEST(gradient_pass_matches_mpfr)
{
    static const size_t sizes[] = {1, 3, 4, 5, 17, 1000};
    mpfr_t total, g, s, tmp;
    mpfr_inits2(PREC, total, g, s, tmp, (mpfr_ptr)0);
    xc__pcg32 rng;
    xc__pcg32_seed(&rng, 81, 7);
    long double worst[2] = {0, 0}; /* long double path / must-pair elements */
    size_t paired = 0, must = 0, elements = 0;
    for (int form = 0; form < 12; form++)
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
            for (int rep = 0; rep < 8; rep++) {
                test_row t;
                draw(&rng, form, sizes[si], &t);
                double *scale = malloc(t.n * sizeof *scale);
                ck_assert_ptr_nonnull(scale);
                exact_total(&t, total);
                xc__dd *out = (xc__dd *)t.slots; /* the pass overwrites the slots */
                size_t pairs = xc__gradient_row(&t.row, out, scale), row_must = 0;
                for (size_t k = 0; k < t.n; k++) {
                    long double o, tk;
                    exact(&t, k, total, g, s, &o, &tk);
                    int pair = must_pair(&t, k, o, tk);
                    long double ss = to_ld(s), floor = 4 * LDBL_TRUE_MIN + XC__REF_ABS_ERR;
                    long double err = pair_err(out[k], g, tmp);
                    long double bound = pair ? PAIR_BOUND_U_L : BOUND_U_L;
                    ck_assert_msg(err <= bound * U_L * ss + floor &&
                                      (long double)scale[k] >= ss * (1 - 32 * U_L) &&
                                      (long double)scale[k] <=
                                          ss * (1 + BOUND_U_L * U_L + 0x1p-52L) + 0x1p-1074L,
                                  "form %d n %zu k %zu A %La (%s path): g %La exact %La, "
                                  "scale %a exact %La",
                                  form, t.n, k, t.row.A, pair ? "pair" : "any",
                                  xc__ld_of_dd(out[k]),
                                  to_ld(g), scale[k], ss);
                    if (ss > 0)
                        worst[pair] = fmaxl(worst[pair], /* beyond the storage's */
                                            fmaxl(err - XC__REF_ABS_ERR, 0) / (U_L * ss));
                    row_must += (size_t)pair;
                }
                ck_assert_msg(pairs >= row_must && pairs <= t.n,
                              "form %d n %zu A %La: %zu classes took the pair path, "
                              "%zu must", form, t.n, t.row.A, pairs, row_must);
                paired += pairs;
                must += row_must;
                elements += t.n;
                free(scale);
                release(&t);
            }
    ck_assert(must > elements / 4 && paired < elements);
    printf("gradient pass: %zu of %zu classes on the pair path (%zu had to be); worst "
           "|g - exact| - 2^-1074 %.3Lg u_L of scale there (bound %.0Lf), %.3Lg elsewhere "
           "(bound %.0Lf)\n", paired, elements, must, worst[1], PAIR_BOUND_U_L, worst[0],
           BOUND_U_L);
    mpfr_clears(total, g, s, tmp, (mpfr_ptr)0);
    mpfr_free_cache();
}
END_TEST

/* The AVX2/FMA kernel gives the portable kernel's bits. */
START_TEST(gradient_kernels_agree_bitwise)
{
    if (!xc__softmax_has_fma()) {
        printf("gradient_kernels_agree_bitwise: this processor has no AVX2/FMA; only "
               "the portable kernel runs here, so there is nothing to compare\n");
        return;
    }
    static const size_t sizes[] = {1, 3, 4, 7, 64, 1023, 1025, 4099};
    xc__pcg32 rng;
    xc__pcg32_seed(&rng, 82, 8);
    for (int form = 0; form < 12; form++)
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
            for (int rep = 0; rep < 4; rep++) {
                test_row t;
                draw(&rng, form, sizes[si], &t);
                long double *copy = malloc(t.n * sizeof *copy);
                double *sa = malloc(t.n * sizeof *sa), *sb = malloc(t.n * sizeof *sb);
                ck_assert(copy && sa && sb);
                memcpy(copy, t.slots, t.n * sizeof *copy);
                xc__dd *ga = (xc__dd *)t.slots, *gb = (xc__dd *)copy;
                xc__gradient_row_with(1, &t.row, ga, sa);
                xc__gradient_row_with(0, &t.row, gb, sb);
                for (size_t k = 0; k < t.n; k++)
                    ck_assert_msg(memcmp(&ga[k], &gb[k], sizeof ga[k]) == 0 &&
                                      memcmp(&sa[k], &sb[k], sizeof sa[k]) == 0,
                                  "form %d n %zu k %zu A %La: g %a%+a / %a%+a, "
                                  "scale %a / %a", form, t.n, k, t.row.A, ga[k].hi,
                                  ga[k].lo, gb[k].hi, gb[k].lo, sa[k], sb[k]);
                free(copy);
                free(sa);
                free(sb);
                release(&t);
            }
}
END_TEST

static Suite *reference_grad_suite(void)
{
    Suite *s = suite_create("reference_grad");
    TCase *t = tcase_create("grad");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, gradient_pass_matches_mpfr);
    tcase_add_test(t, gradient_kernels_agree_bitwise);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reference_grad_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
