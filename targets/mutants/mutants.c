/* Mutants: deliberately broken targets that the harness must catch. They
 * live apart from the real targets and are listed only when asked for; the
 * table is empty until the mutants arrive. */
#include "registry.h"

const xc_target *xc__mutant_targets(size_t *count)
{
    *count = 0;
    return NULL;
}
