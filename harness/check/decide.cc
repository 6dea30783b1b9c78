#include "check/decide.h"

#include "absl/strings/str_cat.h"

namespace sockparity {

std::string VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk:
      return "OK";
    case Verdict::kNonStrict:
      return "NON-STRICT";
    case Verdict::kInformational:
      return "INFORMATIONAL";
    case Verdict::kNotApplicable:
      return "N/A";
    case Verdict::kUnsupported:
      return "UNSUPPORTED";
    case Verdict::kFailed:
      return "FAILED";
  }
  return "?";
}

namespace internal {

// The precedence, first rule first (README, "Verdicts"):
// 1. a case that does not apply on this transport or machine is N/A,
//    whatever its server did;
// 2. one the server does not serve is UNSUPPORTED;
// 3. a server that did not start fails the case;
// 4. so does one that ended during it, whatever the case saw before;
// 5. a clause missed is FAILED, NON-STRICT for a SHOULD clause;
// 6. behaviour the contract leaves open is INFORMATIONAL;
// 7. the rest is OK.
Decision Decide(const CaseFacts& facts) {
  const Observed& seen = facts.observed;
  if (seen.kind == Observed::Kind::kDoesNotApply) {
    return {Verdict::kNotApplicable, seen.reason};
  }
  if (seen.kind == Observed::Kind::kNotServed) {
    return {Verdict::kUnsupported, seen.reason};
  }
  if (facts.start_failed) return {Verdict::kFailed, *facts.start_failed};
  if (facts.ended) {
    return {Verdict::kFailed,
            absl::StrCat("expected the server to keep running; it ended "
                         "during the case: ",
                         *facts.ended)};
  }
  if (seen.kind == Observed::Kind::kMissed) {
    const std::string reason =
        seen.reason.empty() ? "expected a reason for this verdict; saw none "
                              "(a bug in sockparity)"
                            : seen.reason;
    if (facts.should) {
      return {Verdict::kNonStrict, absl::StrCat("(SHOULD) ", reason)};
    }
    return {Verdict::kFailed, reason};
  }
  if (seen.kind == Observed::Kind::kLeftOpen) {
    return {Verdict::kInformational, seen.reason};
  }
  return {Verdict::kOk, seen.reason};
}

}  // namespace internal
}  // namespace sockparity
