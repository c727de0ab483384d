/* Merging the reports of shards of one run (see report_read.h). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L   /* strdup */
#endif
#include "report_read.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "props.h"
#include "report_stats.h"

typedef struct merger {
    char *err;
    size_t errlen;
    int failed;
} merger;

static int fail(merger *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(merger *m, const char *fmt, ...)
{
    va_list ap;
    if (!m->failed && m->err && m->errlen) {
        va_start(ap, fmt);
        vsnprintf(m->err, m->errlen, fmt, ap);
        va_end(ap);
    }
    m->failed = 1;
    return -1;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static char *dup_or_null(merger *m, const char *s)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        fail(m, "out of memory");
    return d;
}

/* ---- properties: the union, in the check loop's fixed order ---- */

static int has_string(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

static void add_property(merger *m, xc__target_report *t, const char *name)
{
    if (!name || has_string(t->properties, t->nproperties, name))
        return;
    size_t at = t->nproperties;
    while (at > 0 && xc__property_rank(t->properties[at - 1]) > xc__property_rank(name))
        at--;
    char *copy = dup_or_null(m, name);
    if (!copy)
        return;
    memmove(&t->properties[at + 1], &t->properties[at],
            (t->nproperties - at) * sizeof *t->properties);
    t->properties[at] = copy;
    t->nproperties++;
}

/* ---- failures: per property the earliest case, in case order ---- */

static int copy_failure(merger *m, xc__failure *to, const xc__failure *from)
{
    *to = (xc__failure){ .seed = from->seed, .case_index = from->case_index };
    to->property = dup_or_null(m, from->property);
    to->message = dup_or_null(m, from->message);
    to->case_file = dup_or_null(m, from->case_file);
    to->replay = dup_or_null(m, from->replay);
    return m->failed ? -1 : 0;
}

static xc__failure *failure_of(xc__target_report *t, const char *property)
{
    for (size_t i = 0; i < t->nfailures; i++)
        if (same_str(t->failures[i].property, property))
            return &t->failures[i];
    return NULL;
}

static void add_failure(merger *m, xc__target_report *t, const xc__failure *f)
{
    xc__failure *have = failure_of(t, f->property);
    if (have && have->case_index <= f->case_index)
        return;
    if (have) {
        xc__failure old = *have;
        if (copy_failure(m, have, f) == 0) {
            free(old.property);
            free(old.message);
            free(old.case_file);
            free(old.replay);
        }
        return;
    }
    if (copy_failure(m, &t->failures[t->nfailures], f) == 0)
        t->nfailures++;
}

/* ---- samples: concatenated, then in case order ---- */

static int cmp_sample(const void *a, const void *b)
{
    uint64_t x = ((const xc__sample *)a)->case_index;
    uint64_t y = ((const xc__sample *)b)->case_index;
    return (x > y) - (x < y);
}

static int sort_samples(merger *m, xc__target_report *t)
{
    if (t->nsamples > 1)
        qsort(t->samples, t->nsamples, sizeof *t->samples, cmp_sample);
    for (size_t i = 1; i < t->nsamples; i++)
        if (t->samples[i].case_index == t->samples[i - 1].case_index)
            return fail(m, "%s: case %llu is in more than one report: shards "
                        "must check disjoint sets of cases", t->name,
                        (unsigned long long)t->samples[i].case_index);
    return 0;
}

/* ---- accuracy ---- */

static void add_accuracy(xc__accuracy *to, const xc__accuracy *from)
{
    int worse = from->count > 0 &&
                (to->count == 0 || from->max_scaled > to->max_scaled ||
                 (from->max_scaled == to->max_scaled &&
                  from->worst_case < to->worst_case));
    if (worse) {
        to->max_scaled = from->max_scaled;
        to->worst_classes = from->worst_classes;
        to->worst_case = from->worst_case;
    }
    if (from->count > 0 && (to->count == 0 || from->max_ratio > to->max_ratio))
        to->max_ratio = from->max_ratio;
    to->count += from->count;
}

/* ---- one target ---- */

static int same_target(merger *m, const xc__target_report *a,
                       const xc__target_report *b)
{
    if (a->dtype != b->dtype || a->caps != b->caps ||
        !same_str(a->summary, b->summary) || !same_str(a->origin, b->origin))
        return fail(m, "%s: the reports describe different targets of that "
                    "name (dtype, caps, summary or origin differ)", a->name);
    if (!same_str(a->finding, b->finding) || a->nexpected != b->nexpected)
        return fail(m, "%s: the reports disagree on its known finding", a->name);
    return 0;
}

static int grow(merger *m, xc__target_report *t, const xc__target_report *s)
{
    char **props = realloc(t->properties, (t->nproperties + s->nproperties + 1) *
                                              sizeof *props);
    if (props)
        t->properties = props;
    xc__failure *fl = realloc(t->failures, (t->nfailures + s->nfailures + 1) *
                                               sizeof *fl);
    if (fl)
        t->failures = fl;
    xc__sample *sm = realloc(t->samples, (t->nsamples + s->nsamples + 1) *
                                             sizeof *sm);
    if (sm)
        t->samples = sm;
    return props && fl && sm ? 0 : fail(m, "out of memory");
}

static void add_shard(merger *m, xc__target_report *t, const xc__target_report *s)
{
    if (same_target(m, t, s) != 0 || grow(m, t, s) != 0)
        return;
    t->pass = t->pass && s->pass;
    t->cases += s->cases;
    t->properties_run += s->properties_run;
    t->stopped_early = t->stopped_early || s->stopped_early;
    for (size_t i = 0; i < s->nproperties; i++)
        add_property(m, t, s->properties[i]);
    for (size_t i = 0; i < s->nfailures; i++)
        add_failure(m, t, &s->failures[i]);
    add_accuracy(&t->accuracy, &s->accuracy);
    memcpy(t->samples + t->nsamples, s->samples, s->nsamples * sizeof *s->samples);
    t->nsamples += s->nsamples;
    t->timing.seconds += s->timing.seconds;
}

/* A fresh target named like S with its descriptive fields, no results. */
static void start_target(merger *m, xc__target_report *t, const xc__target_report *s)
{
    *t = (xc__target_report){ .dtype = s->dtype, .caps = s->caps, .pass = 1 };
    t->name = dup_or_null(m, s->name);
    t->summary = dup_or_null(m, s->summary);
    t->origin = dup_or_null(m, s->origin);
    t->finding = dup_or_null(m, s->finding);
    t->expected = calloc(s->nexpected + 1, sizeof *t->expected);
    if (!t->expected)
        fail(m, "out of memory");
    for (size_t i = 0; t->expected && i < s->nexpected; i++)
        if ((t->expected[i] = dup_or_null(m, s->expected[i])) != NULL)
            t->nexpected++;
}

static int finish_target(merger *m, xc__target_report *t)
{
    xc__failures_sort(t);
    if (sort_samples(m, t) != 0)
        return -1;
    if (xc__accuracy_set_percentiles(t) != 0)
        return fail(m, "out of memory");
    xc__finding_settle(t);
    return 0;
}

/* ---- the run ---- */

static xc__target_report *find_target(xc__run_report *r, const char *name)
{
    for (size_t i = 0; i < r->ntargets; i++)
        if (same_str(r->targets[i].name, name))
            return &r->targets[i];
    return NULL;
}

static int same_run(merger *m, const xc__run_report *a, const xc__run_report *b,
                    size_t i)
{
    if (a->seed != b->seed)
        return fail(m, "report %zu has seed 0x%llx, report 1 0x%llx: shards "
                    "of one run share the seed", i + 1,
                    (unsigned long long)b->seed, (unsigned long long)a->seed);
    if (!same_str(a->tool_version, b->tool_version))
        return fail(m, "report %zu was written by xentcheck %s, report 1 by %s",
                    i + 1, b->tool_version ? b->tool_version : "(unknown)",
                    a->tool_version ? a->tool_version : "(unknown)");
    if (a->cases_requested != b->cases_requested)
        return fail(m, "report %zu requested %zu cases per target, report 1 "
                    "%zu", i + 1, b->cases_requested, a->cases_requested);
    return 0;
}

static void add_report(merger *m, xc__run_report *out, const xc__run_report *in)
{
    for (size_t j = 0; j < in->ntargets && !m->failed; j++) {
        const xc__target_report *s = &in->targets[j];
        xc__target_report *t = find_target(out, s->name);
        if (!t) {
            t = &out->targets[out->ntargets++];
            start_target(m, t, s);
        }
        add_shard(m, t, s);
    }
    out->timing.seconds += in->timing.seconds;
}

static size_t total_targets(const xc__run_report *in, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += in[i].ntargets;
    return total;
}

int xc__report_merge(const xc__run_report *in, size_t n, xc__run_report *out,
                     char *err, size_t errlen)
{
    merger m = { .err = err, .errlen = errlen };
    memset(out, 0, sizeof *out);
    if (n == 0)
        return fail(&m, "no reports to merge");
    for (size_t i = 1; i < n; i++)
        if (same_run(&m, &in[0], &in[i], i) != 0)
            return -1;
    out->seed = in[0].seed;
    out->cases_requested = in[0].cases_requested;
    out->tool_version = dup_or_null(&m, in[0].tool_version);
    out->targets = calloc(total_targets(in, n) + 1, sizeof *out->targets);
    if (!out->targets)
        return fail(&m, "out of memory");
    for (size_t i = 0; i < n && !m.failed; i++)
        add_report(&m, out, &in[i]);
    for (size_t i = 0; i < out->ntargets && !m.failed; i++)
        finish_target(&m, &out->targets[i]);
    return m.failed ? -1 : 0;
}
