/* Rejected: two targets of one plugin share a name. */
#include "plugin_common.h"

static const xc_target table[] = {
    {
        .abi_version = XC_ABI_VERSION,
        .name = "test.bad.twice",
        .summary = TEST_SUMMARY,
        .dtype = XC_F64,
        .caps = XC_CAP_INDEX_LABELS,
        .grad = refuse_grad,
        .loss = NULL,
    },
    {
        .abi_version = XC_ABI_VERSION,
        .name = "test.bad.twice",
        .summary = TEST_SUMMARY,
        .dtype = XC_F32,
        .caps = XC_CAP_INDEX_LABELS,
        .grad = refuse_grad,
    },
};

const xc_target *xentcheck_targets(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}
