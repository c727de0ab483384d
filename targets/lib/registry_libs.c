/* The real libraries' targets: the tables of the adapters built in
 * (XC_HAVE_<LIB>, cmake/libraries.cmake), concatenated once. */
#include "libs.h"

#include <string.h>

#define MAX_LIBRARY_TARGETS 64

typedef const xc_target *(*table_fn)(size_t *count);

static const table_fn tables[] = {
#ifdef XC_HAVE_SLEEF
    xc__sleef_targets,
#endif
#ifdef XC_HAVE_ONEDNN
    xc__onednn_targets,
#endif
#ifdef XC_HAVE_DLIB
    xc__dlib_targets,
#endif
#ifdef XC_HAVE_TINYDNN
    xc__tinydnn_targets,
#endif
#ifdef XC_HAVE_TORCH
    xc__torch_targets,
#endif
    NULL,
};

static xc_target all[MAX_LIBRARY_TARGETS];
static size_t nall;

static void collect(void)
{
    for (size_t i = 0; tables[i] != NULL; i++) {
        size_t n = 0;
        const xc_target *t = tables[i](&n);
        for (size_t j = 0; t != NULL && j < n && nall < MAX_LIBRARY_TARGETS; j++)
            all[nall++] = t[j];
    }
}

const xc_target *xc__library_targets(size_t *count)
{
    if (nall == 0)
        collect();
    *count = nall;
    return nall ? all : NULL;
}

void xc__library_prepare(const xc_target *t)
{
    (void)t;
#ifdef XC_HAVE_TORCH
    if (strncmp(t->name, "torch.", 6) == 0)
        xc__torch_prepare();
#endif
}
