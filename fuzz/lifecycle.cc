// Differential lifecycle: the input's bytes choose a legal script, which
// runs on every available kind; any divergence the registry does not allow
// is a finding, printed as a script for 'sockparity replay'.
#include <cstdio>

#include "fuzz_util.h"
#include "sockparity/script/differences.h"
#include "sockparity/script/script_gen.h"
#include "sockparity/script/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sockparity::fuzz::LeakGuard guard;
  sockparity::ByteChoices choices(absl::MakeConstSpan(data, size));
  const sockparity::Script script = sockparity::GenerateLifecycleScript(
      [&](uint32_t n) { return choices(n); });
  std::vector<sockparity::Trace> traces;
  for (sockparity::TransportKind kind : sockparity::kAllTransportKinds) {
    if (!sockparity::TransportAvailability(kind).ok()) continue;
    absl::StatusOr<sockparity::Trace> trace =
        sockparity::RunScript(script, kind);
    if (!trace.ok()) {
      std::fprintf(stderr, "%s\n", trace.status().ToString().c_str());
      sockparity::fuzz::Finding("the harness could not run a script");
    }
    traces.push_back(std::move(*trace));
  }
  for (size_t i = 0; i < traces.size(); ++i) {
    for (size_t j = i + 1; j < traces.size(); ++j) {
      sockparity::Comparison comparison =
          sockparity::CompareTraces(script, traces[i], traces[j],
                                    sockparity::DifferenceRegistry::Default());
      if (comparison.verdict != sockparity::Comparison::Verdict::kDiverged)
        continue;
      std::fprintf(
          stderr,
          "%s\nThe script (save it and run 'sockparity replay FILE'):\n%s",
          comparison.Describe().c_str(),
          sockparity::FormatScript(script).c_str());
      sockparity::fuzz::Finding(
          "an undocumented divergence between transports");
    }
  }
  return 0;
}
