# One cell of the conformance matrix: `sockparity check` on a correct server,
# plain or under one perturbation mode. It must exit 0 with no FAILED and
# with the perturbation in effect; its verdict rows go to OUT, which
# compare_verdicts.cmake compares across servers and modes.
#   -DTOOL=sockparity -DSERVER=cmd|args -DMODE=plain|short-io|... -DSEED=N
#   -DOUT=file
string(REPLACE "|" ";" server "${SERVER}")
set(perturb)
if(NOT MODE STREQUAL "plain")
  set(perturb --perturb ${MODE})
endif()
execute_process(
  COMMAND ${TOOL} check --seed ${SEED} ${perturb} -- ${server}
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "exit ${status}\n${out}")
if(NOT status STREQUAL "0")
  message(FATAL_ERROR "expected exit 0 (no FAILED, perturbation in effect); "
                      "got ${status}\n${err}")
endif()
# The matrix rows: "ID NAME VERDICT-PER-TRANSPORT ACROSS".
string(REGEX MATCHALL "\n[0-9]+\\.[0-9]+ [^\n]*" rows "${out}")
string(REPLACE ";" "" rows "${rows}")
file(WRITE "${OUT}" "${rows}\n")
