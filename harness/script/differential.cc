#include "sockparity/script/differential.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "sockparity/script/trace_table.h"

namespace sockparity {
namespace {

bool Diverged(const PairComparison& pair) {
  return pair.comparison.verdict == Comparison::Verdict::kDiverged;
}

// The steps of `script` up to and including `step` (all of them for a
// stream divergence, -1, or a step past the end).
Script Prefix(const Script& script, int step) {
  Script prefix;
  const size_t end =
      step < 0 ? script.steps.size()
               : std::min(script.steps.size(), static_cast<size_t>(step) + 1);
  prefix.steps.assign(script.steps.begin(), script.steps.begin() + end);
  return prefix;
}

// Whether a step of `script` makes a child process. A child forked while
// other kinds run holds copies of their sockets until it exits, so a close
// there would not send its FIN at once.
bool Forks(const Script& script) {
  return std::any_of(
      script.steps.begin(), script.steps.end(),
      [](const Step& step) { return step.verb == Verb::kConnectAsNobody; });
}

// Runs `script` on every kind, each kind's result at its index. Each kind
// has its own sockets, names and ports, so the kinds can run at once: the
// waits of TCP (delayed ACKs) overlap each other and the UNIX kinds' work.
std::vector<absl::StatusOr<Trace>> RunOnEveryKind(
    const Script& script, absl::Span<const TransportKind> kinds,
    const RunOptions& options) {
  std::vector<absl::StatusOr<Trace>> results(kinds.size(),
                                             absl::UnknownError("not run"));
  auto run = [&](size_t i) {
    results[i] = RunScript(script, kinds[i], options);
  };
  // Only TCP waits (for delayed ACKs); a thread costs more than a UNIX
  // script takes, so those run here meanwhile.
  auto own_thread = [&](size_t i) {
    return !Forks(script) &&
           FamilyOf(kinds[i]) == Family::kTcp;
  };
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (own_thread(i)) threads.emplace_back(run, i);
  }
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (!own_thread(i)) run(i);
  }
  for (std::thread& thread : threads) thread.join();
  return results;
}

}  // namespace

bool DifferentialRun::diverged() const { return first_divergence() != nullptr; }

const PairComparison* DifferentialRun::first_divergence() const {
  auto it = std::find_if(pairs.begin(), pairs.end(), Diverged);
  return it == pairs.end() ? nullptr : &*it;
}

std::optional<Script> DifferentialRun::ShortestDivergingPrefix(
    const Script& script) const {
  if (!diverged()) return std::nullopt;
  int earliest = -1;
  for (const PairComparison& pair : pairs) {
    const int step = pair.comparison.step;
    if (!Diverged(pair) || step < 0) continue;
    if (earliest < 0 || step < earliest) earliest = step;
  }
  return Prefix(script, earliest);
}

std::vector<std::string> DifferentialRun::entries_used() const {
  std::vector<std::string> used;
  for (const PairComparison& pair : pairs) {
    for (const std::string& id : pair.comparison.entries) {
      if (std::find(used.begin(), used.end(), id) == used.end()) {
        used.push_back(id);
      }
    }
  }
  return used;
}

std::vector<PairComparison> CompareEveryPair(
    const Script& script, absl::Span<const Trace> traces,
    const DifferenceRegistry& registry) {
  std::vector<PairComparison> pairs;
  for (size_t i = 0; i < traces.size(); ++i) {
    for (size_t j = i + 1; j < traces.size(); ++j) {
      pairs.push_back({traces[i].kind, traces[j].kind,
                       CompareTraces(script, traces[i], traces[j], registry)});
    }
  }
  return pairs;
}

DifferentialRun RunDifferential(const Script& script,
                                absl::Span<const TransportKind> kinds,
                                const DifferenceRegistry& registry,
                                const RunOptions& options) {
  DifferentialRun run;
  std::vector<absl::StatusOr<Trace>> results =
      RunOnEveryKind(script, kinds, options);
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (!results[i].ok()) {
      run.skipped.emplace_back(kinds[i], results[i].status());
      continue;
    }
    run.traces.push_back(*std::move(results[i]));
  }
  run.pairs = CompareEveryPair(script, run.traces, registry);
  return run;
}

std::vector<TransportKind> AvailableTransportKinds() {
  std::vector<TransportKind> kinds;
  for (TransportKind kind : kAllTransportKinds) {
    if (TransportAvailability(kind).ok()) kinds.push_back(kind);
  }
  return kinds;
}

std::string FormatDifferentialRun(const Script& script,
                                  const DifferentialRun& run, bool details) {
  std::string out;
  for (const auto& [kind, status] : run.skipped) {
    absl::StrAppend(&out, TransportName(kind), ": skipped: ", status.message(),
                    "\n");
  }
  absl::StrAppend(&out, FormatTracesSideBySide(script, run.traces, details));
  absl::StrAppend(&out, FormatAssertionFailures(script, run));
  if (run.traces.size() < 2) {
    absl::StrAppend(
        &out, "\nverdict: nothing to compare (fewer than two kinds ran)\n");
    return out;
  }
  absl::StrAppend(&out, "\n");
  const PairComparison* first = run.first_divergence();
  for (const PairComparison& pair : run.pairs) {
    if (pair.comparison.verdict == Comparison::Verdict::kEqual) continue;
    absl::StrAppend(&out, TransportName(pair.x), " vs ", TransportName(pair.y),
                    ": ", pair.comparison.Describe(), "\n");
    // Only the first divergence gets a script, and only one at a step.
    if (&pair != first || pair.comparison.step < 0) continue;
    absl::StrAppend(&out,
                    "  a script that shows it (save it and run: sockparity "
                    "replay FILE --transport ",
                    TransportName(pair.x), ",", TransportName(pair.y), "):\n",
                    FormatScript(Prefix(script, pair.comparison.step)), "\n");
  }
  absl::StrAppend(
      &out, run.diverged() ? "verdict: DIVERGED: a difference no registry "
                             "entry allows (a finding)\n"
            : run.failed() ? "verdict: FAILED: a step did not give what the "
                             "script asserts\n"
                           : "verdict: OK: equal, or different only as the "
                             "registry allows\n");
  return out;
}

std::string FormatDivergence(const Script& script, const DifferentialRun& run) {
  std::string out;
  for (const PairComparison& pair : run.pairs) {
    if (!Diverged(pair)) continue;
    absl::StrAppend(&out, TransportName(pair.x), " vs ", TransportName(pair.y),
                    ": ", pair.comparison.Describe(), "\n");
  }
  const std::optional<Script> prefix = run.ShortestDivergingPrefix(script);
  if (!prefix) return out;
  absl::StrAppend(&out,
                  "The script up to the divergence (save it under "
                  "corpus/scripts/ and run 'sockparity replay FILE'):\n",
                  FormatScript(*prefix));
  return out;
}

}  // namespace sockparity
