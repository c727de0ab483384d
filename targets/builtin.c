/* The built-in targets: one plain table. */
#include "registry.h"
#include "xent.h"

static const xc_target builtin[] = {
    {
        .abi_version = XC_ABI_VERSION,
        .name = "xc.f64.shifted",
        .summary = "f64 max-shifted softmax exp(z - max) / sum, plain C "
                   "(libm exp/log), recursive sums; xentcheck " XC_VERSION_STRING,
        .dtype = XC_F64,
        .caps = XC_CAPS_ALL_V1,
        .max_classes = 0,
        .grad = xc__f64_shifted_grad,
        .loss = xc__xent_loss_f64,
    },
    {
        .abi_version = XC_ABI_VERSION,
        .name = "xc.f32.shifted",
        .summary = "f32 max-shifted softmax expf(z - max) / sum, plain C "
                   "(libm expf/logf), recursive float sums; xentcheck " XC_VERSION_STRING,
        .dtype = XC_F32,
        .caps = XC_CAPS_ALL_V1,
        .max_classes = 0,
        .grad = xc__f32_shifted_grad,
        .loss = xc__xent_loss_f32,
    },
    {
        .abi_version = XC_ABI_VERSION,
        .name = "xc.f32.logsoftmax",
        .summary = "f32 log-space softmax expf(z - logsumexp), plain C "
                   "(libm expf/logf), recursive float sums; xentcheck " XC_VERSION_STRING,
        .dtype = XC_F32,
        .caps = XC_CAPS_ALL_V1,
        .max_classes = 0,
        .grad = xc__f32_logsoftmax_grad,
        .loss = xc__xent_loss_f32,
    },
};

const xc_target *xc__builtin_targets(size_t *count)
{
    *count = sizeof builtin / sizeof builtin[0];
    return builtin;
}
