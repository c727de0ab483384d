/* Rejected as a whole: a valid first target, then one with a NULL
 * summary; the valid one must not be registered either. */
#include "plugin_common.h"

static const xc_target table[] = {
    {
        .abi_version = XC_ABI_VERSION,
        .name = "test.bad.first_ok",
        .summary = TEST_SUMMARY,
        .dtype = XC_F64,
        .caps = XC_CAP_INDEX_LABELS,
        .grad = refuse_grad,
        .loss = NULL,
    },
    {
        .abi_version = XC_ABI_VERSION,
        .name = "test.bad.second",
        .summary = NULL,
        .dtype = XC_F64,
        .caps = XC_CAP_INDEX_LABELS,
        .grad = refuse_grad,
    },
};

const xc_target *xentcheck_targets(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}
