// The scoping of registry entries: an entry explains a difference only on
// the sockets its trigger touched, only after a trigger on the right kind of
// socket, only while a trigger that must stay open is, and lets received
// bytes differ only on those sockets. Each test is a script where a trigger
// elsewhere once excused a real difference (the outcomes are the kernel's,
// from the corpus scripts named), with a control the entry does explain.
#include <cstdlib>
#include <string>
#include <vector>

#include "sockparity/script/differences.h"
#include "sockparity/script/script.h"
#include "test_util.h"

namespace sockparity::testing {
namespace {

using ::testing::HasSubstr;
using Verdict = Comparison::Verdict;

Trace MakeTrace(TransportKind kind, std::vector<std::string> outcomes) {
  Trace trace;
  trace.kind = kind;
  for (std::string& outcome : outcomes) trace.steps.push_back({outcome, ""});
  return trace;
}

DifferenceRegistry Without(std::vector<std::string> ids) {
  absl::StatusOr<DifferenceRegistry> registry =
      DifferenceRegistry::Default().Without(ids);
  EXPECT_TRUE(registry.ok()) << registry.status();
  return *std::move(registry);
}

Comparison Compare(absl::string_view text, const Trace& x, const Trace& y,
                   const DifferenceRegistry& registry) {
  absl::StatusOr<Script> script = ParseScript(text);
  EXPECT_TRUE(script.ok()) << script.status();
  return CompareTraces(*script, x, y, registry);
}

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
  Trace unix = MakeTrace(TransportKind::kUnixPath,
                         {"ok", "ok", "EPIPE", "ok", "ok", "data"});
  Trace tcp =
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "ok", "ok", "data"});
  tcp.received["a"] = "10 bytes fnv1a64=1";
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  const Comparison touched = Compare(script, unix, tcp, registry);
  EXPECT_EQ(touched.verdict, Verdict::kEqualApartFrom) << touched.Describe();

  unix.received["d"] = "10 bytes fnv1a64=2";
  tcp.received["d"] = "10 bytes fnv1a64=3";
  const Comparison elsewhere = Compare(script, unix, tcp, registry);
  EXPECT_EQ(elsewhere.verdict, Verdict::kDiverged);
  EXPECT_THAT(elsewhere.reason, HasSubstr("d received"));
}

// A socket set up on one kind only (bind-same refused on unix-path, where
// the closed listener's file stays; made on TCP, which then connects it to
// its own port) is not the same socket on the two: what it receives may
// differ, whichever entry explained its steps. Another socket's may not.
TEST(RegistryScope, ASocketSetUpOnOneKindOnlyMayReceiveDifferently) {
  const char* script =
      "l listen 1\nl close\nk bind-same l\nk reconnect l\nk send 5\n"
      "k recv 5\nc pair d\nc send 5\nd recv 5\n";
  Trace unix = MakeTrace(TransportKind::kUnixPath,
                         {"ok", "ok", "EADDRINUSE", "closed", "closed",
                          "closed", "ok", "ok", "data"});
  Trace tcp = MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "EINPROGRESS",
                                               "ok", "data", "ok", "ok",
                                               "data"});
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

// A reconnect of a bound socket is a connection made to its target, as a
// connect's is: the listener's abort reaches it
// (bind_after_reset_of_kernel_chosen_port), not a bound socket that never
// connected.
TEST(RegistryScope, AReconnectIsAConnectionToItsTarget) {
  const char* script =
      "l listen 1\nk bind\nk reconnect l\nl abort\nk2 bind-same k\n"
      "j bind\nj2 bind-same j\n";
  const Trace unix = MakeTrace(
      TransportKind::kUnixAbstract,
      {"ok", "ok", "ok", "ok", "EADDRINUSE", "ok", "EADDRINUSE"});
  const Trace tcp = MakeTrace(TransportKind::kTcp4, {"ok", "ok", "EINPROGRESS",
                                                     "ok", "ok", "ok",
                                                     "EADDRINUSE"});
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  const Comparison reached = Compare(script, unix, tcp, registry);
  EXPECT_EQ(reached.verdict, Verdict::kEqualApartFrom) << reached.Describe();

  const Trace tcp_elsewhere = MakeTrace(
      TransportKind::kTcp4, {"ok", "ok", "EINPROGRESS", "ok", "ok", "ok", "ok"});
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
  Trace unix = MakeTrace(TransportKind::kUnixPath, same);
  Trace tcp = MakeTrace(TransportKind::kTcp4, same);
  unix.received["a"] = "233152 bytes fnv1a64=1";
  tcp.received["a"] = "4196352 bytes fnv1a64=2";
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  const Comparison peer = Compare(script, unix, tcp, registry);
  EXPECT_EQ(peer.verdict, Verdict::kEqualApartFrom) << peer.Describe();
  EXPECT_THAT(peer.entries,
              ::testing::ElementsAre("fill_queues_a_buffer_size"));

  unix.received["d"] = "10 bytes fnv1a64=3";
  tcp.received["d"] = "10 bytes fnv1a64=4";
  const Comparison elsewhere = Compare(script, unix, tcp, registry);
  EXPECT_EQ(elsewhere.verdict, Verdict::kDiverged);
  EXPECT_THAT(elsewhere.reason, HasSubstr("d received"));
}

// A listener's SHUT_RD reaches the connections made to it, not those made
// to another listener (listener_shutdown_rd).
TEST(RegistryScope, ListenerTriggerReachesOnlyItsConnections) {
  const Trace unix =
      MakeTrace(TransportKind::kUnixAbstract, {"ok", "ok", "ok", "ok", "0"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp6, {"ok", "ok", "ok", "ok", "ECONNRESET"});
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  const Comparison own = Compare(
      "l listen 4\nk listen 4\nc connect l\nl shutdown rd\nc so-error\n", unix,
      tcp, registry);
  EXPECT_EQ(own.verdict, Verdict::kEqualApartFrom) << own.Describe();
  EXPECT_THAT(
      own.entries,
      ::testing::ElementsAre("listener_shutdown_rd_stops_only_tcp_listening"));
  const Comparison other = Compare(
      "l listen 4\nk listen 4\nc connect k\nl shutdown rd\nc so-error\n", unix,
      tcp, registry);
  EXPECT_EQ(other.verdict, Verdict::kDiverged) << other.Describe();
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
  const Comparison here = Compare(
      "a pair b\nc pair d\nb fill\nb close\na send 1\na so-error\n", unix,
      tcp, DifferenceRegistry::Default());
  EXPECT_EQ(here.verdict, Verdict::kEqualApartFrom) << here.Describe();
  EXPECT_EQ(
      Compare("a pair b\nc pair d\nd fill\nb close\na send 1\na so-error\n",
              unix, tcp, DifferenceRegistry::Default())
          .verdict,
      Verdict::kDiverged);
  EXPECT_EQ(
      Compare("a pair b\nc pair d\nb nonblock\nb close\na send 1\n"
              "a so-error\n",
              unix, tcp, DifferenceRegistry::Default())
          .verdict,
      Verdict::kDiverged);
}

// An entry with and_after applies only once both kinds of trigger reached
// the step: a superseded out-of-band byte's new mark survives on UNIX only
// after a read (read_meets_the_new_mark_after_a_kept_oob_byte), so without
// one, or with one on another pair, a PRI shown by one kind is a finding.
TEST(RegistryScope, BothTriggersMustReachTheStep) {
  const Trace unix = MakeTrace(TransportKind::kSocketpair,
                               {"ok", "ok", "ok", "ok", "ok", "IN|PRI|OUT"});
  const Trace tcp = MakeTrace(TransportKind::kTcp4,
                              {"ok", "ok", "ok", "ok", "ok", "IN|OUT"});
  const Comparison read_here =
      Compare("a pair b\nc pair d\nb send-oob\nb send-oob\na recv-fd\n"
              "a poll\n",
              unix, tcp, DifferenceRegistry::Default());
  EXPECT_EQ(read_here.verdict, Verdict::kEqualApartFrom)
      << read_here.Describe();
  EXPECT_EQ(Compare("a pair b\nc pair d\nb send-oob\nb send-oob\nc recv-fd\n"
                    "a poll\n",
                    unix, tcp, DifferenceRegistry::Default())
                .verdict,
            Verdict::kDiverged);
  EXPECT_EQ(Compare("a pair b\nc pair d\nb send-oob\nb send-oob\na nonblock\n"
                    "a poll\n",
                    unix, tcp, DifferenceRegistry::Default())
                .verdict,
            Verdict::kDiverged);
}

// A bound socket that listens again (relisten) is a listener from then on:
// its SHUT_RD frees the TCP port as a listen's would (found by the lifecycle
// property: bind-same EADDRINUSE on UNIX, ok on TCP, undocumented).
TEST(RegistryScope, ABoundSocketIsAListenerFromItsRelisten) {
  const Trace unix = MakeTrace(TransportKind::kUnixPath,
                               {"ok", "ok", "ok", "EADDRINUSE"});
  const Trace tcp = MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "ok"});
  const Comparison listening =
      Compare("k bind\nk relisten 0\nk shutdown rd\nj bind-same k\n", unix,
              tcp, DifferenceRegistry::Default());
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
  const Trace unix = MakeTrace(TransportKind::kUnixPath,
                               {"ok", "ok", "ok", "ECONNREFUSED"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp4, {"ok", "ENOTCONN", "ok", "ok"});
  const Comparison listens =
      Compare("k bind\nk shutdown rd\nk relisten 1\nc connect k\n", unix,
              tcp, DifferenceRegistry::Default());
  EXPECT_EQ(listens.verdict, Verdict::kEqualApartFrom) << listens.Describe();
  EXPECT_EQ(Compare("k bind\nk shutdown rd\nk nonblock\nc connect k\n",
                    unix, tcp, DifferenceRegistry::Default())
                .verdict,
            Verdict::kDiverged);
  const Trace tcp_listener =
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "ok"});
  EXPECT_EQ(
      Compare("k listen 1\nk shutdown rd\nk relisten 1\nc connect k\n",
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

// Triggers match by effect: SHUT_RDWR is a SHUT_RD (the peer's write fails
// on UNIX), an abort is a close (the TCP end is left in CLOSE), in scripts
// and in the peer check's context alike.
TEST(RegistryScope, TriggersMatchByEffect) {
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  const Comparison rdwr =
      Compare("a pair b\na shutdown rdwr\nb send 10\n",
              MakeTrace(TransportKind::kUnixPath, {"ok", "ok", "EPIPE"}),
              MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok"}), registry);
  EXPECT_THAT(rdwr.entries,
              ::testing::ElementsAre("shutdown_rd_is_local_on_tcp"));
  const Comparison abort = Compare(
      "a pair b\nb abort\na peername\n",
      MakeTrace(TransportKind::kSocketpair, {"ok", "ok", "unnamed"}),
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ENOTCONN"}), registry);
  EXPECT_THAT(abort.entries,
              ::testing::ElementsAre("tcp_closed_connection_is_not_connected"));
  EXPECT_NE(
      registry.Allowing(TransportKind::kUnixPath,
                        Observation{Verb::kSend, "EPIPE"}, TransportKind::kTcp4,
                        Observation{Verb::kSend, "ok"}, {"shutdown rdwr"}),
      nullptr);
  EXPECT_EQ(
      registry.Allowing(TransportKind::kUnixPath,
                        Observation{Verb::kSend, "EPIPE"}, TransportKind::kTcp4,
                        Observation{Verb::kSend, "ok"}, {"shutdown wr"}),
      nullptr);
}

// connect-as-nobody's child exits: a close of its connection, so the
// accepted end's first write is explained (socket_path_permissions); a
// connect-nb elsewhere is not.
TEST(RegistryScope, ConnectAsNobodyIsACloseOfItsConnection) {
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  const Trace unix =
      MakeTrace(TransportKind::kUnixAbstract, {"ok", "ok", "ok", "EPIPE"});
  const Trace tcp = MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "ok"});
  EXPECT_THAT(
      Compare("l listen 4\nn connect-as-nobody l\ns accept l\ns send 3\n", unix,
              tcp, registry)
          .entries,
      ::testing::ElementsAre("tcp_first_write_after_peer_close_succeeds"));
  EXPECT_EQ(Compare("l listen 4\nn connect-nb l\ns accept l\ns send 3\n", unix,
                    tcp, registry)
                .verdict,
            Verdict::kDiverged);
}

// A close after "linger 0" on the same socket is an abort (linger_zero);
// after "linger 1", or a linger 0 on another socket, it is a close.
TEST(RegistryScope, CloseAfterLingerZeroIsAnAbort) {
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  const Trace unix =
      MakeTrace(TransportKind::kUnixPath, {"ok", "ok", "ok", "ok", "0"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "ok", "ECONNRESET"});
  EXPECT_THAT(Compare("a pair b\nc pair d\na linger 0\na close\nb so-error\n",
                      unix, tcp, registry)
                  .entries,
              ::testing::ElementsAre("linger_zero_resets_only_tcp"));
  EXPECT_EQ(Compare("a pair b\nc pair d\na linger 1\na close\nb so-error\n",
                    unix, tcp, registry)
                .verdict,
            Verdict::kDiverged);
  EXPECT_EQ(Compare("a pair b\nc pair d\nc linger 0\na close\nb so-error\n",
                    unix, tcp, registry)
                .verdict,
            Verdict::kDiverged);
}

// A bind that an entry allowed to fail on one kind only leaves that socket
// bound on one kind and not on the other: the later steps on it, or naming
// it, are the entry's consequence. Steps on other sockets are still
// compared, and without the entry nothing is allowed.
TEST(RegistryScope, SocketSetUpOnOneKindOnlyIsNotComparedFurther) {
  const DifferenceRegistry registry({Difference{
      .id = "rebind_differs",
      .statement = "test",
      .source = "test",
      .behaviour = {{{TransportKind::kUnixPath}, "taken", {"bind-same:EADDRINUSE"}},
                    {{TransportKind::kTcp4}, "free", {"bind-same:ok"}}},
      .after = {"close"},
      .witness = "bind_after_listener_closed"}});
  const std::string script =
      "l listen 4\nl close\nm bind-same l\nm poll\nc connect m\n"
      "c so-error\na pair b\nb poll\n";
  const Trace unix = MakeTrace(TransportKind::kUnixPath,
                               {"ok", "ok", "EADDRINUSE", "closed",
                                "no-address", "n/a", "ok", "OUT"});
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

  const Comparison without =
      Compare(script, unix, tcp, DifferenceRegistry({}));
  EXPECT_EQ(without.verdict, Verdict::kDiverged);
  EXPECT_EQ(without.step, 2) << without.Describe();

  // Where an entry of its own explains the connect to it, the connecting
  // socket still differs with it.
  std::vector<Difference> two(1, registry.entries()[0]);
  two.push_back(Difference{
      .id = "no_address",
      .statement = "test",
      .source = "test",
      .behaviour = {{{TransportKind::kUnixPath}, "none", {"connect:no-address"}},
                    {{TransportKind::kTcp4}, "refused", {"connect:ECONNREFUSED"}}},
      .witness = "bind_after_listener_closed"});
  const Comparison through_entry =
      Compare(script, unix, tcp, DifferenceRegistry(std::move(two)));
  EXPECT_EQ(through_entry.verdict, Verdict::kEqualApartFrom)
      << through_entry.Describe();
}

// PRI (urgent data pending) shown by both kinds is factored out before the
// entries are asked; shown by one kind only, it is a difference of its own.
TEST(RegistryScope, UrgentDataOnBothSidesIsNoPartOfTheDifference) {
  const std::string script = "a pair b\na send-oob\na abort\nb poll\n";
  const Trace unix = MakeTrace(TransportKind::kSocketpair,
                               {"ok", "ok", "ok", "IN|PRI|OUT|RDHUP|HUP"});
  const Trace tcp = MakeTrace(TransportKind::kTcp4,
                              {"ok", "ok", "ok", "IN|PRI|OUT|RDHUP|ERR|HUP"});
  const Comparison both =
      Compare(script, unix, tcp, DifferenceRegistry::Default());
  EXPECT_EQ(both.verdict, Verdict::kEqualApartFrom) << both.Describe();
  Trace one = tcp;
  one.steps[3].outcome = "IN|OUT|RDHUP|ERR|HUP";
  const Comparison only_one =
      Compare(script, unix, one, DifferenceRegistry::Default());
  EXPECT_EQ(only_one.verdict, Verdict::kDiverged) << only_one.Describe();
}

// A connection accepted from a listener whose queue differs (a connect the
// path's permissions refused on one kind) is another connection there,
// though accept says "ok" on both: what it reads is not compared.
TEST(RegistryScope, AcceptedFromAQueueThatDiffersDiffersToo) {
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
TEST(RegistryScope, AnAddressBoundAgainOnOneKindOnlyIsNotComparedFurther) {
  const std::string script =
      "l listen 3 reuseaddr\nl abort\nk bind-same l reuseaddr\n"
      "k relisten 0\nc connect l\n";
  const Trace path =
      MakeTrace(TransportKind::kUnixPath,
                {"ok", "ok", "EADDRINUSE", "closed", "ECONNREFUSED"});
  const Trace abstract = MakeTrace(TransportKind::kUnixAbstract,
                                   {"ok", "ok", "ok", "ok", "ok"});
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

// Two masks that no entry allows as wholes are compared event by event:
// each event shown by one kind only needs an entry of its own (here the
// peer's close: POLLHUP on UNIX only, and the error it left pending).
TEST(RegistryScope, PollEventsAreExplainedOneByOne) {
  const std::string script = "a pair b\nb send 10\na close\nb poll\n";
  const Trace unix = MakeTrace(TransportKind::kSocketpair,
                               {"ok", "ok", "ok", "IN|OUT|RDHUP|ERR|HUP"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ok", "IN|OUT|RDHUP"});
  const Comparison both =
      Compare(script, unix, tcp, DifferenceRegistry::Default());
  EXPECT_EQ(both.verdict, Verdict::kEqualApartFrom) << both.Describe();
  EXPECT_THAT(both.entries,
              ::testing::UnorderedElementsAre("poll_hup_on_peer_close",
                                              "pending_error_after_peer_reset"));
  // One event that no entry explains (OUT on one side only) is enough.
  Trace unexplained = tcp;
  unexplained.steps[3].outcome = "IN|RDHUP";
  const Comparison extra =
      Compare(script, unix, unexplained, DifferenceRegistry::Default());
  EXPECT_EQ(extra.verdict, Verdict::kDiverged) << extra.Describe();
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

// What a later step does to a socket (a relisten) does not change how an
// earlier trigger on it counts: the abort of a connection stays one.
TEST(RegistryScope, LaterStepsDoNotChangeAnEarlierTrigger) {
  const Trace unix =
      MakeTrace(TransportKind::kSocketpair, {"ok", "ok", "eof", "closed"});
  const Trace tcp =
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ECONNRESET", "closed"});
  const Comparison comparison =
      Compare("a1 pair b1\na1 abort\nb1 recv-until-eof\na1 relisten 2\n",
              unix, tcp, DifferenceRegistry::Default());
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
