// Internal: the parts of RunCheck that decide nothing themselves: which
// cases the filters select, whether the server can be started at all,
// what a transport whose server did not start observed, and the
// comparison of the client's records across transports. Decide (decide.h)
// turns what they observed into verdicts.
#ifndef SOCKPARITY_CHECK_RUN_PARTS_H_
#define SOCKPARITY_CHECK_RUN_PARTS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "check/case_table.h"
#include "check/decide.h"
#include "sockparity/check/peer_check.h"
#include "sockparity/net/transport.h"

namespace sockparity::internal {

// Whether the filters select the case (globs on its id or name, or a
// group by number or name).
bool Selected(const CaseInfo& info, const std::vector<std::string>& include,
              const std::vector<std::string>& exclude);
bool Selected(const CaseInfo& info, const CheckOptions& options);

// FAILED_PRECONDITION when the server cannot be started at all: every form
// tried failed the same way, or it serves none of the required forms.
absl::Status CannotStart(
    const CheckOptions& options,
    const std::vector<std::pair<ContractTransport, absl::Status>>& starts);

// What every case observed on a transport whose server did not start.
CaseFacts StartFacts(ContractTransport transport, const absl::Status& started);

// The client's records of one case on each transport, compared through the
// registry: met when the same, left open when they differ as documented.
Observed CompareAcross(
    const Case& c,
    const std::vector<std::pair<TransportKind, const CaseResult*>>& runs);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_RUN_PARTS_H_
