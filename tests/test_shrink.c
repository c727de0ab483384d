/* Shrinking: a large failing case of a breaker becomes a small one that
 * still fails the same property; deterministic; a case that never fails
 * (per the predicate) comes back unchanged; the checker saves the shrunk
 * case and it replays. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/casefile.h"
#include "../harness/checker.h"
#include "../harness/pcg32.h"
#include "../harness/props.h"
#include "../harness/registry.h"
#include "../harness/shrink.h"

static xc__registry *reg;
static const xc__entry *breaker;

static void load_breaker(void)
{
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/shift_invariance.so", XC_TEST_BREAKER_DIR);
    reg = xc__registry_new(0);
    ck_assert_ptr_nonnull(reg);
    ck_assert_msg(xc__registry_load_plugin(reg, path, err, sizeof err) == 0, "%s", err);
    breaker = xc__registry_find(reg, "breaker.shift_invariance");
    ck_assert_ptr_nonnull(breaker);
}

static void unload_breaker(void)
{
    xc__registry_free(reg);
}

/* 8 rows of 200 classes, padded, weighted, mean; one logit of row 5 is
 * past the f64 exp overflow threshold, which breaks the unshifted softmax. */
static xc__case *large_case(void)
{
    xc__case *c = xc__case_new(XC_F64, 8, 200, 203, XC__LABELS_INDEX, 1);
    xc__pcg32 g;
    xc__pcg32_seed(&g, 1234, 5);
    for (size_t r = 0; r < c->batch; r++) {
        for (size_t k = 0; k < c->classes; k++)
            c->logits[r * c->ld + k] = xc__pcg32_uniform(&g, -3, 3);
        c->labels[r] = (int64_t)xc__pcg32_below(&g, 200);
    }
    for (size_t k = 0; k < c->classes; k++)
        c->weights[k] = xc__pcg32_uniform(&g, 0.5, 2);
    c->logits[5 * c->ld + 17] = 800.123456789;
    c->reduction = XC_REDUCE_MEAN;
    c->seed = 0x2a;
    c->index = 17;
    return c;
}

typedef struct fixture {
    xc__exec *exec;
    xc__shrink_props props;
    xc__shrink_config cfg;
} fixture;

static void fixture_init(fixture *f, const char *property)
{
    f->exec = xc__exec_new(breaker->target, &(xc__exec_config){.inline_mode = 1});
    ck_assert_ptr_nonnull(f->exec);
    f->props = (xc__shrink_props){.target = breaker->target, .exec = f->exec,
                                  .tol_factor = 1, .property = property};
    f->cfg = (xc__shrink_config){.caps = breaker->target->caps, .time_limit_s = 30};
}

static char *case_text(const xc__case *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    xc__casefile_print(f, c, NULL);
    fclose(f);
    return buf;
}

START_TEST(large_case_shrinks_small)
{
    load_breaker();
    fixture f;
    fixture_init(&f, XC__P_FINITE);
    xc__case *big = large_case();
    ck_assert(xc__shrink_props_pred(&f.props, big));
    xc__shrink_stats st;
    xc__case *small = xc__shrink(big, &f.cfg, xc__shrink_props_pred, &f.props, &st);
    ck_assert_ptr_nonnull(small);
    ck_assert_uint_eq(small->batch, 1);
    ck_assert_uint_le(small->classes, 2);
    ck_assert_uint_eq(small->ld, small->classes);
    ck_assert_ptr_null(small->weights);
    ck_assert_int_eq(small->reduction, XC_REDUCE_SUM);
    ck_assert_uint_eq(small->seed, 0x2a);
    ck_assert_uint_eq(small->index, 17);
    ck_assert_uint_le(st.calls, XC__SHRINK_DEFAULT_CALLS);
    ck_assert(xc__shrink_props_pred(&f.props, small));
    for (size_t k = 0; k < small->classes; k++) /* simple values: integers */
        ck_assert(small->logits[k] == rint(small->logits[k]));
    xc__case_free(small);
    xc__case_free(big);
    xc__exec_free(f.exec);
    unload_breaker();
}
END_TEST

START_TEST(shrinking_is_deterministic)
{
    load_breaker();
    fixture f;
    fixture_init(&f, XC__P_FINITE);
    xc__case *big = large_case();
    xc__case *a = xc__shrink(big, &f.cfg, xc__shrink_props_pred, &f.props, NULL);
    xc__case *b = xc__shrink(big, &f.cfg, xc__shrink_props_pred, &f.props, NULL);
    char *ta = case_text(a), *tb = case_text(b);
    ck_assert_str_eq(ta, tb);
    free(ta);
    free(tb);
    xc__case_free(a);
    xc__case_free(b);
    xc__case_free(big);
    xc__exec_free(f.exec);
    unload_breaker();
}
END_TEST

static int never_fails(void *ctx, const xc__case *c)
{
    (void)c;
    ++*(size_t *)ctx;
    return 0;
}

START_TEST(never_failing_predicate_returns_original)
{
    xc__case *big = large_case();
    size_t calls = 0;
    xc__shrink_config cfg = {.caps = XC_CAPS_ALL_V1, .max_calls = 50};
    xc__shrink_stats st;
    xc__case *same = xc__shrink(big, &cfg, never_fails, &calls, &st);
    char *ta = case_text(big), *tb = case_text(same);
    ck_assert_str_eq(ta, tb);
    ck_assert_uint_eq(st.accepted, 0);
    ck_assert_uint_eq(st.calls, calls);
    ck_assert_uint_le(calls, 50);
    free(ta);
    free(tb);
    xc__case_free(same);
    xc__case_free(big);
}
END_TEST

/* Candidates never need caps the target lacks: a target without batch or
 * weights caps never sees one. */
static int needs_only_caps(void *ctx, const xc__case *c)
{
    ck_assert_uint_eq(xc__case_required_caps(c) & ~*(uint32_t *)ctx, 0);
    return c->logits[0] > 100;
}

START_TEST(candidates_stay_within_caps)
{
    uint32_t caps = XC_CAP_INDEX_LABELS | XC_CAP_BATCH | XC_CAP_WEIGHTS | XC_CAP_MEAN;
    xc__case *big = large_case();
    big->logits[0] = 1e6;
    xc__shrink_config cfg = {.caps = caps};
    xc__case *small = xc__shrink(big, &cfg, needs_only_caps, &caps, NULL);
    ck_assert_uint_eq(small->batch, 1);
    ck_assert_uint_le(small->classes, 2);   /* class 0 and the label */
    ck_assert(small->logits[0] > 100 && small->logits[0] <= 128);
    xc__case_free(small);
    xc__case_free(big);
}
END_TEST

/* The checker saves the shrunk case, names the original in the message,
 * and the saved file replays the failure. */
START_TEST(checker_saves_shrunk_case)
{
    load_breaker();
    char dir[] = "/tmp/xc_shrink_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    xc__check_config cfg = {.seed = 1, .cases = 20, .case_dir = dir, .inline_mode = 1};
    xc__target_report t;
    ck_assert_int_eq(xc__check_target(breaker, &cfg, &t), 0);
    ck_assert_uint_gt(t.nfailures, 0);
    for (size_t i = 0; i < t.nfailures; i++) {
        const xc__failure *f = &t.failures[i];
        ck_assert_ptr_nonnull(strstr(f->message, "shrunk from N="));
        xc__case_meta meta;
        char err[256];
        xc__case *c = xc__casefile_read(f->case_file, &meta, err, sizeof err);
        ck_assert_msg(c != NULL, "%s", err);
        ck_assert_uint_le(c->batch * c->classes, 6);
        ck_assert_uint_eq(c->index, f->case_index);
        xc__check_config rc = {.seed = c->seed, .inline_mode = 1};
        xc__target_report again;
        ck_assert_int_eq(xc__check_case(breaker, c, &rc, &again), 0);
        int found = 0;
        for (size_t j = 0; j < again.nfailures; j++)
            found |= strcmp(again.failures[j].property, f->property) == 0;
        ck_assert_msg(found, "%s does not reproduce", f->property);
        xc__target_report_free(&again);
        unlink(f->case_file);
        xc__case_free(c);
    }
    xc__target_report_free(&t);
    rmdir(dir);
    unload_breaker();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shrink");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, large_case_shrinks_small);
    tcase_add_test(tc, shrinking_is_deterministic);
    tcase_add_test(tc, never_failing_predicate_returns_original);
    tcase_add_test(tc, candidates_stay_within_caps);
    tcase_add_test(tc, checker_saves_shrunk_case);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
