/* Rejected: cap bit 1 << 12 is unknown to ABI v1. */
#include "plugin_common.h"

static const xc_target table[] = {
    {
        .abi_version = XC_ABI_VERSION,
        .name = "test.bad.caps",
        .summary = TEST_SUMMARY,
        .dtype = XC_F64,
        .caps = XC_CAP_INDEX_LABELS | (1u << 12),
        .grad = refuse_grad,
        .loss = NULL,
    },
};

const xc_target *xentcheck_targets(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}
