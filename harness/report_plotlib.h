/* The charting libraries that index.html embeds: d3 and Observable Plot
 * (both ISC), installed at build time by `npm ci` from
 * harness/report_assets/package-lock.json and turned into a generated data
 * file that report_plotlib.c includes (report_assets/plotlib.cmake). The
 * arrays are static data of the binary: nobody frees them.
 */
#ifndef XC_HARNESS_REPORT_PLOTLIB_H
#define XC_HARNESS_REPORT_PLOTLIB_H

#include <stddef.h>

typedef struct xc__plotlib_file {
    const char *name;            /* npm package, e.g. "@observablehq/plot" */
    const char *version;         /* as installed, e.g. "0.6.17" */
    const unsigned char *js;     /* the package's minified browser bundle */
    size_t js_len;
    const unsigned char *license;  /* the package's LICENSE file */
    size_t license_len;
} xc__plotlib_file;

/* In load order (d3 first: Plot's bundle uses the global d3). Zero files
 * when the build did not embed them (XC_HTML_PLOTS=OFF, or plotlib.cmake
 * not included). */
extern const xc__plotlib_file xc__plotlib_files[];
extern const size_t xc__plotlib_nfiles;

#endif
