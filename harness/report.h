/* The result of a run, and the writers that turn it into reports.
 *
 * One model feeds every writer (json, junit, md, html); each writer is its own
 * file. All writers produce the same bytes for the same model, except what
 * lives in xc__timing (wall time), which the JSON keeps in its own "timing"
 * section. Every file is written to a temporary name in DIR and renamed.
 */
#ifndef XC_HARNESS_REPORT_H
#define XC_HARNESS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "xentcheck/target.h"

#define XC__REPORT_SCHEMA "xentcheck-report"
#define XC__REPORT_SCHEMA_VERSION 1

typedef struct xc__failure {
    char *property;     /* e.g. "reference_grad" */
    char *message;      /* multi-line: case summary, expected vs actual (hex) */
    char *case_file;    /* path of the saved case file, relative to the report dir's parent or absolute */
    char *replay;       /* one-line command reproducing the failure */
    uint64_t seed;
    uint64_t case_index;
} xc__failure;

/* Distribution of the scaled gradient error (units of the dtype's u relative
 * to the element's scale, see tolerance.h), and of error/bound. */
typedef struct xc__accuracy {
    size_t count;            /* elements measured */
    double max_scaled;       /* worst scaled error, u */
    double p50, p90, p99;    /* percentiles of the per-case worst scaled error */
    double max_ratio;        /* worst error / bound (pass iff <= 1) */
    size_t worst_classes;    /* H of the case with the worst scaled error */
    uint64_t worst_case;     /* its index */
} xc__accuracy;

/* One checked case: what the accuracy plots and per-band statistics need. */
typedef struct xc__sample {
    uint32_t classes;        /* H */
    uint32_t batch;          /* N */
    float logit_range;       /* largest |z_k - M| over finite logits of the case */
    float logit_max;         /* largest |z| over finite logits */
    float worst_scaled;      /* worst scaled gradient error, u */
    float worst_ratio;       /* worst error / bound */
    uint64_t case_index;     /* the case's index: merge restores case order */
} xc__sample;

typedef struct xc__timing {
    double seconds;
} xc__timing;

typedef struct xc__target_report {
    char *name;
    char *summary;
    char *origin;            /* "builtin", "mutant", plugin path */
    xc_dtype dtype;
    uint32_t caps;
    int pass;                /* verdict */
    size_t cases;            /* cases checked */
    size_t properties_run;   /* property evaluations */
    int stopped_early;       /* budget (time) ended the run before --cases */
    char **properties;       /* names of the properties evaluated, sorted */
    size_t nproperties;
    xc__failure *failures;
    size_t nfailures;
    xc__accuracy accuracy;
    xc__sample *samples;     /* one per case whose base gradient was compared */
    size_t nsamples;
    /* Known finding (a genuine defect of a real library, documented): the
     * reason, and the properties expected to fail; NULL / 0 when none.
     * expected_ok: the target failed exactly these properties. */
    char *finding;
    char **expected;
    size_t nexpected;
    int expected_ok;
    xc__timing timing;
} xc__target_report;

/* Frees what T owns (not T) and leaves it empty. */
void xc__target_report_free(xc__target_report *t);

typedef struct xc__run_report {
    char *tool_version;
    uint64_t seed;
    size_t cases_requested;
    xc__target_report *targets;
    size_t ntargets;
    xc__timing timing;
} xc__run_report;

void xc__run_report_free(xc__run_report *r);

/* Format list "json,junit,md,html" -> bit set; -1 on an unknown name. */
enum { XC__FMT_JSON = 1, XC__FMT_JUNIT = 2, XC__FMT_MD = 4, XC__FMT_HTML = 8 };
int xc__report_formats_parse(const char *list);

/* Write the requested formats into DIR (created if missing). 0 on success,
 * else a reason in ERR. */
int xc__report_write_all(const xc__run_report *r, const char *dir, int formats,
                         char *err, size_t errlen);

/* Individual writers: each returns a malloc'd NUL-terminated document. */
char *xc__report_json(const xc__run_report *r);
char *xc__report_junit(const xc__run_report *r);
char *xc__report_markdown(const xc__run_report *r);
char *xc__report_html(const xc__run_report *r);

/* Write LEN bytes to PATH atomically (PATH.tmp.PID then rename). */
int xc__write_file_atomic(const char *path, const char *data, size_t len,
                          char *err, size_t errlen);

#endif
