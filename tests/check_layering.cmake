# The harness's layers depend only downward: net <- codec, script <- check
# <- tool; testing may use them all. Fails when a source or public header
# of a layer includes one of a layer it may not use.
#   -DHARNESS=path/to/harness
cmake_policy(VERSION 3.25)
set(allowed_net net)
set(allowed_codec net codec)
set(allowed_script net script)
set(allowed_check net codec script check)
set(allowed_testing net codec script check testing)
set(allowed_tool net codec script check tool)
set(layers net codec script check testing tool)
set(violations)
foreach(layer IN LISTS layers)
  file(GLOB_RECURSE files
       "${HARNESS}/${layer}/*.cc" "${HARNESS}/${layer}/*.h"
       "${HARNESS}/include/sockparity/${layer}/*.h")
  foreach(file IN LISTS files)
    file(STRINGS "${file}" includes REGEX "^#include \"(sockparity/)?[a-z_]+/")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^#include \"(sockparity/)?([a-z_]+)/.*" "\\2"
             used "${line}")
      if(used IN_LIST layers AND NOT used IN_LIST allowed_${layer})
        list(APPEND violations "${file}: ${layer} includes ${used}: ${line}")
      endif()
    endforeach()
  endforeach()
endforeach()
if(violations)
  list(JOIN violations "\n" text)
  message(FATAL_ERROR "upward dependencies between layers:\n${text}")
endif()
message(STATUS "every include of ${HARNESS} points down the layers")
