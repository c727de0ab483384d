/* Tests of the mutants (targets/mutants/): the table is well formed and
 * reachable only on request, the correct code every mutant starts from
 * passes, and every mutant is caught by a modest run (seed 1, 200 cases).
 * Mutants crash, hang and write out of bounds: they only ever run in the
 * isolated executor. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "checker.h"
#include "registry.h"

#include "../targets/mutants/mutant.h"

#define MUTANT_CASES 200
#define MIN_MUTANTS 28

static const xc_target *mutant_at(size_t i)
{
    size_t n;
    const xc_target *t = xc__mutant_targets(&n);
    ck_assert_uint_lt(i, n);
    return &t[i];
}

/* Run TARGET under the default check with CASES cases of seed 1. */
static void check_run(const xc_target *t, const char *origin, size_t cases,
                      xc__target_report *rep)
{
    xc__entry e = {.target = t, .origin = origin,
                  .is_mutant = strcmp(origin, "mutant") == 0};
    xc__check_config cfg = {.seed = 1, .cases = cases, .time_budget_s = 120,
                            .log = NULL};
    ck_assert_int_eq(xc__check_target(&e, &cfg, rep), 0);
}

START_TEST(table_well_formed)
{
    size_t n;
    const xc_target *t = xc__mutant_targets(&n);
    ck_assert_uint_ge(n, MIN_MUTANTS);
    for (size_t i = 0; i < n; i++) {
        char err[256] = "";
        ck_assert_msg(xc__target_validate(&t[i], err, sizeof err) == 0, "%s: %s",
                      t[i].name, err);
        ck_assert_msg(strncmp(t[i].name, "mutant.", 7) == 0, "%s", t[i].name);
        ck_assert_msg(t[i].summary && *t[i].summary, "%s has no summary", t[i].name);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(t[i].name, t[j].name);
    }
}
END_TEST

START_TEST(only_when_asked)
{
    size_t n;
    const xc_target *t = xc__mutant_targets(&n);
    xc__registry *plain = xc__registry_new(0), *all = xc__registry_new(1);
    ck_assert_ptr_nonnull(plain);
    ck_assert_ptr_nonnull(all);
    for (size_t i = 0; i < n; i++) {
        ck_assert_ptr_null(xc__registry_find(plain, t[i].name));
        const xc__entry *e = xc__registry_find(all, t[i].name);
        ck_assert_ptr_nonnull(e);
        ck_assert_int_eq(e->is_mutant, 1);
        ck_assert_str_eq(e->origin, "mutant");
    }
    xc__registry_free(all);
    xc__registry_free(plain);
}
END_TEST

/* The pieces of targets/mutants/mutant.h, unbroken, must pass: then each
 * mutant is caught for its own bug, not for its starting point's. */
START_TEST(starting_point_passes)
{
    static const xc_target control = {
        .abi_version = XC_ABI_VERSION, .name = "mutant.control",
        .summary = "mutant.h with no piece replaced", .dtype = XC_F64,
        .caps = XC_CAPS_ALL_V1, .grad = mt_grad, .loss = mt_loss,
    };
    xc__target_report rep;
    check_run(&control, "test", MUTANT_CASES, &rep);
    ck_assert_msg(rep.pass, "the mutants' correct code fails %s on case %llu",
                  rep.nfailures ? rep.failures[0].property : "?",
                  rep.nfailures ? (unsigned long long)rep.failures[0].case_index : 0ULL);
    xc__target_report_free(&rep);
}
END_TEST

START_TEST(mutant_caught)
{
    const xc_target *t = mutant_at((size_t)_i);
    xc__target_report rep;
    check_run(t, "mutant", MUTANT_CASES, &rep);
    if (rep.nfailures)
        printf("%-30s caught by %s (case %llu)\n", t->name, rep.failures[0].property,
               (unsigned long long)rep.failures[0].case_index);
    ck_assert_msg(!rep.pass, "%s passed %zu cases (seed 1): not caught", t->name,
                  rep.cases);
    xc__target_report_free(&rep);
}
END_TEST

static Suite *mutants_suite(void)
{
    Suite *s = suite_create("mutants");
    TCase *table = tcase_create("table");
    tcase_add_test(table, table_well_formed);
    tcase_add_test(table, only_when_asked);
    suite_add_tcase(s, table);

    size_t n;
    xc__mutant_targets(&n);
    TCase *caught = tcase_create("caught");
    tcase_set_timeout(caught, 60);
    tcase_add_test(caught, starting_point_passes);
    tcase_add_loop_test(caught, mutant_caught, 0, (int)n);
    suite_add_tcase(s, caught);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mutants_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
