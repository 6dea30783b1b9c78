// The scoping of registry entries: an entry explains a difference only on
// the sockets its trigger touched, only after a trigger on the right kind of
// socket, only while a trigger that must stay open is, and lets received
// bytes differ only on those sockets. Each test is a script where a trigger
// elsewhere once excused a real difference (the outcomes are the kernel's,
// from the corpus scripts named), with a control the entry does explain.
#include <string>
#include <vector>

#include "comparison_util.h"

namespace sockparity::testing {
namespace {

using ::testing::HasSubstr;
using Verdict = Comparison::Verdict;

// An abort on one pair does not explain the reset another pair shows after
// SHUT_RD+SHUT_WR (data_after_shutdown_rd_and_wr); the entry that does is
// left out, so nothing may.
TEST(RegistryScope, TriggerReachesOnlyItsOwnConnection) {
  const DifferenceRegistry registry =
      Without({"tcp_resets_data_after_full_shutdown"});
  const Trace unix = MakeTrace(
      TransportKind::kSocketpair,
      {"ok", "ok", "ok", "ok", "ok", "EPIPE", "IN|OUT|RDHUP|HUP", "0"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "ok", "ok", "ok",
                                       "IN|OUT|RDHUP|ERR|HUP", "ECONNRESET"});
  const Comparison unrelated = Compare(
      "a pair b\na abort\nc pair d\nc shutdown rd\nc shutdown wr\n"
      "d send 10\nc poll\nc so-error\n",
      unix, tcp, registry);
  EXPECT_EQ(unrelated.verdict, Verdict::kDiverged);
  EXPECT_EQ(unrelated.step, 6) << unrelated.Describe();

  // The abort of the socket's own peer is what linger_zero_resets_only_tcp
  // explains.
  const Comparison own = Compare(
      "a pair b\nc pair d\nd abort\nc poll\nc so-error\n",
      MakeTrace(TransportKind::kSocketpair,
                {"ok", "ok", "ok", "IN|OUT|RDHUP|HUP", "0"}),
      MakeTrace(TransportKind::kTcp4,
                {"ok", "ok", "ok", "IN|OUT|RDHUP|ERR|HUP", "ECONNRESET"}),
      registry);
  EXPECT_THAT(own.entries,
              ::testing::ElementsAre("linger_zero_resets_only_tcp"));
}

// A difference in what a socket received is allowed only on the sockets
// the trigger touched: a SHUT_RD on a-b lets a's bytes differ, not d's.
TEST(RegistryScope, ReceivedDataAllowedOnlyOnTouchedSockets) {
  const char* script =
      "a pair b\na shutdown rd\nb send 10\nc pair d\nc send 10\nd recv 10\n";
  const Trace unix = MakeTrace(TransportKind::kUnixPath,
                               {"ok", "ok", "EPIPE", "ok", "ok", "data"});
  const Trace tcp = WithReceived(
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "ok", "ok", "data"}),
      "a", "10 bytes fnv1a64=1");
  ExpectReceivedMayDifferOnlyWhereAllowed(
      script, unix, tcp, "d", "10 bytes fnv1a64=2", "10 bytes fnv1a64=3");
}

// A reconnect of a bound socket is a connection made to its target, as a
// connect's is: the listener's abort reaches it
// (bind_after_reset_of_kernel_chosen_port), not a bound socket that never
// connected.
TEST(RegistryScope, AReconnectIsAConnectionToItsTarget) {
  const char* script =
      "l listen 1\nk bind\nk reconnect l\nl abort\nk2 bind-same k\n"
      "j bind\nj2 bind-same j\n";
  const Trace unix =
      MakeTrace(TransportKind::kUnixAbstract,
                {"ok", "ok", "ok", "ok", "EADDRINUSE", "ok", "EADDRINUSE"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp4,
                {"ok", "ok", "EINPROGRESS", "ok", "ok", "ok", "EADDRINUSE"});
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  const Comparison reached = Compare(script, unix, tcp, registry);
  EXPECT_EQ(reached.verdict, Verdict::kEqualApartFrom) << reached.Describe();

  const Trace tcp_elsewhere =
      MakeTrace(TransportKind::kTcp4,
                {"ok", "ok", "EINPROGRESS", "ok", "ok", "ok", "ok"});
  const Comparison elsewhere = Compare(script, unix, tcp_elsewhere, registry);
  EXPECT_EQ(elsewhere.verdict, Verdict::kDiverged);
  EXPECT_THAT(elsewhere.reason, HasSubstr("j2 bind-same j"));
}

// A fill lets what its peer receives differ (the amount is a buffer
// size: fill_then_read) though no step differs; not on another pair.
TEST(RegistryScope, FillLetsOnlyItsPeersReceivedBytesDiffer) {
  const char* script =
      "a pair b\nc pair d\nb fill\na drain\nc send 10\nd drain\n";
  const std::vector<std::string> same = {"ok",     "ok", "EAGAIN",
                                         "EAGAIN", "ok", "EAGAIN"};
  const Trace unix = WithReceived(MakeTrace(TransportKind::kUnixPath, same),
                                  "a", "233152 bytes fnv1a64=1");
  const Trace tcp = WithReceived(MakeTrace(TransportKind::kTcp4, same), "a",
                                 "4196352 bytes fnv1a64=2");
  const ExplainedAndControl peer = ExpectReceivedMayDifferOnlyWhereAllowed(
      script, unix, tcp, "d", "10 bytes fnv1a64=3", "10 bytes fnv1a64=4");
  EXPECT_THAT(peer.explained.entries,
              ::testing::ElementsAre("fill_queues_a_buffer_size"));
}

// A listener's SHUT_RD reaches the connections made to it, not those made
// to another listener (listener_shutdown_rd).
TEST(RegistryScope, ListenerTriggerReachesOnlyItsConnections) {
  const Trace unix =
      MakeTrace(TransportKind::kUnixAbstract, {"ok", "ok", "ok", "ok", "0"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp6, {"ok", "ok", "ok", "ok", "ECONNRESET"});
  const Comparison own = ExpectExplainedOnlyUnder(
      unix, tcp,
      "l listen 4\nk listen 4\nc connect l\nl shutdown rd\nc so-error\n",
      {"l listen 4\nk listen 4\nc connect k\nl shutdown rd\nc so-error\n"});
  EXPECT_THAT(
      own.entries,
      ::testing::ElementsAre("listener_shutdown_rd_stops_only_tcp_listening"));
}

// An entry about connections is not triggered by the same call on a
// listener: tcp_resets_data_after_full_shutdown lists so-error 0 against
// ECONNRESET, but a listener's SHUT_RD is another story.
TEST(RegistryScope, TriggerMustActOnTheEntrysKindOfSocket) {
  const DifferenceRegistry registry =
      Without({"listener_shutdown_rd_stops_only_tcp_listening"});
  const Trace unix =
      MakeTrace(TransportKind::kUnixPath, {"ok", "ok", "ok", "0"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "ECONNRESET"});
  EXPECT_EQ(Compare("l listen 4\nc connect l\nl shutdown rd\nc so-error\n",
                    unix, tcp, registry)
                .verdict,
            Verdict::kDiverged);
  EXPECT_EQ(Compare("a pair c\na shutdown rd\na shutdown wr\nc so-error\n",
                    unix, tcp, registry)
                .verdict,
            Verdict::kEqualApartFrom);
}

// ECONNRESET pending after a write to a closed peer is the held-back FIN's
// doing (tcp_reset_comes_before_a_held_back_fin): only after a fill on this
// connection, never after a close alone, or a fill on another pair.
TEST(RegistryScope, ResetBeforeTheFinNeedsAFillOnThisConnection) {
  const Trace unix = MakeTrace(TransportKind::kUnixPath,
                               {"ok", "ok", "EAGAIN", "ok", "EPIPE", "0"});
  const Trace tcp = MakeTrace(TransportKind::kTcp4,
                              {"ok", "ok", "EAGAIN", "ok", "ok", "ECONNRESET"});
  ExpectExplainedOnlyUnder(
      unix, tcp, "a pair b\nc pair d\nb fill\nb close\na send 1\na so-error\n",
      {"a pair b\nc pair d\nd fill\nb close\na send 1\na so-error\n",
       "a pair b\nc pair d\nb nonblock\nb close\na send 1\na so-error\n"});
}

// An entry with and_after applies only once both kinds of trigger reached
// the step: a superseded out-of-band byte's new mark survives on UNIX only
// after a read (read_meets_the_new_mark_after_a_kept_oob_byte), so without
// one, or with one on another pair, a PRI shown by one kind is a finding.
TEST(RegistryScope, BothTriggersMustReachTheStep) {
  const Trace unix = MakeTrace(TransportKind::kSocketpair,
                               {"ok", "ok", "ok", "ok", "ok", "IN|PRI|OUT"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "ok", "ok", "IN|OUT"});
  ExpectExplainedOnlyUnder(
      unix, tcp,
      "a pair b\nc pair d\nb send-oob\nb send-oob\na recv-fd\na poll\n",
      {"a pair b\nc pair d\nb send-oob\nb send-oob\nc recv-fd\na poll\n",
       "a pair b\nc pair d\nb send-oob\nb send-oob\na nonblock\na poll\n"});
}

// The trigger step does not stand for both triggers: a connect again after
// a reset disconnects a TCP socket only if it was connecting
// (tcp_connect_again_after_a_reset_disconnects, whose and_after holds
// "reconnect *" for a bound socket's first connect). One reconnect after a
// blocking connect is not two (bound_socket_connect_again_after_reset).
TEST(RegistryScope, TheTriggerStepIsNotItsOwnSecondTrigger) {
  const Trace unix =
      MakeTrace(TransportKind::kUnixPath,
                {"ok", "ok", "ok", "ok", "ok", "ECONNREFUSED", "ECONNRESET"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp4,
                {"ok", "ok", "ok", "ok", "ok", "ECONNRESET", "ENOTCONN"});
  ExpectExplainedOnlyUnder(
      unix, tcp,
      "l listen 0\nk bind\nk reconnect l\nk send-fd\nl close\n"
      "k reconnect l\nk peek 55\n",
      {"l listen 0\nk connect l\nk nonblock\nk send-fd\nl close\n"
       "k reconnect l\nk peek 55\n"});
}

// The entry alone, so that no other one can explain what it must not.
DifferenceRegistry Only(absl::string_view id) {
  const Difference* entry = DifferenceRegistry::Default().Find(id);
  EXPECT_NE(entry, nullptr) << id;
  return DifferenceRegistry({*entry});
}

// A closed path socket's file takes that path only: a bind to the address
// of a client it had queued is no business of the file
// (socket_file_outlives_listener, trigger_socket_only; the client's own
// port is tcp_reset_frees_a_port_the_kernel_chose's).
TEST(RegistryScope, AFileOutlivesOnlyItsOwnSocket) {
  const DifferenceRegistry registry = Only("socket_file_outlives_listener");
  const Trace path = MakeTrace(TransportKind::kUnixPath,
                               {"ok", "ok", "ok", "ok", "EADDRINUSE"});
  const Trace abstract =
      MakeTrace(TransportKind::kUnixAbstract, {"ok", "ok", "ok", "ok", "ok"});
  const std::string before = "l listen 0\nk bind\nk reconnect l\nl close\n";
  EXPECT_EQ(
      Compare(before + "m bind-same l\n", path, abstract, registry).verdict,
      Verdict::kEqualApartFrom);
  EXPECT_EQ(
      Compare(before + "m bind-same k\n", path, abstract, registry).verdict,
      Verdict::kDiverged);
}

// Two sockets share a TCP port only where SO_REUSEADDR was asked for on
// that address (tcp_reuseaddr_sockets_share_a_port, and_after): a close
// alone, or a reuseaddr on another listener, is not enough.
TEST(RegistryScope, SharingAPortNeedsReuseaddrOnThatAddress) {
  const DifferenceRegistry registry =
      Only("tcp_reuseaddr_sockets_share_a_port");
  const Trace abstract = MakeTrace(TransportKind::kUnixAbstract,
                                   {"ok", "ok", "ok", "ok", "EADDRINUSE"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "ok", "ok"});
  EXPECT_EQ(Compare("l listen 0 reuseaddr\nx listen 0\nl close\n"
                    "m bind-same l reuseaddr\nn bind-same l reuseaddr\n",
                    abstract, tcp, registry)
                .verdict,
            Verdict::kEqualApartFrom);
  for (const char* control :
       {"l listen 0\nx listen 0\nl close\nm bind-same l\nn bind-same l\n",
        "l listen 0\nx listen 0 reuseaddr\nl close\nm bind-same l\n"
        "n bind-same l\n"}) {
    EXPECT_EQ(Compare(control, abstract, tcp, registry).verdict,
              Verdict::kDiverged)
        << control;
  }
}

// A bound socket that listens again (relisten) is a listener from then on:
// its SHUT_RD frees the TCP port as a listen's would (found by the lifecycle
// property: bind-same EADDRINUSE on UNIX, ok on TCP, undocumented).
TEST(RegistryScope, ABoundSocketIsAListenerFromItsRelisten) {
  const Trace unix =
      MakeTrace(TransportKind::kUnixPath, {"ok", "ok", "ok", "EADDRINUSE"});
  const Trace tcp = MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "ok"});
  const Comparison listening =
      Compare("k bind\nk relisten 0\nk shutdown rd\nj bind-same k\n", unix, tcp,
              DifferenceRegistry::Default());
  EXPECT_EQ(listening.verdict, Verdict::kEqualApartFrom)
      << listening.Describe();
  // Before its relisten it is no listener.
  const Trace unix_before = MakeTrace(TransportKind::kUnixPath,
                                      {"ok", "ok", "ok", "ok", "EADDRINUSE"});
  const Trace tcp_before =
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "ok", "ok"});
  EXPECT_EQ(Compare("k bind\nk shutdown rd\nk relisten 0\nk nonblock\n"
                    "j bind-same k\n",
                    unix_before, tcp_before, DifferenceRegistry::Default())
                .verdict,
            Verdict::kDiverged);
}

// A bound socket's shutdown(SHUT_RD) marks a UNIX listener-to-be
// (unix_socket_shut_for_reading_refuses_when_it_listens) only if it does
// listen later; a listener's own is another entry, in which TCP stops
// listening rather than accepting.
TEST(RegistryScope, ABoundSocketsShutdownCountsOnlyIfItListensLater) {
  const Trace unix =
      MakeTrace(TransportKind::kUnixPath, {"ok", "ok", "ok", "ECONNREFUSED"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp4, {"ok", "ENOTCONN", "ok", "ok"});
  ExpectExplainedOnlyUnder(
      unix, tcp, "k bind\nk shutdown rd\nk relisten 1\nc connect k\n",
      {"k bind\nk shutdown rd\nk nonblock\nc connect k\n"});
  const Trace tcp_listener =
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "ok"});
  EXPECT_EQ(Compare("k listen 1\nk shutdown rd\nk relisten 1\nc connect k\n",
                    unix, tcp_listener, DifferenceRegistry::Default())
                .verdict,
            Verdict::kDiverged);
}

// EADDRINUSE because an accepted connection still holds the port is not
// TIME_WAIT (accepted_connection_holds_port): the client's close does not
// reach the listener's port, and the listener's own close is not a
// connection's.
TEST(RegistryScope, OnlyAnAcceptedSocketsCloseReachesItsListenersPort) {
  const DifferenceRegistry registry =
      Without({"tcp_accepted_connection_holds_port"});
  const Trace abstract = MakeTrace(TransportKind::kUnixAbstract,
                                   {"ok", "ok", "ok", "ok", "ok", "ok"});
  const Trace tcp = MakeTrace(TransportKind::kTcp4,
                              {"ok", "ok", "ok", "ok", "ok", "EADDRINUSE"});
  EXPECT_EQ(Compare("l listen 4\nc connect l\ns accept l\nc close\nl close\n"
                    "m bind-same l\n",
                    abstract, tcp, registry)
                .verdict,
            Verdict::kDiverged);
  // The accepted socket's close (then TIME_WAIT) is what the entry is about
  // (bind_over_time_wait).
  const Comparison time_wait = Compare(
      "l listen 4\nc connect l\ns accept l\ns close\nc close\nl close\n"
      "m bind-same l\n",
      MakeTrace(TransportKind::kUnixAbstract,
                {"ok", "ok", "ok", "ok", "ok", "ok", "ok"}),
      MakeTrace(TransportKind::kTcp4,
                {"ok", "ok", "ok", "ok", "ok", "ok", "EADDRINUSE"}),
      registry);
  EXPECT_THAT(time_wait.entries,
              ::testing::ElementsAre("tcp_time_wait_blocks_rebind"));
}

// tcp_accepted_connection_holds_port lasts while the accepted socket is
// open: once it closed, the port is held by its close state, which is
// tcp_time_wait_blocks_rebind's to explain (left out here).
TEST(RegistryScope, AllowanceEndsWhenTheTriggerSocketCloses) {
  const DifferenceRegistry registry = Without({"tcp_time_wait_blocks_rebind"});
  const char* closed =
      "l listen 4\nc connect l\ns accept l\ns close\nc close\nl close\n"
      "m bind-same l\n";
  const Trace abstract = MakeTrace(TransportKind::kUnixAbstract,
                                   {"ok", "ok", "ok", "ok", "ok", "ok", "ok"});
  const Trace tcp = MakeTrace(
      TransportKind::kTcp6, {"ok", "ok", "ok", "ok", "ok", "ok", "EADDRINUSE"});
  EXPECT_EQ(Compare(closed, abstract, tcp, registry).verdict,
            Verdict::kDiverged);
  const Comparison open = Compare(
      "l listen 4\nc connect l\ns accept l\nc close\nl close\n"
      "m bind-same l\n",
      MakeTrace(TransportKind::kUnixAbstract,
                {"ok", "ok", "ok", "ok", "ok", "ok"}),
      MakeTrace(TransportKind::kTcp6,
                {"ok", "ok", "ok", "ok", "ok", "EADDRINUSE"}),
      registry);
  EXPECT_THAT(open.entries,
              ::testing::ElementsAre("tcp_accepted_connection_holds_port"));
}

// What a later step does to a socket (a relisten) does not change how an
// earlier trigger on it counts: the abort of a connection stays one.
TEST(RegistryScope, LaterStepsDoNotChangeAnEarlierTrigger) {
  const Trace unix =
      MakeTrace(TransportKind::kSocketpair, {"ok", "ok", "eof", "closed"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ECONNRESET", "closed"});
  const Comparison comparison =
      Compare("a1 pair b1\na1 abort\nb1 recv-until-eof\na1 relisten 2\n", unix,
              tcp, DifferenceRegistry::Default());
  EXPECT_EQ(comparison.verdict, Verdict::kEqualApartFrom)
      << comparison.Describe();
}

TEST(RegistryWithout, NamesAnUnknownId) {
  absl::StatusOr<DifferenceRegistry> registry =
      DifferenceRegistry::Default().Without({"no_such_entry"});
  ASSERT_FALSE(registry.ok());
  EXPECT_THAT(registry.status().message(),
              HasSubstr("no registry entry 'no_such_entry'"));
  SP_ASSERT_OK_AND_ASSIGN(
      DifferenceRegistry fewer,
      DifferenceRegistry::Default().Without({"tcp_nodelay_only_on_tcp"}));
  EXPECT_EQ(fewer.entries().size(),
            DifferenceRegistry::Default().entries().size() - 1);
  EXPECT_EQ(fewer.Find("tcp_nodelay_only_on_tcp"), nullptr);
}

}  // namespace
}  // namespace sockparity::testing
