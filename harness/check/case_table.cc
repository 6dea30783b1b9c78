#include "check/case_table.h"

#include <cstdio>
#include <cstdlib>

namespace sockparity::internal {

std::optional<std::string> Lacks(TransportNeed need,
                                 ContractTransport transport) {
  switch (need) {
    case TransportNeed::kOneConnection:
      return std::nullopt;
    case TransportNeed::kManyConnections:
      if (transport == ContractTransport::kFd)
        return "fd:N carries one connection";
      return std::nullopt;
    case TransportNeed::kUnixName:
      if (transport == ContractTransport::kUnix ||
          transport == ContractTransport::kUnixAbstract) {
        return std::nullopt;
      }
      return "a case about the names of UNIX sockets";
    case TransportNeed::kUnixPath:
      if (transport == ContractTransport::kUnix) return std::nullopt;
      return "a case about socket files: unix: alone";
  }
  return std::nullopt;
}

void CaseTable::Add(Case row) {
  const bool fits = row.phase == CasePhase::kWhileServing
                        ? row.play && !row.judge
                        : row.judge && !row.play;
  if (!fits) {
    std::fprintf(stderr,
                 "sockparity: case %s has no body for its phase (a bug in "
                 "sockparity)\n",
                 row.info.id.c_str());
    std::abort();
  }
  rows_.push_back(std::move(row));
}

const std::vector<Case>& Catalog() {
  static const std::vector<Case>* const catalog = [] {
    CaseTable table;
    AddEchoCases(table);
    AddSegmentationCases(table);
    AddPipeliningCases(table);
    AddBackpressureCases(table);
    AddHalfCloseCases(table);
    AddCloseCases(table);
    AddBadInputCases(table);
    AddConcurrencyCases(table);
    AddListenerCases(table);
    AddNameCases(table);
    AddReleaseCases(table);
    AddDescriptorCases(table);
    AddMemoryCases(table);
    return new std::vector<Case>(std::move(table.rows()));
  }();
  return *catalog;
}

}  // namespace sockparity::internal
