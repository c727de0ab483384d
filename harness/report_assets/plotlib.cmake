# The charting libraries of index.html: d3 and Observable Plot (ISC), pinned
# by package-lock.json beside this file, installed with `npm ci` into the
# build tree and turned into a data file (embed.cmake) that
# harness/report_plotlib.c includes, so that the tool writes a
# self-contained page at run time.
#
# Include this file from the top-level CMakeLists.txt after xentcheck_core
# is defined. XC_HTML_PLOTS=OFF builds without npm; the page then has the
# tables and failures but no plots (and the html tests fail, loudly).
option(XC_HTML_PLOTS "Embed d3 and Observable Plot (npm) for the plots of index.html" ON)

if(XC_HTML_PLOTS)
  find_program(XC_NPM npm)
  if(NOT XC_NPM)
    message(FATAL_ERROR "npm not found: index.html embeds d3 and Observable "
      "Plot from the npm registry. Install Node.js and npm, or configure with "
      "-DXC_HTML_PLOTS=OFF for a page without plots.")
  endif()
  set(XC_PLOTLIB_DIR "${CMAKE_CURRENT_LIST_DIR}")
  set(XC_PLOTLIB_WORK "${PROJECT_BINARY_DIR}/report_assets")
  set(XC_PLOTLIB_DATA "${XC_PLOTLIB_WORK}/report_plotlib_data.h")
  file(MAKE_DIRECTORY "${XC_PLOTLIB_WORK}")
  # npm ci writes node_modules/.package-lock.json last: it marks a complete
  # install of exactly the locked versions.
  set(XC_PLOTLIB_STAMP "${XC_PLOTLIB_WORK}/node_modules/.package-lock.json")
  add_custom_command(OUTPUT "${XC_PLOTLIB_STAMP}"
    COMMAND "${CMAKE_COMMAND}" -E copy "${XC_PLOTLIB_DIR}/package.json"
      "${XC_PLOTLIB_DIR}/package-lock.json" "${XC_PLOTLIB_WORK}"
    COMMAND "${XC_NPM}" ci --ignore-scripts --no-audit --no-fund --prefer-offline
    WORKING_DIRECTORY "${XC_PLOTLIB_WORK}"
    DEPENDS "${XC_PLOTLIB_DIR}/package.json" "${XC_PLOTLIB_DIR}/package-lock.json"
    COMMENT "Installing the charting libraries of index.html (npm ci)"
    VERBATIM)
  add_custom_command(OUTPUT "${XC_PLOTLIB_DATA}"
    COMMAND "${CMAKE_COMMAND}" "-DMODULES=${XC_PLOTLIB_WORK}/node_modules"
      "-DOUT=${XC_PLOTLIB_DATA}" -P "${XC_PLOTLIB_DIR}/embed.cmake"
    DEPENDS "${XC_PLOTLIB_STAMP}" "${XC_PLOTLIB_DIR}/embed.cmake"
    COMMENT "Embedding d3 and Observable Plot for index.html"
    VERBATIM)
  # Listing the generated file among the sources ties its rule to the target.
  target_sources(xentcheck_core PRIVATE "${XC_PLOTLIB_DATA}")
  set_source_files_properties("${PROJECT_SOURCE_DIR}/harness/report_plotlib.c"
    PROPERTIES COMPILE_DEFINITIONS "XC_PLOTLIB_DATA=\"${XC_PLOTLIB_DATA}\""
    OBJECT_DEPENDS "${XC_PLOTLIB_DATA}")
endif()
