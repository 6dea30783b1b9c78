// What counts as an entry's trigger: a step matched by its effect
// ("shutdown rdwr" is a "shutdown rd", an abort and a connect-as-nobody are
// closes, a close after SO_LINGER {1, 0} is an abort), fixed when it is
// made. Each test has a control the trigger does not explain.
#include <string>
#include <vector>

#include "comparison_util.h"

namespace sockparity::testing {
namespace {

using Verdict = Comparison::Verdict;

// Triggers match by effect: SHUT_RDWR is a SHUT_RD (the peer's write fails
// on UNIX), an abort is a close (the TCP end is left in CLOSE), in scripts
// and in the peer check's context alike.
TEST(Trigger, TriggersMatchByEffect) {
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
TEST(Trigger, ConnectAsNobodyIsACloseOfItsConnection) {
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
TEST(Trigger, CloseAfterLingerZeroIsAnAbort) {
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

}  // namespace
}  // namespace sockparity::testing
