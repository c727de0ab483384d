/* The check loop of one target: cases, properties, failures, accuracy. */
#include "checker.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "exec.h"
#include "gen.h"
#include "props.h"
#include "report_stats.h"
#include "shrink.h"

typedef struct run_state {
    const xc__entry *entry;
    const xc__check_config *cfg;
    xc__target_report *out;
    xc__prop_env *env;
    unsigned char ran[32];      /* per xc__property_names index */
    size_t capsamples;
    size_t hangs;
    int shrink;                 /* shrink failing cases before saving them */
    double shrink_left;         /* seconds of shrinking left for this target */
} run_state;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int property_index(const char *name)
{
    for (int i = 0; xc__property_names[i]; i++)
        if (strcmp(xc__property_names[i], name) == 0)
            return i;
    return -1;
}

static int has_failure(const xc__target_report *t, const char *property)
{
    for (size_t i = 0; i < t->nfailures; i++)
        if (strcmp(t->failures[i].property, property) == 0)
            return 1;
    return 0;
}

static int mkdir_p(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return -1;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* Save C as DIR/TARGET.PROPERTY.INDEX.case; returns a malloc'd path or NULL. */
static char *save_case(const run_state *st, const char *property, const xc__case *c)
{
    if (!st->cfg->case_dir || mkdir_p(st->cfg->case_dir) != 0)
        return NULL;
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/%s.%s.%" PRIu64 ".case", st->cfg->case_dir,
             st->entry->target->name, property, c->index);
    xc__case_meta meta = {{0}, {0}};
    snprintf(meta.target, sizeof meta.target, "%s", st->entry->target->name);
    snprintf(meta.property, sizeof meta.property, "%s", property);
    if (xc__casefile_write(path, c, &meta, err, sizeof err) != 0)
        return NULL;
    return strdup(path);
}

static char *replay_line(const run_state *st, const char *path)
{
    const char *prefix = st->cfg->replay_prefix ? st->cfg->replay_prefix : "xentcheck replay";
    size_t n = strlen(prefix) + (path ? strlen(path) : 0) + 64;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s %s", prefix, path ? path : "(case file could not be saved)");
    return s;
}

void xc__print_failure(FILE *log, const char *target, const xc__failure *f,
                       int with_files)
{
    fprintf(log, "FAIL %s: property %s (seed 0x%" PRIx64 ", case %" PRIu64 ")\n%s\n",
            target, f->property, f->seed, f->case_index, f->message);
    if (with_files)
        fprintf(log, "  case file: %s\n  replay: %s\n",
                f->case_file ? f->case_file : "(could not be saved)", f->replay);
}

static void print_failure(const run_state *st, const xc__failure *f)
{
    /* replaying a file (no case_dir): its own command reproduces it */
    if (st->cfg->log)
        xc__print_failure(st->cfg->log, st->entry->target->name, f,
                          st->cfg->case_dir != NULL);
}

/* MESSAGE of the shrunk failure, how it was shrunk, and the shrunk case
 * itself when it is small; malloc'd. */
static char *shrunk_message(const xc__case *from, const xc__case *to,
                            const xc__shrink_stats *ss, const xc__case_meta *meta,
                            const char *message)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "%s\nshrunk from N=%zu H=%zu to N=%zu H=%zu (%zu tries%s; seed 0x%" PRIx64
            ", case %" PRIu64 ")\n", message, from->batch, from->classes, to->batch,
            to->classes, ss->calls, ss->timed_out ? ", time limit" : "", from->seed,
            from->index);
    if (to->batch * to->ld <= 64)
        xc__casefile_print(f, to, meta);
    fclose(f);
    return buf;
}

/* A smaller case failing PROPERTY like C, found with a predicate whose sink
 * never reaches the report; NULL when shrinking is off or impossible (a
 * hang: every try would wait for the timeout). *MSG gets its message. */
static xc__case *shrink_failure(run_state *st, const char *property,
                                const xc__case *c, const char *message, char **msg)
{
    if (!st->shrink || st->shrink_left <= 0 || strcmp(property, XC__P_HANG) == 0)
        return NULL;
    const xc_target *t = st->entry->target;
    xc__shrink_props p = {.target = t, .exec = st->env->exec,
                          .tol_factor = st->env->tol_factor, .property = property};
    xc__shrink_config sc = {.caps = t->caps, .max_classes = t->max_classes,
                            .time_limit_s = st->shrink_left};
    xc__shrink_stats ss;
    xc__case_meta meta = {{0}, {0}};
    snprintf(meta.target, sizeof meta.target, "%s", t->name);
    snprintf(meta.property, sizeof meta.property, "%s", property);
    double t0 = now_seconds();
    xc__case *small = xc__shrink(c, &sc, xc__shrink_props_pred, &p, &ss);
    st->shrink_left -= now_seconds() - t0;
    if (small)
        *msg = shrunk_message(c, small, &ss, &meta, ss.accepted ? p.message : message);
    return small;
}

static void sink_fail(void *ctx, const char *property, const xc__case *c,
                      const char *message)
{
    run_state *st = ctx;
    xc__target_report *t = st->out;
    t->pass = 0;
    if (strcmp(property, XC__P_HANG) == 0 && ++st->hangs >= 1)
        st->env->stop = 1;
    if (has_failure(t, property))
        return;
    xc__failure *grown = realloc(t->failures, (t->nfailures + 1) * sizeof *grown);
    if (!grown)
        return;
    t->failures = grown;
    xc__failure *f = &t->failures[t->nfailures++];
    char *msg = NULL;
    xc__case *small = shrink_failure(st, property, c, message, &msg);
    *f = (xc__failure){.property = strdup(property), .message = msg ? msg : strdup(message),
                       .seed = c->seed, .case_index = c->index};
    f->case_file = save_case(st, property, small ? small : c);
    xc__case_free(small);
    f->replay = replay_line(st, f->case_file);
    print_failure(st, f);
}

static void sink_ran(void *ctx, const char *property)
{
    run_state *st = ctx;
    int i = property_index(property);
    if (i >= 0)
        st->ran[i] = 1;
    st->out->properties_run++;
}

/* Largest |z_k - M| and |z_k| over the finite logits of C. */
static void logit_extent(const xc__case *c, float *range, float *max)
{
    double lo = INFINITY, hi = -INFINITY, mag = 0;
    for (size_t r = 0; r < c->batch; r++)
        for (size_t k = 0; k < c->classes; k++) {
            double z = c->logits[r * c->ld + k];
            if (!isfinite(z))
                continue;
            lo = fmin(lo, z);
            hi = fmax(hi, z);
            mag = fmax(mag, fabs(z));
        }
    *range = hi >= lo ? (float)(hi - lo) : 0.0f;
    *max = (float)mag;
}

static void add_sample(run_state *st, const xc__case *c, double worst_scaled,
                       double worst_ratio)
{
    xc__target_report *t = st->out;
    if (t->nsamples == st->capsamples) {
        size_t cap = st->capsamples ? 2 * st->capsamples : 256;
        xc__sample *grown = realloc(t->samples, cap * sizeof *grown);
        if (!grown)
            return;
        t->samples = grown;
        st->capsamples = cap;
    }
    xc__sample *s = &t->samples[t->nsamples++];
    *s = (xc__sample){.classes = (uint32_t)c->classes, .batch = (uint32_t)c->batch,
                      .worst_scaled = (float)worst_scaled, .worst_ratio = (float)worst_ratio,
                      .case_index = c->index};
    logit_extent(c, &s->logit_range, &s->logit_max);
}

static void sink_accuracy(void *ctx, const xc__case *c, double worst_scaled,
                          double worst_ratio, size_t elements)
{
    run_state *st = ctx;
    xc__accuracy *a = &st->out->accuracy;
    a->count += elements;
    if (worst_scaled > a->max_scaled || a->count == elements) {
        a->max_scaled = worst_scaled;
        a->worst_classes = c->classes;
        a->worst_case = c->index;
    }
    if (worst_ratio > a->max_ratio)
        a->max_ratio = worst_ratio;
    add_sample(st, c, worst_scaled, worst_ratio);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted per-case worst errors. */
static double percentile(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)ceil(p * (double)n);
    return v[rank ? rank - 1 : 0];
}

static void set_percentiles(xc__target_report *t)
{
    size_t n = t->nsamples;
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        v[i] = t->samples[i].worst_scaled;
    if (n)
        qsort(v, n, sizeof *v, cmp_double);
    t->accuracy.p50 = percentile(v, n, 0.50);
    t->accuracy.p90 = percentile(v, n, 0.90);
    t->accuracy.p99 = percentile(v, n, 0.99);
    free(v);
}

static void finish_report(run_state *st)
{
    xc__target_report *t = st->out;
    set_percentiles(t);
    size_t n = 0;
    for (int i = 0; xc__property_names[i]; i++)
        n += st->ran[i];
    for (size_t i = 0; i < t->nfailures; i++) {
        int j = property_index(t->failures[i].property);
        if (j >= 0 && !st->ran[j]) {
            st->ran[j] = 1;
            n++;
        }
    }
    t->properties = calloc(n ? n : 1, sizeof *t->properties);
    for (int i = 0; xc__property_names[i] && t->properties; i++)
        if (st->ran[i])
            t->properties[t->nproperties++] = strdup(xc__property_names[i]);
}

/* The known finding of E, if any, as the report states it. */
static void set_finding(const xc__entry *e, xc__target_report *t)
{
    const xc__finding *f = e->finding;
    size_t n = 0;
    if (f == NULL)
        return;
    while (f->properties && f->properties[n])
        n++;
    t->finding = strdup(f->reason);
    t->expected = calloc(n + 1, sizeof *t->expected);
    for (size_t i = 0; t->expected && i < n; i++)
        if ((t->expected[t->nexpected] = strdup(f->properties[i])) != NULL)
            t->nexpected++;
}

static void report_init(const xc__entry *e, xc__target_report *t)
{
    *t = (xc__target_report){0};
    t->name = strdup(e->target->name);
    t->summary = strdup(e->target->summary ? e->target->summary : "");
    t->origin = strdup(e->origin ? e->origin : "builtin");
    t->dtype = e->target->dtype;
    t->caps = e->target->caps;
    t->pass = 1;
    set_finding(e, t);
}

static int begin(const xc__entry *e, const xc__check_config *cfg,
                 xc__target_report *out, run_state *st, xc__prop_env *env)
{
    report_init(e, out);
    *st = (run_state){.entry = e, .cfg = cfg, .out = out, .env = env};
    xc__exec_config ec = {.timeout_s = cfg->timeout_s, .inline_mode = cfg->inline_mode};
    if (e->origin && strcmp(e->origin, "library") == 0)
        xc__library_prepare(e->target);
    *env = (xc__prop_env){.target = e->target, .tol_factor = cfg->tol_factor > 0 ? cfg->tol_factor : 1,
                          .sink = {sink_fail, sink_ran, sink_accuracy, st}};
    env->exec = xc__exec_new(e->target, &ec);
    if (!env->exec && cfg->log)
        fprintf(cfg->log, "xentcheck: cannot start a worker for %s\n", e->target->name);
    return env->exec ? 0 : -1;
}

static int end(run_state *st, xc__prop_env *env, double t0)
{
    xc__exec_free(env->exec);
    finish_report(st);
    xc__failures_sort(st->out);
    xc__finding_settle(st->out);
    st->out->timing.seconds = now_seconds() - t0;
    if (env->harness_error && st->cfg->log)
        fprintf(st->cfg->log, "xentcheck: internal error (out of memory) while checking %s\n",
                st->entry->target->name);
    return env->harness_error ? -1 : 0;
}

static xc__gen_config gen_config(const xc_target *t, const xc__check_config *cfg)
{
    size_t max = cfg->max_classes ? cfg->max_classes : XC__CHECK_DEFAULT_MAX_CLASSES;
    if (t->max_classes && t->max_classes < max)
        max = t->max_classes;
    /* Rows of the largest H come alone or in pairs; small rows in batches. */
    size_t el = max < ((size_t)1 << 16) ? (size_t)1 << 16 : max;
    return (xc__gen_config){.dtype = t->dtype, .caps = t->caps, .max_classes = max,
                            .max_elements = el};
}

int xc__check_target(const xc__entry *entry, const xc__check_config *cfg,
                     xc__target_report *out)
{
    run_state st;
    xc__prop_env env;
    double t0 = now_seconds();
    if (begin(entry, cfg, out, &st, &env) != 0)
        return end(&st, &env, t0), -1;
    st.shrink = !cfg->no_shrink;
    st.shrink_left = XC__SHRINK_DEFAULT_TIME;  /* for all failures of the target */
    size_t cases = cfg->cases ? cfg->cases : XC__CHECK_DEFAULT_CASES;
    double budget = cfg->time_budget_s > 0 ? cfg->time_budget_s : XC__CHECK_DEFAULT_TIME;
    xc__gen_config gc = gen_config(entry->target, cfg);
    size_t step = cfg->shard_count ? cfg->shard_count : 1;
    size_t first = cfg->shard_count ? cfg->shard_index : 0;
    size_t mine = cases > first ? (cases - first + step - 1) / step : 0;
    for (size_t i = first; i < cases && !env.stop && !env.harness_error; i += step) {
        if (now_seconds() - t0 >= budget) {
            out->stopped_early = 1;
            break;
        }
        xc__case *c = xc__gen_case(&gc, cfg->seed, i);
        if (!c) {
            env.harness_error = 1;
            break;
        }
        xc__props_run_case(&env, c);
        out->cases++;
        xc__case_free(c);
        if (cfg->progress)
            cfg->progress(cfg->progress_ctx, out->cases, mine, out->nfailures,
                          now_seconds() - t0, budget);
    }
    return end(&st, &env, t0);
}

int xc__check_case(const xc__entry *entry, const xc__case *c,
                   const xc__check_config *cfg, xc__target_report *out)
{
    run_state st;
    xc__prop_env env;
    double t0 = now_seconds();
    if (begin(entry, cfg, out, &st, &env) != 0)
        return end(&st, &env, t0), -1;
    uint32_t need = xc__case_required_caps(c);
    if ((need & ~entry->target->caps) ||
        (entry->target->max_classes && c->classes > entry->target->max_classes) ||
        c->dtype != entry->target->dtype) {
        if (cfg->log)
            fprintf(cfg->log, "xentcheck: the case needs a %s target with caps 0x%x and %zu classes; "
                    "%s does not support it\n", xc__dtype_name(c->dtype), need, c->classes,
                    entry->target->name);
        end(&st, &env, t0);
        return -2;
    }
    xc__props_run_case(&env, c);
    out->cases = 1;
    return end(&st, &env, t0);
}
