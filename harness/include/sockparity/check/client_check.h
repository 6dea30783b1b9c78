// `sockparity check-client`: the suite as the server of a client built on
// another library (the client contract, docs/CLIENT_CONTRACT.md). Its
// options, report and verdicts are `check`'s (peer_check.h); the command
// in CheckOptions is the client's.
#ifndef SOCKPARITY_CHECK_CLIENT_CHECK_H_
#define SOCKPARITY_CHECK_CLIENT_CHECK_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sockparity/check/peer_check.h"

namespace sockparity {

// The client cases, in order ("c1.1" ...).
std::vector<CaseInfo> ClientCatalog();

// The cases the filters select (globs on the id or the name, or a group by
// its number, "c1", or name, "connect"), in catalog order.
std::vector<CaseInfo> SelectClientCases(
    const std::vector<std::string>& include,
    const std::vector<std::string>& exclude);

// Runs the selected cases on every transport asked for, one client
// process per case. INVALID_ARGUMENT on bad options; FAILED_PRECONDITION,
// before any case, when the client cannot be run at all.
absl::StatusOr<CheckReport> RunClientCheck(const CheckOptions& options);

}  // namespace sockparity

#endif  // SOCKPARITY_CHECK_CLIENT_CHECK_H_
