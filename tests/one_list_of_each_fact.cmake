# The perturbation modes are listed once, in perturb/modes.h; everything
# else reads that list (the library, the command's --list-modes, ci/, CMake,
# ci/results.py). Fails on any other line that names all three, in any
# order: a second list, which would drift. tests/perturb/ spells the
# library's own announcements, and docs/ describes the modes.
file(GLOB_RECURSE files LIST_DIRECTORIES false
     ${ROOT}/harness/* ${ROOT}/ci/* ${ROOT}/adapters/* ${ROOT}/tests/*
     ${ROOT}/fuzz/* ${ROOT}/bench/* ${ROOT}/cmake/* ${ROOT}/perturb/*
     ${ROOT}/examples/*)
list(APPEND files ${ROOT}/CMakeLists.txt)
set(copies "")
foreach(file IN LISTS files)
  if(file MATCHES "/tests/perturb/|/perturb/modes\\.h$|\\.md$|/node_modules/|expected-verdicts|explanations\\.tsv|one_list_of_each_fact\\.cmake$")
    continue()
  endif()
  file(STRINGS ${file} lines REGEX "accept-aborted")
  foreach(line IN LISTS lines)
    if(line MATCHES "short-io" AND line MATCHES "eintr")
      string(APPEND copies "  ${file}: ${line}\n")
    endif()
  endforeach()
endforeach()
if(copies)
  message(FATAL_ERROR "a second list of the perturbation modes (read "
                      "perturb/modes.h, or `sockparity check --list-modes`, "
                      "instead):\n${copies}")
endif()
message(STATUS "the perturbation modes are listed once (perturb/modes.h)")

# The verdicts' colours likewise: once, in harness/check/verdict_colours.h,
# which check's HTML report and ci/results.py both read. Any other file
# that spells a verdict's colour is a second copy.
set(colour_copies "")
foreach(file IN LISTS files)
  if(file MATCHES "/verdict_colours\\.h$|\\.md$|/node_modules/|one_list_of_each_fact\\.cmake$")
    continue()
  endif()
  file(STRINGS ${file} lines REGEX "#c8f0c8|#ffb8b8|#fff0b0|#d8e8ff")
  foreach(line IN LISTS lines)
    string(APPEND colour_copies "  ${file}: ${line}\n")
  endforeach()
endforeach()
if(colour_copies)
  message(FATAL_ERROR "a second copy of the verdicts' colours (read "
                      "harness/check/verdict_colours.h instead):\n"
                      "${colour_copies}")
endif()
message(STATUS "the verdicts' colours are listed once (verdict_colours.h)")
