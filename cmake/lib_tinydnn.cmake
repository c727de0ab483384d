# ---- tiny-dnn (Debian tiny-dnn 1.0.0a3, header-only): the unfused chain
# rule softmax -> cross_entropy_multiclass -> backward (targets/lib/tinydnn.cpp).
# Found by its header, not by its CMake package: tinydnn-config.cmake sets
# CMAKE_CXX_STANDARD 11, overwrites CMAKE_CXX_FLAGS_RELEASE/_DEBUG, adds
# -Wall -Wpedantic and probes TBB/OpenMP/NNPACK for the whole project.
# Its util.h includes cereal unconditionally, yet the Debian package does
# not depend on libcereal-dev: both headers are required.
find_path(XC_TINYDNN_INCLUDE_DIR tiny_dnn/lossfunctions/loss_function.h)
find_path(XC_CEREAL_INCLUDE_DIR cereal/cereal.hpp)
set(found OFF)
if(XC_TINYDNN_INCLUDE_DIR AND XC_CEREAL_INCLUDE_DIR)
  set(found ON)
endif()
xc_library(TINYDNN ${found} "Built-in target on tiny-dnn 1.0.0a3 (Debian tiny-dnn, libcereal-dev)")
if(XC_USE_TINYDNN)
  # At file scope (cmake/libraries.cmake says why).
  enable_language(CXX)
  target_sources(xentcheck_targets PRIVATE "${XC_LIB_DIR}/tinydnn.cpp")
  target_compile_features(xentcheck_targets PRIVATE cxx_std_17)
  # SYSTEM: the library's headers are not ours to keep warning-free.
  target_include_directories(xentcheck_targets SYSTEM PRIVATE
    "${XC_TINYDNN_INCLUDE_DIR}" "${XC_CEREAL_INCLUDE_DIR}")
endif()
