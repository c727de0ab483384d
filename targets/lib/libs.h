/* Internal to targets/lib/: the adapters to real libraries.
 *
 * Each adapter exports one table of targets; an adapter is compiled only
 * when CMake found its library (cmake/libraries.cmake, XC_HAVE_<LIB>).
 * registry_libs.c concatenates the tables of the adapters built in.
 */
#ifndef XC_TARGETS_LIB_LIBS_H
#define XC_TARGETS_LIB_LIBS_H

#include <stddef.h>

#include "xentcheck/target.h"

#ifdef __cplusplus
extern "C" {
#endif

const xc_target *xc__sleef_targets(size_t *count);
const xc_target *xc__onednn_targets(size_t *count);
const xc_target *xc__dlib_targets(size_t *count);
const xc_target *xc__tinydnn_targets(size_t *count);
const xc_target *xc__torch_targets(size_t *count);

/* Load the libtorch module now (torch_lazy.c), in the process that will
 * fork the workers. */
void xc__torch_prepare(void);

/* Every available adapter's targets, in the order above. The table is
 * built on the first call and lives until exit. */
const xc_target *xc__library_targets(size_t *count);

#ifdef __cplusplus
}
#endif

#endif
