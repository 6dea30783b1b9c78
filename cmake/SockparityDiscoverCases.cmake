cmake_policy(PUSH)
cmake_policy(VERSION 3.25)
# Included by ctest (TEST_INCLUDE_FILES) for each
# sockparity_add_conformance_tests() call: asks the sockparity command for
# its catalog and adds one test per case group and transport.
execute_process(
  COMMAND "${sockparity_tool}" check --list
  RESULT_VARIABLE list_status
  OUTPUT_VARIABLE catalog
  ERROR_VARIABLE list_error)
if(NOT list_status EQUAL 0)
  # A test that fails with the reason, rather than no tests at all.
  add_test("${sockparity_name}.catalog" sh -c
           "echo 'sockparity check --list failed (exit ${list_status}): ${list_error}'; exit 1")
  cmake_policy(POP)
  return()
endif()

# Lines are "ID<TAB>GROUP/NAME<TAB>description<TAB>clause<TAB>reference<TAB>
# MUST or SHOULD<TAB>transports it runs on"; the first two and the last are
# read.
# A ";" in a description would split its line: the columns read have none.
string(REPLACE ";" "," catalog "${catalog}")
string(REPLACE "\n" ";" lines "${catalog}")

# The user's CASES globs as regular expressions, matched against the id
# ("7.2") and the name ("bad-input/over-16-MiB").
set(wanted_regexes)
foreach(glob IN LISTS sockparity_cases)
  string(REGEX REPLACE "([][.+^$(){}|\\])" "\\\\\\1" regex "${glob}")
  string(REPLACE "*" ".*" regex "${regex}")
  string(REPLACE "?" "." regex "${regex}")
  list(APPEND wanted_regexes "^${regex}$")
endforeach()

set(groups)
foreach(line IN LISTS lines)
  if(NOT line MATCHES "^([0-9]+\\.[0-9]+)\t(([^/\t]+)/[^\t]+)\t.*\t([^\t]*)$")
    continue()
  endif()
  set(id "${CMAKE_MATCH_1}")
  set(name "${CMAKE_MATCH_2}")
  set(group "${CMAKE_MATCH_3}")
  string(REPLACE "," ";" runs_on "${CMAKE_MATCH_4}")
  set(take TRUE)
  if(wanted_regexes)
    set(take FALSE)
    foreach(regex IN LISTS wanted_regexes)
      if(id MATCHES "${regex}" OR name MATCHES "${regex}")
        set(take TRUE)
      endif()
    endforeach()
  endif()
  if(take)
    if(NOT group IN_LIST groups)
      list(APPEND groups "${group}")
      # Every registration includes this file in the same scope: start clean.
      set(cases_${group} "")
      set(kinds_${group} "")
    endif()
    list(APPEND cases_${group} "${id}")
    list(APPEND kinds_${group} ${runs_on})
  endif()
endforeach()

# One test per case group, on every transport asked for where one of its
# cases can run: the transports run side by side, and the check compares
# them ("across"), the comparison the suite is named for. A group that can
# run on none of them (the UNIX names on tcp4 alone) is not registered.
foreach(group IN LISTS groups)
  list(JOIN cases_${group} "," case_list)
  set(kinds)
  foreach(kind IN LISTS sockparity_transports)
    if(kind IN_LIST kinds_${group})
      list(APPEND kinds "${kind}")
    endif()
  endforeach()
  if(NOT kinds)
    continue()
  endif()
  list(JOIN kinds "," kind_list)
  set(test "${sockparity_name}.${group}")
  add_test("${test}" "${sockparity_tool}" check ${sockparity_options}
           --cases "${case_list}" --transport "${kind_list}"
           --junit "${sockparity_out}/${group}.xml"
           -- ${sockparity_server})
  # Exit 4: no case of the group could run on any of them (fd:N carries one
  # connection, IPv6 is off, an optional form the server does not serve):
  # skipped, with the reason in the output.
  set_tests_properties("${test}" PROPERTIES
    TIMEOUT "${sockparity_timeout}"
    SKIP_RETURN_CODE 4
    LABELS "sockparity;conformance")
endforeach()
cmake_policy(POP)
