// The check's view of a server from outside: the names its UNIX sockets
// are bound to (sock_diag), the server's end of a client's connection, the
// sockets a process holds, and its CPU time and memory from /proc (the stall
// watch built on them: stall_watch_test.cc).
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "check/process_stats.h"
#include "check/sock_diag.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sockparity/net/fd.h"
#include "sockparity/net/io.h"
#include "sockparity/net/listener.h"
#include "sockparity/net/transport.h"
#include "test_util.h"

namespace sockparity::internal {
namespace {

using ::testing::Contains;
using ::testing::Not;

// A listening abstract socket bound to `name`, padded with NULs to the
// whole of sun_path when `padded`, as some libraries bind it.
Fd ListenAbstract(const std::string& name, bool padded) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  const socklen_t length =
      padded ? sizeof(address)
             : static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 +
                                      name.size());
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length), 0);
  EXPECT_EQ(::listen(fd.get(), 4), 0);
  return fd;
}

std::string Unique(const char* what) {
  return std::string("sockparity-probe-") + what + "-" +
         std::to_string(::getpid());
}

TEST(SockDiag, ReportsAnExactAbstractName) {
  const std::string name = Unique("exact");
  Fd listener = ListenAbstract(name, /*padded=*/false);
  absl::StatusOr<std::vector<std::string>> names =
      UnixListenerNamesOf(::getpid());
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, Contains(std::string(1, '\0') + name));
  EXPECT_EQ(ShowUnixName(std::string(1, '\0') + name),
            "@" + name + " (" + std::to_string(name.size() + 1) + " bytes)");
}

TEST(SockDiag, ShowsTheNulPaddingOfAPaddedAbstractName) {
  const std::string name = Unique("padded");
  Fd listener = ListenAbstract(name, /*padded=*/true);
  absl::StatusOr<std::vector<std::string>> names =
      UnixListenerNamesOf(::getpid());
  ASSERT_TRUE(names.ok()) << names.status();
  std::string padded(1, '\0');
  padded += name;
  padded.resize(sizeof(sockaddr_un::sun_path), '\0');
  ASSERT_THAT(*names, Contains(padded));
  EXPECT_EQ(ShowUnixName(padded),
            "@" + name + " followed by " +
                std::to_string(padded.size() - name.size() - 1) +
                " NUL bytes (108 bytes)");
}

TEST(SockDiag, ShowsAPathWithoutItsTerminatingNul) {
  EXPECT_EQ(ShowUnixName(std::string("/tmp/x.sock\0", 12)),
            "/tmp/x.sock (11 bytes)");
}

// For every addressed kind: the inode found for the client's peer is the
// server's accepted socket, which the process holds until it closes it.
// Each test starts from a listener with one client connected, not yet
// accepted.
class PeerSocket : public ::testing::TestWithParam<TransportKind> {
 protected:
  void SetUp() override {
    if (!TransportAvailability(GetParam()).ok()) GTEST_SKIP() << "unavailable";
    absl::StatusOr<Listener> listener = Listener::Open(GetParam());
    ASSERT_TRUE(listener.ok()) << listener.status();
    listener_.emplace(*std::move(listener));
    absl::StatusOr<Socket> client =
        Connect(listener_->endpoint(), absl::Seconds(5));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  std::optional<Listener> listener_;
  Socket client_;
};

TEST_P(PeerSocket, IsTheAcceptedSocketAndGoesWithIt) {
  absl::StatusOr<Socket> server = listener_->Accept(absl::Seconds(5));
  ASSERT_TRUE(server.ok()) << server.status();
  struct stat accepted;
  ASSERT_EQ(::fstat(server->fd(), &accepted), 0);
  absl::StatusOr<uint64_t> inode = PeerSocketInode(client_);
  ASSERT_TRUE(inode.ok()) << inode.status();
  EXPECT_EQ(*inode, accepted.st_ino);
  EXPECT_THAT(SocketInodesHeldBy(::getpid()), Contains(*inode));
  *server = Socket();
  EXPECT_THAT(SocketInodesHeldBy(::getpid()), Not(Contains(*inode)));
}

TEST_P(PeerSocket, HasNoInodeUntilAccepted) {
  absl::StatusOr<uint64_t> queued = PeerSocketInode(client_);
  ASSERT_TRUE(queued.ok()) << queued.status();
  EXPECT_EQ(*queued, 0u);
  absl::StatusOr<Socket> server = listener_->Accept(absl::Seconds(5));
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<uint64_t> accepted = PeerSocketInode(client_);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_NE(*accepted, 0u);
}

INSTANTIATE_TEST_SUITE_P(Kinds, PeerSocket,
                         ::testing::Values(TransportKind::kUnixPath,
                                           TransportKind::kUnixAbstract,
                                           TransportKind::kTcp4,
                                           TransportKind::kTcp6),
                         ::sockparity::testing::KindTestName());

// A child that spins, or one that sleeps, until killed.
pid_t Child(bool spin) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    volatile uint64_t n = 0;
    while (spin) n = n + 1;
    while (true) ::pause();
  }
  return pid;
}

void Reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

TEST(ProcessStats, TellsABusyLoopFromAWait) {
  const pid_t busy = Child(true);
  const pid_t waiting = Child(false);
  const IdleResult spun =
      WaitUntilIdle(busy, absl::Milliseconds(100), absl::Milliseconds(30),
                    absl::Milliseconds(500));
  const IdleResult slept =
      WaitUntilIdle(waiting, absl::Milliseconds(100), absl::Milliseconds(30),
                    absl::Milliseconds(500));
  Reap(busy);
  Reap(waiting);
  EXPECT_FALSE(spun.idle);
  EXPECT_GE(spun.windows, 5);
  EXPECT_GE(spun.least, absl::Milliseconds(30));
  EXPECT_TRUE(slept.idle);
}

// With five times more spinners than cores each gets a fifth of a CPU, but is
// runnable all the time: still a busy loop, however loaded the machine.
TEST(ProcessStats, TellsABusyLoopOnAnOverloadedMachine) {
  std::vector<pid_t> load;
  for (int i = 0; i < 10; ++i) load.push_back(Child(true));
  const IdleResult spun =
      WaitUntilIdle(load[0], absl::Milliseconds(200), absl::Milliseconds(50),
                    absl::Milliseconds(1000));
  for (pid_t pid : load) Reap(pid);
  EXPECT_FALSE(spun.idle);
  EXPECT_GE(spun.least, absl::Milliseconds(150));
}

TEST(ProcessStats, CountsResidentMemory) {
  const std::optional<uint64_t> before = ResidentBytesOf(::getpid());
  ASSERT_TRUE(before.has_value());
  std::vector<char> touched(64u << 20, 1);
  const std::optional<uint64_t> after = ResidentBytesOf(::getpid());
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(*after, *before + (60u << 20)) << touched[touched.size() / 2];
}

TEST(ProcessStats, TreeHoldsTheChildren) {
  const pid_t child = Child(false);
  EXPECT_THAT(ProcessTree(::getpid()), Contains(child));
  Reap(child);
}

}  // namespace
}  // namespace sockparity::internal
