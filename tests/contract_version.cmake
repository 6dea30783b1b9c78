# The contract versions the command reports (kContractVersion,
# kClientContractVersion) are the ones the contracts' titles state: one
# version each, said twice.
#   cmake -DTOOL=sockparity -DCONTRACT=docs/SUT_CONTRACT.md
#         -DCLIENT_CONTRACT=docs/CLIENT_CONTRACT.md -P contract_version.cmake
execute_process(COMMAND ${TOOL} --version OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TOOL} --version exited ${rc}")
endif()
if(NOT out MATCHES
   "^sockparity [0-9.]+ \\(peer contract ([0-9.]+), client contract ([0-9.]+)\\)")
  message(FATAL_ERROR "unexpected --version output: ${out}")
endif()
set(reported_peer ${CMAKE_MATCH_1})
set(reported_client ${CMAKE_MATCH_2})
foreach(pair "peer;${CONTRACT};${reported_peer}"
             "client;${CLIENT_CONTRACT};${reported_client}")
  list(GET pair 0 which)
  list(GET pair 1 path)
  list(GET pair 2 reported)
  file(STRINGS ${path} title LIMIT_COUNT 1)
  if(NOT title MATCHES "version ([0-9.]+)$")
    message(FATAL_ERROR "no version in the contract's title: ${title}")
  endif()
  if(NOT reported STREQUAL CMAKE_MATCH_1)
    message(FATAL_ERROR "--version says ${which} contract ${reported}; "
                        "${path} is version ${CMAKE_MATCH_1}")
  endif()
endforeach()
