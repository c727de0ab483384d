/* Each property catches the target built to break it (tests/breakers/), and
 * no property raises a false alarm on the correct built-in targets. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"
#include "gen.h"
#include "props.h"
#include "registry.h"

/* Under AddressSanitizer every call costs several times more; the
 * sanitizer build is there to find memory errors, so it checks fewer
 * cases (the plain build runs the full counts). */
#if defined(__SANITIZE_ADDRESS__)
#define CASE_SCALE 4
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CASE_SCALE 4
#endif
#endif
#ifndef CASE_SCALE
#define CASE_SCALE 1
#endif

#ifndef XC_TEST_BREAKER_DIR
#define XC_TEST_BREAKER_DIR "tests/breakers"
#endif

static xc__check_config config(size_t cases)
{
    return (xc__check_config){.seed = 1, .cases = cases, .time_budget_s = 60,
                              .timeout_s = 1.0, .case_dir = NULL, .log = NULL};
}

static int failed(const xc__target_report *t, const char *property)
{
    for (size_t i = 0; i < t->nfailures; i++)
        if (strcmp(t->failures[i].property, property) == 0)
            return 1;
    return 0;
}

static void list_failures(const xc__target_report *t, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < t->nfailures && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s ", t->failures[i].property);
}

/* Load breaker PROPERTY and check it; the named property must fail. */
static void expect_caught(const char *property, size_t cases)
{
    char path[1024], err[512], got[1024];
    snprintf(path, sizeof path, "%s/%s.so", XC_TEST_BREAKER_DIR, property);
    xc__registry *reg = xc__registry_new(0);
    ck_assert_ptr_nonnull(reg);
    ck_assert_msg(xc__registry_load_plugin(reg, path, err, sizeof err) == 0, "%s", err);
    char name[128];
    snprintf(name, sizeof name, "breaker.%s", property);
    const xc__entry *e = xc__registry_find(reg, name);
    ck_assert_ptr_nonnull(e);
    xc__check_config cfg = config(cases);
    xc__target_report rep;
    ck_assert_int_eq(xc__check_target(e, &cfg, &rep), 0);
    list_failures(&rep, got, sizeof got);
    ck_assert_msg(!rep.pass, "breaker.%s passed", property);
    ck_assert_msg(failed(&rep, property), "breaker.%s not caught by %s (failures: %s)",
                  property, property, got);
    xc__target_report_free(&rep);
    xc__registry_free(reg);
}

#define BREAKER_TEST(prop)                                                     \
    START_TEST(caught_##prop) { expect_caught(#prop, 400 / CASE_SCALE); }      \
    END_TEST

BREAKER_TEST(reference_grad)
BREAKER_TEST(reference_loss)
BREAKER_TEST(fd_consistency)
BREAKER_TEST(shift_invariance)
BREAKER_TEST(row_sum)
BREAKER_TEST(bounds)
BREAKER_TEST(finite)
BREAKER_TEST(permutation)
BREAKER_TEST(batch_consistency)
BREAKER_TEST(determinism)
BREAKER_TEST(inputs_unchanged)
BREAKER_TEST(no_read_before_write)
BREAKER_TEST(padding_untouched)
BREAKER_TEST(guard_untouched)
BREAKER_TEST(nonfinite_isolation)
BREAKER_TEST(masked_rows)
BREAKER_TEST(return_code)
BREAKER_TEST(no_crash)
BREAKER_TEST(no_hang)

/* Every property name has a breaker test above. */
START_TEST(every_property_has_a_breaker)
{
    static const char *const tested[] = {
        "reference_grad", "reference_loss", "fd_consistency", "shift_invariance",
        "row_sum", "bounds", "finite", "permutation", "batch_consistency",
        "determinism", "inputs_unchanged", "no_read_before_write",
        "padding_untouched", "guard_untouched", "nonfinite_isolation",
        "masked_rows", "return_code", "no_crash", "no_hang", NULL};
    for (int i = 0; xc__property_names[i]; i++) {
        int found = 0;
        for (int j = 0; tested[j]; j++)
            found |= strcmp(tested[j], xc__property_names[i]) == 0;
        ck_assert_msg(found, "property %s has no breaker test", xc__property_names[i]);
    }
}
END_TEST

/* The correct built-in targets pass a long run: no false alarm. */
static void expect_pass(const char *name, size_t cases)
{
    xc__registry *reg = xc__registry_new(0);
    const xc__entry *e = xc__registry_find(reg, name);
    ck_assert_ptr_nonnull(e);
    xc__check_config cfg = config(cases);
    cfg.log = stderr;
    xc__target_report rep;
    char got[1024];
    ck_assert_int_eq(xc__check_target(e, &cfg, &rep), 0);
    list_failures(&rep, got, sizeof got);
    ck_assert_msg(rep.pass, "%s failed: %s", name, got);
    ck_assert_uint_eq(rep.cases, cases);
    ck_assert_double_le(rep.accuracy.max_ratio, 1.0);
    xc__target_report_free(&rep);
    xc__registry_free(reg);
}

START_TEST(builtin_f64_passes) { expect_pass("xc.f64.shifted", 1500 / CASE_SCALE); }
END_TEST
START_TEST(builtin_f32_passes) { expect_pass("xc.f32.shifted", 1500 / CASE_SCALE); }
END_TEST
START_TEST(builtin_logsoftmax_passes) { expect_pass("xc.f32.logsoftmax", 1500 / CASE_SCALE); }
END_TEST

/* A target wrong in every row on its own (gradient element 0 of each row
 * off by 1e-3 where logit 0 is finite: a masked row keeps the correct
 * code's answer), the same whatever the other rows hold: reference_grad
 * fails, but nonfinite_isolation and masked_rows, which are about one row
 * disturbing another, must not blame the disturbance. */
static const xc_target *wrapped;

static int row_wise_wrong_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    int rc = wrapped->grad(p, grad, wrapped->ctx);
    for (size_t r = 0; rc == 0 && r < p->batch; r++)
        if (isfinite(((const double *)p->logits)[r * p->ld]))
            ((double *)grad)[r * p->ld] += 1e-3;
    return rc;
}

/* xc.f64.shifted (from REG, kept in `wrapped`) with GRAD in its place. */
static xc_target wrap_f64(const xc__registry *reg, const char *name, xc_grad_fn grad)
{
    wrapped = xc__registry_find(reg, "xc.f64.shifted")->target;
    xc_target t = *wrapped;
    t.name = name;
    t.grad = grad;
    return t;
}

START_TEST(isolation_not_blamed_for_rows_wrong_alone)
{
    xc__registry *reg = xc__registry_new(0);
    xc_target t = wrap_f64(reg, "test.row_wise_wrong", row_wise_wrong_grad);
    xc__entry e = {.target = &t, .origin = "test"};
    xc__check_config cfg = config(200 / CASE_SCALE);
    xc__target_report rep;
    char got[1024];
    ck_assert_int_eq(xc__check_target(&e, &cfg, &rep), 0);
    list_failures(&rep, got, sizeof got);
    ck_assert_msg(failed(&rep, XC__P_REFERENCE_GRAD), "not caught: %s", got);
    ck_assert_msg(!failed(&rep, XC__P_NONFINITE) && !failed(&rep, XC__P_MASKED),
                  "isolation blamed for rows wrong on their own: %s", got);
    xc__target_report_free(&rep);
    xc__registry_free(reg);
}
END_TEST

/* A target wrong only where both transformations meet: logits beyond 100
 * (a shift moved them) and the row's largest logit away from class 0 (a
 * permutation moved it). The base case keeps its largest logit in class 0
 * and its logits small, so the shifted case alone and the permuted case
 * alone are answered correctly; only the compound call sees the bug. It
 * must still be reported, under shift_invariance, naming both. */
static int compound_only_wrong_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    int rc = wrapped->grad(p, grad, wrapped->ctx);
    const double *z = p->logits;
    size_t arg = 0;
    for (size_t k = 1; k < p->classes; k++)
        if (z[k] > z[arg])
            arg = k;
    if (rc == 0 && isfinite(z[arg]) && fabs(z[arg]) > 100 && arg != 0)
        ((double *)grad)[0] += 1e-3;
    return rc;
}

typedef struct seen {
    size_t failures, shift_with_both;
    char last[64];
} seen;

static void record_failure(void *ctx, const char *property, const xc__case *c,
                           const char *message)
{
    (void)c;
    seen *s = ctx;
    s->failures++;
    snprintf(s->last, sizeof s->last, "%s", property);
    if (strcmp(property, XC__P_SHIFT) == 0 && strstr(message, "permuting the classes"))
        s->shift_with_both++;
}

START_TEST(compound_failure_reported_when_neither_alone_fails)
{
    xc__registry *reg = xc__registry_new(0);
    xc_target t = wrap_f64(reg, "test.compound_only_wrong", compound_only_wrong_grad);
    xc__exec *ex = xc__exec_new(&t, &(xc__exec_config){.inline_mode = 1});
    size_t reported = 0;
    for (uint64_t index = 0; index < 16; index++) {
        xc__case *c = xc__case_new(XC_F64, 1, 6, 6, XC__LABELS_INDEX, 0);
        for (size_t k = 0; k < 6; k++)
            c->logits[k] = k == 0 ? 2.0 : -0.25 * (double)k;
        c->labels[0] = 3;
        c->seed = 7;
        c->index = index;
        seen s = {0};
        xc__prop_env env = {.target = &t, .exec = ex, .tol_factor = 1,
                            .sink = {.fail = record_failure, .ctx = &s}};
        xc__props_run_case(&env, c);
        ck_assert_msg(s.failures == s.shift_with_both,
                      "case %llu: %zu failures, last %s; expected only the compound's",
                      (unsigned long long)index, s.failures, s.last);
        reported += s.shift_with_both;
        xc__case_free(c);
    }
    /* A permutation moves class 0 in 5 of 6 draws: most of the 16 cases. */
    ck_assert_msg(reported >= 8, "compound violation reported in %zu of 16 cases", reported);
    xc__exec_free(ex);
    xc__registry_free(reg);
}
END_TEST

/* The fuzzer runs one group of properties per input (xc__props_run_part)
 * and replays with all of them: every violation a part reports on a case
 * must be reported by the full run of that case too, or the replay of a
 * fuzzer's finding would not reproduce. Checked on the breakers whose
 * violation depends on a group's random draws (offset, permutation, FD
 * signs, the row picked), over generated cases; each breaker must also be
 * caught by some part, or the test would prove nothing. */
typedef struct prop_set {
    char names[16][32];
    size_t n;
} prop_set;

static void add_property(void *ctx, const char *property, const xc__case *c,
                         const char *message)
{
    (void)c;
    (void)message;
    prop_set *set = ctx;
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->names[i], property) == 0)
            return;
    if (set->n < 16)
        snprintf(set->names[set->n++], sizeof set->names[0], "%s", property);
}

static int in_set(const prop_set *set, const char *property)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->names[i], property) == 0)
            return 1;
    return 0;
}

static prop_set failures_of(xc__exec *ex, const xc_target *t, const xc__case *c,
                            int part)
{
    prop_set set = {.n = 0};
    xc__prop_env env = {.target = t, .exec = ex, .tol_factor = 1,
                        .sink = {.fail = add_property, .ctx = &set}};
    if (part < 0)
        xc__props_run_case(&env, c);
    else
        xc__props_run_part(&env, c, (unsigned)part);
    return set;
}

static void expect_parts_replay(const char *property)
{
    char path[1024], err[512], name[128];
    snprintf(path, sizeof path, "%s/%s.so", XC_TEST_BREAKER_DIR, property);
    snprintf(name, sizeof name, "breaker.%s", property);
    xc__registry *reg = xc__registry_new(0);
    ck_assert_msg(xc__registry_load_plugin(reg, path, err, sizeof err) == 0, "%s", err);
    const xc_target *t = xc__registry_find(reg, name)->target;
    xc__exec *ex = xc__exec_new(t, &(xc__exec_config){.inline_mode = 1});
    xc__gen_config gc = {.dtype = t->dtype, .caps = t->caps, .max_classes = 64,
                         .max_elements = 4096};
    size_t caught = 0;
    for (uint64_t i = 0; i < 60 / CASE_SCALE; i++) {
        xc__case *c = xc__gen_case(&gc, 5, i);
        prop_set full = failures_of(ex, t, c, -1);
        for (int part = 0; part < (int)XC__PROP_PARTS; part++) {
            prop_set got = failures_of(ex, t, c, part);
            for (size_t j = 0; j < got.n; j++)
                ck_assert_msg(in_set(&full, got.names[j]),
                              "%s: part %d reports %s on case %llu, the full run does not",
                              name, part, got.names[j], (unsigned long long)i);
            caught += in_set(&got, property);
        }
        xc__case_free(c);
    }
    ck_assert_msg(caught > 0, "%s: no part caught it", name);
    xc__exec_free(ex);
    xc__registry_free(reg);
}

START_TEST(parts_replay_in_full_run)
{
    static const char *const drawn[] = {
        "shift_invariance", "permutation", "fd_consistency", "batch_consistency",
        "nonfinite_isolation", "masked_rows", "determinism"};
    for (size_t i = 0; i < sizeof drawn / sizeof *drawn; i++)
        expect_parts_replay(drawn[i]);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("properties");
    TCase *tc = tcase_create("breakers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_property_has_a_breaker);
    tcase_add_test(tc, caught_reference_grad);
    tcase_add_test(tc, caught_reference_loss);
    tcase_add_test(tc, caught_fd_consistency);
    tcase_add_test(tc, caught_shift_invariance);
    tcase_add_test(tc, caught_row_sum);
    tcase_add_test(tc, caught_bounds);
    tcase_add_test(tc, caught_finite);
    tcase_add_test(tc, caught_permutation);
    tcase_add_test(tc, caught_batch_consistency);
    tcase_add_test(tc, caught_determinism);
    tcase_add_test(tc, caught_inputs_unchanged);
    tcase_add_test(tc, caught_no_read_before_write);
    tcase_add_test(tc, caught_padding_untouched);
    tcase_add_test(tc, caught_guard_untouched);
    tcase_add_test(tc, caught_nonfinite_isolation);
    tcase_add_test(tc, caught_masked_rows);
    tcase_add_test(tc, caught_return_code);
    tcase_add_test(tc, caught_no_crash);
    tcase_add_test(tc, caught_no_hang);
    tcase_add_test(tc, isolation_not_blamed_for_rows_wrong_alone);
    tcase_add_test(tc, compound_failure_reported_when_neither_alone_fails);
    tcase_add_test(tc, parts_replay_in_full_run);
    suite_add_tcase(s, tc);
    TCase *ok = tcase_create("no_false_alarm");
    tcase_set_timeout(ok, 240);
    tcase_add_test(ok, builtin_f64_passes);
    tcase_add_test(ok, builtin_f32_passes);
    tcase_add_test(ok, builtin_logsoftmax_passes);
    suite_add_tcase(s, ok);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed_count = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed_count == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
