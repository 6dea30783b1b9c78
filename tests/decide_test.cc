// Decide, the one place a verdict of `sockparity check` is decided: one
// test per rule of its precedence (decide.cc), each with the facts where
// that rule and no later one decides.
#include "check/decide.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sockparity::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Every fact that could decide against the rule under test.
CaseFacts Everything(Observed observed) {
  CaseFacts facts;
  facts.observed = std::move(observed);
  facts.should = true;
  facts.start_failed = "expected the server to start; saw exit status 1";
  facts.ended = "exit status 2";
  return facts;
}

TEST(Decide, DoesNotApplyComesFirst) {
  const Decision decision =
      Decide(Everything(Observed::DoesNotApply("fd:N carries one connection")));
  EXPECT_EQ(decision.verdict, Verdict::kNotApplicable);
  EXPECT_EQ(decision.reason, "fd:N carries one connection");
}

TEST(Decide, NotServedComesBeforeTheServersState) {
  const Decision decision =
      Decide(Everything(Observed::NotServed("exit status 64 on unix:@")));
  EXPECT_EQ(decision.verdict, Verdict::kUnsupported);
  EXPECT_EQ(decision.reason, "exit status 64 on unix:@");
}

// A SHOULD case whose server did not start still FAILS: the start is a
// MUST.
TEST(Decide, AServerThatDidNotStartFails) {
  CaseFacts facts = Everything(Observed::Missed("expected x; saw y"));
  facts.ended.reset();
  const Decision decision = Decide(facts);
  EXPECT_EQ(decision.verdict, Verdict::kFailed);
  EXPECT_EQ(decision.reason, "expected the server to start; saw exit status 1");
}

// Whatever the case saw before, even all it asked for.
TEST(Decide, AServerThatEndedDuringTheCaseFails) {
  CaseFacts facts = Everything(Observed::Met("ready after 10ms"));
  facts.start_failed.reset();
  const Decision decision = Decide(facts);
  EXPECT_EQ(decision.verdict, Verdict::kFailed);
  EXPECT_THAT(decision.reason,
              HasSubstr("expected the server to keep running; it ended "
                        "during the case: exit status 2"));
}

TEST(Decide, AMustMissedFailsAndAShouldMissedIsNonStrict) {
  CaseFacts facts;
  facts.observed = Observed::Missed("expected a reply; saw end of stream");
  Decision decision = Decide(facts);
  EXPECT_EQ(decision.verdict, Verdict::kFailed);
  EXPECT_EQ(decision.reason, "expected a reply; saw end of stream");
  facts.should = true;
  decision = Decide(facts);
  EXPECT_EQ(decision.verdict, Verdict::kNonStrict);
  EXPECT_EQ(decision.reason, "(SHOULD) expected a reply; saw end of stream");
}

TEST(Decide, AMissWithoutAReasonSaysSo) {
  CaseFacts facts;
  facts.observed = Observed::Missed("");
  const Decision decision = Decide(facts);
  EXPECT_EQ(decision.verdict, Verdict::kFailed);
  EXPECT_THAT(decision.reason, StartsWith("expected a reason"));
}

TEST(Decide, WhatTheContractLeavesOpenIsInformational) {
  CaseFacts facts;
  facts.should = true;
  facts.observed = Observed::LeftOpen("differs only as documented: x");
  const Decision decision = Decide(facts);
  EXPECT_EQ(decision.verdict, Verdict::kInformational);
  EXPECT_EQ(decision.reason, "differs only as documented: x");
}

TEST(Decide, WhatTheClauseAsksIsOk) {
  CaseFacts facts;
  facts.should = true;
  facts.observed = Observed::Met("exit 0 after 12ms");
  const Decision decision = Decide(facts);
  EXPECT_EQ(decision.verdict, Verdict::kOk);
  EXPECT_EQ(decision.reason, "exit 0 after 12ms");
}

// The names every report prints, one each.
TEST(Decide, EveryVerdictHasItsOwnName) {
  std::set<std::string> names;
  for (Verdict verdict : kAllVerdicts) {
    const std::string name = VerdictName(verdict);
    EXPECT_NE(name, "?");
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(VerdictName(Verdict::kNotApplicable), "N/A");
}

}  // namespace
}  // namespace sockparity::internal
