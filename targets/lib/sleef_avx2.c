/* The SLEEF kernels for avx2 (-mavx2 -mfma; cmake/libraries.cmake):
 * Sleef_expf8_u10avx2 and Sleef_expd4_u10avx2. sleef.c calls them only on a CPU
 * with the extension. */
#include <sleef.h>

#define SK_T float
#define SK_V __m256
#define SK_EXP Sleef_expf8_u10avx2
#define SK_FN(f) f##_f32_avx2
#include "sleef_kernel.h"

#define SK_T double
#define SK_V __m256d
#define SK_EXP Sleef_expd4_u10avx2
#define SK_FN(f) f##_f64_avx2
#include "sleef_kernel.h"
