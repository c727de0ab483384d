/* Internal to the SLEEF adapter: its softmax kernels, one per vector
 * extension and dtype (sleef_kernel.h), each a xc__softmax_*_fn. */
#ifndef XC_TARGETS_LIB_SLEEF_KERNELS_H
#define XC_TARGETS_LIB_SLEEF_KERNELS_H

#include <stddef.h>

int xc__sleef_softmax_f32_sse2(const float *z, size_t n, float *out);
int xc__sleef_softmax_f64_sse2(const double *z, size_t n, double *out);
int xc__sleef_softmax_f32_avx2(const float *z, size_t n, float *out);
int xc__sleef_softmax_f64_avx2(const double *z, size_t n, double *out);
int xc__sleef_softmax_f32_avx512(const float *z, size_t n, float *out);
int xc__sleef_softmax_f64_avx512(const double *z, size_t n, double *out);

#endif
