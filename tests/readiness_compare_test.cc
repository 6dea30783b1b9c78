// How readiness masks (poll, epoll) are compared: urgent data both kinds
// show is no part of a difference, and masks no entry allows whole are
// explained event by event, each by an entry of its own.
#include <string>
#include <vector>

#include "comparison_util.h"

namespace sockparity::testing {
namespace {

using Verdict = Comparison::Verdict;

// PRI (urgent data pending) shown by both kinds is factored out before the
// entries are asked; shown by one kind only, it is a difference of its own.
TEST(ReadinessCompare, UrgentDataOnBothSidesIsNoPartOfTheDifference) {
  const std::string script = "a pair b\na send-oob\na abort\nb poll\n";
  const Trace unix = MakeTrace(TransportKind::kSocketpair,
                               {"ok", "ok", "ok", "IN|PRI|OUT|RDHUP|HUP"});
  const Trace tcp = MakeTrace(TransportKind::kTcp4,
                              {"ok", "ok", "ok", "IN|PRI|OUT|RDHUP|ERR|HUP"});
  // The control: PRI shown by one kind only.
  ExpectExplainedButNotTheControl(
      script, unix, tcp, unix,
      WithOutcomes(tcp, {{3, "IN|OUT|RDHUP|ERR|HUP"}}));
}

// Two masks that no entry allows as wholes are compared event by event:
// each event shown by one kind only needs an entry of its own (here the
// peer's close: POLLHUP on UNIX only, and the error it left pending).
TEST(ReadinessCompare, PollEventsAreExplainedOneByOne) {
  const std::string script = "a pair b\nb send 10\na close\nb poll\n";
  const Trace unix = MakeTrace(TransportKind::kSocketpair,
                               {"ok", "ok", "ok", "IN|OUT|RDHUP|ERR|HUP"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "IN|OUT|RDHUP"});
  // The control: one event that no entry explains (OUT on one side only) is
  // enough.
  const ExplainedAndControl both = ExpectExplainedButNotTheControl(
      script, unix, tcp, unix, WithOutcomes(tcp, {{3, "IN|RDHUP"}}));
  EXPECT_THAT(both.explained.entries,
              ::testing::UnorderedElementsAre(
                  "poll_hup_on_peer_close", "pending_error_after_peer_reset"));
  // Without the entry for one of the two events, the step diverges.
  SP_ASSERT_OK_AND_ASSIGN(
      DifferenceRegistry fewer,
      DifferenceRegistry::Default().Without({"pending_error_after_peer_reset"}));
  const Comparison without = Compare(script, unix, tcp, fewer);
  EXPECT_EQ(without.verdict, Verdict::kDiverged) << without.Describe();
  // Before the peer's close, no entry applies to either event.
  const Comparison early =
      Compare("a pair b\nb send 10\nb poll\na close\n",
              MakeTrace(TransportKind::kSocketpair,
                        {"ok", "ok", "IN|OUT|RDHUP|ERR|HUP", "ok"}),
              MakeTrace(TransportKind::kTcp4, {"ok", "ok", "IN|OUT|RDHUP", "ok"}),
              DifferenceRegistry::Default());
  EXPECT_EQ(early.verdict, Verdict::kDiverged) << early.Describe();
}

}  // namespace
}  // namespace sockparity::testing
