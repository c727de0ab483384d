/* Case generation: determinism, the caps it respects and the features it
 * must reach (issue: section 6). */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/case.h"
#include "../harness/gen.h"

static xc__gen_config full(xc_dtype t)
{
    return (xc__gen_config){.dtype = t, .caps = XC_CAPS_ALL_V1,
                            .max_classes = 65536, .max_elements = 65536};
}

static int same_case(const xc__case *a, const xc__case *b)
{
    size_t n = a->batch * a->ld;
    if (a->dtype != b->dtype || a->batch != b->batch || a->classes != b->classes ||
        a->ld != b->ld || a->reduction != b->reduction || a->label_kind != b->label_kind ||
        a->has_ignore_index != b->has_ignore_index || (a->weights == NULL) != (b->weights == NULL))
        return 0;
    if (memcmp(a->logits, b->logits, n * sizeof(double)) != 0)
        return 0;
    if (a->labels && memcmp(a->labels, b->labels, a->batch * sizeof(int64_t)) != 0)
        return 0;
    if (a->probs && memcmp(a->probs, b->probs, n * sizeof(double)) != 0)
        return 0;
    return !a->weights || memcmp(a->weights, b->weights, a->classes * sizeof(double)) == 0;
}

START_TEST(same_seed_and_index_same_case)
{
    xc__gen_config cfg = full(XC_F32);
    for (uint64_t i = 0; i < 200; i++) {
        xc__case *a = xc__gen_case(&cfg, 7, i), *b = xc__gen_case(&cfg, 7, i);
        ck_assert_msg(same_case(a, b), "case %llu differs between two draws",
                      (unsigned long long)i);
        xc__case_free(a);
        xc__case_free(b);
    }
}
END_TEST

START_TEST(other_seed_other_cases)
{
    xc__gen_config cfg = full(XC_F64);
    int differ = 0;
    for (uint64_t i = 0; i < 50; i++) {
        xc__case *a = xc__gen_case(&cfg, 7, i), *b = xc__gen_case(&cfg, 8, i);
        differ += !same_case(a, b);
        xc__case_free(a);
        xc__case_free(b);
    }
    ck_assert_int_ge(differ, 45);
}
END_TEST

/* What a run of many cases must contain, for the full caps. */
typedef struct seen {
    int h1, h_large, ld_pad, label0, label_last, masked, prob_rows, unnorm,
        zero_sum, weights, weight_zero, ignored, all_ignored, beyond_overflow,
        subnormal, ties, mean, batch;
    const char *violation; /* first broken invariant (Check's assertions are
                              too slow for per-element use) */
} seen;

static void expect(seen *s, int ok, const char *what)
{
    if (!ok && !s->violation)
        s->violation = what;
}

static int row_has_tie(const double *z, size_t h)
{
    for (size_t k = 1; k < h && k < 64; k++)
        if (z[k] == z[0] && isfinite(z[0]))
            return 1;
    return 0;
}

static void row_features(const xc__case *c, size_t r, seen *s, double overflow)
{
    const double *z = c->logits + r * c->ld;
    size_t masked = 0;
    for (size_t k = 0; k < c->classes; k++) {
        masked += z[k] == -INFINITY;
        s->beyond_overflow |= isfinite(z[k]) && fabs(z[k]) > overflow;
        s->subnormal |= z[k] != 0 && fabs(z[k]) < (c->dtype == XC_F32 ? FLT_MIN : DBL_MIN);
    }
    expect(s, masked < c->classes, "a whole row is masked");
    s->masked |= masked > 0;
    s->ties |= row_has_tie(z, c->classes);
    if (c->labels) {
        int64_t y = c->labels[r];
        s->label0 |= y == 0;
        s->label_last |= y == (int64_t)c->classes - 1;
        int ignored = c->has_ignore_index && y == c->ignore_index;
        int in_range = y >= 0 && y < (int64_t)c->classes;
        expect(s, ignored || in_range, "a label out of range");
        expect(s, ignored || !in_range || z[y] != -INFINITY, "the label is masked");
        return;
    }
    long double sum = 0;
    for (size_t k = 0; k < c->classes; k++) {
        double y = c->probs[r * c->ld + k];
        expect(s, y >= 0, "a negative probability");
        expect(s, y == 0 || z[k] != -INFINITY, "a class with probability is masked");
        sum += y;
    }
    s->zero_sum |= sum == 0;
    s->unnorm |= fabsl(sum - 1) > 0.01L;
}

static void case_features(const xc__case *c, seen *s)
{
    size_t ignored = 0;
    s->h1 |= c->classes == 1;
    s->h_large |= c->classes > 4096;
    s->ld_pad |= c->ld > c->classes;
    s->prob_rows |= c->label_kind == XC__LABELS_PROB;
    s->mean |= c->reduction == XC_REDUCE_MEAN;
    s->batch |= c->batch > 1;
    for (size_t r = 0; r < c->batch; r++) {
        ignored += xc__case_row_ignored(c, r);
        row_features(c, r, s, c->dtype == XC_F32 ? 88.8 : 709.8);
    }
    s->ignored |= ignored > 0;
    s->all_ignored |= ignored == c->batch;
    if (c->weights) {
        s->weights = 1;
        for (size_t k = 0; k < c->classes; k++)
            s->weight_zero |= c->weights[k] == 0;
    }
}

static void sweep(xc_dtype t, seen *s)
{
    xc__gen_config cfg = full(t);
    memset(s, 0, sizeof *s);
    for (uint64_t i = 0; i < 2000; i++) {
        xc__case *c = xc__gen_case(&cfg, 1, i);
        expect(s, c != NULL, "out of memory");
        if (!c)
            break;
        case_features(c, s);
        xc__case_free(c);
    }
}

#define ASSERT_SEEN(s, f) ck_assert_msg((s).f, "no generated case has " #f)

START_TEST(reaches_every_feature)
{
    seen s;
    sweep(_i ? XC_F64 : XC_F32, &s);
    ck_assert_msg(!s.violation, "%s", s.violation ? s.violation : "");
    ASSERT_SEEN(s, h1);
    ASSERT_SEEN(s, h_large);
    ASSERT_SEEN(s, ld_pad);
    ASSERT_SEEN(s, label0);
    ASSERT_SEEN(s, label_last);
    ASSERT_SEEN(s, masked);
    ASSERT_SEEN(s, prob_rows);
    ASSERT_SEEN(s, unnorm);
    ASSERT_SEEN(s, zero_sum);
    ASSERT_SEEN(s, weights);
    ASSERT_SEEN(s, weight_zero);
    ASSERT_SEEN(s, ignored);
    ASSERT_SEEN(s, all_ignored);
    ASSERT_SEEN(s, beyond_overflow);
    ASSERT_SEEN(s, subnormal);
    ASSERT_SEEN(s, ties);
    ASSERT_SEEN(s, mean);
    ASSERT_SEEN(s, batch);
}
END_TEST

/* A target with only index labels, no batch, sum only, H <= 10 never sees
 * anything else; its cases need exactly its caps. */
START_TEST(respects_caps)
{
    uint32_t caps = XC_CAP_INDEX_LABELS | XC_CAP_LOSS;
    xc__gen_config cfg = {.dtype = XC_F64, .caps = caps, .max_classes = 10,
                          .max_elements = 65536};
    for (uint64_t i = 0; i < 500; i++) {
        xc__case *c = xc__gen_case(&cfg, 3, i);
        ck_assert_uint_eq(c->batch, 1);
        ck_assert_uint_eq(c->ld, c->classes);
        ck_assert_uint_le(c->classes, 10);
        ck_assert_int_eq(c->label_kind, XC__LABELS_INDEX);
        ck_assert_int_eq(c->reduction, XC_REDUCE_SUM);
        ck_assert_ptr_null(c->weights);
        ck_assert_int_eq(c->has_ignore_index, 0);
        ck_assert_uint_eq(xc__case_required_caps(c) & ~caps, 0);
        xc__case_free(c);
    }
}
END_TEST

/* Without XC_CAP_UNNORMALIZED every probability row sums to 1 up to the
 * rounding of its entries to the dtype. */
START_TEST(normalised_rows_without_the_cap)
{
    uint32_t caps = XC_CAP_PROB_LABELS | XC_CAP_BATCH;
    xc__gen_config cfg = {.dtype = XC_F32, .caps = caps, .max_classes = 4096,
                          .max_elements = 65536};
    for (uint64_t i = 0; i < 500; i++) {
        xc__case *c = xc__gen_case(&cfg, 5, i);
        ck_assert_uint_eq(xc__case_required_caps(c) & XC_CAP_UNNORMALIZED, 0);
        xc__case_free(c);
    }
}
END_TEST

/* Values are exactly representable in the dtype. */
START_TEST(values_in_dtype)
{
    xc__gen_config cfg = full(XC_F32);
    for (uint64_t i = 0; i < 300; i++) {
        xc__case *c = xc__gen_case(&cfg, 9, i);
        size_t bad = 0;
        for (size_t j = 0; j < c->batch * c->ld; j++)
            bad += !(isnan(c->logits[j]) || (double)(float)c->logits[j] == c->logits[j]);
        ck_assert_uint_eq(bad, 0);
        xc__case_free(c);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gen");
    TCase *tc = tcase_create("gen");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, same_seed_and_index_same_case);
    tcase_add_test(tc, other_seed_other_cases);
    tcase_add_loop_test(tc, reaches_every_feature, 0, 2);
    tcase_add_test(tc, respects_caps);
    tcase_add_test(tc, normalised_rows_without_the_cap);
    tcase_add_test(tc, values_in_dtype);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
