/* Report writers: JSON schema and determinism, XML validity (xmllint),
 * escaping of hostile strings, atomic writes and the format list. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <check.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/report.h"
#include "../harness/report_read.h"
#include "../harness/report_stats.h"

/* Everything a writer must survive in one string: markup, quotes, control
 * characters XML 1.0 forbids, invalid UTF-8, a CDATA end and backticks. */
#define NASTY "<script>alert('x')</script> & \"q\" \x01\x1b[31m\x7f \xff\xfe " \
              "\xc3\xa9 ]]> ``` | \r\n second line"

static char *sdup(const char *s)
{
    char *d = strdup(s);
    ck_assert_ptr_nonnull(d);
    return d;
}

static void fill_pass(xc__target_report *t)
{
    t->name = sdup("xc.f64.shifted");
    t->summary = sdup("shifted softmax, f64, plain sum");
    t->origin = sdup("builtin");
    t->dtype = XC_F64;
    t->caps = XC_CAP_INDEX_LABELS | XC_CAP_PROB_LABELS | XC_CAP_LOSS;
    t->pass = 1;
    t->cases = 2000;
    t->properties_run = 16000;
    t->nproperties = 2;
    t->properties = calloc(2, sizeof *t->properties);
    t->properties[0] = sdup("reference_grad");
    t->properties[1] = sdup("shift_invariance");
    t->accuracy = (xc__accuracy){ .count = 123456, .max_scaled = 3.125,
                                  .p50 = 0.5, .p90 = 1.0 / 3, .p99 = 2.75,
                                  .max_ratio = 0.0123456789012345678,
                                  .worst_classes = 4096, .worst_case = 77 };
    t->timing.seconds = 1.9;
}

static void fill_fail(xc__target_report *t)
{
    t->name = sdup("plugin.bad-1");
    t->summary = sdup(NASTY);
    t->origin = sdup("/tmp/lib bad.so");
    t->dtype = XC_F32;
    t->caps = XC_CAP_INDEX_LABELS | XC_CAP_BATCH;
    t->cases = 17;
    t->stopped_early = 1;
    t->nproperties = 1;
    t->properties = calloc(1, sizeof *t->properties);
    t->properties[0] = sdup("reference_grad");
    t->nfailures = 3;
    t->failures = calloc(3, sizeof *t->failures);
    for (size_t i = 0; i < 3; i++) {
        xc__failure *f = &t->failures[i];
        f->property = sdup(i < 2 ? "reference_grad" : "crash");
        f->message = sdup(i == 0 ? NASTY : "grad[0] = 0x1p+0, expected 0x1.8p-1");
        f->case_file = sdup("reports/cases/plugin.bad-1-17.case");
        f->replay = sdup("xentcheck replay --plugin '/tmp/lib bad.so' "
                        "reports/cases/plugin.bad-1-17.case");
        f->seed = 0xffffffffffffffffULL;
        f->case_index = 17 + i;
    }
    t->timing.seconds = 0.25;
}

static void make_report(xc__run_report *r)
{
    memset(r, 0, sizeof *r);
    r->tool_version = sdup("0.1.0");
    r->seed = 42;
    r->cases_requested = 2000;
    r->ntargets = 2;
    r->targets = calloc(2, sizeof *r->targets);
    fill_pass(&r->targets[0]);
    fill_fail(&r->targets[1]);
    r->timing.seconds = 2.15;
}

static cJSON *parse_json(const xc__run_report *r)
{
    char *doc = xc__report_json(r);
    ck_assert_ptr_nonnull(doc);
    cJSON *root = cJSON_Parse(doc);
    ck_assert_msg(root != NULL, "report.json does not parse:\n%s", doc);
    free(doc);
    return root;
}

static cJSON *item(const cJSON *o, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(v != NULL, "missing key \"%s\"", key);
    return v;
}

static const char *str(const cJSON *o, const char *key)
{
    cJSON *v = item(o, key);
    ck_assert_msg(cJSON_IsString(v), "\"%s\" is not a string", key);
    return v->valuestring;
}

static double num(const cJSON *o, const char *key)
{
    cJSON *v = item(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "\"%s\" is not a number", key);
    return v->valuedouble;
}

static void check_target_keys(const cJSON *t)
{
    static const char *const keys[] = {
        "name", "summary", "origin", "dtype", "caps", "verdict", "cases",
        "properties_run", "properties", "stopped_early", "failures", "accuracy",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        item(t, keys[i]);
}

START_TEST(json_schema)
{
    xc__run_report r;
    make_report(&r);
    cJSON *root = parse_json(&r);
    ck_assert_str_eq(str(root, "schema"), XC__REPORT_SCHEMA);
    ck_assert(num(root, "schema_version") == XC__REPORT_SCHEMA_VERSION);
    ck_assert_str_eq(str(root, "tool_version"), "0.1.0");
    ck_assert_str_eq(str(root, "seed"), "0x2a");
    ck_assert(num(root, "seed_number") == 42);
    ck_assert(num(root, "cases_requested") == 2000);
    cJSON *targets = item(root, "targets");
    ck_assert_int_eq(cJSON_GetArraySize(targets), 2);
    cJSON *t0 = cJSON_GetArrayItem(targets, 0), *t1 = cJSON_GetArrayItem(targets, 1);
    check_target_keys(t0);
    check_target_keys(t1);
    ck_assert_str_eq(str(t0, "dtype"), "f64");
    ck_assert_str_eq(str(t0, "verdict"), "pass");
    ck_assert_str_eq(cJSON_GetArrayItem(item(t0, "caps"), 0)->valuestring, "index");
    ck_assert_str_eq(cJSON_GetArrayItem(item(t0, "properties"), 1)->valuestring,
                     "shift_invariance");
    cJSON *acc = item(t0, "accuracy");
    ck_assert(num(acc, "max_scaled_error_u") == 3.125);
    ck_assert(num(acc, "p90") == 1.0 / 3);                 /* round-trips */
    ck_assert(num(acc, "max_error_to_bound") == 0.0123456789012345678);
    ck_assert(num(acc, "worst_classes") == 4096 && num(acc, "worst_case") == 77);
    ck_assert(num(acc, "p50") == 0.5 && num(acc, "p99") == 2.75 &&
              num(acc, "count") == 123456);
    ck_assert_str_eq(str(t1, "verdict"), "fail");
    ck_assert_str_eq(str(t1, "dtype"), "f32");
    ck_assert(cJSON_IsTrue(item(t1, "stopped_early")));
    ck_assert(cJSON_IsNull(item(item(t1, "accuracy"), "p50")));
    cJSON *f0 = cJSON_GetArrayItem(item(t1, "failures"), 0);
    ck_assert_str_eq(str(f0, "property"), "reference_grad");
    ck_assert_str_eq(str(f0, "seed"), "0xffffffffffffffff");
    ck_assert(num(f0, "case_index") == 17);
    ck_assert_ptr_nonnull(strstr(str(f0, "replay"), "xentcheck replay --plugin"));
    ck_assert_ptr_nonnull(strstr(str(f0, "case_file"), ".case"));
    ck_assert_ptr_nonnull(strstr(str(f0, "message"), "<script>"));
    ck_assert_ptr_nonnull(strstr(str(f0, "message"), "\xef\xbf\xbd"));
    cJSON *timing = item(root, "timing");
    ck_assert(num(timing, "total_seconds") == 2.15);
    ck_assert(num(item(timing, "targets"), "plugin.bad-1") == 0.25);
    cJSON_Delete(root);
    xc__run_report_free(&r);
}
END_TEST

START_TEST(json_big_seed_is_string_only)
{
    xc__run_report r;
    make_report(&r);
    r.seed = ((uint64_t)1 << 53) + 1;
    cJSON *root = parse_json(&r);
    ck_assert_str_eq(str(root, "seed"), "0x20000000000001");
    ck_assert(cJSON_IsNull(item(root, "seed_number")));
    cJSON_Delete(root);
    xc__run_report_free(&r);
}
END_TEST

static char *(*const writers[])(const xc__run_report *) = {
    xc__report_json, xc__report_junit, xc__report_markdown, xc__report_html,
};

START_TEST(same_model_same_bytes)
{
    xc__run_report a, b;
    make_report(&a);
    make_report(&b);
    for (size_t w = 0; w < sizeof writers / sizeof writers[0]; w++) {
        char *x = writers[w](&a), *y = writers[w](&b);
        ck_assert_ptr_nonnull(x);
        ck_assert_ptr_nonnull(y);
        ck_assert_msg(strcmp(x, y) == 0, "writer %zu is not deterministic", w);
        free(x);
        free(y);
    }
    xc__run_report_free(&a);
    xc__run_report_free(&b);
}
END_TEST

static char *json_without_timing(const xc__run_report *r)
{
    cJSON *root = parse_json(r);
    cJSON_DeleteItemFromObjectCaseSensitive(root, "timing");
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

START_TEST(json_timing_isolated)
{
    xc__run_report a, b;
    make_report(&a);
    make_report(&b);
    b.timing.seconds = 99.5;
    b.targets[0].timing.seconds = 42.25;
    char *x = json_without_timing(&a), *y = json_without_timing(&b);
    ck_assert_str_eq(x, y);
    cJSON_free(x);
    cJSON_free(y);
    x = xc__report_json(&a);
    y = xc__report_json(&b);
    ck_assert_str_ne(x, y);
    free(x);
    free(y);
    xc__run_report_free(&a);
    xc__run_report_free(&b);
}
END_TEST

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* xmllint is required: a missing validator fails the test, never skips. */
static void xmllint_ok(const char *path)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execlp("xmllint", "xmllint", "--noout", path, (char *)NULL);
        fprintf(stderr, "xmllint: %s (install libxml2-utils)\n", strerror(errno));
        _exit(127);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 127,
                  "xmllint is missing: install libxml2-utils");
    ck_assert_msg(WEXITSTATUS(status) == 0, "xmllint rejects %s", path);
}

static char *temp_dir(void)
{
    char *dir = sdup("/tmp/xc_report_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static void validate_xml(char *(*writer)(const xc__run_report *),
                         const xc__run_report *r, const char *name)
{
    char *dir = temp_dir(), path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *doc = writer(r);
    ck_assert_ptr_nonnull(doc);
    write_text(path, doc);
    xmllint_ok(path);
    unlink(path);
    rmdir(dir);
    free(dir);
    free(doc);
}

START_TEST(junit_valid_and_escaped)
{
    xc__run_report r;
    make_report(&r);
    validate_xml(xc__report_junit, &r, "junit.xml");
    char *doc = xc__report_junit(&r);
    ck_assert_ptr_null(strstr(doc, "<script"));
    ck_assert_ptr_null(strstr(doc, "\x01"));
    ck_assert_ptr_null(strstr(doc, "\x1b"));
    ck_assert_ptr_null(strstr(doc, "\xff"));
    ck_assert_ptr_nonnull(strstr(doc, "&lt;script&gt;"));
    ck_assert_ptr_nonnull(strstr(doc, "tests=\"4\" failures=\"2\" errors=\"0\" time=\"2.150\""));
    ck_assert_ptr_nonnull(strstr(doc, "<testsuite name=\"plugin.bad-1\" tests=\"2\" "
                                      "failures=\"2\" errors=\"0\" skipped=\"0\""));
    ck_assert_ptr_nonnull(strstr(doc, "<testcase name=\"crash\" classname=\"plugin.bad-1\""));
    ck_assert_ptr_nonnull(strstr(doc, "type=\"property\""));
    ck_assert_ptr_nonnull(strstr(doc, "replay: xentcheck replay --plugin"));
    /* The message attribute keeps its first line only, quotes escaped. */
    ck_assert_ptr_nonnull(strstr(doc, "message=\"&lt;script&gt;alert(&apos;x&apos;)"));
    free(doc);
    xc__run_report_free(&r);
}
END_TEST

START_TEST(junit_failing_verdict_without_failures)
{
    xc__run_report r;
    make_report(&r);
    xc__target_report *t = &r.targets[0];
    t->pass = 0;
    validate_xml(xc__report_junit, &r, "junit.xml");
    char *doc = xc__report_junit(&r);
    ck_assert_ptr_nonnull(strstr(doc, "<testcase name=\"verdict\""));
    ck_assert_ptr_nonnull(strstr(doc, "tests=\"3\" failures=\"1\""));
    free(doc);
    xc__run_report_free(&r);
}
END_TEST

START_TEST(junit_empty_run)
{
    xc__run_report r = { 0 };
    validate_xml(xc__report_junit, &r, "junit.xml");
    validate_xml(xc__report_html, &r, "index.html");
    char *md = xc__report_markdown(&r);
    ck_assert_ptr_nonnull(strstr(md, "No failures."));
    free(md);
}
END_TEST

START_TEST(html_valid_and_escaped)
{
    xc__run_report r;
    make_report(&r);
    validate_xml(xc__report_html, &r, "index.html");
    char *doc = xc__report_html(&r);
    ck_assert(strncmp(doc, "<!DOCTYPE html>", 15) == 0);
    ck_assert_ptr_null(strstr(doc, "<script>alert"));
    ck_assert_ptr_null(strstr(doc, "http://"));
    ck_assert_ptr_null(strstr(doc, "https://"));
    ck_assert_ptr_null(strstr(doc, "\x01"));
    ck_assert_ptr_nonnull(strstr(doc, "&lt;script&gt;"));
    ck_assert_ptr_nonnull(strstr(doc, "class=\"fail\">fail"));
    ck_assert_ptr_nonnull(strstr(doc, "xentcheck replay --plugin"));
    free(doc);
    xc__run_report_free(&r);
}
END_TEST

START_TEST(markdown_table_and_failures)
{
    xc__run_report r;
    make_report(&r);
    char *doc = xc__report_markdown(&r);
    ck_assert_ptr_nonnull(strstr(doc, "| target | dtype | verdict | worst scaled "
                                      "error (u) | error/bound | cases | time (s) |"));
    ck_assert_ptr_nonnull(strstr(doc, "| xc.f64.shifted | f64 | pass | 3.12 | 0.0123 "
                                      "| 2000 | 1.90 |"));
    ck_assert_ptr_nonnull(strstr(doc, "| plugin.bad-1 | f32 | **fail** | - | - "
                                      "| 17 (time) | 0.25 |"));
    ck_assert_ptr_nonnull(strstr(doc, "### plugin.bad-1: reference_grad"));
    /* The message holds ``` so its fence is longer. */
    ck_assert_ptr_nonnull(strstr(doc, "````text\n<script>"));
    ck_assert_ptr_nonnull(strstr(doc, "```sh\nxentcheck replay --plugin"));
    free(doc);
    xc__run_report_free(&r);
}
END_TEST

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

START_TEST(atomic_write_no_temp_left)
{
    char *dir = temp_dir(), path[512], err[256] = "";
    snprintf(path, sizeof path, "%s/out.txt", dir);
    ck_assert_int_eq(xc__write_file_atomic(path, "first\n", 6, err, sizeof err), 0);
    ck_assert_int_eq(xc__write_file_atomic(path, "second\n", 7, err, sizeof err), 0);
    char *text = slurp(path);
    ck_assert_str_eq(text, "second\n");
    free(text);
    ck_assert_int_eq(count_entries(dir), 1);
    /* A directory in the way: the rename fails and the temp file goes. */
    char sub[600];
    snprintf(sub, sizeof sub, "%s/taken", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    ck_assert_int_ne(xc__write_file_atomic(sub, "x", 1, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "taken"));
    ck_assert_int_eq(count_entries(dir), 2);
    ck_assert_int_ne(xc__write_file_atomic("/nonexistent/dir/f", "x", 1, err,
                                           sizeof err), 0);
    rmdir(sub);
    unlink(path);
    rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(write_all_creates_dirs)
{
    xc__run_report r;
    make_report(&r);
    char *dir = temp_dir(), deep[512], file[600], err[256] = "";
    snprintf(deep, sizeof deep, "%s/a/b/", dir);
    int all = XC__FMT_JSON | XC__FMT_JUNIT | XC__FMT_MD | XC__FMT_HTML;
    ck_assert_msg(xc__report_write_all(&r, deep, all, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(count_entries(deep), 4);
    static const char *const names[] = { "report.json", "junit.xml",
                                         "summary.md", "index.html" };
    for (size_t i = 0; i < 4; i++) {
        snprintf(file, sizeof file, "%s/%s", deep, names[i]);
        ck_assert_int_eq(access(file, R_OK), 0);
        unlink(file);
    }
    ck_assert_int_eq(xc__report_write_all(&r, deep, XC__FMT_MD, err, sizeof err), 0);
    ck_assert_int_eq(count_entries(deep), 1);
    snprintf(file, sizeof file, "%s/summary.md", deep);
    unlink(file);
    /* A file where a directory must go. */
    snprintf(file, sizeof file, "%s/a/b/plain", dir);
    write_text(file, "x");
    snprintf(deep, sizeof deep, "%s/a/b/plain/c", dir);
    ck_assert_int_ne(xc__report_write_all(&r, deep, all, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "cannot create directory"));
    unlink(file);
    snprintf(deep, sizeof deep, "%s/a/b", dir);
    rmdir(deep);
    snprintf(deep, sizeof deep, "%s/a", dir);
    rmdir(deep);
    rmdir(dir);
    free(dir);
    xc__run_report_free(&r);
}
END_TEST

START_TEST(format_list)
{
    ck_assert_int_eq(xc__report_formats_parse("json"), XC__FMT_JSON);
    ck_assert_int_eq(xc__report_formats_parse("json,junit,md,html"),
                     XC__FMT_JSON | XC__FMT_JUNIT | XC__FMT_MD | XC__FMT_HTML);
    ck_assert_int_eq(xc__report_formats_parse("all"),
                     XC__FMT_JSON | XC__FMT_JUNIT | XC__FMT_MD | XC__FMT_HTML);
    ck_assert_int_eq(xc__report_formats_parse("html,md,md"), XC__FMT_HTML | XC__FMT_MD);
    ck_assert_int_eq(xc__report_formats_parse("markdown"), XC__FMT_MD);
    static const char *const bad[] = { "", "json,", ",json", "json,,md", "JSON",
                                       "json, md", "xml", "jsonx", " json" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(xc__report_formats_parse(bad[i]) == -1, "accepted \"%s\"",
                      bad[i]);
    ck_assert_int_eq(xc__report_formats_parse(NULL), -1);
}
END_TEST

START_TEST(free_is_idempotent)
{
    xc__run_report r;
    make_report(&r);
    xc__run_report_free(&r);
    xc__run_report_free(&r);
    xc__run_report_free(NULL);
    ck_assert_uint_eq(r.ntargets, 0);
}
END_TEST


/* ---- accuracy statistics, samples and known findings in report.json ---- */

/* Samples of a target over every band of H: case i has H = BANDS[i % 5]. */
static void add_samples(xc__target_report *t, size_t n)
{
    static const uint32_t h[] = { 1, 16, 17, 4096, 65536 };
    t->samples = calloc(n, sizeof *t->samples);
    ck_assert_ptr_nonnull(t->samples);
    t->nsamples = n;
    for (size_t i = 0; i < n; i++)
        t->samples[i] = (xc__sample){
            .case_index = i, .classes = h[i % 5], .batch = 1 + (uint32_t)(i % 3),
            .logit_range = 0.5f * (float)i, .logit_max = 100.0f + (float)i,
            .worst_scaled = 0.25f * (float)(i + 1), .worst_ratio = 0.001f * (float)i,
        };
}

static cJSON *band(const cJSON *target, int i)
{
    return cJSON_GetArrayItem(item(item(target, "accuracy"), "h_bands"), i);
}

START_TEST(json_bands_and_samples)
{
    xc__run_report r;
    make_report(&r);
    add_samples(&r.targets[0], 100);
    cJSON *root = parse_json(&r);
    cJSON *t0 = cJSON_GetArrayItem(item(root, "targets"), 0);
    cJSON *b0 = band(t0, 0), *b3 = band(t0, 3);
    ck_assert_str_eq(str(b0, "band"), "1-16");
    ck_assert(num(b0, "min_classes") == 1 && num(b0, "max_classes") == 16);
    /* H 1 and 16: cases 0,1,5,6,...: 40 of them, worst 0.25 * 97. */
    ck_assert(num(b0, "count") == 40);
    ck_assert(num(b0, "max") == 0.25 * 97);
    ck_assert(num(b0, "max_error_to_bound") == (double)(0.001f * 96));
    ck_assert(cJSON_IsNull(item(b3, "max_classes")));
    ck_assert(num(b3, "count") == 20 && num(b3, "p50") == 0.25 * 50);
    /* nearest rank: p90 of 20 values is the 18th. */
    ck_assert(num(b3, "p90") == 0.25 * 90);
    cJSON *b1 = band(t0, 1);
    ck_assert(num(b1, "count") == 20);
    cJSON *samples = item(t0, "samples");
    ck_assert_int_eq(cJSON_GetArraySize(samples), 100);
    cJSON *s7 = cJSON_GetArrayItem(samples, 7);
    ck_assert(num(s7, "case_index") == 7 && num(s7, "classes") == 17 &&
              num(s7, "batch") == 2 && num(s7, "logit_range") == 3.5 &&
              num(s7, "logit_max") == 107 && num(s7, "worst_scaled") == 2);
    ck_assert((float)num(s7, "worst_ratio") == 0.001f * 7);
    ck_assert(cJSON_IsNull(item(t0, "finding")));
    /* A target without samples: four empty bands with null statistics. */
    cJSON *t1 = cJSON_GetArrayItem(item(root, "targets"), 1);
    ck_assert(num(band(t1, 2), "count") == 0 && cJSON_IsNull(item(band(t1, 2), "p99")));
    ck_assert_int_eq(cJSON_GetArraySize(item(t1, "samples")), 0);
    cJSON_Delete(root);
    xc__run_report_free(&r);
}
END_TEST

static void set_finding(xc__target_report *t, int ok)
{
    t->finding = sdup("documented defect: " NASTY);
    t->nexpected = 2;
    t->expected = calloc(2, sizeof *t->expected);
    t->expected[0] = sdup("reference_grad");
    t->expected[1] = sdup("crash");
    t->expected_ok = ok;
}

START_TEST(known_finding_rendered)
{
    xc__run_report r;
    make_report(&r);
    set_finding(&r.targets[1], 1);
    cJSON *root = parse_json(&r);
    cJSON *f = item(cJSON_GetArrayItem(item(root, "targets"), 1), "finding");
    ck_assert_ptr_nonnull(strstr(str(f, "reason"), "documented defect"));
    ck_assert_str_eq(cJSON_GetArrayItem(item(f, "expected"), 1)->valuestring, "crash");
    ck_assert(cJSON_IsTrue(item(f, "as_expected")));
    cJSON_Delete(root);
    char *md = xc__report_markdown(&r);
    ck_assert_ptr_nonnull(strstr(md, "| plugin.bad-1 | f32 | expected failure | "));
    ck_assert_ptr_nonnull(strstr(md, "## Known findings"));
    ck_assert_ptr_nonnull(strstr(md, "Expected to fail: reference_grad, crash."));
    free(md);
    validate_xml(xc__report_junit, &r, "junit.xml");
    char *junit = xc__report_junit(&r);
    ck_assert_ptr_nonnull(strstr(junit, "failures=\"0\" errors=\"0\" skipped=\"2\""));
    ck_assert_ptr_nonnull(strstr(junit, "<skipped message=\"expected failure "
                                        "(known finding): documented defect"));
    free(junit);
    validate_xml(xc__report_html, &r, "index.html");
    char *html = xc__report_html(&r);
    ck_assert_ptr_nonnull(strstr(html, "class=\"expected\">expected failure"));
    ck_assert_ptr_nonnull(strstr(html, "known finding, failed as expected"));
    free(html);
    /* Not as expected: a plain failure everywhere. */
    r.targets[1].expected_ok = 0;
    md = xc__report_markdown(&r);
    ck_assert_ptr_nonnull(strstr(md, "| plugin.bad-1 | f32 | **fail** | "));
    free(md);
    xc__run_report_free(&r);
}
END_TEST

START_TEST(html_plots_and_data)
{
    xc__run_report r;
    make_report(&r);
    add_samples(&r.targets[0], 50);
    validate_xml(xc__report_html, &r, "index.html");
    char *doc = xc__report_html(&r);
    static const char *const parts[] = {
        "<body data-plots=\"pending\">", "id=\"plot-hist\"", "id=\"plot-h\"",
        "id=\"plot-logit\"", "<script type=\"application/json\" id=\"xc-data\">",
        "\"worst_scaled\":[0.25,0.5,0.75,", "data-library=\"d3 ",
        "data-library=\"@observablehq/plot ", "src=\"data:text/javascript;base64,",
        "<table id=\"bands\">", "Embedded software and its licence",
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        ck_assert_msg(strstr(doc, parts[i]) != NULL, "index.html lacks %s", parts[i]);
    /* The hostile summary reaches the data block with its markup escaped. */
    char *data = strstr(doc, "id=\"xc-data\">");
    char *end = strstr(data, "</script>");
    ck_assert_ptr_nonnull(end);
    *end = '\0';
    ck_assert_ptr_null(strchr(data + strlen("id=\"xc-data\">"), '<'));
    ck_assert_ptr_null(strchr(data, '&'));
    free(doc);
    xc__run_report_free(&r);
}
END_TEST

/* ---- reading report.json back ---- */

static void parse_ok(const char *text, xc__run_report *out)
{
    char err[512] = "";
    ck_assert_msg(xc__report_parse(text, "t.json", out, err, sizeof err) == 0,
                  "%s", err);
}

/* JSON carries text, not bytes: invalid UTF-8 comes back as U+FFFD. */
static void valid_utf8(char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s == 0xff || (unsigned char)*s == 0xfe)
            *s = '?';
}

START_TEST(read_round_trip)
{
    xc__run_report r, back;
    make_report(&r);
    add_samples(&r.targets[0], 60);
    r.targets[0].samples[3].worst_ratio = INFINITY;
    set_finding(&r.targets[1], 0);
    valid_utf8(r.targets[1].summary);
    valid_utf8(r.targets[1].finding);
    valid_utf8(r.targets[1].failures[0].message);
    char *doc = xc__report_json(&r);
    parse_ok(doc, &back);
    for (size_t w = 0; w < sizeof writers / sizeof writers[0]; w++) {
        char *x = writers[w](&r), *y = writers[w](&back);
        ck_assert_msg(strcmp(x, y) == 0, "writer %zu differs after a round trip", w);
        free(x);
        free(y);
    }
    ck_assert_uint_eq(back.targets[0].caps, r.targets[0].caps);
    ck_assert(back.seed == r.seed && back.targets[1].failures[2].case_index == 19);
    free(doc);
    xc__run_report_free(&back);
    xc__run_report_free(&r);
}
END_TEST

/* Every edit of a valid report that the reader must refuse, with the
 * words its message must hold. */
static const struct {
    const char *from, *to, *says;
} corruptions[] = {
    { "\"schema\":\t\"xentcheck-report\"", "\"schema\": \"other\"", "schema: not a" },
    { "\"schema_version\":\t1", "\"schema_version\": 2", "reads version 1" },
    { "\"seed\":\t\"0x2a\"", "\"seed\": 42", "seed: expected a hex" },
    { "\"cases\":\t2000", "\"cases\": -1", "targets[0].cases: expected an integer" },
    { "\"cases\":\t2000", "\"cases\": 1.5", "targets[0].cases" },
    { "\"dtype\":\t\"f64\"", "\"dtype\": \"f16\"", "targets[0].dtype" },
    { "\"verdict\":\t\"pass\"", "\"verdict\": \"maybe\"", "targets[0].verdict" },
    { "\"index\"", "\"telepathy\"", "unknown capability telepathy" },
    { "\"stopped_early\":\tfalse", "\"stopped_early\": 0", "stopped_early: expected true" },
    { "\"failures\":\t[]", "\"failures\": {}", "failures: expected an array" },
    { "\"case_index\":\t17", "\"case_index\": \"x\"", "targets[1].failures[0].case_index" },
    { "\"classes\":\t1,", "\"classes\": null,", "targets[0].samples[0].classes" },
    { "\"name\":\t\"xc.f64.shifted\"", "\"nom\": 1", "targets[0].name: missing" },
    { "\"timing\":", "\"timing_\":", "timing: missing" },
    { "\"targets\":\t[", "\"targets\": 7, \"x\": [", "targets: expected an array" },
    { "\"schema\"", "schema\"", "not valid JSON (line 2" },
};

static char *replace_once(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    ck_assert_msg(at != NULL, "fixture lacks %s", from);
    size_t n = strlen(s) - strlen(from) + strlen(to);
    char *out = malloc(n + 1);
    size_t head = (size_t)(at - s);
    memcpy(out, s, head);
    strcpy(out + head, to);
    strcat(out, at + strlen(from));
    return out;
}

START_TEST(read_rejects_malformed)
{
    xc__run_report r, back;
    char err[512];
    make_report(&r);
    add_samples(&r.targets[0], 3);
    char *doc = xc__report_json(&r);
    for (size_t i = 0; i < sizeof corruptions / sizeof corruptions[0]; i++) {
        char *bad = replace_once(doc, corruptions[i].from, corruptions[i].to);
        err[0] = '\0';
        ck_assert_msg(xc__report_parse(bad, "bad.json", &back, err, sizeof err) != 0,
                      "accepted corruption %zu", i);
        ck_assert_msg(strstr(err, corruptions[i].says) && strncmp(err, "bad.json: ", 10) == 0,
                      "corruption %zu: message \"%s\" lacks \"%s\"", i, err,
                      corruptions[i].says);
        xc__run_report_free(&back);
        free(bad);
    }
    ck_assert_int_ne(xc__report_parse("[1]", "e.json", &back, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "e.json: expected a JSON object"));
    ck_assert_int_ne(xc__report_parse("", "e.json", &back, err, sizeof err), 0);
    ck_assert_int_ne(xc__report_read_file("/nonexistent/r.json", &back, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
    free(doc);
    xc__run_report_free(&r);
}
END_TEST

/* ---- merging shards ---- */

/* The failures the check loop meets, in case order: (case, property). */
static const struct {
    uint64_t c;
    const char *property;
} events[] = {
    { 5, "reference_grad" }, { 8, "reference_grad" }, { 12, "row_sum" },
    { 12, "reference_grad" }, { 13, "row_sum" },
};

static int in_shard(uint64_t c, int k, int n)
{
    return n == 0 || (int)(c % (uint64_t)n) == k;
}

static void record_failures(xc__target_report *t, int k, int n)
{
    t->failures = calloc(sizeof events / sizeof events[0], sizeof *t->failures);
    for (size_t e = 0; e < sizeof events / sizeof events[0]; e++) {
        int seen = 0;
        for (size_t j = 0; j < t->nfailures; j++)
            seen |= strcmp(t->failures[j].property, events[e].property) == 0;
        if (seen || !in_shard(events[e].c, k, n))
            continue;
        char msg[64];
        snprintf(msg, sizeof msg, "%s failed on case %llu", events[e].property,
                 (unsigned long long)events[e].c);
        t->failures[t->nfailures++] = (xc__failure){
            .property = sdup(events[e].property), .message = sdup(msg),
            .case_file = sdup("cases/x.case"), .replay = sdup("xentcheck replay x"),
            .seed = 9, .case_index = events[e].c };
    }
    t->pass = t->nfailures == 0;
}

/* What the check loop would report for the cases of shard K of N (N = 0:
 * the unsharded run) out of CASES: every case but each 7th gives a sample,
 * shift_invariance runs on every 4th case. */
static void run_target(xc__target_report *t, const char *name, size_t cases,
                       int k, int n)
{
    static const char *const props[] = { "reference_grad", "shift_invariance", "row_sum" };
    *t = (xc__target_report){ .name = sdup(name), .summary = sdup("s"),
                              .origin = sdup("builtin"), .dtype = XC_F32, .caps = 3 };
    t->samples = calloc(cases, sizeof *t->samples);
    t->properties = calloc(3, sizeof *t->properties);
    int shift_ran = 0;
    for (uint64_t c = 0; c < cases; c++) {
        if (!in_shard(c, k, n))
            continue;
        t->cases++;
        t->properties_run += 2 + (c % 4 == 0);
        shift_ran |= c % 4 == 0;
        if (c % 7 == 6)
            continue;
        xc__sample s = { .case_index = c, .classes = (uint32_t)(1 + c * 37 % 5000),
                         .batch = 2, .logit_range = (float)c, .logit_max = (float)c,
                         .worst_scaled = (float)((c * 13) % 17) / 4,
                         .worst_ratio = (float)((c * 13) % 17) / 64 };
        t->samples[t->nsamples++] = s;
        xc__accuracy *a = &t->accuracy;
        a->count += 2 * s.classes;
        if (s.worst_scaled > a->max_scaled || a->count == 2 * s.classes) {
            a->max_scaled = s.worst_scaled;
            a->worst_classes = s.classes;
            a->worst_case = c;
        }
        if (s.worst_ratio > a->max_ratio)
            a->max_ratio = s.worst_ratio;
    }
    for (size_t i = 0; i < 3; i++)
        if (i != 1 || shift_ran)
            t->properties[t->nproperties++] = sdup(props[i]);
    xc__accuracy_set_percentiles(t);
    record_failures(t, k, n);
    set_finding(t, 0);
    free(t->expected[1]);
    t->expected[1] = sdup("row_sum");
    t->expected_ok = !t->pass && t->nfailures == 2 && k < 0;
    t->timing.seconds = 0.5 + k;
}

static void run_report(xc__run_report *r, size_t cases, int k, int n)
{
    *r = (xc__run_report){ .tool_version = sdup("0.1.0"), .seed = 9,
                           .cases_requested = cases, .ntargets = 2 };
    r->targets = calloc(2, sizeof *r->targets);
    run_target(&r->targets[0], "a", cases, k, n);
    run_target(&r->targets[1], "b", cases / 2, k, n);
    r->timing.seconds = 1 + k;
}

/* Shards go through report.json text, as `report merge` reads them. */
static void through_json(xc__run_report *r)
{
    char *doc = xc__report_json(r);
    xc__run_report_free(r);
    parse_ok(doc, r);
    free(doc);
}

START_TEST(merge_equals_unsharded)
{
    xc__run_report full, shards[3], merged;
    char err[512] = "";
    run_report(&full, 40, -1, 0);
    for (int k = 0; k < 3; k++) {
        run_report(&shards[k], 40, k, 3);
        through_json(&shards[k]);
    }
    /* Shard order does not matter: 2, 0, 1. */
    xc__run_report order[3] = { shards[2], shards[0], shards[1] };
    ck_assert_msg(xc__report_merge(order, 3, &merged, err, sizeof err) == 0, "%s", err);
    char *want = json_without_timing(&full), *got = json_without_timing(&merged);
    ck_assert_str_eq(got, want);
    ck_assert(merged.targets[0].expected_ok);
    ck_assert_uint_eq(merged.targets[0].nproperties, 3);
    ck_assert(merged.timing.seconds == 1 + 2 + 3);
    cJSON_free(want);
    cJSON_free(got);
    xc__run_report_free(&merged);
    for (int k = 0; k < 3; k++)
        xc__run_report_free(&shards[k]);
    xc__run_report_free(&full);
}
END_TEST

START_TEST(merge_refuses_conflicts)
{
    xc__run_report a, b, merged;
    char err[512];
    run_report(&a, 20, 0, 2);
    run_report(&b, 20, 0, 2);
    ck_assert_int_ne(xc__report_merge((xc__run_report[]){ a, b }, 2, &merged, err,
                                      sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "more than one report"));
    xc__run_report_free(&merged);
    xc__run_report_free(&b);
    run_report(&b, 20, 1, 2);
    b.seed = 10;
    ck_assert_int_ne(xc__report_merge((xc__run_report[]){ a, b }, 2, &merged, err,
                                      sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "seed"));
    xc__run_report_free(&merged);
    b.seed = 9;
    b.targets[1].dtype = XC_F64;
    ck_assert_int_ne(xc__report_merge((xc__run_report[]){ a, b }, 2, &merged, err,
                                      sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "b: the reports describe different targets"));
    xc__run_report_free(&merged);
    ck_assert_int_ne(xc__report_merge(NULL, 0, &merged, err, sizeof err), 0);
    xc__run_report_free(&a);
    xc__run_report_free(&b);
}
END_TEST

/* ---- the CLI: `xentcheck report merge | render` ---- */

static int run_cli(const char *const *args)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char *argv[16] = { (char *)XC_TEST_CLI };
        for (size_t i = 0; args[i] && i < 14; i++)
            argv[i + 1] = (char *)args[i];
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execv(XC_TEST_CLI, argv);
        _exit(127);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 127,
                  "cannot run %s", XC_TEST_CLI);
    return WEXITSTATUS(status);
}

static void write_report(const xc__run_report *r, const char *path)
{
    char *doc = xc__report_json(r);
    write_text(path, doc);
    free(doc);
}

START_TEST(cli_merge_and_render)
{
    char *dir = temp_dir(), a[512], b[512], out[512], bad[512], file[600];
    xc__run_report shard;
    snprintf(a, sizeof a, "%s/a.json", dir);
    snprintf(b, sizeof b, "%s/b.json", dir);
    snprintf(out, sizeof out, "%s/merged", dir);
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    for (int k = 0; k < 2; k++) {
        run_report(&shard, 30, k, 2);
        write_report(&shard, k ? b : a);
        xc__run_report_free(&shard);
    }
    ck_assert_int_eq(mkdir(out, 0755), 0);
    ck_assert_int_eq(run_cli((const char *[]){ "report", "merge", a, b, "-o", out, NULL }), 0);
    snprintf(file, sizeof file, "%s/report.json", out);
    ck_assert_int_eq(run_cli((const char *[]){ "report", "render", file, NULL }), 0);
    static const char *const made[] = { "report.json", "index.html", "summary.md", "junit.xml" };
    for (size_t i = 0; i < 4; i++) {
        snprintf(file, sizeof file, "%s/%s", out, made[i]);
        ck_assert_msg(access(file, R_OK) == 0, "render did not write %s", made[i]);
    }
    xmllint_ok(file);
    write_text(bad, "{\"schema\": \"xentcheck-report\", \"schema_version\": 1,");
    ck_assert_int_eq(run_cli((const char *[]){ "report", "render", bad, NULL }), 2);
    ck_assert_int_eq(run_cli((const char *[]){ "report", "merge", a, bad, "-o", out, NULL }), 2);
    ck_assert_int_eq(run_cli((const char *[]){ "report", "merge", a, a, "-o", out, NULL }), 2);
    ck_assert_int_eq(run_cli((const char *[]){ "report", "merge", a, NULL }), 2);
    ck_assert_int_eq(run_cli((const char *[]){ "report", "render", "/nonexistent.json", NULL }), 2);
    ck_assert_int_eq(run_cli((const char *[]){ "report", "render", a, "--format", "pdf", NULL }), 2);
    ck_assert_int_eq(run_cli((const char *[]){ "report", "explode", NULL }), 2);
    ck_assert_int_eq(run_cli((const char *[]){ "report", "--help", NULL }), 0);
    for (size_t i = 0; i < 4; i++) {
        snprintf(file, sizeof file, "%s/%s", out, made[i]);
        unlink(file);
    }
    rmdir(out);
    unlink(a);
    unlink(b);
    unlink(bad);
    ck_assert_int_eq(rmdir(dir), 0);
    free(dir);
}
END_TEST

/* ---- known findings: when a target holds ---- */

/* A report that failed FAILED (NULL-ended), with a finding expecting
 * EXPECTED (NULL-ended; NULL: no finding), settled as the check loop does. */
static xc__target_report settled(const char *const *failed, const char *const *expected)
{
    xc__target_report t = { .name = sdup("t"), .pass = 1 };
    size_t nf = 0, ne = 0;
    while (failed[nf])
        nf++;
    while (expected && expected[ne])
        ne++;
    t.failures = calloc(nf + 1, sizeof *t.failures);
    for (size_t i = 0; i < nf; i++)
        t.failures[t.nfailures++] = (xc__failure){ .property = sdup(failed[i]),
                                                   .case_index = i };
    t.pass = nf == 0;
    if (expected) {
        t.finding = sdup("a documented defect");
        t.expected = calloc(ne + 1, sizeof *t.expected);
        for (size_t i = 0; i < ne; i++)
            t.expected[t.nexpected++] = sdup(expected[i]);
    }
    xc__finding_settle(&t);
    return t;
}

START_TEST(finding_holds_only_exactly)
{
    static const char *const none[] = { NULL };
    static const char *const two[] = { "reference_loss", "fd_consistency", NULL };
    static const char *const swapped[] = { "fd_consistency", "reference_loss", NULL };
    static const char *const one[] = { "reference_loss", NULL };
    static const char *const three[] = { "reference_loss", "fd_consistency", "finite", NULL };
    static const struct {
        const char *const *failed, *const *expected;
        int holds;
        const char *verdict;
    } rows[] = {
        { none, NULL, 1, "pass" },              /* no finding: passing holds */
        { two, NULL, 0, "fail" },               /* no finding: failing does not */
        { two, two, 1, "expected failure" },    /* exactly as documented */
        { swapped, two, 1, "expected failure" },/* in any order */
        { none, two, 0, "pass" },               /* XPASS: the finding no longer holds */
        { one, two, 0, "fail" },                /* fails differently: less */
        { three, two, 0, "fail" },              /* fails differently: more */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        xc__target_report t = settled(rows[i].failed, rows[i].expected);
        ck_assert_msg(xc__target_holds(&t) == rows[i].holds, "row %zu", i);
        ck_assert_str_eq(xc__verdict_text(&t), rows[i].verdict);
        xc__target_report_free(&t);
    }
}
END_TEST

/* Failures read in (case, property order): what the check loop and a merge
 * of shards both produce. */
START_TEST(failures_sorted_by_case_then_property)
{
    static const char *const order[] = { "finite", "reference_grad", "row_sum", NULL };
    xc__target_report t = settled(order, NULL);
    t.failures[0].case_index = 3;   /* finite, case 3 */
    t.failures[1].case_index = 3;   /* reference_grad, case 3 */
    t.failures[2].case_index = 1;   /* row_sum, case 1 */
    xc__failures_sort(&t);
    ck_assert_str_eq(t.failures[0].property, "row_sum");
    ck_assert_str_eq(t.failures[1].property, "reference_grad");
    ck_assert_str_eq(t.failures[2].property, "finite");
    xc__target_report_free(&t);
}
END_TEST

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, json_schema);
    tcase_add_test(tc, json_big_seed_is_string_only);
    tcase_add_test(tc, same_model_same_bytes);
    tcase_add_test(tc, json_timing_isolated);
    tcase_add_test(tc, junit_valid_and_escaped);
    tcase_add_test(tc, junit_failing_verdict_without_failures);
    tcase_add_test(tc, junit_empty_run);
    tcase_add_test(tc, html_valid_and_escaped);
    tcase_add_test(tc, markdown_table_and_failures);
    tcase_add_test(tc, atomic_write_no_temp_left);
    tcase_add_test(tc, write_all_creates_dirs);
    tcase_add_test(tc, format_list);
    tcase_add_test(tc, free_is_idempotent);
    tcase_add_test(tc, json_bands_and_samples);
    tcase_add_test(tc, known_finding_rendered);
    tcase_add_test(tc, finding_holds_only_exactly);
    tcase_add_test(tc, failures_sorted_by_case_then_property);
    tcase_add_test(tc, html_plots_and_data);
    tcase_add_test(tc, read_round_trip);
    tcase_add_test(tc, read_rejects_malformed);
    tcase_add_test(tc, merge_equals_unsharded);
    tcase_add_test(tc, merge_refuses_conflicts);
    tcase_add_test(tc, cli_merge_and_render);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(report_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
