# Fuzz targets: xentcheck-fuzz (properties on decoded bytes) and
# xentcheck-fuzz-parsers (case-file reader and byte decoder), docs/fuzzing.md.
#
# Include it from the top CMakeLists.txt (anywhere after project(); also
# works as -DCMAKE_PROJECT_INCLUDE=cmake/fuzz.cmake). It does its work at
# the end of the top directory, once xentcheck_core and xentcheck_targets
# have all their sources.
#
# The fuzz binaries get their own instrumented copies of the core and the
# targets (same sources and settings), so the ordinary libraries, the CLI
# and the tests stay uninstrumented.
# With $LIB_FUZZING_ENGINE set (OSS-Fuzz, ClusterFuzzLite, AFL++'s driver),
# compile flags come from CFLAGS as the builder set them and the engine is
# linked as given, never a hard-coded -fsanitize=fuzzer; without it,
# libFuzzer with ASan and UBSan.
include_guard(GLOBAL)

if(CMAKE_C_COMPILER_ID MATCHES "Clang")
  set(XC_FUZZ_DEFAULT ON)
else()
  set(XC_FUZZ_DEFAULT OFF)
endif()
option(XC_FUZZ "Build the libFuzzer targets xentcheck-fuzz and xentcheck-fuzz-parsers (clang)"
  ${XC_FUZZ_DEFAULT})

if(XC_FUZZ AND DEFINED ENV{LIB_FUZZING_ENGINE})
  # A builder's engine is a C++ library linked with its $CXX; clang's own
  # -fsanitize=fuzzer brings the C++ runtime itself.
  include(CheckLanguage)
  check_language(CXX)
  if(CMAKE_CXX_COMPILER)
    enable_language(CXX)
  endif()
endif()

function(xc_fuzz_add name)
  add_executable(${name} ${ARGN})
  target_compile_options(${name} PRIVATE ${XC_FUZZ_COMPILE})
  target_link_options(${name} PRIVATE ${XC_FUZZ_LINK})
  target_link_libraries(${name} PRIVATE xentcheck_fuzz_core)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}")
  if(CMAKE_CXX_COMPILER AND DEFINED ENV{LIB_FUZZING_ENGINE})
    set_target_properties(${name} PROPERTIES LINKER_LANGUAGE CXX)
  endif()
endfunction()

# NAME: a static library with the sources and build settings of FROM (read
# at the end of the configure, so sources added later count), instrumented;
# xentcheck_targets among its libraries becomes xentcheck_fuzz_targets.
function(xc_fuzz_clone name from)
  get_target_property(srcs ${from} SOURCES)
  add_library(${name} STATIC ${srcs})
  foreach(prop INCLUDE_DIRECTORIES COMPILE_DEFINITIONS COMPILE_OPTIONS
          INTERFACE_INCLUDE_DIRECTORIES INTERFACE_COMPILE_DEFINITIONS)
    get_target_property(value ${from} ${prop})
    if(value)
      set_property(TARGET ${name} PROPERTY ${prop} "${value}")
    endif()
  endforeach()
  get_target_property(libs ${from} LINK_LIBRARIES)
  if(libs)
    list(TRANSFORM libs REPLACE "^xentcheck_targets$" xentcheck_fuzz_targets)
    target_link_libraries(${name} PUBLIC ${libs})
  endif()
  target_compile_options(${name} PRIVATE ${XC_FUZZ_COMPILE})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  add_dependencies(${name} ${from})   # generated sources exist first
endfunction()

function(xc_fuzz_setup)
  if(NOT XC_FUZZ)
    return()
  endif()
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "XC_FUZZ needs clang (CC=clang); turn it off with -DXC_FUZZ=OFF")
  endif()
  get_property(langs GLOBAL PROPERTY ENABLED_LANGUAGES)
  if("CXX" IN_LIST langs AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang"
     AND NOT DEFINED ENV{LIB_FUZZING_ENGINE})
    message(FATAL_ERROR "XC_FUZZ links C++ code with -fsanitize=fuzzer: configure "
      "with -DCMAKE_CXX_COMPILER=clang++ as well")
  endif()
  if(DEFINED ENV{LIB_FUZZING_ENGINE})
    set(XC_FUZZ_COMPILE "")
    separate_arguments(XC_FUZZ_LINK UNIX_COMMAND "$ENV{LIB_FUZZING_ENGINE}")
  else()
    set(san -fsanitize=address,undefined -fno-sanitize-recover=undefined)
    set(XC_FUZZ_COMPILE -fsanitize=fuzzer-no-link ${san} -fno-omit-frame-pointer)
    set(XC_FUZZ_LINK -fsanitize=fuzzer ${san})
  endif()
  xc_fuzz_clone(xentcheck_fuzz_targets xentcheck_targets)
  xc_fuzz_clone(xentcheck_fuzz_core xentcheck_core)
  # Coverage feedback from the code under test only (fuzz/coverage-ignore.txt
  # says why): the harness, the fuzz entry points and the custom mutator are
  # not instrumented for coverage.
  set(ignore "-fsanitize-coverage-ignorelist=${PROJECT_SOURCE_DIR}/fuzz/coverage-ignore.txt")
  target_compile_options(xentcheck_fuzz_core PRIVATE ${ignore})
  set(src "${PROJECT_SOURCE_DIR}/harness")
  xc_fuzz_add(xentcheck-fuzz "${src}/fuzz_entry.c" "${src}/fuzz_mutator.c")
  target_compile_options(xentcheck-fuzz PRIVATE ${ignore})
  # The parsers fuzzer's code under test is the harness's readers: compiled
  # again here with coverage; the executable's own definitions take
  # precedence over the core archive's uninstrumented copies.
  xc_fuzz_add(xentcheck-fuzz-parsers "${src}/fuzz_parsers.c" "${src}/casefile.c"
    "${src}/report_read.c" "${src}/bytes_case.c")
endfunction()

# At the end of the top directory, whenever this file is included: the
# libraries have all their sources by then.
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL xc_fuzz_setup)
