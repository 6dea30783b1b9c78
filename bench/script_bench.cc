// What the suite itself costs: a typical lifecycle script per kind, the
// differential run of it over every kind, and making a connected pair.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "benchmarks.h"
#include "sockparity/net/socket.h"
#include "sockparity/net/transport.h"
#include "sockparity/script/differential.h"
#include "sockparity/script/runner.h"
#include "sockparity/script/script.h"

namespace sockparity::bench {
namespace {

// Ten steps, the shape most generated and corpus scripts have: data both
// ways, a half-close, reading to end of stream, both sides closing.
constexpr absl::string_view kTypicalScript = R"(a pair b
a send 100
b recv 100
b send 4000
a recv 4000
a shutdown wr
b recv-until-eof
b send 10
b close
a close
)";

const Script& TypicalScript() {
  static const Script* script = [] {
    absl::StatusOr<Script> parsed = ParseScript(kTypicalScript);
    if (!parsed.ok()) std::abort();  // a constant: cannot fail
    return new Script(*std::move(parsed));
  }();
  return *script;
}

void ScriptOnKind(benchmark::State& state, TransportKind kind,
                  RunOptions options) {
  if (absl::Status available = TransportAvailability(kind); !available.ok()) {
    state.SkipWithError(std::string(available.message()).c_str());
    return;
  }
  for (auto _ : state) {
    absl::StatusOr<Trace> trace = RunScript(TypicalScript(), kind, options);
    if (!trace.ok() || trace->steps.size() != TypicalScript().steps.size()) {
      state.SkipWithError("the script did not run");
      break;
    }
    benchmark::DoNotOptimize(trace->received);
  }
  state.SetItemsProcessed(state.iterations());
}

// Runs the script on every kind and compares the traces; "" when they
// agree, else what went wrong.
std::string RunAndCompare(const std::vector<TransportKind>& kinds) {
  const DifferentialRun run = RunDifferential(TypicalScript(), kinds);
  if (!run.skipped.empty()) {
    return std::string(run.skipped.front().second.message());
  }
  if (const PairComparison* pair = run.first_divergence()) {
    return pair->comparison.Describe();
  }
  return "";
}

void Differential(benchmark::State& state) {
  const std::vector<TransportKind> kinds = AvailableTransportKinds();
  for (auto _ : state) {
    if (std::string problem = RunAndCompare(kinds); !problem.empty()) {
      state.SkipWithError(problem.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void PairSetup(benchmark::State& state, TransportKind kind) {
  for (auto _ : state) {
    absl::StatusOr<SocketPair> pair = MakeConnectedPair(kind);
    if (!pair.ok()) {
      state.SkipWithError(std::string(pair.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// Every TCP pair leaves a socket in TIME_WAIT for a minute, holding an
// ephemeral port. Left to choose, Google Benchmark made enough pairs in one
// ci/bench run to use up the ports (bind to port 0: EADDRINUSE), so the
// benchmarks that make TCP pairs run a fixed number of iterations, about
// 13,000 pairs over a run in all.
void Bounded(benchmark::internal::Benchmark* benchmark, TransportKind kind,
             benchmark::IterationCount iterations) {
  benchmark->UseRealTime();
  if (FamilyOf(kind) == Family::kTcp) benchmark->Iterations(iterations);
}

}  // namespace

void RegisterScriptBenchmarks() {
  for (TransportKind kind : kAllTransportKinds) {
    auto* benchmark = benchmark::RegisterBenchmark(
        absl::StrCat("Script/", TransportName(kind)).c_str(), ScriptOnKind,
        kind, RunOptions{});
    Bounded(benchmark, kind, 500);
  }
  // The baseline: waiting for ACKs after every step, as the runner did
  // before it waited only where a step can see them.
  RunOptions every_step;
  every_step.acknowledge_every_step = true;
  for (TransportKind kind : {TransportKind::kTcp4, TransportKind::kTcp6}) {
    auto* benchmark = benchmark::RegisterBenchmark(
        absl::StrCat("ScriptAckEveryStep/", TransportName(kind)).c_str(),
        ScriptOnKind, kind, every_step);
    Bounded(benchmark, kind, 10);
  }
  Bounded(benchmark::RegisterBenchmark("Differential/all", Differential),
          TransportKind::kTcp4, 300);
  for (TransportKind kind : kAllTransportKinds) {
    auto* benchmark = benchmark::RegisterBenchmark(
        absl::StrCat("PairSetup/", TransportName(kind)).c_str(), PairSetup,
        kind);
    Bounded(benchmark, kind, 500);
  }
}

}  // namespace sockparity::bench
