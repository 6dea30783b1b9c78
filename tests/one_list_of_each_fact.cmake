# Facts listed once, which everything else reads; a second copy would
# drift. Fails on any line outside the one source that spells the fact
# again. docs/ describes them and is left out.
#   -DROOT=the source tree
file(GLOB_RECURSE files LIST_DIRECTORIES false
     ${ROOT}/harness/* ${ROOT}/ci/* ${ROOT}/adapters/* ${ROOT}/tests/*
     ${ROOT}/fuzz/* ${ROOT}/bench/* ${ROOT}/cmake/* ${ROOT}/perturb/*
     ${ROOT}/examples/*)
list(APPEND files ${ROOT}/CMakeLists.txt)

# The lines of `files` (but those matching SKIP) that match every regex in
# ARGN, as "  file: line" lines in OUT.
function(copies_of out skip)
  set(found "")
  foreach(file IN LISTS files)
    if(file MATCHES "${skip}|\\.md$|/node_modules/|one_list_of_each_fact\\.cmake$")
      continue()
    endif()
    list(GET ARGN 0 first)
    file(STRINGS ${file} lines REGEX "${first}")
    foreach(line IN LISTS lines)
      set(all TRUE)
      foreach(regex IN LISTS ARGN)
        if(NOT line MATCHES "${regex}")
          set(all FALSE)
        endif()
      endforeach()
      if(all)
        string(APPEND found "  ${file}: ${line}\n")
      endif()
    endforeach()
  endforeach()
  set(${out} "${found}" PARENT_SCOPE)
endfunction()

# The perturbation modes, in perturb/modes.h (read by the library, the
# command's --list-modes, ci/, CMake, ci/results.py): any other line that
# names three of them, in any order. tests/perturb/ spells the library's
# own announcements.
copies_of(copies
  "/tests/perturb/|/perturb/modes\\.h$|expected-verdicts|explanations\\.tsv"
  "accept-aborted" "short-io" "eintr")
if(copies)
  message(FATAL_ERROR "a second list of the perturbation modes (read "
                      "perturb/modes.h, or `sockparity check --list-modes`, "
                      "instead):\n${copies}")
endif()

# The verdicts' colours, in harness/check/verdict_colours.h (read by
# check's HTML report and ci/results.py): any other line with one of them.
copies_of(copies "/verdict_colours\\.h$" "#c8f0c8|#ffb8b8|#fff0b0|#d8e8ff")
if(copies)
  message(FATAL_ERROR "a second copy of the verdicts' colours (read "
                      "harness/check/verdict_colours.h instead):\n${copies}")
endif()
message(STATUS "the perturbation modes and the verdicts' colours are each "
               "listed once")
