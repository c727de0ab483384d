# What `cmake --install` puts under the prefix, and the package that other
# projects consume (README, "Installing"):
#   bin/xentcheck (+ xentcheck-fuzz, xentcheck-fuzz-parsers when built)
#   include/xentcheck/target.h
#   share/man/man1/xentcheck.1
#   lib/cmake/xentcheck/   find_package(xentcheck 1): xentcheck::target,
#                          xentcheck::xentcheck, xentcheck_add_test()
#   lib/pkgconfig/xentcheck.pc
# Included from the top CMakeLists.txt after the CLI target is defined.
include_guard(GLOBAL)
include(CMakePackageConfigHelpers)

set(XC_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/xentcheck")

# ---- the plugin ABI header as an INTERFACE target: xentcheck::target
add_library(xentcheck_abi INTERFACE)
add_library(xentcheck::target ALIAS xentcheck_abi)
set_target_properties(xentcheck_abi PROPERTIES EXPORT_NAME target)
target_include_directories(xentcheck_abi INTERFACE
  "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>"
  "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
install(TARGETS xentcheck_abi EXPORT xentcheckTargets)
install(FILES "${PROJECT_SOURCE_DIR}/include/xentcheck/target.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/xentcheck")

# ---- the CLI: xentcheck::xentcheck, in the tree as in the package
if(TARGET xentcheck)
  add_executable(xentcheck::xentcheck ALIAS xentcheck)
  install(TARGETS xentcheck EXPORT xentcheckTargets
    RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
endif()
install(FILES "${PROJECT_SOURCE_DIR}/doc/xentcheck.1"
  DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")

# ---- the fuzzers, only when built. cmake/fuzz.cmake may define them at the
# end of this directory (deferred), so look for them there too.
function(xc_install_fuzzers)
  if(TARGET xentcheck-fuzz)
    set_target_properties(xentcheck-fuzz PROPERTIES EXPORT_NAME fuzz)
    install(TARGETS xentcheck-fuzz EXPORT xentcheckTargets
      RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
  endif()
  if(TARGET xentcheck-fuzz-parsers)
    install(TARGETS xentcheck-fuzz-parsers RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
  endif()
endfunction()
cmake_language(DEFER DIRECTORY "${PROJECT_SOURCE_DIR}" CALL xc_install_fuzzers)

# ---- the CMake package
install(EXPORT xentcheckTargets NAMESPACE xentcheck::
  DESTINATION "${XC_CMAKE_INSTALL_DIR}")
configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/xentcheckConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/xentcheckConfig.cmake"
  INSTALL_DESTINATION "${XC_CMAKE_INSTALL_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/xentcheckConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/xentcheckConfig.cmake"
  "${PROJECT_BINARY_DIR}/xentcheckConfigVersion.cmake"
  "${CMAKE_CURRENT_LIST_DIR}/xentcheck-functions.cmake"
  DESTINATION "${XC_CMAKE_INSTALL_DIR}")
# The same package from the build tree (-Dxentcheck_DIR=<build dir>).
export(EXPORT xentcheckTargets NAMESPACE xentcheck::
  FILE "${PROJECT_BINARY_DIR}/xentcheckTargets.cmake")
configure_file("${CMAKE_CURRENT_LIST_DIR}/xentcheck-functions.cmake"
  "${PROJECT_BINARY_DIR}/xentcheck-functions.cmake" COPYONLY)

# ---- pkg-config. Paths relative to the .pc file's own directory, so that
# `cmake --install --prefix` elsewhere than CMAKE_INSTALL_PREFIX still works.
function(xc_pc_path var dir)
  if(IS_ABSOLUTE "${dir}")
    set(${var} "${dir}" PARENT_SCOPE)
  else()
    set(${var} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
set(XC_PC_DIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
if(IS_ABSOLUTE "${XC_PC_DIR}")
  set(XC_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH up "/prefix/${XC_PC_DIR}" "/prefix")
  string(REGEX REPLACE "/$" "" up "${up}")
  set(XC_PC_PREFIX "\${pcfiledir}/${up}")
endif()
xc_pc_path(XC_PC_BINDIR "${CMAKE_INSTALL_BINDIR}")
xc_pc_path(XC_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
file(STRINGS "${PROJECT_SOURCE_DIR}/include/xentcheck/target.h" abi_line
  REGEX "^#define XC_ABI_VERSION ")
string(REGEX REPLACE "^#define XC_ABI_VERSION ([0-9]+)u.*" "\\1" XC_ABI_VERSION "${abi_line}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/xentcheck.pc.in"
  "${PROJECT_BINARY_DIR}/xentcheck.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/xentcheck.pc" DESTINATION "${XC_PC_DIR}")

include("${CMAKE_CURRENT_LIST_DIR}/xentcheck-functions.cmake")
