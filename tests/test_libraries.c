/* Tests of the real libraries' targets (targets/lib/): every one built in
 * holds under the default check of `xentcheck run` (seed 1, the default
 * case count), that is, it passes, or, with a known finding, fails exactly
 * the finding's properties; every finding names a built-in library target,
 * and its committed case reproduces one of its properties on replay; each
 * runs single-threaded. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* RTLD_DEFAULT */
#endif
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "casefile.h"
#include "checker.h"
#include "registry.h"
#include "report_stats.h"

static xc__registry *reg;

static const xc__entry *library_at(size_t i)
{
    size_t seen = 0;
    for (size_t j = 0; j < xc__registry_count(reg); j++) {
        const xc__entry *e = xc__registry_at(reg, j);
        if (strcmp(e->origin, "library") == 0 && seen++ == i)
            return e;
    }
    ck_abort_msg("no library target %zu", i);
    return NULL;
}

static size_t library_count(void)
{
    size_t n = 0;
    for (size_t j = 0; j < xc__registry_count(reg); j++)
        n += strcmp(xc__registry_at(reg, j)->origin, "library") == 0;
    return n;
}

static void failed_list(const xc__target_report *t, char *buf, size_t len)
{
    buf[0] = 0;
    for (size_t i = 0; i < t->nfailures; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s (case %llu)", i ? ", " : "",
                 t->failures[i].property, (unsigned long long)t->failures[i].case_index);
    }
}

/* The default check, as `xentcheck run` does it, but with time enough to
 * reach the case count on a loaded or instrumented machine: a budget of
 * 600 s, and 10 s per call instead of 0.5 s (under ASan, on a busy 2-core
 * machine, tiny-dnn's O(H^2) backward on 256 rows and oneDNN's largest rows
 * come near half a second; a real hang still ends the run). */
START_TEST(holds_under_the_default_run)
{
    const xc__entry *e = library_at((size_t)_i);
    xc__check_config cfg = { .seed = 1, .time_budget_s = 600, .timeout_s = 10,
                             .no_shrink = 1 };
    xc__target_report rep;
    ck_assert_int_eq(xc__check_target(e, &cfg, &rep), 0);
    char failed[2048];
    failed_list(&rep, failed, sizeof failed);
    printf("%-26s %s: %zu cases, worst %.3g u (%.3g of bound)%s%s\n", e->target->name,
           xc__verdict_text(&rep), rep.cases, rep.accuracy.max_scaled,
           rep.accuracy.max_ratio, rep.nfailures ? "; failed " : "", failed);
    ck_assert_msg(rep.cases == XC__CHECK_DEFAULT_CASES, "%s stopped after %zu cases: %s",
                  e->target->name, rep.cases, failed);
    if (e->finding)
        ck_assert_msg(xc__target_holds(&rep), "%s: known finding, but failed [%s]",
                      e->target->name, failed);
    else
        ck_assert_msg(rep.pass, "%s fails: %s", e->target->name, failed);
    xc__target_report_free(&rep);
}
END_TEST

/* How many threads this process has (/proc/self/task), or 0 when unknown. */
static size_t thread_count_now(void)
{
    DIR *d = opendir("/proc/self/task");
    size_t n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* thread_count_now() once it is 1, or after a second: a thread just
 * joined stays listed for a moment (libtorch's at::set_num_threads(1)
 * builds a pool worker and joins it on the first call), a team of
 * OpenMP threads stays for good. */
static size_t thread_count(void)
{
    size_t n = thread_count_now();
    for (int i = 0; i < 100 && n != 1; i++) {
        struct timespec nap = {0, 10000000};
        nanosleep(&nap, NULL);
        n = thread_count_now();
    }
    return n;
}

/* Every library target runs single-threaded in the process that calls it
 * (torch.cpp and onednn_prim.c say why: with OpenMP's default team, `run
 * --jobs 2` on two cores ran four spinning threads, and oneDNN's report
 * stopped early at the time budget). Each test runs in a forked child of
 * one thread; after a call of the target it must still have one. An OpenMP
 * runtime in the process (oneDNN brings one) is first asked for a team of
 * three, so that a target that leaves the count alone starts threads on
 * any machine. */
START_TEST(library_targets_single_threaded)
{
    const xc__entry *e = library_at((size_t)_i);
    void (*set_threads)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (set_threads)
        set_threads(3);
    ck_assert_uint_eq(thread_count(), 1);
    const xc_target *t = e->target;
    float logits32[6] = {0.5f, -1, 2, 0, 1, -2}, probs32[6] = {0.25f, 0.25f, 0.5f, 1, 0, 0};
    double logits64[6] = {0.5, -1, 2, 0, 1, -2}, probs64[6] = {0.25, 0.25, 0.5, 1, 0, 0};
    float grad32[6];
    double grad64[6];
    int64_t labels[2] = {2, 0};
    int f32 = t->dtype == XC_F32, index = (t->caps & XC_CAP_INDEX_LABELS) != 0;
    xc_problem p = {.dtype = t->dtype, .batch = (t->caps & XC_CAP_BATCH) ? 2 : 1,
                    .classes = 3, .ld = 3,
                    .logits = f32 ? (const void *)logits32 : (const void *)logits64,
                    .labels = index ? labels : NULL,
                    .probs = index ? NULL : f32 ? (const void *)probs32 : (const void *)probs64,
                    .reduction = XC_REDUCE_SUM, .ignore_index = -100};
    ck_assert_int_eq(t->grad(&p, f32 ? (void *)grad32 : (void *)grad64, t->ctx), 0);
    ck_assert_msg(thread_count() == 1, "%s left the process with %zu threads", t->name,
                  thread_count());
}
END_TEST

/* Every adapter the build configured (XC_HAVE_<LIB>) lists its targets:
 * none silently drops out. */
static const char *const configured[] = {
#ifdef XC_HAVE_SLEEF
    "sleef.",
#endif
#ifdef XC_HAVE_ONEDNN
    "onednn.",
#endif
#ifdef XC_HAVE_DLIB
    "dlib.",
#endif
#ifdef XC_HAVE_TINYDNN
    "tinydnn.",
#endif
#ifdef XC_HAVE_TORCH
    "torch.",
#endif
    NULL,
};

START_TEST(configured_adapters_listed)
{
    for (size_t i = 0; configured[i]; i++) {
        size_t found = 0;
        for (size_t j = 0; j < library_count(); j++)
            found += strncmp(library_at(j)->target->name, configured[i],
                             strlen(configured[i])) == 0;
        ck_assert_msg(found > 0, "no %s* target although its adapter is built", configured[i]);
    }
}
END_TEST

START_TEST(findings_name_library_targets)
{
    size_t n = 0;
    const xc__finding *f = xc__library_findings(&n);
    for (size_t i = 0; i < n; i++) {
        const xc__entry *e = xc__registry_find(reg, f[i].target);
        ck_assert_msg(e != NULL, "finding of unknown target %s", f[i].target);
        ck_assert_str_eq(e->origin, "library");
        ck_assert_ptr_eq(e->finding, &f[i]);
        ck_assert_msg(f[i].reason && strlen(f[i].reason) > 40, "%s: no reason", f[i].target);
        ck_assert_msg(f[i].properties && f[i].properties[0], "%s: no property", f[i].target);
    }
}
END_TEST

static int is_expected(const xc__finding *f, const char *property)
{
    for (size_t i = 0; f->properties[i]; i++)
        if (strcmp(f->properties[i], property) == 0)
            return 1;
    return 0;
}

/* The committed case fails its recorded property, one of the finding's. */
START_TEST(finding_case_reproduces)
{
    size_t n = 0;
    const xc__finding *f = &xc__library_findings(&n)[_i];
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/%s", XC_TEST_SOURCE_DIR, f->case_file);
    xc__case_meta meta;
    xc__case *c = xc__casefile_read(path, &meta, err, sizeof err);
    ck_assert_msg(c != NULL, "%s: %s", path, err);
    ck_assert_str_eq(meta.target, f->target);
    ck_assert_msg(is_expected(f, meta.property), "%s records %s, not one of the finding's",
                  path, meta.property);
    xc__check_config cfg = { .seed = c->seed };
    xc__target_report rep;
    ck_assert_int_eq(xc__check_case(xc__registry_find(reg, f->target), c, &cfg, &rep), 0);
    int reproduced = 0;
    for (size_t i = 0; i < rep.nfailures; i++) {
        reproduced |= strcmp(rep.failures[i].property, meta.property) == 0;
        ck_assert_msg(is_expected(f, rep.failures[i].property),
                      "%s also fails %s", path, rep.failures[i].property);
    }
    ck_assert_msg(reproduced, "%s: %s does not reproduce", path, meta.property);
    xc__target_report_free(&rep);
    xc__case_free(c);
}
END_TEST

static Suite *libraries_suite(void)
{
    Suite *s = suite_create("libraries");
    TCase *tc = tcase_create("targets");
    tcase_set_timeout(tc, 240);
    size_t nfind = 0;
    xc__library_findings(&nfind);
    tcase_add_test(tc, configured_adapters_listed);
    tcase_add_test(tc, findings_name_library_targets);
    tcase_add_loop_test(tc, finding_case_reproduces, 0, (int)nfind);
    tcase_add_loop_test(tc, holds_under_the_default_run, 0, (int)library_count());
    tcase_add_loop_test(tc, library_targets_single_threaded, 0, (int)library_count());
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    reg = xc__registry_new(0);
    if (!reg)
        return 1;
    printf("%zu library targets built in\n", library_count());
    SRunner *sr = srunner_create(libraries_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    xc__registry_free(reg);
    return failed ? 1 : 0;
}
