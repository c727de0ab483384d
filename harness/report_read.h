/* Reading report.json back into the model (for `xentcheck report render`
 * and `report merge`), and merging the reports of shards of one run.
 *
 * The reader is strict: every field the writer always emits must be there
 * with its type; an error names the file, the field ("targets[1].cases")
 * and what is wrong. Derived fields (accuracy.h_bands) are not read: the
 * writers recompute them from the samples.
 */
#ifndef XC_HARNESS_REPORT_READ_H
#define XC_HARNESS_REPORT_READ_H

#include <stddef.h>

#include "report.h"

/* Parse TEXT, the contents of a report.json called NAME in messages, into
 * OUT (the caller frees it with xc__run_report_free, also after an error).
 * 0 on success, -1 with the reason in ERR. */
int xc__report_parse(const char *text, const char *name, xc__run_report *out,
                     char *err, size_t errlen);

/* The same for the file PATH. */
int xc__report_read_file(const char *path, xc__run_report *out, char *err,
                         size_t errlen);

/* Merge the N reports IN, shards of one run over disjoint sets of cases
 * (same seed, tool version and requested cases), into OUT: targets matched
 * by name in order of first appearance; cases, property evaluations and
 * timings summed; samples in case order; per property the failure of the
 * earliest case; statistics recomputed. OUT equals the report of the
 * unsharded run apart from timings. The caller frees OUT, also after an
 * error. 0 on success, -1 with the reason in ERR (conflicting shards,
 * overlapping cases, out of memory). */
int xc__report_merge(const xc__run_report *in, size_t n, xc__run_report *out,
                     char *err, size_t errlen);

#endif
