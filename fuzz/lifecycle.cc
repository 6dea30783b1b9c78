// Differential lifecycle: the input's bytes choose a legal script, which
// runs on every available kind; any divergence the registry does not allow
// is a finding, printed as the script up to the divergence, ready for
// corpus/scripts/ and 'sockparity replay'.
#include <cstdio>

#include "fuzz_util.h"
#include "sockparity/script/differential.h"
#include "sockparity/script/script_gen.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sockparity::fuzz::LeakGuard guard;
  sockparity::ByteChoices choices(absl::MakeConstSpan(data, size));
  const sockparity::Script script = sockparity::GenerateLifecycleScript(
      [&](uint32_t n) { return choices(n); });
  const sockparity::DifferentialRun run = sockparity::RunDifferential(
      script, sockparity::AvailableTransportKinds());
  for (const auto& skipped : run.skipped) {
    std::fprintf(stderr, "%s\n", skipped.second.ToString().c_str());
    sockparity::fuzz::Finding("the harness could not run a script");
  }
  if (run.diverged()) {
    std::fprintf(stderr, "%s",
                 sockparity::FormatDivergence(script, run).c_str());
    sockparity::fuzz::Finding("an undocumented divergence between transports");
  }
  return 0;
}
