# Runs COMMAND (a ;-list) and checks its exit status and output:
#   -DCOMMAND=... -DEXIT=N -DMATCH=regex [-DWORKDIR=dir]
string(REPLACE "|" ";" command "${COMMAND}")
execute_process(COMMAND ${command} RESULT_VARIABLE status
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
message(STATUS "exit ${status}\n${all}")
if(NOT status STREQUAL "${EXIT}")
  message(FATAL_ERROR "expected exit ${EXIT}, got ${status}")
endif()
if(NOT all MATCHES "${MATCH}")
  message(FATAL_ERROR "output does not match: ${MATCH}")
endif()
