/* Case files: one documented, human-editable text format for a case, written
 * by `run` for each failure and read by `replay` (format in corpus/README.md).
 *
 *   # comments and blank lines are ignored
 *   xentcheck-case 1
 *   target xc.f32.shifted          (optional for replay: --target overrides)
 *   property reference_grad        (optional: the property that failed)
 *   seed 0x2a                      provenance: the run's seed ...
 *   index 17                       ... and the case index
 *   dtype f32 | f64
 *   batch N
 *   classes H
 *   ld LD
 *   reduction sum | mean
 *   ignore_index -100              (optional)
 *   labels 0 2 ...                 (N integers)  or a `probs` block
 *   weights                        (optional block: H values on following lines)
 *   logits                         block: N lines of H values
 *   probs                          block: N lines of H values
 *   end
 * Values are C99 hex floats (exact), or inf, -inf, nan; anything after '#'
 * on a line is a comment (the writer puts the decimal value there). Decimal
 * values are accepted on input too and rounded to the dtype.
 */
#ifndef XC_HARNESS_CASEFILE_H
#define XC_HARNESS_CASEFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "case.h"

typedef struct xc__case_meta {
    char target[128];    /* "" when absent */
    char property[64];   /* "" when absent */
} xc__case_meta;

/* Write C and META to STREAM in the format above. 0 on success. */
int xc__casefile_print(FILE *stream, const xc__case *c, const xc__case_meta *meta);

/* Write atomically to PATH (temporary name in the same directory, then
 * rename). 0 on success, else a reason in ERR. */
int xc__casefile_write(const char *path, const xc__case *c,
                       const xc__case_meta *meta, char *err, size_t errlen);

/* Parse TEXT (LEN bytes, need not be NUL-terminated). Returns a new case, or
 * NULL with "line L: reason" in ERR. Never crashes on any input. Sizes are
 * limited (batch * ld <= XC__CASEFILE_MAX_VALUES) so hostile input cannot
 * exhaust memory. */
#define XC__CASEFILE_MAX_VALUES ((size_t)1 << 26)
xc__case *xc__casefile_parse(const char *text, size_t len, xc__case_meta *meta,
                             char *err, size_t errlen);

/* Read and parse PATH; errors name the path. */
xc__case *xc__casefile_read(const char *path, xc__case_meta *meta, char *err,
                            size_t errlen);

#endif
