// A socket that an allowed difference set up on one kind only (a bind,
// listen, connect or accept that succeeded on one and failed on the other)
// is another thing on each kind: the steps on it, or naming it, and what it
// receives are that entry's consequence, not compared. Each test has a
// control where the socket is the same on both kinds, and the comparison
// finds the difference.
#include <string>
#include <utility>
#include <vector>

#include "comparison_util.h"

namespace sockparity::testing {
namespace {

using Verdict = Comparison::Verdict;

// A description and a "verb:outcome" pattern: one row of an entry.
using Described = std::pair<std::string, std::string>;

// An entry made for these tests, on the witness they share: a step gives
// one outcome on unix-path and another on tcp4.
Difference UnixPathAgainstTcp4(std::string id, Described unix, Described tcp,
                               std::vector<std::string> after = {}) {
  return Difference{
      .id = std::move(id),
      .statement = "test",
      .source = "test",
      .behaviour = {{{TransportKind::kUnixPath}, unix.first, {unix.second}},
                    {{TransportKind::kTcp4}, tcp.first, {tcp.second}}},
      .after = std::move(after),
      .witness = "bind_after_listener_closed"};
}

// A socket set up on one kind only (bind-same refused on unix-path, where
// the closed listener's file stays; made on TCP, which then connects it to
// its own port) is not the same socket on the two: what it receives may
// differ, whichever entry explained its steps. Another socket's may not.
TEST(SetUpOnOne, ASocketSetUpOnOneKindOnlyMayReceiveDifferently) {
  const char* script =
      "l listen 1\nl close\nk bind-same l\nk reconnect l\nk send 5\n"
      "k recv 5\nc pair d\nc send 5\nd recv 5\n";
  const Trace unix = MakeTrace(TransportKind::kUnixPath,
                               {"ok", "ok", "EADDRINUSE", "closed", "closed",
                                "closed", "ok", "ok", "data"});
  const Trace tcp = WithReceived(
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "EINPROGRESS", "ok",
                                       "data", "ok", "ok", "data"}),
      "k", "5 bytes fnv1a64=1");
  ExpectReceivedMayDifferOnlyWhereAllowed(
      script, unix, tcp, "d", "5 bytes fnv1a64=2", "5 bytes fnv1a64=3");
}

// A bind that an entry allowed to fail on one kind only leaves that socket
// bound on one kind and not on the other: the later steps on it, or naming
// it, are the entry's consequence. Steps on other sockets are still
// compared, and without the entry nothing is allowed.
TEST(SetUpOnOne, SocketSetUpOnOneKindOnlyIsNotComparedFurther) {
  const DifferenceRegistry registry(
      {UnixPathAgainstTcp4("rebind_differs", {"taken", "bind-same:EADDRINUSE"},
                           {"free", "bind-same:ok"}, {"close"})});
  const std::string script =
      "l listen 4\nl close\nm bind-same l\nm poll\nc connect m\n"
      "c so-error\na pair b\nb poll\n";
  const Trace unix = MakeTrace(
      TransportKind::kUnixPath,
      {"ok", "ok", "EADDRINUSE", "closed", "no-address", "n/a", "ok", "OUT"});
  const Trace tcp = MakeTrace(TransportKind::kTcp4,
                              {"ok", "ok", "ok", "OUT|HUP", "ECONNREFUSED",
                               "ECONNREFUSED", "ok", "OUT"});
  const Comparison allowed = Compare(script, unix, tcp, registry);
  EXPECT_EQ(allowed.verdict, Verdict::kEqualApartFrom) << allowed.Describe();
  EXPECT_THAT(allowed.entries, ::testing::ElementsAre("rebind_differs"));

  Trace other = tcp;
  other.steps[7].outcome = "IN|OUT";
  const Comparison elsewhere = Compare(script, unix, other, registry);
  EXPECT_EQ(elsewhere.verdict, Verdict::kDiverged);
  EXPECT_EQ(elsewhere.step, 7) << elsewhere.Describe();

  const Comparison without = Compare(script, unix, tcp, DifferenceRegistry({}));
  EXPECT_EQ(without.verdict, Verdict::kDiverged);
  EXPECT_EQ(without.step, 2) << without.Describe();

  // Where an entry of its own explains the connect to it, the connecting
  // socket still differs with it.
  std::vector<Difference> two(1, registry.entries()[0]);
  two.push_back(UnixPathAgainstTcp4("no_address",
                                    {"none", "connect:no-address"},
                                    {"refused", "connect:ECONNREFUSED"}));
  const Comparison through_entry =
      Compare(script, unix, tcp, DifferenceRegistry(std::move(two)));
  EXPECT_EQ(through_entry.verdict, Verdict::kEqualApartFrom)
      << through_entry.Describe();
}

// A connection accepted from a listener whose queue differs (a connect the
// path's permissions refused on one kind) is another connection there,
// though accept says "ok" on both: what it reads is not compared.
TEST(SetUpOnOne, AcceptedFromAQueueThatDiffersDiffersToo) {
  const std::string script =
      "l listen 3\nn connect-as-nobody l\nc connect l\nc send 10\n"
      "s accept l\ns recv-until-eof\n";
  const Trace path = MakeTrace(TransportKind::kUnixPath,
                               {"ok", "EACCES", "ok", "ok", "ok", "timeout"});
  const Trace abstract = MakeTrace(TransportKind::kUnixAbstract,
                                   {"ok", "ok", "ok", "ok", "ok", "eof"});
  // The control: the same difference where both queues held the same
  // connections.
  ExpectExplainedButNotTheControl(script, path, abstract,
                                  WithOutcomes(path, {{1, "ok"}}), abstract);
}

// An address bound again on one kind only (the socket file a closed UNIX
// listener left behind) leads to another thing on each kind: a connect to
// it is not compared.
TEST(SetUpOnOne, AnAddressBoundAgainOnOneKindOnlyIsNotComparedFurther) {
  const std::string script =
      "l listen 3 reuseaddr\nl abort\nk bind-same l reuseaddr\n"
      "k relisten 0\nc connect l\n";
  const Trace path =
      MakeTrace(TransportKind::kUnixPath,
                {"ok", "ok", "EADDRINUSE", "closed", "ECONNREFUSED"});
  const Trace abstract =
      MakeTrace(TransportKind::kUnixAbstract, {"ok", "ok", "ok", "ok", "ok"});
  // The control: bound again on both, the connect is compared.
  ExpectExplainedButNotTheControl(script, path, abstract,
                                  WithOutcomes(path, {{2, "ok"}, {3, "ok"}}),
                                  abstract);
}

// A second socket bound to an address on one kind only (SO_REUSEADDR
// sharers: TCP lets two have a port, an abstract name has one holder) makes
// the address another thing on each kind, whichever of its sharers a later
// step names: here the address's first owner, after the sharer's holder
// closed (tcp_reuseaddr_sockets_share_a_port).
TEST(SetUpOnOne, ABindOnASharedAddressMakesTheWholeAddressDiffer) {
  const std::string script =
      "l listen 1\nl close\nk bind-same l reuseaddr\n"
      "k2 bind-same k reuseaddr\nk abort\nk3 bind-same l\n";
  const Trace abstract =
      MakeTrace(TransportKind::kUnixAbstract,
                {"ok", "ok", "ok", "EADDRINUSE", "ok", "ok"});
  const Trace tcp = MakeTrace(TransportKind::kTcp4,
                              {"ok", "ok", "ok", "ok", "ok", "EADDRINUSE"});
  // The control: the second bind the same on both kinds, the address is the
  // same thing, and the bind to it is compared.
  const ExplainedAndControl shared = ExpectExplainedButNotTheControl(
      script, abstract, tcp, abstract, WithOutcomes(tcp, {{3, "EADDRINUSE"}}));
  EXPECT_EQ(shared.control.step, 5) << shared.control.Describe();
}

}  // namespace
}  // namespace sockparity::testing
