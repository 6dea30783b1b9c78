// Decide, the one place a verdict of `sockparity check` is decided: one
// test per rule of its precedence (decide.cc), each with the facts where
// that rule and no later one decides.
#include "check/decide.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "absl/strings/str_cat.h"

namespace sockparity::internal {
namespace {

// Every fact that could decide against the rule under test.
CaseFacts Everything(Observed observed) {
  CaseFacts facts;
  facts.observed = std::move(observed);
  facts.should = true;
  facts.start_failed = "expected the server to start; saw exit status 1";
  facts.ended = "exit status 2";
  return facts;
}

// The facts with only what the rule under test looks at: `should` set, so
// that a rule the SHOULD demotion must not reach shows it.
CaseFacts Only(Observed observed) {
  CaseFacts facts;
  facts.observed = std::move(observed);
  facts.should = true;
  return facts;
}

MATCHER_P2(IsDecision, verdict, reason,
           absl::StrCat("is ", VerdictName(verdict), " saying '", reason,
                        "'")) {
  *result_listener << VerdictName(arg.verdict) << ": " << arg.reason;
  return arg.verdict == verdict && arg.reason == reason;
}

TEST(Decide, DoesNotApplyComesFirst) {
  EXPECT_THAT(
      Decide(Everything(Observed::DoesNotApply("fd:N carries one connection"))),
      IsDecision(Verdict::kNotApplicable, "fd:N carries one connection"));
}

TEST(Decide, NotServedComesBeforeTheServersState) {
  EXPECT_THAT(Decide(Everything(Observed::NotServed("exit status 64"))),
              IsDecision(Verdict::kUnsupported, "exit status 64"));
}

// A SHOULD case whose server did not start still FAILS: the start is a
// MUST.
TEST(Decide, AServerThatDidNotStartFails) {
  CaseFacts facts = Everything(Observed::Missed("expected x; saw y"));
  facts.ended.reset();
  EXPECT_THAT(Decide(facts),
              IsDecision(Verdict::kFailed,
                         "expected the server to start; saw exit status 1"));
}

// Whatever the case saw before, even all it asked for.
TEST(Decide, AServerThatEndedDuringTheCaseFails) {
  CaseFacts facts = Everything(Observed::Met("ready after 10ms"));
  facts.start_failed.reset();
  EXPECT_THAT(Decide(facts),
              IsDecision(Verdict::kFailed,
                         "expected the server to keep running; it ended "
                         "during the case: exit status 2"));
}

TEST(Decide, AMustMissedFailsAndAShouldMissedIsNonStrict) {
  CaseFacts facts = Only(Observed::Missed("expected a reply; saw eof"));
  EXPECT_THAT(Decide(facts), IsDecision(Verdict::kNonStrict,
                                        "(SHOULD) expected a reply; saw eof"));
  facts.should = false;
  EXPECT_THAT(Decide(facts),
              IsDecision(Verdict::kFailed, "expected a reply; saw eof"));
}

TEST(Decide, AMissWithoutAReasonSaysSo) {
  CaseFacts facts = Only(Observed::Missed(""));
  facts.should = false;
  EXPECT_THAT(Decide(facts),
              IsDecision(Verdict::kFailed,
                         "expected a reason for this verdict; saw none (a "
                         "bug in sockparity)"));
}

TEST(Decide, WhatTheContractLeavesOpenIsInformational) {
  EXPECT_THAT(
      Decide(Only(Observed::LeftOpen("differs only as documented"))),
      IsDecision(Verdict::kInformational, "differs only as documented"));
}

TEST(Decide, WhatTheClauseAsksIsOk) {
  EXPECT_THAT(Decide(Only(Observed::Met("exit 0 after 12ms"))),
              IsDecision(Verdict::kOk, "exit 0 after 12ms"));
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
