# Fails when a generated doc (DOC) differs from what the command
# `sockparity GENERATE...` prints (docs/DIFFERENCES.md from the registry,
# docs/SCRIPTS.md from the verb table).
string(REPLACE ";" " " command_text "${GENERATE}")
execute_process(COMMAND ${SOCKPARITY} ${GENERATE}
                OUTPUT_VARIABLE generated RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "sockparity ${command_text} failed (${status})")
endif()
if(NOT EXISTS ${DOC})
  message(FATAL_ERROR "${DOC} is missing; run: sockparity ${command_text} > ${DOC}")
endif()
file(READ ${DOC} committed)
if(NOT generated STREQUAL committed)
  message(FATAL_ERROR "${DOC} is out of date; regenerate it with: sockparity ${command_text} > ${DOC}")
endif()
message(STATUS "${DOC} is current")
