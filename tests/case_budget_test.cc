// The bounds on a check run (issue 26): a case that runs out of its budget
// FAILED naming the step it was in; the run's time leaves the rest unplayed
// and a case it cuts short unjudged; a server that never reads gets each
// verdict within the reply window, not after every wait's timeout.
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sockparity/check/peer_check.h"

namespace sockparity {
namespace {

using ::testing::HasSubstr;

CheckOptions BrokenServer(std::vector<std::string> bug,
                          std::vector<std::string> cases) {
  CheckOptions options;
  options.command = {SOCKPARITY_BROKEN_SERVER};
  options.command.insert(options.command.end(), bug.begin(), bug.end());
  options.include = std::move(cases);
  options.transports = {ContractTransport::kUnix};
  options.seed = 26;
  return options;
}

const CheckReport::Cell* CellOf(const CheckReport& report,
                                absl::string_view id) {
  for (const CheckReport::Cell& cell : report.cells)
    if (cell.case_id == id) return &cell;
  return nullptr;
}

// 1.3's 251-byte reply sent one byte per 100 ms always makes progress, so
// only the budget ends it.
TEST(CaseBudget, ACaseThatRunsOutFailsNamingTheStep) {
  CheckOptions options = BrokenServer({"--bug", "trickle"}, {"1.3"});
  options.case_budget = absl::Seconds(3);
  const absl::Time start = absl::Now();
  absl::StatusOr<CheckReport> report = RunCheck(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  const CheckReport::Cell* cell = CellOf(*report, "1.3");
  ASSERT_NE(cell, nullptr);
  EXPECT_EQ(cell->result.verdict, Verdict::kFailed) << cell->result.reason;
  EXPECT_THAT(cell->result.reason,
              HasSubstr("expected the case done within its budget of 3s "
                        "(docs/SUT_CONTRACT.md, \"A case's budget\")"));
  EXPECT_THAT(cell->result.reason, HasSubstr("in the step: the 251 bytes"));
  EXPECT_FALSE(report->ran_out_of_time);
}

// A correct server, slow within the reply window: the run's time is the
// user's choice, not the server's fault, so nothing it cuts is FAILED.
TEST(CaseBudget, TheRunsTimeLeavesCasesUnplayedAndUnjudged) {
  CheckOptions options = BrokenServer(
      {"--bug", "none", "--reply-delay-ms", "400"},
      {"1.*", "2.*", "3.*", "9.2"});
  options.max_run_time = absl::Seconds(3);
  absl::StatusOr<CheckReport> report = RunCheck(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ran_out_of_time);
  EXPECT_EQ(report->Count(Verdict::kFailed), 0);
  ASSERT_FALSE(report->not_played.empty());
  EXPECT_THAT(absl::StrJoin(report->not_played, "\n"),
              HasSubstr("--max-run-time 3s was spent"));
  // The stop is still judged: the server was stopped.
  EXPECT_NE(CellOf(*report, "9.2"), nullptr);
}

// Each of these once waited a whole --timeout or more (a raw receive, a
// send of the rest of a request nobody reads) after the server had shown
// it would not read.
TEST(CaseBudget, ANeverReadingServerFailsEachCaseWithinTheWindow) {
  CheckOptions options =
      BrokenServer({"--bug", "never-reads"}, {"4.2", "6.3", "8.3"});
  options.timeout = absl::Seconds(30);
  absl::StatusOr<CheckReport> report = RunCheck(options);
  ASSERT_TRUE(report.ok()) << report.status();
  for (absl::string_view id : {"4.2", "6.3", "8.3"}) {
    const CheckReport::Cell* cell = CellOf(*report, id);
    ASSERT_NE(cell, nullptr) << id;
    EXPECT_EQ(cell->result.verdict, Verdict::kFailed) << id;
    EXPECT_THAT(cell->result.reason, HasSubstr("sat idle in the kernel"))
        << id;
    EXPECT_LT(cell->result.duration, absl::Seconds(15))
        << id << ": " << cell->result.reason;
  }
}

}  // namespace
}  // namespace sockparity
