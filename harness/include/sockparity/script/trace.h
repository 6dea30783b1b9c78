// A trace: what running a script on one transport kind gave, each step's
// normalized outcome and what each socket received as one byte stream
// (sockparity/script/runner.h runs scripts).
#ifndef SOCKPARITY_SCRIPT_TRACE_H_
#define SOCKPARITY_SCRIPT_TRACE_H_

#include <map>
#include <string>
#include <vector>

#include "sockparity/net/transport.h"

namespace sockparity {

struct StepOutcome {
  // Compared across kinds: "ok", "eof", "data", "timeout", an errno name
  // ("EPIPE"), poll events ("IN|OUT"), a state ("CLOSE_WAIT"), "n/a".
  std::string outcome;
  // Not compared: byte counts, raw numbers, the reason for "n/a".
  std::string detail;
};

// A step whose outcome is not the one its assertion ("= ...") states.
struct AssertionFailure {
  int step = 0;  // 0-based
  std::string expected;
  std::string actual;
};

struct Trace {
  TransportKind kind = TransportKind::kSocketpair;
  std::vector<StepOutcome> steps;
  // Per socket that received anything: "N bytes fnv1a64=HEX".
  std::map<std::string, std::string> received;
  // The steps whose assertions this kind did not meet.
  std::vector<AssertionFailure> assertion_failures;
};

}  // namespace sockparity

#endif  // SOCKPARITY_SCRIPT_TRACE_H_
