// The differential run: one script on a set of transport kinds, every pair
// of traces compared through the registry of documented differences. What
// `sockparity replay`, the lifecycle property and fuzzer, the corpus tests
// and the benchmark all do.
#ifndef SOCKPARITY_SCRIPT_DIFFERENTIAL_H_
#define SOCKPARITY_SCRIPT_DIFFERENTIAL_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "sockparity/net/transport.h"
#include "sockparity/script/differences.h"
#include "sockparity/script/runner.h"
#include "sockparity/script/script.h"
#include "sockparity/script/trace.h"

namespace sockparity {

struct PairComparison {
  TransportKind x, y;
  Comparison comparison;
};

struct DifferentialRun {
  std::vector<Trace> traces;  // the kinds that ran, in the order given
  // The kinds that could not run (RunScript failed), and why.
  std::vector<std::pair<TransportKind, absl::Status>> skipped;
  // Every pair of traces: (0, 1), (0, 2) ... (1, 2) ...
  std::vector<PairComparison> pairs;

  // Whether some pair differs in a way no registry entry allows.
  bool diverged() const;
  // Whether it diverged or some kind did not give what a step asserts.
  bool failed() const;
  // The first diverged pair, in the order of `pairs`; nullptr if none.
  const PairComparison* first_divergence() const;
  // The steps of `script` (the one run) up to and including the earliest
  // step at which any pair diverged: later steps cannot change an earlier
  // divergence, so this smaller script shows it. The whole script when only
  // received bytes differ; nullopt when nothing diverged.
  std::optional<Script> ShortestDivergingPrefix(const Script& script) const;
  // The registry entries that allowed a mismatch, each once, in the order
  // the pairs used them.
  std::vector<std::string> entries_used() const;
};

// Runs `script` on each of `kinds` (at once: the TCP kinds, which wait for
// delayed ACKs, each in its own thread), then compares every pair.
DifferentialRun RunDifferential(
    const Script& script, absl::Span<const TransportKind> kinds,
    const DifferenceRegistry& registry = DifferenceRegistry::InEffect(),
    const RunOptions& options = {});

// Compares every pair of traces already run (the `pairs` of a run).
std::vector<PairComparison> CompareEveryPair(
    const Script& script, absl::Span<const Trace> traces,
    const DifferenceRegistry& registry = DifferenceRegistry::InEffect());

// The kinds this machine has (TransportAvailability), in
// kAllTransportKinds' order.
std::vector<TransportKind> AvailableTransportKinds();

// What `sockparity replay` prints for a run of `script`: the kinds skipped,
// the traces side by side (with `details`, the uncompared details too),
// each pair that is not equal, a prefix that shows the first divergence,
// and the verdict line. The command exits 1 when run.diverged().
std::string FormatDifferentialRun(const Script& script,
                                  const DifferentialRun& run, bool details);

// Every assertion some kind did not meet, one line each: "step 3 'a send
// 10' on tcp4: expected EPIPE, got ECONNRESET".
std::string FormatAssertionFailures(const Script& script,
                                    const DifferentialRun& run);

// Every diverged pair, one line each ("tcp4 vs unix: diverged: ..."), then
// the shortest diverging prefix with a line on how to keep and replay it:
// what the property and the fuzzer print for a finding.
std::string FormatDivergence(const Script& script, const DifferentialRun& run);

}  // namespace sockparity

#endif  // SOCKPARITY_SCRIPT_DIFFERENTIAL_H_
