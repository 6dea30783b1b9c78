// The catalog as the command sees it: which cases a filter selects, the
// transports' names, which of them the contract requires.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "check/case_table.h"
#include "check/run_parts.h"
#include "sockparity/check/peer_check.h"
#include "sockparity/script/glob.h"

namespace sockparity {

std::string ContractTransportName(ContractTransport transport) {
  switch (transport) {
    case ContractTransport::kFd:
      return "fd";
    case ContractTransport::kUnix:
      return "unix";
    case ContractTransport::kUnixAbstract:
      return "unix-abstract";
    case ContractTransport::kTcp4:
      return "tcp4";
    case ContractTransport::kTcp6:
      return "tcp6";
  }
  return "?";
}

absl::StatusOr<ContractTransport> ParseContractTransport(
    absl::string_view name) {
  for (ContractTransport transport : kAllContractTransports) {
    if (name == ContractTransportName(transport)) return transport;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown transport '", name,
                   "'; expected unix, unix-abstract, tcp4, tcp6 or fd"));
}

namespace internal {

bool Selected(const CaseInfo& info, const std::vector<std::string>& include,
              const std::vector<std::string>& exclude) {
  auto matches = [&](const std::vector<std::string>& globs) {
    for (const std::string& glob : globs) {
      // A group by its number or name ("7", "bad-input") is every case in
      // it.
      if (GlobMatch(glob, info.id) || GlobMatch(glob, info.name) ||
          GlobMatch(glob + ".*", info.id) || GlobMatch(glob + "/*", info.name))
        return true;
    }
    return false;
  };
  return matches(include) && !matches(exclude);
}

bool Selected(const CaseInfo& info, const CheckOptions& options) {
  return Selected(info, options.include, options.exclude);
}

}  // namespace internal

std::vector<CaseInfo> CheckCatalog() {
  std::vector<CaseInfo> infos;
  for (const internal::Case& c : internal::Catalog()) infos.push_back(c.info);
  return infos;
}

bool ContractRequires(ContractTransport transport) {
  return transport == ContractTransport::kUnix ||
         transport == ContractTransport::kTcp4;
}

std::vector<CaseInfo> SelectCases(const std::vector<std::string>& include,
                                  const std::vector<std::string>& exclude) {
  std::vector<CaseInfo> selected;
  for (const internal::Case& c : internal::Catalog()) {
    if (!internal::Selected(c.info, include, exclude)) continue;
    CaseInfo info = c.info;
    for (ContractTransport transport : kAllContractTransports) {
      if (!internal::Lacks(c.need, transport))
        info.runs_on.push_back(transport);
    }
    selected.push_back(std::move(info));
  }
  return selected;
}

}  // namespace sockparity
