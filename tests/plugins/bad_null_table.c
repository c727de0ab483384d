/* Rejected: the table is NULL (with a non-zero count, to be sure the
 * pointer is what gets checked). */
#include "plugin_common.h"

const xc_target *xentcheck_targets(size_t *count)
{
    *count = 1;
    return NULL;
}
