# Fails when docs/DIFFERENCES.md differs from what the registry generates.
execute_process(COMMAND ${SOCKPARITY} differences --markdown
                OUTPUT_VARIABLE generated RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "sockparity differences --markdown failed (${status})")
endif()
if(NOT EXISTS ${DOC})
  message(FATAL_ERROR "${DOC} is missing; run: sockparity differences --markdown > docs/DIFFERENCES.md")
endif()
file(READ ${DOC} committed)
if(NOT generated STREQUAL committed)
  message(FATAL_ERROR "${DOC} is out of date with the registry; regenerate it with: sockparity differences --markdown > docs/DIFFERENCES.md")
endif()
message(STATUS "${DOC} matches the registry")
