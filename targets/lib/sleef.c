/* SLEEF 3.5 targets: vectorised max-shifted softmax on SLEEF's 1-ulp exp,
 * on the widest vector extension the CPU has, chosen at run time.
 *
 * SLEEF's own dispatchers (Sleef_expf8_u10, ...) choose among variants of
 * one width only; the width is the caller's choice. So each width is
 * compiled in its own file with its -m flags, and this file picks one with
 * __builtin_cpu_supports. XC_SLEEF_ISA=sse2|avx2|avx512 in the environment
 * picks a narrower one (tests check every path); never one the CPU lacks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sleef.h>

#include "libs.h"
#include "sleef_adapter.h"
#include "sleef_kernels.h"

typedef enum isa { ISA_SSE2, ISA_AVX2, ISA_AVX512 } isa;

static const char *const isa_names[] = { "sse2", "avx2", "avx512" };

static isa cpu_isa(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return ISA_AVX2;
    return ISA_SSE2;
}

/* The CPU's widest, or the narrower one XC_SLEEF_ISA asks for. */
static isa chosen_isa(void)
{
    isa best = cpu_isa();
    const char *want = getenv("XC_SLEEF_ISA");
    for (int i = 0; want != NULL && i <= (int)best; i++)
        if (strcmp(want, isa_names[i]) == 0)
            return (isa)i;
    return best;
}

xc__softmax_f32_fn xc__sleef_kernel_f32(void)
{
    static const xc__softmax_f32_fn k[] = { xc__sleef_softmax_f32_sse2,
                                            xc__sleef_softmax_f32_avx2,
                                            xc__sleef_softmax_f32_avx512 };
    return k[chosen_isa()];
}

xc__softmax_f64_fn xc__sleef_kernel_f64(void)
{
    static const xc__softmax_f64_fn k[] = { xc__sleef_softmax_f64_sse2,
                                            xc__sleef_softmax_f64_avx2,
                                            xc__sleef_softmax_f64_avx512 };
    return k[chosen_isa()];
}

static char summary_f32[200], summary_f64[200];

static xc_target targets[] = {
    {
        .abi_version = XC_ABI_VERSION,
        .name = "sleef.f32.shifted",
        .summary = summary_f32,
        .dtype = XC_F32,
        .caps = XC_CAPS_ALL_V1,
        .grad = xc__sleef_grad_f32,
        .loss = xc__sleef_loss_f32,
    },
    {
        .abi_version = XC_ABI_VERSION,
        .name = "sleef.f64.shifted",
        .summary = summary_f64,
        .dtype = XC_F64,
        .caps = XC_CAPS_ALL_V1,
        .grad = xc__sleef_grad_f64,
        .loss = xc__sleef_loss_f64,
    },
};

static void describe(char *buf, size_t len, const char *dtype, const char *fn)
{
    snprintf(buf, len, "SLEEF %d.%d.%d %s vectorised max-shifted softmax %s(z - max) "
             "/ lane sums, widest extension at run time (here %s); loss on "
             "scalar u10 exp/log", SLEEF_VERSION_MAJOR,
             SLEEF_VERSION_MINOR, SLEEF_VERSION_PATCHLEVEL, dtype, fn, isa_names[chosen_isa()]);
}

const xc_target *xc__sleef_targets(size_t *count)
{
    describe(summary_f32, sizeof summary_f32, "f32", "Sleef_expf*_u10");
    describe(summary_f64, sizeof summary_f64, "f64", "Sleef_expd*_u10");
    *count = sizeof targets / sizeof targets[0];
    return targets;
}
