// A socket that an allowed difference set up on one kind only (a bind,
// listen, connect or accept that succeeded on one and failed on the other)
// is another thing on each kind: the steps on it, or naming it, and what it
// receives are that entry's consequence, not compared. Each test has a
// control where the socket is the same on both kinds, and the comparison
// finds the difference.
#include <string>
#include <vector>

#include "comparison_util.h"

namespace sockparity::testing {
namespace {

using ::testing::HasSubstr;
using Verdict = Comparison::Verdict;

// A socket set up on one kind only (bind-same refused on unix-path, where
// the closed listener's file stays; made on TCP, which then connects it to
// its own port) is not the same socket on the two: what it receives may
// differ, whichever entry explained its steps. Another socket's may not.
TEST(SetUpOnOne, ASocketSetUpOnOneKindOnlyMayReceiveDifferently) {
  const char* script =
      "l listen 1\nl close\nk bind-same l\nk reconnect l\nk send 5\n"
      "k recv 5\nc pair d\nc send 5\nd recv 5\n";
  Trace unix = MakeTrace(TransportKind::kUnixPath,
                         {"ok", "ok", "EADDRINUSE", "closed", "closed",
                          "closed", "ok", "ok", "data"});
  Trace tcp = MakeTrace(
      TransportKind::kTcp4,
      {"ok", "ok", "ok", "EINPROGRESS", "ok", "data", "ok", "ok", "data"});
  tcp.received["k"] = "5 bytes fnv1a64=1";
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  const Comparison set_up = Compare(script, unix, tcp, registry);
  EXPECT_EQ(set_up.verdict, Verdict::kEqualApartFrom) << set_up.Describe();

  unix.received["d"] = "5 bytes fnv1a64=2";
  tcp.received["d"] = "5 bytes fnv1a64=3";
  const Comparison elsewhere = Compare(script, unix, tcp, registry);
  EXPECT_EQ(elsewhere.verdict, Verdict::kDiverged);
  EXPECT_THAT(elsewhere.reason, HasSubstr("d received"));
}

// A bind that an entry allowed to fail on one kind only leaves that socket
// bound on one kind and not on the other: the later steps on it, or naming
// it, are the entry's consequence. Steps on other sockets are still
// compared, and without the entry nothing is allowed.
TEST(SetUpOnOne, SocketSetUpOnOneKindOnlyIsNotComparedFurther) {
  const DifferenceRegistry registry({Difference{
      .id = "rebind_differs",
      .statement = "test",
      .source = "test",
      .behaviour =
          {{{TransportKind::kUnixPath}, "taken", {"bind-same:EADDRINUSE"}},
           {{TransportKind::kTcp4}, "free", {"bind-same:ok"}}},
      .after = {"close"},
      .witness = "bind_after_listener_closed"}});
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
  two.push_back(Difference{
      .id = "no_address",
      .statement = "test",
      .source = "test",
      .behaviour =
          {{{TransportKind::kUnixPath}, "none", {"connect:no-address"}},
           {{TransportKind::kTcp4}, "refused", {"connect:ECONNREFUSED"}}},
      .witness = "bind_after_listener_closed"});
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
  const Comparison comparison =
      Compare(script, path, abstract, DifferenceRegistry::Default());
  EXPECT_EQ(comparison.verdict, Verdict::kEqualApartFrom)
      << comparison.Describe();
  // The same difference where both queues held the same connections.
  Trace same_queue = path;
  same_queue.steps[1].outcome = "ok";
  const Comparison control =
      Compare(script, same_queue, abstract, DifferenceRegistry::Default());
  EXPECT_EQ(control.verdict, Verdict::kDiverged) << control.Describe();
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
  const Comparison comparison =
      Compare(script, path, abstract, DifferenceRegistry::Default());
  EXPECT_EQ(comparison.verdict, Verdict::kEqualApartFrom)
      << comparison.Describe();
  // Bound again on both, the connect is compared.
  Trace both_bound = path;
  both_bound.steps[2].outcome = "ok";
  both_bound.steps[3].outcome = "ok";
  const Comparison control =
      Compare(script, both_bound, abstract, DifferenceRegistry::Default());
  EXPECT_EQ(control.verdict, Verdict::kDiverged) << control.Describe();
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
  const Comparison shared =
      Compare(script, abstract, tcp, DifferenceRegistry::Default());
  EXPECT_EQ(shared.verdict, Verdict::kEqualApartFrom) << shared.Describe();
  // The second bind the same on both kinds: the address is the same thing,
  // and the bind to it is compared.
  Trace both_refused = tcp;
  both_refused.steps[3].outcome = "EADDRINUSE";
  const Comparison control =
      Compare(script, abstract, both_refused, DifferenceRegistry::Default());
  EXPECT_EQ(control.verdict, Verdict::kDiverged);
  EXPECT_EQ(control.step, 5) << control.Describe();
}

}  // namespace
}  // namespace sockparity::testing
