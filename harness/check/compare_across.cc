// The comparison of the client's records across transports.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "check/peer_link.h"
#include "check/run_parts.h"
#include "sockparity/script/differences.h"

namespace sockparity::internal {

Observed CompareAcross(
    const Case& c,
    const std::vector<std::pair<TransportKind, const CaseResult*>>& runs) {
  std::vector<std::string> entries;
  for (size_t i = 0; i + 1 < runs.size(); ++i) {
    for (size_t j = i + 1; j < runs.size(); ++j) {
      const auto& [kind_x, x] = runs[i];
      const auto& [kind_y, y] = runs[j];
      const size_t n = std::max(x->record.size(), y->record.size());
      for (size_t k = 0; k < n; ++k) {
        const std::string a = k < x->record.size() ? x->record[k] : "(nothing)";
        const std::string b = k < y->record.size() ? y->record[k] : "(nothing)";
        if (a == b) continue;
        const std::optional<Observation> seen_x = Observation::Parse(a);
        const std::optional<Observation> seen_y = Observation::Parse(b);
        const Difference* entry =
            seen_x && seen_y ? DifferenceRegistry::Default().Allowing(
                                   kind_x, *seen_x, kind_y, *seen_y, c.context)
                             : nullptr;
        if (entry == nullptr) {
          return Observed::Missed(absl::StrCat(
              "expected the same record on every transport, or a "
              "difference a registry entry allows; saw an undocumented "
              "difference: ",
              ContractTransportName(internal::ContractTransportOf(kind_x)),
              " saw ", a, ", ",
              ContractTransportName(internal::ContractTransportOf(kind_y)),
              " saw ", b));
        }
        if (std::find(entries.begin(), entries.end(), entry->id) ==
            entries.end()) {
          entries.push_back(entry->id);
        }
      }
    }
  }
  if (entries.empty()) return Observed::Met();
  return Observed::LeftOpen(absl::StrCat("differs only as documented: ",
                                         absl::StrJoin(entries, ", ")));
}


}  // namespace sockparity::internal
