/* Rejected: dtype 7 is neither XC_F32 nor XC_F64. */
#include "plugin_common.h"

static const xc_target table[] = {
    {
        .abi_version = XC_ABI_VERSION,
        .name = "test.bad.dtype",
        .summary = TEST_SUMMARY,
        .dtype = (xc_dtype)7,
        .caps = XC_CAP_INDEX_LABELS,
        .grad = refuse_grad,
        .loss = NULL,
    },
};

const xc_target *xentcheck_targets(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}
