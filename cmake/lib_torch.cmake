# ---- libtorch 1.13 (libtorch-dev): at::cross_entropy_loss, the op behind
# torch::nn::functional::cross_entropy, forward and autograd backward on the
# CPU, f32 and f64. libtorch's static initialisers cost a process about
# 1.4 s and 170 MB, so it is not linked into xentcheck: the adapter is the
# module xentcheck-torch.so (torch.cpp, torch_xent.cpp), which the C table
# torch_lazy.c loads on first use (installed in <libdir>/xentcheck).
# Debian's TorchConfig.cmake gives the imported target `torch`, its include
# directories SYSTEM (libtorch's warnings never meet our -Werror).
set(found OFF)
# 1.10 brought probability targets to cross_entropy.
find_package(Torch 1.10 CONFIG QUIET)
if(Torch_FOUND AND TARGET torch)
  set(found ON)
endif()
xc_library(TORCH ${found} "Built-in targets on libtorch 1.13 (libtorch-dev)")
if(XC_USE_TORCH)
  # At file scope (cmake/libraries.cmake says why).
  enable_language(CXX)
  add_library(xentcheck_torch MODULE
    "${XC_LIB_DIR}/torch.cpp" "${XC_LIB_DIR}/torch_xent.cpp")
  target_compile_features(xentcheck_torch PRIVATE cxx_std_17)
  target_include_directories(xentcheck_torch PRIVATE
    "${PROJECT_SOURCE_DIR}/include" "${XC_LIB_DIR}")
  target_link_libraries(xentcheck_torch PRIVATE torch)
  set_target_properties(xentcheck_torch PROPERTIES PREFIX "" OUTPUT_NAME xentcheck-torch
    CXX_VISIBILITY_PRESET hidden LIBRARY_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}")
  install(TARGETS xentcheck_torch LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}/xentcheck")

  target_sources(xentcheck_targets PRIVATE "${XC_LIB_DIR}/torch_lazy.c")
  target_compile_definitions(xentcheck_targets PRIVATE
    "XC_TORCH_VERSION=\"${Torch_VERSION}\""
    "XC_TORCH_MODULE_BUILD=\"$<TARGET_FILE:xentcheck_torch>\""
    "XC_TORCH_MODULE_SUBDIR=\"${CMAKE_INSTALL_LIBDIR}\"")
  find_package(Threads REQUIRED)
  target_link_libraries(xentcheck_targets PUBLIC ${CMAKE_DL_LIBS} Threads::Threads)
  add_dependencies(xentcheck_targets xentcheck_torch)
endif()
