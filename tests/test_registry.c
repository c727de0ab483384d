/* Tests of harness/registry.c (built-ins, plugin loading and validation,
 * caps formatting) and of the built-in targets on hand-computed cases. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

static const char *const builtin_names[] = {
    "xc.f64.shifted", "xc.f32.shifted", "xc.f32.logsoftmax",
};
#define N_BUILTINS (sizeof builtin_names / sizeof builtin_names[0])

/* Targets a fresh registry holds: the built-ins, then the adapters to the
 * real libraries this build found (targets/lib/). */
static size_t base_count(void)
{
    size_t libs = 0;
    xc__library_targets(&libs);
    return N_BUILTINS + libs;
}

static void plugin_path(char *buf, size_t len, const char *file)
{
    snprintf(buf, len, "%s/%s", XC_TEST_PLUGIN_DIR, file);
}

/* ------------------------------------------------------------------ */
/* registry                                                            */

START_TEST(builtins_present_and_valid)
{
    xc__registry *reg = xc__registry_new(0);
    ck_assert_ptr_nonnull(reg);
    ck_assert_uint_eq(xc__registry_count(reg), base_count());
    for (size_t i = 0; i < N_BUILTINS; i++) {
        const xc__entry *e = xc__registry_find(reg, builtin_names[i]);
        char err[256] = "";
        ck_assert_msg(e != NULL, "%s missing", builtin_names[i]);
        ck_assert_str_eq(e->target->name, builtin_names[i]);
        ck_assert_str_eq(e->origin, "builtin");
        ck_assert_int_eq(e->is_mutant, 0);
        ck_assert_msg(xc__target_validate(e->target, err, sizeof err) == 0,
                      "%s: %s", builtin_names[i], err);
        ck_assert_uint_eq(e->target->caps, XC_CAPS_ALL_V1);
        ck_assert_uint_eq(e->target->max_classes, 0);
        ck_assert_ptr_nonnull(e->target->loss);
        ck_assert_ptr_nonnull(strstr(e->target->summary, "softmax"));
    }
    ck_assert_int_eq(xc__registry_find(reg, "xc.f64.shifted")->target->dtype, XC_F64);
    ck_assert_int_eq(xc__registry_find(reg, "xc.f32.shifted")->target->dtype, XC_F32);
    ck_assert_int_eq(xc__registry_find(reg, "xc.f32.logsoftmax")->target->dtype, XC_F32);
    xc__registry_free(reg);
}
END_TEST

START_TEST(entries_in_order_and_bounded)
{
    xc__registry *reg = xc__registry_new(0);
    for (size_t i = 0; i < N_BUILTINS; i++)
        ck_assert_str_eq(xc__registry_at(reg, i)->target->name, builtin_names[i]);
    for (size_t i = N_BUILTINS; i < base_count(); i++)
        ck_assert_str_eq(xc__registry_at(reg, i)->origin, "library");
    ck_assert_ptr_null(xc__registry_at(reg, base_count()));
    ck_assert_ptr_null(xc__registry_find(reg, "xc.nope"));
    ck_assert_ptr_null(xc__registry_find(reg, NULL));
    xc__registry_free(reg);
}
END_TEST

START_TEST(mutants_only_when_asked)
{
    xc__registry *plain = xc__registry_new(0);
    xc__registry *all = xc__registry_new(1);
    size_t n = 99;
    const xc_target *m = xc__mutant_targets(&n);
    ck_assert_uint_eq(xc__registry_count(all),
                      xc__registry_count(plain) + (m ? n : 0));
    for (size_t i = 0; i < xc__registry_count(plain); i++)
        ck_assert_int_eq(xc__registry_at(plain, i)->is_mutant, 0);
    for (size_t i = xc__registry_count(plain); i < xc__registry_count(all); i++) {
        ck_assert_int_eq(xc__registry_at(all, i)->is_mutant, 1);
        ck_assert_str_eq(xc__registry_at(all, i)->origin, "mutant");
    }
    xc__registry_free(plain);
    xc__registry_free(all);
}
END_TEST

/* Each bad plugin, the phrase naming its problem, and the target (or other
 * detail) the message must name besides the path. */
static const struct {
    const char *file, *problem, *detail;
} bad_plugins[] = {
    {"bad_abi.so", "abi_version 2, expected 1", "#0"},
    {"bad_duplicate.so", "duplicate name", "test.bad.twice"},
    {"bad_dup_builtin.so", "already registered from builtin", "xc.f64.shifted"},
    {"bad_name_space.so", "malformed name", "test bad name"},
    {"bad_name_slash.so", "malformed name", "test/bad"},
    {"bad_no_grad.so", "missing grad", "test.bad.nograd"},
    {"bad_loss_null.so", "XC_CAP_LOSS but the loss callback is NULL", "test.bad.lossnull"},
    {"bad_dtype.so", "unknown dtype 7", "test.bad.dtype"},
    {"bad_caps.so", "unknown caps bits 0x1000", "test.bad.caps"},
    {"bad_empty.so", "empty table", "count 0"},
    {"bad_null_table.so", "empty table", "NULL"},
    {"bad_no_symbol.so", "missing symbol xentcheck_targets", "not a xentcheck plugin"},
    {"bad_second.so", "summary is NULL", "test.bad.second"},
};
#define N_BAD (sizeof bad_plugins / sizeof bad_plugins[0])

static void assert_rejected(const char *path, const char *problem,
                            const char *detail)
{
    xc__registry *reg = xc__registry_new(0);
    char err[512] = "";
    ck_assert_int_ne(xc__registry_load_plugin(reg, path, err, sizeof err), 0);
    ck_assert_msg(strstr(err, path) != NULL, "path not named: %s", err);
    ck_assert_msg(strstr(err, problem) != NULL, "'%s' not in: %s", problem, err);
    ck_assert_msg(strstr(err, detail) != NULL, "'%s' not in: %s", detail, err);
    /* All or nothing: a rejected plugin registers no target at all. */
    ck_assert_uint_eq(xc__registry_count(reg), base_count());
    xc__registry_free(reg);
}

START_TEST(bad_plugin_rejected)
{
    char path[1024];
    plugin_path(path, sizeof path, bad_plugins[_i].file);
    assert_rejected(path, bad_plugins[_i].problem, bad_plugins[_i].detail);
}
END_TEST

START_TEST(rejected_plugin_registers_nothing)
{
    char path[1024], err[512];
    plugin_path(path, sizeof path, "bad_second.so");
    xc__registry *reg = xc__registry_new(0);
    ck_assert_int_ne(xc__registry_load_plugin(reg, path, err, sizeof err), 0);
    ck_assert_ptr_null(xc__registry_find(reg, "test.bad.first_ok"));
    xc__registry_free(reg);
}
END_TEST

START_TEST(text_file_rejected)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/plugins/not_a_plugin.txt",
             XC_TEST_SOURCE_DIR);
    assert_rejected(path, "cannot load as a shared object", "not_a_plugin.txt");
}
END_TEST

START_TEST(missing_file_rejected)
{
    char path[1024];
    plugin_path(path, sizeof path, "no_such_plugin.so");
    assert_rejected(path, "cannot load as a shared object", "no_such_plugin.so");
}
END_TEST

START_TEST(empty_path_rejected)
{
    xc__registry *reg = xc__registry_new(0);
    char err[128] = "";
    ck_assert_int_ne(xc__registry_load_plugin(reg, "", err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "empty"));
    xc__registry_free(reg);
}
END_TEST

START_TEST(good_plugin_loads)
{
    char path[1024], err[512] = "";
    plugin_path(path, sizeof path, "good.so");
    xc__registry *reg = xc__registry_new(0);
    ck_assert_msg(xc__registry_load_plugin(reg, path, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(xc__registry_count(reg), base_count() + 1);
    const xc__entry *e = xc__registry_find(reg, "example.f64.shifted");
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->origin, path);
    ck_assert_int_eq(e->is_mutant, 0);
    ck_assert_int_eq(xc__target_validate(e->target, err, sizeof err), 0);
    /* The same plugin twice: its names are now taken. */
    ck_assert_int_ne(xc__registry_load_plugin(reg, path, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "duplicate name"));
    ck_assert_ptr_nonnull(strstr(err, "already registered from"));
    ck_assert_uint_eq(xc__registry_count(reg), base_count() + 1);
    ck_assert_ptr_eq(xc__registry_find(reg, "example.f64.shifted"), e);
    xc__registry_free(reg);
}
END_TEST

START_TEST(good_plugin_computes)
{
    char path[1024], err[512] = "";
    plugin_path(path, sizeof path, "good.so");
    xc__registry *reg = xc__registry_new(0);
    ck_assert_int_eq(xc__registry_load_plugin(reg, path, err, sizeof err), 0);
    const xc_target *t = xc__registry_find(reg, "example.f64.shifted")->target;
    const double z[2] = {0.0, log(3.0)};
    const int64_t label = 1;
    double g[2] = {0, 0};
    xc_problem p = {.dtype = XC_F64, .batch = 1, .classes = 2, .ld = 2,
                    .logits = z, .labels = &label, .ignore_index = -100};
    ck_assert_int_eq(t->grad(&p, g, t->ctx), 0);
    ck_assert_double_eq_tol(g[0], 0.25, 1e-15);
    ck_assert_double_eq_tol(g[1], -0.25, 1e-15);
    xc__registry_free(reg);
}
END_TEST

/* ---- xc__target_validate on descriptors built in memory ---- */

static int dummy_grad(const xc_problem *p, void *g, void *ctx)
{
    (void)p, (void)g, (void)ctx;
    return -1;
}

static int dummy_loss(const xc_problem *p, double *l, void *ctx)
{
    (void)p, (void)l, (void)ctx;
    return -1;
}

static xc_target valid_target(void)
{
    xc_target t = {
        .abi_version = XC_ABI_VERSION, .name = "ok.name_1-2", .summary = "s",
        .dtype = XC_F32, .caps = XC_CAP_INDEX_LABELS, .grad = dummy_grad,
    };
    return t;
}

static char long_name[102];

static const char *mutate(xc_target *t, int which)
{
    switch (which) {
    case 0: t->name = NULL; return "name is NULL";
    case 1: t->name = ""; return "malformed name: empty";
    case 2: t->name = long_name; return "longer than 100";
    case 3: t->name = "caf\xc3\xa9"; return "malformed name";
    case 4: t->summary = NULL; return "summary is NULL";
    case 5: t->caps = XC_CAP_BATCH; return "no label kind";
    case 6: t->caps = XC_CAP_PROB_LABELS | XC_CAP_IGNORE_INDEX;
            return "XC_CAP_IGNORE_INDEX requires XC_CAP_INDEX_LABELS";
    case 7: t->caps |= XC_CAP_UNNORMALIZED;
            return "XC_CAP_UNNORMALIZED requires XC_CAP_PROB_LABELS";
    case 8: t->loss = dummy_loss; return "caps lack XC_CAP_LOSS";
    case 9: t->dtype = (xc_dtype)0; return "unknown dtype 0";
    case 10: t->abi_version = 0; return "abi_version 0, expected 1";
    default: t->caps |= 1u << 31; return "unknown caps bits 0x80000000";
    }
}
#define N_MUTATIONS 12

START_TEST(validate_rejects)
{
    memset(long_name, 'a', 101);
    xc_target t = valid_target();
    char err[256] = "";
    const char *why = mutate(&t, _i);
    ck_assert_int_ne(xc__target_validate(&t, err, sizeof err), 0);
    ck_assert_msg(strstr(err, why) != NULL, "'%s' not in: %s", why, err);
}
END_TEST

START_TEST(validate_accepts)
{
    char name100[101], err[256] = "";
    memset(name100, 'b', 100);
    name100[100] = '\0';
    xc_target t = valid_target();
    ck_assert_msg(xc__target_validate(&t, err, sizeof err) == 0, "%s", err);
    t.name = name100;
    t.caps = XC_CAPS_ALL_V1;
    t.loss = dummy_loss;
    t.dtype = XC_F64;
    ck_assert_msg(xc__target_validate(&t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_ne(xc__target_validate(NULL, err, sizeof err), 0);
    /* A NULL or empty error buffer is allowed. */
    t.grad = NULL;
    ck_assert_int_ne(xc__target_validate(&t, NULL, 0), 0);
}
END_TEST

START_TEST(caps_format_names_bits)
{
    char buf[128];
    xc__caps_format(XC_CAPS_ALL_V1, buf, sizeof buf);
    ck_assert_str_eq(buf, "index,prob,batch,mean,loss,unnorm,weights,ignore");
    xc__caps_format(0, buf, sizeof buf);
    ck_assert_str_eq(buf, "none");
    xc__caps_format(XC_CAP_PROB_LABELS | XC_CAP_LOSS | (1u << 12), buf, sizeof buf);
    ck_assert_str_eq(buf, "prob,loss,0x1000");
    char small[8];
    memset(small, 'x', sizeof small);
    xc__caps_format(XC_CAPS_ALL_V1, small, sizeof small);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
    ck_assert_str_eq(small, "index,p");
}
END_TEST

static Suite *registry_suite(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("builtins");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, builtins_present_and_valid);
    tcase_add_test(tc, entries_in_order_and_bounded);
    tcase_add_test(tc, mutants_only_when_asked);
    suite_add_tcase(s, tc);
    tc = tcase_create("plugins");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, bad_plugin_rejected, 0, (int)N_BAD);
    tcase_add_test(tc, rejected_plugin_registers_nothing);
    tcase_add_test(tc, text_file_rejected);
    tcase_add_test(tc, missing_file_rejected);
    tcase_add_test(tc, empty_path_rejected);
    tcase_add_test(tc, good_plugin_loads);
    tcase_add_test(tc, good_plugin_computes);
    suite_add_tcase(s, tc);
    tc = tcase_create("validate");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, validate_rejects, 0, N_MUTATIONS);
    tcase_add_test(tc, validate_accepts);
    tcase_add_test(tc, caps_format_names_bits);
    suite_add_tcase(s, tc);
    return s;
}

/* ------------------------------------------------------------------ */
/* built-in targets on hand-computed cases                             */

/* Every expected value below is exact or within a few roundings of the
 * inputs (ln 3 rounded to the dtype, one exp, one sum, one division, one
 * subtraction), so 64 u of relative error is generous and still far below
 * any real bug; an expected 0 must come out exactly 0. */
#define HAND_TOL_U 64.0
#define SENTINEL 12345.0
#define LN3 1.0986122886681098
#define LN43 0.28768207245178090  /* ln(4/3) = -ln(3/4) */

typedef struct hand_case {
    size_t batch, classes, ld;
    const double *logits;       /* batch * ld */
    const int64_t *labels;      /* or NULL */
    const double *probs;        /* batch * ld, or NULL */
    const double *weights;      /* classes, or NULL */
    xc_reduction reduction;
    int64_t ignore_index;
} hand_case;

static const xc_target *builtin(int i)
{
    size_t n = 0;
    const xc_target *table = xc__builtin_targets(&n);
    ck_assert_uint_eq(n, N_BUILTINS);
    return &table[i];
}

static double unit_roundoff(const xc_target *t)
{
    return t->dtype == XC_F32 ? ldexp(1.0, -24) : ldexp(1.0, -53);
}

static void *to_dtype(xc_dtype dt, const double *v, size_t n)
{
    if (v == NULL)
        return NULL;
    void *out = malloc((n ? n : 1) * (dt == XC_F32 ? sizeof(float) : sizeof(double)));
    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < n; i++) {
        if (dt == XC_F32)
            ((float *)out)[i] = (float)v[i];
        else
            ((double *)out)[i] = v[i];
    }
    return out;
}

static void *filled(xc_dtype dt, size_t n, double v)
{
    void *out = malloc(n * (dt == XC_F32 ? sizeof(float) : sizeof(double)));
    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < n; i++) {
        if (dt == XC_F32)
            ((float *)out)[i] = (float)v;
        else
            ((double *)out)[i] = v;
    }
    return out;
}

static double from_dtype(xc_dtype dt, const void *buf, size_t i)
{
    return dt == XC_F32 ? (double)((const float *)buf)[i] : ((const double *)buf)[i];
}

typedef struct dtype_problem {
    xc_problem p;
    void *logits, *probs, *weights;
} dtype_problem;

static void dtype_problem_init(dtype_problem *d, const xc_target *t, const hand_case *c)
{
    size_t n = c->batch * c->ld;
    d->logits = to_dtype(t->dtype, c->logits, n);
    d->probs = to_dtype(t->dtype, c->probs, n);
    d->weights = to_dtype(t->dtype, c->weights, c->classes);
    xc_problem p = {
        .dtype = t->dtype, .batch = c->batch, .classes = c->classes, .ld = c->ld,
        .logits = d->logits, .labels = c->labels, .probs = d->probs,
        .reduction = c->reduction, .weights = d->weights,
        .ignore_index = c->ignore_index,
    };
    d->p = p;
}

static void dtype_problem_free(dtype_problem *d)
{
    free(d->logits);
    free(d->probs);
    free(d->weights);
}

/* Run T's grad on C into OUT (batch * ld doubles); the padding must keep
 * the sentinel the buffer was filled with. */
static void run_grad(const xc_target *t, const hand_case *c, double *out)
{
    size_t n = c->batch * c->ld;
    dtype_problem d;
    dtype_problem_init(&d, t, c);
    void *g = filled(t->dtype, n, SENTINEL);
    ck_assert_int_eq(t->grad(&d.p, g, t->ctx), 0);
    for (size_t i = 0; i < n; i++)
        out[i] = from_dtype(t->dtype, g, i);
    for (size_t r = 0; r < c->batch; r++)
        for (size_t k = c->classes; k < c->ld; k++)
            ck_assert_double_eq(out[r * c->ld + k], SENTINEL);
    free(g);
    dtype_problem_free(&d);
}

static double run_loss(const xc_target *t, const hand_case *c)
{
    dtype_problem d;
    dtype_problem_init(&d, t, c);
    double loss = -1;
    ck_assert_int_eq(t->loss(&d.p, &loss, t->ctx), 0);
    dtype_problem_free(&d);
    return loss;
}

static int near(const xc_target *t, double got, double want, double tol_u)
{
    return fabs(got - want) <= tol_u * unit_roundoff(t) * fabs(want);
}

static void assert_near(const xc_target *t, double got, double want, const char *what)
{
    ck_assert_msg(near(t, got, want, HAND_TOL_U), "%s %s: got %a (%.17g), want %.17g",
                  t->name, what, got, got, want);
}

/* Compare the H used columns of every row with WANT (batch * classes),
 * within TOL_U units of u. Check records every assertion it is handed (one
 * pipe message each in fork mode), so only a mismatch reaches it. */
static void assert_grad_tol(const xc_target *t, const hand_case *c,
                            const double *want, double tol_u)
{
    double *got = malloc(c->batch * c->ld * sizeof *got);
    ck_assert_ptr_nonnull(got);
    run_grad(t, c, got);
    for (size_t r = 0; r < c->batch; r++) {
        for (size_t k = 0; k < c->classes; k++) {
            double g = got[r * c->ld + k], w = want[r * c->classes + k];
            if (!near(t, g, w, tol_u))
                ck_abort_msg("%s grad[%zu][%zu]: got %a (%.17g), want %.17g",
                             t->name, r, k, g, g, w);
        }
    }
    free(got);
}

static void assert_grad(const xc_target *t, const hand_case *c, const double *want)
{
    assert_grad_tol(t, c, want, HAND_TOL_U);
}

/* The log-space target rounds lse = M + ln s to the dtype before exp
 * amplifies it: its error grows with |lse| (Blanchard, Higham and Higham
 * 2021, Thm 3.4), where the shifted ones stay within a few u. */
static double lse_amplification(const xc_target *t, double abs_lse)
{
    return strcmp(t->name, "xc.f32.logsoftmax") == 0 ? abs_lse : 0.0;
}

/* z = [0, ln 3]: O = [1/4, 3/4]. */
START_TEST(one_hot_single_row)
{
    const xc_target *t = builtin(_i);
    static const double z[] = {0.0, LN3};
    static const int64_t label[] = {1};
    hand_case c = {1, 2, 2, z, label, NULL, NULL, XC_REDUCE_SUM, -100};
    static const double want[] = {0.25, -0.25};
    assert_grad(t, &c, want);
    assert_near(t, run_loss(t, &c), LN43, "loss");
}
END_TEST

/* Row 1 ignored: zero row; mean divides by the one remaining row. Padding
 * (ld 3) must stay untouched. */
START_TEST(ignore_index_mean)
{
    const xc_target *t = builtin(_i);
    static const double z[] = {0.0, LN3, 0.0, 5.0, -7.0, 0.0};
    static const int64_t labels[] = {1, -100};
    hand_case c = {2, 2, 3, z, labels, NULL, NULL, XC_REDUCE_MEAN, -100};
    static const double want[] = {0.25, -0.25, 0.0, 0.0};
    assert_grad(t, &c, want);
    assert_near(t, run_loss(t, &c), LN43, "loss");
}
END_TEST

START_TEST(all_ignored_mean)
{
    const xc_target *t = builtin(_i);
    static const double z[] = {0.0, LN3, 1.0, 2.0};
    static const int64_t labels[] = {-1, -1};
    hand_case c = {2, 2, 2, z, labels, NULL, NULL, XC_REDUCE_MEAN, -1};
    static const double want[] = {0.0, 0.0, 0.0, 0.0};
    assert_grad(t, &c, want);
    double loss = run_loss(t, &c);
    ck_assert_msg(isnan(loss) || loss == 0.0, "%s loss %g", t->name, loss);
}
END_TEST

/* Row weights w[1] = 1 and w[0] = 2, so D = 3 under mean. */
static const double weighted_z[] = {0.0, LN3, LN3, 0.0};
static const int64_t weighted_labels[] = {1, 0};
static const double class_w[] = {2.0, 1.0};

START_TEST(weights_mean)
{
    const xc_target *t = builtin(_i);
    hand_case c = {2, 2, 2, weighted_z, weighted_labels, NULL, class_w,
                   XC_REDUCE_MEAN, -100};
    static const double want[] = {1.0 / 12, -1.0 / 12, -1.0 / 6, 1.0 / 6};
    assert_grad(t, &c, want);
    assert_near(t, run_loss(t, &c), LN43, "loss");
}
END_TEST

START_TEST(weights_sum)
{
    const xc_target *t = builtin(_i);
    hand_case c = {2, 2, 2, weighted_z, weighted_labels, NULL, class_w,
                   XC_REDUCE_SUM, -100};
    static const double want[] = {0.25, -0.25, -0.5, 0.5};
    assert_grad(t, &c, want);
    assert_near(t, run_loss(t, &c), 3 * LN43, "loss");
}
END_TEST

/* Unweighted mean over two rows: row 1 is [0, 0], O = [1/2, 1/2]. */
START_TEST(mean_unweighted)
{
    const xc_target *t = builtin(_i);
    static const double z[] = {0.0, LN3, 0.0, 0.0};
    static const int64_t labels[] = {1, 0};
    hand_case c = {2, 2, 2, z, labels, NULL, NULL, XC_REDUCE_MEAN, -100};
    static const double want[] = {0.125, -0.125, -0.25, 0.25};
    assert_grad(t, &c, want);
    assert_near(t, run_loss(t, &c), (LN43 + log(2.0)) / 2, "loss");
}
END_TEST

/* Probability rows: y = [1/2, 1/2]; weighted, Y = 2/2 + 1/2 = 3/2 and
 * g = 3/2 O - w y; unnormalised y = [1, 1] (S = 2); and y = 0 (S = 0). */
START_TEST(prob_rows)
{
    const xc_target *t = builtin(_i);
    static const double z[] = {0.0, LN3, 0.0, LN3, 0.0, LN3};
    static const double y[] = {0.5, 0.5, 1.0, 1.0, 0.0, 0.0};
    hand_case c = {3, 2, 2, z, NULL, y, NULL, XC_REDUCE_SUM, -100};
    static const double want[] = {-0.25, 0.25, -0.5, 0.5, 0.0, 0.0};
    assert_grad(t, &c, want);
    assert_near(t, run_loss(t, &c), 1.5 * (log(4.0) + LN43), "loss");
    c.weights = class_w;
    c.batch = 1;
    static const double want_w[] = {-0.625, 0.625};
    assert_grad(t, &c, want_w);
    assert_near(t, run_loss(t, &c), log(4.0) + 0.5 * LN43, "weighted loss");
}
END_TEST

/* A masked class (-inf) gets O = 0 and never turns the loss into NaN. */
START_TEST(masked_class)
{
    const xc_target *t = builtin(_i);
    static const double z[] = {0.0, -INFINITY, LN3, 0.0, -INFINITY, LN3};
    static const int64_t labels[] = {2, 0};
    hand_case c = {2, 3, 3, z, labels, NULL, NULL, XC_REDUCE_SUM, -100};
    static const double want[] = {0.25, 0.0, -0.25, -0.75, 0.0, 0.75};
    assert_grad(t, &c, want);
    assert_near(t, run_loss(t, &c), LN43 + log(4.0), "loss");
    static const double y[] = {0.5, 0.0, 0.5, 0.5, 0.0, 0.5};
    hand_case cp = {2, 3, 3, z, NULL, y, NULL, XC_REDUCE_MEAN, -100};
    static const double want_p[] = {-0.125, 0.0, 0.125, -0.125, 0.0, 0.125};
    assert_grad(t, &cp, want_p);
    assert_near(t, run_loss(t, &cp), (log(4.0) + LN43) / 2, "prob loss");
}
END_TEST

/* A row of -inf only has no softmax: zeros (the built-ins' policy), and the
 * next row is unaffected. */
START_TEST(all_masked_row)
{
    const xc_target *t = builtin(_i);
    static const double z[] = {-INFINITY, -INFINITY, 0.0, LN3};
    static const int64_t labels[] = {0, 1};
    hand_case c = {2, 2, 2, z, labels, NULL, NULL, XC_REDUCE_SUM, -100};
    static const double want[] = {0.0, 0.0, 0.25, -0.25};
    assert_grad(t, &c, want);
}
END_TEST

/* Far beyond the exp overflow and underflow thresholds: the shift keeps
 * O = [1/2, 1/2] (|lse| <= 1000 + ln 2). One class: O = [1], gradient 0, loss 0. */
START_TEST(extreme_logits_and_one_class)
{
    const xc_target *t = builtin(_i);
    static const double z[] = {1000.0, 1000.0, -1000.0, -1000.0};
    static const int64_t labels[] = {0, 1};
    hand_case c = {2, 2, 2, z, labels, NULL, NULL, XC_REDUCE_SUM, -100};
    static const double want[] = {-0.5, 0.5, 0.5, -0.5};
    assert_grad_tol(t, &c, want, HAND_TOL_U * (1 + lse_amplification(t, 1001.0)));
    assert_near(t, run_loss(t, &c), 2 * log(2.0), "loss");
    static const double z1[] = {5.0};
    static const int64_t l1[] = {0};
    hand_case one = {1, 1, 1, z1, l1, NULL, NULL, XC_REDUCE_SUM, -100};
    static const double want1[] = {0.0};
    assert_grad(t, &one, want1);
    ck_assert_double_eq(run_loss(t, &one), 0.0);
}
END_TEST

/* H = 1e6 equal logits: O_k = 1e-6 exactly up to one rounding (the sum of
 * ones is exact), no stack arrays. */
START_TEST(million_classes)
{
    const xc_target *t = builtin(_i);
    const size_t h = 1000000;
    double *z = calloc(h, sizeof *z), *want = malloc(h * sizeof *want);
    ck_assert_ptr_nonnull(z);
    ck_assert_ptr_nonnull(want);
    static const int64_t label[] = {0};
    for (size_t k = 0; k < h; k++)
        want[k] = 1e-6;
    want[0] = 1e-6 - 1;
    hand_case c = {1, h, h, z, label, NULL, NULL, XC_REDUCE_SUM, -100};
    assert_grad(t, &c, want);
    assert_near(t, run_loss(t, &c), log(1e6), "loss");
    free(want);
    free(z);
}
END_TEST

START_TEST(malformed_problem_refused)
{
    const xc_target *t = builtin(_i);
    static const double z[] = {0.0, 0.0};
    static const int64_t bad_label[] = {2};
    hand_case c = {1, 2, 2, z, bad_label, NULL, NULL, XC_REDUCE_SUM, -100};
    dtype_problem d;
    dtype_problem_init(&d, t, &c);
    double g[2], loss;
    ck_assert_int_ne(t->grad(&d.p, g, NULL), 0);
    ck_assert_int_ne(t->loss(&d.p, &loss, NULL), 0);
    d.p.labels = NULL;  /* neither labels nor probs */
    ck_assert_int_ne(t->grad(&d.p, g, NULL), 0);
    d.p.dtype = t->dtype == XC_F32 ? XC_F64 : XC_F32;
    ck_assert_int_ne(t->grad(&d.p, g, NULL), 0);
    dtype_problem_free(&d);
}
END_TEST

static Suite *targets_suite(void)
{
    Suite *s = suite_create("builtin_targets");
    TCase *tc = tcase_create("hand_computed");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, one_hot_single_row, 0, (int)N_BUILTINS);
    tcase_add_loop_test(tc, ignore_index_mean, 0, (int)N_BUILTINS);
    tcase_add_loop_test(tc, all_ignored_mean, 0, (int)N_BUILTINS);
    tcase_add_loop_test(tc, weights_mean, 0, (int)N_BUILTINS);
    tcase_add_loop_test(tc, weights_sum, 0, (int)N_BUILTINS);
    tcase_add_loop_test(tc, mean_unweighted, 0, (int)N_BUILTINS);
    tcase_add_loop_test(tc, prob_rows, 0, (int)N_BUILTINS);
    tcase_add_loop_test(tc, masked_class, 0, (int)N_BUILTINS);
    tcase_add_loop_test(tc, all_masked_row, 0, (int)N_BUILTINS);
    tcase_add_loop_test(tc, extreme_logits_and_one_class, 0, (int)N_BUILTINS);
    tcase_add_loop_test(tc, million_classes, 0, (int)N_BUILTINS);
    tcase_add_loop_test(tc, malformed_problem_refused, 0, (int)N_BUILTINS);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(registry_suite());
    srunner_add_suite(sr, targets_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
