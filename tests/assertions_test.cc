// Scripts that assert: every corpus script states what each kind must give
// at every step, every kind gives it, and an assertion that is not met is a
// failure naming the step, the kind, what was expected and what came.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sockparity/script/differential.h"
#include "sockparity/script/script.h"
#include "test_util.h"

namespace sockparity::testing {
namespace {

using ::testing::HasSubstr;

std::vector<std::filesystem::path> ScriptsIn(const std::string& dir) {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".script") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::vector<std::filesystem::path> CorpusScripts() {
  return ScriptsIn(absl::StrCat(SOCKPARITY_CORPUS_DIR, "/scripts"));
}

absl::StatusOr<Script> Load(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return ParseScript(text.str());
}

class CorpusAssertions : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusAssertions, EveryStepAssertsAndEveryKindMeetsIt) {
  SP_ASSERT_OK_AND_ASSIGN(Script script, Load(GetParam()));
  for (const Step& step : script.steps) {
    EXPECT_TRUE(step.expect.has_value())
        << GetParam() << " line " << step.line << " '" << FormatStep(step)
        << "' asserts nothing ('sockparity replay --assert FILE' drafts it)";
  }
  const DifferentialRun run =
      RunDifferential(script, AvailableTransportKinds());
  EXPECT_FALSE(run.failed()) << FormatDifferentialRun(script, run, true);
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, CorpusAssertions, ::testing::ValuesIn([] {
      std::vector<std::string> names;
      for (const auto& path : CorpusScripts()) names.push_back(path.string());
      return names;
    }()),
    [](const ::testing::TestParamInfo<std::string>& info) {
      return std::filesystem::path(info.param).stem().string();
    });

// Every verb is tried, with its outcome asserted, by some script.
TEST(AssertionTest, EveryVerbHasAnAssertingScript) {
  std::set<Verb> seen;
  for (const auto& path : CorpusScripts()) {
    SP_ASSERT_OK_AND_ASSIGN(Script script, Load(path));
    for (const Step& step : script.steps) {
      if (step.expect) seen.insert(step.verb);
    }
  }
  for (int v = 0; v < kVerbCount; ++v) {
    EXPECT_TRUE(seen.contains(static_cast<Verb>(v)))
        << VerbName(static_cast<Verb>(v)) << " is in no asserting script";
  }
}

// Every kind changing the same way is caught: the kinds agree, the
// assertion does not.
TEST(AssertionTest, FailureNamesStepKindExpectedAndActual) {
  SP_ASSERT_OK_AND_ASSIGN(
      Script script,
      ParseScript("a pair b = ok\nb close = ok\na send 10 = local: EPIPE; "
                  "tcp: ok\na send 10 = ECONNRESET\n"));
  const std::vector<TransportKind> kinds = AvailableTransportKinds();
  const DifferentialRun run = RunDifferential(script, kinds);
  EXPECT_FALSE(run.diverged());
  EXPECT_TRUE(run.failed());
  for (const Trace& trace : run.traces) {
    ASSERT_EQ(trace.assertion_failures.size(), 1u) << TransportName(trace.kind);
    EXPECT_EQ(trace.assertion_failures[0].step, 3);
    EXPECT_EQ(trace.assertion_failures[0].expected, "ECONNRESET");
    EXPECT_EQ(trace.assertion_failures[0].actual, "EPIPE");
  }
  const std::string shown = FormatDifferentialRun(script, run, false);
  EXPECT_THAT(shown,
              HasSubstr(absl::StrCat("assertion failed: step 4 'a send 10' on ",
                                     TransportName(kinds[0]),
                                     ": expected ECONNRESET, got EPIPE")));
  EXPECT_THAT(shown, HasSubstr("verdict: FAILED"));
}

TEST(AssertionTest, PerKindOutcomesAreCheckedPerKind) {
  // The outcomes swapped between the families: each kind fails.
  SP_ASSERT_OK_AND_ASSIGN(
      Script script,
      ParseScript("a pair b\nb close\na send 10 = local: ok; tcp: EPIPE\n"));
  const DifferentialRun run =
      RunDifferential(script, AvailableTransportKinds());
  for (const Trace& trace : run.traces) {
    EXPECT_EQ(trace.assertion_failures.size(), 1u) << TransportName(trace.kind);
  }
}

}  // namespace
}  // namespace sockparity::testing
