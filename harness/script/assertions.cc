// Checking what scripts assert: the runner records, per kind, each step
// whose outcome is not the one its "= ..." states (script_runner.cc).
#include "absl/strings/str_cat.h"
#include "sockparity/script/differential.h"

namespace sockparity {

bool DifferentialRun::failed() const {
  if (diverged()) return true;
  for (const Trace& trace : traces) {
    if (!trace.assertion_failures.empty()) return true;
  }
  return false;
}

std::string FormatAssertionFailures(const Script& script,
                                    const DifferentialRun& run) {
  std::string out;
  for (const Trace& trace : run.traces) {
    for (const AssertionFailure& failure : trace.assertion_failures) {
      const std::string step =
          failure.step >= 0 &&
                  static_cast<size_t>(failure.step) < script.steps.size()
              ? FormatStep(script.steps[failure.step])
              : "?";
      absl::StrAppend(&out, "assertion failed: step ", failure.step + 1, " '",
                      step, "' on ", TransportName(trace.kind), ": expected ",
                      failure.expected, ", got ", failure.actual, "\n");
    }
  }
  return out;
}

}  // namespace sockparity
