// The fast runner (RunOptions{}: kinds at once, ACKs awaited only where a
// step can see them, delayed ACKs hurried) gives the traces the previous
// way gave (RunOptions::Previous()), on every input of corpus/lifecycle/,
// run the way the lifecycle fuzzer runs them. Details (byte counts, TCP
// buffer sizes) are not compared: they differ between two runs of the same
// way too.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sockparity/script/differential.h"
#include "sockparity/script/script_gen.h"
#include "test_util.h"

namespace sockparity::testing {
namespace {

// The script the lifecycle fuzzer makes of `input` (fuzz/lifecycle.cc).
Script LifecycleScript(const std::vector<uint8_t>& input) {
  ByteChoices choices(absl::MakeConstSpan(input));
  return GenerateLifecycleScript([&](uint32_t n) { return choices(n); });
}

std::vector<uint8_t> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// What a run's traces compare by, one line per step, in the run's order
// of kinds.
std::vector<std::string> Compared(const DifferentialRun& run) {
  std::vector<std::string> lines;
  for (const Trace& trace : run.traces) {
    for (size_t i = 0; i < trace.steps.size(); ++i) {
      lines.push_back(absl::StrCat(TransportName(trace.kind), " step ", i + 1,
                                   ": ", trace.steps[i].outcome));
    }
    for (const auto& [slot, received] : trace.received) {
      lines.push_back(absl::StrCat(TransportName(trace.kind), " ", slot,
                                   " received ", received));
    }
  }
  for (const auto& [kind, status] : run.skipped) {
    lines.push_back(absl::StrCat(TransportName(kind), " skipped"));
  }
  return lines;
}

// The first line where `fast` and `previous` differ, both ways; "" if none.
std::string FirstDifference(const std::vector<std::string>& fast,
                            const std::vector<std::string>& previous) {
  for (size_t i = 0; i < std::max(fast.size(), previous.size()); ++i) {
    const std::string a = i < fast.size() ? fast[i] : "(nothing)";
    const std::string b = i < previous.size() ? previous[i] : "(nothing)";
    if (a != b) return absl::StrCat("fast: ", a, "; previous: ", b);
  }
  return "";
}

TEST(DifferentialCorpusTest, FastRunnerGivesThePreviousTraces) {
  std::vector<std::filesystem::path> inputs;
  for (const auto& entry :
       std::filesystem::directory_iterator(SOCKPARITY_LIFECYCLE_CORPUS_DIR)) {
    inputs.push_back(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  ASSERT_GE(inputs.size(), 200u) << SOCKPARITY_LIFECYCLE_CORPUS_DIR;
  const std::vector<TransportKind> kinds = AvailableTransportKinds();
  ASSERT_GE(kinds.size(), 2u);
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  for (const std::filesystem::path& input : inputs) {
    const Script script = LifecycleScript(ReadFile(input));
    const DifferentialRun fast = RunDifferential(script, kinds, registry);
    const DifferentialRun previous =
        RunDifferential(script, kinds, registry, RunOptions::Previous());
    EXPECT_EQ(FirstDifference(Compared(fast), Compared(previous)), "")
        << input.filename() << ":\n"
        << FormatScript(script);
    EXPECT_EQ(fast.diverged(), previous.diverged()) << input.filename();
  }
}

}  // namespace
}  // namespace sockparity::testing
