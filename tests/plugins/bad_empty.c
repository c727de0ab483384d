/* Rejected: the table is non-NULL but its count is 0. */
#include "plugin_common.h"

static const xc_target table[1] = {
    {
        .abi_version = XC_ABI_VERSION,
        .name = "test.bad.empty",
        .summary = TEST_SUMMARY,
        .dtype = XC_F64,
        .caps = XC_CAP_INDEX_LABELS,
        .grad = refuse_grad,
    },
};

const xc_target *xentcheck_targets(size_t *count)
{
    *count = 0;
    return table;
}
