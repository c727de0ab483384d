/* xentcheck-fuzz: libFuzzer (and AFL++) entry point.
 *
 * Each input is decoded into a case (bytes_case.h) and checked with the
 * inline executor: the base call with the reference, bound and loss
 * properties on every input, and one of the groups of properties that make
 * further calls in turn (xc__props_run_part, chosen by the input's hash);
 * XENTCHECK_FUZZ_ALL=1 runs every group on every input (measured 1.5
 * times the cost per input at small H, docs/fuzzing.md). The first violation is printed (property, target, the case in
 * case-file format) before abort(), so that the engine keeps the input as
 * an artifact; `xentcheck replay` decodes the artifact the same way and
 * runs every property, which reproduces the failure (a group draws the
 * same randomness alone as in the full run).
 *
 * Coverage feedback comes from the target alone (fuzz/coverage-ignore.txt:
 * the harness, this file and the byte codec are not instrumented). libFuzzer
 * traces integer comparisons, never float ones, so the entry point reports
 * integer features of each case through libFuzzer's extra counters: its
 * shape (batch and class-count buckets, label kind, reduction, weights,
 * ignore_index, padding), the kinds of logit present (sign and magnitude),
 * and exponent buckets of each row's largest logit, of its distance to the
 * overflow threshold and to the label. Reaching a new bucket, or a new
 * count bucket of one, is new coverage.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casefile.h"
#include "exec.h"
#include "fuzz_decode.h"
#include "gen.h"
#include "props.h"
#include "registry.h"

typedef struct fuzz_state {
    xc__registry *reg;
    const xc_target *target;
    xc__exec *exec;
    xc__bytes_config cfg;
    int all_parts; /* XENTCHECK_FUZZ_ALL=1: every property on every input */
} fuzz_state;

static fuzz_state state;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "xentcheck-fuzz: %s%s\n", what, detail);
    exit(2);
}

static void setup(void)
{
    char err[512];
    const char *plugin = getenv("XENTCHECK_PLUGIN");
    state.reg = xc__registry_new(1);
    if (!state.reg)
        die("out of memory", "");
    if (plugin && *plugin && xc__registry_load_plugin(state.reg, plugin, err, sizeof err))
        die("", err);
    const xc__entry *e = xc__bytes_target(state.reg, getenv("XENTCHECK_TARGET"), plugin);
    if (!e)
        die("unknown target (XENTCHECK_TARGET; see 'xentcheck list'): ",
            getenv("XENTCHECK_TARGET") ? getenv("XENTCHECK_TARGET") : XC__BYTES_DEFAULT_TARGET);
    state.target = e->target;
    state.cfg = xc__bytes_config_for(e->target);
    if (xc__bytes_config_env(&state.cfg, err, sizeof err) != 0)
        die("", err);
    const char *all = getenv("XENTCHECK_FUZZ_ALL");
    state.all_parts = all && strcmp(all, "1") == 0;
    state.exec = xc__exec_new(e->target, &(xc__exec_config){.inline_mode = 1});
    if (!state.exec)
        die("cannot create the inline executor", "");
}

const xc__bytes_config *xc__fuzz_bytes_config(void)
{
    if (!state.target)
        setup();
    return &state.cfg;
}

const xc_target *xc__fuzz_target(void)
{
    if (!state.target)
        setup();
    return state.target;
}

/* --- integer features of a case ----------------------------------------- */

#if defined(__clang__) && defined(__linux__) && !defined(XC_FUZZ_NO_FEATURES)
#define XC_EXTRA_COUNTERS __attribute__((section("__libfuzzer_extra_counters"), used))
#else
#define XC_EXTRA_COUNTERS
#endif

enum {
    FEAT_MAX, FEAT_EXP, FEAT_LABEL_GAP, FEAT_ROW_KIND, FEAT_SHAPE, FEAT_SIZE,
    FEAT_VALUE, FEAT_GROUPS, FEAT_SLOTS = 64
};
XC_EXTRA_COUNTERS static uint8_t features[FEAT_GROUPS * FEAT_SLOTS];

/* 0 for 0, 63 for inf/NaN, else the binary exponent mapped to 1..62. */
static unsigned exp_bucket(double x)
{
    if (x == 0)
        return 0;
    if (!isfinite(x))
        return 63;
    int e = ilogb(x);
    return (unsigned)(e < -30 ? 1 : e > 31 ? 62 : e + 31);
}

static void feature(unsigned group, unsigned slot)
{
    uint8_t *f = &features[group * FEAT_SLOTS + slot % FEAT_SLOTS];
    if (*f < 255)
        (*f)++;
}

/* The slot's presence only: libFuzzer's count buckets would otherwise make
 * every count of a kind of value a feature of its own, inflating the
 * corpus with copies that differ in how many logits are zero. */
static void feature_present(unsigned group, unsigned slot)
{
    features[group * FEAT_SLOTS + slot % FEAT_SLOTS] = 1;
}

/* 0 for 1, 1 for 2, 2 for 3-4, ... 6 for 33-64, 7 for 65 and more. */
static unsigned size_bucket(size_t n)
{
    unsigned b = 0;
    while (b < 7 && ((size_t)1 << b) < n)
        b++;
    return b;
}

/* Sign, then 0, subnormal, below 1, below 16, below the overflow
 * threshold OV of exp (88.7 for f32, 709.8 for f64), at or past it,
 * infinite, NaN. */
static unsigned value_kind(double x, double ov, double min_normal)
{
    double a = fabs(x);
    unsigned kind = isnan(x) ? 7 : isinf(x) ? 6 : a >= ov ? 5 : a >= 16 ? 4
                  : a >= 1 ? 3 : a >= min_normal ? 2 : a > 0 ? 1 : 0;
    return (signbit(x) ? 8u : 0u) + kind;
}

static void shape_features(const xc__case *c)
{
    unsigned flags = (c->label_kind == XC__LABELS_PROB) | (c->reduction == XC_REDUCE_MEAN) << 1 |
                     (c->weights != NULL) << 2 | (c->has_ignore_index != 0) << 3 |
                     (c->ld > c->classes) << 4;
    feature(FEAT_SHAPE, flags);
    feature(FEAT_SIZE, size_bucket(c->batch) * 8 + size_bucket(c->classes));
}

static void row_features(const xc__case *c, size_t r, double ov, double min_normal)
{
    const double *z = c->logits + r * c->ld;
    double m = -INFINITY;
    unsigned odd = 0;
    for (size_t k = 0; k < c->classes; k++) {
        odd |= isnan(z[k]) ? 1u : z[k] == INFINITY ? 2u : z[k] == -INFINITY ? 4u : 0u;
        m = isfinite(z[k]) && z[k] > m ? z[k] : m;
        feature_present(FEAT_VALUE, value_kind(z[k], ov, min_normal));
    }
    feature(FEAT_ROW_KIND, odd * 8 + (c->classes < 8 ? (unsigned)c->classes : 7));
    if (m == -INFINITY)
        return;
    double q = floor(8 * m / ov);
    feature(FEAT_MAX, (unsigned)(q < -32 ? 0 : q > 31 ? 63 : q + 32));
    feature(FEAT_EXP, exp_bucket(m));
    if (c->labels && !xc__case_row_ignored(c, r))
        feature(FEAT_LABEL_GAP, exp_bucket(m - z[c->labels[r]]));
}

static void case_features(const xc__case *c)
{
    double ov = xc__gen_exp_overflow(c->dtype);
    double min_normal = xc__dtype_min_normal(c->dtype);
    shape_features(c);
    for (size_t r = 0; r < c->batch; r++)
        row_features(c, r, ov, min_normal);
}

/* --- the entry point ---------------------------------------------------- */

static void violation(void *ctx, const char *property, const xc__case *c,
                      const char *message)
{
    (void)ctx;
    xc__case_meta meta = {{0}, {0}};
    snprintf(meta.target, sizeof meta.target, "%s", state.target->name);
    snprintf(meta.property, sizeof meta.property, "%s", property);
    fprintf(stderr, "\n==xentcheck== property %s fails on target %s\n%s\n", property,
            state.target->name, message);
    xc__casefile_print(stderr, c, &meta);
    const char *plugin = getenv("XENTCHECK_PLUGIN"), *max_h = getenv("XENTCHECK_FUZZ_MAX_H");
    fprintf(stderr, "==xentcheck== replay the artifact: %s%s%sxentcheck replay%s%s "
            "--target %s FILE\n", max_h ? "XENTCHECK_FUZZ_MAX_H=" : "", max_h ? max_h : "",
            max_h ? " " : "", plugin ? " --plugin " : "", plugin ? plugin : "",
            state.target->name);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    xc__fuzz_target();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xc__case *c = xc__bytes_to_case(data, size, xc__fuzz_bytes_config());
    if (!c)
        return 0;
    case_features(c);
    xc__prop_env env = {.target = state.target, .exec = state.exec, .tol_factor = 1,
                        .sink = {.fail = violation}};
    if (state.all_parts)
        xc__props_run_case(&env, c);
    else
        xc__props_run_part(&env, c, (unsigned)(xc__props_turn(c) % XC__PROP_PARTS));
    xc__case_free(c);
    return 0;
}
