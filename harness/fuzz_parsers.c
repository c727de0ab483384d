/* xentcheck-fuzz-parsers: the harness's own readers must survive any input.
 *
 * Each input goes to the case-file parser, the report.json reader and to
 * the byte decoder (for an
 * f32 target with every cap and an f64 target with index labels only). A
 * parsed case file is printed and parsed again and must give the same bits;
 * a decoded case must be valid for its target and encode back to the same
 * logits. Any crash, sanitizer report or mismatch (abort) is a bug of the
 * harness: this target must find nothing.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes_case.h"
#include "casefile.h"
#include "report_read.h"

static int same_values(const double *a, const double *b, size_t n)
{
    return (!a && !b) || (a && b && memcmp(a, b, n * sizeof *a) == 0);
}

static int same_case(const xc__case *a, const xc__case *b)
{
    size_t v = a->batch * a->ld;
    return a->dtype == b->dtype && a->batch == b->batch && a->classes == b->classes &&
           a->ld == b->ld && a->reduction == b->reduction && a->label_kind == b->label_kind &&
           a->has_ignore_index == b->has_ignore_index && a->seed == b->seed &&
           a->index == b->index && same_values(a->logits, b->logits, v) &&
           same_values(a->probs, b->probs, v) && same_values(a->weights, b->weights, a->classes) &&
           ((!a->labels && !b->labels) ||
            memcmp(a->labels, b->labels, a->batch * sizeof *a->labels) == 0);
}

static void check_casefile(const uint8_t *data, size_t size)
{
    char err[256];
    xc__case_meta meta, meta2;
    xc__case *c = xc__casefile_parse((const char *)data, size, &meta, err, sizeof err);
    if (!c)
        return;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f) {
        xc__casefile_print(f, c, &meta);
        fclose(f);
        xc__case *d = xc__casefile_parse(text, len, &meta2, err, sizeof err);
        if (!d || !same_case(c, d) || strcmp(meta.target, meta2.target) != 0)
            abort();
        xc__case_free(d);
    }
    free(text);
    xc__case_free(c);
}

static int valid_for(const xc__case *c, const xc__bytes_config *cfg)
{
    if (xc__case_required_caps(c) & ~cfg->caps)
        return 0;
    for (size_t r = 0; c->labels && r < c->batch; r++)
        if (!xc__case_row_ignored(c, r) && (c->labels[r] < 0 ||
                                            c->labels[r] >= (int64_t)c->classes))
            return 0;
    return c->batch >= 1 && c->classes >= 1 && c->ld >= c->classes;
}

static void check_bytes(const uint8_t *data, size_t size, const xc__bytes_config *cfg)
{
    uint8_t buf[8192];
    xc__case *c = xc__bytes_to_case(data, size, cfg);
    if (!c)
        return;
    if (!valid_for(c, cfg))
        abort();
    size_t n = xc__case_to_bytes(c, cfg, buf, sizeof buf);
    if (n > 0 && n <= sizeof buf) {
        xc__case *d = xc__bytes_to_case(buf, n, cfg);
        if (!d || !same_values(c->logits, d->logits, c->batch * c->ld))
            abort();
        xc__case_free(d);
    }
    xc__case_free(c);
}

/* The reader takes NUL-terminated text: a copy of the input. */
static void check_report(const uint8_t *data, size_t size)
{
    char err[256];
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = 0;
    xc__run_report r;
    memset(&r, 0, sizeof r);
    xc__report_parse(text, "fuzz.json", &r, err, sizeof err);
    xc__run_report_free(&r);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const xc__bytes_config all = {.dtype = XC_F32, .caps = XC_CAPS_ALL_V1};
    static const xc__bytes_config few = {.dtype = XC_F64, .caps = XC_CAP_INDEX_LABELS,
                                         .max_classes = 5};
    check_casefile(data, size);
    check_report(data, size);
    check_bytes(data, size, &all);
    check_bytes(data, size, &few);
    return 0;
}
