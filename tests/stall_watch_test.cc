// The stall watch: when waiting longer for a server cannot help, and the
// reason it gives, on small servers in child processes of their own.
#include "check/stall_watch.h"

#include "check/process_stats.h"

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sockparity/net/io.h"
#include "sockparity/net/listener.h"
#include "sockparity/net/transport.h"
#include "test_util.h"

namespace sockparity::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

void Reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// A server's end of a connection in a child process of its own, which
// reads exactly `take` bytes and then waits, or spins.
enum class Serving {
  kTakesAllThenWaits,  // (all of `take`: fewer than sent is a first request)
  kNeverReads,
  kTakesAllThenSpins,
  kRepliesThenWaits,  // writes 4 KiB the client does not read, reads nothing
};

struct ServedConnection {
  Socket client;
  pid_t server = -1;
};

ServedConnection Serve(TransportKind kind, Serving how, size_t take) {
  ServedConnection served;
  absl::StatusOr<Listener> listener = Listener::Open(kind);
  EXPECT_TRUE(listener.ok()) << listener.status();
  if (!listener.ok()) return served;
  absl::StatusOr<Socket> client =
      Connect(listener->endpoint(), absl::Seconds(5));
  absl::StatusOr<Socket> accepted = listener->Accept(absl::Seconds(5));
  EXPECT_TRUE(client.ok() && accepted.ok());
  if (!client.ok() || !accepted.ok()) return served;
  served.server = ::fork();
  if (served.server == 0) {
    char buffer[4096];
    size_t taken = 0;
    while (how != Serving::kNeverReads && how != Serving::kRepliesThenWaits &&
           taken < take) {
      const ssize_t n = ::read(accepted->fd(), buffer,
                               std::min(sizeof(buffer), take - taken));
      if (n > 0) taken += static_cast<size_t>(n);
      if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
    if (how == Serving::kRepliesThenWaits) {
      const std::string reply(4096, 'r');
      (void)!::write(accepted->fd(), reply.data(), reply.size());
    }
    volatile uint64_t spins = 0;
    while (how == Serving::kTakesAllThenSpins) spins = spins + 1;
    while (true) ::pause();
  }
  served.client = std::move(*client);
  return served;
}

// Whether the watch says "stalled" within `within`, looking as a wait for
// a reply does.
std::optional<std::string> WatchFor(StallWatch& watch, absl::Duration within) {
  const absl::Time deadline = absl::Now() + within;
  while (absl::Now() < deadline) {
    if (std::optional<std::string> why = watch.Stalled()) return why;
    absl::SleepFor(StallWatch::kLookEvery);  // pacing the looks
  }
  return std::nullopt;
}

// Serves a connection `how` (taking `take` bytes), sends 1000 bytes, and
// watches it as a wait for `awaiting` does, for `within`, with the count
// of bytes sent. `server_pid` gets the server's pid (0 when it could not
// be made).
std::optional<std::string> StallSeen(TransportKind kind, Serving how,
                                     Awaiting awaiting, absl::Duration within,
                                     pid_t& server_pid, size_t take = 1000) {
  ServedConnection c = Serve(kind, how, take);
  server_pid = c.server > 0 ? c.server : 0;
  if (server_pid == 0) return std::nullopt;
  std::optional<std::string> why;
  if (SendAll(c.client, Bytes(1000, 'x'), absl::Seconds(5)).ok()) {
    StallWatch watch(c.client, c.server, absl::Milliseconds(300), awaiting,
                     /*accept_may_wait=*/false,
                     [] { return std::optional<uint64_t>(1000); });
    why = WatchFor(watch, within);
  } else {
    server_pid = 0;
  }
  Reap(c.server);
  return why;
}

class Stall : public ::testing::TestWithParam<TransportKind> {};

TEST_P(Stall, ServerThatTookEverythingAndWaitsIsStalled) {
  if (!TransportAvailability(GetParam()).ok()) GTEST_SKIP() << "unavailable";
  pid_t server = 0;
  const std::optional<std::string> why =
      StallSeen(GetParam(), Serving::kTakesAllThenWaits, Awaiting::kReply,
                absl::Seconds(5), server);
  ASSERT_GT(server, 0);
  ASSERT_TRUE(why.has_value());
  EXPECT_THAT(*why, HasSubstr("took all the client sent (1000 bytes), then "
                              "sat idle in the kernel for 300ms"));
  // The window is below the contract's: said so, with the clause named.
  EXPECT_THAT(*why, HasSubstr("(--stalled-after 300ms, shorter than the 2s "
                              "the contract allows: docs/SUT_CONTRACT.md, "
                              "\"When a reply is due\")"));
}

// Pipelined requests: the server took the first (10 bytes) and sleeps
// before reading the next. It did not leave "the request" unread: the
// reason says how much it took.
TEST_P(Stall, ServerThatTookTheFirstRequestSaysHowMuch) {
  if (!TransportAvailability(GetParam()).ok()) GTEST_SKIP() << "unavailable";
  pid_t server = 0;
  const std::optional<std::string> why =
      StallSeen(GetParam(), Serving::kTakesAllThenWaits, Awaiting::kReply,
                absl::Seconds(5), server, /*take=*/10);
  ASSERT_GT(server, 0);
  ASSERT_TRUE(why.has_value());
  EXPECT_THAT(*why, HasSubstr("took the first 10 of the 1000 bytes the "
                              "client sent and left the other 990 unread, "
                              "then sat idle"));
  EXPECT_THAT(*why, Not(HasSubstr("left the request unread")));
}

// A server that accepted the connection and never reads it, with nothing
// of its own on the way to the client, is not going to reply.
TEST_P(Stall, ServerThatNeverReadsIsStalled) {
  if (!TransportAvailability(GetParam()).ok()) GTEST_SKIP() << "unavailable";
  pid_t server = 0;
  const std::optional<std::string> why =
      StallSeen(GetParam(), Serving::kNeverReads, Awaiting::kReply,
                absl::Seconds(5), server);
  ASSERT_GT(server, 0);
  ASSERT_TRUE(why.has_value());
  EXPECT_THAT(*why, HasSubstr("took none of the 1000 bytes the client sent "
                              "(left the request unread), then sat idle"));
}

// Backpressure: replies wait for the client to read them, so the server
// rightly reads no more: not stalled however long it waits.
TEST_P(Stall, ServerWhoseRepliesWaitForTheClientIsNotStalled) {
  if (!TransportAvailability(GetParam()).ok()) GTEST_SKIP() << "unavailable";
  pid_t server = 0;
  const std::optional<std::string> why =
      StallSeen(GetParam(), Serving::kRepliesThenWaits, Awaiting::kReply,
                absl::Milliseconds(1500), server);
  ASSERT_GT(server, 0);
  EXPECT_EQ(why, std::nullopt);
}

// Waiting for the end, bytes the server leaves unread do not matter: it
// holds the connection and neither reads nor closes it.
TEST_P(Stall, ServerThatNeitherReadsNorClosesStallsTheEnd) {
  if (!TransportAvailability(GetParam()).ok()) GTEST_SKIP() << "unavailable";
  pid_t server = 0;
  const std::optional<std::string> why =
      StallSeen(GetParam(), Serving::kNeverReads, Awaiting::kEnd,
                absl::Seconds(5), server);
  ASSERT_GT(server, 0);
  ASSERT_TRUE(why.has_value());
  EXPECT_THAT(*why, HasSubstr("holds the connection open and sat idle"));
  EXPECT_THAT(*why, HasSubstr("When a reply is due"));
}

TEST_P(Stall, ServerThatRunsIsNotStalled) {
  if (!TransportAvailability(GetParam()).ok()) GTEST_SKIP() << "unavailable";
  pid_t server = 0;
  const std::optional<std::string> why =
      StallSeen(GetParam(), Serving::kTakesAllThenSpins, Awaiting::kReply,
                absl::Milliseconds(1500), server);
  ASSERT_GT(server, 0);
  EXPECT_EQ(why, std::nullopt);
}

// A listener in a process that never accepts: the connection waits in its
// queue, which a server may rightly leave for a while only when allowed.
TEST_P(Stall, ServerThatDoesNotAcceptIsStalledUnlessAcceptMayWait) {
  if (!TransportAvailability(GetParam()).ok()) GTEST_SKIP() << "unavailable";
  absl::StatusOr<Listener> listener = Listener::Open(GetParam());
  ASSERT_TRUE(listener.ok()) << listener.status();
  const pid_t server = ::fork();
  if (server == 0) {
    while (true) ::pause();
  }
  absl::StatusOr<Socket> client =
      Connect(listener->endpoint(), absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(SendAll(*client, Bytes(10, 'x'), absl::Seconds(5)).ok());
  StallWatch may_wait(*client, server, absl::Milliseconds(300),
                      Awaiting::kReply, /*accept_may_wait=*/true);
  const std::optional<std::string> waited =
      WatchFor(may_wait, absl::Milliseconds(1500));
  StallWatch must_accept(*client, server, absl::Milliseconds(300));
  const std::optional<std::string> why =
      WatchFor(must_accept, absl::Seconds(5));
  const std::string where = WaitingIn(server);
  Reap(server);
  EXPECT_EQ(waited, std::nullopt);
  ASSERT_TRUE(why.has_value());
  EXPECT_THAT(*why, HasSubstr("has not accepted the connection and sat "
                              "idle in the kernel for 300ms"));
  EXPECT_THAT(*why, HasSubstr("with it in the listener's queue"));
  // Where it waits, when the kernel shows it (kernel.kptr_restrict).
  if (!where.empty()) {
    EXPECT_THAT(where, HasSubstr("pause"));
    EXPECT_THAT(*why, HasSubstr(absl::StrCat("(its threads waiting in: ",
                                             where, ")")));
  }
  EXPECT_THAT(*why, HasSubstr("When a reply is due"));
}

TEST(Stall, NoWindowNeverStalls) {
  ServedConnection c =
      Serve(TransportKind::kUnixPath, Serving::kTakesAllThenWaits, 10);
  ASSERT_GT(c.server, 0);
  ASSERT_TRUE(SendAll(c.client, Bytes(10, 'x'), absl::Seconds(5)).ok());
  StallWatch watch(c.client, c.server, absl::ZeroDuration());
  const std::optional<std::string> why =
      WatchFor(watch, absl::Milliseconds(500));
  Reap(c.server);
  EXPECT_EQ(why, std::nullopt);
}

// A child that spins on `cpu`; with `starved`, as SCHED_IDLE, which gets
// a few thousandths of a CPU that another spinner holds.
pid_t SpinOn(int cpu, bool starved) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    ::sched_setaffinity(0, sizeof(set), &set);
    if (starved) {
      sched_param param{};
      ::sched_setscheduler(0, SCHED_IDLE, &param);
    }
    // A loop with a side effect: an empty infinite loop is undefined
    // behaviour, and clang drops it.
    volatile uint64_t spins = 0;
    while (true) {
      const uint64_t next = spins + 1;
      spins = next;
    }
  }
  return pid;
}

// A thread that waits for a CPU is not idle, though its times say nothing
// of the wait until it gets one (schedstat adds it on arrival): the tsan
// control server's 8 MiB reply was taken for a stall on a loaded machine.
TEST(Stall, StarvedServerIsNotIdle) {
  cpu_set_t mine;
  ASSERT_EQ(::sched_getaffinity(0, sizeof(mine), &mine), 0);
  int cpu = 0;
  while (!CPU_ISSET(cpu, &mine)) ++cpu;
  const pid_t hog = SpinOn(cpu, /*starved=*/false);
  const pid_t starved = SpinOn(cpu, /*starved=*/true);
  ASSERT_GT(hog, 0);
  ASSERT_GT(starved, 0);
  IdleWatch watch(starved, absl::Milliseconds(300));
  bool idle = false;
  int runnable_looks = 0;
  const absl::Time deadline = absl::Now() + absl::Milliseconds(1500);
  while (absl::Now() < deadline && !idle) {
    idle = watch.Look();
    runnable_looks += AnyThreadBusy(starved) ? 1 : 0;
    absl::SleepFor(absl::Milliseconds(20));  // the watch's pace
  }
  const std::string where = WaitingIn(starved);
  Reap(hog);  // first: the starved one gets a CPU to die on
  Reap(starved);
  EXPECT_GT(runnable_looks, 0);
  EXPECT_FALSE(idle);
  EXPECT_THAT(where, HasSubstr("running"));
}

INSTANTIATE_TEST_SUITE_P(Kinds, Stall,
                         ::testing::Values(TransportKind::kUnixPath,
                                           TransportKind::kTcp4),
                         ::sockparity::testing::KindTestName());

}  // namespace
}  // namespace sockparity::internal
