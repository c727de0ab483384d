# xentcheck_add_test(NAME <name> PLUGIN <target-or-path>
#                    [TARGETS <target-name>...] [ARGS <arg>...])
#
# Registers a CTest test <name> that runs
#   xentcheck run --plugin <plugin file> [--target <target-name>]...
#                 --report <current binary dir>/xentcheck/<name> [<arg>...]
# and passes when every selected target holds (exit status 0). PLUGIN is a
# MODULE or SHARED library target of the calling project (its file is taken
# at build time), or the path of a plugin built some other way. Without
# TARGETS every target the plugin exports is checked. ARGS go to
# `xentcheck run` as they are (--seed, --cases, --time, --tol-factor, ...).
#
# The reports land in the build tree: report.json, junit.xml, summary.md,
# index.html, and the failing cases under cases/, each with the one-line
# replay command that xentcheck prints.
#
# Shipped with the installed package (find_package(xentcheck)) and included
# by xentcheck's own CMakeLists.txt, so it also works when xentcheck is a
# subproject; either way it runs the executable target xentcheck::xentcheck.
include_guard(GLOBAL)

function(xentcheck_add_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;PLUGIN" "TARGETS;ARGS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "xentcheck_add_test: unexpected arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_NAME)
    message(FATAL_ERROR "xentcheck_add_test: NAME is required")
  endif()
  if(NOT arg_PLUGIN)
    message(FATAL_ERROR "xentcheck_add_test(${arg_NAME}): PLUGIN is required")
  endif()
  if(NOT TARGET xentcheck::xentcheck)
    message(FATAL_ERROR "xentcheck_add_test(${arg_NAME}): no target xentcheck::xentcheck; "
      "call find_package(xentcheck) first")
  endif()

  if(TARGET "${arg_PLUGIN}")
    get_target_property(type "${arg_PLUGIN}" TYPE)
    if(NOT type MATCHES "^(MODULE_LIBRARY|SHARED_LIBRARY)$")
      message(FATAL_ERROR "xentcheck_add_test(${arg_NAME}): PLUGIN ${arg_PLUGIN} is a "
        "${type}; xentcheck loads plugins with dlopen, so it must be a MODULE "
        "(or SHARED) library")
    endif()
    set(plugin "$<TARGET_FILE:${arg_PLUGIN}>")
  else()
    get_filename_component(plugin "${arg_PLUGIN}" ABSOLUTE)
  endif()

  set(cmd run --plugin "${plugin}")
  foreach(t IN LISTS arg_TARGETS)
    list(APPEND cmd --target "${t}")
  endforeach()
  list(APPEND cmd --report "${CMAKE_CURRENT_BINARY_DIR}/xentcheck/${arg_NAME}" ${arg_ARGS})

  add_test(NAME "${arg_NAME}" COMMAND "$<TARGET_FILE:xentcheck::xentcheck>" ${cmd})
  set_property(TEST "${arg_NAME}" APPEND PROPERTY LABELS xentcheck)
endfunction()
