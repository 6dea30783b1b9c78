# One cell of the conformance matrix: `sockparity check` on a correct server,
# plain or under one perturbation mode. It must exit 0 with no FAILED and
# with the perturbation in effect; its verdicts, read from its JSON report,
# go to OUT (one "case transport verdict" line each), which
# compare_verdicts.cmake compares across servers and modes.
#   -DTOOL=sockparity -DSERVER=cmd|args -DMODE=plain|short-io|... -DSEED=N
#   -DOUT=file
string(REPLACE "|" ";" server "${SERVER}")
set(perturb)
if(NOT MODE STREQUAL "plain")
  set(perturb --perturb ${MODE})
endif()
set(report "${OUT}.json")
get_filename_component(out_dir "${OUT}" DIRECTORY)
file(MAKE_DIRECTORY "${out_dir}")
file(REMOVE "${report}")
execute_process(
  COMMAND ${TOOL} check --seed ${SEED} --json ${report} ${perturb} -- ${server}
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "exit ${status}\n${out}")
if(NOT status STREQUAL "0")
  message(FATAL_ERROR "expected exit 0 (no FAILED, perturbation in effect); "
                      "got ${status}\n${err}")
endif()
file(READ "${report}" json)
string(JSON count LENGTH "${json}" results)
set(rows "")
if(count GREATER 0)
  math(EXPR last "${count} - 1")
  foreach(i RANGE ${last})
    string(JSON id GET "${json}" results ${i} case)
    string(JSON transport GET "${json}" results ${i} transport)
    string(JSON verdict GET "${json}" results ${i} verdict)
    string(APPEND rows "${id} ${transport} ${verdict}\n")
  endforeach()
endif()
file(WRITE "${OUT}" "${rows}")
