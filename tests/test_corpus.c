/* The committed corpus: every case file in corpus/seeds holds on every
 * built-in target of its dtype; every case file in corpus/regressions
 * reproduces on the mutant or breaker it names (it records a bug the fuzzer
 * or a run found), and holds when it names a built-in target. The
 * convention is in docs/fuzzing.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/casefile.h"
#include "../harness/checker.h"
#include "../harness/registry.h"

static int has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);
    return n > m && strcmp(name + n - m, suffix) == 0;
}

/* A registry with the built-ins, the mutants and every breaker plugin. */
static xc__registry *full_registry(void)
{
    xc__registry *reg = xc__registry_new(1);
    ck_assert_ptr_nonnull(reg);
    DIR *d = opendir(XC_TEST_BREAKER_DIR);
    ck_assert_ptr_nonnull(d);
    char path[8192], err[512];
    for (struct dirent *e; (e = readdir(d));) {
        if (!has_suffix(e->d_name, ".so"))
            continue;
        snprintf(path, sizeof path, "%s/%s", XC_TEST_BREAKER_DIR, e->d_name);
        ck_assert_msg(xc__registry_load_plugin(reg, path, err, sizeof err) == 0, "%s", err);
    }
    closedir(d);
    return reg;
}

static int supports(const xc_target *t, const xc__case *c)
{
    return t->dtype == c->dtype && !(xc__case_required_caps(c) & ~t->caps) &&
           (!t->max_classes || c->classes <= t->max_classes);
}

/* Failures of ENTRY on C; with PROPERTY, whether that property failed. */
static size_t check_one(const xc__entry *e, const xc__case *c, const char *property,
                        int *property_failed)
{
    xc__check_config cfg = {.seed = c->seed, .inline_mode = !e->is_mutant &&
                            strcmp(e->origin, "builtin") == 0};
    xc__target_report t;
    ck_assert_int_eq(xc__check_case(e, c, &cfg, &t), 0);
    size_t n = t.nfailures;
    *property_failed = 0;
    for (size_t i = 0; i < n; i++)
        *property_failed |= !*property || strcmp(t.failures[i].property, property) == 0;
    xc__target_report_free(&t);
    return n;
}

static void seed_holds(const xc__registry *reg, const char *path, const xc__case *c)
{
    size_t checked = 0;
    for (size_t i = 0; i < xc__registry_count(reg); i++) {
        const xc__entry *e = xc__registry_at(reg, i);
        if (strcmp(e->origin, "builtin") != 0 || !supports(e->target, c))
            continue;
        int dummy;
        ck_assert_msg(check_one(e, c, "", &dummy) == 0, "%s fails on %s", path,
                      e->target->name);
        checked++;
    }
    ck_assert_msg(checked > 0, "%s: no built-in target of its dtype", path);
}

static void regression_holds(const xc__registry *reg, const char *path,
                             const xc__case *c, const xc__case_meta *meta)
{
    const xc__entry *e = xc__registry_find(reg, meta->target);
    ck_assert_msg(e != NULL, "%s: unknown target '%s'", path, meta->target);
    int failed;
    size_t n = check_one(e, c, meta->property, &failed);
    if (strcmp(e->origin, "builtin") == 0)
        ck_assert_msg(n == 0, "%s: built-in %s fails again", path, meta->target);
    else
        ck_assert_msg(failed, "%s: %s no longer fails %s", path, meta->target,
                      *meta->property ? meta->property : "any property");
}

/* Replay every case file of corpus/SUB; returns how many there were. */
static size_t replay_dir(const char *sub, int regressions)
{
    char dir[4096], path[8192], err[512];
    snprintf(dir, sizeof dir, "%s/corpus/%s", XC_TEST_SOURCE_DIR, sub);
    xc__registry *reg = full_registry();
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!has_suffix(e->d_name, ".case"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        xc__case_meta meta;
        xc__case *c = xc__casefile_read(path, &meta, err, sizeof err);
        ck_assert_msg(c != NULL, "%s", err);
        if (regressions)
            regression_holds(reg, path, c, &meta);
        else
            seed_holds(reg, path, c);
        xc__case_free(c);
        n++;
    }
    closedir(d);
    xc__registry_free(reg);
    return n;
}

START_TEST(seeds_hold_on_builtins)
{
    ck_assert_uint_gt(replay_dir("seeds", 0), 0);
}
END_TEST

START_TEST(regressions_reproduce)
{
    ck_assert_uint_gt(replay_dir("regressions", 1), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("corpus");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, seeds_hold_on_builtins);
    tcase_add_test(tc, regressions_reproduce);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
