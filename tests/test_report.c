/* Report writers: JSON schema and determinism, XML validity (xmllint),
 * escaping of hostile strings, atomic writes and the format list. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <check.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/report.h"

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
    ck_assert_ptr_null(strstr(doc, "<script"));
    ck_assert_ptr_null(strstr(doc, "http://"));
    ck_assert_ptr_null(strstr(doc, "https://"));
    ck_assert_ptr_null(strstr(doc, "\x01"));
    ck_assert_ptr_nonnull(strstr(doc, "&lt;script&gt;"));
    ck_assert_ptr_nonnull(strstr(doc, "class=\"fail\">FAIL"));
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
    ck_assert_ptr_nonnull(strstr(doc, "| target | dtype | verdict | worst error (u) "
                                      "| error/bound | cases | time (s) |"));
    ck_assert_ptr_nonnull(strstr(doc, "| xc.f64.shifted | f64 | PASS | 3.12 | 0.0123 "
                                      "| 2000 | 1.90 |"));
    ck_assert_ptr_nonnull(strstr(doc, "| plugin.bad-1 | f32 | **FAIL** | - | - "
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
