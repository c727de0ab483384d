/* mutant.sum_bf16: an f32 softmax whose running sum is rounded to bfloat16
 * (8-bit significand) after every addition, as in a mixed-precision kernel
 * that keeps its accumulator in the storage type. */
#include "mutants.h"

#include <math.h>
#include <string.h>

/* Round X to the nearest bfloat16 (ties to even), kept as a float. */
static float round_bf16(float x)
{
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    if ((bits & 0x7f800000u) == 0x7f800000u)
        return x;
    bits += 0x7fffu + ((bits >> 16) & 1u);
    bits &= 0xffff0000u;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static int softmax_bf16_sum(const float *z, size_t n, float *out)
{
    float m = xc__row_max_f32(z, n);
    if (m == -INFINITY)
        return 1;
    float s = 0;
    for (size_t k = 0; k < n; k++) {
        out[k] = expf(z[k] - m);
        s = round_bf16(s + out[k]);
    }
    for (size_t k = 0; k < n; k++)
        out[k] /= s;
    return 0;
}

int xc__mut_sum_bf16_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    return xc__xent_grad_f32(p, grad, softmax_bf16_sum);
}
