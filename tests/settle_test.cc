// What the script runner waits for between steps on TCP: the states a step
// sees are final (the peer's ACKs are back) however late loopback sends
// them, and closed connections are found by address the same way by
// sock_diag and by /proc/net/tcp*.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "script/tcp_lookup.h"
#include "sockparity/net/socket.h"
#include "sockparity/script/runner.h"
#include "sockparity/script/script.h"
#include "test_util.h"

namespace sockparity::testing {
namespace {

class SettleTest : public ::testing::TestWithParam<TransportKind> {
 protected:
  void SetUp() override {
    if (absl::Status available = TransportAvailability(GetParam());
        !available.ok()) {
      GTEST_SKIP() << available;
    }
  }

  // The compared outcome of every step.
  std::vector<std::string> Outcomes(absl::string_view text) {
    absl::StatusOr<Script> script = ParseScript(text);
    EXPECT_TRUE(script.ok()) << script.status();
    if (!script.ok()) return {};
    absl::StatusOr<Trace> trace = RunScript(*script, GetParam());
    EXPECT_TRUE(trace.ok()) << trace.status();
    if (!trace.ok()) return {};
    std::vector<std::string> outcomes;
    for (const StepOutcome& step : trace->steps) {
      outcomes.push_back(step.outcome);
    }
    return outcomes;
  }
};

// Loopback delays the ACK of a FIN by about 40 ms; a step that looks at
// the state must see FIN_WAIT2, not the moment before the ACK.
TEST_P(SettleTest, HalfClosedStatesAreFinal) {
  EXPECT_THAT(Outcomes("a pair b\na shutdown wr\na tcp-state\nb tcp-state\n"),
              ::testing::ElementsAre("ok", "ok", "FIN_WAIT2", "CLOSE_WAIT"));
}

TEST_P(SettleTest, ClosedStatesAreFinal) {
  EXPECT_THAT(Outcomes("a pair b\na send 10\nb recv 10\na close\nb close\n"
                       "a tcp-state\nb tcp-state\n"),
              ::testing::ElementsAre("ok", "ok", "data", "ok", "ok",
                                     "TIME_WAIT", "gone"));
}

// Data and FIN are at the peer once a step is done, whatever the ACKs do.
TEST_P(SettleTest, DataAndEndOfStreamArriveBeforeTheNextStep) {
  EXPECT_THAT(
      Outcomes("a pair b\na send 3000\na shutdown wr\nb peek 1\nb poll\n"),
      ::testing::ElementsAre("ok", "ok", "ok", "data", "IN|OUT|RDHUP"));
}

// A FIN queued behind bytes the peer's closed window holds back leaves only
// when the peer reads: the runner settles at once instead of waiting for
// it. With no deadline on the wait, a runner that waited would never end
// (and ctest's timeout fails the test).
TEST_P(SettleTest, FinBehindAClosedWindowIsSettled) {
  absl::StatusOr<Script> script = ParseScript(
      "a pair b\nb fill\nb close\na poll\nc pair d\nd fill\n"
      "d shutdown wr\nc poll\nc so-error\n");
  ASSERT_TRUE(script.ok()) << script.status();
  RunOptions options;
  options.quiescence_timeout = absl::InfiniteDuration();
  absl::StatusOr<Trace> trace = RunScript(*script, GetParam(), options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  std::vector<std::string> outcomes;
  for (const StepOutcome& step : trace->steps) outcomes.push_back(step.outcome);
  EXPECT_THAT(outcomes, ::testing::ElementsAre("ok", "EAGAIN", "ok", "IN|OUT",
                                               "ok", "EAGAIN", "ok", "IN|OUT",
                                               "0"));
}

// Waiting for ACKs only where a step can see them gives the traces that
// waiting after every step gives.
TEST_P(SettleTest, SameTracesAsAcknowledgingEveryStep) {
  absl::StatusOr<Script> script = ParseScript(
      "a pair b\na send 3000\nb recv 100\na shutdown wr\nb poll\n"
      "b recv-until-eof\nb send 10\nb close\na tcp-state\na recv 100\n"
      "a poll\na close\na tcp-state\nb tcp-state\n");
  ASSERT_TRUE(script.ok()) << script.status();
  RunOptions every_step;
  every_step.acknowledge_every_step = true;
  SP_ASSERT_OK_AND_ASSIGN(Trace lazy, RunScript(*script, GetParam()));
  SP_ASSERT_OK_AND_ASSIGN(Trace eager,
                          RunScript(*script, GetParam(), every_step));
  ASSERT_EQ(lazy.steps.size(), eager.steps.size());
  for (size_t i = 0; i < lazy.steps.size(); ++i) {
    EXPECT_EQ(lazy.steps[i].outcome, eager.steps[i].outcome)
        << "step " << i + 1 << ": " << FormatScript(*script);
  }
  EXPECT_EQ(lazy.received, eager.received);
}

internal::TcpTuple TupleOf(const Socket& socket) {
  internal::TcpTuple tuple;
  socklen_t length = sizeof(tuple.local);
  ::getsockname(socket.fd(), reinterpret_cast<sockaddr*>(&tuple.local),
                &length);
  length = sizeof(tuple.remote);
  ::getpeername(socket.fd(), reinterpret_cast<sockaddr*>(&tuple.remote),
                &length);
  return tuple;
}

TEST_P(SettleTest, SockDiagAndProcScanAgree) {
  SP_ASSERT_OK_AND_ASSIGN(SocketPair pair, MakeConnectedPair(GetParam()));
  const internal::TcpTuple tuple = TupleOf(pair.a);
  absl::StatusOr<std::optional<int>> diag = internal::SockDiagTcpState(tuple);
  ASSERT_TRUE(diag.ok()) << diag.status();
  EXPECT_EQ(*diag, std::optional<int>(TCP_ESTABLISHED));
  EXPECT_EQ(internal::ScanProcTcpState(tuple),
            std::optional<int>(TCP_ESTABLISHED));

  internal::TcpTuple swapped = tuple;
  std::swap(swapped.local, swapped.remote);
  reinterpret_cast<sockaddr_in&>(swapped.remote).sin_port = 0;  // no such
  diag = internal::SockDiagTcpState(swapped);
  ASSERT_TRUE(diag.ok()) << diag.status();
  EXPECT_EQ(*diag, std::nullopt);
  EXPECT_EQ(internal::ScanProcTcpState(swapped), std::nullopt);
}

// Settling a closed connection hurries the half-closed peer's ACK by
// reading its end of stream, but never over an urgent byte that SIOCINQ
// does not count: that read would clear it before the script looks.
TEST_P(SettleTest, UrgentByteSurvivesThePeersClose) {
  EXPECT_THAT(Outcomes("a pair b\nb send-oob\nb close\nb epoll-level\n"
                       "a poll\na recv-oob\n"),
              ::testing::ElementsAre("ok", "ok", "ok", "closed",
                                     "IN|PRI|OUT|RDHUP", "data"));
}

INSTANTIATE_TEST_SUITE_P(TcpKinds, SettleTest,
                         ::testing::Values(TransportKind::kTcp4,
                                           TransportKind::kTcp6),
                         [](const auto& info) {
                           return std::string(TransportTestName(info.param));
                         });

}  // namespace
}  // namespace sockparity::testing
