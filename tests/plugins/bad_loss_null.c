/* Rejected: XC_CAP_LOSS declared but loss is NULL. */
#include "plugin_common.h"

static const xc_target table[] = {
    {
        .abi_version = XC_ABI_VERSION,
        .name = "test.bad.lossnull",
        .summary = TEST_SUMMARY,
        .dtype = XC_F64,
        .caps = XC_CAP_INDEX_LABELS | XC_CAP_LOSS,
        .grad = refuse_grad,
        .loss = NULL,
    },
};

const xc_target *xentcheck_targets(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}
