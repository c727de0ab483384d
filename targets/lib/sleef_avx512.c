/* The SLEEF kernels for avx512 (-mavx512f; cmake/libraries.cmake):
 * Sleef_expf16_u10avx512f and Sleef_expd8_u10avx512f. sleef.c calls them only on a CPU
 * with the extension. */
#include <sleef.h>

#define SK_T float
#define SK_V __m512
#define SK_EXP Sleef_expf16_u10avx512f
#define SK_FN(f) f##_f32_avx512
#include "sleef_kernel.h"

#define SK_T double
#define SK_V __m512d
#define SK_EXP Sleef_expd8_u10avx512f
#define SK_FN(f) f##_f64_avx512
#include "sleef_kernel.h"
