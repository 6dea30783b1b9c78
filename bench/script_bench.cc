// What the suite itself costs: a typical lifecycle script per kind, the
// differential run of it over every kind, and making a connected pair.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "benchmarks.h"
#include "sockparity/differences.h"
#include "sockparity/script.h"
#include "sockparity/socket.h"
#include "sockparity/trace.h"
#include "sockparity/transport.h"

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

void Differential(benchmark::State& state) {
  std::vector<TransportKind> kinds;
  for (TransportKind kind : kAllTransportKinds) {
    if (TransportAvailability(kind).ok()) kinds.push_back(kind);
  }
  for (auto _ : state) {
    std::vector<Trace> traces;
    for (TransportKind kind : kinds) {
      absl::StatusOr<Trace> trace = RunScript(TypicalScript(), kind);
      if (!trace.ok()) {
        state.SkipWithError("the script did not run");
        return;
      }
      traces.push_back(*std::move(trace));
    }
    for (size_t i = 1; i < traces.size(); ++i) {
      Comparison comparison = CompareTraces(
          TypicalScript(), traces[0], traces[i], DifferenceRegistry::Default());
      if (comparison.verdict == Comparison::Verdict::kDiverged) {
        state.SkipWithError(comparison.Describe().c_str());
        return;
      }
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

}  // namespace

void RegisterScriptBenchmarks() {
  for (TransportKind kind : kAllTransportKinds) {
    benchmark::RegisterBenchmark(
        absl::StrCat("Script/", TransportName(kind)).c_str(), ScriptOnKind,
        kind, RunOptions{})
        ->UseRealTime();
  }
  // The baseline: waiting for ACKs after every step, as the runner did
  // before it waited only where a step can see them.
  RunOptions every_step;
  every_step.acknowledge_every_step = true;
  for (TransportKind kind : {TransportKind::kTcp4, TransportKind::kTcp6}) {
    benchmark::RegisterBenchmark(
        absl::StrCat("ScriptAckEveryStep/", TransportName(kind)).c_str(),
        ScriptOnKind, kind, every_step)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("Differential/all", Differential)->UseRealTime();
  for (TransportKind kind : kAllTransportKinds) {
    benchmark::RegisterBenchmark(
        absl::StrCat("PairSetup/", TransportName(kind)).c_str(), PairSetup,
        kind)
        ->UseRealTime();
  }
}

}  // namespace sockparity::bench
