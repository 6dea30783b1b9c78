# cmake -DSOCKPARITY=... -DLIBRARY=... -DSCRIPTS=DIR -DSEEDS=1;2 -P this
# For every DIR/*.script: `sockparity replay` prints the same with
# LD_PRELOAD=LIBRARY SOCKPARITY_PERTURB=all (each seed) as without it, and
# the same on two plain runs (so a difference is the library's doing).
file(GLOB scripts ${SCRIPTS}/*.script)
list(LENGTH scripts count)
if(count EQUAL 0)
  message(FATAL_ERROR "no scripts in ${SCRIPTS}")
endif()
set(failed "")
foreach(script IN LISTS scripts)
  get_filename_component(name ${script} NAME)
  # A script whose kernel state depends on write sizes says so, and why.
  file(STRINGS ${script} exempt REGEX "^# not-under-perturbation:")
  if(exempt)
    message(STATUS "${name}: not replayed under the library (${exempt})")
    continue()
  endif()
  execute_process(COMMAND ${SOCKPARITY} replay ${script}
                  OUTPUT_VARIABLE plain ERROR_VARIABLE plain_err
                  RESULT_VARIABLE plain_exit)
  execute_process(COMMAND ${SOCKPARITY} replay ${script}
                  OUTPUT_VARIABLE again ERROR_VARIABLE again_err
                  RESULT_VARIABLE again_exit)
  if(NOT "${plain_exit}|${plain}${plain_err}" STREQUAL
     "${again_exit}|${again}${again_err}")
    message(SEND_ERROR "${name}: two plain runs differ:\n${plain}\n---\n${again}")
    list(APPEND failed ${name})
    continue()
  endif()
  foreach(seed IN LISTS SEEDS)
    execute_process(
      COMMAND ${CMAKE_COMMAND} -E env LD_PRELOAD=${LIBRARY}
              SOCKPARITY_PERTURB=all SOCKPARITY_PERTURB_SEED=${seed}
              ${SOCKPARITY} replay ${script}
      OUTPUT_VARIABLE perturbed ERROR_VARIABLE perturbed_err
      RESULT_VARIABLE perturbed_exit)
    if(NOT "${plain_exit}|${plain}${plain_err}" STREQUAL
       "${perturbed_exit}|${perturbed}${perturbed_err}")
      message(SEND_ERROR
        "${name}: differs under the library (seed ${seed}); exit "
        "${plain_exit} plain, ${perturbed_exit} perturbed\n"
        "--- plain:\n${plain}${plain_err}\n"
        "--- perturbed:\n${perturbed}${perturbed_err}")
      list(APPEND failed "${name}@${seed}")
    endif()
  endforeach()
endforeach()
if(failed)
  message(FATAL_ERROR "not transparent: ${failed}")
endif()
message(STATUS "${count} scripts, seeds ${SEEDS}: identical output")
