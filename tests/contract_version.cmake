# The contract version the command reports (kContractVersion) is the one
# docs/SUT_CONTRACT.md's title states: one version, said twice.
#   cmake -DTOOL=sockparity -DCONTRACT=docs/SUT_CONTRACT.md -P contract_version.cmake
execute_process(COMMAND ${TOOL} --version OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TOOL} --version exited ${rc}")
endif()
if(NOT out MATCHES "^sockparity [0-9.]+ \\(peer contract ([0-9.]+)\\)")
  message(FATAL_ERROR "unexpected --version output: ${out}")
endif()
set(reported ${CMAKE_MATCH_1})
file(STRINGS ${CONTRACT} title LIMIT_COUNT 1)
if(NOT title MATCHES "version ([0-9.]+)$")
  message(FATAL_ERROR "no version in the contract's title: ${title}")
endif()
if(NOT reported STREQUAL CMAKE_MATCH_1)
  message(FATAL_ERROR "--version says peer contract ${reported}; "
                      "${CONTRACT} is version ${CMAKE_MATCH_1}")
endif()
