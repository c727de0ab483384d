/* report.json -> xc__run_report, strictly: the inverse of report_json.c. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L   /* strdup */
#endif
#include "report_read.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

#define JSON_EXACT_MAX ((uint64_t)1 << 53)

/* The reader's state: where it is (for messages) and the first error. */
typedef struct reader {
    const char *name;
    char path[128];          /* e.g. "targets[1].failures[0]" */
    char *err;
    size_t errlen;
    int failed;
} reader;

static void fail(reader *rd, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(reader *rd, const char *key, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    if (rd->failed)
        return;
    rd->failed = 1;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int where = *rd->path || key;
    if (rd->err && rd->errlen)
        snprintf(rd->err, rd->errlen, "%s: %s%s%s%s%s", rd->name, rd->path,
                 *rd->path && key ? "." : "", key ? key : "", where ? ": " : "",
                 what);
}

/* Enter a sub-object for messages; returns the old path length. */
static size_t enter(reader *rd, const char *fmt, size_t index)
{
    size_t old = strlen(rd->path);
    snprintf(rd->path + old, sizeof rd->path - old, fmt, index);
    return old;
}

static void leave(reader *rd, size_t old)
{
    rd->path[old] = '\0';
}

static const cJSON *get(reader *rd, const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        fail(rd, key, "missing");
    return v;
}

static void *oom(reader *rd)
{
    fail(rd, NULL, "out of memory");
    return NULL;
}

/* A string (or null when NULLABLE) into *OUT, malloc'd. */
static void read_string(reader *rd, const cJSON *o, const char *key,
                        int nullable, char **out)
{
    const cJSON *v = get(rd, o, key);
    *out = NULL;
    if (!v || (nullable && cJSON_IsNull(v)))
        return;
    if (!cJSON_IsString(v)) {
        fail(rd, key, "expected a string%s", nullable ? " or null" : "");
        return;
    }
    *out = strdup(v->valuestring);
    if (!*out)
        oom(rd);
}

/* A count: a non-negative integer, as a number up to 2^53 or a decimal
 * string beyond (how the writer keeps large values exact). */
static int count_value(const cJSON *v, uint64_t *out)
{
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!(d >= 0 && d <= (double)JSON_EXACT_MAX && d == floor(d)))
            return -1;
        *out = (uint64_t)d;
        return 0;
    }
    if (!cJSON_IsString(v) || !*v->valuestring ||
        strspn(v->valuestring, "0123456789") != strlen(v->valuestring))
        return -1;
    errno = 0;
    *out = strtoull(v->valuestring, NULL, 10);
    return errno == ERANGE ? -1 : 0;
}

static uint64_t read_count(reader *rd, const cJSON *o, const char *key,
                           uint64_t max)
{
    const cJSON *v = get(rd, o, key);
    uint64_t n = 0;
    if (v && (count_value(v, &n) != 0 || n > max))
        fail(rd, key, "expected an integer from 0 to %llu",
             (unsigned long long)max);
    return n;
}

static uint64_t read_hex(reader *rd, const cJSON *o, const char *key)
{
    const cJSON *v = get(rd, o, key);
    const char *s = v && cJSON_IsString(v) ? v->valuestring : "";
    size_t n = strlen(s);
    if (!v)
        return 0;
    if (n < 3 || n > 18 || strncmp(s, "0x", 2) != 0 ||
        strspn(s + 2, "0123456789abcdefABCDEF") != n - 2) {
        fail(rd, key, "expected a hex string \"0x...\"");
        return 0;
    }
    return strtoull(s + 2, NULL, 16);
}

/* A number, or null for "none" (IF_NULL: 0 when nothing was measured, or
 * infinity for a measured value that was not finite). */
static double read_real(reader *rd, const cJSON *o, const char *key,
                        double if_null)
{
    const cJSON *v = get(rd, o, key);
    if (v && cJSON_IsNumber(v))
        return v->valuedouble;
    if (v && !cJSON_IsNull(v))
        fail(rd, key, "expected a number or null");
    return if_null;
}

static int read_bool(reader *rd, const cJSON *o, const char *key)
{
    const cJSON *v = get(rd, o, key);
    if (v && !cJSON_IsBool(v))
        fail(rd, key, "expected true or false");
    return v && cJSON_IsTrue(v);
}

static const cJSON *read_array(reader *rd, const cJSON *o, const char *key)
{
    const cJSON *v = get(rd, o, key);
    if (v && !cJSON_IsArray(v)) {
        fail(rd, key, "expected an array");
        return NULL;
    }
    return v;
}

/* An array of strings into a malloc'd vector (*N entries). */
static char **read_strings(reader *rd, const cJSON *o, const char *key,
                           size_t *n)
{
    const cJSON *arr = read_array(rd, o, key), *v;
    size_t len = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
    char **out = calloc(len ? len : 1, sizeof *out);
    *n = 0;
    if (!out)
        return oom(rd);
    cJSON_ArrayForEach(v, arr) {
        if (!cJSON_IsString(v)) {
            fail(rd, key, "expected an array of strings");
            break;
        }
        out[*n] = strdup(v->valuestring);
        if (!out[(*n)++]) {
            oom(rd);
            break;
        }
    }
    return out;
}

/* Names as xc__caps_format writes them; "0x.." for bits it has no name for. */
static int cap_bits(const char *name, uint32_t *bits)
{
    char buf[64];
    if (strncmp(name, "0x", 2) == 0 && name[2] &&
        strspn(name + 2, "0123456789abcdefABCDEF") == strlen(name + 2)) {
        *bits |= (uint32_t)strtoul(name + 2, NULL, 16);
        return 0;
    }
    if (strcmp(name, "none") == 0)
        return 0;
    for (unsigned i = 0; i < 32; i++) {
        xc__caps_format(1u << i, buf, sizeof buf);
        if (strcmp(buf, name) == 0) {
            *bits |= 1u << i;
            return 0;
        }
    }
    return -1;
}

static uint32_t read_caps(reader *rd, const cJSON *o)
{
    const cJSON *arr = read_array(rd, o, "caps"), *v;
    uint32_t bits = 0;
    cJSON_ArrayForEach(v, arr) {
        if (!cJSON_IsString(v) || cap_bits(v->valuestring, &bits) != 0) {
            fail(rd, "caps", "unknown capability %s",
                 cJSON_IsString(v) ? v->valuestring : "(not a string)");
            break;
        }
    }
    return bits;
}

static xc_dtype read_dtype(reader *rd, const cJSON *o)
{
    char *s = NULL;
    xc_dtype t = XC_F64;
    read_string(rd, o, "dtype", 0, &s);
    if (s && strcmp(s, "f32") == 0)
        t = XC_F32;
    else if (s && strcmp(s, "f64") != 0)
        fail(rd, "dtype", "expected \"f32\" or \"f64\"");
    free(s);
    return t;
}

static int read_verdict(reader *rd, const cJSON *o)
{
    char *s = NULL;
    int pass = 0;
    read_string(rd, o, "verdict", 0, &s);
    if (s && strcmp(s, "pass") == 0)
        pass = 1;
    else if (s && strcmp(s, "fail") != 0)
        fail(rd, "verdict", "expected \"pass\" or \"fail\"");
    free(s);
    return pass;
}

static void read_failure(reader *rd, const cJSON *o, xc__failure *f)
{
    if (!cJSON_IsObject(o)) {
        fail(rd, NULL, "expected an object");
        return;
    }
    read_string(rd, o, "property", 1, &f->property);
    read_string(rd, o, "message", 1, &f->message);
    read_string(rd, o, "case_file", 1, &f->case_file);
    read_string(rd, o, "replay", 1, &f->replay);
    f->seed = read_hex(rd, o, "seed");
    f->case_index = read_count(rd, o, "case_index", UINT64_MAX);
}

static void read_failures(reader *rd, const cJSON *o, xc__target_report *t)
{
    const cJSON *arr = read_array(rd, o, "failures");
    size_t n = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
    t->failures = calloc(n ? n : 1, sizeof *t->failures);
    if (!t->failures) {
        oom(rd);
        return;
    }
    for (size_t i = 0; i < n && !rd->failed; i++) {
        size_t old = enter(rd, ".failures[%zu]", i);
        read_failure(rd, cJSON_GetArrayItem(arr, (int)i), &t->failures[i]);
        t->nfailures++;
        leave(rd, old);
    }
}

static void read_accuracy(reader *rd, const cJSON *o, xc__accuracy *a)
{
    const cJSON *acc = get(rd, o, "accuracy");
    if (!acc || !cJSON_IsObject(acc)) {
        fail(rd, "accuracy", "expected an object");
        return;
    }
    size_t old = enter(rd, ".accuracy", 0);
    a->count = read_count(rd, acc, "count", SIZE_MAX);
    double if_null = a->count ? INFINITY : 0;
    a->max_scaled = read_real(rd, acc, "max_scaled_error_u", if_null);
    a->p50 = read_real(rd, acc, "p50", if_null);
    a->p90 = read_real(rd, acc, "p90", if_null);
    a->p99 = read_real(rd, acc, "p99", if_null);
    a->max_ratio = read_real(rd, acc, "max_error_to_bound", if_null);
    if (a->count) {
        a->worst_classes = read_count(rd, acc, "worst_classes", SIZE_MAX);
        a->worst_case = read_count(rd, acc, "worst_case", UINT64_MAX);
    }
    leave(rd, old);
}

static float read_float(reader *rd, const cJSON *o, const char *key)
{
    return (float)read_real(rd, o, key, INFINITY);
}

static void read_sample(reader *rd, const cJSON *o, xc__sample *s)
{
    if (!cJSON_IsObject(o)) {
        fail(rd, NULL, "expected an object");
        return;
    }
    s->case_index = read_count(rd, o, "case_index", UINT64_MAX);
    s->classes = (uint32_t)read_count(rd, o, "classes", UINT32_MAX);
    s->batch = (uint32_t)read_count(rd, o, "batch", UINT32_MAX);
    s->logit_range = read_float(rd, o, "logit_range");
    s->logit_max = read_float(rd, o, "logit_max");
    s->worst_scaled = read_float(rd, o, "worst_scaled");
    s->worst_ratio = read_float(rd, o, "worst_ratio");
}

/* Optional: a report written before samples existed has none. */
static void read_samples(reader *rd, const cJSON *o, xc__target_report *t)
{
    if (!cJSON_HasObjectItem(o, "samples"))
        return;
    const cJSON *arr = read_array(rd, o, "samples");
    size_t n = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
    t->samples = calloc(n ? n : 1, sizeof *t->samples);
    if (!t->samples) {
        oom(rd);
        return;
    }
    for (size_t i = 0; i < n && !rd->failed; i++) {
        size_t old = enter(rd, ".samples[%zu]", i);
        read_sample(rd, cJSON_GetArrayItem(arr, (int)i), &t->samples[i]);
        t->nsamples++;
        leave(rd, old);
    }
}

/* Optional too: null or {reason, expected, as_expected}. */
static void read_finding(reader *rd, const cJSON *o, xc__target_report *t)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "finding");
    if (!f || cJSON_IsNull(f))
        return;
    if (!cJSON_IsObject(f)) {
        fail(rd, "finding", "expected an object or null");
        return;
    }
    size_t old = enter(rd, ".finding", 0);
    read_string(rd, f, "reason", 1, &t->finding);
    t->expected = read_strings(rd, f, "expected", &t->nexpected);
    t->expected_ok = read_bool(rd, f, "as_expected");
    leave(rd, old);
}

static void read_target(reader *rd, const cJSON *o, xc__target_report *t)
{
    if (!cJSON_IsObject(o)) {
        fail(rd, NULL, "expected an object");
        return;
    }
    read_string(rd, o, "name", 0, &t->name);
    read_string(rd, o, "summary", 1, &t->summary);
    read_string(rd, o, "origin", 1, &t->origin);
    t->dtype = read_dtype(rd, o);
    t->caps = read_caps(rd, o);
    t->pass = read_verdict(rd, o);
    t->cases = read_count(rd, o, "cases", SIZE_MAX);
    t->properties_run = read_count(rd, o, "properties_run", SIZE_MAX);
    t->properties = read_strings(rd, o, "properties", &t->nproperties);
    t->stopped_early = read_bool(rd, o, "stopped_early");
    read_failures(rd, o, t);
    read_accuracy(rd, o, &t->accuracy);
    read_samples(rd, o, t);
    read_finding(rd, o, t);
}

static void read_timing(reader *rd, const cJSON *root, xc__run_report *r)
{
    const cJSON *timing = get(rd, root, "timing");
    const cJSON *per = timing ? cJSON_GetObjectItemCaseSensitive(timing, "targets")
                              : NULL;
    if (!timing || !cJSON_IsObject(timing) || !cJSON_IsObject(per)) {
        fail(rd, "timing", "expected {total_seconds, targets}");
        return;
    }
    size_t old = enter(rd, "timing", 0);
    r->timing.seconds = read_real(rd, timing, "total_seconds", 0);
    for (size_t i = 0; i < r->ntargets; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(per, r->targets[i].name);
        r->targets[i].timing.seconds = cJSON_IsNumber(v) ? v->valuedouble : 0;
    }
    leave(rd, old);
}

static void read_targets(reader *rd, const cJSON *root, xc__run_report *r)
{
    const cJSON *arr = read_array(rd, root, "targets");
    size_t n = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
    r->targets = calloc(n ? n : 1, sizeof *r->targets);
    if (!r->targets) {
        oom(rd);
        return;
    }
    for (size_t i = 0; i < n && !rd->failed; i++) {
        size_t old = enter(rd, "targets[%zu]", i);
        r->ntargets++;
        read_target(rd, cJSON_GetArrayItem(arr, (int)i), &r->targets[i]);
        leave(rd, old);
    }
}

static void read_header(reader *rd, const cJSON *root, xc__run_report *r)
{
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "schema_version");
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, XC__REPORT_SCHEMA) != 0) {
        fail(rd, "schema", "not a %s file", XC__REPORT_SCHEMA);
        return;
    }
    if (!cJSON_IsNumber(version) || version->valuedouble != XC__REPORT_SCHEMA_VERSION) {
        fail(rd, "schema_version", "this xentcheck reads version %d only",
             XC__REPORT_SCHEMA_VERSION);
        return;
    }
    read_string(rd, root, "tool_version", 1, &r->tool_version);
    r->seed = read_hex(rd, root, "seed");
    r->cases_requested = read_count(rd, root, "cases_requested", SIZE_MAX);
}

/* "line L, column C" of POS in TEXT, for a JSON syntax error. */
static void syntax_error(reader *rd, const char *text, const char *pos)
{
    size_t line = 1, col = 1;
    for (const char *p = text; pos && p < pos && *p; p++) {
        line += *p == '\n';
        col = *p == '\n' ? 1 : col + 1;
    }
    fail(rd, NULL, "not valid JSON (line %zu, column %zu)", line, col);
}

int xc__report_parse(const char *text, const char *name, xc__run_report *out,
                     char *err, size_t errlen)
{
    reader rd = { .name = name, .err = err, .errlen = errlen };
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    memset(out, 0, sizeof *out);
    if (!root)
        syntax_error(&rd, text, end ? end : cJSON_GetErrorPtr());
    else if (!cJSON_IsObject(root))
        fail(&rd, NULL, "expected a JSON object");
    if (!rd.failed)
        read_header(&rd, root, out);
    if (!rd.failed)
        read_targets(&rd, root, out);
    if (!rd.failed)
        read_timing(&rd, root, out);
    cJSON_Delete(root);
    return rd.failed ? -1 : 0;
}

/* The whole file; NULL with the reason in ERR (unreadable, a NUL byte). */
static char *slurp(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int bad = 0;
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - len < 4097) {
            char *grown = realloc(buf, 2 * cap + 8192);
            if (!grown) {
                bad = ENOMEM;
                break;
            }
            buf = grown;
            cap = 2 * cap + 8192;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            bad = ferror(f) ? (errno ? errno : EIO) : 0;
            break;
        }
    }
    fclose(f);
    if (!bad && memchr(buf, '\0', len))
        snprintf(err, errlen, "%s: not a text file (NUL byte)", path);
    else if (bad)
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(bad));
    if (bad || memchr(buf, '\0', len)) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

int xc__report_read_file(const char *path, xc__run_report *out, char *err,
                         size_t errlen)
{
    char *text = slurp(path, err, errlen);
    memset(out, 0, sizeof *out);
    if (!text)
        return -1;
    int rc = xc__report_parse(text, path, out, err, errlen);
    free(text);
    return rc;
}
