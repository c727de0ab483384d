/* Rejected: abi_version 2 (this harness speaks ABI 1). */
#include "plugin_common.h"

static const xc_target table[] = {
    {
        .abi_version = 2u,
        .name = "test.bad.abi",
        .summary = TEST_SUMMARY,
        .dtype = XC_F64,
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
