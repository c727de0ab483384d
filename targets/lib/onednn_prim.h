/* Internal to the oneDNN adapter: oneDNN's log-softmax primitive (softmax
 * v2, dnnl_softmax_log, f32, CPU engine) on N rows of H values, ld elements
 * apart (a strided memory descriptor {ld, 1}). */
#ifndef XC_TARGETS_LIB_ONEDNN_PRIM_H
#define XC_TARGETS_LIB_ONEDNN_PRIM_H

#include <stddef.h>

typedef struct xc__dnnl_shape {
    size_t batch, classes, ld;
} xc__dnnl_shape;

/* Forward: DST = log_softmax(SRC) row by row. 0 or -1 (oneDNN error). */
int xc__dnnl_logsoftmax_fwd(const xc__dnnl_shape *s, const float *src, float *dst);

/* Backward of log-softmax: DIFF_SRC = DIFF_DST - exp(DST) sum(DIFF_DST),
 * row by row. 0 or -1. */
int xc__dnnl_logsoftmax_bwd(const xc__dnnl_shape *s, const float *dst,
                            const float *diff_dst, float *diff_src);

/* "2.6.3" etc.: the library's run-time version. */
const char *xc__dnnl_version(void);

#endif
