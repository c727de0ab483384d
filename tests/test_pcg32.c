/* PCG32: the reference stream of DESIGN.md, bounded draws, unit draws,
 * determinism. */
#include <check.h>
#ifndef CHECK_MAJOR_VERSION
#error "<check.h> is not Check's: a project header shadows it on the include path"
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "../harness/pcg32.h"

/* Chi-square with 2 degrees of freedom has P(X > x) = exp(-x / 2) exactly,
 * so x = 2 ln 10^6 is exceeded by a uniform generator with probability
 * 10^-6: the seeds are fixed, so a pass is deterministic and a failure
 * means real bias, not bad luck. */
#define CHI2_DF2_P1E6 27.631021115928547

static const uint32_t reference_stream[] = {
    0xa15c02b7u, 0x7b47f409u, 0xba1d3330u,
    0x83d2f293u, 0xbfa4784bu, 0xcbed606eu,
};

START_TEST(reference_vectors)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, 42, 54);
    for (size_t i = 0; i < sizeof reference_stream / sizeof *reference_stream; i++) {
        uint32_t got = xc__pcg32_next(&g);
        ck_assert_msg(got == reference_stream[i], "output %zu: 0x%08x, want 0x%08x",
                      i, got, reference_stream[i]);
    }
}
END_TEST

START_TEST(next64_is_two_outputs)
{
    xc__pcg32 a, b;
    xc__pcg32_seed(&a, 42, 54);
    xc__pcg32_seed(&b, 42, 54);
    uint64_t hi = xc__pcg32_next(&b);
    uint64_t lo = xc__pcg32_next(&b);
    ck_assert_uint_eq(xc__pcg32_next64(&a), (hi << 32) | lo);
}
END_TEST

/* Pearson's statistic for 3 cells that should be equally likely. */
static double chi2_three(const uint64_t count[3])
{
    double n = (double)(count[0] + count[1] + count[2]);
    double e = n / 3, x = 0;
    for (int i = 0; i < 3; i++)
        x += ((double)count[i] - e) * ((double)count[i] - e) / e;
    return x;
}

/* Cell of a draw in [0, 3 * 2^30): which third it falls in. */
static int third(uint32_t v)
{
    return (int)(v >> 30);
}

#define DRAWS 300000u
#define BIG_BOUND (3u << 30) /* 2^32 mod BIG_BOUND = 2^30: maximal modulo bias */

START_TEST(below_small_bound_uniform)
{
    xc__pcg32 g;
    uint64_t count[3] = {0, 0, 0};
    xc__pcg32_seed(&g, 7, 11);
    for (uint32_t i = 0; i < DRAWS; i++) {
        uint32_t v = xc__pcg32_below(&g, 3);
        ck_assert_uint_lt(v, 3);
        count[v]++;
    }
    double x = chi2_three(count);
    ck_assert_msg(x < CHI2_DF2_P1E6, "chi2 %g over %u draws", x, DRAWS);
}
END_TEST

START_TEST(below_big_bound_unbiased)
{
    xc__pcg32 g;
    uint64_t count[3] = {0, 0, 0};
    xc__pcg32_seed(&g, 8, 12);
    for (uint32_t i = 0; i < DRAWS; i++) {
        uint32_t v = xc__pcg32_below(&g, BIG_BOUND);
        ck_assert_uint_lt(v, BIG_BOUND);
        count[third(v)]++;
    }
    double x = chi2_three(count);
    ck_assert_msg(x < CHI2_DF2_P1E6, "chi2 %g over %u draws", x, DRAWS);
}
END_TEST

/* The statistic above rejects plain modulo reduction, whose first third is
 * twice as likely (expected chi2 about DRAWS / 4): the check has teeth. */
START_TEST(chi2_rejects_modulo_bias)
{
    xc__pcg32 g;
    uint64_t count[3] = {0, 0, 0};
    xc__pcg32_seed(&g, 8, 12);
    for (uint32_t i = 0; i < DRAWS; i++)
        count[third(xc__pcg32_next(&g) % BIG_BOUND)]++;
    ck_assert_double_gt(chi2_three(count), CHI2_DF2_P1E6);
}
END_TEST

START_TEST(below_edge_bounds)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, 1, 2);
    for (int i = 0; i < 1000; i++) {
        ck_assert_uint_eq(xc__pcg32_below(&g, 1), 0);
        ck_assert_uint_lt(xc__pcg32_below(&g, 2), 2);
        ck_assert_uint_lt(xc__pcg32_below(&g, UINT32_MAX), UINT32_MAX);
        ck_assert_uint_lt(xc__pcg32_below(&g, (1u << 31) + 1), (1u << 31) + 1);
        uint64_t b64 = (UINT64_C(1) << 40) + 3;
        ck_assert_uint_lt(xc__pcg32_below64(&g, b64), b64);
        ck_assert_uint_lt(xc__pcg32_below64(&g, 5), 5);
    }
}
END_TEST

START_TEST(unit_range_and_mean)
{
    xc__pcg32 g;
    double sum = 0;
    xc__pcg32_seed(&g, 3, 4);
    for (uint32_t i = 0; i < DRAWS; i++) {
        double u = xc__pcg32_unit(&g);
        ck_assert(u >= 0.0 && u < 1.0);
        ck_assert(u == ldexp(floor(ldexp(u, 53)), -53)); /* 53-bit grid */
        sum += u;
    }
    /* The mean of DRAWS uniforms has sd sqrt(1 / (12 DRAWS)); 6 sd is
     * exceeded with probability about 2e-9. */
    double sd = sqrt(1.0 / (12.0 * DRAWS));
    ck_assert_double_lt(fabs(sum / DRAWS - 0.5), 6 * sd);
}
END_TEST

START_TEST(uniform_range)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, 5, 6);
    for (int i = 0; i < 10000; i++) {
        double v = xc__pcg32_uniform(&g, -3.0, 5.0);
        ck_assert(v >= -3.0 && v < 5.0);
        ck_assert(isfinite(xc__pcg32_normal(&g)));
    }
}
END_TEST

START_TEST(same_seed_same_stream)
{
    xc__pcg32 a, b;
    xc__pcg32_seed(&a, 123456789, 987654321);
    xc__pcg32_seed(&b, 123456789, 987654321);
    for (int i = 0; i < 10000; i++)
        ck_assert_uint_eq(xc__pcg32_next(&a), xc__pcg32_next(&b));
}
END_TEST

START_TEST(different_initseq_different_stream)
{
    xc__pcg32 a, b;
    int equal = 0;
    xc__pcg32_seed(&a, 42, 54);
    xc__pcg32_seed(&b, 42, 55);
    for (int i = 0; i < 10000; i++)
        equal += xc__pcg32_next(&a) == xc__pcg32_next(&b);
    /* Independent streams agree on a draw with probability 2^-32. */
    ck_assert_int_le(equal, 1);
}
END_TEST

static Suite *pcg32_suite(void)
{
    Suite *s = suite_create("pcg32");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reference_vectors);
    tcase_add_test(tc, next64_is_two_outputs);
    tcase_add_test(tc, below_small_bound_uniform);
    tcase_add_test(tc, below_big_bound_unbiased);
    tcase_add_test(tc, chi2_rejects_modulo_bias);
    tcase_add_test(tc, below_edge_bounds);
    tcase_add_test(tc, unit_range_and_mean);
    tcase_add_test(tc, uniform_range);
    tcase_add_test(tc, same_seed_same_stream);
    tcase_add_test(tc, different_initseq_different_stream);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pcg32_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
