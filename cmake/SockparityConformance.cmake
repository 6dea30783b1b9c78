# sockparity_add_conformance_tests(NAME name COMMAND server [args...]
#                                  [TRANSPORTS kind...] [CASES glob...]
#                                  [TIMEOUT seconds] [OPTIONS option...])
#
# Registers the peer-conformance catalog (`sockparity check`) against a
# server as ctest tests: one per case group (echo, segmentation, ...), named
# <name>.<group>, each on every transport asked for where the group can run,
# so that the check also compares the transports (its "across" verdict). The
# catalog is read from `sockparity check --list` when ctest starts, so cases
# added to sockparity appear without editing this call. Each test prints the
# verdicts and their reasons, and writes a JUnit file to
# <build dir>/sockparity/<name>/<group>.xml.
#
# COMMAND may use generator expressions ($<TARGET_FILE:my_server>).
# TRANSPORTS defaults to every kind; CASES (globs over case ids or names,
# e.g. "1.*" or "bad-input/*") to the whole catalog. OPTIONS go to every
# `sockparity check` as they are, before the server command: e.g.
# `OPTIONS --stalled-after 3s --timeout 60s` for a server allowed more than
# the contract's reply window in the project's own runs. TIMEOUT is ctest's
# limit for each test (300 s by default).
include_guard(GLOBAL)

function(sockparity_add_conformance_tests)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;TIMEOUT"
                        "COMMAND;TRANSPORTS;CASES;OPTIONS")
  if(NOT arg_NAME)
    message(FATAL_ERROR "sockparity_add_conformance_tests: NAME is required")
  endif()
  if(NOT arg_COMMAND)
    message(FATAL_ERROR
      "sockparity_add_conformance_tests(${arg_NAME}): COMMAND is required")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "sockparity_add_conformance_tests(${arg_NAME}): "
      "unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET sockparity::sockparity)
    message(FATAL_ERROR "sockparity_add_conformance_tests: the "
      "sockparity::sockparity command target is missing "
      "(find_package(sockparity) or add_subdirectory it first)")
  endif()
  set(known unix unix-abstract tcp4 tcp6 fd)
  if(NOT arg_TRANSPORTS)
    set(arg_TRANSPORTS ${known})
  endif()
  foreach(kind IN LISTS arg_TRANSPORTS)
    if(NOT kind IN_LIST known)
      message(FATAL_ERROR "sockparity_add_conformance_tests(${arg_NAME}): "
        "unknown transport '${kind}' (known: ${known})")
    endif()
  endforeach()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()

  set(out "${CMAKE_CURRENT_BINARY_DIR}/sockparity/${arg_NAME}")
  set(include_file "${out}/tests.cmake")
  # The ctest-time script, with generator expressions resolved.
  # Bracket arguments keep each list's ";" separators as they are.
  set(command "${arg_COMMAND}")
  set(transports "${arg_TRANSPORTS}")
  set(cases "${arg_CASES}")
  set(options "${arg_OPTIONS}")
  file(GENERATE OUTPUT "${include_file}" CONTENT
"set(sockparity_name [==[${arg_NAME}]==])
set(sockparity_tool [==[$<TARGET_FILE:sockparity::sockparity>]==])
set(sockparity_server [==[${command}]==])
set(sockparity_transports [==[${transports}]==])
set(sockparity_cases [==[${cases}]==])
set(sockparity_options [==[${options}]==])
set(sockparity_timeout ${arg_TIMEOUT})
set(sockparity_out [==[${out}]==])
include([==[${CMAKE_CURRENT_FUNCTION_LIST_DIR}/SockparityDiscoverCases.cmake]==])
")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include_file}")

  # From a source tree (add_subdirectory, FetchContent), build the command
  # with the project, even when sockparity was added EXCLUDE_FROM_ALL.
  get_target_property(tool sockparity::sockparity ALIASED_TARGET)
  if(tool AND NOT TARGET sockparity_tool_for_${arg_NAME})
    add_custom_target(sockparity_tool_for_${arg_NAME} ALL)
    add_dependencies(sockparity_tool_for_${arg_NAME} ${tool})
  endif()
endfunction()
