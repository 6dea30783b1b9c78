// Differential lifecycle: the input's bytes choose a legal script, which
// runs on every available kind; any divergence the registry does not allow
// is a finding, printed as the script up to the divergence, ready for
// corpus/scripts/ and 'sockparity replay'.
#include <cstdio>
#include <cstdlib>

#include "fuzz_util.h"
#include "sockparity/net/temp_dir.h"
#include "sockparity/script/differential.h"
#include "sockparity/script/finding.h"
#include "sockparity/script/script_gen.h"

// A fuzzer stopped by a signal or -max_total_time runs no destructor: the
// sweeper removes the socket directories of the input it was running.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)sockparity::StartTempDirSweeper();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sockparity::fuzz::LeakGuard guard;
  sockparity::ByteChoices choices(absl::MakeConstSpan(data, size));
  const sockparity::Script script = sockparity::GenerateLifecycleScript(
      [&](uint32_t n) { return choices(n); });
  // What an input runs, for a corpus file or a slow input.
  static const bool print = std::getenv("SOCKPARITY_PRINT_SCRIPT") != nullptr;
  if (print) {
    std::fprintf(stderr, "%s", sockparity::FormatScript(script).c_str());
  }
  static const std::vector<sockparity::TransportKind> kinds =
      sockparity::AvailableTransportKinds();
  const sockparity::DifferentialRun run = sockparity::RunDifferential(
      script, kinds, sockparity::DifferenceRegistry::InEffect());
  for (const auto& skipped : run.skipped) {
    std::fprintf(stderr, "%s\n", skipped.second.ToString().c_str());
    sockparity::fuzz::Finding("the harness could not run a script");
  }
  if (run.diverged()) {
    std::fprintf(stderr, "%s",
                 sockparity::FormatDivergence(script, run).c_str());
    // An overnight run's to-do list: each distinct divergence once, with
    // its shortest script (ci/fuzz sets the directory and summarizes it).
    if (const char* dir = std::getenv("SOCKPARITY_FINDINGS_DIR")) {
      const absl::Status kept = sockparity::RecordFinding(
          dir, *sockparity::ReplayedFindingOf(
                   script, run, sockparity::DifferenceRegistry::InEffect()));
      if (!kept.ok()) std::fprintf(stderr, "%s\n", kept.ToString().c_str());
    }
    sockparity::fuzz::Finding("an undocumented divergence between transports");
  }
  return 0;
}
