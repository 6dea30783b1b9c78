// The verdicts of `sockparity check`, and what one case on one transport
// gave. RunCheck decides them in one place (the README's "Verdicts" gives
// the precedence).
#ifndef SOCKPARITY_CHECK_VERDICT_H_
#define SOCKPARITY_CHECK_VERDICT_H_

#include <array>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace sockparity {

enum class Verdict {
  kOk,             // the server did what the clause asks
  kNonStrict,      // it missed a SHOULD clause
  kInformational,  // behaviour the contract leaves open, reported
  kNotApplicable,  // the case does not apply on this transport or machine
  kUnsupported,    // the server does not serve this (a form it declines)
  kFailed,         // it missed a MUST clause
};
inline constexpr std::array<Verdict, 6> kAllVerdicts = {Verdict::kOk,
                                                        Verdict::kNonStrict,
                                                        Verdict::kInformational,
                                                        Verdict::kNotApplicable,
                                                        Verdict::kUnsupported,
                                                        Verdict::kFailed};
// "OK", "NON-STRICT", "INFORMATIONAL", "N/A", "UNSUPPORTED", "FAILED".
std::string VerdictName(Verdict verdict);

struct CaseResult {
  Verdict verdict = Verdict::kOk;
  std::string reason;    // for anything but OK: expected and seen
  std::string wire_log;  // what the client sent and saw, in order
  // For a FAILED case: what the server wrote to its standard output and
  // error while the case ran (a bounded tail of each, labelled).
  std::string server_output;
  // What the client observed, compared across transports: lines of
  // "verb:outcome" (e.g. "recv:eof", "bytes:<digest>").
  std::vector<std::string> record;
  absl::Duration duration;
};

}  // namespace sockparity

#endif  // SOCKPARITY_CHECK_VERDICT_H_
