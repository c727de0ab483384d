# Adapters to real libraries (targets/lib/): one option per library, ON by
# default when the library is found. Asking for one that is missing
# (-DXC_WITH_<LIB>=ON) fails the configure: it never silently drops out.
#
# Include from the top-level CMakeLists.txt after xentcheck_targets is
# defined. Each adapter adds its sources to xentcheck_targets and the
# definition XC_HAVE_<LIB>, which targets/lib/registry_libs.c reads.
set(XC_LIB_DIR "${PROJECT_SOURCE_DIR}/targets/lib")
target_sources(xentcheck_targets PRIVATE "${XC_LIB_DIR}/registry_libs.c"
  "${XC_LIB_DIR}/findings.c")
target_include_directories(xentcheck_targets PRIVATE "${XC_LIB_DIR}")

# xc_library(LIB FOUND DOC): the option XC_WITH_<LIB>, default FOUND; fails
# when it is ON and FOUND is false. Sets XC_USE_<LIB> in the caller.
function(xc_library lib found doc)
  option(XC_WITH_${lib} "${doc}" ${found})
  if(XC_WITH_${lib} AND NOT ${found})
    message(FATAL_ERROR "XC_WITH_${lib}=ON but the library was not found: "
      "install it (scripts/install-deps.sh) or configure with "
      "-DXC_WITH_${lib}=OFF")
  endif()
  set(XC_USE_${lib} ${XC_WITH_${lib}} PARENT_SCOPE)
  if(XC_WITH_${lib})
    target_compile_definitions(xentcheck_targets PUBLIC XC_HAVE_${lib})
    message(STATUS "xentcheck: real-library targets: ${lib}")
  endif()
endfunction()

# The C++ adapters (libtorch, dlib, tiny-dnn) call enable_language(CXX) in
# their own file, at file scope: inside a function it would leave the
# compiler's feature variables in the function's scope. The C executables
# then link with the C++ driver (CMake propagates the link language).

# ---- SLEEF (libsleef-dev): x86-64 only, one file per vector extension.
pkg_check_modules(XC_SLEEF QUIET IMPORTED_TARGET sleef)
set(found OFF)
if(XC_SLEEF_FOUND AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64)$")
  set(found ON)
endif()
xc_library(SLEEF ${found} "Built-in targets on SLEEF 3.5 (libsleef-dev)")
if(XC_USE_SLEEF)
  target_sources(xentcheck_targets PRIVATE
    "${XC_LIB_DIR}/sleef.c" "${XC_LIB_DIR}/sleef_f32.c" "${XC_LIB_DIR}/sleef_f64.c"
    "${XC_LIB_DIR}/sleef_sse2.c" "${XC_LIB_DIR}/sleef_avx2.c"
    "${XC_LIB_DIR}/sleef_avx512.c")
  set_source_files_properties("${XC_LIB_DIR}/sleef_avx2.c" PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma")
  set_source_files_properties("${XC_LIB_DIR}/sleef_avx512.c" PROPERTIES
    COMPILE_OPTIONS "-mavx512f")
  target_link_libraries(xentcheck_targets PUBLIC PkgConfig::XC_SLEEF)
endif()

# ---- oneDNN (libdnnl-dev): the C API, f32 on the CPU engine.
find_package(dnnl CONFIG QUIET)
set(found OFF)
if(TARGET DNNL::dnnl)
  set(found ON)
endif()
xc_library(ONEDNN ${found} "Built-in target on oneDNN 2.6 (libdnnl-dev)")
if(XC_USE_ONEDNN)
  target_sources(xentcheck_targets PRIVATE
    "${XC_LIB_DIR}/onednn.c" "${XC_LIB_DIR}/onednn_prim.c")
  target_link_libraries(xentcheck_targets PUBLIC DNNL::dnnl)
endif()

# ---- The C++ adapters, one file each: libtorch, dlib, tiny-dnn.
include("${CMAKE_CURRENT_LIST_DIR}/lib_torch.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/lib_dlib.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/lib_tinydnn.cmake")
