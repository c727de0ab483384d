/* Rejected: a shared object without the xentcheck_targets symbol (a typo
 * in the export). */
#include "plugin_common.h"

static const xc_target table[] = {
    {
        .abi_version = XC_ABI_VERSION,
        .name = "test.bad.nosymbol",
        .summary = TEST_SUMMARY,
        .dtype = XC_F64,
        .caps = XC_CAP_INDEX_LABELS,
        .grad = refuse_grad,
    },
};

const xc_target *xentcheck_target(size_t *count);

const xc_target *xentcheck_target(size_t *count)
{
    *count = 1;
    return table;
}
