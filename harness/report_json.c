/* report.json, built with cJSON.
 *
 * Schema "xentcheck-report", version 1:
 *   schema, schema_version, tool_version,
 *   seed          the run seed as a hex string "0x..." (always exact),
 *   seed_number   the same seed as a JSON number when it is at most 2^53
 *                 (exact in every JSON reader), else null,
 *   cases_requested,
 *   targets[]     name, summary, origin, dtype ("f32"|"f64"), caps [names],
 *                 verdict ("pass"|"fail"), cases, properties_run,
 *                 properties [names], stopped_early,
 *                 failures[] {property, message, case_file, replay,
 *                             seed (hex string), case_index},
 *                 accuracy {count, max_scaled_error_u, p50, p90, p99,
 *                           max_error_to_bound, worst_classes, worst_case,
 *                           h_bands[] {band, min_classes, max_classes, count,
 *                                      p50, p90, p99, max, max_error_to_bound}}
 *                 (accuracy numbers are null when count is 0 or not finite),
 *                 samples[] {case_index, classes, batch, logit_range,
 *                            logit_max, worst_scaled, worst_ratio}
 *                 in case order, finding {reason, expected [properties],
 *                 as_expected} or null,
 *   timing        {total_seconds, targets {name: seconds}}: the only
 *                 section that differs between two runs of the same model.
 * Strings are passed through a UTF-8 check (invalid bytes become U+FFFD)
 * because plugin summaries and target messages are arbitrary bytes.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L   /* strtok_r */
#endif
#include "report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "registry.h"
#include "report_stats.h"

/* Largest integer every JSON reader (IEEE double) holds exactly. */
#define JSON_EXACT_MAX ((uint64_t)1 << 53)

/* Length of the valid UTF-8 sequence at S, 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07u;
    else
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)   /* also stops at the terminating NUL */
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* A copy of S with invalid UTF-8 replaced by U+FFFD (3 bytes per byte). */
static char *utf8_clean(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    char *out = malloc(3 * strlen(s) + 1);
    char *o = out;
    if (!out)
        return NULL;
    while (*p) {
        size_t n = utf8_len(p);
        if (n) {
            memcpy(o, p, n);
            o += n;
            p += n;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            p++;
        }
    }
    *o = '\0';
    return out;
}

static void add_string(cJSON *obj, const char *key, const char *s)
{
    char *clean = s ? utf8_clean(s) : NULL;
    if (clean)
        cJSON_AddStringToObject(obj, key, clean);
    else
        cJSON_AddNullToObject(obj, key);
    free(clean);
}

static void add_hex(cJSON *obj, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)v);
    cJSON_AddStringToObject(obj, key, buf);
}

/* Sizes and indices: exact as numbers up to 2^53, which they never exceed
 * in practice; beyond that a decimal string keeps them exact. */
static void add_count(cJSON *obj, const char *key, uint64_t v)
{
    char buf[24];
    if (v <= JSON_EXACT_MAX) {
        cJSON_AddNumberToObject(obj, key, (double)v);
        return;
    }
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    cJSON_AddStringToObject(obj, key, buf);
}

static void add_real(cJSON *obj, const char *key, double v, int valid)
{
    if (valid && isfinite(v))
        cJSON_AddNumberToObject(obj, key, v);
    else
        cJSON_AddNullToObject(obj, key);
}

static cJSON *caps_array(uint32_t caps)
{
    char buf[256], *save = NULL;
    cJSON *arr = cJSON_CreateArray();
    xc__caps_format(caps, buf, sizeof buf);
    for (char *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save))
        cJSON_AddItemToArray(arr, cJSON_CreateString(tok));
    return arr;
}

static cJSON *string_array(char *const *v, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        char *clean = utf8_clean(v[i] ? v[i] : "");
        cJSON_AddItemToArray(arr, clean ? cJSON_CreateString(clean)
                                        : cJSON_CreateNull());
        free(clean);
    }
    return arr;
}

static cJSON *failure_object(const xc__failure *f)
{
    cJSON *o = cJSON_CreateObject();
    add_string(o, "property", f->property);
    add_string(o, "message", f->message);
    add_string(o, "case_file", f->case_file);
    add_string(o, "replay", f->replay);
    add_hex(o, "seed", f->seed);
    add_count(o, "case_index", f->case_index);
    return o;
}

/* Samples are floats: the shortest text that reads back as the same float
 * keeps the file small and exact. */
static void add_float(cJSON *obj, const char *key, float v)
{
    char buf[32];
    if (!isfinite(v)) {
        cJSON_AddNullToObject(obj, key);
        return;
    }
    xc__format_float(buf, sizeof buf, v);
    cJSON_AddRawToObject(obj, key, buf);
}

static cJSON *band_object(const xc__target_report *t, const xc__h_band *b)
{
    cJSON *o = cJSON_CreateObject();
    xc__sample_stats st;
    int have = xc__sample_stats_of(t, b, &st) == 0 && st.count > 0;
    cJSON_AddStringToObject(o, "band", b->name);
    add_count(o, "min_classes", b->min_classes);
    if (b->max_classes == UINT32_MAX)
        cJSON_AddNullToObject(o, "max_classes");
    else
        add_count(o, "max_classes", b->max_classes);
    add_count(o, "count", have ? st.count : 0);
    add_real(o, "p50", st.p50, have);
    add_real(o, "p90", st.p90, have);
    add_real(o, "p99", st.p99, have);
    add_real(o, "max", st.max, have);
    add_real(o, "max_error_to_bound", st.max_ratio, have);
    return o;
}

static cJSON *bands_array(const xc__target_report *t)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < XC__NBANDS; i++)
        cJSON_AddItemToArray(arr, band_object(t, &xc__h_bands[i]));
    return arr;
}

static cJSON *sample_object(const xc__sample *s)
{
    cJSON *o = cJSON_CreateObject();
    add_count(o, "case_index", s->case_index);
    add_count(o, "classes", s->classes);
    add_count(o, "batch", s->batch);
    add_float(o, "logit_range", s->logit_range);
    add_float(o, "logit_max", s->logit_max);
    add_float(o, "worst_scaled", s->worst_scaled);
    add_float(o, "worst_ratio", s->worst_ratio);
    return o;
}

static cJSON *samples_array(const xc__target_report *t)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < t->nsamples; i++)
        cJSON_AddItemToArray(arr, sample_object(&t->samples[i]));
    return arr;
}

static void add_finding(cJSON *obj, const xc__target_report *t)
{
    if (!t->finding && t->nexpected == 0) {
        cJSON_AddNullToObject(obj, "finding");
        return;
    }
    cJSON *o = cJSON_AddObjectToObject(obj, "finding");
    add_string(o, "reason", t->finding);
    cJSON_AddItemToObject(o, "expected", string_array(t->expected, t->nexpected));
    cJSON_AddBoolToObject(o, "as_expected", t->expected_ok != 0);
}

static cJSON *accuracy_object(const xc__target_report *t)
{
    const xc__accuracy *a = &t->accuracy;
    cJSON *o = cJSON_CreateObject();
    int have = a->count > 0;
    add_count(o, "count", a->count);
    add_real(o, "max_scaled_error_u", a->max_scaled, have);
    add_real(o, "p50", a->p50, have);
    add_real(o, "p90", a->p90, have);
    add_real(o, "p99", a->p99, have);
    add_real(o, "max_error_to_bound", a->max_ratio, have);
    if (have) {
        add_count(o, "worst_classes", a->worst_classes);
        add_count(o, "worst_case", a->worst_case);
    } else {
        cJSON_AddNullToObject(o, "worst_classes");
        cJSON_AddNullToObject(o, "worst_case");
    }
    cJSON_AddItemToObject(o, "h_bands", bands_array(t));
    return o;
}

static cJSON *target_object(const xc__target_report *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *failures;
    add_string(o, "name", t->name);
    add_string(o, "summary", t->summary);
    add_string(o, "origin", t->origin);
    cJSON_AddStringToObject(o, "dtype", xc__dtype_name(t->dtype));
    cJSON_AddItemToObject(o, "caps", caps_array(t->caps));
    cJSON_AddStringToObject(o, "verdict", t->pass ? "pass" : "fail");
    add_count(o, "cases", t->cases);
    add_count(o, "properties_run", t->properties_run);
    cJSON_AddItemToObject(o, "properties",
                          string_array(t->properties, t->nproperties));
    cJSON_AddBoolToObject(o, "stopped_early", t->stopped_early != 0);
    failures = cJSON_AddArrayToObject(o, "failures");
    for (size_t i = 0; i < t->nfailures; i++)
        cJSON_AddItemToArray(failures, failure_object(&t->failures[i]));
    cJSON_AddItemToObject(o, "accuracy", accuracy_object(t));
    cJSON_AddItemToObject(o, "samples", samples_array(t));
    add_finding(o, t);
    return o;
}

static cJSON *timing_object(const xc__run_report *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *per = cJSON_CreateObject();
    add_real(o, "total_seconds", r->timing.seconds, 1);
    for (size_t i = 0; i < r->ntargets; i++) {
        const xc__target_report *t = &r->targets[i];
        char *clean = utf8_clean(t->name ? t->name : "");
        if (clean && isfinite(t->timing.seconds))
            cJSON_AddNumberToObject(per, clean, t->timing.seconds);
        else if (clean)
            cJSON_AddNullToObject(per, clean);
        free(clean);
    }
    cJSON_AddItemToObject(o, "targets", per);
    return o;
}

static cJSON *report_object(const xc__run_report *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *targets;
    cJSON_AddStringToObject(o, "schema", XC__REPORT_SCHEMA);
    cJSON_AddNumberToObject(o, "schema_version", XC__REPORT_SCHEMA_VERSION);
    add_string(o, "tool_version", r->tool_version);
    add_hex(o, "seed", r->seed);
    if (r->seed <= JSON_EXACT_MAX)
        cJSON_AddNumberToObject(o, "seed_number", (double)r->seed);
    else
        cJSON_AddNullToObject(o, "seed_number");
    add_count(o, "cases_requested", r->cases_requested);
    targets = cJSON_AddArrayToObject(o, "targets");
    for (size_t i = 0; i < r->ntargets; i++)
        cJSON_AddItemToArray(targets, target_object(&r->targets[i]));
    cJSON_AddItemToObject(o, "timing", timing_object(r));
    return o;
}

/* cJSON reports allocation failures by returning NULL from the printer;
 * the pieces built before one are still freed with the root. */
char *xc__report_json(const xc__run_report *r)
{
    cJSON *root = report_object(r);
    char *text = root ? cJSON_Print(root) : NULL;
    char *doc = NULL;
    cJSON_Delete(root);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    doc = malloc(n + 2);
    if (doc) {
        memcpy(doc, text, n);
        memcpy(doc + n, "\n", 2);
    }
    cJSON_free(text);
    return doc;
}
