/* The table of embedded charting libraries (report_plotlib.h). The data
 * comes from a file generated at build time (report_assets/plotlib.cmake
 * defines XC_PLOTLIB_DATA as its path); a build without it has no
 * libraries, and index.html then says that its plots are missing. */
#include "report_plotlib.h"

#ifdef XC_PLOTLIB_DATA
#include XC_PLOTLIB_DATA
#else
const xc__plotlib_file xc__plotlib_files[1] = { { 0 } };
const size_t xc__plotlib_nfiles = 0;
#endif
