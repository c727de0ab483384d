# ---- dlib (libdlib-dev 19.24): the DNN loss layer loss_multiclass_log_,
# f32 on the CPU (targets/lib/dlib.cpp). dlib's own CMake package: its
# imported target dlib::dlib brings the include directory (as SYSTEM) and
# the shared library with its BLAS/LAPACK/image dependencies.
find_package(dlib CONFIG QUIET)
set(found OFF)
if(TARGET dlib::dlib)
  set(found ON)
endif()
xc_library(DLIB ${found} "Built-in target on dlib 19.24 (libdlib-dev)")
if(XC_USE_DLIB)
  # At file scope (cmake/libraries.cmake says why).
  enable_language(CXX)
  target_sources(xentcheck_targets PRIVATE "${XC_LIB_DIR}/dlib.cpp")
  target_compile_features(xentcheck_targets PRIVATE cxx_std_17)
  target_link_libraries(xentcheck_targets PUBLIC dlib::dlib)
endif()
