/* The byte decoder of the fuzzer: any byte string gives a valid case within
 * the target's caps, deterministically; the encoder round-trips logits. */
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

#include "../harness/bytes_case.h"
#include "../harness/pcg32.h"

static const xc__bytes_config configs[] = {
    {.dtype = XC_F32, .caps = XC_CAPS_ALL_V1},
    {.dtype = XC_F64, .caps = XC_CAPS_ALL_V1},
    {.dtype = XC_F64, .caps = XC_CAP_INDEX_LABELS, .max_classes = 3},
    {.dtype = XC_F32, .caps = XC_CAP_PROB_LABELS | XC_CAP_BATCH | XC_CAP_MEAN},
    {.dtype = XC_F64, .caps = XC_CAPS_ALL_V1, .max_batch = 2, .max_h = 300},
    {.dtype = XC_F32, .caps = XC_CAPS_ALL_V1, .max_h = 16},
};
enum { NCONFIGS = sizeof configs / sizeof configs[0] };

static size_t limit(size_t v, size_t dflt)
{
    return v ? v : dflt;
}

static void check_labels(const xc__case *c)
{
    for (size_t r = 0; c->labels && r < c->batch; r++) {
        if (xc__case_row_ignored(c, r))
            continue;
        ck_assert_int_ge(c->labels[r], 0);
        ck_assert_int_lt(c->labels[r], (int64_t)c->classes);
        ck_assert(c->logits[r * c->ld + (size_t)c->labels[r]] != -INFINITY);
    }
    for (size_t i = 0; c->probs && i < c->batch * c->ld; i++)
        ck_assert(c->probs[i] >= 0 && isfinite(c->probs[i]));
    for (size_t k = 0; c->weights && k < c->classes; k++)
        ck_assert(c->weights[k] >= 0 && isfinite(c->weights[k]));
}

static void check_logits(const xc__case *c)
{
    for (size_t r = 0; r < c->batch; r++) {
        size_t masked = 0;
        for (size_t k = 0; k < c->classes; k++) {
            double z = c->logits[r * c->ld + k];
            ck_assert(!isnan(z) && z != INFINITY);
            ck_assert(c->dtype == XC_F64 || (double)(float)z == z);
            masked += z == -INFINITY;
        }
        ck_assert_uint_lt(masked, c->classes);
        for (size_t k = c->classes; k < c->ld; k++)
            ck_assert(c->logits[r * c->ld + k] == 0);
    }
}

/* C is what a target with CFG may receive. */
static void check_valid(const xc__case *c, const xc__bytes_config *cfg)
{
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->dtype, cfg->dtype);
    ck_assert_uint_eq(xc__case_required_caps(c) & ~cfg->caps, 0);
    ck_assert_uint_ge(c->batch, 1);
    ck_assert_uint_le(c->batch, limit(cfg->max_batch, XC__BYTES_MAX_BATCH));
    ck_assert_uint_ge(c->classes, 1);
    ck_assert_uint_le(c->classes, limit(cfg->max_h, XC__BYTES_MAX_H));
    if (cfg->max_classes)
        ck_assert_uint_le(c->classes, cfg->max_classes);
    ck_assert_uint_ge(c->ld, c->classes);
    check_labels(c);
    check_logits(c);
}

static uint8_t *random_bytes(xc__pcg32 *g, size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)xc__pcg32_next(g);
    return b;
}

START_TEST(empty_input_decodes)
{
    for (int i = 0; i < NCONFIGS; i++) {
        xc__case *c = xc__bytes_to_case(NULL, 0, &configs[i]);
        check_valid(c, &configs[i]);
        ck_assert_uint_eq(c->batch, 1);
        ck_assert_uint_eq(c->classes, 1);
        xc__case_free(c);
    }
}
END_TEST

START_TEST(random_input_is_valid)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, 7, 11);
    for (int n = 0; n < 3000; n++) {
        size_t len = xc__pcg32_below(&g, n < 2000 ? 64 : 4096);
        uint8_t *b = random_bytes(&g, len);
        const xc__bytes_config *cfg = &configs[n % NCONFIGS];
        xc__case *c = xc__bytes_to_case(b, len, cfg);
        check_valid(c, cfg);
        xc__case_free(c);
        free(b);
    }
}
END_TEST

START_TEST(huge_input_is_bounded)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, 3, 5);
    size_t len = (size_t)1 << 22;
    uint8_t *b = random_bytes(&g, len);
    memset(b, 0xff, 4);
    for (int i = 0; i < NCONFIGS; i++) {
        xc__case *c = xc__bytes_to_case(b, len, &configs[i]);
        check_valid(c, &configs[i]);
        xc__case_free(c);
    }
    free(b);
}
END_TEST

static int same_case(const xc__case *a, const xc__case *b)
{
    size_t v = a->batch * a->ld;
    return a->batch == b->batch && a->classes == b->classes && a->ld == b->ld &&
           a->seed == b->seed && a->reduction == b->reduction &&
           memcmp(a->logits, b->logits, v * sizeof(double)) == 0 &&
           (!a->probs || memcmp(a->probs, b->probs, v * sizeof(double)) == 0) &&
           (!a->labels || memcmp(a->labels, b->labels, a->batch * sizeof(int64_t)) == 0);
}

START_TEST(decoding_is_deterministic)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, 99, 1);
    for (int n = 0; n < 500; n++) {
        size_t len = xc__pcg32_below(&g, 300);
        uint8_t *b = random_bytes(&g, len);
        const xc__bytes_config *cfg = &configs[n % NCONFIGS];
        xc__case *c = xc__bytes_to_case(b, len, cfg);
        xc__case *d = xc__bytes_to_case(b, len, cfg);
        ck_assert(same_case(c, d));
        xc__case_free(c);
        xc__case_free(d);
        free(b);
    }
}
END_TEST

START_TEST(encoding_round_trips_logits)
{
    xc__pcg32 g;
    xc__pcg32_seed(&g, 5, 5);
    uint8_t buf[8192];
    for (int n = 0; n < 1000; n++) {
        size_t len = xc__pcg32_below(&g, 400);
        uint8_t *b = random_bytes(&g, len);
        const xc__bytes_config *cfg = &configs[n % NCONFIGS];
        xc__case *c = xc__bytes_to_case(b, len, cfg);
        size_t m = xc__case_to_bytes(c, cfg, buf, sizeof buf);
        if (c->classes > 128) { /* beyond one label byte: not encodable */
            ck_assert_uint_eq(m, 0);
            xc__case_free(c);
            free(b);
            continue;
        }
        ck_assert_uint_gt(m, 0);
        ck_assert_uint_le(m, sizeof buf);
        xc__case *d = xc__bytes_to_case(buf, m, cfg);
        ck_assert(memcmp(c->logits, d->logits, c->batch * c->ld * sizeof(double)) == 0);
        ck_assert_uint_eq(c->label_kind, d->label_kind);
        ck_assert(!c->labels || memcmp(c->labels, d->labels, c->batch * sizeof(int64_t)) == 0);
        xc__case_free(c);
        xc__case_free(d);
        free(b);
    }
}
END_TEST

START_TEST(specials_reach_the_edges)
{
    /* header: N=1, H=3; index label 0; logits: overflow tag, -inf tag, tie */
    const uint8_t f32[] = {0, 2, 0, 0, 0, 0x07, 0x05, 0xa0};
    xc__case *c = xc__bytes_to_case(f32, sizeof f32, &configs[0]);
    ck_assert(c->logits[0] == (double)88.72283935546875f);
    ck_assert(c->logits[1] == -INFINITY);
    ck_assert(c->logits[2] == -INFINITY);
    xc__case_free(c);
    const uint8_t f64[] = {0, 1, 0, 0, 1, 0xe0, 0x49, 0x80, 0x07};
    c = xc__bytes_to_case(f64, sizeof f64, &configs[1]);
    ck_assert(c->logits[0] == 768.0);
    ck_assert(c->logits[1] == 709.782712893384);
    xc__case_free(c);
}
END_TEST

/* XENTCHECK_FUZZ_MAX_H sets max_h, and only a class count in range is
 * taken; unset or refused, the configuration is left as it was. */
START_TEST(max_h_from_environment)
{
    static const char *const bad[] = {"0", "129", "-3", "+4", "16x", "", "abc", " 16",
                                      "99999999999999999999999"};
    char err[256];
    xc__bytes_config cfg = {.dtype = XC_F32, .caps = XC_CAPS_ALL_V1};
    unsetenv("XENTCHECK_FUZZ_MAX_H");
    ck_assert_int_eq(xc__bytes_config_env(&cfg, err, sizeof err), 0);
    ck_assert_uint_eq(cfg.max_h, 0);
    setenv("XENTCHECK_FUZZ_MAX_H", "16", 1);
    ck_assert_int_eq(xc__bytes_config_env(&cfg, err, sizeof err), 0);
    ck_assert_uint_eq(cfg.max_h, 16);
    setenv("XENTCHECK_FUZZ_MAX_H", "128", 1);
    ck_assert_int_eq(xc__bytes_config_env(&cfg, err, sizeof err), 0);
    ck_assert_uint_eq(cfg.max_h, 128);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        setenv("XENTCHECK_FUZZ_MAX_H", bad[i], 1);
        err[0] = 0;
        ck_assert_int_eq(xc__bytes_config_env(&cfg, err, sizeof err), -1);
        ck_assert_msg(strstr(err, "XENTCHECK_FUZZ_MAX_H"), "'%s': %s", bad[i], err);
        ck_assert_uint_eq(cfg.max_h, 128);
    }
    unsetenv("XENTCHECK_FUZZ_MAX_H");
}
END_TEST

/* Every byte seed in corpus/seeds decodes validly for every config. */
START_TEST(byte_seeds_decode)
{
    char dir[4096], path[8192];
    snprintf(dir, sizeof dir, "%s/corpus/seeds", XC_TEST_SOURCE_DIR);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    size_t seen = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 4 || strcmp(e->d_name + n - 4, ".bin") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        ck_assert_ptr_nonnull(f);
        uint8_t buf[65536];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        for (int i = 0; i < NCONFIGS; i++) {
            xc__case *c = xc__bytes_to_case(buf, len, &configs[i]);
            check_valid(c, &configs[i]);
            xc__case_free(c);
        }
        seen++;
    }
    closedir(d);
    ck_assert_uint_gt(seen, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fuzz_decode");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, empty_input_decodes);
    tcase_add_test(tc, random_input_is_valid);
    tcase_add_test(tc, huge_input_is_bounded);
    tcase_add_test(tc, decoding_is_deterministic);
    tcase_add_test(tc, encoding_round_trips_logits);
    tcase_add_test(tc, specials_reach_the_edges);
    tcase_add_test(tc, max_h_from_environment);
    tcase_add_test(tc, byte_seeds_decode);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
