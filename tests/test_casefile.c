/* Case files: bit-exact round trips, every parser error with its line, and
 * hostile input that must never crash the parser. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <check.h>
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/casefile.h"

static double nan_with(uint64_t sign, uint64_t mantissa)
{
    uint64_t b = sign << 63 | (uint64_t)0x7ff << 52 | mantissa;
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static xc__case *f64_case(void)
{
    xc__case *c = xc__case_new(XC_F64, 2, 5, 7, XC__LABELS_INDEX, 1);
    const double row0[5] = { -0.0, INFINITY, -INFINITY, 0x1p-1074, 0x1.8p-1070 };
    const double row1[5] = { nan_with(0, (uint64_t)1 << 51),
                             nan_with(1, (uint64_t)1 << 51),
                             nan_with(0, 0x12345), DBL_MAX, -0x1.23456789abcdep-3 };
    memcpy(c->logits, row0, sizeof row0);
    memcpy(c->logits + 7, row1, sizeof row1);
    for (size_t k = 0; k < 5; k++)
        c->weights[k] = 0.25 * (double)k - 0.0;
    c->weights[0] = -0.0;
    c->labels[0] = 4;
    c->labels[1] = -100;
    c->has_ignore_index = 1;
    c->ignore_index = -100;
    c->reduction = XC_REDUCE_MEAN;
    c->seed = 0xdeadbeefcafef00dULL;
    c->index = 12345;
    return c;
}

static xc__case *f32_case(void)
{
    xc__case *c = xc__case_new(XC_F32, 3, 3, 3, XC__LABELS_PROB, 1);
    const float v[9] = { -0.0f, 0x1p-149f, FLT_MAX, 1.1f, -INFINITY, NAN,
                         0x1.fffffep-127f, -3.5f, 1e-30f };
    const float p[9] = { 0.0f, 0.5f, 0.5f, 1.0f / 3, 1.0f / 3, 1.0f / 3,
                         0x1p-149f, 1.0f, -0.0f };
    for (size_t i = 0; i < 9; i++) {
        c->logits[i] = v[i];
        c->probs[i] = p[i];
    }
    c->weights[0] = 1.5f;
    c->weights[1] = 0x1p-140f;
    c->weights[2] = 7.0f;
    c->seed = 1;
    return c;
}

static char *print_case(const xc__case *c, const xc__case_meta *meta)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(xc__casefile_print(f, c, meta), 0);
    fclose(f);
    return buf;
}

static int same_bits(const double *a, const double *b, size_t n)
{
    if (!a || !b)
        return a == b;
    return memcmp(a, b, n * sizeof *a) == 0;
}

static void assert_same_case(const xc__case *a, const xc__case *b)
{
    size_t values = a->batch * a->ld;
    ck_assert_int_eq(a->dtype, b->dtype);
    ck_assert_uint_eq(a->batch, b->batch);
    ck_assert_uint_eq(a->classes, b->classes);
    ck_assert_uint_eq(a->ld, b->ld);
    ck_assert_int_eq(a->reduction, b->reduction);
    ck_assert_int_eq(a->label_kind, b->label_kind);
    ck_assert_int_eq(a->has_ignore_index, b->has_ignore_index);
    if (a->has_ignore_index)
        ck_assert_int_eq(a->ignore_index, b->ignore_index);
    ck_assert_uint_eq(a->seed, b->seed);
    ck_assert_uint_eq(a->index, b->index);
    ck_assert(same_bits(a->logits, b->logits, values));
    ck_assert(same_bits(a->probs, b->probs, values));
    ck_assert(same_bits(a->weights, b->weights, a->classes));
    if (a->labels)
        ck_assert(memcmp(a->labels, b->labels, a->batch * sizeof *a->labels) == 0);
    else
        ck_assert_ptr_null(b->labels);
}

static void round_trip(xc__case *c, const xc__case_meta *meta)
{
    char err[256] = "";
    xc__case_meta back;
    char *text = print_case(c, meta);
    xc__case *d = xc__casefile_parse(text, strlen(text), &back, err, sizeof err);
    ck_assert_msg(d != NULL, "parse failed: %s\n%s", err, text);
    assert_same_case(c, d);
    ck_assert_str_eq(back.target, meta->target);
    ck_assert_str_eq(back.property, meta->property);
    char *again = print_case(d, &back);
    ck_assert_str_eq(text, again);
    free(again);
    free(text);
    xc__case_free(d);
    xc__case_free(c);
}

START_TEST(round_trip_f64)
{
    xc__case_meta meta = { "xc.f64.shifted", "reference_grad" };
    round_trip(f64_case(), &meta);
}
END_TEST

START_TEST(round_trip_f32)
{
    xc__case_meta meta = { "xc.f32.logsoftmax", "" };
    round_trip(f32_case(), &meta);
}
END_TEST

START_TEST(writer_spells_values)
{
    xc__case_meta meta = { "", "" };
    xc__case *c = f64_case();
    char *text = print_case(c, &meta);
    ck_assert_ptr_nonnull(strstr(text, "-0x0p+0 inf -inf 0x0.0000000000001p-1022"));
    ck_assert_ptr_nonnull(strstr(text, "nan -nan nan(0x12345)"));
    ck_assert_ptr_nonnull(strstr(text, "# -0 inf -inf 4.9406564584124654e-324"));
    ck_assert_ptr_null(strstr(text, "\ntarget "));
    free(text);
    xc__case_free(c);
    c = f32_case();
    text = print_case(c, &meta);
    ck_assert_ptr_nonnull(strstr(text, "# 0.333333343 0.333333343 0.333333343"));
    free(text);
    xc__case_free(c);
}
END_TEST

static xc__case *parse_ok(const char *text, xc__case_meta *meta)
{
    char err[256] = "";
    xc__case *c = xc__casefile_parse(text, strlen(text), meta, err, sizeof err);
    ck_assert_msg(c != NULL, "unexpected error: %s", err);
    return c;
}

START_TEST(decimals_round_to_dtype)
{
    xc__case *c = parse_ok("xentcheck-case 1\ndtype f32\nbatch 1\nclasses 3\n"
                           "labels 1\nlogits\n0.1 -1e-45 1e-50\nend\n", NULL);
    ck_assert(c->logits[0] == (double)0.1f);
    ck_assert(c->logits[1] == -0x1p-149);
    ck_assert(c->logits[2] == 0 && !signbit(c->logits[2]));
    ck_assert_uint_eq(c->ld, 3);
    ck_assert_int_eq(c->reduction, XC_REDUCE_SUM);
    xc__case_free(c);
    c = parse_ok("xentcheck-case 1\ndtype f64\nbatch 1\nclasses 2\n"
                 "probs\n0.1 .9\nlogits\n+1.5 INF\nend\n", NULL);
    ck_assert(c->probs[0] == 0.1 && c->probs[1] == 0.9);
    ck_assert(c->logits[0] == 1.5 && isinf(c->logits[1]));
    xc__case_free(c);
}
END_TEST

START_TEST(comments_blanks_crlf)
{
    xc__case_meta meta;
    xc__case *c = parse_ok("# leading comment\r\n\r\n  xentcheck-case 1  # v1\r\n"
                           "target t.x-1_2\r\n\tdtype f64\r\nbatch 2\r\n"
                           "classes 1\r\nignore_index -100\r\nlabels 0 -100\r\n"
                           "logits # rows follow\r\n\r\n# a comment\r\n0x1p+0\r\n"
                           "2\r\nend\r\n\r\n# done\r\n", &meta);
    ck_assert_str_eq(meta.target, "t.x-1_2");
    ck_assert_str_eq(meta.property, "");
    ck_assert(c->logits[1] == 2.0);
    ck_assert_int_eq(c->labels[1], -100);
    xc__case_free(c);
}
END_TEST

START_TEST(atomic_write_and_read)
{
    char dir[] = "/tmp/xc_casefile_XXXXXX";
    char path[512], err[256] = "";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/case.xc", dir);
    xc__case_meta meta = { "xc.f64.shifted", "shift_invariance" }, back;
    xc__case *c = f64_case();
    ck_assert_int_eq(xc__casefile_write(path, c, &meta, err, sizeof err), 0);
    xc__case *d = xc__casefile_read(path, &back, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    assert_same_case(c, d);
    ck_assert_str_eq(back.property, "shift_invariance");
    DIR *dp = opendir(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dp)) != NULL)
        files += e->d_name[0] != '.';
    closedir(dp);
    ck_assert_int_eq(files, 1);
    unlink(path);
    rmdir(dir);
    xc__case_free(c);
    xc__case_free(d);
}
END_TEST

START_TEST(read_errors_name_path)
{
    char err[256] = "";
    ck_assert_ptr_null(xc__casefile_read("/nonexistent/x.case", NULL, err,
                                         sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.case: "));
    ck_assert_ptr_null(xc__casefile_read("/tmp", NULL, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/tmp: "));
    xc__case *c = f64_case();
    ck_assert_int_ne(xc__casefile_write("/nonexistent/dir/c", c, NULL, err,
                                        sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dir/c"));
    xc__case_free(c);
}
END_TEST

/* Header lines shared by the error cases below (lines 1..4). */
#define HEAD "xentcheck-case 1\ndtype f64\nbatch 2\nclasses 3\n"

static const struct bad_case {
    const char *text;
    const char *error;
} bad_cases[] = {
    { "", "line 1: empty input: not a xentcheck case file" },
    { "# only a comment\n", "line 1: empty input" },
    { "\x7f" "ELF\x02\x01", "line 1: not a xentcheck case file" },
    { "# c\nxentcheck-case 2\n", "line 2: unsupported case file version" },
    { "xentcheck-case\n", "line 1: 'xentcheck-case' needs a value" },
    { HEAD "colour red\n", "line 5: unknown key 'colour'" },
    { HEAD "batch 2\n", "line 5: duplicate key 'batch' (first on line 3)" },
    { HEAD "labels 0 1\nlogits\n1 2 3\n4 5 6\n", "line 8: missing 'end'" },
    { HEAD "labels 0 1\nend\n", "line 6: missing required key 'logits'" },
    { HEAD "logits\n1 2 3\n4 5 6\nend\n", "line 8: missing 'labels' or 'probs'" },
    { "xentcheck-case 1\nbatch 1\nclasses 1\nlabels 0\nlogits\n0\nend\n",
      "line 4: 'labels' must come after dtype, batch" },
    { HEAD "labels 0 1\nlogits\n1 2 3\n4 5\nend\n",
      "line 8: logits row has 2 values, expected 3" },
    { HEAD "labels 0 1\nlogits\n1 2 3 4\n4 5 6\nend\n",
      "line 7: logits row has 4 values, expected 3" },
    { HEAD "labels 0 1\nlogits\n1 2 3\nend\n",
      "line 8: logits block ends after 1 of 2 rows" },
    { HEAD "labels 0 1\nlogits\n1 2 3\n", "line 7: logits block ends after 1 of 2 rows" },
    { HEAD "labels 0\nlogits\n1 2 3\n4 5 6\nend\n",
      "line 5: labels has 1 values, expected 2" },
    { HEAD "labels 0 3\nlogits\n1 2 3\n4 5 6\nend\n",
      "line 5: label 3 of row 1 outside [0, 3)" },
    { HEAD "ignore_index -100\nlabels 0 -1\nlogits\n1 2 3\n4 5 6\nend\n",
      "line 6: label -1 of row 1 outside [0, 3) and not ignore_index" },
    { HEAD "labels 0 x\n", "line 5: bad value 'x'" },
    { HEAD "labels 0 99999999999999999999\n", "line 5: bad value" },
    { HEAD "probs\n0.5 0.5 0\n0 1 -0.25\n", "line 7: negative value in probs" },
    { HEAD "probs\n0.5 0.5 0\n0 1 -inf\n", "line 7: negative value in probs" },
    { HEAD "ld 2\nlabels 0 1\nlogits\n1 2 3\n4 5 6\nend\n",
      "line 5: ld 2 is less than classes 3" },
    { "xentcheck-case 1\nbatch 0\n", "line 2: 'batch' must be at least 1" },
    { "xentcheck-case 1\nclasses 99999999999\n", "line 2: 'classes' too large" },
    { "xentcheck-case 1\nbatch 65536\nclasses 1\nld 65536\n"
      "dtype f32\nlabels 0\n", "line 6: labels has 1 values, expected 65536" },
    { "xentcheck-case 1\nbatch 65536\nclasses 1\nld 65536\nend\n",
      "line 5: missing required key 'dtype'" },
    { "xentcheck-case 1\ndtype f32\nbatch 2048\nclasses 1\nld 65536\nlogits\n",
      "line 6: logits block ends after 0 of 2048 rows" },
    { HEAD "labels 0 1\nprobs\n", "line 6: labels and probs both given" },
    { HEAD "probs\n1 0 0\n0 1 0\nlabels 0 1\n", "line 8: labels and probs both given" },
    { HEAD "labels 0 1\nlogits\n1 2 3\n4 5 6\nend\nmore\n",
      "line 10: trailing garbage after 'end'" },
    { HEAD "labels 0 1\nlogits\n1 2 3\n4 5 6\nend now\n",
      "line 9: 'end' takes no value on its line" },
    { "xentcheck-case 1\nbatch 2 3\n", "line 2: trailing garbage after 'batch' value" },
    { "xentcheck-case 1\nbatch\n", "line 2: 'batch' needs a value" },
    { "xentcheck-case 1\nbatch -1\n", "line 2: 'batch' needs an unsigned integer" },
    { "xentcheck-case 1\ndtype f16\n", "line 2: dtype must be f32 or f64" },
    { "xentcheck-case 1\nreduction none\n", "line 2: reduction must be sum or mean" },
    { "xentcheck-case 1\nseed -5\n", "line 2: 'seed' needs an unsigned 64-bit" },
    { "xentcheck-case 1\nseed 0x10000000000000000\n", "line 2: 'seed' needs" },
    { "xentcheck-case 1\ntarget bad/name\n", "line 2: 'target' must match" },
    { HEAD "labels 0 1\nlogits\n1 2 1e400\n", "line 7: value '1e400' overflows f64" },
    { HEAD "labels 0 1\nlogits\n1 2 0x1p99999\n", "line 7: value '0x1p99999' overflows" },
    { HEAD "labels 0 1\nlogits\n1 2 nan(0x0)\n", "line 7: bad value 'nan(0x0)'" },
    { HEAD "labels 0 1\nlogits\n1 2 3x\n", "line 7: bad value '3x'" },
    { HEAD "labels 0 1\nlogits\n1 2 \x01\n", "line 7: bad value '?'" },
    { HEAD "weights 1 2 3\n", "line 5: 'weights' takes no value on its line" },
    { HEAD "weights\n1 2\n", "line 6: weights row has 2 values, expected 3" },
};

START_TEST(parser_errors)
{
    const struct bad_case *b = &bad_cases[_i];
    char err[256] = "";
    xc__case_meta meta;
    xc__case *c = xc__casefile_parse(b->text, strlen(b->text), &meta, err,
                                     sizeof err);
    ck_assert_msg(c == NULL, "case %d parsed", _i);
    ck_assert_msg(strncmp(err, b->error, strlen(b->error)) == 0,
                  "case %d: got \"%s\", want \"%s...\"", _i, err, b->error);
}
END_TEST

START_TEST(ignore_index_label_accepted)
{
    xc__case *c = parse_ok(HEAD "ignore_index 7\nlabels 7 2\nlogits\n1 2 3\n"
                           "4 5 6\nend\n", NULL);
    ck_assert_int_eq(c->has_ignore_index, 1);
    ck_assert_int_eq(c->labels[0], 7);
    xc__case_free(c);
}
END_TEST

static void parse_quietly(const char *text, size_t len)
{
    char err[64];
    xc__case *c = xc__casefile_parse(text, len, NULL, err, sizeof err);
    xc__case_free(c);
}

/* Every prefix and many byte substitutions of a valid file: no crash, no
 * leak, no read past LEN (the buffer is an exact-size copy). */
START_TEST(hostile_input_never_crashes)
{
    static const char subst[] = { '\0', '\n', ' ', '#', '-', '9', 'x', '(',
                                  '\r', '\xff', 'e', 'p' };
    xc__case_meta meta = { "xc.f64.shifted", "reference_grad" };
    xc__case *c = f64_case();
    char *text = print_case(c, &meta);
    size_t len = strlen(text);
    for (size_t n = 0; n <= len; n++) {
        char *copy = malloc(n ? n : 1);
        memcpy(copy, text, n);
        parse_quietly(copy, n);
        free(copy);
    }
    char *copy = malloc(len);
    for (size_t i = 0; i < len; i++) {
        for (size_t s = 0; s < sizeof subst; s++) {
            memcpy(copy, text, len);
            copy[i] = subst[s];
            parse_quietly(copy, len);
        }
    }
    free(copy);
    free(text);
    xc__case_free(c);
    parse_quietly(NULL, 0);
}
END_TEST

START_TEST(random_garbage_never_crashes)
{
    unsigned state = 12345;
    char buf[256];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)(iter % (int)sizeof buf);
        for (size_t i = 0; i < n; i++) {
            state = state * 1103515245u + 12345u;
            buf[i] = (char)(state >> 16);
        }
        if (n > 20 && iter % 2)
            memcpy(buf, "xentcheck-case 1\n", 17);
        parse_quietly(buf, n);
    }
}
END_TEST

static Suite *casefile_suite(void)
{
    Suite *s = suite_create("casefile");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, round_trip_f64);
    tcase_add_test(tc, round_trip_f32);
    tcase_add_test(tc, writer_spells_values);
    tcase_add_test(tc, decimals_round_to_dtype);
    tcase_add_test(tc, comments_blanks_crlf);
    tcase_add_test(tc, atomic_write_and_read);
    tcase_add_test(tc, read_errors_name_path);
    tcase_add_loop_test(tc, parser_errors, 0,
                        (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, ignore_index_label_accepted);
    tcase_add_test(tc, hostile_input_never_crashes);
    tcase_add_test(tc, random_garbage_never_crashes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(casefile_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
