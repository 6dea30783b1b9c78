// Findings: the same difference shown by different scripts is one finding,
// kept at its shortest script, counted, and replayable.
#include "sockparity/script/finding.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sockparity/net/temp_dir.h"
#include "sockparity/script/differential.h"

namespace sockparity {
namespace {

using ::testing::HasSubstr;

// The registry without the entry that documents TCP_NODELAY, so that the
// option's difference is a finding.
DifferenceRegistry WithoutNodelay() {
  std::vector<Difference> entries;
  for (const Difference& entry : DifferenceRegistry::Default().entries())
    if (entry.id != "tcp_nodelay_only_on_tcp") entries.push_back(entry);
  return DifferenceRegistry(std::move(entries));
}

Finding FindingFor(const std::string& text, const DifferenceRegistry& registry) {
  absl::StatusOr<Script> script = ParseScript(text);
  EXPECT_TRUE(script.ok()) << script.status();
  const DifferentialRun run =
      RunDifferential(*script, AvailableTransportKinds(), registry);
  std::optional<Finding> finding = FindingOf(*script, run);
  EXPECT_TRUE(finding.has_value()) << "no divergence:\n" << text;
  return finding.value_or(Finding{});
}

std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(Finding, NoneWhenNothingDiverged) {
  absl::StatusOr<Script> script = ParseScript("a pair b\na nodelay\n");
  ASSERT_TRUE(script.ok());
  const DifferentialRun run = RunDifferential(*script, AvailableTransportKinds());
  EXPECT_FALSE(FindingOf(*script, run).has_value());
}

TEST(Finding, OneDifferenceIsOneFindingAtItsShortestScript) {
  const DifferenceRegistry registry = WithoutNodelay();
  const Finding longer = FindingFor(
      "x pair y\nx send 5\ny recv-exactly 5\na pair b\na nodelay\na send 3\n",
      registry);
  const Finding shorter = FindingFor("a pair b\na nodelay\n", registry);
  EXPECT_EQ(longer.signature, shorter.signature);
  EXPECT_THAT(shorter.signature, HasSubstr("nodelay: "));
  EXPECT_THAT(shorter.signature, HasSubstr("tcp4,tcp6=ok"));
  // The script stops at the divergence.
  EXPECT_EQ(longer.script.steps.size(), 5u);

  absl::StatusOr<TempDir> dir = TempDir::Create();
  ASSERT_TRUE(dir.ok());
  const std::string findings = dir->path() + "/findings";
  ASSERT_TRUE(RecordFinding(findings, longer).ok());
  ASSERT_TRUE(RecordFinding(findings, shorter).ok());
  ASSERT_TRUE(RecordFinding(findings, longer).ok());
  const std::vector<std::string> files = Files(findings);
  ASSERT_EQ(files.size(), 2u) << ::testing::PrintToString(files);
  const std::string base = findings + "/" + files[0].substr(0, 16);
  EXPECT_EQ(std::filesystem::file_size(base + ".seen"), 3u);

  // What is kept is the shorter script, and it replays as a script.
  const std::string kept = Read(base + ".script");
  EXPECT_THAT(kept, HasSubstr("# signature: " + shorter.signature));
  EXPECT_THAT(kept, HasSubstr("K::kTcp4, K::kTcp6}, \"TODO"));
  absl::StatusOr<Script> again = ParseScript(kept);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->steps.size(), 2u);
  const DifferentialRun rerun =
      RunDifferential(*again, AvailableTransportKinds(), registry);
  EXPECT_TRUE(rerun.diverged());
}

// A divergence is kept as a finding only if its script shows it again; one
// that does not come back (here: traces that say what the kernel does not)
// is marked, not lost.
TEST(Finding, OnlyADivergenceThatReplaysIsAPlainFinding) {
  const DifferenceRegistry registry = WithoutNodelay();
  absl::StatusOr<Script> script = ParseScript("a pair b\na nodelay\n");
  ASSERT_TRUE(script.ok());
  const std::vector<TransportKind> kinds = {TransportKind::kSocketpair,
                                            TransportKind::kTcp4};
  const DifferentialRun run = RunDifferential(*script, kinds, registry);
  std::optional<Finding> real = ReplayedFindingOf(*script, run, registry);
  ASSERT_TRUE(real.has_value());
  EXPECT_THAT(real->signature, ::testing::StartsWith("nodelay: "));

  // The same script with traces the kernel will not give again: both kinds
  // agree on the option, but one claims the pair failed.
  DifferentialRun made_up = run;
  made_up.traces[0].steps[0].outcome = "EMFILE";
  made_up.pairs = CompareEveryPair(*script, made_up.traces, registry);
  ASSERT_TRUE(made_up.diverged());
  std::optional<Finding> unreplayed =
      ReplayedFindingOf(*script, made_up, registry);
  ASSERT_TRUE(unreplayed.has_value());
  EXPECT_THAT(unreplayed->signature,
              ::testing::StartsWith("did not replay: pair: "));
}

TEST(Finding, DifferentDifferencesAreDifferentFindings) {
  const DifferenceRegistry none({});
  const Finding nodelay = FindingFor("a pair b\na nodelay\n", none);
  const Finding sockname = FindingFor("a pair b\na sockname\n", none);
  EXPECT_NE(nodelay.signature, sockname.signature);
}

TEST(Finding, AnUnwritableDirectoryIsAnErrorNamingIt) {
  Finding finding;
  finding.signature = "x";
  const absl::Status kept = RecordFinding("/proc/no-such/findings", finding);
  EXPECT_FALSE(kept.ok());
  EXPECT_THAT(std::string(kept.message()), HasSubstr("/proc/no-such/findings"));
}

}  // namespace
}  // namespace sockparity
