/* The SLEEF kernels for sse2 (baseline x86-64, no -m flag; cmake/libraries.cmake):
 * Sleef_expf4_u10sse2 and Sleef_expd2_u10sse2. sleef.c calls them only on a CPU
 * with the extension. */
#include <sleef.h>

#define SK_T float
#define SK_V __m128
#define SK_EXP Sleef_expf4_u10sse2
#define SK_FN(f) f##_f32_sse2
#include "sleef_kernel.h"

#define SK_T double
#define SK_V __m128d
#define SK_EXP Sleef_expd2_u10sse2
#define SK_FN(f) f##_f64_sse2
#include "sleef_kernel.h"
