#include "check/case_table.h"

#include <cstdio>
#include <cstdlib>

namespace sockparity::internal {

std::optional<std::string> Lacks(TransportNeed need,
                                 ContractTransport transport) {
  if (need == TransportNeed::kManyConnections &&
      transport == ContractTransport::kFd) {
    return "fd:N carries one connection";
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
    return new std::vector<Case>(std::move(table.rows()));
  }();
  return *catalog;
}

}  // namespace sockparity::internal
